// Instants and dates: ISO-8601 round trips and rejection of malformed text.
#include <doctest/doctest.h>

#include "anteroom/model/time.hpp"

using namespace anteroom;
using namespace std::chrono;

TEST_CASE("instants format with fixed width and parse back") {
  const Instant t = Instant{sys_days{2026y / November / 25}} + hours{9} + minutes{5} + microseconds{42};
  CHECK(formatInstant(t) == "2026-11-25T09:05:00.000042Z");
  CHECK(parseInstant(formatInstant(t)) == t);
  CHECK(parseInstant("2026-11-25 09:05:00") == t - microseconds{42});
  CHECK(parseInstant("2026-11-25T09:05:00.5+00:00") == t - microseconds{42} + milliseconds{500});
}

TEST_CASE("malformed instants are refused") {
  CHECK_FALSE(parseInstant(""));
  CHECK_FALSE(parseInstant("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parseInstant("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parseInstant("2026-11-25T09:05:00+02:00"));
  CHECK_FALSE(parseInstant("2026-11-25T09:05:00."));
  CHECK_FALSE(parseInstant("2026-11-25T25:05:00Z"));
}

TEST_CASE("dates") {
  CHECK(formatDate(2024y / February / 29) == "2024-02-29");
  CHECK(parseIsoDate("2024-02-29") == Date{2024y / February / 29});
  CHECK_FALSE(parseIsoDate("2023-02-29"));
  CHECK_FALSE(parseIsoDate("2023-2-28"));
}
