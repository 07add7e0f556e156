// Exactly once under real faults (label e2e): cycles of kiosk writes and `anteroom-syncd
// --once` through the fault proxy (refuse, stall, reset mid-body, slow, the answer dropped after
// the hub committed), with syncd and the hub SIGKILLed at random points and PostgreSQL
// restarted; then every kiosk heals and the simulation's checker must hold on the real system.
// ANTEROOM_E2E_CYCLES (default 200) and ANTEROOM_E2E_SEED make a longer or another soak.
#include <doctest/doctest.h>
#include <signal.h>

#include <array>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "anteroom/model/records.hpp"
#include "support/fault_proxy.hpp"
#include "support/practice.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

enum class Fault { None, Refuse, Stall, Reset, Slow, DropResponse, KillSyncd, KillHub, RestartPostgres, Count };
constexpr std::array<const char*, static_cast<std::size_t>(Fault::Count)> kFaultNames = {
    "none", "refuse", "stall", "reset", "slow", "drop-response", "kill-syncd", "kill-hub", "restart-postgres"};

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// One kiosk write chosen by the seed: a walk-in, a check-in of a scheduled appointment, or a
// seeded patient's phone corrected.
void kioskWrite(TestPractice& practice, Kiosk& k, std::mt19937_64& rng) {
  const auto& seeded = practice.practice();
  const int op = static_cast<int>(rng() % 3);
  if (op == 0) {
    walkIn(practice, k, seeded);
  } else if (op == 1) {
    for (const auto& id : seeded.appointments) {
      auto a = k.store->get<Appointment>(id);
      if (a && a->has_value() && (*a)->status == AppointmentStatus::Scheduled) {
        checkIn(k, id);
        return;
      }
    }
    walkIn(practice, k, seeded);
  } else {
    const Uuid& id = seeded.patients[rng() % seeded.patients.size()];
    auto p = k.store->get<Patient>(id);
    if (!p || !p->has_value()) return;
    Patient changed = **p;
    changed.phone = "+1541555" + std::to_string(2000 + rng() % 7000);
    auto r = k.store->update(changed, store::Actor::kiosk());
    REQUIRE_MESSAGE(r.has_value(), k.name << ": phone edit refused: " << (r ? "" : r.error().message));
    k.rememberOutbox();
  }
}

}  // namespace

TEST_CASE("e2e: exactly once under real faults, then the checker holds") {
  const int cycles = envInt("ANTEROOM_E2E_CYCLES", 200);
  const auto seed = static_cast<std::uint64_t>(envInt("ANTEROOM_E2E_SEED", 10));
  MESSAGE("fault cycles: " << cycles << ", seed " << seed);
  std::mt19937_64 rng(seed);
  TestPractice practice;
  Hub hub = practice.startHub();
  std::string error;
  auto proxy = FaultProxy::start(hub.port, error);
  REQUIRE_MESSAGE(proxy != nullptr, error);
  DaemonSpec spec;
  spec.waitSeconds = 0;
  spec.connectTimeout = 2;
  spec.totalTimeout = 5;
  spec.lowSpeedTime = 1;

  std::vector<Kiosk*> kiosks = {&practice.addKiosk("kiosk-a"), &practice.addKiosk("kiosk-b"), &practice.addKiosk("kiosk-c")};
  for (Kiosk* k : kiosks) {
    auto first = practice.syncOnce(*k, hub.port, 60s, spec);
    REQUIRE_MESSAGE(first.exitCode == 0, k->name << "'s first sync: " << first.err);
  }

  std::map<std::string, int> made, exits;
  int hung = 0;
  int committedUnacked = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    Kiosk& k = *kiosks[static_cast<std::size_t>(cycle) % kiosks.size()];
    const int writes = static_cast<int>(rng() % 3);
    for (int w = 0; w < writes; ++w) kioskWrite(practice, k, rng);
    // PostgreSQL restarts are slow (a second or two): one cycle in twenty-five.
    Fault fault = static_cast<Fault>(rng() % static_cast<std::uint64_t>(Fault::RestartPostgres));
    if (cycle % 25 == 12) fault = Fault::RestartPostgres;
    ++made[kFaultNames[static_cast<std::size_t>(fault)]];

    FaultSettings s;
    switch (fault) {
      case Fault::Refuse: s.mode = FaultMode::Refuse; break;
      case Fault::Stall: s.mode = FaultMode::Stall; break;
      case Fault::Reset:
        s.mode = FaultMode::ResetAfter;
        s.resetAfterBytes = 200 + rng() % 2500;  // within a short session's bytes too
        break;
      case Fault::Slow:
        s.mode = FaultMode::Slow;
        s.bytesPerTick = 1024 + rng() % 4096;
        s.tick = 5ms;
        break;
      case Fault::DropResponse:
        s.mode = FaultMode::DropResponse;
        s.quiet = 100ms;
        break;
      default: s.mode = FaultMode::Pass; break;
    }
    proxy->set(s);
    const auto config = practice.writeSyncdConfig(k, proxy->port(), spec);
    Process syncd = Process::spawn({{binary("anteroom-syncd").string(), "--config", config.string(), "--once"},
                                    {},
                                    practice.dir() / (k.name + "-once.log"),
                                    {},
                                    {}});
    REQUIRE(syncd.started());
    // syncd --once takes about 100 ms here: most kills land mid-session.
    const auto at = milliseconds(static_cast<long>(rng() % 150));
    if (fault == Fault::KillSyncd || fault == Fault::Stall) {
      std::this_thread::sleep_for(fault == Fault::Stall ? at + 300ms : at);
      syncd.kill();
    } else if (fault == Fault::KillHub) {
      std::this_thread::sleep_for(at);
      hub.process.kill();
      (void)syncd.wait(20s);
      practice.restartHub(hub);
    } else if (fault == Fault::RestartPostgres) {
      std::this_thread::sleep_for(at);
      practice.restartPostgres();
    }
    const auto code = syncd.wait(30s);
    if (!code) {
      ++hung;
      FAIL_CHECK("cycle " << cycle << " (" << kFaultNames[static_cast<std::size_t>(fault)]
                          << "): anteroom-syncd --once did not finish in 30 s");
      syncd.kill();
    }
    ++exits[std::to_string(syncd.exitCode().value_or(-1))];
    if (fault == Fault::DropResponse) {
      // The state this fault exists for: mutations the hub committed that the kiosk never
      // heard about, still in its outbox, to be answered from the stored results next time.
      auto pending = k.store->pendingOutbox(100000);
      REQUIRE(pending.has_value());
      if (!pending->empty()) {
        std::string ids = "{";
        for (const auto& m : *pending) ids += (ids.size() > 1 ? "," : "") + m.mutationId;
        ids += "}";
        const auto both = practice.centralValue(
            "SELECT count(*) FROM idempotency_record WHERE device_id = $1::uuid AND mutation_id = ANY($2::uuid[])",
            {k.device.deviceId.toString(), ids});
        committedUnacked += std::atoi(both.value_or("0").c_str());
      }
    }
    proxy->setMode(FaultMode::Pass);
    REQUIRE_MESSAGE(hub.process.running(), "the hub died in cycle " << cycle << ":\n" << hub.process.output());
  }
  for (const auto& [name, n] : made) MESSAGE("fault " << name << ": " << n << " cycles");
  for (const auto& [code, n] : exits) MESSAGE("syncd --once exit " << code << ": " << n << " times");
  const auto counters = proxy->counters();
  MESSAGE("proxy: " << counters.accepted << " connections, " << counters.resets << " reset mid-stream, " << counters.dropped
                    << " answers dropped after the request went through");
  MESSAGE(committedUnacked << " mutations were committed centrally while their answer was dropped");
  CHECK(hung == 0);
  if (cycles >= 100) {
    for (std::size_t f = 1; f < kFaultNames.size(); ++f) CHECK_MESSAGE(made[kFaultNames[f]] > 0, kFaultNames[f] << " never made");
    CHECK(counters.resets > 0);
    CHECK(counters.dropped > 0);
    CHECK(committedUnacked > 0);
    CHECK(exits["0"] > 0);
    CHECK(exits["1"] > 0);  // faults were felt
  }

  // Healing: the network is good again; every kiosk syncs until its outbox is empty, twice
  // round so each has the others' changes.
  for (int round = 0; round < 2; ++round) {
    for (Kiosk* k : kiosks) {
      bool ok = false;
      std::string last;
      for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
        auto r = practice.syncOnce(*k, hub.port, 60s, spec);
        ok = r.exitCode == 0 && k->store->pendingOutboxCount().value_or(-1) == 0;
        last = r.err;
      }
      REQUIRE_MESSAGE(ok, k->name << " does not heal: " << last);
    }
  }
  const auto failures = practice.check(hub.port);
  for (const auto& f : failures) FAIL_CHECK(f);
  CHECK(failures.empty());
  // Every error was logged without PHI: no synthetic name or e-mail in the hub's or any
  // daemon's output, whatever failed.
  std::vector<std::string> logs = {hub.process.output()};
  for (Kiosk* k : kiosks) logs.push_back(readFile(practice.dir() / (k->name + "-once.log")));
  for (const auto& log : logs) {
    CHECK(!log.empty());
    for (const char* phi : {"Avery", "Testwell", "Sampleton", "Mockridge", "walkin", "@mail.example", "+1541555"})
      CHECK_MESSAGE(log.find(phi) == std::string::npos, "a log holds " << phi);
  }
}
