// The staff sync screen's words for the daemon's status (sync_status.hpp).
#include "anteroom/kiosk/sync_status.hpp"

#include <algorithm>

namespace anteroom::kiosk {

using namespace std::chrono;

namespace {

Result<std::optional<std::string>> readKey(store::Store& store, std::string_view key) { return store.syncValue(key); }

}  // namespace

Result<DaemonStatus> readDaemonStatus(store::Store& store) {
  DaemonStatus s;
  struct InstantKey {
    std::string_view key;
    std::optional<Instant> DaemonStatus::*member;
  };
  for (const InstantKey& k : {InstantKey{"daemon_heartbeat_at", &DaemonStatus::heartbeat},
                              InstantKey{"last_success_at", &DaemonStatus::lastSuccess},
                              InstantKey{"next_attempt_at", &DaemonStatus::nextAttempt},
                              InstantKey{"last_push_at", &DaemonStatus::lastPush},
                              InstantKey{"last_pull_at", &DaemonStatus::lastPull}}) {
    auto v = readKey(store, k.key);
    if (!v) return std::unexpected(v.error());
    if (*v && !(*v)->empty()) s.*k.member = parseInstant(**v);
  }
  for (auto [key, member] : {std::pair{std::string_view("last_error"), &DaemonStatus::lastError},
                             std::pair{std::string_view("last_error_code"), &DaemonStatus::lastErrorCode}}) {
    auto v = readKey(store, key);
    if (!v) return std::unexpected(v.error());
    if (*v) s.*member = **v;
  }
  auto pending = store.pendingOutboxCount();
  if (!pending) return std::unexpected(pending.error());
  s.pending = *pending;
  auto conflicts = store.openConflicts(1000);
  if (!conflicts) return std::unexpected(conflicts.error());
  s.openConflicts = static_cast<std::int64_t>(conflicts->size());
  return s;
}

std::string agoText(Instant then, Instant now, const Translator& tr) {
  const auto age = std::max(now - then, Instant::duration::zero());
  if (age < seconds{10}) return tr.tr("staff.sync.ago.now");
  if (age < minutes{1})
    return tr.tr("staff.sync.ago.seconds", {{"n", std::to_string(duration_cast<seconds>(age).count())}});
  const auto mins = duration_cast<minutes>(age).count();
  if (mins < 60) return mins == 1 ? tr.tr("staff.sync.ago.minute") : tr.tr("staff.sync.ago.minutes", {{"n", std::to_string(mins)}});
  const auto hrs = mins / 60;
  if (hrs < 24) return hrs == 1 ? tr.tr("staff.sync.ago.hour") : tr.tr("staff.sync.ago.hours", {{"n", std::to_string(hrs)}});
  const auto d = hrs / 24;
  return d == 1 ? tr.tr("staff.sync.ago.day") : tr.tr("staff.sync.ago.days", {{"n", std::to_string(d)}});
}

std::vector<std::string> describeSyncStatus(const DaemonStatus& s, Instant now, const Translator& tr,
                                            const std::function<std::string(Instant)>& at) {
  std::vector<std::string> lines;
  // A heartbeat from the future (a clock set back) proves nothing either.
  const bool running = s.heartbeat && now - *s.heartbeat <= kHeartbeatStale && *s.heartbeat <= now + kHeartbeatStale;
  if (!running) {
    lines.push_back(s.heartbeat ? tr.tr("staff.sync.not_running_since", {{"ago", agoText(*s.heartbeat, now, tr)}})
                                : tr.tr("staff.sync.not_running"));
  }
  const bool everSynced = s.lastSuccess || s.lastPull || s.lastPush;
  if (s.lastSuccess) {
    lines.push_back(tr.tr("staff.sync.last_success", {{"ago", agoText(*s.lastSuccess, now, tr)}, {"time", at(*s.lastSuccess)}}));
  } else if (!everSynced) {
    lines.push_back(tr.tr("staff.sync.never"));
  } else {
    // A daemon older than the status keys: what it did write.
    if (s.lastPull) lines.push_back(tr.tr("staff.sync.last_pull", {{"when", at(*s.lastPull)}}));
    if (s.lastPush) lines.push_back(tr.tr("staff.sync.last_push", {{"when", at(*s.lastPush)}}));
  }
  const bool failing = !s.lastError.empty() || !s.lastErrorCode.empty();
  if (failing) {
    // Codes the kiosk knows are said in the screen's language; others in the daemon's words.
    const std::string known = "staff.sync.error." + s.lastErrorCode;
    const std::string words = !s.lastErrorCode.empty() && (tr.has(tr.language(), known) || tr.has("en", known))
                                  ? tr.tr(known)
                                  : (s.lastError.empty() ? tr.tr("staff.sync.error.unknown") : s.lastError);
    lines.push_back(tr.tr("staff.sync.last_error", {{"error", words}}));
  }
  if (running && s.nextAttempt && *s.nextAttempt > now) {
    const auto wait = ceil<seconds>(*s.nextAttempt - now).count();
    lines.push_back(tr.tr("staff.sync.next_attempt", {{"time", at(*s.nextAttempt)}, {"seconds", std::to_string(wait)}}));
  }
  if (s.pending == 0) {
    // Only a running daemon whose last session succeeded may be called up to date.
    lines.push_back(running && s.lastSuccess && !failing ? tr.tr("staff.sync.up_to_date") : tr.tr("staff.sync.pending_none"));
  } else {
    lines.push_back(s.pending == 1 ? tr.tr("staff.sync.pending_one")
                                   : tr.tr("staff.sync.pending", {{"n", std::to_string(s.pending)}}));
  }
  if (s.openConflicts > 0) {
    lines.push_back(s.openConflicts == 1 ? tr.tr("staff.sync.conflicts_one")
                                         : tr.tr("staff.sync.conflicts", {{"n", std::to_string(s.openConflicts)}}));
  }
  return lines;
}

}  // namespace anteroom::kiosk
