// Scenario tests: named (invented) patients and slots, with the expected order and reasons.
#include <doctest/doctest.h>

#include "waitlist_fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

struct Clinic {
  Ids ids;
  Provider miriam = makeProvider(ids, "Miriam", "Ashcombe", {"anxiety", "depression"}, {"cbt", "act"}, 14, true);
  Provider tobias = makeProvider(ids, "Tobias", "Renwick", {"trauma_ptsd", "anxiety"}, {"emdr"}, 9, false);
  Waitlist list;
  Patient avery = makePatient(ids, "Avery", "Quill", VisitMode::InPerson, {"anxiety"});
  Patient blake = makePatient(ids, "Blake", "Morrow", VisitMode::Telehealth, {"anxiety"});
  Patient camila = makePatient(ids, "Camila", "Fenwick", VisitMode::Either, {"trauma_ptsd"});
  Patient dmitri = makePatient(ids, "Dmitri", "Sorell", VisitMode::Either, {"anxiety"});
  Patient elena = makePatient(ids, "Elena", "Ward", VisitMode::Either, {"anxiety"}, {},
                              {window(Weekday::Tuesday, 9, 12)});
  EngineData data;
  Instant now = at(0, 8);  // Monday 08:00

  Clinic() {
    list.waitlistId = ids.next();
    list.practiceId = ids.next();
    list.name = "Adults";
    list.createdAt = now - days{365};
    dmitri.preferences.onlyPreferredProvider = true;
    data.providers = {miriam, tobias};
    data.waitlists = {list};
    data.patients = {avery, blake, camila, dmitri, elena};
    data.entries = {makeEntry(ids, list, avery, now - days{30}), makeEntry(ids, list, blake, now - days{60}),
                    makeEntry(ids, list, camila, now - days{10}, 1),
                    makeEntry(ids, list, dmitri, now - days{90}, 0, miriam.providerId),
                    makeEntry(ids, list, elena, now - days{20})};
  }
  WaitlistEngine engine() const { return WaitlistEngine::build(data, now); }
  std::string nameOf(const WaitlistEngine& e, std::size_t i) const { return e.patientOf(i).firstName; }
};

}  // namespace

TEST_CASE("priority breakdown reads as the formula says") {
  Clinic c;
  const auto engine = c.engine();
  const auto i = *engine.findEntry(c.data.entries[2].entryId);  // Camila
  const auto& p = engine.priorityOf(i);
  CHECK(formatTerms(p.terms) ==
        "+5 waited 10 days, +20 urgent, +5 flexible: either mode, any provider, any time, "
        "-1.5 narrow fit: 1 of 2 providers");
  CHECK(p.score == doctest::Approx(28.5));
  // Avery: in person only -> flexibility 2/3; both providers see anxiety in person.
  const auto& a = engine.priorityOf(*engine.findEntry(c.data.entries[0].entryId));
  CHECK(a.score == doctest::Approx(18.33));
  CHECK(formatTerms(a.terms) == "+15 waited 30 days, +3.3 flexible: any provider, any time");
}

TEST_CASE("ranking: urgency and days waiting in the documented order") {
  Clinic c;
  const auto engine = c.engine();
  std::vector<std::string> order;
  for (const auto& r : engine.rank()) order.push_back(c.nameOf(engine, r.entryIndex));
  // Dmitri 45 + 0 flex? (either=1, only provider=0, any time=1 -> 3.33) - 1.5 narrow = 46.83;
  // Blake 30 + 3.33 - 1.5 (only Miriam does telehealth) = 31.83; Camila 28.5; Elena 10 + ...; Avery 18.33.
  CHECK(order == std::vector<std::string>{"Dmitri", "Blake", "Camila", "Avery", "Elena"});
  CHECK(engine.rank().front().position == 1);
  CHECK(engine.rank().back().position == 5);
}

TEST_CASE("matching Tobias's Wednesday slot: hard filters and fit") {
  Clinic c;
  const auto engine = c.engine();
  const auto slot = makeSlot(c.ids, c.tobias, at(2, 10));
  const auto m = engine.matchSlot(slot, 10);
  REQUIRE(m.candidates.size() == 2);
  CHECK(c.nameOf(engine, m.candidates[0].entryIndex) == "Camila");
  CHECK(c.nameOf(engine, m.candidates[1].entryIndex) == "Avery");
  CHECK(m.candidates[0].fit == doctest::Approx(1.8));  // 9 years' experience
  CHECK(formatTerms(m.candidates[0].fitTerms) == "+1.8 9 years' experience");
  CHECK(m.excluded[static_cast<std::size_t>(HardFilter::Mode)] == 1);               // Blake: telehealth only
  CHECK(m.excluded[static_cast<std::size_t>(HardFilter::PreferredProvider)] == 1);  // Dmitri: Miriam only
  CHECK(m.excluded[static_cast<std::size_t>(HardFilter::Times)] == 1);              // Elena: Tuesdays
  CHECK(engine.check(*engine.findEntry(c.data.entries[1].entryId), slot) == HardFilter::Mode);
}

TEST_CASE("matching Miriam's Tuesday 10:00 slot: the preferred provider and stated times count") {
  Clinic c;
  c.data.entries[3].status = WaitlistEntryStatus::Offered;  // Dmitri holds another offer
  const auto engine = c.engine();
  const auto slot = makeSlot(c.ids, c.miriam, at(1, 10));
  const auto m = engine.matchSlot(slot, 10);
  std::vector<std::string> order;
  for (const auto& cand : m.candidates) order.push_back(c.nameOf(engine, cand.entryIndex));
  // Camila's trauma concern is not Miriam's specialty; Dmitri is not waiting.
  CHECK(order == std::vector<std::string>{"Blake", "Avery", "Elena"});
  CHECK(m.excluded[static_cast<std::size_t>(HardFilter::Specialty)] == 1);
  CHECK(m.excluded[static_cast<std::size_t>(HardFilter::NotWaiting)] == 1);
  const auto elena = std::ranges::find_if(m.candidates, [&](const SlotCandidate& x) { return c.nameOf(engine, x.entryIndex) == "Elena"; });
  CHECK(formatTerms(elena->fitTerms) == "+2.8 14 years' experience, +3 inside stated times");
}

TEST_CASE("slots for one entry and same-day slots for a walk-in") {
  Clinic c;
  const auto engine = c.engine();
  std::vector<AppointmentSlot> slots = {
      makeSlot(c.ids, c.tobias, at(0, 7)),   // already started
      makeSlot(c.ids, c.tobias, at(0, 15)),  // in person, fits Avery
      makeSlot(c.ids, c.miriam, at(0, 11)),  // fits Avery, more experience
      makeSlot(c.ids, c.miriam, at(0, 9)),   // same fit, earlier
  };
  slots[1].status = SlotStatus::Open;
  const auto avery = *engine.findEntry(c.data.entries[0].entryId);
  const auto fits = engine.matchEntry(avery, slots);
  REQUIRE(fits.size() == 3);
  CHECK(fits[0].slotIndex == 3);
  CHECK(fits[1].slotIndex == 2);
  CHECK(fits[2].slotIndex == 1);

  // A walk-in who wants telehealth only and only Miriam.
  Ids ids(99);
  Patient walkIn = makePatient(ids, "Farah", "Lindqvist", VisitMode::Telehealth, {"depression"});
  walkIn.preferences.onlyPreferredProvider = true;
  const auto today = engine.sameDay(walkIn, c.miriam.providerId, slots);
  REQUIRE(today.size() == 2);
  CHECK(today[0].slotIndex == 3);
  CHECK(today[1].slotIndex == 2);
  CHECK(engine.sameDay(walkIn, c.tobias.providerId, slots).empty());
}

TEST_CASE("wait estimate: a range from history, or honestly none") {
  const Instant now = at(0, 12);
  std::vector<Instant> fills;
  SUBCASE("too little history") {
    for (int i = 0; i < 2; ++i) fills.push_back(now - days{i * 7 + 1});
    const auto e = estimateWait(5, fills, now - days{300}, now);
    CHECK_FALSE(e.hasEstimate);
    CHECK(e.text == "You are number 5 on this list. There is not enough recent history to estimate the wait yet.");
  }
  SUBCASE("a young list gives no estimate however busy") {
    for (int i = 0; i < 10; ++i) fills.push_back(now - days{i + 1});
    CHECK_FALSE(estimateWait(5, fills, now - days{14}, now).hasEstimate);
  }
  SUBCASE("two a week for twelve weeks") {
    for (int i = 0; i < 24; ++i) fills.push_back(now - hours{84 * i + 1});
    fills.push_back(now - days{200});  // outside the window
    const auto e = estimateWait(10, fills, now - days{400}, now);
    REQUIRE(e.hasEstimate);
    CHECK(e.fillsInHistory == 24);
    CHECK(e.fillsPerWeek == doctest::Approx(2.0));
    CHECK(e.minWeeks == 3);  // 10 / (2 + 1.96*sqrt(24)/12) = 3.6
    REQUIRE(e.maxWeeks.has_value());
    CHECK(*e.maxWeeks == 9);  // 10 / (2 - 0.80) = 8.3
    CHECK(e.text.find("about 3 to 9 weeks") != std::string::npos);
    CHECK(e.text.find("not a promise") != std::string::npos);
  }
}
