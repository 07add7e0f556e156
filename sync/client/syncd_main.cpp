// anteroom-syncd: the shell around the supervisor. Configuration, the store's two connections,
// the transport, signals and systemd's notify socket; everything else is in the library.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "anteroom/store/secret_key.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/curl_transport.hpp"
#include "supervisor.hpp"
#include "syncd_config.hpp"

namespace {

using namespace anteroom;

void logLine(sync::LogPriority priority, std::string_view line) {
  std::fprintf(stderr, "<%d>anteroom-syncd: %.*s\n", static_cast<int>(priority), static_cast<int>(line.size()),
               line.data());
  std::fflush(stderr);
}

// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET ('@' = abstract namespace).
class Notifier {
 public:
  Notifier() {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || *path == '\0') return;
    const std::size_t len = std::strlen(path);
    if (len >= sizeof(m_addr.sun_path)) return;
    m_addr.sun_family = AF_UNIX;
    std::memcpy(m_addr.sun_path, path, len);
    if (m_addr.sun_path[0] == '@') m_addr.sun_path[0] = '\0';
    m_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  ~Notifier() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  void send(std::string_view message) const {
    if (m_fd < 0) return;
    (void)::sendto(m_fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&m_addr), m_len);
  }

 private:
  int m_fd = -1;
  sockaddr_un m_addr{};
  socklen_t m_len = 0;
};

std::atomic<sync::Supervisor*> g_supervisor{nullptr};

// The enrolled device id: `device enroll` puts it in the certificate's common name. Empty when
// the file cannot be read (the transport then says what is wrong with it).
std::string certificateCommonName(const std::filesystem::path& certFile) {
  std::FILE* f = std::fopen(certFile.c_str(), "rb");
  if (f == nullptr) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return {};
  std::string cn(256, '\0');
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                          static_cast<int>(cn.size()));
  X509_free(cert);
  cn.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return cn;
}
std::atomic<bool> g_stopRequested{false};  // a signal before the supervisor exists

extern "C" void onSignal(int) {
  g_stopRequested.store(true);
  sync::Supervisor* s = g_supervisor.load();
  if (s != nullptr) s->requestStop();
}

void installSignals() {
  struct sigaction sa {};
  sa.sa_handler = &onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
}

std::optional<store::Store> openStore(const sync::SyncdConfig& config, const store::SecretKey& key) {
  store::OpenOptions options;
  options.path = config.db;
  options.pageCacheKiB = store::kSyncPageCacheKiB;
  auto opened = store::Store::open(options, key);
  if (!opened) {
    logLine(sync::LogPriority::Error, "cannot open the store " + config.db.string() + ": " + opened.error().message);
    return std::nullopt;
  }
  return std::move(*opened);
}

}  // namespace

int main(int argc, char** argv) {
  auto config = sync::parseSyncdConfig(argc, argv);
  if (!config) {
    std::fprintf(stderr, "<3>anteroom-syncd: %s\n", config.error().c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(sync::kSyncdUsage, stdout);
    return 0;
  }
  installSignals();

  auto key = store::SecretKey::readFile(config->keyFile);
  if (!key) {
    logLine(sync::LogPriority::Error, "key_file: " + key.error().message);
    return 2;
  }
  auto transport = sync::CurlTransport::create(config->curl);
  if (!transport) {
    logLine(sync::LogPriority::Error, transport.error().message);
    return 2;
  }
  // Two connections: the sessions', and the watcher's (a connection is used by one thread).
  auto store = openStore(*config, *key);
  if (!store) return 1;
  for (const auto& w : store->warnings()) logLine(sync::LogPriority::Warning, w);
  auto watchStore = openStore(*config, *key);
  if (!watchStore) return 1;

  Notifier notifier;
  sync::SupervisorOptions options;
  options.deviceLabel = certificateCommonName(config->curl.certFile);
  options.waitSeconds = config->waitSeconds;
  options.log = &logLine;
  // WATCHDOG=1 at half of systemd's WatchdogSec (WATCHDOG_USEC), at most once a second.
  std::chrono::microseconds pingEvery{std::chrono::seconds(5)};
  if (const char* usec = std::getenv("WATCHDOG_USEC"); usec != nullptr) {
    const long long v = std::atoll(usec);
    if (v > 0) pingEvery = std::max<std::chrono::microseconds>(std::chrono::microseconds(v / 2), std::chrono::seconds(1));
  }
  auto lastPing = std::chrono::steady_clock::now() - pingEvery;
  options.watchdogPing = [&notifier, &lastPing, pingEvery] {
    const auto now = std::chrono::steady_clock::now();
    if (now - lastPing < pingEvery) return;
    lastPing = now;
    notifier.send("WATCHDOG=1");
  };
  sync::Supervisor supervisor(*store, *watchStore, **transport, options);
  g_supervisor.store(&supervisor);
  if (g_stopRequested.load()) supervisor.requestStop();  // SIGTERM while the store was opening

  if (config->once) {
    auto r = supervisor.runOnce();
    g_supervisor.store(nullptr);
    // The supervisor logged the outcome: "synced: ..." or "sync failed: CODE: words".
    return r ? 0 : 1;
  }
  notifier.send("READY=1");
  supervisor.run();
  g_supervisor.store(nullptr);
  notifier.send("STOPPING=1");
  return 0;
}
