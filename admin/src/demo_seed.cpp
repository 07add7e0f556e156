// Builds the demo practice: providers, staff, patients, today's schedule, open slots and
// two waitlists, all from a seeded generator so the same seed gives the same practice.
#include "demo_seed.hpp"

#include <algorithm>
#include <ctime>
#include <random>

#include "anteroom/model/row_json.hpp"
#include "anteroom/model/validation.hpp"
#include "anteroom/model/waitlist_engine.hpp"
#include "anteroom/store/local_time.hpp"
#include "anteroom/store/pin.hpp"

namespace anteroom::admin {
namespace {

using namespace std::chrono;

constexpr const char* kFirstNames[] = {
    "Avery", "Blake", "Camila", "Dmitri", "Elena", "Farah", "Gabriel", "Hana", "Isabel", "Jonah",
    "Keiko", "Lucía", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Santiago", "Tamsin",
    "Uma", "Valentina", "Wesley", "Ximena", "Yusuf", "Zoe", "José", "María", "Andrés", "Inés"};
constexpr const char* kLastNames[] = {
    "Abernathy", "Bellweather", "Castellanos", "Duquesne", "Everhart", "Fairbanks", "Galloway",
    "Hollister", "Ibarra", "Jessop", "Kowalczyk", "Lindqvist", "Marchetti", "Nakamura", "Okonkwo",
    "Peña", "Quintero", "Rosenthal", "Salcedo", "Thistlewood", "Underhill", "Valdés", "Whitcombe",
    "Yarborough", "Zeller", "Muñoz", "O'Hanlon", "Ruiz-Tagle", "Beaumont", "Carrow"};
constexpr const char* kPayers[] = {"Aetna", "Blue Cross", "Cigna", "UnitedHealthcare", "Medicaid", "Kaiser"};

struct ProviderSeed {
  const char* first;
  const char* last;
  TagList specialties;
  TagList modalities;
  int experience;
  bool telehealth;
};

const ProviderSeed kProviders[] = {
    {"Miriam", "Ashcombe", {"anxiety", "depression", "stress"}, {"cbt", "act", "mindfulness"}, 14, true},
    {"Tobias", "Renwick", {"trauma_ptsd", "anxiety"}, {"emdr", "cbt"}, 9, false},
    {"Lucía", "Ferrándiz", {"depression", "grief", "relationships"}, {"ipt", "psychodynamic"}, 21, true},
    {"Desmond", "Oyelaran", {"substance_use", "adhd"}, {"motivational_interviewing", "cbt"}, 6, true},
    {"Harriet", "Vance", {"child_adolescent", "family", "anxiety"}, {"play_therapy", "family_systems"}, 12, false},
    {"Arjun", "Mehra", {"bipolar", "psychosis", "depression"}, {"medication_management", "dbt"}, 17, true},
};

template <class T, std::size_t N>
const T& pick(std::mt19937_64& rng, const T (&items)[N]) {
  return items[std::uniform_int_distribution<std::size_t>(0, N - 1)(rng)];
}

int between(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

std::string asciiSlug(std::string_view name) { return nameLookupKey(name); }

WeeklyAvailability weekdays(bool telehealth) {
  WeeklyAvailability a;
  for (int d = 1; d <= 5; ++d) {
    AvailabilityWindow w;
    w.day = static_cast<Weekday>(d);
    w.startMinute = 9 * 60;
    w.endMinute = 17 * 60;
    w.telehealth = telehealth;
    a.windows.push_back(w);
  }
  return a;
}

}  // namespace

Instant localMidnightToday(Instant now) { return store::localMidnight(now); }

namespace {

// Every record of the demo practice, parents first, handed to `apply` one at a time.
template <class Apply>
Result<SeedSummary> buildDemoPractice(const SeedOptions& options, const std::vector<std::string>& pinHashes,
                                      Apply&& apply) {
  std::mt19937_64 rng(options.seed);
  // Ids come from the seeded generator at fixed instants, so a seed always names the same rows.
  UuidGenerator ids(options.seed);
  const auto idBase = sys_days{2026y / January / 1};
  std::int64_t idTick = 0;
  auto nextId = [&] { return ids.v7(system_clock::time_point(idBase) + milliseconds{idTick++}); };

  const Instant now = options.now;
  const Instant midnight = options.localMidnight == Instant{} ? localMidnightToday(now) : options.localMidnight;
  SeedSummary summary;
  const std::string tag = options.emailTag;
  {
    auto stamp = [&](auto& record, Instant created) {
      record.createdAt = created;
      record.updatedAt = created;
      record.sync.rowVersion = 1;
    };

    Practice practice;
    practice.practiceId = nextId();
    practice.name = "Harbor Light Counseling (demo)";
    practice.address = Address{"100 Example Way", "Suite 2", "Springfield", "OR", "97477", "US", {}};
    practice.phone = "+15415550100";
    practice.email = "frontdesk" + tag + "@harborlight.example";
    if (!options.timeZone.empty()) practice.settings.timeZone = options.timeZone;
    practice.settings.acceptedInsurance = {"Aetna", "Blue Cross", "Cigna", "Medicaid"};
    stamp(practice, now - days{400});
    summary.practiceId = practice.practiceId;
    if (auto a = apply(practice); !a) return std::unexpected(a.error());

    for (std::size_t i = 0; i < std::size(kDemoStaff); ++i) {
      StaffUser staff;
      staff.staffId = nextId();
      staff.practiceId = practice.practiceId;
      staff.displayName = kDemoStaff[i].displayName;
      staff.role = i == 0 ? StaffRole::FrontDesk : StaffRole::Manager;
      staff.pinHash = pinHashes[i];
      stamp(staff, now - days{300});
      if (auto a = apply(staff); !a) return std::unexpected(a.error());
      ++summary.staff;
    }

    std::vector<Provider> providers;
    for (const auto& p : kProviders) {
      Provider provider;
      provider.providerId = nextId();
      provider.practiceId = practice.practiceId;
      provider.firstName = p.first;
      provider.lastName = p.last;
      provider.email = asciiSlug(p.first) + "." + asciiSlug(p.last) + tag + "@harborlight.example";
      provider.specialties = p.specialties;
      provider.modalities = p.modalities;
      provider.availability = weekdays(p.telehealth);
      provider.experience = p.experience;
      provider.telehealth = p.telehealth;
      stamp(provider, now - days{380});
      if (auto a = apply(provider); !a) return std::unexpected(a.error());
      providers.push_back(provider);
    }
    summary.providers = static_cast<int>(providers.size());

    std::vector<Patient> patients;
    patients.reserve(static_cast<std::size_t>(options.patients));
    for (int i = 0; i < options.patients; ++i) {
      Patient patient;
      patient.patientId = nextId();
      patient.firstName = pick(rng, kFirstNames);
      patient.lastName = pick(rng, kLastNames);
      patient.email = asciiSlug(patient.firstName) + "." + asciiSlug(patient.lastName) + "." + std::to_string(i) + tag +
                      "@patients.example";
      patient.phone = "+1541555" + std::to_string(1000 + (i % 9000));
      patient.dateOfBirth = year_month_day{sys_days{1945y / January / 1} + days{between(rng, 0, 22500)}};
      if (between(rng, 0, 9) == 0) {
        patient.insuranceInfo.selfPay = true;
      } else {
        patient.insuranceInfo.payer = pick(rng, kPayers);
        patient.insuranceInfo.memberId = "M" + std::to_string(between(rng, 10000000, 99999999));
        patient.insuranceInfo.planName = "Standard";
      }
      const int mode = between(rng, 0, 2);
      patient.preferences.mode = mode == 0 ? VisitMode::InPerson : mode == 1 ? VisitMode::Telehealth : VisitMode::Either;
      patient.preferences.concerns = pick(rng, kProviders).specialties;
      patient.preferences.contactConsent = between(rng, 0, 3) != 0;
      patient.preferences.language = between(rng, 0, 4) == 0 ? "es" : "en";
      stamp(patient, now - days{between(rng, 1, 700)});
      if (auto a = apply(patient); !a) return std::unexpected(a.error());
      patients.push_back(std::move(patient));
    }
    summary.patients = static_cast<int>(patients.size());

    // Today's schedule: eight hourly 50-minute sessions, about 60% booked, from 9:00 local or,
    // later in the day, from two hours before now (never past 23:00), so a demo at any hour
    // has patients to check in. The next three days get open slots only, for the waitlist.
    const int nowHour = static_cast<int>(duration_cast<hours>(now - midnight).count());
    const int firstHour = std::clamp(nowHour - 2, 9, 16);
    std::size_t nextPatient = 0;
    for (int day = 0; day < 4; ++day) {
      for (const auto& provider : providers) {
        for (int hour = firstHour; hour < firstHour + 8; ++hour) {
          const Instant start = midnight + days{day} + hours{hour};
          const Instant end = start + minutes{50};
          // The next hour's sessions are always booked: someone to check in now.
          const bool chance = between(rng, 0, 9) < 6;
          const bool book = day == 0 && !patients.empty() && (chance || hour == nowHour + 1);
          AppointmentSlot slot;
          slot.slotId = nextId();
          slot.providerId = provider.providerId;
          slot.startTime = start;
          slot.endTime = end;
          slot.status = book ? SlotStatus::Booked : SlotStatus::Open;
          stamp(slot, now - days{30});
          if (auto a = apply(slot); !a) return std::unexpected(a.error());
          if (!book) {
            ++summary.openSlots;
            continue;
          }
          Appointment appt;
          appt.appointmentId = nextId();
          appt.providerId = provider.providerId;
          appt.patientId = patients[nextPatient++ % patients.size()].patientId;
          appt.startTime = start;
          appt.endTime = end;
          appt.type = provider.telehealth && between(rng, 0, 3) == 0 ? AppointmentType::Telehealth
                                                                      : AppointmentType::InPerson;
          appt.status = end < now ? AppointmentStatus::Completed
                        : start < now ? AppointmentStatus::InSession
                                      : AppointmentStatus::Scheduled;
          stamp(appt, now - days{between(rng, 2, 40)});
          if (auto a = apply(appt); !a) return std::unexpected(a.error());
          ++summary.appointmentsToday;
        }
      }
    }

    const std::pair<const char*, TagList> lists[] = {
        {"General adult therapy", {}},
        {"Trauma-focused care", {"trauma_ptsd", "anxiety"}},
    };
    for (const auto& [name, specialties] : lists) {
      Waitlist list;
      list.waitlistId = nextId();
      list.practiceId = practice.practiceId;
      list.name = name;
      list.description = std::string("Demo list: ") + name;
      list.criteria.specialties = specialties;
      stamp(list, now - days{365});
      if (auto a = apply(list); !a) return std::unexpected(a.error());
      ++summary.waitlists;

      // About a fifth of the patients wait, on one list each.
      for (std::size_t i = summary.waitlists == 1 ? 0 : 1; i < patients.size(); i += 10) {
        WaitlistEntry entry;
        entry.entryId = nextId();
        entry.waitlistId = list.waitlistId;
        entry.patientId = patients[i].patientId;
        if (between(rng, 0, 3) == 0) {
          entry.providerId = providers[static_cast<std::size_t>(between(rng, 0, static_cast<int>(providers.size()) - 1))].providerId;
        }
        const int waited = between(rng, 1, 150);
        entry.status = WaitlistEntryStatus::Waiting;
        // About one in twelve was marked urgent by a clinician.
        if (between(rng, 0, 11) == 0) {
          entry.urgency = between(rng, 1, 3);
          entry.urgencySetBy = "demo-clinician";
        }
        stamp(entry, now - days{waited});
        entry.priorityScore = computePriority(entry, patients[i], list.criteria, providers, now).score;
        if (auto a = apply(entry); !a) return std::unexpected(a.error());
        ++summary.waitlistEntries;
      }
    }
  }
  return summary;
}

Result<std::vector<std::string>> demoPinHashes() {
  std::vector<std::string> pinHashes;
  for (const auto& s : kDemoStaff) {
    auto h = store::hashPin(s.pin);
    if (!h) return std::unexpected(h.error());
    pinHashes.push_back(*h);
  }
  return pinHashes;
}

}  // namespace

Result<SeedSummary> seedDemo(store::Store& store, const SeedOptions& options) {
  auto pinHashes = demoPinHashes();
  if (!pinHashes) return std::unexpected(pinHashes.error());
  SeedSummary summary;
  auto r = store.write(store::Actor::admin(), options.now, [&](store::WriteTx& tx) -> Result<void> {
    auto built = buildDemoPractice(options, *pinHashes, [&](const auto& record) -> Result<void> {
      auto o = tx.applyRemote(record);
      if (!o) return std::unexpected(o.error());
      return {};
    });
    if (!built) return std::unexpected(built.error());
    summary = *built;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return summary;
}

Result<SeedSummary> demoPracticeRows(const SeedOptions& options, const RowSink& sink) {
  auto pinHashes = demoPinHashes();
  if (!pinHashes) return std::unexpected(pinHashes.error());
  return buildDemoPractice(options, *pinHashes, [&](const auto& record) -> Result<void> {
    using T = std::decay_t<decltype(record)>;
    return sink(Fields<T>::table, toRowJson(record));
  });
}

}  // namespace anteroom::admin
