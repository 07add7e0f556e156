// Name tables and legal-move tables for the status enums; every lookup goes through one
// generic mechanism so adding a value means adding one table row.
#include "anteroom/model/status.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>

namespace anteroom {
namespace {

template <class E>
struct Named {
  E value;
  std::string_view name;
};

template <class E>
struct EnumNames;

template <>
struct EnumNames<AppointmentStatus> {
  using E = AppointmentStatus;
  static constexpr Named<E> table[] = {{E::Scheduled, "scheduled"},  {E::CheckedIn, "checked_in"},
                                       {E::InSession, "in_session"}, {E::Completed, "completed"},
                                       {E::Cancelled, "cancelled"},  {E::NoShow, "no_show"}};
};
template <>
struct EnumNames<SlotStatus> {
  using E = SlotStatus;
  static constexpr Named<E> table[] = {
      {E::Open, "open"}, {E::Held, "held"}, {E::Booked, "booked"}, {E::Blocked, "blocked"}};
};
template <>
struct EnumNames<RequestStatus> {
  using E = RequestStatus;
  static constexpr Named<E> table[] = {{E::Pending, "pending"},   {E::Offered, "offered"},
                                       {E::Accepted, "accepted"}, {E::Confirmed, "confirmed"},
                                       {E::Rejected, "rejected"}, {E::Declined, "declined"},
                                       {E::Expired, "expired"},   {E::Cancelled, "cancelled"}};
};
template <>
struct EnumNames<WaitlistEntryStatus> {
  using E = WaitlistEntryStatus;
  static constexpr Named<E> table[] = {
      {E::Waiting, "waiting"}, {E::Offered, "offered"}, {E::Scheduled, "scheduled"}, {E::Removed, "removed"}};
};
template <>
struct EnumNames<NotificationStatus> {
  using E = NotificationStatus;
  static constexpr Named<E> table[] = {{E::Pending, "pending"},     {E::Sent, "sent"},
                                       {E::Delivered, "delivered"}, {E::Read, "read"},
                                       {E::Failed, "failed"},       {E::Cancelled, "cancelled"}};
};
template <>
struct EnumNames<AppointmentType> {
  using E = AppointmentType;
  static constexpr Named<E> table[] = {{E::InPerson, "in_person"}, {E::Telehealth, "telehealth"}};
};
template <>
struct EnumNames<RecipientType> {
  using E = RecipientType;
  static constexpr Named<E> table[] = {
      {E::Patient, "patient"}, {E::Provider, "provider"}, {E::FrontDesk, "front_desk"}};
};
template <>
struct EnumNames<NotificationType> {
  using E = NotificationType;
  static constexpr Named<E> table[] = {
      {E::PatientArrived, "patient_arrived"},     {E::WaitlistJoined, "waitlist_joined"},
      {E::RequestReceived, "request_received"},   {E::SlotOffered, "slot_offered"},
      {E::RequestConfirmed, "request_confirmed"}, {E::RequestRejected, "request_rejected"},
      {E::OfferExpired, "offer_expired"},         {E::AppointmentReminder, "appointment_reminder"}};
};
template <>
struct EnumNames<StaffRole> {
  using E = StaffRole;
  static constexpr Named<E> table[] = {{E::FrontDesk, "front_desk"},
                                       {E::Clinician, "clinician"},
                                       {E::Manager, "manager"},
                                       {E::Admin, "admin"}};
};

template <class E>
constexpr auto kValues = [] {
  std::array<E, std::size(EnumNames<E>::table)> values{};
  std::ranges::transform(EnumNames<E>::table, values.begin(), &Named<E>::value);
  return values;
}();

template <class E>
std::string_view nameOf(E value) noexcept {
  for (const auto& entry : EnumNames<E>::table)
    if (entry.value == value) return entry.name;
  return {};  // only reachable through a cast of an out-of-range integer
}

// A state machine: the legal moves, and per state the reason an illegal move is refused.
// `leaving` explains why a final state cannot change; `entering` why the target is unreachable.
template <class E>
struct Move {
  E from;
  E to;
};
template <class E>
struct StateText {
  E state;
  std::string_view leaving;
  std::string_view entering;
};

template <class E>
struct Machine;

template <>
struct Machine<AppointmentStatus> {
  using S = AppointmentStatus;
  static constexpr Move<S> legal[] = {{S::Scheduled, S::CheckedIn}, {S::Scheduled, S::InSession},
                                      {S::Scheduled, S::Completed}, {S::Scheduled, S::Cancelled},
                                      {S::Scheduled, S::NoShow},    {S::CheckedIn, S::InSession},
                                      {S::CheckedIn, S::Completed}, {S::CheckedIn, S::Cancelled},
                                      {S::CheckedIn, S::NoShow},    {S::InSession, S::Completed}};
  static constexpr StateText<S> texts[] = {
      {S::Scheduled, "", "an appointment cannot go back to scheduled"},
      {S::CheckedIn, "", "only a scheduled appointment can be checked in"},
      {S::InSession, "", "only a scheduled or checked-in appointment can start a session"},
      {S::Completed, "a completed appointment is final and cannot change", ""},
      {S::Cancelled, "a cancelled appointment is final and cannot change",
       "an appointment cannot be cancelled once its session has started"},
      {S::NoShow, "an appointment marked as a no-show is final and cannot change",
       "an appointment cannot be marked as a no-show once its session has started"}};
};

template <>
struct Machine<SlotStatus> {
  using S = SlotStatus;
  static constexpr Move<S> legal[] = {{S::Open, S::Held},   {S::Open, S::Booked}, {S::Open, S::Blocked},
                                      {S::Held, S::Open},   {S::Held, S::Booked}, {S::Booked, S::Open},
                                      {S::Blocked, S::Open}};
  static constexpr StateText<S> texts[] = {{S::Open, "", ""},
                                           {S::Held, "", "only an open slot can be held"},
                                           {S::Booked, "", "only an open or held slot can be booked"},
                                           {S::Blocked, "", "only an open slot can be blocked"}};
};

template <>
struct Machine<RequestStatus> {
  using S = RequestStatus;
  static constexpr Move<S> legal[] = {
      {S::Pending, S::Confirmed}, {S::Pending, S::Rejected},  {S::Pending, S::Cancelled},
      {S::Pending, S::Expired},   {S::Offered, S::Accepted},  {S::Offered, S::Declined},
      {S::Offered, S::Expired},   {S::Offered, S::Cancelled}, {S::Accepted, S::Confirmed},
      {S::Accepted, S::Rejected}, {S::Accepted, S::Cancelled}};
  static constexpr StateText<S> texts[] = {
      {S::Pending, "", "a request cannot go back to pending"},
      {S::Offered, "", "a request cannot be turned into an offer"},
      {S::Accepted, "", "only an open offer can be accepted"},
      {S::Confirmed, "a confirmed request is final and cannot change",
       "only a pending request or an accepted offer can be confirmed"},
      {S::Rejected, "a rejected request is final and cannot change",
       "only a pending request or an accepted offer can be rejected"},
      {S::Declined, "a declined offer is final and cannot change", "only an open offer can be declined"},
      {S::Expired, "an expired request is final and cannot change",
       "only a pending request or an open offer can expire"},
      {S::Cancelled, "a cancelled request is final and cannot change", ""}};
};

template <>
struct Machine<WaitlistEntryStatus> {
  using S = WaitlistEntryStatus;
  static constexpr Move<S> legal[] = {{S::Waiting, S::Offered},   {S::Waiting, S::Scheduled},
                                      {S::Waiting, S::Removed},   {S::Offered, S::Waiting},
                                      {S::Offered, S::Scheduled}, {S::Offered, S::Removed},
                                      {S::Scheduled, S::Waiting}, {S::Scheduled, S::Removed}};
  static constexpr StateText<S> texts[] = {
      {S::Waiting, "", ""},
      {S::Offered, "", "only a waiting patient can be offered a slot"},
      {S::Scheduled, "", ""},
      {S::Removed, "a removed waitlist entry is final and cannot change", ""}};
};

template <>
struct Machine<NotificationStatus> {
  using S = NotificationStatus;
  static constexpr Move<S> legal[] = {
      {S::Pending, S::Sent}, {S::Pending, S::Failed}, {S::Pending, S::Cancelled}, {S::Sent, S::Delivered},
      {S::Sent, S::Read},    {S::Sent, S::Failed},    {S::Delivered, S::Read},    {S::Failed, S::Pending}};
  static constexpr StateText<S> texts[] = {
      {S::Pending, "", "only a failed notification can be retried"},
      {S::Sent, "", "only a pending notification can be sent"},
      {S::Delivered, "", "only a sent notification can be delivered"},
      {S::Read, "a read notification is final and cannot change",
       "only a sent or delivered notification can be read"},
      {S::Failed, "", "only a pending or sent notification can fail"},
      {S::Cancelled, "a cancelled notification is final and cannot change",
       "only a pending notification can be cancelled"}};
};

template <class E>
bool finalIn(E status) noexcept {
  return std::ranges::none_of(Machine<E>::legal, [&](const Move<E>& m) { return m.from == status; });
}

template <class E>
std::string_view textFor(E state, std::string_view StateText<E>::*which) noexcept {
  const auto* row = std::ranges::find(Machine<E>::texts, state, &StateText<E>::state);
  return row == std::ranges::end(Machine<E>::texts) ? std::string_view{} : (*row).*which;
}

template <class E>
TransitionCheck check(E from, E to) noexcept {
  if (from == to) return {Transition::NoOp, {}};
  if (std::ranges::any_of(Machine<E>::legal, [&](const Move<E>& m) { return m.from == from && m.to == to; }))
    return {Transition::Legal, {}};
  std::string_view reason = finalIn(from) ? textFor(from, &StateText<E>::leaving) : std::string_view{};
  if (reason.empty()) reason = textFor(to, &StateText<E>::entering);
  if (reason.empty()) reason = "this status change is not allowed";
  return {Transition::Illegal, reason};
}

}  // namespace

template <ModelEnum E>
std::optional<E> parseEnum(std::string_view text) noexcept {
  for (const auto& entry : EnumNames<E>::table)
    if (entry.name == text) return entry.value;
  return std::nullopt;
}

template <ModelEnum E>
std::span<const E> allValues() noexcept {
  return kValues<E>;
}

std::string_view toString(AppointmentStatus value) noexcept { return nameOf(value); }
std::string_view toString(SlotStatus value) noexcept { return nameOf(value); }
std::string_view toString(RequestStatus value) noexcept { return nameOf(value); }
std::string_view toString(WaitlistEntryStatus value) noexcept { return nameOf(value); }
std::string_view toString(NotificationStatus value) noexcept { return nameOf(value); }
std::string_view toString(AppointmentType value) noexcept { return nameOf(value); }
std::string_view toString(RecipientType value) noexcept { return nameOf(value); }
std::string_view toString(NotificationType value) noexcept { return nameOf(value); }
std::string_view toString(StaffRole value) noexcept { return nameOf(value); }

template std::optional<AppointmentStatus> parseEnum<AppointmentStatus>(std::string_view) noexcept;
template std::optional<SlotStatus> parseEnum<SlotStatus>(std::string_view) noexcept;
template std::optional<RequestStatus> parseEnum<RequestStatus>(std::string_view) noexcept;
template std::optional<WaitlistEntryStatus> parseEnum<WaitlistEntryStatus>(std::string_view) noexcept;
template std::optional<NotificationStatus> parseEnum<NotificationStatus>(std::string_view) noexcept;
template std::optional<AppointmentType> parseEnum<AppointmentType>(std::string_view) noexcept;
template std::optional<RecipientType> parseEnum<RecipientType>(std::string_view) noexcept;
template std::optional<NotificationType> parseEnum<NotificationType>(std::string_view) noexcept;
template std::optional<StaffRole> parseEnum<StaffRole>(std::string_view) noexcept;

template std::span<const AppointmentStatus> allValues<AppointmentStatus>() noexcept;
template std::span<const SlotStatus> allValues<SlotStatus>() noexcept;
template std::span<const RequestStatus> allValues<RequestStatus>() noexcept;
template std::span<const WaitlistEntryStatus> allValues<WaitlistEntryStatus>() noexcept;
template std::span<const NotificationStatus> allValues<NotificationStatus>() noexcept;
template std::span<const AppointmentType> allValues<AppointmentType>() noexcept;
template std::span<const RecipientType> allValues<RecipientType>() noexcept;
template std::span<const NotificationType> allValues<NotificationType>() noexcept;
template std::span<const StaffRole> allValues<StaffRole>() noexcept;

TransitionCheck checkTransition(AppointmentStatus from, AppointmentStatus to) noexcept {
  return check(from, to);
}
TransitionCheck checkTransition(SlotStatus from, SlotStatus to) noexcept { return check(from, to); }
TransitionCheck checkTransition(RequestStatus from, RequestStatus to) noexcept { return check(from, to); }
TransitionCheck checkTransition(WaitlistEntryStatus from, WaitlistEntryStatus to) noexcept {
  return check(from, to);
}
TransitionCheck checkTransition(NotificationStatus from, NotificationStatus to) noexcept {
  return check(from, to);
}

bool isFinal(AppointmentStatus status) noexcept { return finalIn(status); }
bool isFinal(SlotStatus status) noexcept { return finalIn(status); }
bool isFinal(RequestStatus status) noexcept { return finalIn(status); }
bool isFinal(WaitlistEntryStatus status) noexcept { return finalIn(status); }
bool isFinal(NotificationStatus status) noexcept { return finalIn(status); }

bool isActive(WaitlistEntryStatus status) noexcept {
  return status == WaitlistEntryStatus::Waiting || status == WaitlistEntryStatus::Offered;
}

}  // namespace anteroom
