// Reading, writing and validating the central schema's JSON columns.
#include "anteroom/model/columns.hpp"

#include <algorithm>
#include <concepts>
#include <limits>
#include <span>
#include <type_traits>

namespace anteroom {
namespace {

// Indexed by enum value, so the enums' declaration order is their wire order.
constexpr std::array<std::string_view, 7> kWeekdayNames{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 3> kVisitModeNames{"in_person", "telehealth", "either"};
constexpr std::array<std::string_view, 3> kContactMethodNames{"sms", "phone", "email"};
constexpr std::array<std::string_view, 3> kOfferModeNames{"sequential", "broadcast", "staff_approval"};

std::span<const std::string_view> namesOf(Weekday) { return kWeekdayNames; }
std::span<const std::string_view> namesOf(VisitMode) { return kVisitModeNames; }
std::span<const std::string_view> namesOf(ContactMethod) { return kContactMethodNames; }
std::span<const std::string_view> namesOf(OfferMode) { return kOfferModeNames; }

template <class E>
std::string_view nameOf(E value) noexcept {
  const auto names = namesOf(E{});
  const auto i = static_cast<std::size_t>(value);
  return i < names.size() ? names[i] : std::string_view("unknown");
}

template <class E>
std::optional<E> parseName(std::string_view text) {
  const auto names = namesOf(E{});
  const auto it = std::ranges::find(names, text);
  if (it == names.end()) return std::nullopt;
  return static_cast<E>(it - names.begin());
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

template <class T>
concept Record = requires(T& value) { value.extra; };

template <class T>
Result<T> decode(const Json& json, std::string path);

// Reads the known keys of one JSON object. The first wrong type is kept as the error and later
// reads do nothing; keys never read end up in `extra`.
class Fields {
 public:
  Fields(const Json& json, std::string path) : m_path(std::move(path)) {
    if (json.isObject()) {
      m_object = &json.asObject();
    } else if (!json.isNull()) {
      m_error = columnError(m_path + " must be an object");
    }
  }

  void get(std::string_view key, std::string& out) {
    if (const Json* v = take(key)) {
      if (v->isString()) out = v->asString();
      else wrong(key, "a string");
    }
  }

  void get(std::string_view key, bool& out) {
    if (const Json* v = take(key)) {
      if (v->isBool()) out = v->asBool();
      else wrong(key, "true or false");
    }
  }

  void get(std::string_view key, int& out) {
    if (const Json* v = take(key)) {
      if (v->isInt() && v->asInt() >= std::numeric_limits<int>::min() &&
          v->asInt() <= std::numeric_limits<int>::max()) {
        out = static_cast<int>(v->asInt());
      } else {
        wrong(key, "an integer");
      }
    }
  }

  void get(std::string_view key, double& out) {
    if (const Json* v = take(key)) {
      if (v->isNumber()) out = v->asDouble();
      else wrong(key, "a number");
    }
  }

  void get(std::string_view key, std::vector<std::string>& out) {
    if (const Json* v = take(key)) {
      if (auto strings = readStrings(*v)) out = std::move(*strings);
      else wrong(key, "an array of strings");
    }
  }

  void getTags(std::string_view key, TagList& out) {
    get(key, out);
    out = normalizeTags(out);
  }

  void get(std::string_view key, std::map<std::string, std::string>& out) {
    const Json* v = take(key);
    if (v == nullptr) return;
    const bool ok = v->isObject() && std::ranges::all_of(v->asObject(), [](const auto& member) {
                      return member.second.isString();
                    });
    if (!ok) return wrong(key, "an object of strings");
    out.clear();
    for (const auto& [name, value] : v->asObject()) out.emplace(name, value.asString());
  }

  template <class E>
    requires std::is_enum_v<E>
  void get(std::string_view key, E& out) {
    const Json* v = take(key);
    if (v == nullptr) return;
    if (v->isString()) {
      if (const auto parsed = parseName<E>(v->asString())) {
        out = *parsed;
        return;
      }
    }
    std::string choices;
    for (const std::string_view name : namesOf(E{})) {
      choices += choices.empty() ? "one of \"" : ", \"";
      choices += name;
      choices += '"';
    }
    wrong(key, choices);
  }

  void getTime(std::string_view key, int& minute) {
    if (const Json* v = take(key)) {
      const auto parsed = v->isString() ? parseMinuteOfDay(v->asString()) : std::nullopt;
      if (parsed) minute = *parsed;
      else wrong(key, "a time \"HH:MM\"");
    }
  }

  template <Record T>
  void get(std::string_view key, T& out) {
    if (const Json* v = take(key)) store(decode<T>(*v, childPath(key)), out);
  }

  template <Record T>
  void get(std::string_view key, std::vector<T>& out) {
    const Json* v = take(key);
    if (v == nullptr) return;
    if (!v->isArray()) return wrong(key, "an array");
    out.clear();
    for (std::size_t i = 0; i < v->size() && !m_error; ++i) {
      out.emplace_back();
      store(decode<T>(v->asArray()[i], childPath(key) + "[" + std::to_string(i) + "]"), out.back());
    }
  }

  template <Record T>
  Result<T> finish(T out) const {
    if (m_error) return *m_error;
    if (m_object == nullptr) return out;
    for (const auto& [key, value] : *m_object) {
      if (std::ranges::find(m_known, key) == m_known.end()) out.extra.emplace(key, value);
    }
    return out;
  }

  static std::unexpected<Error> columnError(std::string message) {
    return fail(ErrorDomain::Validation, "json.column", std::move(message));
  }

  static std::optional<std::vector<std::string>> readStrings(const Json& json) {
    if (!json.isArray()) return std::nullopt;
    std::vector<std::string> out;
    for (const Json& item : json.asArray()) {
      if (!item.isString()) return std::nullopt;
      out.push_back(item.asString());
    }
    return out;
  }

 private:
  // Absent and null both mean "keep the default": hubs write null for unset fields.
  const Json* take(std::string_view key) {
    m_known.push_back(key);
    if (m_error || m_object == nullptr) return nullptr;
    const auto it = m_object->find(key);
    return it == m_object->end() || it->second.isNull() ? nullptr : &it->second;
  }

  std::string childPath(std::string_view key) const { return m_path + "." + std::string(key); }

  void wrong(std::string_view key, std::string_view what) {
    m_error = columnError(childPath(key) + " must be " + std::string(what));
  }

  template <class T>
  void store(Result<T> result, T& out) {
    if (result) out = std::move(*result);
    else m_error = std::unexpected(std::move(result.error()));
  }

  std::string m_path;  // for messages: "availability.windows[2].start"
  const Json::Object* m_object = nullptr;
  std::vector<std::string_view> m_known;  // keys are literals in the readers below
  std::optional<std::unexpected<Error>> m_error;
};

void readFields(Fields& f, Address& a) {
  f.get("line1", a.line1);
  f.get("line2", a.line2);
  f.get("city", a.city);
  f.get("region", a.region);
  f.get("postal_code", a.postalCode);
  f.get("country", a.country);
}

void readFields(Fields& f, PracticeSettings& s) {
  f.get("time_zone", s.timeZone);
  f.get("accepted_insurance", s.acceptedInsurance);
  f.get("check_in_opens_minutes_before", s.checkInOpensMinutesBefore);
  f.get("late_after_minutes", s.lateAfterMinutes);
  f.get("idle_timeout_seconds", s.idleTimeoutSeconds);
  f.get("default_language", s.defaultLanguage);
  f.get("crisis_line", s.crisisLine);
  f.get("data_window_days_ahead", s.dataWindowDaysAhead);
  f.get("staff_auto_lock_seconds", s.staffAutoLockSeconds);
  f.get("lookup_rate_limit_per_minute", s.lookupRateLimitPerMinute);
}

void readFields(Fields& f, TimeWindow& w) {
  f.get("day", w.day);
  f.getTime("start", w.startMinute);
  f.getTime("end", w.endMinute);
}

void readFields(Fields& f, AvailabilityWindow& w) {
  f.get("day", w.day);
  f.getTime("start", w.startMinute);
  f.getTime("end", w.endMinute);
  f.get("in_person", w.inPerson);
  f.get("telehealth", w.telehealth);
}

void readFields(Fields& f, WeeklyAvailability& a) { f.get("windows", a.windows); }

void readFields(Fields& f, InsuranceInfo& i) {
  f.get("self_pay", i.selfPay);
  f.get("payer", i.payer);
  f.get("plan_name", i.planName);
  f.get("member_id", i.memberId);
  f.get("group_number", i.groupNumber);
}

void readFields(Fields& f, PatientPreferences& p) {
  f.get("mode", p.mode);
  f.get("available_times", p.availableTimes);
  f.getTags("concerns", p.concerns);
  f.getTags("modalities", p.modalities);
  f.get("only_preferred_provider", p.onlyPreferredProvider);
  f.get("language", p.language);
  f.get("contact_consent", p.contactConsent);
  f.get("contact_method", p.contactMethod);
  f.get("may_name_practice", p.mayNamePractice);
  f.get("privacy_notice_acknowledged_at", p.privacyNoticeAcknowledgedAt);
}

void readFields(Fields& f, PriorityWeights& w) {
  f.get("per_day_waiting", w.perDayWaiting);
  f.get("max_days_waiting", w.maxDaysWaiting);
  f.get("urgency", w.urgency);
  f.get("flexibility", w.flexibility);
  f.get("narrow_fit", w.narrowFit);
}

void readFields(Fields& f, WaitlistCriteria& c) {
  f.get("weights", c.weights);
  f.get("offer_mode", c.offerMode);
  f.get("hold_minutes", c.holdMinutes);
  f.get("broadcast_size", c.broadcastSize);
  f.getTags("specialties", c.specialties);
  f.get("accepts_new_patients", c.acceptsNewPatients);
}

void readFields(Fields& f, NotificationContent& n) {
  f.get("template_key", n.templateKey);
  f.get("params", n.params);
}

template <class T>
Result<T> decode(const Json& json, std::string path) {
  Fields fields(json, std::move(path));
  T out;
  readFields(fields, out);
  return fields.finish(std::move(out));
}

Json tagsJson(const TagList& tags) {
  Json::Array items;
  for (std::string& tag : normalizeTags(tags)) items.emplace_back(std::move(tag));
  return items;
}

void writeSpan(Json::Object& o, Weekday day, int start, int end) {
  o["day"] = toString(day);
  o["start"] = formatMinuteOfDay(start);
  o["end"] = formatMinuteOfDay(end);
}

std::unexpected<Error> invalid(std::string code, std::string message) {
  return fail(ErrorDomain::Validation, std::move(code), std::move(message));
}

Result<void> validateSpan(Weekday day, int start, int end) {
  if (static_cast<std::size_t>(day) >= kWeekdayNames.size()) {
    return invalid("validation.time_window", "A time window has an unknown weekday.");
  }
  if (start < 0 || end > 24 * 60) {
    return invalid("validation.time_window", "A time window must lie within one day (00:00 to 24:00).");
  }
  if (end <= start) return invalid("validation.time_window", "A time window must end after it starts.");
  return {};
}

}  // namespace

std::string normalizeTag(std::string_view tag) {
  std::string out;
  bool pendingSeparator = false;  // set by whitespace after text, so edges are trimmed
  for (const char c : tag) {
    if (isSpace(c)) {
      pendingSeparator = !out.empty();
      continue;
    }
    if (pendingSeparator) out += '_';
    pendingSeparator = false;
    out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

TagList normalizeTags(const TagList& tags) {
  TagList out;
  for (const std::string& tag : tags) {
    std::string normal = normalizeTag(tag);
    if (!normal.empty() && std::ranges::find(out, normal) == out.end()) out.push_back(std::move(normal));
  }
  return out;
}

bool isKnownSpecialty(std::string_view tag) noexcept {
  return std::ranges::find(kKnownSpecialties, tag) != kKnownSpecialties.end();
}

bool isKnownModality(std::string_view tag) noexcept {
  return std::ranges::find(kKnownModalities, tag) != kKnownModalities.end();
}

std::string_view toString(Weekday day) noexcept { return nameOf(day); }
std::string_view toString(VisitMode mode) noexcept { return nameOf(mode); }
std::string_view toString(ContactMethod method) noexcept { return nameOf(method); }
std::string_view toString(OfferMode mode) noexcept { return nameOf(mode); }
std::optional<Weekday> parseWeekday(std::string_view text) { return parseName<Weekday>(text); }
std::optional<VisitMode> parseVisitMode(std::string_view text) { return parseName<VisitMode>(text); }
std::optional<ContactMethod> parseContactMethod(std::string_view text) {
  return parseName<ContactMethod>(text);
}
std::optional<OfferMode> parseOfferMode(std::string_view text) { return parseName<OfferMode>(text); }

std::string formatMinuteOfDay(int minute) {
  const int m = std::clamp(minute, 0, 24 * 60);
  const auto digit = [](int d) { return static_cast<char>('0' + d); };
  return {digit(m / 600), digit(m / 60 % 10), ':', digit(m % 60 / 10), digit(m % 10)};
}

std::optional<int> parseMinuteOfDay(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (const std::size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours == 24 && minutes == 0) return 24 * 60;
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

Result<void> validate(const TimeWindow& window) {
  return validateSpan(window.day, window.startMinute, window.endMinute);
}

Result<void> validate(const AvailabilityWindow& window) {
  if (auto ok = validateSpan(window.day, window.startMinute, window.endMinute); !ok) return ok;
  if (!window.inPerson && !window.telehealth) {
    return invalid("validation.availability.mode", "An availability window must be in person, telehealth, or both.");
  }
  return {};
}

Result<void> validate(const WeeklyAvailability& availability) {
  const auto& windows = availability.windows;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (auto ok = validate(windows[i]); !ok) return ok;
    for (std::size_t j = 0; j < i; ++j) {
      const AvailabilityWindow& a = windows[i];
      const AvailabilityWindow& b = windows[j];
      // Windows that only touch (09:00-12:00, 12:00-17:00) are fine; in-person and telehealth
      // windows may overlap, as a provider can offer either in the same slot.
      const bool sharedMode = (a.inPerson && b.inPerson) || (a.telehealth && b.telehealth);
      if (a.day == b.day && sharedMode && a.startMinute < b.endMinute && b.startMinute < a.endMinute) {
        return invalid("validation.availability.overlap",
                       "Availability windows overlap on " + std::string(toString(a.day)) + ".");
      }
    }
  }
  return {};
}

Result<void> validate(const InsuranceInfo& insurance) {
  if (insurance.selfPay) return {};
  if (std::ranges::all_of(insurance.payer, isSpace)) {
    return invalid("validation.insurance.payer", "Enter the insurance company, or choose self-pay.");
  }
  const auto memberIdChar = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  if (insurance.memberId.empty() || insurance.memberId.size() > 40 ||
      !std::ranges::all_of(insurance.memberId, memberIdChar)) {
    return invalid("validation.insurance.member_id",
                   "Enter the member ID as printed on the card: up to 40 letters, digits or dashes.");
  }
  return {};
}

Result<void> validate(const PatientPreferences& preferences) {
  for (const TimeWindow& window : preferences.availableTimes) {
    if (auto ok = validate(window); !ok) return ok;
  }
  return {};
}

Json toJson(const Address& value) {
  Json::Object o = value.extra;
  o["line1"] = value.line1;
  o["line2"] = value.line2;
  o["city"] = value.city;
  o["region"] = value.region;
  o["postal_code"] = value.postalCode;
  o["country"] = value.country;
  return o;
}

Json toJson(const PracticeSettings& value) {
  Json::Object o = value.extra;
  Json::Array insurance(value.acceptedInsurance.begin(), value.acceptedInsurance.end());
  o["time_zone"] = value.timeZone;
  o["accepted_insurance"] = std::move(insurance);
  o["check_in_opens_minutes_before"] = value.checkInOpensMinutesBefore;
  o["late_after_minutes"] = value.lateAfterMinutes;
  o["idle_timeout_seconds"] = value.idleTimeoutSeconds;
  o["default_language"] = value.defaultLanguage;
  o["crisis_line"] = value.crisisLine;
  o["data_window_days_ahead"] = value.dataWindowDaysAhead;
  o["staff_auto_lock_seconds"] = value.staffAutoLockSeconds;
  o["lookup_rate_limit_per_minute"] = value.lookupRateLimitPerMinute;
  return o;
}

Json toJson(const TagList& value) { return tagsJson(value); }

Json toJson(const TimeWindow& value) {
  Json::Object o = value.extra;
  writeSpan(o, value.day, value.startMinute, value.endMinute);
  return o;
}

Json toJson(const AvailabilityWindow& value) {
  Json::Object o = value.extra;
  writeSpan(o, value.day, value.startMinute, value.endMinute);
  o["in_person"] = value.inPerson;
  o["telehealth"] = value.telehealth;
  return o;
}

Json toJson(const WeeklyAvailability& value) {
  Json::Object o = value.extra;
  Json::Array windows;
  for (const AvailabilityWindow& window : value.windows) windows.push_back(toJson(window));
  o["windows"] = std::move(windows);
  return o;
}

Json toJson(const InsuranceInfo& value) {
  Json::Object o = value.extra;
  o["self_pay"] = value.selfPay;
  o["payer"] = value.payer;
  o["plan_name"] = value.planName;
  o["member_id"] = value.memberId;
  o["group_number"] = value.groupNumber;
  return o;
}

Json toJson(const PatientPreferences& value) {
  Json::Object o = value.extra;
  Json::Array times;
  for (const TimeWindow& window : value.availableTimes) times.push_back(toJson(window));
  o["mode"] = toString(value.mode);
  o["available_times"] = std::move(times);
  o["concerns"] = tagsJson(value.concerns);
  o["modalities"] = tagsJson(value.modalities);
  o["only_preferred_provider"] = value.onlyPreferredProvider;
  o["language"] = value.language;
  o["contact_consent"] = value.contactConsent;
  o["contact_method"] = toString(value.contactMethod);
  o["may_name_practice"] = value.mayNamePractice;
  if (!value.privacyNoticeAcknowledgedAt.empty()) o["privacy_notice_acknowledged_at"] = value.privacyNoticeAcknowledgedAt;
  return o;
}

Json toJson(const PriorityWeights& value) {
  Json::Object o = value.extra;
  o["per_day_waiting"] = value.perDayWaiting;
  o["max_days_waiting"] = value.maxDaysWaiting;
  o["urgency"] = value.urgency;
  o["flexibility"] = value.flexibility;
  o["narrow_fit"] = value.narrowFit;
  return o;
}

Json toJson(const WaitlistCriteria& value) {
  Json::Object o = value.extra;
  o["weights"] = toJson(value.weights);
  o["offer_mode"] = toString(value.offerMode);
  o["hold_minutes"] = value.holdMinutes;
  o["broadcast_size"] = value.broadcastSize;
  o["specialties"] = tagsJson(value.specialties);
  o["accepts_new_patients"] = value.acceptsNewPatients;
  return o;
}

Json toJson(const NotificationContent& value) {
  Json::Object o = value.extra;
  Json::Object params(value.params.begin(), value.params.end());
  o["template_key"] = value.templateKey;
  o["params"] = std::move(params);
  return o;
}

template <>
Result<Address> fromJson<Address>(const Json& json) {
  return decode<Address>(json, "address");
}
template <>
Result<PracticeSettings> fromJson<PracticeSettings>(const Json& json) {
  return decode<PracticeSettings>(json, "settings");
}
template <>
Result<TimeWindow> fromJson<TimeWindow>(const Json& json) {
  return decode<TimeWindow>(json, "time_window");
}
template <>
Result<AvailabilityWindow> fromJson<AvailabilityWindow>(const Json& json) {
  return decode<AvailabilityWindow>(json, "availability_window");
}
template <>
Result<WeeklyAvailability> fromJson<WeeklyAvailability>(const Json& json) {
  return decode<WeeklyAvailability>(json, "availability");
}
template <>
Result<InsuranceInfo> fromJson<InsuranceInfo>(const Json& json) {
  return decode<InsuranceInfo>(json, "insurance_info");
}
template <>
Result<PatientPreferences> fromJson<PatientPreferences>(const Json& json) {
  return decode<PatientPreferences>(json, "preferences");
}
template <>
Result<PriorityWeights> fromJson<PriorityWeights>(const Json& json) {
  return decode<PriorityWeights>(json, "weights");
}
template <>
Result<WaitlistCriteria> fromJson<WaitlistCriteria>(const Json& json) {
  return decode<WaitlistCriteria>(json, "criteria");
}
template <>
Result<NotificationContent> fromJson<NotificationContent>(const Json& json) {
  return decode<NotificationContent>(json, "content");
}

template <>
Result<TagList> fromJson<TagList>(const Json& json) {
  if (json.isNull()) return TagList{};
  auto strings = Fields::readStrings(json);
  if (!strings) return Fields::columnError("tags must be an array of strings");
  return normalizeTags(*strings);
}

}  // namespace anteroom
