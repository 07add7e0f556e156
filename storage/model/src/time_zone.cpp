// Practice time zones through date/tz (the system's tzdata; USE_OS_TZDB).
#include "anteroom/model/time_zone.hpp"

#include <date/tz.h>

#include <exception>

namespace anteroom {

using namespace std::chrono;

namespace {

date::sys_days toDateSys(Date d) { return date::sys_days(date::days(sys_days(d).time_since_epoch().count())); }

}  // namespace

Result<PracticeZone> PracticeZone::named(std::string_view name) {
  try {
    if (name.empty()) {
      const date::time_zone* zone = date::current_zone();
      return PracticeZone(zone, std::string(zone->name()));
    }
    const date::time_zone* zone = date::locate_zone(name);
    return PracticeZone(zone, std::string(name));
  } catch (const std::exception&) {
    if (name.empty()) return utc();
    return fail(ErrorDomain::Validation, "validation.time_zone",
                "The practice's time zone is not a known zone name (for example America/Chicago).");
  }
}

PracticeZone PracticeZone::utc() { return PracticeZone(date::locate_zone("UTC"), "UTC"); }

minutes PracticeZone::offsetAt(Instant at) const {
  const auto info = m_zone->get_info(date::sys_time<microseconds>(at.time_since_epoch()));
  return duration_cast<minutes>(info.offset);
}

LocalParts PracticeZone::partsOf(Instant at) const {
  const Instant local = at + offsetAt(at);
  const auto day = floor<days>(local);
  const auto time = local - day;
  LocalParts out;
  out.date = Date(day);
  out.weekday = weekday(day).c_encoding();
  out.hour = static_cast<int>(duration_cast<hours>(time).count());
  out.minute = static_cast<int>(duration_cast<minutes>(time).count() % 60);
  return out;
}

Instant PracticeZone::at(Date day, minutes sinceMidnight) const {
  const auto local = date::local_time<microseconds>(toDateSys(day).time_since_epoch() + sinceMidnight);
  const auto info = m_zone->get_info(date::local_seconds(floor<seconds>(local.time_since_epoch())));
  date::sys_time<microseconds> sys;
  switch (info.result) {
    case date::local_info::unique: sys = m_zone->to_sys(local); break;
    case date::local_info::ambiguous: sys = m_zone->to_sys(local, date::choose::earliest); break;
    case date::local_info::nonexistent: sys = m_zone->to_sys(local, date::choose::latest); break;
  }
  return Instant(sys.time_since_epoch());
}

std::pair<Instant, Instant> PracticeZone::dayOf(Instant at) const {
  const Date today = partsOf(at).date;
  const Date tomorrow = Date(sys_days(today) + days{1});
  return {this->at(today, minutes{0}), this->at(tomorrow, minutes{0})};
}

}  // namespace anteroom
