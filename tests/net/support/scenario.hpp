// What the e2e scenarios ask of a kiosk's store and of central, and the walk-in round trip
// they share (header-only: it reports through doctest in the test that calls it).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

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

// The provider's arrival notices for an appointment that this kiosk holds (the hub writes them).
inline long arrivalNotices(Kiosk& k, const SeededPractice& seeded, const Uuid& appointment) {
  long n = 0;
  for (const Uuid& provider : seeded.providers) {
    auto notes = k.store->notificationsFor(provider);
    if (!notes) return -1;
    n += std::count_if(notes->begin(), notes->end(), [&](const Notification& note) {
      const auto about = note.content.params.find("appointment_id");
      return note.type == NotificationType::PatientArrived && about != note.content.params.end() &&
             about->second == appointment.toString();
    });
  }
  return n;
}

inline std::string centralArrivalNotices(TestPractice& p, const Uuid& appointment) {
  return p.centralValue("SELECT count(*) FROM notification WHERE type = 'patient_arrived'"
                        " AND content->'params'->>'appointment_id' = $1",
                        {appointment.toString()})
      .value_or("?");
}

// A check-in on A: checked in centrally and on B, and the provider told once, by a notice the
// hub wrote that both kiosks then hold. Within `within` each.
inline void checkInReaches(TestPractice& practice, Kiosk& a, Kiosk& b, const Uuid& appointment,
                           std::chrono::milliseconds within, Process& da, Process& db) {
  checkIn(a, appointment);
  CHECK_MESSAGE(eventually([&] {
                  return practice.centralValue("SELECT status::text FROM appointment WHERE appointment_id = $1::uuid",
                                               {appointment.toString()}) == "checked_in";
                }, within),
                "the check-in never reached central:\n" << da.output());
  CHECK(centralArrivalNotices(practice, appointment) == "1");
  CHECK_MESSAGE(eventually([&] { return appointmentStatus(b, appointment) == AppointmentStatus::CheckedIn; }, within),
                "B never saw the check-in:\n" << db.output());
  CHECK_MESSAGE(eventually([&] { return arrivalNotices(b, practice.practice(), appointment) == 1; }, within),
                "B never got the arrival notice:\n" << db.output());
  CHECK_MESSAGE(eventually([&] { return arrivalNotices(a, practice.practice(), appointment) == 1; }, within),
                "A never got back the arrival notice:\n" << da.output());
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
