// A kiosk over a demo store, driven by intents as the UI would drive it.
#pragma once

#include <doctest/doctest.h>

#include "../store/fixture.hpp"
#include "anteroom/kiosk/kiosk_app.hpp"
#include "demo_seed.hpp"

namespace anteroom::test {

inline kiosk::Translator translations() {
  auto t = kiosk::Translator::load(std::filesystem::path(ANTEROOM_ASSETS_DIR) / "i18n");
  REQUIRE(t.has_value());
  return std::move(*t);
}

struct KioskFixture {
  TempDir dir;
  store::SecretKey key = newKey();
  store::Store store = openStore(dir / "store.db", key);
  Instant now = nowUtc();
  UuidGenerator ids{99};
  Patient patient;
  Appointment appointment;
  admin::SeedSummary seeded;

  KioskFixture() {
    admin::SeedOptions options;
    options.patients = 40;
    options.now = now;
    auto s = admin::seedDemo(store, options);
    REQUIRE(s.has_value());
    seeded = *s;
    // Our patient: an appointment in an hour with the first provider.
    patient.patientId = ids.v7(std::chrono::system_clock::now());
    patient.firstName = "Ottilie";
    patient.lastName = "Peña-Thistlewood";
    patient.email = "ottilie.pt@patients.example";
    patient.phone = "+15415550177";
    patient.dateOfBirth = std::chrono::year_month_day{std::chrono::year{1986}, std::chrono::month{4}, std::chrono::day{12}};
    patient.insuranceInfo.selfPay = true;
    patient.sync.rowVersion = 1;
    appointment.appointmentId = ids.v7(std::chrono::system_clock::now());
    appointment.providerId = store.providers().value().front().providerId;
    appointment.patientId = patient.patientId;
    // Within today in local time, whatever the hour the test runs.
    const auto start = std::max(now - std::chrono::minutes{5}, admin::localMidnightToday(now) + std::chrono::minutes{1});
    appointment.startTime = start;
    appointment.endTime = start + std::chrono::minutes{50};
    appointment.sync.rowVersion = 1;
    REQUIRE(store.applyRemote(patient, store::Actor::sync()).has_value());
    REQUIRE(store.applyRemote(appointment, store::Actor::sync()).has_value());
  }

  // The kiosk's store worker and reader have their own connections, as in anteroom-kiosk.
  std::optional<store::Store> workerStore;
  std::optional<store::Store> readerStore;

  kiosk::KioskApp app() {
    if (!workerStore) workerStore.emplace(openStore(dir / "store.db", key));
    if (!readerStore) readerStore.emplace(openStore(dir / "store.db", key));
    return kiosk::KioskApp(store, translations(), kiosk::KioskConfig{}, now, &*workerStore, &*readerStore);
  }
};

// Drives an app: presses, typing, and the clock.
struct Driver {
  kiosk::KioskApp& app;
  Instant now;

  void press(const std::string& id) {
    // The UI only offers what the frame shows: pressing an absent widget is a test bug.
    const auto& f = app.frame();
    bool present = id.starts_with("chrome.") || id == "nav.continue" || id == "nav.back" ||
                   (f.idleWarning && f.idleWarning->stillHere.id == id);
    for (const auto* list : {&f.screen.choices, &f.screen.actions, &f.screen.tabs}) {
      for (const auto& b : *list) present = present || b.id == id;
    }
    if (f.screen.table) {
      for (const auto& r : f.screen.table->rows) {
        for (const auto& b : r.actions) present = present || b.id == id;
      }
    }
    INFO("screen " << f.screen.id << " has no widget " << id);
    CHECK(present);
    app.apply(kiosk::Intent::press(id), now);
    app.finishPendingWork(now);  // a PIN check on the worker lands before the next step
  }
  void type(const std::string& text) {
    app.apply(kiosk::Intent::typed(text), now);
    // Enter is Continue (a scanner ends a code with it): its lookup lands before the next step.
    if (text.find('\n') != std::string::npos) app.finishPendingWork(now);
  }
  void advance(std::chrono::milliseconds s) {
    now += s;
    app.tick(now);
    app.finishPendingWork(now);  // a board the tick reloads on the worker lands before we look
  }
  std::string screen() const { return app.frame().screen.id; }
  std::string error() const { return app.frame().screen.error; }
  std::string body() const {
    std::string all;
    for (const auto& b : app.frame().screen.body) all += b + "\n";
    return all;
  }
};

}  // namespace anteroom::test
