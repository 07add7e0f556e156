// Migration 0008: the same rules in forms PostgreSQL plans well. What must not change: every
// inserted row is logged for every practice that sees it, in row order with consecutive seqs per
// practice, with one NOTIFY per practice; audit rows name the row and INSERT and nothing else;
// the notification policy answers as before and makes no call per row.
#include <doctest/doctest.h>

#include <algorithm>
#include <pqxx/notification>
#include <string>
#include <vector>

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
