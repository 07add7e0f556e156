// The offer cycle for one freed slot as a state machine with time passed in: who is offered
// the slot, when holds expire, and which acceptance wins. The store (and later the hub) persist
// the actions it returns; rebuilding it from those rows gives the same decisions everywhere.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "anteroom/model/columns.hpp"
#include "anteroom/model/status.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"

namespace anteroom {

struct OfferPolicy {
  OfferMode mode = OfferMode::Sequential;
  std::chrono::minutes hold{120};
  int broadcastSize = 3;
  Instant slotStart{};  // offers stop, and holds end, when the slot starts
};
// From the waitlist's criteria; hold at least 1 minute, broadcast size 1..50.
OfferPolicy offerPolicy(const WaitlistCriteria& criteria, Instant slotStart);

// One offer made in this cycle (persisted as an AppointmentRequest with status Offered, ...).
struct OfferRecord {
  Uuid entryId;
  Instant offeredAt{};
  Instant expiresAt{};
  RequestStatus status = RequestStatus::Offered;  // Offered, Accepted, Declined, Expired, Cancelled
};

// A waiting entry that passes the slot's hard filters, best first.
struct OfferCandidate {
  Uuid entryId;
};

enum class OfferState {
  Idle,              // nothing offered yet
  AwaitingApproval,  // staff approval mode: a candidate is proposed, nothing sent
  Offering,          // at least one offer is open
  Filled,            // an offer was accepted; decided once, never undone here
  Exhausted,         // nobody left to offer, or the slot started
};
std::string_view toString(OfferState state) noexcept;

struct OfferAction {
  enum class Kind {
    HoldSlot,         // slot open -> held
    SendOffer,        // new request (offered) + notification; entry waiting -> offered
    ExpireOffer,      // request offered -> expired; entry offered -> waiting
    DeclineOffer,     // request offered -> declined; entry offered -> waiting
    WithdrawOffer,    // another patient won (broadcast) or the cycle ended: request -> cancelled
    Book,             // request -> accepted -> confirmed; appointment; entry -> scheduled; slot -> booked
    RequestApproval,  // staff approval mode: propose entryId to staff
    ReleaseSlot,      // slot held -> open (nobody took it)
  };
  Kind kind = Kind::SendOffer;
  Uuid entryId;         // nil for HoldSlot / ReleaseSlot
  Instant expiresAt{};  // SendOffer only
  bool operator==(const OfferAction&) const = default;
};
std::string_view toString(OfferAction::Kind kind) noexcept;

enum class AcceptOutcome {
  Won,         // this acceptance books the slot (repeating it returns Won again)
  TooLate,     // someone else's acceptance already won
  Expired,     // the hold ran out before the acceptance arrived
  NotOffered,  // this entry holds no open offer for the slot
};
std::string_view toString(AcceptOutcome outcome) noexcept;

struct AcceptResult {
  AcceptOutcome outcome = AcceptOutcome::NotOffered;
  std::vector<OfferAction> actions;
};

class OfferCycle {
 public:
  explicit OfferCycle(OfferPolicy policy) : m_policy(policy) {}
  // Rebuilds the cycle from persisted offers and the slot's status (booked = filled).
  static OfferCycle restore(OfferPolicy policy, std::vector<OfferRecord> offers, SlotStatus slotStatus);

  // Expires overdue holds, then offers to the next candidates the mode allows (or proposes one
  // for approval). Candidates already offered in this cycle are skipped: a patient who let the
  // hold lapse or declined is not asked twice for the same slot.
  std::vector<OfferAction> advance(std::span<const OfferCandidate> candidates, Instant now);
  // Staff approved offering to entryId (approval mode; in other modes it is an extra offer).
  // nullopt (and no change) when the slot is filled or started, or the entry is not among the
  // candidates or was offered this slot already.
  std::optional<std::vector<OfferAction>> approve(const Uuid& entryId, std::span<const OfferCandidate> candidates,
                                                  Instant now);
  // The first acceptance of an open, unexpired offer wins; everything after is TooLate.
  AcceptResult accept(const Uuid& entryId, Instant now);
  // The patient said no: the offer closes and the cycle moves on.
  std::vector<OfferAction> decline(const Uuid& entryId, std::span<const OfferCandidate> candidates, Instant now);

  [[nodiscard]] OfferState state() const { return m_state; }
  [[nodiscard]] const std::vector<OfferRecord>& offers() const { return m_offers; }
  [[nodiscard]] const OfferPolicy& policy() const { return m_policy; }
  [[nodiscard]] std::optional<Uuid> proposed() const { return m_proposed; }
  [[nodiscard]] std::optional<Uuid> winner() const;
  // Earliest hold expiry among open offers (when the caller should advance next).
  [[nodiscard]] std::optional<Instant> nextDeadline() const;

 private:
  [[nodiscard]] bool offeredBefore(const Uuid& entryId) const;
  [[nodiscard]] std::size_t openOffers() const;
  void expireOverdue(Instant now, std::vector<OfferAction>& out);
  void send(const Uuid& entryId, Instant now, std::vector<OfferAction>& out);
  void closeAll(RequestStatus to, OfferAction::Kind kind, std::vector<OfferAction>& out);
  void finishIfIdle(std::vector<OfferAction>& out);

  OfferPolicy m_policy;
  std::vector<OfferRecord> m_offers;
  OfferState m_state = OfferState::Idle;
  std::optional<Uuid> m_proposed;
  bool m_slotHeld = false;
};

}  // namespace anteroom
