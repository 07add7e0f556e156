// Practice time zones: local days and times from the zone's name, whatever the machine's zone.
#include <doctest/doctest.h>

#include "anteroom/model/time_zone.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

Instant utcAt(int y, unsigned m, unsigned d, int h, int min) {
  return Instant(sys_days(year{y} / month{m} / day{d}) + hours{h} + minutes{min});
}

}  // namespace

TEST_CASE("a practice zone gives its own local times and days, with daylight saving") {
  auto la = PracticeZone::named("America/Los_Angeles");
  REQUIRE(la.has_value());
  CHECK(la->offsetAt(utcAt(2026, 1, 15, 12, 0)) == minutes{-8 * 60});
  CHECK(la->offsetAt(utcAt(2026, 7, 15, 12, 0)) == minutes{-7 * 60});
  // 02:30 UTC on 16 July is 19:30 on 15 July in Los Angeles, a Wednesday.
  const LocalParts p = la->partsOf(utcAt(2026, 7, 16, 2, 30));
  CHECK(p.date == year{2026} / month{7} / day{15});
  CHECK(p.hour == 19);
  CHECK(p.minute == 30);
  CHECK(p.weekday == 3);
  // Its day runs midnight to midnight local time; the day clocks spring forward has 23 hours.
  const auto [start, end] = la->dayOf(utcAt(2026, 7, 16, 2, 30));
  CHECK(start == utcAt(2026, 7, 15, 7, 0));
  CHECK(end == utcAt(2026, 7, 16, 7, 0));
  const auto [springStart, springEnd] = la->dayOf(utcAt(2026, 3, 8, 20, 0));
  CHECK(springEnd - springStart == hours{23});
  const auto [fallStart, fallEnd] = la->dayOf(utcAt(2026, 11, 1, 20, 0));
  CHECK(fallEnd - fallStart == hours{25});
  // A wall-clock time on a date, back to UTC.
  CHECK(la->at(year{2026} / month{7} / day{15}, hours{16}) == utcAt(2026, 7, 15, 23, 0));
}

TEST_CASE("an unknown zone name is refused with words a person can act on; empty is the device's zone") {
  auto bad = PracticeZone::named("Mars/Olympus_Mons");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == "validation.time_zone");
  CHECK(bad.error().message.find("America/Chicago") != std::string::npos);
  auto device = PracticeZone::named("");
  REQUIRE(device.has_value());
  CHECK_FALSE(device->name().empty());
}
