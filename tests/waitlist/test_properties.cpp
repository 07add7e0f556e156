// Properties over seeded random populations: hard filters never broken, total and stable
// ranking, weights move entries as the formula says, offers only ever go to waiting entries.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "waitlist_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

constexpr std::uint64_t kSeeds[] = {1, 2, 3, 42, 2026};

// The hard filters written again, the slow and obvious way, from the records alone.
bool passesReference(const WaitlistEntry& e, const Patient& p, const Provider& provider, const AppointmentSlot& s,
                     Instant now) {
  if (e.status != WaitlistEntryStatus::Waiting || s.status != SlotStatus::Open || s.startTime <= now) return false;
  const auto local = localTimeOf(s.startTime, s.endTime, std::chrono::minutes{0});
  const auto modes = slotModes(provider, local);
  const auto& prefs = p.preferences;
  if (!modes.inPerson && !modes.telehealth) return false;
  if (prefs.mode == VisitMode::Telehealth && !modes.telehealth) return false;
  if (prefs.mode == VisitMode::InPerson && !modes.inPerson) return false;
  if (prefs.onlyPreferredProvider && e.providerId && *e.providerId != provider.providerId) return false;
  for (const auto& c : prefs.concerns)
    if (std::ranges::find(provider.specialties, c) == provider.specialties.end()) return false;
  if (!prefs.availableTimes.empty()) {
    bool inside = false;
    for (const auto& w : prefs.availableTimes)
      inside = inside || (w.day == local.day && w.startMinute <= local.startMinute && local.endMinute <= w.endMinute);
    if (!inside) return false;
  }
  return true;
}

const Patient& patientFor(const EngineData& d, const Uuid& id) {
  return *std::ranges::find(d.patients, id, &Patient::patientId);
}
const Provider& providerFor(const EngineData& d, const Uuid& id) {
  return *std::ranges::find(d.providers, id, &Provider::providerId);
}

}  // namespace

TEST_CASE("a hard filter is never broken, and every entry that passes them is a candidate") {
  for (const auto seed : kSeeds) {
    CAPTURE(seed);
    const auto pop = randomPopulation(seed, 400, 40);
    const Instant now = at(0, 8);
    const auto engine = WaitlistEngine::build(pop.data, now);
    for (const auto& slot : pop.slots) {
      const auto m = engine.matchSlot(slot, 100000);
      const auto& provider = providerFor(pop.data, slot.providerId);
      std::size_t expected = 0;
      for (const auto& e : pop.data.entries)
        if (passesReference(e, patientFor(pop.data, e.patientId), provider, slot, now)) ++expected;
      CHECK(m.candidates.size() == expected);
      CHECK(m.eligible == expected);
      for (const auto& c : m.candidates) {
        const auto& e = engine.entries()[c.entryIndex];
        CHECK(passesReference(e, engine.patientOf(c.entryIndex), provider, slot, now));
        CHECK(engine.check(c.entryIndex, slot) == HardFilter::Pass);
      }
      // Best first, by total then priority.
      for (std::size_t k = 1; k < m.candidates.size(); ++k) {
        const auto& a = m.candidates[k - 1];
        const auto& b = m.candidates[k];
        CHECK((a.total > b.total || (a.total == b.total && a.priority >= b.priority)));
      }
    }
  }
}

TEST_CASE("the ranking is a total order, stable for equal scores and independent of input order") {
  for (const auto seed : kSeeds) {
    CAPTURE(seed);
    auto pop = randomPopulation(seed, 500, 0);
    const Instant now = at(0, 8);
    const auto engine = WaitlistEngine::build(pop.data, now);
    const auto ranked = engine.rank();
    std::vector<Uuid> ids;
    for (const auto& r : ranked) ids.push_back(engine.entries()[r.entryIndex].entryId);
    for (std::size_t k = 1; k < ranked.size(); ++k) {
      const auto& a = ranked[k - 1];
      const auto& b = ranked[k];
      const auto& ea = engine.entries()[a.entryIndex];
      const auto& eb = engine.entries()[b.entryIndex];
      const bool strictlyBefore =
          a.priority.score > b.priority.score ||
          (a.priority.score == b.priority.score &&
           (ea.createdAt < eb.createdAt || (ea.createdAt == eb.createdAt && ea.entryId < eb.entryId)));
      CHECK(strictlyBefore);
    }
    std::mt19937_64 rng(seed);
    std::ranges::shuffle(pop.data.entries, rng);
    std::ranges::shuffle(pop.data.patients, rng);
    const auto shuffled = WaitlistEngine::build(pop.data, now);
    std::vector<Uuid> again;
    for (const auto& r : shuffled.rank()) again.push_back(shuffled.entries()[r.entryIndex].entryId);
    CHECK(again == ids);
    // Positions restart per waitlist and count up by one.
    std::map<Uuid, int> last;
    for (const auto& r : ranked) {
      int& pos = last[engine.entries()[r.entryIndex].waitlistId];
      CHECK(r.position == pos + 1);
      pos = r.position;
    }
  }
}

TEST_CASE("changing a weight moves entries the way the formula says") {
  for (const auto seed : kSeeds) {
    CAPTURE(seed);
    auto pop = randomPopulation(seed, 300, 0);
    const Instant now = at(0, 8);
    const auto before = WaitlistEngine::build(pop.data, now);
    for (auto& list : pop.data.waitlists) list.criteria.weights.urgency += 15;
    const auto after = WaitlistEngine::build(pop.data, now);
    for (std::size_t i = 0; i < before.entries().size(); ++i) {
      const int u = before.entries()[i].urgency;
      // Each score is rounded to 0.01, so the difference is exact to within that.
      CHECK(std::abs(after.priorityOf(i).score - before.priorityOf(i).score - 15.0 * u) <= 0.0101);
    }
    // Ordered pairs keep their order when the one ahead has at least the other's urgency.
    const auto rb = before.rank();
    std::vector<std::size_t> posAfter(before.entries().size());
    const auto ra = after.rank();
    for (std::size_t k = 0; k < ra.size(); ++k) posAfter[ra[k].entryIndex] = k;
    for (std::size_t k = 1; k < rb.size(); ++k) {
      const auto a = rb[k - 1].entryIndex;
      const auto b = rb[k].entryIndex;
      if (before.entries()[a].urgency >= before.entries()[b].urgency) CHECK(posAfter[a] < posAfter[b]);
    }
    // More weight on waiting: the score grows by the extra weight times the counted days.
    for (auto& list : pop.data.waitlists) list.criteria.weights.perDayWaiting += 1.0;
    const auto longer = WaitlistEngine::build(pop.data, now);
    for (std::size_t i = 0; i < after.entries().size(); ++i) {
      const double counted = std::min(daysWaiting(after.entries()[i], now), 180);
      CHECK(std::abs(longer.priorityOf(i).score - after.priorityOf(i).score - counted) <= 0.0101);
    }
  }
}

TEST_CASE("an offer never goes to an entry that is not waiting") {
  for (const auto seed : kSeeds) {
    CAPTURE(seed);
    auto pop = randomPopulation(seed, 200, 12);
    std::mt19937_64 rng(seed * 7919);
    std::map<Uuid, WaitlistEntryStatus> status;
    for (const auto& e : pop.data.entries) status[e.entryId] = e.status;
    const Instant t0 = at(0, 6);
    for (auto& slot : pop.slots) {
      slot.status = SlotStatus::Open;
      for (const auto mode : {OfferMode::Sequential, OfferMode::Broadcast, OfferMode::StaffApproval}) {
        WaitlistCriteria criteria;
        criteria.offerMode = mode;
        criteria.holdMinutes = 30;
        OfferCycle cycle(offerPolicy(criteria, slot.startTime));
        Instant now = t0;
        for (int step = 0; step < 12 && cycle.state() != OfferState::Filled; ++step) {
          // Candidates from the engine with the statuses as they stand now.
          for (auto& e : pop.data.entries) e.status = status[e.entryId];
          const auto engine = WaitlistEngine::build(pop.data, now);
          std::vector<OfferCandidate> candidates;
          for (const auto& c : engine.matchSlot(slot, 100000).candidates)
            candidates.push_back({engine.entries()[c.entryIndex].entryId});
          std::vector<OfferAction> actions;
          const int choice = std::uniform_int_distribution<int>(0, 3)(rng);
          if (choice == 0 && !cycle.offers().empty()) {
            actions = cycle.accept(cycle.offers().back().entryId, now).actions;
          } else if (choice == 1 && !cycle.offers().empty()) {
            actions = cycle.decline(cycle.offers().back().entryId, candidates, now);
          } else if (choice == 2 && cycle.proposed()) {
            actions = cycle.approve(*cycle.proposed(), candidates, now).value_or(std::vector<OfferAction>{});
          } else {
            actions = cycle.advance(candidates, now);
          }
          for (const auto& a : actions) {
            auto& st = status[a.entryId];
            switch (a.kind) {
              case OfferAction::Kind::SendOffer:
                CHECK(st == WaitlistEntryStatus::Waiting);
                st = WaitlistEntryStatus::Offered;
                break;
              case OfferAction::Kind::ExpireOffer:
              case OfferAction::Kind::DeclineOffer:
              case OfferAction::Kind::WithdrawOffer:
                CHECK(st == WaitlistEntryStatus::Offered);
                st = WaitlistEntryStatus::Waiting;
                break;
              case OfferAction::Kind::Book:
                CHECK(st == WaitlistEntryStatus::Offered);
                st = WaitlistEntryStatus::Scheduled;
                break;
              default: break;
            }
          }
          now += std::chrono::minutes{std::uniform_int_distribution<int>(0, 45)(rng)};
        }
        // Whatever is still open when the slot starts is withdrawn.
        const auto closing = cycle.advance({}, slot.startTime);
        for (const auto& a : closing)
          if (a.kind == OfferAction::Kind::ExpireOffer || a.kind == OfferAction::Kind::WithdrawOffer)
            status[a.entryId] = WaitlistEntryStatus::Waiting;
        CHECK((cycle.state() == OfferState::Filled || cycle.state() == OfferState::Exhausted));
      }
    }
  }
}
