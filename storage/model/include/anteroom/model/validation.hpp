// Patient-facing field validation for the kiosk: each function returns the normalised value
// to store, or an Error whose message a patient can act on (and which never echoes the input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/model/time.hpp"

namespace anteroom {

inline constexpr std::size_t kMaxNameCodePoints = 100;
inline constexpr std::size_t kMaxEmailLength = 255;
inline constexpr int kMaxAgeYears = 120;
inline constexpr std::string_view kCheckInCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
inline constexpr std::size_t kCheckInCodeLength = 6;

// Trims, collapses inner whitespace, turns ’ into '. Accepts Latin letters (ASCII, U+00C0..U+024F
// except × and ÷, U+1E00..U+1EFF for Vietnamese and others), combining accents after a letter
// (decomposed input), space, hyphen, apostrophe and period; needs at least one letter.
// Other scripts are refused: without Unicode tables we cannot tell their letters from symbols.
// Codes: validation.name.empty, validation.name.too_long, validation.name.characters.
Result<std::string> normalizeName(std::string_view input);

// Search key: lower-case, accents stripped (ñ->n, ß->ss, æ->ae), letters only, so "pena ruiz"
// finds "Peña-Ruiz". Accepted letters without an ASCII base are kept as they are.
std::string nameLookupKey(std::string_view normalizedName);

// Minimal disclosure for screens and reports: "Ñ." (the first code point, never half of one)
// and "Lucía Ñ.".
std::string initialOf(std::string_view name);
std::string firstNameLastInitial(std::string_view firstName, std::string_view lastName);

// Lower-cased address. Codes: validation.email.empty, validation.email.invalid,
// validation.email.too_long.
Result<std::string> normalizeEmail(std::string_view input);
// A patient without an email: the central schema needs a unique address, so they get one in
// the reserved .invalid domain ("no-email.<id>@no-email.invalid") that nothing ever sends to.
std::string noEmailAddressFor(const Uuid& patientId);
// A North American number as people write it, also while it is being typed: "541" ->
// "(541) 5" -> "(541) 555-0199"; "+15415550199" -> "(541) 555-0199". Other numbers as given.
std::string formatPhoneForDisplay(std::string_view phone);
bool isNoEmailAddress(std::string_view email);

// E.164 ("+15552345678"). "+" or "00" starts an international number; otherwise the number is
// national in defaultCountryCode (NANP rules for "1"). Codes: validation.phone.empty,
// validation.phone.invalid.
Result<std::string> normalizePhone(std::string_view input, std::string_view defaultCountryCode = "1");

// "MM/DD/YYYY", "M/D/YYYY", "MMDDYYYY" (numeric pad) or "YYYY-MM-DD". Codes: validation.dob.format,
// validation.dob.invalid, validation.dob.future, validation.dob.too_old (older than 120 years).
Result<Date> parseDateOfBirth(std::string_view text, Date today);
Result<Date> validateDateOfBirth(Date dob, Date today);

// End strictly after start, at most 24 hours long. Codes: validation.time.end_before_start,
// validation.time.too_long.
Result<void> validateTimeRange(Instant start, Instant end);

// Notes: trims, drops control characters except newline (a tab becomes a space). Codes:
// validation.text.invalid (not UTF-8), validation.text.too_long. May return an empty string.
Result<std::string> normalizeFreeText(std::string_view input, std::size_t maxCodePoints);

// Six characters of kCheckInCodeAlphabet, any case, spaces and dashes ignored; returns upper case.
// Code: validation.code.invalid.
Result<std::string> normalizeCheckInCode(std::string_view input);
std::string makeCheckInCode(std::uint64_t randomBits);

}  // namespace anteroom
