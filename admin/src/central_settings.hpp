// The PostgreSQL settings that keep PHI out of the server log (migrations/central/README.md,
// "Server configuration"), checked on a live connection. 'anteroom-admin central status' reports
// them; the hub calls requireSafeLogSettings() with its own DSN before it serves anything.
#pragma once

#include <string>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::admin::central {

struct LogSetting {
  std::string name;      // "log_min_messages"
  std::string value;     // as the server reports it ("log"), or "(not set)"
  std::string required;  // "log, fatal or panic"
  std::string scope;     // empty: the connecting session; "role anteroom_hub": that role's own setting
  bool safe = false;
};

// Every rule for the connecting session (server, database and role settings as they apply to
// it), plus each Anteroom login role's own setting of the same names that is unsafe.
Result<std::vector<LogSetting>> checkLogSettings(const std::string& dsn);

// The first unsafe setting as an error (central.log_settings_unsafe), or success.
Result<void> requireSafeLogSettings(const std::string& dsn);

}  // namespace anteroom::admin::central
