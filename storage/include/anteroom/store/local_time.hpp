// The device's wall clock: its UTC offset and the start of its local day. Kiosks are deployed
// in the practice's zone; a practice time zone by name (settings.timeZone) is not applied yet.
#pragma once

#include <chrono>

#include "anteroom/model/time.hpp"

namespace anteroom::store {

// The device's offset from UTC at an instant (daylight saving included).
std::chrono::minutes deviceUtcOffset(Instant at);
// Local midnight of the day containing `at`, as a UTC instant.
Instant localMidnight(Instant at);

}  // namespace anteroom::store
