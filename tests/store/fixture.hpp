// Shared helpers for store tests: a temporary folder, keys, and sample records with
// synthetic names.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "anteroom/store/store.hpp"

namespace anteroom::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anteroom-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    REQUIRE(made != nullptr);
    m_path = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

inline store::SecretKey newKey() {
  auto key = store::SecretKey::generate();
  REQUIRE(key.has_value());
  return std::move(*key);
}

inline store::Store openStore(const std::filesystem::path& path, const store::SecretKey& key) {
  store::OpenOptions options;
  options.path = path;
  options.create = true;
  auto s = store::Store::open(options, key);
  if (!s) FAIL("open failed: " << s.error().message);
  return std::move(*s);
}

inline std::string readAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline Instant at(int hour, int minute = 0) {
  using namespace std::chrono;
  return Instant{sys_days{2026y / November / 25}} + hours{hour} + minutes{minute};
}

// A small practice: one provider, one patient, one waitlist, one slot, one appointment.
struct SampleData {
  UuidGenerator ids{42};
  Practice practice;
  Provider provider;
  Patient patient;
  Waitlist waitlist;
  WaitlistEntry entry;
  AppointmentSlot slot;
  AppointmentRequest request;
  Appointment appointment;
  Notification notification;
  StaffUser staff;

  Uuid id() { return ids.v7(std::chrono::system_clock::now()); }

  explicit SampleData(std::string patientLastName = "Thistlewood") {
    practice.practiceId = id();
    practice.name = "Quiet Harbor Counseling";
    practice.address.line1 = "1 Example Street";
    practice.address.city = "Springfield";
    practice.phone = "+15415550100";
    practice.email = "desk@quietharbor.example";
    practice.settings.acceptedInsurance = {"Aetna"};

    provider.providerId = id();
    provider.practiceId = practice.practiceId;
    provider.firstName = "Miriam";
    provider.lastName = "Ashcombe";
    provider.email = "miriam@quietharbor.example";
    provider.specialties = {"anxiety", "depression"};
    provider.modalities = {"cbt"};
    AvailabilityWindow w;
    w.day = Weekday::Monday;
    w.startMinute = 9 * 60;
    w.endMinute = 17 * 60;
    provider.availability.windows.push_back(w);
    provider.experience = 11;
    provider.telehealth = true;

    patient.patientId = id();
    patient.firstName = "Ottilie";
    patient.lastName = patientLastName;
    patient.email = "ottilie.t@patients.example";
    patient.phone = "+15415551234";
    patient.dateOfBirth = std::chrono::year_month_day{std::chrono::year{1986}, std::chrono::month{4}, std::chrono::day{12}};
    patient.insuranceInfo.payer = "Aetna";
    patient.insuranceInfo.memberId = "W123456";
    patient.preferences.mode = VisitMode::Telehealth;
    patient.preferences.concerns = {"anxiety"};

    waitlist.waitlistId = id();
    waitlist.practiceId = practice.practiceId;
    waitlist.name = "Adult therapy";
    waitlist.description = "General adult list";

    entry.entryId = id();
    entry.waitlistId = waitlist.waitlistId;
    entry.patientId = patient.patientId;
    entry.providerId = provider.providerId;
    entry.priorityScore = 12.5;
    entry.notes = "prefers mornings";

    slot.slotId = id();
    slot.providerId = provider.providerId;
    slot.startTime = at(15);
    slot.endTime = at(15, 50);

    request.requestId = id();
    request.patientId = patient.patientId;
    request.providerId = provider.providerId;
    request.waitlistEntryId = entry.entryId;
    request.appointmentSlotId = slot.slotId;
    request.requestedTime = at(9);

    appointment.appointmentId = id();
    appointment.providerId = provider.providerId;
    appointment.patientId = patient.patientId;
    appointment.startTime = at(10);
    appointment.endTime = at(10, 50);

    notification.notificationId = id();
    notification.recipientId = provider.providerId;
    notification.recipientType = RecipientType::Provider;
    notification.type = NotificationType::RequestReceived;
    notification.content.templateKey = "request_received";
    notification.content.params = {{"request_id", request.requestId.toString()}};
    notification.sentAt = at(9, 1);

    staff.staffId = id();
    staff.practiceId = practice.practiceId;
    staff.displayName = "Jordan K.";
    staff.pinHash = "$argon2id$placeholder-not-used-for-login";
  }

  // Writes everything as server rows (no outbox), parents first.
  void applyAll(store::Store& s) {
    auto r = s.write(store::Actor::sync(), [&](store::WriteTx& tx) -> Result<void> {
      for (auto* step : {+[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.practice); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.provider); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.patient); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.waitlist); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.entry); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.slot); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.request); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.appointment); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.notification); },
                         +[](SampleData& d, store::WriteTx& t) { return t.applyRemote(d.staff); }}) {
        auto o = step(*this, tx);
        if (!o) return std::unexpected(o.error());
      }
      return {};
    });
    if (!r) FAIL("applyAll failed: " << r.error().message);
  }
};

}  // namespace anteroom::test
