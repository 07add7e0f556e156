// Hybrid logical clock (Kulkarni et al. 2014) for audit order and tie-breaks between kiosks.
// Never used to decide conflicts: a skewed clock must not be able to win one.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace anteroom {

struct HlcTimestamp {
  std::int64_t wallMs = 0;  // unix milliseconds
  std::uint32_t counter = 0;

  auto operator<=>(const HlcTimestamp&) const = default;
};

// Not thread-safe: one clock per node, used by one thread (or under the caller's lock).
class HybridLogicalClock {
 public:
  explicit HybridLogicalClock(std::string nodeId, std::int64_t maxForwardSkewMs = 5 * 60 * 1000);

  // A local or send event. Strictly greater than every timestamp returned or observed before.
  HlcTimestamp now(std::int64_t physicalMs);
  // A receive event. Never fails: a remote more than maxForwardSkewMs ahead of physicalMs is
  // not adopted (counted in skewEvents()), so one bad clock cannot drag every node forward.
  HlcTimestamp observe(const HlcTimestamp& remote, std::int64_t physicalMs);
  // After a restart, from persisted state; never moves the clock backwards.
  void restore(const HlcTimestamp& last);

  [[nodiscard]] HlcTimestamp last() const { return m_last; }
  [[nodiscard]] std::uint64_t skewEvents() const { return m_skewEvents; }
  [[nodiscard]] const std::string& nodeId() const { return m_nodeId; }

  // "0001764061200000-0000000000-<node>": fixed width (16-digit ms, 10-digit counter), so for
  // the same node text order is timestamp order. Expects 0 <= wallMs < 10^16.
  [[nodiscard]] std::string encode(const HlcTimestamp& timestamp) const;
  static std::optional<std::pair<HlcTimestamp, std::string>> decode(std::string_view text);

 private:
  HlcTimestamp advance(std::int64_t wallMs, std::uint64_t counter);

  std::string m_nodeId;
  std::int64_t m_maxForwardSkewMs;
  HlcTimestamp m_last;
  std::uint64_t m_skewEvents = 0;
};

}  // namespace anteroom
