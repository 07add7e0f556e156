// anteroom-syncd's configuration: a TOML file (toml++) and flags of the same names that
// override it. Every refusal is one line naming the file, the line and the key.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

#include "anteroom/sync/curl_transport.hpp"

namespace anteroom::sync {

struct SyncdConfig {
  std::filesystem::path configFile;  // empty when everything came from flags
  std::filesystem::path db;          // the kiosk's store
  std::filesystem::path keyFile;     // the store's key file
  CurlOptions curl;                  // hub_url, ca, pins, cert, key, timeouts
  int waitSeconds = 25;              // wait_s: the long-poll wait, 0..30
  bool once = false;                 // --once
  bool help = false;                 // --help
};

// Reads argv (--config FILE, --once, --help, and --KEY VALUE or --KEY=VALUE for every file key;
// '-' and '_' are the same in flag names; --pins takes "sha256//A;sha256//B"). Relative paths in
// the file are taken from the file's folder. The error is one line: "FILE:LINE: key: why",
// "FILE: key: why" for a missing key, or "--flag: why".
std::expected<SyncdConfig, std::string> parseSyncdConfig(int argc, const char* const* argv);

inline constexpr const char* kSyncdUsage =
    "usage: anteroom-syncd --config FILE [--once]\n"
    "  Syncs this kiosk's store with the practice's hub over mutual TLS.\n"
    "  FILE (TOML): db, key_file, hub_url, ca, pins, cert, key; optional connect_timeout_s (5),\n"
    "  total_timeout_s (60), low_speed_time_s (15), wait_s (25). Each key is also a flag\n"
    "  (--db PATH, --hub_url URL, --pins 'sha256//A;sha256//B', ...) that overrides the file.\n"
    "  --once: one push and pull to quiescence; exit 0 only if both succeeded.\n"
    "  Exit codes: 0 ok, 1 sync failed, 2 bad configuration.\n";

}  // namespace anteroom::sync
