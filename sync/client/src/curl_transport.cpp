// CurlTransport: the sync protocol over HTTPS with libcurl (DESIGN.md 1, 5; issue 10 contract).
// One easy handle, used by one thread at a time (libcurl-thread.md), kept for keep-alive.
#include "anteroom/sync/curl_transport.hpp"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string_view>
#include <utility>

namespace anteroom::sync {

namespace {

using Clock = std::chrono::steady_clock;

// [SECTION] RAII owners
struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;
struct MultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;

Result<void> globalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK)
    return fail(ErrorDomain::Internal, "sync.curl_init", std::string("libcurl cannot start: ") + curl_easy_strerror(rc));
  return {};
}

Result<void> configError(std::string_view option, std::string why) {
  return fail(ErrorDomain::Validation, "syncd.config", std::string(option) + ": " + why);
}

Result<void> requireReadable(std::string_view option, const std::filesystem::path& path) {
  if (path.empty()) return configError(option, "is required");
  std::ifstream in(path, std::ios::binary);
  if (!in) return configError(option, "cannot read " + path.string() + " (" + std::strerror(errno) + ")");
  return {};
}

}  // namespace

// "sha256//" followed by the base64 of 32 bytes (44 characters, one '=' of padding).
bool isValidPin(std::string_view pin) noexcept {
  constexpr std::string_view prefix = "sha256//";
  if (!pin.starts_with(prefix)) return false;
  std::string_view b64 = pin.substr(prefix.size());
  if (b64.size() != 44 || b64.back() != '=') return false;
  return std::all_of(b64.begin(), b64.end() - 1, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

namespace {

// [SECTION] Mapping libcurl's failures to errors: one row per code that means something
// different to a person; anything else is "the hub cannot be reached" (transient).
struct CurlFailure {
  CURLcode curl;
  ErrorDomain domain;
  const char* code;
  const char* message;
  bool transient;
};
constexpr CurlFailure kCurlFailures[] = {
    {CURLE_PEER_FAILED_VERIFICATION, ErrorDomain::Network, "sync.hub_identity",
     "the hub's identity does not match: its certificate is not signed by the practice CA or does not name "
     "this host; check hub_url and ca",
     false},
    {CURLE_SSL_PINNEDPUBKEYNOTMATCH, ErrorDomain::Network, "sync.hub_identity",
     "the hub's identity does not match: its key is not one of the pinned keys; check pins (the hub may have a "
     "new key)",
     false},
    {CURLE_SSL_CACERT_BADFILE, ErrorDomain::Validation, "sync.tls_files",
     "the practice CA file cannot be used; check ca", false},
    {CURLE_SSL_CERTPROBLEM, ErrorDomain::Validation, "sync.tls_files",
     "the device certificate or key cannot be used; check cert and key (they must be a pair, in PEM)", false},
    {CURLE_SSL_CIPHER, ErrorDomain::Network, "sync.tls_handshake",
     "the hub and this device share no TLS cipher (TLS 1.2 or later is required)", false},
    {CURLE_SSL_CONNECT_ERROR, ErrorDomain::Network, "sync.tls_handshake",
     "the TLS handshake with the hub failed (the hub may not accept this device's certificate)", true},
    {CURLE_COULDNT_RESOLVE_HOST, ErrorDomain::Network, "sync.offline",
     "the hub's name cannot be resolved; the network may be down", true},
    {CURLE_COULDNT_CONNECT, ErrorDomain::Network, "sync.offline",
     "the hub cannot be reached; the network or the hub may be down", true},
    {CURLE_OPERATION_TIMEDOUT, ErrorDomain::Network, "sync.timeout",
     "the hub did not answer in time (the connection stalled or timed out)", true},
    {CURLE_SEND_ERROR, ErrorDomain::Network, "sync.connection_lost", "the connection to the hub was lost", true},
    {CURLE_RECV_ERROR, ErrorDomain::Network, "sync.connection_lost", "the connection to the hub was lost", true},
    {CURLE_GOT_NOTHING, ErrorDomain::Network, "sync.connection_lost",
     "the hub closed the connection without answering", true},
    {CURLE_PARTIAL_FILE, ErrorDomain::Network, "sync.connection_lost",
     "the hub's answer was cut off before its end", true},
    {CURLE_BAD_CONTENT_ENCODING, ErrorDomain::Protocol, "protocol.bad_gzip",
     "the hub's answer is not valid gzip", false},
    {CURLE_URL_MALFORMAT, ErrorDomain::Validation, "sync.hub_url", "hub_url is not a valid URL", false},
    {CURLE_UNSUPPORTED_PROTOCOL, ErrorDomain::Validation, "sync.hub_url", "hub_url must be an https:// URL", false},
};

Error curlError(CURLcode rc, const char* detail) {
  for (const auto& row : kCurlFailures) {
    if (row.curl == rc) return Error{row.domain, row.code, row.message, row.transient};
  }
  std::string message = "the hub cannot be reached (";
  message += (detail != nullptr && *detail != '\0') ? detail : curl_easy_strerror(rc);
  message += ")";
  return Error{ErrorDomain::Network, "sync.offline", std::move(message), true};
}

// [SECTION] Mapping the hub's HTTP refusals (the contract's error table).
Error httpError(long status, std::string_view body, const WireLimits& limits) {
  auto decoded = decodeErrorBody(body, limits);
  std::string code = decoded ? decoded->code : "";
  std::string words = decoded ? decoded->message : "";
  const std::string statusText = "HTTP " + std::to_string(status);
  auto withWords = [&](std::string lead) {
    if (!words.empty()) lead += ": " + words;
    return lead;
  };
  if (status >= 500 || status == 429) {
    if (code.empty()) code = status == 429 ? "hub.busy" : "hub.unavailable";
    return Error{ErrorDomain::Network, code, withWords("the hub is unavailable (" + statusText + ")"), true};
  }
  if (status == 409) {
    if (!decoded) return Error{ErrorDomain::Protocol, "protocol.bad_error_body", "the hub refused with " + statusText + " and an unreadable reason", false};
    return Error{ErrorDomain::Conflict, code, words.empty() ? "the hub refused (" + statusText + ")" : words, decoded->transient};
  }
  if (status == 401 || status == 403) {
    if (code != "hub.revoked_device") code = "hub.unknown_device";
    std::string lead = code == "hub.revoked_device" ? "the hub refuses this device: its certificate has been revoked"
                                                    : "the hub does not know this device: enroll it with anteroom-admin device enroll";
    return Error{ErrorDomain::Conflict, code, lead, false};
  }
  if (status == 404 || status == 405) {
    if (code.empty()) code = status == 404 ? "http.not_found" : "http.method";
    return Error{ErrorDomain::Protocol, code, "the hub does not serve this request (" + statusText + "); check hub_url", false};
  }
  if (code.empty()) code = status == 413 ? "protocol.too_large" : "protocol.malformed";
  return Error{ErrorDomain::Protocol, code, withWords("the hub refused the request (" + statusText + ")"), false};
}

// "Retry-After: 7" (seconds). An HTTP-date is not used by the hub and is ignored.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r' || value.back() == '\n' || value.back() == '\t'))
    value.remove_suffix(1);
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds{std::min<long long>(seconds, 24 * 3600)};
}

bool headerNameIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
    if (a != name[i]) return false;
  }
  return true;
}

}  // namespace

// [SECTION] gzip
Result<std::string> gzipCompress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper instead of zlib's. memLevel 8 (zlib's default) gives the
  // same bytes as 9 on push batches for two thirds of the CPU (smaller hash tables).
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(ErrorDomain::Internal, "sync.gzip", "cannot start gzip compression");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return fail(ErrorDomain::Internal, "sync.gzip", "gzip compression failed");
  out.resize(written);
  return out;
}

// [SECTION] The handle and one request
struct CurlTransport::Impl {
  CurlOptions options;
  // The multi handle runs the one easy handle so that interruptLongPoll() can wake its wait at
  // once (curl_multi_wakeup); it also owns the connection cache, so keep-alive survives.
  MultiHandle multi;
  EasyHandle easy;
  std::string pinList;
  std::array<char, CURL_ERROR_SIZE> errorText{};

  // Per request.
  std::string body;
  bool bodyTooLarge = false;
  bool longPoll = false;
  std::optional<std::chrono::seconds> retryAfter;

  std::atomic<bool> interrupt{false};
  std::atomic<bool> stopped{false};
  std::atomic<Clock::rep> activity{Clock::now().time_since_epoch().count()};
  // Stall detection: when a byte last moved either way, and whether the answer has begun.
  Clock::time_point lastMove{};
  curl_off_t movedSoFar = 0;
  bool answerStarted = false;
  std::chrono::seconds stallBeforeAnswer{0};
  TransportStats stats;
  mutable std::mutex statsMutex;

  void touch() noexcept { activity.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed); }

  static size_t onBody(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    if (self->body.size() + n > self->options.limits.maxBodyBytes) {
      self->bodyTooLarge = true;
      return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
    }
    self->body.append(data, n);
    self->lastMove = Clock::now();
    return n;
  }

  static size_t onHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    self->lastMove = Clock::now();
    self->answerStarted = true;
    if (headerNameIs(line, "retry-after")) self->retryAfter = parseRetryAfter(line.substr(std::strlen("retry-after:")));
    return n;
  }

  static int onProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
    auto* self = static_cast<Impl*>(user);
    self->touch();
    if (dlnow + ulnow != self->movedSoFar) {
      self->movedSoFar = dlnow + ulnow;
      self->lastMove = Clock::now();
    }
    if (self->stopped.load()) return 1;
    if (self->longPoll && self->interrupt.load()) return 1;
    return 0;
  }

  Result<void> prepare() {
    multi.reset(curl_multi_init());
    easy.reset(curl_easy_init());
    if (!easy || !multi) return fail(ErrorDomain::Internal, "sync.curl_init", "libcurl cannot create a handle");
    CURL* h = easy.get();
    for (std::size_t i = 0; i < options.pins.size(); ++i) pinList += (i ? ";" : "") + options.pins[i];
    const std::string ca = options.caFile.string(), cert = options.certFile.string(), key = options.keyFile.string();
    auto seconds = [](std::chrono::seconds s) { return static_cast<long>(s.count()); };
    const bool ok =
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorText.data()) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1)) == CURLE_OK &&
        // The practice CA and nothing else: no system store, no default CA directory.
        curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str()) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CAPATH, nullptr) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pinList.c_str()) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLCERT, cert.c_str()) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLKEY, key.c_str()) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, seconds(options.connectTimeout)) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
        // libcurl inflates gzip'd answers; the body ceiling counts inflated bytes.
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::onBody) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEDATA, this) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::onHeader) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERDATA, this) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Impl::onProgress) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, this) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    if (!ok) return fail(ErrorDomain::Internal, "sync.curl_init", "this libcurl lacks an option the daemon needs (TLS or pinning)");
    return {};
  }

  // One request. `payload` is the gzip'd body of a POST, or nullopt for a GET.
  Result<std::string> perform(const std::string& path, const std::optional<std::string>& payload, int waitSeconds,
                              int schemaVersion) {
    retryAfter.reset();
    if (stopped.load()) return fail(ErrorDomain::Network, "sync.stopped", "the sync daemon is stopping", true);
    CURL* h = easy.get();
    body.clear();
    bodyTooLarge = false;
    longPoll = waitSeconds > 0;
    errorText[0] = '\0';
    touch();

    const std::string url = options.hubUrl + path;
    Slist headers;
    auto add = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next != nullptr) {
        (void)headers.release();
        headers.reset(next);
      }
      return next != nullptr;
    };
    bool ok = add("Anteroom-Schema-Version: " + std::to_string(schemaVersion)) && add("Expect:");
    if (payload) ok = ok && add("Content-Type: application/json") && add("Content-Encoding: gzip");
    if (!ok) return fail(ErrorDomain::Internal, "sync.memory", "out of memory building a request");

    const auto total = options.totalTimeout + std::chrono::seconds{std::max(waitSeconds, 0)};
    // A parked long-poll moves no byte until the hub answers: allow the wait on top until the
    // answer begins. libcurl's own low-speed check (a 5 s rolling average) is the backstop.
    stallBeforeAnswer = options.lowSpeedTime + std::chrono::seconds{std::max(waitSeconds, 0)};
    const auto stall = stallBeforeAnswer + std::chrono::seconds{6};
    lastMove = Clock::now();
    movedSoFar = 0;
    answerStarted = false;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::chrono::milliseconds(total).count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(stall.count()));
    if (payload) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload->data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    const CURLcode rc = run();
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    longPoll = false;
    countRequest(payload ? payload->size() : 0);

    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      if (stopped.load()) return fail(ErrorDomain::Network, "sync.stopped", "the sync daemon is stopping", true);
      return fail(ErrorDomain::Network, "sync.interrupted", "the long-poll was cut short (a local change to push, or the network changed)", true);
    }
    if (rc == CURLE_WRITE_ERROR && bodyTooLarge)
      return fail(ErrorDomain::Protocol, "protocol.too_large", "the hub's answer is larger than the ceiling of " +
                                                                   std::to_string(options.limits.maxBodyBytes) + " bytes");
    if (rc != CURLE_OK) return std::unexpected(curlError(rc, errorText.data()));

    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return std::unexpected(httpError(status, body, options.limits));
    return std::move(body);
  }

  // curl_easy_perform, through the multi handle: its wait ends on curl_multi_wakeup (a local
  // write) and every 250 ms to look at the stop flag (set from a signal handler, no wakeup).
  CURLcode run() {
    if (curl_multi_add_handle(multi.get(), easy.get()) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode result = CURLE_OK;
    for (;;) {
      int running = 0;
      if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      int left = 0;
      bool done = false;
      while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
        if (msg->msg == CURLMSG_DONE) {
          result = msg->data.result;
          done = true;
        }
      }
      if (done) break;
      touch();
      if (stopped.load() || (longPoll && interrupt.load())) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      if (Clock::now() - lastMove > (answerStarted ? options.lowSpeedTime : stallBeforeAnswer)) {
        result = CURLE_OPERATION_TIMEDOUT;
        break;
      }
      if (curl_multi_poll(multi.get(), nullptr, 0, 250, nullptr) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
    }
    // Removing a handle mid-transfer closes that connection; a finished one stays cached.
    curl_multi_remove_handle(multi.get(), easy.get());
    return result;
  }

  void countRequest(std::size_t sent) {
    curl_off_t downloaded = 0;
    long headerBytes = 0, connects = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_SIZE_DOWNLOAD_T, &downloaded);
    curl_easy_getinfo(easy.get(), CURLINFO_HEADER_SIZE, &headerBytes);
    curl_easy_getinfo(easy.get(), CURLINFO_NUM_CONNECTS, &connects);
    std::lock_guard lock(statsMutex);
    ++stats.requests;
    stats.connections += static_cast<std::uint64_t>(std::max(connects, 0L));
    stats.requestBodyBytes += sent;
    stats.responseBytes += static_cast<std::uint64_t>(std::max<curl_off_t>(downloaded, 0)) +
                           static_cast<std::uint64_t>(std::max(headerBytes, 0L));
  }
};

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
CurlTransport::~CurlTransport() = default;

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(const CurlOptions& options) {
  if (!options.hubUrl.starts_with("https://") || options.hubUrl.size() <= std::strlen("https://"))
    return std::unexpected(configError("hub_url", "must be an https:// URL such as https://127.0.0.1:8443").error());
  if (options.hubUrl.back() == '/')
    return std::unexpected(configError("hub_url", "must not end with '/' (give scheme, host and port only)").error());
  if (options.pins.empty())
    return std::unexpected(configError("pins", "at least one pin of the hub's key is required").error());
  for (const auto& pin : options.pins) {
    if (!isValidPin(pin))
      return std::unexpected(configError("pins", "\"" + pin + "\" is not sha256// followed by 44 base64 characters").error());
  }
  for (auto [name, path] : {std::pair<std::string_view, const std::filesystem::path*>{"ca", &options.caFile},
                            {"cert", &options.certFile}, {"key", &options.keyFile}}) {
    if (auto r = requireReadable(name, *path); !r) return std::unexpected(r.error());
  }
  if (options.connectTimeout.count() <= 0 || options.totalTimeout.count() <= 0 || options.lowSpeedTime.count() <= 0)
    return std::unexpected(configError("timeouts", "must be positive").error());
  if (auto r = globalInit(); !r) return std::unexpected(r.error());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (auto r = impl->prepare(); !r) return std::unexpected(r.error());
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

Result<PushResponse> CurlTransport::push(const PushRequest& request) {
  auto gz = gzipCompress(encode(request));
  if (!gz) return std::unexpected(gz.error());
  if (gz->size() > m_impl->options.limits.maxBodyBytes)
    return fail(ErrorDomain::Protocol, "protocol.too_large", "a push batch is larger than the body ceiling");
  auto body = m_impl->perform("/v1/push", *gz, 0, request.schemaVersion);
  if (!body) return std::unexpected(body.error());
  return decodePushResponse(*body, m_impl->options.limits);
}

Result<PullResponse> CurlTransport::pull(const PullRequest& request) {
  CURL* h = m_impl->easy.get();
  char* escaped = curl_easy_escape(h, request.after.data(), static_cast<int>(request.after.size()));
  if (escaped == nullptr) return fail(ErrorDomain::Internal, "sync.memory", "out of memory building a request");
  std::string path = "/v1/pull?after=";
  path += escaped;
  curl_free(escaped);
  path += "&limit=" + std::to_string(request.limit) + "&wait=" + std::to_string(request.waitSeconds) +
          "&schema=" + std::to_string(request.schemaVersion);
  auto body = m_impl->perform(path, std::nullopt, request.waitSeconds, request.schemaVersion);
  if (!body) return std::unexpected(body.error());
  return decodePullResponse(*body, m_impl->options.limits);
}

Result<void> CurlTransport::health() {
  auto body = m_impl->perform("/v1/health", std::nullopt, 0, kSchemaVersion);
  if (!body) return std::unexpected(body.error());
  return {};
}

std::optional<std::chrono::seconds> CurlTransport::lastRetryAfter() const { return m_impl->retryAfter; }
void CurlTransport::interruptLongPoll() noexcept {
  m_impl->interrupt.store(true);
  curl_multi_wakeup(m_impl->multi.get());
}
void CurlTransport::clearInterrupt() noexcept { m_impl->interrupt.store(false); }
void CurlTransport::stop() noexcept { m_impl->stopped.store(true); }

std::chrono::steady_clock::time_point CurlTransport::lastActivity() const noexcept {
  return Clock::time_point(Clock::duration(m_impl->activity.load(std::memory_order_relaxed)));
}

TransportStats CurlTransport::stats() const noexcept {
  std::lock_guard lock(m_impl->statsMutex);
  return m_impl->stats;
}

}  // namespace anteroom::sync
