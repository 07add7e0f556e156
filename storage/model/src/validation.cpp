// Patient-facing field validation: UTF-8 aware name rules, email, phone (E.164), dates of
// birth, notes and check-in codes. Messages are kind, actionable and never echo the input.
#include "anteroom/model/validation.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <tuple>

namespace anteroom {
namespace {

using std::chrono::day;
using std::chrono::days;
using std::chrono::month;
using std::chrono::year;

// --- UTF-8 ---------------------------------------------------------------------------------

// Decodes the code point at pos and advances past it; nullopt for malformed, overlong,
// surrogate or out-of-range sequences.
std::optional<char32_t> decodeUtf8(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  // Sequence length from the lead byte; the smallest code point catches overlong encodings.
  const std::size_t length = (lead & 0xE0) == 0xC0   ? 2
                             : (lead & 0xF0) == 0xE0 ? 3
                             : (lead & 0xF8) == 0xF0 ? 4
                                                     : 0;
  if (length == 0) return std::nullopt;
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  char32_t cp = lead & (0x7Fu >> length);
  if (text.size() - pos < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0) != 0x80) return std::nullopt;
    cp = cp << 6 | (next & 0x3Fu);
  }
  if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  pos += length;
  return cp;
}

std::optional<std::u32string> decodeAll(std::string_view text) {
  std::u32string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = decodeUtf8(text, pos);
    if (!cp) return std::nullopt;
    out.push_back(*cp);
  }
  return out;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
    return;
  }
  const int continuation = cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;
  constexpr char32_t kLeadMarker[] = {0, 0xC0, 0xE0, 0xF0};
  out.push_back(static_cast<char>(kLeadMarker[continuation] | cp >> (6 * continuation)));
  for (int shift = 6 * (continuation - 1); shift >= 0; shift -= 6)
    out.push_back(static_cast<char>(0x80 | (cp >> shift & 0x3F)));
}

bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool isAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
bool isAsciiAlpha(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char asciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string_view trimAscii(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool allDigits(std::string_view s) { return !s.empty() && std::ranges::all_of(s, isAsciiDigit); }

int digitsValue(std::string_view s) {
  int value = 0;
  for (const char c : s) value = value * 10 + (c - '0');
  return value;
}

// --- Names ---------------------------------------------------------------------------------

bool isNameLetter(char32_t cp) {
  return isAsciiAlpha(cp) || (cp >= 0x00C0 && cp <= 0x024F && cp != 0x00D7 && cp != 0x00F7) ||
         (cp >= 0x1E00 && cp <= 0x1EFF);
}
bool isCombiningMark(char32_t cp) { return cp >= 0x0300 && cp <= 0x036F; }
bool isNameSpace(char32_t cp) { return (cp < 0x80 && isAsciiSpace(static_cast<char>(cp))) || cp == 0x00A0; }

constexpr char32_t kRightSingleQuote = 0x2019;  // ’, what phone keyboards type for '

// ASCII base letters for accented Latin letters (lower case; capitals are folded first).
struct Fold {
  char32_t first;
  char32_t last;
  std::string_view base;
};
// clang-format off
constexpr Fold kFolds[] = {
    {0x00DF, 0x00DF, "ss"}, {0x00E0, 0x00E5, "a"},  {0x00E6, 0x00E6, "ae"}, {0x00E7, 0x00E7, "c"},
    {0x00E8, 0x00EB, "e"},  {0x00EC, 0x00EF, "i"},  {0x00F0, 0x00F0, "d"},  {0x00F1, 0x00F1, "n"},
    {0x00F2, 0x00F6, "o"},  {0x00F8, 0x00F8, "o"},  {0x00F9, 0x00FC, "u"},  {0x00FD, 0x00FD, "y"},
    {0x00FE, 0x00FE, "th"}, {0x00FF, 0x00FF, "y"},  {0x0100, 0x0105, "a"},  {0x0106, 0x010D, "c"},
    {0x010E, 0x0111, "d"},  {0x0112, 0x011B, "e"},  {0x011C, 0x0123, "g"},  {0x0124, 0x0127, "h"},
    {0x0128, 0x0131, "i"},  {0x0132, 0x0133, "ij"}, {0x0134, 0x0135, "j"},  {0x0136, 0x0138, "k"},
    {0x0139, 0x0142, "l"},  {0x0143, 0x014B, "n"},  {0x014C, 0x0151, "o"},  {0x0152, 0x0153, "oe"},
    {0x0154, 0x0159, "r"},  {0x015A, 0x0161, "s"},  {0x0162, 0x0167, "t"},  {0x0168, 0x0173, "u"},
    {0x0174, 0x0175, "w"},  {0x0176, 0x0178, "y"},  {0x0179, 0x017E, "z"},  {0x017F, 0x017F, "s"},
    // Latin Extended-B and Additional: Vietnamese, Romanian and pinyin letters most often seen.
    {0x01A0, 0x01A1, "o"},  {0x01AF, 0x01B0, "u"},  {0x01CD, 0x01CE, "a"},  {0x01CF, 0x01D0, "i"},
    {0x01D1, 0x01D2, "o"},  {0x01D3, 0x01DC, "u"},  {0x0218, 0x0219, "s"},  {0x021A, 0x021B, "t"},
    {0x1E9E, 0x1E9E, "ss"}, {0x1EA0, 0x1EB7, "a"},  {0x1EB8, 0x1EC7, "e"},  {0x1EC8, 0x1ECB, "i"},
    {0x1ECC, 0x1EE3, "o"},  {0x1EE4, 0x1EF1, "u"},  {0x1EF2, 0x1EF9, "y"},
};
// clang-format on

// --- Phone ---------------------------------------------------------------------------------

std::string prefixed(std::string_view prefix, std::string_view rest) {
  std::string out;
  out.reserve(prefix.size() + rest.size());
  out.append(prefix);
  out.append(rest);
  return out;
}

bool isNanpNumber(std::string_view digits) {  // "1" + area code + exchange + line
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '2' && digits[4] >= '2';
}

// --- Dates ---------------------------------------------------------------------------------

enum class DateParse { Ok, Format, Invalid };

DateParse parseDateText(std::string_view text, Date& out) {
  std::string_view m, d, y;
  if (text.find('/') != std::string_view::npos) {
    const auto first = text.find('/');
    const auto second = text.find('/', first + 1);
    if (second == std::string_view::npos) return DateParse::Format;
    m = text.substr(0, first);
    d = text.substr(first + 1, second - first - 1);
    y = text.substr(second + 1);
    if (m.size() > 2 || d.size() > 2 || y.size() != 4) return DateParse::Format;
  } else if (text.size() == 8) {
    m = text.substr(0, 2);
    d = text.substr(2, 2);
    y = text.substr(4);
  } else if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    y = text.substr(0, 4);
    m = text.substr(5, 2);
    d = text.substr(8, 2);
  } else {
    return DateParse::Format;
  }
  if (!allDigits(m) || !allDigits(d) || !allDigits(y)) return DateParse::Format;
  out = Date{year{digitsValue(y)}, month{static_cast<unsigned>(digitsValue(m))},
             day{static_cast<unsigned>(digitsValue(d))}};
  return out.ok() ? DateParse::Ok : DateParse::Invalid;
}

}  // namespace

Result<std::string> normalizeName(std::string_view input) {
  const auto points = decodeAll(input);
  const auto badCharacters = [] {
    return fail(ErrorDomain::Validation, "validation.name.characters",
                "Names can use letters, spaces, hyphens, apostrophes and periods; please remove other "
                "characters.");
  };
  if (!points) return badCharacters();

  std::string out;
  std::size_t count = 0;
  bool pendingSpace = false, allowed = true, hasLetter = false, afterLetter = false;
  for (char32_t cp : *points) {
    if (isNameSpace(cp)) {
      pendingSpace = count > 0;
      afterLetter = false;
      continue;
    }
    if (pendingSpace) {
      out.push_back(' ');
      ++count;
      pendingSpace = false;
    }
    if (cp == kRightSingleQuote) cp = '\'';
    const bool letter = isNameLetter(cp);
    const bool mark = isCombiningMark(cp) && afterLetter;
    allowed = allowed && (letter || mark || cp == '-' || cp == '\'' || cp == '.');
    hasLetter = hasLetter || letter;
    afterLetter = letter || mark;
    appendUtf8(out, cp);
    ++count;
  }
  if (count == 0) return fail(ErrorDomain::Validation, "validation.name.empty", "Please enter your name.");
  if (count > kMaxNameCodePoints)
    return fail(ErrorDomain::Validation, "validation.name.too_long",
                "Please shorten the name to 100 characters or fewer.");
  if (!allowed || !hasLetter) return badCharacters();
  return out;
}

std::string nameLookupKey(std::string_view normalizedName) {
  std::string key;
  for (std::size_t pos = 0; pos < normalizedName.size();) {
    const auto decoded = decodeUtf8(normalizedName, pos);
    if (!decoded) {
      ++pos;  // not from normalizeName; skip the stray byte rather than fail a search
      continue;
    }
    char32_t cp = *decoded;
    if (isAsciiAlpha(cp)) {
      key.push_back(asciiLower(static_cast<char>(cp)));
      continue;
    }
    if (!isNameLetter(cp)) continue;               // spaces, punctuation, combining accents
    if (cp >= 0x00C0 && cp <= 0x00DE) cp += 0x20;  // Latin-1 capitals sit 0x20 below their small letters
    const auto* fold =
        std::ranges::find_if(kFolds, [cp](const Fold& f) { return cp >= f.first && cp <= f.last; });
    if (fold != std::ranges::end(kFolds)) {
      key += fold->base;
    } else {
      appendUtf8(key, cp);
    }
  }
  return key;
}

std::string noEmailAddressFor(const Uuid& patientId) { return "no-email." + patientId.toString() + "@no-email.invalid"; }

std::string formatPhoneForDisplay(std::string_view phone) {
  std::string_view rest = phone;
  const bool plusOne = rest.starts_with("+1");
  if (plusOne) rest.remove_prefix(2);
  std::string digits;
  for (char c : rest) {
    if (c >= '0' && c <= '9') digits.push_back(c);
    else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') return std::string(phone);
  }
  if (digits.size() > 10 || (plusOne && digits.size() != 10)) return std::string(phone);
  if (digits.size() <= 3) return digits;
  std::string out = "(" + digits.substr(0, 3) + ") " + digits.substr(3, 3);
  if (digits.size() > 6) out += "-" + digits.substr(6);
  return out;
}

bool isNoEmailAddress(std::string_view email) { return email.ends_with("@no-email.invalid"); }

Result<std::string> normalizeEmail(std::string_view input) {
  const std::string_view trimmed = trimAscii(input);
  if (trimmed.empty())
    return fail(ErrorDomain::Validation, "validation.email.empty", "Please enter your email address.");
  if (trimmed.size() > kMaxEmailLength)
    return fail(ErrorDomain::Validation, "validation.email.too_long",
                "That email address is longer than we can accept; please check it or use another one.");
  const auto invalid = [] {
    return fail(ErrorDomain::Validation, "validation.email.invalid",
                "Please check the email address; it should look like name@example.com.");
  };
  std::string email(trimmed);
  std::ranges::transform(email, email.begin(), asciiLower);

  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) return invalid();
  const std::string_view local = std::string_view(email).substr(0, at);
  const std::string_view domain = std::string_view(email).substr(at + 1);

  constexpr std::string_view kAtextSymbols = "!#$%&'*+-/=?^_`{|}~";
  const bool localOk = !local.empty() && local.size() <= 64 && local.front() != '.' && local.back() != '.' &&
                       local.find("..") == std::string_view::npos && std::ranges::all_of(local, [&](char c) {
                         return isAsciiLower(c) || isAsciiDigit(c) || c == '.' ||
                                kAtextSymbols.find(c) != std::string_view::npos;
                       });
  if (!localOk) return invalid();

  const auto labelOk = [](std::string_view label) {
    return !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
           std::ranges::all_of(label, [](char c) { return isAsciiLower(c) || isAsciiDigit(c) || c == '-'; });
  };
  if (domain.find('.') == std::string_view::npos) return invalid();
  std::string_view rest = domain, label;
  for (;;) {
    const auto dot = rest.find('.');
    label = rest.substr(0, dot);
    if (!labelOk(label)) return invalid();
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (label.size() < 2 || !std::ranges::all_of(label, isAsciiLower)) return invalid();  // top-level domain
  return email;
}

Result<std::string> normalizePhone(std::string_view input, std::string_view defaultCountryCode) {
  const std::string_view trimmed = trimAscii(input);
  if (trimmed.empty())
    return fail(ErrorDomain::Validation, "validation.phone.empty", "Please enter your phone number.");
  const auto invalid = [] {
    return fail(ErrorDomain::Validation, "validation.phone.invalid",
                "Please check the phone number, including the area code.");
  };

  std::string digits;
  bool international = false;
  for (std::size_t i = 0; i < trimmed.size(); ++i) {
    const char c = trimmed[i];
    if (isAsciiDigit(c)) {
      digits.push_back(c);
    } else if (c == '+' && i == 0) {
      international = true;
    } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
      return invalid();
    }
  }
  if (!international && digits.starts_with("00")) {
    international = true;
    digits.erase(0, 2);
  }

  if (!international) {
    if (!allDigits(defaultCountryCode) || defaultCountryCode.size() > 3 || defaultCountryCode[0] == '0')
      return invalid();
    if (defaultCountryCode == "1") {
      // Prepending by building a new string: GCC 12 at -O2 warns falsely (-Wrestrict) on insert(0, ...).
      if (digits.size() == 10) digits = prefixed("1", digits);
      if (!isNanpNumber(digits)) return invalid();
    } else {
      if (digits.starts_with('0')) digits.erase(0, 1);  // national trunk prefix
      digits = prefixed(defaultCountryCode, digits);
    }
  }
  if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') return invalid();
  if (digits[0] == '1' && !isNanpNumber(digits)) return invalid();
  return prefixed("+", digits);
}

Result<Date> validateDateOfBirth(Date dob, Date today) {
  if (!dob.ok())
    return fail(ErrorDomain::Validation, "validation.dob.invalid",
                "That date is not on the calendar; please check the month and day.");
  if (dob > today)
    return fail(ErrorDomain::Validation, "validation.dob.future",
                "A date of birth cannot be in the future; please check the year.");
  int age = static_cast<int>(today.year()) - static_cast<int>(dob.year());
  if (std::tuple{today.month(), today.day()} < std::tuple{dob.month(), dob.day()}) --age;
  if (age > kMaxAgeYears)
    return fail(ErrorDomain::Validation, "validation.dob.too_old",
                "That date of birth is more than 120 years ago; please check the year.");
  return dob;
}

Result<Date> parseDateOfBirth(std::string_view text, Date today) {
  Date dob;
  switch (parseDateText(trimAscii(text), dob)) {
    case DateParse::Format:
      return fail(ErrorDomain::Validation, "validation.dob.format",
                  "Please enter the date of birth as month, day and year, for example 03/14/1985.");
    case DateParse::Invalid:
      return fail(ErrorDomain::Validation, "validation.dob.invalid",
                  "That date is not on the calendar; please check the month and day.");
    case DateParse::Ok: break;
  }
  return validateDateOfBirth(dob, today);
}

Result<void> validateTimeRange(Instant start, Instant end) {
  if (end <= start)
    return fail(ErrorDomain::Validation, "validation.time.end_before_start",
                "The end time must be after the start time.");
  if (end - start > days{1})
    return fail(ErrorDomain::Validation, "validation.time.too_long",
                "A time range cannot be longer than 24 hours; please check the dates.");
  return {};
}

Result<std::string> normalizeFreeText(std::string_view input, std::size_t maxCodePoints) {
  std::string out;
  std::size_t count = 0, countAtLastVisible = 0, sizeAtLastVisible = 0;
  for (std::size_t pos = 0; pos < input.size();) {
    auto cp = decodeUtf8(input, pos);
    if (!cp)
      return fail(ErrorDomain::Validation, "validation.text.invalid",
                  "Some characters in the note could not be read; please retype it.");
    if (*cp == '\t') cp = ' ';  // stripping a tab would glue two words together
    const bool control = (*cp < 0x20 && *cp != '\n') || (*cp >= 0x7F && *cp <= 0x9F);
    const bool space = *cp == ' ' || *cp == '\n' || *cp == 0x00A0;
    if (control || (space && count == 0)) continue;  // drop controls and leading whitespace
    appendUtf8(out, *cp);
    ++count;
    if (!space) {
      countAtLastVisible = count;
      sizeAtLastVisible = out.size();
    }
  }
  out.resize(sizeAtLastVisible);  // trailing whitespace
  if (countAtLastVisible > maxCodePoints) {
    char message[96];
    std::snprintf(message, sizeof message, "Please shorten the note to %zu characters or fewer.",
                  maxCodePoints);
    return fail(ErrorDomain::Validation, "validation.text.too_long", message);
  }
  return out;
}

Result<std::string> normalizeCheckInCode(std::string_view input) {
  const auto invalid = [] {
    return fail(ErrorDomain::Validation, "validation.code.invalid",
                "That code does not look right; please check the 6 letters and numbers and try again.");
  };
  std::string code;
  for (const char c : input) {
    if (c == ' ' || c == '-') continue;
    const char upper = asciiUpper(c);
    if (kCheckInCodeAlphabet.find(upper) == std::string_view::npos || code.size() == kCheckInCodeLength)
      return invalid();
    code.push_back(upper);
  }
  if (code.size() != kCheckInCodeLength) return invalid();
  return code;
}

std::string makeCheckInCode(std::uint64_t randomBits) {
  std::string code;
  for (std::size_t i = 0; i < kCheckInCodeLength; ++i) {
    code.push_back(kCheckInCodeAlphabet[randomBits % kCheckInCodeAlphabet.size()]);
    randomBits /= kCheckInCodeAlphabet.size();
  }
  return code;
}

std::string initialOf(std::string_view name) {
  if (name.empty()) return {};
  std::size_t n = 1;
  while (n < name.size() && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) ++n;
  return std::string(name.substr(0, n)) + ".";
}

std::string firstNameLastInitial(std::string_view firstName, std::string_view lastName) {
  std::string out(firstName);
  if (!lastName.empty()) out += " " + initialOf(lastName);
  return out;
}

}  // namespace anteroom
