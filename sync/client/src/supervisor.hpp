// The daemon's supervisor: sync sessions under jittered exponential backoff, long-poll pulls in
// the steady state, woken by local writes and by the network coming back; status for the kiosk.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/client.hpp"
#include "anteroom/sync/curl_transport.hpp"

namespace anteroom::sync {

// sync_state keys the daemon writes beside the session's (issue 10 contract).
inline constexpr std::string_view kLastSuccessKey = "last_success_at";
inline constexpr std::string_view kHeartbeatKey = "daemon_heartbeat_at";
inline constexpr std::string_view kNextAttemptKey = "next_attempt_at";
inline constexpr std::string_view kLastErrorCodeKey = "last_error_code";

// [SECTION] Backoff: a pure function, so its bounds are a table test.
struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{300000};
};

// The wait before retry number `attempt` (0 = after the first failure): uniform in
// [base, min(cap, base * 2^attempt)] ("full jitter" above a floor of `base`), `unit` in [0, 1)
// choosing the point. A failure that retrying cannot fix (not transient) waits as if the cap
// had been reached. The hub's Retry-After is a floor (itself capped at `cap`).
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, unsigned attempt, double unit, bool transient,
                                       std::optional<std::chrono::seconds> retryAfter);

// [SECTION] Logging: a priority (journald's <3> err, <4> warning, <6> info) and a line of
// codes, counts and ids, never row values.
enum class LogPriority { Error = 3, Warning = 4, Info = 6 };
using LogSink = std::function<void(LogPriority, std::string_view)>;

struct SupervisorOptions {
  BackoffPolicy backoff;
  int waitSeconds = 25;         // long-poll wait of a steady-state pull
  // With waitSeconds 0 (no long-poll), the pause between rounds; a local write ends it.
  std::chrono::milliseconds idlePoll{10000};
  std::size_t pushBatch = 100;
  int pullLimit = 500;
  // The local-write watcher's tick. PRAGMA data_version reads the WAL index in shared memory
  // (no I/O, no decryption), so 20 ms costs next to nothing and keeps a kiosk write's way to
  // the hub well under the 50 ms propagation target (250 ms made the tick most of it).
  std::chrono::milliseconds watchInterval{20};
  std::chrono::seconds heartbeatEvery{10};
  // The watcher sends the watchdog ping and the heartbeat only while the supervisor has shown
  // life (a loop, a transfer's progress) within this long.
  std::chrono::seconds aliveWithin{30};
  bool watchNetwork = true;  // a netlink socket: link or address up resets the backoff
  std::uint64_t seed = 0;    // 0: seeded from the OS
  LogSink log;
  // How the operator knows this device: the enrolled id (the certificate's common name, what
  // `anteroom-admin device enroll` printed). Empty: the store's own id is logged.
  std::string deviceLabel;
  std::function<void()> watchdogPing;  // WATCHDOG=1 when NOTIFY_SOCKET is set
  std::function<Instant()> clock;
};

// Counters for tests and the final log line.
struct SupervisorStats {
  std::uint64_t sessions = 0;
  std::uint64_t failures = 0;
  std::uint64_t wakesByLocalWrite = 0;
  std::uint64_t wakesByNetwork = 0;
  std::uint64_t interruptedPolls = 0;
  std::chrono::milliseconds lastDelay{0};  // the last backoff chosen
};

class Supervisor {
 public:
  // `store` is the sessions' connection; `watchStore` a second connection to the same file for
  // the watcher thread (each connection is used by one thread only).
  Supervisor(store::Store& store, store::Store& watchStore, LongPollTransport& transport, SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // --once: push the outbox, then pull until the hub has nothing more (no long-poll). Records
  // the status either way; the error is returned in words a person can read.
  Result<SessionReport> runOnce();

  // Until requestStop(): sessions, long-polls, backoff. Returns when stopped, between store
  // transactions (a transfer in flight is abandoned; its push is repeated next time, and the
  // hub answers a repeat with the stored result).
  void run();

  // Async-signal-safe (atomic stores only): SIGTERM/SIGINT call it.
  void requestStop() noexcept;
  // The network came back (netlink, or a test): reset the backoff and try at once; a parked
  // long-poll starts again on a new connection.
  void notifyNetworkUp();

  [[nodiscard]] SupervisorStats stats() const;

 private:
  Result<SessionReport> session(int waitSeconds);
  // Logs what moved; an idle long-poll round is not logged when quietWhenIdle.
  void recordSuccess(const SessionReport& report, bool quietWhenIdle);
  void recordFailure(const Error& error, std::optional<Instant> nextAttempt);
  // Waits `delay` or less: ends early on stop, the network's return, or a local write (but
  // never before the hub's Retry-After). Returns true when the network came back.
  bool waitBeforeRetry(std::chrono::milliseconds delay, std::optional<std::chrono::seconds> retryAfter);
  // Waits up to `delay`; ends early on stop, a local write or the network's return.
  void waitIdle(std::chrono::milliseconds delay);
  void watch();
  void log(LogPriority priority, const std::string& line) const;
  Instant now() const;
  void touch() noexcept;
  [[nodiscard]] bool alive() const noexcept;

  store::Store& m_store;
  store::Store& m_watchStore;
  LongPollTransport& m_transport;
  SupervisorOptions m_options;
  std::mt19937_64 m_rng;

  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_localWrite{false};
  std::atomic<bool> m_networkUp{false};
  std::atomic<std::int64_t> m_aliveAt{0};  // steady_clock ticks
  std::mutex m_mutex;
  std::condition_variable m_wake;
  mutable std::mutex m_statsMutex;
  SupervisorStats m_stats;
  bool m_failing = false;  // the last session failed (log recovery once)
};

// Whether rtnetlink messages say the network may be back: a link up and running, or a new
// address. Malformed or truncated input is read as far as it is whole.
bool netlinkSaysUp(std::string_view messages);

// The netlink socket (RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR): readable when
// an interface or address changes. -1 when netlink is unavailable (the watcher then polls).
class NetlinkWatch {
 public:
  NetlinkWatch();
  ~NetlinkWatch();
  NetlinkWatch(const NetlinkWatch&) = delete;
  NetlinkWatch& operator=(const NetlinkWatch&) = delete;
  [[nodiscard]] int fd() const noexcept { return m_fd; }
  // Reads what is queued; true when a link came up or an address was added.
  bool drainCameUp();

 private:
  int m_fd = -1;
};

}  // namespace anteroom::sync
