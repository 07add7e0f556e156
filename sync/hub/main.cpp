// anteroom-hub: the practice's HTTPS endpoint for its devices (DESIGN.md 1, 5.5). An empty
// shell: configuration, keys, the PostgreSQL log-settings check, then the server.
#include <openssl/crypto.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "anteroom/sync/hub_core.hpp"
#include "central_settings.hpp"
#include "server/config.hpp"
#include "server/http_server.hpp"

using namespace anteroom;

namespace {

// 2,000 parked long-polls need more than the usual 1,024 descriptors.
void raiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
    std::fprintf(stderr, "<4>anteroom-hub: cannot raise the open-file limit; fewer long-polls fit\n");
}

// HubOptions::preparedStatements comes with the hub core's PgBouncer support; with a core that
// has no such option only the default (named prepared statements) can be honoured.
template <class Options>
bool setPreparedStatements(Options& o, bool prepared) {
  if constexpr (requires { o.preparedStatements = prepared; }) {
    o.preparedStatements = prepared;
    return true;
  } else {
    return prepared;
  }
}

void wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto config = hub::parseHubConfig(args);
  if (!config) {
    if (config.error().code == "hub.help") {
      std::fputs(hub::hubUsage(), stdout);
      return 0;
    }
    std::fprintf(stderr, "<3>anteroom-hub: %s\n", config.error().message.c_str());
    return 2;
  }
  sync::HubOptions options;
  options.dsn = config->dsn;
  options.clock = [] { return nowUtc(); };
  if (!setPreparedStatements(options, config->preparedStatements)) {
    std::fprintf(stderr, "<3>anteroom-hub: prepared_statements = false is not supported by this build's hub core\n");
    return 2;
  }
  for (auto [path, key] : {std::pair{&config->piiKeyFile, &options.piiKey}, std::pair{&config->hashKeyFile, &options.hashKey}}) {
    if (auto r = hub::readHexKeyFile(*path, *key); !r) {
      std::fprintf(stderr, "<3>anteroom-hub: %s\n", r.error().message.c_str());
      wipe(options.piiKey);
      return 2;
    }
  }
  raiseFileLimit();

  // PHI must not reach the PostgreSQL log through this hub's sessions: check before serving.
  for (std::chrono::milliseconds backoff{500};; backoff = std::min(backoff * 2, std::chrono::milliseconds{10000})) {
    auto safe = admin::central::requireSafeLogSettings(config->dsn);
    if (safe) break;
    if (!safe.error().isTransient()) {
      std::fprintf(stderr, "<3>anteroom-hub: %s\n", safe.error().message.c_str());
      wipe(options.piiKey);
      wipe(options.hashKey);
      return 1;
    }
    std::fprintf(stderr, "<4>anteroom-hub: the central database cannot be reached yet; trying again\n");
    std::this_thread::sleep_for(backoff);
  }

  auto server = hub::HubServer::create(*config, options);
  wipe(options.piiKey);  // the workers hold their own copies
  wipe(options.hashKey);
  if (!server) {
    std::fprintf(stderr, "<3>anteroom-hub: %s\n", server.error().message.c_str());
    return 1;
  }
  (*server)->run();
  return 0;
}
