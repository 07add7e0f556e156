// Applies migrations/central to a PostgreSQL database with libpqxx: one transaction per file,
// checksums in schema_migrations, refusal of changed files.
#include "central_migrations.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <map>
#include <pqxx/pqxx>

#include "central_connection.hpp"

namespace anteroom::admin::central {

namespace {

// Any fixed number: every migrate run takes this session-level advisory lock first.
constexpr long long kMigrationLockKey = 0x616e7465726f6f6dLL;  // "anteroom"

constexpr const char* kCreateBookkeeping =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";


struct Recorded {
  std::string name;
  std::string checksum;
  std::string appliedAt;
};

Result<std::map<int, Recorded>> readRecorded(pqxx::transaction_base& tx) {
  const auto exists = tx.exec("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
  std::map<int, Recorded> recorded;
  if (!exists[0][0].as<bool>()) return recorded;
  const auto rows = tx.exec(
      "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM schema_migrations ORDER BY version");
  for (const auto& row : rows) {
    recorded[row[0].as<int>()] = Recorded{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()};
  }
  return recorded;
}

// Numbers only grow. A gap is allowed: files are written on parallel branches (0006 and 0007 at
// once) and one may arrive first; refuseOutOfOrder keeps the applied history forward-only.
Result<void> checkBundle(std::span<const Migration> migrations) {
  int previous = 0;
  for (const auto& m : migrations) {
    if (m.version <= previous) {
      return fail(ErrorDomain::Migration, "central.migration.numbering",
                  "central migrations must be numbered 1, 2, 3... in increasing order; " + m.name +
                      " is out of sequence");
    }
    previous = m.version;
  }
  return {};
}

// A pending file numbered below an applied one would run after its successor: refused, since
// the successor was written and tested without it.
Result<void> refuseOutOfOrder(std::span<const Migration> migrations, const std::map<int, Recorded>& recorded) {
  if (recorded.empty()) return {};
  const auto& [newestVersion, newest] = *recorded.rbegin();
  for (const auto& m : migrations) {
    if (m.version < newestVersion && !recorded.contains(m.version)) {
      return fail(ErrorDomain::Migration, "central.migration.out_of_order",
                  "migration " + m.name + " is pending but the later " + newest.name +
                      " is already applied; migrations run in number order only: restore the database "
                      "from before " + newest.name + " or renumber the new file after it");
    }
  }
  return {};
}

CentralStatus compare(std::span<const Migration> migrations, const std::map<int, Recorded>& recorded) {
  CentralStatus status;
  for (const auto& m : migrations) {
    MigrationStatus s{m.version, m.name, MigrationState::Pending, {}};
    if (auto it = recorded.find(m.version); it != recorded.end()) {
      s.appliedAt = it->second.appliedAt;
      s.state = it->second.checksum == checksumOf(m.sql) && it->second.name == m.name ? MigrationState::Applied
                                                                                      : MigrationState::Changed;
    }
    status.migrations.push_back(std::move(s));
  }
  for (const auto& [version, r] : recorded) {
    const bool known = std::ranges::any_of(migrations, [&](const Migration& m) { return m.version == version; });
    if (!known) status.migrations.push_back({version, r.name, MigrationState::Unknown, r.appliedAt});
  }
  std::ranges::sort(status.migrations, {}, &MigrationStatus::version);
  for (const auto& s : status.migrations) {
    switch (s.state) {
      case MigrationState::Applied: ++status.applied; break;
      case MigrationState::Pending: ++status.pending; break;
      case MigrationState::Changed: ++status.changed; break;
      case MigrationState::Unknown: ++status.unknown; break;
    }
  }
  return status;
}


// The first changed or unknown migration, as the error that stops a migrate run.
Result<void> refuseDrift(const CentralStatus& status) {
  for (const auto& s : status.migrations) {
    if (s.state == MigrationState::Changed) {
      return fail(ErrorDomain::Migration, "central.migration.changed",
                  "migration " + s.name + " was changed after it was applied (checksum differs); "
                  "applied migrations are never edited: add a new numbered file instead");
    }
    if (s.state == MigrationState::Unknown) {
      return fail(ErrorDomain::Migration, "central.migration.unknown",
                  "the database has migration " + s.name + ", which this program does not know; "
                  "use a newer anteroom-admin");
    }
  }
  return {};
}

}  // namespace

// libpq messages start with "ERROR:  " and may carry DETAIL/HINT lines; one line is enough, and
// the server's message never contains parameter values (we send none but the checksum).
std::string firstLine(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  "}) {
    if (line.starts_with(prefix)) line.remove_prefix(prefix.size());
  }
  return std::string(line);
}

std::unexpected<Error> connectFailed(const std::exception& e) {
  return fail(ErrorDomain::Network, "central.connect", "cannot connect to the central database: " + firstLine(e.what()),
              true);
}

std::string checksumOf(std::string_view sql) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(sql.data()), sql.size());
  std::array<char, 2 * crypto_hash_sha256_BYTES + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data());
}

std::string_view toString(MigrationState state) noexcept {
  switch (state) {
    case MigrationState::Applied: return "applied";
    case MigrationState::Pending: return "pending";
    case MigrationState::Changed: return "changed";
    case MigrationState::Unknown: return "unknown";
  }
  return "unknown";
}

Result<CentralStatus> centralStatus(const std::string& dsn, std::span<const Migration> migrations) {
  if (auto ok = checkBundle(migrations); !ok) return std::unexpected(ok.error());
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  auto& conn = *connected;
  try {
    pqxx::read_transaction tx(*conn);
    auto recorded = readRecorded(tx);
    if (!recorded) return std::unexpected(recorded.error());
    CentralStatus status = compare(migrations, *recorded);
    status.database = conn->dbname();
    status.serverVersion = tx.exec("SELECT split_part(current_setting('server_version'), ' ', 1)")[0][0].as<std::string>();
    return status;
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Migration, "central.status", "cannot read the migration state: " + firstLine(e.what()));
  }
}

Result<MigrateReport> centralMigrate(const std::string& dsn, std::span<const Migration> migrations) {
  if (auto ok = checkBundle(migrations); !ok) return std::unexpected(ok.error());
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  auto& conn = *connected;
  MigrateReport report;
  std::string current = "(setup)";
  try {
    {
      pqxx::nontransaction setup(*conn);
      // IF NOT EXISTS and similar notices are expected; warnings and errors still come through.
      setup.exec("SET client_min_messages = warning");
      setup.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")");
    }
    pqxx::read_transaction probe(*conn);
    if (!probe.exec("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0].as<bool>()) {
      return fail(ErrorDomain::Migration, "central.migration.privilege",
                  "central migrations create roles and extensions: connect as a PostgreSQL superuser");
    }
    auto recorded = readRecorded(probe);
    probe.commit();
    if (!recorded) return std::unexpected(recorded.error());
    const CentralStatus status = compare(migrations, *recorded);
    if (auto ok = refuseDrift(status); !ok) return std::unexpected(ok.error());
    if (auto ok = refuseOutOfOrder(migrations, *recorded); !ok) return std::unexpected(ok.error());
    report.alreadyApplied = status.applied;
    for (const auto& m : migrations) {
      if (recorded->contains(m.version)) continue;
      current = m.name;
      pqxx::work tx(*conn);
      tx.exec(kCreateBookkeeping);
      // Another run may have applied it while we waited for nothing: the advisory lock makes
      // that impossible, and the primary key would refuse a second row anyway.
      tx.exec(m.sql);
      // A migration may SET LOCAL ROLE anteroom_owner; the bookkeeping row is the superuser's.
      tx.exec("RESET ROLE");
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", m.version, m.name,
                     checksumOf(m.sql));
      tx.commit();
      report.applied.push_back(m.name);
    }
    pqxx::nontransaction done(*conn);
    done.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Migration, "central.migration.failed",
                "migration " + current + " failed and was rolled back: " + firstLine(e.what()));
  }
  return report;
}

}  // namespace anteroom::admin::central
