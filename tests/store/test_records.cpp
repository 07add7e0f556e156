// Records round-trip through the store; every local write carries its outbox and audit rows.
#include <doctest/doctest.h>

#include "anteroom/model/json.hpp"
#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

template <class T>
void roundTrip(store::Store& s, T record, const Uuid& id) {
  const Instant now = at(8);
  record.createdAt = at(7);
  auto w = s.write(store::Actor::kiosk(), now, [&](store::WriteTx& tx) { return tx.insert(record); });
  REQUIRE_MESSAGE(w.has_value(), (w ? "" : w.error().message));
  record.updatedAt = now;
  auto back = s.get<T>(id);
  REQUIRE(back.has_value());
  REQUIRE(back->has_value());
  if constexpr (std::is_same_v<T, WaitlistEntry>) {
    // The store scores an entry itself (waitlist_engine.hpp), whatever the caller wrote.
    CHECK((**back).priorityScore != record.priorityScore);
    record.priorityScore = (**back).priorityScore;
  }
  CHECK(**back == record);
}

}  // namespace

TEST_CASE("every entity round-trips through the encrypted store") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  roundTrip(s, d.practice, d.practice.practiceId);
  roundTrip(s, d.provider, d.provider.providerId);
  roundTrip(s, d.patient, d.patient.patientId);
  roundTrip(s, d.waitlist, d.waitlist.waitlistId);
  roundTrip(s, d.entry, d.entry.entryId);
  roundTrip(s, d.slot, d.slot.slotId);
  roundTrip(s, d.request, d.request.requestId);
  roundTrip(s, d.appointment, d.appointment.appointmentId);
  roundTrip(s, d.notification, d.notification.notificationId);
  roundTrip(s, d.staff, d.staff.staffId);

  // Ten inserts: ten outbox mutations in device order, ten audit rows.
  auto outbox = s.pendingOutbox(100);
  REQUIRE(outbox.has_value());
  REQUIRE(outbox->size() == 10);
  CHECK(outbox->front().entity == "practice");
  CHECK(outbox->back().entity == "staff_user");
  for (std::size_t i = 1; i < outbox->size(); ++i) {
    CHECK((*outbox)[i].deviceSeq > (*outbox)[i - 1].deviceSeq);
    CHECK((*outbox)[i].mutationId > (*outbox)[i - 1].mutationId);  // UUIDv7: time ordered
    CHECK((*outbox)[i].hlc > (*outbox)[i - 1].hlc);
  }
  // The patient's insert carries its JSON columns as JSON, and never the local lookup key.
  const auto& patientInsert = (*outbox)[2];
  CHECK(patientInsert.entity == "patient");
  CHECK(patientInsert.kind == "insert");
  auto changes = Json::parse(patientInsert.changes);
  REQUIRE(changes.has_value());
  REQUIRE(changes->find("insurance_info") != nullptr);
  CHECK(changes->find("insurance_info")->isObject());
  CHECK(changes->find("lookup_key") == nullptr);
  CHECK(changes->find("last_name")->asString() == "Thistlewood");

  auto audit = s.auditTrail(100);
  REQUIRE(audit.has_value());
  CHECK(audit->size() == 10);
}

TEST_CASE("an update sends only the changed columns, based on the row's server version") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.patient.sync.rowVersion = 7;
  d.applyAll(s);
  REQUIRE(s.pendingOutboxCount().value() == 0);  // server rows never enter the outbox

  Patient changed = d.patient;
  changed.phone = "+15415559876";
  changed.preferences.contactConsent = true;
  REQUIRE(s.update(changed, store::Actor::kiosk()).has_value());
  auto outbox = s.pendingOutbox(10).value();
  // Only the patient's change: the device re-scores their waiting entry for its own screens
  // (below), but priority_score is the server's and never travels.
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].kind == "update");
  CHECK(outbox[0].baseVersion == 7);
  CHECK(outbox[0].schemaVersion == s.info().value().schemaVersion);
  auto changes = Json::parse(outbox[0].changes).value();
  CHECK(changes.size() == 2);
  CHECK(changes.find("phone")->asString() == "+15415559876");
  CHECK(changes.find("preferences")->isObject());
  // prior: what those two columns held on the device before the change.
  auto prior = Json::parse(outbox[0].prior).value();
  CHECK(prior.size() == 2);
  CHECK(prior.find("phone")->asString() == "+15415551234");
  CHECK(prior.find("preferences")->find("contact_consent")->asBool() == false);
  CHECK(s.get<WaitlistEntry>(d.entry.entryId).value()->priorityScore != d.entry.priorityScore);

  // The audit row names the fields, never their values.
  auto audit = s.auditTrail(2).value();  // newest first: the re-score, then the patient
  REQUIRE(audit.size() == 2);
  CHECK(audit[0].fields == "priority_score");
  CHECK(audit[1].action == "update");
  CHECK(audit[1].fields == "phone,preferences");
  CHECK(audit[1].fields.find("9876") == std::string::npos);

  // Writing the same values again is a no-op: no new mutation.
  REQUIRE(s.update(changed, store::Actor::kiosk()).has_value());
  CHECK(s.pendingOutboxCount().value() == 1);

  // A later server version does not overwrite the pending local edit.
  Patient server = d.patient;
  server.sync.rowVersion = 8;
  server.firstName = "Server";
  auto outcome = s.applyRemote(server, store::Actor::sync());
  REQUIRE(outcome.has_value());
  CHECK(*outcome == store::ApplyOutcome::SkippedPendingLocal);
  CHECK(s.get<Patient>(d.patient.patientId).value()->firstName == "Ottilie");
}

TEST_CASE("a failed write leaves neither the domain change nor its outbox row") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);

  Patient second = d.patient;
  second.patientId = d.id();
  second.email = "second.person@patients.example";
  Patient duplicate = second;
  duplicate.email = "third.person@patients.example";  // same id as the second: the primary key refuses it
  auto r = s.write(store::Actor::kiosk(), [&](store::WriteTx& tx) -> Result<void> {
    if (auto a = tx.insert(second); !a) return a;
    return tx.insert(duplicate);
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().domain == ErrorDomain::Conflict);
  CHECK_FALSE(s.get<Patient>(second.patientId).value().has_value());
  CHECK(s.pendingOutboxCount().value() == 0);
  CHECK(s.auditTrail(100).value().size() == 10);  // only the ten applyAll rows

  // A callback that fails on its own rolls back too.
  auto r2 = s.write(store::Actor::kiosk(), [&](store::WriteTx& tx) -> Result<void> {
    if (auto a = tx.insert(second); !a) return a;
    return fail(ErrorDomain::Validation, "test.stop", "stopped by the test");
  });
  REQUIRE_FALSE(r2.has_value());
  CHECK_FALSE(s.get<Patient>(second.patientId).value().has_value());
  CHECK(s.pendingOutboxCount().value() == 0);
}

TEST_CASE("check-in follows the appointment status machine") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);

  auto receipt = s.checkIn(d.appointment.appointmentId, store::Actor::kiosk(), at(9, 50));
  REQUIRE(receipt.has_value());
  CHECK_FALSE(receipt->alreadyCheckedIn);
  CHECK(receipt->appointment.status == AppointmentStatus::CheckedIn);
  auto stored = s.get<Appointment>(d.appointment.appointmentId).value();
  CHECK(stored->status == AppointmentStatus::CheckedIn);

  // One mutation: the status. The provider's arrival notice is the hub's to write (tests/sync).
  auto notes = s.notificationsFor(d.provider.providerId).value();
  CHECK(std::none_of(notes.begin(), notes.end(),
                     [](const Notification& n) { return n.type == NotificationType::PatientArrived; }));
  auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].entity == "appointment");
  CHECK(Json::parse(outbox[0].changes).value().find("status")->asString() == "checked_in");

  // Again: a no-op, nothing new queued.
  auto again = s.checkIn(d.appointment.appointmentId, store::Actor::kiosk(), at(9, 51));
  REQUIRE(again.has_value());
  CHECK(again->alreadyCheckedIn);
  CHECK(s.pendingOutboxCount().value() == 1);

  // A cancelled appointment cannot be checked in, and says why.
  Appointment other = d.appointment;
  other.appointmentId = d.id();
  other.status = AppointmentStatus::Cancelled;
  REQUIRE(s.applyRemote(other, store::Actor::sync()).has_value());
  auto refused = s.checkIn(other.appointmentId, store::Actor::kiosk(), at(9, 52));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().domain == ErrorDomain::Conflict);
  CHECK_FALSE(refused.error().message.empty());
  CHECK(s.pendingOutboxCount().value() == 1);

  auto missing = s.checkIn(d.id(), store::Actor::kiosk(), at(9, 53));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().domain == ErrorDomain::NotFound);
}

TEST_CASE("patients are found by folded last name and date of birth") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d("Peña-Ruiz");
  d.applyAll(s);
  const Date dob = d.patient.dateOfBirth;
  CHECK(s.findPatients("Peña-Ruiz", dob).value().size() == 1);
  CHECK(s.findPatients("pena ruiz", dob).value().size() == 1);
  CHECK(s.findPatients("PENA-RUIZ", dob).value().size() == 1);
  CHECK(s.findPatients("Pena", dob).value().empty());
  CHECK(s.findPatients("Peña-Ruiz", Date{std::chrono::year{1986}, std::chrono::month{4}, std::chrono::day{13}})
            .value()
            .empty());
  CHECK(s.findPatients("", dob).value().empty());
  CHECK(s.findPatientByEmail("OTTILIE.T@patients.example").value().has_value());
}

TEST_CASE("a tombstone is kept and queued; the purge removes only what is synced and out of window") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);

  // An old appointment from last month, synced; and one from last month with a local edit.
  Appointment old = d.appointment;
  old.appointmentId = d.id();
  old.startTime = at(10) - std::chrono::days{30};
  old.endTime = old.startTime + std::chrono::minutes{50};
  Appointment oldPending = old;
  oldPending.appointmentId = d.id();
  REQUIRE(s.applyRemote(old, store::Actor::sync()).has_value());
  REQUIRE(s.applyRemote(oldPending, store::Actor::sync()).has_value());
  REQUIRE(s.setAppointmentStatus(oldPending.appointmentId, AppointmentStatus::NoShow, store::Actor::kiosk(), at(9))
              .has_value());

  // A patient referenced by nothing is purged; the sample patient is kept (today's appointment).
  Patient stray = d.patient;
  stray.patientId = d.id();
  stray.email = "stray.person@patients.example";
  REQUIRE(s.applyRemote(stray, store::Actor::sync()).has_value());

  REQUIRE(s.write(store::Actor::kiosk(), [&](store::WriteTx& tx) { return tx.remove<Notification>(d.notification.notificationId); })
              .has_value());
  auto tomb = s.get<Notification>(d.notification.notificationId).value();
  REQUIRE(tomb.has_value());
  CHECK(tomb->sync.deleted);

  auto report = s.purgeOutsideWindow(at(9), 3);
  REQUIRE(report.has_value());
  CHECK_FALSE(s.get<Appointment>(old.appointmentId).value().has_value());
  CHECK(s.get<Appointment>(oldPending.appointmentId).value().has_value());  // waits for sync
  CHECK(s.get<Appointment>(d.appointment.appointmentId).value().has_value());
  CHECK_FALSE(s.get<Patient>(stray.patientId).value().has_value());
  CHECK(s.get<Patient>(d.patient.patientId).value().has_value());
  CHECK(s.get<Notification>(d.notification.notificationId).value().has_value());  // tombstone not yet synced
  CHECK(report->total() >= 2);
  REQUIRE(s.checkIntegrity().has_value());
}

TEST_CASE("the outbox has a ceiling and says what to do when it is reached") {
  TempDir dir;
  auto key = newKey();
  store::OpenOptions options;
  options.path = dir / "store.db";
  options.create = true;
  options.outboxCeiling = 3;
  auto s = store::Store::open(options, key);
  REQUIRE(s.has_value());
  SampleData d;
  REQUIRE(s->insert(d.practice, store::Actor::kiosk()).has_value());
  REQUIRE(s->insert(d.provider, store::Actor::kiosk()).has_value());
  REQUIRE(s->insert(d.patient, store::Actor::kiosk()).has_value());
  auto full = s->insert(d.waitlist, store::Actor::kiosk());
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().code == "store.outbox_full");
  CHECK(full.error().isTransient());
  CHECK_FALSE(s->get<Waitlist>(d.waitlist.waitlistId).value().has_value());
}

TEST_CASE("an invalid local write is refused before it reaches the store or the outbox") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  Patient bad = d.patient;
  bad.patientId = d.id();
  bad.email = "not-an-email";
  auto r = s.insert(bad, store::Actor::kiosk());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "validation.email.invalid");
  CHECK_FALSE(s.get<Patient>(bad.patientId).value().has_value());
  CHECK(s.pendingOutboxCount().value() == 0);

  Appointment backwards = d.appointment;
  backwards.endTime = backwards.startTime - std::chrono::minutes{5};
  auto u = s.update(backwards, store::Actor::kiosk());
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().code == "validation.time.end_before_start");
  CHECK(s.get<Appointment>(d.appointment.appointmentId).value()->endTime == d.appointment.endTime);
}

TEST_CASE("changing a waitlist's weights re-scores its waiting entries in the same write") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  SampleData d;
  d.applyAll(s);
  // A local write of the entry scores it (the server's 12.5 was computed elsewhere).
  REQUIRE(s.write(store::Actor::kiosk(), [&](store::WriteTx& tx) {
             WaitlistEntry e = d.entry;
             e.notes = "prefers afternoons";
             return tx.update(e);
           }).has_value());
  const double before = s.get<WaitlistEntry>(d.entry.entryId).value()->priorityScore;
  Waitlist heavier = d.waitlist;
  heavier.criteria.weights.flexibility *= 3;
  REQUIRE(s.update(heavier, store::Actor::admin()).has_value());
  const double after = s.get<WaitlistEntry>(d.entry.entryId).value()->priorityScore;
  CHECK(after > before);
  // The entry's note and the list's weights travel; the re-score stays on the device.
  const auto outbox = s.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 2);
  CHECK(outbox[0].entity == "waitlist_entry");
  CHECK(Json::parse(outbox[0].changes).value().find("priority_score") == nullptr);
  CHECK(Json::parse(outbox[0].prior).value().find("priority_score") == nullptr);
  CHECK(outbox[1].entity == "waitlist");
}
