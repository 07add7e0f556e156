// Status enums as stored in the database (snake_case text) and the one-way state machines
// that say which status changes a record may make.
#pragma once

#include <concepts>
#include <optional>
#include <span>
#include <string_view>

namespace anteroom {

enum class AppointmentStatus { Scheduled, CheckedIn, InSession, Completed, Cancelled, NoShow };
enum class SlotStatus { Open, Held, Booked, Blocked };
// Pending: a patient asked for a slot. Offered: the practice offered a slot to a waitlisted patient.
enum class RequestStatus { Pending, Offered, Accepted, Confirmed, Rejected, Declined, Expired, Cancelled };
enum class WaitlistEntryStatus { Waiting, Offered, Scheduled, Removed };
enum class NotificationStatus { Pending, Sent, Delivered, Read, Failed, Cancelled };
enum class AppointmentType { InPerson, Telehealth };
enum class RecipientType { Patient, Provider, FrontDesk };
enum class NotificationType {
  PatientArrived,
  WaitlistJoined,
  RequestReceived,
  SlotOffered,
  RequestConfirmed,
  RequestRejected,
  OfferExpired,
  AppointmentReminder,
};
enum class StaffRole { FrontDesk, Clinician, Manager, Admin };

template <class E>
concept ModelEnum = std::same_as<E, AppointmentStatus> || std::same_as<E, SlotStatus> ||
    std::same_as<E, RequestStatus> || std::same_as<E, WaitlistEntryStatus> ||
    std::same_as<E, NotificationStatus> || std::same_as<E, AppointmentType> ||
    std::same_as<E, RecipientType> || std::same_as<E, NotificationType> || std::same_as<E, StaffRole>;

// The stored text, e.g. "checked_in".
std::string_view toString(AppointmentStatus value) noexcept;
std::string_view toString(SlotStatus value) noexcept;
std::string_view toString(RequestStatus value) noexcept;
std::string_view toString(WaitlistEntryStatus value) noexcept;
std::string_view toString(NotificationStatus value) noexcept;
std::string_view toString(AppointmentType value) noexcept;
std::string_view toString(RecipientType value) noexcept;
std::string_view toString(NotificationType value) noexcept;
std::string_view toString(StaffRole value) noexcept;

// Exact, case-sensitive match of the stored text; nullopt for anything else.
template <ModelEnum E>
std::optional<E> parseEnum(std::string_view text) noexcept;

// Every value in declaration order.
template <ModelEnum E>
std::span<const E> allValues() noexcept;

enum class Transition { Legal, NoOp, Illegal };

struct TransitionCheck {
  Transition kind = Transition::Illegal;
  // Empty unless Illegal; lower-case English clause, e.g. "only a scheduled appointment can be checked in".
  std::string_view reason;

  [[nodiscard]] bool allowed() const noexcept { return kind != Transition::Illegal; }
};

// Same status is NoOp (idempotent replays from sync must not fail).
TransitionCheck checkTransition(AppointmentStatus from, AppointmentStatus to) noexcept;
TransitionCheck checkTransition(SlotStatus from, SlotStatus to) noexcept;
TransitionCheck checkTransition(RequestStatus from, RequestStatus to) noexcept;
TransitionCheck checkTransition(WaitlistEntryStatus from, WaitlistEntryStatus to) noexcept;
TransitionCheck checkTransition(NotificationStatus from, NotificationStatus to) noexcept;

// Final: no status change leaves this status.
bool isFinal(AppointmentStatus status) noexcept;
bool isFinal(SlotStatus status) noexcept;
bool isFinal(RequestStatus status) noexcept;
bool isFinal(WaitlistEntryStatus status) noexcept;
bool isFinal(NotificationStatus status) noexcept;

// Waiting or offered: the patient is still in line.
bool isActive(WaitlistEntryStatus status) noexcept;

}  // namespace anteroom
