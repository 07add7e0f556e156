// Issue 11 finding 18: the kiosk's store calls run on its store worker (its own connection), so
// while another process holds the store's write lock (the sync daemon applying a pull page) the
// frames keep coming, the screen says "Saving…" or "Loading…", and the result lands after.
// In WAL mode a read does not wait for another process's write lock; what would stall a frame is
// the read itself (a board of thousands of entries). So each read's test checks that the tap
// answers before the read does ("Loading…", "Looking that up…"), then that it lands while the
// lock is held; each write's, that it lands only after the lock is let go.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>
#include <tuple>

#include "kiosk_fixture.hpp"
#include "store_lock.hpp"

using namespace anteroom;
using namespace anteroom::test;
using namespace std::chrono;

namespace {

// Another process holding the write lock for `hold` (the sync daemon applying a pull page).
uitest::StoreLockHolder holdLock(KioskFixture& fx, seconds hold) {
  auto holder = uitest::StoreLockHolder::take(fx.dir / "store.db", fx.key, hold);
  if (!holder) FAIL(holder.error());
  return std::move(*holder);
}

// The frame loop as the UI runs it while work is out: tick and build a frame about every 8 ms
// until `landed` says the result shows (or 15 s pass).
struct FrameRun {
  bool landed = false;
  steady_clock::time_point landedAt;
  std::vector<double> frameMs;

  [[nodiscard]] double p99() {
    std::sort(frameMs.begin(), frameMs.end());
    return frameMs.empty() ? 0.0 : frameMs[frameMs.size() * 99 / 100];
  }
  [[nodiscard]] double slowest() const { return frameMs.empty() ? 0.0 : *std::max_element(frameMs.begin(), frameMs.end()); }
};

template <class Landed>
FrameRun runFrames(kiosk::KioskApp& app, Driver& d, Landed landed) {
  FrameRun run;
  const auto giveUp = steady_clock::now() + seconds{15};
  while (!run.landed && steady_clock::now() < giveUp) {
    const auto f0 = steady_clock::now();
    d.now += milliseconds{8};
    app.tick(d.now);
    run.landed = landed(app.frame());
    run.frameMs.push_back(duration<double, std::milli>(steady_clock::now() - f0).count());
    if (run.landed) run.landedAt = steady_clock::now();
    else std::this_thread::sleep_for(milliseconds{8});
  }
  MESSAGE("frames: " << run.frameMs.size() << ", p99 " << run.p99() << " ms, slowest " << run.slowest() << " ms");
  return run;
}

bool noneEnabled(const std::vector<kiosk::ButtonVm>& buttons) {
  return std::none_of(buttons.begin(), buttons.end(), [](const kiosk::ButtonVm& b) { return b.enabled; });
}

StaffUser staffNamed(KioskFixture& fx, std::string_view who) {
  const auto users = fx.store.staffUsers().value();
  const auto user = std::find_if(users.begin(), users.end(), [&](const StaffUser& u) { return u.displayName.starts_with(who); });
  REQUIRE(user != users.end());
  return *user;
}

// The reference the done screen gives: the check-in code of the newest waitlist entry.
std::string checkInCodeForEntry(KioskFixture& fx) {
  std::optional<WaitlistEntry> newest;
  const auto lists = fx.store.waitlists().value();
  for (const auto& list : lists) {
    const auto entries = fx.store.waitlistEntries(list.waitlistId, true).value();
    for (const auto& e : entries)
      if (!newest || e.createdAt > newest->createdAt) newest = e;
  }
  REQUIRE(newest.has_value());
  return kiosk::checkInCodeFor(newest->entryId);
}

// A new patient's walk-in from the first question to the review, with `email`.
void walkInToReview(Driver& d, const std::string& email) {
  d.press("welcome.join_waitlist");
  d.press("waitlist.new");
  d.type("marisol");
  d.press("nav.continue");
  d.type("quintanilla");
  d.press("nav.continue");
  d.type(d.app.frame().language == "es" ? "15031992" : "03151992");
  d.press("nav.continue");
  d.type("541 555 0199");
  d.press("nav.continue");
  d.type(email);
  d.press("nav.continue");
  d.press("waitlist.insurance.self_pay");
  d.press("waitlist.mode.either");
  d.press("nav.continue");  // no particular concern
  d.press("nav.continue");  // any time
  d.press("waitlist.provider.any");
  d.press("waitlist.consent.sms");
  d.press("waitlist.discretion.general");
  d.press("waitlist.privacy.received");
}

}  // namespace

TEST_CASE("a check-in while the sync daemon holds the write lock for 3 s: frames keep coming, 'Saving…', and it lands after") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");

  auto daemon = holdLock(fx, seconds{3});
  const auto tapped = steady_clock::now();
  app.apply(kiosk::Intent::press("checkin.confirm"), d.now);
  const auto tapTime = steady_clock::now() - tapped;
  CHECK(tapTime < milliseconds{50});  // the tap only posts the write
  CHECK(d.screen() == "checkin.confirm");
  CHECK(d.body().find("Saving…") != std::string::npos);
  // A second tap while it saves is no second check-in, and "not me" waits too.
  const auto& actions = app.frame().screen.actions;
  CHECK(std::none_of(actions.begin(), actions.end(), [](const kiosk::ButtonVm& b) { return b.enabled; }));
  app.apply(kiosk::Intent::press("checkin.confirm"), d.now);
  app.apply(kiosk::Intent::press("checkin.not_me"), d.now);
  REQUIRE(app.nextDeadline().has_value());
  CHECK(*app.nextDeadline() <= d.now + milliseconds{16});  // the loop looks again within a frame

  auto run = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "checkin.done"; });
  daemon.finish();
  REQUIRE(run.landed);
  // It waited for the lock: it landed only after the other process let go (about 3 s).
  CHECK(run.landedAt - daemon.since() >= milliseconds{2500});
  CHECK(run.frameMs.size() >= 100);  // ~3 s at 8 ms + sleep: well over a hundred frames
  CHECK(run.p99() < 50.0);
  CHECK(run.slowest() < 100.0);
  // One check-in: the appointment, and exactly one arrival audit row.
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
  const auto trail = fx.store.auditTrail(1000).value();
  CHECK(std::count_if(trail.begin(), trail.end(), [&](const store::AuditEvent& e) {
          return e.action == "check_in" && e.entityId == fx.appointment.appointmentId.toString();
        }) == 1);
  // The other process's write was rolled back; the kiosk's is there for any reader.
  CHECK_FALSE(fx.store.syncValue("test.lock").value().has_value());
}

TEST_CASE("a check-in that cannot get the lock in time says so calmly, stays on the screen, and works on the next tap") {
  KioskFixture fx;
  store::OpenOptions options;
  options.path = fx.dir / "store.db";
  options.busyTimeout = milliseconds{300};  // a worker that gives up quickly
  auto impatientWorker = store::Store::open(options, fx.key);
  REQUIRE(impatientWorker.has_value());
  kiosk::KioskApp app(fx.store, translations(), kiosk::KioskConfig{}, fx.now, &*impatientWorker);
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  d.press("nav.continue");
  REQUIRE(d.screen() == "checkin.confirm");
  {
    auto daemon = holdLock(fx, seconds{2});
    d.press("checkin.confirm");  // waits for the worker's answer (finishPendingWork)
    CHECK(d.screen() == "checkin.confirm");
    CHECK(d.error().find("front desk") != std::string::npos);
    CHECK(d.body().find("Saving…") == std::string::npos);
    CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::Scheduled);
  }
  d.press("checkin.confirm");
  CHECK(d.screen() == "checkin.done");
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
}

TEST_CASE("joining the waitlist while the sync daemon holds the write lock: 'Saving…', frames keep coming, one entry after") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  // In Spanish, with Ottilie's email under another name: the sign-up's reads (which list,
  // whether the email is on file) are the worker's too, so the tap says "Guardando…" and the
  // refusal follows on a later frame, while the lock is still held (nothing waits for it).
  d.press("welcome.language");
  walkInToReview(d, fx.patient.email);
  REQUIRE(d.screen() == "waitlist.review");
  const auto entriesBefore = fx.store.info().value().rowCounts;
  auto daemon = holdLock(fx, seconds{3});
  {
    const auto tapped = steady_clock::now();
    app.apply(kiosk::Intent::press("waitlist.submit"), d.now);
    CHECK(steady_clock::now() - tapped < milliseconds{50});
    CHECK(d.body().find("Guardando…") != std::string::npos);
    CHECK(d.error().empty());
    CHECK(noneEnabled(app.frame().screen.actions));
    auto refused = runFrames(app, d, [](const kiosk::FrameVm& f) { return !f.screen.error.empty(); });
    REQUIRE(refused.landed);
    CHECK(refused.landedAt - daemon.since() < milliseconds{2500});
    CHECK(refused.p99() < 50.0);
    CHECK(d.screen() == "waitlist.review");
    CHECK(d.error() == "Ese correo ya está registrado con otros datos. Diríjase a recepción.");
    CHECK(d.body().find("Guardando…") == std::string::npos);
  }
  // Start over, in English, with the patient's own email.
  d.press("chrome.home");
  d.press("welcome.language");
  walkInToReview(d, "marisol.q@patients.example");
  REQUIRE(d.screen() == "waitlist.review");
  const auto tapped = steady_clock::now();
  app.apply(kiosk::Intent::press("waitlist.submit"), d.now);
  CHECK(steady_clock::now() - tapped < milliseconds{50});
  CHECK(d.body().find("Saving…") != std::string::npos);
  const auto& actions = app.frame().screen.actions;
  CHECK(std::none_of(actions.begin(), actions.end(), [](const kiosk::ButtonVm& b) { return b.enabled; }));
  app.apply(kiosk::Intent::press("waitlist.submit"), d.now);  // a second tap is no second entry

  auto run = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "waitlist.done"; });
  daemon.finish();
  REQUIRE(run.landed);
  CHECK(run.landedAt - daemon.since() >= milliseconds{2500});
  CHECK(run.frameMs.size() >= 100);
  CHECK(run.p99() < 50.0);
  // The done screen has what the worker read after the write: the list, a reference, a position.
  CHECK(d.body().find(checkInCodeForEntry(fx)) != std::string::npos);
  const auto rowsAfter = fx.store.info().value().rowCounts;
  const auto count = [](const auto& counts, std::string_view table) {
    for (const auto& [t, n] : counts)
      if (t == table) return n;
    return std::int64_t{-1};
  };
  CHECK(count(rowsAfter, "waitlist_entry") == count(entriesBefore, "waitlist_entry") + 1);
  CHECK(count(rowsAfter, "patient") == count(entriesBefore, "patient") + 1);
}

TEST_CASE("staff boards while the lock is held: opening a board and a check-in from it return at once; the audit rows and the check-in land after") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const auto users = fx.store.staffUsers().value();
  const auto jordan = *std::find_if(users.begin(), users.end(), [](const StaffUser& u) { return u.displayName.starts_with("Jordan"); });
  d.press("welcome.staff");
  d.press("staff.user." + jordan.staffId.toString());
  d.type("2468");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
  const auto auditsBefore = fx.store.auditTrail(1000).value().size();

  auto daemon = holdLock(fx, seconds{3});
  auto t0 = steady_clock::now();
  app.apply(kiosk::Intent::press("staff.tab.waitlist"), d.now);  // audited: view_board
  app.apply(kiosk::Intent::press("staff.tab.today"), d.now);
  app.apply(kiosk::Intent::press("staff.today.check_in." + fx.appointment.appointmentId.toString()), d.now);
  CHECK(steady_clock::now() - t0 < milliseconds{100});
  CHECK(app.frame().screen.notice == "Saving…");
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::Scheduled);
  auto run = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.notice == "Checked in."; });
  daemon.finish();
  REQUIRE(run.landed);
  CHECK(run.landedAt - daemon.since() >= milliseconds{2500});
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
  const auto trail = fx.store.auditTrail(1000).value();
  // Two board views and the check-in (with its arrival note), each by Jordan, in the order
  // tapped: nothing lost or reordered while the lock was held.
  REQUIRE(trail.size() >= auditsBefore + 3);
  std::vector<std::string> actions;
  for (std::size_t i = trail.size() - auditsBefore; i-- > 0;) {
    CHECK(trail[i].actorId == jordan.staffId.toString());
    actions.push_back(trail[i].action + " " + trail[i].entity);
  }
  INFO(actions.size());
  REQUIRE(actions.size() >= 3);
  CHECK(actions[0] == "view_board waitlist_entry");
  CHECK(actions[1] == "view_board appointment");
  CHECK(std::count_if(actions.begin() + 2, actions.end(), [](const std::string& a) { return a == "check_in appointment"; }) == 1);
}

TEST_CASE("today's board is read on the worker: the tab answers at once with 'Loading…', the rows follow, and a lock drops them") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const auto users = fx.store.staffUsers().value();
  const auto jordan = *std::find_if(users.begin(), users.end(), [](const StaffUser& u) { return u.displayName.starts_with("Jordan"); });
  d.press("welcome.staff");
  d.press("staff.user." + jordan.staffId.toString());
  d.type("2468");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");
  const auto rows = app.frame().screen.table->rows.size();
  REQUIRE(rows > 0);
  // Locked while a reload is on the worker: nothing of it is kept for the next unlock.
  app.apply(kiosk::Intent::press("staff.tab.slots"), d.now);
  app.apply(kiosk::Intent::press("staff.tab.today"), d.now);
  app.apply(kiosk::Intent::press("staff.lock"), d.now);
  app.finishPendingWork(d.now);
  CHECK(d.screen() == "welcome");
  d.press("welcome.staff");
  d.press("staff.user." + jordan.staffId.toString());
  d.type("2468");
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  // The tick that applies the PIN's result opens the board and posts its read: the board says
  // "Loading…" (never "No appointments today") until a later tick brings the rows.
  for (int i = 0; i < 2000 && app.frame().screen.id != "staff.today"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
    app.tick(d.now);
  }
  REQUIRE(app.frame().screen.id == "staff.today");
  REQUIRE(app.frame().screen.table.has_value());
  CHECK(app.frame().screen.table->rows.empty());
  CHECK(app.frame().screen.table->empty == "Loading…");
  app.finishPendingWork(d.now);
  CHECK(app.frame().screen.table->rows.size() == rows);
}

TEST_CASE("a wrong staff PIN while the lock is held: 'Checking your PIN…' keeps drawing, and the count is stored after") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const auto users = fx.store.staffUsers().value();
  const auto jordan = *std::find_if(users.begin(), users.end(), [](const StaffUser& u) { return u.displayName.starts_with("Jordan"); });
  d.press("welcome.staff");
  d.press("staff.user." + jordan.staffId.toString());
  const std::string key = "staff_lock:" + jordan.staffId.toString();
  CHECK_FALSE(fx.store.syncValue(key).value().has_value());
  d.type("1111");
  auto daemon = holdLock(fx, seconds{3});
  const auto t0 = steady_clock::now();
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  auto slowest = steady_clock::duration::zero();
  bool answered = false;
  steady_clock::time_point answeredAt;
  while (!answered && steady_clock::now() - t0 < seconds{15}) {
    const auto f0 = steady_clock::now();
    app.tick(d.now);
    answered = !app.frame().screen.error.empty();
    if (answered) answeredAt = steady_clock::now();
    else CHECK(app.frame().screen.body.front() == "Checking your PIN…");
    slowest = std::max(slowest, steady_clock::now() - f0);
    std::this_thread::sleep_for(milliseconds{8});
  }
  daemon.finish();
  REQUIRE(answered);
  CHECK(answeredAt - daemon.since() >= milliseconds{2500});  // it waited for the lock, not the UI
  CHECK(slowest < milliseconds{50});
  CHECK(app.frame().screen.error == "That PIN didn't match. Please try again.");
  REQUIRE(fx.store.syncValue(key).value().has_value());
  CHECK(fx.store.syncValue(key).value()->starts_with("1|"));
}

// [SECTION] Reads on the worker while the lock is held

TEST_CASE("a check-in by name and date of birth while the lock is held: 'Looking that up…' at once, the confirmation while it is held, the check-in after") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.check_in");
  d.type("Peña-Thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  auto daemon = holdLock(fx, seconds{3});
  const auto tapped = steady_clock::now();
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  CHECK(steady_clock::now() - tapped < milliseconds{50});
  // The tap only posts the lookup: the question stays, says so, and takes no second tap.
  CHECK(d.screen() == "checkin.dob");
  CHECK(d.body().find("Looking that up…") != std::string::npos);
  CHECK(noneEnabled(app.frame().screen.actions));
  auto lookup = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "checkin.confirm"; });
  REQUIRE(lookup.landed);
  CHECK(lookup.p99() < 50.0);
  CHECK(d.body().find("Ottilie") != std::string::npos);
  app.apply(kiosk::Intent::press("checkin.confirm"), d.now);
  auto checkIn = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "checkin.done"; });
  daemon.finish();
  REQUIRE(checkIn.landed);
  CHECK(checkIn.landedAt - daemon.since() >= milliseconds{2500});  // the write waited; the read did not
  CHECK(checkIn.p99() < 50.0);
  CHECK(fx.store.get<Appointment>(fx.appointment.appointmentId).value()->status == AppointmentStatus::CheckedIn);
}

TEST_CASE("a check-in by code in Spanish while the lock is held: 'Buscando sus datos…', then the confirmation; a patient who leaves gets nothing of it") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.language");
  d.press("welcome.check_in");
  d.press("checkin.use_code");
  d.type(kiosk::checkInCodeFor(fx.appointment.appointmentId));
  auto daemon = holdLock(fx, seconds{3});
  // Start over while the lookup is out: its answer is dropped, the next patient sees welcome.
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  CHECK(d.body().find("Buscando sus datos…") != std::string::npos);
  app.apply(kiosk::Intent::press("chrome.home"), d.now);
  app.finishPendingWork(d.now);
  CHECK(d.screen() == "welcome");
  d.press("welcome.check_in");
  d.press("checkin.use_code");
  d.type(kiosk::checkInCodeFor(fx.appointment.appointmentId));
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  CHECK(d.screen() == "checkin.code");
  CHECK(d.body().find("Buscando sus datos…") != std::string::npos);
  auto lookup = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "checkin.confirm"; });
  REQUIRE(lookup.landed);
  CHECK(lookup.p99() < 50.0);
}

TEST_CASE("a returning patient joining the waitlist while the lock is held: 'Looking that up…', then the next question") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  d.press("welcome.join_waitlist");
  d.press("waitlist.returning");
  d.type("peña-thistlewood");
  d.press("nav.continue");
  d.type("04121986");
  auto daemon = holdLock(fx, seconds{3});
  app.apply(kiosk::Intent::press("nav.continue"), d.now);
  CHECK(d.screen() == "waitlist.dob");
  CHECK(d.body().find("Looking that up…") != std::string::npos);
  CHECK(noneEnabled(app.frame().screen.actions));
  auto lookup = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.screen.id == "waitlist.mode"; });
  REQUIRE(lookup.landed);
  CHECK(lookup.p99() < 50.0);
}

TEST_CASE("staff screens while the lock is held: the names, the waitlist, slots, sync and settings each answer 'Loading…' at once and fill in") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  const StaffUser sam = staffNamed(fx, "Sam");
  const StaffUser jordan = staffNamed(fx, "Jordan");
  // Jordan has a wrong PIN counting: the manager's settings offer to clear it.
  REQUIRE(fx.store.setSyncValue("staff_lock:" + jordan.staffId.toString(), "2|").has_value());
  {
    auto daemon = holdLock(fx, seconds{1});
    app.apply(kiosk::Intent::press("welcome.staff"), d.now);
    CHECK(d.screen() == "staff.select");
    CHECK(app.frame().screen.choices.empty());
    CHECK(d.body().find("Loading…") != std::string::npos);
    auto names = runFrames(app, d, [](const kiosk::FrameVm& f) { return !f.screen.choices.empty(); });
    REQUIRE(names.landed);
    CHECK(names.p99() < 50.0);
  }
  d.press("staff.user." + sam.staffId.toString());
  d.type("1357");
  d.press("nav.continue");
  REQUIRE(d.screen() == "staff.today");

  auto daemon = holdLock(fx, seconds{3});
  using Shows = bool (*)(const kiosk::FrameVm&);
  const auto tableFilled = [](const kiosk::FrameVm& f) { return f.screen.table && !f.screen.table->rows.empty(); };
  const auto loadingTable = [](const kiosk::FrameVm& f) {
    return f.screen.table && f.screen.table->rows.empty() && f.screen.table->empty == "Loading…";
  };
  const auto loadingBody = [](const kiosk::FrameVm& f) {
    return std::find(f.screen.body.begin(), f.screen.body.end(), "Loading…") != f.screen.body.end();
  };
  const auto clearOffered = [](const kiosk::FrameVm& f) {
    return std::any_of(f.screen.actions.begin(), f.screen.actions.end(),
                       [](const kiosk::ButtonVm& b) { return b.id.starts_with("staff.settings.clear_pin."); });
  };
  const auto syncShown = [](const kiosk::FrameVm& f) { return !f.screen.body.empty() && f.screen.body.front() != "Loading…"; };
  const std::tuple<std::string, Shows, Shows> tabs[] = {
      {"staff.tab.waitlist", loadingTable, tableFilled},
      {"staff.tab.slots", loadingTable, tableFilled},
      {"staff.tab.sync", loadingBody, syncShown},
      {"staff.tab.settings", loadingBody, clearOffered},
  };
  for (const auto& [tab, loading, filled] : tabs) {
    INFO(tab);
    const auto tapped = steady_clock::now();
    app.apply(kiosk::Intent::press(tab), d.now);
    CHECK(steady_clock::now() - tapped < milliseconds{50});
    CHECK(loading(app.frame()));
    auto run = runFrames(app, d, filled);
    REQUIRE(run.landed);
    CHECK(run.p99() < 50.0);
  }
  // A read never queues behind a write waiting for the lock (each tab's audit row does): the
  // reader has its own thread and connection, so all four filled while the lock was held.
  const auto filledAfter = steady_clock::now() - daemon.since();
  MESSAGE("boards filled " << duration<double, std::milli>(filledAfter).count() << " ms after the lock was taken");
  CHECK(filledAfter < milliseconds{2500});
}

TEST_CASE("the practice's details a sync brings are read on the worker: the tick answers at once, the new name follows") {
  KioskFixture fx;
  auto app = fx.app();
  Driver d{app, fx.now};
  // The sync daemon's connection renames the practice.
  {
    auto daemonConnection = openStore(fx.dir / "store.db", fx.key);
    Practice practice = daemonConnection.practice().value().value();
    practice.name = "Juniper Hollow Counseling";
    practice.sync.rowVersion += 1;
    REQUIRE(daemonConnection.applyRemote(practice, store::Actor::sync()).has_value());
  }
  CHECK(app.frame().practiceName != "Juniper Hollow Counseling");
  auto daemon = holdLock(fx, seconds{3});
  d.now += seconds{31};  // the welcome screen's poll
  const auto t0 = steady_clock::now();
  app.tick(d.now);
  CHECK(steady_clock::now() - t0 < milliseconds{50});
  CHECK(app.frame().practiceName != "Juniper Hollow Counseling");  // still on the worker
  auto run = runFrames(app, d, [](const kiosk::FrameVm& f) { return f.practiceName == "Juniper Hollow Counseling"; });
  REQUIRE(run.landed);
  CHECK(run.p99() < 50.0);
}
