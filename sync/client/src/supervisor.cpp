// The supervisor of anteroom-syncd: sessions, backoff, the local-write and network watchers,
// and the status rows the kiosk's staff sync screen reads (issue 10 contract).
#include "supervisor.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <thread>

namespace anteroom::sync {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// [SECTION] Backoff
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, unsigned attempt, double unit, bool transient,
                                       std::optional<std::chrono::seconds> retryAfter) {
  const auto base = std::max(policy.base, std::chrono::milliseconds{1});
  const auto cap = std::max(policy.cap, base);
  // base * 2^attempt without overflow: stop doubling once the cap is reached.
  auto ceiling = base;
  const unsigned doublings = transient ? attempt : 64U;
  for (unsigned i = 0; i < doublings && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  // Not transient: nothing a quick retry fixes; wait between half the cap and the cap.
  const auto floor = transient ? base : std::max(base, cap / 2);
  const double u = std::clamp(unit, 0.0, 1.0);
  const auto span = static_cast<double>((ceiling - floor).count());
  auto delay = floor + std::chrono::milliseconds{static_cast<std::int64_t>(std::floor(span * u))};
  if (retryAfter) {
    const auto asked = std::min<std::chrono::milliseconds>(*retryAfter, cap);
    delay = std::max(delay, asked);
  }
  return delay;
}

// [SECTION] Netlink
NetlinkWatch::NetlinkWatch() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return;
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  m_fd = fd;
}

NetlinkWatch::~NetlinkWatch() {
  if (m_fd >= 0) ::close(m_fd);
}

bool netlinkSaysUp(std::string_view messages) {
  // NLMSG_OK/NLMSG_NEXT by hand: the macros' casts do not pass the project's warnings.
  bool up = false;
  std::size_t offset = 0;
  const std::size_t total = messages.size();
  while (offset + sizeof(nlmsghdr) <= total) {
    nlmsghdr h{};
    std::memcpy(&h, messages.data() + offset, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || offset + h.nlmsg_len > total) break;
    if (h.nlmsg_type == RTM_NEWADDR) up = true;
    if (h.nlmsg_type == RTM_NEWLINK && h.nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg))) {
      ifinfomsg info{};
      std::memcpy(&info, messages.data() + offset + NLMSG_HDRLEN, sizeof info);
      if ((info.ifi_flags & IFF_UP) != 0 && (info.ifi_flags & IFF_RUNNING) != 0) up = true;
    }
    offset += NLMSG_ALIGN(h.nlmsg_len);
  }
  return up;
}

bool NetlinkWatch::drainCameUp() {
  if (m_fd < 0) return false;
  bool up = false;
  alignas(nlmsghdr) std::array<char, 8192> buffer{};
  for (;;) {
    const ssize_t n = ::recv(m_fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    if (netlinkSaysUp(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) up = true;
  }
  return up;
}

// [SECTION] The supervisor
Supervisor::Supervisor(store::Store& store, store::Store& watchStore, LongPollTransport& transport,
                       SupervisorOptions options)
    : m_store(store), m_watchStore(watchStore), m_transport(transport), m_options(std::move(options)) {
  std::uint64_t seed = m_options.seed;
  if (seed == 0) seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  m_rng.seed(seed);
  touch();
}

Supervisor::~Supervisor() = default;

Instant Supervisor::now() const {
  return m_options.clock ? m_options.clock() : nowUtc();
}

void Supervisor::log(LogPriority priority, const std::string& line) const {
  if (m_options.log) m_options.log(priority, line);
}

void Supervisor::touch() noexcept {
  m_aliveAt.store(SteadyClock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

bool Supervisor::alive() const noexcept {
  const auto own = SteadyClock::time_point(SteadyClock::duration(m_aliveAt.load(std::memory_order_relaxed)));
  const auto last = std::max(own, m_transport.lastActivity());
  return SteadyClock::now() - last < m_options.aliveWithin;
}

SupervisorStats Supervisor::stats() const {
  std::lock_guard lock(m_statsMutex);
  return m_stats;
}

void Supervisor::requestStop() noexcept {
  m_stop.store(true);
  m_transport.stop();
  // No notify here (not async-signal-safe): every wait below is sliced and checks m_stop.
}

void Supervisor::notifyNetworkUp() {
  m_networkUp.store(true);
  // A parked long-poll may sit on a connection the change killed (a new address, a NAT
  // that forgot it); it would only time out after its wait. Start over on a fresh one.
  m_transport.interruptLongPoll();
  {
    std::lock_guard lock(m_mutex);
  }
  m_wake.notify_all();
}

Result<SessionReport> Supervisor::session(int waitSeconds) {
  SessionOptions options;
  options.pushBatch = m_options.pushBatch;
  options.pullLimit = m_options.pullLimit;
  options.pullWaitSeconds = waitSeconds;
  options.clock = m_options.clock;
  options.overlapPages = true;  // a first sync's pages: the hub's time hidden behind the store's
  SyncSession session(m_store, m_transport, options);
  SessionReport report;
  // A local write from here on either is read by this push or cuts the long-poll after it.
  m_transport.clearInterrupt();
  m_localWrite.store(false);
  {
    std::lock_guard lock(m_statsMutex);
    ++m_stats.sessions;
  }
  if (auto p = session.pushAll(report); !p) return std::unexpected(p.error());
  if (auto p = session.pullAll(report); !p) return std::unexpected(p.error());
  return report;
}

void Supervisor::recordSuccess(const SessionReport& report, bool quietWhenIdle) {
  const Instant at = now();
  auto written = m_store.syncWrite(at, [&](store::SyncTx& tx) -> Result<void> {
    if (auto r = tx.setValue(kLastSuccessKey, formatInstant(at)); !r) return r;
    if (auto r = tx.setValue(kLastErrorKey, ""); !r) return r;
    if (auto r = tx.setValue(kLastErrorCodeKey, ""); !r) return r;
    return tx.setValue(kNextAttemptKey, "");
  });
  if (!written) log(LogPriority::Warning, "cannot record the sync status: " + written.error().code);
  if (m_failing) log(LogPriority::Info, "sync works again");
  m_failing = false;
  if (!quietWhenIdle || report.pushed > 0 || report.changes > 0 || report.resynced) {
    log(LogPriority::Info, "synced: pushed " + std::to_string(report.pushed) + ", acknowledged " +
                               std::to_string(report.acknowledged) + ", refused " + std::to_string(report.rejected) +
                               ", received " + std::to_string(report.changes) + " changes in " +
                               std::to_string(report.pages) + " pages" + (report.resynced ? " (after a resync)" : ""));
  }
  if (report.rejected > 0)
    log(LogPriority::Warning, std::to_string(report.rejected) + " changes were refused by the hub and wait for staff review");
}

void Supervisor::recordFailure(const Error& error, std::optional<Instant> nextAttempt) {
  auto written = m_store.syncWrite(now(), [&](store::SyncTx& tx) -> Result<void> {
    std::string words = error.message;
    if (nextAttempt) words += error.isTransient() ? "; trying again soon" : "; this needs an operator, trying again later";
    if (auto r = tx.setValue(kLastErrorKey, words); !r) return r;
    if (auto r = tx.setValue(kLastErrorCodeKey, error.code); !r) return r;
    return tx.setValue(kNextAttemptKey, nextAttempt ? formatInstant(*nextAttempt) : "");
  });
  if (!written) log(LogPriority::Warning, "cannot record the sync status: " + written.error().code);
  // One line per failure: a warning when a retry may fix it, an error when it needs a person.
  const auto priority = error.isTransient() ? LogPriority::Warning : LogPriority::Error;
  log(priority, "sync failed: " + error.code + ": " + error.message);
  m_failing = true;
}

Result<SessionReport> Supervisor::runOnce() {
  auto r = session(0);
  if (r) {
    recordSuccess(*r, false);
  } else {
    recordFailure(r.error(), std::nullopt);
  }
  return r;
}

bool Supervisor::waitBeforeRetry(std::chrono::milliseconds delay, std::optional<std::chrono::seconds> retryAfter) {
  const auto start = SteadyClock::now();
  const auto until = start + delay;
  // A local write may end the wait, but not before the hub's Retry-After nor within a second.
  const auto earliest = start + std::max<std::chrono::milliseconds>(retryAfter.value_or(0s), 1s);
  std::unique_lock lock(m_mutex);
  while (!m_stop.load()) {
    touch();
    const auto now = SteadyClock::now();
    if (m_networkUp.exchange(false)) return true;
    if (now >= until) return false;
    if (now >= earliest && m_localWrite.load()) return false;
    m_wake.wait_for(lock, std::min<SteadyClock::duration>(until - now, 250ms));
  }
  return false;
}

void Supervisor::waitIdle(std::chrono::milliseconds delay) {
  const auto until = SteadyClock::now() + delay;
  std::unique_lock lock(m_mutex);
  while (!m_stop.load() && !m_localWrite.load()) {
    if (m_networkUp.exchange(false)) return;
    touch();
    const auto now = SteadyClock::now();
    if (now >= until) return;
    m_wake.wait_for(lock, std::min<SteadyClock::duration>(until - now, 250ms));
  }
}

void Supervisor::run() {
  log(LogPriority::Info, m_options.deviceLabel.empty()
                             ? "device (store " + m_store.deviceId().toString() + ") syncing"
                             : "device " + m_options.deviceLabel + " (store " + m_store.deviceId().toString() + ") syncing");
  std::thread watcher([this] { watch(); });
  unsigned attempt = 0;
  unsigned quickIdleRounds = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!m_stop.load()) {
    touch();
    const auto began = SteadyClock::now();
    auto r = session(m_options.waitSeconds);
    if (m_stop.load()) break;
    if (r) {
      recordSuccess(*r, true);
      attempt = 0;
      // The long-poll was the wait. Without one (wait_s = 0), pause before the next round. A
      // woken poll may find nothing for this device now and then (a change outside its window);
      // several quick empty rounds in a row mean a hub that does not park: pause 1 s then. A
      // local write ends either pause.
      const bool quickAndIdle = r->pushed == 0 && r->changes == 0 && SteadyClock::now() - began < 1s;
      quickIdleRounds = quickAndIdle ? quickIdleRounds + 1 : 0;
      if (m_options.waitSeconds == 0) {
        waitIdle(m_options.idlePoll);
      } else if (quickIdleRounds >= 3) {
        waitIdle(1s);
      }
      continue;
    }
    if (r.error().code == "sync.interrupted") {
      std::lock_guard lock(m_statsMutex);
      ++m_stats.interruptedPolls;
      continue;
    }
    const auto retryAfter = m_transport.lastRetryAfter();
    const auto delay = backoffDelay(m_options.backoff, attempt, unit(m_rng), r.error().isTransient(), retryAfter);
    if (attempt < 64) ++attempt;
    {
      std::lock_guard lock(m_statsMutex);
      ++m_stats.failures;
      m_stats.lastDelay = delay;
    }
    recordFailure(r.error(), now() + std::chrono::duration_cast<std::chrono::microseconds>(delay));
    if (waitBeforeRetry(delay, retryAfter)) {
      attempt = 0;
      std::lock_guard lock(m_statsMutex);
      ++m_stats.wakesByNetwork;
      log(LogPriority::Info, "the network changed: trying now");
    }
  }
  {
    std::lock_guard lock(m_mutex);
  }
  m_wake.notify_all();
  watcher.join();
  log(LogPriority::Info, "stopped");
}

// [SECTION] The watcher thread: its own store connection, a tick of watchInterval.
void Supervisor::watch() {
  std::optional<NetlinkWatch> netlink;
  if (m_options.watchNetwork) netlink.emplace();
  std::int64_t lastVersion = m_watchStore.dataVersion().value_or(-1);
  std::int64_t lastSeq = m_watchStore.lastOutboxSeq().value_or(0);
  auto lastBeat = SteadyClock::now() - m_options.heartbeatEvery;
  const int tickMs = static_cast<int>(std::max<std::int64_t>(m_options.watchInterval.count(), 10));
  while (!m_stop.load()) {
    if (netlink && netlink->fd() >= 0) {
      pollfd p{netlink->fd(), POLLIN, 0};
      if (::poll(&p, 1, tickMs) > 0 && netlink->drainCameUp()) notifyNetworkUp();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds{tickMs});
    }
    if (m_stop.load()) break;
    // PRAGMA data_version moves when another connection commits: the kiosk, or our own
    // sessions. Only a new outbox row (device_seq beyond the last seen) is a local write, so
    // the daemon's own pull and status writes never wake it.
    auto version = m_watchStore.dataVersion();
    if (version && *version != lastVersion) {
      lastVersion = *version;
      auto seq = m_watchStore.lastOutboxSeq();
      if (seq && *seq > lastSeq) {
        lastSeq = *seq;
        m_localWrite.store(true);
        m_transport.interruptLongPoll();
        {
          std::lock_guard lock(m_statsMutex);
          ++m_stats.wakesByLocalWrite;
        }
        {
          std::lock_guard lock(m_mutex);
        }
        m_wake.notify_all();
      }
    }
    if (alive()) {
      if (m_options.watchdogPing) m_options.watchdogPing();
      if (SteadyClock::now() - lastBeat >= m_options.heartbeatEvery) {
        lastBeat = SteadyClock::now();
        if (auto r = m_watchStore.setSyncValue(kHeartbeatKey, formatInstant(now())); !r)
          log(LogPriority::Warning, "cannot write the heartbeat: " + r.error().code);
      }
    }
  }
}

}  // namespace anteroom::sync
