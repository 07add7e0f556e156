// Status enums: text round trips and every pair of every state machine against tables
// written out independently here.
#include <doctest/doctest.h>

#include <array>
#include <set>
#include <string>
#include <string_view>

#include "anteroom/model/status.hpp"

using namespace anteroom;

namespace {

template <class E>
void checkRoundTrips(std::initializer_list<std::string_view> expectedNames) {
  const auto values = allValues<E>();
  REQUIRE(values.size() == expectedNames.size());
  std::size_t i = 0;
  for (const std::string_view name : expectedNames) {
    CAPTURE(name);
    CHECK(static_cast<std::size_t>(values[i]) == i);  // declaration order
    CHECK(toString(values[i]) == name);
    // Extra parentheses: doctest would stringify the enum through our toString() (ADL) and fail.
    CHECK((parseEnum<E>(name) == values[i]));
    ++i;
  }
  for (const std::string_view bad : {"", "Scheduled", "OPEN", " open", "open ", "checked-in", "unknown"})
    CHECK_FALSE(parseEnum<E>(bad));
}

// rows[from][to]: 'L' legal, '=' no-op, '.' illegal. Declaration order on both axes.
template <class E, std::size_t N>
void checkMachine(const std::array<std::string_view, N>& rows) {
  const auto values = allValues<E>();
  REQUIRE(values.size() == N);
  for (std::size_t f = 0; f < N; ++f) {
    REQUIRE(rows[f].size() == N);
    bool anyLegal = false;
    for (std::size_t t = 0; t < N; ++t) {
      CAPTURE(toString(values[f]));
      CAPTURE(toString(values[t]));
      const TransitionCheck result = checkTransition(values[f], values[t]);
      switch (rows[f][t]) {
        case 'L':
          anyLegal = true;
          CHECK(result.kind == Transition::Legal);
          CHECK(result.reason.empty());
          CHECK(result.allowed());
          break;
        case '=':
          CHECK(result.kind == Transition::NoOp);
          CHECK(result.reason.empty());
          CHECK(result.allowed());
          break;
        default:
          CHECK(result.kind == Transition::Illegal);
          CHECK_FALSE(result.reason.empty());
          CHECK_FALSE(result.allowed());
      }
    }
    CAPTURE(toString(values[f]));
    CHECK(isFinal(values[f]) == !anyLegal);
  }
}

}  // namespace

TEST_CASE("every enum round-trips through its stored text") {
  checkRoundTrips<AppointmentStatus>(
      {"scheduled", "checked_in", "in_session", "completed", "cancelled", "no_show"});
  checkRoundTrips<SlotStatus>({"open", "held", "booked", "blocked"});
  checkRoundTrips<RequestStatus>(
      {"pending", "offered", "accepted", "confirmed", "rejected", "declined", "expired", "cancelled"});
  checkRoundTrips<WaitlistEntryStatus>({"waiting", "offered", "scheduled", "removed"});
  checkRoundTrips<NotificationStatus>({"pending", "sent", "delivered", "read", "failed", "cancelled"});
  checkRoundTrips<AppointmentType>({"in_person", "telehealth"});
  checkRoundTrips<RecipientType>({"patient", "provider", "front_desk"});
  checkRoundTrips<NotificationType>({"patient_arrived", "waitlist_joined", "request_received",
                                     "slot_offered", "request_confirmed", "request_rejected",
                                     "offer_expired", "appointment_reminder"});
  checkRoundTrips<StaffRole>({"front_desk", "clinician", "manager", "admin"});
}

TEST_CASE("appointment status machine") {
  //  to: scheduled checked_in in_session completed cancelled no_show
  checkMachine<AppointmentStatus, 6>({
      "=LLLLL",  // scheduled
      ".=LLLL",  // checked_in
      "..=L..",  // in_session
      "...=..",  // completed
      "....=.",  // cancelled
      ".....=",  // no_show
  });
  CHECK(checkTransition(AppointmentStatus::Cancelled, AppointmentStatus::CheckedIn).reason ==
        "a cancelled appointment is final and cannot change");
  CHECK(checkTransition(AppointmentStatus::InSession, AppointmentStatus::CheckedIn).reason ==
        "only a scheduled appointment can be checked in");
}

TEST_CASE("slot status machine") {
  //  to: open held booked blocked
  checkMachine<SlotStatus, 4>({
      "=LLL",  // open
      "L=L.",  // held
      "L.=.",  // booked
      "L..=",  // blocked
  });
}

TEST_CASE("request status machine") {
  //  to: pending offered accepted confirmed rejected declined expired cancelled
  checkMachine<RequestStatus, 8>({
      "=..LL.LL",  // pending
      ".=L..LLL",  // offered
      "..=LL..L",  // accepted
      "...=....",  // confirmed
      "....=...",  // rejected
      ".....=..",  // declined
      "......=.",  // expired
      ".......=",  // cancelled
  });
}

TEST_CASE("waitlist entry status machine") {
  //  to: waiting offered scheduled removed
  checkMachine<WaitlistEntryStatus, 4>({
      "=LLL",  // waiting
      "L=LL",  // offered
      "L.=L",  // scheduled
      "...=",  // removed
  });
  CHECK(isActive(WaitlistEntryStatus::Waiting));
  CHECK(isActive(WaitlistEntryStatus::Offered));
  CHECK_FALSE(isActive(WaitlistEntryStatus::Scheduled));
  CHECK_FALSE(isActive(WaitlistEntryStatus::Removed));
}

TEST_CASE("notification status machine") {
  //  to: pending sent delivered read failed cancelled
  checkMachine<NotificationStatus, 6>({
      "=L..LL",  // pending
      ".=LLL.",  // sent
      "..=L..",  // delivered
      "...=..",  // read
      "L...=.",  // failed
      ".....=",  // cancelled
  });
}
