// Record identifiers: RFC 9562 UUIDs, generated as time-ordered v7 so ids minted offline
// on different kiosks never collide and sort roughly by creation time.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace anteroom {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  [[nodiscard]] bool isNil() const;
  // Lowercase canonical 8-4-4-4-12 form, as stored.
  [[nodiscard]] std::string toString() const;
  // Canonical 8-4-4-4-12 form only (either case); no braces, no "urn:uuid:".
  static std::optional<Uuid> parse(std::string_view text);
  [[nodiscard]] int version() const;

  // Byte order, as two big-endian words: the defaulted comparison called memcmp for 16 bytes,
  // a tenth of a pull page's hub CPU in its maps and sorts of ids.
  [[nodiscard]] std::strong_ordering operator<=>(const Uuid& other) const noexcept {
    if (const auto c = word(0) <=> other.word(0); c != 0) return c;
    return word(8) <=> other.word(8);
  }
  constexpr bool operator==(const Uuid&) const = default;

 private:
  [[nodiscard]] std::uint64_t word(std::size_t at) const noexcept {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + at, sizeof w);
    if constexpr (std::endian::native == std::endian::little) w = std::byteswap(w);
    return w;
  }
};

// Not thread-safe: give each thread its own generator (or guard one with a mutex).
class UuidGenerator {
 public:
  UuidGenerator();  // seeded from std::random_device
  // Deterministic sequence, for demo data and tests; never for production ids.
  explicit UuidGenerator(std::uint64_t seed);

  // Strictly increasing across calls on one generator, even if the clock goes backwards.
  Uuid v7(std::chrono::system_clock::time_point now);
  // For ids that need only be unique among one writer's own: a device's outbox mutation ids,
  // which the hub keys by device. The v7 layout, but the counter restarts at 0 each millisecond
  // and the 62 bits after it are drawn once per generator, so consecutive ids differ in a few
  // characters and a push of a hundred compresses to little (wire bytes, issue 10). Within one
  // generator the (millisecond, counter) pair never repeats; two generators (two connections,
  // or a restart with the clock set back) differ in their fixed bits. Never for record ids:
  // those must not collide across kiosks.
  Uuid v7Sequential(std::chrono::system_clock::time_point now);

 private:
  void step(std::chrono::system_clock::time_point now, bool randomCounter);
  Uuid layout(std::uint64_t randB) const;

  std::mt19937_64 m_rng;
  std::uint64_t m_fixedTail = 0;  // v7Sequential's 62 bits, drawn on first use
  std::int64_t m_lastMs = -1;   // -1: nothing generated yet
  std::uint32_t m_counter = 0;  // 12-bit rand_a counter (RFC 9562 §6.2, method 1)
};

}  // namespace anteroom

template <>
struct std::hash<anteroom::Uuid> {
  std::size_t operator()(const anteroom::Uuid& id) const noexcept;
};
