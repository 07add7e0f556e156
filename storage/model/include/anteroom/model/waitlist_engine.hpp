// The waitlist engine: priority with a readable breakdown, slot matching (hard filters, then
// fit), same-day options for walk-ins, and honest wait estimates. Pure: time is passed in.
#pragma once

// ===================================================================================================
// HOW THE WAITLIST IS ORDERED (the staff-facing explanation)
//
// Each waiting patient gets a priority score, the sum of four parts. The weights come from the
// waitlist's settings (criteria.weights); the defaults are shown in brackets.
//
//   waited       + perDayWaiting [0.5] x days on the list, counting at most maxDaysWaiting [180]
//                  days ("+18 waited 36 days"). Whole days only, so the score moves once a day.
//   urgency      + urgency [20] x the clinical urgency level staff set: 0 routine, 1 urgent,
//                  2 very urgent, 3 highest ("+20 urgent"). Only staff set it; a patient's own
//                  screening answers never do, because self-report alone is not a clinical call.
//   flexibility  + flexibility [5] x how flexible the patient is, from 0 to 1: the average of
//                  visit mode (either = 1, one mode = 0), provider (anyone = 1, a preference =
//                  0.5, only one provider = 0) and times (any time = 1, else the hours a week
//                  they listed / 20, at most 1). Flexible patients can take more of the slots
//                  that free up, so offering to them fills gaps faster.
//   narrow fit   - narrowFit [3] x the share of the practice's providers who cannot see the
//                  patient (wrong mode, specialties not covering every concern, or not the one
//                  provider asked for) ("-2.5 narrow fit: 1 of 6 providers"). Kept small: it only
//                  stops a patient that few slots suit from sitting at the top of the general
//                  list; when a slot that suits them frees up they still compete on the rest.
//
// Scores are rounded to 0.01. Equal scores are ordered by time on the list (longest first), then
// by entry id, so the order is total and never depends on how rows were read.
//
// MATCHING A FREED SLOT
//   Hard filters, never broken: the entry is waiting; the slot is open and in the future; a
//   telehealth-only patient never gets an in-person-only slot and an in-person-only patient never
//   gets a telehealth-only one (a slot's modes come from the provider's weekly availability);
//   a patient who asked for only their preferred provider gets only that provider; the
//   provider's specialties cover every concern the patient listed; the slot lies inside one of
//   the patient's available times (when they gave any).
//   Fit for the rest, in points:
//     + 10 preferred provider (when one was named but not exclusively)
//     +  8 x the share of the patient's preferred approaches (modalities) the provider offers
//     +  4 x provider experience, 20 years or more counting fully
//     +  3 slot inside times the patient stated (a stated time is more likely to be accepted
//          than "any time")
//     +/-6 insurance accepted / not accepted (only when the practice lists accepted payers;
//          self-pay is neither)
//   Candidates for a slot are ordered by priority + fit, then priority, then time on the list,
//   then entry id.
// ===================================================================================================

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/columns.hpp"
#include "anteroom/model/records.hpp"

namespace anteroom {

inline constexpr int kMaxUrgency = 3;
// "routine", "urgent", "very urgent", "highest"; out-of-range levels are clamped.
std::string_view urgencyLabel(int level) noexcept;

// Weights as used: non-finite or negative values fall back to the defaults of PriorityWeights.
PriorityWeights effectiveWeights(const PriorityWeights& weights);

// [SECTION] Readable reasons

// One signed contribution and its explanation, e.g. {+18, "waited 36 days"}.
struct ScoreTerm {
  double points = 0.0;
  std::string reason;
};
// "+18 waited 36 days, +20 urgent, -2.5 narrow fit: 1 of 6 providers"
std::string formatTerms(std::span<const ScoreTerm> terms);
// "+18", "-2.5", "+0"
std::string formatPoints(double points);

// [SECTION] Priority

struct Priority {
  double score = 0.0;
  std::vector<ScoreTerm> terms;  // in the order of the formula; zero terms are left out
};

// Whole days on the list at `now` (never negative).
int daysWaiting(const WaitlistEntry& entry, Instant now);
// Providers able to see this patient at all (mode, specialties, exclusive provider).
int providersFitting(const WaitlistEntry& entry, const Patient& patient, std::span<const Provider> providers);
Priority computePriority(const WaitlistEntry& entry, const Patient& patient, const WaitlistCriteria& criteria,
                         std::span<const Provider> providers, Instant now);

// [SECTION] Slots as the engine sees them

// The practice's offset from UTC at an instant (daylight saving changes it); the caller owns the
// time zone so the model needs no tz database or clock.
using UtcOffsetFn = std::function<std::chrono::minutes(Instant)>;

struct SlotLocalTime {
  Weekday day = Weekday::Sunday;
  int startMinute = 0;  // from local midnight of `day`
  int endMinute = 0;    // may exceed 1440 when the slot runs past midnight
};
SlotLocalTime localTimeOf(Instant start, Instant end, std::chrono::minutes utcOffset);

struct SlotModes {
  bool inPerson = true;
  bool telehealth = false;
};
// From the provider's availability windows that contain the slot; with none, in person, plus
// telehealth when the provider offers it.
SlotModes slotModes(const Provider& provider, const SlotLocalTime& local);

// [SECTION] The engine

// Why an entry cannot take a slot. Pass means every hard filter holds.
enum class HardFilter { Pass, NotWaiting, SlotNotOpen, SlotPast, Mode, PreferredProvider, Specialty, Times, Unknown };
std::string_view toString(HardFilter filter) noexcept;      // "mode", "specialty", ...
std::string_view describe(HardFilter filter) noexcept;      // "telehealth or in-person does not match"

struct RankedEntry {
  std::size_t entryIndex = 0;  // into WaitlistEngine::entries()
  int position = 0;            // 1-based, within its waitlist
  Priority priority;
};

struct SlotCandidate {
  std::size_t entryIndex = 0;
  double total = 0.0;     // priority + fit
  double priority = 0.0;
  double fit = 0.0;
  std::vector<ScoreTerm> fitTerms;
};

struct SlotMatches {
  std::vector<SlotCandidate> candidates;  // best first, at most the limit asked for
  std::size_t eligible = 0;               // entries passing every hard filter
  // How many entries each hard filter excluded, indexed by HardFilter (first failing filter).
  std::array<std::size_t, 9> excluded{};
};

struct SlotFit {
  std::size_t slotIndex = 0;  // into the slots given
  double fit = 0.0;
  std::vector<ScoreTerm> fitTerms;
};

struct EngineData {
  std::vector<Waitlist> waitlists;
  std::vector<WaitlistEntry> entries;  // entries of unknown waitlists or patients are ignored
  std::vector<Patient> patients;
  std::vector<Provider> providers;
  PracticeSettings settings;
};

class WaitlistEngine {
 public:
  // Precomputes everything per entry and per provider once (priority, tag bitsets, modes), so
  // matching a slot is a tight loop. offset defaults to UTC.
  static WaitlistEngine build(EngineData data, Instant now, UtcOffsetFn offset = {});

  [[nodiscard]] const EngineData& data() const { return m_data; }
  [[nodiscard]] const std::vector<WaitlistEntry>& entries() const { return m_data.entries; }
  [[nodiscard]] const Patient& patientOf(std::size_t entryIndex) const;
  [[nodiscard]] const Waitlist& waitlistOf(std::size_t entryIndex) const;
  [[nodiscard]] const Priority& priorityOf(std::size_t entryIndex) const { return m_entries[entryIndex].priority; }
  [[nodiscard]] std::optional<std::size_t> findEntry(const Uuid& entryId) const;
  [[nodiscard]] Instant now() const { return m_now; }

  // Active (waiting or offered) entries, best first; one waitlist or all (positions restart
  // per waitlist). Order: score desc, created asc, entry id asc.
  [[nodiscard]] std::vector<RankedEntry> rank(std::optional<Uuid> waitlistId = std::nullopt) const;

  // First failing hard filter for this entry and slot.
  [[nodiscard]] HardFilter check(std::size_t entryIndex, const AppointmentSlot& slot) const;
  // Waiting entries that may take the slot, best first; `waitlistId` narrows to one list.
  [[nodiscard]] SlotMatches matchSlot(const AppointmentSlot& slot, std::size_t limit,
                                      std::optional<Uuid> waitlistId = std::nullopt) const;
  // Slots this entry may take, best fit first, then earliest.
  [[nodiscard]] std::vector<SlotFit> matchEntry(std::size_t entryIndex, std::span<const AppointmentSlot> slots) const;
  // A walk-in (not necessarily on a list): the given slots (e.g. today's) that pass the hard
  // filters for this patient, best fit first, then earliest.
  [[nodiscard]] std::vector<SlotFit> sameDay(const Patient& patient, std::optional<Uuid> preferredProvider,
                                             std::span<const AppointmentSlot> slots) const;

  // Per-entry precomputation; public for the tests' property checks, not for callers.
  struct TagBits {
    std::array<std::uint64_t, 2> words{};
  };
  struct EntryFacts {
    std::size_t patientIndex = 0;
    std::size_t waitlistIndex = 0;
    bool inPerson = true;
    bool telehealth = true;
    bool exclusiveProvider = false;
    std::optional<std::size_t> preferredProvider;  // provider index; may be unknown
    bool preferredUnknown = false;                 // named a provider this practice does not have
    TagBits concerns;
    bool concernOutsideVocabulary = false;         // no provider has one of the concerns
    TagBits modalities;
    int modalityCount = 0;
    int insurance = 0;  // +1 accepted, -1 not accepted, 0 not tracked / self-pay
    Priority priority;
  };
  struct ProviderFacts {
    TagBits specialties;
    TagBits modalities;
    double experiencePoints = 0.0;
  };

 private:
  struct PatientFit {  // what fit and filters need about a patient, however obtained
    const EntryFacts* facts;
    const PatientPreferences* prefs;
  };
  struct SlotFacts {
    std::size_t providerIndex = 0;
    SlotLocalTime local;
    SlotModes modes;
  };
  [[nodiscard]] std::optional<SlotFacts> slotFacts(const AppointmentSlot& slot) const;
  [[nodiscard]] HardFilter filterFor(const EntryFacts& e, const PatientPreferences& prefs, const SlotFacts& s) const;
  [[nodiscard]] double fitPoints(const EntryFacts& e, const PatientPreferences& prefs, const SlotFacts& s) const;
  [[nodiscard]] std::vector<ScoreTerm> fitTerms(const EntryFacts& e, const PatientPreferences& prefs,
                                                const SlotFacts& s) const;
  [[nodiscard]] EntryFacts factsFor(const Patient& patient, std::optional<Uuid> preferredProvider) const;
  [[nodiscard]] std::vector<SlotFit> fitSlots(const EntryFacts& e, const PatientPreferences& prefs,
                                              std::span<const AppointmentSlot> slots) const;

  EngineData m_data;
  Instant m_now{};
  UtcOffsetFn m_offset;
  std::vector<EntryFacts> m_entries;
  std::vector<ProviderFacts> m_providers;
  std::vector<std::string> m_specialtyVocab;  // bit i = m_specialtyVocab[i]
  std::vector<std::string> m_modalityVocab;
  bool m_insuranceTracked = false;
};

// [SECTION] Wait estimates

struct WaitEstimate {
  int position = 0;              // 1-based among active entries of the waitlist
  bool hasEstimate = false;      // false: the history is too short to say anything honest
  int historyWeeks = 0;          // weeks of history used
  int fillsInHistory = 0;        // entries scheduled in that window
  double fillsPerWeek = 0.0;
  int minWeeks = 0;
  std::optional<int> maxWeeks;   // nullopt: no upper bound can be given
  std::string text;              // patient-facing, never a promise
};

inline constexpr int kEstimateHistoryWeeks = 12;
inline constexpr int kEstimateMinHistoryWeeks = 4;
inline constexpr int kEstimateMinFills = 3;

// fills: when entries of this waitlist were scheduled. listCreated bounds the history (a list
// two weeks old has two weeks of history). The range is a 95% interval on a Poisson fill rate.
WaitEstimate estimateWait(int position, std::span<const Instant> fills, Instant listCreated, Instant now);

}  // namespace anteroom
