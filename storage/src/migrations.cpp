// Applies numbered SQL files once each and records their checksums in schema_migrations.
#include "migrations.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <set>

namespace anteroom::store {

std::string migrationChecksum(std::string_view sqlText) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(sqlText.data()),
                     sqlText.size());
  std::array<char, 2 * crypto_hash_sha256_BYTES + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data());
}

Result<int> migrate(sql::Connection& conn, std::span<const Migration> migrations) {
  if (auto r = conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY NOT NULL,"
                         " name TEXT NOT NULL,"
                         " checksum TEXT NOT NULL,"
                         " applied_at TEXT NOT NULL)");
      !r)
    return std::unexpected(r.error());

  int latestKnown = 0;
  for (const auto& m : migrations) latestKnown = std::max(latestKnown, m.version);

  // Every applied migration must still be the file this program carries. Read without the
  // write lock: a store that is up to date never waits behind the sync daemon's writes.
  std::set<int> recorded;
  {
    auto stmt = conn.prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    if (!stmt) return std::unexpected(stmt.error());
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) {
      const auto version = static_cast<int>(stmt->getInt(0));
      recorded.insert(version);
      const std::string name = stmt->getText(1);
      const auto known = std::find_if(migrations.begin(), migrations.end(),
                                      [&](const Migration& m) { return m.version == version; });
      if (known == migrations.end()) {
        if (version > latestKnown) {
          return fail(ErrorDomain::Migration, "migration.store_too_new",
                      "this store has schema version " + std::to_string(version) +
                          ", newer than this program knows (" + std::to_string(latestKnown) +
                          "); update Anteroom");
        }
        return fail(ErrorDomain::Migration, "migration.unknown",
                    "the store records migration " + name + ", which this program does not carry");
      }
      if (migrationChecksum(known->sql) != stmt->getText(2)) {
        return fail(ErrorDomain::Migration, "migration.changed",
                    "migration " + known->name +
                        " was changed after it was applied to this store; restore the original file "
                        "and add a new migration instead");
      }
    }
    if (rc != SQLITE_DONE) return std::unexpected(sql::sqliteError(conn.raw(), rc, "reading migrations"));
  }

  std::vector<const Migration*> ordered;
  for (const auto& m : migrations) ordered.push_back(&m);
  const bool pending = std::ranges::any_of(ordered, [&](const Migration* m) { return !recorded.contains(m->version); });
  if (!pending) return latestKnown;
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });

  int current = 0;
  for (const Migration* m : ordered) {
    auto tx = sql::Transaction::begin(conn);
    if (!tx) return std::unexpected(tx.error());
    // Checked inside the write lock: the kiosk and the sync daemon may open at once.
    auto applied = conn.prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!applied) return std::unexpected(applied.error());
    applied->bindInt(1, m->version);
    const bool already = applied->step() == SQLITE_ROW;
    if (!already) {
      if (auto r = conn.exec(m->sql); !r) {
        Error e = r.error();
        e.domain = ErrorDomain::Migration;
        e.message = "migration " + m->name + " failed: " + e.message;
        return std::unexpected(e);
      }
      auto record = conn.prepare(
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)");
      if (!record) return std::unexpected(record.error());
      record->bindInt(1, m->version);
      record->bindText(2, m->name);
      record->bindText(3, migrationChecksum(m->sql));
      record->bindText(4, formatInstant(nowUtc()));
      if (const int rc = record->step(); rc != SQLITE_DONE)
        return std::unexpected(sql::sqliteError(conn.raw(), rc, "recording a migration"));
    }
    if (auto r = tx->commit(); !r) return std::unexpected(r.error());
    current = m->version;
  }
  return current;
}

}  // namespace anteroom::store
