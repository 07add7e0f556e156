// 'anteroom-admin demo seed-central': the demo practice of demo_seed.hpp written into a central
// PostgreSQL the way the hub writes rows (its entity column specs, PII through pii_encrypt).
#pragma once

#include <cstdint>
#include <string>

#include "anteroom/model/error.hpp"
#include "anteroom/model/time.hpp"
#include "demo_seed.hpp"

namespace anteroom::admin::central {

struct CentralSeedOptions {
  std::string dsn;
  std::string piiKeyFile;   // 64 hex characters (+ newline), mode 0600: the hub's pii_key_file
  std::string hashKeyFile;  // the same for the e-mail lookup hash (hash_key_file)
  int patients = 200;
  std::uint64_t seed = 1;
  std::string timeZone = "America/Los_Angeles";  // the practice's zone: "today" is its today
  Instant now = nowUtc();
};

// A key file as the hub reads it: 64 hex characters and an optional newline, not readable by
// group or others. Errors key.unreadable, key.mode, key.format (never the file's content).
Result<std::string> readHexKeyFile(const std::string& path);

// Seeds one practice in one transaction. The same seed gives the same practice (ids, names,
// schedule); seeding a seed twice into one database is refused (demo.practice_exists).
// E-mail addresses carry the seed (".s<seed>"), so different seeds share a database.
Result<SeedSummary> seedCentralDemo(const CentralSeedOptions& options);

}  // namespace anteroom::admin::central
