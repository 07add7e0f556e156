// Hybrid logical clock: physical milliseconds plus a counter for events within one millisecond
// or while the physical clock lags behind a timestamp already seen.
#include "anteroom/model/hlc.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <limits>

namespace anteroom {
namespace {

constexpr std::size_t kWallDigits = 16;
constexpr std::size_t kCounterDigits = 10;  // uint32 max is 4294967295
constexpr std::int64_t kMaxEncodableMs = 9'999'999'999'999'999;

template <class T>
bool parseFixed(std::string_view text, T& out) {
  if (!std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; })) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

}  // namespace

HybridLogicalClock::HybridLogicalClock(std::string nodeId, std::int64_t maxForwardSkewMs)
    : m_nodeId(std::move(nodeId)), m_maxForwardSkewMs(std::max<std::int64_t>(maxForwardSkewMs, 0)) {}

// Sets the clock to (wallMs, counter); a counter past uint32 rolls into the next millisecond.
HlcTimestamp HybridLogicalClock::advance(std::int64_t wallMs, std::uint64_t counter) {
  if (counter > std::numeric_limits<std::uint32_t>::max()) {
    ++wallMs;
    counter = 0;
  }
  m_last = {wallMs, static_cast<std::uint32_t>(counter)};
  return m_last;
}

HlcTimestamp HybridLogicalClock::now(std::int64_t physicalMs) {
  if (physicalMs > m_last.wallMs) return advance(physicalMs, 0);
  return advance(m_last.wallMs, std::uint64_t{m_last.counter} + 1);
}

HlcTimestamp HybridLogicalClock::observe(const HlcTimestamp& remote, std::int64_t physicalMs) {
  HlcTimestamp adopted = remote;
  // Unsigned difference: a hostile remote (INT64_MAX) must not overflow the comparison.
  if (remote.wallMs > physicalMs &&
      static_cast<std::uint64_t>(remote.wallMs) - static_cast<std::uint64_t>(physicalMs) >
          static_cast<std::uint64_t>(m_maxForwardSkewMs)) {
    ++m_skewEvents;
    adopted = {physicalMs, 0};  // as if the message carried our own physical time
  }
  const std::int64_t wall = std::max({m_last.wallMs, adopted.wallMs, physicalMs});
  std::uint64_t counter = 0;
  if (wall == m_last.wallMs && wall == adopted.wallMs) {
    counter = std::uint64_t{std::max(m_last.counter, adopted.counter)} + 1;
  } else if (wall == m_last.wallMs) {
    counter = std::uint64_t{m_last.counter} + 1;
  } else if (wall == adopted.wallMs) {
    counter = std::uint64_t{adopted.counter} + 1;
  }
  return advance(wall, counter);
}

void HybridLogicalClock::restore(const HlcTimestamp& last) { m_last = std::max(m_last, last); }

std::string HybridLogicalClock::encode(const HlcTimestamp& timestamp) const {
  assert(timestamp.wallMs >= 0 && timestamp.wallMs <= kMaxEncodableMs);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016lld-%010u-", static_cast<long long>(timestamp.wallMs),
                static_cast<unsigned>(timestamp.counter));
  return buf + m_nodeId;
}

std::optional<std::pair<HlcTimestamp, std::string>> HybridLogicalClock::decode(std::string_view text) {
  constexpr std::size_t kNodeStart = kWallDigits + 1 + kCounterDigits + 1;
  if (text.size() <= kNodeStart || text[kWallDigits] != '-' || text[kNodeStart - 1] != '-')
    return std::nullopt;
  HlcTimestamp timestamp;
  if (!parseFixed(text.substr(0, kWallDigits), timestamp.wallMs) ||
      !parseFixed(text.substr(kWallDigits + 1, kCounterDigits), timestamp.counter))
    return std::nullopt;
  return std::pair{timestamp, std::string(text.substr(kNodeStart))};
}

}  // namespace anteroom
