// Row JSON: every record type round-trips (also through text), values have the wire's shapes,
// bad and missing columns are refused naming the column, and entities dispatch by table name.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "anteroom/model/row_json.hpp"
#include "sample_records.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

template <class T>
std::set<std::string> syncedColumnsOf() {
  const auto columns = samples::syncedColumns<T>();
  return {columns.begin(), columns.end()};
}

std::set<std::string> keysOf(const Json::Object& row) {
  std::set<std::string> keys;
  for (const auto& [k, v] : row) keys.insert(k);
  return keys;
}

template <class T>
void checkRoundTrip(const T& record) {
  CAPTURE(Fields<T>::table);
  const Json::Object row = toRowJson(record);
  CHECK(keysOf(row) == syncedColumnsOf<T>());
  CHECK(row.find("row_version") == row.end());
  CHECK(row.find("deleted") == row.end());

  auto back = fromRowJson<T>(row);
  REQUIRE(back.has_value());
  CHECK(*back == record);

  // Through text, as the wire carries it.
  auto parsed = Json::parse(Json(row).dump());
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->isObject());
  auto fromText = fromRowJson<T>(parsed->asObject());
  REQUIRE(fromText.has_value());
  CHECK(*fromText == record);
}

// A full row's answer by its column checks alone (what the hub asks of a row it built).
template <class T>
bool passesColumnChecks(const Json::Object& row) {
  for (const ColumnCheck& c : columnChecks<T>()) {
    const Json& value = row.at(std::string(c.name));
    if (value.isNull() ? !c.optional : !c.reads(value)) return false;
  }
  return true;
}

template <class T>
void checkColumnChecksAgree(const T& record, const char* column, const Json& value) {
  CAPTURE(Fields<T>::table);
  CAPTURE(column);
  CAPTURE(value.dump());
  Json::Object row = toRowJson(record);
  REQUIRE(row.contains(column));
  row.insert_or_assign(column, value);
  CHECK(passesColumnChecks<T>(row) == fromRowJson<T>(row).has_value());
}

}  // namespace

TEST_CASE("every record type round-trips through row JSON and its text") {
  std::apply([](const auto&... record) { (checkRoundTrip(record), ...); }, samples::all());
  // Defaults: empty optionals travel as null and come back empty.
  forEachRecordType([](auto record) {
    if constexpr (std::is_same_v<decltype(record), Patient>) record.dateOfBirth = 2001y / January / 31;
    checkRoundTrip(record);
  });
}

TEST_CASE("the sync envelope and the sync meta stay out of a row") {
  Patient p = samples::patient();
  p.sync.rowVersion = 17;
  p.sync.deleted = true;
  const Json::Object row = toRowJson(p);
  auto back = fromRowJson<Patient>(row);
  REQUIRE(back.has_value());
  CHECK(back->sync == SyncMeta{});
  CHECK(row.find("lookup_key") == row.end());  // local-only
}

TEST_CASE("row values have the shapes of the wire") {
  const Json::Object patient = toRowJson(samples::patient());
  CHECK(patient.at("patient_id") == Json(samples::id(3).toString()));
  CHECK(patient.at("last_name") == Json("Peña-Ruiz"));
  CHECK(patient.at("date_of_birth") == Json("1986-04-12"));
  CHECK(patient.at("created_at") == Json("2026-11-25T09:00:00.000000Z"));
  REQUIRE(patient.at("insurance_info").isObject());
  CHECK(patient.at("insurance_info").find("member_id") != nullptr);
  REQUIRE(patient.at("preferences").isObject());

  const Json::Object entry = toRowJson(samples::entry());
  CHECK(entry.at("status") == Json("offered"));
  CHECK(entry.at("priority_score") == Json(42.5));
  CHECK(entry.at("urgency") == Json(2));

  WaitlistEntry bare = samples::entry();
  bare.providerId.reset();
  bare.notes.reset();
  const Json::Object bareRow = toRowJson(bare);
  CHECK(bareRow.at("provider_id").isNull());
  CHECK(bareRow.at("notes").isNull());

  const Json::Object provider = toRowJson(samples::provider());
  CHECK(provider.at("telehealth") == Json(true));
  CHECK(provider.at("specialties") == Json(Json::Array{"anxiety", "trauma_ptsd"}));

  const Json::Object note = toRowJson(samples::notification());
  CHECK(note.at("recipient_type") == Json("provider"));
  CHECK(note.at("sent_at") == Json("2026-11-25T09:56:00.000000Z"));
}

TEST_CASE("a column of the wrong type is refused, naming the column and not the value") {
  struct Case {
    const char* column;
    Json value;
    const char* code;
  };
  const Case cases[] = {
      {"patient_id", Json("not-a-uuid"), "sync.row.type"},
      {"patient_id", Json(12), "sync.row.type"},
      {"first_name", Json(7), "sync.row.type"},
      {"first_name", Json(nullptr), "sync.row.type"},
      {"email", Json(Json::Array{}), "sync.row.type"},
      {"date_of_birth", Json("12/04/1986"), "sync.row.type"},
      {"date_of_birth", Json("1986-02-30"), "sync.row.type"},
      {"created_at", Json("yesterday"), "sync.row.type"},
      {"created_at", Json(1764061200), "sync.row.type"},
      {"insurance_info", Json("Aetna W123"), "json.column"},
      {"insurance_info", Json(Json::Object{{"payer", 5}}), "json.column"},
      {"preferences", Json(nullptr), "sync.row.type"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.column);
    CAPTURE(c.value.dump());
    Json::Object row = toRowJson(samples::patient());
    row.insert_or_assign(c.column, c.value);
    auto r = fromRowJson<Patient>(row);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == c.code);
    CHECK(r.error().message.find(c.column) != std::string::npos);
    if (c.value.isString()) CHECK(r.error().message.find(c.value.asString()) == std::string::npos);
  }
}

TEST_CASE("a JSON column of the wrong shape names the column and the path inside it") {
  Json::Object patient = toRowJson(samples::patient());
  patient.insert_or_assign("insurance_info", Json(Json::Object{{"payer", 5}}));
  auto p = fromRowJson<Patient>(patient);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().message == "column insurance_info.payer must be a string");

  Json::Object provider = toRowJson(samples::provider());
  provider.insert_or_assign("specialties", Json("anxiety"));
  auto r = fromRowJson<Provider>(provider);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "json.column");
  CHECK(r.error().message == "column specialties: tags must be an array of strings");
}

TEST_CASE("numbers, booleans and enums are strict") {
  struct Case {
    const char* column;
    Json value;
    bool accepted;
  };
  const Case cases[] = {
      {"priority_score", Json(40), true},  // a whole number is a number
      {"priority_score", Json("40"), false},
      {"urgency", Json(2.0), false},       // no silent truncation
      {"urgency", Json(std::int64_t{1} << 40), false},
      {"urgency", Json(true), false},
      {"status", Json("Waiting"), false},  // stored text is exact
      {"status", Json("removed"), true},
      {"status", Json(1), false},
      {"provider_id", Json(nullptr), true},  // optional
      {"provider_id", Json(""), false},
      {"notes", Json(3), false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.column);
    CAPTURE(c.value.dump());
    Json::Object row = toRowJson(samples::entry());
    row.insert_or_assign(c.column, c.value);
    auto r = fromRowJson<WaitlistEntry>(row);
    CHECK(r.has_value() == c.accepted);
    if (!r) {
      CHECK(r.error().domain == ErrorDomain::Protocol);
      CHECK(r.error().message.starts_with("column " + std::string(c.column) + " must "));
    }
  }
  Json::Object staff = toRowJson(samples::staff());
  staff.insert_or_assign("active", Json(0));
  auto r = fromRowJson<StaffUser>(staff);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "column active must be true or false");
}

TEST_CASE("the column checks give fromRowJson's answer for a full row, value by value") {
  forEachRecordType([](auto record) {
    using T = decltype(record);
    const auto checks = columnChecks<T>();
    const auto columns = samples::syncedColumns<T>();
    REQUIRE(checks.size() == columns.size());
    for (std::size_t k = 0; k < checks.size(); ++k) CHECK(checks[k].name == columns[k]);
  });
  auto passes = [](const auto& r) { CHECK(passesColumnChecks<std::decay_t<decltype(r)>>(toRowJson(r))); };
  std::apply([&](const auto&... r) { (passes(r), ...); }, samples::all());
  const Json bad[] = {Json(nullptr), Json("not-a-uuid"), Json(""), Json(12), Json(2.0), Json(std::int64_t{1} << 40),
                      Json(true), Json(Json::Array{}), Json(Json::Object{{"payer", 5}}), Json("Waiting"),
                      Json("1986-02-30"), Json("yesterday"), Json("2026-11-25T09:56:00.000000Z"), Json("1986-02-28"),
                      Json("removed"), Json("provider"), Json(40)};
  for (const Json& v : bad) {
    for (const char* c : {"patient_id", "first_name", "date_of_birth", "created_at", "insurance_info", "preferences", "email"})
      checkColumnChecksAgree(samples::patient(), c, v);
    for (const char* c : {"priority_score", "urgency", "status", "provider_id", "notes"})
      checkColumnChecksAgree(samples::entry(), c, v);
    for (const char* c : {"recipient_type", "type", "content", "sent_at"}) checkColumnChecksAgree(samples::notification(), c, v);
    checkColumnChecksAgree(samples::provider(), "specialties", v);
    checkColumnChecksAgree(samples::staff(), "active", v);
  }
}

TEST_CASE("a missing column is an error unless it is optional; unknown columns are ignored") {
  // Every non-optional column of an appointment, removed in turn.
  for (const char* column : {"appointment_id", "provider_id", "patient_id", "start_time", "end_time", "status", "type",
                             "created_at", "updated_at"}) {
    CAPTURE(column);
    Json::Object row = toRowJson(samples::appointment());
    row.erase(std::string(column));
    auto r = fromRowJson<Appointment>(row);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "sync.row.missing");
    CHECK(r.error().message == "column " + std::string(column) + " is missing");
  }
  Json::Object row = toRowJson(samples::appointment());
  row.erase("notes");
  row.erase("waitlist_entry_id");
  row.insert_or_assign("room", Json("3B"));  // a newer hub's column
  auto r = fromRowJson<Appointment>(row);
  REQUIRE(r.has_value());
  CHECK_FALSE(r->notes.has_value());
  CHECK_FALSE(r->waitlistEntryId.has_value());
  CHECK(r->status == AppointmentStatus::CheckedIn);
}

TEST_CASE("entities are found by table name and dispatch to their record type") {
  std::vector<std::string_view> tables;
  forEachRecordType([&](auto record) { tables.push_back(Fields<decltype(record)>::table); });
  const auto entities = allEntities();
  REQUIRE(entities.size() == tables.size());
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const Entity e = entities[i];
    CAPTURE(tables[i]);
    CHECK(tableOf(e) == tables[i]);
    CHECK((entityFromTable(tables[i]) == e));
    CHECK_FALSE(nounOf(e).empty());
    CHECK(visitEntity(e, [](auto record) { return Fields<decltype(record)>::table; }) == tables[i]);
    CHECK(visitEntity(e, [](auto record) { return entityOf<decltype(record)>(); }) == e);
  }
  CHECK(tableOf(Entity::AppointmentRequest) == "appointment_request");
  CHECK(nounOf(Entity::AppointmentRequest) == "appointment request");
  for (std::string_view bad : {"", "Patient", "patients", "outbox", "sync_state", " patient"})
    CHECK_FALSE(entityFromTable(bad).has_value());
}

TEST_CASE("a row read by entity name gives the same record") {
  const Json::Object row = toRowJson(samples::request());
  const auto entity = entityFromTable("appointment_request");
  REQUIRE(entity.has_value());
  const std::string dumped = visitEntity(*entity, [&](auto record) {
    auto read = fromRowJson<decltype(record)>(row);
    return read ? Json(toRowJson(*read)).dump() : std::string();
  });
  CHECK(dumped == Json(row).dump());
}
