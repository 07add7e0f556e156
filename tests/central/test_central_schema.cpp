// Central schema: migrations (idempotent, checksummed, forward-only), the schema against the seed
// (pgTAP through pg_prove), and constraints that refuse bad data with their names in the error.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <vector>

#include "central_migrations.hpp"
#include "central_support.hpp"

using namespace anteroom;
using namespace anteroom::testing;
namespace central = anteroom::admin::central;

namespace {

long long count(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::read_transaction tx(c);
  return tx.exec(sql)[0][0].as<long long>();
}

}  // namespace

TEST_CASE("anteroom-admin central migrate applies every migration once and is a no-op the second time") {
  const std::string dsn = freshEmptyDatabase("mig_cli");
  const std::string admin = std::string(ANTEROOM_ADMIN) + " central ";

  auto before = runCommand(admin + "status --dsn " + shellQuote(dsn));
  CHECK(before.exitCode == 0);
  CHECK(before.output.find("0 applied, " + std::to_string(central::bundledMigrations().size()) + " pending") !=
        std::string::npos);

  auto first = runCommand(admin + "migrate --dsn " + shellQuote(dsn));
  INFO(first.output);
  REQUIRE(first.exitCode == 0);
  CHECK(first.output.find("applied 0001_foundation") != std::string::npos);

  auto second = runCommand(admin + "migrate --dsn " + shellQuote(dsn));
  INFO(second.output);
  CHECK(second.exitCode == 0);
  CHECK(second.output.find("up to date") != std::string::npos);
  CHECK(second.output.find("applied 0") == std::string::npos);

  auto after = runCommand(admin + "status --dsn " + shellQuote(dsn));
  CHECK(after.exitCode == 0);
  CHECK(after.output.find(std::to_string(central::bundledMigrations().size()) + " applied, 0 pending") !=
        std::string::npos);
  CHECK(count(dsn, "SELECT count(*) FROM schema_migrations") ==
        static_cast<long long>(central::bundledMigrations().size()));

  SUBCASE("usage errors and a wrong connection are one clear line with the right exit code") {
    CHECK(runCommand(admin + "migrate").exitCode == 2);
    CHECK(runCommand(admin + "frobnicate --dsn x").exitCode == 2);
    CHECK(runCommand(admin + "migrate --help").exitCode == 0);
    auto hub = runCommand(admin + "migrate --dsn " + shellQuote(cluster().dsn("mig_cli", "anteroom_hub")));
    CHECK(hub.exitCode == 1);
    CHECK(hub.output.find("superuser") != std::string::npos);
    auto nowhere = runCommand(admin + "status --dsn 'host=/nonexistent-socket-dir dbname=x'");
    CHECK(nowhere.exitCode == 1);
    CHECK(nowhere.output.find("cannot connect") != std::string::npos);
  }
}

TEST_CASE("a changed applied migration is refused; new files are applied forward-only") {
  const std::string dsn = freshMigratedDatabase("mig_changed");
  std::vector<central::Migration> changed(central::bundledMigrations().begin(), central::bundledMigrations().end());
  changed[1].sql += "\n-- an innocent-looking edit\n";

  auto refused = central::centralMigrate(dsn, changed);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == "central.migration.changed");
  CHECK(refused.error().message.find("0002_domain") != std::string::npos);
  auto status = central::centralStatus(dsn, changed);
  REQUIRE(status.has_value());
  CHECK(status->changed == 1);

  std::vector<central::Migration> extended(central::bundledMigrations().begin(), central::bundledMigrations().end());
  const int next = extended.back().version + 1;
  extended.push_back({next, "9999_probe", "SET LOCAL ROLE anteroom_owner; CREATE TABLE migration_probe (x int);"});
  auto applied = central::centralMigrate(dsn, extended);
  REQUIRE(applied.has_value());
  CHECK(applied->applied == std::vector<std::string>{"9999_probe"});
  auto again = central::centralMigrate(dsn, extended);
  REQUIRE(again.has_value());
  CHECK(again->applied.empty());
  const auto appliedCount = static_cast<long long>(extended.size());

  SUBCASE("a gap in the numbers is accepted; a file numbered below an applied one is refused, not run") {
    auto gapped = extended;
    gapped.push_back({next + 2, "9999_after_gap", "SET LOCAL ROLE anteroom_owner; CREATE TABLE gap_probe (x int);"});
    auto withGap = central::centralMigrate(dsn, gapped);
    REQUIRE(withGap.has_value());
    CHECK(withGap->applied == std::vector<std::string>{"9999_after_gap"});
    auto late = gapped;
    late.insert(late.end() - 1, {next + 1, "9999_late", "SET LOCAL ROLE anteroom_owner; CREATE TABLE late_probe (x int);"});
    auto refusedLate = central::centralMigrate(dsn, late);
    REQUIRE_FALSE(refusedLate.has_value());
    CHECK(refusedLate.error().code == "central.migration.out_of_order");
    CHECK(refusedLate.error().message.find("9999_late is pending but the later 9999_after_gap is already applied") !=
          std::string::npos);
    CHECK(count(dsn, "SELECT count(*) FROM pg_class WHERE relname = 'late_probe'") == 0);
    auto unordered = gapped;
    std::swap(unordered[0], unordered[1]);
    auto refusedOrder = central::centralMigrate(dsn, unordered);
    REQUIRE_FALSE(refusedOrder.has_value());
    CHECK(refusedOrder.error().code == "central.migration.numbering");
  }

  SUBCASE("a failing migration rolls back whole and is not recorded") {
    extended.push_back({next + 1, "9999_broken", "SET LOCAL ROLE anteroom_owner; CREATE TABLE half_done (x int); "
                                                 "SELECT no_such_function();"});
    auto broken = central::centralMigrate(dsn, extended);
    REQUIRE_FALSE(broken.has_value());
    CHECK(broken.error().message.find("9999_broken") != std::string::npos);
    CHECK(count(dsn, "SELECT count(*) FROM pg_class WHERE relname = 'half_done'") == 0);
    CHECK(count(dsn, "SELECT count(*) FROM schema_migrations") == appliedCount);
  }
}

TEST_CASE("the migrated schema matches the seed, table by table (pgTAP)") {
  const std::string dsn = freshMigratedDatabase("schema_seed");
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec("SET client_min_messages = warning");
    tx.exec("CREATE EXTENSION IF NOT EXISTS pgtap");
    tx.commit();
  }
  const auto& pg = cluster();
  auto result = runCommand("pg_prove --verbose -h " + shellQuote(pg.dir().string()) + " -p " +
                           std::to_string(pg.port()) + " -U postgres -d schema_seed " +
                           shellQuote(std::string(ANTEROOM_CENTRAL_SQL_DIR) + "/schema_seed.sql"));
  INFO(result.output);
  CHECK(result.exitCode == 0);
  CHECK(result.output.find("Result: PASS") != std::string::npos);
  CHECK(result.output.find("not ok") == std::string::npos);
}

TEST_CASE("constraints refuse bad data and name themselves in the error") {
  const std::string dsn = freshMigratedDatabase("constraints");
  seedTwoPractices(dsn);
  const std::string slot = "INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status) VALUES ";
  REQUIRE(errorOf(dsn, slot + "('10000000-0000-4000-8000-000000000001', '" + kProviderA +
                           "', '2030-03-04 09:00', '2030-03-04 10:00', 'open')") == "");

  // Entries may only name a patient their practice knows (0007): one registered by practice A.
  const std::string knownPatient = "20000000-0000-4000-8000-0000000000c1";
  {
    pqxx::connection hub(cluster().dsn("constraints", "anteroom_hub"));
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, knownPatient, "Constantia", "constantia@example.org");
    tx.commit();
  }
  struct Case {
    const char* what;
    std::string sql;
    const char* constraint;
  };
  const std::string appt =
      "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type) VALUES ";
  const std::vector<Case> cases = {
      {"overlapping slot", slot + "('10000000-0000-4000-8000-000000000002', '" + kProviderA +
                               "', '2030-03-04 09:30', '2030-03-04 10:30', 'open')",
       "appointment_slot_no_overlap"},
      {"slot ending before it starts", slot + "('10000000-0000-4000-8000-000000000003', '" + kProviderA +
                                           "', '2030-03-05 10:00', '2030-03-05 09:00', 'open')",
       "appointment_slot_end_after_start"},
      {"unknown slot status", slot + "('10000000-0000-4000-8000-000000000004', '" + kProviderA +
                                  "', '2030-03-06 10:00', '2030-03-06 11:00', 'available')",
       "appointment_slot_status_valid"},
      {"bad practice email", "UPDATE practice SET email = 'not-an-email' WHERE practice_id = '" +
                                 std::string(kPracticeA) + "'",
       "practice_email_format"},
      {"bad provider email", "UPDATE provider SET email = 'robin@@example' WHERE provider_id = '" +
                                 std::string(kProviderA) + "'",
       "provider_email_format"},
      {"bad phone", "UPDATE practice SET phone = '555-0100' WHERE practice_id = '" + std::string(kPracticeA) + "'",
       "practice_phone_format"},
      {"unknown waitlist status", "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
                                  "VALUES (gen_random_uuid(), '" + std::string(kWaitlistA) + "', '" + knownPatient +
                                      "', 1, 'pending')",
       "waitlist_entry_status_valid"},
      {"urgency out of range", "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status, "
                               "urgency) VALUES (gen_random_uuid(), '" + std::string(kWaitlistA) + "', '" +
                                   knownPatient + "', 1, 'waiting', 7)",
       "waitlist_entry_urgency_range"},
      {"unknown notification recipient", "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, "
                                         "content, status) VALUES (gen_random_uuid(), gen_random_uuid(), 'family', "
                                         "'slot_offered', '{}', 'pending')",
       "notification_recipient_type_valid"},
      {"a PIN stored in the clear", "INSERT INTO staff_user (staff_id, practice_id, display_name, role, pin_hash) VALUES "
                                    "(gen_random_uuid(), '" + std::string(kPracticeA) + "', 'Jo T.', 'front_desk', '1234')",
       "staff_user_pin_hash_argon2id"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string error = errorOf(dsn, c.sql);
    CHECK(error.find(c.constraint) != std::string::npos);
  }

  SUBCASE("appointments: overlap, end before start, unknown status and type") {
    pqxx::connection c(cluster().dsn("constraints", "anteroom_hub"));
    {
      pqxx::work tx(c);
      actFor(tx, kPracticeA);
      insertPatient(tx, "20000000-0000-4000-8000-000000000001", "Sentinelia", "sentinelia@example.org");
      tx.exec_params(appt + "('30000000-0000-4000-8000-000000000001', $1, '20000000-0000-4000-8000-000000000001', "
                            "'2030-03-04 09:00', '2030-03-04 09:50', 'scheduled', 'in_person')",
                     kProviderA);
      tx.commit();
    }
    const auto hubError = [&](const std::string& values) {
      try {
        pqxx::work tx(c);
        actFor(tx, kPracticeA);
        tx.exec(appt + values);
        tx.commit();
      } catch (const pqxx::sql_error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    const std::string p = std::string("'") + kProviderA + "', '20000000-0000-4000-8000-000000000001', ";
    CHECK(hubError("(gen_random_uuid(), " + p + "'2030-03-04 09:30', '2030-03-04 10:00', 'scheduled', 'in_person')")
              .find("appointment_no_overlap") != std::string::npos);
    // A cancelled appointment frees its time.
    CHECK(hubError("(gen_random_uuid(), " + p + "'2030-03-04 09:30', '2030-03-04 10:00', 'cancelled', 'telehealth')") ==
          "");
    CHECK(hubError("(gen_random_uuid(), " + p + "'2030-03-05 10:00', '2030-03-05 09:00', 'scheduled', 'in_person')")
              .find("appointment_end_after_start") != std::string::npos);
    CHECK(hubError("(gen_random_uuid(), " + p + "'2030-03-06 10:00', '2030-03-06 11:00', 'confirmed', 'in_person')")
              .find("appointment_status_valid") != std::string::npos);
    CHECK(hubError("(gen_random_uuid(), " + p + "'2030-03-06 10:00', '2030-03-06 11:00', 'scheduled', 'virtual')")
              .find("appointment_type_valid") != std::string::npos);
  }

  SUBCASE("one active entry per patient per waitlist; a tombstone stays deleted; updated_at is the database's") {
    pqxx::connection c(cluster().dsn("constraints", "anteroom_hub"));
    const std::string entry = "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
                              "VALUES ($1, $2, '20000000-0000-4000-8000-000000000002', 1, $3)";
    {
      pqxx::work tx(c);
      actFor(tx, kPracticeA);
      insertPatient(tx, "20000000-0000-4000-8000-000000000002", "Quillon", "quillon@example.org");
      tx.exec_params(entry, "40000000-0000-4000-8000-000000000001", kWaitlistA, "waiting");
      tx.exec_params(entry, "40000000-0000-4000-8000-000000000002", kWaitlistA, "removed");
      tx.commit();
    }
    CHECK(errorAs(c, kPracticeA, [&](pqxx::transaction_base& tx) {
            tx.exec_params(entry, "40000000-0000-4000-8000-000000000003", kWaitlistA, "offered");
          }).find("waitlist_entry_one_active") != std::string::npos);
    {
      pqxx::work tx(c);
      actFor(tx, kPracticeA);
      tx.exec("UPDATE waitlist_entry SET deleted = true, updated_at = '2000-01-01', row_version = 99 "
              "WHERE entry_id = '40000000-0000-4000-8000-000000000002'");
      const auto row = tx.exec1(
          "SELECT row_version, updated_at > '2001-01-01' FROM waitlist_entry "
          "WHERE entry_id = '40000000-0000-4000-8000-000000000002'");
      CHECK(row[0].as<int>() == 2);  // the database's version, not the client's
      CHECK(row[1].as<bool>());
      tx.commit();
    }
    CHECK(errorAs(c, kPracticeA,
                  "UPDATE waitlist_entry SET deleted = false WHERE entry_id = '40000000-0000-4000-8000-000000000002'")
              .find("waitlist_entry_tombstone_final") != std::string::npos);
  }
}
