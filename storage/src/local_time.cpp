// The device's local day, from the C library's view of the system time zone.
#include "anteroom/store/local_time.hpp"

#include <ctime>

namespace anteroom::store {

using namespace std::chrono;

namespace {

std::tm localParts(Instant at) {
  const std::time_t t = system_clock::to_time_t(time_point_cast<system_clock::duration>(at));
  std::tm local{};
  localtime_r(&t, &local);
  return local;
}

}  // namespace

minutes deviceUtcOffset(Instant at) { return duration_cast<minutes>(seconds{localParts(at).tm_gmtoff}); }

Instant localMidnight(Instant at) {
  std::tm local = localParts(at);
  local.tm_hour = 0;
  local.tm_min = 0;
  local.tm_sec = 0;
  local.tm_isdst = -1;  // let mktime decide, so a day that starts in DST is right
  return time_point_cast<microseconds>(system_clock::from_time_t(std::mktime(&local)));
}

}  // namespace anteroom::store
