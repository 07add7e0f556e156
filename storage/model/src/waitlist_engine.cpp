// The waitlist engine: priority formula, hard filters, fit scores, rankings and wait estimates
// (the formula is documented in waitlist_engine.hpp).
#include "anteroom/model/waitlist_engine.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <unordered_map>

namespace anteroom {
namespace {

using namespace std::chrono;

// Fit points (see the header's comment block).
constexpr double kFitPreferredProvider = 10.0;
constexpr double kFitModalities = 8.0;
constexpr double kFitExperience = 4.0;
constexpr double kFitExperienceFullYears = 20.0;
constexpr double kFitStatedTimes = 3.0;
constexpr double kFitInsurance = 6.0;
constexpr double kFlexibleHoursPerWeek = 20.0;
constexpr std::size_t kVocabBits = 128;

double round2(double x) { return std::round(x * 100.0) / 100.0; }

double orDefault(double value, double fallback) {
  return std::isfinite(value) && value >= 0.0 ? value : fallback;
}

bool contains(const TagList& tags, const std::string& tag) { return std::ranges::find(tags, tag) != tags.end(); }

bool coversAll(const TagList& have, const TagList& need) {
  return std::ranges::all_of(need, [&](const std::string& t) { return contains(have, t); });
}

bool hasMode(const Provider& p, bool telehealth) {
  if (p.availability.windows.empty()) return telehealth ? p.telehealth : true;
  return std::ranges::any_of(p.availability.windows,
                             [&](const AvailabilityWindow& w) { return telehealth ? w.telehealth : w.inPerson; }) ||
         (telehealth && p.telehealth);
}

std::string lowerTrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// +1 accepted, -1 not accepted, 0 when not tracked or self-pay (neither helps nor hurts).
int insuranceStanding(const InsuranceInfo& insurance, const std::vector<std::string>& acceptedLower) {
  if (acceptedLower.empty() || insurance.selfPay) return 0;
  const std::string payer = lowerTrim(insurance.payer);
  if (payer.empty()) return 0;
  return std::ranges::find(acceptedLower, payer) != acceptedLower.end() ? 1 : -1;
}

// Share of the patient's stated flexibility, 0..1 (see the header).
double flexibilityOf(const WaitlistEntry& entry, const Patient& patient, std::string& detail) {
  const auto& prefs = patient.preferences;
  const double mode = prefs.mode == VisitMode::Either ? 1.0 : 0.0;
  double provider = 1.0;
  if (entry.providerId) provider = prefs.onlyPreferredProvider ? 0.0 : 0.5;
  double times = 1.0;
  if (!prefs.availableTimes.empty()) {
    int minutes = 0;
    for (const auto& w : prefs.availableTimes) minutes += std::max(0, w.endMinute - w.startMinute);
    times = std::min(1.0, minutes / 60.0 / kFlexibleHoursPerWeek);
  }
  std::vector<std::string_view> parts;
  if (mode > 0) parts.emplace_back("either mode");
  if (provider >= 1.0) parts.emplace_back("any provider");
  else if (provider > 0) parts.emplace_back("open to other providers");
  if (times >= 1.0) parts.emplace_back(prefs.availableTimes.empty() ? "any time" : "many hours a week");
  else if (times > 0) parts.emplace_back("some hours a week");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) detail += ", ";
    detail += parts[i];
  }
  return (mode + provider + times) / 3.0;
}

bool withinWindows(const std::vector<TimeWindow>& windows, const SlotLocalTime& t) {
  if (windows.empty()) return true;
  return std::ranges::any_of(windows, [&](const TimeWindow& w) {
    return w.day == t.day && w.startMinute <= t.startMinute && t.endMinute <= w.endMinute;
  });
}

}  // namespace

std::string_view urgencyLabel(int level) noexcept {
  switch (std::clamp(level, 0, kMaxUrgency)) {
    case 0: return "routine";
    case 1: return "urgent";
    case 2: return "very urgent";
    default: return "highest urgency";
  }
}

PriorityWeights effectiveWeights(const PriorityWeights& weights) {
  const PriorityWeights d;
  PriorityWeights w = weights;
  w.perDayWaiting = orDefault(w.perDayWaiting, d.perDayWaiting);
  w.maxDaysWaiting = orDefault(w.maxDaysWaiting, d.maxDaysWaiting);
  w.urgency = orDefault(w.urgency, d.urgency);
  w.flexibility = orDefault(w.flexibility, d.flexibility);
  w.narrowFit = orDefault(w.narrowFit, d.narrowFit);
  return w;
}

std::string formatPoints(double points) {
  const double r = std::round(points * 10.0) / 10.0;
  char buf[32];
  if (r == 0.0) return "+0";
  if (r == std::round(r)) std::snprintf(buf, sizeof buf, "%+.0f", r);
  else std::snprintf(buf, sizeof buf, "%+.1f", r);
  return buf;
}

std::string formatTerms(std::span<const ScoreTerm> terms) {
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += ", ";
    out += formatPoints(t.points);
    out += ' ';
    out += t.reason;
  }
  return out;
}

// [SECTION] Priority

int daysWaiting(const WaitlistEntry& entry, Instant now) {
  if (now <= entry.createdAt) return 0;
  return static_cast<int>(floor<days>(now - entry.createdAt).count());
}

int providersFitting(const WaitlistEntry& entry, const Patient& patient, std::span<const Provider> providers) {
  const auto& prefs = patient.preferences;
  int n = 0;
  for (const auto& p : providers) {
    if (prefs.onlyPreferredProvider && entry.providerId && p.providerId != *entry.providerId) continue;
    if (prefs.mode == VisitMode::Telehealth && !hasMode(p, true)) continue;
    if (prefs.mode == VisitMode::InPerson && !hasMode(p, false)) continue;
    if (!coversAll(p.specialties, prefs.concerns)) continue;
    ++n;
  }
  return n;
}

Priority computePriority(const WaitlistEntry& entry, const Patient& patient, const WaitlistCriteria& criteria,
                         std::span<const Provider> providers, Instant now) {
  const PriorityWeights w = effectiveWeights(criteria.weights);
  Priority p;
  const int waited = daysWaiting(entry, now);
  const double counted = std::min<double>(waited, w.maxDaysWaiting);
  if (const double pts = w.perDayWaiting * counted; pts != 0.0) {
    std::string reason = "waited " + std::to_string(waited) + (waited == 1 ? " day" : " days");
    if (counted < waited) reason += " (counts " + std::to_string(static_cast<int>(counted)) + ")";
    p.terms.push_back({pts, std::move(reason)});
  }
  const int level = std::clamp(entry.urgency, 0, kMaxUrgency);
  if (const double pts = w.urgency * level; pts != 0.0) p.terms.push_back({pts, std::string(urgencyLabel(level))});
  std::string detail;
  const double flex = flexibilityOf(entry, patient, detail);
  if (const double pts = w.flexibility * flex; pts != 0.0) p.terms.push_back({pts, "flexible: " + detail});
  if (!providers.empty()) {
    const int fitting = providersFitting(entry, patient, providers);
    const double narrow = 1.0 - static_cast<double>(fitting) / static_cast<double>(providers.size());
    if (const double pts = -w.narrowFit * narrow; pts != 0.0) {
      p.terms.push_back({pts, fitting == 0 ? std::string("narrow fit: no provider fits yet")
                                           : "narrow fit: " + std::to_string(fitting) + " of " +
                                                 std::to_string(providers.size()) + " providers"});
    }
  }
  double sum = 0.0;
  for (const auto& t : p.terms) sum += t.points;
  p.score = round2(sum);
  return p;
}

// [SECTION] Slot time and modes

SlotLocalTime localTimeOf(Instant start, Instant end, minutes utcOffset) {
  const auto local = start + utcOffset;
  const auto day = floor<days>(local);
  SlotLocalTime t;
  t.day = static_cast<Weekday>(weekday(sys_days(day)).c_encoding());
  t.startMinute = static_cast<int>(floor<minutes>(local - day).count());
  t.endMinute = t.startMinute + static_cast<int>(ceil<minutes>(end - start).count());
  return t;
}

SlotModes slotModes(const Provider& provider, const SlotLocalTime& local) {
  SlotModes m{false, false};
  bool covered = false;
  for (const auto& w : provider.availability.windows) {
    if (w.day != local.day || w.startMinute > local.startMinute || local.endMinute > w.endMinute) continue;
    covered = true;
    m.inPerson = m.inPerson || w.inPerson;
    m.telehealth = m.telehealth || w.telehealth;
  }
  if (!covered) m = SlotModes{true, provider.telehealth};
  return m;
}

// [SECTION] Hard filters

std::string_view toString(HardFilter filter) noexcept {
  switch (filter) {
    case HardFilter::Pass: return "pass";
    case HardFilter::NotWaiting: return "not_waiting";
    case HardFilter::SlotNotOpen: return "slot_not_open";
    case HardFilter::SlotPast: return "slot_past";
    case HardFilter::Mode: return "mode";
    case HardFilter::PreferredProvider: return "preferred_provider";
    case HardFilter::Specialty: return "specialty";
    case HardFilter::Times: return "times";
    case HardFilter::Unknown: return "unknown";
  }
  return "unknown";
}

std::string_view describe(HardFilter filter) noexcept {
  switch (filter) {
    case HardFilter::Pass: return "fits";
    case HardFilter::NotWaiting: return "not waiting (already offered, scheduled or removed)";
    case HardFilter::SlotNotOpen: return "the slot is not open";
    case HardFilter::SlotPast: return "the slot has started";
    case HardFilter::Mode: return "telehealth or in person does not match";
    case HardFilter::PreferredProvider: return "asked for only their preferred provider";
    case HardFilter::Specialty: return "provider's specialties do not cover their concerns";
    case HardFilter::Times: return "outside the times they are available";
    case HardFilter::Unknown: return "unknown provider";
  }
  return "unknown";
}

// [SECTION] The engine

namespace {

using TagBits = WaitlistEngine::TagBits;

int popcount(const TagBits& a, const TagBits& b) {
  return std::popcount(a.words[0] & b.words[0]) + std::popcount(a.words[1] & b.words[1]);
}
bool subset(const TagBits& need, const TagBits& have) {
  return (need.words[0] & ~have.words[0]) == 0 && (need.words[1] & ~have.words[1]) == 0;
}
void setBit(TagBits& bits, std::size_t i) { bits.words[i / 64] |= std::uint64_t{1} << (i % 64); }

struct Vocab {
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::string> names;
  bool overflow = false;
  void add(const std::string& tag) {
    if (index.contains(tag)) return;
    if (names.size() >= kVocabBits) {
      overflow = true;
      return;
    }
    index.emplace(tag, names.size());
    names.push_back(tag);
  }
  // Bits of the tags known; `outside` when some tag has no bit.
  TagBits bits(const TagList& tags, bool& outside) const {
    TagBits b;
    for (const auto& t : tags) {
      auto it = index.find(t);
      if (it == index.end()) outside = true;
      else setBit(b, it->second);
    }
    return b;
  }
};

}  // namespace

WaitlistEngine WaitlistEngine::build(EngineData data, Instant now, UtcOffsetFn offset) {
  WaitlistEngine e;
  e.m_now = now;
  e.m_offset = offset ? std::move(offset) : UtcOffsetFn([](Instant) { return minutes{0}; });

  std::unordered_map<Uuid, std::size_t> patientIndex, waitlistIndex;
  for (std::size_t i = 0; i < data.patients.size(); ++i) patientIndex.emplace(data.patients[i].patientId, i);
  for (std::size_t i = 0; i < data.waitlists.size(); ++i) waitlistIndex.emplace(data.waitlists[i].waitlistId, i);
  std::erase_if(data.entries, [&](const WaitlistEntry& en) {
    return en.sync.deleted || !patientIndex.contains(en.patientId) || !waitlistIndex.contains(en.waitlistId);
  });
  std::erase_if(data.providers, [](const Provider& p) { return p.sync.deleted; });
  e.m_data = std::move(data);
  const auto& d = e.m_data;

  Vocab specialties, modalities;
  for (const auto& p : d.providers) {
    for (const auto& t : p.specialties) specialties.add(t);
    for (const auto& t : p.modalities) modalities.add(t);
  }
  e.m_specialtyVocab = specialties.names;
  e.m_modalityVocab = modalities.names;
  std::vector<std::string> accepted;
  for (const auto& a : d.settings.acceptedInsurance) accepted.push_back(lowerTrim(a));
  e.m_insuranceTracked = !accepted.empty();

  e.m_providers.reserve(d.providers.size());
  for (const auto& p : d.providers) {
    ProviderFacts f;
    bool ignored = false;
    f.specialties = specialties.bits(p.specialties, ignored);
    f.modalities = modalities.bits(p.modalities, ignored);
    f.experiencePoints = kFitExperience * std::clamp(p.experience / kFitExperienceFullYears, 0.0, 1.0);
    e.m_providers.push_back(f);
  }
  std::unordered_map<Uuid, std::size_t> providerIndex;
  for (std::size_t i = 0; i < d.providers.size(); ++i) providerIndex.emplace(d.providers[i].providerId, i);

  e.m_entries.reserve(d.entries.size());
  for (const auto& en : d.entries) {
    EntryFacts f;
    f.patientIndex = patientIndex.at(en.patientId);
    f.waitlistIndex = waitlistIndex.at(en.waitlistId);
    const Patient& patient = d.patients[f.patientIndex];
    const auto& prefs = patient.preferences;
    f.inPerson = prefs.mode != VisitMode::Telehealth;
    f.telehealth = prefs.mode != VisitMode::InPerson;
    if (en.providerId) {
      auto it = providerIndex.find(*en.providerId);
      if (it != providerIndex.end()) f.preferredProvider = it->second;
      else f.preferredUnknown = true;
    }
    f.exclusiveProvider = en.providerId.has_value() && prefs.onlyPreferredProvider;
    f.concerns = specialties.bits(prefs.concerns, f.concernOutsideVocabulary);
    bool ignored = false;
    f.modalities = modalities.bits(prefs.modalities, ignored);
    f.modalityCount = static_cast<int>(prefs.modalities.size());
    f.insurance = insuranceStanding(patient.insuranceInfo, accepted);
    f.priority = computePriority(en, patient, d.waitlists[f.waitlistIndex].criteria, d.providers, now);
    e.m_entries.push_back(std::move(f));
  }
  // A concern outside the bit vocabulary can only be covered when the vocabulary overflowed.
  if (specialties.overflow) {
    for (auto& f : e.m_entries) f.concernOutsideVocabulary = false;
    e.m_specialtyVocab.clear();  // marks "compare specialty strings" for filterFor
  }
  return e;
}

const Patient& WaitlistEngine::patientOf(std::size_t entryIndex) const {
  return m_data.patients[m_entries[entryIndex].patientIndex];
}

const Waitlist& WaitlistEngine::waitlistOf(std::size_t entryIndex) const {
  return m_data.waitlists[m_entries[entryIndex].waitlistIndex];
}

std::optional<std::size_t> WaitlistEngine::findEntry(const Uuid& entryId) const {
  for (std::size_t i = 0; i < m_data.entries.size(); ++i)
    if (m_data.entries[i].entryId == entryId) return i;
  return std::nullopt;
}

std::vector<RankedEntry> WaitlistEngine::rank(std::optional<Uuid> waitlistId) const {
  std::vector<std::size_t> order;
  order.reserve(m_entries.size());
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    const auto& en = m_data.entries[i];
    if (!isActive(en.status)) continue;
    if (waitlistId && en.waitlistId != *waitlistId) continue;
    order.push_back(i);
  }
  std::ranges::sort(order, [&](std::size_t a, std::size_t b) {
    const double sa = m_entries[a].priority.score, sb = m_entries[b].priority.score;
    if (sa != sb) return sa > sb;
    const auto& ea = m_data.entries[a];
    const auto& eb = m_data.entries[b];
    if (ea.createdAt != eb.createdAt) return ea.createdAt < eb.createdAt;
    return ea.entryId < eb.entryId;
  });
  std::vector<int> positions(m_data.waitlists.size(), 0);
  std::vector<RankedEntry> out;
  out.reserve(order.size());
  for (std::size_t i : order) {
    out.push_back({i, ++positions[m_entries[i].waitlistIndex], m_entries[i].priority});
  }
  return out;
}

std::optional<WaitlistEngine::SlotFacts> WaitlistEngine::slotFacts(const AppointmentSlot& slot) const {
  std::optional<std::size_t> provider;
  for (std::size_t i = 0; i < m_data.providers.size(); ++i) {
    if (m_data.providers[i].providerId == slot.providerId) {
      provider = i;
      break;
    }
  }
  if (!provider) return std::nullopt;
  SlotFacts s;
  s.providerIndex = *provider;
  s.local = localTimeOf(slot.startTime, slot.endTime, m_offset(slot.startTime));
  s.modes = slotModes(m_data.providers[*provider], s.local);
  return s;
}

HardFilter WaitlistEngine::filterFor(const EntryFacts& e, const PatientPreferences& prefs, const SlotFacts& s) const {
  if (!((e.inPerson && s.modes.inPerson) || (e.telehealth && s.modes.telehealth))) return HardFilter::Mode;
  if (e.exclusiveProvider && (!e.preferredProvider || *e.preferredProvider != s.providerIndex))
    return HardFilter::PreferredProvider;
  if (m_specialtyVocab.empty() && !m_data.providers.empty()) {
    if (!coversAll(m_data.providers[s.providerIndex].specialties, prefs.concerns)) return HardFilter::Specialty;
  } else if (e.concernOutsideVocabulary || !subset(e.concerns, m_providers[s.providerIndex].specialties)) {
    return HardFilter::Specialty;
  }
  if (!withinWindows(prefs.availableTimes, s.local)) return HardFilter::Times;
  return HardFilter::Pass;
}

double WaitlistEngine::fitPoints(const EntryFacts& e, const PatientPreferences& prefs, const SlotFacts& s) const {
  const ProviderFacts& p = m_providers[s.providerIndex];
  double fit = p.experiencePoints;
  if (e.preferredProvider && !e.exclusiveProvider && *e.preferredProvider == s.providerIndex)
    fit += kFitPreferredProvider;
  if (e.modalityCount > 0) fit += kFitModalities * popcount(e.modalities, p.modalities) / e.modalityCount;
  if (!prefs.availableTimes.empty()) fit += kFitStatedTimes;
  fit += kFitInsurance * e.insurance;
  return round2(fit);
}

std::vector<ScoreTerm> WaitlistEngine::fitTerms(const EntryFacts& e, const PatientPreferences& prefs,
                                                const SlotFacts& s) const {
  const ProviderFacts& p = m_providers[s.providerIndex];
  const Provider& provider = m_data.providers[s.providerIndex];
  std::vector<ScoreTerm> terms;
  if (e.preferredProvider && !e.exclusiveProvider && *e.preferredProvider == s.providerIndex)
    terms.push_back({kFitPreferredProvider, "preferred provider"});
  if (e.modalityCount > 0) {
    const int k = popcount(e.modalities, p.modalities);
    terms.push_back({kFitModalities * k / e.modalityCount,
                     "offers " + std::to_string(k) + " of " + std::to_string(e.modalityCount) + " preferred approaches"});
  }
  if (p.experiencePoints > 0)
    terms.push_back({p.experiencePoints, std::to_string(provider.experience) + " years' experience"});
  if (!prefs.availableTimes.empty()) terms.push_back({kFitStatedTimes, "inside stated times"});
  if (e.insurance > 0) terms.push_back({kFitInsurance, "insurance accepted"});
  if (e.insurance < 0) terms.push_back({-kFitInsurance, "insurance not accepted"});
  return terms;
}

HardFilter WaitlistEngine::check(std::size_t entryIndex, const AppointmentSlot& slot) const {
  if (m_data.entries[entryIndex].status != WaitlistEntryStatus::Waiting) return HardFilter::NotWaiting;
  if (slot.status != SlotStatus::Open || slot.sync.deleted) return HardFilter::SlotNotOpen;
  if (slot.startTime <= m_now) return HardFilter::SlotPast;
  const auto s = slotFacts(slot);
  if (!s) return HardFilter::Unknown;
  return filterFor(m_entries[entryIndex], patientOf(entryIndex).preferences, *s);
}

SlotMatches WaitlistEngine::matchSlot(const AppointmentSlot& slot, std::size_t limit,
                                      std::optional<Uuid> waitlistId) const {
  SlotMatches out;
  HardFilter slotProblem = HardFilter::Pass;
  std::optional<SlotFacts> s;
  if (slot.status != SlotStatus::Open || slot.sync.deleted) slotProblem = HardFilter::SlotNotOpen;
  else if (slot.startTime <= m_now) slotProblem = HardFilter::SlotPast;
  else if (s = slotFacts(slot); !s) slotProblem = HardFilter::Unknown;

  struct Light {
    std::size_t index;
    double total, priority, fit;
  };
  std::vector<Light> pass;
  pass.reserve(std::min<std::size_t>(m_entries.size(), 4096));
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    const WaitlistEntry& en = m_data.entries[i];
    if (waitlistId && en.waitlistId != *waitlistId) continue;
    HardFilter f = HardFilter::Pass;
    if (en.status != WaitlistEntryStatus::Waiting) f = HardFilter::NotWaiting;
    else if (slotProblem != HardFilter::Pass) f = slotProblem;
    else f = filterFor(m_entries[i], m_data.patients[m_entries[i].patientIndex].preferences, *s);
    if (f != HardFilter::Pass) {
      ++out.excluded[static_cast<std::size_t>(f)];
      continue;
    }
    const double prio = m_entries[i].priority.score;
    const double fit = fitPoints(m_entries[i], m_data.patients[m_entries[i].patientIndex].preferences, *s);
    pass.push_back({i, round2(prio + fit), prio, fit});
  }
  out.eligible = pass.size();
  const auto better = [&](const Light& a, const Light& b) {
    if (a.total != b.total) return a.total > b.total;
    if (a.priority != b.priority) return a.priority > b.priority;
    const auto& ea = m_data.entries[a.index];
    const auto& eb = m_data.entries[b.index];
    if (ea.createdAt != eb.createdAt) return ea.createdAt < eb.createdAt;
    return ea.entryId < eb.entryId;
  };
  const std::size_t n = std::min(limit, pass.size());
  std::partial_sort(pass.begin(), pass.begin() + static_cast<std::ptrdiff_t>(n), pass.end(), better);
  out.candidates.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    const Light& l = pass[k];
    out.candidates.push_back({l.index, l.total, l.priority, l.fit,
                              fitTerms(m_entries[l.index], m_data.patients[m_entries[l.index].patientIndex].preferences, *s)});
  }
  return out;
}

std::vector<SlotFit> WaitlistEngine::fitSlots(const EntryFacts& e, const PatientPreferences& prefs,
                                              std::span<const AppointmentSlot> slots) const {
  std::vector<SlotFit> out;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const auto& slot = slots[i];
    if (slot.status != SlotStatus::Open || slot.sync.deleted || slot.startTime <= m_now) continue;
    const auto s = slotFacts(slot);
    if (!s || filterFor(e, prefs, *s) != HardFilter::Pass) continue;
    out.push_back({i, fitPoints(e, prefs, *s), fitTerms(e, prefs, *s)});
  }
  std::ranges::sort(out, [&](const SlotFit& a, const SlotFit& b) {
    if (a.fit != b.fit) return a.fit > b.fit;
    const auto& sa = slots[a.slotIndex];
    const auto& sb = slots[b.slotIndex];
    if (sa.startTime != sb.startTime) return sa.startTime < sb.startTime;
    return sa.slotId < sb.slotId;
  });
  return out;
}

std::vector<SlotFit> WaitlistEngine::matchEntry(std::size_t entryIndex, std::span<const AppointmentSlot> slots) const {
  if (m_data.entries[entryIndex].status != WaitlistEntryStatus::Waiting) return {};
  return fitSlots(m_entries[entryIndex], patientOf(entryIndex).preferences, slots);
}

WaitlistEngine::EntryFacts WaitlistEngine::factsFor(const Patient& patient, std::optional<Uuid> preferredProvider) const {
  Vocab specialties, modalities;
  for (const auto& t : m_specialtyVocab) specialties.add(t);
  for (const auto& t : m_modalityVocab) modalities.add(t);
  const auto& prefs = patient.preferences;
  EntryFacts f;
  f.inPerson = prefs.mode != VisitMode::Telehealth;
  f.telehealth = prefs.mode != VisitMode::InPerson;
  if (preferredProvider) {
    for (std::size_t i = 0; i < m_data.providers.size(); ++i)
      if (m_data.providers[i].providerId == *preferredProvider) f.preferredProvider = i;
    f.preferredUnknown = !f.preferredProvider;
  }
  f.exclusiveProvider = preferredProvider.has_value() && prefs.onlyPreferredProvider;
  f.concerns = specialties.bits(prefs.concerns, f.concernOutsideVocabulary);
  if (m_specialtyVocab.empty()) f.concernOutsideVocabulary = false;
  bool ignored = false;
  f.modalities = modalities.bits(prefs.modalities, ignored);
  f.modalityCount = static_cast<int>(prefs.modalities.size());
  std::vector<std::string> accepted;
  for (const auto& a : m_data.settings.acceptedInsurance) accepted.push_back(lowerTrim(a));
  f.insurance = insuranceStanding(patient.insuranceInfo, accepted);
  return f;
}

std::vector<SlotFit> WaitlistEngine::sameDay(const Patient& patient, std::optional<Uuid> preferredProvider,
                                             std::span<const AppointmentSlot> slots) const {
  const EntryFacts f = factsFor(patient, preferredProvider);
  return fitSlots(f, patient.preferences, slots);
}

// [SECTION] Wait estimates

WaitEstimate estimateWait(int position, std::span<const Instant> fills, Instant listCreated, Instant now) {
  WaitEstimate est;
  est.position = std::max(position, 1);
  const double available = std::max(0.0, duration<double>(now - listCreated).count() / (7.0 * 86400.0));
  const double weeks = std::min<double>(kEstimateHistoryWeeks, available);
  est.historyWeeks = static_cast<int>(weeks);
  const Instant from = now - duration_cast<microseconds>(duration<double>(weeks * 7.0 * 86400.0));
  for (const Instant t : fills)
    if (t > from && t <= now) ++est.fillsInHistory;
  const std::string where = "You are number " + std::to_string(est.position) + " on this list. ";
  if (weeks < kEstimateMinHistoryWeeks || est.fillsInHistory < kEstimateMinFills) {
    est.text = where + "There is not enough recent history to estimate the wait yet.";
    return est;
  }
  est.hasEstimate = true;
  const double n = est.fillsInHistory;
  est.fillsPerWeek = n / weeks;
  const double margin = 1.96 * std::sqrt(n) / weeks;  // normal approximation to a Poisson rate
  const double high = est.fillsPerWeek + margin;
  const double low = est.fillsPerWeek - margin;
  est.minWeeks = static_cast<int>(std::floor(est.position / high));
  if (low > 0) est.maxWeeks = std::max(est.minWeeks + 1, static_cast<int>(std::ceil(est.position / low)));
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f", est.fillsPerWeek);
  std::string range;
  if (!est.maxWeeks) range = "at least " + std::to_string(std::max(est.minWeeks, 1)) + " weeks";
  else if (est.minWeeks < 1) range = "up to " + std::to_string(*est.maxWeeks) + " weeks";
  else range = "about " + std::to_string(est.minWeeks) + " to " + std::to_string(*est.maxWeeks) + " weeks";
  est.text = where + "Over the last " + std::to_string(est.historyWeeks) + " weeks about " + rate +
             " people a week got an appointment from it, so the wait may be " + range +
             ". This is an estimate, not a promise.";
  return est;
}

}  // namespace anteroom
