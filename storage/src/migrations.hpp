// Forward-only, checksummed schema migrations of the local store.
#pragma once

#include <span>
#include <string>

#include "anteroom/store/store.hpp"
#include "sqlite.hpp"

namespace anteroom::store {

// SHA-256 of the migration text, lower-case hex.
std::string migrationChecksum(std::string_view sqlText);

// Applies pending migrations, one transaction each; refuses a changed applied file or a
// store written by a newer schema. Returns the schema version now in the store.
Result<int> migrate(sql::Connection& conn, std::span<const Migration> migrations);

}  // namespace anteroom::store
