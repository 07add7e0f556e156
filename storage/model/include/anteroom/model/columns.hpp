// Typed structures for the JSON columns of the central schema, with round trips that keep
// keys written by newer schemas (in `extra`) so an older kiosk never drops them.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"
#include "anteroom/model/json.hpp"

namespace anteroom {

// Reading (fromJson / parseColumn) checks shape only: missing keys and null values take the
// defaults, wrong types are Validation "json.column" errors naming the field. Rules that span
// fields are in validate(), so that drafts and rows from a newer hub still load.

// practice.address
struct Address {
  std::string line1, line2, city, region, postalCode, country = "US";
  Json::Object extra;
  bool operator==(const Address&) const = default;
};

// practice.settings
struct PracticeSettings {
  std::string timeZone;                        // IANA name; empty = the device's zone
  std::vector<std::string> acceptedInsurance;  // payer names as written; empty = not tracked
  int checkInOpensMinutesBefore = 60;
  int lateAfterMinutes = 15;
  int idleTimeoutSeconds = 60;
  std::string defaultLanguage = "en";
  std::string crisisLine = "988";
  int dataWindowDaysAhead = 3;
  int staffAutoLockSeconds = 120;
  int lookupRateLimitPerMinute = 6;
  Json::Object extra;
  bool operator==(const PracticeSettings&) const = default;
};

// provider.specialties, provider.modalities, and tag lists inside other columns: a JSON array
// of normalised tags (see normalizeTag), in order of first occurrence, without duplicates.
using TagList = std::vector<std::string>;

// Trims, lower-cases ASCII, turns each run of whitespace into '_': " Trauma PTSD " -> "trauma_ptsd".
std::string normalizeTag(std::string_view tag);
// Normalises each tag, dropping empty ones and later duplicates.
TagList normalizeTags(const TagList& tags);

// The vocabulary the kiosk and admin offer. Other tags are kept (a newer hub may add some), they
// just are not offered as choices.
inline constexpr std::array<std::string_view, 18> kKnownSpecialties{
    "anxiety", "depression", "trauma_ptsd", "bipolar", "ocd", "adhd",
    "eating_disorders", "substance_use", "grief", "relationships", "family", "child_adolescent",
    "lgbtq", "perinatal", "psychosis", "personality_disorders", "sleep", "stress",
};
inline constexpr std::array<std::string_view, 12> kKnownModalities{
    "cbt", "dbt", "emdr", "act", "psychodynamic", "family_systems", "ipt",
    "motivational_interviewing", "play_therapy", "mindfulness", "medication_management", "group",
};
// Expect normalised tags.
bool isKnownSpecialty(std::string_view tag) noexcept;
bool isKnownModality(std::string_view tag) noexcept;

enum class Weekday { Sunday = 0, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday };

// Minutes from local midnight in the practice's zone; "24:00" (1440) may end a window.
struct TimeWindow {
  Weekday day = Weekday::Sunday;
  int startMinute = 0;
  int endMinute = 0;
  Json::Object extra;
  bool operator==(const TimeWindow&) const = default;
};

struct AvailabilityWindow {
  Weekday day = Weekday::Sunday;
  int startMinute = 0;
  int endMinute = 0;
  bool inPerson = true;
  bool telehealth = false;
  Json::Object extra;
  bool operator==(const AvailabilityWindow&) const = default;
};

// provider.availability
struct WeeklyAvailability {
  std::vector<AvailabilityWindow> windows;
  Json::Object extra;
  bool operator==(const WeeklyAvailability&) const = default;
};

// patient.insurance_info
struct InsuranceInfo {
  bool selfPay = false;
  std::string payer;
  std::string planName;
  std::string memberId;
  std::string groupNumber;
  Json::Object extra;
  bool operator==(const InsuranceInfo&) const = default;
};

enum class VisitMode { InPerson, Telehealth, Either };
enum class ContactMethod { Sms, Phone, Email };

// patient.preferences. The preferred provider's id lives in waitlist_entry.provider_id.
struct PatientPreferences {
  VisitMode mode = VisitMode::Either;
  std::vector<TimeWindow> availableTimes;  // empty = any time
  TagList concerns;                        // specialty tags
  TagList modalities;
  bool onlyPreferredProvider = false;
  std::string language = "en";
  bool contactConsent = false;
  ContactMethod contactMethod = ContactMethod::Sms;  // asked together with the consent
  // Whether a voicemail or text may say it is from the practice (in mental health a message
  // that names the practice can out a patient); false = a general wording.
  bool mayNamePractice = false;
  // When the patient said they received the practice's privacy notice; empty = not yet.
  std::string privacyNoticeAcknowledgedAt;
  Json::Object extra;
  bool operator==(const PatientPreferences&) const = default;
};

enum class OfferMode { Sequential, Broadcast, StaffApproval };

struct PriorityWeights {
  double perDayWaiting = 0.5;
  double maxDaysWaiting = 180;
  double urgency = 20;
  double flexibility = 5;
  double narrowFit = 3;
  Json::Object extra;
  bool operator==(const PriorityWeights&) const = default;
};

// waitlist.criteria
struct WaitlistCriteria {
  PriorityWeights weights;
  OfferMode offerMode = OfferMode::Sequential;
  int holdMinutes = 120;
  int broadcastSize = 3;
  TagList specialties;  // what this list is for; empty = any
  bool acceptsNewPatients = true;
  Json::Object extra;
  bool operator==(const WaitlistCriteria&) const = default;
};

// notification.content. Params carry ids and times only, never names or other PHI: the text is
// rendered from templateKey at delivery, and this column is synced and logged more widely.
struct NotificationContent {
  std::string templateKey;
  std::map<std::string, std::string> params;
  Json::Object extra;
  bool operator==(const NotificationContent&) const = default;
};

// Wire names: "sun".."sat"; "in_person", "telehealth", "either"; "sms", "phone", "email";
// "sequential", "broadcast", "staff_approval". Parsing is exact (lower case).
std::string_view toString(Weekday day) noexcept;
std::string_view toString(VisitMode mode) noexcept;
std::string_view toString(ContactMethod method) noexcept;
std::string_view toString(OfferMode mode) noexcept;
std::optional<Weekday> parseWeekday(std::string_view text);
std::optional<VisitMode> parseVisitMode(std::string_view text);
std::optional<ContactMethod> parseContactMethod(std::string_view text);
std::optional<OfferMode> parseOfferMode(std::string_view text);

// "HH:MM"; values outside 0..1440 are clamped (validate() refuses them first).
std::string formatMinuteOfDay(int minute);
// Exactly "HH:MM" from "00:00" to "23:59", or "24:00" -> 1440.
std::optional<int> parseMinuteOfDay(std::string_view text);

// Errors are Validation with codes "validation.time_window", "validation.availability.mode",
// "validation.availability.overlap", "validation.insurance.payer", "validation.insurance.member_id".
// 0 <= start < end <= 1440; an availability window also needs at least one mode.
Result<void> validate(const TimeWindow& window);
Result<void> validate(const AvailabilityWindow& window);
// Each window, and no overlap between windows of the same day sharing a mode.
Result<void> validate(const WeeklyAvailability& availability);
// Unless self-pay: payer required, memberId 1..40 of [A-Za-z0-9-].
Result<void> validate(const InsuranceInfo& insurance);
Result<void> validate(const PatientPreferences& preferences);  // its time windows

// Known fields always written, extras merged in (known fields win on a clash). Tag lists are
// written normalised.
Json toJson(const Address& value);
Json toJson(const PracticeSettings& value);
Json toJson(const TagList& value);
Json toJson(const TimeWindow& value);
Json toJson(const AvailabilityWindow& value);
Json toJson(const WeeklyAvailability& value);
Json toJson(const InsuranceInfo& value);
Json toJson(const PatientPreferences& value);
Json toJson(const PriorityWeights& value);
Json toJson(const WaitlistCriteria& value);
Json toJson(const NotificationContent& value);

// Specialised for each type above; a JSON null reads as all defaults.
template <class T>
Result<T> fromJson(const Json& json);
template <> Result<Address> fromJson<Address>(const Json& json);
template <> Result<PracticeSettings> fromJson<PracticeSettings>(const Json& json);
template <> Result<TagList> fromJson<TagList>(const Json& json);
template <> Result<TimeWindow> fromJson<TimeWindow>(const Json& json);
template <> Result<AvailabilityWindow> fromJson<AvailabilityWindow>(const Json& json);
template <> Result<WeeklyAvailability> fromJson<WeeklyAvailability>(const Json& json);
template <> Result<InsuranceInfo> fromJson<InsuranceInfo>(const Json& json);
template <> Result<PatientPreferences> fromJson<PatientPreferences>(const Json& json);
template <> Result<PriorityWeights> fromJson<PriorityWeights>(const Json& json);
template <> Result<WaitlistCriteria> fromJson<WaitlistCriteria>(const Json& json);
template <> Result<NotificationContent> fromJson<NotificationContent>(const Json& json);

template <class T>
std::string dumpColumn(const T& value) {
  return toJson(value).dump();
}

// Invalid JSON gives the Protocol errors of Json::parse; a wrong shape gives "json.column".
template <class T>
Result<T> parseColumn(std::string_view text) {
  auto json = Json::parse(text);
  if (!json) return std::unexpected(std::move(json.error()));
  return fromJson<T>(*json);
}

}  // namespace anteroom
