// Builders for waitlist tests: a small practice with invented providers and patients, slots at
// fixed UTC times (offset 0), and a seeded random population for the property tests.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "anteroom/model/waitlist_engine.hpp"
#include "anteroom/model/waitlist_offers.hpp"

namespace anteroom::test {

using namespace std::chrono;

// Monday 2026-11-23 00:00 UTC.
inline Instant monday() { return Instant{sys_days{2026y / November / 23}}; }
inline Instant at(int day, int hour, int minute = 0) { return monday() + days{day} + hours{hour} + minutes{minute}; }

class Ids {
 public:
  explicit Ids(std::uint64_t seed = 7) : m_gen(seed) {}
  Uuid next() { return m_gen.v7(system_clock::time_point(sys_days{2026y / January / 1}) + milliseconds{m_tick++}); }

 private:
  UuidGenerator m_gen;
  std::int64_t m_tick = 0;
};

inline WeeklyAvailability weekdayHours(bool telehealth, bool inPerson = true) {
  WeeklyAvailability a;
  for (int d = 1; d <= 5; ++d) {
    AvailabilityWindow w;
    w.day = static_cast<Weekday>(d);
    w.startMinute = 9 * 60;
    w.endMinute = 17 * 60;
    w.inPerson = inPerson;
    w.telehealth = telehealth;
    a.windows.push_back(w);
  }
  return a;
}

inline Provider makeProvider(Ids& ids, const char* first, const char* last, TagList specialties, TagList modalities,
                             int experience, bool telehealth, bool inPerson = true) {
  Provider p;
  p.providerId = ids.next();
  p.practiceId = ids.next();
  p.firstName = first;
  p.lastName = last;
  p.email = std::string(first) + "@clinic.example";
  for (auto& c : p.email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.specialties = std::move(specialties);
  p.modalities = std::move(modalities);
  p.availability = weekdayHours(telehealth, inPerson);
  p.experience = experience;
  p.telehealth = telehealth;
  return p;
}

inline Patient makePatient(Ids& ids, const char* first, const char* last, VisitMode mode, TagList concerns,
                           TagList modalities = {}, std::vector<TimeWindow> times = {}) {
  Patient p;
  p.patientId = ids.next();
  p.firstName = first;
  p.lastName = last;
  p.email = "patient" + p.patientId.toString().substr(30) + "@example.com";
  p.phone = "+15415550199";
  p.dateOfBirth = Date{1990y / March / 14};
  p.insuranceInfo.selfPay = true;
  p.preferences.mode = mode;
  p.preferences.concerns = std::move(concerns);
  p.preferences.modalities = std::move(modalities);
  p.preferences.availableTimes = std::move(times);
  return p;
}

inline WaitlistEntry makeEntry(Ids& ids, const Waitlist& list, const Patient& patient, Instant created, int urgency = 0,
                               std::optional<Uuid> provider = std::nullopt) {
  WaitlistEntry e;
  e.entryId = ids.next();
  e.waitlistId = list.waitlistId;
  e.patientId = patient.patientId;
  e.providerId = provider;
  e.urgency = urgency;
  e.createdAt = created;
  e.updatedAt = created;
  return e;
}

inline AppointmentSlot makeSlot(Ids& ids, const Provider& provider, Instant start, int minutes = 50) {
  AppointmentSlot s;
  s.slotId = ids.next();
  s.providerId = provider.providerId;
  s.startTime = start;
  s.endTime = start + std::chrono::minutes{minutes};
  return s;
}

inline TimeWindow window(Weekday day, int startHour, int endHour) {
  TimeWindow w;
  w.day = day;
  w.startMinute = startHour * 60;
  w.endMinute = endHour * 60;
  return w;
}

// A seeded random practice: 6 providers, `entries` patients on 2 lists, mixed preferences.
struct Population {
  EngineData data;
  std::vector<AppointmentSlot> slots;
};

inline Population randomPopulation(std::uint64_t seed, int entries, int slots) {
  std::mt19937_64 rng(seed);
  Ids ids(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<TagList> specialtySets = {{"anxiety", "depression", "stress"}, {"trauma_ptsd", "anxiety"},
                                              {"depression", "grief"},            {"substance_use", "adhd"},
                                              {"child_adolescent", "family"},     {"bipolar", "depression"}};
  const std::vector<std::string> modalities = {"cbt", "dbt", "emdr", "act", "ipt", "mindfulness"};
  Population pop;
  for (int i = 0; i < 6; ++i) {
    TagList mods = {modalities[static_cast<std::size_t>(i)], modalities[static_cast<std::size_t>((i + 2) % 6)]};
    const bool telehealth = pick(0, 1) == 1;
    const bool inPerson = !telehealth || pick(0, 4) != 0;  // a window offers at least one mode
    pop.data.providers.push_back(makeProvider(ids, "Prov", "Ider", specialtySets[static_cast<std::size_t>(i)], mods,
                                              pick(0, 30), telehealth, inPerson));
  }
  for (int l = 0; l < 2; ++l) {
    Waitlist list;
    list.waitlistId = ids.next();
    list.practiceId = ids.next();
    list.name = l == 0 ? "General" : "Trauma";
    list.createdAt = monday() - days{400};
    pop.data.waitlists.push_back(list);
  }
  pop.data.settings.acceptedInsurance = {"Aetna", "Cigna"};
  const char* payers[] = {"Aetna", "Cigna", "Medicaid"};
  for (int i = 0; i < entries; ++i) {
    const auto mode = static_cast<VisitMode>(pick(0, 2));
    TagList concerns;
    const auto& set = specialtySets[static_cast<std::size_t>(pick(0, 5))];
    for (const auto& t : set)
      if (pick(0, 2) != 0) concerns.push_back(t);
    if (pick(0, 20) == 0) concerns.push_back("psychosis");  // nobody covers it
    TagList mods;
    for (const auto& m : modalities)
      if (pick(0, 4) == 0) mods.push_back(m);
    std::vector<TimeWindow> times;
    if (pick(0, 2) == 0)
      for (int k = pick(1, 3); k > 0; --k) times.push_back(window(static_cast<Weekday>(pick(1, 5)), pick(8, 12), pick(13, 18)));
    Patient p = makePatient(ids, "Pat", "Ient", mode, concerns, mods, times);
    p.insuranceInfo.selfPay = pick(0, 5) == 0;
    p.insuranceInfo.payer = payers[pick(0, 2)];
    p.preferences.onlyPreferredProvider = pick(0, 3) == 0;
    std::optional<Uuid> preferred;
    if (pick(0, 2) == 0) preferred = pop.data.providers[static_cast<std::size_t>(pick(0, 5))].providerId;
    auto e = makeEntry(ids, pop.data.waitlists[static_cast<std::size_t>(pick(0, 1))], p,
                       monday() - days{pick(0, 300)} - hours{pick(0, 23)}, pick(0, 3), preferred);
    // A few equal creation times, so ties are exercised.
    if (i % 17 == 0) e.createdAt = monday() - days{30};
    const int s = pick(0, 9);
    e.status = s < 7 ? WaitlistEntryStatus::Waiting
               : s == 7 ? WaitlistEntryStatus::Offered
               : s == 8 ? WaitlistEntryStatus::Scheduled
                        : WaitlistEntryStatus::Removed;
    pop.data.patients.push_back(std::move(p));
    pop.data.entries.push_back(std::move(e));
  }
  for (int i = 0; i < slots; ++i) {
    const auto& provider = pop.data.providers[static_cast<std::size_t>(pick(0, 5))];
    auto slot = makeSlot(ids, provider, at(pick(0, 6), pick(7, 18), pick(0, 1) * 30));
    if (pick(0, 9) == 0) slot.status = SlotStatus::Booked;
    pop.slots.push_back(slot);
  }
  return pop;
}

}  // namespace anteroom::test
