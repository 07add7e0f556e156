// Two hubs behind HAProxy (label e2e): TLS passthrough (mode tcp) on one database; one hub
// SIGKILLed mid-run and the devices carry on through the other.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "anteroom/model/records.hpp"
#include "support/practice.hpp"
#include "support/scenario.hpp"
#include "support/services.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// TCP connections established to 127.0.0.1:port (the server side, from /proc/net/tcp).
int establishedTo(int port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  int n = 0;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "01" && local.ends_with(want)) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("e2e: two hubs behind HAProxy, one killed mid-run; the devices carry on through the other") {
  TestPractice practice;
  Hub hub1 = practice.startHub();
  Hub hub2 = practice.startHub();
  // "first": every connection goes to hub 1 while it is up, so killing it takes down every
  // connection the daemons hold, and what follows can only go through hub 2.
  HaProxy lb(practice.dir(), {hub1.port, hub2.port}, "first");
  Kiosk& a = practice.addKiosk("kiosk-a");
  Kiosk& b = practice.addKiosk("kiosk-b");
  DaemonSpec spec;
  spec.waitSeconds = 5;
  Process da = practice.startDaemon(a, lb.port(), spec);
  Process db = practice.startDaemon(b, lb.port(), spec);
  REQUIRE(eventually([&] { return appointmentStatus(a, practice.practice().appointments[0]).has_value(); }, 30s));
  REQUIRE(eventually([&] { return appointmentStatus(b, practice.practice().appointments[0]).has_value(); }, 30s));
  for (int i = 0; i < 3; ++i) walkInReaches(practice, a, b, 20s, da, db);

  // Mid-run: a write on A, and hub 1 killed while A's daemon is pushing it.
  const Uuid inFlight = walkIn(practice, a, practice.practice());
  std::this_thread::sleep_for(milliseconds(150));
  // Hub 1 holds the daemons' connections (their parked long-polls), hub 2 none of them.
  CHECK(establishedTo(hub1.port) >= 2);
  CHECK(establishedTo(hub2.port) == 0);
  hub1.process.kill();
  CHECK(eventually([&] { return centralHasPatient(practice, inFlight); }, 30s));
  CHECK(eventually([&] { return hasPatient(b, inFlight); }, 30s));
  // Writes on both kiosks while the first hub is gone.
  for (int i = 0; i < 3; ++i) {
    walkInReaches(practice, a, b, 30s, da, db);
    walkInReaches(practice, b, a, 30s, db, da);
  }
  checkInReaches(practice, a, b, practice.practice().appointments[2], 30s, da, db);
  CHECK(hub2.process.running());
  CHECK(da.running());
  CHECK(db.running());
  CHECK_MESSAGE(drained(a), "a's outbox never emptied:\n" << da.output());
  CHECK(da.stop(10s) == 0);
  CHECK_MESSAGE(drained(b), "b's outbox never emptied:\n" << db.output());
  CHECK(db.stop(10s) == 0);
  const auto failures = practice.check(lb.port());
  for (const auto& f : failures) FAIL_CHECK(f);
}
