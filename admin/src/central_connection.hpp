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

// The role must bypass row-level security to find a practice, a device or a review by its id
// alone: anything else sees no practice until one is chosen.
inline Result<void> requireSuperuser(pqxx::transaction_base& tx) {
  const auto row = tx.exec1("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user");
  if (!row[1].as<bool>()) {
    return fail(ErrorDomain::Validation, "central.not_superuser",
                "the role " + row[0].as<std::string>() +
                    " cannot see every practice's records (row-level security); connect as the superuser that "
                    "ran 'anteroom-admin central migrate'");
  }
  return {};
}

}  // namespace anteroom::admin::central
