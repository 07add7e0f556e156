// Waitlist engine benchmarks: matching one freed slot and 500 slots against 10k entries, and
// ranking 10k entries. Prints "name: value unit" lines only; --quick for sanitizer builds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "../waitlist/waitlist_fixture.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using anteroom::WaitlistEngine;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  std::ranges::sort(v);
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--help" || a == "-h") {
      std::puts("usage: anteroom-bench-waitlist [--quick]\n  --quick  fewer repetitions (sanitizer builds)");
      return 0;
    } else {
      std::fprintf(stderr, "anteroom-bench-waitlist: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const int entries = 10000;
  const int repeats = quick ? 50 : 500;
  const int slotCount = 500;
  auto pop = anteroom::test::randomPopulation(20261125, entries, slotCount);
  for (auto& s : pop.slots) s.status = anteroom::SlotStatus::Open;
  const anteroom::Instant now = anteroom::test::at(0, 6);

  // Ranking includes building the engine: per-entry priority and facts are computed there.
  std::vector<double> rankMs;
  std::size_t sink = 0;
  for (int r = 0; r < (quick ? 3 : 10); ++r) {
    const auto start = Clock::now();
    const auto engine = WaitlistEngine::build(pop.data, now);
    sink += engine.rank().size();
    rankMs.push_back(msSince(start));
  }
  const auto engine = WaitlistEngine::build(pop.data, now);

  std::vector<double> oneMs;
  for (int r = 0; r < repeats; ++r) {
    const auto& slot = pop.slots[static_cast<std::size_t>(r) % pop.slots.size()];
    const auto start = Clock::now();
    sink += engine.matchSlot(slot, 20).eligible;
    oneMs.push_back(msSince(start));
  }

  std::vector<double> allMs;
  for (int r = 0; r < (quick ? 1 : 3); ++r) {
    const auto start = Clock::now();
    for (const auto& slot : pop.slots) sink += engine.matchSlot(slot, 20).eligible;
    allMs.push_back(msSince(start));
  }

  std::printf("entries: %d count\n", entries);
  std::printf("match_one_slot_10k_entries_p50_ms: %.3f ms\n", percentile(oneMs, 0.5));
  std::printf("match_one_slot_10k_entries_p99_ms: %.3f ms\n", percentile(oneMs, 0.99));
  std::printf("match_500_slots_10k_entries_ms: %.1f ms\n", percentile(allMs, 0.5));
  std::printf("rank_10k_entries_ms: %.1f ms\n", percentile(rankMs, 0.5));
  std::printf("eligible_checksum: %zu count\n", sink);
  return 0;
}
