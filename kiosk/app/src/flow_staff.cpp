// Staff mode: choose your name, enter your PIN (Argon2id; lockout after repeated failures
// that survives a restart), then today's board, the waitlist, slots, sync and settings.
// Every view of patient data and every change is audited with the staff member's id.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "anteroom/model/validation.hpp"
#include "anteroom/store/pin.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "app_state.hpp"

namespace anteroom::kiosk {

using namespace std::chrono;

namespace {

// Wrong PINs so far and when the next try is allowed (stored as "failures|until").
struct Lockout {
  int failures = 0;
  std::optional<Instant> until;
};

std::string lockKey(const StaffUser& u) { return "staff_lock:" + u.staffId.toString(); }

Lockout readLockout(store::Store& store, const StaffUser& u) {
  Lockout l;
  auto v = store.syncValue(lockKey(u));
  if (!v || !*v) return l;
  const std::string& text = **v;
  const auto bar = text.find('|');
  l.failures = std::atoi(text.substr(0, bar).c_str());
  if (bar != std::string::npos && bar + 1 < text.size()) l.until = parseInstant(text.substr(bar + 1));
  return l;
}

// A write that guards security is never silently dropped: the caller refuses on failure.
Result<void> writeLockout(store::Store& store, const StaffUser& u, const Lockout& l) {
  return store.setSyncValue(lockKey(u), std::to_string(l.failures) + "|" + (l.until ? formatInstant(*l.until) : ""));
}

std::chrono::seconds throttleDelay(const KioskConfig& cfg, int failures) {
  if (failures < cfg.staffFreeAttempts) return std::chrono::seconds{0};
  const int doublings = std::min(failures - cfg.staffFreeAttempts, 16);
  return std::min(cfg.staffMaxDelay, cfg.staffFirstDelay * (1 << doublings));
}

// Boards seen from the lobby show first name and last initial; the full name only in a
// row's detail, which is an audited view.
std::string shortName(const Patient& p) { return firstNameLastInitial(p.firstName, p.lastName); }

// Clinical urgency is a clinical judgement: clinicians and managers set it, front desk does not.
bool maySetUrgency(const StaffUser& u) {
  return u.role == StaffRole::Clinician || u.role == StaffRole::Manager || u.role == StaffRole::Admin;
}

}  // namespace

void KioskApp::State::pressStaff(const std::string& id) {
  if (id == "welcome.staff") {
    go(Screen::StaffSelect);
    return loadStaffList();
  }
  if (screen == Screen::StaffSelect) {
    if (id == "nav.back") return resetToWelcome();
    if (id.starts_with("staff.user.")) {
      auto uid = Uuid::parse(id.substr(11));
      if (!uid) return;
      // The names as the worker read them: the tap reads nothing.
      const auto& users = staffList.rows;
      const auto user = std::find_if(users.begin(), users.end(), [&](const StaffUser& u) { return u.staffId == *uid; });
      if (user == users.end() || !user->active) return;
      staffCandidate = *user;
      wipeString(pin);
      go(Screen::StaffPin);
    }
    return;
  }
  if (screen == Screen::StaffPin) {
    if (id == "nav.back") {
      wipeString(pin);
      return go(Screen::StaffSelect);
    }
    if (id == "nav.continue") return submitStaffPin();
    return;
  }

  // Unlocked screens.
  if (!staff) return resetToWelcome();
  const store::Actor actor = store::Actor::staff(staff->staffId);
  auto audit = [&](std::string_view entity, const std::string& entityId, std::string_view action) {
    recordAccessLater(actor, std::string(entity), Uuid::parse(entityId).value_or(Uuid{}), std::string(action));
  };
  // A board's write on the worker: "Saving…" meanwhile, then its words (or the error).
  auto boardWrite = [&](std::string what, StoreWrite write, std::string doneKey) {
    notice = tr.tr("common.saving");
    error.clear();
    postWrite(std::move(what), std::move(write), [this, doneKey = std::move(doneKey)](const Result<void>& r) {
      if (!onStaffBoard()) {
        if (!r) logStoreError(r.error(), "a staff change (staff had locked the kiosk)");
        return;
      }
      notice.clear();
      if (!r) setError(r.error());
      else notice = tr.tr(doneKey);
      reloadBoard();
      changed();
    });
    changed();
  };
  // A board opens at once and says "Loading…" until the worker's read lands.
  auto openBoard = [&](Screen board, std::string_view entity) {
    go(board);
    // Viewing a board of patient data is itself an access worth recording.
    if (!entity.empty()) audit(entity, std::string(), "view_board");
    reloadBoard();
  };
  if (id == "staff.lock") return resetToWelcome();
  if (id == "staff.tab.today") return openBoard(Screen::StaffToday, "appointment");
  if (id == "staff.tab.waitlist") return openBoard(Screen::StaffWaitlist, "waitlist_entry");
  if (id == "staff.tab.slots") return openBoard(Screen::StaffSlots, "appointment_slot");
  if (id == "staff.tab.sync") return openBoard(Screen::StaffSync, {});
  if (id == "staff.tab.settings") return openBoard(Screen::StaffSettings, {});

  // Row actions: "<table>.<action>.<row id>".
  auto rowAction = [&](std::string_view prefix) -> std::optional<Uuid> {
    if (!id.starts_with(prefix)) return std::nullopt;
    return Uuid::parse(std::string_view(id).substr(prefix.size()));
  };
  if (auto appt = rowAction("staff.today.check_in.")) {
    return boardWrite("checking in from today's board", [id = *appt, actor, at = now](store::Store& st) -> Result<void> {
      if (auto r = st.checkIn(id, actor, at); !r) return std::unexpected(r.error());
      return {};
    }, "staff.today.checked_in");
  }
  if (auto appt = rowAction("staff.today.no_show.")) {
    return boardWrite("marking a no-show", [id = *appt, actor, at = now](store::Store& st) -> Result<void> {
      if (auto r = st.setAppointmentStatus(id, AppointmentStatus::NoShow, actor, at); !r) return std::unexpected(r.error());
      return {};
    }, "staff.today.marked_no_show");
  }
  if (auto entry = rowAction("staff.waitlist.view.")) {
    selectedRow = entry->toString();
    audit("waitlist_entry", entry->toString(), "view");
    return changed();
  }
  if (id.starts_with("staff.waitlist.list.")) {
    selectedWaitlist = Uuid::parse(id.substr(20));
    selectedRow.reset();
    // The other list's entries are read on the worker: "Loading…" under the lists meanwhile.
    if (selectedWaitlist) {
      waitlistBoard.rows.current = *selectedWaitlist;
      waitlistBoard.rows.engine.reset();
    }
    loadWaitlistBoard();
    return changed();
  }
  if (id == "staff.today.show_earlier") {
    showEarlierToday = !showEarlierToday;
    return changed();
  }
  if (auto appt = rowAction("staff.today.view.")) {
    selectedRow = appt->toString();
    audit("appointment", appt->toString(), "view");
    return changed();
  }
  if (id == "staff.waitlist.show_all") {
    showAllEntries = !showAllEntries;
    return changed();
  }
  if (auto slot = rowAction("staff.slots.view.")) {
    selectedRow = slot->toString();
    offerToConfirm.reset();
    audit("appointment_slot", slot->toString(), "view_matches");
    return changed();
  }
  // An offer is two taps: the first shows who and when, the second sends it for the hub to
  // confirm (a device never books or holds a slot: DESIGN 5.3).
  if (auto slot = rowAction("staff.slots.offer.")) {
    // Who would be offered, from the board as the worker read it: the tap reads nothing.
    const SlotRows& rows = slotsBoard.rows;
    if (!rows.engine) {
      setErrorKey("error.store");
      return changed();
    }
    const WaitlistEngine& engine = *rows.engine;
    const auto open = std::find_if(rows.slots.begin(), rows.slots.end(),
                                   [&](const AppointmentSlot& s) { return s.slotId == *slot; });
    const auto best = open != rows.slots.end() ? engine.matchSlot(*open, 1) : SlotMatches{};
    if (best.candidates.empty()) {
      setErrorKey("staff.slots.no_matches");
      return changed();
    }
    offerToConfirm = OfferToConfirm{*slot, engine.entries()[best.candidates.front().entryIndex].entryId};
    selectedRow = slot->toString();
    return changed();
  }
  if (id == "staff.slots.offer_cancel") {
    offerToConfirm.reset();
    return changed();
  }
  if (id == "staff.slots.offer_confirm" && offerToConfirm) {
    const OfferToConfirm offer = *offerToConfirm;
    offerToConfirm.reset();
    return boardWrite("sending an offer", [offer, actor, at = now, z = zone](store::Store& st) -> Result<void> {
      if (auto sent = waitlistServiceOn(st, z).requestOffer(offer.slotId, offer.entryId, actor, at); !sent) return std::unexpected(sent.error());
      return {};
    }, "staff.slots.offer.sent");
  }
  if (id.starts_with("staff.waitlist.urgency.")) {
    if (!maySetUrgency(*staff)) {
      setErrorKey("staff.urgency.clinical_only");
      return changed();
    }
    // "staff.waitlist.urgency.<level>.<entry id>"
    const std::string rest = id.substr(23);
    const auto dot = rest.find('.');
    const auto entryId = dot == std::string::npos ? std::nullopt : Uuid::parse(rest.substr(dot + 1));
    if (!entryId) return;
    const int level = std::atoi(rest.substr(0, dot).c_str());
    return boardWrite("setting urgency", [entry = *entryId, level, actor, at = now, z = zone](store::Store& st) -> Result<void> {
      if (auto r = waitlistServiceOn(st, z).setUrgency(entry, level, actor, at); !r) return std::unexpected(r.error());
      return {};
    }, "staff.urgency.saved");
  }
  if (id.starts_with("staff.sync.view.")) {
    const auto conflictId = std::atoll(id.substr(16).c_str());
    const auto it = std::find_if(sync.conflicts.begin(), sync.conflicts.end(),
                                 [&](const store::SyncConflict& c) { return c.conflictId == conflictId; });
    if (it == sync.conflicts.end()) return;
    selectedConflict = conflictId;
    selectedRow = std::to_string(conflictId);
    // What the device wrote and what the server keeps may be patient data: an audited view.
    audit(it->entity, it->entityId, "view_conflict");
    return changed();
  }
  if (id.starts_with("staff.sync.resolve.")) {
    const auto conflictId = std::atoll(id.substr(19).c_str());
    if (selectedConflict == conflictId) selectedConflict.reset();
    return boardWrite("marking a conflict reviewed", [conflictId, actor](store::Store& st) {
      return st.resolveConflict(conflictId, actor);
    }, "staff.sync.reviewed");
  }
  if (auto who = rowAction("staff.settings.clear_pin.")) {
    if (staff->role != StaffRole::Manager && staff->role != StaffRole::Admin) return;
    const auto& counting = settingsBoard.rows.counting;
    const auto user = std::find_if(counting.begin(), counting.end(), [&](const auto& c) { return c.first.staffId == *who; });
    if (user == counting.end()) return;
    const StaffUser member = user->first;
    notice = tr.tr("common.saving");
    postWrite("clearing a staff PIN wait", [member, actor, at = now](store::Store& st) -> Result<void> {
      if (auto r = writeLockout(st, member, Lockout{}); !r) return r;
      return st.write(actor, at, [&](store::WriteTx& tx) {
        return tx.recordAccess("staff_user", member.staffId, "pin_throttle_cleared");
      });
    }, [this, name = member.displayName](const Result<void>& cleared) {
      if (!onStaffBoard()) return;
      notice.clear();
      if (!cleared) setErrorKey("error.store");
      else notice = tr.tr("staff.settings.cleared", {{"name", name}});
      reloadBoard();
      changed();
    });
    return changed();
  }
  if (id.starts_with("staff.settings.idle.")) {
    const int secondsValue = std::atoi(id.substr(20).c_str());
    if (secondsValue >= 15 && secondsValue <= 600) {
      cfg.idleTimeout = seconds{secondsValue};
      return boardWrite("saving the idle timeout", [secondsValue](store::Store& st) {
        return st.setSyncValue("kiosk.idle_timeout_seconds", std::to_string(secondsValue));
      }, "staff.settings.saved");
    }
    return changed();
  }
}

namespace {

// A PIN attempt's bookkeeping, on whichever connection runs it (the worker's): a wrong PIN
// counts (failures, the next allowed try, an audit alert every staffAlertEvery-th); a right one
// clears the count. `recorded` is false when a write failed: the screen then refuses.
KioskApp::State::PinAttempt recordPinAttempt(store::Store& st, const KioskConfig& cfg, const StaffUser& candidate, bool ok,
                                             Instant at) {
  KioskApp::State::PinAttempt out;
  out.ok = ok;
  if (ok) {
    (void)writeLockout(st, candidate, Lockout{});  // a count left behind only delays the next wrong one
    return out;
  }
  Lockout lock = readLockout(st, candidate);
  lock.failures += 1;
  out.delay = throttleDelay(cfg, lock.failures);
  lock.until = out.delay.count() > 0 ? std::optional<Instant>(at + out.delay) : std::nullopt;
  auto recorded = writeLockout(st, candidate, lock);
  if (recorded && lock.failures % cfg.staffAlertEvery == 0) {
    recorded = st.write(store::Actor::staff(candidate.staffId), at, [&](store::WriteTx& tx) {
      return tx.recordAccess("staff_user", candidate.staffId, "pin_failures_alert");
    });
  }
  if (!recorded) {
    std::fprintf(stderr, "anteroom-kiosk: recording a wrong staff PIN failed: %s (%s)\n", recorded.error().message.c_str(),
                 recorded.error().code.c_str());
    out.recorded = false;
  }
  return out;
}

// The wait left before this person's next try, if the throttle runs (nothing is checked then).
std::optional<seconds> pinWaitLeft(store::Store& st, const StaffUser& candidate, Instant at) {
  const Lockout lock = readLockout(st, candidate);
  if (!lock.until || at >= *lock.until) return std::nullopt;
  return ceil<seconds>(*lock.until - at);
}

}  // namespace

void KioskApp::State::submitStaffPin() {
  if (!staffCandidate) return go(Screen::StaffSelect);
  if (checkingPin) return;
  const StaffUser candidate = *staffCandidate;
  // Without a worker connection the throttle is read here, as the bookkeeping is written here.
  if (workerStore == nullptr) {
    if (auto left = pinWaitLeft(store, candidate, now)) return finishStaffPin(PinAttempt{.waitLeft = left}, candidate);
  }
  // Argon2id takes ~70 ms and the throttle's read and the attempt's bookkeeping may wait for the
  // sync daemon's lock: all run on the worker (the store's on its connection); frames keep coming.
  std::string typed = pin;
  wipeString(pin);
  store::Store* own = workerStore;
  const bool posted =
      worker.post([this, candidate, own, at = now, c = cfg, typed = std::move(typed)]() mutable -> Worker::Done {
        if (own != nullptr) {
          if (auto left = pinWaitLeft(*own, candidate, at)) {
            wipeString(typed);
            return [this, left, candidate] { finishStaffPin(PinAttempt{.waitLeft = left}, candidate); };
          }
        }
        const bool ok = store::verifyPin(candidate.pinHash, typed);
        wipeString(typed);
        if (own == nullptr) {
          // No connection of its own: the bookkeeping runs on the UI thread's, after.
          return [this, ok, candidate, at] { finishStaffPin(recordPinAttempt(store, cfg, candidate, ok, at), candidate); };
        }
        const PinAttempt attempt = recordPinAttempt(*own, c, candidate, ok, at);
        return [this, attempt, candidate] { finishStaffPin(attempt, candidate); };
      });
  if (!posted) return setErrorKey("error.generic");
  checkingPin = true;
  changed();
}

void KioskApp::State::finishStaffPin(const PinAttempt& attempt, const StaffUser& candidate) {
  checkingPin = false;
  changed();
  // A wrong PIN counted even if the screen moved on meanwhile; a right one unlocks only if the
  // same person is still at their PIN screen.
  const bool here = screen == Screen::StaffPin && staffCandidate && staffCandidate->staffId == candidate.staffId;
  if (!here) return;
  if (attempt.waitLeft) {
    wipeString(pin);
    error = tr.tr("staff.pin.wait", {{"seconds", std::to_string(attempt.waitLeft->count())}});
    return changed();
  }
  if (!attempt.ok) {
    if (!attempt.recorded) {
      setErrorKey("error.store");
      return;
    }
    error = attempt.delay.count() > 0
                ? tr.tr("staff.pin.wrong_wait", {{"seconds", std::to_string(attempt.delay.count())}})
                : tr.tr("staff.pin.wrong");
    return changed();
  }
  staff = staffCandidate;
  staffCandidate.reset();
  loadPractice();
  recordAccessLater(store::Actor::staff(staff->staffId), "staff_user", staff->staffId, "unlock");
  go(Screen::StaffToday);
  loadToday();
  recordAccessLater(store::Actor::staff(staff->staffId), "appointment", Uuid{}, "view_board");
}

// [SECTION] The boards' reads, on the worker (see postRead): each touches only the connection
// it is given and the values it captured.

void KioskApp::State::loadToday() {
  loadBoard<TodayRows>(todayBoard, "reading today's board", [day = localDay()](store::Store& st) -> Result<TodayRows> {
    TodayRows rows;
    auto appts = st.appointmentsBetween(day.first, day.second);
    if (!appts) return std::unexpected(appts.error());
    rows.appointments = std::move(*appts);
    for (const auto& a : rows.appointments) {
      auto p = st.get<Patient>(a.patientId);
      if (!p) return std::unexpected(p.error());
      rows.patients.push_back(std::move(*p));
    }
    return rows;
  });
}

void KioskApp::State::loadWaitlistBoard() {
  loadBoard<WaitlistRows>(waitlistBoard, "reading the waitlist board",
                          [chosen = selectedWaitlist, at = now, z = zone](store::Store& st) -> Result<WaitlistRows> {
                            WaitlistRows rows;
                            auto lists = st.waitlists();
                            if (!lists) return std::unexpected(lists.error());
                            rows.lists = std::move(*lists);
                            if (rows.lists.empty()) return rows;
                            rows.current = chosen.value_or(rows.lists.front().waitlistId);
                            // Ranked by the waitlist engine, live: the formula the hub uses, with its reasons.
                            auto engine = waitlistServiceOn(st, z).loadEngine(at, rows.current);
                            if (!engine) return std::unexpected(engine.error());
                            rows.engine = std::move(*engine);
                            return rows;
                          });
}

void KioskApp::State::loadSlotsBoard() {
  const Instant until = localDay().second + days{3};
  loadBoard<SlotRows>(slotsBoard, "reading the open slots", [at = now, until, z = zone](store::Store& st) -> Result<SlotRows> {
    SlotRows rows;
    auto slots = st.slotsBetween(at, until, SlotStatus::Open);
    if (!slots) return std::unexpected(slots.error());
    rows.slots = std::move(*slots);
    // Suggested matches come from the waitlist engine, with the reasons for each.
    auto engine = waitlistServiceOn(st, z).loadEngine(at);
    if (!engine) return std::unexpected(engine.error());
    rows.engine = std::move(*engine);
    for (const auto& slot : rows.slots) {
      auto requests = st.requestsForSlot(slot.slotId);
      if (!requests) return std::unexpected(requests.error());
      // A request the practice has not answered yet: no second offer for the slot.
      if (std::any_of(requests->begin(), requests->end(), [](const AppointmentRequest& r) {
            return r.status == RequestStatus::Pending || r.status == RequestStatus::Offered ||
                   r.status == RequestStatus::Accepted;
          }))
        rows.awaiting.push_back(slot.slotId);
    }
    return rows;
  });
}

void KioskApp::State::loadSettingsBoard() {
  loadBoard<SettingsRows>(settingsBoard, "reading the staff PIN waits", [](store::Store& st) -> Result<SettingsRows> {
    SettingsRows rows;
    auto users = st.staffUsers();
    if (!users) return std::unexpected(users.error());
    for (const auto& u : *users) {
      const Lockout l = readLockout(st, u);
      if (l.failures > 0) rows.counting.emplace_back(u, l.failures);
    }
    return rows;
  });
}

void KioskApp::State::loadStaffList() {
  loadBoard<std::vector<StaffUser>>(staffList, "reading the staff list", [](store::Store& st) { return st.staffUsers(); });
}

void KioskApp::State::loadSyncScreen() {
  auto read = [](store::Store& st) -> Result<SyncScreen> {
    SyncScreen next;
    auto status = readDaemonStatus(st);
    if (!status) return std::unexpected(status.error());
    auto conflicts = st.openConflicts(200);
    if (!conflicts) return std::unexpected(conflicts.error());
    next.status = std::move(*status);
    next.conflicts = std::move(*conflicts);
    return next;
  };
  postRead<Result<SyncScreen>>(syncGeneration, read, [this](Result<SyncScreen> status) {
    const auto ids = [](const SyncScreen& s) {
      std::vector<std::int64_t> out;
      for (const auto& c : s.conflicts) out.push_back(c.conflictId);
      return out;
    };
    SyncScreen next;
    if (status) {
      next = std::move(*status);
    } else {
      // Never "never synced" or "no conflicts" when the store could not be read.
      logStoreError(status.error(), "reading the sync status");
      noteWorkerError(status.error());
      next.unreadable = true;
    }
    next.loaded = true;
    next.lines = syncLines(next);
    const bool differs = !sync.loaded || next.lines != sync.lines || ids(next) != ids(sync);
    sync = std::move(next);
    if (differs) changed();
  });
}

void KioskApp::State::reloadBoard() {
  switch (screen) {
    case Screen::StaffToday: return loadToday();
    case Screen::StaffWaitlist: return loadWaitlistBoard();
    case Screen::StaffSlots: return loadSlotsBoard();
    case Screen::StaffSync: return loadSyncScreen();
    case Screen::StaffSettings: return loadSettingsBoard();
    default: return;
  }
}

void KioskApp::State::wipeBoards() {
  todayBoard.wipe();
  waitlistBoard.wipe();
  slotsBoard.wipe();
  settingsBoard.wipe();
  staffList.wipe();
  sync = SyncScreen{};  // a conflict's values can be patient data
  ++syncGeneration;
}

// The hub explains a conflict in English, naming the column or record it means: an English
// screen shows its words. Any other shows the sentence for the conflict's code in its own
// language (en.json keeps the English source of each), and the hub's words only for a code the
// kiosk does not know.
std::string KioskApp::State::conflictReason(const store::SyncConflict& conflict) const {
  const std::string key = "staff.sync.reason." + conflict.code;
  if (tr.language() == "en" || conflict.code.empty() || !tr.has(tr.language(), key)) return conflict.reason;
  return tr.tr(key);
}

std::vector<std::string> KioskApp::State::syncLines(const SyncScreen& screenData) const {
  if (screenData.unreadable) return {tr.tr("staff.board.unreadable")};
  return describeSyncStatus(screenData.status, now, tr, [this](Instant t) {
    return zone.partsOf(t).date == zone.partsOf(now).date ? formatTime(t) : formatDay(t) + " " + formatTime(t);
  });
}

void KioskApp::State::buildSlotDetail(ScreenVm& vm, const AppointmentSlot& sl, const WaitlistEngine& engine,
                                      const std::vector<Uuid>& awaitingSlots) const {
  // Suggested matches from the waitlist engine, with the reasons for each.
  const auto matches = engine.matchSlot(sl, 5);
  vm.detail = {matches.candidates.empty() ? tr.tr("staff.slots.no_matches") : tr.tr("staff.slots.matches")};
  int rank = 0;
  for (const auto& c : matches.candidates) {
    char pri[32], fit[32];
    std::snprintf(pri, sizeof pri, "%.1f", c.priority);
    std::snprintf(fit, sizeof fit, "%.1f", c.fit);
    vm.detail.push_back(tr.tr("staff.slots.match_line", {{"rank", std::to_string(++rank)},
                                                         {"name", shortName(engine.patientOf(c.entryIndex))},
                                                         {"priority", pri},
                                                         {"fit", fit}}));
    if (!c.fitTerms.empty()) vm.detail.push_back("   " + formatTerms(c.fitTerms));
  }
  const bool awaiting = std::find(awaitingSlots.begin(), awaitingSlots.end(), sl.slotId) != awaitingSlots.end();
  if (awaiting) {
    vm.detail.push_back(tr.tr("staff.slots.awaiting"));
  } else if (offerToConfirm && offerToConfirm->slotId == sl.slotId && !matches.candidates.empty()) {
    const auto& best = matches.candidates.front();
    vm.detail.push_back(tr.tr("staff.slots.offer.question", {{"name", shortName(engine.patientOf(best.entryIndex))},
                                                             {"day", formatDay(sl.startTime)},
                                                             {"time", formatTime(sl.startTime)},
                                                             {"provider", providerName(sl.providerId)}}));
    vm.actions.push_back({"staff.slots.offer_confirm", tr.tr("staff.slots.offer.confirm"), ButtonStyle::Primary, true, false});
    vm.actions.push_back({"staff.slots.offer_cancel", tr.tr("staff.slots.offer.cancel"), ButtonStyle::Secondary, true, false});
  } else if (!matches.candidates.empty()) {
    vm.actions.push_back({"staff.slots.offer." + sl.slotId.toString(), tr.tr("staff.slots.offer"), ButtonStyle::Primary, true, false});
  }
}

void KioskApp::State::buildStaff(ScreenVm& vm) const {
  if (screen == Screen::StaffSelect) {
    vm.title = tr.tr("staff.select.title");
    for (const auto& u : staffList.rows) {
      if (u.active) vm.choices.push_back({"staff.user." + u.staffId.toString(), u.displayName, ButtonStyle::Tile, true, false});
    }
    if (!staffList.loaded) vm.body = {tr.tr("staff.board.loading")};
    else if (staffList.unreadable) vm.body = {tr.tr("staff.board.unreadable")};
    else if (vm.choices.empty()) vm.body = {tr.tr("staff.no_staff")};
    vm.actions = {backButton(tr)};
    return;
  }
  if (screen == Screen::StaffPin) {
    vm.title = tr.tr("staff.pin.title", {{"name", staffCandidate ? staffCandidate->displayName : std::string()}});
    // The question names whose PIN it asks for (the title is not shown above a question).
    vm.field = FieldVm{"staff.pin",
                       tr.tr("staff.pin.question_for", {{"name", staffCandidate ? staffCandidate->displayName : std::string()}}),
                       std::string(pin.size(), '*'), tr.tr("staff.pin.hint"), KeyboardKind::Pin};
    if (checkingPin) vm.body = {tr.tr("staff.pin.checking")};
    vm.actions = {backButton(tr), continueButton(tr, pin.size() >= 4 && !checkingPin)};
    return;
  }

  for (auto [tab, s] : {std::pair{"today", Screen::StaffToday}, std::pair{"waitlist", Screen::StaffWaitlist},
                        std::pair{"slots", Screen::StaffSlots}, std::pair{"sync", Screen::StaffSync},
                        std::pair{"settings", Screen::StaffSettings}}) {
    vm.tabs.push_back({std::string("staff.tab.") + tab, tr.tr(std::string("staff.tab.") + tab), ButtonStyle::Secondary,
                       true, screen == s});
  }
  vm.tabs.push_back({"staff.lock", tr.tr("staff.lock"), ButtonStyle::Danger, true, false});
  vm.notice = notice;

  switch (screen) {
    case Screen::StaffToday: {
      vm.title = tr.tr("staff.today.title");
      vm.actions = {{"staff.today.show_earlier", tr.tr(showEarlierToday ? "staff.today.from_now" : "staff.today.show_earlier"),
                     ButtonStyle::Link, true, showEarlierToday}};
      TableVm t;
      t.id = "staff.today";
      t.columns = {tr.tr("staff.col.time"), tr.tr("staff.col.patient"), tr.tr("staff.col.provider"),
                   tr.tr("staff.col.status"), tr.tr("staff.col.arrived")};
      t.empty = tr.tr("staff.today.empty");
      if (!todayBoard.loaded) {
        t.empty = tr.tr("staff.board.loading");
      } else if (todayBoard.unreadable) {
        // Never "No appointments today" when the store could not be read.
        t.empty = tr.tr("staff.board.unreadable");
      } else {
        for (std::size_t i = 0; i < todayBoard.rows.appointments.size(); ++i) {
          const Appointment& a = todayBoard.rows.appointments[i];
          const std::optional<Patient>& p = todayBoard.rows.patients[i];
          // The board starts now: what ended more than an hour ago is behind "Show earlier".
          const bool waiting = a.status == AppointmentStatus::CheckedIn;
          if (!showEarlierToday && !waiting && a.endTime < now - hours{1}) continue;
          TableVm::Row row;
          row.id = a.appointmentId.toString();
          std::string arrived;
          if (waiting) {
            // Checked in at the row's last change; how long they have waited so far.
            const auto waitedMin = std::max<std::int64_t>(0, duration_cast<minutes>(now - a.updatedAt).count());
            arrived = tr.tr("staff.today.arrived", {{"time", formatTime(a.updatedAt)}, {"n", std::to_string(waitedMin)}});
          }
          row.cells = {formatTime(a.startTime), p ? shortName(*p) : "?", providerName(a.providerId),
                       tr.tr(std::string("status.") + std::string(toString(a.status))), arrived};
          row.actions.push_back({"staff.today.view." + row.id, tr.tr("staff.view"), ButtonStyle::Secondary, true, false});
          if (a.status == AppointmentStatus::Scheduled)
            row.actions.push_back({"staff.today.check_in." + row.id, tr.tr("staff.today.check_in"), ButtonStyle::Secondary, true, false});
          if ((a.status == AppointmentStatus::Scheduled || a.status == AppointmentStatus::CheckedIn) && a.startTime < now)
            row.actions.push_back({"staff.today.no_show." + row.id, tr.tr("staff.today.no_show"), ButtonStyle::Danger, true, false});
          row.highlighted = selectedRow == row.id;
          if (row.highlighted && p) vm.detail = {p->firstName + " " + p->lastName, formatTime(a.startTime) + " " + providerName(a.providerId)};
          t.rows.push_back(std::move(row));
        }
      }
      vm.table = std::move(t);
      return;
    }
    case Screen::StaffWaitlist: {
      vm.title = tr.tr("staff.waitlist.title");
      const WaitlistRows& board = waitlistBoard.rows;
      if (waitlistBoard.loaded && !waitlistBoard.unreadable && board.lists.empty()) {
        vm.body = {tr.tr("staff.waitlist.none")};
        return;
      }
      for (const auto& w : board.lists) {
        vm.choices.push_back({"staff.waitlist.list." + w.waitlistId.toString(), w.name, ButtonStyle::Secondary, true,
                              w.waitlistId == board.current});
      }
      vm.actions = {{"staff.waitlist.show_all", tr.tr(showAllEntries ? "staff.waitlist.active_only" : "staff.waitlist.show_all"),
                     ButtonStyle::Link, true, showAllEntries}};
      TableVm t;
      t.id = "staff.waitlist";
      t.columns = {tr.tr("staff.col.rank"), tr.tr("staff.col.patient"), tr.tr("staff.col.waited"),
                   tr.tr("staff.col.score"), tr.tr("staff.col.status")};
      t.empty = tr.tr("staff.waitlist.empty");
      if (waitlistBoard.unreadable) {
        // Never "Nobody is waiting" when the store could not be read.
        t.empty = tr.tr("staff.board.unreadable");
      } else if (!board.engine) {
        t.empty = tr.tr("staff.board.loading");
      } else {
        const WaitlistEngine& engine = *board.engine;
        std::vector<std::pair<std::size_t, int>> order;  // entry index, position (0 = inactive)
        for (const auto& r : engine.rank(board.current)) order.emplace_back(r.entryIndex, r.position);
        if (showAllEntries) {
          for (std::size_t i = 0; i < engine.entries().size(); ++i) {
            const auto& e = engine.entries()[i];
            if (e.waitlistId == board.current && !isActive(e.status)) order.emplace_back(i, 0);
          }
        }
        for (const auto& [index, position] : order) {
          const auto& e = engine.entries()[index];
          const auto& pt = engine.patientOf(index);
          const auto& priority = engine.priorityOf(index);
          TableVm::Row row;
          row.id = e.entryId.toString();
          const auto waited = daysWaiting(e, now);
          char score[32];
          std::snprintf(score, sizeof score, "%.1f", isActive(e.status) ? priority.score : e.priorityScore);
          std::string status = tr.tr(std::string("status.") + std::string(toString(e.status)));
          if (e.urgency > 0) status += " \u2022 " + tr.tr("staff.urgency." + std::to_string(e.urgency));
          row.cells = {position > 0 ? std::to_string(position) : "-", shortName(pt),
                       tr.tr("staff.days", {{"n", std::to_string(waited)}}), score, status};
          row.actions.push_back({"staff.waitlist.view." + row.id, tr.tr("staff.view"), ButtonStyle::Secondary, true, false});
          row.highlighted = selectedRow == row.id;
          if (row.highlighted) {
            vm.detail = {pt.firstName + " " + pt.lastName, tr.tr("staff.detail.why")};
            for (const auto& term : priority.terms) vm.detail.push_back(formatPoints(term.points) + " " + term.reason);
            vm.detail.push_back(tr.tr("staff.detail.urgency", {{"level", tr.tr("staff.urgency." + std::to_string(e.urgency))}}));
            vm.detail.push_back(tr.tr("staff.detail.mode", {{"mode", tr.tr(std::string("waitlist.mode.") + std::string(toString(pt.preferences.mode)))}}));
            vm.detail.push_back(tr.tr(pt.preferences.contactConsent ? "staff.detail.contact_yes" : "staff.detail.contact_no"));
            if (e.providerId) vm.detail.push_back(tr.tr("staff.detail.prefers", {{"provider", providerName(*e.providerId)}}));
            // Clinical urgency is set here, by clinical staff, and only here.
            for (int level = 0; level <= 3 && maySetUrgency(*staff); ++level) {
              vm.actions.push_back({"staff.waitlist.urgency." + std::to_string(level) + "." + row.id,
                                    tr.tr("staff.urgency." + std::to_string(level)), ButtonStyle::Secondary, true,
                                    e.urgency == level});
            }
          }
          t.rows.push_back(std::move(row));
        }
      }
      vm.table = std::move(t);
      return;
    }
    case Screen::StaffSlots: {
      vm.title = tr.tr("staff.slots.title");
      TableVm t;
      t.id = "staff.slots";
      t.columns = {tr.tr("staff.col.day"), tr.tr("staff.col.time"), tr.tr("staff.col.provider"), tr.tr("staff.col.status")};
      t.empty = tr.tr("staff.slots.empty");
      if (!slotsBoard.loaded) t.empty = tr.tr("staff.board.loading");
      else if (slotsBoard.unreadable) t.empty = tr.tr("staff.board.unreadable");  // never "no open slots" then
      const SlotRows& board = slotsBoard.rows;
      for (const auto& sl : board.slots) {
        TableVm::Row row;
        row.id = sl.slotId.toString();
        row.cells = {formatDay(sl.startTime), formatTime(sl.startTime), providerName(sl.providerId),
                     tr.tr(std::string("status.") + std::string(toString(sl.status)))};
        row.actions.push_back({"staff.slots.view." + row.id, tr.tr("staff.view"), ButtonStyle::Secondary, true, false});
        row.highlighted = selectedRow == row.id;
        if (row.highlighted && board.engine) buildSlotDetail(vm, sl, *board.engine, board.awaiting);
        t.rows.push_back(std::move(row));
      }
      vm.table = std::move(t);
      return;
    }
    case Screen::StaffSync: {
      vm.title = tr.tr("staff.sync.title");
      if (!sync.loaded) {
        vm.body = {tr.tr("staff.board.loading")};
        return;
      }
      vm.body = syncLines(sync);  // in the language shown now
      TableVm t;
      t.id = "staff.sync";
      t.columns = {tr.tr("staff.col.when"), tr.tr("staff.col.record"), tr.tr("staff.col.reason")};
      t.empty = sync.unreadable ? tr.tr("staff.board.unreadable") : tr.tr("staff.sync.no_conflicts");
      for (const auto& c : sync.conflicts) {
        TableVm::Row row;
        row.id = std::to_string(c.conflictId);
        const auto created = parseInstant(c.createdAt);
        // The record's kind in words (the table's name when the kiosk has none for it).
        const std::string kind = tr.has("en", "entity." + c.entity) ? tr.tr("entity." + c.entity) : c.entity;
        const bool today = created && zone.partsOf(*created).date == zone.partsOf(now).date;
        row.cells = {created ? (today ? formatTime(*created) : formatDay(*created) + " " + formatTime(*created)) : c.createdAt,
                     kind, conflictReason(c)};
        row.actions.push_back({"staff.sync.view." + row.id, tr.tr("staff.sync.view"), ButtonStyle::Secondary, true, false});
        row.actions.push_back({"staff.sync.resolve." + row.id, tr.tr("staff.sync.resolve"), ButtonStyle::Secondary, true, false});
        row.highlighted = selectedConflict == c.conflictId;
        if (row.highlighted) {
          auto orNone = [&](const std::string& v) { return v.empty() || v == "{}" ? tr.tr("staff.sync.detail.none") : v; };
          vm.detail = {tr.tr("staff.sync.detail.reason", {{"reason", conflictReason(c)}}),
                       tr.tr("staff.sync.detail.record", {{"entity", kind}, {"id", c.entityId}}),
                       tr.tr("staff.sync.detail.when", {{"when", row.cells.front()}}),
                       tr.tr("staff.sync.detail.local", {{"value", orNone(c.localValue)}}),
                       tr.tr("staff.sync.detail.server", {{"value", orNone(c.serverValue)}})};
        }
        t.rows.push_back(std::move(row));
      }
      vm.table = std::move(t);
      return;
    }
    case Screen::StaffSettings: {
      vm.title = tr.tr("staff.settings.title");
      vm.body = {tr.tr("staff.settings.device", {{"id", store.deviceId().toString()}}),
                 tr.tr("staff.settings.idle", {{"n", std::to_string(cfg.idleTimeout.count())}})};
      for (int secondsValue : {30, 60, 120, 300}) {
        vm.choices.push_back({"staff.settings.idle." + std::to_string(secondsValue),
                              tr.tr("staff.settings.idle_option", {{"n", std::to_string(secondsValue)}}),
                              ButtonStyle::Secondary, true, cfg.idleTimeout.count() == secondsValue});
      }
      // A manager sees who has wrong PINs counting and can clear the wait.
      if (staff && (staff->role == StaffRole::Manager || staff->role == StaffRole::Admin)) {
        if (!settingsBoard.loaded) vm.body.push_back(tr.tr("staff.board.loading"));
        else if (settingsBoard.unreadable) vm.body.push_back(tr.tr("staff.board.unreadable"));
        for (const auto& [u, failures] : settingsBoard.rows.counting) {
          vm.actions.push_back({"staff.settings.clear_pin." + u.staffId.toString(),
                                tr.tr("staff.settings.clear_pin", {{"name", u.displayName}, {"n", std::to_string(failures)}}),
                                ButtonStyle::Danger, true, false});
        }
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace anteroom::kiosk
