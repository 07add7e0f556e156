// JSON values: canonical dumping and a strict, bounded recursive-descent parser.
#include "anteroom/model/json.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <system_error>

namespace anteroom {
namespace {

[[noreturn]] void wrongType() {
  assert(false && "anteroom::Json accessor used on a value of another type");
  std::abort();  // a bug either way; release builds must not read the wrong variant member
}

template <class T, class Variant>
auto& get(Variant& value) {
  auto* p = std::get_if<T>(&value);
  if (p == nullptr) wrongType();
  return *p;
}

// Length of the well-formed UTF-8 sequence at text[pos], or 0 if it is overlong, truncated,
// an encoded surrogate, or beyond U+10FFFF (RFC 3629).
std::size_t utf8Length(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // > U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - pos < len || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return len;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  const auto put = [&](std::uint32_t b) { out += static_cast<char>(static_cast<unsigned char>(b)); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

// Stands for itself inside a JSON string: not a quote, backslash, control character or UTF-8 byte.
bool isPlainAscii(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void dumpString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    // A run of characters that stand for themselves is appended at once.
    const std::size_t run = i;
    while (i < s.size() && isPlainAscii(static_cast<unsigned char>(s[i]))) ++i;
    out.append(s.substr(run, i - run));
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8Length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD keeps the output valid JSON
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void dumpDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, d).ptr;
  const std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out += text;
  // Keep doubles distinguishable from integers, so a round trip preserves the type.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : m_text(text), m_limits(limits) {}

  Result<Json> document() {
    auto value = parseValue(0);
    if (!value) return value;
    skipSpace();
    if (!atEnd()) return syntax("unexpected text after the value");
    return value;
  }

 private:
  std::unexpected<Error> syntaxAt(std::size_t pos, std::string_view what) const {
    return fail(ErrorDomain::Protocol, "json.parse",
                "invalid JSON at byte " + std::to_string(pos) + ": " + std::string(what));
  }
  std::unexpected<Error> syntax(std::string_view what) const { return syntaxAt(m_pos, what); }

  bool atEnd() const { return m_pos >= m_text.size(); }
  char peek() const { return m_text[m_pos]; }
  bool consume(char c) {
    if (atEnd() || peek() != c) return false;
    ++m_pos;
    return true;
  }
  void skipSpace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++m_pos;
  }
  void skipDigits() {
    while (!atEnd() && isDigit(peek())) ++m_pos;
  }

  Result<Json> parseValue(std::size_t depth) {
    skipSpace();
    if (atEnd()) return syntax("expected a value");
    switch (peek()) {
      case '{': return parseObject(depth + 1);
      case '[': return parseArray(depth + 1);
      case '"': {
        auto s = parseString();
        if (!s) return std::unexpected(std::move(s.error()));
        return Json(std::move(*s));
      }
      case 't': return parseLiteral("true", Json(true));
      case 'f': return parseLiteral("false", Json(false));
      case 'n': return parseLiteral("null", Json());
      default: return parseNumber();
    }
  }

  Result<Json> parseLiteral(std::string_view word, Json value) {
    if (!m_text.substr(m_pos).starts_with(word)) return syntax("expected a value");
    m_pos += word.size();
    return value;
  }

  std::unexpected<Error> tooDeep() const {
    return fail(ErrorDomain::Protocol, "json.too_deep",
                "JSON nested deeper than " + std::to_string(m_limits.maxDepth) + " levels at byte " +
                    std::to_string(m_pos));
  }

  // Recursion is bounded by maxDepth, checked before descending.
  Result<Json> parseArray(std::size_t depth) {
    if (depth > m_limits.maxDepth) return tooDeep();
    ++m_pos;
    Json::Array items;
    skipSpace();
    if (consume(']')) return Json(std::move(items));
    while (true) {
      auto item = parseValue(depth);
      if (!item) return item;
      items.push_back(std::move(*item));
      skipSpace();
      if (consume(',')) continue;
      if (consume(']')) return Json(std::move(items));
      return syntax("expected ',' or ']'");
    }
  }

  Result<Json> parseObject(std::size_t depth) {
    if (depth > m_limits.maxDepth) return tooDeep();
    ++m_pos;
    Json::Object members;
    skipSpace();
    if (consume('}')) return Json(std::move(members));
    while (true) {
      skipSpace();
      if (atEnd() || peek() != '"') return syntax("expected a string key");
      const std::size_t keyAt = m_pos;
      auto key = parseString();
      if (!key) return std::unexpected(std::move(key.error()));
      skipSpace();
      if (!consume(':')) return syntax("expected ':'");
      auto value = parseValue(depth);
      if (!value) return value;
      // Duplicates are ambiguous (parsers disagree on which wins), so refuse them. Keys in
      // order (every canonical dump) go in at the end without a search.
      if (members.empty() || members.rbegin()->first < *key) {
        members.emplace_hint(members.end(), std::move(*key), std::move(*value));
      } else if (!members.try_emplace(std::move(*key), std::move(*value)).second) {
        return syntaxAt(keyAt, "duplicate key");
      }
      skipSpace();
      if (consume(',')) continue;
      if (consume('}')) return Json(std::move(members));
      return syntax("expected ',' or '}'");
    }
  }

  Result<std::string> parseString() {
    ++m_pos;
    std::string out;
    while (true) {
      // A run of plain ASCII is appended at once.
      const std::size_t run = m_pos;
      while (!atEnd() && isPlainAscii(static_cast<unsigned char>(peek()))) ++m_pos;
      out.append(m_text.substr(run, m_pos - run));
      if (atEnd()) return syntax("unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (c == '\\') {
        if (auto escaped = parseEscape(out); !escaped) return std::unexpected(std::move(escaped.error()));
        continue;
      }
      if (c < 0x20) return syntax("control character in string");
      const std::size_t n = utf8Length(m_text, m_pos);
      if (n == 0) return syntax("invalid UTF-8");
      out.append(m_text.substr(m_pos, n));
      m_pos += n;
    }
  }

  Result<void> parseEscape(std::string& out) {
    const std::size_t start = m_pos;
    ++m_pos;
    if (atEnd()) return syntax("unterminated string");
    const char e = peek();
    ++m_pos;
    switch (e) {
      case '"': out += '"'; return {};
      case '\\': out += '\\'; return {};
      case '/': out += '/'; return {};
      case 'b': out += '\b'; return {};
      case 'f': out += '\f'; return {};
      case 'n': out += '\n'; return {};
      case 'r': out += '\r'; return {};
      case 't': out += '\t'; return {};
      case 'u': break;
      default: return syntaxAt(start, "invalid escape");
    }
    auto unit = parseHex4();
    if (!unit) return std::unexpected(std::move(unit.error()));
    std::uint32_t cp = *unit;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return syntaxAt(start, "unpaired surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!m_text.substr(m_pos).starts_with("\\u")) return syntaxAt(start, "unpaired surrogate");
      m_pos += 2;
      auto low = parseHex4();
      if (!low) return std::unexpected(std::move(low.error()));
      if (*low < 0xDC00 || *low > 0xDFFF) return syntaxAt(start, "unpaired surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
    }
    appendUtf8(out, cp);
    return {};
  }

  Result<std::uint32_t> parseHex4() {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i, ++m_pos) {
      if (atEnd()) return syntax("expected four hex digits");
      const char c = peek();
      std::uint32_t digit = 0;
      if (isDigit(c)) digit = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
      else return syntax("expected four hex digits");
      value = value * 16 + digit;
    }
    return value;
  }

  Result<Json> parseNumber() {
    const std::size_t start = m_pos;
    const bool negative = consume('-');
    if (atEnd() || !isDigit(peek())) return syntax(negative ? "expected a digit" : "expected a value");
    const std::size_t intStart = m_pos;
    if (consume('0')) {
      if (!atEnd() && isDigit(peek())) return syntax("leading zero in number");
    } else {
      skipDigits();
    }
    const std::size_t intEnd = m_pos;
    std::size_t fracEnd = m_pos;
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (atEnd() || !isDigit(peek())) return syntax("expected a digit");
      skipDigits();
      fracEnd = m_pos;
    }
    std::int64_t exponent = 0;
    if (consume('e') || consume('E')) {
      integral = false;
      const bool negativeExponent = consume('-');
      if (!negativeExponent) consume('+');
      if (atEnd() || !isDigit(peek())) return syntax("expected a digit");
      for (; !atEnd() && isDigit(peek()); ++m_pos) {
        exponent = std::min<std::int64_t>(exponent * 10 + (peek() - '0'), 1'000'000'000);
      }
      if (negativeExponent) exponent = -exponent;
    }
    const char* first = m_text.data() + start;
    const char* last = m_text.data() + m_pos;
    if (integral) {
      std::int64_t i = 0;
      if (std::from_chars(first, last, i).ec == std::errc{}) return Json(i);
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // from_chars leaves d unset on overflow and underflow alike; the position of the first
      // significant digit tells them apart. Underflow rounds to zero, as any parser would.
      const std::string_view digits = m_text.substr(intStart, fracEnd - intStart);
      const std::size_t firstSignificant = digits.find_first_of("123456789");
      if (firstSignificant == std::string_view::npos) return Json(negative ? -0.0 : 0.0);
      const std::size_t intDigits = intEnd - intStart;
      const auto offset = static_cast<std::int64_t>(intDigits) - static_cast<std::int64_t>(firstSignificant) -
                          (firstSignificant > intDigits ? 0 : 1);
      if (offset + exponent > 0) return syntaxAt(start, "number out of range");
      return Json(negative ? -0.0 : 0.0);
    }
    if (ec != std::errc{} || ptr != last) return syntaxAt(start, "invalid number");
    return Json(d);
  }

  std::string_view m_text;
  ParseLimits m_limits;
  std::size_t m_pos = 0;
};

}  // namespace

Json::Json(const char* value) : m_value(std::in_place_type<std::string>, value != nullptr ? value : "") {
  assert(value != nullptr);
}

bool Json::asBool() const { return get<bool>(m_value); }
std::int64_t Json::asInt() const { return get<std::int64_t>(m_value); }
double Json::asDouble() const {
  if (isInt()) return static_cast<double>(get<std::int64_t>(m_value));
  return get<double>(m_value);
}
const std::string& Json::asString() const { return get<std::string>(m_value); }
std::string& Json::asString() { return get<std::string>(m_value); }
const Json::Array& Json::asArray() const { return get<Array>(m_value); }
Json::Array& Json::asArray() { return get<Array>(m_value); }
const Json::Object& Json::asObject() const { return get<Object>(m_value); }
Json::Object& Json::asObject() { return get<Object>(m_value); }

const Json* Json::find(std::string_view key) const {
  const auto* object = std::get_if<Object>(&m_value);
  if (object == nullptr) return nullptr;
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &it->second;
}

Json* Json::find(std::string_view key) { return const_cast<Json*>(std::as_const(*this).find(key)); }

Json& Json::operator[](std::string_view key) {
  if (isNull()) m_value = Object{};
  auto& object = get<Object>(m_value);
  auto it = object.find(key);
  if (it == object.end()) it = object.emplace(std::string(key), Json()).first;
  return it->second;
}

void Json::push(Json value) {
  if (isNull()) m_value = Array{};
  get<Array>(m_value).push_back(std::move(value));
}

std::size_t Json::size() const noexcept {
  if (const auto* array = std::get_if<Array>(&m_value)) return array->size();
  if (const auto* object = std::get_if<Object>(&m_value)) return object->size();
  return 0;
}

std::string Json::dump() const {
  std::string out;
  dumpTo(out);
  return out;
}

void Json::dumpTo(std::string& out) const {
  switch (type()) {
    case Type::Null: out += "null"; return;
    case Type::Bool: out += asBool() ? "true" : "false"; return;
    case Type::Int: {
      char buf[24];
      const auto end = std::to_chars(buf, buf + sizeof buf, asInt()).ptr;
      out.append(buf, end);
      return;
    }
    case Type::Double: dumpDouble(get<double>(m_value), out); return;
    case Type::String: dumpString(asString(), out); return;
    case Type::Array: {
      out += '[';
      bool first = true;
      for (const Json& item : asArray()) {
        if (!first) out += ',';
        first = false;
        item.dumpTo(out);
      }
      out += ']';
      return;
    }
    case Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : asObject()) {
        if (!first) out += ',';
        first = false;
        dumpString(key, out);
        out += ':';
        value.dumpTo(out);
      }
      out += '}';
      return;
    }
  }
}

Result<Json> Json::parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.maxBytes) {
    return fail(ErrorDomain::Protocol, "json.too_large",
                "JSON text of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                    std::to_string(limits.maxBytes));
  }
  return Parser(text, limits).document();
}

}  // namespace anteroom
