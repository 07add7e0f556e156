// Instants and dates as stored: UTC instants (microseconds), ISO-8601 text locally.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace anteroom {

using Instant = std::chrono::sys_time<std::chrono::microseconds>;
using Date = std::chrono::year_month_day;

// "2026-11-25T09:00:00.000000Z": fixed width, so text order is time order.
std::string formatInstant(Instant t);
// Accepts the format above, also without fraction, with 'T' or ' ', 'Z' or "+00:00".
std::optional<Instant> parseInstant(std::string_view text);

// "1984-02-29"
std::string formatDate(Date d);
std::optional<Date> parseIsoDate(std::string_view text);

Instant nowUtc();
Date toDate(Instant t);

}  // namespace anteroom
