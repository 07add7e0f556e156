// The device's data window (DESIGN.md 3) as instants: what a kiosk keeps and what the hub sends
// it. One definition for both sides, so the hub never sends a row the device would purge at
// once, nor lets a kept row leave.
#pragma once

#include <chrono>

#include "anteroom/model/time.hpp"

namespace anteroom {

struct DataWindow {
  Instant from{};               // appointments and slots starting at or after (UTC day, 2 days back)
  Instant to{};                 // ... and before (UTC day, daysAhead + 2 ahead)
  Instant notificationsFrom{};  // notifications created at or after (7 days back)
};

// Day boundaries in UTC with a day's margin either side, so "yesterday" and the last day ahead
// in any practice time zone stay on the device.
inline DataWindow dataWindowAt(Instant now, int daysAhead) {
  using namespace std::chrono;
  const Instant today = floor<days>(now);
  return {today - days{2}, today + days{daysAhead + 2}, now - days{7}};
}

}  // namespace anteroom
