// JSON columns: round trips, defaults, forward-compatible extras, type errors, and validation rules.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

#include "anteroom/model/columns.hpp"

using namespace anteroom;

// Comparisons use std::optional on both sides: doctest would otherwise find anteroom::toString
// (which returns std::string_view) by argument-dependent lookup and fail to stringify the enum.

namespace {

Address sampleAddress() {
  return {"12 Elm St", "Suite 4", "Springfield", "IL", "62701", "US", {}};
}

PracticeSettings sampleSettings() {
  PracticeSettings s;
  s.timeZone = "America/Chicago";
  s.acceptedInsurance = {"Aetna", "Blue Cross"};
  s.checkInOpensMinutesBefore = 30;
  s.lateAfterMinutes = 10;
  s.idleTimeoutSeconds = 90;
  s.defaultLanguage = "es";
  s.crisisLine = "1-800-273-8255";
  s.dataWindowDaysAhead = 5;
  s.staffAutoLockSeconds = 300;
  s.lookupRateLimitPerMinute = 4;
  return s;
}

WeeklyAvailability sampleAvailability() {
  WeeklyAvailability a;
  a.windows.push_back({Weekday::Monday, 9 * 60, 17 * 60, true, false, {}});
  a.windows.push_back({Weekday::Monday, 17 * 60, 24 * 60, false, true, {}});
  a.windows.push_back({Weekday::Saturday, 0, 30, true, true, {}});
  return a;
}

InsuranceInfo sampleInsurance() { return {false, "Aetna", "Choice POS II", "W123-456", "G789", {}}; }

PatientPreferences samplePreferences() {
  PatientPreferences p;
  p.mode = VisitMode::Telehealth;
  p.availableTimes = {{Weekday::Tuesday, 8 * 60, 12 * 60, {}}, {Weekday::Friday, 13 * 60 + 30, 18 * 60, {}}};
  p.concerns = {"anxiety", "trauma_ptsd"};
  p.modalities = {"emdr"};
  p.onlyPreferredProvider = true;
  p.language = "vi";
  p.contactConsent = true;
  p.contactMethod = ContactMethod::Email;
  return p;
}

WaitlistCriteria sampleCriteria() {
  WaitlistCriteria c;
  c.weights = {1.25, 90, 40, 2.5, 0, {}};
  c.offerMode = OfferMode::StaffApproval;
  c.holdMinutes = 45;
  c.broadcastSize = 5;
  c.specialties = {"child_adolescent", "adhd"};
  c.acceptsNewPatients = false;
  return c;
}

NotificationContent sampleNotification() {
  return {"waitlist.offer", {{"appointment_id", "0193a5c2-7d4e-7c3a-9f00-1c2d3e4f5a6b"}, {"starts_at", "2026-11-25T15:00:00.000000Z"}}, {}};
}

template <class T>
void checkRoundTrip(const T& value) {
  const std::string text = dumpColumn(value);
  CAPTURE(text);
  const auto parsed = parseColumn<T>(text);
  REQUIRE(parsed);
  CHECK(*parsed == value);
  CHECK(dumpColumn(*parsed) == text);
}

template <class T>
std::string columnError(std::string_view text) {
  const auto parsed = parseColumn<T>(text);
  if (parsed) return "ok";
  CHECK(toString(parsed.error().domain) == "validation");
  CHECK(parsed.error().code == "json.column");
  return parsed.error().message;
}

template <class T>
std::string ruleError(const T& value) {
  const auto ok = validate(value);
  if (ok) return "ok";
  CHECK(toString(ok.error().domain) == "validation");
  return ok.error().code;
}

}  // namespace

TEST_CASE("every column round-trips with non-default values") {
  checkRoundTrip(sampleAddress());
  checkRoundTrip(sampleSettings());
  checkRoundTrip(TagList{"anxiety", "sleep", "something_new"});
  checkRoundTrip(TimeWindow{Weekday::Wednesday, 0, 1440, {}});
  checkRoundTrip(AvailabilityWindow{Weekday::Sunday, 60, 120, false, true, {}});
  checkRoundTrip(sampleAvailability());
  checkRoundTrip(sampleInsurance());
  checkRoundTrip(samplePreferences());
  checkRoundTrip(sampleCriteria().weights);
  checkRoundTrip(sampleCriteria());
  checkRoundTrip(sampleNotification());
}

TEST_CASE("columns dump canonical snake_case JSON") {
  CHECK(dumpColumn(sampleAddress()) ==
        R"({"city":"Springfield","country":"US","line1":"12 Elm St","line2":"Suite 4","postal_code":"62701","region":"IL"})");
  CHECK(dumpColumn(TimeWindow{Weekday::Monday, 9 * 60, 17 * 60, {}}) ==
        R"({"day":"mon","end":"17:00","start":"09:00"})");
  CHECK(dumpColumn(sampleAvailability().windows.front()) ==
        R"({"day":"mon","end":"17:00","in_person":true,"start":"09:00","telehealth":false})");
  CHECK(dumpColumn(PriorityWeights{}) ==
        R"({"flexibility":5.0,"max_days_waiting":180.0,"narrow_fit":3.0,"per_day_waiting":0.5,"urgency":20.0})");
  CHECK(dumpColumn(WaitlistCriteria{}).find(R"("offer_mode":"sequential")") != std::string::npos);
  CHECK(dumpColumn(PatientPreferences{}).find(R"("mode":"either")") != std::string::npos);
  CHECK(dumpColumn(sampleNotification()) ==
        R"({"params":{"appointment_id":"0193a5c2-7d4e-7c3a-9f00-1c2d3e4f5a6b","starts_at":"2026-11-25T15:00:00.000000Z"},"template_key":"waitlist.offer"})");
}

TEST_CASE("an empty object or null gives the defaults") {
  CHECK(parseColumn<Address>("{}") == Address{});
  CHECK(parseColumn<Address>("{}")->country == "US");
  CHECK(parseColumn<PracticeSettings>("{}") == PracticeSettings{});
  CHECK(parseColumn<PracticeSettings>("{}")->crisisLine == "988");
  CHECK(parseColumn<TagList>("[]") == TagList{});
  CHECK(parseColumn<TagList>("null") == TagList{});
  CHECK(parseColumn<WeeklyAvailability>("{}") == WeeklyAvailability{});
  CHECK(parseColumn<InsuranceInfo>("{}") == InsuranceInfo{});
  CHECK(parseColumn<PatientPreferences>("{}") == PatientPreferences{});
  CHECK(parseColumn<PriorityWeights>("{}") == PriorityWeights{});
  CHECK(parseColumn<WaitlistCriteria>("{}") == WaitlistCriteria{});
  CHECK(parseColumn<WaitlistCriteria>("{}")->weights.maxDaysWaiting == 180);
  CHECK(parseColumn<NotificationContent>("{}") == NotificationContent{});
  CHECK(parseColumn<Address>("null") == Address{});
  // Null fields mean "unset", like missing ones.
  CHECK(parseColumn<PracticeSettings>(R"({"late_after_minutes":null,"crisis_line":null})") == PracticeSettings{});
  // Missing keys default individually.
  const auto partial = parseColumn<PracticeSettings>(R"({"late_after_minutes":5})");
  REQUIRE(partial);
  CHECK(partial->lateAfterMinutes == 5);
  CHECK(partial->idleTimeoutSeconds == 60);
}

TEST_CASE("unknown keys survive a round trip, at every level") {
  const std::string text =
      R"({"future_flag":true,"weights":{"per_day_waiting":1,"recency":{"half_life":3}},"zeta":[1,"two"]})";
  const auto criteria = parseColumn<WaitlistCriteria>(text);
  REQUIRE(criteria);
  CHECK(criteria->extra.size() == 2);
  CHECK(criteria->extra.at("future_flag") == Json(true));
  CHECK(criteria->weights.perDayWaiting == 1.0);
  CHECK(criteria->weights.extra.at("recency").find("half_life")->asInt() == 3);
  const std::string dumped = dumpColumn(*criteria);
  CHECK(dumped.find(R"("future_flag":true)") != std::string::npos);
  CHECK(dumped.find(R"("recency":{"half_life":3})") != std::string::npos);
  CHECK(dumped.find(R"("zeta":[1,"two"])") != std::string::npos);
  CHECK(*parseColumn<WaitlistCriteria>(dumped) == *criteria);

  const auto availability =
      parseColumn<WeeklyAvailability>(R"({"windows":[{"day":"tue","start":"10:00","end":"11:00","room":"B"}]})");
  REQUIRE(availability);
  CHECK(availability->windows.at(0).extra.at("room") == Json("B"));
  CHECK(dumpColumn(*availability).find(R"("room":"B")") != std::string::npos);

  // Known fields win over a stale extra of the same name.
  Address address = sampleAddress();
  address.extra["city"] = "Stale";
  address.extra["county"] = "Sangamon";
  const auto reread = parseColumn<Address>(dumpColumn(address));
  REQUIRE(reread);
  CHECK(reread->city == "Springfield");
  CHECK(reread->extra == Json::Object{{"county", "Sangamon"}});
}

TEST_CASE("wrong types are errors naming the field") {
  CHECK(columnError<Address>(R"({"city":5})") == "address.city must be a string");
  CHECK(columnError<Address>(R"([1])") == "address must be an object");
  CHECK(columnError<Address>(R"("12 Elm")") == "address must be an object");
  CHECK(columnError<PracticeSettings>(R"({"late_after_minutes":"15"})") ==
        "settings.late_after_minutes must be an integer");
  CHECK(columnError<PracticeSettings>(R"({"late_after_minutes":15.5})") ==
        "settings.late_after_minutes must be an integer");
  CHECK(columnError<PracticeSettings>(R"({"idle_timeout_seconds":3000000000})") ==
        "settings.idle_timeout_seconds must be an integer");
  CHECK(columnError<PracticeSettings>(R"({"accepted_insurance":["Aetna",3]})") ==
        "settings.accepted_insurance must be an array of strings");
  CHECK(columnError<PracticeSettings>(R"({"accepted_insurance":"Aetna"})") ==
        "settings.accepted_insurance must be an array of strings");
  CHECK(columnError<TagList>(R"(["cbt",1])") == "tags must be an array of strings");
  CHECK(columnError<TagList>(R"({"cbt":true})") == "tags must be an array of strings");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":{}})") == "availability.windows must be an array");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":[{"day":"mon","start":"09:00","end":"10:00"},7]})") ==
        "availability.windows[1] must be an object");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":[{"day":"monday"}]})") ==
        R"(availability.windows[0].day must be one of "sun", "mon", "tue", "wed", "thu", "fri", "sat")");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":[{"start":"9:00"}]})") ==
        R"(availability.windows[0].start must be a time "HH:MM")");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":[{"end":540}]})") ==
        R"(availability.windows[0].end must be a time "HH:MM")");
  CHECK(columnError<WeeklyAvailability>(R"({"windows":[{"telehealth":1}]})") ==
        "availability.windows[0].telehealth must be true or false");
  CHECK(columnError<InsuranceInfo>(R"({"self_pay":"no"})") == "insurance_info.self_pay must be true or false");
  CHECK(columnError<InsuranceInfo>(R"({"member_id":12345})") == "insurance_info.member_id must be a string");
  CHECK(columnError<PatientPreferences>(R"({"mode":"video"})") ==
        R"(preferences.mode must be one of "in_person", "telehealth", "either")");
  CHECK(columnError<PatientPreferences>(R"({"contact_method":"fax"})") ==
        R"(preferences.contact_method must be one of "sms", "phone", "email")");
  CHECK(columnError<PatientPreferences>(R"({"available_times":[{"day":"sun","start":"25:00"}]})") ==
        R"(preferences.available_times[0].start must be a time "HH:MM")");
  CHECK(columnError<PatientPreferences>(R"({"concerns":"anxiety"})") ==
        "preferences.concerns must be an array of strings");
  CHECK(columnError<PatientPreferences>(R"({"language":["en"]})") == "preferences.language must be a string");
  CHECK(columnError<WaitlistCriteria>(R"({"weights":{"urgency":"high"}})") ==
        "criteria.weights.urgency must be a number");
  CHECK(columnError<WaitlistCriteria>(R"({"weights":[]})") == "criteria.weights must be an object");
  CHECK(columnError<WaitlistCriteria>(R"({"offer_mode":"lottery"})") ==
        R"(criteria.offer_mode must be one of "sequential", "broadcast", "staff_approval")");
  CHECK(columnError<WaitlistCriteria>(R"({"hold_minutes":true})") == "criteria.hold_minutes must be an integer");
  CHECK(columnError<WaitlistCriteria>(R"({"accepts_new_patients":0})") ==
        "criteria.accepts_new_patients must be true or false");
  CHECK(columnError<NotificationContent>(R"({"params":{"id":7}})") ==
        "content.params must be an object of strings");
  CHECK(columnError<NotificationContent>(R"({"template_key":null,"params":[]})") ==
        "content.params must be an object of strings");

  // Numbers for doubles may be written as integers; invalid JSON keeps the parser's error.
  CHECK(parseColumn<PriorityWeights>(R"({"urgency":7})")->urgency == 7.0);
  const auto broken = parseColumn<Address>(R"({"city":)");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == "json.parse");
}

namespace {

// Puts values of every JSON type under each known key: reading either succeeds and round-trips,
// or fails with a json.column error that names the key.
template <class T>
void probeEveryField(const T& sample) {
  const Json base = toJson(sample);
  const Json probes[] = {Json(),  Json(true), Json(0),   Json(-1),  Json(1.5),
                         Json(""), Json("mon"), Json("09:00"), Json("either"),
                         Json(Json::Array{}), Json(Json::Array{"a"}), Json(Json::Array{Json::Object{}}),
                         Json(Json::Object{}), Json(Json::Object{{"a", "b"}})};
  for (const auto& [key, value] : base.asObject()) {
    for (const Json& probe : probes) {
      Json changed = base;
      changed[key] = probe;
      CAPTURE(changed.dump());
      const auto read = fromJson<T>(changed);
      if (!read) {
        CHECK(read.error().code == "json.column");
        CHECK(read.error().message.find(key) != std::string::npos);
        continue;
      }
      const auto again = fromJson<T>(toJson(*read));
      REQUIRE(again);
      CHECK(*again == *read);
    }
  }
}

}  // namespace

TEST_CASE("any value under any known key is read or refused cleanly") {
  probeEveryField(sampleAddress());
  probeEveryField(sampleSettings());
  probeEveryField(sampleAvailability());
  probeEveryField(sampleAvailability().windows.front());
  probeEveryField(TimeWindow{Weekday::Monday, 60, 120, {}});
  probeEveryField(sampleInsurance());
  probeEveryField(samplePreferences());
  probeEveryField(sampleCriteria());
  probeEveryField(sampleCriteria().weights);
  probeEveryField(sampleNotification());
}

TEST_CASE("tags are normalised and checked against the vocabulary") {
  CHECK(normalizeTag("  Trauma PTSD ") == "trauma_ptsd");
  CHECK(normalizeTag("Eating\t Disorders") == "eating_disorders");
  CHECK(normalizeTag("CBT") == "cbt");
  CHECK(normalizeTag("   ") == "");
  CHECK(normalizeTag("Ünïcode Tag") == "Ünïcode_tag");  // only ASCII is lower-cased
  CHECK(normalizeTags({"Anxiety", " anxiety", "", "  ", "Family Systems", "ANXIETY", "family_systems"}) ==
        TagList{"anxiety", "family_systems"});
  CHECK(parseColumn<TagList>(R"([" Depression ","depression","Grief"])") == TagList{"depression", "grief"});
  CHECK(dumpColumn(TagList{"OCD", "ocd", " Sleep"}) == R"(["ocd","sleep"])");
  CHECK(parseColumn<PatientPreferences>(R"({"concerns":["Substance Use"],"modalities":["DBT","dbt"]})")->concerns ==
        TagList{"substance_use"});
  CHECK(parseColumn<WaitlistCriteria>(R"({"specialties":["LGBTQ"]})")->specialties == TagList{"lgbtq"});

  CHECK(isKnownSpecialty("trauma_ptsd"));
  CHECK(isKnownSpecialty("personality_disorders"));
  CHECK_FALSE(isKnownSpecialty("astrology"));
  CHECK_FALSE(isKnownSpecialty("cbt"));
  CHECK(isKnownModality("motivational_interviewing"));
  CHECK_FALSE(isKnownModality("anxiety"));
  for (const auto tag : kKnownSpecialties) CHECK(normalizeTag(tag) == tag);
  for (const auto tag : kKnownModalities) CHECK(normalizeTag(tag) == tag);
  // Unknown tags are kept, not dropped.
  CHECK(parseColumn<TagList>(R"(["somatic_experiencing"])") == TagList{"somatic_experiencing"});
}

TEST_CASE("enum names and times of day") {
  for (int d = 0; d < 7; ++d) {
    const auto day = static_cast<Weekday>(d);
    CHECK(parseWeekday(toString(day)) == std::optional(day));
  }
  CHECK(toString(Weekday::Sunday) == "sun");
  CHECK(toString(Weekday::Saturday) == "sat");
  CHECK_FALSE(parseWeekday("Mon"));
  CHECK_FALSE(parseWeekday(""));
  CHECK(parseVisitMode("in_person") == std::optional(VisitMode::InPerson));
  CHECK(toString(VisitMode::Telehealth) == "telehealth");
  CHECK(parseContactMethod("phone") == std::optional(ContactMethod::Phone));
  CHECK(toString(ContactMethod::Sms) == "sms");
  CHECK(parseOfferMode("staff_approval") == std::optional(OfferMode::StaffApproval));
  CHECK(toString(OfferMode::Broadcast) == "broadcast");
  CHECK_FALSE(parseOfferMode("Broadcast"));

  CHECK(formatMinuteOfDay(0) == "00:00");
  CHECK(formatMinuteOfDay(9 * 60 + 5) == "09:05");
  CHECK(formatMinuteOfDay(23 * 60 + 59) == "23:59");
  CHECK(formatMinuteOfDay(1440) == "24:00");
  CHECK(formatMinuteOfDay(-5) == "00:00");
  CHECK(formatMinuteOfDay(5000) == "24:00");
  for (int m = 0; m <= 1440; ++m) CHECK(parseMinuteOfDay(formatMinuteOfDay(m)) == m);
  for (const std::string_view bad : {"", "9:00", "09:0", "09-00", "24:01", "25:00", "12:60", "-1:00", "ab:cd",
                                     "09:00 ", " 09:00", "0900", "09:00:00", "+9:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseMinuteOfDay(bad));
  }
}

TEST_CASE("time windows must lie within a day and end after they start") {
  CHECK(ruleError(TimeWindow{Weekday::Monday, 9 * 60, 17 * 60, {}}) == "ok");
  CHECK(ruleError(TimeWindow{Weekday::Monday, 0, 1440, {}}) == "ok");
  CHECK(ruleError(TimeWindow{Weekday::Monday, 600, 600, {}}) == "validation.time_window");
  CHECK(ruleError(TimeWindow{Weekday::Monday, 700, 600, {}}) == "validation.time_window");
  CHECK(ruleError(TimeWindow{Weekday::Monday, -1, 600, {}}) == "validation.time_window");
  CHECK(ruleError(TimeWindow{Weekday::Monday, 600, 1441, {}}) == "validation.time_window");
  CHECK(ruleError(TimeWindow{static_cast<Weekday>(7), 0, 60, {}}) == "validation.time_window");
  // Reading checks shape only; a reversed window loads and is refused by validate().
  const auto reversed = parseColumn<TimeWindow>(R"({"day":"fri","start":"17:00","end":"09:00"})");
  REQUIRE(reversed);
  CHECK(ruleError(*reversed) == "validation.time_window");
  CHECK(ruleError(*parseColumn<TimeWindow>(R"({"day":"fri","start":"17:00","end":"24:00"})")) == "ok");
  CHECK(ruleError(*parseColumn<TimeWindow>(R"({"day":"fri","start":"24:00","end":"24:00"})")) ==
        "validation.time_window");

  PatientPreferences preferences = samplePreferences();
  CHECK(ruleError(preferences) == "ok");
  preferences.availableTimes.push_back({Weekday::Sunday, 60, 30, {}});
  CHECK(ruleError(preferences) == "validation.time_window");
}

TEST_CASE("availability windows of the same day and mode must not overlap") {
  CHECK(ruleError(sampleAvailability()) == "ok");
  CHECK(ruleError(WeeklyAvailability{}) == "ok");

  const auto with = [](AvailabilityWindow extraWindow) {
    WeeklyAvailability a = sampleAvailability();  // mon 09-17 in person, mon 17-24 telehealth, sat both
    a.windows.push_back(extraWindow);
    return a;
  };
  // Same day, same mode, overlapping.
  CHECK(ruleError(with({Weekday::Monday, 16 * 60, 18 * 60, true, false, {}})) == "validation.availability.overlap");
  CHECK(ruleError(with({Weekday::Monday, 10 * 60, 11 * 60, true, false, {}})) == "validation.availability.overlap");
  CHECK(ruleError(with({Weekday::Monday, 8 * 60, 20 * 60, true, false, {}})) == "validation.availability.overlap");
  CHECK(ruleError(with({Weekday::Monday, 20 * 60, 21 * 60, false, true, {}})) == "validation.availability.overlap");
  CHECK(ruleError(with({Weekday::Saturday, 0, 10, false, true, {}})) == "validation.availability.overlap");
  // A window offering both modes clashes with either.
  CHECK(ruleError(with({Weekday::Monday, 12 * 60, 13 * 60, true, true, {}})) == "validation.availability.overlap");
  // Touching, other mode, or other day: fine.
  CHECK(ruleError(with({Weekday::Monday, 8 * 60, 9 * 60, true, false, {}})) == "ok");
  CHECK(ruleError(with({Weekday::Monday, 17 * 60, 18 * 60, true, false, {}})) == "ok");
  CHECK(ruleError(with({Weekday::Monday, 10 * 60, 11 * 60, false, true, {}})) == "ok");
  CHECK(ruleError(with({Weekday::Tuesday, 10 * 60, 11 * 60, true, true, {}})) == "ok");
  // Each window is checked on its own too.
  CHECK(ruleError(with({Weekday::Tuesday, 11 * 60, 10 * 60, true, false, {}})) == "validation.time_window");
  CHECK(ruleError(with({Weekday::Tuesday, 10 * 60, 11 * 60, false, false, {}})) == "validation.availability.mode");

  const auto overlap = validate(with({Weekday::Monday, 16 * 60, 18 * 60, true, false, {}}));
  REQUIRE_FALSE(overlap);
  CHECK(overlap.error().message == "Availability windows overlap on mon.");
}

TEST_CASE("insurance: payer and member ID unless self-pay") {
  CHECK(ruleError(sampleInsurance()) == "ok");
  InsuranceInfo selfPay;
  selfPay.selfPay = true;
  CHECK(ruleError(selfPay) == "ok");

  InsuranceInfo noPayer = sampleInsurance();
  noPayer.payer = "  ";
  CHECK(ruleError(noPayer) == "validation.insurance.payer");
  CHECK(ruleError(InsuranceInfo{}) == "validation.insurance.payer");

  const auto withMemberId = [](std::string id) {
    InsuranceInfo info = sampleInsurance();
    info.memberId = std::move(id);
    return info;
  };
  CHECK(ruleError(withMemberId("")) == "validation.insurance.member_id");
  CHECK(ruleError(withMemberId("W123 456")) == "validation.insurance.member_id");
  CHECK(ruleError(withMemberId("W123_456")) == "validation.insurance.member_id");
  CHECK(ruleError(withMemberId("ÄBC")) == "validation.insurance.member_id");
  CHECK(ruleError(withMemberId(std::string(41, '7'))) == "validation.insurance.member_id");
  CHECK(ruleError(withMemberId(std::string(40, '7'))) == "ok");
  CHECK(ruleError(withMemberId("a")) == "ok");
  CHECK(ruleError(withMemberId("abc-XYZ-019")) == "ok");
  // Messages never echo what was typed.
  CHECK(validate(withMemberId("SECRET 1")).error().message.find("SECRET") == std::string::npos);
}
