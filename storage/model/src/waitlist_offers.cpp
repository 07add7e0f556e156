// The offer cycle state machine for a freed slot (see waitlist_offers.hpp): holds, expiry,
// the next candidate, and the single winning acceptance.
#include "anteroom/model/waitlist_offers.hpp"

#include <algorithm>

namespace anteroom {

OfferPolicy offerPolicy(const WaitlistCriteria& criteria, Instant slotStart) {
  OfferPolicy p;
  p.mode = criteria.offerMode;
  p.hold = std::chrono::minutes{std::max(1, criteria.holdMinutes)};
  p.broadcastSize = std::clamp(criteria.broadcastSize, 1, 50);
  p.slotStart = slotStart;
  return p;
}

std::string_view toString(OfferState state) noexcept {
  switch (state) {
    case OfferState::Idle: return "idle";
    case OfferState::AwaitingApproval: return "awaiting_approval";
    case OfferState::Offering: return "offering";
    case OfferState::Filled: return "filled";
    case OfferState::Exhausted: return "exhausted";
  }
  return "idle";
}

std::string_view toString(OfferAction::Kind kind) noexcept {
  using K = OfferAction::Kind;
  switch (kind) {
    case K::HoldSlot: return "hold_slot";
    case K::SendOffer: return "send_offer";
    case K::ExpireOffer: return "expire_offer";
    case K::DeclineOffer: return "decline_offer";
    case K::WithdrawOffer: return "withdraw_offer";
    case K::Book: return "book";
    case K::RequestApproval: return "request_approval";
    case K::ReleaseSlot: return "release_slot";
  }
  return "send_offer";
}

std::string_view toString(AcceptOutcome outcome) noexcept {
  switch (outcome) {
    case AcceptOutcome::Won: return "won";
    case AcceptOutcome::TooLate: return "too_late";
    case AcceptOutcome::Expired: return "expired";
    case AcceptOutcome::NotOffered: return "not_offered";
  }
  return "not_offered";
}

OfferCycle OfferCycle::restore(OfferPolicy policy, std::vector<OfferRecord> offers, SlotStatus slotStatus) {
  OfferCycle c(policy);
  c.m_offers = std::move(offers);
  const bool accepted = std::ranges::any_of(c.m_offers, [](const OfferRecord& o) {
    return o.status == RequestStatus::Accepted || o.status == RequestStatus::Confirmed;
  });
  c.m_slotHeld = slotStatus == SlotStatus::Held;
  if (accepted || slotStatus == SlotStatus::Booked) c.m_state = OfferState::Filled;
  else if (c.openOffers() > 0) c.m_state = OfferState::Offering;
  return c;
}

bool OfferCycle::offeredBefore(const Uuid& entryId) const {
  return std::ranges::any_of(m_offers, [&](const OfferRecord& o) { return o.entryId == entryId; });
}

std::size_t OfferCycle::openOffers() const {
  return static_cast<std::size_t>(
      std::ranges::count_if(m_offers, [](const OfferRecord& o) { return o.status == RequestStatus::Offered; }));
}

std::optional<Uuid> OfferCycle::winner() const {
  for (const auto& o : m_offers)
    if (o.status == RequestStatus::Accepted || o.status == RequestStatus::Confirmed) return o.entryId;
  return std::nullopt;
}

std::optional<Instant> OfferCycle::nextDeadline() const {
  std::optional<Instant> next;
  for (const auto& o : m_offers)
    if (o.status == RequestStatus::Offered && (!next || o.expiresAt < *next)) next = o.expiresAt;
  return next;
}

void OfferCycle::expireOverdue(Instant now, std::vector<OfferAction>& out) {
  for (auto& o : m_offers) {
    if (o.status != RequestStatus::Offered || o.expiresAt > now) continue;
    o.status = RequestStatus::Expired;
    out.push_back({OfferAction::Kind::ExpireOffer, o.entryId, {}});
  }
}

void OfferCycle::send(const Uuid& entryId, Instant now, std::vector<OfferAction>& out) {
  if (!m_slotHeld) {
    out.push_back({OfferAction::Kind::HoldSlot, {}, {}});
    m_slotHeld = true;
  }
  // A hold never outlasts the slot itself.
  const Instant expires = std::min(now + std::chrono::duration_cast<std::chrono::microseconds>(m_policy.hold),
                                   m_policy.slotStart);
  m_offers.push_back({entryId, now, expires, RequestStatus::Offered});
  out.push_back({OfferAction::Kind::SendOffer, entryId, expires});
  m_state = OfferState::Offering;
  m_proposed.reset();
}

void OfferCycle::closeAll(RequestStatus to, OfferAction::Kind kind, std::vector<OfferAction>& out) {
  for (auto& o : m_offers) {
    if (o.status != RequestStatus::Offered) continue;
    o.status = to;
    out.push_back({kind, o.entryId, {}});
  }
}

void OfferCycle::finishIfIdle(std::vector<OfferAction>& out) {
  m_state = OfferState::Exhausted;
  m_proposed.reset();
  if (m_slotHeld) {
    out.push_back({OfferAction::Kind::ReleaseSlot, {}, {}});
    m_slotHeld = false;
  }
}

std::vector<OfferAction> OfferCycle::advance(std::span<const OfferCandidate> candidates, Instant now) {
  std::vector<OfferAction> out;
  if (m_state == OfferState::Filled) return out;
  expireOverdue(now, out);
  if (now >= m_policy.slotStart) {
    closeAll(RequestStatus::Cancelled, OfferAction::Kind::WithdrawOffer, out);
    finishIfIdle(out);
    return out;
  }
  if (openOffers() > 0) {
    m_state = OfferState::Offering;
    return out;
  }
  m_state = OfferState::Idle;
  m_proposed.reset();
  const auto fresh = [&](const OfferCandidate& c) { return !offeredBefore(c.entryId); };
  switch (m_policy.mode) {
    case OfferMode::Sequential:
      if (auto it = std::ranges::find_if(candidates, fresh); it != candidates.end()) send(it->entryId, now, out);
      break;
    case OfferMode::Broadcast: {
      int sent = 0;
      for (const auto& c : candidates) {
        if (sent >= m_policy.broadcastSize) break;
        if (!fresh(c)) continue;
        send(c.entryId, now, out);
        ++sent;
      }
      break;
    }
    case OfferMode::StaffApproval:
      if (auto it = std::ranges::find_if(candidates, fresh); it != candidates.end()) {
        m_proposed = it->entryId;
        m_state = OfferState::AwaitingApproval;
        out.push_back({OfferAction::Kind::RequestApproval, it->entryId, {}});
      }
      break;
  }
  if (m_state == OfferState::Idle) finishIfIdle(out);  // nobody left to ask
  return out;
}

std::optional<std::vector<OfferAction>> OfferCycle::approve(const Uuid& entryId,
                                                            std::span<const OfferCandidate> candidates, Instant now) {
  if (m_state == OfferState::Filled || now >= m_policy.slotStart) return std::nullopt;
  const bool candidate =
      std::ranges::any_of(candidates, [&](const OfferCandidate& c) { return c.entryId == entryId; });
  if (!candidate || offeredBefore(entryId)) return std::nullopt;
  std::vector<OfferAction> out;
  expireOverdue(now, out);
  send(entryId, now, out);
  return out;
}

AcceptResult OfferCycle::accept(const Uuid& entryId, Instant now) {
  AcceptResult r;
  if (m_state == OfferState::Filled) {
    r.outcome = winner() == entryId ? AcceptOutcome::Won : AcceptOutcome::TooLate;
    return r;
  }
  auto it = std::ranges::find_if(
      m_offers, [&](const OfferRecord& o) { return o.entryId == entryId && o.status == RequestStatus::Offered; });
  if (it == m_offers.end()) {
    const bool lapsed = std::ranges::any_of(m_offers, [&](const OfferRecord& o) {
      return o.entryId == entryId && o.status == RequestStatus::Expired;
    });
    r.outcome = lapsed ? AcceptOutcome::Expired : AcceptOutcome::NotOffered;
    return r;
  }
  if (it->expiresAt <= now) {
    it->status = RequestStatus::Expired;
    r.actions.push_back({OfferAction::Kind::ExpireOffer, entryId, {}});
    r.outcome = AcceptOutcome::Expired;
    return r;
  }
  it->status = RequestStatus::Accepted;
  m_state = OfferState::Filled;
  m_proposed.reset();
  r.outcome = AcceptOutcome::Won;
  r.actions.push_back({OfferAction::Kind::Book, entryId, {}});
  // The losers of a broadcast race hear that the slot is gone.
  closeAll(RequestStatus::Cancelled, OfferAction::Kind::WithdrawOffer, r.actions);
  m_slotHeld = false;
  return r;
}

std::vector<OfferAction> OfferCycle::decline(const Uuid& entryId, std::span<const OfferCandidate> candidates,
                                             Instant now) {
  std::vector<OfferAction> out;
  auto it = std::ranges::find_if(
      m_offers, [&](const OfferRecord& o) { return o.entryId == entryId && o.status == RequestStatus::Offered; });
  if (it == m_offers.end() || m_state == OfferState::Filled) return out;
  it->status = RequestStatus::Declined;
  out.push_back({OfferAction::Kind::DeclineOffer, entryId, {}});
  auto next = advance(candidates, now);
  out.insert(out.end(), next.begin(), next.end());
  return out;
}

}  // namespace anteroom
