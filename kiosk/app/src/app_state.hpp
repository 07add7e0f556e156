// The kiosk's private state, shared by the flow files (checkin, waitlist, staff).
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "anteroom/kiosk/kiosk_app.hpp"
#include "anteroom/kiosk/sync_status.hpp"
#include "anteroom/model/time_zone.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "worker.hpp"

namespace anteroom::kiosk {

// Everything a patient typed. Wiped (overwritten, then cleared) on every return to welcome.
struct PatientDraft {
  std::string lastName;
  std::string firstName;
  std::string dobDigits;  // as typed on the numeric pad, in the language's order
  std::string code;
  std::string phone;
  std::string email;
  bool noEmail = false;  // "I don't have an email"
  std::string payer;
  std::string memberId;
  bool selfPay = false;
  VisitMode mode = VisitMode::Either;
  std::set<std::string> concerns;
  std::set<std::string> times;  // "weekday_morning", ...
  std::optional<Uuid> providerId;
  bool onlyPreferredProvider = false;
  std::optional<bool> consent;
  ContactMethod contactMethod = ContactMethod::Sms;  // how, when consent is yes
  std::optional<bool> mayNamePractice;
  std::optional<bool> privacyAcknowledged;
  bool returning = false;

  void wipe();
  [[nodiscard]] bool empty() const;
};

// The numeric pad gives digits in the order the language writes dates: MMDDYYYY in English,
// DDMMYYYY in Spanish. parseDateOfBirth reads MMDDYYYY.
std::string toMonthFirst(const std::string& digits, const std::string& language);

// Overwrites a string's bytes before releasing them, so typed PHI does not linger in freed heap.
void wipeString(std::string& s);

// What a staff board shows, as the worker last read it. `generation` drops a read that an older
// request started, or one still on its way when the data was wiped.
template <class T>
struct Board {
  bool loaded = false;
  bool unreadable = false;
  T rows{};
  std::uint64_t generation = 0;
  // Forgets what was read and drops any read on its way (patient data lives only while staff
  // are unlocked).
  void wipe() {
    loaded = false;
    unreadable = false;
    rows = T{};
    ++generation;
  }
};

struct CheckInCandidate {
  Appointment appointment;
  std::string firstName;
  std::string lastInitial;
  std::string providerName;
};

struct KioskApp::State {
  State(store::Store& s, Translator t, KioskConfig c) : store(s), tr(std::move(t)), cfg(std::move(c)) {}

  store::Store& store;
  Translator tr;
  KioskConfig cfg;

  Screen screen = Screen::Welcome;
  Instant now{};
  Instant lastInput{};
  Instant screenSince{};
  std::uint64_t revision = 1;
  mutable std::uint64_t builtRevision = 0;
  mutable FrameVm cached;

  std::string defaultLanguage = "en";
  int idleWarningShown = -1;  // the seconds the warning last showed (it redraws each second)
  bool highContrast = false;
  int textSizeStep = 0;  // 0 .. kTextSizeSteps - 1
  std::string error;     // translated, for the current screen
  std::string notice;

  PatientDraft draft;
  std::deque<Instant> failedLookups;   // the last 15 minutes' lookups that found nobody
  std::deque<Instant> pauses;          // when the last hour's pauses began (each one doubles)
  std::optional<Instant> rateLimitedUntil;
  std::string pauseShown;              // the countdown as last drawn (it redraws each second)
  std::string dobConfirmed;  // the digits of an ambiguous date the patient was shown in words

  // check-in
  std::vector<CheckInCandidate> candidates;
  std::optional<CheckInCandidate> chosen;
  bool alreadyCheckedIn = false;
  bool late = false;

  // waitlist sign-up
  std::optional<Patient> returningPatient;
  std::optional<Uuid> resultEntryId;
  int resultPosition = 0;
  std::string resultListName;
  std::string resultReference;  // a short code the desk can find the entry by
  std::string resultEstimate;
  std::vector<AppointmentSlot> sameDaySlots;
  std::string sameDayText;

  // staff
  std::optional<StaffUser> staffCandidate;
  std::optional<StaffUser> staff;
  std::string pin;
  std::optional<Uuid> selectedWaitlist;
  std::optional<std::string> selectedRow;
  bool showAllEntries = false;
  bool showEarlierToday = false;  // today's board starts an hour ago unless asked
  // An offer staff asked for and must confirm: the slot and the best match they were shown.
  struct OfferToConfirm {
    Uuid slotId;
    Uuid entryId;
  };
  std::optional<OfferToConfirm> offerToConfirm;

  // The sync screen, loaded when it opens and on every poll while it shows (the daemon's
  // heartbeat ages with the clock, so its words change without a commit); never read in a build.
  struct SyncScreen {
    bool loaded = false;
    DaemonStatus status;
    std::vector<store::SyncConflict> conflicts;
    bool unreadable = false;
    std::vector<std::string> lines;  // as last computed: the clock alone can change them
  };
  SyncScreen sync;
  std::uint64_t syncGeneration = 0;
  // [SECTION] The staff boards, as the worker read them (a build reads no SQL).
  // Today's: the day's appointments and their patients.
  struct TodayRows {
    std::vector<Appointment> appointments;
    std::vector<std::optional<Patient>> patients;  // one per appointment
  };
  Board<TodayRows> todayBoard;
  // The waitlist board: the lists, and the shown one's entries ranked by the waitlist engine.
  struct WaitlistRows {
    std::vector<Waitlist> lists;
    Uuid current;
    std::optional<WaitlistEngine> engine;  // none while there is no list
  };
  Board<WaitlistRows> waitlistBoard;
  // Open slots from now to three days on, the engine that matches them, and those with a request
  // already waiting for the practice.
  struct SlotRows {
    std::vector<AppointmentSlot> slots;
    std::optional<WaitlistEngine> engine;
    std::vector<Uuid> awaiting;
  };
  Board<SlotRows> slotsBoard;
  // Staff whose wrong PINs are counting, for a manager to clear.
  struct SettingsRows {
    std::vector<std::pair<StaffUser, int>> counting;
  };
  Board<SettingsRows> settingsBoard;
  // The names on the staff select screen (no patient data: kept until the next load).
  Board<std::vector<StaffUser>> staffList;
  // Each reads its board on the worker's connection (inline without one).
  void loadToday();
  void loadWaitlistBoard();
  void loadSlotsBoard();
  void loadSettingsBoard();
  void loadStaffList();
  // Reloads whichever board shows (after a change, or a commit by the sync daemon).
  void reloadBoard();
  // Forgets every board's patient data and drops the reads on their way (staff locked).
  void wipeBoards();
  std::optional<std::int64_t> selectedConflict;

  // What another process (the sync daemon) last committed, polled by tick().
  std::int64_t dataVersion = 0;
  Instant lastPoll{};

  // practice data read once and refreshed on entering staff mode
  std::optional<Practice> practice;
  std::vector<Provider> providers;
  std::uint64_t practiceGeneration = 0;
  // The practice's clock (its settings' zone; the device's when none is named): "today",
  // every time shown and the waitlist's preferred times all use it.
  PracticeZone zone = PracticeZone::utc();

  bool checkingPin = false;  // the PIN is being checked on the worker
  // The workers' own connections (see KioskApp's constructor); only their threads use them.
  store::Store* workerStore = nullptr;
  store::Store* readerStore = nullptr;
  // A patient's write is on the worker: the screen says "Saving…" and takes no second tap.
  bool saving = false;
  std::optional<Error> workerDamage;  // see KioskApp::workerDamage()
  // A write on the worker's connection (inline without one); `done` gets its result on the UI
  // thread. A failure without `done` is logged as `what` (codes, never values): an audit row is
  // never dropped silently. A full queue runs the write inline rather than lose it.
  using StoreWrite = std::function<Result<void>(store::Store&)>;
  void postWrite(std::string what, StoreWrite write, std::function<void(const Result<void>&)> done = {});
  // An audit row for a staff view, written on the worker.
  void recordAccessLater(const store::Actor& actor, std::string entity, const Uuid& id, std::string action);
  // True while staff are still unlocked on a board (a late result must not reach the lobby).
  [[nodiscard]] bool onStaffBoard() const;
  // Every result of a worker write passes here (UI thread): damage is remembered.
  void noteWorkerError(const Error& e);

  // A patient lookup (check-in by name and date of birth or by code, a returning patient) is on
  // the worker: the screen says "Looking that up…" and takes no second tap.
  bool lookingUp = false;
  std::uint64_t lookupGeneration = 0;  // moves on when the patient leaves (idle reset, Start over)

  // A read on the reader's connection (the writer's without one; inline without either, or with
  // the queue full): `read` runs there and touches nothing of the state; `apply` gets its result
  // on the UI thread, once a frame, unless `generation` moved on meanwhile (a newer read, or what
  // it was for is gone).
  template <class T>
  void postRead(std::uint64_t& generation, std::function<T(store::Store&)> read, std::function<void(T)> apply) {
    const std::uint64_t mine = ++generation;
    auto land = [&generation, mine, apply = std::move(apply)](T result) {
      if (mine == generation) apply(std::move(result));
    };
    store::Store* own = readerStore != nullptr ? readerStore : workerStore;
    Worker& thread = readerStore != nullptr ? reader : worker;
    if (own != nullptr) {
      const bool posted = thread.post([own, read, land]() -> Worker::Done {
        return [land, result = read(*own)]() mutable { land(std::move(result)); };
      });
      if (posted) return;
    }
    land(read(store));
  }
  // A staff board's read (see postRead): "Loading…" until the first lands, then its rows, or
  // "couldn't be read" (logged; never "nobody is waiting"). Kept only while staff are unlocked.
  template <class T>
  void loadBoard(Board<T>& board, std::string what, std::function<Result<T>(store::Store&)> read) {
    postRead<Result<T>>(board.generation, std::move(read), [this, &board, what = std::move(what)](Result<T> rows) {
      if (!rows) {
        logStoreError(rows.error(), what);
        noteWorkerError(rows.error());
      }
      board.loaded = true;
      board.unreadable = !rows.has_value();
      board.rows = rows ? std::move(*rows) : T{};
      changed();
    });
  }

  // A patient lookup on the worker (see postRead): "Looking that up…" and no second tap until it
  // lands; `then` runs only if the patient is still on the screen that asked.
  template <class T>
  void lookUp(std::function<Result<T>(store::Store&)> read, std::function<void(Result<T>)> then) {
    lookingUp = true;
    error.clear();
    changed();
    postRead<Result<T>>(lookupGeneration, std::move(read), [this, from = screen, then = std::move(then)](Result<T> found) {
      lookingUp = false;
      changed();
      if (!found) noteWorkerError(found.error());
      if (screen == from) then(std::move(found));
    });
  }
  // While a lookup is out: the screen says so and Continue waits.
  void showLookingUp(ScreenVm& vm) const;

  // The writes' thread and the reads' (a read never queues behind a write that waits for the
  // sync daemon's lock). Declared last so they are destroyed first: their threads stop before
  // anything a job uses.
  Worker worker;
  Worker reader;
  [[nodiscard]] bool workersBusy() const { return worker.busy() || reader.busy(); }

  // [SECTION] helpers used by every flow
  void go(Screen next);
  void changed() { ++revision; }
  void resetToWelcome();
  // The next patient starts fresh: everything resetToWelcome() wipes, plus the practice's
  // language, the first text size and the calm theme.
  void resetForNextPatient();
  // Seconds left before the idle reset while "Are you still there?" shows, else nothing.
  [[nodiscard]] std::optional<int> idleWarningSeconds() const;
  [[nodiscard]] std::chrono::seconds idleLimit() const;
  [[nodiscard]] bool prefsChosen() const { return tr.language() != defaultLanguage || textSizeStep != 0 || highContrast; }
  [[nodiscard]] std::string tr_(std::string_view key) const { return tr.tr(key); }
  void setError(const Error& e);
  void setErrorKey(std::string_view key);
  // A read the store could not answer: the journal gets the error (codes and SQLite's words,
  // never patient data) and the patient a calm "we couldn't look that up", not "couldn't save".
  void readFailed(const Error& e, std::string_view what);
  void logStoreError(const Error& e, std::string_view what) const;
  [[nodiscard]] std::string textSizeLabel() const;  // "Text size 125%"
  [[nodiscard]] std::string formatTime(Instant t) const;
  [[nodiscard]] std::string formatDay(Instant t) const;
  [[nodiscard]] std::pair<Instant, Instant> localDay() const;
  [[nodiscard]] std::string providerName(const Uuid& id) const;
  // The practice and its providers. Read once as the kiosk opens (with the store's check, before
  // the first frame); every later reload runs on the worker.
  struct PracticeRows {
    std::optional<Practice> practice;
    std::vector<Provider> providers;
  };
  static Result<PracticeRows> readPractice(store::Store& st);
  void adoptPractice(Result<PracticeRows> rows);
  void loadPractice();
  // Reads the daemon's status and the open conflicts into `sync` on the worker; what shows
  // changes only when the words or the conflicts do.
  void loadSyncScreen();
  // Why the hub refused or held a change, in the screen's language (see flow_staff.cpp).
  [[nodiscard]] std::string conflictReason(const store::SyncConflict& conflict) const;
  // The sync screen's words for what was read, at `now`, in the current language (no SQL).
  [[nodiscard]] std::vector<std::string> syncLines(const SyncScreen& screenData) const;
  // The waitlist service on a given connection (the worker's), in the practice's zone.
  static store::WaitlistService waitlistServiceOn(store::Store& st, const PracticeZone& zone);
  bool recordFailedLookup();  // true when the limit is now reached
  [[nodiscard]] std::string pauseCountdown() const;
  [[nodiscard]] std::string* activeBuffer(std::size_t& maxLen);
  void normaliseTyping(std::string& buffer) const;
  // The date-of-birth question in the language's order ("MM / DD / YYYY" filling in as typed,
  // and a line saying which comes first).
  void buildDobStep(ScreenVm& vm, const std::string& fieldId, const std::string& question) const;
  // Reads the typed date of birth. A date that only works in the other order gets a hint with
  // it the right way round. With confirmAmbiguous (a date that will be saved), one that reads
  // both ways (03/07) is spelled out once for the patient to confirm with a second Continue.
  // Sets the error and returns nothing otherwise.
  std::optional<Date> readDateOfBirth(bool confirmAmbiguous);
  [[nodiscard]] std::string longDate(const Date& d) const;

  // [SECTION] flows (flow_*.cpp)
  void pressCheckIn(const std::string& id);
  void confirmCheckIn();
  // The check-in's result, on the UI thread; `current` is the appointment's status after a
  // refusal (cancelled, in session...), read in the same place as the write.
  void finishCheckIn(const Uuid& appointmentId, const Result<store::CheckInReceipt>& receipt,
                     std::optional<AppointmentStatus> current);
  void submitCheckIn();
  // What a check-in lookup found on the worker: today's matching appointments and their patients.
  struct LookupRows {
    std::vector<Appointment> appointments;
    std::vector<Patient> patients;
  };
  void finishCheckInLookup(Result<LookupRows> lookup);
  void pressWaitlist(const std::string& id);
  void submitWaitlistStep();
  // [SECTION] The walk-in's write, on the worker (or inline without a worker connection).
  struct WalkInWrite {
    Patient patient;
    bool isNew = true;
    WaitlistEntry entry;
    Waitlist list;  // chosen on the worker (resolveWalkIn)
    Instant at{};
    Instant dayEnd{};  // the practice's end of today, for same-day openings
  };
  struct WalkInResult {
    WalkInWrite job;  // the entry is the one already waiting when alreadyWaiting
    Result<void> written;
    std::string refusedKey;  // why it was not written: no list to join, the email is someone else's
    bool alreadyWaiting = false;
    std::optional<WaitEstimate> estimate;
    std::vector<AppointmentSlot> sameDay;
  };
  // Runs on the connection given (the worker's); touches nothing else of the state.
  static WalkInResult writeWalkIn(store::Store& st, const PracticeZone& zone, WalkInWrite job);
  static Result<void> resolveWalkIn(store::Store& st, WalkInResult& out);
  [[nodiscard]] PatientPreferences chosenPreferences() const;
  void finishWalkIn(WalkInResult result);
  void requestSameDay(const Uuid& slotId);
  void pressStaff(const std::string& id);
  void submitStaffPin();
  // A PIN check's outcome: right or wrong, whether its bookkeeping was written, the wait.
  struct PinAttempt {
    bool ok = false;
    bool recorded = true;
    std::chrono::seconds delay{0};
    std::optional<std::chrono::seconds> waitLeft;  // the throttle still ran: nothing was checked
  };
  // The PIN check's result, back on the UI thread (the candidate as it was when it started).
  void finishStaffPin(const PinAttempt& attempt, const StaffUser& candidate);

  // [SECTION] view-models (flow_*.cpp)
  void buildScreen(ScreenVm& vm) const;
  void buildCheckIn(ScreenVm& vm) const;
  void buildWaitlist(ScreenVm& vm) const;
  void buildStaff(ScreenVm& vm) const;
  // A chosen slot's best matches, and the offer's two taps.
  void buildSlotDetail(ScreenVm& vm, const AppointmentSlot& slot, const WaitlistEngine& engine,
                       const std::vector<Uuid>& awaitingSlots) const;
};

// Actions of the bottom bar used by most screens.
ButtonVm backButton(const Translator& tr);
ButtonVm continueButton(const Translator& tr, bool enabled = true);

}  // namespace anteroom::kiosk
