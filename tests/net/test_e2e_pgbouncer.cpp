// The hub through PgBouncer in transaction pooling (label e2e), its LISTEN session straight
// to PostgreSQL (listen_dsn): the walk-in and check-in scenario, long-poll wake-ups included.
#include <doctest/doctest.h>

#include <thread>

#include "anteroom/model/records.hpp"
#include "support/practice.hpp"
#include "support/scenario.hpp"
#include "support/services.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono;
using namespace std::chrono_literals;

TEST_CASE("e2e: the hub through PgBouncer in transaction mode, long-poll wake-ups included") {
  TestPractice practice;
  PgBouncer bouncer(practice.pgDir(), practice.pgPort(), practice.database(), {"anteroom_hub", "postgres"});
  HubSpec hs;
  hs.dsn = bouncer.dsn(practice.database(), "anteroom_hub");
  // LISTEN needs a session: straight to PostgreSQL.
  hs.extra["listen_dsn"] = "\"" + practice.hubDsn(true) + "\"";
  // PgBouncer 1.18 does not carry protocol-level prepared statements across server connections.
  hs.extra["prepared_statements"] = "false";
  Hub hub = practice.startHub(hs);
  Kiosk& a = practice.addKiosk("kiosk-a");
  Kiosk& b = practice.addKiosk("kiosk-b");
  // A long wait: B sees A's writes quickly only if the NOTIFY wakes its parked pull.
  DaemonSpec spec;
  spec.waitSeconds = 25;
  spec.totalTimeout = 40;
  Process da = practice.startDaemon(a, hub.port, spec);
  Process db = practice.startDaemon(b, hub.port, spec);
  REQUIRE_MESSAGE(eventually([&] { return appointmentStatus(a, practice.practice().appointments[0]).has_value(); }, 30s),
                  da.output() << hub.process.output());
  REQUIRE(eventually([&] { return appointmentStatus(b, practice.practice().appointments[0]).has_value(); }, 30s));
  std::this_thread::sleep_for(1s);  // both parked

  for (int i = 0; i < 4; ++i) {
    const auto took = walkInReaches(practice, a, b, 20s, da, db);
    MESSAGE("walk-in A -> B through PgBouncer: " << took.count() << " ms");
    CHECK_MESSAGE(took < 10s, "B was not woken by the NOTIFY (took " << took.count() << " ms with wait_s = 25)");
  }
  const auto t0 = steady_clock::now();
  checkInReaches(practice, b, a, practice.practice().appointments[3], 20s, db, da);
  CHECK(steady_clock::now() - t0 < 10s);
  // The pooled connections were used: PgBouncer saw the hub's role.
  auto pools = run({"psql", "-h", "127.0.0.1", "-p", std::to_string(bouncer.port()), "-U", "postgres", "-d", "pgbouncer",
                    "-Atc", "SHOW POOLS"});
  MESSAGE("pgbouncer pools: " << pools.out);
  CHECK(pools.out.find("anteroom_hub") != std::string::npos);
  CHECK_MESSAGE(drained(a), "a's outbox never emptied:\n" << da.output());
  CHECK(da.stop(10s) == 0);
  CHECK_MESSAGE(drained(b), "b's outbox never emptied:\n" << db.output());
  CHECK(db.stop(10s) == 0);
  const auto failures = practice.check(hub.port);
  for (const auto& f : failures) FAIL_CHECK(f);
}
