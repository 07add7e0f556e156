// Central security: row-level security per practice (hub, owner under FORCE, no practice set),
// encrypted PII, no key or PHI in the PostgreSQL/pgaudit log, the audit trail, the change log's
// commit order, and retention.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include "central_support.hpp"

using namespace anteroom::testing;


TEST_CASE("row-level security: the hub sees and changes only its own practice") {
  seededDatabase("rls");
  pqxx::connection hub(cluster().dsn("rls", "anteroom_hub"));
  const char* tables[] = {"practice", "provider", "patient", "waitlist", "waitlist_entry", "appointment",
                          "notification", "change_log", "practice_patient"};

  for (const char* table : tables) {
    INFO(table);
    CHECK(countAs(hub, kPracticeA, table) >= 1);
    CHECK(countAs(hub, "", table) == 0);  // no practice set: nothing at all
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK(tx.exec_params("SELECT count(*) FROM patient WHERE patient_id = $1", kPatientB)[0][0].as<int>() == 0);
    CHECK(tx.exec_params("SELECT count(*) FROM provider WHERE practice_id = $1", kPracticeB)[0][0].as<int>() == 0);
    // Updates to B's rows find nothing to update.
    CHECK(tx.exec_params("UPDATE provider SET experience = 1 WHERE provider_id = $1", kProviderB).affected_rows() == 0);
    CHECK(tx.exec_params("UPDATE patient SET insurance_info = '{}' WHERE patient_id = $1", kPatientB).affected_rows() ==
          0);
    CHECK(tx.exec_params("UPDATE appointment SET notes = $1", patientValue("seen by A, sentinel note")).affected_rows() ==
          1);
    tx.commit();
  }
  {
    // Writing into B's practice is refused by the policy's check.
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK_THROWS_WITH_AS(tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) "
                                        "VALUES (gen_random_uuid(), $1, 'Sneaky', '{}')",
                                        kPracticeB),
                         doctest::Contains("row-level security"), pqxx::sql_error);
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK_THROWS_WITH_AS(tx.exec_params("INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, "
                                        "status) VALUES (gen_random_uuid(), $1, '2030-06-01 09:00', '2030-06-01 10:00', "
                                        "'open')",
                                        kProviderB),
                         doctest::Contains("row-level security"), pqxx::sql_error);
  }
  {
    // The hub cannot hard-delete nor read the audit trail.
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK_THROWS_WITH_AS(tx.exec("DELETE FROM appointment"), doctest::Contains("permission denied"), pqxx::sql_error);
  }
  {
    pqxx::work tx(hub);
    CHECK_THROWS_WITH_AS(tx.exec("SELECT count(*) FROM audit_event"), doctest::Contains("permission denied"),
                         pqxx::sql_error);
  }
  // B's appointment is untouched.
  pqxx::connection super(cluster().dsn("rls"));
  pqxx::read_transaction check(super);
  CHECK(check.exec("SELECT count(*) FROM appointment WHERE notes IS NULL")[0][0].as<int>() == 1);
}

TEST_CASE("row-level security binds the owner too (FORCE) and scopes reporting") {
  seededDatabase("rls_owner");
  pqxx::connection super(cluster().dsn("rls_owner"));
  CHECK(countAs(super, "", "appointment", "anteroom_owner") == 0);
  CHECK(countAs(super, kPracticeA, "appointment", "anteroom_owner") == 1);
  CHECK(countAs(super, kPracticeB, "patient", "anteroom_owner") == 1);
  CHECK(countAs(super, "", "appointment") == 2);  // a superuser is the one role that bypasses RLS

  pqxx::connection reporting(cluster().dsn("rls_owner", "anteroom_reporting"));
  CHECK(countAs(reporting, kPracticeB, "waitlist_entry") == 1);
  CHECK(countAs(reporting, "", "waitlist_entry") == 0);
  {
    pqxx::work tx(reporting);
    actFor(tx, kPracticeB);
    CHECK_THROWS_WITH_AS(tx.exec("UPDATE waitlist_entry SET priority_score = 0"),
                         doctest::Contains("permission denied"), pqxx::sql_error);
  }
  pqxx::connection auditor(cluster().dsn("rls_owner", "anteroom_auditor"));
  {
    pqxx::work tx(auditor);
    CHECK(tx.exec("SELECT count(*) FROM audit_event")[0][0].as<int>() > 0);
  }
  {
    pqxx::work tx(auditor);
    CHECK_THROWS_WITH_AS(tx.exec("SELECT count(*) FROM patient"), doctest::Contains("permission denied"),
                         pqxx::sql_error);
  }
}

TEST_CASE("a patient reaches a second practice only through a link, which sends the row to its devices") {
  seededDatabase("rls_link");
  pqxx::connection hub(cluster().dsn("rls_link", "anteroom_hub"));
  CHECK(countAs(hub, kPracticeB, "patient") == 1);
  // Knowing A's patient's id is not enough: B can neither link it nor name it in an entry.
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO practice_patient (practice_id, patient_id) VALUES ($1, $2)", kPracticeB, kPatientA);
        }).find("permission denied") != std::string::npos);
  const std::string entry = "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
                            "VALUES (gen_random_uuid(), $1, $2, 1, 'waiting')";
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) { tx.exec_params(entry, kWaitlistB, kPatientA); })
            .find("patient is not known to this practice") != std::string::npos);
  CHECK(countAs(hub, kPracticeB, "patient") == 1);
  // The walk-in match with A's patient's email, names and date of birth links it.
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    const auto match = tx.exec_params1("SELECT outcome, patient_id::text FROM sync_match_walkin($1, $2, $3, $4, $5, $6)",
                                       "invented.a@example.org", "inventeda", "examplewright", "1988-04-02", kPiiKey, kHashKey);
    CHECK(match[0].as<std::string>() == "linked");
    CHECK(match[1].as<std::string>() == kPatientA);
    tx.exec_params(entry, kWaitlistB, kPatientA);
    tx.commit();
  }
  CHECK(countAs(hub, kPracticeB, "patient") == 2);
  pqxx::work tx(hub);
  actFor(tx, kPracticeB);
  CHECK(tx.exec_params("SELECT count(*) FROM change_log WHERE entity = 'patient' AND entity_id = $1", kPatientA)[0][0]
            .as<int>() == 1);
}

TEST_CASE("encrypted PII is unreadable without the key, and neither key nor PHI reaches the logs") {
  const std::string sentinelName = patientValue("Zyxwquorbel");
  const std::string sentinelEmail = patientValue("zyxw.quorbel@sentinel.example");
  seededDatabase("pii");
  pqxx::connection hub(cluster().dsn("pii", "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, "20000000-0000-4000-8000-0000000000ff", sentinelName, sentinelEmail);
    // Lookup by email goes through the keyed hash; the plaintext comes back only with the key.
    const auto row = tx.exec_params1(
        "SELECT pii_decrypt(first_name, $1), pii_decrypt(email, $1) FROM patient WHERE email_hash = pii_lookup_hash($2, $3)",
        kPiiKey, sentinelEmail, kHashKey);
    CHECK(row[0].as<std::string>() == sentinelName);
    CHECK(row[1].as<std::string>() == sentinelEmail);
    tx.commit();
  }
  // A second patient with the same email is refused through the hash.
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          insertPatient(tx, "20000000-0000-4000-8000-0000000000fe", "Otheria", sentinelEmail);
        }).find("patient_email_hash_key") != std::string::npos);
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    const auto raw = tx.exec1("SELECT encode(first_name, 'escape'), encode(email, 'escape'), "
                              "encode(date_of_birth, 'escape') FROM patient "
                              "WHERE patient_id = '20000000-0000-4000-8000-0000000000ff'");
    for (const auto& field : raw) CHECK(field.as<std::string>().find("Zyxw") == std::string::npos);
    CHECK(raw[1].as<std::string>().find("sentinel.example") == std::string::npos);
  }
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("SELECT pii_decrypt(first_name, $1) FROM patient", std::string(64, '7'));
        }).find("Wrong key") != std::string::npos);
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("SELECT pii_encrypt('x', $1)", "short");
        }).find("too short") != std::string::npos);
  // The identifying insurance numbers may not sit in the plaintext JSON. (PHI always travels as
  // a bind parameter: a literal would be part of the statement text that pgaudit logs.)
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("UPDATE patient SET insurance_info = $1::jsonb", "{\"member_id\":\"" + patientValue("XK-1") + "\"}");
        }).find("patient_insurance_info_no_identifiers") != std::string::npos);
  pqxx::connection super(cluster().dsn("pii"));
  {
    pqxx::work tx(super);
    tx.exec("CHECKPOINT");  // flushes nothing to the log we read, but makes the server log a line
  }
  const std::string log = cluster().readLog();
  CHECK(log.find("AUDIT:") != std::string::npos);                    // pgaudit is writing
  CHECK(log.find("pii_encrypt") != std::string::npos);               // ...the statements themselves
  CHECK(log.find(kPiiKey) == std::string::npos);                     // but never the key
  CHECK(log.find(kHashKey) == std::string::npos);
  CHECK(log.find(sentinelName) == std::string::npos);                // nor the patient's values
  CHECK(log.find(sentinelEmail) == std::string::npos);
  CHECK(log.find("XK-1") == std::string::npos);
  CHECK(log.find("DETAIL:  Failing row contains") == std::string::npos);  // terse errors
}

TEST_CASE("audit_event records who, when, which row and which columns, never values; it is append-only") {
  seededDatabase("audit");
  pqxx::connection hub(cluster().dsn("audit", "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec_params("UPDATE patient SET first_name = pii_encrypt($3, $1) WHERE patient_id = $2", kPiiKey, kPatientA,
                   patientValue("Renamedia"));
    tx.commit();
  }
  pqxx::connection super(cluster().dsn("audit"));
  pqxx::work tx(super);
  const auto row = tx.exec_params1(
      "SELECT db_user, practice_id::text, actor, operation, array_to_string(changed_columns, ','), "
      "(SELECT string_agg(to_jsonb(a)::text, '') FROM audit_event a) "
      "FROM audit_event WHERE table_name = 'patient' AND row_id = $1 AND operation = 'UPDATE'",
      kPatientA);
  CHECK(row[0].as<std::string>() == "anteroom_hub");
  CHECK(row[1].as<std::string>() == kPracticeA);
  CHECK(row[2].as<std::string>() == "device:test-kiosk");
  CHECK(row[4].as<std::string>() == "first_name");
  CHECK(row[5].as<std::string>().find("Renamedia") == std::string::npos);
  tx.commit();
  CHECK(errorAs(super, "", "UPDATE audit_event SET actor = 'someone else'").find("append-only") != std::string::npos);
  CHECK(errorAs(super, "", "DELETE FROM audit_event").find("append-only") != std::string::npos);
}

TEST_CASE("the change log's per-practice sequence follows commit order") {
  seededDatabase("feed");
  pqxx::connection first(cluster().dsn("feed", "anteroom_hub"));
  pqxx::connection second(cluster().dsn("feed", "anteroom_hub"));
  pqxx::work t1(first);
  actFor(t1, kPracticeA);
  t1.exec("UPDATE provider SET experience = experience + 1");
  // The second writer of practice A waits for the first to commit before it gets a number.
  auto later = std::async(std::launch::async, [&] {
    pqxx::work t2(second);
    actFor(t2, kPracticeA);
    t2.exec("SET LOCAL statement_timeout = '20s'");
    t2.exec("UPDATE waitlist SET description = 'second writer'");
    t2.commit();
  });
  CHECK(later.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  t1.commit();
  later.get();

  pqxx::connection reader(cluster().dsn("feed", "anteroom_hub"));
  pqxx::work tx(reader);
  actFor(tx, kPracticeA);
  const auto rows = tx.exec("SELECT entity, seq FROM change_log WHERE entity IN ('provider', 'waitlist') "
                            "AND row_version = 2 ORDER BY seq");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0].as<std::string>() == "provider");
  CHECK(rows[1][0].as<std::string>() == "waitlist");
  CHECK(tx.exec("SELECT max(seq) = count(*) FROM change_log")[0][0].as<bool>());  // no gaps

  // A replayed update that changes nothing adds no change and keeps the version.
  tx.exec("UPDATE waitlist SET description = 'second writer'");
  CHECK(tx.exec("SELECT row_version FROM waitlist")[0][0].as<int>() == 2);
}

TEST_CASE("retention archives and purges rows past their age, per table") {
  seededDatabase("retention");
  pqxx::connection hub(cluster().dsn("retention", "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec("UPDATE waitlist_entry SET deleted = true");
    tx.exec("UPDATE appointment SET status = 'completed'");
    tx.commit();
  }
  pqxx::connection super(cluster().dsn("retention"));
  pqxx::work tx(super);
  // Configurable: shorten the clinical archive rule for this test.
  tx.exec("UPDATE retention_policy SET keep_for = interval '1 day' "
          "WHERE table_name = 'appointment' AND age_column = 'end_time'");
  // As of 2031: the 2030 appointments are past their (shortened) age, the tombstoned entry is
  // past 90 days, the live entry is not yet 7 years old.
  const auto report = tx.exec("SELECT table_name, action, removed, skipped FROM apply_retention('2031-01-01')");
  long long archivedAppointments = 0;
  long long patientsSkipped = 0;
  for (const auto& r : report) {
    if (r[0].as<std::string>() == "appointment" && r[1].as<std::string>() == "archive")
      archivedAppointments += r[2].as<long long>();
    if (r[0].as<std::string>() == "patient") patientsSkipped += r[3].as<long long>();
  }
  CHECK(archivedAppointments == 2);
  CHECK(tx.exec("SELECT count(*) FROM appointment")[0][0].as<int>() == 0);
  CHECK(tx.exec("SELECT count(*) FROM archived_row WHERE table_name = 'appointment'")[0][0].as<int>() == 2);
  CHECK(tx.exec("SELECT count(*) FROM waitlist_entry WHERE deleted")[0][0].as<int>() == 0);
  CHECK(tx.exec("SELECT count(*) FROM waitlist_entry")[0][0].as<int>() == 1);  // B's live entry stays
  // Old changes are gone; what remains are the purges retention itself just announced.
  CHECK(tx.exec("SELECT count(*) FROM change_log WHERE op <> 'purge'")[0][0].as<int>() == 0);
  CHECK(tx.exec("SELECT count(*) FROM change_log WHERE op = 'purge'")[0][0].as<int>() >= 3);
  CHECK(tx.exec("SELECT count(*) FROM patient")[0][0].as<int>() == 2);        // never tombstoned
  CHECK(patientsSkipped == 0);
  CHECK(tx.exec("SELECT count(*) FROM audit_event WHERE operation = 'DELETE' AND table_name = 'appointment'")[0][0]
            .as<int>() == 2);
}

TEST_CASE("a device is found by its certificate fingerprint before the practice is known") {
  seededDatabase("device");
  pqxx::connection super(cluster().dsn("device"));
  {
    pqxx::work tx(super);
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES "
                   "('50000000-0000-4000-8000-000000000001', $1, 'Lobby tablet', $2)",
                   kPracticeA, std::string(64, 'c'));
    tx.commit();
  }
  pqxx::connection hub(cluster().dsn("device", "anteroom_hub"));
  pqxx::work tx(hub);
  CHECK(tx.exec("SELECT count(*) FROM device")[0][0].as<int>() == 0);
  const auto found = tx.exec_params("SELECT practice_id::text, revoked FROM device_for_fingerprint($1)",
                                    std::string(64, 'C'));
  REQUIRE(found.size() == 1);
  CHECK(found[0][0].as<std::string>() == kPracticeA);
  CHECK_FALSE(found[0][1].as<bool>());
  actFor(tx, kPracticeA);
  tx.exec("UPDATE device SET last_seen_at = now() AT TIME ZONE 'UTC'");
  tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result) VALUES "
                 "('50000000-0000-4000-8000-000000000001', gen_random_uuid(), $1, 1, "
                 "'{\"status\":\"applied\",\"row_version\":1}')",
                 kPracticeA);
  tx.commit();
}
