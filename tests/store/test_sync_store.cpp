// The device's side of sync: server rows only move forward and wait behind pending edits, the
// acknowledgement transaction (conflicts, remaps, rollback), sync state in the page's
// transaction, the resync reset, the clock shared by two processes, and pages that must commit.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "anteroom/model/hlc.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/store/sync_store.hpp"
#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
using store::AckStatus;
using store::ApplyOutcome;
using store::ChangeOp;
using store::MutationAck;
using store::RemoteChange;
using store::SyncTx;

namespace {

// [SECTION] Rows as the hub sends them (written out column by column, as on the wire)

Json optionalText(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }
Json optionalId(const std::optional<Uuid>& v) { return v ? Json(v->toString()) : Json(); }

Json::Object patientRow(const Patient& p) {
  return {{"patient_id", p.patientId.toString()},
          {"first_name", p.firstName},
          {"last_name", p.lastName},
          {"email", p.email},
          {"phone", p.phone},
          {"date_of_birth", formatDate(p.dateOfBirth)},
          {"insurance_info", toJson(p.insuranceInfo)},
          {"preferences", toJson(p.preferences)},
          {"created_at", formatInstant(p.createdAt)},
          {"updated_at", formatInstant(p.updatedAt)},
          {"deleted", p.sync.deleted}};
}

Json::Object appointmentRow(const Appointment& a) {
  return {{"appointment_id", a.appointmentId.toString()},
          {"provider_id", a.providerId.toString()},
          {"patient_id", a.patientId.toString()},
          {"waitlist_entry_id", optionalId(a.waitlistEntryId)},
          {"start_time", formatInstant(a.startTime)},
          {"end_time", formatInstant(a.endTime)},
          {"status", std::string(toString(a.status))},
          {"type", std::string(toString(a.type))},
          {"notes", optionalText(a.notes)},
          {"created_at", formatInstant(a.createdAt)},
          {"updated_at", formatInstant(a.updatedAt)},
          {"deleted", a.sync.deleted}};
}

Json::Object entryRow(const WaitlistEntry& e) {
  return {{"entry_id", e.entryId.toString()},
          {"waitlist_id", e.waitlistId.toString()},
          {"patient_id", e.patientId.toString()},
          {"provider_id", optionalId(e.providerId)},
          {"priority_score", e.priorityScore},
          {"status", std::string(toString(e.status))},
          {"notes", optionalText(e.notes)},
          {"created_at", formatInstant(e.createdAt)},
          {"updated_at", formatInstant(e.updatedAt)},
          {"urgency", e.urgency},
          {"urgency_set_by", optionalText(e.urgencySetBy)},
          {"deleted", e.sync.deleted}};
}

RemoteChange upsert(const Patient& p, std::int64_t version) {
  return {"patient", p.patientId, ChangeOp::Upsert, version, patientRow(p)};
}
RemoteChange upsert(const Appointment& a, std::int64_t version) {
  return {"appointment", a.appointmentId, ChangeOp::Upsert, version, appointmentRow(a)};
}
RemoteChange upsert(const WaitlistEntry& e, std::int64_t version) {
  return {"waitlist_entry", e.entryId, ChangeOp::Upsert, version, entryRow(e)};
}

// Applies changes in one sync transaction; the outcomes in order.
std::vector<ApplyOutcome> applyPage(store::Store& s, const std::vector<RemoteChange>& changes) {
  std::vector<ApplyOutcome> outcomes;
  auto r = s.syncWrite(at(9), [&](SyncTx& tx) -> Result<void> {
    for (const auto& c : changes) {
      auto o = tx.apply(c);
      if (!o) return std::unexpected(o.error());
      outcomes.push_back(*o);
    }
    return tx.recordPage(changes.size());
  });
  if (!r) FAIL("page failed: " << r.error().code << ": " << r.error().message);
  return outcomes;
}

Result<void> acknowledge(store::Store& s, const std::vector<MutationAck>& acks) {
  return s.syncWrite(at(9, 30), [&](SyncTx& tx) { return tx.acknowledge(acks); });
}

MutationAck ack(const store::OutboxMutation& m, AckStatus status = AckStatus::Applied) {
  MutationAck a;
  a.mutationId = m.mutationId;
  a.status = status;
  return a;
}

std::vector<store::HeldChange> heldRows(store::Store& s) {
  std::vector<store::HeldChange> out;
  auto r = s.syncWrite([&](SyncTx& tx) -> Result<void> {
    auto h = tx.held();
    if (!h) return std::unexpected(h.error());
    out = *h;
    return {};
  });
  REQUIRE(r.has_value());
  return out;
}

Patient patientOn(store::Store& s, const Uuid& id) {
  auto p = s.get<Patient>(id);
  REQUIRE(p.has_value());
  REQUIRE(p->has_value());
  return **p;
}

std::optional<std::string> stateOf(store::Store& s, std::string_view key) {
  auto v = s.syncValue(key);
  REQUIRE(v.has_value());
  return *v;
}

HlcTimestamp clockOf(const std::string& hlc) {
  auto decoded = HybridLogicalClock::decode(hlc);
  REQUIRE(decoded.has_value());
  return decoded->first;
}

// Two outbox mutations, as a kiosk writes them: a check-in, then a note for the front desk.
void checkInThenNoteTheDesk(store::Store& s, const SampleData& d) {
  REQUIRE(s.checkIn(d.appointment.appointmentId, store::Actor::kiosk(), at(9, 55)).has_value());
  Notification note;
  note.notificationId = Uuid::parse("0190a000-0000-7000-8000-0000000000f1").value();
  note.recipientId = d.provider.providerId;
  note.recipientType = RecipientType::FrontDesk;
  note.type = NotificationType::RequestReceived;
  note.content.templateKey = "request_received";
  REQUIRE(s.write(store::Actor::kiosk(), at(9, 56), [&](store::WriteTx& tx) { return tx.insert(note); }).has_value());
}

std::string nodeOf(const std::string& hlc) {
  auto decoded = HybridLogicalClock::decode(hlc);
  REQUIRE(decoded.has_value());
  return decoded->second;
}

}  // namespace

// [SECTION] Applying server rows

TEST_CASE("a server row only moves row_version forward, never through the outbox") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  Patient p = d.patient;
  CHECK(applyPage(s, {upsert(p, 5)}) == std::vector{ApplyOutcome::Applied});
  CHECK(patientOn(s, p.patientId).sync.rowVersion == 5);

  Patient older = p;
  older.firstName = "Older";
  Patient newer = p;
  newer.firstName = "Newer";
  CHECK(applyPage(s, {upsert(older, 4), upsert(older, 5)}) == std::vector{ApplyOutcome::Stale, ApplyOutcome::Stale});
  CHECK(patientOn(s, p.patientId).firstName == "Ottilie");
  CHECK(applyPage(s, {upsert(newer, 6), upsert(older, 5)}) == std::vector{ApplyOutcome::Applied, ApplyOutcome::Stale});
  const Patient stored = patientOn(s, p.patientId);
  CHECK(stored.firstName == "Newer");
  CHECK(stored.sync.rowVersion == 6);
  // The device's own lookup column is derived from the server's row.
  CHECK(s.findPatients("thistlewood", p.dateOfBirth).value().size() == 1);

  CHECK(s.pendingOutboxCount().value() == 0);
  // One audit row per page, none per change, and no PHI in it.
  const auto audit = s.auditTrail(10).value();
  REQUIRE(audit.size() == 3);
  CHECK(audit[0].action == "pull_page");
  CHECK(audit[0].fields == "2 changes");
  CHECK(audit[0].actorKind == "sync");
}

TEST_CASE("purge and leave remove the row and nothing else; a delete keeps a tombstone") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  Patient tomb = d.patient;
  tomb.sync.deleted = true;
  RemoteChange deletion = upsert(tomb, 2);
  deletion.op = ChangeOp::Delete;
  CHECK(applyPage(s, {deletion}) == std::vector{ApplyOutcome::Applied});
  CHECK(patientOn(s, d.patient.patientId).sync.deleted);

  CHECK(applyPage(s, {{"patient", d.patient.patientId, ChangeOp::Purge, 3, {}},
                      {"appointment", d.appointment.appointmentId, ChangeOp::Leave, 4, {}}}) ==
        std::vector{ApplyOutcome::Applied, ApplyOutcome::Applied});
  CHECK_FALSE(s.get<Patient>(d.patient.patientId).value().has_value());
  CHECK_FALSE(s.get<Appointment>(d.appointment.appointmentId).value().has_value());
  // The purged patient's waitlist entry is its own row: it stays until the hub says otherwise.
  CHECK(s.get<WaitlistEntry>(d.entry.entryId).value().has_value());
  CHECK(s.get<Practice>(d.practice.practiceId).value().has_value());
  // A purge of a row the device never had is not an error.
  CHECK(applyPage(s, {{"patient", d.id(), ChangeOp::Purge, 9, {}}}) == std::vector{ApplyOutcome::Applied});
  REQUIRE(s.checkIntegrity().has_value());
}

TEST_CASE("a page with a duplicate e-mail, a second active entry and an orphan appointment commits") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  // Centrally the e-mail moved from one record to the other; the page carries both halves in
  // an order the device must not care about.
  Patient sameEmail = d.patient;
  sameEmail.patientId = d.id();
  sameEmail.firstName = "Perpetua";
  // An appointment whose patient and provider this device does not hold (yet).
  Appointment orphan = d.appointment;
  orphan.appointmentId = d.id();
  orphan.patientId = d.id();
  orphan.providerId = d.id();
  // A second active entry for one patient on one list: the hub owns that rule.
  WaitlistEntry second = d.entry;
  second.entryId = d.id();
  auto r = s.syncWrite(at(9), [&](SyncTx& tx) -> Result<void> {
    for (const auto& c : {upsert(sameEmail, 3), upsert(orphan, 4), upsert(second, 5)}) {
      auto o = tx.apply(c);
      if (!o) return std::unexpected(o.error());
    }
    if (auto c = tx.setValue("pull_cursor", "c-5"); !c) return c;
    return tx.recordPage(3);
  });
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  CHECK(patientOn(s, sameEmail.patientId).firstName == "Perpetua");
  CHECK(s.get<Appointment>(orphan.appointmentId).value().has_value());
  CHECK(s.waitlistEntries(d.waitlist.waitlistId, true).value().size() == 2);
  CHECK(stateOf(s, "pull_cursor") == std::optional<std::string>("c-5"));
  REQUIRE(s.checkIntegrity().has_value());
}

TEST_CASE("the cursor moves only with its page: a failed page leaves rows and cursor as they were") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  REQUIRE(s.syncWrite([&](SyncTx& tx) { return tx.setValue("pull_cursor", "c-1"); }).has_value());
  auto r = s.syncWrite([&](SyncTx& tx) -> Result<void> {
    if (auto o = tx.apply(upsert(d.patient, 2)); !o) return std::unexpected(o.error());
    if (auto c = tx.setValue("pull_cursor", "c-2"); !c) return c;
    auto cursor = tx.value("pull_cursor");
    REQUIRE(cursor.has_value());
    CHECK(*cursor == std::optional<std::string>("c-2"));  // visible inside its transaction
    return fail(ErrorDomain::Network, "test.dropped", "the connection dropped", true);
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "test.dropped");
  CHECK_FALSE(s.get<Patient>(d.patient.patientId).value().has_value());
  CHECK(stateOf(s, "pull_cursor") == std::optional<std::string>("c-1"));
}

TEST_CASE("bad rows from the server are refused with a clear error and change nothing") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  struct Case {
    const char* what;
    RemoteChange change;
    const char* code;
    const char* words;  // part of the message
  };
  RemoteChange missing = upsert(d.patient, 2);
  missing.row.erase("date_of_birth");
  RemoteChange wrongType = upsert(d.patient, 2);
  wrongType.row["email"] = Json(std::int64_t{42});
  RemoteChange badDate = upsert(d.patient, 2);
  badDate.row["date_of_birth"] = Json("1986-13-45");
  RemoteChange otherId = upsert(d.patient, 2);
  otherId.id = d.id();
  RemoteChange badEnum = upsert(d.appointment, 2);
  badEnum.row["status"] = Json("teleported");
  RemoteChange unknown = upsert(d.patient, 2);
  unknown.entity = "billing";
  const Case cases[] = {
      {"a missing column", missing, "sync.row.missing", "patient row whose column date_of_birth is missing"},
      {"a wrong type", wrongType, "sync.row.type", "column email must be a string"},
      {"an impossible date", badDate, "sync.row.type", "column date_of_birth must be a date"},
      {"an id that is not the change's", otherId, "sync.row.id", "id is not the change's id"},
      {"an unknown status", badEnum, "sync.row.type", "column status must be one of its known values"},
      {"an unknown table", unknown, "sync.unknown_entity", "'billing'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Patient good = d.patient;
    good.patientId = d.id();
    good.email = "good.row@patients.example";
    auto r = s.syncWrite([&](SyncTx& tx) -> Result<void> {
      if (auto o = tx.apply(upsert(good, 1)); !o) return std::unexpected(o.error());
      auto o = tx.apply(c.change);
      if (!o) return std::unexpected(o.error());
      return {};
    });
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().domain == ErrorDomain::Protocol);
    CHECK(r.error().code == c.code);
    CHECK(r.error().message.find(c.words) != std::string::npos);
    // Never the value itself: rows carry PHI.
    CHECK(r.error().message.find("1986") == std::string::npos);
    CHECK_FALSE(s.get<Patient>(good.patientId).value().has_value());  // the whole page rolled back
  }
  CHECK_FALSE(s.get<Patient>(d.patient.patientId).value().has_value());
}

// [SECTION] Held back over pending local edits

TEST_CASE("a server row for a record with pending edits is held back and applied after the ack") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  REQUIRE(applyPage(s, {upsert(d.patient, 3)}) == std::vector{ApplyOutcome::Applied});

  // Two local edits of the patient, queued.
  Patient local = patientOn(s, d.patient.patientId);
  local.phone = "+15415559876";
  REQUIRE(s.update(local, store::Actor::kiosk()).has_value());
  local.preferences.contactConsent = true;
  REQUIRE(s.update(local, store::Actor::kiosk()).has_value());
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 2);

  // Someone else changed the patient centrally: the pulled row waits, the local edits stay.
  Patient central4 = d.patient;
  central4.firstName = "Central Four";
  Patient central5 = d.patient;
  central5.firstName = "Central Five";
  CHECK(applyPage(s, {upsert(central4, 4), upsert(central5, 5), upsert(central4, 4)}) ==
        std::vector{ApplyOutcome::SkippedPendingLocal, ApplyOutcome::SkippedPendingLocal,
                    ApplyOutcome::SkippedPendingLocal});
  CHECK(patientOn(s, d.patient.patientId).firstName == "Ottilie");
  CHECK(patientOn(s, d.patient.patientId).phone == "+15415559876");
  auto held = heldRows(s);
  REQUIRE(held.size() == 1);  // the newest per row
  CHECK(held[0].rowVersion == 5);
  CHECK(held[0].entity == "patient");

  // The first edit is acknowledged: the second still pends, so the row still waits.
  REQUIRE(acknowledge(s, {ack(outbox[0])}).has_value());
  CHECK(patientOn(s, d.patient.patientId).firstName == "Ottilie");
  CHECK(heldRows(s).size() == 1);

  // The second is acknowledged: the held row is applied, and the row_version moved on.
  REQUIRE(acknowledge(s, {ack(outbox[1])}).has_value());
  const Patient after = patientOn(s, d.patient.patientId);
  CHECK(after.firstName == "Central Five");
  CHECK(after.sync.rowVersion == 5);
  CHECK(heldRows(s).empty());
  CHECK(s.pendingOutboxCount().value() == 0);
}

TEST_CASE("an authoritative row newer than the held one wins; the held one is dropped") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  REQUIRE(applyPage(s, {upsert(d.patient, 3)}) == std::vector{ApplyOutcome::Applied});
  Patient local = d.patient;
  local.phone = "+15415559876";
  REQUIRE(s.update(local, store::Actor::kiosk()).has_value());
  Patient central = d.patient;
  central.firstName = "Held";
  REQUIRE(applyPage(s, {upsert(central, 4)}) == std::vector{ApplyOutcome::SkippedPendingLocal});

  // The hub merged the phone onto its version 4 and answers with version 6.
  Patient merged = central;
  merged.phone = "+15415559876";
  merged.lastName = "Merged";
  MutationAck a = ack(s.pendingOutbox(1).value().at(0), AckStatus::Merged);
  a.row = upsert(merged, 6);
  REQUIRE(acknowledge(s, {a}).has_value());
  const Patient after = patientOn(s, d.patient.patientId);
  CHECK(after.sync.rowVersion == 6);
  CHECK(after.lastName == "Merged");
  CHECK(after.phone == "+15415559876");
  CHECK(heldRows(s).empty());
  CHECK(s.openConflicts(10).value().empty());  // merged is not a conflict
}

// [SECTION] The acknowledgement transaction

TEST_CASE("a rejected check-in becomes a conflict staff see, and the server's row replaces the local one") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.appointment.sync.rowVersion = 1;
  d.applyAll(s);
  REQUIRE(s.checkIn(d.appointment.appointmentId, store::Actor::kiosk(), at(9, 55)).has_value());
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 1);
  REQUIRE(outbox[0].entity == "appointment");

  // Centrally it was cancelled meanwhile, still at the version the device last saw.
  Appointment cancelled = d.appointment;
  cancelled.status = AppointmentStatus::Cancelled;
  MutationAck refused = ack(outbox[0], AckStatus::Rejected);
  refused.code = "appointment.illegal_transition";
  refused.message = "a cancelled appointment cannot be checked in";
  refused.row = upsert(cancelled, 1);
  REQUIRE(acknowledge(s, {refused}).has_value());

  CHECK(s.get<Appointment>(d.appointment.appointmentId).value()->status == AppointmentStatus::Cancelled);
  CHECK(s.pendingOutboxCount().value() == 0);
  const auto conflicts = s.openConflicts(10).value();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].mutationId == outbox[0].mutationId);
  CHECK(conflicts[0].entity == "appointment");
  CHECK(conflicts[0].entityId == d.appointment.appointmentId.toString());
  CHECK(conflicts[0].code == "appointment.illegal_transition");
  CHECK(conflicts[0].reason == "a cancelled appointment cannot be checked in");
  CHECK(Json::parse(conflicts[0].localValue).value().find("status")->asString() == "checked_in");
  CHECK(Json::parse(conflicts[0].serverValue).value().find("status")->asString() == "cancelled");

  // A repeated result (the response was delivered twice) changes nothing more.
  REQUIRE(acknowledge(s, {refused}).has_value());
  CHECK(s.openConflicts(10).value().size() == 1);
}

// A store whose new walk-in the hub answered "held": the outbox empty, one conflict open.
struct HeldWalkIn {
  TempDir dir;
  store::SecretKey key = newKey();
  store::Store s = openStore(dir / "store.db", key);
  SampleData d;
  MutationAck held;
  HeldWalkIn(std::string code, std::string message) {
    REQUIRE(s.insert(d.patient, store::Actor::kiosk()).has_value());
    held = ack(s.pendingOutbox(1).value().at(0), AckStatus::Held);
    held.code = std::move(code);
    held.message = std::move(message);
    REQUIRE(acknowledge(s, {held}).has_value());
  }
};

TEST_CASE("a walk-in held for review is a conflict with no server row") {
  HeldWalkIn w("patient.review", "a patient with this e-mail exists with other details; staff must review the walk-in");
  auto& s = w.s;
  const SampleData& d = w.d;
  const auto conflicts = s.openConflicts(10).value();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].code == "patient.review");
  CHECK(conflicts[0].serverValue.empty());
  CHECK(s.get<Patient>(d.patient.patientId).value().has_value());  // the walk-in stays on the device
  CHECK(s.pendingOutboxCount().value() == 0);

  // A refusal without words still reads as something staff can act on.
  Patient edited = d.patient;
  edited.phone = "+15415559876";
  REQUIRE(s.update(edited, store::Actor::kiosk()).has_value());
  MutationAck silent = ack(s.pendingOutbox(1).value().at(0), AckStatus::Rejected);
  silent.code = "patient.refused";
  REQUIRE(acknowledge(s, {silent}).has_value());
  const auto both = s.openConflicts(10).value();
  REQUIRE(both.size() == 2);
  CHECK(both[1].code == "patient.refused");
  CHECK(both[1].reason == "the server refused this change without giving a reason");
}

TEST_CASE("asked again about a held walk-in: still held changes nothing; once resolved, remapped and closed") {
  HeldWalkIn w(std::string(store::kWalkinReviewCode), "the front desk needs to confirm who this is");
  auto& s = w.s;
  const SampleData& d = w.d;
  const MutationAck& held = w.held;
  REQUIRE(s.openConflicts(10).value().size() == 1);

  // The same answer again, or "applied long ago" from a hub past its horizon: nothing learned.
  REQUIRE(acknowledge(s, {held}).has_value());
  MutationAck gone = held;
  gone.status = AckStatus::Applied;
  gone.code = "sync.already_applied";
  gone.message.clear();
  REQUIRE(acknowledge(s, {gone}).has_value());
  REQUIRE(s.openConflicts(10).value().size() == 1);
  CHECK(s.get<Patient>(d.patient.patientId).value().has_value());

  // Staff linked the walk-in to the patient who has the email.
  const Uuid central = *Uuid::parse("019a0000-0000-7000-8000-0000000000c1");
  Patient theirs = d.patient;
  theirs.patientId = central;
  theirs.lastName = "Centralname";
  MutationAck linked = held;
  linked.status = AckStatus::Remapped;
  linked.code.clear();
  linked.message.clear();
  linked.centralId = central;
  linked.row = upsert(theirs, 3);
  REQUIRE(acknowledge(s, {linked}).has_value());
  CHECK_FALSE(s.get<Patient>(d.patient.patientId).value().has_value());
  CHECK(patientOn(s, central).lastName == "Centralname");
  CHECK(s.openConflicts(10).value().empty());
  // A repeat of the outcome is only its row.
  REQUIRE(acknowledge(s, {linked}).has_value());
  CHECK(s.openConflicts(10).value().empty());
  CHECK(patientOn(s, central).sync.rowVersion == 3);
}

TEST_CASE("a remap rewrites the row, its children, pending outbox rows and conflicts") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  REQUIRE(s.insert(d.practice, store::Actor::admin()).has_value());
  REQUIRE(s.insert(d.waitlist, store::Actor::admin()).has_value());
  const auto setup = s.pendingOutbox(10).value();
  REQUIRE(s.syncWrite([&](SyncTx& tx) -> Result<void> {
             for (const auto& m : setup)
               if (auto r = tx.acknowledge(std::vector{ack(m)}); !r) return r;
             return {};
           }).has_value());

  // A walk-in: the patient, an edit, their entry, a notification to them; all queued.
  const Uuid localId = d.patient.patientId;
  REQUIRE(s.insert(d.patient, store::Actor::kiosk()).has_value());
  Patient edited = d.patient;
  edited.phone = "+15415559876";
  REQUIRE(s.update(edited, store::Actor::kiosk()).has_value());
  REQUIRE(s.insert(d.entry, store::Actor::kiosk()).has_value());
  Notification note = d.notification;
  note.recipientId = localId;
  note.recipientType = RecipientType::Patient;
  note.content.params = {{"patient_id", localId.toString()}};
  REQUIRE(s.insert(note, store::Actor::kiosk()).has_value());
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 4);

  // The edit was refused first (its conflict names the local id) ...
  MutationAck refused = ack(outbox[1], AckStatus::Rejected);
  refused.code = "patient.phone";
  refused.message = "the phone number was changed centrally";
  REQUIRE(acknowledge(s, {refused}).has_value());
  REQUIRE(s.openConflicts(10).value().at(0).entityId == localId.toString());

  // ... then the hub linked the walk-in to the patient it already had.
  const Uuid centralId = d.id();
  Patient central = d.patient;
  central.patientId = centralId;
  MutationAck linked = ack(outbox[0], AckStatus::Remapped);
  linked.centralId = centralId;
  linked.row = upsert(central, 7);
  REQUIRE(acknowledge(s, {linked}).has_value());

  CHECK_FALSE(s.get<Patient>(localId).value().has_value());
  CHECK(patientOn(s, centralId).sync.rowVersion == 7);
  CHECK(s.get<WaitlistEntry>(d.entry.entryId).value()->patientId == centralId);
  CHECK(s.notificationsFor(centralId).value().size() == 1);
  CHECK(s.notificationsFor(centralId).value().at(0).content.params.at("patient_id") == centralId.toString());
  CHECK(s.notificationsFor(localId).value().empty());
  const auto pending = s.pendingOutbox(10).value();
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].entity == "waitlist_entry");
  CHECK(Json::parse(pending[0].changes).value().find("patient_id")->asString() == centralId.toString());
  CHECK(pending[0].changes.find(localId.toString()) == std::string::npos);
  CHECK(pending[1].changes.find(centralId.toString()) != std::string::npos);
  const auto conflicts = s.openConflicts(10).value();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].entityId == centralId.toString());
  // The audit trail says which local id the central one replaced (ids only).
  const auto audit = s.auditTrail(5).value();
  CHECK(std::any_of(audit.begin(), audit.end(), [&](const store::AuditEvent& e) {
    return e.action == "remap" && e.entityId == centralId.toString() && e.fields == "was " + localId.toString();
  }));
}

TEST_CASE("a remap onto a row the device already pulled replaces the local copy") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  const Uuid localId = d.patient.patientId;
  REQUIRE(s.insert(d.patient, store::Actor::kiosk()).has_value());
  REQUIRE(s.insert(d.appointment, store::Actor::admin()).has_value());
  Patient central = d.patient;
  central.patientId = d.id();
  central.firstName = "Central";
  REQUIRE(applyPage(s, {upsert(central, 3)}) == std::vector{ApplyOutcome::Applied});
  MutationAck linked = ack(s.pendingOutbox(1).value().at(0), AckStatus::Remapped);
  linked.centralId = central.patientId;
  REQUIRE(acknowledge(s, {linked}).has_value());
  CHECK_FALSE(s.get<Patient>(localId).value().has_value());
  CHECK(patientOn(s, central.patientId).firstName == "Central");
  CHECK(s.get<Appointment>(d.appointment.appointmentId).value()->patientId == central.patientId);
}

TEST_CASE("an acknowledgement that fails part-way leaves the outbox, rows and conflicts untouched") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.appointment.sync.rowVersion = 1;
  d.applyAll(s);
  checkInThenNoteTheDesk(s, d);
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 2);
  Appointment server = d.appointment;
  server.status = AppointmentStatus::CheckedIn;
  MutationAck applied = ack(outbox[0]);
  applied.row = upsert(server, 2);
  MutationAck refused = ack(outbox[1], AckStatus::Rejected);
  refused.code = "notification.refused";
  refused.message = "refused";

  auto unchanged = [&] {
    CHECK(s.pendingOutbox(10).value().size() == 2);
    CHECK(s.get<Appointment>(d.appointment.appointmentId).value()->sync.rowVersion == 1);
    CHECK(s.openConflicts(10).value().empty());
  };
  SUBCASE("the process fails after the ack's statements ran (power loss before commit)") {
    auto r = s.syncWrite([&](SyncTx& tx) -> Result<void> {
      if (auto a = tx.acknowledge(std::vector{applied, refused}); !a) return a;
      return fail(ErrorDomain::Io, "test.crash", "simulated failure before commit", true);
    });
    REQUIRE_FALSE(r.has_value());
    unchanged();
  }
  SUBCASE("a remap without its new id") {
    MutationAck broken = ack(outbox[1], AckStatus::Remapped);
    auto r = acknowledge(s, {applied, broken});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "sync.bad_ack");
    unchanged();
  }
  SUBCASE("an authoritative row that cannot be read, after rows were deleted and conflicts filed") {
    MutationAck bad = refused;
    bad.row = upsert(server, 3);
    bad.row->row.erase("start_time");
    auto r = acknowledge(s, {applied, bad});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "sync.row.missing");
    unchanged();
  }
  // And the same acknowledgement, intact, then goes through.
  REQUIRE(acknowledge(s, {applied, refused}).has_value());
  CHECK(s.pendingOutboxCount().value() == 0);
  CHECK(s.get<Appointment>(d.appointment.appointmentId).value()->sync.rowVersion == 2);
  CHECK(s.openConflicts(10).value().size() == 1);
}

// [SECTION] Outbox contents

TEST_CASE("outbox mutations carry prior values and the schema version, never server-owned or local columns") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  WaitlistEntry entry = d.entry;
  entry.entryId = d.id();
  entry.waitlistId = d.id();  // another list: the sample entry is active on the first
  REQUIRE(s.insert(entry, store::Actor::staff(d.staff.staffId)).has_value());
  Patient renamed = d.patient;
  renamed.lastName = "Underhill";
  REQUIRE(s.update(renamed, store::Actor::staff(d.staff.staffId)).has_value());
  REQUIRE(s.write(store::Actor::staff(d.staff.staffId), [&](store::WriteTx& tx) {
             return tx.remove<Notification>(d.notification.notificationId);
           }).has_value());
  const int schema = s.info().value().schemaVersion;
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 3);
  for (const auto& m : outbox) {
    CAPTURE(m.entity);
    CHECK(m.schemaVersion == schema);
    CHECK(m.changes.find("priority_score") == std::string::npos);
    CHECK(m.prior.find("priority_score") == std::string::npos);
    CHECK(m.changes.find("lookup_key") == std::string::npos);
    CHECK(m.prior.find("lookup_key") == std::string::npos);
  }
  CHECK(outbox[0].kind == "insert");
  CHECK(outbox[0].prior == "{}");
  CHECK(Json::parse(outbox[0].changes).value().find("urgency") != nullptr);
  CHECK(outbox[1].kind == "update");
  CHECK(outbox[1].changes == R"({"last_name":"Underhill"})");
  CHECK(outbox[1].prior == R"({"last_name":"Thistlewood"})");
  CHECK(outbox[2].kind == "delete");
  CHECK(outbox[2].prior == "{}");
}

TEST_CASE("a store with a change queued under schema 3 keeps it, marked as written under 3") {
  TempDir dir;
  auto key = newKey();
  const auto all = store::bundledMigrations();
  SampleData d;
  Patient twin = d.patient;
  twin.patientId = d.id();
  twin.email = "twin@patients.example";
  twin.sync.rowVersion = 1;
  {
    store::OpenOptions options;
    options.path = dir / "store.db";
    options.create = true;
    options.migrations = all.subspan(0, 3);
    auto old = store::Store::open(options, key);
    REQUIRE(old.has_value());
    REQUIRE(old->applyRemote(d.patient, store::Actor::sync()).has_value());
    REQUIRE(old->applyRemote(twin, store::Actor::sync()).has_value());
  }
  {
    // The older program's queued edit, written through SQLCipher directly in its shape.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "store.db").c_str(), &db) == SQLITE_OK);
    const store::SecretKey::RawKeyText text(key);
    REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, nullptr) == SQLITE_OK);
    const std::string insert =
        "INSERT INTO outbox (mutation_id, entity, entity_id, kind, changes, base_version, hlc, created_at) VALUES"
        " ('0190a000-0000-7000-8000-0000000000aa', 'patient', '" +
        twin.patientId.toString() +
        "', 'update', '{\"phone\":\"+15415550000\"}', 1, '0001764061200000-0000000000-old',"
        " '2026-11-25T09:00:00.000000Z')";
    const int rc = sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  auto s = openStore(dir / "store.db", key);
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].schemaVersion == 3);
  CHECK(outbox[0].prior == "{}");
  CHECK(outbox[0].changes == R"({"phone":"+15415550000"})");
  // After 0004 the server's e-mail uniqueness is no longer enforced here: the twin takes the
  // e-mail once its queued edit is acknowledged.
  Patient central = twin;
  central.email = d.patient.email;
  CHECK(applyPage(s, {upsert(central, 2)}) == std::vector{ApplyOutcome::SkippedPendingLocal});
  REQUIRE(acknowledge(s, {ack(outbox[0])}).has_value());
  CHECK(patientOn(s, twin.patientId).email == d.patient.email);
  CHECK(patientOn(s, d.patient.patientId).email == d.patient.email);
  REQUIRE(s.checkIntegrity().has_value());
}

// [SECTION] Resync

TEST_CASE("resync is refused while changes wait, then empties the synced rows and the cursor only") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  REQUIRE(s.setSyncValue("kiosk.idle_timeout_seconds", "90").has_value());
  REQUIRE(s.syncWrite([&](SyncTx& tx) { return tx.setValue("pull_cursor", "c-77"); }).has_value());
  const std::string deviceId = s.deviceId().toString();
  checkInThenNoteTheDesk(s, d);

  auto refused = s.resetForResync();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().domain == ErrorDomain::Conflict);
  CHECK(refused.error().code == "store.outbox_not_empty");
  CHECK(refused.error().message.find("2 changes") != std::string::npos);
  CHECK(s.get<Appointment>(d.appointment.appointmentId).value().has_value());
  CHECK(stateOf(s, "pull_cursor") == std::optional<std::string>("c-77"));

  const auto outbox = s.pendingOutbox(10).value();
  MutationAck refusedNote = ack(outbox[1], AckStatus::Rejected);
  refusedNote.code = "notification.refused";
  refusedNote.message = "the front desk no longer takes these notices";
  REQUIRE(acknowledge(s, {ack(outbox[0]), refusedNote}).has_value());

  REQUIRE(s.resetForResync().has_value());
  const auto info = s.info().value();
  for (const auto& [table, rows] : info.rowCounts) {
    CAPTURE(table);
    if (table == "sync_conflict")
      CHECK(rows == 1);
    else if (table == "audit_log")
      CHECK(rows > 0);
    else
      CHECK(rows == 0);
  }
  CHECK(s.deviceId().toString() == deviceId);
  CHECK_FALSE(stateOf(s, "pull_cursor").has_value());
  CHECK(stateOf(s, "kiosk.idle_timeout_seconds") == std::optional<std::string>("90"));
  CHECK(s.openConflicts(10).value().size() == 1);
  CHECK(s.auditTrail(1).value().at(0).action == "resync_reset");
  // The next pull refills the store.
  CHECK(applyPage(s, {upsert(d.patient, 1)}) == std::vector{ApplyOutcome::Applied});
  REQUIRE(s.checkIntegrity().has_value());
  // Reopened, the device is still itself.
  auto again = openStore(dir / "store.db", key);
  CHECK(again.deviceId().toString() == deviceId);
}

// [SECTION] The hybrid logical clock across processes

TEST_CASE("a second process's write advances the clock the first one stamps with") {
  TempDir dir;
  auto key = newKey();
  auto kiosk = openStore(dir / "store.db", key);
  auto daemon = openStore(dir / "store.db", key);  // the sync daemon: another connection, another node
  SampleData d;
  REQUIRE(
      kiosk.write(store::Actor::kiosk(), at(9), [&](store::WriteTx& tx) { return tx.insert(d.practice); }).has_value());
  // The daemon's clock is an hour ahead of the kiosk's.
  REQUIRE(daemon.write(store::Actor::admin(), at(10), [&](store::WriteTx& tx) { return tx.insert(d.provider); })
              .has_value());
  REQUIRE(kiosk.write(store::Actor::kiosk(), at(9, 1), [&](store::WriteTx& tx) { return tx.insert(d.patient); })
              .has_value());
  const auto outbox = kiosk.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 3);
  CHECK(clockOf(outbox[1].hlc) > clockOf(outbox[0].hlc));
  CHECK(clockOf(outbox[2].hlc) > clockOf(outbox[1].hlc));  // not 09:01: after the daemon's 10:00
  CHECK(clockOf(outbox[2].hlc).wallMs == clockOf(outbox[1].hlc).wallMs);
  // Two processes, two nodes, one device.
  const std::string device = kiosk.deviceId().toString();
  CHECK(nodeOf(outbox[0].hlc) != nodeOf(outbox[1].hlc));
  CHECK(nodeOf(outbox[0].hlc) == nodeOf(outbox[2].hlc));
  CHECK(nodeOf(outbox[0].hlc).starts_with(device + "."));
  CHECK(nodeOf(outbox[1].hlc).starts_with(device + "."));
}

TEST_CASE("a write by another process advances this process's clock") {
  TempDir dir;
  auto key = newKey();
  auto kiosk = openStore(dir / "store.db", key);
  SampleData d;
  REQUIRE(
      kiosk.write(store::Actor::kiosk(), at(9), [&](store::WriteTx& tx) { return tx.insert(d.practice); }).has_value());
  // The sync daemon: a real second process with its own connection and clock, an hour ahead.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 1;
    {
      store::OpenOptions options;
      options.path = dir / "store.db";
      auto daemon = store::Store::open(options, key);
      if (daemon &&
          daemon->write(store::Actor::sync(), at(10), [&](store::WriteTx& tx) { return tx.insert(d.provider); }))
        code = 0;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(kiosk.write(store::Actor::kiosk(), at(9, 1), [&](store::WriteTx& tx) { return tx.insert(d.patient); })
              .has_value());
  const auto outbox = kiosk.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 3);
  CHECK(nodeOf(outbox[1].hlc) != nodeOf(outbox[0].hlc));
  CHECK(clockOf(outbox[2].hlc) > clockOf(outbox[1].hlc));
}

TEST_CASE("the hub's clock is adopted within the skew limit, persisted, and refused when unreadable") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  HybridLogicalClock hub("hub-1");
  const auto minute = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::minutes{1}).count();
  const std::int64_t nine = std::chrono::duration_cast<std::chrono::milliseconds>(at(9).time_since_epoch()).count();
  const std::string ahead = hub.encode({nine + 2 * minute, 4});
  REQUIRE(s.syncWrite(at(9), [&](SyncTx& tx) { return tx.observeClock(ahead); }).has_value());
  // A write in another process (another connection, its own clock) stamps after the hub's time.
  auto other = openStore(dir / "store.db", key);
  REQUIRE(
      other.write(store::Actor::kiosk(), at(9), [&](store::WriteTx& tx) { return tx.insert(d.provider); }).has_value());
  auto outbox = other.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 1);
  CHECK(clockOf(outbox[0].hlc) > HlcTimestamp{nine + 2 * minute, 4});

  // A day ahead is a broken clock, not adopted.
  const std::string dayAhead = hub.encode({nine + 24 * 60 * minute, 0});
  REQUIRE(s.syncWrite(at(9), [&](SyncTx& tx) { return tx.observeClock(dayAhead); }).has_value());
  REQUIRE(s.write(store::Actor::kiosk(), at(9), [&](store::WriteTx& tx) { return tx.insert(d.patient); }).has_value());
  outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 2);
  CHECK(clockOf(outbox[1].hlc) > clockOf(outbox[0].hlc));
  CHECK(clockOf(outbox[1].hlc).wallMs < nine + 60 * minute);

  auto bad = s.syncWrite(at(9), [&](SyncTx& tx) -> Result<void> {
    if (auto c = tx.setValue("pull_cursor", "c-9"); !c) return c;
    return tx.observeClock("yesterday-ish");
  });
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == "sync.bad_clock");
  CHECK_FALSE(stateOf(s, "pull_cursor").has_value());
}
