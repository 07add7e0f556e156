// Who decides what (DESIGN.md 5.3): column classes cover every column, what a device may write,
// the per-column merge of an update, new rows, walk-in identity and request confirmation. Each
// rule is a table of cases: the inputs and the decision a person would see.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "anteroom/model/row_json.hpp"
#include "anteroom/model/data_window.hpp"
#include "anteroom/model/sync_rules.hpp"
#include "sample_records.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

std::vector<std::string> strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

}  // namespace

// [SECTION] Column classes

TEST_CASE("every column of every field list has exactly one class, and the table names no other column") {
  constexpr ColumnClass kAll[] = {ColumnClass::Key,    ColumnClass::Reference,   ColumnClass::Identity,
                                  ColumnClass::Mergeable, ColumnClass::Status, ColumnClass::ServerOwned,
                                  ColumnClass::Immutable};
  forEachRecordType([&](auto record) {
    using T = decltype(record);
    const Entity e = entityOf<T>();
    CAPTURE(tableOf(e));
    const auto columns = samples::syncedColumns<T>();
    std::size_t classified = 0;
    for (const auto& column : columns) {
      CAPTURE(column);
      CHECK(findColumnClass(e, column).has_value());
    }
    for (const ColumnClass cls : kAll) {
      const auto ofClass = strings(columnsOfClass(e, cls));
      classified += ofClass.size();
      // Field-list order, and only real columns.
      std::vector<std::string> expected;
      for (const auto& c : columns)
        if (findColumnClass(e, c) == cls) expected.push_back(c);
      CHECK(ofClass == expected);
    }
    CHECK(classified == columns.size());
    CHECK((findColumnClass(e, Fields<T>::idColumn) == ColumnClass::Key));
    CHECK((findColumnClass(e, "created_at") == ColumnClass::ServerOwned));
    CHECK((findColumnClass(e, "updated_at") == ColumnClass::ServerOwned));
    // Every other *_id column is a foreign key.
    for (const auto& c : columns) {
      CAPTURE(c);
      if (c != Fields<T>::idColumn && c.ends_with("_id")) CHECK((findColumnClass(e, c) == ColumnClass::Reference));
    }
  });
}

TEST_CASE("the classes DESIGN 5.3 names") {
  struct Case {
    Entity entity;
    const char* column;
    ColumnClass cls;
  };
  const Case cases[] = {
      {Entity::Patient, "first_name", ColumnClass::Identity},
      {Entity::Patient, "last_name", ColumnClass::Identity},
      {Entity::Patient, "date_of_birth", ColumnClass::Identity},
      {Entity::Patient, "email", ColumnClass::Identity},
      {Entity::Patient, "phone", ColumnClass::Mergeable},
      {Entity::Patient, "insurance_info", ColumnClass::Mergeable},
      {Entity::Patient, "preferences", ColumnClass::Mergeable},
      {Entity::WaitlistEntry, "priority_score", ColumnClass::ServerOwned},
      {Entity::WaitlistEntry, "status", ColumnClass::Status},
      {Entity::WaitlistEntry, "notes", ColumnClass::Mergeable},
      {Entity::WaitlistEntry, "urgency", ColumnClass::Mergeable},
      {Entity::AppointmentSlot, "status", ColumnClass::ServerOwned},
      {Entity::Appointment, "status", ColumnClass::Status},
      {Entity::Appointment, "start_time", ColumnClass::Immutable},
      {Entity::AppointmentRequest, "status", ColumnClass::Status},
      {Entity::Notification, "status", ColumnClass::Status},
      {Entity::Notification, "sent_at", ColumnClass::ServerOwned},
      {Entity::StaffUser, "pin_hash", ColumnClass::ServerOwned},
  };
  for (const auto& c : cases) {
    CAPTURE(tableOf(c.entity));
    CAPTURE(c.column);
    CHECK(toString(columnClass(c.entity, c.column)) == toString(c.cls));
  }
  // Unknown, local-only and envelope columns are the device's to keep: ignored centrally.
  CHECK_FALSE(findColumnClass(Entity::Patient, "lookup_key").has_value());
  CHECK(toString(columnClass(Entity::Patient, "lookup_key")) == "server_owned");
  CHECK(toString(columnClass(Entity::Patient, "row_version")) == "server_owned");
  CHECK(toString(ColumnClass::Identity) == "identity");
}

// [SECTION] What a device may write

TEST_CASE("a device writes what the kiosk writes, and never books") {
  struct Case {
    Entity entity;
    bool insert, update, remove;
  };
  const Case cases[] = {
      {Entity::Practice, false, false, false},         {Entity::Provider, false, false, false},
      {Entity::Patient, true, true, false},            {Entity::Waitlist, false, false, false},
      {Entity::WaitlistEntry, true, true, false},      {Entity::AppointmentSlot, false, false, false},
      {Entity::AppointmentRequest, true, true, false}, {Entity::Appointment, false, true, false},
      {Entity::Notification, true, false, false},      {Entity::StaffUser, false, false, false},
  };
  REQUIRE(std::size(cases) == allEntities().size());
  for (const auto& c : cases) {
    CAPTURE(tableOf(c.entity));
    CHECK(deviceMay(c.entity, MutationKind::Insert) == c.insert);
    CHECK(deviceMay(c.entity, MutationKind::Update) == c.update);
    CHECK(deviceMay(c.entity, MutationKind::Delete) == c.remove);
  }
  // A delete is refused with a reason a person can read.
  for (const Entity e : allEntities()) {
    CAPTURE(tableOf(e));
    const MergePlan plan = planDelete(e);
    REQUIRE(plan.rejection.has_value());
    CHECK(plan.rejection->code == "sync.not_writable");
    CHECK(plan.rejection->message.starts_with("a device may not delete " + std::string(nounOf(e)) + " records: "));
  }
  CHECK(planDelete(Entity::Patient).rejection->message ==
        "a device may not delete patient records: patient records are never deleted from a kiosk");
  for (const auto kind : {MutationKind::Insert, MutationKind::Update, MutationKind::Delete})
    CHECK((parseMutationKind(toString(kind)) == kind));
  CHECK(toString(MutationKind::Delete) == "delete");
  CHECK_FALSE(parseMutationKind("Insert").has_value());
  CHECK_FALSE(parseMutationKind("upsert").has_value());
}

// [SECTION] Update merge

namespace {

const std::string kPatientA = samples::id(3).toString();
const std::string kOtherPatient = samples::id(99).toString();

struct MergeCase {
  const char* what;
  Entity entity;
  Json::Object central;  // only the columns that matter; the rest as the sample row
  Json::Object changes;
  Json::Object prior;
  Json::Object toWrite;
  std::vector<FieldConflict> conflicts;
  std::vector<Overwrite> overwritten;
  std::vector<std::string> ignored;
  const char* rejection = "";  // code
  const char* message = "";    // the whole sentence, when it matters
};

Json::Object centralRow(Entity entity, const Json::Object& overrides) {
  Json::Object row = visitEntity(entity, [](auto record) -> Json::Object {
    using T = decltype(record);
    if constexpr (std::is_same_v<T, Patient>) return toRowJson(samples::patient());
    else if constexpr (std::is_same_v<T, WaitlistEntry>) return toRowJson(samples::entry());
    else if constexpr (std::is_same_v<T, Appointment>) return toRowJson(samples::appointment());
    else if constexpr (std::is_same_v<T, AppointmentRequest>) return toRowJson(samples::request());
    else if constexpr (std::is_same_v<T, AppointmentSlot>) return toRowJson(samples::slot());
    else if constexpr (std::is_same_v<T, Notification>) return toRowJson(samples::notification());
    else return toRowJson(record);
  });
  for (const auto& [k, v] : overrides) row.insert_or_assign(k, v);
  return row;
}

}  // namespace

TEST_CASE("an update merges per column by class") {
  const Json oldInsurance = Json::Object{{"self_pay", true}};
  const Json newInsurance = Json::Object{{"self_pay", false}, {"payer", "Aetna"}, {"member_id", "W1"}};
  const MergeCase cases[] = {
      // Status
      {"a check-in after a central cancellation is rejected with the reason",
       Entity::Appointment, {{"status", "cancelled"}}, {{"status", "checked_in"}}, {{"status", "scheduled"}},
       {}, {}, {}, {}, "sync.status.illegal", "a cancelled appointment is final and cannot change"},
      {"a check-in of a scheduled appointment applies",
       Entity::Appointment, {{"status", "scheduled"}}, {{"status", "checked_in"}}, {{"status", "scheduled"}},
       {{"status", "checked_in"}}, {}, {}, {}},
      {"a repeated check-in is a no-op",
       Entity::Appointment, {{"status", "checked_in"}}, {{"status", "checked_in"}}, {{"status", "scheduled"}},
       {}, {}, {}, {}},
      {"a no-show after the session started is rejected",
       Entity::Appointment, {{"status", "in_session"}}, {{"status", "no_show"}}, {{"status", "checked_in"}},
       {}, {}, {}, {}, "sync.status.illegal",
       "an appointment cannot be marked as a no-show once its session has started"},
      {"a rejection drops the mutation's other columns too",
       Entity::Appointment, {{"status", "cancelled"}}, {{"notes", "late"}, {"status", "checked_in"}},
       {{"notes", "interpreter booked"}, {"status", "scheduled"}}, {}, {}, {}, {}, "sync.status.illegal"},
      {"the patient accepts an offer",
       Entity::AppointmentRequest, {{"status", "offered"}}, {{"status", "accepted"}}, {{"status", "offered"}},
       {{"status", "accepted"}}, {}, {}, {}},
      {"accepting an offer that expired centrally is rejected",
       Entity::AppointmentRequest, {{"status", "expired"}}, {{"status", "accepted"}}, {{"status", "offered"}},
       {}, {}, {}, {}, "sync.status.illegal", "an expired request is final and cannot change"},
      {"a device cannot confirm a request",
       Entity::AppointmentRequest, {{"status", "accepted"}}, {{"status", "confirmed"}}, {{"status", "accepted"}},
       {}, {}, {}, {}, "sync.status.hub_only"},
      {"a device cannot schedule a waitlist entry",
       Entity::WaitlistEntry, {{"status", "offered"}}, {{"status", "scheduled"}}, {{"status", "offered"}},
       {}, {}, {}, {}, "sync.status.hub_only"},
      {"a status the machine does not know is rejected",
       Entity::Appointment, {{"status", "scheduled"}}, {{"status", "arrived"}}, {{"status", "scheduled"}},
       {}, {}, {}, {}, "sync.row.type", "column status must be one of its known values"},
      {"a status of the wrong type is rejected",
       Entity::Appointment, {{"status", "scheduled"}}, {{"status", 2}}, {{"status", "scheduled"}},
       {}, {}, {}, {}, "sync.row.type"},
      // Values of the wrong type, whatever their class
      {"a phone that is not text is rejected naming the column",
       Entity::Patient, {}, {{"phone", 5415551234}}, {{"phone", "+15415551234"}},
       {}, {}, {}, {}, "sync.row.type", "column phone must be a string"},
      {"insurance that is not an object is rejected",
       Entity::Patient, {}, {{"insurance_info", "Aetna"}}, {{"insurance_info", Json::Object{}}},
       {}, {}, {}, {}, "json.column", "column insurance_info must be an object"},
      {"an unreadable date of birth is rejected, not filed for review",
       Entity::Patient, {{"date_of_birth", "1986-04-12"}}, {{"date_of_birth", "12/04/1986"}},
       {{"date_of_birth", "1986-01-01"}}, {}, {}, {}, {}, "sync.row.type"},
      {"a required column cleared is rejected",
       Entity::Patient, {}, {{"last_name", nullptr}}, {{"last_name", "Peña-Ruiz"}},
       {}, {}, {}, {}, "sync.row.type", "column last_name must not be null"},
      {"a bad server-owned value is ignored with the column",
       Entity::WaitlistEntry, {}, {{"priority_score", "high"}}, {{"priority_score", 42.5}},
       {}, {}, {}, {"priority_score"}},
      // Mergeable
      {"a phone edit unchanged centrally applies",
       Entity::Patient, {{"phone", "+15415551234"}}, {{"phone", "+15415550000"}}, {{"phone", "+15415551234"}},
       {{"phone", "+15415550000"}}, {}, {}, {}},
      {"a device's phone edit and a central insurance edit merge per field",
       Entity::Patient, {{"phone", "+15415551234"}, {"insurance_info", newInsurance}},
       {{"phone", "+15415550000"}}, {{"phone", "+15415551234"}},
       {{"phone", "+15415550000"}}, {}, {}, {}},
      {"a phone edited on both sides: the later arrival wins, the overwritten value is kept",
       Entity::Patient, {{"phone", "+15415557777"}}, {{"phone", "+15415550000"}}, {{"phone", "+15415551234"}},
       {{"phone", "+15415550000"}}, {}, {{"phone", "+15415557777", "+15415550000"}}, {}},
      {"insurance edited on both sides is overwritten as a whole value",
       Entity::Patient, {{"insurance_info", newInsurance}}, {{"insurance_info", oldInsurance}},
       {{"insurance_info", Json::Object{}}},
       {{"insurance_info", oldInsurance}}, {}, {{"insurance_info", newInsurance, oldInsurance}}, {}},
      {"a mergeable column without a prior counts as changed centrally",
       Entity::Patient, {{"phone", "+15415551234"}}, {{"phone", "+15415550000"}}, {},
       {{"phone", "+15415550000"}}, {}, {{"phone", "+15415551234", "+15415550000"}}, {}},
      {"staff set urgency and a note on an entry",
       Entity::WaitlistEntry, {{"urgency", 0}, {"urgency_set_by", nullptr}, {"notes", nullptr}},
       {{"urgency", 2}, {"urgency_set_by", "staff-7"}, {"notes", "call after 3pm"}},
       {{"urgency", 0}, {"urgency_set_by", nullptr}, {"notes", nullptr}},
       {{"urgency", 2}, {"urgency_set_by", "staff-7"}, {"notes", "call after 3pm"}}, {}, {},
       {}},
      // Identity
      {"an identity edit on a device applies when central still holds what it saw",
       Entity::Patient, {{"last_name", "Okafor"}}, {{"last_name", "Okafor-Reyes"}}, {{"last_name", "Okafor"}},
       {{"last_name", "Okafor-Reyes"}}, {}, {}, {}},
      {"an identity edit on both sides keeps both values for review",
       Entity::Patient, {{"last_name", "Okafor-Diaz"}}, {{"last_name", "Okafor-Reyes"}}, {{"last_name", "Okafor"}},
       {}, {{"last_name", "Okafor-Diaz", "Okafor-Reyes"}}, {}, {}},
      {"the same identity edit on both sides is a no-op",
       Entity::Patient, {{"email", "o.okafor@patients.example"}}, {{"email", "o.okafor@patients.example"}},
       {{"email", "ottilie@patients.example"}}, {}, {}, {}, {}},
      {"a date of birth without a prior is kept for review",
       Entity::Patient, {{"date_of_birth", "1986-04-12"}}, {{"date_of_birth", "1986-12-04"}}, {},
       {}, {{"date_of_birth", "1986-04-12", "1986-12-04"}}, {}, {}},
      {"an identity conflict beside a mergeable edit: the edit applies, the conflict is filed",
       Entity::Patient, {{"first_name", "Ottilie"}, {"phone", "+15415551234"}},
       {{"first_name", "Tilly"}, {"phone", "+15415550000"}},
       {{"first_name", "Otti"}, {"phone", "+15415551234"}},
       {{"phone", "+15415550000"}}, {{"first_name", "Ottilie", "Tilly"}}, {}, {}},
      // Server-owned and unknown
      {"priority_score in changes is ignored",
       Entity::WaitlistEntry, {{"status", "waiting"}, {"priority_score", 12.5}},
       {{"priority_score", 55.0}, {"status", "removed"}}, {{"priority_score", 12.0}, {"status", "waiting"}},
       {{"status", "removed"}}, {}, {}, {"priority_score"}},
      {"timestamps, local-only and envelope columns are ignored",
       Entity::Patient, {},
       {{"created_at", "2026-11-24T00:00:00.000000Z"}, {"lookup_key", "x"}, {"row_version", 4}},
       {}, {}, {}, {}, {"created_at", "lookup_key", "row_version"}},
      // Fixed columns
      {"moving an appointment to another patient is rejected",
       Entity::Appointment, {{"patient_id", kPatientA}}, {{"patient_id", kOtherPatient}}, {{"patient_id", kPatientA}},
       {}, {}, {}, {}, "sync.column.fixed", "this appointment's patient_id cannot be changed once it is created"},
      {"a reference sent unchanged is nothing",
       Entity::Appointment, {{"patient_id", kPatientA}}, {{"patient_id", kPatientA}}, {{"patient_id", kPatientA}},
       {}, {}, {}, {}},
      {"changing a row's id is rejected",
       Entity::Patient, {}, {{"patient_id", kOtherPatient}}, {{"patient_id", kPatientA}},
       {}, {}, {}, {}, "sync.column.fixed"},
      {"moving an appointment's time on a device is rejected",
       Entity::Appointment, {}, {{"start_time", "2026-11-25T11:00:00.000000Z"}},
       {{"start_time", "2026-11-25T10:00:00.000000Z"}}, {}, {}, {}, {}, "sync.column.fixed"},
      // Not writable
      {"a device cannot hold or book a slot",
       Entity::AppointmentSlot, {{"status", "open"}}, {{"status", "held"}}, {{"status", "open"}},
       {}, {}, {}, {}, "sync.not_writable",
       "a device may not change appointment slot records: only the practice books and holds slots"},
      {"a device cannot change practice details",
       Entity::Practice, {}, {{"phone", "+12175550199"}}, {{"phone", "+12175550100"}},
       {}, {}, {}, {}, "sync.not_writable"},
      {"a device cannot change a notification",
       Entity::Notification, {{"status", "pending"}}, {{"status", "sent"}}, {{"status", "pending"}},
       {}, {}, {}, {}, "sync.not_writable"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const MergePlan plan = planUpdate(c.entity, centralRow(c.entity, c.central), c.changes, c.prior);
    if (*c.rejection) {
      REQUIRE(plan.rejection.has_value());
      CHECK(plan.rejection->code == c.rejection);
      CHECK_FALSE(plan.rejection->message.empty());
      if (*c.message) CHECK(plan.rejection->message == c.message);
      CHECK(plan.toWrite.empty());
      CHECK(plan.conflicts.empty());
      CHECK(plan.overwritten.empty());
      CHECK_FALSE(plan.merged());
      continue;
    }
    CHECK_FALSE(plan.rejection.has_value());
    CHECK(Json(plan.toWrite).dump() == Json(c.toWrite).dump());
    CHECK(plan.conflicts == c.conflicts);
    CHECK(plan.overwritten == c.overwritten);
    CHECK(plan.ignored == c.ignored);
    CHECK(plan.merged() == (!c.conflicts.empty() || !c.overwritten.empty() || !c.ignored.empty()));
  }
}

TEST_CASE("a rejection's message never carries the values") {
  const MergePlan plan = planUpdate(Entity::Appointment, centralRow(Entity::Appointment, {}),
                                    {{"patient_id", kOtherPatient}}, {{"patient_id", kPatientA}});
  REQUIRE(plan.rejection.has_value());
  CHECK(plan.rejection->message.find(kOtherPatient) == std::string::npos);
  CHECK(plan.rejection->message.find(kPatientA) == std::string::npos);
}

// [SECTION] New rows

TEST_CASE("a new row: server-owned columns are dropped, and only a device's kinds of rows start") {
  struct Case {
    const char* what;
    Entity entity;
    Json::Object overrides;
    std::vector<std::string> ignored;
    const char* rejection = "";
  };
  const Case cases[] = {
      {"a walk-in patient", Entity::Patient, {}, {"created_at", "updated_at"}},
      {"a waitlist entry is scored by the hub", Entity::WaitlistEntry, {{"status", "waiting"}},
       {"created_at", "priority_score", "updated_at"}},
      {"a same-day request", Entity::AppointmentRequest, {{"status", "pending"}}, {"created_at", "updated_at"}},
      {"a waitlist offer", Entity::AppointmentRequest, {{"status", "offered"}}, {"created_at", "updated_at"}},
      {"a front-desk note", Entity::Notification, {{"status", "pending"}},
       {"created_at", "read_at", "sent_at", "updated_at"}},
      {"a request cannot arrive confirmed", Entity::AppointmentRequest, {{"status", "confirmed"}}, {},
       "sync.status.initial"},
      {"an entry cannot arrive scheduled", Entity::WaitlistEntry, {{"status", "scheduled"}}, {},
       "sync.status.initial"},
      {"a new row with a value of the wrong type", Entity::Patient, {{"phone", 12}}, {}, "sync.row.type"},
      {"a new row without a required column", Entity::Patient, {{"first_name", nullptr}}, {}, "sync.row.type"},
      {"a device never creates an appointment", Entity::Appointment, {}, {}, "sync.not_writable"},
      {"a device never creates a slot", Entity::AppointmentSlot, {}, {}, "sync.not_writable"},
      {"a device never enrols staff", Entity::StaffUser, {}, {}, "sync.not_writable"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Json::Object row = centralRow(c.entity, c.overrides);
    row.insert_or_assign("lookup_key", Json("okafor"));  // a local-only column sent by mistake
    const MergePlan plan = planInsert(c.entity, row);
    if (*c.rejection) {
      REQUIRE(plan.rejection.has_value());
      CHECK(plan.rejection->code == c.rejection);
      CHECK(plan.toWrite.empty());
      continue;
    }
    REQUIRE_FALSE(plan.rejection.has_value());
    std::vector<std::string> ignored = c.ignored;
    ignored.insert(std::lower_bound(ignored.begin(), ignored.end(), "lookup_key"), "lookup_key");
    CHECK(plan.ignored == ignored);
    CHECK(plan.toWrite.size() + plan.ignored.size() == row.size());
    for (const auto& column : plan.ignored) CHECK(plan.toWrite.find(column) == plan.toWrite.end());
  }
  // As the store's outbox sends a new entry: without the server-owned score, which the hub sets.
  Json::Object fromOutbox = centralRow(Entity::WaitlistEntry, {{"status", "waiting"}});
  fromOutbox.erase("priority_score");
  const MergePlan entry = planInsert(Entity::WaitlistEntry, fromOutbox);
  CHECK_FALSE(entry.rejection.has_value());
  CHECK(entry.toWrite.find("priority_score") == entry.toWrite.end());
  Json::Object partial = toRowJson(samples::patient());
  partial.erase("first_name");
  const MergePlan plan = planInsert(Entity::Patient, partial);
  REQUIRE(plan.rejection.has_value());
  CHECK(plan.rejection->code == "sync.row.missing");
  CHECK(plan.rejection->message == "column first_name is missing");
}

// [SECTION] Walk-in identity

TEST_CASE("walk-in identity folds names as the kiosk does") {
  const Date dob = 1986y / April / 12;
  struct Case {
    const char* first;
    const char* last;
    Date dob;
    bool same;
  };
  const Case cases[] = {
      {"Ottilie", "Peña-Ruiz", dob, true},
      {"ottilie", "pena ruiz", dob, true},
      {"  OTTILIE ", "Pena-Ruiz", dob, true},
      {"Ottilie", "Penaruiz", dob, true},  // letters only
      {"Ottilie", "Peña-Ruiz", 1986y / April / 13, false},
      {"Ottilia", "Peña-Ruiz", dob, false},
      {"Ottilie", "Peña", dob, false},
      {"Peña-Ruiz", "Ottilie", dob, false},  // first and last swapped
  };
  const WalkinIdentity central = foldIdentity("Ottilie", "Peña-Ruiz", dob);
  CHECK(central.firstFolded == "ottilie");
  CHECK(central.lastFolded == "penaruiz");
  CHECK(central.dateOfBirth == dob);
  for (const auto& c : cases) {
    CAPTURE(c.first);
    CAPTURE(c.last);
    CHECK(sameIdentity(central, foldIdentity(c.first, c.last, c.dob)) == c.same);
    CHECK(sameIdentity(foldIdentity(c.first, c.last, c.dob), central) == c.same);
  }
  CHECK(sameIdentity(foldIdentity("O'Brien", "Zoë", dob), foldIdentity("OBrien", "zoe", dob)));
  // Nothing to compare is never a match.
  CHECK_FALSE(sameIdentity(foldIdentity("", "", dob), foldIdentity("", "", dob)));
  CHECK_FALSE(sameIdentity(foldIdentity("--", "Smith", dob), foldIdentity("..", "Smith", dob)));
}

// [SECTION] Request confirmation

namespace {

struct RequestInputs {
  AppointmentRequest request = samples::request();  // accepted offer for the slot
  AppointmentSlot slot = samples::slot();            // held, 14:00-14:50
  std::vector<Appointment> appointments;
  std::optional<WaitlistEntry> entry = samples::entry();  // offered
  Instant now = samples::at(11);
};

Appointment providerAppointment(Instant start, Instant end, AppointmentStatus status) {
  Appointment a = samples::appointment();
  a.appointmentId = samples::id(50);
  a.startTime = start;
  a.endTime = end;
  a.status = status;
  return a;
}

const NewAppointment kNew{samples::id(60), AppointmentType::Telehealth};

}  // namespace

TEST_CASE("the hub confirms a request or rejects it with a reason") {
  struct Case {
    const char* what;
    void (*arrange)(RequestInputs&);
    const char* rejection;  // "" = confirmed
  };
  const Case cases[] = {
      {"an accepted offer for a held slot", [](RequestInputs&) {}, ""},
      {"a pending same-day request for an open slot",
       [](RequestInputs& in) {
         in.request.status = RequestStatus::Pending;
         in.slot.status = SlotStatus::Open;
       },
       ""},
      {"a request without a waitlist entry",
       [](RequestInputs& in) {
         in.request.waitlistEntryId.reset();
         in.entry.reset();
       },
       ""},
      {"an offer the patient has not accepted yet",
       [](RequestInputs& in) { in.request.status = RequestStatus::Offered; }, "request.not_open"},
      {"a cancelled request", [](RequestInputs& in) { in.request.status = RequestStatus::Cancelled; },
       "request.not_open"},
      {"a request confirmed before", [](RequestInputs& in) { in.request.status = RequestStatus::Confirmed; },
       "request.not_open"},
      {"a request for another slot", [](RequestInputs& in) { in.request.appointmentSlotId = samples::id(77); },
       "request.wrong_slot"},
      {"a slot deleted centrally", [](RequestInputs& in) { in.slot.sync.deleted = true; }, "request.slot_gone"},
      {"a slot already booked", [](RequestInputs& in) { in.slot.status = SlotStatus::Booked; },
       "request.slot_taken"},
      {"a blocked slot", [](RequestInputs& in) { in.slot.status = SlotStatus::Blocked; }, "request.slot_taken"},
      {"a slot that has started", [](RequestInputs& in) { in.now = samples::at(14); }, "request.slot_past"},
      {"a slot of another provider", [](RequestInputs& in) { in.slot.providerId = samples::id(70); },
       "request.other_provider"},
      {"a live appointment overlapping the slot",
       [](RequestInputs& in) {
         in.appointments.push_back(providerAppointment(samples::at(13, 30), samples::at(14, 10),
                                                       AppointmentStatus::Scheduled));
       },
       "request.overlap"},
      {"a cancelled appointment at the same time does not block",
       [](RequestInputs& in) {
         in.appointments.push_back(providerAppointment(samples::at(14), samples::at(14, 50),
                                                       AppointmentStatus::Cancelled));
       },
       ""},
      {"an appointment ending as the slot starts does not block",
       [](RequestInputs& in) {
         in.appointments.push_back(providerAppointment(samples::at(13, 10), samples::at(14),
                                                       AppointmentStatus::Scheduled));
       },
       ""},
      {"another provider's appointment does not block",
       [](RequestInputs& in) {
         Appointment a = providerAppointment(samples::at(14), samples::at(14, 50), AppointmentStatus::Scheduled);
         a.providerId = samples::id(70);
         in.appointments.push_back(a);
       },
       ""},
      {"an entry staff removed meanwhile",
       [](RequestInputs& in) { in.entry->status = WaitlistEntryStatus::Removed; }, "request.entry_inactive"},
      {"an entry scheduled meanwhile",
       [](RequestInputs& in) { in.entry->status = WaitlistEntryStatus::Scheduled; }, "request.entry_inactive"},
      {"an entry that is gone", [](RequestInputs& in) { in.entry.reset(); }, "request.entry_inactive"},
      {"an entry of another patient", [](RequestInputs& in) { in.entry->patientId = samples::id(90); },
       "request.entry_mismatch"},
      {"a same-day request for a slot held for an offer",
       [](RequestInputs& in) { in.request.status = RequestStatus::Pending; }, "request.slot_held"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    RequestInputs in;
    c.arrange(in);
    const RequestDecision d = decideRequest(in.request, in.slot, in.appointments, in.entry, in.now, kNew);
    if (!*c.rejection) {
      REQUIRE(std::holds_alternative<RequestConfirmation>(d));
      const auto& ok = std::get<RequestConfirmation>(d);
      CHECK(ok.slotBooked.status == SlotStatus::Booked);
      CHECK(ok.requestConfirmed.status == RequestStatus::Confirmed);
      CHECK(ok.entryScheduled.has_value() == in.request.waitlistEntryId.has_value());
      continue;
    }
    REQUIRE(std::holds_alternative<RequestRejection>(d));
    const auto& no = std::get<RequestRejection>(d);
    CHECK(no.code == c.rejection);
    CHECK_FALSE(no.message.empty());
    CHECK(no.requestRejected.requestId == in.request.requestId);
  }
}

TEST_CASE("a confirmation books the slot for the request's patient") {
  RequestInputs in;
  const RequestDecision d = decideRequest(in.request, in.slot, in.appointments, in.entry, in.now, kNew);
  REQUIRE(std::holds_alternative<RequestConfirmation>(d));
  const auto& ok = std::get<RequestConfirmation>(d);
  CHECK(ok.toCreate.appointmentId == kNew.appointmentId);
  CHECK(ok.toCreate.patientId == in.request.patientId);
  CHECK(ok.toCreate.providerId == in.slot.providerId);
  CHECK(ok.toCreate.waitlistEntryId == in.request.waitlistEntryId);
  CHECK(ok.toCreate.startTime == in.slot.startTime);
  CHECK(ok.toCreate.endTime == in.slot.endTime);
  CHECK(ok.toCreate.status == AppointmentStatus::Scheduled);
  CHECK(ok.toCreate.type == AppointmentType::Telehealth);
  CHECK(ok.toCreate.createdAt == in.now);
  CHECK(ok.slotBooked.slotId == in.slot.slotId);
  CHECK(ok.slotBooked.updatedAt == in.now);
  REQUIRE(ok.entryScheduled.has_value());
  CHECK(ok.entryScheduled->entryId == in.entry->entryId);
  CHECK(ok.entryScheduled->status == WaitlistEntryStatus::Scheduled);
  CHECK(ok.requestConfirmed.requestId == in.request.requestId);
  CHECK(ok.requestConfirmed.updatedAt == in.now);
}

TEST_CASE("a rejected request is marked rejected only when its machine allows it") {
  RequestInputs in;
  in.slot.status = SlotStatus::Booked;
  in.request.status = RequestStatus::Pending;
  auto d = decideRequest(in.request, in.slot, in.appointments, in.entry, in.now, kNew);
  REQUIRE(std::holds_alternative<RequestRejection>(d));
  CHECK(std::get<RequestRejection>(d).requestRejected.status == RequestStatus::Rejected);
  CHECK(std::get<RequestRejection>(d).message == "that time slot is no longer available");

  in.request.status = RequestStatus::Cancelled;
  d = decideRequest(in.request, in.slot, in.appointments, in.entry, in.now, kNew);
  REQUIRE(std::holds_alternative<RequestRejection>(d));
  CHECK(std::get<RequestRejection>(d).requestRejected.status == RequestStatus::Cancelled);
  CHECK(std::get<RequestRejection>(d).message == "a cancelled request is final and cannot change");
}

TEST_CASE("two requests for one slot: the first confirms, the second is rejected") {
  RequestInputs in;
  in.slot.status = SlotStatus::Open;
  AppointmentRequest first = in.request;
  first.status = RequestStatus::Pending;
  first.waitlistEntryId.reset();
  AppointmentRequest second = first;
  second.requestId = samples::id(80);
  second.patientId = samples::id(81);

  const auto one = decideRequest(first, in.slot, {}, std::nullopt, in.now, kNew);
  REQUIRE(std::holds_alternative<RequestConfirmation>(one));
  const auto& booked = std::get<RequestConfirmation>(one);

  // The hub writes the confirmation, then decides the second against what it wrote.
  const std::vector<Appointment> live{booked.toCreate};
  const auto two = decideRequest(second, booked.slotBooked, live, std::nullopt, in.now,
                                 NewAppointment{samples::id(61), AppointmentType::InPerson});
  REQUIRE(std::holds_alternative<RequestRejection>(two));
  CHECK(std::get<RequestRejection>(two).code == "request.slot_taken");
  CHECK(std::get<RequestRejection>(two).requestRejected.status == RequestStatus::Rejected);
  CHECK(std::get<RequestRejection>(two).requestRejected.requestId == second.requestId);

  // Even if the slot row were stale, the provider's new appointment blocks a second booking.
  const auto stale = decideRequest(second, in.slot, live, std::nullopt, in.now, kNew);
  REQUIRE(std::holds_alternative<RequestRejection>(stale));
  CHECK(std::get<RequestRejection>(stale).code == "request.overlap");
}

TEST_CASE("the data window both sides use: two UTC days back to daysAhead + 2 ahead, notifications for 7 days") {
  using namespace std::chrono;
  const Instant now = Instant{sys_days{2026y / March / 2}} + hours{23} + minutes{59};
  const DataWindow w = dataWindowAt(now, 3);
  CHECK(w.from == Instant{sys_days{2026y / February / 28}});
  CHECK(w.to == Instant{sys_days{2026y / March / 7}});
  CHECK(w.notificationsFrom == now - days{7});
  // Just after midnight UTC the window has moved by a whole day, not by a minute.
  const DataWindow later = dataWindowAt(now + minutes{2}, 3);
  CHECK(later.from == w.from + days{1});
  CHECK(later.to == w.to + days{1});
  CHECK(dataWindowAt(now, 0).to == Instant{sys_days{2026y / March / 4}});
}

TEST_CASE("an arrival is a move to checked_in from another status; the notice names ids and the kiosk's time") {
  const Json::Object scheduled{{"status", Json("scheduled")}};
  const Json::Object checkedIn{{"status", Json("checked_in")}};
  CHECK(checksIn(scheduled, checkedIn));
  CHECK_FALSE(checksIn(checkedIn, checkedIn));  // a second kiosk's repeat
  CHECK_FALSE(checksIn(scheduled, Json::Object{{"status", Json("no_show")}}));
  CHECK_FALSE(checksIn(scheduled, Json::Object{{"notes", Json("interpreter")}}));

  const Appointment a = samples::appointment();
  const Instant now = samples::at(10, 5);
  const Uuid id = samples::id(40);
  const Notification offline = arrivalNotice(a, {samples::at(9, 40), now}, id);
  CHECK(offline.notificationId == id);
  CHECK(offline.recipientId == a.providerId);
  CHECK(offline.recipientType == RecipientType::Provider);
  CHECK(offline.type == NotificationType::PatientArrived);
  CHECK(offline.status == NotificationStatus::Pending);
  CHECK(offline.content.params == std::map<std::string, std::string>{{"appointment_id", a.appointmentId.toString()},
                                                                     {"arrived_at", formatInstant(samples::at(9, 40))}});
  CHECK(offline.createdAt == now);
  // A kiosk clock ahead of the hub's cannot put the arrival in the future.
  CHECK(arrivalNotice(a, {now + hours{3}, now}, id).content.params.at("arrived_at") == formatInstant(now));
}
