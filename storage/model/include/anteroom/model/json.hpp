// A small JSON value for the schema's JSON columns and hub messages:
// canonical dumps (sorted keys, no whitespace) and strict, bounded parsing of untrusted text.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom {

// Bounds for text that arrives from the hub or the store; exceeding them is an error, not a crash.
struct ParseLimits {
  std::size_t maxBytes = std::size_t{1} << 20;
  std::size_t maxDepth = 64;  // nested arrays/objects; a bare scalar is depth 0
};

class Json {
 public:
  using Array = std::vector<Json>;
  // Ordered map so that dump() is canonical: equal values always give equal text.
  using Object = std::map<std::string, Json, std::less<>>;

  // Order matches the variant below.
  enum class Type { Null, Bool, Int, Double, String, Array, Object };

  // Implicit on purpose, so values read like JSON: Json::Object{{"day", "mon"}, {"open", true}}.
  Json() noexcept = default;
  Json(std::nullptr_t) noexcept {}
  // A template so that pointers and numbers never silently become bool.
  template <class B>
    requires std::same_as<B, bool>
  Json(B value) noexcept : m_value(value) {}
  Json(int value) noexcept : m_value(std::int64_t{value}) {}
  Json(std::int64_t value) noexcept : m_value(value) {}
  Json(double value) noexcept : m_value(value) {}
  Json(std::string value) noexcept : m_value(std::in_place_type<std::string>, std::move(value)) {}
  Json(const char* value);  // must not be null
  Json(std::string_view value) : m_value(std::in_place_type<std::string>, value) {}
  Json(Array value) noexcept : m_value(std::in_place_type<Array>, std::move(value)) {}
  Json(Object value) noexcept : m_value(std::in_place_type<Object>, std::move(value)) {}

  [[nodiscard]] Type type() const noexcept { return static_cast<Type>(m_value.index()); }
  [[nodiscard]] bool isNull() const noexcept { return type() == Type::Null; }
  [[nodiscard]] bool isBool() const noexcept { return type() == Type::Bool; }
  [[nodiscard]] bool isInt() const noexcept { return type() == Type::Int; }
  [[nodiscard]] bool isDouble() const noexcept { return type() == Type::Double; }
  [[nodiscard]] bool isNumber() const noexcept { return isInt() || isDouble(); }
  [[nodiscard]] bool isString() const noexcept { return type() == Type::String; }
  [[nodiscard]] bool isArray() const noexcept { return type() == Type::Array; }
  [[nodiscard]] bool isObject() const noexcept { return type() == Type::Object; }

  // Calling an accessor on the wrong type is a bug: it asserts, and aborts in release builds.
  [[nodiscard]] bool asBool() const;
  [[nodiscard]] std::int64_t asInt() const;
  [[nodiscard]] double asDouble() const;  // also accepts Int
  [[nodiscard]] const std::string& asString() const;
  [[nodiscard]] std::string& asString();
  [[nodiscard]] const Array& asArray() const;
  [[nodiscard]] Array& asArray();
  [[nodiscard]] const Object& asObject() const;
  [[nodiscard]] Object& asObject();

  // nullptr when this is not an object or has no such key.
  [[nodiscard]] const Json* find(std::string_view key) const;
  [[nodiscard]] Json* find(std::string_view key);
  // Inserts null for a missing key; a null value first becomes an empty object.
  Json& operator[](std::string_view key);
  // Appends; a null value first becomes an empty array.
  void push(Json value);
  // Elements of an array or object; 0 for scalars.
  [[nodiscard]] std::size_t size() const noexcept;

  // Structural: Int 1 and Double 1.0 differ, as they dump differently.
  bool operator==(const Json& other) const = default;

  // Compact canonical text. Doubles use the shortest round-trip form and always carry a '.' or
  // exponent ("1.0"); NaN and infinities become null. Bytes that are not valid UTF-8 (only
  // possible in values built in code, never in parsed ones) are written as U+FFFD.
  [[nodiscard]] std::string dump() const;
  void dumpTo(std::string& out) const;

  // Strict RFC 8259. Integers that fit std::int64_t stay Int, others become Double; numbers
  // beyond double range are refused, tiny ones round to zero. Duplicate keys, invalid UTF-8 and
  // lone surrogates are refused. Errors: Protocol "json.parse" (message gives the byte offset),
  // "json.too_large", "json.too_deep".
  static Result<Json> parse(std::string_view text, const ParseLimits& limits = {});

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> m_value;
};

}  // namespace anteroom
