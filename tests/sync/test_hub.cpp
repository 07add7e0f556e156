// The hub core on a real PostgreSQL, without a device store: pushes as a device would send
// them, the rows they leave centrally, repeats, refusals, and pull pages.
#include <doctest/doctest.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <set>

#include "anteroom/model/row_json.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central.hpp"
#include "entity_sql.hpp"

using namespace anteroom;
using namespace anteroom::sync;
using namespace std::chrono;

namespace {

sim::Central& central() {
  static std::unique_ptr<sim::Central> c = [] {
    auto started = sim::Central::start();
    if (!started) FAIL("PostgreSQL for the hub tests: " << started.error().message);
    return std::move(*started);
  }();
  return *c;
}

UuidGenerator& ids() {
  static UuidGenerator g(4242);
  return g;
}
Uuid newId() { return ids().v7(system_clock::now()); }

const Instant kNow = Instant{sys_days{2026y / March / 2}} + hours{15};

// One practice with a provider, a waitlist, an enrolled device and one appointment today.
struct HubPractice {
  Uuid practice = newId(), provider = newId(), waitlist = newId(), device = newId(), patient = newId(), appointment = newId();
  std::unique_ptr<HubCore> hub;
  DeviceContext ctx;
  std::int64_t seq = 0;

  HubPractice() {
    const std::string tag = practice.toString().substr(24);
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", practice.toString());
    tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, 'Invented',"
                   " '{}', '+15415550100', $2, '{}')",
                   practice.toString(), "desk." + tag + "@practice.example");
    tx.exec_params("INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
                   " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', 'Testcase', $3, '[]', '[]',"
                   " '{}', 3, false)",
                   provider.toString(), practice.toString(), "robin." + tag + "@practice.example");
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'General', '{}')",
                   waitlist.toString(), practice.toString());
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'kiosk',"
                   " md5($1::text) || md5($2::text))",
                   device.toString(), practice.toString());
    tx.exec_params(
        "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, preferences,"
        " email_hash) VALUES ($1::uuid, pii_encrypt('Avery', $3), pii_encrypt('Testwell', $3), pii_encrypt($2, $3),"
        " pii_encrypt('+15415550199', $3), pii_encrypt('1970-01-10', $3), '{\"payer\":\"Invented Mutual\"}',"
        " pii_encrypt('{\"mode\":\"either\"}', $3), pii_lookup_hash($2, $4))",
        patient.toString(), "avery." + tag + "@mail.example", std::string(sim::kPiiKey), std::string(sim::kHashKey));
    tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
                   " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamp, $5::timestamp, 'scheduled', 'in_person')",
                   appointment.toString(), provider.toString(), patient.toString(), formatInstant(kNow + hours{1}),
                   formatInstant(kNow + hours{2}));
    tx.commit();
    auto h = HubCore::connect({central().hubDsn(), sim::kPiiKey, sim::kHashKey, {}, [] { return kNow; }, 100});
    if (!h) FAIL(h.error().message);
    hub = std::move(*h);
    ctx = {device, practice};
  }

  Mutation mutation(std::string entity, Uuid id, MutationKind kind, Json::Object changes, Json::Object prior = {}) {
    Mutation m;
    m.mutationId = newId();
    m.deviceSeq = ++seq;
    m.entity = std::move(entity);
    m.id = id;
    m.kind = kind;
    m.changes = std::move(changes);
    m.prior = std::move(prior);
    m.hlc = "0001772463600000-0000000000-kiosk";
    return m;
  }

  std::string value(const std::string& sql, const std::string& param) {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    auto r = tx.exec_params(sql, param);
    return r.empty() || r[0][0].is_null() ? "<none>" : r[0][0].c_str();
  }
};

Json::Object walkInRow(const Uuid& id, const std::string& email) {
  Patient p;
  p.patientId = id;
  p.firstName = "Quinn";
  p.lastName = "Newcomer";
  p.email = email;
  p.phone = "+15415550142";
  p.dateOfBirth = 1991y / May / 5;
  p.insuranceInfo.payer = "Invented Mutual";
  p.insuranceInfo.memberId = "M-000123";
  p.createdAt = kNow;
  p.updatedAt = kNow;
  return toRowJson(p);
}

}  // namespace

TEST_CASE("a pushed walk-in is stored encrypted, its member id apart, and a repeat changes nothing") {
  HubPractice p;
  const Uuid walkIn = newId();
  PushRequest push;
  push.mutations.push_back(p.mutation("patient", walkIn, MutationKind::Insert,
                                      walkInRow(walkIn, "quinn." + walkIn.toString().substr(24) + "@mail.example")));
  auto res = p.hub->applyPush(p.ctx, push);
  REQUIRE(res.has_value());
  REQUIRE(res->results.size() == 1);
  CHECK(res->results[0].status == ResultStatus::Applied);
  CHECK(res->results[0].rowVersion == 1);
  REQUIRE(res->results[0].row.has_value());
  CHECK(res->results[0].row->row.at("last_name") == Json("Newcomer"));
  CHECK(res->results[0].row->row.at("insurance_info").find("member_id")->asString() == "M-000123");
  CHECK(p.value("SELECT pii_decrypt(last_name, '" + std::string(sim::kPiiKey) + "') FROM patient WHERE patient_id = $1::uuid",
                walkIn.toString()) == "Newcomer");
  CHECK(p.value("SELECT insurance_info::text FROM patient WHERE patient_id = $1::uuid", walkIn.toString())
            .find("M-000123") == std::string::npos);
  CHECK(p.value("SELECT (insurance_ids IS NOT NULL)::text FROM patient WHERE patient_id = $1::uuid", walkIn.toString()) == "true");

  auto again = p.hub->applyPush(p.ctx, push);
  REQUIRE(again.has_value());
  CHECK(again->results[0].status == ResultStatus::Applied);
  CHECK(again->results[0].rowVersion == 1);
  CHECK(p.value("SELECT count(*) FROM idempotency_record WHERE device_id = $1::uuid", p.device.toString()) == "1");
  CHECK(p.value("SELECT row_version::text FROM patient WHERE patient_id = $1::uuid", walkIn.toString()) == "1");
}

TEST_CASE("a new record that breaks the model's rules is refused with the rule's words") {
  HubPractice p;
  const Uuid walkIn = newId();
  Json::Object row = walkInRow(walkIn, "not-an-email");
  PushRequest push;
  push.mutations.push_back(p.mutation("patient", walkIn, MutationKind::Insert, row));
  auto res = p.hub->applyPush(p.ctx, push);
  REQUIRE(res.has_value());
  CHECK(res->results[0].status == ResultStatus::Rejected);
  CHECK(res->results[0].code == "sync.invalid");
  CHECK(res->results[0].message.find("email") != std::string::npos);
  CHECK(p.value("SELECT count(*) FROM patient WHERE patient_id = $1::uuid", walkIn.toString()) == "0");
}

TEST_CASE("an unchanged value pushed again is not rewritten (no new version, no change-log row)") {
  HubPractice p;
  PushRequest push;
  push.mutations.push_back(p.mutation("patient", p.patient, MutationKind::Update, {{"phone", "+15415550199"}},
                                      {{"phone", "+15415550199"}}));
  auto res = p.hub->applyPush(p.ctx, push);
  REQUIRE(res.has_value());
  CHECK(res->results[0].status == ResultStatus::Applied);
  CHECK(p.value("SELECT row_version::text FROM patient WHERE patient_id = $1::uuid", p.patient.toString()) == "1");
}

TEST_CASE("refusals: an illegal status move, a write a kiosk may not make, an old schema, a restored device") {
  HubPractice p;
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    tx.exec_params("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid", p.appointment.toString());
    tx.commit();
  }
  PushRequest push;
  push.mutations.push_back(p.mutation("appointment", p.appointment, MutationKind::Update, {{"status", "checked_in"}},
                                      {{"status", "scheduled"}}));
  push.mutations.push_back(p.mutation("provider", newId(), MutationKind::Insert, {{"first_name", "Sneaky"}}));
  auto res = p.hub->applyPush(p.ctx, push);
  REQUIRE(res.has_value());
  REQUIRE(res->results.size() == 2);
  CHECK(res->results[0].status == ResultStatus::Rejected);
  CHECK(res->results[0].message.find("cancel") != std::string::npos);
  REQUIRE(res->results[0].row.has_value());
  CHECK(res->results[0].row->row.at("status") == Json("cancelled"));
  CHECK(res->results[1].status == ResultStatus::Rejected);
  CHECK(res->results[1].code == "sync.not_writable");

  PushRequest old = push;
  old.schemaVersion = kSchemaVersion - 2;
  auto refused = p.hub->applyPush(p.ctx, old);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == "sync.schema_version");

  PushRequest restored;
  restored.mutations.push_back(p.mutation("appointment", p.appointment, MutationKind::Update, {{"status", "no_show"}},
                                          {{"status", "scheduled"}}));
  restored.mutations[0].deviceSeq = 1;  // a seq already used by another mutation
  auto r = p.hub->applyPush(p.ctx, restored);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.device_restored");
}

TEST_CASE("pull: a first sync pages through the practice, then follows the change log") {
  HubPractice p;
  PullRequest first;
  first.limit = 2;
  std::vector<Change> all;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    first.after = cursor;
    auto res = p.hub->pull(p.ctx, first);
    REQUIRE(res.has_value());
    all.insert(all.end(), res->changes.begin(), res->changes.end());
    cursor = res->cursor;
    if (!res->more) break;
  }
  std::set<std::string> entities;
  for (const auto& c : all) entities.insert(c.entity);
  CHECK(entities == std::set<std::string>{"practice", "provider", "patient", "waitlist", "appointment"});
  CHECK(std::count_if(all.begin(), all.end(), [&](const Change& c) { return c.id == p.patient; }) == 1);
  CHECK(decodeCursor(cursor)->snapshot == std::nullopt);

  PullRequest next;
  next.after = cursor;
  auto quiet = p.hub->pull(p.ctx, next);
  REQUIRE(quiet.has_value());
  CHECK(quiet->changes.empty());
  CHECK_FALSE(quiet->more);

  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    tx.exec_params("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid", p.appointment.toString());
    tx.commit();
  }
  next.after = quiet->cursor;
  auto changed = p.hub->pull(p.ctx, next);
  REQUIRE(changed.has_value());
  REQUIRE(changed->changes.size() >= 1);
  const auto it = std::find_if(changed->changes.begin(), changed->changes.end(),
                               [&](const Change& c) { return c.id == p.appointment; });
  REQUIRE(it != changed->changes.end());
  CHECK(it->row.at("status") == Json("cancelled"));
  CHECK(it->rowVersion == 2);

  PullRequest bad;
  bad.after = "c1.zz";
  CHECK(p.hub->pull(p.ctx, bad).error().code == "protocol.cursor");
}

TEST_CASE("pull: each row once a page with its last change, a leave sent as one while the row is still readable") {
  HubPractice p;
  const Uuid other = newId();  // a second appointment of the patient, later today
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
                   " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamp, $5::timestamp, 'scheduled', 'in_person')",
                   other.toString(), p.provider.toString(), p.patient.toString(), formatInstant(kNow + hours{3}),
                   formatInstant(kNow + hours{4}));
    tx.commit();
  }
  PullRequest req;
  req.limit = 100;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {  // the first sync
    req.after = cursor;
    auto res = p.hub->pull(p.ctx, req);
    REQUIRE(res.has_value());
    cursor = res->cursor;
    if (!res->more) break;
  }
  {
    // One appointment changes twice; the other once, and then (as another system might write
    // it) the log says it left this practice, though its row is still readable here.
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    tx.exec_params("UPDATE appointment SET status = 'checked_in' WHERE appointment_id = $1::uuid", p.appointment.toString());
    tx.exec_params("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid", p.appointment.toString());
    tx.exec_params("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid", other.toString());
    tx.exec_params("INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)"
                   " SELECT $1::uuid, max(seq) + 1, 'appointment', $2::uuid, 'leave', 3 FROM change_log WHERE practice_id = $1::uuid",
                   p.practice.toString(), other.toString());
    tx.commit();
  }
  req.after = cursor;
  auto page = p.hub->pull(p.ctx, req);
  REQUIRE(page.has_value());
  std::map<Uuid, std::vector<Change>> byRow;
  for (const auto& c : page->changes) byRow[c.id].push_back(c);
  REQUIRE(byRow[p.appointment].size() == 1);
  CHECK(byRow[p.appointment][0].op == ChangeOp::Upsert);
  CHECK(byRow[p.appointment][0].row.at("status") == Json("cancelled"));
  CHECK(byRow[p.appointment][0].rowVersion == 3);
  REQUIRE(byRow[other].size() == 1);
  CHECK(byRow[other][0].op == ChangeOp::Leave);
  CHECK(byRow[other][0].row.empty());
}

TEST_CASE("another practice's device sees none of this practice's rows") {
  HubPractice a;
  HubPractice b;
  PullRequest first;
  first.limit = 500;
  auto page = b.hub->pull(b.ctx, first);
  REQUIRE(page.has_value());
  for (const auto& c : page->changes) CHECK(c.id != a.patient);
  PushRequest push;
  push.mutations.push_back(b.mutation("appointment", a.appointment, MutationKind::Update, {{"status", "checked_in"}},
                                      {{"status", "scheduled"}}));
  auto res = b.hub->applyPush(b.ctx, push);
  REQUIRE(res.has_value());
  CHECK(res->results[0].status == ResultStatus::Rejected);
  CHECK(a.value("SELECT status FROM appointment WHERE appointment_id = $1::uuid", a.appointment.toString()) == "scheduled");
}

// A push of several new notifications goes to PostgreSQL as one multi-row INSERT; one that the
// database refuses sends the batch back through the one-by-one path. Either way each mutation
// gets its own answer, and the change log and audit trail hold one row per applied record, the
// change log in push order with consecutive seqs (commit order per practice).
TEST_CASE("a run of new records: one refused among them, the others applied in push order") {
  HubPractice p;
  auto arrival = [&](const Uuid& id) {
    Notification n;
    n.notificationId = id;
    n.recipientId = p.provider;
    n.recipientType = RecipientType::Provider;
    n.type = NotificationType::PatientArrived;
    n.content.templateKey = "patient_arrived";
    n.createdAt = kNow;
    n.updatedAt = kNow;
    return p.mutation("notification", id, MutationKind::Insert, toRowJson(n));
  };
  auto seqsOf = [&](const std::vector<Uuid>& rows) {
    std::vector<std::int64_t> seqs;
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    for (const auto& id : rows) {
      auto r = tx.exec_params("SELECT seq FROM change_log WHERE practice_id = $1::uuid AND entity_id = $2::uuid",
                              p.practice.toString(), id.toString());
      REQUIRE(r.size() == 1);
      seqs.push_back(r[0][0].as<std::int64_t>());
    }
    return seqs;
  };

  // All plain: one statement.
  std::vector<Uuid> clean;
  PushRequest first;
  for (int i = 0; i < 5; ++i) {
    clean.push_back(newId());
    first.mutations.push_back(arrival(clean.back()));
  }
  auto res = p.hub->applyPush(p.ctx, first);
  REQUIRE(res.has_value());
  REQUIRE(res->results.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(res->results[i].mutationId == first.mutations[i].mutationId);
    CHECK(res->results[i].status == ResultStatus::Applied);
    CHECK(res->results[i].rowVersion == 1);
    REQUIRE(res->results[i].row.has_value());
    CHECK(res->results[i].row->id == clean[i]);
    CHECK(res->results[i].row->row.at("recipient_id") == Json(p.provider.toString()));
  }
  auto seqs = seqsOf(clean);
  for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] == seqs[i - 1] + 1);
  CHECK(p.value("SELECT count(*) FROM audit_event WHERE table_name = 'notification' AND operation = 'INSERT'"
                " AND actor = 'device:' || $1",
                p.device.toString()) == "5");
  CHECK(p.value("SELECT last_device_seq::text FROM device WHERE device_id = $1::uuid", p.device.toString()) == "5");

  // The third reuses an id that exists centrally: refused with the rule's words, its
  // neighbours applied, nothing of it logged twice.
  std::vector<Uuid> second = {newId(), newId(), clean[0], newId(), newId()};
  PushRequest push;
  for (const auto& id : second) push.mutations.push_back(arrival(id));
  res = p.hub->applyPush(p.ctx, push);
  REQUIRE(res.has_value());
  REQUIRE(res->results.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(res->results[i].deviceSeq == push.mutations[i].deviceSeq);
    if (i == 2) {
      CHECK(res->results[i].status == ResultStatus::Rejected);
      CHECK(res->results[i].code == "sync.constraint");
      CHECK(res->results[i].message == "a record with this id already exists centrally");
    } else {
      CHECK(res->results[i].status == ResultStatus::Applied);
      CHECK(res->results[i].rowVersion == 1);
    }
  }
  seqs = seqsOf({second[0], second[1], second[3], second[4]});
  for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] > seqs[i - 1]);
  CHECK(p.value("SELECT count(*) FROM change_log WHERE entity_id = $1::uuid", clean[0].toString()) == "1");
  CHECK(p.value("SELECT count(*) FROM idempotency_record WHERE device_id = $1::uuid", p.device.toString()) == "10");
  CHECK(p.value("SELECT last_device_seq::text FROM device WHERE device_id = $1::uuid", p.device.toString()) == "10");

  // A repeat of the whole push: the stored answers, nothing new.
  auto again = p.hub->applyPush(p.ctx, push);
  REQUIRE(again.has_value());
  for (std::size_t i = 0; i < 5; ++i) CHECK(again->results[i].status == res->results[i].status);
  CHECK(p.value("SELECT count(*) FROM notification WHERE recipient_id = $1::uuid", p.provider.toString()) == "9");
}

// Another system can write a row the model does not accept (here a notification whose template
// key is a number, and one whose creation time is infinity: null for a time the model requires).
// It must not fail every device's pages: it is left out and reported, by entity and id, never
// its values; a later change to it is not taken for the row leaving.
TEST_CASE("a central row the model cannot decode is left out of pages and reported without values") {
  HubPractice p;
  const Uuid bad = newId(), good = newId(), endless = newId();
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status, created_at)"
                   " VALUES ($1::uuid, $3::uuid, 'provider', 'patient_arrived', '{\"template_key\": 5, \"params\": {\"x\": \"Zebedee\"}}',"
                   " 'pending', $4::timestamp), ($2::uuid, $3::uuid, 'provider', 'patient_arrived', '{\"template_key\": \"patient_arrived\"}',"
                   " 'pending', $4::timestamp)",
                   bad.toString(), good.toString(), p.provider.toString(), formatInstant(kNow - hours{1}));
    tx.commit();
  }
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status, created_at)"
                   " VALUES ($1::uuid, $2::uuid, 'provider', 'patient_arrived', '{\"template_key\": \"patient_arrived\"}',"
                   " 'pending', 'infinity')",
                   endless.toString(), p.provider.toString());
    tx.commit();
  }
  std::vector<std::string> lines;
  HubOptions o{central().hubDsn(), sim::kPiiKey, sim::kHashKey, {}, [] { return kNow; }, 100};
  o.log = [&](const std::string& line) { lines.push_back(line); };
  auto hub = HubCore::connect(std::move(o));
  REQUIRE(hub.has_value());
  auto has = [](const PullResponse& page, const Uuid& id) {
    return std::ranges::any_of(page.changes, [&](const Change& c) { return c.id == id; });
  };
  auto first = (*hub)->pull(p.ctx, PullRequest{});
  REQUIRE_MESSAGE(first.has_value(), first.error().message);
  CHECK(has(*first, good));
  CHECK_FALSE(has(*first, bad));
  CHECK_FALSE(has(*first, endless));
  CHECK_FALSE(first->more);
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    CHECK(line.find("sync.undecodable_row") != std::string::npos);
    CHECK(line.find("Zebedee") == std::string::npos);
  }
  const auto reported = [&](const Uuid& id) {
    return std::ranges::any_of(lines, [&](const std::string& line) { return line.find(id.toString()) != std::string::npos; });
  };
  CHECK(reported(bad));
  CHECK(reported(endless));

  // Both change centrally: the good one comes as an upsert, the bad one not at all (not a leave).
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("UPDATE notification SET status = 'sent' WHERE notification_id IN ($1::uuid, $2::uuid)", bad.toString(),
                   good.toString());
    tx.commit();
  }
  PullRequest next;
  next.after = first->cursor;
  auto later = (*hub)->pull(p.ctx, next);
  REQUIRE(later.has_value());
  CHECK(has(*later, good));
  CHECK_FALSE(has(*later, bad));
  CHECK(lines.size() == 3);
}

TEST_CASE("a column's value is what json_build_object and to_char gave it") {
  using hub::ColKind;
  const hub::ColumnSpec at{"sent_at", ColKind::Instant, true}, day{"day", ColKind::Date, false},
      text{"notes", ColKind::Text, true}, score{"priority_score", ColKind::Double, false},
      content{"content", ColKind::JsonColumn, false}, flag{"telehealth", ColKind::Bool, false};
  constexpr unsigned kTimestamp = 1114, kDate = 1082, kText = 25, kFloat8 = 701, kJsonb = 3802, kBool = 16;
  CHECK(*hub::columnJson(at, "2026-03-02 14:05:00", kTimestamp) == Json("2026-03-02T14:05:00.000000Z"));
  CHECK(*hub::columnJson(at, "2026-03-02 14:05:00.5", kTimestamp) == Json("2026-03-02T14:05:00.500000Z"));
  CHECK(*hub::columnJson(at, "2026-03-02 14:05:00.123456", kTimestamp) == Json("2026-03-02T14:05:00.123456Z"));
  CHECK(*hub::columnJson(at, "0044-03-15 12:00:00 BC", kTimestamp) == Json("0044-03-15T12:00:00.000000Z"));
  CHECK(*hub::columnJson(at, "infinity", kTimestamp) == Json(nullptr));
  CHECK(*hub::columnJson(at, std::nullopt, kTimestamp) == Json(nullptr));
  CHECK(*hub::columnJson(day, "1970-01-10", kDate) == Json("1970-01-10"));
  CHECK(*hub::columnJson(day, "1970-01-10 x", kText) == Json("1970-01-10 x"));  // decrypted text stays text
  CHECK(*hub::columnJson(text, "a \"quoted\" 2026-03-02 14:05:00", kText) == Json("a \"quoted\" 2026-03-02 14:05:00"));
  CHECK(*hub::columnJson(score, "2", kFloat8) == Json(std::int64_t{2}));  // as the parser read "2"
  CHECK(*hub::columnJson(score, "2.25", kFloat8) == Json(2.25));
  CHECK(*hub::columnJson(score, "NaN", kFloat8) == Json("NaN"));
  CHECK(*hub::columnJson(content, R"({"b":[1,2.5],"a":null})", kJsonb) ==
        *Json::parse(R"({"a":null,"b":[1,2.5]})"));
  CHECK_FALSE(hub::columnJson(content, R"({"a":)", kJsonb).has_value());
  CHECK(*hub::columnJson(flag, "t", kBool) == Json(true));
  CHECK(*hub::columnJson(flag, "f", kBool) == Json(false));
}

TEST_CASE("pull pages carry each row's JSON exactly as PostgreSQL's json_build_object gives it") {
  HubPractice p;
  const Uuid second = newId(), entry = newId(), entry2 = newId(), note = newId();
  {
    pqxx::connection c(central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    // Fractions of a second, nulls, a whole and a fractional double, nested JSON.
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'Late',"
                   " '{\"days\": [\"mon\"]}')",
                   second.toString(), p.practice.toString());
    tx.exec_params("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status, notes, created_at)"
                   " VALUES ($1::uuid, $3::uuid, $5::uuid, 2, 'waiting', 'Prefers \"mornings\"', '2026-03-01 09:30:00.25'),"
                   " ($2::uuid, $4::uuid, $5::uuid, 12.125, 'offered', NULL, '2026-03-01 09:30:00')",
                   entry.toString(), entry2.toString(), p.waitlist.toString(), second.toString(), p.patient.toString());
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status, sent_at,"
                   " created_at) VALUES ($1::uuid, $2::uuid, 'provider', 'patient_arrived',"
                   " '{\"template_key\": \"patient_arrived\", \"params\": {\"appointment_id\": \"x\", \"n\": \"1.50\"}}',"
                   " 'sent', '2026-03-02 14:05:00.000001', $3::timestamp)",
                   note.toString(), p.provider.toString(), formatInstant(kNow - hours{1}));
    tx.commit();
  }
  std::vector<Change> all;
  PullRequest req;
  req.limit = 3;  // several pages, so the snapshot's keyset paging is read too
  for (int page = 0; page < 20; ++page) {
    auto res = p.hub->pull(p.ctx, req);
    REQUIRE_MESSAGE(res.has_value(), res.error().message);
    all.insert(all.end(), res->changes.begin(), res->changes.end());
    req.after = res->cursor;
    if (!res->more) break;
  }
  // Each row again, as PostgreSQL builds the row JSON (the shape the push path reads).
  pqxx::connection c(central().hubDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
  std::set<std::string> seen;
  for (const auto& change : all) {
    const hub::EntitySpec& spec = *hub::entitySpec(change.entity);
    const std::string id = "$" + std::to_string(hub::firstFreeParam(spec));
    const std::string sql = hub::selectRowsSql(spec) + " WHERE t." + spec.idColumn + " = " + id + "::uuid";
    auto r = spec.hasPii ? tx.exec_params(sql, std::string(sim::kPiiKey), change.id.toString())
                         : tx.exec_params(sql, change.id.toString());
    REQUIRE(r.size() == 1);
    CHECK(Json(change.row).dump() == Json::parse(r[0][3].c_str())->dump());  // dump tells 2 from 2.0
    seen.insert(change.entity);
  }
  CHECK(std::ranges::count_if(all, [&](const Change& ch) { return ch.id == entry || ch.id == entry2; }) == 2);
  CHECK(seen == std::set<std::string>{"practice", "provider", "patient", "waitlist", "waitlist_entry", "appointment",
                                      "notification"});
}
