// Migrations 0008, 0010 and 0011: the same rules in forms PostgreSQL plans well. What must not
// change: every inserted row is logged for every practice that sees it, in row order with
// consecutive seqs per practice, with one NOTIFY per practice; audit rows name the row and INSERT
// and nothing else; updates and deletes leave the change log and audit trail they left before;
// the notification policy answers as before and makes no call per row.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <pqxx/notification>
#include <string>
#include <vector>

#include "central_migrations.hpp"
#include "central_support.hpp"

using namespace anteroom::testing;

namespace {

struct Pokes : pqxx::notification_receiver {
  explicit Pokes(pqxx::connection_base& c) : pqxx::notification_receiver(c, "anteroom_changes") {}
  void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
  std::vector<std::string> payloads;
};

std::vector<std::string> drain(pqxx::connection& c, Pokes& pokes) {
  pokes.payloads.clear();
  while (c.await_notification(1, 0) > 0) {
  }
  std::ranges::sort(pokes.payloads);
  return pokes.payloads;
}

std::string superValue(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  const auto field = tx.exec1(sql)[0];
  return field.is_null() ? "NULL" : field.as<std::string>();
}

const char* kSharedPatient = "20000000-0000-4000-8000-0000000008a1";
const char* kN1 = "38000000-0000-4000-8000-000000000001";
const char* kN2 = "38000000-0000-4000-8000-000000000002";
const char* kN3 = "38000000-0000-4000-8000-000000000003";

}  // namespace

TEST_CASE("0008: a multi-row INSERT logs every row for every practice that sees it, in row order, once each") {
  const std::string dsn = seededDatabase("p_insert_log");
  pqxx::connection hub(cluster().dsn("p_insert_log", "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, kSharedPatient, "Ines", "Sharedwell", "ines.sharedwell@invented.example", "1984-03-09");
    tx.commit();
  }
  // Another system links the patient to B as well: a patient's notification is then both's.
  REQUIRE(errorOf(dsn, std::string("INSERT INTO practice_patient (practice_id, patient_id) VALUES ('") + kPracticeB +
                           "', '" + kSharedPatient + "')") == "");
  pqxx::connection listening(cluster().dsn("p_insert_log", "anteroom_hub"));
  Pokes pokes(listening);
  drain(listening, pokes);
  const std::string before = superValue(dsn, "SELECT coalesce(max(event_id), 0) FROM audit_event");
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec("SELECT set_config('app.actor', 'device:50000000-0000-4000-8000-0000000008aa', true)");
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) VALUES"
                   " ($1, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                   " ($2, $5, 'patient', 'offer_sent', '{}', 'pending'),"
                   " ($3, $4, 'provider', 'patient_arrived', '{}', 'pending')",
                   kN1, kN2, kN3, kProviderA, kSharedPatient);
    tx.commit();
  }
  const std::string mine = std::string(" AND entity_id IN ('") + kN1 + "', '" + kN2 + "', '" + kN3 + "')";
  const std::string log = "SELECT string_agg(entity_id::text || ':' || op || ':' || row_version, ',' ORDER BY seq)"
                          " FROM change_log WHERE entity = 'notification'" + mine + " AND practice_id = '";
  CHECK(superValue(dsn, log + kPracticeA + "'") ==
        std::string(kN1) + ":upsert:1," + kN2 + ":upsert:1," + kN3 + ":upsert:1");
  CHECK(superValue(dsn, log + kPracticeB + "'") == std::string(kN2) + ":upsert:1");
  // Consecutive seqs in A, continuing the counter, which holds the last one.
  CHECK(superValue(dsn, "SELECT (max(seq) - min(seq))::text || ':' || count(*) FROM change_log WHERE"
                        " entity = 'notification'" + mine + " AND practice_id = '" + kPracticeA + "'") == "2:3");
  CHECK(superValue(dsn, std::string("SELECT (c.last_seq = (SELECT max(seq) FROM change_log l WHERE l.practice_id ="
                                    " c.practice_id))::text FROM practice_change_counter c WHERE practice_id = '") +
                            kPracticeA + "'") == "true");
  CHECK(superValue(dsn, std::string("SELECT (count(DISTINCT seq) = count(*))::text FROM change_log WHERE practice_id = '") +
                            kPracticeB + "'") == "true");
  // One poke per practice for the commit.
  CHECK(drain(listening, pokes) == std::vector<std::string>{kPracticeA, kPracticeB});
  // Audit: the three rows, as INSERTs by the device, ids only.
  CHECK(superValue(dsn, "SELECT string_agg(row_id || ':' || operation || ':' || actor || ':' ||"
                        " coalesce(array_to_string(changed_columns, '|'), '-') || ':' || (practice_id = '" +
                            std::string(kPracticeA) + "')::text, ',' ORDER BY event_id) FROM audit_event WHERE"
                        " table_name = 'notification' AND event_id > " + before) ==
        std::string(kN1) + ":INSERT:device:50000000-0000-4000-8000-0000000008aa:-:true," + kN2 +
            ":INSERT:device:50000000-0000-4000-8000-0000000008aa:-:true," + kN3 +
            ":INSERT:device:50000000-0000-4000-8000-0000000008aa:-:true");

  // An INSERT of no rows and a rolled-back one log nothing and poke nobody.
  const std::string count = "SELECT count(*) FROM change_log";
  const std::string logged = superValue(dsn, count);
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status)"
            " SELECT gen_random_uuid(), recipient_id, recipient_type, type, content, status FROM notification WHERE false");
    tx.commit();
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status)"
                   " VALUES (gen_random_uuid(), $1, 'provider', 'patient_arrived', '{}', 'pending')",
                   kProviderA);
    tx.abort();
  }
  CHECK(superValue(dsn, count) == logged);
  CHECK(drain(listening, pokes).empty());

  // Updates still go through the row triggers: an unchanged replay logs nothing, a change one row.
  CHECK(errorAs(hub, kPracticeA, std::string("UPDATE notification SET status = 'pending' WHERE notification_id = '") + kN1 +
                                     "'") == "");
  CHECK(superValue(dsn, count) == logged);
  CHECK(errorAs(hub, kPracticeA, std::string("UPDATE notification SET status = 'sent' WHERE notification_id = '") + kN1 +
                                     "'") == "");
  CHECK(superValue(dsn, std::string("SELECT string_agg(op || ':' || row_version, ',' ORDER BY seq) FROM change_log"
                                    " WHERE entity_id = '") + kN1 + "'") == "upsert:1,upsert:2");
  CHECK(superValue(dsn, std::string("SELECT array_to_string(changed_columns, '|') FROM audit_event WHERE row_id = '") + kN1 +
                            "' AND operation = 'UPDATE'") == "status");
}

TEST_CASE("0008: a new patient's registration and link are logged as before (statement-level triggers)") {
  const std::string dsn = seededDatabase("p_patient_log");
  pqxx::connection hub(cluster().dsn("p_patient_log", "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, kSharedPatient, "Ines", "Sharedwell", "ines.sharedwell@invented.example", "1984-03-09");
    tx.commit();
  }
  // The link made by the BEFORE trigger is visible to the statement's change-log trigger: one
  // upsert for A, none for B; the link itself is audited.
  CHECK(superValue(dsn, std::string("SELECT string_agg(practice_id::text || ':' || op, ',') FROM change_log WHERE"
                                    " entity = 'patient' AND entity_id = '") + kSharedPatient + "'") ==
        std::string(kPracticeA) + ":upsert");
  CHECK(superValue(dsn, std::string("SELECT count(*) FROM audit_event WHERE table_name = 'practice_patient' AND row_id = '") +
                            kPracticeA + ":" + kSharedPatient + "' AND operation = 'INSERT'") == "1");
  CHECK(superValue(dsn, std::string("SELECT count(*) FROM audit_event WHERE table_name = 'patient' AND row_id = '") +
                            kSharedPatient + "' AND operation = 'INSERT'") == "1");
}

TEST_CASE("0008: the notification policy reads the practice's providers once, not a function per row") {
  seededDatabase("p_policy");
  pqxx::connection hub(cluster().dsn("p_policy", "anteroom_hub"));
  pqxx::work tx(hub);
  actFor(tx, kPracticeA);
  std::string plan;
  for (const auto& r : tx.exec("EXPLAIN (COSTS OFF) SELECT notification_id FROM notification")) plan += r[0].c_str() + std::string("\n");
  CAPTURE(plan);
  CHECK(plan.find("notification_visible") == std::string::npos);
  CHECK(plan.find("hashed SubPlan") != std::string::npos);
}

// Migration 0010: the same rows as 0008's (the test above), at a lower cost per row.
TEST_CASE("0010: a multi-row INSERT's change log and audit make one call a statement, none a row") {
  const std::string dsn = seededDatabase("p_insert_calls");
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  // The transaction's own function counts, for the hub's role (track_functions is the superuser's).
  tx.exec("SET LOCAL track_functions = 'all'");
  tx.exec("SET LOCAL ROLE anteroom_hub");
  actFor(tx, kPracticeA);
  tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) VALUES"
                 " ($1, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                 " ($2, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                 " ($3, $4, 'provider', 'patient_arrived', '{}', 'pending')",
                 kN1, kN2, kN3, kProviderA);
  // 0008 called row_practices once a row; only the BEFORE row trigger still runs a row.
  CHECK(tx.exec1("SELECT string_agg(funcname || ':' || calls, ',' ORDER BY funcname) FROM pg_stat_xact_user_functions")[0]
            .as<std::string>() == "notification_audit_inserted:1,notification_log_inserted:1,sync_row_maintain:3");
  CHECK(tx.exec_params1("SELECT count(*) FROM change_log WHERE entity_id IN ($1, $2, $3)", kN1, kN2, kN3)[0].as<int>() == 3);
}

TEST_CASE("0010: notification types follow the same rule, checked without a counted repetition") {
  const std::string dsn = seededDatabase("p_notification_type");
  pqxx::connection hub(cluster().dsn("p_notification_type", "anteroom_hub"));
  auto insertOfType = [&](const std::string& type) {
    return errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
      tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status)"
                     " VALUES (gen_random_uuid(), $1, 'provider', $2, '{}', 'pending')",
                     kProviderA, type);
    });
  };
  for (const std::string& ok : std::vector<std::string>{"a", "patient_arrived", "offer_sent2", std::string(50, 'z')}) {
    CAPTURE(ok);
    CHECK(insertOfType(ok) == "");
  }
  for (const std::string& bad : std::vector<std::string>{"", "Patient_arrived", "1st", "_x", "patient-arrived", "caf\xc3\xa9"}) {
    CAPTURE(bad);
    CHECK(insertOfType(bad).find("notification_type_format") != std::string::npos);
  }
  CHECK(insertOfType(std::string(51, 'z')) != "");  // varchar(50) refuses it before the check
}

// Migration 0011: the change log and audit of UPDATEs and DELETEs, the same rows at a lower cost.
namespace {

const char* kAppointment1 = "48000000-0000-4000-8000-000000000001";
const char* kEntry1 = "49000000-0000-4000-8000-000000000001";
const char* kStaff1 = "60000000-0000-4000-8000-0000000011aa";
const char* kDevice1 = "50000000-0000-4000-8000-0000000011aa";

// A database migrated up to `last` (a version number) of the bundled migrations.
std::string databaseUpTo(const std::string& name, int last) {
  const std::string dsn = freshEmptyDatabase(name);
  std::vector<anteroom::admin::central::Migration> upTo;
  for (const auto& m : anteroom::admin::central::bundledMigrations())
    if (m.version <= last) upTo.push_back(m);
  auto migrated = anteroom::admin::central::centralMigrate(dsn, upTo);
  if (!migrated) FAIL(migrated.error().message);
  return dsn;
}

// Updates and deletes of every kind the change log and audit tell apart: a check-in, a
// multi-row update, an unchanged replay, rows moving out of a practice's sight ('leave'), a
// tombstone, purges, a device's bookkeeping, a patient's PII, a patient seen by two practices.
// Fixed ids, so two databases can be compared row for row.
void mixedRun(const std::string& name, const std::string& dsn) {
  seedTwoPractices(dsn);
  pqxx::connection hub(cluster().dsn(name, "anteroom_hub"));
  pqxx::connection super(dsn);
  auto asHub = [&](const std::string& practice, const std::function<void(pqxx::transaction_base&)>& statements) {
    REQUIRE(errorAs(hub, practice, statements) == "");
  };
  auto asSuper = [&](const std::string& sql) {
    pqxx::work tx(super);
    tx.exec("SELECT set_config('app.actor', 'staff:admin', true)");
    tx.exec(sql);
    tx.commit();
  };
  asHub(kPracticeA, [&](pqxx::transaction_base& tx) {
    insertPatient(tx, kSharedPatient, "Ines", "Sharedwell", "ines.sharedwell@invented.example", "1984-03-09");
    tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
                   " VALUES ($1, $2, $3, '2030-05-01 09:00', '2030-05-01 09:50', 'scheduled', 'in_person')",
                   kAppointment1, kProviderA, kSharedPatient);
    tx.exec_params("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status)"
                   " VALUES ($1, $2, $3, 3.5, 'waiting')",
                   kEntry1, kWaitlistA, kSharedPatient);
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) VALUES"
                   " ($1, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                   " ($2, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                   " ($3, $5, 'patient', 'offer_sent', '{}', 'pending')",
                   kN1, kN2, kN3, kProviderA, kSharedPatient);
  });
  asSuper(std::string("INSERT INTO practice_patient (practice_id, patient_id) VALUES ('") + kPracticeB + "', '" +
          kSharedPatient + "')");
  asSuper(std::string("INSERT INTO staff_user (staff_id, practice_id, display_name, role, pin_hash) VALUES ('") + kStaff1 +
          "', '" + kPracticeA + "', 'Jo T.', 'front_desk', '$argon2id$v=19$x')");
  asSuper(std::string("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ('") + kDevice1 + "', '" +
          kPracticeA + "', 'Lobby tablet', '" + std::string(64, 'd') + "')");

  asHub(kPracticeA, [&](pqxx::transaction_base& tx) {
    tx.exec_params("UPDATE appointment SET status = 'checked_in' WHERE appointment_id = $1", kAppointment1);
    tx.exec_params("UPDATE appointment SET status = 'checked_in' WHERE appointment_id = $1", kAppointment1);  // replay
    tx.exec("UPDATE notification SET status = 'sent' WHERE type = 'patient_arrived'");
    tx.exec_params("UPDATE notification SET status = 'sent', content = '{\"a\":1}' WHERE notification_id = $1", kN3);
    tx.exec_params("UPDATE waitlist_entry SET priority_score = 4.25, notes = 'x' WHERE entry_id = $1", kEntry1);
    tx.exec_params("UPDATE patient SET phone = pii_encrypt('+15415550111', $2) WHERE patient_id = $1", kSharedPatient,
                   kPiiKey);
    tx.exec_params("UPDATE provider SET experience = 8 WHERE provider_id = $1", kProviderA);
    tx.exec_params("UPDATE practice SET settings = '{\"data_window_days_ahead\":2}' WHERE practice_id = $1", kPracticeA);
  });
  // Moves between practices, tombstones and purges, as other systems write them.
  asSuper(std::string("UPDATE notification SET recipient_id = '") + kProviderB + "' WHERE notification_id = '" + kN1 + "'");
  asSuper(std::string("UPDATE notification SET recipient_id = '") + kPracticeB +
          "', recipient_type = 'front_desk' WHERE notification_id = '" + kN2 + "'");
  asSuper(std::string("UPDATE notification SET recipient_id = '") + kStaff1 +
          "', recipient_type = 'front_desk' WHERE notification_id = '" + kN3 + "'");
  asSuper(std::string("UPDATE staff_user SET practice_id = '") + kPracticeB + "' WHERE staff_id = '" + kStaff1 + "'");
  asSuper(std::string("UPDATE waitlist_entry SET deleted = true WHERE entry_id = '") + kEntry1 + "'");
  asSuper(std::string("UPDATE device SET last_seen_at = now() WHERE device_id = '") + kDevice1 + "'");
  asSuper(std::string("UPDATE device SET last_device_seq = 7, last_seen_at = now() WHERE device_id = '") + kDevice1 + "'");
  asSuper(std::string("DELETE FROM notification WHERE notification_id IN ('") + kN1 + "', '" + kN2 + "')");
  asSuper(std::string("DELETE FROM practice_patient WHERE practice_id = '") + kPracticeB + "' AND patient_id = '" +
          kSharedPatient + "'");
}

// The rows the run left in the change log and the audit trail, without times and serials.
std::string trail(const std::string& dsn) {
  return superValue(dsn, "SELECT string_agg(practice_id || ' ' || seq || ' ' || entity || ' ' || entity_id || ' ' || op ||"
                         " ' ' || row_version, E'\\n' ORDER BY practice_id, seq) FROM change_log") +
         "\n--\n" +
         superValue(dsn, "SELECT string_agg(db_user || ' ' || coalesce(practice_id::text, '-') || ' ' ||"
                         " coalesce(actor, '-') || ' ' || table_name || ' ' || row_id || ' ' || operation || ' ' ||"
                         " coalesce(array_to_string(changed_columns, '|'), '-'), E'\\n' ORDER BY event_id) FROM audit_event");
}

}  // namespace

TEST_CASE("0011: updates and deletes leave the same change log and audit trail as under 0010") {
  const std::string before = databaseUpTo("p_trail_0010", 10);
  const std::string after = freshMigratedDatabase("p_trail_0011");
  REQUIRE(superValue(after, "SELECT max(version) FROM schema_migrations") == "11");
  mixedRun("p_trail_0010", before);
  mixedRun("p_trail_0011", after);
  const std::string expected = trail(before);
  CAPTURE(expected);
  CHECK(trail(after) == expected);
  // The run has the cases it is meant to have.
  CHECK(expected.find(" leave ") != std::string::npos);
  CHECK(expected.find(" delete ") != std::string::npos);
  CHECK(expected.find(" purge ") != std::string::npos);
  CHECK(expected.find("device " + std::string(kDevice1) + " UPDATE last_device_seq") != std::string::npos);
  CHECK(expected.find("appointment " + std::string(kAppointment1) + " UPDATE status") != std::string::npos);
}

TEST_CASE("0011: a multi-row UPDATE's change log and audit make one call a row and nothing nested") {
  const std::string dsn = seededDatabase("p_update_calls");
  {
    pqxx::connection hub(cluster().dsn("p_update_calls", "anteroom_hub"));
    REQUIRE(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
              tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content,"
                             " status) VALUES ($1, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                             " ($2, $4, 'provider', 'patient_arrived', '{}', 'pending'),"
                             " ($3, $4, 'provider', 'patient_arrived', '{}', 'pending')",
                             kN1, kN2, kN3, kProviderA);
            }) == "");
  }
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  tx.exec("SET LOCAL track_functions = 'all'");
  tx.exec("SET LOCAL ROLE anteroom_hub");
  actFor(tx, kPracticeA);
  tx.exec_params("UPDATE notification SET status = 'sent' WHERE notification_id IN ($1, $2, $3)", kN1, kN2, kN3);
  // 0010 called sync_log_change, row_practices and sync_append_change (and audit_row_change) a row.
  CHECK(tx.exec1("SELECT string_agg(funcname || ':' || calls, ',' ORDER BY funcname) FROM pg_stat_xact_user_functions")[0]
            .as<std::string>() == "notification_audit_changed:3,notification_log_changed:3,sync_row_maintain:3");
  CHECK(tx.exec_params1("SELECT count(*) FROM change_log WHERE entity_id IN ($1, $2, $3) AND row_version = 2", kN1, kN2,
                        kN3)[0]
            .as<int>() == 3);
}

TEST_CASE("0011: the audit functions compare every column of their table") {
  const std::string dsn = freshMigratedDatabase("p_audit_columns");
  // A column added later without making its table's function again would go unaudited.
  CHECK(superValue(dsn, "SELECT coalesce(string_agg(c.relname || '.' || a.attname, ', '), '') FROM pg_class c"
                        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                        " JOIN pg_proc p ON p.proname = c.relname || '_audit_changed'"
                        " WHERE a.attname NOT IN ('updated_at', 'row_version', 'last_seen_at')"
                        " AND strpos(p.prosrc, format('NEW.%I IS DISTINCT FROM OLD.%I', a.attname, a.attname)) = 0") == "");
  CHECK(superValue(dsn, "SELECT count(*) FROM pg_proc WHERE proname LIKE '%\\_audit\\_changed'") == "12");
}
