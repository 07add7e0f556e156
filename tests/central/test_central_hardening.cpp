// What an audit of the central schema found (issue 12, migration 0006): reporting reads
// notifications, identifying numbers at any depth, JSON ceilings, the PII message format,
// references inside the practice, and the server settings that keep PHI out of the log.
#include <doctest/doctest.h>

#include "central_settings.hpp"
#include "central_support.hpp"

using namespace anteroom;
using namespace anteroom::testing;
namespace central = anteroom::admin::central;

namespace {

std::string firstValue(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  return tx.exec(sql)[0][0].as<std::string>();
}

}  // namespace

TEST_CASE("reporting reads its practice's notifications (the policy no longer needs staff_user)") {
  const std::string dsn = seededDatabase("h_reporting");
  pqxx::connection reporting(cluster().dsn("h_reporting", "anteroom_reporting"));
  CHECK(countAs(reporting, kPracticeA, "notification") == 1);
  CHECK(countAs(reporting, kPracticeB, "notification") == 1);
  CHECK(countAs(reporting, "", "notification") == 0);
  // Still no way to the PIN hashes.
  CHECK(errorAs(reporting, kPracticeA, "SELECT count(*) FROM staff_user").find("permission denied") !=
        std::string::npos);
  // A notification for a staff user of practice A is A's alone.
  pqxx::connection super(dsn);
  {
    pqxx::work tx(super);
    tx.exec_params("INSERT INTO staff_user (staff_id, practice_id, display_name, role, pin_hash) VALUES "
                   "('60000000-0000-4000-8000-00000000000a', $1, 'Jo T.', 'front_desk', '$argon2id$v=19$x')",
                   kPracticeA);
    tx.exec("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) VALUES "
            "(gen_random_uuid(), '60000000-0000-4000-8000-00000000000a', 'front_desk', 'patient_arrived', '{}', "
            "'pending')");
    tx.commit();
  }
  CHECK(countAs(reporting, kPracticeA, "notification") == 2);
  CHECK(countAs(reporting, kPracticeB, "notification") == 1);
  pqxx::connection hub(cluster().dsn("h_reporting", "anteroom_hub"));
  CHECK(countAs(hub, kPracticeA, "notification") == 2);
}

TEST_CASE("member and group numbers are refused in insurance_info at any depth and in any spelling") {
  seededDatabase("h_insurance");
  pqxx::connection hub(cluster().dsn("h_insurance", "anteroom_hub"));
  const auto update = [&](const std::string& json) {
    return errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
      tx.exec_params("UPDATE patient SET insurance_info = $1::jsonb WHERE patient_id = $2", json, kPatientA);
    });
  };
  for (const std::string json : {R"({"plan":{"member_id":"M123"}})", R"({"Member_ID":"M123"})", R"({"memberId":"M123"})",
        R"({"ids":[{"group_number":"G9"}]})", R"({"payer":"X","cards":[[{"Group-Number":"G9"}]]})",
        R"({"subscriber id":"S1"})", R"({"ＭｅｍｂｅｒＩＤ":"M123"})", R"({"SSN":"000-00-0000"})"}) {
    CAPTURE(json);
    CHECK(update(json).find("patient_insurance_info_no_identifiers") != std::string::npos);
  }
  CHECK(update(R"({"payer":"Invented Mutual","plan":{"name":"Silver","tier":2},"self_pay":false})") == "");
  CHECK(update(R"({"payer":"Invented Mutual","notes":["member since 2020"]})") == "");  // values are not keys
}

TEST_CASE("every JSON column has a ceiling the database enforces") {
  const std::string dsn = seededDatabase("h_json");
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES "
                   "('50000000-0000-4000-8000-000000000001', $1, 'Lobby tablet', $2)",
                   kPracticeA, std::string(64, 'c'));
    tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result) VALUES "
                   "('50000000-0000-4000-8000-000000000001', gen_random_uuid(), $1, 1, '{\"status\":\"applied\",\"row_version\":1}')",
                   kPracticeA);
    tx.exec("INSERT INTO archived_row (table_name, row_id, row_data) VALUES ('appointment', 'x', '{}')");
    tx.commit();
  }
  struct Column {
    const char* table;
    const char* column;
    int ceiling;
    const char* wrap;  // how a string of n bytes becomes a value of the column's shape
  };
  const Column columns[] = {
      {"practice", "address", 2048, "object"},           {"practice", "settings", 65536, "object"},
      {"provider", "specialties", 4096, "array"},        {"provider", "modalities", 4096, "array"},
      {"provider", "availability", 16384, "object"},     {"patient", "insurance_info", 4096, "object"},
      {"waitlist", "criteria", 16384, "object"},         {"notification", "content", 16384, "object"},
      {"idempotency_record", "result", 262144, "object"}, {"archived_row", "row_data", 1048576, "object"},
  };
  for (const auto& col : columns) {
    CAPTURE(col.table);
    CAPTURE(col.column);
    // An idempotency result must also have its shape (0007): a status and a row version.
    const bool result = std::string(col.table) == "idempotency_record";
    const std::string build = std::string(col.wrap) == "array" ? "jsonb_build_array(repeat('a', $1))"
                              : result ? "jsonb_build_object('x', repeat('a', $1), 'status', 'applied', 'row_version', 1)"
                                       : "jsonb_build_object('x', repeat('a', $1))";
    const std::string sql = std::string("UPDATE ") + col.table + " SET " + col.column + " = " + build;
    // {"x": "aaa"} is 9 bytes of framing; ["aaa"] is 4.
    const int framing = std::string(col.wrap) == "array" ? 4 : result ? 48 : 9;
    pqxx::connection c(dsn);
    const auto run = [&](int n) {
      try {
        pqxx::work tx(c);
        tx.exec_params(sql, n);
        tx.commit();
      } catch (const pqxx::sql_error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    CHECK(run(col.ceiling - framing) == "");
    CHECK(run(col.ceiling - framing + 1).find(std::string(col.table) + "_" + col.column + "_size") !=
          std::string::npos);
  }
  // The audit's cases: a 10 MB notification, a million-key object, 10 MB of settings.
  CHECK(errorOf(dsn, "UPDATE notification SET content = jsonb_build_object('x', repeat('a', 10000000))")
            .find("notification_content_size") != std::string::npos);
  CHECK(errorOf(dsn, "UPDATE waitlist SET criteria = (SELECT jsonb_object_agg('k' || g, g) FROM "
                     "generate_series(1, 1000000) g)")
            .find("waitlist_criteria_size") != std::string::npos);
  CHECK(errorOf(dsn, "UPDATE practice SET settings = jsonb_build_object('x', repeat('a', 10000000))")
            .find("practice_settings_size") != std::string::npos);
}

TEST_CASE("PII columns take only pii_encrypt's message format, and the email hash is a real one") {
  seededDatabase("h_pii");
  pqxx::connection hub(cluster().dsn("h_pii", "anteroom_hub"));
  const std::string columns = "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, "
                              "insurance_info, preferences, email_hash) VALUES ";
  // Everything but the column under test is a real ciphertext.
  const auto insertWith = [&](const std::string& column, const std::string& valueSql) {
    std::string values = "(gen_random_uuid(), ";
    for (const char* c : {"first_name", "last_name", "email", "phone", "date_of_birth"}) {
      values += (column == c ? valueSql : std::string("pii_encrypt($1, $2)")) + ", ";
    }
    values += "'{}', " + (column == "preferences" ? valueSql : std::string("pii_encrypt('{}', $2)")) + ", " +
              (column == "email_hash" ? valueSql : std::string("pii_lookup_hash(gen_random_uuid()::text, $2)")) + ")";
    return errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
      tx.exec_params(columns + values, patientValue("Plainview Sentinel padded past forty bytes"), kPiiKey);
    });
  };
  CHECK(insertWith("", "") == "");  // all real: accepted
  for (const char* c : {"first_name", "last_name", "email", "phone", "date_of_birth", "preferences"}) {
    CAPTURE(c);
    CHECK(insertWith(c, "convert_to($1, 'UTF8')").find(std::string("patient_") + c + "_pgp_message") !=
          std::string::npos);
    CHECK(insertWith(c, "decode(repeat('00', 80), 'hex')").find(std::string("patient_") + c + "_pgp_message") !=
          std::string::npos);
  }
  CHECK(insertWith("email_hash", "decode(repeat('00', 32), 'hex')").find("patient_email_hash_not_zero") !=
        std::string::npos);
  CHECK(insertWith("email_hash", "decode(repeat('ab', 31), 'hex')").find("patient_email_hash_length") !=
        std::string::npos);
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("UPDATE patient SET insurance_ids = convert_to($1, 'UTF8') WHERE patient_id = $2",
                         patientValue("{\"member_id\":\"PLAINTEXT-77\",\"group_number\":\"G-0000042\"}"), kPatientA);
        }).find("patient_insurance_ids_pgp_message") != std::string::npos);
}

TEST_CASE("a row references only its own practice's rows, and the error does not tell whether an id exists") {
  const std::string dsn = seededDatabase("h_refs");
  const std::string entryB =
      firstValue(dsn, std::string("SELECT e.entry_id::text FROM waitlist_entry e WHERE e.waitlist_id = '") +
                          kWaitlistB + "'");
  const std::string entryA =
      firstValue(dsn, std::string("SELECT e.entry_id::text FROM waitlist_entry e WHERE e.waitlist_id = '") +
                          kWaitlistA + "'");
  const std::string slotB = "10000000-0000-4000-8000-0000000000b9";
  const std::string slotA = "10000000-0000-4000-8000-0000000000a9";
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status) VALUES "
                   "($1, $2, '2030-06-01 09:00', '2030-06-01 10:00', 'open'), "
                   "($3, $4, '2030-06-01 09:00', '2030-06-01 10:00', 'open')",
                   slotA, kProviderA, slotB, kProviderB);
    tx.commit();
  }
  const std::string nowhere = "7fffffff-0000-4000-8000-000000000000";
  pqxx::connection hub(cluster().dsn("h_refs", "anteroom_hub"));
  const auto asA = [&](const std::string& sql, const std::string& a, const std::string& b) {
    return errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) { tx.exec_params(sql, a, b); });
  };

  const std::string entry = "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, provider_id, "
                            "priority_score, status) VALUES (gen_random_uuid(), '" + std::string(kWaitlistA) +
                            "', $1, $2, 1, 'removed')";
  const std::string theirs = asA(entry, kPatientA, kProviderB);
  CHECK(theirs.find("waitlist_entry_provider_same_practice") != std::string::npos);
  CHECK(asA(entry, kPatientA, nowhere) == theirs);  // the same words whether it exists or not
  CHECK(asA(entry, kPatientA, kProviderA) == "");

  const std::string appointment = "INSERT INTO appointment (appointment_id, provider_id, patient_id, waitlist_entry_id, "
                                  "start_time, end_time, status, type) VALUES (gen_random_uuid(), '" +
                                  std::string(kProviderA) + "', $1, $2, '2030-07-01 09:00', '2030-07-01 09:50', "
                                  "'scheduled', 'in_person')";
  const std::string theirEntry = asA(appointment, kPatientA, entryB);
  CHECK(theirEntry.find("appointment_waitlist_entry_same_practice") != std::string::npos);
  CHECK(asA(appointment, kPatientA, nowhere) == theirEntry);
  CHECK(asA(appointment, kPatientA, entryA) == "");

  const std::string request = "INSERT INTO appointment_request (request_id, patient_id, provider_id, waitlist_entry_id, "
                              "appointment_slot_id, status, requested_time) VALUES (gen_random_uuid(), '" +
                              std::string(kPatientA) + "', '" + kProviderA + "', $1, $2, 'pending', '2030-06-01 08:00')";
  const std::string theirRequestEntry = asA(request, entryB, slotA);
  CHECK(theirRequestEntry.find("appointment_request_waitlist_entry_same_practice") != std::string::npos);
  CHECK(asA(request, nowhere, slotA) == theirRequestEntry);
  const std::string theirSlot = asA(request, entryA, slotB);
  CHECK(theirSlot.find("appointment_request_appointment_slot_same_practice") != std::string::npos);
  CHECK(asA(request, entryA, nowhere) == theirSlot);
  CHECK(asA(request, entryA, slotA) == "");

  // Moving an existing row onto another practice's reference is refused the same way.
  CHECK(asA("UPDATE waitlist_entry SET provider_id = $1 WHERE entry_id = $2", kProviderB, entryA)
            .find("waitlist_entry_provider_same_practice") != std::string::npos);
}

TEST_CASE("the settings that keep PHI out of the log are reported, and a failing statement leaves no trace") {
  const std::string dsn = seededDatabase("h_logs");
  const std::string hubDsn = cluster().dsn("h_logs", "anteroom_hub");
  {
    auto checked = central::checkLogSettings(hubDsn);
    REQUIRE_MESSAGE(checked.has_value(), (checked ? "" : checked.error().message));
    for (const auto& s : *checked) {
      CAPTURE(s.name);
      CAPTURE(s.value);
      CHECK(s.safe);
    }
    CHECK(checked->size() >= 8);
    CHECK(central::requireSafeLogSettings(hubDsn).has_value());
  }
  auto status = runCommand(std::string(ANTEROOM_ADMIN) + " central status --dsn " + shellQuote(dsn));
  INFO(status.output);
  CHECK(status.exitCode == 0);
  CHECK(status.output.find("log settings (PHI stays out of the server log): safe") != std::string::npos);
  CHECK(status.output.find("ok      log_min_messages = log") != std::string::npos);
  CHECK(status.output.find("ok      pgaudit.log_parameter = off") != std::string::npos);

  // The hub may loosen a setting for its own session; nothing it sends reaches the log anyway.
  const std::string sentinel = patientValue("Quorbelline Sentinel-Vale");
  pqxx::connection hub(hubDsn);
  for (const std::string& sql : std::vector<std::string>{"SELECT $1::date", "SELECT $1::uuid",
        "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status, notes) "
        "VALUES (gen_random_uuid(), '" + std::string(kWaitlistA) + "', '" + kPatientA + "', 1, 'bogus', $1)",
        "UPDATE patient SET insurance_info = jsonb_build_object('member_id', $1::text)"}) {
    CAPTURE(sql);
    const std::string error = errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
      tx.exec("SET LOCAL log_parameter_max_length_on_error = -1");
      tx.exec_params(sql, sentinel);
    });
    CHECK_FALSE(error.empty());
  }
  {
    pqxx::connection super(dsn);
    pqxx::nontransaction tx(super);
    tx.exec("SELECT pg_sleep(0.2)");  // the log collector is a file write away
  }
  CHECK(cluster().readLog().find(sentinel) == std::string::npos);
  CHECK(cluster().readLog().find("Quorbelline") == std::string::npos);

  SUBCASE("a role setting that would let values through makes status fail and the hub refuse to start") {
    {
      pqxx::connection super(dsn);
      pqxx::nontransaction tx(super);
      tx.exec("ALTER ROLE anteroom_hub IN DATABASE h_logs SET debug_print_plan = on");
    }
    auto refused = central::requireSafeLogSettings(hubDsn);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == "central.log_settings_unsafe");
    CHECK(refused.error().message.find("debug_print_plan") != std::string::npos);
    auto unsafe = runCommand(std::string(ANTEROOM_ADMIN) + " central status --dsn " + shellQuote(dsn));
    INFO(unsafe.output);
    CHECK(unsafe.exitCode == 1);
    CHECK(unsafe.output.find("UNSAFE  debug_print_plan = on (role anteroom_hub; must be off)") != std::string::npos);
    {
      pqxx::connection super(dsn);
      pqxx::nontransaction tx(super);
      tx.exec("ALTER ROLE anteroom_hub IN DATABASE h_logs RESET debug_print_plan");
    }
    CHECK(central::requireSafeLogSettings(hubDsn).has_value());
  }
}

TEST_CASE("a value sent as an SQL literal does reach the log, so the search after the suite would find it") {
  seededDatabase("h_probe");
  pqxx::connection hub(cluster().dsn("h_probe", "anteroom_hub"));
  // A probe, deliberately not recorded as a patient value: only this test looks for it.
  const std::string probe = "Literalprobe Xq";
  CHECK(errorAs(hub, kPracticeA, "SELECT count(*) FROM provider WHERE first_name = '" + probe + "'") == "");
  {
    pqxx::connection super(cluster().dsn("h_probe"));
    pqxx::nontransaction tx(super);
    tx.exec("SELECT pg_sleep(0.2)");
  }
  CHECK(cluster().readLog().find(probe) != std::string::npos);
  CHECK(patientValuesIn(cluster().readLog()).empty());
}
