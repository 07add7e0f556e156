// End to end, real processes on loopback (label e2e): two kiosks' stores with their daemons
// and one hub. A walk-in on A reaches central and B; a check-in made while A's network refuses
// reaches central (and B) once it comes back.
#include <doctest/doctest.h>

#include "anteroom/model/records.hpp"
#include "support/fault_proxy.hpp"
#include "support/practice.hpp"
#include "support/scenario.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<FaultProxy> proxyTo(int port) {
  std::string error;
  auto p = FaultProxy::start(port, error);
  REQUIRE_MESSAGE(p != nullptr, error);
  return p;
}

}  // namespace

TEST_CASE("e2e: a walk-in on kiosk A appears centrally and on kiosk B") {
  TestPractice practice;
  Hub hub = practice.startHub();
  Kiosk& a = practice.addKiosk("kiosk-a");
  Kiosk& b = practice.addKiosk("kiosk-b");
  Process da = practice.startDaemon(a, hub.port);
  Process db = practice.startDaemon(b, hub.port);
  const auto& seeded = practice.practice();
  // Both first syncs filled the empty stores from central.
  REQUIRE_MESSAGE(eventually([&] { return appointmentStatus(a, seeded.appointments[0]).has_value(); }, 30s),
                  "A never received today's schedule:\n" << da.output());
  REQUIRE_MESSAGE(eventually([&] { return appointmentStatus(b, seeded.appointments[0]).has_value(); }, 30s),
                  "B never received today's schedule:\n" << db.output());

  const Uuid patient = walkIn(practice, a, seeded);
  CHECK_MESSAGE(eventually([&] {
                  return practice.centralValue("SELECT count(*) FROM patient WHERE patient_id = $1::uuid",
                                               {patient.toString()}) == "1";
                }, 20s),
                "the walk-in never reached central:\n" << da.output());
  CHECK_MESSAGE(eventually([&] { return hasPatient(b, patient); }, 20s), "the walk-in never reached B:\n" << db.output());
  CHECK(practice.centralValue("SELECT count(*) FROM waitlist_entry WHERE patient_id = $1::uuid", {patient.toString()}) == "1");
  CHECK(eventually([&] { return a.store->pendingOutboxCount().value_or(-1) == 0; }, 10s));
  // The status the kiosk's staff screen reads.
  CHECK(eventually([&] { return practice.syncState(a, "last_success_at").value_or("") != ""; }, 10s));
  CHECK(practice.syncState(a, "last_error").value_or("x") == "");
  CHECK(practice.syncState(a, "daemon_heartbeat_at").value_or("") != "");

  // SIGTERM: the daemons stop cleanly.
  CHECK_MESSAGE(drained(a), "a's outbox never emptied:\n" << da.output());
  CHECK(da.stop(10s) == 0);
  CHECK_MESSAGE(drained(b), "b's outbox never emptied:\n" << db.output());
  CHECK(db.stop(10s) == 0);
  const auto failures = practice.check(hub.port);
  for (const auto& f : failures) FAIL_CHECK(f);
  // The daemon names itself by the id `device enroll` printed, so an operator can match it.
  CHECK_MESSAGE(da.output().find("device " + a.device.deviceId.toString()) != std::string::npos, da.output());
  // No PHI in the logs: the walk-in's and the seeded patients' names never appear.
  for (const char* name : {"Testwell", "Sampleton", "Mockridge", "walkin"}) {
    CHECK_MESSAGE(hub.process.output().find(name) == std::string::npos, "hub log holds " << name);
    CHECK_MESSAGE(da.output().find(name) == std::string::npos, "syncd log holds " << name);
  }
}

TEST_CASE("e2e: a check-in made while the network refuses reaches central when it returns") {
  TestPractice practice;
  Hub hub = practice.startHub();
  auto proxy = proxyTo(hub.port);
  Kiosk& a = practice.addKiosk("kiosk-a");
  Kiosk& b = practice.addKiosk("kiosk-b");
  Process da = practice.startDaemon(a, proxy->port());
  Process db = practice.startDaemon(b, hub.port);
  const Uuid appt = practice.practice().appointments[1];
  REQUIRE(eventually([&] { return appointmentStatus(a, appt).has_value(); }, 30s));
  REQUIRE(eventually([&] { return appointmentStatus(b, appt).has_value(); }, 30s));

  proxy->setMode(FaultMode::Refuse);
  checkIn(a, appt);
  // The kiosk works on: the check-in is local, and pending.
  CHECK(appointmentStatus(a, appt) == AppointmentStatus::CheckedIn);
  CHECK_MESSAGE(eventually([&] { return practice.syncState(a, "last_error").value_or("") != ""; }, 20s),
                "the daemon never said the hub is unreachable:\n" << da.output());
  CHECK(practice.syncState(a, "last_error_code").value_or("") != "");
  CHECK(a.store->pendingOutboxCount().value_or(0) >= 1);
  CHECK(practice.centralValue("SELECT status::text FROM appointment WHERE appointment_id = $1::uuid", {appt.toString()}) ==
        "scheduled");

  proxy->setMode(FaultMode::Pass);
  CHECK_MESSAGE(eventually([&] {
                  return practice.centralValue("SELECT status::text FROM appointment WHERE appointment_id = $1::uuid",
                                               {appt.toString()}) == "checked_in";
                }, 60s),
                "the check-in never reached central:\n" << da.output());
  CHECK_MESSAGE(eventually([&] { return appointmentStatus(b, appt) == AppointmentStatus::CheckedIn; }, 20s),
                "B never saw the check-in:\n" << db.output());
  // The provider is told once, by the hub, and the notice reaches both kiosks.
  CHECK(centralArrivalNotices(practice, appt) == "1");
  CHECK_MESSAGE(eventually([&] { return arrivalNotices(b, practice.practice(), appt) == 1; }, 20s), db.output());
  CHECK_MESSAGE(eventually([&] { return arrivalNotices(a, practice.practice(), appt) == 1; }, 20s), da.output());
  CHECK(eventually([&] { return practice.syncState(a, "last_error").value_or("x") == ""; }, 20s));
  CHECK_MESSAGE(drained(a), "a's outbox never emptied:\n" << da.output());
  CHECK(da.stop(10s) == 0);
  CHECK_MESSAGE(drained(b), "b's outbox never emptied:\n" << db.output());
  CHECK(db.stop(10s) == 0);
  const auto failures = practice.check(hub.port);
  for (const auto& f : failures) FAIL_CHECK(f);
}
