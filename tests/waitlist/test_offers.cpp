// The offer cycle state machine: hold, expiry, next candidate, broadcast race decided once,
// staff approval, the slot's start, and restoring from persisted offers.
#include <doctest/doctest.h>

#include "waitlist_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;
using K = OfferAction::Kind;

namespace {

struct People {
  Ids ids{3};
  Uuid avery = ids.next(), blake = ids.next(), camila = ids.next(), dmitri = ids.next();
  std::vector<OfferCandidate> all() const { return {{avery}, {blake}, {camila}, {dmitri}}; }
};

OfferPolicy policy(OfferMode mode, int holdMinutes = 120, int broadcast = 3) {
  WaitlistCriteria c;
  c.offerMode = mode;
  c.holdMinutes = holdMinutes;
  c.broadcastSize = broadcast;
  return offerPolicy(c, at(2, 10));  // slot on Wednesday 10:00
}

}  // namespace

TEST_CASE("sequential: hold, expiry moves to the next, late acceptance refused") {
  People p;
  OfferCycle cycle(policy(OfferMode::Sequential));
  const Instant t0 = at(0, 9);
  auto a = cycle.advance(p.all(), t0);
  REQUIRE(a.size() == 2);
  CHECK(a[0].kind == K::HoldSlot);
  CHECK(a[1] == OfferAction{K::SendOffer, p.avery, t0 + hours{2}});
  CHECK(cycle.state() == OfferState::Offering);
  CHECK(cycle.nextDeadline() == t0 + hours{2});

  CHECK(cycle.advance(p.all(), t0 + minutes{119}).empty());  // still on hold
  a = cycle.advance(p.all(), t0 + hours{2});
  REQUIRE(a.size() == 2);
  CHECK(a[0] == OfferAction{K::ExpireOffer, p.avery, {}});
  CHECK(a[1].kind == K::SendOffer);
  CHECK(a[1].entryId == p.blake);

  CHECK(cycle.accept(p.avery, t0 + hours{2} + minutes{1}).outcome == AcceptOutcome::Expired);
  auto won = cycle.accept(p.blake, t0 + hours{3});
  CHECK(won.outcome == AcceptOutcome::Won);
  REQUIRE(won.actions.size() == 1);
  CHECK(won.actions[0] == OfferAction{K::Book, p.blake, {}});
  CHECK(cycle.state() == OfferState::Filled);
  CHECK(cycle.winner() == p.blake);
  // Decided once: the winner repeating gets Won without new actions; anyone else is too late.
  auto again = cycle.accept(p.blake, t0 + hours{3});
  CHECK(again.outcome == AcceptOutcome::Won);
  CHECK(again.actions.empty());
  CHECK(cycle.accept(p.camila, t0 + hours{3}).outcome == AcceptOutcome::TooLate);
  CHECK(cycle.advance(p.all(), t0 + hours{9}).empty());
}

TEST_CASE("the accept that arrives exactly at expiry loses") {
  People p;
  OfferCycle cycle(policy(OfferMode::Sequential, 30));
  const Instant t0 = at(0, 9);
  cycle.advance(p.all(), t0);
  auto r = cycle.accept(p.avery, t0 + minutes{30});
  CHECK(r.outcome == AcceptOutcome::Expired);
  REQUIRE(r.actions.size() == 1);
  CHECK(r.actions[0].kind == K::ExpireOffer);
  CHECK(cycle.accept(p.dmitri, t0).outcome == AcceptOutcome::NotOffered);
}

TEST_CASE("broadcast: several at once, the first acceptance wins and the rest are withdrawn") {
  People p;
  OfferCycle cycle(policy(OfferMode::Broadcast, 60, 3));
  const Instant t0 = at(0, 9);
  auto a = cycle.advance(p.all(), t0);
  REQUIRE(a.size() == 4);
  CHECK(a[1].entryId == p.avery);
  CHECK(a[2].entryId == p.blake);
  CHECK(a[3].entryId == p.camila);
  auto won = cycle.accept(p.camila, t0 + minutes{5});
  CHECK(won.outcome == AcceptOutcome::Won);
  REQUIRE(won.actions.size() == 3);
  CHECK(won.actions[0] == OfferAction{K::Book, p.camila, {}});
  CHECK(won.actions[1] == OfferAction{K::WithdrawOffer, p.avery, {}});
  CHECK(won.actions[2] == OfferAction{K::WithdrawOffer, p.blake, {}});
  CHECK(cycle.accept(p.avery, t0 + minutes{6}).outcome == AcceptOutcome::TooLate);
  CHECK(cycle.accept(p.blake, t0 + minutes{6}).outcome == AcceptOutcome::TooLate);

  SUBCASE("all lapse: the next group, then exhaustion releases the slot") {
    OfferCycle c2(policy(OfferMode::Broadcast, 60, 3));
    c2.advance(p.all(), t0);
    a = c2.advance(p.all(), t0 + hours{1});
    REQUIRE(a.size() == 4);  // three expiries, then Dmitri
    CHECK(a[3] == OfferAction{K::SendOffer, p.dmitri, t0 + hours{2}});
    a = c2.advance(p.all(), t0 + hours{2});
    REQUIRE(a.size() == 2);
    CHECK(a[0].kind == K::ExpireOffer);
    CHECK(a[1].kind == K::ReleaseSlot);
    CHECK(c2.state() == OfferState::Exhausted);
  }
}

TEST_CASE("staff approval: propose, nothing sent until approved") {
  People p;
  OfferCycle cycle(policy(OfferMode::StaffApproval));
  const Instant t0 = at(0, 9);
  auto a = cycle.advance(p.all(), t0);
  REQUIRE(a.size() == 1);
  CHECK(a[0] == OfferAction{K::RequestApproval, p.avery, {}});
  CHECK(cycle.state() == OfferState::AwaitingApproval);
  CHECK(cycle.proposed() == p.avery);
  CHECK_FALSE(cycle.approve(Uuid{}, p.all(), t0).has_value());  // not a candidate
  auto ok = cycle.approve(p.blake, p.all(), t0 + minutes{5});  // staff may pick someone else
  REQUIRE(ok.has_value());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[1].entryId == p.blake);
  CHECK_FALSE(cycle.approve(p.blake, p.all(), t0 + minutes{6}).has_value());  // already asked
  // Declining moves on to proposing the next for approval.
  a = cycle.decline(p.blake, p.all(), t0 + minutes{10});
  REQUIRE(a.size() == 2);
  CHECK(a[0] == OfferAction{K::DeclineOffer, p.blake, {}});
  CHECK(a[1] == OfferAction{K::RequestApproval, p.avery, {}});
}

TEST_CASE("holds end at the slot's start, and the cycle stops there") {
  People p;
  OfferCycle cycle(policy(OfferMode::Sequential, 600));
  const Instant t0 = at(2, 9);  // an hour before the slot
  auto a = cycle.advance(p.all(), t0);
  CHECK(a[1].expiresAt == at(2, 10));
  a = cycle.advance(p.all(), at(2, 10));
  REQUIRE(a.size() == 2);
  CHECK(a[0] == OfferAction{K::ExpireOffer, p.avery, {}});
  CHECK(a[1].kind == K::ReleaseSlot);
  CHECK(cycle.state() == OfferState::Exhausted);
  CHECK_FALSE(cycle.approve(p.blake, p.all(), at(2, 10)).has_value());
}

TEST_CASE("restored from persisted offers, the cycle decides the same") {
  People p;
  const Instant t0 = at(0, 9);
  std::vector<OfferRecord> records = {{p.avery, t0, t0 + hours{2}, RequestStatus::Expired},
                                      {p.blake, t0 + hours{2}, t0 + hours{4}, RequestStatus::Offered}};
  auto cycle = OfferCycle::restore(policy(OfferMode::Sequential), records, SlotStatus::Held);
  CHECK(cycle.state() == OfferState::Offering);
  auto a = cycle.advance(p.all(), t0 + hours{4});
  REQUIRE(a.size() == 2);
  CHECK(a[0] == OfferAction{K::ExpireOffer, p.blake, {}});
  CHECK(a[1].entryId == p.camila);  // Avery is not asked twice

  records[1].status = RequestStatus::Accepted;
  auto filled = OfferCycle::restore(policy(OfferMode::Sequential), records, SlotStatus::Booked);
  CHECK(filled.state() == OfferState::Filled);
  CHECK(filled.accept(p.camila, t0).outcome == AcceptOutcome::TooLate);
  CHECK(filled.accept(p.blake, t0).outcome == AcceptOutcome::Won);
}

TEST_CASE("no candidates: nothing held, exhausted") {
  OfferCycle cycle(policy(OfferMode::Sequential));
  CHECK(cycle.advance({}, at(0, 9)).empty());
  CHECK(cycle.state() == OfferState::Exhausted);
}
