// Sync scenarios (issue 9): each runs the hub core on PostgreSQL and devices on real stores
// through the in-process transport (every message through the wire encoding), and asserts
// the rows that result on the devices and centrally.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "anteroom/model/validation.hpp"
#include "anteroom/store/sync_store.hpp"
#include "world.hpp"

using namespace anteroom;
using namespace anteroom::sim;
using namespace std::chrono;

namespace {

// A store call that must succeed; on failure the test says why.
template <class T>
void requireOk(const Result<T>& r) {
  if (!r) FAIL(r.error().code << ": " << r.error().message);
}

Central& central() {
  static std::unique_ptr<Central> c = [] {
    auto started = Central::start();
    if (!started) FAIL("PostgreSQL for the sync scenarios: " << started.error().message);
    return std::move(*started);
  }();
  return *c;
}

std::uint64_t nextSeed() {
  static std::uint64_t seed = 1000;
  return ++seed;
}

struct Fixture {
  World world;
  explicit Fixture(int devices = 2) : world(central(), WorldOptions{nextSeed(), devices, Faults::none(), false}) {
    auto s = world.setUp();
    if (!s) FAIL("set-up: " << s.error().message);
  }
  store::Store& store(std::size_t i) { return *world.device(i).store; }
  void sync(std::size_t i) {
    auto r = world.syncDevice(i);
    if (!r) FAIL(world.device(i).name << " sync: " << r.error().code << ": " << r.error().message);
    // What staff would read, for the test's log when an assertion fails.
    if (auto open = store(i).openConflicts(100); open)
      for (const auto& c : *open) MESSAGE(world.device(i).name << " conflict " << c.entity << ": " << c.code << ": " << c.reason);
  }
  std::string centralText(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    return world.centralValue(sql, params).value_or("<no row>");
  }
};

Patient walkIn(const Uuid& id, const std::string& first, const std::string& last, Date dob, const std::string& email) {
  Patient p;
  p.patientId = id;
  p.firstName = first;
  p.lastName = last;
  p.dateOfBirth = dob;
  p.email = email;
  p.phone = "+15415550142";
  p.insuranceInfo.selfPay = true;
  return p;
}

Uuid newId() {
  static UuidGenerator ids(77);
  return ids.v7(system_clock::now());
}

std::string tagOf(const World& w) { return w.practiceId().toString().substr(24); }

// A walk-in who joins the world's waitlist on `device`, in one kiosk transaction; the entry.
WaitlistEntry joinWaitlist(Fixture& f, std::size_t device, const Patient& p) {
  WaitlistEntry e;
  e.entryId = newId();
  e.waitlistId = f.world.waitlistId();
  e.patientId = p.patientId;
  requireOk(f.store(device).write(store::Actor::kiosk(), f.world.now(), [&](store::WriteTx& tx) -> Result<void> {
    if (auto i = tx.insert(p); !i) return i;
    return tx.insert(e);
  }));
  return e;
}

}  // namespace

TEST_CASE("a walk-in on device A reaches central and device B") {
  Fixture f;
  const Uuid id = newId();
  const Patient p = walkIn(id, "Quinn", "Newcomer", 1991y / May / 5, "quinn." + tagOf(f.world) + "@mail.example");
  WaitlistEntry e;
  e.entryId = newId();
  e.waitlistId = f.world.waitlistId();
  e.patientId = id;
  requireOk(f.store(0).write(store::Actor::kiosk(), f.world.now(), [&](store::WriteTx& tx) -> Result<void> {
    if (auto i = tx.insert(p); !i) return i;
    return tx.insert(e);
  }));
  f.sync(0);
  CHECK(f.centralText("SELECT pii_decrypt(last_name, $2) FROM patient WHERE patient_id = $1::uuid", {id.toString(), kPiiKey}) ==
        "Newcomer");
  CHECK(f.centralText("SELECT status FROM waitlist_entry WHERE entry_id = $1::uuid", {e.entryId.toString()}) == "waiting");
  CHECK(*f.store(0).pendingOutboxCount() == 0);
  f.sync(1);
  auto onB = f.store(1).get<Patient>(id);
  REQUIRE(onB.has_value());
  REQUIRE(onB->has_value());
  CHECK((*onB)->lastName == "Newcomer");
  CHECK((*onB)->sync.rowVersion >= 1);
  auto entryOnB = f.store(1).get<WaitlistEntry>(e.entryId);
  REQUIRE(entryOnB->has_value());
  CHECK((*entryOnB)->priorityScore == doctest::Approx((*f.store(0).get<WaitlistEntry>(e.entryId))->priorityScore));
}

TEST_CASE("a central cancellation and an offline check-in of the same appointment end as a conflict staff see") {
  Fixture f;
  const Uuid appt = f.world.seededAppointments().front();
  f.world.central("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid", {appt.toString()});
  auto receipt = f.store(0).checkIn(appt, store::Actor::kiosk(), f.world.now());  // offline: the device still says scheduled
  REQUIRE(receipt.has_value());
  f.sync(0);
  CHECK(f.centralText("SELECT status FROM appointment WHERE appointment_id = $1::uuid", {appt.toString()}) == "cancelled");
  auto local = f.store(0).get<Appointment>(appt);
  CHECK((*local)->status == AppointmentStatus::Cancelled);  // the authoritative row replaced the local one
  auto conflicts = f.store(0).openConflicts(10);
  REQUIRE(conflicts->size() == 1);
  CHECK(conflicts->front().entityId == appt.toString());
  CHECK(conflicts->front().reason.find("cancel") != std::string::npos);
}

TEST_CASE("a patient checked in on two kiosks offline: the hub tells the provider once, at the first kiosk's time") {
  Fixture f;
  const Uuid appt = f.world.seededAppointments().front();
  auto arrivals = [&] {
    return f.centralText("SELECT count(*) FROM notification WHERE type = 'patient_arrived'"
                         " AND content->'params'->>'appointment_id' = $1",
                         {appt.toString()});
  };
  f.world.advance(minutes{5});
  const Instant firstAt = f.world.now();
  requireOk(f.store(0).checkIn(appt, store::Actor::kiosk(), firstAt));
  f.world.advance(minutes{7});
  requireOk(f.store(1).checkIn(appt, store::Actor::kiosk(), f.world.now()));
  // A check-in is one mutation: the notice is not the kiosk's to write.
  CHECK(*f.store(0).pendingOutboxCount() == 1);
  CHECK(arrivals() == "0");
  f.world.advance(minutes{20});  // both come back online later
  f.sync(0);
  f.sync(1);
  CHECK(f.centralText("SELECT status FROM appointment WHERE appointment_id = $1::uuid", {appt.toString()}) == "checked_in");
  CHECK(arrivals() == "1");
  const std::string provider =
      f.centralText("SELECT provider_id FROM appointment WHERE appointment_id = $1::uuid", {appt.toString()});
  CHECK(f.centralText("SELECT recipient_id || ' ' || recipient_type || ' ' || status || ' ' || (content->'params'->>'arrived_at')"
                      " FROM notification WHERE content->'params'->>'appointment_id' = $1",
                      {appt.toString()}) == provider + " provider pending " + formatInstant(firstAt));
  CHECK(f.store(1).openConflicts(10)->empty());  // the second check-in is a repeat, not a conflict
  // Both kiosks hold the one notice the hub wrote.
  f.sync(0);
  for (std::size_t i = 0; i < 2; ++i) {
    auto notes = f.store(i).notificationsFor(*Uuid::parse(provider));
    REQUIRE(notes.has_value());
    CHECK(std::count_if(notes->begin(), notes->end(), [&](const Notification& n) {
            const auto about = n.content.params.find("appointment_id");
            return n.type == NotificationType::PatientArrived && about != n.content.params.end() &&
                   about->second == appt.toString();
          }) == 1);
  }
}

TEST_CASE("a demographics edit on a device and another centrally merge per field") {
  Fixture f;
  const Uuid pid = f.world.seededPatients().front();
  Patient p = **f.store(0).get<Patient>(pid);
  p.phone = "+15415550777";
  requireOk(f.store(0).update(p, store::Actor::kiosk()));
  f.world.central("UPDATE patient SET insurance_info = '{\"payer\":\"Other Invented Health\"}' WHERE patient_id = $1::uuid",
                  {pid.toString()});
  f.sync(0);
  CHECK(f.centralText("SELECT pii_decrypt(phone, $2) FROM patient WHERE patient_id = $1::uuid", {pid.toString(), kPiiKey}) ==
        "+15415550777");
  CHECK(f.centralText("SELECT insurance_info->>'payer' FROM patient WHERE patient_id = $1::uuid", {pid.toString()}) ==
        "Other Invented Health");
  const Patient after = **f.store(0).get<Patient>(pid);
  CHECK(after.phone == "+15415550777");
  CHECK(after.insuranceInfo.payer == "Other Invented Health");
  CHECK(f.store(0).openConflicts(10)->empty());
}

TEST_CASE("an identity edit on both sides keeps the central value and both values for review") {
  Fixture f;
  const Uuid pid = f.world.seededPatients().front();
  Patient p = **f.store(0).get<Patient>(pid);
  p.lastName = "Kioskspelling";
  requireOk(f.store(0).update(p, store::Actor::kiosk()));
  f.world.central("UPDATE patient SET last_name = pii_encrypt('Centralspelling', $2) WHERE patient_id = $1::uuid",
                  {pid.toString(), kPiiKey});
  f.sync(0);
  CHECK(f.centralText("SELECT pii_decrypt(last_name, $2) FROM patient WHERE patient_id = $1::uuid", {pid.toString(), kPiiKey}) ==
        "Centralspelling");
  CHECK((*f.store(0).get<Patient>(pid))->lastName == "Centralspelling");
  auto conflicts = f.store(0).openConflicts(10);
  REQUIRE(conflicts->size() == 1);
  CHECK(conflicts->front().localValue.find("Kioskspelling") != std::string::npos);
  CHECK(conflicts->front().serverValue.find("Centralspelling") != std::string::npos);
}

TEST_CASE("a walk-in whose email exists centrally is linked or queued for review, never duplicated") {
  Fixture f;
  const std::string known = "p0." + tagOf(f.world) + "@mail.example";  // seeded: Avery Testwell, 1970-01-10
  const auto countWithEmail = [&] {
    return f.centralText("SELECT count(*) FROM patient WHERE email_hash = pii_lookup_hash($1, $2)", {known, kHashKey});
  };
  SUBCASE("same name and date of birth: linked to the central patient") {
    const Uuid local = newId();
    WaitlistEntry e;
    e.entryId = newId();
    e.waitlistId = f.world.waitlistId();
    e.patientId = local;
    requireOk(f.store(1).write(store::Actor::kiosk(), f.world.now(), [&](store::WriteTx& tx) -> Result<void> {
      if (auto i = tx.insert(walkIn(local, "AVERY", "testwell", 1970y / January / 10, known)); !i) return i;
      return tx.insert(e);
    }));
    f.sync(1);
    CHECK(countWithEmail() == "1");
    const Uuid centralId = f.world.seededPatients().front();
    CHECK(f.centralText("SELECT patient_id::text FROM waitlist_entry WHERE entry_id = $1::uuid", {e.entryId.toString()}) ==
          centralId.toString());
    CHECK_FALSE(f.store(1).get<Patient>(local)->has_value());  // remapped on the device too
    CHECK((*f.store(1).get<WaitlistEntry>(e.entryId))->patientId == centralId);
    CHECK(f.store(1).openConflicts(10)->empty());
  }
  SUBCASE("a different person: held for the front desk") {
    const Uuid local = newId();
    requireOk(f.store(1).insert(walkIn(local, "Morgan", "Otherperson", 1999y / July / 7, known), store::Actor::kiosk()));
    f.sync(1);
    CHECK(countWithEmail() == "1");
    CHECK(f.centralText("SELECT count(*) FROM patient WHERE patient_id = $1::uuid", {local.toString()}) == "0");
    CHECK(f.centralText("SELECT status FROM walkin_review WHERE local_patient_id = $1::uuid", {local.toString()}) == "open");
    auto conflicts = f.store(1).openConflicts(10);
    REQUIRE(conflicts->size() == 1);
    CHECK(conflicts->front().code == "sync.walkin_review");
    CHECK(*f.store(1).pendingOutboxCount() == 0);  // the outbox does not stall behind it
  }
}

TEST_CASE("a walk-in held for review is resolved by staff: the existing patient, or a new one without the email") {
  Fixture f;
  const std::string known = "p0." + tagOf(f.world) + "@mail.example";  // seeded: Avery Testwell, 1970-01-10
  const Uuid local = newId();
  const WaitlistEntry e = joinWaitlist(f, 0, walkIn(local, "Avery", "Testwell-Marsh", 1970y / January / 10, known));
  f.sync(0);
  const auto review = Uuid::parse(f.centralText("SELECT review_id::text FROM walkin_review WHERE local_patient_id = $1::uuid",
                                                {local.toString()}));
  REQUIRE(review.has_value());
  CHECK(f.centralText("SELECT count(*) FROM walkin_review_held WHERE review_id = $1::uuid", {review->toString()}) == "2");
  CHECK(f.centralText("SELECT count(*) FROM waitlist_entry WHERE entry_id = $1::uuid", {e.entryId.toString()}) == "0");
  CHECK(f.store(0).openConflicts(10)->size() == 2);  // the walk-in and its entry, both held
  const auto entryCentrally = [&] {
    return f.centralText("SELECT patient_id::text || ' ' || status FROM waitlist_entry WHERE entry_id = $1::uuid",
                         {e.entryId.toString()});
  };
  const auto resolveAgain = [&](sync::ReviewOutcome as) {
    auto again = f.world.resolveReview(*review, as);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == "review.resolved");
    CHECK(again.error().message.find("already resolved") != std::string::npos);
  };

  SUBCASE("the same person (a new last name): linked, the device's id remapped") {
    auto released = f.world.resolveReview(*review, sync::ReviewOutcome::Existing);
    if (!released) FAIL(released.error().code << ": " << released.error().message);
    const Uuid centralId = f.world.seededPatients().front();
    CHECK(released->patientId == centralId);
    CHECK(released->released == 2);
    CHECK(released->refused == 0);
    CHECK(entryCentrally() == centralId.toString() + " waiting");
    CHECK(f.centralText("SELECT status || ' ' || existing_patient_id || ' ' || resolved_by FROM walkin_review"
                        " WHERE review_id = $1::uuid", {review->toString()}) ==
          "linked " + centralId.toString() + " admin:front-desk");
    CHECK(f.centralText("SELECT central_id::text FROM id_alias WHERE entity = 'patient' AND local_id = $1::uuid",
                        {local.toString()}) == centralId.toString());
    CHECK(f.centralText("SELECT count(*) FROM patient WHERE patient_id = $1::uuid", {local.toString()}) == "0");
    CHECK(f.centralText("SELECT count(*) FROM audit_event WHERE table_name = 'walkin_review' AND row_id = $1"
                        " AND operation = 'UPDATE' AND actor = 'admin:front-desk'", {review->toString()}) == "1");
    resolveAgain(sync::ReviewOutcome::New);

    f.sync(0);  // the device asks about its held changes again and learns the outcome
    CHECK_FALSE(f.store(0).get<Patient>(local)->has_value());
    CHECK((*f.store(0).get<Patient>(centralId))->lastName == "Testwell");  // the central record stands
    CHECK((*f.store(0).get<WaitlistEntry>(e.entryId))->patientId == centralId);
    CHECK((*f.store(0).get<WaitlistEntry>(e.entryId))->sync.rowVersion >= 1);
    CHECK(f.store(0).openConflicts(10)->empty());
  }
  SUBCASE("someone else: a second patient, without the email that is the other's") {
    auto released = f.world.resolveReview(*review, sync::ReviewOutcome::New);
    if (!released) FAIL(released.error().code << ": " << released.error().message);
    CHECK(released->patientId == local);
    CHECK(released->emailDropped);
    CHECK(released->released == 2);
    CHECK(entryCentrally() == local.toString() + " waiting");
    CHECK(f.centralText("SELECT count(*) FROM patient WHERE email_hash = pii_lookup_hash($1, $2)", {known, kHashKey}) == "1");
    CHECK(f.centralText("SELECT pii_decrypt(last_name, $2) || ' ' || pii_decrypt(email, $2) FROM patient"
                        " WHERE patient_id = $1::uuid", {local.toString(), kPiiKey}) ==
          "Testwell-Marsh " + noEmailAddressFor(local));
    CHECK(f.centralText("SELECT status FROM walkin_review WHERE review_id = $1::uuid", {review->toString()}) == "created");
    resolveAgain(sync::ReviewOutcome::New);

    f.sync(0);
    const auto mine = f.store(0).get<Patient>(local);
    REQUIRE(mine->has_value());
    CHECK((*mine)->sync.rowVersion >= 1);
    CHECK(isNoEmailAddress((*mine)->email));
    auto conflicts = f.store(0).openConflicts(10);
    REQUIRE(conflicts->size() == 1);  // the held ones closed; staff told the email was not kept
    CHECK(conflicts->front().code == "sync.walkin_new_patient");
    CHECK(conflicts->front().entityId == local.toString());
  }
  // Every device equal to central, each change applied once, every refusal in front of staff.
  requireOk(f.world.heal());
  const auto failures = f.world.check();
  for (const auto& line : failures) MESSAGE(line);
  CHECK(failures.empty());
  CHECK(*f.store(1).get<WaitlistEntry>(e.entryId));  // device B has the entry too
}

TEST_CASE("a change pushed while staff resolve its walk-in's review waits for the decision, then is not held") {
  Fixture f;
  const std::string known = "p1." + tagOf(f.world) + "@mail.example";
  const Uuid local = newId();
  Patient p = walkIn(local, "Jordan", "Elsewhere", 1995y / May / 9, known);
  requireOk(f.store(0).insert(p, store::Actor::kiosk()));
  f.sync(0);
  const std::string review =
      f.centralText("SELECT review_id::text FROM walkin_review WHERE local_patient_id = $1::uuid", {local.toString()});
  p.phone = "+15415550999";
  requireOk(f.store(0).update(p, store::Actor::kiosk()));  // held too, were the review open

  // Staff's decision in progress: the review locked, then closed.
  pqxx::connection staff(central().superDsn());
  pqxx::work decision(staff);
  decision.exec_params("SELECT 1 FROM walkin_review WHERE review_id = $1::uuid FOR UPDATE", review);
  Result<sync::SessionReport> pushed = std::unexpected(Error{});
  std::thread kiosk([&] { pushed = f.world.syncDevice(0); });
  // The push waits on the review's lock (the hold is decided under it, never beside it).
  bool waiting = false;
  for (int i = 0; i < 200 && !waiting; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pqxx::connection probe(central().superDsn());
    pqxx::read_transaction tx(probe);
    waiting = tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0].as<int>() > 0;
  }
  decision.exec_params("UPDATE walkin_review SET status = 'dismissed', resolved_at = now() AT TIME ZONE 'UTC',"
                       " resolved_by = 'admin:front-desk' WHERE review_id = $1::uuid", review);
  decision.commit();
  kiosk.join();
  CHECK(waiting);
  requireOk(pushed);
  // Nothing is held under a closed review: the change was applied as if never held (the walk-in
  // itself stays dismissed, so the edit of it is refused in front of staff).
  CHECK(f.centralText("SELECT count(*) FROM walkin_review_held WHERE review_id = $1::uuid", {review}) == "1");
  CHECK(*f.store(0).pendingOutboxCount() == 0);
  auto conflicts = f.store(0).openConflicts(10);
  REQUIRE(conflicts->size() == 2);
  CHECK(conflicts->back().code == "sync.not_found");
}

TEST_CASE("the daily rescoring moves a waiting patient's score as days pass, and the devices get it") {
  Fixture f;
  const WaitlistEntry e =
      joinWaitlist(f, 0, walkIn(newId(), "Sasha", "Waitsalot", 1988y / March / 3, "sasha." + tagOf(f.world) + "@mail.example"));
  f.sync(0);
  const auto scoreCentrally = [&] {
    return std::stod(f.centralText("SELECT priority_score FROM waitlist_entry WHERE entry_id = $1::uuid", {e.entryId.toString()}));
  };
  const double scored = scoreCentrally();
  auto sameDay = f.world.rescoreWaitlists();
  requireOk(sameDay);
  CHECK(sameDay->entries >= 1);
  CHECK(scoreCentrally() == doctest::Approx(scored));  // nothing waited yet: the score stands

  f.world.advance(std::chrono::minutes{3 * 24 * 60});
  auto later = f.world.rescoreWaitlists();
  requireOk(later);
  CHECK(later->changed >= 1);
  const double waited = scoreCentrally();
  CHECK(waited > scored);
  auto again = f.world.rescoreWaitlists();  // the same moment: nothing moves twice
  requireOk(again);
  CHECK(again->changed == 0);

  f.sync(1);
  CHECK((*f.store(1).get<WaitlistEntry>(e.entryId))->priorityScore == doctest::Approx(waited));
  requireOk(f.world.heal());
  const auto failures = f.world.check();
  for (const auto& line : failures) MESSAGE(line);
  CHECK(failures.empty());
}

TEST_CASE("two offline devices offering the same slot end with one booking and one rejected request") {
  Fixture f;
  const Uuid slot = f.world.seededSlots().front();
  const auto request = [&](std::size_t device, const Uuid& patient) {
    const AppointmentSlot s = **f.store(device).get<AppointmentSlot>(slot);
    AppointmentRequest r;
    r.requestId = newId();
    r.patientId = patient;
    r.providerId = s.providerId;
    r.appointmentSlotId = slot;
    r.requestedTime = s.startTime;
    REQUIRE(f.store(device).insert(r, store::Actor::kiosk()));
    return r.requestId;
  };
  const Uuid first = request(0, f.world.seededPatients()[0]);
  const Uuid second = request(1, f.world.seededPatients()[1]);
  f.sync(0);
  f.sync(1);
  CHECK(f.centralText("SELECT status FROM appointment_request WHERE request_id = $1::uuid", {first.toString()}) == "confirmed");
  CHECK(f.centralText("SELECT status FROM appointment_request WHERE request_id = $1::uuid", {second.toString()}) == "rejected");
  CHECK(f.centralText("SELECT status FROM appointment_slot WHERE slot_id = $1::uuid", {slot.toString()}) == "booked");
  CHECK(f.centralText("SELECT count(*) FROM appointment a JOIN appointment_slot s ON s.provider_id = a.provider_id"
                      " AND s.start_time = a.start_time WHERE s.slot_id = $1::uuid",
                      {slot.toString()}) == "1");
  CHECK(f.store(0).openConflicts(10)->empty());
  auto conflicts = f.store(1).openConflicts(10);
  REQUIRE(conflicts->size() == 1);
  CHECK(conflicts->front().entityId == second.toString());
  f.sync(0);
  CHECK((*f.store(0).get<AppointmentSlot>(slot))->status == SlotStatus::Booked);
  CHECK((*f.store(0).get<AppointmentRequest>(second))->status == RequestStatus::Rejected);
}

TEST_CASE("a tombstone never comes back") {
  Fixture f;
  const Uuid slot = f.world.seededSlots().back();
  f.world.centralTombstone("appointment_slot", "slot_id", slot);
  f.sync(0);
  auto local = f.store(0).get<AppointmentSlot>(slot);
  CHECK((!local->has_value() || (*local)->sync.deleted));
  // Another system tries to bring it back: the database refuses, and nothing changes on the device.
  CHECK_THROWS(f.world.central("UPDATE appointment_slot SET deleted = false WHERE slot_id = $1::uuid", {slot.toString()}));
  f.sync(0);
  local = f.store(0).get<AppointmentSlot>(slot);
  CHECK((!local->has_value() || (*local)->sync.deleted));
}

TEST_CASE("a device restored from an old copy is refused") {
  Fixture f;
  const auto copy = f.world.device(0).path.string() + ".old";
  REQUIRE(f.store(0).checkpoint());
  std::filesystem::copy_file(f.world.device(0).path, copy);
  Patient p = **f.store(0).get<Patient>(f.world.seededPatients()[2]);
  p.phone = "+15415550333";
  requireOk(f.store(0).update(p, store::Actor::kiosk()));
  f.sync(0);
  // Restore the old file: its next change reuses a device_seq the hub has already seen.
  f.world.device(0).store.reset();
  std::filesystem::remove(f.world.device(0).path.string() + "-wal");
  std::filesystem::remove(f.world.device(0).path.string() + "-shm");
  std::filesystem::copy_file(copy, f.world.device(0).path, std::filesystem::copy_options::overwrite_existing);
  f.world.crashDevice(0);
  p.phone = "+15415550444";
  requireOk(f.store(0).update(p, store::Actor::kiosk()));
  auto r = f.world.syncDevice(0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.device_restored");
  CHECK(f.centralText("SELECT pii_decrypt(phone, $2) FROM patient WHERE patient_id = $1::uuid",
                      {p.patientId.toString(), kPiiKey}) == "+15415550333");
  CHECK(f.store(0).syncValue("last_error")->value_or("").find("set up again") != std::string::npos);
}

TEST_CASE("an appointment made weeks ahead reaches the device when its day enters the window") {
  Fixture f;
  const Uuid later = f.world.seededAppointments().back();  // seeded ten days ahead
  CHECK_FALSE(f.store(0).get<Appointment>(later)->has_value());
  f.world.advance(days{4});
  f.sync(0);
  CHECK_FALSE(f.store(0).get<Appointment>(later)->has_value());
  f.world.advance(days{4});
  f.sync(0);
  auto arrived = f.store(0).get<Appointment>(later);
  REQUIRE(arrived->has_value());
  CHECK((*arrived)->status == AppointmentStatus::Scheduled);
  // Its patient came with it.
  CHECK(f.store(0).get<Patient>((*arrived)->patientId)->has_value());
}

TEST_CASE("the simulation holds for a handful of seeds with faults (the full run is anteroom-sync-sim)") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const auto failures = runSeed(central(), 5000 + seed, 30, false);
    for (const auto& f : failures) FAIL_CHECK(f);
  }
}
