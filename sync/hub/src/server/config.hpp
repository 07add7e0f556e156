// anteroom-hub's configuration: a TOML file (--config FILE) whose every key is also a flag of
// the same name (flags win), and the two central key files, read and checked here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::hub {

struct HubConfig {
  std::string listenHost = "127.0.0.1";
  std::uint16_t listenPort = 8443;
  std::string dsn;        // PostgreSQL as the anteroom_hub role (may go through PgBouncer)
  std::string listenDsn;  // a direct session for LISTEN (default: dsn)
  std::string tlsCert;    // the hub's certificate chain (PEM)
  std::string tlsKey;     // its private key (PEM), not group/world readable
  std::string clientCa;   // the practice CA that signs device certificates
  std::string piiKeyFile;
  std::string hashKeyFile;
  int workers = 4;                // DB worker threads, each with its own HubCore
  int maxConnections = 10000;     // open client connections at once
  int ioThreads = 2;              // threads doing all socket work
  // false through PgBouncer in transaction pooling mode (HubOptions::preparedStatements).
  bool preparedStatements = true;
};

// Parses argv (without argv[0]). Errors: Validation "hub.config" with ONE line naming the
// file, line and key ("FILE:LINE: key: why"), or the flag ("--key: why"); exit code 2.
// Result<void> with code "hub.help" means --help was asked for.
Result<HubConfig> parseHubConfig(const std::vector<std::string>& args);

// The usage text for --help and for a bad command line.
const char* hubUsage() noexcept;

// A key file: exactly 64 hex characters and an optional newline, not readable by group or
// others. The read buffer is wiped; the key is returned in `out` (the caller wipes it).
// Errors: Io "hub.key_file" naming the file and what is wrong.
Result<void> readHexKeyFile(const std::string& path, std::string& out);

// Checks that a file holding a secret (the TLS key) is not group/world readable.
Result<void> requirePrivateFile(const std::string& path, const std::string& what);

}  // namespace anteroom::hub
