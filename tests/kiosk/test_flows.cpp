// Kiosk flows, headless: every path of check-in, waitlist sign-up and staff unlock, with the
// rows they leave in the store, plus the idle wipe, rate limits and lockouts.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <thread>

#include "anteroom/model/json.hpp"
#include <sqlite3.h>

#include "anteroom/kiosk/out_of_service.hpp"
#include "anteroom/model/time_zone.hpp"
#include "anteroom/model/validation.hpp"
#include "anteroom/store/pin.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "kiosk_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
using namespace std::chrono;

TEST_CASE("check-in by last name and date of birth") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  CHECK(d.screen() == "welcome");
  d.press("welcome.check_in");
  CHECK(d.screen() == "checkin.last_name");
  d.type("peña-thistlewood");  // the on-screen keyboard types lower case
  CHECK(app.frame().screen.field->value == "Peña-Thistlewood");
  d.press("nav.continue");
  CHECK(d.screen() == "checkin.dob");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  // Minimal disclosure: first name, last initial, time and provider; never the full last name.
  CHECK(d.body().find("Ottilie P.") != std::string::npos);
  CHECK(d.body().find("Thistlewood") == std::string::npos);
  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.done");

  auto stored = fx.store.get<Appointment>(fx.appointment.appointmentId).value();
  CHECK(stored->status == AppointmentStatus::CheckedIn);
  // One mutation queued for the hub, which tells the provider when it applies it.
  auto outbox = fx.store.pendingOutbox(10).value();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].entity == "appointment");

  // The done screen goes back to welcome by itself, with nothing left in the buffers.
  d.advance(seconds{25});
  CHECK(d.screen() == "welcome");
  CHECK(app.inputsEmpty());
}

TEST_CASE("check-in by code, typed or scanned on the welcome screen") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const std::string code = kiosk::checkInCodeFor(fx.appointment.appointmentId);
  REQUIRE(code.size() == 6);
  d.type(code + "\n");  // a scanner types the code and Enter
  REQUIRE(d.screen() == "checkin.confirm");
  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.done");
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);

  d.press("nav.done");
  d.press("welcome.check_in");
  d.press("checkin.use_code");
  d.type("ZZZZZ");
  d.press("nav.continue");
  CHECK(d.screen() == "checkin.code");
  CHECK_FALSE(d.error().empty());  // five characters: told how a code looks
}

TEST_CASE("Spanish: the date of birth is day first, and the screens are in Spanish") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.language");
  CHECK(app.frame().language == "es");
  CHECK(app.frame().screen.title == "Le damos la bienvenida");
  d.press("welcome.check_in");
  d.type("pena-thistlewood");  // without the tilde: still found
  d.press("nav.continue");
  d.type("12041986");  // 12 April 1986, day first
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  CHECK(app.frame().screen.title == "¿Es usted?");
}

TEST_CASE("no match sends the patient to the front desk, and repeated misses pause the kiosk") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const int limit = app.config().lookupsPerMinute;
  for (int i = 0; i < limit; ++i) {
    if (d.screen() != "welcome") d.press("nav.done");
    d.press("welcome.check_in");
    d.type("nobody");
    d.press("nav.continue");
    d.type("01011990");
    d.press("nav.continue");
    if (i + 1 < limit) {
      REQUIRE(d.screen() == "front_desk");
      CHECK(d.body().find("front desk") != std::string::npos);
    }
  }
  CHECK(d.screen() == "rate_limited");
  CHECK(app.inputsEmpty());
  // Nothing works until the pause is over (not even a stale tap), then welcome returns.
  app.apply(kiosk::Intent::press("welcome.check_in"), d.now);
  CHECK(d.screen() == "rate_limited");
  d.advance(seconds{61});
  CHECK(d.screen() == "welcome");
  CHECK(fx.store.pendingOutboxCount().value() == 0);
}

TEST_CASE("a cancelled appointment is never checked in; the patient is sent to the desk kindly") {
  KioskFixture fx;
  Appointment cancelled = fx.appointment;
  cancelled.status = AppointmentStatus::Cancelled;
  cancelled.sync.rowVersion = 2;
  REQUIRE(fx.store.applyRemote(cancelled, store::Actor::sync()).has_value());
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  CHECK(d.screen() == "front_desk");
  CHECK(d.body().find("cancelled") != std::string::npos);
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::Cancelled);
}

TEST_CASE("bad answers get messages a patient can act on") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("R2D2");
  d.press("nav.continue");
  CHECK(d.screen() == "checkin.last_name");
  CHECK(d.error().find("letters") != std::string::npos);
  d.app.apply(kiosk::Intent::clear(), d.now);
  d.type("Smith");
  d.press("nav.continue");
  d.type("02302000");  // 30 February
  d.press("nav.continue");
  CHECK(d.screen() == "checkin.dob");
  CHECK(d.error().find("doesn't exist") != std::string::npos);
  d.app.apply(kiosk::Intent::clear(), d.now);
  d.type("0101" + std::to_string(static_cast<int>(toDate(fx.now).year()) + 1));
  d.press("nav.continue");
  CHECK(d.error().find("future") != std::string::npos);
}

namespace {

void joinAsNew(Driver& d, const std::string& email) {
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("marisol");
  d.press("nav.continue");
  d.type("quintanilla");
  d.press("nav.continue");
  d.type("03151992");
  d.press("nav.continue");
  d.type("541 555 0199");
  d.press("nav.continue");
  d.type(email);
  d.press("nav.continue");
}

}  // namespace

TEST_CASE("a new patient joins the waitlist and sees an honest position") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  joinAsNew(d, "Marisol.Q@patients.example");
  REQUIRE(d.screen() == "waitlist.insurance");
  d.press("waitlist.insurance.payer.0");  // Aetna, accepted by the demo practice
  REQUIRE(d.screen() == "waitlist.member_id");
  d.type("ab-123456");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.mode");
  d.press("waitlist.mode.telehealth");
  d.press("waitlist.concern.anxiety");
  d.press("waitlist.concern.trauma_ptsd");
  d.press("waitlist.concern.anxiety");  // tapped twice: off again
  d.press("nav.continue");
  d.press("waitlist.time.weekday_evening");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.sms");
  d.press("waitlist.discretion.general");
  d.press("waitlist.privacy.received");
  REQUIRE(d.screen() == "waitlist.review");
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  CHECK(d.body().find("number") != std::string::npos);

  auto found = fx.store.findPatientByEmail("marisol.q@patients.example").value();
  REQUIRE(found.has_value());
  CHECK(found->firstName == "Marisol");
  CHECK(found->lastName == "Quintanilla");
  CHECK(found->phone == "+15415550199");
  CHECK(found->insuranceInfo.memberId == "AB-123456");
  CHECK(found->preferences.mode == VisitMode::Telehealth);
  CHECK(found->preferences.concerns == TagList{"trauma_ptsd"});
  CHECK(found->preferences.contactConsent);
  CHECK_FALSE(found->preferences.availableTimes.empty());

  // The trauma list was chosen (its focus covers the concern), with one waiting entry.
  const auto lists = fx.store.waitlists().value();
  int entries = 0;
  for (const auto& w : lists) {
    const auto active = fx.store.waitlistEntries(w.waitlistId, true).value();
    for (const auto& e : active) {
      if (e.patientId == found->patientId) {
        ++entries;
        CHECK(w.name == "Trauma-focused care");
        CHECK(e.status == WaitlistEntryStatus::Waiting);
      }
    }
  }
  CHECK(entries == 1);
  // Patient, entry and front-desk note all queued for sync.
  std::set<std::string> kinds;
  const auto outbox = fx.store.pendingOutbox(10).value();
  for (const auto& m : outbox) kinds.insert(m.entity);
  CHECK(kinds == std::set<std::string>{"patient", "waitlist_entry", "notification"});
}

TEST_CASE("a walk-in with an email on file joins as that patient only when name and date of birth agree") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const auto patients = [&] {
    const auto info = fx.store.info().value();
    for (const auto& [table, n] : info.rowCounts)
      if (table == "patient") return n;
    return std::int64_t{-1};
  };
  const auto patientsBefore = patients();
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("Ottilie");
  d.press("nav.continue");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  d.press("nav.continue");  // April 12, as spelled out (it reads both ways)
  REQUIRE(d.screen() == "waitlist.phone");
  d.type("541 555 0123");
  d.press("nav.continue");
  d.type(fx.patient.email);
  d.press("nav.continue");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.telehealth");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.phone");
  d.press("waitlist.discretion.name");
  d.press("waitlist.privacy.received");
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  // No second patient: the one on file, with this visit's choices and the phone on file kept.
  CHECK(patients() == patientsBefore);
  const auto onFile = fx.store.get<Patient>(fx.patient.patientId).value().value();
  CHECK(onFile.phone == fx.patient.phone);
  CHECK(onFile.preferences.mode == VisitMode::Telehealth);
  CHECK(onFile.preferences.contactMethod == ContactMethod::Phone);
  CHECK(onFile.preferences.mayNamePractice);
  bool waiting = false;
  const auto lists = fx.store.waitlists().value();
  for (const auto& w : lists) {
    const auto entries = fx.store.waitlistEntries(w.waitlistId, true).value();
    for (const auto& e : entries) waiting = waiting || e.patientId == fx.patient.patientId;
  }
  CHECK(waiting);
}

TEST_CASE("waitlist sign-up refuses bad contact details with actionable messages") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("Ana");
  d.press("nav.continue");
  d.type("Ruiz");
  d.press("nav.continue");
  d.type("01011990");
  d.press("nav.continue");
  d.type("12345");
  d.press("nav.continue");
  CHECK(d.screen() == "waitlist.phone");
  CHECK(d.error().find("10-digit") != std::string::npos);
  d.app.apply(kiosk::Intent::clear(), d.now);
  d.type("5415550142");
  d.press("nav.continue");
  d.type("ana.ruiz@@example");
  d.press("nav.continue");
  CHECK(d.screen() == "waitlist.email");
  CHECK(d.error().find("email") != std::string::npos);
  CHECK(d.error().find("ana.ruiz") == std::string::npos);  // never echoes the input
}

TEST_CASE("a returning patient is found and keeps their details") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.join_waitlist");
  d.press("waitlist.returning");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.mode");
  d.press("waitlist.mode.either");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.no");
  d.press("waitlist.privacy.paper");
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  const auto p = fx.store.get<Patient>(fx.patient.patientId).value();
  CHECK(p->email == fx.patient.email);
  CHECK_FALSE(p->preferences.contactConsent);

  // Joining again keeps the place: no second active entry.
  d.press("nav.done");
  d.press("welcome.join_waitlist");
  d.press("waitlist.returning");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  d.press("waitlist.mode.either");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.no");
  d.press("waitlist.privacy.paper");
  d.press("waitlist.submit");
  CHECK(d.body().find("already") != std::string::npos);
}

TEST_CASE("idle timeout returns to welcome and wipes every input buffer") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Thistlewood");
  CHECK_FALSE(app.inputsEmpty());
  REQUIRE(app.nextDeadline().has_value());
  d.advance(seconds{59});
  CHECK(d.screen() == "checkin.last_name");
  d.advance(seconds{2});
  CHECK(d.screen() == "welcome");
  CHECK(app.inputsEmpty());
  // On welcome only the rare check for the sync daemon's commits is due: the loop sleeps.
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() - d.now >= seconds{25});
  // The welcome frame is the same as a fresh kiosk's.
  auto fresh = fx.app();
  CHECK(app.frame().screen.title == fresh.frame().screen.title);
  CHECK(app.frame().screen.choices.size() == fresh.frame().screen.choices.size());
}

TEST_CASE("staff unlock with a personal PIN; five wrong PINs lock out, across a restart") {
  KioskFixture fx;
  auto users = fx.store.staffUsers().value();
  REQUIRE(users.size() == 2);
  const auto& jordan = *std::find_if(users.begin(), users.end(), [](const StaffUser& u) {
    return u.displayName.starts_with("Jordan");
  });
  {
    auto app = fx.app();
    Driver d{app, fx.now};
    d.press("welcome.staff");
    d.press("staff.user." + jordan.staffId.toString());
    REQUIRE(d.screen() == "staff.pin");
    d.type("2468");
    d.press("nav.continue");
    REQUIRE(d.screen() == "staff.today");
    CHECK(app.frame().staffMode);
    CHECK(app.frame().screen.table.has_value());
    d.press("staff.tab.waitlist");
    CHECK(d.screen() == "staff.waitlist");
    REQUIRE(app.frame().screen.table.has_value());
    CHECK_FALSE(app.frame().screen.table->rows.empty());
    d.press("staff.tab.sync");
    CHECK(d.body().find("Never synced") != std::string::npos);
    // Auto-lock after two minutes without a tap.
    d.advance(seconds{121});
    CHECK(d.screen() == "welcome");
    // Audited with the staff id: the unlock and the boards viewed.
    int staffRows = 0;
    const auto audit = fx.store.auditTrail(50).value();
    for (const auto& e : audit) {
      if (e.actorKind == "staff" && e.actorId == jordan.staffId.toString()) ++staffRows;
    }
    CHECK(staffRows >= 3);
  }
}

TEST_CASE("wrong staff PINs are throttled, not locked out: growing waits that survive a restart, an audit alert, and a manager clears it") {
  KioskFixture fx;
  auto users = fx.store.staffUsers().value();
  const auto find = [&](std::string_view prefix) {
    return *std::find_if(users.begin(), users.end(), [&](const StaffUser& u) { return u.displayName.starts_with(prefix); });
  };
  const StaffUser jordan = find("Jordan");
  const StaffUser sam = find("Sam");
  const kiosk::KioskConfig cfg;
  Instant t = fx.now;
  {
    auto app = fx.app();
    Driver d{app, t};
    d.press("welcome.staff");
    d.press("staff.user." + jordan.staffId.toString());
    // The PIN screen says whose PIN it asks for.
    REQUIRE(app.frame().screen.field.has_value());
    CHECK(app.frame().screen.field->label == jordan.displayName + ", enter your PIN");
    for (int i = 1; i <= cfg.staffFreeAttempts; ++i) {
      d.type("1111");
      d.press("nav.continue");
      CHECK(d.screen() == "staff.pin");
    }
    // The third wrong PIN starts a wait (5 s), the next doubles it.
    CHECK(d.error().find("try again in 5 seconds") != std::string::npos);
    d.type("2468");
    d.press("nav.continue");
    CHECK(d.screen() == "staff.pin");
    CHECK(d.error().find("Please wait 5 seconds") != std::string::npos);
    d.now += seconds{6};
    d.type("1111");
    d.press("nav.continue");
    CHECK(d.error().find("try again in 10 seconds") != std::string::npos);
    t = d.now;
  }
  {
    // A restart does not lift the wait, even with the right PIN; after it, the right PIN works.
    auto app = fx.app();
    Driver d{app, t + seconds{2}};
    d.press("welcome.staff");
    d.press("staff.user." + jordan.staffId.toString());
    d.type("2468");
    d.press("nav.continue");
    CHECK(d.screen() == "staff.pin");
    CHECK(d.error().find("Please wait 8 seconds") != std::string::npos);
    d.now += seconds{9};
    d.type("1111");
    d.press("nav.continue");  // the fifth wrong PIN: an alert in the audit log
    const auto audit = fx.store.auditTrail(50).value();
    const bool alerted = std::any_of(audit.begin(), audit.end(), [&](const auto& e) {
      return e.action == "pin_failures_alert" && e.entityId == jordan.staffId.toString();
    });
    CHECK(alerted);
    // Never a lockout a patient could cause: the longest wait is the ceiling.
    for (int i = 0; i < 12; ++i) {
      d.now += cfg.staffMaxDelay + seconds{1};
      d.type("1111");
      d.press("nav.continue");
    }
    CHECK(d.error().find("try again in " + std::to_string(cfg.staffMaxDelay.count()) + " seconds") != std::string::npos);
    t = d.now;
  }
  {
    // A manager sees the count and clears the wait; Jordan's right PIN then works at once.
    auto app = fx.app();
    Driver d{app, t + seconds{1}};
    d.press("welcome.staff");
    d.press("staff.user." + sam.staffId.toString());
    d.type("1357");
    d.press("nav.continue");
    REQUIRE(d.screen() == "staff.today");
    d.press("staff.tab.settings");
    const std::string clear = "staff.settings.clear_pin." + jordan.staffId.toString();
    d.press(clear);
    CHECK(app.frame().screen.notice == "PIN wait cleared for " + jordan.displayName + ".");
    const auto audit = fx.store.auditTrail(50).value();
    const bool cleared = std::any_of(audit.begin(), audit.end(), [&](const auto& e) {
      return e.action == "pin_throttle_cleared" && e.actorId == sam.staffId.toString();
    });
    CHECK(cleared);
    d.press("staff.lock");
    d.press("welcome.staff");
    d.press("staff.user." + jordan.staffId.toString());
    d.type("2468");
    d.press("nav.continue");
    CHECK(d.screen() == "staff.today");
    // Front-desk staff are not offered the manager's clearing.
    d.press("staff.tab.settings");
    for (const auto& a : app.frame().screen.actions) CHECK_FALSE(a.id.starts_with("staff.settings.clear_pin."));
  }
}

TEST_CASE("staff can mark a no-show and check a patient in from today's board") {
  KioskFixture fx;
  auto users = fx.store.staffUsers().value();
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.staff");
  d.press("staff.user." + users.front().staffId.toString());
  d.type(users.front().displayName.starts_with("Jordan") ? "2468" : "1357");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
  const std::string row = fx.appointment.appointmentId.toString();
  d.press("staff.today.check_in." + row);
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
  d.press("staff.today.no_show." + row);
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::NoShow);
  const auto audit = fx.store.auditTrail(5).value();
  CHECK(audit.front().actorKind == "staff");
}

TEST_CASE("every English string has a Spanish translation, and no screen shows a raw key") {
  const auto tr = translations();
  for (const auto& [key, value] : tr.table("en")) {
    INFO(key);
    CHECK(tr.has("es", key));
    CHECK_FALSE(value.empty());
  }
  for (const auto& [key, value] : tr.table("es")) {
    INFO(key);
    CHECK(tr.has("en", key));
  }
}

namespace {

// Jordan K. is front desk (PIN 2468); Sam R. is a manager (PIN 1357).
void unlockStaff(KioskFixture& fx, Driver& d, std::string_view who = "Jordan") {
  const auto users = fx.store.staffUsers().value();
  const auto user = std::find_if(users.begin(), users.end(), [&](const StaffUser& u) {
    return u.displayName.starts_with(who);
  });
  REQUIRE(user != users.end());
  d.press("welcome.staff");
  d.press("staff.user." + user->staffId.toString());
  d.type(who == "Jordan" ? "2468" : "1357");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
}

}  // namespace

TEST_CASE("the staff waitlist board ranks by the engine, explains each place, and takes urgency from a manager") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockStaff(fx, d, "Sam");
  d.press("staff.tab.waitlist");
  const auto& table = app.frame().screen.table;
  REQUIRE(table.has_value());
  REQUIRE(table->rows.size() >= 3);
  const std::string third = table->rows[2].id;
  d.press("staff.waitlist.view." + third);
  const auto& detail = app.frame().screen.detail;
  REQUIRE_FALSE(detail.empty());
  bool explained = false;
  for (const auto& line : detail) explained = explained || line.find("waited") != std::string::npos;
  CHECK(explained);
  // Marking it "highest" moves it to the top, and the score and its reason go to the outbox.
  d.press("staff.waitlist.urgency.3." + third);
  CHECK(app.frame().screen.table->rows.front().id == third);
  const auto entry = fx.store.get<WaitlistEntry>(*Uuid::parse(third)).value();
  CHECK(entry->urgency == 3);
  CHECK(entry->urgencySetBy.has_value());
  const auto outbox = fx.store.pendingOutbox(10).value();
  REQUIRE_FALSE(outbox.empty());
  CHECK(outbox.back().entity == "waitlist_entry");
  CHECK(Json::parse(outbox.back().changes).value().find("urgency") != nullptr);
}

TEST_CASE("staff offer a slot in two taps; the offer is a request the hub confirms, and the screen says so") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockStaff(fx, d);
  d.press("staff.tab.slots");
  const auto& table = app.frame().screen.table;
  REQUIRE(table.has_value());
  // Find a slot with matches.
  std::string offered;
  for (std::size_t i = 0; i < table->rows.size() && offered.empty(); ++i) {
    const std::string slot = app.frame().screen.table->rows[i].id;
    d.press("staff.slots.view." + slot);
    for (const auto& a : app.frame().screen.actions) {
      if (a.id == "staff.slots.offer." + slot) offered = slot;
    }
  }
  REQUIRE_FALSE(offered.empty());
  const Uuid slotId = *Uuid::parse(offered);
  const auto detailText = [&] {
    std::string all;
    for (const auto& line : app.frame().screen.detail) all += line + "\n";
    return all;
  };
  const auto hasAction = [&](const std::string& id) {
    const auto& actions = app.frame().screen.actions;
    return std::any_of(actions.begin(), actions.end(), [&](const kiosk::ButtonVm& b) { return b.id == id; });
  };

  // The first tap only asks: who, when, and that the practice's system confirms first.
  d.press("staff.slots.offer." + offered);
  CHECK(fx.store.requestsForSlot(slotId).value().empty());
  CHECK(detailText().find("confirms the booking first") != std::string::npos);
  REQUIRE(hasAction("staff.slots.offer_confirm"));
  // Cancel writes nothing and puts the offer button back.
  d.press("staff.slots.offer_cancel");
  CHECK(fx.store.requestsForSlot(slotId).value().empty());
  CHECK(hasAction("staff.slots.offer." + offered));

  // An offer to anyone but the match staff were shown is refused and writes nothing.
  {
    store::WaitlistService service(fx.store);
    auto stale = service.requestOffer(slotId, UuidGenerator{5}.v7(system_clock::now()), store::Actor::kiosk(), d.now);
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().code == "waitlist.match_changed");
    CHECK(fx.store.requestsForSlot(slotId).value().empty());
  }

  d.press("staff.slots.offer." + offered);
  d.press("staff.slots.offer_confirm");
  CHECK(app.frame().screen.error.empty());
  CHECK(app.frame().screen.notice.find("Offer sent for confirmation") != std::string::npos);
  CHECK(app.frame().screen.notice.find("queued") != std::string::npos);
  CHECK(app.frame().screen.notice.find("notified") == std::string::npos);
  const auto requests = fx.store.requestsForSlot(slotId).value();
  REQUIRE(requests.size() == 1);
  CHECK(requests.front().status == RequestStatus::Pending);
  REQUIRE(requests.front().waitlistEntryId.has_value());
  // Nothing is booked or held on the device, and the patient is still waiting.
  CHECK(fx.store.get<AppointmentSlot>(slotId).value()->status == SlotStatus::Open);
  const auto entry = fx.store.get<WaitlistEntry>(*requests.front().waitlistEntryId).value();
  REQUIRE(entry.has_value());
  CHECK(entry->status == WaitlistEntryStatus::Waiting);
  // The patient's message is queued, not sent.
  const auto notes = fx.store.notificationsFor(requests.front().patientId).value();
  const auto offerNote = std::find_if(notes.begin(), notes.end(), [](const Notification& n) {
    return n.type == NotificationType::SlotOffered;
  });
  REQUIRE(offerNote != notes.end());
  CHECK(offerNote->status == NotificationStatus::Pending);
  CHECK(offerNote->content.params.at("request_id") == requests.front().requestId.toString());

  // While the hub has not answered, the slot says so and cannot be offered twice.
  d.press("staff.slots.view." + offered);
  CHECK(detailText().find("waiting for the practice's confirmation") != std::string::npos);
  CHECK_FALSE(hasAction("staff.slots.offer." + offered));
  store::WaitlistService service(fx.store);
  auto again = service.requestOffer(slotId, *requests.front().waitlistEntryId, store::Actor::kiosk(), d.now);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "waitlist.offer_pending");
  CHECK(fx.store.requestsForSlot(slotId).value().size() == 1);
}

TEST_CASE("same day: a walk-in who fits an opening today can ask for it, and is told it is pending") {
  KioskFixture fx;
  // "Today" is the practice's day, in its zone (not the machine's).
  const auto dayEnd = PracticeZone::named(fx.store.practice().value()->settings.timeZone).value().dayOf(fx.now).second;
  AppointmentSlot slot;
  slot.slotId = fx.ids.v7(std::chrono::system_clock::now());
  slot.providerId = fx.store.providers().value().front().providerId;
  slot.startTime = fx.now + minutes{40};
  slot.endTime = slot.startTime + minutes{50};
  slot.status = SlotStatus::Open;
  slot.sync.rowVersion = 1;
  REQUIRE(fx.store.applyRemote(slot, store::Actor::sync()).has_value());
  const bool stillToday = slot.startTime < dayEnd;  // an opening that starts today

  auto app = fx.app();
  Driver d{app, fx.now};
  joinAsNew(d, "walk.in@patients.example");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.either");
  d.press("nav.continue");  // no particular concern
  d.press("nav.continue");  // any time
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.sms");
  d.press("waitlist.discretion.general");
  d.press("waitlist.privacy.received");
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  // Today's openings that fit, best first (ours, or one of the demo practice's).
  std::string choice;
  for (const auto& c : app.frame().screen.choices) {
    if (choice.empty() && c.id.starts_with("waitlist.same_day.")) choice = c.id;
  }
  if (!stillToday) {
    // Run near the practice's midnight: our slot starts tomorrow and is not "same day" (the
    // demo practice's openings later today may still be offered).
    for (const auto& c : app.frame().screen.choices) CHECK(c.id != "waitlist.same_day." + slot.slotId.toString());
    return;
  }
  REQUIRE_FALSE(choice.empty());
  const Uuid chosen = *Uuid::parse(choice.substr(18));
  d.press(choice);
  CHECK(d.screen() == "waitlist.same_day_done");
  CHECK(d.body().find("confirm") != std::string::npos);  // honest: the practice still confirms
  const auto requests = fx.store.requestsForSlot(chosen).value();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].status == RequestStatus::Pending);
  slot.slotId = chosen;
  // The slot itself is untouched: only the hub can claim it.
  CHECK(fx.store.get<AppointmentSlot>(slot.slotId).value()->status == SlotStatus::Open);
}

TEST_CASE("\"that's not me\" sends the patient to the desk and changes nothing") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  d.press("checkin.not_me");
  CHECK(d.screen() == "front_desk");
  CHECK(d.body().find("No problem") != std::string::npos);
  CHECK(app.inputsEmpty());
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::Scheduled);
  CHECK(fx.store.pendingOutboxCount().value() == 0);
}

TEST_CASE("a board open in staff mode picks up what another process commits") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  unlockStaff(fx, d);
  const auto rowsBefore = app.frame().screen.table->rows.size();
  // The sync daemon (another connection to the same file) applies a new appointment.
  {
    store::OpenOptions options;
    options.path = fx.dir / "store.db";
    auto other = store::Store::open(options, fx.key);
    REQUIRE(other.has_value());
    Appointment late = fx.appointment;
    late.appointmentId = fx.ids.v7(std::chrono::system_clock::now());
    late.startTime = fx.appointment.startTime + minutes{2};
    late.endTime = late.startTime + minutes{50};
    REQUIRE(other->applyRemote(late, store::Actor::sync()).has_value());
  }
  const auto revision = app.revision();
  d.advance(milliseconds{500});
  CHECK(app.revision() == revision);  // not polled yet: a staff board looks once a second
  d.advance(milliseconds{500});
  CHECK(app.revision() > revision);
  CHECK(app.frame().screen.table->rows.size() == rowsBefore + 1);
}

TEST_CASE("out of service: a kind screen in either language, and a retry every 30 seconds") {
  const Instant now = nowUtc();
  kiosk::OutOfService oos(translations(), "988", now);
  CHECK(oos.frame().screen.id == "out_of_service");
  CHECK(oos.frame().screen.body.front().find("front desk") != std::string::npos);
  CHECK(oos.frame().crisisLine.find("988") != std::string::npos);
  oos.apply(kiosk::Intent::press("welcome.language"), now);
  CHECK(oos.frame().language == "es");
  CHECK(oos.frame().screen.body.front().find("recepción") != std::string::npos);
  oos.tick(now + seconds{29});
  CHECK_FALSE(oos.retryDue());
  oos.tick(now + seconds{30});
  CHECK(oos.retryDue());
  oos.retried(now + seconds{30});
  CHECK_FALSE(oos.retryDue());
  CHECK(*oos.nextDeadline() == now + seconds{60});
}

TEST_CASE("a check-in while another process holds the store is refused kindly, loses nothing, and works after") {
  KioskFixture fx;
  // A kiosk whose store gives up waiting for the write lock quickly.
  store::OpenOptions options;
  options.path = fx.dir / "store.db";
  options.busyTimeout = std::chrono::milliseconds{100};
  auto impatient = store::Store::open(options, fx.key);
  REQUIRE(impatient.has_value());
  kiosk::KioskApp app(*impatient, translations(), kiosk::KioskConfig{}, fx.now);
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");

  // The sync daemon (here: a raw connection) holds the write lock.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((fx.dir / "store.db").c_str(), &db) == SQLITE_OK);
  const store::SecretKey::RawKeyText text(fx.key);
  REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA cipher_page_size = 4096; BEGIN IMMEDIATE;", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.confirm");  // still there, so the patient can try again
  CHECK(d.error().find("front desk") != std::string::npos);
  sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::Scheduled);
  CHECK(fx.store.pendingOutboxCount().value() == 0);

  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.done");
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
}

TEST_CASE("Spanish speaks to every patient: no masculine-only forms, and Staff is not 'Personal'") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.language");
  CHECK(app.frame().screen.title == "Le damos la bienvenida");
  const auto& actions = app.frame().screen.actions;
  const auto staff = std::find_if(actions.begin(), actions.end(), [](const kiosk::ButtonVm& b) { return b.id == "welcome.staff"; });
  REQUIRE(staff != actions.end());
  CHECK(staff->label == "Equipo de la consulta");
  d.press("welcome.join_waitlist");
  std::vector<std::string> choices;
  for (const auto& c : app.frame().screen.choices) choices.push_back(c.label);
  CHECK(choices == std::vector<std::string>{"Es mi primera vez aquí", "Ya he venido antes"});
  // No Spanish string addresses a patient in the masculine only.
  const kiosk::Translator translator = translations();
  const auto& es = translator.table("es");
  for (const auto& [key, text] : es) {
    INFO(key << ": " << text);
    for (const char* word : {"Bienvenido", "nuevo aquí", "paciente nuevo", "yo mismo", "Personal"}) {
      if (std::string_view(word) == "Personal") CHECK(text != "Personal");
      else CHECK(text.find(word) == std::string::npos);
    }
  }
}

TEST_CASE("'Are you still there?' comes before the idle reset, a tap keeps the answers, and the next patient starts fresh") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.language");
  d.press("welcome.text_size");
  d.press("welcome.contrast");
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("Maribel");
  const auto idle = app.config().idleTimeout;
  const auto warnFor = std::min<seconds>(seconds{20}, idle / 3);
  d.advance(idle - warnFor - seconds{1});
  CHECK_FALSE(app.frame().idleWarning.has_value());
  // The loop wakes for the warning, then once a second for its countdown.
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= d.now + seconds{1});
  d.advance(seconds{1});
  REQUIRE(app.frame().idleWarning.has_value());
  CHECK(app.frame().idleWarning->title == "¿Sigue ahí?");
  CHECK(app.frame().idleWarning->body.find(std::to_string(warnFor.count()) + " segundos") != std::string::npos);
  CHECK(d.screen() == "waitlist.first_name");
  d.advance(seconds{5});
  CHECK(app.frame().idleWarning->body.find(std::to_string(warnFor.count() - 5) + " segundos") != std::string::npos);
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= d.now + seconds{1});
  // "I'm still here" keeps everything typed.
  d.press("idle.still_here");
  CHECK_FALSE(app.frame().idleWarning.has_value());
  CHECK(d.screen() == "waitlist.first_name");
  REQUIRE(app.frame().screen.field.has_value());
  CHECK(app.frame().screen.field->value.starts_with("Maribel"));
  // Walking away: the warning, then the reset; the next patient gets the practice's language,
  // the first text size and the calm theme.
  d.advance(idle);
  CHECK(d.screen() == "welcome");
  CHECK(app.inputsEmpty());
  CHECK(app.frame().language == "en");
  CHECK(app.frame().textScale == 1.0f);
  CHECK_FALSE(app.frame().highContrast);
  // Choices made on the welcome screen and walked away from are undone too.
  d.press("welcome.text_size");
  d.press("welcome.language");
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= d.now + idle);
  d.advance(idle);
  CHECK(app.frame().language == "en");
  CHECK(app.frame().textScale == 1.0f);
}

TEST_CASE("the date of birth says which comes first, a date typed the other way gets a hint, and 03/07 is spelled out before it is saved") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  // English: the order is on the screen and in the box while typing.
  d.press("welcome.check_in");
  d.type("peña-thistlewood");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.dob");
  CHECK(d.body().find("Month first, then day, then year") != std::string::npos);
  REQUIRE(app.frame().screen.field.has_value());
  CHECK(app.frame().screen.field->value == "MM / DD / YYYY");
  d.type("04");
  CHECK(app.frame().screen.field->value == "04 / DD / YYYY");
  d.press("chrome.home");

  // Spanish, a new patient: day first.
  d.press("welcome.language");
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("marisol");
  d.press("nav.continue");
  d.type("quintanilla");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.dob");
  CHECK(d.body().find("Primero el día") != std::string::npos);
  CHECK(app.frame().screen.field->value == "DD / MM / AAAA");
  // Month first (April 25) cannot be a day-first date: the hint shows it the right way round.
  d.type("04251986");
  d.press("nav.continue");
  CHECK(d.screen() == "waitlist.dob");
  CHECK(d.error().find("25\u00a0/\u00a004\u00a0/\u00a01986") != std::string::npos);
  app.apply(kiosk::Intent::clear(), d.now);
  // 03/07 reads both ways: spelled out, and only a second Continue accepts it.
  d.type("03071986");
  d.press("nav.continue");
  CHECK(d.screen() == "waitlist.dob");
  CHECK(d.error().find("3 de julio de 1986") != std::string::npos);
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.phone");
  d.type("541 555 0199");
  d.press("nav.continue");
  d.type("marisol.dob@patients.example");
  d.press("nav.continue");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.telehealth");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.sms");
  d.press("waitlist.discretion.general");
  d.press("waitlist.privacy.received");
  REQUIRE(d.screen() == "waitlist.review");
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  const auto found = fx.store.findPatientByEmail("marisol.dob@patients.example").value();
  REQUIRE(found.has_value());
  CHECK(found->dateOfBirth == year_month_day{year{1986}, month{7}, day{3}});
}

namespace {

// A patient with one appointment at a given time, added to the fixture's store.
Appointment addAppointment(KioskFixture& fx, const std::string& last, Date dob, Instant start,
                           AppointmentStatus status = AppointmentStatus::Scheduled) {
  Patient p;
  p.patientId = fx.ids.v7(system_clock::now());
  p.firstName = "Wilhelmina";
  p.lastName = last;
  p.email = last + "@patients.example";
  p.dateOfBirth = dob;
  p.insuranceInfo.selfPay = true;
  p.sync.rowVersion = 1;
  Appointment a;
  a.appointmentId = fx.ids.v7(system_clock::now());
  a.providerId = fx.store.providers().value().front().providerId;
  a.patientId = p.patientId;
  a.startTime = start;
  a.endTime = start + minutes{50};
  a.status = status;
  a.sync.rowVersion = 1;
  REQUIRE(fx.store.applyRemote(p, store::Actor::sync()).has_value());
  REQUIRE(fx.store.applyRemote(a, store::Actor::sync()).has_value());
  return a;
}

}  // namespace

TEST_CASE("the practice's zone and check-in window: a 4 PM appointment does not check in at 10:30 AM") {
  KioskFixture fx;
  // The practice is in Los Angeles; this machine's clock is whatever it is (UTC in CI).
  Practice practice = fx.store.practice().value().value();
  practice.settings.timeZone = "America/Los_Angeles";
  practice.settings.checkInOpensMinutesBefore = 45;
  practice.sync.rowVersion += 1;
  REQUIRE(fx.store.applyRemote(practice, store::Actor::sync()).has_value());
  const auto la = PracticeZone::named("America/Los_Angeles").value();
  const Date today = la.partsOf(fx.now).date;
  // 16:00 in Los Angeles is the next UTC day for part of the year: "today" must be LA's day.
  const Appointment appt = addAppointment(fx, "Oyelaran", year{1950} / month{2} / day{17}, la.at(today, hours{16}));

  auto checkInAt = [&](Instant when) {
    kiosk::KioskApp app(fx.store, translations(), kiosk::KioskConfig{}, when);
    Driver d{app, when};
    d.press("welcome.check_in");
    d.type("oyelaran");
    d.press("nav.continue");
    d.type("02171950");
    d.press("nav.continue");
    return std::pair{d.screen(), d.body()};
  };
  // 10:30 local: too early, and told when it opens, in the practice's local time.
  auto [early, earlyBody] = checkInAt(la.at(today, hours{10} + minutes{30}));
  CHECK(early == "front_desk");
  CHECK(earlyBody.find("Your appointment is at 4:00 PM. Check-in opens at 3:15 PM.") != std::string::npos);
  CHECK(fx.store.get<Appointment>(appt.appointmentId).value()->status == AppointmentStatus::Scheduled);
  // 15:20 local: inside the window; the confirmation shows 4:00 PM.
  const Instant inWindow = la.at(today, hours{15} + minutes{20});
  kiosk::KioskApp app(fx.store, translations(), kiosk::KioskConfig{}, inWindow);
  Driver d{app, inWindow};
  d.press("welcome.check_in");
  d.type("oyelaran");
  d.press("nav.continue");
  d.type("02171950");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  CHECK(d.body().find("4:00 PM") != std::string::npos);
  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.done");
  CHECK(fx.store.get<Appointment>(appt.appointmentId).value()->status == AppointmentStatus::CheckedIn);
}

TEST_CASE("an appointment already in session is not offered a check-in that then fails") {
  KioskFixture fx;
  // Started up to ten minutes ago, but today in the practice's zone (a run just after midnight
  // would otherwise put it yesterday, and the lookup rightly finds nothing).
  const Instant started = std::max(fx.now - minutes{10}, admin::localMidnightToday(fx.now));
  addAppointment(fx, "Abernathy-Quist", year{1948} / month{9} / day{21}, started, AppointmentStatus::InSession);
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("abernathy-quist");
  d.press("nav.continue");
  d.type("09211948");
  d.press("nav.continue");
  CHECK(d.screen() == "front_desk");
  CHECK(d.body().find("already started") != std::string::npos);
  CHECK(d.body().find("cancelled") == std::string::npos);
  // Found, so not a failed lookup: six of these never pause the kiosk.
  for (int i = 0; i < 6; ++i) {
    d.press("checkin.try_again");
    d.type("abernathy-quist");
    d.press("nav.continue");
    d.type("09211948");
    d.press("nav.continue");
  }
  CHECK(d.screen() == "front_desk");
}

TEST_CASE("the lookup pause cannot be skipped, counts down, and slow repeated misses pause too, for longer each time") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const int limit = app.config().lookupsPerMinute;
  const auto miss = [&] {
    if (d.screen() == "front_desk") d.press("nav.done");
    d.press("welcome.check_in");
    d.type("nobody");
    d.press("nav.continue");
    d.type("01011990");
    d.press("nav.continue");
  };
  for (int i = 0; i < limit; ++i) miss();
  REQUIRE(d.screen() == "rate_limited");
  // No Start over while paused, and pressing where it was does nothing.
  CHECK(app.frame().homeButton.empty());
  app.apply(kiosk::Intent::press("chrome.home"), d.now);
  CHECK(d.screen() == "rate_limited");
  // A countdown, redrawn once a second.
  CHECK(d.body().find("You can try again in 60 seconds.") != std::string::npos);
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= d.now + seconds{1});
  d.advance(seconds{15});
  CHECK(d.body().find("You can try again in 45 seconds.") != std::string::npos);
  d.advance(seconds{46});
  REQUIRE(d.screen() == "welcome");

  // At a patient's pace (one miss every 20 seconds, never the per-minute limit), twice the limit
  // within 15 minutes pauses too, and a second pause within the hour lasts twice as long.
  int misses = 0;
  while (d.screen() != "rate_limited" && misses < 4 * limit) {
    d.advance(seconds{20});
    if (d.screen() == "welcome" || d.screen() == "front_desk") miss();
    ++misses;
  }
  CHECK(d.screen() == "rate_limited");
  CHECK(misses == 2 * limit);
  CHECK(d.body().find("You can try again in 2 minutes.") != std::string::npos);
  d.advance(seconds{61});
  CHECK(d.screen() == "rate_limited");
  d.advance(seconds{60});
  CHECK(d.screen() == "welcome");
  CHECK(fx.store.pendingOutboxCount().value() == 0);
}

TEST_CASE("the waitlist review shows everything typed, email can be 'I don't have one', and the done screen names the list and a reference") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("marisol");
  d.press("nav.continue");
  d.type("quintanilla");
  d.press("nav.continue");
  d.type("03151992");
  d.press("nav.continue");
  d.type("5415550199");
  d.press("nav.continue");
  REQUIRE(d.screen() == "waitlist.email");
  d.press("waitlist.email.none");
  REQUIRE(d.screen() == "waitlist.insurance");
  d.press("waitlist.insurance.payer.0");
  d.type("ab-123456");
  d.press("nav.continue");
  d.press("waitlist.mode.in_person");
  d.press("waitlist.concern.trauma_ptsd");
  d.press("nav.continue");
  d.press("waitlist.time.weekday_morning");
  d.press("nav.continue");
  const auto provider = fx.store.providers().value().front();
  d.press("waitlist.provider." + provider.providerId.toString());
  d.press("waitlist.consent.sms");
  d.press("waitlist.discretion.general");
  d.press("waitlist.privacy.received");
  REQUIRE(d.screen() == "waitlist.review");
  const std::string review = d.body();
  for (const std::string& expected : std::vector<std::string>{"Name: Marisol Quintanilla", "Date of birth: March 15, 1992", "Phone: (541) 555-0199", "Email: none",
        "member ID AB-123456", "Visits: In person", "Help with: Trauma or PTSD", "Times: Weekday mornings",
        "Provider: " + provider.firstName + " " + provider.lastName, "We may text you",
        "Messages will not name the practice.", "You have received the privacy notice."}) {
    INFO(review);
    CHECK(review.find(expected) != std::string::npos);
  }
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  const std::string done = d.body();
  CHECK(done.find("You're on the Trauma-focused care waitlist.") != std::string::npos);
  CHECK(done.find("Your reference: ") != std::string::npos);

  // Saved with a never-sent placeholder address (the central schema needs a unique one).
  const auto lists = fx.store.waitlists().value();
  std::optional<Patient> saved;
  std::string reference;
  for (const auto& w : lists) {
    const auto entries = fx.store.waitlistEntries(w.waitlistId, true).value();
    for (const auto& e : entries) {
      auto p = fx.store.get<Patient>(e.patientId).value();
      if (p && p->lastName == "Quintanilla") {
        saved = *p;
        reference = kiosk::checkInCodeFor(e.entryId);
      }
    }
  }
  REQUIRE(saved.has_value());
  CHECK(isNoEmailAddress(saved->email));
  CHECK(saved->email == noEmailAddressFor(saved->patientId));
  CHECK(done.find("Your reference: " + reference + ".") != std::string::npos);
}

TEST_CASE("consent names its channel, asks whether messages may name the practice, and records the privacy notice") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  joinAsNew(d, "ines.channel@patients.example");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.either");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  REQUIRE(d.screen() == "waitlist.consent");
  std::vector<std::string> ids;
  for (const auto& c : app.frame().screen.choices) ids.push_back(c.id);
  CHECK(ids == std::vector<std::string>{"waitlist.consent.sms", "waitlist.consent.phone", "waitlist.consent.email",
                                        "waitlist.consent.no"});
  d.press("waitlist.consent.phone");
  REQUIRE(d.screen() == "waitlist.discretion");
  CHECK(app.frame().screen.title == "If we leave a voicemail or text, may it say it is from Harbor Light Counseling (demo)?");
  d.press("waitlist.discretion.name");
  REQUIRE(d.screen() == "waitlist.privacy");
  d.press("waitlist.privacy.received");
  REQUIRE(d.screen() == "waitlist.review");
  CHECK(d.body().find("We may call you when a time opens.") != std::string::npos);
  CHECK(d.body().find("Messages may name the practice.") != std::string::npos);
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  auto saved = fx.store.findPatientByEmail("ines.channel@patients.example").value();
  REQUIRE(saved.has_value());
  CHECK(saved->preferences.contactConsent);
  CHECK(saved->preferences.contactMethod == ContactMethod::Phone);
  CHECK(saved->preferences.mayNamePractice);
  CHECK(saved->preferences.privacyNoticeAcknowledgedAt == formatInstant(d.now));
  d.press("nav.done");

  // No consent: no channel is stored as chosen, nothing may name the practice, and a paper
  // copy of the notice is asked for instead. Without an email, email is not offered.
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("ines");
  d.press("nav.continue");
  d.type("sinemail");
  d.press("nav.continue");
  d.type("03151992");
  d.press("nav.continue");
  d.type("5415550123");
  d.press("nav.continue");
  d.press("waitlist.email.none");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.either");
  d.press("nav.continue");
  d.press("nav.continue");
  d.press("waitlist.provider.any");
  for (const auto& c : app.frame().screen.choices) CHECK(c.id != "waitlist.consent.email");
  d.press("waitlist.consent.no");
  REQUIRE(d.screen() == "waitlist.privacy");
  d.press("waitlist.privacy.paper");
  CHECK(d.body().find("The front desk will give you the privacy notice.") != std::string::npos);
  d.press("waitlist.submit");
  REQUIRE(d.screen() == "waitlist.done");
  std::optional<Patient> second;
  const auto lists = fx.store.waitlists().value();
  for (const auto& w : lists) {
    const auto entries = fx.store.waitlistEntries(w.waitlistId, true).value();
    for (const auto& e : entries) {
      auto p = fx.store.get<Patient>(e.patientId).value();
      if (p && p->lastName == "Sinemail") second = *p;
    }
  }
  REQUIRE(second.has_value());
  CHECK_FALSE(second->preferences.contactConsent);
  CHECK_FALSE(second->preferences.mayNamePractice);
  CHECK(second->preferences.privacyNoticeAcknowledgedAt.empty());
}

TEST_CASE("the demo practice has patients to check in at any hour of a demo, evenings included") {
  for (const int hour : {8, 13, 19, 22}) {
    TempDir dir;
    const store::SecretKey key = newKey();
    store::Store store = openStore(dir / "store.db", key);
    admin::SeedOptions options;
    options.patients = 30;
    options.now = admin::localMidnightToday(nowUtc()) + hours{hour} + minutes{30};
    REQUIRE(admin::seedDemo(store, options).has_value());
    const auto today = store.appointmentsBetween(options.now - hours{12}, options.now + hours{12}).value();
    const bool upcoming = std::any_of(today.begin(), today.end(), [&](const Appointment& a) {
      return a.status == AppointmentStatus::Scheduled && a.startTime > options.now &&
             a.startTime - options.now <= minutes{60};
    });
    CAPTURE(hour);
    CHECK(upcoming);
  }
}

TEST_CASE("staff boards: initials on both, arrival and time waiting, today starts now, and front desk cannot set urgency") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  // Our patient checks in at the kiosk; ten minutes later the desk looks at the board.
  d.press("welcome.check_in");
  d.type("peña-thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  d.press("checkin.confirm");
  REQUIRE(d.screen() == "checkin.done");
  d.press("nav.done");
  d.now += minutes{10};
  unlockStaff(fx, d);
  const auto& today = app.frame().screen.table;
  REQUIRE(today.has_value());
  const auto row = std::find_if(today->rows.begin(), today->rows.end(), [&](const kiosk::TableVm::Row& r) {
    return r.id == fx.appointment.appointmentId.toString();
  });
  REQUIRE(row != today->rows.end());
  CHECK(row->cells[1] == "Ottilie P.");
  CHECK(row->cells[4].find("waiting 10 min") != std::string::npos);
  // No full name anywhere on the board, only in a row's (audited) detail.
  for (const auto& r : today->rows)
    for (const auto& c : r.cells) CHECK(c.find("Peña-Thistlewood") == std::string::npos);
  d.press("staff.today.view." + fx.appointment.appointmentId.toString());
  REQUIRE_FALSE(app.frame().screen.detail.empty());
  CHECK(app.frame().screen.detail.front() == "Ottilie Peña-Thistlewood");
  // The board starts an hour ago: earlier finished appointments are behind "Show earlier today".
  const auto all = fx.store.appointmentsBetween(admin::localMidnightToday(d.now), admin::localMidnightToday(d.now) + days{1}).value();
  const auto hidden = std::count_if(all.begin(), all.end(), [&](const Appointment& a) {
    return a.status != AppointmentStatus::CheckedIn && a.endTime < d.now - hours{1};
  });
  CHECK(app.frame().screen.table->rows.size() == all.size() - static_cast<std::size_t>(hidden));
  d.press("staff.today.show_earlier");
  CHECK(app.frame().screen.table->rows.size() == all.size());

  // Front desk sees no urgency buttons, and a press of one is refused without a write.
  d.press("staff.tab.waitlist");
  const std::string first = app.frame().screen.table->rows.front().id;
  d.press("staff.waitlist.view." + first);
  for (const auto& a : app.frame().screen.actions) CHECK_FALSE(a.id.starts_with("staff.waitlist.urgency."));
  CHECK(app.frame().screen.table->rows.front().cells[1].size() <= 24);
  app.apply(kiosk::Intent::press("staff.waitlist.urgency.3." + first), d.now);
  CHECK(app.frame().screen.error == "Clinical urgency is set by clinicians and managers.");
  CHECK(fx.store.get<WaitlistEntry>(*Uuid::parse(first)).value()->urgency == 0);
}

namespace {

// Runs SQL on the fixture's store through a second, raw connection (as another process would).
void rawSql(KioskFixture& fx, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((fx.dir / "store.db").c_str(), &db) == SQLITE_OK);
  const store::SecretKey::RawKeyText text(fx.key);
  REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
  const std::string all = std::string("PRAGMA cipher_page_size = 4096; ") + sql;
  char* message = nullptr;
  const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, &message);
  INFO((message != nullptr ? message : ""));
  sqlite3_free(message);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("a damaged store is not put in front of patients, and a store that cannot be read never says 'nobody' or 'couldn't save'") {
  SUBCASE("a damaged page fails the kiosk's check before the first patient") {
    TempDir dir;
    const store::SecretKey key = newKey();
    {
      store::Store s = openStore(dir / "store.db", key);
      admin::SeedOptions options;
      options.patients = 400;
      REQUIRE(admin::seedDemo(s, options).has_value());
      REQUIRE(s.checkpoint().has_value());
      REQUIRE(kiosk::checkStoreForService(s).has_value());
    }
    {
      std::fstream f(dir / "store.db", std::ios::in | std::ios::out | std::ios::binary);
      REQUIRE(f.good());
      f.seekp(30 * 4096 + 1500);
      const std::string zeros(32, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    store::OpenOptions options;
    options.path = dir / "store.db";
    auto reopened = store::Store::open(options, key);
    // Either it does not open at all, or the check refuses it: the lobby gets the desk screen.
    if (reopened.has_value()) CHECK_FALSE(kiosk::checkStoreForService(*reopened).has_value());
  }
  SUBCASE("unreadable tables: the patient is told it couldn't be looked up, the boards say they couldn't be read") {
    KioskFixture fx;
    auto app = fx.app();
    Driver d{app, fx.now};
    rawSql(fx, "ALTER TABLE appointment RENAME TO appointment_gone; ALTER TABLE waitlist_entry RENAME TO entry_gone;");
    d.press("welcome.check_in");
    d.type("peña-thistlewood");
    d.press("nav.continue");
    d.type("04121986");
    d.press("nav.continue");
    CHECK(d.screen() == "checkin.dob");
    CHECK(d.error() == "We couldn't look that up just now. Please ask the front desk for help.");
    d.press("chrome.home");
    unlockStaff(fx, d);
    REQUIRE(app.frame().screen.table.has_value());
    CHECK(app.frame().screen.table->rows.empty());
    CHECK(app.frame().screen.table->empty.find("could not be read") != std::string::npos);
    d.press("staff.tab.waitlist");
    REQUIRE(app.frame().screen.table.has_value());
    CHECK(app.frame().screen.table->empty.find("could not be read") != std::string::npos);
    CHECK(app.frame().screen.table->empty.find("Nobody") == std::string::npos);
    rawSql(fx, "ALTER TABLE appointment_gone RENAME TO appointment; ALTER TABLE entry_gone RENAME TO waitlist_entry;");
  }
}

TEST_CASE("the PIN check runs on the worker: frames keep coming with 'Checking your PIN…', and the unlock lands in a tick") {
  KioskFixture fx;
  auto app = fx.app();
  const auto users = fx.store.staffUsers().value();
  const auto jordan = *std::find_if(users.begin(), users.end(), [](const StaffUser& u) { return u.displayName.starts_with("Jordan"); });
  // How long the hash takes on this machine, for comparison.
  const auto h0 = steady_clock::now();
  CHECK(store::verifyPin(jordan.pinHash, "2468"));
  const auto hashTime = steady_clock::now() - h0;

  app.apply(kiosk::Intent::press("welcome.staff"), fx.now);
  app.finishPendingWork(fx.now);  // the staff names are read on the worker
  app.apply(kiosk::Intent::press("staff.user." + jordan.staffId.toString()), fx.now);
  app.apply(kiosk::Intent::typed("2468"), fx.now);
  const auto t0 = steady_clock::now();
  app.apply(kiosk::Intent::press("nav.continue"), fx.now);
  const auto tapTime = steady_clock::now() - t0;
  CHECK(tapTime < hashTime / 2);
  CHECK(app.frame().screen.id == "staff.pin");
  REQUIRE_FALSE(app.frame().screen.body.empty());
  CHECK(app.frame().screen.body.front() == "Checking your PIN…");
  CHECK_FALSE(app.frame().screen.actions.back().enabled);
  CHECK(app.inputsEmpty());  // the typed PIN left the UI's buffer at once
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= fx.now + milliseconds{16});
  // The frame loop ticks meanwhile; no tick waits for the hash.
  auto slowestTick = steady_clock::duration::zero();
  bool unlocked = false;
  for (int i = 0; i < 2000 && !unlocked; ++i) {
    std::this_thread::sleep_for(milliseconds{2});
    const auto s0 = steady_clock::now();
    app.tick(fx.now);
    slowestTick = std::max(slowestTick, steady_clock::now() - s0);
    unlocked = app.frame().screen.id == "staff.today";
  }
  CHECK(unlocked);
  CHECK(slowestTick < hashTime);
}

TEST_CASE("one table of screens: every screen once, unique ids, and its flow, idle class and input limits are what the kiosk does") {
  std::set<std::string> ids;
  for (const auto& info : kiosk::allScreens()) {
    INFO(info.id);
    CHECK(ids.insert(std::string(info.id)).second);
    CHECK(kiosk::screenId(info.screen) == info.id);
    CHECK(&kiosk::screenInfo(info.screen) == &info);
    CHECK((info.input == kiosk::InputKind::None) == (info.maxInput == 0));
    CHECK((info.flow == kiosk::Flow::Staff) ==
          (info.idle == kiosk::IdleClass::StaffEntry || info.idle == kiosk::IdleClass::StaffBoard));
  }
  CHECK(ids.size() == kiosk::allScreens().size());
  // The table's limit is what typing gets: a name stops at its maximum.
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type(std::string(kiosk::screenInfo(kiosk::Screen::CheckInLastName).maxInput + 20, 'a'));
  REQUIRE(app.frame().screen.field.has_value());
  CHECK(app.frame().screen.field->value.size() == kiosk::screenInfo(kiosk::Screen::CheckInLastName).maxInput);
}
