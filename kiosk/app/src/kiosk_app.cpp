// The kiosk's core: screens and navigation, input routing, timers (idle wipe, auto-lock,
// rate limits), and the chrome of every frame. Flows live in flow_*.cpp.
#include "anteroom/kiosk/kiosk_app.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "anteroom/model/validation.hpp"
#include "app_state.hpp"

namespace anteroom::kiosk {

using namespace std::chrono;

// [SECTION] The table of screens

namespace {

// Short names for the table's columns.
constexpr Flow kCheckIn = Flow::CheckIn, kWaitlist = Flow::Waitlist, kStaff = Flow::Staff;
constexpr IdleClass kPatient = IdleClass::Patient, kDone = IdleClass::Done, kPaused = IdleClass::Paused,
                    kEntry = IdleClass::StaffEntry, kBoard = IdleClass::StaffBoard;
constexpr ScreenInfo kScreens[] = {
    {Screen::Welcome, "welcome", Flow::Welcome, IdleClass::Welcome},
    {Screen::CheckInLastName, "checkin.last_name", kCheckIn, kPatient, InputKind::Name, 100},
    {Screen::CheckInDob, "checkin.dob", kCheckIn, kPatient, InputKind::Digits, 8},
    {Screen::CheckInCode, "checkin.code", kCheckIn, kPatient, InputKind::Code, 12},
    {Screen::CheckInChoose, "checkin.choose", kCheckIn, kPatient},
    {Screen::CheckInConfirm, "checkin.confirm", kCheckIn, kPatient},
    {Screen::CheckInDone, "checkin.done", kCheckIn, kDone},
    {Screen::FrontDesk, "front_desk", kCheckIn, kDone},
    {Screen::RateLimited, "rate_limited", kCheckIn, kPaused},
    {Screen::WaitlistStart, "waitlist.start", kWaitlist, kPatient},
    {Screen::WaitlistFirstName, "waitlist.first_name", kWaitlist, kPatient, InputKind::Name, 100},
    {Screen::WaitlistLastName, "waitlist.last_name", kWaitlist, kPatient, InputKind::Name, 100},
    {Screen::WaitlistDob, "waitlist.dob", kWaitlist, kPatient, InputKind::Digits, 8},
    {Screen::WaitlistPhone, "waitlist.phone", kWaitlist, kPatient, InputKind::Phone, 20},
    {Screen::WaitlistEmail, "waitlist.email", kWaitlist, kPatient, InputKind::Email, 255},
    {Screen::WaitlistInsurance, "waitlist.insurance", kWaitlist, kPatient},
    {Screen::WaitlistMemberId, "waitlist.member_id", kWaitlist, kPatient, InputKind::MemberId, 40},
    {Screen::WaitlistMode, "waitlist.mode", kWaitlist, kPatient},
    {Screen::WaitlistConcerns, "waitlist.concerns", kWaitlist, kPatient},
    {Screen::WaitlistTimes, "waitlist.times", kWaitlist, kPatient},
    {Screen::WaitlistProvider, "waitlist.provider", kWaitlist, kPatient},
    {Screen::WaitlistConsent, "waitlist.consent", kWaitlist, kPatient},
    {Screen::WaitlistDiscretion, "waitlist.discretion", kWaitlist, kPatient},
    {Screen::WaitlistPrivacy, "waitlist.privacy", kWaitlist, kPatient},
    {Screen::WaitlistReview, "waitlist.review", kWaitlist, kPatient},
    {Screen::WaitlistDone, "waitlist.done", kWaitlist, kDone},
    {Screen::WaitlistSameDayDone, "waitlist.same_day_done", kWaitlist, kDone},
    {Screen::StaffSelect, "staff.select", kStaff, kEntry},
    {Screen::StaffPin, "staff.pin", kStaff, kEntry, InputKind::Pin, 8},
    {Screen::StaffToday, "staff.today", kStaff, kBoard},
    {Screen::StaffWaitlist, "staff.waitlist", kStaff, kBoard},
    {Screen::StaffSlots, "staff.slots", kStaff, kBoard},
    {Screen::StaffSync, "staff.sync", kStaff, kBoard},
    {Screen::StaffSettings, "staff.settings", kStaff, kBoard},
};

constexpr bool inEnumOrder() {
  for (std::size_t i = 0; i < std::size(kScreens); ++i)
    if (static_cast<std::size_t>(kScreens[i].screen) != i) return false;
  return static_cast<std::size_t>(Screen::StaffSettings) + 1 == std::size(kScreens);
}
static_assert(inEnumOrder(), "kScreens has one row per Screen, in the enum's order");

bool isStaffScreen(Screen s) { return screenInfo(s).idle == IdleClass::StaffBoard; }
bool isDoneScreen(Screen s) { return screenInfo(s).idle == IdleClass::Done; }

}  // namespace

std::span<const ScreenInfo> allScreens() { return kScreens; }
const ScreenInfo& screenInfo(Screen screen) { return kScreens[static_cast<std::size_t>(screen)]; }
std::string_view screenId(Screen screen) { return screenInfo(screen).id; }

// [SECTION] Input helpers

std::string toMonthFirst(const std::string& digits, const std::string& language) {
  if (language == "en" || digits.size() != 8) return digits;
  return digits.substr(2, 2) + digits.substr(0, 2) + digits.substr(4);
}

// [SECTION] Draft wiping

void wipeString(std::string& s) {
  if (!s.empty()) {
    volatile char* p = s.data();
    for (std::size_t i = 0; i < s.size(); ++i) p[i] = '\0';
  }
  s.clear();
  s.shrink_to_fit();
}

void PatientDraft::wipe() {
  for (std::string* s : {&lastName, &firstName, &dobDigits, &code, &phone, &email, &payer, &memberId}) wipeString(*s);
  selfPay = false;
  noEmail = false;
  mode = VisitMode::Either;
  concerns.clear();
  times.clear();
  providerId.reset();
  onlyPreferredProvider = false;
  consent.reset();
  contactMethod = ContactMethod::Sms;
  mayNamePractice.reset();
  privacyAcknowledged.reset();
  returning = false;
}

bool PatientDraft::empty() const {
  return lastName.empty() && firstName.empty() && dobDigits.empty() && code.empty() && phone.empty() &&
         email.empty() && payer.empty() && memberId.empty() && concerns.empty() && times.empty() &&
         !providerId && !consent;
}

// [SECTION] State helpers

void KioskApp::State::go(Screen next) {
  screen = next;
  screenSince = now;
  error.clear();
  notice.clear();
  selectedRow.reset();
  selectedConflict.reset();
  offerToConfirm.reset();
  changed();
}

void KioskApp::State::resetToWelcome() {
  draft.wipe();
  wipeString(dobConfirmed);
  wipeString(pin);
  candidates.clear();
  chosen.reset();
  returningPatient.reset();
  resultEntryId.reset();
  sameDaySlots.clear();
  staff.reset();
  staffCandidate.reset();
  wipeBoards();  // patient data on the boards goes with the staff session
  ++lookupGeneration;  // a lookup still on the worker is dropped when it lands
  lookingUp = false;
  resultPosition = 0;
  resultEstimate.clear();
  resultListName.clear();
  resultReference.clear();
  sameDayText.clear();
  alreadyCheckedIn = false;
  late = false;
  go(Screen::Welcome);
}

void KioskApp::State::resetForNextPatient() {
  resetToWelcome();
  tr.setLanguage(defaultLanguage);
  textSizeStep = 0;
  highContrast = false;
}

std::chrono::seconds KioskApp::State::idleLimit() const {
  return isDoneScreen(screen) ? std::min<seconds>(cfg.doneTimeout, cfg.idleTimeout) : cfg.idleTimeout;
}

std::optional<int> KioskApp::State::idleWarningSeconds() const {
  // Only where a patient is part-way through: a done screen simply ends.
  if (screenInfo(screen).idle != IdleClass::Patient) return std::nullopt;
  const seconds warnFor = std::min<seconds>(seconds{20}, cfg.idleTimeout / 3);
  const auto idle = now - lastInput;
  if (idle < cfg.idleTimeout - warnFor || idle >= cfg.idleTimeout) return std::nullopt;
  return static_cast<int>(ceil<seconds>(cfg.idleTimeout - idle).count());
}

void KioskApp::State::setError(const Error& e) {
  // Validation codes have translations; anything else is shown with a calm generic line.
  error = tr.has(tr.language(), e.code) || tr.has("en", e.code) ? tr.tr(e.code) : tr.tr("error.generic");
  changed();
}

void KioskApp::State::logStoreError(const Error& e, std::string_view what) const {
  std::fprintf(stderr, "anteroom-kiosk: %.*s failed: %s (%s)\n", static_cast<int>(what.size()), what.data(),
               e.message.c_str(), e.code.c_str());
}

void KioskApp::State::readFailed(const Error& e, std::string_view what) {
  logStoreError(e, what);
  setErrorKey("error.read");
}

void KioskApp::State::setErrorKey(std::string_view key) {
  error = tr.tr(key);
  changed();
}

std::pair<Instant, Instant> KioskApp::State::localDay() const { return zone.dayOf(now); }

std::string KioskApp::State::formatTime(Instant t) const {
  const LocalParts local = zone.partsOf(t);
  char buf[32];
  if (tr.language() == "en") {
    const int hour12 = local.hour % 12 == 0 ? 12 : local.hour % 12;
    std::snprintf(buf, sizeof buf, "%d:%02d %s", hour12, local.minute, local.hour < 12 ? "AM" : "PM");
  } else {
    std::snprintf(buf, sizeof buf, "%02d:%02d", local.hour, local.minute);
  }
  return buf;
}

std::string KioskApp::State::formatDay(Instant t) const {
  const LocalParts local = zone.partsOf(t);
  const unsigned month = static_cast<unsigned>(local.date.month());
  const unsigned day = static_cast<unsigned>(local.date.day());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %u/%u", tr.tr("weekday." + std::to_string(local.weekday)).c_str(),
                tr.language() == "en" ? month : day, tr.language() == "en" ? day : month);
  return buf;
}

std::string KioskApp::State::providerName(const Uuid& id) const {
  for (const auto& p : providers) {
    if (p.providerId == id) return p.firstName + " " + p.lastName;
  }
  return tr.tr("common.your_provider");
}

Result<KioskApp::State::PracticeRows> KioskApp::State::readPractice(store::Store& st) {
  PracticeRows rows;
  auto p = st.practice();
  if (!p) return std::unexpected(p.error());
  rows.practice = std::move(*p);
  auto list = st.providers();
  if (!list) return std::unexpected(list.error());
  rows.providers = std::move(*list);
  return rows;
}

void KioskApp::State::adoptPractice(Result<PracticeRows> rows) {
  // An unreadable practice keeps what was read before (its name, zone and providers).
  if (!rows) return logStoreError(rows.error(), "reading the practice");
  if (rows->practice) practice = std::move(rows->practice);
  providers = std::move(rows->providers);
  const std::string zoneName = practice ? practice->settings.timeZone : std::string();
  if (auto z = PracticeZone::named(zoneName)) {
    zone = *z;
  } else {
    // A zone name is configuration, not PHI: say which one, and keep the device's clock.
    std::fprintf(stderr, "anteroom-kiosk: the practice's time zone \"%s\" is unknown; using the device's zone\n",
                 zoneName.c_str());
    zone = PracticeZone::named("").value_or(PracticeZone::utc());
  }
  changed();
}

void KioskApp::State::loadPractice() {
  postRead<Result<PracticeRows>>(practiceGeneration, readPractice,
                                 [this](Result<PracticeRows> rows) { adoptPractice(std::move(rows)); });
}

store::WaitlistService KioskApp::State::waitlistServiceOn(store::Store& st, const PracticeZone& zone) {
  return store::WaitlistService(st, [z = zone](Instant t) { return z.offsetAt(t); });
}

// Lookups that find nobody pause the kiosk: a burst (the practice's per-minute limit) or a
// patient's pace (twice that within 15 minutes). Each pause within an hour doubles, to 15 min.
bool KioskApp::State::recordFailedLookup() {
  failedLookups.push_back(now);
  while (!failedLookups.empty() && now - failedLookups.front() > minutes{15}) failedLookups.pop_front();
  const auto inLastMinute =
      std::count_if(failedLookups.begin(), failedLookups.end(), [&](Instant t) { return now - t <= minutes{1}; });
  const bool burst = inLastMinute >= cfg.lookupsPerMinute;
  const bool steady = static_cast<int>(failedLookups.size()) >= 2 * cfg.lookupsPerMinute;
  if (!burst && !steady) return false;
  while (!pauses.empty() && now - pauses.front() > hours{1}) pauses.pop_front();
  const minutes length = std::min(minutes{15}, minutes{1} * (1 << std::min<std::size_t>(pauses.size(), 4)));
  pauses.push_back(now);
  rateLimitedUntil = now + length;
  failedLookups.clear();
  draft.wipe();
  go(Screen::RateLimited);
  pauseShown = pauseCountdown();
  return true;
}

std::string KioskApp::State::pauseCountdown() const {
  if (!rateLimitedUntil || now >= *rateLimitedUntil) return {};
  const auto left = ceil<seconds>(*rateLimitedUntil - now);
  if (left > seconds{90})
    return tr.tr("rate_limited.wait_minutes", {{"n", std::to_string(ceil<minutes>(left).count())}});
  return tr.tr("rate_limited.wait_seconds", {{"n", std::to_string(left.count())}});
}

std::string* KioskApp::State::activeBuffer(std::size_t& maxLen) {
  maxLen = screenInfo(screen).maxInput;
  switch (screenInfo(screen).input) {
    case InputKind::None: return nullptr;
    case InputKind::Name: return screen == Screen::WaitlistFirstName ? &draft.firstName : &draft.lastName;
    case InputKind::Digits: return &draft.dobDigits;
    case InputKind::Code: return &draft.code;
    case InputKind::Phone: return &draft.phone;
    case InputKind::Email: return &draft.email;
    case InputKind::MemberId: return &draft.memberId;
    case InputKind::Pin: return &pin;
  }
  return nullptr;
}

// Names start each word with a capital (the on-screen keyboard types lower case); codes and
// member ids are upper case. Only ASCII and the Spanish accented letters are changed.
void KioskApp::State::normaliseTyping(std::string& buffer) const {
  const InputKind input = screenInfo(screen).input;
  const bool name = input == InputKind::Name;
  const bool upper = input == InputKind::Code || input == InputKind::MemberId;
  if (!name && !upper) return;
  static const std::pair<std::string_view, std::string_view> accents[] = {
      {"á", "Á"}, {"é", "É"}, {"í", "Í"}, {"ó", "Ó"}, {"ú", "Ú"}, {"ü", "Ü"}, {"ñ", "Ñ"}};
  bool startOfWord = true;
  std::string out;
  out.reserve(buffer.size());
  for (std::size_t i = 0; i < buffer.size();) {
    const char c = buffer[i];
    const bool capitalise = upper || startOfWord;
    bool replaced = false;
    if (capitalise) {
      for (const auto& [lower, up] : accents) {
        if (std::string_view(buffer).substr(i, lower.size()) == lower) {
          out += up;
          i += lower.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out += capitalise && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
      ++i;
    }
    startOfWord = c == ' ' || c == '-' || c == '\'';
  }
  wipeString(buffer);
  buffer = std::move(out);
}

std::string KioskApp::State::textSizeLabel() const {
  return tr.tr("chrome.text_size", {{"percent", std::to_string(textPercentFor(textSizeStep))}});
}

// [SECTION] Date of birth

void KioskApp::State::buildDobStep(ScreenVm& vm, const std::string& fieldId, const std::string& question) const {
  // The pattern's letters give way to digits as they are typed: "04 / DD / YYYY".
  std::string display;
  std::size_t next = 0;
  for (char c : tr.tr("common.dob_pattern")) {
    const bool slot = c >= 'A' && c <= 'Z';
    display += slot && next < draft.dobDigits.size() ? draft.dobDigits[next++] : c;
  }
  vm.body.push_back(tr.tr("common.dob_order"));
  vm.field = FieldVm{fieldId, question, display, tr.tr("common.dob_pattern"), KeyboardKind::Digits};
}

std::string KioskApp::State::longDate(const Date& d) const {
  return tr.tr("common.date_long", {{"month", tr.tr("month." + std::to_string(static_cast<unsigned>(d.month())))},
                                    {"day", std::to_string(static_cast<unsigned>(d.day()))},
                                    {"year", std::to_string(static_cast<int>(d.year()))}});
}

std::optional<Date> KioskApp::State::readDateOfBirth(bool confirmAmbiguous) {
  const std::string& typed = draft.dobDigits;
  const std::string monthFirst = toMonthFirst(typed, tr.language());
  auto dob = parseDateOfBirth(monthFirst, toDate(now));
  if (!dob) {
    // Typed in the other language's order? Say so, with the date the right way round.
    if (typed.size() == 8 && dob.error().code == "validation.dob.invalid") {
      const std::string swapped = typed.substr(2, 2) + typed.substr(0, 2) + typed.substr(4);
      if (parseDateOfBirth(toMonthFirst(swapped, tr.language()), toDate(now))) {
        // No-break spaces: a date in a sentence never breaks across lines at large sizes.
        const std::string slash = "\u00a0/\u00a0";
        const std::string shown = swapped.substr(0, 2) + slash + swapped.substr(2, 2) + slash + swapped.substr(4);
        error = tr.tr("validation.dob.other_order", {{"date", shown}});
        changed();
        return std::nullopt;
      }
    }
    setError(dob.error());
    return std::nullopt;
  }
  // 03/07 is a date either way: before it is saved, show it in words once, so the wrong order
  // is caught. (A lookup in the wrong order finds nobody and saves nothing.)
  const unsigned month = static_cast<unsigned>(dob->month());
  const unsigned day = static_cast<unsigned>(dob->day());
  if (confirmAmbiguous && day <= 12 && day != month && dobConfirmed != typed) {
    dobConfirmed = typed;
    error = tr.tr("common.dob_check", {{"date", std::string(longDate(*dob))}});
    changed();
    return std::nullopt;
  }
  return *dob;
}

void KioskApp::State::showLookingUp(ScreenVm& vm) const {
  if (!lookingUp) return;
  vm.body.push_back(tr.tr("common.looking_up"));
  for (auto& action : vm.actions) action.enabled = false;
}

ButtonVm backButton(const Translator& tr) { return {"nav.back", tr.tr("nav.back"), ButtonStyle::Secondary, true, false}; }
ButtonVm continueButton(const Translator& tr, bool enabled) {
  return {"nav.continue", tr.tr("nav.continue"), ButtonStyle::Primary, enabled, false};
}

Result<void> checkStoreForService(store::Store& store) { return store.checkIntegrity(); }

// [SECTION] KioskApp

KioskApp::KioskApp(store::Store& store, Translator translator, KioskConfig config, Instant now,
                   store::Store* workerStore, store::Store* readerStore)
    : m_state(std::make_unique<State>(store, std::move(translator), std::move(config))) {
  auto& s = *m_state;
  s.workerStore = workerStore;
  s.readerStore = readerStore;
  s.now = now;
  s.lastInput = now;
  s.screenSince = now;
  s.lastPoll = now;
  if (auto v = store.dataVersion()) s.dataVersion = *v;
  s.adoptPractice(State::readPractice(store));
  if (s.practice) {
    const auto& settings = s.practice->settings;
    if (settings.idleTimeoutSeconds >= 15) s.cfg.idleTimeout = seconds{settings.idleTimeoutSeconds};
    if (settings.staffAutoLockSeconds >= 30) s.cfg.staffAutoLock = seconds{settings.staffAutoLockSeconds};
    if (settings.lookupRateLimitPerMinute >= 1) s.cfg.lookupsPerMinute = settings.lookupRateLimitPerMinute;
    if (settings.lateAfterMinutes >= 0) s.cfg.lateAfter = minutes{settings.lateAfterMinutes};
    if (settings.checkInOpensMinutesBefore >= 0) s.cfg.earlyCheckIn = minutes{settings.checkInOpensMinutesBefore};
    if (!settings.crisisLine.empty()) s.cfg.crisisLine = settings.crisisLine;
    if (!settings.defaultLanguage.empty()) s.tr.setLanguage(settings.defaultLanguage);
  }
  s.defaultLanguage = s.tr.language();
  // A device setting made in staff mode overrides the practice default.
  if (auto idle = store.syncValue("kiosk.idle_timeout_seconds"); idle && *idle) {
    const int secondsValue = std::atoi((*idle)->c_str());
    if (secondsValue >= 15 && secondsValue <= 600) s.cfg.idleTimeout = seconds{secondsValue};
  }
}

KioskApp::~KioskApp() {
  if (m_state) {
    m_state->worker.waitIdle();
    m_state->reader.waitIdle();
    m_state->draft.wipe();
    wipeString(m_state->pin);
  }
}

void KioskApp::applyAll(const Intents& intents, Instant now) {
  for (const auto& i : intents) apply(i, now);
}

void KioskApp::apply(const Intent& intent, Instant now) {
  auto& s = *m_state;
  s.now = now;
  // While "Are you still there?" shows, a tap anywhere only says yes: the answers stay.
  const bool warned = s.idleWarningSeconds().has_value();
  s.lastInput = now;
  if (warned) {
    s.idleWarningShown = -1;
    s.changed();
    return;
  }
  if (s.screen == Screen::RateLimited && intent.kind != Intent::Kind::Press) return;

  switch (intent.kind) {
    case Intent::Kind::Text: {
      // A scanner on the welcome screen types a check-in code followed by Enter.
      if (s.screen == Screen::Welcome) s.go(Screen::CheckInCode);
      std::size_t maxLen = 0;
      std::string* buffer = s.activeBuffer(maxLen);
      if (buffer == nullptr) return;
      for (char c : intent.text) {
        if (c == '\n' || c == '\r') {
          apply(Intent::enter(), now);
          return;
        }
        const InputKind input = screenInfo(s.screen).input;
        const bool digitsOnly = input == InputKind::Digits || input == InputKind::Pin;
        if (digitsOnly && (c < '0' || c > '9')) continue;
        if (static_cast<unsigned char>(c) < 0x20) continue;
        if (buffer->size() >= maxLen) break;
        buffer->push_back(c);
      }
      s.normaliseTyping(*buffer);
      s.error.clear();
      s.changed();
      return;
    }
    case Intent::Kind::Backspace: {
      std::size_t maxLen = 0;
      if (std::string* buffer = s.activeBuffer(maxLen); buffer != nullptr && !buffer->empty()) {
        // Remove one UTF-8 code point, not one byte.
        std::size_t cut = buffer->size() - 1;
        while (cut > 0 && (static_cast<unsigned char>((*buffer)[cut]) & 0xC0) == 0x80) --cut;
        buffer->erase(cut);
        s.changed();
      }
      return;
    }
    case Intent::Kind::Clear: {
      std::size_t maxLen = 0;
      if (std::string* buffer = s.activeBuffer(maxLen); buffer != nullptr) {
        wipeString(*buffer);
        s.changed();
      }
      return;
    }
    case Intent::Kind::Enter:
      apply(Intent::press("nav.continue"), now);
      return;
    case Intent::Kind::Press:
      break;
  }

  const std::string& id = intent.id;
  // While paused, only language, size and contrast respond (a stale tap must not get through,
  // and Start over does not end the pause).
  if (s.screen == Screen::RateLimited && (!id.starts_with("chrome.") || id == "chrome.home")) return;
  // The chrome: available on every patient screen.
  if (id == "chrome.language" || id == "welcome.language") {
    s.tr.setLanguage(s.tr.language() == "en" ? "es" : "en");
    s.error.clear();
    s.changed();
    return;
  }
  if (id == "chrome.text_size" || id == "welcome.text_size") {
    s.textSizeStep = (s.textSizeStep + 1) % kTextSizeSteps;
    s.changed();
    return;
  }
  if (id == "chrome.contrast" || id == "welcome.contrast") {
    s.highContrast = !s.highContrast;
    s.changed();
    return;
  }
  if (id == "chrome.home") {
    s.resetToWelcome();
    return;
  }
  if (id == "nav.done") {
    s.resetForNextPatient();
    return;
  }
  if (id == "welcome.check_in") {
    s.go(Screen::CheckInLastName);
    return;
  }
  if (id == "welcome.join_waitlist") {
    s.go(Screen::WaitlistStart);
    return;
  }
  // Everything else belongs to the flow of the current screen.
  switch (id == "welcome.staff" ? Flow::Staff : screenInfo(s.screen).flow) {
    case Flow::Staff: return s.pressStaff(id);
    case Flow::CheckIn: return s.pressCheckIn(id);
    case Flow::Waitlist: return s.pressWaitlist(id);
    case Flow::Welcome: return;
  }
}

namespace {

// How often the kiosk looks for commits by the sync daemon (PRAGMA data_version, no page read):
// every second while staff watch a board, so rows the daemon pulls show up at once; rarely on
// patient screens (only the practice's name and settings show there), so idle CPU stays zero.
std::chrono::seconds pollInterval(Screen screen) {
  return isStaffScreen(screen) ? std::chrono::seconds{1} : std::chrono::seconds{30};
}

}  // namespace

void KioskApp::tick(Instant now) {
  auto& s = *m_state;
  s.now = now;
  // Results of background work, once a frame: the reads first, so a read that a write's result
  // posts (a board after the unlock) lands on a later frame, never half-way through this one.
  s.reader.drain();
  s.worker.drain();
  if (now - s.lastPoll >= pollInterval(s.screen)) {
    s.lastPoll = now;
    const auto version = s.store.dataVersion();
    const bool committed = version && *version != s.dataVersion;
    if (committed) {
      s.dataVersion = *version;
      s.loadPractice();
    }
    // Boards are read on the worker and shown when they land. The sync screen's words depend on
    // the clock too (a heartbeat that stops ages into "not running"): it reloads every poll.
    if (committed || s.screen == Screen::StaffSync) s.reloadBoard();
  }
  if (s.screen == Screen::RateLimited) {
    if (s.rateLimitedUntil && now >= *s.rateLimitedUntil) {
      s.rateLimitedUntil.reset();
      s.resetToWelcome();
    } else if (std::string shown = s.pauseCountdown(); shown != s.pauseShown) {
      s.pauseShown = std::move(shown);
      s.changed();
    }
    return;
  }
  if (screenInfo(s.screen).flow == Flow::Staff) {
    const auto limit = isStaffScreen(s.screen) ? s.cfg.staffAutoLock : s.cfg.idleTimeout;
    if (now - s.lastInput >= limit) s.resetForNextPatient();
    return;
  }
  if (s.screen == Screen::Welcome) {
    // Language, size or contrast a patient chose and walked away from go back for the next one.
    if (s.prefsChosen() && now - s.lastInput >= s.cfg.idleTimeout) s.resetForNextPatient();
    return;
  }
  if (now - s.lastInput >= s.idleLimit()) return s.resetForNextPatient();
  const int warning = s.idleWarningSeconds().value_or(-1);
  if (warning != s.idleWarningShown) {
    s.idleWarningShown = warning;
    s.changed();
  }
}

std::optional<Instant> KioskApp::nextDeadline() const {
  const auto& s = *m_state;
  // While the worker has something for us, look again soon (a frame at 60 Hz).
  if (s.workersBusy()) return s.now + milliseconds{16};
  const Instant poll = s.lastPoll + pollInterval(s.screen);
  Instant due = poll;
  // While paused: the end of the pause, and the countdown once a second.
  if (s.screen == Screen::RateLimited && s.rateLimitedUntil)
    due = std::min({due, *s.rateLimitedUntil, s.now + seconds{1}});
  else if (isStaffScreen(s.screen)) due = std::min(due, s.lastInput + s.cfg.staffAutoLock);
  else if (s.screen == Screen::Welcome && s.prefsChosen()) due = std::min(due, s.lastInput + s.cfg.idleTimeout);
  else if (s.screen != Screen::Welcome) {
    due = std::min(due, s.lastInput + s.idleLimit());
    // The warning appears, then counts down once a second.
    const seconds warnFor = std::min<seconds>(seconds{20}, s.cfg.idleTimeout / 3);
    const Instant warnAt = s.lastInput + s.cfg.idleTimeout - warnFor;
    if (screenInfo(s.screen).idle == IdleClass::Patient) {
      if (s.now < warnAt) due = std::min(due, warnAt);
      else due = std::min(due, s.now + seconds{1});
    }
  }
  return due;
}

void KioskApp::finishPendingWork(Instant now) {
  // A result can post more work (an unlock posts its audit rows): until nothing is left.
  do {
    m_state->worker.waitIdle();
    m_state->reader.waitIdle();
    tick(now);
  } while (m_state->workersBusy());
}

std::optional<Error> KioskApp::workerDamage() const { return m_state->workerDamage; }

void KioskApp::State::postWrite(std::string what, StoreWrite write, std::function<void(const Result<void>&)> done) {
  auto finish = [this, what](const Result<void>& r, const std::function<void(const Result<void>&)>& then) {
    if (!r) {
      noteWorkerError(r.error());
      if (!then) logStoreError(r.error(), what);
    }
    if (then) then(r);
  };
  if (workerStore != nullptr) {
    auto job = [this, write, done, finish]() -> Worker::Done {
      Result<void> r = write(*workerStore);
      return [r = std::move(r), done, finish] { finish(r, done); };
    };
    if (worker.post(std::move(job))) return;
  }
  finish(write(store), done);
}

void KioskApp::State::recordAccessLater(const store::Actor& actor, std::string entity, const Uuid& id, std::string action) {
  const std::string what = "recording a staff view (" + entity + ", " + action + ")";
  postWrite(what, [actor, entity = std::move(entity), id, action = std::move(action), at = now](store::Store& st) {
    return st.write(actor, at, [&](store::WriteTx& tx) { return tx.recordAccess(entity, id, action); });
  });
}

bool KioskApp::State::onStaffBoard() const { return staff.has_value() && isStaffScreen(screen); }

void KioskApp::State::noteWorkerError(const Error& e) {
  if (!workerDamage && (e.code == "store.corrupt" || e.code == "store.wrong_key" || e.code == "store.damaged"))
    workerDamage = e;
}

std::uint64_t KioskApp::revision() const { return m_state->revision; }
Screen KioskApp::screen() const { return m_state->screen; }
const KioskConfig& KioskApp::config() const { return m_state->cfg; }
bool KioskApp::inputsEmpty() const { return m_state->draft.empty() && m_state->pin.empty(); }

const FrameVm& KioskApp::frame() const {
  const auto& s = *m_state;
  if (s.builtRevision == s.revision) return s.cached;
  FrameVm f;
  f.practiceName = s.practice ? s.practice->name : std::string();
  f.crisisLine = s.tr.tr("chrome.crisis_line", {{"number", s.cfg.crisisLine}});
  f.languageButton = s.tr.tr("chrome.language_toggle");
  f.textSizeButton = s.textSizeLabel();
  f.contrastButton = s.tr.tr("chrome.contrast");
  f.staffButton = s.tr.tr("chrome.staff");
  // A pause cannot be skipped: Start over is not offered on it.
  if (s.screen != Screen::RateLimited) {
    f.homeButton = s.tr.tr("chrome.home");
    f.homeButtonShort = s.tr.tr("chrome.home_short");
  }
  f.textSizeButtonShort = s.tr.tr("chrome.text_size_short", {{"percent", std::to_string(textPercentFor(s.textSizeStep))}});
  f.contrastButtonShort = s.tr.tr("chrome.contrast_short");
  f.staffMode = isStaffScreen(s.screen);
  f.staffName = s.staff ? s.staff->displayName : std::string();
  f.highContrast = s.highContrast;
  f.textScale = textScaleFor(s.textSizeStep);
  f.language = s.tr.language();
  f.patientMode = !f.staffMode;
  f.screen.id = std::string(screenId(s.screen));
  s.buildScreen(f.screen);
  f.screen.error = s.error;
  if (auto left = s.idleWarningSeconds()) {
    f.idleWarning = IdleWarningVm{s.tr.tr("idle.title"), s.tr.tr("idle.body", {{"seconds", std::to_string(*left)}}),
                                  {"idle.still_here", s.tr.tr("idle.still_here"), ButtonStyle::Primary, true, false}};
  }
  s.cached = std::move(f);
  s.builtRevision = s.revision;
  return s.cached;
}

void KioskApp::State::buildScreen(ScreenVm& vm) const {
  if (screen == Screen::Welcome) {
    vm.title = tr.tr("welcome.title");
    vm.body = {tr.tr("welcome.body")};
    vm.bodyGivesWay = true;
    vm.actionsAreSettings = true;
    vm.choices = {
        {"welcome.check_in", tr.tr("welcome.check_in"), ButtonStyle::Tile, true, false},
        {"welcome.join_waitlist", tr.tr("welcome.join_waitlist"), ButtonStyle::Tile, true, false},
    };
    vm.actions = {
        {"welcome.language", tr.tr("chrome.language_toggle"), ButtonStyle::Secondary, true, false},
        {"welcome.text_size", textSizeLabel(), ButtonStyle::Secondary, true, false},
        {"welcome.contrast", tr.tr("chrome.contrast"), ButtonStyle::Secondary, true, highContrast},
        {"welcome.staff", tr.tr("chrome.staff"), ButtonStyle::Link, true, false},
    };
    return;
  }
  switch (screenInfo(screen).flow) {
    case Flow::CheckIn: return buildCheckIn(vm);
    case Flow::Waitlist: return buildWaitlist(vm);
    case Flow::Staff: return buildStaff(vm);
    case Flow::Welcome: return;
  }
}

}  // namespace anteroom::kiosk
