// The kiosk's flows without any UI: patient check-in, waitlist sign-up and staff mode.
// The UI draws frame() and hands back intents; apply() runs them after the frame.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anteroom/kiosk/i18n.hpp"
#include "anteroom/kiosk/intents.hpp"
#include "anteroom/kiosk/view_model.hpp"
#include "anteroom/store/store.hpp"

namespace anteroom::kiosk {

struct KioskConfig {
  std::chrono::seconds idleTimeout{60};        // patient screens return to welcome and wipe input
  std::chrono::seconds doneTimeout{20};        // "you're checked in" stays this long
  std::chrono::seconds staffAutoLock{120};
  // Wrong staff PINs are throttled, never locked out (anyone in the lobby could lock a manager
  // out): after the free tries each one waits twice as long as the last, up to the ceiling;
  // every staffAlertEvery-th failure is an alert in the audit log. Kept in the store, so a
  // restart does not lift it; a manager can clear it.
  int staffFreeAttempts = 3;
  std::chrono::seconds staffFirstDelay{5};
  std::chrono::seconds staffMaxDelay{300};
  int staffAlertEvery = 5;
  int lookupsPerMinute = 6;                    // failed patient lookups before "see the front desk"
  std::chrono::minutes earlyCheckIn{60};       // how early an appointment can be checked in
  std::chrono::minutes lateAfter{15};          // after this, the patient is asked to see the desk too
  std::string crisisLine = "988";
};

// The screens. Ids in the view-model are stable strings derived from these.
enum class Screen {
  Welcome,
  CheckInLastName,
  CheckInDob,
  CheckInCode,
  CheckInChoose,
  CheckInConfirm,
  CheckInDone,
  FrontDesk,
  RateLimited,
  WaitlistStart,
  WaitlistFirstName,
  WaitlistLastName,
  WaitlistDob,
  WaitlistPhone,
  WaitlistEmail,
  WaitlistInsurance,
  WaitlistMemberId,
  WaitlistMode,
  WaitlistConcerns,
  WaitlistTimes,
  WaitlistProvider,
  WaitlistConsent,
  WaitlistDiscretion,
  WaitlistPrivacy,
  WaitlistReview,
  WaitlistDone,
  WaitlistSameDayDone,
  StaffSelect,
  StaffPin,
  StaffToday,
  StaffWaitlist,
  StaffSlots,
  StaffSync,
  StaffSettings,
};
std::string_view screenId(Screen screen);

// [SECTION] The table of screens: routing, timers and typing read it, not the enum's order.
enum class Flow { Welcome, CheckIn, Waitlist, Staff };
enum class IdleClass {
  Welcome,     // no timeout (choices left there are undone after the idle timeout)
  Patient,     // "Are you still there?", then the reset that wipes every input
  Done,        // a short timeout, no warning
  Paused,      // ends when the lookup pause does
  StaffEntry,  // choosing a name and typing a PIN: the patient idle timeout
  StaffBoard,  // unlocked: the staff auto-lock
};
enum class InputKind { None, Name, Digits, Code, Phone, Email, MemberId, Pin };
struct ScreenInfo {
  Screen screen;
  std::string_view id;  // the view-model's and widget map's id
  Flow flow;
  IdleClass idle;
  InputKind input = InputKind::None;
  std::size_t maxInput = 0;  // characters the answer may have
};
// One row per Screen, in the enum's order.
std::span<const ScreenInfo> allScreens();
const ScreenInfo& screenInfo(Screen screen);

class KioskApp {
 public:
  // workerStore: a second connection to the same store file, used only on the kiosk's worker
  // thread, for the writes that may wait for the sync daemon's write lock (check-in, joining the
  // waitlist, staff changes, audit rows): the frame loop shows "Saving…" and never waits.
  // readerStore: a third, used only on the reader thread, for every read a screen shows (boards,
  // lookups, the practice), so a read never queues behind a write waiting for the lock; without
  // one, reads run on the worker. Without either (tools, some tests) all run on the calling thread.
  KioskApp(store::Store& store, Translator translator, KioskConfig config, Instant now,
           store::Store* workerStore = nullptr, store::Store* readerStore = nullptr);
  ~KioskApp();
  KioskApp(const KioskApp&) = delete;
  KioskApp& operator=(const KioskApp&) = delete;

  void apply(const Intent& intent, Instant now);
  void applyAll(const Intents& intents, Instant now);
  // Timers: idle timeout, auto-lock, the end of a rate-limit pause, done screens.
  void tick(Instant now);
  // Blocks until background work (the PIN check, writes on the worker) is done, and applies it
  // as tick() would, until nothing more is queued.
  // For tests and tools; the frame loop never calls it.
  void finishPendingWork(Instant now);
  // When tick() must run next, if any timer is pending.
  [[nodiscard]] std::optional<Instant> nextDeadline() const;

  // The current frame's view-model; rebuilt only when something changed.
  [[nodiscard]] const FrameVm& frame() const;
  // Bumps whenever what frame() returns may have changed.
  [[nodiscard]] std::uint64_t revision() const;
  [[nodiscard]] Screen screen() const;
  [[nodiscard]] const KioskConfig& config() const;

  // Damage (store.corrupt, store.wrong_key) the worker's connection met, as its results came
  // back: the shell takes the kiosk out of service on it, as on the UI connection's damage().
  [[nodiscard]] std::optional<Error> workerDamage() const;

  // True while every patient input buffer is empty (tests check the idle wipe).
  [[nodiscard]] bool inputsEmpty() const;

  struct State;

 private:
  std::unique_ptr<State> m_state;
};

// Whether a store that opened can serve the lobby: a damaged page opens normally and fails
// only when read, so the kiosk checks every page before its first patient (and on each retry of
// the out-of-service screen).
Result<void> checkStoreForService(store::Store& store);

// A six-character code a patient can type or scan instead of name and date of birth.
// Derived from the appointment id's random bits, so the hub computes the same code.
std::string checkInCodeFor(const Uuid& appointmentId);

}  // namespace anteroom::kiosk
