// The sync daemon's status as the staff sync screen tells it. The daemon (anteroom-syncd)
// writes its keys into the store's sync_state; the kiosk only reads them (it never talks to the
// network) and says what they mean in plain words, never "all synced" when it cannot know.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "anteroom/kiosk/i18n.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/store/store.hpp"

namespace anteroom::kiosk {

// The daemon writes its heartbeat at most every 10 s while it runs; older than this, it is not
// running (or is stuck), whatever the other keys say.
inline constexpr std::chrono::seconds kHeartbeatStale{30};

// What the daemon last wrote (contract of issue 10), plus what the kiosk counts in the store.
struct DaemonStatus {
  std::optional<Instant> heartbeat;    // daemon_heartbeat_at
  std::optional<Instant> lastSuccess;  // last_success_at: the last session that pushed and pulled
  std::optional<Instant> nextAttempt;  // next_attempt_at: while backing off after a failure
  std::optional<Instant> lastPush;     // last_push_at
  std::optional<Instant> lastPull;     // last_pull_at
  std::string lastError;               // last_error: plain words, empty after a good session
  std::string lastErrorCode;           // last_error_code: the dotted code ("hub.database")
  std::int64_t pending = 0;            // outbox rows not yet acknowledged by the hub
  std::int64_t openConflicts = 0;      // sync_conflict rows no one has reviewed
};

// One read of the daemon's keys, the outbox count and the open conflicts. A key that is absent
// or not an ISO-8601 instant reads as absent.
Result<DaemonStatus> readDaemonStatus(store::Store& store);

// The screen's lines, in order: whether the daemon runs, when the device last synced ("Last
// synced 3 minutes ago, at 2:14 PM"), the next try while backing off, the last problem, what
// waits to be sent, and the conflicts to review. `at` formats an instant as a time of day in
// the practice's zone (with the day when it is not today).
std::vector<std::string> describeSyncStatus(const DaemonStatus& status, Instant now, const Translator& tr,
                                            const std::function<std::string(Instant)>& at);

// "just now", "3 minutes ago", "2 hours ago", "4 days ago" (translated).
std::string agoText(Instant then, Instant now, const Translator& tr);

}  // namespace anteroom::kiosk
