// What the e2e scenarios ask of a kiosk's store and of central, and the walk-in round trip
// they share (header-only: it reports through doctest in the test that calls it).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

#include "anteroom/model/records.hpp"
#include "support/practice.hpp"

namespace anteroom::nettest {

inline bool hasPatient(Kiosk& k, const Uuid& id) {
  auto got = k.store->get<Patient>(id);
  return got && got->has_value();
}

inline std::optional<AppointmentStatus> appointmentStatus(Kiosk& k, const Uuid& id) {
  auto got = k.store->get<Appointment>(id);
  if (!got || !got->has_value()) return std::nullopt;
  return (*got)->status;
}

inline bool centralHasPatient(TestPractice& p, const Uuid& patient) {
  return p.centralValue("SELECT count(*) FROM patient WHERE patient_id = $1::uuid", {patient.toString()}) == "1";
}

// A walk-in on A seen centrally and on B within `within`; returns how long B took.
inline std::chrono::milliseconds walkInReaches(TestPractice& practice, Kiosk& a, Kiosk& b,
                                               std::chrono::milliseconds within, Process& da, Process& db) {
  const auto t0 = std::chrono::steady_clock::now();
  const Uuid patient = walkIn(practice, a, practice.practice());
  CHECK_MESSAGE(eventually([&] { return centralHasPatient(practice, patient); }, within),
                "the walk-in never reached central:\n" << da.output());
  CHECK_MESSAGE(eventually([&] { return hasPatient(b, patient); }, within), "the walk-in never reached B:\n" << db.output());
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

}  // namespace anteroom::nettest
