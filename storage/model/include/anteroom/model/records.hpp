// One record type per entity of the central schema (same columns), plus StaffUser.
// Records are plain values; rules about them live in validation.hpp and status.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "anteroom/model/columns.hpp"
#include "anteroom/model/status.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"

namespace anteroom {

// Carried by every synced row: the server's version last seen, and the tombstone flag.
struct SyncMeta {
  std::int64_t rowVersion = 0;
  bool deleted = false;
  bool operator==(const SyncMeta&) const = default;
};

struct Practice {
  Uuid practiceId;
  std::string name;
  Address address;
  std::string phone;
  std::string email;
  PracticeSettings settings;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Practice&) const = default;
};

struct Provider {
  Uuid providerId;
  Uuid practiceId;
  std::string firstName;
  std::string lastName;
  std::string email;
  TagList specialties;
  TagList modalities;
  WeeklyAvailability availability;
  int experience = 0;  // years
  bool telehealth = false;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Provider&) const = default;
};

struct Patient {
  Uuid patientId;
  std::string firstName;
  std::string lastName;
  std::string email;
  std::string phone;  // E.164
  Date dateOfBirth{};
  InsuranceInfo insuranceInfo;
  PatientPreferences preferences;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Patient&) const = default;
};

struct Waitlist {
  Uuid waitlistId;
  Uuid practiceId;
  std::string name;
  std::optional<std::string> description;
  WaitlistCriteria criteria;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Waitlist&) const = default;
};

struct WaitlistEntry {
  Uuid entryId;
  Uuid waitlistId;
  Uuid patientId;
  std::optional<Uuid> providerId;  // preferred provider
  double priorityScore = 0.0;
  WaitlistEntryStatus status = WaitlistEntryStatus::Waiting;
  std::optional<std::string> notes;
  // Clinical urgency 0..3 (waitlist_engine.hpp), set by staff only: a patient's own screening
  // must never raise it. urgencySetBy names the staff member (staff id), never the patient.
  int urgency = 0;
  std::optional<std::string> urgencySetBy;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const WaitlistEntry&) const = default;
};

struct AppointmentSlot {
  Uuid slotId;
  Uuid providerId;
  Instant startTime{};
  Instant endTime{};
  SlotStatus status = SlotStatus::Open;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const AppointmentSlot&) const = default;
};

struct AppointmentRequest {
  Uuid requestId;
  Uuid patientId;
  Uuid providerId;
  std::optional<Uuid> waitlistEntryId;
  Uuid appointmentSlotId;
  RequestStatus status = RequestStatus::Pending;
  Instant requestedTime{};
  std::optional<std::string> notes;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const AppointmentRequest&) const = default;
};

struct Appointment {
  Uuid appointmentId;
  Uuid providerId;
  Uuid patientId;
  std::optional<Uuid> waitlistEntryId;
  Instant startTime{};
  Instant endTime{};
  AppointmentStatus status = AppointmentStatus::Scheduled;
  AppointmentType type = AppointmentType::InPerson;
  std::optional<std::string> notes;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Appointment&) const = default;
};

struct Notification {
  Uuid notificationId;
  Uuid recipientId;
  RecipientType recipientType = RecipientType::FrontDesk;
  NotificationType type = NotificationType::PatientArrived;
  NotificationContent content;
  NotificationStatus status = NotificationStatus::Pending;
  std::optional<Instant> sentAt;
  std::optional<Instant> readAt;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const Notification&) const = default;
};

// Front-desk and clinical staff who unlock the kiosk's back office.
struct StaffUser {
  Uuid staffId;
  Uuid practiceId;
  std::string displayName;  // shown on the staff screens, e.g. "Jordan K."
  StaffRole role = StaffRole::FrontDesk;
  std::string pinHash;  // Argon2id string (libsodium crypto_pwhash_str); never the PIN
  bool active = true;
  Instant createdAt{};
  Instant updatedAt{};
  SyncMeta sync;
  bool operator==(const StaffUser&) const = default;
};

}  // namespace anteroom
