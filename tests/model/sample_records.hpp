// One synthetic record of each synced type with every field set away from its default (optionals
// filled), and a record type's synced columns, for the row JSON and sync rule tests. Names and
// contacts are invented.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "anteroom/model/fields.hpp"
#include "anteroom/model/records.hpp"
#include "anteroom/model/uuid.hpp"

namespace anteroom::samples {

using namespace std::chrono;

inline Instant at(int hour, int minute = 0) {
  return Instant{sys_days{2026y / November / 25}} + hours{hour} + minutes{minute};
}

inline Uuid id(std::uint64_t n) {
  UuidGenerator ids(n);
  return ids.v7(system_clock::time_point{} + hours{24 * 365 * 56});
}

inline Practice practice() {
  Practice r;
  r.practiceId = id(1);
  r.name = "Harbor Light Counseling";
  r.address = {"12 Elm St", "Suite 4", "Springfield", "IL", "62701", "US", {}};
  r.phone = "+12175550100";
  r.email = "frontdesk@harborlight.example";
  r.settings.timeZone = "America/Chicago";
  r.settings.acceptedInsurance = {"Aetna"};
  r.createdAt = at(7);
  r.updatedAt = at(8, 30);
  return r;
}

inline Provider provider() {
  Provider r;
  r.providerId = id(2);
  r.practiceId = id(1);
  r.firstName = "Imogen";
  r.lastName = "Farrow";
  r.email = "ifarrow@harborlight.example";
  r.specialties = {"anxiety", "trauma_ptsd"};
  r.modalities = {"cbt"};
  r.availability.windows.push_back({Weekday::Monday, 9 * 60, 17 * 60, true, true, {}});
  r.experience = 12;
  r.telehealth = true;
  r.createdAt = at(7);
  r.updatedAt = at(7, 5);
  return r;
}

inline Patient patient() {
  Patient r;
  r.patientId = id(3);
  r.firstName = "Ottilie";
  r.lastName = "Peña-Ruiz";
  r.email = "ottilie@patients.example";
  r.phone = "+15415551234";
  r.dateOfBirth = 1986y / April / 12;
  r.insuranceInfo = {false, "Aetna", "Choice POS II", "W123-456", "G789", {}};
  r.preferences.mode = VisitMode::Telehealth;
  r.preferences.concerns = {"anxiety"};
  r.preferences.contactConsent = true;
  r.createdAt = at(9);
  r.updatedAt = at(9, 1);
  return r;
}

inline Waitlist waitlist() {
  Waitlist r;
  r.waitlistId = id(4);
  r.practiceId = id(1);
  r.name = "Adult intake";
  r.description = "New adult patients";
  r.criteria.holdMinutes = 90;
  r.criteria.offerMode = OfferMode::Broadcast;
  r.createdAt = at(7);
  r.updatedAt = at(7);
  return r;
}

inline WaitlistEntry entry() {
  WaitlistEntry r;
  r.entryId = id(5);
  r.waitlistId = id(4);
  r.patientId = id(3);
  r.providerId = id(2);
  r.priorityScore = 42.5;
  r.status = WaitlistEntryStatus::Offered;
  r.notes = "prefers mornings";
  r.urgency = 2;
  r.urgencySetBy = id(10).toString();
  r.createdAt = at(9, 2);
  r.updatedAt = at(9, 3);
  return r;
}

inline AppointmentSlot slot() {
  AppointmentSlot r;
  r.slotId = id(6);
  r.providerId = id(2);
  r.startTime = at(14);
  r.endTime = at(14, 50);
  r.status = SlotStatus::Held;
  r.createdAt = at(7);
  r.updatedAt = at(7, 10);
  return r;
}

inline AppointmentRequest request() {
  AppointmentRequest r;
  r.requestId = id(7);
  r.patientId = id(3);
  r.providerId = id(2);
  r.waitlistEntryId = id(5);
  r.appointmentSlotId = id(6);
  r.status = RequestStatus::Accepted;
  r.requestedTime = at(14);
  r.notes = "first visit";
  r.createdAt = at(9, 5);
  r.updatedAt = at(9, 6);
  return r;
}

inline Appointment appointment() {
  Appointment r;
  r.appointmentId = id(8);
  r.providerId = id(2);
  r.patientId = id(3);
  r.waitlistEntryId = id(5);
  r.startTime = at(10);
  r.endTime = at(10, 50);
  r.status = AppointmentStatus::CheckedIn;
  r.type = AppointmentType::Telehealth;
  r.notes = "interpreter booked";
  r.createdAt = at(7);
  r.updatedAt = at(9, 55);
  return r;
}

inline Notification notification() {
  Notification r;
  r.notificationId = id(9);
  r.recipientId = id(2);
  r.recipientType = RecipientType::Provider;
  r.type = NotificationType::RequestConfirmed;
  r.content.templateKey = "patient_arrived";
  r.content.params = {{"appointment_id", id(8).toString()}};
  r.status = NotificationStatus::Read;
  r.sentAt = at(9, 56);
  r.readAt = at(9, 58);
  r.createdAt = at(9, 55);
  r.updatedAt = at(9, 58);
  return r;
}

inline StaffUser staff() {
  StaffUser r;
  r.staffId = id(10);
  r.practiceId = id(1);
  r.displayName = "Jordan K.";
  r.role = StaffRole::Manager;
  r.pinHash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  r.active = false;
  r.createdAt = at(6);
  r.updatedAt = at(6, 30);
  return r;
}

// In the order of forEachRecordType.
inline auto all() {
  return std::make_tuple(practice(), provider(), patient(), waitlist(), entry(), slot(), request(), appointment(),
                         notification(), staff());
}

struct ColumnNames {
  std::vector<std::string> names;
  template <class V>
  void operator()(std::string_view col, const V&) {
    names.emplace_back(col);
  }
  void local(std::string_view, const std::string&) {}
};

// The synced columns of T's field list in order, without the local-only ones.
template <class T>
std::vector<std::string> syncedColumns() {
  T record{};
  ColumnNames v;
  Fields<T>::fields(record, v);
  return v.names;
}

}  // namespace anteroom::samples
