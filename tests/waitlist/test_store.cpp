// Store-driven waitlist tests: priority recomputed on write (with its outbox mutation), and offer
// cycles through the store leaving the right rows: requests, notifications, statuses, appointment.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "anteroom/store/waitlist_service.hpp"
#include "waitlist_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
using store::Actor;

namespace {

class TempStore {
 public:
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anteroom-waitlist-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    m_dir = tmpl;
    auto key = store::SecretKey::generate();
    REQUIRE(key.has_value());
    store::OpenOptions options;
    options.path = m_dir / "store.db";
    options.create = true;
    auto s = store::Store::open(options, *key);
    REQUIRE(s.has_value());
    m_store.emplace(std::move(*s));
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;
  ~TempStore() {
    m_store.reset();
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  store::Store& operator*() { return *m_store; }
  store::Store* operator->() { return &*m_store; }

 private:
  std::filesystem::path m_dir;
  std::optional<store::Store> m_store;
};

// Two providers, four waiting patients on one list, one free slot on Wednesday 10:00 UTC.
struct Seeded {
  TempStore s;
  Ids ids{11};
  Practice practice;
  Provider miriam = makeProvider(ids, "Miriam", "Ashcombe", {"anxiety", "depression"}, {"cbt"}, 14, true);
  Provider tobias = makeProvider(ids, "Tobias", "Renwick", {"trauma_ptsd"}, {"emdr"}, 9, false);
  Waitlist list;
  std::vector<Patient> patients;
  std::vector<WaitlistEntry> entries;
  AppointmentSlot slot;
  Instant now = at(0, 8);
  Actor staff = Actor::staff(ids.next());

  explicit Seeded(OfferMode mode = OfferMode::Sequential) {
    practice.practiceId = miriam.practiceId;
    practice.name = "Harbor Test Clinic";
    tobias.practiceId = practice.practiceId;
    list.waitlistId = ids.next();
    list.practiceId = practice.practiceId;
    list.name = "Adults";
    list.criteria.offerMode = mode;
    list.criteria.holdMinutes = 60;
    list.criteria.broadcastSize = 2;
    list.createdAt = now - days{365};
    const char* names[][2] = {{"Avery", "Quill"}, {"Blake", "Morrow"}, {"Camila", "Fenwick"}, {"Dmitri", "Sorell"}};
    for (int i = 0; i < 4; ++i) {
      patients.push_back(makePatient(ids, names[i][0], names[i][1], VisitMode::Either, {"anxiety"}));
      // Avery waited longest, then Blake, Camila, Dmitri.
      entries.push_back(makeEntry(ids, list, patients.back(), now - days{100 - 20 * i}));
    }
    slot = makeSlot(ids, miriam, at(2, 10));
    auto r = s->write(Actor::sync(), now, [&](store::WriteTx& tx) -> Result<void> {
      const auto apply = [&](const auto& rec) -> Result<void> {
        auto o = tx.applyRemote(rec);
        if (!o) return std::unexpected(o.error());
        return {};
      };
      if (auto a = apply(practice); !a) return a;
      if (auto a = apply(miriam); !a) return a;
      if (auto a = apply(tobias); !a) return a;
      if (auto a = apply(list); !a) return a;
      for (const auto& p : patients)
        if (auto a = apply(p); !a) return a;
      for (const auto& e : entries)
        if (auto a = apply(e); !a) return a;
      return apply(slot);
    });
    if (!r) FAIL("seeding failed: " << r.error().message);
  }
  store::WaitlistService service() { return store::WaitlistService(*s, [](Instant) { return minutes{0}; }); }
  WaitlistEntry entry(int i) { return s->get<WaitlistEntry>(entries[static_cast<std::size_t>(i)].entryId).value().value(); }
  AppointmentSlot slotNow() { return s->get<AppointmentSlot>(slot.slotId).value().value(); }
};

std::vector<store::OutboxMutation> outboxFor(store::Store& s, std::string_view entity) {
  std::vector<store::OutboxMutation> out;
  auto all = s.pendingOutbox(1000);
  REQUIRE(all.has_value());
  for (auto& m : *all)
    if (m.entity == entity) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("staff set urgency: the score is recomputed in the same write; urgency syncs, the score stays local") {
  Seeded d;
  auto svc = d.service();
  const auto before = d.entry(3);  // Dmitri: waited 40 days
  auto updated = svc.setUrgency(before.entryId, 2, d.staff, d.now);
  REQUIRE(updated.has_value());
  CHECK(updated->urgency == 2);
  CHECK(updated->urgencySetBy == d.staff.id);
  // 40 days x 0.5 + 2 x 20 + flexibility 5 (either, any provider, any time); both... only Miriam
  // covers anxiety: -1.5.
  CHECK(updated->priorityScore == doctest::Approx(20 + 40 + 5 - 1.5));
  const auto stored = d.entry(3);
  CHECK(stored.priorityScore == doctest::Approx(63.5));
  CHECK(stored.urgency == 2);
  const auto outbox = outboxFor(*d.s, "waitlist_entry");
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].kind == "update");
  // The score is kept current on the device but is the server's: it never travels.
  CHECK(outbox[0].changes.find("priority_score") == std::string::npos);
  CHECK(outbox[0].prior.find("priority_score") == std::string::npos);
  CHECK(outbox[0].changes.find("\"urgency\":2") != std::string::npos);
  CHECK(outbox[0].changes.find("urgency_set_by") != std::string::npos);

  // The patient's own kiosk session can never set urgency.
  auto refused = svc.setUrgency(before.entryId, 3, Actor::kiosk(), d.now);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == "waitlist.urgency.staff_only");
  CHECK_FALSE(svc.setUrgency(before.entryId, 4, d.staff, d.now).has_value());

  // Days waiting grow: recomputing a day later rewrites the drifted scores once.
  auto changed = svc.recomputeAll(d.staff, d.now + days{1});
  REQUIRE(changed.has_value());
  CHECK(*changed == 4);
  CHECK(svc.recomputeAll(d.staff, d.now + days{1}).value() == 0);
  CHECK(outboxFor(*d.s, "waitlist_entry").size() == 1);  // re-scores stay on the device

  // Urgency now puts Dmitri first.
  auto engine = svc.loadEngine(d.now);
  REQUIRE(engine.has_value());
  CHECK(engine->entries()[engine->rank().front().entryIndex].entryId == before.entryId);
}

TEST_CASE("adding an entry computes its score; a second active entry is refused") {
  Seeded d;
  auto svc = d.service();
  Ids ids(77);
  Patient farah = makePatient(ids, "Farah", "Lindqvist", VisitMode::InPerson, {"trauma_ptsd"});
  REQUIRE(d.s->write(Actor::sync(), d.now, [&](store::WriteTx& tx) -> Result<void> {
    auto o = tx.applyRemote(farah);
    if (!o) return std::unexpected(o.error());
    return {};
  }).has_value());
  auto e = svc.addEntry(d.list.waitlistId, farah.patientId, std::nullopt, d.staff, d.now);
  REQUIRE(e.has_value());
  // Day 0; flexibility 2/3 of 5; Tobias alone covers trauma in person: -1.5.
  CHECK(e->priorityScore == doctest::Approx(3.33 - 1.5));
  CHECK(outboxFor(*d.s, "waitlist_entry").size() == 1);
  auto again = svc.addEntry(d.list.waitlistId, farah.patientId, std::nullopt, d.staff, d.now);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "waitlist.already_waiting");
}

TEST_CASE("sequential offer through the store: hold, expiry, next, accept books the slot") {
  Seeded d;
  auto svc = d.service();
  auto r = svc.runOfferCycle(d.slot.slotId, d.staff, d.now);
  REQUIRE(r.has_value());
  CHECK(r->state == OfferState::Offering);
  REQUIRE(r->requestsCreated.size() == 1);
  CHECK(d.slotNow().status == SlotStatus::Held);
  CHECK(d.entry(0).status == WaitlistEntryStatus::Offered);  // Avery, longest waiting
  auto requests = d.s->requestsForSlot(d.slot.slotId).value();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].status == RequestStatus::Offered);
  CHECK(requests[0].waitlistEntryId == d.entries[0].entryId);
  auto notes = d.s->notificationsFor(d.patients[0].patientId).value();
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].type == NotificationType::SlotOffered);
  CHECK(notes[0].content.params.at("expires_at") == formatInstant(d.now + hours{1}));
  CHECK(outboxFor(*d.s, "appointment_request").size() == 1);
  CHECK(outboxFor(*d.s, "notification").size() == 1);
  CHECK(outboxFor(*d.s, "appointment_slot").size() == 1);

  // Running again inside the hold changes nothing.
  CHECK(svc.runOfferCycle(d.slot.slotId, d.staff, d.now + minutes{30}).value().actions.empty());

  // The hold lapses: the tick expires Avery's offer and offers Blake.
  auto ticked = svc.tick(d.staff, d.now + hours{1});
  REQUIRE(ticked.has_value());
  REQUIRE(ticked->size() == 1);
  CHECK(d.entry(0).status == WaitlistEntryStatus::Waiting);
  CHECK(d.entry(1).status == WaitlistEntryStatus::Offered);
  requests = d.s->requestsForSlot(d.slot.slotId).value();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].status == RequestStatus::Expired);
  CHECK(d.s->notificationsFor(d.patients[0].patientId).value().back().type == NotificationType::OfferExpired);

  // Avery answers too late; Blake accepts in time.
  auto late = svc.acceptOffer(requests[0].requestId, Actor::kiosk(), d.now + hours{1} + minutes{5});
  REQUIRE(late.has_value());
  CHECK(late->outcome == AcceptOutcome::Expired);
  auto won = svc.acceptOffer(requests[1].requestId, Actor::kiosk(), d.now + hours{1} + minutes{10});
  REQUIRE(won.has_value());
  CHECK(won->outcome == AcceptOutcome::Won);
  REQUIRE(won->appointmentId.has_value());
  auto appt = d.s->get<Appointment>(*won->appointmentId).value();
  REQUIRE(appt.has_value());
  CHECK(appt->patientId == d.patients[1].patientId);
  CHECK(appt->waitlistEntryId == d.entries[1].entryId);
  CHECK(appt->startTime == d.slot.startTime);
  CHECK(appt->status == AppointmentStatus::Scheduled);
  CHECK(d.slotNow().status == SlotStatus::Booked);
  CHECK(d.entry(1).status == WaitlistEntryStatus::Scheduled);
  CHECK(d.s->get<AppointmentRequest>(requests[1].requestId).value()->status == RequestStatus::Confirmed);
  CHECK(d.s->notificationsFor(d.patients[1].patientId).value().back().type == NotificationType::RequestConfirmed);
  CHECK(outboxFor(*d.s, "appointment").size() == 1);

  // After the booking nothing more happens for this slot.
  CHECK(svc.tick(d.staff, d.now + hours{5}).value().empty());
}

TEST_CASE("broadcast through the store: the acceptance race is decided once") {
  Seeded d(OfferMode::Broadcast);
  auto svc = d.service();
  auto r = svc.runOfferCycle(d.slot.slotId, d.staff, d.now);
  REQUIRE(r.has_value());
  REQUIRE(r->requestsCreated.size() == 2);  // broadcast size 2: Avery and Blake
  CHECK(d.entry(0).status == WaitlistEntryStatus::Offered);
  CHECK(d.entry(1).status == WaitlistEntryStatus::Offered);
  CHECK(d.entry(2).status == WaitlistEntryStatus::Waiting);

  auto first = svc.acceptOffer(r->requestsCreated[1], Actor::kiosk(), d.now + minutes{3});  // Blake
  auto second = svc.acceptOffer(r->requestsCreated[0], Actor::kiosk(), d.now + minutes{4});  // Avery
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->outcome == AcceptOutcome::Won);
  CHECK(second->outcome == AcceptOutcome::TooLate);
  CHECK_FALSE(second->appointmentId.has_value());
  CHECK(d.entry(1).status == WaitlistEntryStatus::Scheduled);
  CHECK(d.entry(0).status == WaitlistEntryStatus::Waiting);  // withdrawn, back in line
  CHECK(d.s->get<AppointmentRequest>(r->requestsCreated[0]).value()->status == RequestStatus::Cancelled);
  CHECK(d.s->appointmentsBetween(d.slot.startTime, d.slot.endTime).value().size() == 1);
  // The winner repeating the acceptance is harmless.
  CHECK(svc.acceptOffer(r->requestsCreated[1], Actor::kiosk(), d.now + minutes{5}).value().outcome ==
        AcceptOutcome::Won);
  CHECK(d.s->appointmentsBetween(d.slot.startTime, d.slot.endTime).value().size() == 1);
}

TEST_CASE("staff approval through the store, decline, and the wait estimate") {
  Seeded d(OfferMode::StaffApproval);
  auto svc = d.service();
  auto r = svc.runOfferCycle(d.slot.slotId, d.staff, d.now);
  REQUIRE(r.has_value());
  CHECK(r->state == OfferState::AwaitingApproval);
  CHECK(r->proposed == d.entries[0].entryId);
  CHECK(d.s->requestsForSlot(d.slot.slotId).value().empty());
  CHECK(d.slotNow().status == SlotStatus::Open);

  CHECK_FALSE(svc.approveOffer(d.slot.slotId, d.entries[2].entryId, Actor::kiosk(), d.now).has_value());
  auto approved = svc.approveOffer(d.slot.slotId, d.entries[2].entryId, d.staff, d.now);
  REQUIRE(approved.has_value());
  REQUIRE(approved->requestsCreated.size() == 1);
  CHECK(d.entry(2).status == WaitlistEntryStatus::Offered);

  auto declined = svc.declineOffer(approved->requestsCreated[0], Actor::kiosk(), d.now + minutes{1});
  REQUIRE(declined.has_value());
  CHECK(d.entry(2).status == WaitlistEntryStatus::Waiting);
  CHECK(declined->proposed == d.entries[0].entryId);
  CHECK(d.s->get<AppointmentRequest>(approved->requestsCreated[0]).value()->status == RequestStatus::Declined);

  auto estimate = svc.estimateFor(d.entries[3].entryId, d.now);
  REQUIRE(estimate.has_value());
  CHECK(estimate->position == 4);
  CHECK_FALSE(estimate->hasEstimate);  // no entry of this list was ever scheduled
}

TEST_CASE("same-day slots for a walk-in") {
  Seeded d;
  auto svc = d.service();
  Ids ids(5);
  Patient walkIn = makePatient(ids, "Keiko", "Underhill", VisitMode::Telehealth, {"depression"});
  auto today = svc.sameDaySlots(walkIn, std::nullopt, d.now, at(3, 0));
  REQUIRE(today.has_value());
  REQUIRE(today->size() == 1);
  CHECK(today->front().slotId == d.slot.slotId);
  walkIn.preferences.concerns = {"trauma_ptsd"};  // only Tobias, who sees nobody by video
  CHECK(svc.sameDaySlots(walkIn, std::nullopt, d.now, at(3, 0)).value().empty());
}
