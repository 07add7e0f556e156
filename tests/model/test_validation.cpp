// Patient-facing validation: tables of accepted and refused input for each field, and no
// error message ever repeating what the patient typed.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include "anteroom/model/validation.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

const Date kToday = 2026y / November / 25;

struct Accept {
  std::string_view input;
  std::string_view expected;
};
struct Refuse {
  std::string input;  // owning: some rows are built from temporaries
  std::string_view code;
};

// The message must not echo the input (PHI). Inputs shorter than 4 characters are skipped: a
// single "." or "a" legitimately occurs in ordinary sentences.
template <class T>
void checkRefused(const Result<T>& result, const Refuse& row) {
  CAPTURE(row.input);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == row.code);
  CHECK((result.error().domain == ErrorDomain::Validation));  // parenthesised: see test_status.cpp
  CHECK_FALSE(result.error().message.empty());
  if (row.input.size() >= 4) CHECK(result.error().message.find(row.input) == std::string::npos);
}

}  // namespace

TEST_CASE("names are trimmed, collapsed and checked for letters") {
  const Accept accepted[] = {
      {"José", "José"},
      {"  Peña-Ruiz ", "Peña-Ruiz"},
      {"María   del\tCarmen", "María del Carmen"},
      {"O'Brien", "O'Brien"},
      {"O\u2019Brien", "O'Brien"},              // typographic apostrophe from phone keyboards
      {"Jr.", "Jr."},
      {"Zoë Ångström", "Zoë Ångström"},
      {"Nguyễn Thị Đặng", "Nguyễn Thị Đặng"},      // Latin Extended Additional
      {"Jose\u0301", "Jose\u0301"},              // decomposed accent after a letter
      {"Ana\u00A0Lucía", "Ana Lucía"},           // no-break space counts as space
      {"Łukasz Żółć", "Łukasz Żółć"},
      {"A", "A"},
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = normalizeName(row.input);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }

  const Refuse refused[] = {
      {"", "validation.name.empty"},
      {"   \t ", "validation.name.empty"},
      {"J0hn Smith", "validation.name.characters"},
      {"Smith, John", "validation.name.characters"},
      {"Robert <script>", "validation.name.characters"},
      {"-- .'", "validation.name.characters"},  // no letter at all
      {"2 \u00D7 Smith", "validation.name.characters"},
      {"Ann\u00F7", "validation.name.characters"},
      {"\u0301Ana", "validation.name.characters"},  // accent with no letter before it
      {"Ann \xF0\x9F\x98\x80", "validation.name.characters"},  // emoji
      {"\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0", "validation.name.characters"},  // Cyrillic: not accepted
      {"Jos\xC3", "validation.name.characters"},          // truncated UTF-8
      {"Jos\xC3\xA9\xA9", "validation.name.characters"},  // stray continuation byte
      {"Ann\xC0\xA0", "validation.name.characters"},      // overlong encoding
      {"Ann\xED\xA0\x80", "validation.name.characters"},  // surrogate
  };
  for (const auto& row : refused) checkRefused(normalizeName(row.input), row);

  const std::string hundred(100, 'a');
  CHECK(normalizeName(hundred).has_value());
  CHECK(normalizeName(std::string(50, 'a') + " " + std::string(49, 'b')).has_value());
  std::string hundredAccented;
  for (int i = 0; i < 100; ++i) hundredAccented += "é";  // 200 bytes, 100 code points
  CHECK(normalizeName(hundredAccented).has_value());
  checkRefused(normalizeName(hundred + "a"), {hundred + "a", "validation.name.too_long"});
  checkRefused(normalizeName(hundredAccented + "é"), {hundredAccented + "é", "validation.name.too_long"});
}

TEST_CASE("name lookup keys fold case and accents") {
  CHECK(nameLookupKey("Peña-Ruiz") == "penaruiz");
  CHECK(nameLookupKey("pena ruiz") == nameLookupKey("Peña-Ruiz"));
  CHECK(nameLookupKey("José") == "jose");
  CHECK(nameLookupKey("Jose\u0301") == "jose");
  CHECK(nameLookupKey("O'Brien") == "obrien");
  CHECK(nameLookupKey("María del Carmen") == "mariadelcarmen");
  CHECK(nameLookupKey("Strauß") == "strauss");
  CHECK(nameLookupKey("ÆSIR Þór Øst") == "aesirthorost");
  CHECK(nameLookupKey("ÑÜÇÉ") == "nuce");
  CHECK(nameLookupKey("Łukasz Żółć") == "lukaszzolc");
  CHECK(nameLookupKey("Dvořák Šťastný") == "dvorakstastny");
  CHECK(nameLookupKey("Nguyễn Đặng Dương") == "nguyendangduong");
  CHECK(nameLookupKey("Jr.") == "jr");
  CHECK(nameLookupKey("") == "");
  CHECK(nameLookupKey("Ann\xC3") == "ann");  // stray bytes are skipped, not fatal
}

TEST_CASE("emails are lower-cased and checked") {
  const Accept accepted[] = {
      {"pat@example.com", "pat@example.com"},
      {"  Pat.Smith@Example.COM ", "pat.smith@example.com"},
      {"pat+therapy@mail.example.org", "pat+therapy@mail.example.org"},
      {"o'brien@example.ie", "o'brien@example.ie"},
      {"a_b-c@sub-domain.example.co.uk", "a_b-c@sub-domain.example.co.uk"},
      {"x@a1.io", "x@a1.io"},
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = normalizeEmail(row.input);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }

  const std::string longLocal(65, 'a');
  const std::string longLabel(64, 'b');
  const std::string tooLong = std::string(64, 'a') + "@" + std::string(60, 'b') + "." + std::string(60, 'c') +
                              "." + std::string(60, 'd') + "." + std::string(10, 'e') + ".com";
  const Refuse refused[] = {
      {"", "validation.email.empty"},
      {"   ", "validation.email.empty"},
      {"pat.example.com", "validation.email.invalid"},
      {"pat@@example.com", "validation.email.invalid"},
      {"pat@home@example.com", "validation.email.invalid"},
      {"@mail.example.org", "validation.email.invalid"},
      {"pat@", "validation.email.invalid"},
      {"pat..smith@example.com", "validation.email.invalid"},
      {".pat@example.com", "validation.email.invalid"},
      {"pat.@example.com", "validation.email.invalid"},
      {"pat@localhost", "validation.email.invalid"},
      {"pat@example.c", "validation.email.invalid"},
      {"pat@example.c0m", "validation.email.invalid"},
      {"pat@example..com", "validation.email.invalid"},
      {"pat@.example.com", "validation.email.invalid"},
      {"pat@example.com.", "validation.email.invalid"},
      {"pat@-example.com", "validation.email.invalid"},
      {"pat@example-.com", "validation.email.invalid"},
      {"pat@exa_mple.com", "validation.email.invalid"},
      {"pat smith@example.com", "validation.email.invalid"},
      {"pat(x)@example.com", "validation.email.invalid"},
      {"jos\xC3\xA9@example.com", "validation.email.invalid"},
      {longLocal + "@example.com", "validation.email.invalid"},
      {"pat@" + longLabel + ".com", "validation.email.invalid"},
      {tooLong, "validation.email.too_long"},
  };
  for (const auto& row : refused) checkRefused(normalizeEmail(row.input), row);
}

TEST_CASE("phone numbers become E.164") {
  const Accept accepted[] = {
      {"(555) 234-5678", "+15552345678"},
      {"555.234.5678", "+15552345678"},
      {"555-234-5678", "+15552345678"},
      {"5552345678", "+15552345678"},
      {"1 555 234 5678", "+15552345678"},
      {"+1 (555) 234-5678", "+15552345678"},
      {"001 555 234 5678", "+15552345678"},
      {"+44 20 7946 0958", "+442079460958"},
      {"0044 20 7946 0958", "+442079460958"},
      {" +49 30 1234567 ", "+49301234567"},
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = normalizePhone(row.input);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }
  CHECK(normalizePhone("020 7946 0958", "44") == "+442079460958");

  const Refuse refused[] = {
      {"", "validation.phone.empty"},
      {"  ", "validation.phone.empty"},
      {"+1 155 234 5678", "validation.phone.invalid"},  // area code cannot start with 1
      {"(055) 234-5678", "validation.phone.invalid"},   // nor with 0
      {"555 134 5678", "validation.phone.invalid"},     // exchange cannot start with 1
      {"555 234 567", "validation.phone.invalid"},      // 9 digits
      {"55 5234 56789", "validation.phone.invalid"},    // 11 digits not starting with 1
      {"2 555 234 5678", "validation.phone.invalid"},
      {"1-800-FLOWERS", "validation.phone.invalid"},
      {"555 234 5678 x12", "validation.phone.invalid"},
      {"555+234+5678", "validation.phone.invalid"},
      {"+0 20 7946 0958", "validation.phone.invalid"},
      {"+44 123", "validation.phone.invalid"},
      {"+44 2079 4609 5812 345", "validation.phone.invalid"},  // 16 digits
      {"()", "validation.phone.invalid"},
  };
  for (const auto& row : refused) checkRefused(normalizePhone(row.input), row);
}

TEST_CASE("dates of birth") {
  const struct {
    std::string_view input;
    Date expected;
  } accepted[] = {
      {"03/14/1985", 1985y / March / 14},
      {"3/4/1985", 1985y / March / 4},
      {"03141985", 1985y / March / 14},
      {"1985-03-14", 1985y / March / 14},
      {" 02/29/2000 ", 2000y / February / 29},  // leap day
      {"11/25/2026", 2026y / November / 25},    // born today
      {"11/26/1906", 1906y / November / 26},    // 119 years old, 120 tomorrow
      {"11/25/1906", 1906y / November / 25},    // 120 today
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = parseDateOfBirth(row.input, kToday);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }

  const Refuse refused[] = {
      {"", "validation.dob.format"},
      {"March 14 1985", "validation.dob.format"},
      {"14.03.1985", "validation.dob.format"},
      {"3/14/85", "validation.dob.format"},
      {"003/14/1985", "validation.dob.format"},
      {"4/15", "validation.dob.format"},
      {"3/14/1985/1", "validation.dob.format"},
      {"1985/03/14", "validation.dob.format"},
      {"0314198", "validation.dob.format"},
      {"1985-3-14", "validation.dob.format"},
      {"+3/14/1985", "validation.dob.format"},
      {"02/30/1985", "validation.dob.invalid"},
      {"02/29/2001", "validation.dob.invalid"},
      {"13/01/1985", "validation.dob.invalid"},
      {"00/10/1985", "validation.dob.invalid"},
      {"02301985", "validation.dob.invalid"},
      {"1985-02-30", "validation.dob.invalid"},
      {"11/26/2026", "validation.dob.future"},  // tomorrow
      {"2030-01-01", "validation.dob.future"},
      {"1/1/1900", "validation.dob.too_old"},
      {"11/24/1905", "validation.dob.too_old"},
      {"11/25/1905", "validation.dob.too_old"},  // 121 today
  };
  for (const auto& row : refused) checkRefused(parseDateOfBirth(row.input, kToday), row);

  CHECK(validateDateOfBirth(2000y / February / 29, kToday) == Date{2000y / February / 29});
  CHECK(validateDateOfBirth(2000y / February / 30, kToday).error().code == "validation.dob.invalid");
  CHECK(validateDateOfBirth(2026y / November / 26, kToday).error().code == "validation.dob.future");
  CHECK(validateDateOfBirth(1900y / January / 1, kToday).error().code == "validation.dob.too_old");
  // Born on a leap day: still 120 on Feb 28 of a common year, 121 from March 1.
  CHECK(validateDateOfBirth(1904y / February / 29, 2025y / February / 28).has_value());
  CHECK(validateDateOfBirth(1904y / February / 29, 2025y / March / 1).error().code ==
        "validation.dob.too_old");
}

TEST_CASE("time ranges") {
  const Instant start = Instant{sys_days{kToday}} + hours{9};
  CHECK(validateTimeRange(start, start + minutes{50}).has_value());
  CHECK(validateTimeRange(start, start + hours{24}).has_value());
  CHECK(validateTimeRange(start, start).error().code == "validation.time.end_before_start");
  CHECK(validateTimeRange(start, start - minutes{1}).error().code == "validation.time.end_before_start");
  CHECK(validateTimeRange(start, start + hours{24} + microseconds{1}).error().code ==
        "validation.time.too_long");
}

TEST_CASE("free text notes") {
  const Accept accepted[] = {
      {"  Running late, be there at 9:10  ", "Running late, be there at 9:10"},
      {"Line one\r\nLine two\n", "Line one\nLine two"},
      {"a\tb", "a b"},
      {"bell\x07 and\x1B escape\x7F", "bell and escape"},
      {"C1 \u0085control", "C1 control"},
      {"Necesito cita en español ✓", "Necesito cita en español ✓"},
      {"\n\n  \t", ""},
      {"", ""},
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = normalizeFreeText(row.input, 500);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }

  CHECK(normalizeFreeText("ñññññ", 5) == "ñññññ");
  CHECK(normalizeFreeText("abcde   \n", 5) == "abcde");  // trailing whitespace does not count
  checkRefused(normalizeFreeText("ññññññ", 5), {"ññññññ", "validation.text.too_long"});
  checkRefused(normalizeFreeText("I feel anxious\xFF", 500),
               {"I feel anxious\xFF", "validation.text.invalid"});
  checkRefused(normalizeFreeText("I feel anxious", 5), {"I feel anxious", "validation.text.too_long"});
}

TEST_CASE("check-in codes") {
  const Accept accepted[] = {
      {"ABC234", "ABC234"},
      {"abc234", "ABC234"},
      {"abc-234", "ABC234"},
      {" a b c 2 3 4 ", "ABC234"},
      {"zyx987", "ZYX987"},
  };
  for (const auto& row : accepted) {
    CAPTURE(row.input);
    const auto result = normalizeCheckInCode(row.input);
    REQUIRE(result.has_value());
    CHECK(*result == row.expected);
  }

  const Refuse refused[] = {
      {"", "validation.code.invalid"},
      {"ABC23", "validation.code.invalid"},
      {"ABC2345", "validation.code.invalid"},
      {"ABCO23", "validation.code.invalid"},  // O is ambiguous with 0
      {"ABC023", "validation.code.invalid"},
      {"ABC1I2", "validation.code.invalid"},
      {"abl234", "validation.code.invalid"},
      {"ABC_23", "validation.code.invalid"},
      {"ÁBC234", "validation.code.invalid"},
  };
  for (const auto& row : refused) checkRefused(normalizeCheckInCode(row.input), row);

  std::set<std::string> codes;
  for (std::uint64_t bits :
       {0ULL, 1ULL, 30ULL, 31ULL, 887'503'680ULL, 0xFFFF'FFFF'FFFF'FFFFULL, 0x1234'5678'9ABC'DEF0ULL}) {
    const std::string code = makeCheckInCode(bits);
    CAPTURE(code);
    CHECK(normalizeCheckInCode(code) == code);
    codes.insert(code);
  }
  CHECK(codes.size() == 7);
  CHECK(makeCheckInCode(0) == "AAAAAA");
  CHECK(makeCheckInCode(1) == "BAAAAA");
}

TEST_CASE("minimal disclosure keeps a multi-byte initial whole") {
  CHECK(initialOf("Ñúñez") == "Ñ.");
  CHECK(initialOf("O'Brien") == "O.");
  CHECK(initialOf("") == "");
  CHECK(firstNameLastInitial("Lucía", "Ñúñez") == "Lucía Ñ.");
  CHECK(firstNameLastInitial("Ana", "") == "Ana");
}

TEST_CASE("phone numbers read as people write them, also while typed; a patient without email gets a never-sent address") {
  CHECK(formatPhoneForDisplay("") == "");
  CHECK(formatPhoneForDisplay("541") == "541");
  CHECK(formatPhoneForDisplay("5415") == "(541) 5");
  CHECK(formatPhoneForDisplay("5415550") == "(541) 555-0");
  CHECK(formatPhoneForDisplay("5415550199") == "(541) 555-0199");
  CHECK(formatPhoneForDisplay("+15415550199") == "(541) 555-0199");
  CHECK(formatPhoneForDisplay("541 555 0199") == "(541) 555-0199");
  CHECK(formatPhoneForDisplay("+442079460000") == "+442079460000");
  const Uuid id = UuidGenerator{3}.v7(std::chrono::system_clock::now());
  const std::string none = noEmailAddressFor(id);
  CHECK(isNoEmailAddress(none));
  CHECK_FALSE(isNoEmailAddress("ana@example.org"));
  auto normalised = normalizeEmail(none);
  REQUIRE(normalised.has_value());
  CHECK(*normalised == none);
}
