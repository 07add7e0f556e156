// Whole-record rules: local writes must be valid and already normalised.
#include <doctest/doctest.h>

#include "anteroom/model/record_rules.hpp"

using namespace anteroom;
using namespace std::chrono;

namespace {

Instant now() { return Instant{sys_days{2026y / November / 25}} + hours{9}; }

Patient goodPatient() {
  UuidGenerator ids(3);
  Patient p;
  p.patientId = ids.v7(system_clock::now());
  p.firstName = "Ottilie";
  p.lastName = "Peña-Ruiz";
  p.email = "ottilie@patients.example";
  p.phone = "+15415551234";
  p.dateOfBirth = 1986y / April / 12;
  p.insuranceInfo.selfPay = true;
  return p;
}

}  // namespace

TEST_CASE("a valid, normalised patient passes") { CHECK(validateRecord(goodPatient(), now()).has_value()); }

TEST_CASE("each bad patient field is refused with its own code, never echoing the value") {
  struct Case {
    const char* what;
    void (*mutate)(Patient&);
    const char* code;
  };
  const Case cases[] = {
      {"empty first name", [](Patient& p) { p.firstName = ""; }, "validation.name.empty"},
      {"digits in a name", [](Patient& p) { p.lastName = "Sm1th"; }, "validation.name.characters"},
      {"untrimmed name", [](Patient& p) { p.lastName = " Peña "; }, "validation.not_normalized"},
      {"upper-case email", [](Patient& p) { p.email = "Ottilie@Patients.example"; }, "validation.not_normalized"},
      {"bad email", [](Patient& p) { p.email = "ottilie@@patients"; }, "validation.email.invalid"},
      {"national phone", [](Patient& p) { p.phone = "(541) 555-1234"; }, "validation.not_normalized"},
      {"bad phone", [](Patient& p) { p.phone = "+1123"; }, "validation.phone.invalid"},
      {"born tomorrow", [](Patient& p) { p.dateOfBirth = 2026y / November / 26; }, "validation.dob.future"},
      {"born 1890", [](Patient& p) { p.dateOfBirth = 1890y / January / 1; }, "validation.dob.too_old"},
      {"insurance without member id",
       [](Patient& p) {
         p.insuranceInfo.selfPay = false;
         p.insuranceInfo.payer = "Aetna";
       },
       "validation.insurance.member_id"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Patient p = goodPatient();
    c.mutate(p);
    auto r = validateRecord(p, now());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == c.code);
    CHECK(r.error().domain == ErrorDomain::Validation);
    CHECK(r.error().message.find("Sm1th") == std::string::npos);
    CHECK(r.error().message.find("ottilie@@") == std::string::npos);
  }
}

TEST_CASE("appointments and slots end after they start") {
  Appointment a;
  UuidGenerator ids(4);
  a.appointmentId = ids.v7(system_clock::now());
  a.providerId = ids.v7(system_clock::now());
  a.patientId = ids.v7(system_clock::now());
  a.startTime = now();
  a.endTime = now() + minutes{50};
  CHECK(validateRecord(a, now()).has_value());
  a.endTime = a.startTime;
  CHECK(validateRecord(a, now()).error().code == "validation.time.end_before_start");
  AppointmentSlot s;
  s.slotId = a.appointmentId;
  s.providerId = a.providerId;
  s.startTime = now();
  s.endTime = now() - minutes{1};
  CHECK(validateRecord(s, now()).error().code == "validation.time.end_before_start");
  s.providerId = Uuid{};
  CHECK(validateRecord(s, now()).error().code == "validation.required");
}

TEST_CASE("staff users keep only an Argon2id hash") {
  StaffUser u;
  UuidGenerator ids(5);
  u.staffId = ids.v7(system_clock::now());
  u.practiceId = ids.v7(system_clock::now());
  u.displayName = "Jordan K.";
  u.pinHash = "2468";
  CHECK(validateRecord(u, now()).error().code == "validation.pin_hash");
  u.pinHash = "$argon2id$v=19$m=65536,t=2,p=1$abc$def";
  CHECK(validateRecord(u, now()).has_value());
}
