// Patient check-in: last name and date of birth (or a check-in code), a minimal-disclosure
// confirmation, then the store's check-in. No match, a cancelled appointment or too many
// failed lookups sends the patient to the front desk, kindly.
#include <algorithm>

#include "anteroom/model/validation.hpp"
#include "app_state.hpp"

namespace anteroom::kiosk {

using namespace std::chrono;

std::string checkInCodeFor(const Uuid& appointmentId) {
  // Bytes 8..15 of a UUIDv7 are random (bar the variant bits): a stable, unguessable source.
  std::uint64_t bits = 0;
  for (std::size_t i = 8; i < 16; ++i) bits = (bits << 8) | appointmentId.bytes[i];
  return makeCheckInCode(bits);
}


void KioskApp::State::pressCheckIn(const std::string& id) {
  switch (screen) {
    case Screen::CheckInLastName:
      if (id == "nav.back") return resetToWelcome();
      if (id == "checkin.use_code") return go(Screen::CheckInCode);
      if (id == "nav.continue") {
        auto name = normalizeName(draft.lastName);
        if (!name) return setError(name.error());
        draft.lastName = *name;
        return go(Screen::CheckInDob);
      }
      return;
    case Screen::CheckInDob:
      if (lookingUp) return;  // the lookup is on its way; nothing else until it lands
      if (id == "nav.back") return go(Screen::CheckInLastName);
      if (id == "nav.continue") return submitCheckIn();
      return;
    case Screen::CheckInCode:
      if (lookingUp) return;
      if (id == "nav.back") return resetToWelcome();
      if (id == "checkin.use_name") return go(Screen::CheckInLastName);
      if (id == "nav.continue") return submitCheckIn();
      return;
    case Screen::CheckInChoose:
      if (id == "nav.back") return resetToWelcome();
      for (const auto& c : candidates) {
        if (id == "checkin.choose." + c.appointment.appointmentId.toString()) {
          chosen = c;
          return go(Screen::CheckInConfirm);
        }
      }
      return;
    case Screen::CheckInConfirm:
      if (saving) return;  // the check-in is on its way; nothing else until it lands
      if (id == "checkin.not_me") {
        draft.wipe();
        go(Screen::FrontDesk);
        notice = tr.tr("frontdesk.not_me");
        return;
      }
      if (id == "checkin.confirm" && chosen) return confirmCheckIn();
      return;
    case Screen::FrontDesk:
      if (id == "checkin.try_again") {
        draft.wipe();
        return go(Screen::CheckInLastName);
      }
      return;
    default:
      return;
  }
}

namespace {

// The check-in and, after a refusal, what the appointment is now: on whichever connection runs it.
std::pair<Result<store::CheckInReceipt>, std::optional<AppointmentStatus>> runCheckIn(store::Store& st, const Uuid& id,
                                                                                Instant at) {
  auto receipt = st.checkIn(id, store::Actor::kiosk(), at);
  std::optional<AppointmentStatus> current;
  if (!receipt && receipt.error().domain == ErrorDomain::Conflict) {
    if (auto a = st.get<Appointment>(id); a && *a) current = (*a)->status;
  }
  return {std::move(receipt), current};
}

}  // namespace

void KioskApp::State::confirmCheckIn() {
  if (saving || !chosen) return;  // one tap is one check-in
  const Uuid id = chosen->appointment.appointmentId;
  const Instant at = now;
  if (workerStore == nullptr) {
    auto [receipt, current] = runCheckIn(store, id, at);
    return finishCheckIn(id, receipt, current);
  }
  const bool posted = worker.post([this, id, at]() -> Worker::Done {
    auto result = runCheckIn(*workerStore, id, at);
    return [this, id, result = std::move(result)] { finishCheckIn(id, result.first, result.second); };
  });
  if (!posted) return setErrorKey("error.store");
  saving = true;
  error.clear();
  changed();
}

void KioskApp::State::finishCheckIn(const Uuid& appointmentId, const Result<store::CheckInReceipt>& receipt,
                                    std::optional<AppointmentStatus> current) {
  saving = false;
  changed();
  if (!receipt) noteWorkerError(receipt.error());
  // The patient may have walked away (idle reset) while it waited: the write stands or not, as
  // the store says; nothing is shown to the next person.
  if (screen != Screen::CheckInConfirm || !chosen || chosen->appointment.appointmentId != appointmentId) {
    if (!receipt) logStoreError(receipt.error(), "checking in (the patient had left the screen)");
    return;
  }
  if (!receipt) {
    if (receipt.error().domain == ErrorDomain::Conflict) {
      // Say what actually changed: cancelled, already started, or something else.
      std::string key = "frontdesk.changed";
      if (current == AppointmentStatus::Cancelled || current == AppointmentStatus::NoShow) key = "frontdesk.cancelled";
      else if (current == AppointmentStatus::InSession) key = "frontdesk.in_session";
      notice = tr.tr(key);
      draft.wipe();
      screen = Screen::FrontDesk;
      screenSince = now;
      changed();
      return;
    }
    logStoreError(receipt.error(), "checking in");
    return setErrorKey("error.store");
  }
  alreadyCheckedIn = receipt->alreadyCheckedIn;
  late = now > chosen->appointment.startTime + cfg.lateAfter;
  draft.wipe();
  go(Screen::CheckInDone);
}

namespace {

using LookupRows = KioskApp::State::LookupRows;
using Day = std::pair<Instant, Instant>;

// Today's appointments whose check-in code is the one typed, and their patients.
Result<LookupRows> findByCode(store::Store& st, const std::string& code, Day day) {
  LookupRows found;
  auto today = st.appointmentsBetween(day.first, day.second);
  if (!today) return std::unexpected(today.error());
  for (const auto& a : *today) {
    if (checkInCodeFor(a.appointmentId) != code) continue;
    auto p = st.get<Patient>(a.patientId);
    if (!p) return std::unexpected(p.error());
    if (*p) found.patients.push_back(**p);
    found.appointments.push_back(a);
  }
  return found;
}

// The patients with this last name and date of birth, and their appointments today.
Result<LookupRows> findByName(store::Store& st, const std::string& lastName, Date dob, Day day) {
  LookupRows found;
  auto matches = st.findPatients(lastName, dob);
  if (!matches) return std::unexpected(matches.error());
  found.patients = std::move(*matches);
  for (const auto& p : found.patients) {
    auto appts = st.appointmentsForPatient(p.patientId, day.first, day.second);
    if (!appts) return std::unexpected(appts.error());
    found.appointments.insert(found.appointments.end(), appts->begin(), appts->end());
  }
  return found;
}

}  // namespace

void KioskApp::State::submitCheckIn() {
  if (lookingUp) return;  // one tap is one lookup
  candidates.clear();
  const Day day = localDay();
  std::function<Result<LookupRows>(store::Store&)> read;
  if (screen == Screen::CheckInCode) {
    auto code = normalizeCheckInCode(draft.code);
    if (!code) return setError(code.error());
    read = [code = *code, day](store::Store& st) { return findByCode(st, code, day); };
  } else {
    auto dob = readDateOfBirth(false);
    if (!dob) return;
    read = [name = draft.lastName, dob = *dob, day](store::Store& st) { return findByName(st, name, dob, day); };
  }
  lookUp<LookupRows>(std::move(read), [this](Result<LookupRows> found) { finishCheckInLookup(std::move(found)); });
}

void KioskApp::State::finishCheckInLookup(Result<LookupRows> lookup) {
  if (!lookup) return readFailed(lookup.error(), "looking a patient up");
  const std::vector<Appointment>& found = lookup->appointments;
  const std::vector<Patient>& patients = lookup->patients;
  auto patientOf = [&](const Uuid& id) -> const Patient* {
    for (const auto& p : patients) {
      if (p.patientId == id) return &p;
    }
    return nullptr;
  };
  bool anyCancelled = false;
  bool anyInSession = false;
  std::optional<Instant> earliestTooEarly;  // an appointment later today, before its check-in opens
  for (const auto& a : found) {
    const Patient* p = patientOf(a.patientId);
    if (p == nullptr) continue;
    if (a.status == AppointmentStatus::Cancelled || a.status == AppointmentStatus::NoShow) {
      anyCancelled = true;
      continue;
    }
    if (a.status == AppointmentStatus::Completed) continue;
    // Already with the clinician: nothing to check in (CheckedIn -> CheckedIn is "already done").
    if (a.status == AppointmentStatus::InSession) {
      anyInSession = true;
      continue;
    }
    // The practice's check-in window: a 4 PM appointment does not check in at 10:30 AM.
    if (a.status == AppointmentStatus::Scheduled && a.startTime - now > cfg.earlyCheckIn) {
      if (!earliestTooEarly || a.startTime < *earliestTooEarly) earliestTooEarly = a.startTime;
      continue;
    }
    candidates.push_back({a, p->firstName, initialOf(p->lastName), providerName(a.providerId)});
  }
  std::sort(candidates.begin(), candidates.end(), [](const CheckInCandidate& x, const CheckInCandidate& y) {
    return x.appointment.startTime < y.appointment.startTime;
  });

  if (candidates.empty()) {
    // Found, but not now: the patient proved who they are, so this is not a failed lookup.
    const bool matched = earliestTooEarly || anyInSession;
    if (!matched && recordFailedLookup()) return;
    if (matched) failedLookups.clear();
    draft.wipe();
    if (earliestTooEarly) {
      notice = tr.tr("frontdesk.too_early", {{"time", formatTime(*earliestTooEarly)},
                                             {"opens", formatTime(*earliestTooEarly - cfg.earlyCheckIn)}});
    } else if (anyInSession) {
      notice = tr.tr("frontdesk.in_session");
    } else {
      notice = anyCancelled ? tr.tr("frontdesk.cancelled") : tr.tr("frontdesk.not_found");
    }
    screen = Screen::FrontDesk;
    screenSince = now;
    error.clear();
    changed();
    return;
  }
  failedLookups.clear();
  if (candidates.size() == 1) {
    chosen = candidates.front();
    return go(Screen::CheckInConfirm);
  }
  go(Screen::CheckInChoose);
}

void KioskApp::State::buildCheckIn(ScreenVm& vm) const {
  switch (screen) {
    case Screen::CheckInLastName:
      vm.title = tr.tr("checkin.title");
      vm.field = FieldVm{"checkin.last_name", tr.tr("checkin.last_name.question"), draft.lastName,
                         tr.tr("checkin.last_name.hint"), KeyboardKind::Letters};
      vm.actions = {backButton(tr),
                    {"checkin.use_code", tr.tr("checkin.use_code"), ButtonStyle::Link, true, false},
                    continueButton(tr, !draft.lastName.empty())};
      return;
    case Screen::CheckInDob:
      vm.title = tr.tr("checkin.title");
      buildDobStep(vm, "checkin.dob", tr.tr("checkin.dob.question"));
      vm.actions = {backButton(tr), continueButton(tr, draft.dobDigits.size() == 8)};
      showLookingUp(vm);
      return;
    case Screen::CheckInCode:
      vm.title = tr.tr("checkin.title");
      vm.body = {tr.tr("checkin.code.body")};
      vm.field = FieldVm{"checkin.code", tr.tr("checkin.code.question"), draft.code, tr.tr("checkin.code.hint"),
                         KeyboardKind::Code};
      vm.actions = {backButton(tr),
                    {"checkin.use_name", tr.tr("checkin.use_name"), ButtonStyle::Link, true, false},
                    continueButton(tr, !draft.code.empty())};
      showLookingUp(vm);
      return;
    case Screen::CheckInChoose:
      vm.title = tr.tr("checkin.choose.title");
      vm.body = {tr.tr("checkin.choose.body")};
      for (const auto& c : candidates) {
        vm.choices.push_back({"checkin.choose." + c.appointment.appointmentId.toString(),
                              tr.tr("checkin.appointment_line", {{"time", formatTime(c.appointment.startTime)},
                                                                 {"provider", c.providerName}}),
                              ButtonStyle::Tile, true, false});
      }
      vm.actions = {backButton(tr)};
      return;
    case Screen::CheckInConfirm:
      vm.title = tr.tr("checkin.confirm.title");
      if (chosen) {
        vm.body = {tr.tr("checkin.confirm.who", {{"first", chosen->firstName}, {"initial", chosen->lastInitial}}),
                   tr.tr("checkin.appointment_line", {{"time", formatTime(chosen->appointment.startTime)},
                                                       {"provider", chosen->providerName}})};
      }
      if (saving) vm.body.push_back(tr.tr("common.saving"));
      vm.actions = {{"checkin.not_me", tr.tr("checkin.not_me"), ButtonStyle::Secondary, !saving, false},
                    {"checkin.confirm", tr.tr("checkin.confirm"), ButtonStyle::Primary, !saving, false}};
      return;
    case Screen::CheckInDone:
      vm.title = alreadyCheckedIn ? tr.tr("checkin.done.already_title") : tr.tr("checkin.done.title");
      if (chosen) {
        vm.body = {tr.tr("checkin.done.body", {{"first", chosen->firstName},
                                               {"time", formatTime(chosen->appointment.startTime)},
                                               {"provider", chosen->providerName}})};
        if (late) vm.body.push_back(tr.tr("checkin.done.late"));
        if (chosen->appointment.startTime - now > minutes{15}) vm.body.push_back(tr.tr("checkin.done.early"));
      }
      vm.body.push_back(tr.tr("checkin.done.next"));
      vm.actions = {{"nav.done", tr.tr("nav.done"), ButtonStyle::Primary, true, false}};
      return;
    case Screen::FrontDesk:
      vm.title = tr.tr("frontdesk.title");
      vm.body = {notice.empty() ? tr.tr("frontdesk.not_found") : notice, tr.tr("frontdesk.help")};
      vm.actions = {{"checkin.try_again", tr.tr("frontdesk.try_again"), ButtonStyle::Secondary, true, false},
                    {"nav.done", tr.tr("nav.done"), ButtonStyle::Primary, true, false}};
      return;
    case Screen::RateLimited:
      vm.title = tr.tr("frontdesk.title");
      vm.body = {tr.tr("rate_limited.body"), pauseCountdown(), tr.tr("frontdesk.help")};
      return;
    default:
      return;
  }
}

}  // namespace anteroom::kiosk
