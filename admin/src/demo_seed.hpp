// A deterministic synthetic practice for demos, tests and benchmarks. Every name is invented.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "anteroom/store/store.hpp"

namespace anteroom::admin {

struct SeedOptions {
  int patients = 200;
  std::uint64_t seed = 1;
  Instant now = nowUtc();
  // Local midnight of "today" for the practice; the demo lays out today's schedule from it.
  Instant localMidnight{};
  // Inserted before the '@' of every e-mail address, so several seeds can share a central
  // database (its e-mail columns are unique); empty for a device's own store.
  std::string emailTag;
  // The practice's IANA zone (settings.time_zone); empty = the device's zone.
  std::string timeZone;
};

struct SeedSummary {
  int providers = 0;
  int patients = 0;
  int appointmentsToday = 0;
  int openSlots = 0;
  int waitlists = 0;
  int waitlistEntries = 0;
  int staff = 0;
  Uuid practiceId;
};

// The demo staff PINs (printed by 'demo seed'); the store keeps only their Argon2id hashes.
struct DemoStaff {
  const char* displayName;
  const char* pin;
};
inline constexpr DemoStaff kDemoStaff[] = {{"Jordan K. (front desk)", "2468"}, {"Sam R. (manager)", "1357"}};

Result<SeedSummary> seedDemo(store::Store& store, const SeedOptions& options);

// The same practice as row JSON (toRowJson), parents first, for a central database: `sink`
// gets each row with its table name; its first error stops the seed.
using RowSink = std::function<Result<void>(std::string_view table, const Json::Object& row)>;
Result<SeedSummary> demoPracticeRows(const SeedOptions& options, const RowSink& sink);

// Local midnight today in the machine's time zone.
Instant localMidnightToday(Instant now);

}  // namespace anteroom::admin
