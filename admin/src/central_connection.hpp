// Opening a libpqxx connection for the central_* files; private to anteroom_central (the public
// central headers show no libpqxx type).
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "central_migrations.hpp"

namespace anteroom::admin::central {

// A connection, or "cannot connect to the central database: ..." (transient).
inline Result<std::unique_ptr<pqxx::connection>> connectCentral(const std::string& dsn) {
  try {
    return std::make_unique<pqxx::connection>(dsn);
  } catch (const std::exception& e) {
    return connectFailed(e);
  }
}

}  // namespace anteroom::admin::central
