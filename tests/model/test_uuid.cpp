// UUIDv7: text form, parsing, layout bits, strict monotonicity and seeded determinism.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <unordered_set>
#include <vector>

#include "anteroom/model/uuid.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

const system_clock::time_point kNoon = sys_days{2026y / November / 25} + hours{12};

bool isLowerCanonical(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

std::uint64_t unixMsOf(const Uuid& id) {
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 6; ++i) ms = ms << 8 | id.bytes[i];
  return ms;
}

std::uint64_t unixMsOf(system_clock::time_point t) {
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

TEST_CASE("uuid text form and parsing") {
  const Uuid nil;
  CHECK(nil.isNil());
  CHECK(nil.toString() == "00000000-0000-0000-0000-000000000000");

  const auto parsed = Uuid::parse("0192F3A4-5B6C-7D8E-9FA0-B1C2D3E4F506");
  REQUIRE(parsed);
  CHECK(parsed->toString() == "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f506");
  CHECK(parsed->version() == 7);
  CHECK_FALSE(parsed->isNil());
  CHECK(Uuid::parse(parsed->toString()) == parsed);

  UuidGenerator gen(42);
  for (int i = 0; i < 100; ++i) {
    const Uuid id = gen.v7(kNoon);
    CHECK(isLowerCanonical(id.toString()));
    CHECK(Uuid::parse(id.toString()) == id);
  }
}

TEST_CASE("malformed uuids are refused") {
  for (const char* text : {"", "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f50",     // short
                           "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5066",       // long
                           "0192f3a45b6c7d8e9fa0b1c2d3e4f506",            // no dashes
                           "{0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f506}",      // braces
                           "urn:uuid:0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f506",
                           "0192f3a4-5b6c-7d8e-9fa0_b1c2d3e4f506",        // wrong separator
                           "0192f3a-45b6c-7d8e-9fa0-b1c2d3e4f506",        // dash misplaced
                           "0192f3g4-5b6c-7d8e-9fa0-b1c2d3e4f506",        // not hex
                           " 192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f506",
                           "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f50\xff",    // a byte past ASCII
                           "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f50G"}) {    // last digit
    CAPTURE(text);
    CHECK_FALSE(Uuid::parse(text));
  }
}

TEST_CASE("uuids order by their bytes, first to last") {
  // The comparison reads two big-endian words; it must agree with the bytes' own order.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    Uuid a, b;
    for (auto& x : a.bytes) x = static_cast<std::uint8_t>(rng());
    b = a;
    if (i % 2) b.bytes[static_cast<std::size_t>(rng() % 16)] ^= static_cast<std::uint8_t>(1u + rng() % 255);
    const auto bytes = std::lexicographical_compare_three_way(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    CHECK((a <=> b) == bytes);
    CHECK((a == b) == (bytes == 0));
  }
}

TEST_CASE("v7 layout: timestamp, version and variant bits") {
  UuidGenerator gen(7);
  const Uuid id = gen.v7(kNoon);
  CHECK(unixMsOf(id) == unixMsOf(kNoon));
  CHECK(id.version() == 7);
  CHECK((id.bytes[6] & 0xF0) == 0x70);
  CHECK((id.bytes[8] & 0xC0) == 0x80);
}

TEST_CASE("v7 ids are strictly increasing within one millisecond") {
  UuidGenerator gen(1);
  Uuid previous = gen.v7(kNoon);
  std::unordered_set<Uuid> seen{previous};
  bool ordered = true;
  for (int i = 0; i < 100'000; ++i) {
    const Uuid id = gen.v7(kNoon);
    ordered = ordered && previous < id && id.version() == 7 && (id.bytes[8] & 0xC0) == 0x80;
    previous = id;
    seen.insert(id);
  }
  CHECK(ordered);
  CHECK(seen.size() == 100'001);
}

TEST_CASE("v7 ids stay increasing when the clock goes backwards") {
  UuidGenerator gen;
  Uuid previous = gen.v7(kNoon);
  bool ordered = true;
  for (int i = 0; i < 100'000; ++i) {
    // A clock that jumps back an hour every few thousand calls and wanders otherwise.
    const auto t = kNoon - minutes{(i / 5000) * 60} + milliseconds{i % 7};
    const Uuid id = gen.v7(t);
    ordered = ordered && previous < id;
    previous = id;
  }
  CHECK(ordered);
  // After the clock recovers, ids carry the real time again.
  const Uuid later = gen.v7(kNoon + hours{1});
  CHECK(previous < later);
  CHECK(unixMsOf(later) == unixMsOf(kNoon + hours{1}));
}

TEST_CASE("a seeded generator is deterministic") {
  UuidGenerator a(2026), b(2026), c(2027);
  std::vector<Uuid> fromA, fromB, fromC;
  for (int i = 0; i < 50; ++i) {
    const auto t = kNoon + milliseconds{i / 10};
    fromA.push_back(a.v7(t));
    fromB.push_back(b.v7(t));
    fromC.push_back(c.v7(t));
  }
  CHECK(fromA == fromB);
  CHECK(fromA != fromC);
}

TEST_CASE("uuid hash distinguishes ids that share a timestamp") {
  UuidGenerator gen(3);
  std::unordered_set<std::size_t> hashes;
  for (int i = 0; i < 1000; ++i) hashes.insert(std::hash<Uuid>{}(gen.v7(kNoon)));
  CHECK(hashes.size() == 1000);
}

TEST_CASE("sequential v7 ids (outbox mutation ids): increasing, unique, one tail per generator") {
  UuidGenerator gen;
  const Uuid first = gen.v7Sequential(kNoon);
  CHECK(first.version() == 7);
  CHECK((first.bytes[8] & 0xC0) == 0x80);
  CHECK(unixMsOf(first) == unixMsOf(kNoon));
  Uuid previous = first;
  std::unordered_set<Uuid> seen{first};
  bool ordered = true, sameTail = true;
  for (int i = 0; i < 100'000; ++i) {
    // Bursts within a millisecond, steps forward and an hour back now and then.
    const auto t = kNoon - minutes{(i / 20'000) * 60} + milliseconds{i / 3};
    const Uuid id = gen.v7Sequential(t);
    ordered = ordered && previous < id && id.version() == 7;
    sameTail = sameTail && std::equal(id.bytes.begin() + 8, id.bytes.end(), first.bytes.begin() + 8);
    previous = id;
    seen.insert(id);
  }
  CHECK(ordered);
  CHECK(sameTail);
  CHECK(seen.size() == 100'001);
  // The counter restarts at zero each new millisecond: consecutive ids differ in few characters.
  const Uuid next = gen.v7Sequential(kNoon + hours{1});
  CHECK(((next.bytes[6] & 0x0F) << 8 | next.bytes[7]) == 0);
  // Another generator (the kiosk's second connection, or a restart) has another tail, so the
  // same millisecond and counter still make a different id.
  UuidGenerator other;
  const Uuid theirs = other.v7Sequential(kNoon + hours{2});
  const Uuid mine = gen.v7Sequential(kNoon + hours{2});
  CHECK(theirs != mine);
  CHECK(std::equal(theirs.bytes.begin(), theirs.bytes.begin() + 8, mine.bytes.begin()));
}
