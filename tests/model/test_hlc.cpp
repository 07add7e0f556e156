// Hybrid logical clock: monotonic under clock trouble, skewed remotes ignored, and the text
// encoding sorts like the timestamps.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "anteroom/model/hlc.hpp"

using namespace anteroom;

namespace {

constexpr std::int64_t kNow = 1'764'061'200'000;  // 2025-11-25T09:00:00Z
constexpr std::int64_t kMinute = 60'000;

}  // namespace

TEST_CASE("now() is strictly monotonic while the physical clock goes backwards") {
  HybridLogicalClock clock("kiosk-a");
  CHECK(clock.now(kNow) == HlcTimestamp{kNow, 0});
  CHECK(clock.now(kNow) == HlcTimestamp{kNow, 1});
  CHECK(clock.now(kNow - 10 * kMinute) == HlcTimestamp{kNow, 2});  // NTP stepped back
  CHECK(clock.now(kNow - 5 * kMinute) == HlcTimestamp{kNow, 3});
  CHECK(clock.now(kNow + 1) == HlcTimestamp{kNow + 1, 0});  // physical time caught up

  HlcTimestamp previous = clock.last();
  bool ordered = true;
  for (int i = 0; i < 10'000; ++i) {
    const HlcTimestamp t = clock.now(kNow + (i % 13) - 6);
    ordered = ordered && previous < t;
    previous = t;
  }
  CHECK(ordered);
  CHECK(clock.skewEvents() == 0);
}

TEST_CASE("observe() adopts a later remote and stays ahead of it") {
  HybridLogicalClock clock("kiosk-a");
  clock.now(kNow);
  // Remote a few seconds ahead (within tolerance): adopt its wall time, counter + 1.
  CHECK(clock.observe({kNow + 3000, 7}, kNow) == HlcTimestamp{kNow + 3000, 8});
  CHECK(clock.now(kNow + 1) == HlcTimestamp{kNow + 3000, 9});
  // Same wall time on both sides: counter past the larger one.
  CHECK(clock.observe({kNow + 3000, 20}, kNow + 2) == HlcTimestamp{kNow + 3000, 21});
  CHECK(clock.observe({kNow + 3000, 4}, kNow + 2) == HlcTimestamp{kNow + 3000, 22});
  // An older remote does not pull the clock back.
  CHECK(clock.observe({kNow - kMinute, 99}, kNow + 3) == HlcTimestamp{kNow + 3000, 23});
  // Physical time ahead of both: counter resets.
  CHECK(clock.observe({kNow + 4000, 5}, kNow + 5000) == HlcTimestamp{kNow + 5000, 0});
  CHECK(clock.skewEvents() == 0);
}

TEST_CASE("a remote too far in the future is not adopted") {
  HybridLogicalClock clock("kiosk-a", 5 * kMinute);
  clock.now(kNow);
  const HlcTimestamp t = clock.observe({kNow + 6 * kMinute, 3}, kNow);
  CHECK(t == HlcTimestamp{kNow, 1});
  CHECK(clock.skewEvents() == 1);
  // Exactly at the tolerance is still adopted.
  CHECK(clock.observe({kNow + 5 * kMinute, 0}, kNow) == HlcTimestamp{kNow + 5 * kMinute, 1});
  CHECK(clock.skewEvents() == 1);
  // A hostile maximum does not overflow anything and is ignored too.
  const HlcTimestamp hostile{std::numeric_limits<std::int64_t>::max(),
                             std::numeric_limits<std::uint32_t>::max()};
  CHECK(clock.observe(hostile, kNow) == HlcTimestamp{kNow + 5 * kMinute, 2});
  CHECK(clock.skewEvents() == 2);
}

TEST_CASE("counter overflow moves to the next millisecond") {
  HybridLogicalClock clock("kiosk-a");
  const auto maxCounter = std::numeric_limits<std::uint32_t>::max();
  clock.restore({kNow, maxCounter - 1});
  CHECK(clock.now(kNow) == HlcTimestamp{kNow, maxCounter});
  CHECK(clock.now(kNow) == HlcTimestamp{kNow + 1, 0});
  CHECK(clock.observe({kNow + 1, maxCounter}, kNow) == HlcTimestamp{kNow + 2, 0});
}

TEST_CASE("restore keeps the clock monotonic after a restart") {
  HybridLogicalClock before("kiosk-a");
  before.now(kNow);
  before.observe({kNow + 2 * kMinute, 4}, kNow);
  const HlcTimestamp persisted = before.last();

  HybridLogicalClock after("kiosk-a");
  after.restore(persisted);
  CHECK(after.last() == persisted);
  CHECK(after.now(kNow) > persisted);  // restarted with the physical clock behind
  after.restore({kNow - kMinute, 0});  // stale state never rewinds
  CHECK(after.last() > persisted);
}

TEST_CASE("encode and decode round-trip, and text order is timestamp order") {
  HybridLogicalClock clock("kiosk-a");
  CHECK(clock.encode({kNow, 0}) == "0001764061200000-0000000000-kiosk-a");
  const auto decoded = HybridLogicalClock::decode("0001764061200000-0000000042-kiosk-a");
  REQUIRE(decoded);
  CHECK(decoded->first == HlcTimestamp{kNow, 42});
  CHECK(decoded->second == "kiosk-a");

  const std::vector<HlcTimestamp> stamps = {
      {0, 0}, {0, 1}, {1, 0}, {9, 4'294'967'295}, {10, 0}, {kNow, 0}, {kNow, 9}, {kNow, 10}, {kNow, 100'000},
      {kNow + 1, 0}, {9'999'999'999'999'999, 4'294'967'295}};
  std::vector<std::string> texts;
  for (const auto& t : stamps) {
    texts.push_back(clock.encode(t));
    const auto back = HybridLogicalClock::decode(texts.back());
    REQUIRE(back);
    CHECK(back->first == t);
    CHECK(back->second == "kiosk-a");
  }
  CHECK(std::ranges::is_sorted(stamps));
  CHECK(std::ranges::is_sorted(texts));
  CHECK(std::ranges::adjacent_find(texts) == texts.end());

  for (const char* bad : {"", "0001764061200000-0000000000-", "0001764061200000-0000000000kiosk",
                          "001764061200000-0000000000-kiosk", "0001764061200000-000000000-kiosk",
                          "000176406120000x-0000000000-kiosk", "0001764061200000-4294967296-kiosk",
                          "-001764061200000-0000000000-kiosk", "0001764061200000-+000000000-kiosk"}) {
    CAPTURE(bad);
    CHECK_FALSE(HybridLogicalClock::decode(bad));
  }
}
