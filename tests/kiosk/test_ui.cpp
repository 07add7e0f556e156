// UI tests: the real anteroom-kiosk in a private Xvfb, tapped with real X pointer events at the
// widgets its widget map names; afterwards the rows it left are checked through the Store API.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fstream>
#include <set>
#include <thread>

#include "../store/fixture.hpp"
#include "demo_seed.hpp"
#include "ui_harness.hpp"

using namespace anteroom;
using namespace anteroom::test;
using namespace std::chrono;
namespace ut = anteroom::uitest;

namespace {

// Tools the suite needs: missing ones fail loudly (scripts/deps installs them), never skip.
void requireTools(bool screenshots = false) {
  std::vector<std::string> tools = {"Xvfb", "xdotool"};
  if (screenshots) tools.emplace_back("import");
  for (const auto& t : tools) {
    if (!ut::findProgram(t)) FAIL(t << " is not installed: run scripts/deps (packages xvfb, xdotool, imagemagick)");
  }
}

// One kiosk session: a seeded store in a temp dir, a private X server and the kiosk on it.
// Members are destroyed in reverse order: the kiosk stops, then Xvfb, then the dir goes.
struct UiSession {
  TempDir dir;
  store::SecretKey key = newKey();
  std::filesystem::path db = dir / "store.db";
  std::filesystem::path keyFile = dir / "kiosk.key";
  std::filesystem::path mapFile = dir / "map.json";
  Patient patient;
  Appointment appointment;
  std::optional<ut::Xvfb> xvfb;
  std::optional<ut::Process> kiosk;
  std::optional<ut::Tapper> tapper;
  ut::WidgetMap first;  // the map of the first frame

  // wrongKey: the kiosk is given another key, so it must show its out-of-service screen.
  explicit UiSession(int idleTimeoutSeconds = 0, bool wrongKey = false) {
    requireTools(idleTimeoutSeconds > 0);
    {
      store::Store s = openStore(db, key);
      seed(s);
      if (idleTimeoutSeconds > 0) {
        // The kiosk reads this setting when its app starts; --idle-timeout is written after that,
        // so on a fresh store only this row makes the first run use the short timeout.
        REQUIRE(s.setSyncValue("kiosk.idle_timeout_seconds", std::to_string(idleTimeoutSeconds)).has_value());
      }
    }  // closed: the kiosk is the only writer while it runs
    if (wrongKey) {
      REQUIRE(newKey().writeNewFile(keyFile).has_value());
    } else {
      REQUIRE(key.writeNewFile(keyFile).has_value());
    }
    for (const char* sub : {"cwd", "home", "cache"}) std::filesystem::create_directories(dir / sub);

    auto x = ut::Xvfb::start(dir / "xvfb.log");
    if (!x) FAIL(x.error());
    xvfb = std::move(*x);
    ut::KioskLaunch launch;
    launch.binary = ANTEROOM_KIOSK_BINARY;
    launch.db = db;
    launch.keyFile = keyFile;
    launch.widgetMap = mapFile;
    launch.workDir = dir / "cwd";
    launch.home = dir / "home";
    launch.cacheDir = dir / "cache";
    launch.stdoutPath = dir / "kiosk.stdout";
    launch.stderrPath = dir / "kiosk.stderr";
    launch.display = xvfb->display();
    launch.idleTimeout = idleTimeoutSeconds;
    auto k = ut::launchKiosk(launch);
    if (!k) FAIL(k.error());
    kiosk = std::move(*k);
    tapper.emplace(xvfb->display(), mapFile);
    auto m = tapper->waitFor([](const ut::WidgetMap&) { return true; }, 20s, &*kiosk);
    if (!m) FAIL("the kiosk drew no first frame: " << kioskLog());
    auto settled = tapper->settle();
    REQUIRE(settled.has_value());
    first = *settled;
    REQUIRE(first.screen == (wrongKey ? "out_of_service" : "welcome"));
  }

  // The demo practice plus our patient with an appointment today (as kiosk_fixture.hpp does).
  void seed(store::Store& s) {
    const Instant now = nowUtc();
    admin::SeedOptions options;
    options.patients = 40;
    options.now = now;
    REQUIRE(admin::seedDemo(s, options).has_value());
    UuidGenerator ids{7};
    patient.patientId = ids.v7(system_clock::now());
    patient.firstName = "Ottilie";
    patient.lastName = "Peña-Thistlewood";
    patient.email = "ottilie.pt@patients.example";
    patient.phone = "+15415550177";
    patient.dateOfBirth = year_month_day{year{1986}, month{4}, day{12}};
    patient.insuranceInfo.selfPay = true;
    patient.sync.rowVersion = 1;
    const auto providers = s.providers();
    REQUIRE(providers.has_value());
    REQUIRE_FALSE(providers->empty());
    appointment.appointmentId = ids.v7(system_clock::now());
    appointment.providerId = providers->front().providerId;
    appointment.patientId = patient.patientId;
    const auto start = std::max(now - minutes{5}, admin::localMidnightToday(now) + minutes{1});
    appointment.startTime = start;
    appointment.endTime = start + minutes{50};
    appointment.sync.rowVersion = 1;
    REQUIRE(s.applyRemote(patient, store::Actor::sync()).has_value());
    REQUIRE(s.applyRemote(appointment, store::Actor::sync()).has_value());
  }

  std::string kioskLog() const {
    return "kiosk stderr: " + readAll(dir / "kiosk.stderr") + " stdout: " + readAll(dir / "kiosk.stdout");
  }

  // Taps a widget; a widget missing from the map fails the test with the screen's id.
  ut::WidgetMap tap(const std::string& id) {
    REQUIRE_MESSAGE(kiosk->running(), "the kiosk exited before tapping " << id << "; " << kioskLog());
    auto t = tapper->tap(id);
    if (!t) FAIL(t.error());
    INFO("tap " << id << " on " << t->map.screen);
    CHECK_MESSAGE(t->changed, "the kiosk did not react to the tap on " << id);
    return t->map;
  }

  // Types text on the on-screen keyboard, one key tap per character.
  void typeKeys(std::string_view text) {
    for (const auto& c : ut::utf8Characters(text)) {
      const std::string id = ut::keyIdFor(c);
      REQUIRE_MESSAGE(!id.empty(), "no on-screen key for '" << c << "'");
      tap(id);
    }
  }

  std::string screen() const {
    const auto m = ut::readWidgetMap(mapFile);
    return m ? m->screen : std::string("(no map)");
  }

  void stopKiosk() {
    REQUIRE_MESSAGE(kiosk->running(), "the kiosk exited by itself; " << kioskLog());
    kiosk->stop();
  }

  store::Store reopen() const { return openStore(db, key); }

  // Every file the kiosk could have written outside the store: the map, its output, cwd,
  // $HOME and the cache dir. None may hold `text` (nor its lower- or upper-case form).
  void checkNotWrittenOutsideStore(const std::string& text) const {
    auto lower = text;
    auto upper = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    int scanned = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
      if (!entry.is_regular_file()) continue;
      const std::string name = entry.path().filename().string();
      if (name.starts_with("store.db")) continue;
      const std::string content = readAll(entry.path());
      ++scanned;
      INFO("file " << entry.path().string());
      CHECK(content.find(text) == std::string::npos);
      CHECK(content.find(lower) == std::string::npos);
      CHECK(content.find(upper) == std::string::npos);
    }
    CHECK(scanned >= 3);  // at least the map and the two output files
    CHECK_FALSE(std::filesystem::exists(dir / "cwd" / "imgui.ini"));
    CHECK_FALSE(std::filesystem::exists(dir / "home" / "imgui.ini"));
    CHECK_FALSE(std::filesystem::exists(dir / "imgui.ini"));
  }
};

// A new patient's sign-up, every answer tapped on the on-screen keyboards and tiles.
void joinWaitlistAsNew(UiSession& s, std::string_view first, std::string_view last, std::string_view email) {
  s.tap("welcome.join_waitlist");
  REQUIRE(s.screen() == "waitlist.start");
  s.tap("waitlist.new");
  REQUIRE(s.screen() == "waitlist.first_name");
  s.typeKeys(first);
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.last_name");
  s.typeKeys(last);
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.dob");
  s.typeKeys("03151992");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.phone");
  s.typeKeys("5415550199");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.email");
  s.typeKeys(email);
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.insurance");
  s.tap("waitlist.insurance.self_pay");
  REQUIRE(s.screen() == "waitlist.mode");
  s.tap("waitlist.mode.telehealth");
  REQUIRE(s.screen() == "waitlist.concerns");
  s.tap("waitlist.concern.trauma_ptsd");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.times");
  s.tap("waitlist.time.weekday_evening");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "waitlist.provider");
  s.tap("waitlist.provider.any");
  REQUIRE(s.screen() == "waitlist.consent");
  s.tap("waitlist.consent.sms");
  REQUIRE(s.screen() == "waitlist.discretion");
  s.tap("waitlist.discretion.general");
  REQUIRE(s.screen() == "waitlist.privacy");
  s.tap("waitlist.privacy.received");
  REQUIRE(s.screen() == "waitlist.review");
  s.tap("waitlist.submit");
  // The sign-up is written on the kiosk's store worker: "Saving…" first, then the done screen.
  REQUIRE(s.tapper->waitFor([](const ut::WidgetMap& m) { return m.screen == "waitlist.done"; }, 10s, &*s.kiosk));
}

// The active entries of `patientId` over every list.
std::vector<WaitlistEntry> entriesOf(store::Store& db, const Uuid& patientId) {
  std::vector<WaitlistEntry> out;
  const auto lists = db.waitlists();
  REQUIRE(lists.has_value());
  for (const auto& w : *lists) {
    const auto active = db.waitlistEntries(w.waitlistId, true);
    REQUIRE(active.has_value());
    for (const auto& e : *active) {
      if (e.patientId == patientId) out.push_back(e);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("ui: a patient checks in with taps: last name with ñ, date of birth on the pad, confirm") {
  UiSession s;
  s.tap("welcome.check_in");
  REQUIRE(s.screen() == "checkin.last_name");
  s.typeKeys("peña-thistlewood");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "checkin.dob");
  s.typeKeys("04121986");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "checkin.confirm");
  s.tap("checkin.confirm");
  // The check-in is written on the kiosk's store worker: "Saving…" first, then the done screen.
  REQUIRE(s.tapper->waitFor([](const ut::WidgetMap& m) { return m.screen == "checkin.done"; }, 10s, &*s.kiosk));
  s.stopKiosk();

  auto db = s.reopen();
  const auto stored = db.get<Appointment>(s.appointment.appointmentId);
  REQUIRE(stored.has_value());
  REQUIRE(stored->has_value());
  CHECK((*stored)->status == AppointmentStatus::CheckedIn);
  // One mutation queued for the hub, which tells the provider when it applies it.
  const auto outbox = db.pendingOutbox(10);
  REQUIRE(outbox.has_value());
  REQUIRE(outbox->size() == 1);
  CHECK((*outbox)[0].entity == "appointment");
  s.checkNotWrittenOutsideStore("Thistlewood");
}

TEST_CASE("ui: a new patient joins the waitlist with taps") {
  UiSession s;
  joinWaitlistAsNew(s, "marisol", "quintanilla", "mq@pts.example");
  s.stopKiosk();

  auto db = s.reopen();
  const auto found = db.findPatientByEmail("mq@pts.example");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  const Patient& p = **found;
  CHECK(p.firstName == "Marisol");
  CHECK(p.lastName == "Quintanilla");
  CHECK(p.phone == "+15415550199");
  CHECK(p.email == "mq@pts.example");
  CHECK(p.dateOfBirth == year_month_day{year{1992}, month{3}, day{15}});
  CHECK(p.insuranceInfo.selfPay);
  CHECK(p.preferences.mode == VisitMode::Telehealth);
  CHECK(p.preferences.concerns == TagList{"trauma_ptsd"});
  CHECK(p.preferences.contactConsent);
  CHECK_FALSE(p.preferences.availableTimes.empty());
  const auto entries = entriesOf(db, p.patientId);
  REQUIRE(entries.size() == 1);
  CHECK(entries.front().status == WaitlistEntryStatus::Waiting);
  std::set<std::string> kinds;
  const auto outbox = db.pendingOutbox(10);
  REQUIRE(outbox.has_value());
  for (const auto& m : *outbox) kinds.insert(m.entity);
  CHECK(kinds == std::set<std::string>{"patient", "waitlist_entry", "notification"});
  s.checkNotWrittenOutsideStore("Quintanilla");
}

TEST_CASE("ui: staff unlock with a PIN on the pad shows the waitlist board, audited as staff") {
  UiSession s;
  Uuid jordan;
  {
    auto db = s.reopen();
    const auto users = db.staffUsers();
    REQUIRE(users.has_value());
    const auto it = std::find_if(users->begin(), users->end(),
                                 [](const StaffUser& u) { return u.displayName.starts_with("Jordan K."); });
    REQUIRE(it != users->end());
    jordan = it->staffId;
  }
  s.tap("welcome.staff");
  REQUIRE(s.screen() == "staff.select");
  s.tap("staff.user." + jordan.toString());
  REQUIRE(s.screen() == "staff.pin");
  s.typeKeys("2468");
  s.tap("nav.continue");
  // The PIN is checked on the kiosk's worker: "Checking your PIN…" first, then the board.
  REQUIRE(s.tapper->waitFor([](const ut::WidgetMap& m) { return m.screen == "staff.today"; }, 5s, &*s.kiosk));
  s.tapper->settle();
  const auto board = s.tap("staff.tab.waitlist");
  REQUIRE(board.screen == "staff.waitlist");
  const auto rows = board.idsWithPrefix("staff.waitlist.view.");
  REQUIRE_FALSE(rows.empty());
  // Opening a row is audited with its entry id.
  const std::string firstRow = rows.front().substr(std::string_view("staff.waitlist.view.").size());
  const auto detail = s.tap(rows.front());
  CHECK(detail.find("staff.detail") != nullptr);
  s.stopKiosk();

  auto db = s.reopen();
  // Every row button names an entry of the store.
  std::set<std::string> entryIds;
  const auto lists = db.waitlists();
  REQUIRE(lists.has_value());
  for (const auto& w : *lists) {
    const auto entries = db.waitlistEntries(w.waitlistId, true);
    REQUIRE(entries.has_value());
    for (const auto& e : *entries) entryIds.insert(e.entryId.toString());
  }
  for (const auto& r : rows) CHECK(entryIds.contains(r.substr(std::string_view("staff.waitlist.view.").size())));
  const auto audit = db.auditTrail(100);
  REQUIRE(audit.has_value());
  std::set<std::string> actions;
  bool rowViewed = false;
  for (const auto& e : *audit) {
    if (e.actorKind != "staff") continue;
    CHECK(e.actorId == jordan.toString());
    actions.insert(e.action);
    rowViewed = rowViewed || (e.action == "view" && e.entityId == firstRow);
  }
  CHECK(actions.contains("unlock"));
  CHECK(actions.contains("view_board"));
  CHECK(rowViewed);
}

TEST_CASE("ui: the idle timeout returns to a welcome screen identical to the first, pixel for pixel") {
  UiSession s(15);
  // The pointer rests where no widget is, so no button is drawn hovered in either screenshot.
  constexpr std::int64_t restX = 4, restY = 300;
  REQUIRE(s.tapper->moveMouse(restX, restY).has_value());
  std::this_thread::sleep_for(400ms);
  const auto before = ut::screenshot(s.xvfb->display(), s.dir / "welcome-1.ppm");
  if (!before) FAIL(before.error());
  {
    // The capture shows the kiosk (its window background under the pointer), not an empty screen.
    const std::size_t at = (static_cast<std::size_t>(restY) * static_cast<std::size_t>(before->width) +
                            static_cast<std::size_t>(restX)) * 3;
    CHECK(before->rgb.substr(at, 3) == std::string("\xF6\xF3\xEE", 3));
    // The button's label is drawn in the theme's text colour (31, 42, 46): the font texture
    // (one byte a pixel, read as white with the glyph's coverage as alpha) neither lost its
    // glyphs nor tinted them.
    const ut::WidgetRect* button = s.first.find("welcome.check_in");
    REQUIRE(button != nullptr);
    std::size_t textPixels = 0;
    for (std::int64_t y = button->y; y < button->y + button->h; ++y)
      for (std::int64_t x = button->x; x < button->x + button->w; ++x) {
        const std::size_t p = (static_cast<std::size_t>(y) * static_cast<std::size_t>(before->width) + static_cast<std::size_t>(x)) * 3;
        if (before->rgb.compare(p, 3, std::string("\x1F\x2A\x2E", 3)) == 0) ++textPixels;
      }
    CHECK(textPixels > 200);
  }

  s.tap("welcome.check_in");
  REQUIRE(s.screen() == "checkin.last_name");
  s.typeKeys("thist");
  const auto lastTap = steady_clock::now();
  REQUIRE(s.tapper->moveMouse(restX, restY).has_value());
  const auto back = s.tapper->waitFor([](const ut::WidgetMap& m) { return m.screen == "welcome"; }, 25s, &*s.kiosk);
  REQUIRE_MESSAGE(back.has_value(), "no welcome screen 25 s after the last tap; screen " << s.screen());
  const auto waited = duration_cast<milliseconds>(steady_clock::now() - lastTap).count();
  CHECK(waited >= 14000);
  CHECK(waited <= 19000);
  const auto settled = s.tapper->settle(200ms);
  REQUIRE(settled.has_value());
  CHECK(settled->screen == "welcome");
  CHECK(settled->widgets == s.first.widgets);
  std::this_thread::sleep_for(200ms);
  const auto after = ut::screenshot(s.xvfb->display(), s.dir / "welcome-2.ppm");
  if (!after) FAIL(after.error());
  const auto differing = ut::differingPixels(*before, *after);
  REQUIRE(differing.has_value());
  CHECK(*differing <= 16);  // no cursor in Xvfb captures: identical in practice
  s.stopKiosk();
  auto db = s.reopen();
  CHECK(db.pendingOutboxCount().value() == 0);
  s.checkNotWrittenOutsideStore("thist");
}

TEST_CASE("ui: a patient's name never reaches a file the kiosk writes outside the store") {
  const std::string sentinel = "Zqxwvoranth";
  const bool iniInCwd = std::filesystem::exists("imgui.ini");
  UiSession s;
  // A failed check-in lookup with the name, then a sign-up that stores it.
  s.tap("welcome.check_in");
  s.typeKeys("zqxwvoranth");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "checkin.dob");
  s.typeKeys("01021990");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "front_desk");
  s.tap("nav.done");
  REQUIRE(s.screen() == "welcome");
  joinWaitlistAsNew(s, "zqxwvoranth", "ode", "zo@pts.example");
  s.stopKiosk();
  {
    auto db = s.reopen();
    const auto found = db.findPatientByEmail("zo@pts.example");
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->firstName == sentinel);  // it did reach the store (encrypted)
  }
  s.checkNotWrittenOutsideStore(sentinel);
  CHECK(std::filesystem::exists("imgui.ini") == iniInCwd);
}

namespace {

// The root page of an index, read through SQLCipher with the store's key.
long rootPage(const std::filesystem::path& db, const store::SecretKey& key, const char* index) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  const store::SecretKey::RawKeyText text(key);
  REQUIRE(sqlite3_key(raw, text.data(), text.size()) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "PRAGMA cipher_page_size = 4096", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "SELECT rootpage FROM sqlite_master WHERE name = ?", -1, &stmt, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_text(stmt, 1, index, -1, SQLITE_STATIC);
  const long page = sqlite3_step(stmt) == SQLITE_ROW ? static_cast<long>(sqlite3_column_int64(stmt, 0)) : 0;
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  REQUIRE(page > 1);
  return page;
}

// A commit by another connection (as the sync daemon makes): the kiosk's next transaction
// drops its page cache and reads the file again, so damage on disk reaches it.
void commitFromAnotherConnection(const std::filesystem::path& db, const store::SecretKey& key) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  const store::SecretKey::RawKeyText text(key);
  REQUIRE(sqlite3_key(raw, text.data(), text.size()) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "PRAGMA cipher_page_size = 4096", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES ('test.poke', '1',"
                       " '2026-01-01T00:00:00.000000Z')",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
}

}  // namespace

TEST_CASE("ui: a store found damaged during a check-in sends the kiosk out of service, and the journal says why") {
  UiSession s;
  // The check-in's outbox row goes into this index; nothing the kiosk has read so far needs it.
  const long page = rootPage(s.db, s.key, "outbox_entity_idx");
  {
    std::fstream f(s.db, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.good());
    f.seekp((page - 1) * 4096);
    const std::string garbage(4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  // The kiosk read every page at start (its check before service), so the damage is in no cache
  // of its own only once another process has committed.
  commitFromAnotherConnection(s.db, s.key);
  s.tap("welcome.check_in");
  s.typeKeys("peña-thistlewood");
  s.tap("nav.continue");
  s.typeKeys("04121986");
  s.tap("nav.continue");
  REQUIRE(s.screen() == "checkin.confirm");
  (void)s.tapper->tap("checkin.confirm");
  const auto deadline = steady_clock::now() + 20s;
  while (s.screen() != "out_of_service" && steady_clock::now() < deadline) std::this_thread::sleep_for(250ms);
  CHECK(s.screen() == "out_of_service");
  const std::string journal = readAll(s.dir / "kiosk.stderr");
  CHECK(journal.find("anteroom-kiosk: out of service: ") != std::string::npos);
  CHECK(journal.find("damaged") != std::string::npos);
  CHECK(journal.find("Thistlewood") == std::string::npos);
  CHECK(std::filesystem::exists(s.db.string() + "-damaged"));  // a restart stays out of service
}

TEST_CASE("ui: with the wrong key the lobby sees a kind out-of-service screen, and the kiosk recovers") {
  UiSession s(0, true);
  // The reason goes to the journal (stderr), not to the screen.
  CHECK(readAll(s.dir / "kiosk.stderr").find("wrong key or not an Anteroom store") != std::string::npos);
  CHECK(s.first.widgets.contains("welcome.language"));
  CHECK_FALSE(s.first.widgets.contains("welcome.check_in"));
  s.tap("welcome.language");
  // The right key arrives (a re-provisioned credential): within the 30 s retry the kiosk opens.
  std::filesystem::remove(s.keyFile);
  REQUIRE(s.key.writeNewFile(s.keyFile).has_value());
  const auto deadline = steady_clock::now() + 40s;
  while (s.screen() != "welcome" && steady_clock::now() < deadline) std::this_thread::sleep_for(250ms);
  CHECK(s.screen() == "welcome");
  s.tap("welcome.check_in");
  CHECK(s.screen() == "checkin.last_name");
}
