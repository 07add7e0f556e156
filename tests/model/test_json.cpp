// Json: canonical dumps, strict parsing, limits, and a seeded mutation fuzz of the parser.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include "anteroom/model/json.hpp"

using namespace anteroom;
using namespace std::string_view_literals;

namespace {

std::string errorCode(std::string_view text, const ParseLimits& limits = {}) {
  const auto parsed = Json::parse(text, limits);
  if (parsed) return "ok";
  CHECK(toString(parsed.error().domain) == "protocol");
  return parsed.error().code;
}

std::string roundTrip(std::string_view text) {
  const auto parsed = Json::parse(text);
  REQUIRE_MESSAGE(parsed, std::string(text));
  return parsed->dump();
}

}  // namespace

TEST_CASE("scalars dump canonically") {
  CHECK(Json().dump() == "null");
  CHECK(Json(nullptr).dump() == "null");
  CHECK(Json(true).dump() == "true");
  CHECK(Json(false).dump() == "false");
  CHECK(Json(0).dump() == "0");
  CHECK(Json(-17).dump() == "-17");
  CHECK(Json(std::numeric_limits<std::int64_t>::max()).dump() == "9223372036854775807");
  CHECK(Json(std::numeric_limits<std::int64_t>::min()).dump() == "-9223372036854775808");
  CHECK(Json(1.0).dump() == "1.0");
  CHECK(Json(-0.0).dump() == "-0.0");
  CHECK(Json(0.1).dump() == "0.1");
  CHECK(Json(1e300).dump() == "1e+300");
  CHECK(Json(1e20).dump() == "1e+20");
  CHECK(Json(std::nan("")).dump() == "null");
  CHECK(Json(std::numeric_limits<double>::infinity()).dump() == "null");
  CHECK(Json(-std::numeric_limits<double>::infinity()).dump() == "null");
  CHECK(Json("hi").dump() == "\"hi\"");
  CHECK(Json(std::string_view("sv")).dump() == "\"sv\"");
  CHECK(Json(std::string("s")).dump() == "\"s\"");
}

TEST_CASE("constructors pick the intended type") {
  CHECK(Json(true).isBool());
  CHECK(Json(1).isInt());
  CHECK(Json(std::int64_t{1}).isInt());
  CHECK(Json(1.5).isDouble());
  CHECK(Json("x").isString());  // not bool, despite the pointer
  CHECK(Json(Json::Array{}).isArray());
  CHECK(Json(Json::Object{}).isObject());
  CHECK(Json().type() == Json::Type::Null);
  CHECK(Json(2).isNumber());
  CHECK(Json(2.0).isNumber());
  CHECK_FALSE(Json("2").isNumber());
}

TEST_CASE("objects and arrays: access, mutation, equality") {
  Json j;
  j["b"] = 2;
  j["a"]["nested"] = "x";
  j["list"].push(1);
  j["list"].push(Json::Array{true, nullptr, 2.5});
  CHECK(j.isObject());
  CHECK(j.size() == 3);
  CHECK(j.dump() == R"({"a":{"nested":"x"},"b":2,"list":[1,[true,null,2.5]]})");
  REQUIRE(j.find("b") != nullptr);
  CHECK(j.find("b")->asInt() == 2);
  CHECK(j.find("missing") == nullptr);
  CHECK(Json(3).find("b") == nullptr);
  CHECK(j["list"].size() == 2);
  CHECK(Json(5).size() == 0);
  CHECK(Json(5).asDouble() == 5.0);
  j["a"]["nested"].asString() += "y";
  CHECK(j["a"]["nested"] == Json("xy"));

  const Json same = Json::Object{{"b", 2}, {"list", Json::Array{1, Json::Array{true, nullptr, 2.5}}},
                                 {"a", Json::Object{{"nested", "xy"}}}};
  CHECK(j == same);
  CHECK(Json(1) != Json(1.0));
  CHECK(Json(Json::Array{1, 2}) != Json(Json::Array{2, 1}));
  CHECK(j == *Json::parse(j.dump()));
}

TEST_CASE("dump escapes per RFC 8259 and passes UTF-8 through") {
  CHECK(Json("\"\\/\b\f\n\r\t").dump() == R"("\"\\/\b\f\n\r\t")");
  CHECK(Json("\x01\x1f\x7f"sv).dump() == "\"\\u0001\\u001f\x7f\"");
  CHECK(Json("a\0b"sv).dump() == R"("a\u0000b")");
  CHECK(Json("café 😀 日本").dump() == "\"café 😀 日本\"");
  // Invalid UTF-8 can only come from code, and must not produce invalid JSON.
  CHECK(Json("a\xff" "b\xc3").dump() == "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
  CHECK(Json::parse(Json("\xed\xa0\x80").dump()));
}

TEST_CASE("parse: canonical output, whitespace, nesting") {
  CHECK(roundTrip(" \t\n\r{ \"b\" : 1 , \"a\" : [ true , null , false ] } \n") ==
        R"({"a":[true,null,false],"b":1})");
  CHECK(roundTrip("[]") == "[]");
  CHECK(roundTrip("{}") == "{}");
  CHECK(roundTrip("[[],{},[{}]]") == "[[],{},[{}]]");
  CHECK(roundTrip("\"\"") == "\"\"");
  CHECK(roundTrip("null") == "null");
  CHECK(roundTrip("  7  ") == "7");
}

TEST_CASE("parse: numbers") {
  const auto num = [](std::string_view text) {
    auto parsed = Json::parse(text);
    REQUIRE_MESSAGE(parsed, std::string(text));
    return *parsed;
  };
  CHECK(num("0") == Json(0));
  CHECK(num("-0") == Json(0));
  CHECK(num("9223372036854775807") == Json(std::numeric_limits<std::int64_t>::max()));
  CHECK(num("-9223372036854775808") == Json(std::numeric_limits<std::int64_t>::min()));
  CHECK(num("9223372036854775808").isDouble());
  CHECK(num("9223372036854775808").asDouble() == 9223372036854775808.0);
  CHECK(num("-9223372036854775809").isDouble());
  CHECK(num("1.0") == Json(1.0));
  CHECK(num("1E2") == Json(100.0));
  CHECK(num("1e+2") == Json(100.0));
  CHECK(num("25e-1") == Json(2.5));
  CHECK(num("-0.0").isDouble());
  CHECK(std::signbit(num("-0.0").asDouble()));
  CHECK(num("0.1") == Json(0.1));
  CHECK(num("1.7976931348623157e308") == Json(std::numeric_limits<double>::max()));
  CHECK(num("5e-324") == Json(std::numeric_limits<double>::denorm_min()));
  // Underflow rounds to zero; overflow is refused rather than becoming an infinity.
  CHECK(num("1e-400") == Json(0.0));
  CHECK(std::signbit(num("-1e-400").asDouble()));
  CHECK(num("0.00000000000000000000000000000000000000000000000001e-300") == Json(0.0));
  CHECK(num("0e999999999999999999999") == Json(0.0));
  CHECK(errorCode("1e400") == "json.parse");
  CHECK(errorCode("-1e400") == "json.parse");
  CHECK(errorCode("1.8e308") == "json.parse");
  CHECK(errorCode("100000000000000000000000000000e-10000000000000000000000") == "ok");
  // 400-digit mantissas: the exponent alone does not say whether the value overflows.
  const auto longNumber = [](std::string_view head, char fill, std::string_view tail) {
    std::string text(head);
    text.append(400, fill);
    text.append(tail);
    return text;
  };
  CHECK(errorCode(longNumber("1", '0', "")) == "json.parse");
  CHECK(errorCode(longNumber("1", '0', "e-50")) == "json.parse");
  CHECK(errorCode(longNumber("1", '0', "e-200")) == "ok");
  CHECK(errorCode(longNumber("0.", '0', "1e+200")) == "ok");
  CHECK(errorCode(longNumber("0.", '0', "1")) == "ok");
  CHECK(Json::parse(Json(1e300).dump())->asDouble() == 1e300);
}

TEST_CASE("parse: strings and unicode") {
  const auto str = [](std::string_view text) {
    auto parsed = Json::parse(text);
    REQUIRE_MESSAGE(parsed, std::string(text));
    return parsed->asString();
  };
  CHECK(str(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  CHECK(str(R"("\u0041\u00e9\u00E9")") == "Aéé");
  CHECK(str(R"("\u20ac")") == "€");
  CHECK(str(R"("\ud83d\ude00")") == "😀");
  CHECK(str(R"("\uDBFF\uDFFF")") == "\xF4\x8F\xBF\xBF");
  CHECK(str(R"("\u0000")") == "\0"sv);
  CHECK(str("\"café 😀\"") == "café 😀");
  CHECK(str("\"\x7f\"") == "\x7f");
  CHECK(str("\"\xF4\x8F\xBF\xBF\"") == "\xF4\x8F\xBF\xBF");
}

TEST_CASE("parse: malformed input is refused with json.parse") {
  const std::string_view bad[] = {
      "", " ", "01", "-01", "00", "-", "+1", ".5", "1.", "1.e3", "1e", "1e+", "-e1", "0x10", "1_000",
      "[1,]", "[,1]", "[1,,2]", "[1 2]", "[", "]", "[1", "[1}", "{", "}", "{,}", R"({"a":1,})",
      R"({"a" 1})", R"({"a":})", R"({"a"})", "{a:1}", "{'a':1}", R"({"a":1 "b":2})", "{1:2}",
      R"({"a":1,"a":2})", R"({"a":{"x":1,"x":1}})", "nul", "tru", "fals", "True", "NULL", "truex",
      "NaN", "Infinity", "-Infinity", "nan", "\"abc", "\"\\", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
      "\"\\U0041\"", "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\\uD800x\"",
      "\"\\uDBFF\\uDBFF\"", "\"\\uD800\\", "\"tab\there\"", "\"line\nbreak\"", "\"\x1f\"",
      "// c\n1", "/* c */ 1", "1 // c", "1 2", "[1]]", "{}{}", "\"a\"\"b\"", "\xEF\xBB\xBF" "1",
      "\"\xC0\xAF\"", "\"\xC1\xBF\"", "\"\xE0\x80\xAF\"", "\"\xED\xA0\x80\"", "\"\xF0\x80\x80\x80\"",
      "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\x80\"", "\"\xBF\"", "\"\xE2\x82\"",
      "\"\xE2\x82", "\"\xE2\x28\xA1\"", "\"\xFF\"", "\xC3\xA9", "\0"sv, "1\0"sv, "[\0]"sv,
      "\"a\0\""sv, "\v1", "\f1", "[1,\xA0" "2]", "'a'", "undefined", "{\"a\":1}x", "[1e5.5]",
  };
  for (const std::string_view text : bad) {
    CAPTURE(text);
    CHECK(errorCode(text) == "json.parse");
  }
}

TEST_CASE("parse errors name the byte offset") {
  const auto message = [](std::string_view text) { return Json::parse(text).error().message; };
  CHECK(message(R"({"a" 1})") == "invalid JSON at byte 5: expected ':'");
  CHECK(message("[1,]") == "invalid JSON at byte 3: expected a value");
  CHECK(message("01") == "invalid JSON at byte 1: leading zero in number");
  CHECK(message("[1] x") == "invalid JSON at byte 4: unexpected text after the value");
  CHECK(message(R"({"k":1,"k":2})") == "invalid JSON at byte 7: duplicate key");
  CHECK(message(R"("ab\q")") == "invalid JSON at byte 3: invalid escape");
  CHECK(message(R"(["\ud800"])") == "invalid JSON at byte 2: unpaired surrogate");
  CHECK(message("\"a\xff\"") == "invalid JSON at byte 2: invalid UTF-8");
  CHECK(message("1e400") == "invalid JSON at byte 0: number out of range");
  const auto e = Json::parse("{").error();
  CHECK(toString(e.domain) == "protocol");
  CHECK(e.code == "json.parse");
  CHECK_FALSE(e.isTransient());
}

TEST_CASE("parse limits: depth and size") {
  const auto nested = [](std::size_t depth, char open, char close) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += open == '{' ? std::string(R"({"k":)") : std::string(1, open);
    text += "1";
    text += std::string(depth, close);
    return text;
  };
  CHECK(errorCode(nested(64, '[', ']')) == "ok");
  CHECK(errorCode(nested(65, '[', ']')) == "json.too_deep");
  CHECK(errorCode(nested(64, '{', '}')) == "ok");
  CHECK(errorCode(nested(65, '{', '}')) == "json.too_deep");
  CHECK(errorCode(nested(3, '[', ']'), {.maxDepth = 3}) == "ok");
  CHECK(errorCode(nested(4, '[', ']'), {.maxDepth = 3}) == "json.too_deep");
  CHECK(errorCode("1", {.maxDepth = 0}) == "ok");
  CHECK(errorCode("[]", {.maxDepth = 0}) == "json.too_deep");
  // Far deeper than any stack could recurse: refused early, no crash.
  CHECK(errorCode(std::string(1'000'000, '['), {.maxBytes = 2'000'000}) == "json.too_deep");
  CHECK(Json::parse(nested(65, '[', ']')).error().message.starts_with("JSON nested deeper than 64 levels"));

  std::string big(102, 'x');
  big.front() = big.back() = '"';
  CHECK(errorCode(big, {.maxBytes = big.size()}) == "ok");
  CHECK(errorCode(big, {.maxBytes = big.size() - 1}) == "json.too_large");
  CHECK(errorCode(std::string((1 << 20) + 1, ' ')) == "json.too_large");
}

namespace {

// Random valid values; strings use whole code points so equality survives a round trip.
Json randomValue(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 5 : 7);
  switch (kind(rng)) {
    case 0: return Json();
    case 1: return Json(rng() % 2 == 0);
    case 2: return Json(static_cast<std::int64_t>((std::uint64_t{rng()} << 32) | rng()));
    case 3: {
      double d = 0;
      do {
        const std::uint64_t bits = (std::uint64_t{rng()} << 32) | rng();
        std::memcpy(&d, &bits, sizeof d);
      } while (!std::isfinite(d));
      return Json(d);
    }
    case 4: return Json(static_cast<double>(static_cast<int>(rng() % 2001) - 1000) / 8.0);
    case 5: {
      static constexpr std::string_view pieces[] = {"a", "Z", " ", "\"", "\\", "/", "\n", "\x01", "\x7f",
                                                    "é", "€", "😀", "\xF4\x8F\xBF\xBF", "\0"sv};
      std::string s;
      for (auto n = rng() % 6; n > 0; --n) s += pieces[rng() % std::size(pieces)];
      return Json(std::move(s));
    }
    case 6: {
      Json::Array items;
      for (auto n = rng() % 4; n > 0; --n) items.push_back(randomValue(rng, depth + 1));
      return Json(std::move(items));
    }
    default: {
      Json::Object members;
      for (auto n = rng() % 4; n > 0; --n) members.emplace(std::string(1, static_cast<char>('a' + rng() % 5)), randomValue(rng, depth + 1));
      return Json(std::move(members));
    }
  }
}

}  // namespace

TEST_CASE("random values survive dump and parse exactly") {
  std::mt19937 rng(20260125);
  for (int i = 0; i < 2000; ++i) {
    const Json value = randomValue(rng, 0);
    const std::string text = value.dump();
    const auto parsed = Json::parse(text);
    REQUIRE_MESSAGE(parsed, text);
    CHECK(*parsed == value);
    CHECK(parsed->dump() == text);
  }
}

TEST_CASE("fuzz: mutated input never crashes, and accepted input round-trips") {
  std::mt19937 rng(424242);
  std::vector<std::string> seeds = {
      R"({"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\u00e9\n\ud83d\ude00"},"e":""})",
      R"([{"day":"mon","start":"09:00","end":"17:00"},[[[]]],{},-0.0,1e-7,123456789012345678901])",
      "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "9223372036854775807", "[0.1,1E+2,{\"\":[null]}]"};
  for (int i = 0; i < 50; ++i) seeds.push_back(randomValue(rng, 0).dump());
  static constexpr char alphabet[] = "{}[]:,\"\\u0123456789.eE+-tfnrl aDdx\x80\xC3\xED\xF0\xFF\x01\t\n";

  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    for (auto edits = 1 + rng() % 4; edits > 0; --edits) {
      const std::size_t pos = text.empty() ? 0 : rng() % (text.size() + 1);
      const char c = alphabet[rng() % (sizeof alphabet - 1)];
      switch (rng() % 5) {
        case 0: if (pos < text.size()) text[pos] = c; break;
        case 1: text.insert(pos, 1, c); break;
        case 2: if (pos < text.size()) text.erase(pos, 1 + rng() % 3); break;
        case 3: text.resize(pos); break;
        default: if (pos < text.size()) text.insert(pos, text.substr(pos, rng() % 8)); break;
      }
    }
    const auto parsed = Json::parse(text, {.maxBytes = 4096, .maxDepth = 8});
    if (!parsed) {
      const std::string& code = parsed.error().code;
      CHECK((code == "json.parse" || code == "json.too_deep" || code == "json.too_large"));
      continue;
    }
    ++accepted;
    const std::string once = parsed->dump();
    const auto again = Json::parse(once);
    REQUIRE_MESSAGE(again, once);
    CHECK(again->dump() == once);
    CHECK(*again == *parsed);
  }
  CHECK(accepted > 500);  // the mutations must still exercise the success path
}
