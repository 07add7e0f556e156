// Central sync contract (migration 0007), always through the anteroom_hub role with
// app.practice_id set as the hub sets it: device high-water marks and result shapes, id
// aliases, the walk-in review queue, name folding parity with the model, the walk-in match and
// the end of linking by id, 'leave' changes, NOTIFY per practice commit, the tombstone horizon,
// batched retention, UTC sessions and slot confirmation.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <pqxx/notification>
#include <string>
#include <vector>

#include "anteroom/model/validation.hpp"
#include "central_migrations.hpp"
#include "central_support.hpp"

using namespace anteroom;
using namespace anteroom::testing;

namespace {

constexpr const char* kDeviceA = "50000000-0000-4000-8000-00000000000a";
constexpr const char* kDeviceB = "50000000-0000-4000-8000-00000000000b";
constexpr const char* kSyncPatientA = "20000000-0000-4000-8000-0000000000a1";
constexpr const char* kSyncPatientB = "20000000-0000-4000-8000-0000000000b1";
constexpr const char* kLuciaEmail = "lucia.penaruiz@invented.example";

// Two practices with a provider, a waitlist and a device each; A has registered Lucía
// Peña-Ruiz (invented) and B an invented patient of its own.
std::string syncDatabase(const std::string& name) {
  const std::string dsn = freshMigratedDatabase(name);
  seedTwoPractices(dsn);
  {
    pqxx::connection super(dsn);
    pqxx::work tx(super);
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES "
                   "($1, $2, 'Lobby A', $3), ($4, $5, 'Lobby B', $6)",
                   kDeviceA, kPracticeA, std::string(64, 'a'), kDeviceB, kPracticeB, std::string(64, 'b'));
    tx.commit();
  }
  pqxx::connection hub(cluster().dsn(name, "anteroom_hub"));
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, kSyncPatientA, "Lucía", "Peña-Ruiz", kLuciaEmail, "1990-07-14");
    tx.commit();
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    insertPatient(tx, kSyncPatientB, "Bartholomew", "Quade", "bart.quade@invented.example", "1975-01-30");
    tx.commit();
  }
  return dsn;
}

pqxx::connection hubOf(const std::string& database) { return pqxx::connection(cluster().dsn(database, "anteroom_hub")); }

// One value from a query run as the hub for `practice` (none when empty).
std::string valueAs(pqxx::connection& c, const std::string& practice, const std::string& sql) {
  pqxx::work tx(c);
  if (!practice.empty()) actFor(tx, practice);
  const auto field = tx.exec1(sql)[0];
  return field.is_null() ? "NULL" : field.as<std::string>();
}

std::string superValue(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  const auto field = tx.exec1(sql)[0];
  return field.is_null() ? "NULL" : field.as<std::string>();
}

struct Match {
  std::string outcome;
  std::string patientId;  // "NULL" when none
};

Match matchWalkin(pqxx::transaction_base& tx, const std::string& email, const std::string& first,
                  const std::string& last, const std::string& dob) {
  const auto row = tx.exec_params1("SELECT outcome, patient_id::text FROM sync_match_walkin($1, $2, $3, $4, $5, $6)",
                                   email, nameLookupKey(first), nameLookupKey(last), dob, kPiiKey, kHashKey);
  return {row[0].as<std::string>(), row[1].is_null() ? "NULL" : row[1].as<std::string>()};
}

const std::string kEntry =
    "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
    "VALUES (gen_random_uuid(), $1, $2, 1, 'waiting')";
const std::string kAppointment =
    "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type) "
    "VALUES ($1, $2, $3, $4, $5, 'scheduled', 'in_person')";

struct Listener : pqxx::notification_receiver {
  explicit Listener(pqxx::connection_base& c) : pqxx::notification_receiver(c, "anteroom_changes") {}
  void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
  std::vector<std::string> payloads;
};

// Everything the listener's connection has been told, waiting up to a second for the first.
std::vector<std::string> drain(pqxx::connection& c, Listener& listener) {
  listener.payloads.clear();
  while (c.await_notification(1, 0) > 0) {
  }
  return listener.payloads;
}

}  // namespace

TEST_CASE("device high-water mark: the hub raises its own device's, never lowers it, never touches another's") {
  const std::string dsn = syncDatabase("sync_device");
  auto hub = hubOf("sync_device");
  const std::string highWaterA = std::string("SELECT sync_device_high_water('") + kDeviceA + "')";
  CHECK(valueAs(hub, kPracticeA, highWaterA) == "0");
  CHECK(valueAs(hub, kPracticeB, highWaterA) == "NULL");  // not B's device
  CHECK(valueAs(hub, "", highWaterA) == "NULL");          // no practice: nothing

  const std::string raise = "UPDATE device SET last_device_seq = $1, last_seen_at = now() AT TIME ZONE 'UTC' "
                            "WHERE device_id = $2";
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK(tx.exec_params(raise, 41, kDeviceA).affected_rows() == 1);
    CHECK(tx.exec_params(raise, 41, kDeviceA).affected_rows() == 1);  // the same mark again is fine
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeA, highWaterA) == "41");
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) { tx.exec_params(raise, 40, kDeviceA); })
            .find("device_last_device_seq_only_grows") != std::string::npos);
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) { tx.exec_params(raise, -1, kDeviceA); })
            .find("device_last_device_seq") != std::string::npos);
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK(tx.exec_params(raise, 99, kDeviceB).affected_rows() == 0);  // B's device is out of reach
    tx.commit();
  }
  CHECK(superValue(dsn, std::string("SELECT last_device_seq FROM device WHERE device_id = '") + kDeviceB + "'") == "0");
  CHECK(superValue(dsn, std::string("SELECT last_device_seq FROM device WHERE device_id = '") + kDeviceA + "'") == "41");
}

TEST_CASE("idempotency records carry device_seq and a result of a defined shape") {
  syncDatabase("sync_results");
  auto hub = hubOf("sync_results");
  const auto record = [&](const std::string& practice, const std::string& device, const std::string& result) {
    return errorAs(hub, practice, [&](pqxx::transaction_base& tx) {
      tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result) "
                     "VALUES ($1, gen_random_uuid(), $2, 7, $3::jsonb)",
                     device, practice, result);
    });
  };
  for (const char* good :
       {R"({"status":"applied","row_version":3,"row":{}})", R"({"status":"merged","row_version":4})",
        R"({"status":"rejected","code":"status.illegal","message":"This appointment was cancelled."})",
        R"({"status":"remapped","row_version":1,"central_id":"20000000-0000-4000-8000-0000000000a1"})",
        R"({"status":"held","code":"walkin.review","message":"Waiting for the front desk to confirm who this is."})"}) {
    INFO(good);
    CHECK(record(kPracticeA, kDeviceA, good) == "");
  }
  for (const char* bad :
       {R"({})", R"({"status":"done"})", R"({"status":"applied"})", R"({"status":"merged","row_version":"4"})",
        R"({"status":"rejected","code":"status.illegal"})", R"({"status":"held","code":"x","message":"  "})",
        R"({"status":"remapped","row_version":1})", R"({"status":"remapped","row_version":1,"central_id":"42"})",
        R"(["applied"])"}) {
    INFO(bad);
    CHECK(record(kPracticeA, kDeviceA, bad).find("idempotency_record_result") != std::string::npos);
  }
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, result) "
                         "VALUES ($1, gen_random_uuid(), $2, '{\"status\":\"merged\",\"row_version\":1}')",
                         kDeviceA, kPracticeA);
        }).find("device_seq") != std::string::npos);
  // B cannot record results for A's device, not even under A's practice id.
  CHECK(record(kPracticeB, kDeviceA, R"({"status":"merged","row_version":1})").find("foreign key") != std::string::npos);
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result) "
                         "VALUES ($1, gen_random_uuid(), $2, 7, '{\"status\":\"merged\",\"row_version\":1}')",
                         kDeviceA, kPracticeA);
        }).find("row-level security") != std::string::npos);
  CHECK(valueAs(hub, kPracticeA, "SELECT count(*) FROM idempotency_record WHERE device_seq = 7") == "5");
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM idempotency_record") == "0");
}

TEST_CASE("an upgrade to 0007 keeps devices and old idempotency records, with device_seq 0") {
  const std::string dsn = freshEmptyDatabase("sync_upgrade");
  const auto all = admin::central::bundledMigrations();
  std::vector<admin::central::Migration> before;
  for (const auto& m : all)
    if (m.version < 7) before.push_back(m);
  REQUIRE(admin::central::centralMigrate(dsn, before).has_value());
  seedTwoPractices(dsn);
  {
    pqxx::connection super(dsn);
    pqxx::work tx(super);
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1, $2, 'Old', $3)",
                   kDeviceA, kPracticeA, std::string(64, 'd'));
    tx.exec_params("INSERT INTO idempotency_record (device_id, mutation_id, practice_id, result) VALUES "
                   "($1, '60000000-0000-4000-8000-000000000001', $2, '{\"status\":\"applied\"}')",
                   kDeviceA, kPracticeA);
    tx.commit();
  }
  auto upgraded = admin::central::centralMigrate(dsn);
  INFO((upgraded ? std::string() : upgraded.error().message));
  REQUIRE(upgraded.has_value());
  CHECK(std::ranges::find(upgraded->applied, std::string("0007_sync_contract")) != upgraded->applied.end());
  CHECK(superValue(dsn, "SELECT device_seq || ' ' || (result ->> 'status') FROM idempotency_record") == "0 applied");
  CHECK(superValue(dsn, "SELECT last_device_seq FROM device") == "0");
  CHECK(superValue(dsn, "SELECT column_default IS NULL FROM information_schema.columns "
                        "WHERE table_name = 'idempotency_record' AND column_name = 'device_seq'") == "t");
}

TEST_CASE("id aliases: the hub records and reads its own practice's, and only those") {
  syncDatabase("sync_alias");
  auto hub = hubOf("sync_alias");
  const std::string alias = "INSERT INTO id_alias (practice_id, entity, local_id, central_id, device_id) "
                            "VALUES ($1, 'patient', $2, $3, $4)";
  const std::string local = "70000000-0000-4000-8000-000000000001";
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params(alias, kPracticeA, local, kSyncPatientA, kDeviceA);
        }) == "");
  CHECK(valueAs(hub, kPracticeA, "SELECT central_id::text FROM id_alias WHERE entity = 'patient' AND local_id = '" +
                                     local + "'") == kSyncPatientA);
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM id_alias") == "0");
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params(alias, kPracticeA, local, kSyncPatientB, kDeviceA);
        }).find("id_alias_pkey") != std::string::npos);  // one central id per local id
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params(alias, kPracticeA, "70000000-0000-4000-8000-000000000002", kSyncPatientA, kDeviceA);
        }).find("row-level security") != std::string::npos);
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params(alias, kPracticeB, "70000000-0000-4000-8000-000000000003", kSyncPatientB, kDeviceA);
        }).find("id_alias_device_fkey") != std::string::npos);  // A's device is not B's
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO id_alias (practice_id, entity, local_id, central_id, device_id) "
                         "VALUES ($1, 'visit', gen_random_uuid(), gen_random_uuid(), $2)",
                         kPracticeA, kDeviceA);
        }).find("id_alias_entity_valid") != std::string::npos);
  CHECK(errorAs(hub, kPracticeA, "DELETE FROM id_alias").find("permission denied") != std::string::npos);
  CHECK(errorAs(hub, kPracticeA, "UPDATE id_alias SET central_id = gen_random_uuid()").find("permission denied") !=
        std::string::npos);
  // Kept as long as the idempotency records: gone after 90 days.
  const std::string dsn = cluster().dsn("sync_alias");
  REQUIRE(errorOf(dsn, "SELECT * FROM apply_retention((now() AT TIME ZONE 'UTC') + interval '89 days')") == "");
  CHECK(superValue(dsn, "SELECT count(*) FROM id_alias") == "1");
  REQUIRE(errorOf(dsn, "SELECT * FROM apply_retention((now() AT TIME ZONE 'UTC') + interval '91 days')") == "");
  CHECK(superValue(dsn, "SELECT count(*) FROM id_alias") == "0");
}

TEST_CASE("walk-in review queue: encrypted payloads, held mutations, scoped to the practice") {
  const std::string dsn = syncDatabase("sync_review");
  auto hub = hubOf("sync_review");
  const std::string review = "30000000-0000-4000-8000-0000000000e1";
  const std::string sentinel = "Xanthippe Quorbelle";
  const std::string payload = R"({"entity":"patient","changes":{"first_name":")" + sentinel + R"("}})";
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec_params("INSERT INTO walkin_review (review_id, practice_id, device_id, local_patient_id, mutation_id, reason, "
                   "payload) VALUES ($1, $2, $3, gen_random_uuid(), gen_random_uuid(), 'identity_mismatch', "
                   "pii_encrypt($4, $5))",
                   review, kPracticeA, kDeviceA, payload, kPiiKey);
    for (int seq : {12, 11}) {
      tx.exec_params("INSERT INTO walkin_review_held (review_id, device_id, mutation_id, device_seq, payload) "
                     "VALUES ($1, $2, gen_random_uuid(), $3, pii_encrypt($4, $5))",
                     review, kDeviceA, seq, "{\"entity\":\"waitlist_entry\"}", kPiiKey);
    }
    tx.commit();
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    const auto row = tx.exec_params1("SELECT status, pii_decrypt(payload, $1), "
                                     "(SELECT string_agg(device_seq::text, ',' ORDER BY device_seq) FROM walkin_review_held) "
                                     "FROM walkin_review",
                                     kPiiKey);
    CHECK(row[0].as<std::string>() == "open");
    CHECK(row[1].as<std::string>() == payload);
    CHECK(row[2].as<std::string>() == "11,12");
  }
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM walkin_review") == "0");
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM walkin_review_held") == "0");
  CHECK(superValue(dsn, "SELECT count(*) FROM walkin_review WHERE position('Xanthippe'::bytea IN payload) > 0") == "0");

  const auto insertReview = [&](const std::string& practice, const std::string& device, const std::string& status,
                                bool encrypted) {
    return errorAs(hub, practice, [&](pqxx::transaction_base& tx) {
      tx.exec_params(std::string("INSERT INTO walkin_review (review_id, practice_id, device_id, local_patient_id, "
                                 "mutation_id, reason, payload, status) VALUES (gen_random_uuid(), $1, $2, "
                                 "gen_random_uuid(), gen_random_uuid(), 'identity_mismatch', ") +
                         (encrypted ? "pii_encrypt('{}', $4)" : "convert_to($4, 'UTF8')") + ", $3)",
                     practice, device, status, encrypted ? std::string(kPiiKey) : payload);
    });
  };
  // A payload in the clear is refused.
  CHECK(insertReview(kPracticeA, kDeviceA, "open", false).find("walkin_review_payload_ciphertext") != std::string::npos);
  CHECK(errorOf(dsn, "UPDATE walkin_review SET status = 'maybe', resolved_at = now() AT TIME ZONE 'UTC'")
            .find("walkin_review_status_valid") != std::string::npos);
  CHECK(insertReview(kPracticeA, kDeviceA, "created", true).find("walkin_review_resolution") !=
        std::string::npos);  // resolved without a time
  // 0009: a review linked to an existing patient names that patient.
  CHECK(errorOf(dsn, "UPDATE walkin_review SET status = 'linked', resolved_at = now() AT TIME ZONE 'UTC'")
            .find("walkin_review_linked_names_patient") != std::string::npos);
  CHECK(insertReview(kPracticeB, kDeviceA, "open", true).find("walkin_review_device_fkey") != std::string::npos);
  CHECK(insertReview(kPracticeB, kDeviceB, "open", true) == "");
  // B cannot hold mutations under A's review.
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO walkin_review_held (review_id, device_id, mutation_id, device_seq, payload) "
                         "VALUES ($1, $2, gen_random_uuid(), 13, pii_encrypt('{}', $3))",
                         review, kDeviceB, kPiiKey);
        }).find("row-level security") != std::string::npos);
  // Resolution: staff at the server dismiss it (0009: the hub queues reviews but may not resolve them).
  CHECK(errorAs(hub, kPracticeA, "UPDATE walkin_review SET status = 'dismissed', resolved_at = now() AT TIME ZONE 'UTC', "
                                 "resolved_by = 'staff:front-desk-1'")
            .find("permission denied") != std::string::npos);
  CHECK(errorAs(hub, kPracticeA, "UPDATE walkin_review_held SET device_seq = 1").find("permission denied") !=
        std::string::npos);
  {
    pqxx::connection super(dsn);
    pqxx::work tx(super);
    actFor(tx, kPracticeA);
    CHECK(tx.exec_params("UPDATE walkin_review SET status = 'dismissed', resolved_at = now() AT TIME ZONE 'UTC', "
                         "resolved_by = 'staff:front-desk-1' WHERE review_id = $1",
                         review)
              .affected_rows() == 1);
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeA, "SELECT status FROM walkin_review WHERE review_id = '" + review + "'") == "dismissed");
  CHECK(errorAs(hub, kPracticeA, "DELETE FROM walkin_review").find("permission denied") != std::string::npos);
  // 0009: nothing more is held under a resolved review (the hub's batch is retried and applies).
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK_THROWS_AS(tx.exec_params("INSERT INTO walkin_review_held (review_id, device_id, mutation_id, device_seq, payload) "
                                   "VALUES ($1, $2, gen_random_uuid(), 14, pii_encrypt('{}', $3))",
                                   review, kDeviceA, kPiiKey),
                    pqxx::serialization_failure);
  }
  // Audited by ids and column names, never the payload.
  CHECK(superValue(dsn, "SELECT string_agg(operation || ':' || coalesce(array_to_string(changed_columns, ','), ''), ' ' "
                        "ORDER BY event_id) FROM audit_event WHERE table_name = 'walkin_review' AND row_id = '" +
                            review + "'") == "INSERT: UPDATE:resolved_at,resolved_by,status");
  CHECK(errorOf(dsn, "UPDATE walkin_review SET status = 'created', resolved_at = now() AT TIME ZONE 'UTC', "
                    "resolved_by = 'Xanthippe Q' WHERE status = 'open'")
            .find("walkin_review_resolved_by_format") != std::string::npos);  // never a name
  // 0009: resolved once; a second decision (or a rewrite of the first) is refused.
  CHECK(errorOf(dsn, "UPDATE walkin_review SET status = 'created' WHERE review_id = '" + review + "'")
            .find("walkin_review_resolution_final") != std::string::npos);
  CHECK(errorOf(dsn, "UPDATE walkin_review SET resolved_by = 'staff:someone-else' WHERE review_id = '" + review + "'")
            .find("walkin_review_resolution_final") != std::string::npos);
  // Retention: a resolved review goes 90 days after resolution, with its held mutations; an open one stays.
  REQUIRE(errorOf(dsn, "SELECT * FROM apply_retention((now() AT TIME ZONE 'UTC') + interval '91 days')") == "");
  CHECK(superValue(dsn, "SELECT string_agg(status, ',') FROM walkin_review") == "open");
  CHECK(superValue(dsn, "SELECT count(*) FROM walkin_review_held") == "0");
}

TEST_CASE("anteroom_fold_name folds exactly as the model's nameLookupKey") {
  freshMigratedDatabase("sync_fold");
  pqxx::connection super(cluster().dsn("sync_fold"));
  pqxx::work tx(super);
  // Every code point up to U+2FFF on its own, so each table entry and each range edge is compared.
  const auto rows = tx.exec("SELECT i, chr(i), anteroom_fold_name(chr(i)) FROM generate_series(1, 12287) i ORDER BY i");
  REQUIRE(rows.size() == 12287);
  int differing = 0;
  for (const auto& row : rows) {
    const auto cp = row[0].as<long>();
    if (row[2].as<std::string>() != nameLookupKey(row[1].as<std::string>())) {
      ++differing;
      if (differing <= 5) CHECK_MESSAGE(false, "code point " << cp << ": SQL differs from nameLookupKey");
    }
  }
  CHECK(differing == 0);
  // Whole names, as typed and after the kiosk's normalisation.
  const std::vector<std::string> names = {
      "Peña-Ruiz", "O’Brien", "O'Brien", "  josé   MARÍA  ", "Zoë Saldaña", "Ægir Østergård", "Łukasz Żółć",
      "Nguyễn Thị Minh Khai", "Şerban Ţuţea", "Straße", "ẞIGRID", "Jean-Luc d'Ártagnan", "Mary Ann", "MaryAnn",
      "Ðorđe Þórunn", "Jose\xcc\x81 Mari\xcc\x81""a", "Ĳsbrand Œdipe", "Ɓello Ǆemal", "St. John-Smythe", "ÀÉÎÕÜ àéîõü",
      "ǍǏǑǓ ǎǐǒǔ", "Ơn Ưng", "", "   ", "A"};
  for (const auto& name : names) {
    INFO(name);
    CHECK(tx.exec_params1("SELECT anteroom_fold_name($1)", name)[0].as<std::string>() == nameLookupKey(name));
    if (auto normalized = normalizeName(name)) {
      CHECK(tx.exec_params1("SELECT anteroom_fold_name($1)", *normalized)[0].as<std::string>() ==
            nameLookupKey(*normalized));
    }
  }
  CHECK(tx.exec_params1("SELECT anteroom_fold_name($1)", std::string("Peña-Ruiz"))[0].as<std::string>() == "penaruiz");
  CHECK(tx.exec("SELECT anteroom_fold_name(NULL) IS NULL")[0][0].as<bool>());
}

TEST_CASE("walk-in match: absent, linked on same names and date of birth, mismatch otherwise; nothing else leaks") {
  const std::string dsn = syncDatabase("sync_walkin");
  auto hub = hubOf("sync_walkin");
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    const Match absent = matchWalkin(tx, "nobody.here@invented.example", "Nadia", "Nobody", "1990-07-14");
    CHECK(absent.outcome == "absent");
    CHECK(absent.patientId == "NULL");
    const Match otherBirthday = matchWalkin(tx, kLuciaEmail, "Lucía", "Peña-Ruiz", "1990-07-15");
    CHECK(otherBirthday.outcome == "mismatch");
    CHECK(otherBirthday.patientId == "NULL");
    const Match otherName = matchWalkin(tx, kLuciaEmail, "Lucía", "Peña", "1990-07-14");
    CHECK(otherName.outcome == "mismatch");
    CHECK(otherName.patientId == "NULL");
    const Match otherFirst = matchWalkin(tx, kLuciaEmail, "Lucinda", "Peña-Ruiz", "1990-07-14");
    CHECK(otherFirst.outcome == "mismatch");
    tx.commit();
  }
  // A mismatch linked nothing.
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "1");
  CHECK(superValue(dsn, std::string("SELECT count(*) FROM practice_patient WHERE patient_id = '") + kSyncPatientA + "'") ==
        "1");
  {
    // Typed differently on the kiosk (case, spaces, no accents, no hyphen): still the same person.
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    const Match linked = matchWalkin(tx, "  Lucia.PenaRuiz@Invented.Example ", "LUCIA", "pena ruiz", "1990-07-14");
    CHECK(linked.outcome == "linked");
    CHECK(linked.patientId == kSyncPatientA);
    tx.exec_params(kEntry, kWaitlistB, kSyncPatientA);
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "2");
  CHECK(valueAs(hub, kPracticeB, std::string("SELECT count(*) FROM change_log WHERE entity = 'patient' AND "
                                             "entity_id = '") + kSyncPatientA + "'") == "1");
  {
    // A repeat links nothing new and sends the row once.
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    CHECK(matchWalkin(tx, kLuciaEmail, "Lucía", "Peña-Ruiz", "1990-07-14").outcome == "linked");
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeB, std::string("SELECT count(*) FROM change_log WHERE entity = 'patient' AND "
                                             "entity_id = '") + kSyncPatientA + "'") == "1");

  SUBCASE("a deleted patient is never linked again") {
    {
      pqxx::work tx(hub);
      actFor(tx, kPracticeB);
      tx.exec_params("UPDATE patient SET deleted = true WHERE patient_id = $1", kSyncPatientB);
      tx.commit();
    }
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    CHECK(matchWalkin(tx, "bart.quade@invented.example", "Bartholomew", "Quade", "1975-01-30").outcome == "mismatch");
  }
  SUBCASE("bad calls are clear errors and link nothing") {
    CHECK(errorAs(hub, "", [&](pqxx::transaction_base& tx) {
            matchWalkin(tx, kLuciaEmail, "Lucía", "Peña-Ruiz", "1990-07-14");
          }).find("set app.practice_id") != std::string::npos);
    // Every value a bind parameter, as the hub sends them.
    const auto call = [&](const std::string& practice, const std::string& first, const std::string& piiKey,
                          const std::string& hashKey, const std::string& email = kLuciaEmail) {
      return errorAs(hub, practice, [&](pqxx::transaction_base& tx) {
        tx.exec_params("SELECT * FROM sync_match_walkin($1, $2, $3, $4, $5, $6)", email, first, "penaruiz",
                       "1990-07-14", piiKey, hashKey);
      });
    };
    CHECK(call(kPracticeA, "-", kPiiKey, kHashKey).find("no letters") != std::string::npos);
    CHECK(call(kPracticeA, "lucia", "short", kHashKey).find("too short") != std::string::npos);
    CHECK(call(kPracticeA, "lucia", kPiiKey, "short").find("too short") != std::string::npos);
    CHECK(call(kPracticeB, "lucia", std::string(64, '7'), kHashKey).find("Wrong key") != std::string::npos);
    CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
            tx.exec_params("SELECT * FROM sync_match_walkin($1, NULL, $2, $3, $4, $5)", kLuciaEmail, "penaruiz",
                           "1990-07-14", kPiiKey, kHashKey);
          }).find("needs an email, both folded names") != std::string::npos);
    CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "2");  // linked above, nothing more
  }
}

TEST_CASE("a practice cannot reach another's patient by id; refusals do not tell whether the patient exists") {
  const std::string dsn = syncDatabase("sync_links");
  auto hub = hubOf("sync_links");
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("INSERT INTO practice_patient (practice_id, patient_id) VALUES ($1, $2)", kPracticeB, kSyncPatientA);
        }).find("permission denied") != std::string::npos);
  // Nor through the functions behind the triggers, nor by writing the change log itself.
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("SELECT link_patient_to_practice($1, $2)", kPracticeB, kSyncPatientA);
        }).find("permission denied") != std::string::npos);
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("SELECT sync_append_change($1, 'patient', $2, 'upsert', 1)", kPracticeB, kSyncPatientA);
        }).find("permission denied") != std::string::npos);
  {
    // Reporting reads; it never matches or links.
    pqxx::connection reporting(cluster().dsn("sync_links", "anteroom_reporting"));
    CHECK(errorAs(reporting, kPracticeB, [&](pqxx::transaction_base& tx) {
            matchWalkin(tx, kLuciaEmail, "Lucía", "Peña-Ruiz", "1990-07-14");
          }).find("permission denied") != std::string::npos);
  }
  const std::string nobody = "20000000-0000-4000-8000-00000000dead";
  std::vector<std::string> refusals;
  for (const std::string& patient : {std::string(kSyncPatientA), nobody}) {
    const std::vector<std::function<void(pqxx::transaction_base&)>> statements = {
             [&](pqxx::transaction_base& tx) { tx.exec_params(kEntry, kWaitlistB, patient); },
             [&](pqxx::transaction_base& tx) {
               tx.exec_params(kAppointment, "30000000-0000-4000-8000-000000000099", kProviderB, patient,
                              "2030-05-02 09:00", "2030-05-02 09:50");
             },
             [&](pqxx::transaction_base& tx) {
               tx.exec_params("INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status) "
                              "VALUES ('31000000-0000-4000-8000-000000000001', $1, '2030-05-03 09:00', "
                              "'2030-05-03 09:50', 'open')",
                              kProviderB);
               tx.exec_params("INSERT INTO appointment_request (request_id, patient_id, provider_id, "
                              "appointment_slot_id, status, requested_time) VALUES (gen_random_uuid(), $1, $2, "
                              "'31000000-0000-4000-8000-000000000001', 'pending', '2030-05-03 09:00')",
                              patient, kProviderB);
             }};
    for (const auto& statement : statements) refusals.push_back(errorAs(hub, kPracticeB, statement));
  }
  REQUIRE(refusals.size() == 6);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(refusals[i]);
    CHECK(refusals[i].find("patient is not known to this practice") != std::string::npos);
    CHECK(refusals[i] == refusals[i + 3]);  // A's patient or no patient at all: the same words
  }
  CHECK(refusals[0].find("waitlist_entry_patient_known") != std::string::npos);
  CHECK(refusals[1].find("appointment_patient_known") != std::string::npos);
  CHECK(refusals[2].find("appointment_request_patient_known") != std::string::npos);
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "1");

  // B's own entry cannot be re-pointed at A's patient either.
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    tx.exec_params(kEntry, kWaitlistB, kSyncPatientB);
    tx.commit();
  }
  CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) {
          tx.exec_params("UPDATE waitlist_entry SET patient_id = $1", kSyncPatientA);
        }).find("patient is not known to this practice") != std::string::npos);
  // Editing the entry otherwise is untouched by the rule.
  CHECK(errorAs(hub, kPracticeB, "UPDATE waitlist_entry SET notes = 'prefers mornings'") == "");
  // A row aimed at another practice's waitlist is refused by row-level security whatever the
  // patient, so it cannot be used to ask whether A knows a patient.
  for (const std::string& patient : {std::string(kSyncPatientB), std::string(kSyncPatientA), nobody}) {
    CHECK(errorAs(hub, kPracticeB, [&](pqxx::transaction_base& tx) { tx.exec_params(kEntry, kWaitlistA, patient); })
              .find("row-level security") != std::string::npos);
  }
  // Another system writing straight into PostgreSQL obeys the same rule, and may link explicitly.
  CHECK(errorOf(dsn, std::string("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, "
                                 "status) VALUES (gen_random_uuid(), '") +
                         kWaitlistB + "', '" + kSyncPatientA + "', 1, 'waiting')")
            .find("patient is not known to this practice") != std::string::npos);
  CHECK(errorOf(dsn, std::string("INSERT INTO practice_patient (practice_id, patient_id) VALUES ('") + kPracticeB +
                         "', '" + kSyncPatientA + "')") == "");
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "2");
  // Registering a new patient still links it to the practice that registers it.
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    insertPatient(tx, "20000000-0000-4000-8000-0000000000b2", "Cordelia", "Newcomb", "cordelia.n@invented.example",
                  "2001-11-05");
    tx.exec_params(kEntry, kWaitlistB, "20000000-0000-4000-8000-0000000000b2");
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM patient") == "3");
}

TEST_CASE("a row that moves out of a practice's sight gives that practice a 'leave' change") {
  const std::string dsn = syncDatabase("sync_leave");
  auto hub = hubOf("sync_leave");
  const std::string appointment = "30000000-0000-4000-8000-0000000000c1";
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    CHECK(matchWalkin(tx, kLuciaEmail, "Lucía", "Peña-Ruiz", "1990-07-14").outcome == "linked");
    tx.commit();
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec_params(kAppointment, appointment, kProviderA, kSyncPatientA, "2030-05-04 09:00", "2030-05-04 09:50");
    tx.commit();
  }
  // The hub of A cannot give its appointment away: A could no longer see it.
  CHECK(errorAs(hub, kPracticeA, [&](pqxx::transaction_base& tx) {
          tx.exec_params("UPDATE appointment SET provider_id = $1", kProviderB);
        }).find("row-level security") != std::string::npos);
  // Another system moves it to B's provider.
  REQUIRE(errorOf(dsn, std::string("UPDATE appointment SET provider_id = '") + kProviderB + "' WHERE appointment_id = '" +
                           appointment + "'") == "");
  const std::string changes = "SELECT string_agg(op || ':' || row_version, ',' ORDER BY seq) FROM change_log "
                              "WHERE entity = 'appointment' AND entity_id = '" + appointment + "'";
  CHECK(valueAs(hub, kPracticeA, changes) == "upsert:1,leave:2");
  CHECK(valueAs(hub, kPracticeB, changes) == "upsert:2");
  CHECK(valueAs(hub, kPracticeA, "SELECT count(*) FROM appointment") == "0");
  CHECK(valueAs(hub, kPracticeB, "SELECT count(*) FROM appointment") == "1");
  // An edit that stays in B is an upsert for B alone; moving it back is a leave for B.
  REQUIRE(errorOf(dsn, "UPDATE appointment SET notes = 'room 2' WHERE appointment_id = '" + appointment + "'") == "");
  REQUIRE(errorOf(dsn, std::string("UPDATE appointment SET provider_id = '") + kProviderA + "' WHERE appointment_id = '" +
                           appointment + "'") == "");
  CHECK(valueAs(hub, kPracticeA, changes) == "upsert:1,leave:2,upsert:4");
  CHECK(valueAs(hub, kPracticeB, changes) == "upsert:2,upsert:3,leave:4");
  // A front-desk notification readdressed from A to B is a leave for A too.
  const std::string notification = "33000000-0000-4000-8000-000000000001";
  REQUIRE(errorOf(dsn, "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) "
                       "VALUES ('" + notification + "', '" + kPracticeA + "', 'front_desk', 'patient_arrived', '{}', "
                       "'pending')") == "");
  REQUIRE(errorOf(dsn, std::string("UPDATE notification SET recipient_id = '") + kPracticeB + "'") == "");
  const std::string notices = "SELECT string_agg(op, ',' ORDER BY seq) FROM change_log WHERE entity = 'notification'";
  CHECK(valueAs(hub, kPracticeA, notices) == "upsert,leave");
  CHECK(valueAs(hub, kPracticeB, notices) == "upsert");
  // Nor can it be given a patient its practice does not know.
  REQUIRE(errorOf(dsn, "UPDATE appointment SET patient_id = '" + std::string(kSyncPatientB) + "' WHERE appointment_id = '" +
                           appointment + "'")
              .find("patient is not known to this practice") != std::string::npos);
}

TEST_CASE("one NOTIFY per practice per commit, on the anteroom_changes channel") {
  const std::string dsn = syncDatabase("sync_notify");
  pqxx::connection listening(cluster().dsn("sync_notify", "anteroom_hub"));
  Listener listener(listening);
  drain(listening, listener);
  auto hub = hubOf("sync_notify");
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec("UPDATE provider SET experience = experience + 1");
    tx.exec("UPDATE waitlist SET description = 'mornings'");
    tx.exec_params(kEntry, kWaitlistA, kSyncPatientA);
    tx.commit();
  }
  CHECK(drain(listening, listener) == std::vector<std::string>{kPracticeA});
  {
    // Rolled back: nothing to pull, no poke.
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    tx.exec("UPDATE provider SET experience = experience + 1");
    tx.abort();
  }
  // A replayed update that changes nothing logs nothing and pokes nobody.
  CHECK(errorAs(hub, kPracticeA, "UPDATE waitlist SET description = 'mornings'") == "");
  CHECK(drain(listening, listener).empty());
  // One commit touching both practices pokes each once.
  REQUIRE(errorOf(dsn, "UPDATE provider SET experience = experience + 1") == "");
  auto both = drain(listening, listener);
  std::ranges::sort(both);
  CHECK(both == std::vector<std::string>{kPracticeA, kPracticeB});
}

TEST_CASE("retention moves the tombstone horizon, which the hub reads for its practice") {
  const std::string dsn = syncDatabase("sync_horizon");
  auto hub = hubOf("sync_horizon");
  CHECK(valueAs(hub, kPracticeA, "SELECT sync_pull_horizon()") == "0");
  CHECK(valueAs(hub, "", "SELECT sync_pull_horizon()") == "NULL");
  CHECK(errorAs(hub, kPracticeA, "SELECT * FROM practice_change_counter").find("permission denied") !=
        std::string::npos);
  const std::string topA = valueAs(hub, kPracticeA, "SELECT max(seq) FROM change_log");
  const std::string topB = valueAs(hub, kPracticeB, "SELECT max(seq) FROM change_log");
  REQUIRE(topA != "NULL");
  {
    pqxx::connection super(dsn);
    pqxx::work tx(super);
    tx.exec("SELECT * FROM apply_retention((now() AT TIME ZONE 'UTC') + interval '1 year')");
    tx.commit();
  }
  CHECK(valueAs(hub, kPracticeA, "SELECT sync_pull_horizon()") == topA);
  CHECK(valueAs(hub, kPracticeB, "SELECT sync_pull_horizon()") == topB);
  CHECK(valueAs(hub, kPracticeA, "SELECT count(*) FROM change_log WHERE seq <= " + topA) == "0");
}

TEST_CASE("batched retention purges and archives the same rows as apply_retention, committing each batch") {
  // Two databases seeded identically (fixed ids, same order), purged the two ways.
  const auto seed = [](const std::string& name) {
    const std::string dsn = syncDatabase(name);
    auto hub = hubOf(name);
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    for (int i = 0; i < 7; ++i) {
      const std::string n = std::to_string(10 + i);
      tx.exec_params("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status, deleted) "
                     "VALUES ($1, $2, $3, 1, 'removed', false)",
                     "40000000-0000-4000-8000-0000000000" + n, kWaitlistA, kSyncPatientA);
      tx.exec_params(kAppointment, "30000000-0000-4000-8000-0000000000" + n, kProviderA, kSyncPatientA,
                     "2030-05-" + n + " 09:00", "2030-05-" + n + " 09:50");
    }
    tx.exec("UPDATE waitlist_entry SET deleted = true");
    tx.commit();
    pqxx::connection super(dsn);
    pqxx::work s(super);
    s.exec("UPDATE retention_policy SET keep_for = interval '1 day' "
           "WHERE table_name = 'appointment' AND age_column = 'end_time'");
    s.commit();
    return dsn;
  };
  const std::string byFunction = seed("sync_ret_fn");
  const std::string byBatches = seed("sync_ret_batched");
  {
    pqxx::connection super(byFunction);
    pqxx::work tx(super);
    tx.exec("SELECT * FROM apply_retention('2031-01-01')");
    tx.commit();
  }
  {
    pqxx::connection super(byBatches);
    pqxx::nontransaction tx(super);
    tx.exec("CALL apply_retention_batched(2, '2031-01-01')");
  }
  const std::string state =
      "SELECT concat_ws(' | ', "
      "(SELECT string_agg(entry_id::text, ',' ORDER BY entry_id) FROM waitlist_entry), "
      "(SELECT string_agg(appointment_id::text, ',' ORDER BY appointment_id) FROM appointment), "
      "(SELECT string_agg(table_name || ':' || row_id, ',' ORDER BY table_name, row_id) FROM archived_row), "
      "(SELECT string_agg(practice_id || ':' || seq || ':' || entity || ':' || entity_id || ':' || op, ',' "
      "        ORDER BY practice_id, seq) FROM change_log), "
      "(SELECT string_agg(practice_id || ':' || last_seq || ':' || trimmed_through, ',' ORDER BY practice_id) "
      "   FROM practice_change_counter), "
      "(SELECT count(*) FROM idempotency_record))";
  CHECK(superValue(byBatches, state) == superValue(byFunction, state));
  CHECK(superValue(byBatches, "SELECT count(*) FROM appointment") == "0");
  CHECK(superValue(byBatches, "SELECT count(*) FROM waitlist_entry") == "0");
  CHECK(superValue(byBatches, "SELECT count(*) FROM archived_row WHERE table_name = 'appointment'") == "7");
  CHECK(superValue(byBatches, "SELECT count(*) FROM archived_row WHERE table_name = 'waitlist_entry'") == "7");
  // The audit trail shows the transactions: seven appointments in batches of two took four
  // commits; the function took one.
  const std::string commits = "SELECT count(DISTINCT transaction_id) FROM audit_event "
                              "WHERE table_name = 'appointment' AND operation = 'DELETE'";
  CHECK(superValue(byBatches, commits) == "4");
  CHECK(superValue(byFunction, commits) == "1");

  pqxx::connection super(byBatches);
  CHECK(errorAs(super, "", "CALL apply_retention_batched(10)").find("invalid transaction termination") !=
        std::string::npos);
  {
    pqxx::nontransaction tx(super);
    CHECK_THROWS_WITH_AS(tx.exec("CALL apply_retention_batched(0)"), doctest::Contains("batch_size must be at least 1"),
                         pqxx::sql_error);
  }
  auto hub = hubOf("sync_ret_batched");
  CHECK(errorAs(hub, kPracticeA, "CALL apply_retention_batched(10)").find("permission denied") != std::string::npos);
}

TEST_CASE("hub and reporting sessions run in UTC whatever the database default says") {
  const std::string dsn = freshMigratedDatabase("sync_tz");
  REQUIRE(errorOf(cluster().dsn(), "ALTER DATABASE sync_tz SET timezone = 'America/Chicago'") == "");
  const auto zoneOf = [](const std::string& role) {
    pqxx::connection c(cluster().dsn("sync_tz", role));
    pqxx::work tx(c);
    return tx.exec1("SHOW timezone")[0].as<std::string>();
  };
  CHECK(zoneOf("postgres") == "America/Chicago");  // the database default applies to others
  CHECK(zoneOf("anteroom_hub") == "UTC");
  CHECK(zoneOf("anteroom_reporting") == "UTC");
}

namespace {

constexpr const char* kSlot = "31000000-0000-4000-8000-0000000000f1";
constexpr const char* kFirstRequest = "32000000-0000-4000-8000-000000000001";
constexpr const char* kSecondRequest = "32000000-0000-4000-8000-000000000002";

// One open slot of A's provider and two accepted requests for it (two devices offered it to two
// patients while offline), each with its offered waitlist entry.
void seedSlotRequests(const std::string& database) {
  syncDatabase(database);
  auto hub = hubOf(database);
  pqxx::work tx(hub);
  actFor(tx, kPracticeA);
  insertPatient(tx, "20000000-0000-4000-8000-0000000000a2", "Desmond", "Larkspur", "desmond.l@invented.example",
                "1982-02-02");
  tx.exec_params("INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status) "
                 "VALUES ($1, $2, '2030-06-01 10:00', '2030-06-01 10:50', 'open')",
                 kSlot, kProviderA);
  for (const auto& [request, patient, entry] :
       {std::tuple{kFirstRequest, kSyncPatientA, "41000000-0000-4000-8000-000000000001"},
        std::tuple{kSecondRequest, "20000000-0000-4000-8000-0000000000a2", "41000000-0000-4000-8000-000000000002"}}) {
    tx.exec_params("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
                   "VALUES ($1, $2, $3, 1, 'offered')",
                   entry, kWaitlistA, patient);
    tx.exec_params("INSERT INTO appointment_request (request_id, patient_id, provider_id, waitlist_entry_id, "
                   "appointment_slot_id, status, requested_time) VALUES ($1, $2, $3, $4, $5, 'accepted', "
                   "'2030-06-01 10:00')",
                   request, patient, kProviderA, entry, kSlot);
  }
  tx.commit();
}

// The hub's confirmation of a request, all in the caller's transaction: the appointment at the
// slot's times, the slot booked, the request confirmed, the entry scheduled.
void confirmRequest(pqxx::transaction_base& tx, const std::string& request, bool appointmentFirst) {
  const auto r = tx.exec_params1("SELECT patient_id::text, waitlist_entry_id::text FROM appointment_request "
                                 "WHERE request_id = $1",
                                 request);
  const auto book = [&] {
    tx.exec_params("UPDATE appointment_slot SET status = 'booked' WHERE slot_id = $1", kSlot);
    tx.exec_params("UPDATE appointment_request SET status = 'confirmed' WHERE request_id = $1", request);
  };
  if (!appointmentFirst) book();
  tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, waitlist_entry_id, start_time, "
                 "end_time, status, type) SELECT gen_random_uuid(), s.provider_id, $2, $3, s.start_time, "
                 "s.end_time, 'scheduled', 'in_person' FROM appointment_slot s WHERE s.slot_id = $1",
                 kSlot, r[0].as<std::string>(), r[1].as<std::string>());
  if (appointmentFirst) book();
  tx.exec_params("UPDATE waitlist_entry SET status = 'scheduled' WHERE entry_id = $1", r[1].as<std::string>());
}

// What a person at the front desk would see: appointments, requests, entries and the slot.
void checkOneBooking(pqxx::connection& hub) {
  CHECK(valueAs(hub, kPracticeA, "SELECT count(*) FROM appointment") == "1");
  CHECK(valueAs(hub, kPracticeA, "SELECT string_agg(status, ',' ORDER BY request_id) FROM appointment_request") ==
        "confirmed,accepted");
  CHECK(valueAs(hub, kPracticeA, "SELECT string_agg(status, ',' ORDER BY entry_id) FROM waitlist_entry "
                                 "WHERE entry_id::text LIKE '41%'") == "scheduled,offered");
  CHECK(valueAs(hub, kPracticeA, std::string("SELECT status FROM appointment_slot WHERE slot_id = '") + kSlot + "'") ==
        "booked");
}

}  // namespace

TEST_CASE("confirming a request books its slot once: a second confirmation fails on a named constraint") {
  seedSlotRequests("sync_slots");
  auto hub = hubOf("sync_slots");
  const auto confirm = [&](const std::string& request, bool appointmentFirst) {
    return errorAs(hub, kPracticeA,
                   [&](pqxx::transaction_base& tx) { confirmRequest(tx, request, appointmentFirst); });
  };
  CHECK(confirm(kFirstRequest, true) == "");
  CHECK(confirm(kSecondRequest, true).find("appointment_no_overlap") != std::string::npos);
  CHECK(confirm(kSecondRequest, false).find("appointment_request_slot_confirmed_once") != std::string::npos);
  // Nothing of the refused confirmations remains.
  checkOneBooking(hub);
}

TEST_CASE("two hubs confirming the same slot at once: the second waits for the first, then fails") {
  for (const bool appointmentFirst : {true, false}) {
    INFO("the second writes its appointment first: " << appointmentFirst);
    const std::string database = appointmentFirst ? "sync_race_appointment" : "sync_race_request";
    seedSlotRequests(database);
    auto hub = hubOf(database);
    pqxx::work first(hub);
    actFor(first, kPracticeA);
    confirmRequest(first, kFirstRequest, true);
    auto racing = std::async(std::launch::async, [&] {
      auto other = hubOf(database);
      return errorAs(other, kPracticeA, [&](pqxx::transaction_base& tx) {
        tx.exec("SET LOCAL statement_timeout = '20s'");
        confirmRequest(tx, kSecondRequest, appointmentFirst);
      });
    });
    CHECK(racing.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
    first.commit();
    const std::string refused = racing.get();
    CHECK(refused.find(appointmentFirst ? "appointment_no_overlap" : "appointment_request_slot_confirmed_once") !=
          std::string::npos);
    checkOneBooking(hub);
  }
}

TEST_CASE("the walk-in match leaves no key, email, name or date of birth in the PostgreSQL log") {
  syncDatabase("sync_log");
  auto hub = hubOf("sync_log");
  const std::string email = "quintessa.vorhees@sentinel.example";
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeA);
    insertPatient(tx, "20000000-0000-4000-8000-0000000000a9", "Quintessa", "Vorhees-Ålund", email, "1966-09-21");
    tx.commit();
  }
  {
    pqxx::work tx(hub);
    actFor(tx, kPracticeB);
    CHECK(matchWalkin(tx, email, "Quintessa", "Vorhees Alund", "1966-09-21").outcome == "linked");
    CHECK(matchWalkin(tx, email, "Quintessa", "Vorhees", "1966-09-21").outcome == "mismatch");
    tx.exec_params("INSERT INTO walkin_review (review_id, practice_id, device_id, local_patient_id, mutation_id, reason, "
                   "payload) VALUES (gen_random_uuid(), $1, $2, gen_random_uuid(), gen_random_uuid(), "
                   "'identity_mismatch', pii_encrypt($3, $4))",
                   kPracticeB, kDeviceB, "{\"first_name\":\"Quintessa\"}", kPiiKey);
    tx.commit();
  }
  const std::string log = cluster().readLog();
  CHECK(log.find("sync_match_walkin") != std::string::npos);  // pgaudit logged the call itself
  for (const std::string& secret : {std::string(kPiiKey), std::string(kHashKey), email, std::string("Quintessa"),
                                    std::string("quintessa"), std::string("vorhees"), std::string("Vorhees"),
                                    std::string("1966-09-21")}) {
    INFO(secret.substr(0, 4));
    CHECK(log.find(secret) == std::string::npos);
  }
}
