// Joining the waitlist: returning or new patient, contact details, insurance, preferences and
// consent, one question per screen; then the entry, a note for the front desk, and the
// patient's position with an honest estimate.
#include <algorithm>

#include "anteroom/model/validation.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "app_state.hpp"

namespace anteroom::kiosk {

using namespace std::chrono;

namespace {

constexpr std::string_view kTimeChoices[] = {"weekday_morning", "weekday_afternoon", "weekday_evening", "weekend"};


// The patient's choice of times as windows the matching engine understands.
std::vector<TimeWindow> windowsFor(const std::set<std::string>& times) {
  std::vector<TimeWindow> out;
  auto add = [&](Weekday d, int from, int to) {
    TimeWindow w;
    w.day = d;
    w.startMinute = from;
    w.endMinute = to;
    out.push_back(w);
  };
  for (int d = 1; d <= 5; ++d) {
    const auto day = static_cast<Weekday>(d);
    if (times.contains("weekday_morning")) add(day, 8 * 60, 12 * 60);
    if (times.contains("weekday_afternoon")) add(day, 12 * 60, 17 * 60);
    if (times.contains("weekday_evening")) add(day, 17 * 60, 21 * 60);
  }
  if (times.contains("weekend")) {
    add(Weekday::Saturday, 8 * 60, 18 * 60);
    add(Weekday::Sunday, 8 * 60, 18 * 60);
  }
  return out;
}

// The list whose focus covers the patient's concerns; else a general list (no focus); else the
// first. `lists` is not empty.
const Waitlist& listFor(const std::vector<Waitlist>& lists, const TagList& concerns) {
  for (const auto& w : lists) {
    const auto& focus = w.criteria.specialties;
    const bool fits = std::any_of(concerns.begin(), concerns.end(), [&](const std::string& c) {
      return std::find(focus.begin(), focus.end(), c) != focus.end();
    });
    if (!focus.empty() && fits) return w;
  }
  const Waitlist* general = nullptr;
  for (const auto& w : lists) {
    if (w.criteria.specialties.empty()) general = &w;
  }
  return general != nullptr ? *general : lists.front();
}

// This visit's choices over what is on file: a contact method and the practice's name in
// messages only with a fresh consent, the privacy notice only when acknowledged now.
void adoptChoices(PatientPreferences& onFile, const PatientPreferences& chosen) {
  onFile.mode = chosen.mode;
  onFile.concerns = chosen.concerns;
  onFile.availableTimes = chosen.availableTimes;
  onFile.onlyPreferredProvider = chosen.onlyPreferredProvider;
  onFile.language = chosen.language;
  onFile.contactConsent = chosen.contactConsent;
  if (chosen.contactConsent) {
    onFile.contactMethod = chosen.contactMethod;
    onFile.mayNamePractice = chosen.mayNamePractice;
  }
  if (!chosen.privacyNoticeAcknowledgedAt.empty()) onFile.privacyNoticeAcknowledgedAt = chosen.privacyNoticeAcknowledgedAt;
}

}  // namespace

void KioskApp::State::pressWaitlist(const std::string& id) {
  const bool back = id == "nav.back";
  const bool next = id == "nav.continue";
  switch (screen) {
    case Screen::WaitlistStart:
      if (back) return resetToWelcome();
      if (id == "waitlist.new") {
        draft.returning = false;
        return go(Screen::WaitlistFirstName);
      }
      if (id == "waitlist.returning") {
        draft.returning = true;
        return go(Screen::WaitlistLastName);
      }
      return;
    case Screen::WaitlistFirstName:
      if (back) return go(Screen::WaitlistStart);
      if (next) return submitWaitlistStep();
      return;
    case Screen::WaitlistLastName:
      if (back) return go(draft.returning ? Screen::WaitlistStart : Screen::WaitlistFirstName);
      if (next) return submitWaitlistStep();
      return;
    case Screen::WaitlistDob:
      if (lookingUp) return;  // a returning patient's lookup is on its way
      if (back) return go(Screen::WaitlistLastName);
      if (id == "waitlist.join_as_new") {
        draft.returning = false;
        return go(Screen::WaitlistFirstName);
      }
      if (next) return submitWaitlistStep();
      return;
    case Screen::WaitlistPhone:
      if (back) return go(Screen::WaitlistDob);
      if (next) return submitWaitlistStep();
      return;
    case Screen::WaitlistEmail:
      if (back) return go(Screen::WaitlistPhone);
      if (id == "waitlist.email.none") {
        draft.noEmail = true;
        wipeString(draft.email);
        return go(Screen::WaitlistInsurance);
      }
      if (next) {
        draft.noEmail = false;
        return submitWaitlistStep();
      }
      return;
    case Screen::WaitlistInsurance:
      if (back) return go(Screen::WaitlistEmail);
      if (id == "waitlist.insurance.self_pay") {
        draft.selfPay = true;
        wipeString(draft.payer);
        wipeString(draft.memberId);
        return go(Screen::WaitlistMode);
      }
      if (id.starts_with("waitlist.insurance.payer.")) {
        draft.selfPay = false;
        const std::size_t index = static_cast<std::size_t>(std::atoi(id.substr(25).c_str()));
        const auto& payers = practice ? practice->settings.acceptedInsurance : std::vector<std::string>{};
        draft.payer = index < payers.size() ? payers[index] : tr.tr("waitlist.insurance.other_payer");
        return go(Screen::WaitlistMemberId);
      }
      return;
    case Screen::WaitlistMemberId:
      if (back) return go(Screen::WaitlistInsurance);
      if (next) return submitWaitlistStep();
      return;
    case Screen::WaitlistMode:
      if (back) return go(draft.returning ? Screen::WaitlistDob : Screen::WaitlistInsurance);
      if (id == "waitlist.mode.in_person") draft.mode = VisitMode::InPerson;
      else if (id == "waitlist.mode.telehealth") draft.mode = VisitMode::Telehealth;
      else if (id == "waitlist.mode.either") draft.mode = VisitMode::Either;
      else return;
      return go(Screen::WaitlistConcerns);
    case Screen::WaitlistConcerns:
      if (back) return go(Screen::WaitlistMode);
      if (id.starts_with("waitlist.concern.")) {
        const std::string tag = id.substr(17);
        if (!draft.concerns.erase(tag)) draft.concerns.insert(tag);
        return changed();
      }
      if (next) return go(Screen::WaitlistTimes);
      return;
    case Screen::WaitlistTimes:
      if (back) return go(Screen::WaitlistConcerns);
      if (id.starts_with("waitlist.time.")) {
        const std::string tag = id.substr(14);
        if (!draft.times.erase(tag)) draft.times.insert(tag);
        return changed();
      }
      if (next) return go(Screen::WaitlistProvider);
      return;
    case Screen::WaitlistProvider:
      if (back) return go(Screen::WaitlistTimes);
      if (id == "waitlist.provider.any") {
        draft.providerId.reset();
        draft.onlyPreferredProvider = false;
        return go(Screen::WaitlistConsent);
      }
      if (id.starts_with("waitlist.provider.")) {
        if (auto pid = Uuid::parse(id.substr(18))) {
          draft.providerId = *pid;
          return go(Screen::WaitlistConsent);
        }
      }
      return;
    case Screen::WaitlistConsent:
      // Consent names its channel: text, call or email (not offered without an email).
      if (back) return go(Screen::WaitlistProvider);
      if (id == "waitlist.consent.no") {
        draft.consent = false;
        return go(Screen::WaitlistPrivacy);
      }
      if (id == "waitlist.consent.sms") draft.contactMethod = ContactMethod::Sms;
      else if (id == "waitlist.consent.phone") draft.contactMethod = ContactMethod::Phone;
      else if (id == "waitlist.consent.email" && !draft.noEmail) draft.contactMethod = ContactMethod::Email;
      else return;
      draft.consent = true;
      return go(Screen::WaitlistDiscretion);
    case Screen::WaitlistDiscretion:
      if (back) return go(Screen::WaitlistConsent);
      if (id == "waitlist.discretion.name") draft.mayNamePractice = true;
      else if (id == "waitlist.discretion.general") draft.mayNamePractice = false;
      else return;
      return go(Screen::WaitlistPrivacy);
    case Screen::WaitlistPrivacy:
      if (back) return go(draft.consent == true ? Screen::WaitlistDiscretion : Screen::WaitlistConsent);
      if (id == "waitlist.privacy.received") draft.privacyAcknowledged = true;
      else if (id == "waitlist.privacy.paper") draft.privacyAcknowledged = false;
      else return;
      return go(Screen::WaitlistReview);
    case Screen::WaitlistReview:
      if (saving) return;  // the sign-up is on its way; nothing else until it lands
      if (back) return go(Screen::WaitlistPrivacy);
      if (id == "waitlist.submit") return submitWaitlistStep();
      return;
    case Screen::WaitlistDone:
      if (id.starts_with("waitlist.same_day.")) {
        if (auto slotId = Uuid::parse(id.substr(18))) requestSameDay(*slotId);
      }
      return;
    default:
      return;
  }
}

// Validates the current screen's answer, or on review writes the entry.
void KioskApp::State::submitWaitlistStep() {
  switch (screen) {
    case Screen::WaitlistFirstName: {
      auto name = normalizeName(draft.firstName);
      if (!name) return setError(name.error());
      draft.firstName = *name;
      return go(Screen::WaitlistLastName);
    }
    case Screen::WaitlistLastName: {
      auto name = normalizeName(draft.lastName);
      if (!name) return setError(name.error());
      draft.lastName = *name;
      return go(Screen::WaitlistDob);
    }
    case Screen::WaitlistDob: {
      auto dob = readDateOfBirth(!draft.returning);
      if (!dob) return;
      if (!draft.returning) return go(Screen::WaitlistPhone);
      if (lookingUp) return;
      // Only one patient with that name and date of birth is this patient.
      auto read = [name = draft.lastName, dob = *dob](store::Store& st) -> Result<std::optional<Patient>> {
        auto found = st.findPatients(name, dob);
        if (!found) return std::unexpected(found.error());
        if (found->size() != 1) return std::nullopt;
        return found->front();
      };
      return lookUp<std::optional<Patient>>(read, [this](Result<std::optional<Patient>> found) {
        if (!found) return readFailed(found.error(), "looking a patient up");
        if (!*found) {
          if (recordFailedLookup()) return;
          return setErrorKey("waitlist.returning.not_found");
        }
        returningPatient = **found;
        failedLookups.clear();
        go(Screen::WaitlistMode);
      });
    }
    case Screen::WaitlistPhone: {
      auto phone = normalizePhone(draft.phone);
      if (!phone) return setError(phone.error());
      draft.phone = *phone;
      return go(Screen::WaitlistEmail);
    }
    case Screen::WaitlistEmail: {
      auto email = normalizeEmail(draft.email);
      if (!email) return setError(email.error());
      draft.email = *email;
      return go(Screen::WaitlistInsurance);
    }
    case Screen::WaitlistMemberId: {
      InsuranceInfo info;
      info.payer = draft.payer;
      info.memberId = draft.memberId;
      if (auto v = validate(info); !v) return setError(v.error());
      return go(Screen::WaitlistMode);
    }
    case Screen::WaitlistReview:
      break;
    case Screen::WaitlistDone: {
      return;
    }
    default:
      return;
  }

  // [SECTION] The sign-up: the patient as typed (new) or as found (returning), the choices of
  // this visit, and an entry; which list, whether the email is a patient on file, the write and
  // what the done screen needs are for the worker (writeWalkIn).
  UuidGenerator ids;
  Patient patient;
  const bool isNew = !returningPatient.has_value();
  if (isNew) {
    auto dob = parseDateOfBirth(toMonthFirst(draft.dobDigits, tr.language()), toDate(now));
    if (!dob) return setError(dob.error());
    patient.patientId = ids.v7(now);
    patient.firstName = draft.firstName;
    patient.lastName = draft.lastName;
    patient.email = draft.noEmail ? noEmailAddressFor(patient.patientId) : draft.email;
    patient.phone = draft.phone;
    patient.dateOfBirth = *dob;
    patient.insuranceInfo.selfPay = draft.selfPay;
    patient.insuranceInfo.payer = draft.payer;
    patient.insuranceInfo.memberId = draft.memberId;
  } else {
    patient = *returningPatient;
  }
  adoptChoices(patient.preferences, chosenPreferences());

  WaitlistEntry entry;
  entry.entryId = ids.v7(now);
  entry.providerId = draft.providerId;
  entry.status = WaitlistEntryStatus::Waiting;
  entry.priorityScore = 0.0;  // the store scores the entry as it writes it

  // On the worker's connection when there is one: the write may wait for the sync daemon's lock,
  // and nothing the patient sees waits on the store.
  WalkInWrite job{std::move(patient), isNew, std::move(entry), Waitlist{}, now, localDay().second};
  if (workerStore == nullptr) return finishWalkIn(writeWalkIn(store, zone, std::move(job)));
  const bool posted = worker.post([this, job = std::move(job), z = zone]() mutable -> Worker::Done {
    auto result = writeWalkIn(*workerStore, z, std::move(job));
    return [this, result = std::move(result)]() mutable { finishWalkIn(std::move(result)); };
  });
  if (!posted) return setErrorKey("error.store");
  saving = true;
  error.clear();
  changed();
}

// What the patient chose on this visit, as preferences (see adoptChoices).
PatientPreferences KioskApp::State::chosenPreferences() const {
  PatientPreferences prefs;
  prefs.mode = draft.mode;
  prefs.concerns.assign(draft.concerns.begin(), draft.concerns.end());
  prefs.availableTimes = windowsFor(draft.times);
  prefs.onlyPreferredProvider = draft.onlyPreferredProvider;
  prefs.language = tr.language();
  prefs.contactConsent = draft.consent.value_or(false);
  if (prefs.contactConsent) {
    prefs.contactMethod = draft.contactMethod;
    prefs.mayNamePractice = draft.mayNamePractice.value_or(false);
  }
  if (draft.privacyAcknowledged.value_or(false)) prefs.privacyNoticeAcknowledgedAt = formatInstant(now);
  return prefs;
}

// Before the write, on its connection: the list that fits, and whether a new patient's email is
// someone on file. Sets `refusedKey` when the sign-up cannot go ahead.
Result<void> KioskApp::State::resolveWalkIn(store::Store& st, WalkInResult& out) {
  auto& w = out.job;
  auto lists = st.waitlists();
  if (!lists) return std::unexpected(lists.error());
  if (lists->empty()) {
    out.refusedKey = "waitlist.no_list";
    return {};
  }
  w.list = listFor(*lists, w.patient.preferences.concerns);
  w.entry.waitlistId = w.list.waitlistId;
  if (!w.isNew || isNoEmailAddress(w.patient.email)) return {};
  auto existing = st.findPatientByEmail(w.patient.email);
  if (!existing) return std::unexpected(existing.error());
  if (!*existing) return {};
  // Same email: the same person only if name and date of birth agree; never merged otherwise.
  Patient& onFile = **existing;
  if (onFile.dateOfBirth != w.patient.dateOfBirth || nameLookupKey(onFile.lastName) != nameLookupKey(w.patient.lastName)) {
    out.refusedKey = "waitlist.email_taken";
    return {};
  }
  adoptChoices(onFile.preferences, w.patient.preferences);
  w.patient = std::move(onFile);
  w.isNew = false;
  return {};
}

KioskApp::State::WalkInResult KioskApp::State::writeWalkIn(store::Store& st, const PracticeZone& zone, WalkInWrite job) {
  WalkInResult out;
  out.job = std::move(job);
  auto& w = out.job;
  out.written = resolveWalkIn(st, out);
  if (!out.written || !out.refusedKey.empty()) return out;
  w.entry.patientId = w.patient.patientId;
  UuidGenerator ids;
  out.written = st.write(store::Actor::kiosk(), w.at, [&](store::WriteTx& tx) -> Result<void> {
    if (w.isNew) {
      if (auto r = tx.insert(w.patient); !r) return r;
    } else {
      if (auto r = tx.update(w.patient); !r) return r;
    }
    auto active = st.waitlistEntries(w.list.waitlistId, true);
    if (!active) return std::unexpected(active.error());
    for (const auto& e : *active) {
      if (e.patientId == w.patient.patientId) {
        out.alreadyWaiting = true;
        w.entry = e;
        return {};
      }
    }
    if (auto r = tx.insert(w.entry); !r) return r;
    Notification note;
    note.notificationId = ids.v7(w.at);
    note.recipientId = w.list.practiceId;
    note.recipientType = RecipientType::FrontDesk;
    note.type = NotificationType::WaitlistJoined;
    note.content.templateKey = "waitlist_joined";
    note.content.params = {{"entry_id", w.entry.entryId.toString()}, {"waitlist_id", w.list.waitlistId.toString()}};
    return tx.insert(note);
  });
  if (!out.written) return out;
  // Position and an honest estimate from the list's recent fills (waitlist_engine.hpp); same day:
  // today's open slots this patient could take, best first (the kiosk only offers to request one).
  store::WaitlistService service = waitlistServiceOn(st, zone);
  if (auto estimate = service.estimateFor(w.entry.entryId, w.at)) out.estimate = *estimate;
  if (auto slots = service.sameDaySlots(w.patient, w.entry.providerId, w.at + std::chrono::minutes{15}, w.dayEnd)) {
    out.sameDay = std::move(*slots);
    if (out.sameDay.size() > 2) out.sameDay.resize(2);  // a choice, not a timetable
  }
  return out;
}

void KioskApp::State::finishWalkIn(WalkInResult result) {
  saving = false;
  changed();
  if (!result.written) noteWorkerError(result.written.error());
  // A patient who walked away meanwhile (idle reset) is shown nothing; the entry stands or not.
  if (screen != Screen::WaitlistReview) {
    if (!result.written) logStoreError(result.written.error(), "joining the waitlist (the patient had left the screen)");
    return;
  }
  if (!result.written) return setError(result.written.error());
  if (!result.refusedKey.empty()) return setErrorKey(result.refusedKey);
  const auto& w = result.job;
  resultEntryId = w.entry.entryId;
  const auto& estimate = result.estimate;
  resultPosition = estimate ? estimate->position : 0;
  if (result.alreadyWaiting) {
    resultEstimate = tr.tr("waitlist.done.already");
  } else if (estimate && estimate->hasEstimate && estimate->maxWeeks) {
    resultEstimate = tr.tr("waitlist.estimate.range", {{"low", std::to_string(estimate->minWeeks)},
                                                        {"high", std::to_string(*estimate->maxWeeks)}});
  } else if (estimate && estimate->hasEstimate) {
    resultEstimate = tr.tr("waitlist.estimate.at_least", {{"low", std::to_string(estimate->minWeeks)}});
  } else {
    resultEstimate = tr.tr("waitlist.estimate.unknown");
  }
  sameDaySlots = std::move(result.sameDay);
  resultListName = w.list.name;
  resultReference = checkInCodeFor(w.entry.entryId);
  returningPatient = w.patient;
  draft.wipe();
  go(Screen::WaitlistDone);
}

// A walk-in asks for one of today's open slots: a pending request plus a note for the front
// desk. Only the practice can confirm it, and the patient is told so.
void KioskApp::State::requestSameDay(const Uuid& slotId) {
  if (!returningPatient || !resultEntryId) return;
  const auto slot = std::find_if(sameDaySlots.begin(), sameDaySlots.end(),
                                 [&](const AppointmentSlot& s) { return s.slotId == slotId; });
  if (slot == sameDaySlots.end()) return;
  UuidGenerator ids;
  AppointmentRequest request;
  request.requestId = ids.v7(now);
  request.patientId = returningPatient->patientId;
  request.providerId = slot->providerId;
  request.waitlistEntryId = resultEntryId;
  request.appointmentSlotId = slot->slotId;
  request.status = RequestStatus::Pending;
  request.requestedTime = now;
  if (saving) return;
  Notification note;
  note.notificationId = ids.v7(now);
  note.recipientId = practice ? practice->practiceId : slot->providerId;
  note.recipientType = RecipientType::FrontDesk;
  note.type = NotificationType::RequestReceived;
  note.content.templateKey = "same_day_request";
  note.content.params = {{"request_id", request.requestId.toString()}, {"slot_id", slot->slotId.toString()}};
  const std::string text = tr.tr("waitlist.same_day.requested", {{"time", formatTime(slot->startTime)},
                                                                 {"provider", providerName(slot->providerId)}});
  saving = true;
  changed();
  // On the worker, like the sign-up: the request may wait for the sync daemon's lock.
  postWrite("asking for a same-day opening",
            [request, note, at = now](store::Store& st) {
              return st.write(store::Actor::kiosk(), at, [&](store::WriteTx& tx) -> Result<void> {
                if (auto r = tx.insert(request); !r) return r;
                return tx.insert(note);
              });
            },
            [this, text](const Result<void>& written) {
              saving = false;
              changed();
              if (screen != Screen::WaitlistDone) {
                if (!written) logStoreError(written.error(), "asking for a same-day opening (the patient had left)");
                return;
              }
              if (!written) return setError(written.error());
              sameDayText = text;
              go(Screen::WaitlistSameDayDone);
            });
}

void KioskApp::State::buildWaitlist(ScreenVm& vm) const {
  vm.title = tr.tr("waitlist.title");
  auto textStep = [&](const char* key, const std::string& value, KeyboardKind kb, bool canContinue = true) {
    vm.field = FieldVm{std::string(key), tr.tr(std::string(key) + ".question"), value, tr.tr(std::string(key) + ".hint"), kb};
    vm.actions = {backButton(tr), continueButton(tr, canContinue && !value.empty())};
  };
  switch (screen) {
    case Screen::WaitlistStart:
      vm.title = tr.tr("waitlist.start.body");
      vm.choices = {{"waitlist.new", tr.tr("waitlist.new"), ButtonStyle::Tile, true, false},
                    {"waitlist.returning", tr.tr("waitlist.returning"), ButtonStyle::Tile, true, false}};
      vm.actions = {backButton(tr)};
      return;
    case Screen::WaitlistFirstName: return textStep("waitlist.first_name", draft.firstName, KeyboardKind::Letters);
    case Screen::WaitlistLastName: return textStep("waitlist.last_name", draft.lastName, KeyboardKind::Letters);
    case Screen::WaitlistDob: {
      buildDobStep(vm, "waitlist.dob", tr.tr("waitlist.dob.question"));
      vm.actions = {backButton(tr), continueButton(tr, draft.dobDigits.size() == 8)};
      showLookingUp(vm);
      if (!error.empty() && draft.returning) {
        vm.actions.insert(vm.actions.begin() + 1,
                          {"waitlist.join_as_new", tr.tr("waitlist.join_as_new"), ButtonStyle::Link, true, false});
      }
      return;
    }
    case Screen::WaitlistPhone:
      // Shown as people write it while it is typed: (541) 555-0199.
      return textStep("waitlist.phone", formatPhoneForDisplay(draft.phone), KeyboardKind::Digits);
    case Screen::WaitlistEmail:
      textStep("waitlist.email", draft.email, KeyboardKind::Email);
      vm.actions.insert(vm.actions.begin() + 1,
                        {"waitlist.email.none", tr.tr("waitlist.email.none"), ButtonStyle::Link, true, false});
      return;
    case Screen::WaitlistInsurance: {
      vm.title = tr.tr("waitlist.insurance.question");
      vm.choices.push_back({"waitlist.insurance.self_pay", tr.tr("waitlist.insurance.self_pay"), ButtonStyle::Tile,
                            true, draft.selfPay});
      const auto payers = practice ? practice->settings.acceptedInsurance : std::vector<std::string>{};
      for (std::size_t i = 0; i < payers.size(); ++i) {
        vm.choices.push_back({"waitlist.insurance.payer." + std::to_string(i), payers[i], ButtonStyle::Tile, true,
                              draft.payer == payers[i]});
      }
      vm.choices.push_back({"waitlist.insurance.payer." + std::to_string(payers.size()),
                            tr.tr("waitlist.insurance.other"), ButtonStyle::Tile, true, false});
      vm.actions = {backButton(tr)};
      return;
    }
    case Screen::WaitlistMemberId:
      vm.body = {tr.tr("waitlist.member_id.body", {{"payer", draft.payer}})};
      return textStep("waitlist.member_id", draft.memberId, KeyboardKind::MemberId);
    case Screen::WaitlistMode:
      vm.title = tr.tr("waitlist.mode.question");
      for (const char* m : {"in_person", "telehealth", "either"}) {
        const std::string key = std::string("waitlist.mode.") + m;
        vm.choices.push_back({key, tr.tr(key), ButtonStyle::Tile, true, toString(draft.mode) == m});
      }
      vm.actions = {backButton(tr)};
      return;
    case Screen::WaitlistConcerns:
      vm.title = tr.tr("waitlist.concerns.question");
      vm.body = {tr.tr("waitlist.concerns.hint")};
      vm.multiSelect = true;
      for (auto tag : kKnownSpecialties) {
        const std::string t(tag);
        vm.choices.push_back({"waitlist.concern." + t, tr.tr("specialty." + t), ButtonStyle::Tile, true,
                              draft.concerns.contains(t)});
      }
      vm.actions = {backButton(tr), continueButton(tr)};
      return;
    case Screen::WaitlistTimes:
      vm.title = tr.tr("waitlist.times.question");
      vm.body = {tr.tr("waitlist.times.hint")};
      vm.multiSelect = true;
      for (auto tag : kTimeChoices) {
        const std::string t(tag);
        vm.choices.push_back({"waitlist.time." + t, tr.tr("time_choice." + t), ButtonStyle::Tile, true,
                              draft.times.contains(t)});
      }
      vm.actions = {backButton(tr), continueButton(tr)};
      return;
    case Screen::WaitlistProvider:
      vm.title = tr.tr("waitlist.provider.question");
      vm.choices.push_back({"waitlist.provider.any", tr.tr("waitlist.provider.any"), ButtonStyle::Tile, true,
                            !draft.providerId});
      for (const auto& p : providers) {
        if (draft.mode == VisitMode::Telehealth && !p.telehealth) continue;
        vm.choices.push_back({"waitlist.provider." + p.providerId.toString(), p.firstName + " " + p.lastName,
                              ButtonStyle::Tile, true, draft.providerId == p.providerId});
      }
      vm.actions = {backButton(tr)};
      return;
    case Screen::WaitlistConsent: {
      vm.title = tr.tr("waitlist.consent.question");
      const bool yes = draft.consent == true;
      vm.choices = {{"waitlist.consent.sms", tr.tr("waitlist.consent.sms"), ButtonStyle::Tile, true,
                     yes && draft.contactMethod == ContactMethod::Sms},
                    {"waitlist.consent.phone", tr.tr("waitlist.consent.phone"), ButtonStyle::Tile, true,
                     yes && draft.contactMethod == ContactMethod::Phone}};
      if (!draft.noEmail && !(returningPatient && isNoEmailAddress(returningPatient->email)))
        vm.choices.push_back({"waitlist.consent.email", tr.tr("waitlist.consent.email"), ButtonStyle::Tile, true,
                              yes && draft.contactMethod == ContactMethod::Email});
      vm.choices.push_back({"waitlist.consent.no", tr.tr("waitlist.consent.no"), ButtonStyle::Tile, true,
                            draft.consent == false});
      vm.actions = {backButton(tr)};
      return;
    }
    case Screen::WaitlistDiscretion: {
      const std::string name = practice ? practice->name : tr.tr("common.the_practice");
      vm.title = tr.tr("waitlist.discretion.question", {{"practice", name}});
      vm.body = {tr.tr("waitlist.discretion.body")};
      vm.choices = {{"waitlist.discretion.name", tr.tr("waitlist.discretion.name", {{"practice", name}}), ButtonStyle::Tile,
                     true, draft.mayNamePractice == true},
                    {"waitlist.discretion.general", tr.tr("waitlist.discretion.general"), ButtonStyle::Tile, true,
                     draft.mayNamePractice == false}};
      vm.actions = {backButton(tr)};
      return;
    }
    case Screen::WaitlistPrivacy:
      vm.title = tr.tr("waitlist.privacy.title");
      vm.body = {tr.tr("waitlist.privacy.body")};
      vm.choices = {{"waitlist.privacy.received", tr.tr("waitlist.privacy.received"), ButtonStyle::Tile, true,
                     draft.privacyAcknowledged == true},
                    {"waitlist.privacy.paper", tr.tr("waitlist.privacy.paper"), ButtonStyle::Tile, true,
                     draft.privacyAcknowledged == false}};
      vm.actions = {backButton(tr)};
      return;
    case Screen::WaitlistReview: {
      // Everything the patient told us, so a slip can be caught before it is saved.
      vm.title = tr.tr("waitlist.review.title");
      const auto joined = [](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
        return out;
      };
      if (returningPatient) {
        vm.body.push_back(tr.tr("waitlist.review.name", {{"name", returningPatient->firstName}}));
        vm.body.push_back(tr.tr("waitlist.review.on_file"));
      } else {
        vm.body.push_back(tr.tr("waitlist.review.name", {{"name", draft.firstName + " " + draft.lastName}}));
        if (auto dob = parseDateOfBirth(toMonthFirst(draft.dobDigits, tr.language()), toDate(now)))
          vm.body.push_back(tr.tr("waitlist.review.dob", {{"date", longDate(*dob)}}));
        vm.body.push_back(tr.tr("waitlist.review.phone", {{"phone", formatPhoneForDisplay(draft.phone)}}));
        vm.body.push_back(draft.noEmail ? tr.tr("waitlist.review.no_email")
                                        : tr.tr("waitlist.review.email", {{"email", draft.email}}));
        vm.body.push_back(draft.selfPay ? tr.tr("waitlist.review.self_pay")
                                        : tr.tr("waitlist.review.insurance", {{"payer", draft.payer}, {"member", draft.memberId}}));
      }
      std::vector<std::string> concerns;
      for (const auto& c : draft.concerns) concerns.push_back(tr.tr("specialty." + c));
      std::vector<std::string> times;
      for (const auto& t : draft.times) times.push_back(tr.tr("time_choice." + t));
      vm.body.push_back(tr.tr("waitlist.review.mode", {{"mode", tr.tr(std::string("waitlist.mode.") + std::string(toString(draft.mode)))}}));
      vm.body.push_back(tr.tr("waitlist.review.concerns",
                              {{"concerns", concerns.empty() ? tr.tr("waitlist.review.none") : joined(concerns)}}));
      vm.body.push_back(tr.tr("waitlist.review.times", {{"times", times.empty() ? tr.tr("waitlist.review.none") : joined(times)}}));
      vm.body.push_back(draft.providerId ? tr.tr("waitlist.review.provider", {{"provider", providerName(*draft.providerId)}})
                                         : tr.tr("waitlist.review.any_provider"));
      if (draft.consent.value_or(false)) {
        vm.body.push_back(tr.tr("waitlist.review.contact_" + std::string(toString(draft.contactMethod))));
        vm.body.push_back(tr.tr(draft.mayNamePractice.value_or(false) ? "waitlist.review.may_name" : "waitlist.review.general"));
      } else {
        vm.body.push_back(tr.tr("waitlist.review.contact_no"));
      }
      vm.body.push_back(tr.tr(draft.privacyAcknowledged.value_or(false) ? "waitlist.review.privacy_received"
                                                                         : "waitlist.review.privacy_paper"));
      if (saving) vm.body.push_back(tr.tr("common.saving"));
      vm.actions = {backButton(tr), {"waitlist.submit", tr.tr("waitlist.submit"), ButtonStyle::Primary, !saving, false}};
      if (saving) vm.actions.front().enabled = false;
      return;
    }
    case Screen::WaitlistDone:
      vm.title = tr.tr("waitlist.done.title");
      vm.body = {tr.tr("waitlist.done.list", {{"list", resultListName}}),
                 tr.tr("waitlist.done.position", {{"position", std::to_string(resultPosition)}}), resultEstimate,
                 tr.tr("waitlist.done.reference", {{"code", resultReference}}), tr.tr("waitlist.done.next")};
      if (!sameDaySlots.empty()) {
        vm.body.push_back(tr.tr("waitlist.same_day.intro"));
        for (const auto& slot : sameDaySlots) {
          vm.choices.push_back({"waitlist.same_day." + slot.slotId.toString(),
                                tr.tr("waitlist.same_day.request", {{"time", formatTime(slot.startTime)},
                                                                     {"provider", providerName(slot.providerId)}}),
                                ButtonStyle::Tile, !saving, false});
        }
        if (saving) vm.body.push_back(tr.tr("common.saving"));
      }
      vm.actions = {{"nav.done", tr.tr("nav.done"), ButtonStyle::Primary, !saving, false}};
      return;
    case Screen::WaitlistSameDayDone:
      vm.title = tr.tr("waitlist.same_day.requested_title");
      vm.body = {sameDayText, tr.tr("waitlist.same_day.pending")};
      vm.actions = {{"nav.done", tr.tr("nav.done"), ButtonStyle::Primary, true, false}};
      return;
    default:
      return;
  }
}

}  // namespace anteroom::kiosk
