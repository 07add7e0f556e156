// UUID text form and the monotonic v7 generator (RFC 9562 §5.7 layout, §6.2 method 1).
#include "anteroom/model/uuid.hpp"

#include <algorithm>
#include <array>

namespace anteroom {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::int64_t kMaxUnixMs = (std::int64_t{1} << 48) - 1;
constexpr std::uint32_t kCounterMax = 0xFFF;

// The value of each hex digit, 0xFF for any other character.
constexpr std::array<std::uint8_t, 256> kHexValue = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c - 'A' + 10);
  return t;
}();

// Where each byte's two digits start in the 8-4-4-4-12 form.
constexpr std::array<std::uint8_t, 16> kDigitsAt = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

}  // namespace

bool Uuid::isNil() const {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string Uuid::toString() const {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0F]);
  }
  return out;
}

// A table lookup a digit and a fixed position a byte: ids are parsed for every row a pull page
// reads (two a row), where the branchy loop was 7% of the hub's CPU for a page.
std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
  Uuid id;
  unsigned bad = 0;
  for (std::size_t byte = 0; byte < 16; ++byte) {
    const std::uint8_t hi = kHexValue[static_cast<unsigned char>(text[kDigitsAt[byte]])];
    const std::uint8_t lo = kHexValue[static_cast<unsigned char>(text[kDigitsAt[byte] + 1u])];
    bad |= static_cast<unsigned>(hi | lo);
    id.bytes[byte] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  if (bad & 0xF0u) return std::nullopt;
  return id;
}

int Uuid::version() const { return bytes[6] >> 4; }

UuidGenerator::UuidGenerator()
    : m_rng([] {
        std::random_device device;
        return std::uint64_t{device()} << 32 | device();
      }()) {}

UuidGenerator::UuidGenerator(std::uint64_t seed) : m_rng(seed) {}

void UuidGenerator::step(std::chrono::system_clock::time_point now, bool randomCounter) {
  using namespace std::chrono;
  const std::int64_t ms =
      std::clamp<std::int64_t>(duration_cast<milliseconds>(now.time_since_epoch()).count(), 0, kMaxUnixMs);
  // A fresh millisecond reseeds the counter with 11 random bits: the clear top bit leaves at
  // least 2048 increments of headroom before it overflows (RFC 9562 §6.2 suggests this).
  const auto reseed = [&] { return randomCounter ? static_cast<std::uint32_t>(m_rng() & 0x7FF) : 0U; };
  if (ms > m_lastMs) {
    m_lastMs = ms;
    m_counter = reseed();
  } else if (m_counter < kCounterMax) {
    ++m_counter;  // same or earlier millisecond: stay on the last one, count up
  } else {
    ++m_lastMs;  // counter exhausted: borrow the next millisecond so order stays strict
    m_counter = reseed();
  }
}

Uuid UuidGenerator::layout(std::uint64_t randB) const {
  Uuid id;
  const auto unixMs = static_cast<std::uint64_t>(m_lastMs);
  for (std::size_t i = 0; i < 6; ++i) id.bytes[i] = static_cast<std::uint8_t>(unixMs >> (40 - 8 * i));
  id.bytes[6] = static_cast<std::uint8_t>(0x70 | (m_counter >> 8));
  id.bytes[7] = static_cast<std::uint8_t>(m_counter & 0xFF);
  for (std::size_t i = 8; i < 16; ++i) id.bytes[i] = static_cast<std::uint8_t>(randB >> (8 * (15 - i)));
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (id.bytes[8] & 0x3F));  // variant 10
  return id;
}

Uuid UuidGenerator::v7(std::chrono::system_clock::time_point now) {
  step(now, true);
  return layout(m_rng());
}

Uuid UuidGenerator::v7Sequential(std::chrono::system_clock::time_point now) {
  if (m_fixedTail == 0) m_fixedTail = m_rng() | 1;  // nonzero: drawn
  step(now, false);
  return layout(m_fixedTail);
}

}  // namespace anteroom

std::size_t std::hash<anteroom::Uuid>::operator()(const anteroom::Uuid& id) const noexcept {
  // FNV-1a over all bytes: v7 ids share their leading timestamp bytes, so every byte must count.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::uint8_t b : id.bytes) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return static_cast<std::size_t>(h);
}
