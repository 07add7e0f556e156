// The hub's routes on a database worker, and the one table that turns refusals into statuses.
#include "routes.hpp"

#include <array>
#include <charconv>
#include <map>

#include "gzip.hpp"
#include "worker_pool.hpp"

namespace anteroom::hub {

using namespace anteroom::sync;

// [SECTION] Refusals

namespace {

struct StatusRow {
  std::string_view code;
  unsigned status;
  int retryAfter;
};
// One row per code the device acts on differently; everything else goes by its domain.
constexpr std::array kStatusByCode = {
    StatusRow{"protocol.too_large", 413, 0},    StatusRow{"hub.unknown_device", 403, 0},
    StatusRow{"hub.revoked_device", 403, 0},    StatusRow{"sync.schema_version", 409, 0},
    StatusRow{"sync.resync", 409, 0},           StatusRow{"sync.device_restored", 409, 0},
    StatusRow{"hub.database", 503, 2},          StatusRow{"hub.busy", 503, 1},
    StatusRow{"hub.internal", 500, 0},
};

unsigned statusForDomain(ErrorDomain d) noexcept {
  switch (d) {
    case ErrorDomain::Protocol:
    case ErrorDomain::Validation:
      return 400;
    case ErrorDomain::Conflict:
      return 409;
    case ErrorDomain::NotFound:
      return 404;
    case ErrorDomain::Network:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

unsigned statusFor(const Error& e) noexcept {
  for (const auto& row : kStatusByCode)
    if (row.code == e.code) return row.status;
  return statusForDomain(e.domain);
}

Outcome errorOutcome(const Error& e) {
  Outcome out;
  out.status = statusFor(e);
  out.code = e.code;
  for (const auto& row : kStatusByCode)
    if (row.code == e.code) out.retryAfter = row.retryAfter;
  if (out.status == 503 && out.retryAfter == 0) out.retryAfter = 2;
  const bool transient = e.transient || out.status == 503;
  if (out.status == 500) {
    // The words of an internal error stay generic: never a stack, a query or a value.
    out.code = "hub.internal";
    out.body = encode(ErrorBody{"hub.internal", "the hub failed to answer; the error is in its log", false});
  } else {
    out.body = encode(ErrorBody{e.code, e.message, transient});
  }
  return out;
}

Outcome errorOutcome(unsigned status, std::string code, std::string message, bool transient) {
  Outcome out;
  out.status = status;
  out.code = code;
  out.body = encode(ErrorBody{std::move(code), std::move(message), transient});
  if (status == 503) out.retryAfter = 2;
  return out;
}

// [SECTION] Query and headers

namespace {

std::unexpected<Error> badQuery(std::string message) {
  return fail(ErrorDomain::Protocol, "protocol.query", std::move(message));
}

std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      unsigned v = 0;
      const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc{} || end != s.data() + i + 3) return std::nullopt;
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<int> wholeNumber(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<std::optional<int>> parseSchemaHeader(std::string_view value, bool present) {
  if (!present) return std::optional<int>{};
  const auto v = wholeNumber(value);
  if (!v) return fail(ErrorDomain::Protocol, "protocol.schema_header", "the Anteroom-Schema-Version header must be a whole number");
  return std::optional<int>{*v};
}

Result<PullRequest> parsePullQuery(std::string_view query, std::optional<int> headerSchema, const WireLimits& limits) {
  PullRequest req;
  std::map<std::string, std::string> seen;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    const auto name = percentDecode(part.substr(0, eq));
    const auto value = percentDecode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
    if (!name || !value) return badQuery("the pull query has a bad %-escape");
    if (!seen.emplace(*name, *value).second) return badQuery("the pull query names '" + *name + "' twice");
  }
  const int maxLimit = static_cast<int>(limits.maxChangesPerPage);
  for (const auto& [name, value] : seen) {
    if (name == "after") {
      if (value.size() > 256) return badQuery("the pull cursor is too long");
      req.after = value;
    } else if (name == "limit") {
      const auto v = wholeNumber(value);
      if (!v || *v < 1 || *v > maxLimit) return badQuery("limit must be a whole number from 1 to " + std::to_string(maxLimit));
      req.limit = *v;
    } else if (name == "wait") {
      const auto v = wholeNumber(value);
      if (!v || *v < 0 || *v > 30) return badQuery("wait must be a whole number of seconds from 0 to 30");
      req.waitSeconds = *v;
    } else if (name == "schema") {
      const auto v = wholeNumber(value);
      if (!v) return badQuery("schema must be a whole number");
      headerSchema = *v;  // the query wins over the header
    }
    // Other names are ignored: a newer device may send more.
  }
  if (!headerSchema)
    return fail(ErrorDomain::Protocol, "protocol.schema_header",
                "a pull must name its schema version (the Anteroom-Schema-Version header or schema=)");
  req.schemaVersion = *headerSchema;
  return req;
}

// [SECTION] Work on a database worker

namespace {

// Runs `f` on the worker's HubCore; a lost connection is tried once more at once (HubCore
// reconnects on its next call, and a repeated push gets its stored results).
template <class F>
auto onCore(Worker& w, F&& f) -> decltype(f(std::declval<HubCore&>())) {
  for (int attempt = 0;; ++attempt) {
    auto core = w.core();
    if (!core) return std::unexpected(core.error());
    auto r = f(**core);
    if (r || r.error().code != "hub.database") {
      w.databaseOk();
      return r;
    }
    w.databaseFailed();
    if (attempt >= 1) return r;
  }
}

Outcome jsonOutcome(std::string body) {
  Outcome out;
  out.body = std::move(body);
  return out;
}

}  // namespace

Result<DeviceContext> deviceFor(Worker& w, const std::string& fingerprint) {
  if (fingerprint.size() != 64)
    return fail(ErrorDomain::Conflict, "hub.unknown_device", "this device presented no usable certificate");
  return onCore(w, [&](HubCore& core) { return core.deviceForFingerprint(fingerprint); });
}

Outcome runHealth(Worker& w, const std::string& fingerprint) {
  auto device = deviceFor(w, fingerprint);
  if (!device) return errorOutcome(device.error());
  Outcome out = jsonOutcome(R"({"status":"ok"})");
  out.deviceId = device->deviceId.toString();
  return out;
}

Outcome runPush(Worker& w, const std::string& fingerprint, std::string body, bool gzipped, const WireLimits& limits) {
  auto device = deviceFor(w, fingerprint);
  if (!device) return errorOutcome(device.error());
  const std::string deviceId = device->deviceId.toString();
  auto withDevice = [&](Outcome o) {
    o.deviceId = deviceId;
    return o;
  };
  if (gzipped) {
    auto inflated = gunzip(body, limits.maxBodyBytes);
    if (!inflated) return withDevice(errorOutcome(inflated.error()));
    body = std::move(*inflated);
  }
  auto push = decodePushRequest(body, limits);
  if (!push) return withDevice(errorOutcome(push.error()));
  auto res = onCore(w, [&](HubCore& core) { return core.applyPush(*device, *push); });
  if (!res) return withDevice(errorOutcome(res.error()));
  return withDevice(jsonOutcome(encode(*res)));
}

Outcome pullOutcome(Worker& w, const DeviceContext& device, const PullRequest& request, std::uint64_t generation) {
  auto page = onCore(w, [&](HubCore& core) { return core.pull(device, request); });
  if (!page) return errorOutcome(page.error());
  if (page->changes.empty() && !page->more && request.waitSeconds > 0) {
    Outcome out;
    out.park = ParkInfo{device, request, generation, std::move(*page)};
    return out;
  }
  return jsonOutcome(encode(*page));
}

Outcome rerunPull(Worker& w, const ParkInfo& parked, std::uint64_t generation) {
  Outcome out = pullOutcome(w, parked.device, parked.request, generation);
  out.deviceId = parked.device.deviceId.toString();
  return out;
}

}  // namespace anteroom::hub
