// A practice's wall clock: its local day and local times, from the IANA zone named in its
// settings (Howard Hinnant's date/tz on the system's tzdata), so the kiosk and the hub agree on
// what "today" and "4:00 PM" mean whatever zone the machine itself is set to.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "anteroom/model/error.hpp"
#include "anteroom/model/time.hpp"

namespace date {
class time_zone;
}

namespace anteroom {

struct LocalParts {
  Date date;
  unsigned weekday = 0;  // 0 = Sunday
  int hour = 0;
  int minute = 0;
};

class PracticeZone {
 public:
  // An IANA name ("America/Chicago"); empty means the device's own zone (UTC when it has none).
  // An unknown name is a validation error ("validation.time_zone").
  static Result<PracticeZone> named(std::string_view name);
  static PracticeZone utc();

  [[nodiscard]] const std::string& name() const { return m_name; }
  [[nodiscard]] std::chrono::minutes offsetAt(Instant at) const;
  [[nodiscard]] LocalParts partsOf(Instant at) const;
  // The local day containing `at`: [its midnight, the next midnight) as UTC instants; 23 or 25
  // hours long on the days clocks change.
  [[nodiscard]] std::pair<Instant, Instant> dayOf(Instant at) const;
  // A local wall-clock time on a local date, as a UTC instant (the earlier one when the clock
  // repeats an hour, the moment the clock jumps to when it skips one).
  [[nodiscard]] Instant at(Date day, std::chrono::minutes sinceMidnight) const;

 private:
  PracticeZone(const date::time_zone* zone, std::string name) : m_zone(zone), m_name(std::move(name)) {}
  const date::time_zone* m_zone;
  std::string m_name;
};

}  // namespace anteroom
