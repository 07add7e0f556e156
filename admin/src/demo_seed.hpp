// A deterministic synthetic practice for demos, tests and benchmarks. Every name is invented.
#pragma once

#include <cstdint>

#include "anteroom/store/store.hpp"

namespace anteroom::admin {

struct SeedOptions {
  int patients = 200;
  std::uint64_t seed = 1;
  Instant now = nowUtc();
  // Local midnight of "today" for the practice; the demo lays out today's schedule from it.
  Instant localMidnight{};
};

struct SeedSummary {
  int providers = 0;
  int patients = 0;
  int appointmentsToday = 0;
  int openSlots = 0;
  int waitlists = 0;
  int waitlistEntries = 0;
  int staff = 0;
};

// The demo staff PINs (printed by 'demo seed'); the store keeps only their Argon2id hashes.
struct DemoStaff {
  const char* displayName;
  const char* pin;
};
inline constexpr DemoStaff kDemoStaff[] = {{"Jordan K. (front desk)", "2468"}, {"Sam R. (manager)", "1357"}};

Result<SeedSummary> seedDemo(store::Store& store, const SeedOptions& options);

// Local midnight today in the machine's time zone.
Instant localMidnightToday(Instant now);

}  // namespace anteroom::admin
