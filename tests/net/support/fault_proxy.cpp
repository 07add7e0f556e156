// The fault-injecting TCP proxy (see fault_proxy.hpp): one thread, poll(), non-blocking sockets.
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace anteroom::nettest {

using Clock = std::chrono::steady_clock;

std::string_view toString(FaultMode mode) noexcept {
  switch (mode) {
    case FaultMode::Pass: return "pass";
    case FaultMode::Refuse: return "refuse";
    case FaultMode::Stall: return "stall";
    case FaultMode::ResetAfter: return "reset";
    case FaultMode::Slow: return "slow";
    case FaultMode::DropResponse: return "drop-response";
  }
  return "?";
}

namespace {

constexpr std::size_t kBufferCeiling = std::size_t{1} << 20;  // per direction, per connection


// Closes with RST instead of FIN: the peer sees "connection reset".
void closeHard(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

int listenOn(int port, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 512) != 0) {
    error = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int boundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

// Follows the TLS record headers of one direction. A record whose type is not handshake (22),
// change-cipher-spec (20) or alert (21) is application data; plain-text protocols count as
// application data from their first byte.
struct RecordScanner {
  std::size_t headerHave = 0;
  unsigned char header[5]{};
  std::size_t bodyLeft = 0;
  bool sawApplicationData = false;

  void feed(const char* data, std::size_t n) {
    std::size_t i = 0;
    while (i < n && !sawApplicationData) {
      if (bodyLeft > 0) {
        const std::size_t skip = std::min(bodyLeft, n - i);
        bodyLeft -= skip;
        i += skip;
        continue;
      }
      header[headerHave++] = static_cast<unsigned char>(data[i++]);
      if (headerHave == 1 && (header[0] < 20 || header[0] > 22)) {
        sawApplicationData = true;
        return;
      }
      if (headerHave == 5) {
        bodyLeft = (std::size_t{header[3]} << 8U) | header[4];
        headerHave = 0;
      }
    }
  }
};

struct Conn {
  int client = -1;
  int upstream = -1;
  bool connecting = true;
  FaultSettings s;
  std::string up, down;  // bytes waiting to be written to upstream / to the client
  std::size_t upRelayed = 0;
  bool clientEof = false, upstreamEof = false;
  bool upShut = false, downShut = false;
  RecordScanner clientRecords;
  bool answering = false;  // DropResponse: the upstream began its answer, being swallowed
  Clock::time_point lastClient = Clock::now(), lastUpstream = Clock::now();
  Clock::time_point nextTick = Clock::now();
  std::size_t budgetUp = 0, budgetDown = 0;
  bool dead = false;
};

}  // namespace

struct FaultProxy::Impl {
  mutable std::mutex mutex;
  FaultSettings settings;
  bool settingsChanged = false;
  bool resetRequested = false;
  int upstreamPort = 0;
  ProxyCounters counters;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> stopping{false};
  int wake[2] = {-1, -1};
  int listenFd = -1;
  int port = 0;
  std::vector<Conn> conns;
  std::thread thread;

  void poke() const {
    const char c = 1;
    (void)!::write(wake[1], &c, 1);
  }

  void run();
  void applyControl();
  void accept();
  void service(Conn& c, short clientEv, short upstreamEv, Clock::time_point now);
  void timers(Conn& c, Clock::time_point now);
  void kill(Conn& c, bool hard) {
    if (c.dead) return;
    if (hard) {
      closeHard(c.client);
      closeHard(c.upstream);
    } else {
      if (c.client >= 0) ::close(c.client);
      if (c.upstream >= 0) ::close(c.upstream);
    }
    c.client = c.upstream = -1;
    c.dead = true;
  }
};

std::unique_ptr<FaultProxy> FaultProxy::start(int upstreamPort, std::string& error, int listenPort) {
  std::unique_ptr<FaultProxy> p(new FaultProxy());
  p->m_impl = std::make_unique<Impl>();
  Impl& im = *p->m_impl;
  im.upstreamPort = upstreamPort;
  if (::pipe2(im.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  im.listenFd = listenOn(listenPort, error);
  if (im.listenFd < 0) {
    ::close(im.wake[0]);
    ::close(im.wake[1]);
    return nullptr;
  }
  im.port = boundPort(im.listenFd);
  p->m_port = im.port;
  im.thread = std::thread([&im] { im.run(); });
  return p;
}

FaultProxy::~FaultProxy() {
  if (!m_impl) return;
  m_impl->stopping = true;
  m_impl->poke();
  if (m_impl->thread.joinable()) m_impl->thread.join();
  for (auto& c : m_impl->conns) m_impl->kill(c, true);
  if (m_impl->listenFd >= 0) ::close(m_impl->listenFd);
  ::close(m_impl->wake[0]);
  ::close(m_impl->wake[1]);
}

void FaultProxy::set(const FaultSettings& settings) {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->settings = settings;
    m_impl->settingsChanged = true;
  }
  m_impl->poke();
}

void FaultProxy::setMode(FaultMode mode) {
  FaultSettings s = settings();
  s.mode = mode;
  set(s);
}

void FaultProxy::setUpstream(int upstreamPort) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->upstreamPort = upstreamPort;
}

FaultSettings FaultProxy::settings() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->settings;
}

void FaultProxy::resetAll() {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->resetRequested = true;
  }
  m_impl->poke();
}

ProxyCounters FaultProxy::counters() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->counters;
}

std::size_t FaultProxy::openConnections() const { return m_impl->open.load(); }

// [SECTION] The loop

void FaultProxy::Impl::applyControl() {
  FaultSettings s;
  bool changed = false, reset = false;
  {
    std::lock_guard lock(mutex);
    s = settings;
    changed = settingsChanged;
    reset = resetRequested;
    settingsChanged = resetRequested = false;
  }
  if (changed) {
    // Open connections take the new settings too: a network that fails fails for everyone.
    for (auto& c : conns) {
      c.s = s;
      if (s.mode == FaultMode::Refuse) reset = true;
      if (s.mode == FaultMode::ResetAfter && c.upRelayed >= s.resetAfterBytes) {
        {
          std::lock_guard lock(mutex);
          ++counters.resets;
        }
        kill(c, true);
      }
    }
    if (s.mode == FaultMode::Refuse && listenFd >= 0) {
      ::close(listenFd);
      listenFd = -1;
    } else if (s.mode != FaultMode::Refuse && listenFd < 0) {
      std::string ignored;
      // The same port again; on a busy machine another program could take it in between,
      // then the proxy stays closed and the test sees refusals (and says so by its counters).
      listenFd = listenOn(port, ignored);
    }
  }
  if (reset)
    for (auto& c : conns) kill(c, true);
}

void FaultProxy::Impl::accept() {
  while (true) {
    const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Conn c;
    c.client = fd;
    int target = 0;
    {
      std::lock_guard lock(mutex);
      c.s = settings;
      target = upstreamPort;
      ++counters.accepted;
    }
    c.upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::setsockopt(c.upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(target));
    const int r = ::connect(c.upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno != EINPROGRESS) {
      kill(c, true);  // the upstream is down: the client sees a reset
      continue;
    }
    c.connecting = r != 0;
    conns.push_back(std::move(c));
  }
}

void FaultProxy::Impl::timers(Conn& c, Clock::time_point now) {
  if (c.s.mode == FaultMode::Slow && now >= c.nextTick) {
    c.budgetUp = c.budgetDown = c.s.bytesPerTick;
    c.nextTick = now + c.s.tick;
  }
  if (c.s.mode == FaultMode::DropResponse && c.answering && now - c.lastUpstream >= c.s.quiet &&
      now - c.lastClient >= c.s.quiet) {
    {
      std::lock_guard lock(mutex);
      ++counters.dropped;
    }
    kill(c, false);
  }
}

void FaultProxy::Impl::service(Conn& c, short clientEv, short upstreamEv, Clock::time_point now) {
  const FaultMode mode = c.s.mode;
  auto fail = [&] { kill(c, true); };
  // Counted before the close, so a test that sees the reset also sees the count.
  auto countReset = [&] {
    std::lock_guard lock(mutex);
    ++counters.resets;
  };
  if (c.connecting && (upstreamEv & (POLLOUT | POLLERR | POLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail();
    c.connecting = false;
  }
  char buf[65536];
  // Client -> proxy.
  if ((clientEv & (POLLIN | POLLHUP | POLLERR)) && !c.clientEof && c.up.size() < kBufferCeiling) {
    const ssize_t n = ::read(c.client, buf, sizeof buf);
    if (n > 0) {
      c.up.append(buf, static_cast<std::size_t>(n));
      c.clientRecords.feed(buf, static_cast<std::size_t>(n));
      c.lastClient = now;
    } else if (n == 0) {
      c.clientEof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
      return fail();
    }
  }
  // Upstream -> proxy.
  if ((upstreamEv & (POLLIN | POLLHUP | POLLERR)) && !c.connecting && !c.upstreamEof && c.down.size() < kBufferCeiling) {
    const ssize_t n = ::read(c.upstream, buf, sizeof buf);
    if (n > 0) {
      c.lastUpstream = now;
      if (mode == FaultMode::DropResponse && c.clientRecords.sawApplicationData) {
        c.answering = true;  // swallowed: the client never hears it
        std::lock_guard lock(mutex);
        counters.swallowedBytes += static_cast<std::uint64_t>(n);
      } else {
        c.down.append(buf, static_cast<std::size_t>(n));
      }
    } else if (n == 0) {
      c.upstreamEof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
      return fail();
    }
  }
  if (mode == FaultMode::Stall) return;  // hold everything
  // Proxy -> upstream.
  if (!c.connecting && !c.up.empty()) {
    std::size_t want = c.up.size();
    if (mode == FaultMode::Slow) want = std::min(want, c.budgetUp);
    if (mode == FaultMode::ResetAfter) {
      if (c.upRelayed >= c.s.resetAfterBytes) {
        countReset();
        return fail();
      }
      want = std::min(want, c.s.resetAfterBytes - c.upRelayed);
    }
    if (want > 0) {
      const ssize_t n = ::send(c.upstream, c.up.data(), want, MSG_NOSIGNAL);
      if (n > 0) {
        c.up.erase(0, static_cast<std::size_t>(n));
        c.upRelayed += static_cast<std::size_t>(n);
        if (mode == FaultMode::Slow) c.budgetUp -= static_cast<std::size_t>(n);
        std::lock_guard lock(mutex);
        counters.bytesUp += static_cast<std::uint64_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return fail();
      }
    }
    if (mode == FaultMode::ResetAfter && c.upRelayed >= c.s.resetAfterBytes) {
      countReset();
      return fail();
    }
  }
  // Proxy -> client.
  if (!c.down.empty()) {
    std::size_t want = c.down.size();
    if (mode == FaultMode::Slow) want = std::min(want, c.budgetDown);
    if (want > 0) {
      const ssize_t n = ::send(c.client, c.down.data(), want, MSG_NOSIGNAL);
      if (n > 0) {
        c.down.erase(0, static_cast<std::size_t>(n));
        if (mode == FaultMode::Slow) c.budgetDown -= static_cast<std::size_t>(n);
        std::lock_guard lock(mutex);
        counters.bytesDown += static_cast<std::uint64_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return fail();
      }
    }
  }
  // Half-closes pass through once the buffered bytes are out.
  if (c.clientEof && c.up.empty() && !c.upShut && !c.connecting) {
    ::shutdown(c.upstream, SHUT_WR);
    c.upShut = true;
  }
  if (c.upstreamEof && c.down.empty() && !c.downShut) {
    if (mode == FaultMode::DropResponse && c.answering) {
      {
        std::lock_guard lock(mutex);
        ++counters.dropped;
      }
      return kill(c, false);
    }
    ::shutdown(c.client, SHUT_WR);
    c.downShut = true;
  }
  if (c.upShut && c.downShut) kill(c, false);
}

void FaultProxy::Impl::run() {
  std::vector<pollfd> fds;
  while (!stopping) {
    applyControl();
    fds.clear();
    fds.push_back({wake[0], POLLIN, 0});
    const bool listening = listenFd >= 0;
    if (listening) fds.push_back({listenFd, POLLIN, 0});
    const std::size_t base = fds.size();
    bool timed = false;
    for (auto& c : conns) {
      short ce = 0, ue = 0;
      const bool stall = c.s.mode == FaultMode::Stall;
      if (!c.clientEof && c.up.size() < kBufferCeiling) ce |= POLLIN;
      if (!c.upstreamEof && c.down.size() < kBufferCeiling && !c.connecting && !stall) ue |= POLLIN;
      if (!stall && !c.down.empty()) ce |= POLLOUT;
      if (c.connecting || (!stall && !c.up.empty())) ue |= POLLOUT;
      if (c.s.mode == FaultMode::Slow) {
        timed = true;
        if (c.budgetUp == 0) ue = static_cast<short>(ue & ~POLLOUT);
        if (c.budgetDown == 0) ce = static_cast<short>(ce & ~POLLOUT);
      }
      if (c.s.mode == FaultMode::DropResponse) timed = true;
      fds.push_back({c.client, ce, 0});
      fds.push_back({c.upstream, ue, 0});
    }
    const int timeout = timed ? 5 : 200;
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (::read(wake[0], drain, sizeof drain) > 0) {
      }
    }
    const auto now = Clock::now();
    const std::size_t before = conns.size();
    for (std::size_t i = 0; i < before; ++i) {
      Conn& c = conns[i];
      if (c.dead) continue;
      const short ce = fds[base + 2 * i].revents, ue = fds[base + 2 * i + 1].revents;
      // A stalled connection only notices that its client gave up.
      if (c.s.mode == FaultMode::Stall) {
        if (ce & (POLLHUP | POLLERR)) kill(c, true);
        else if (ce & POLLIN) service(c, ce, 0, now);
        if (!c.dead && c.clientEof) kill(c, true);
        continue;
      }
      timers(c, now);
      if (!c.dead && (ce != 0 || ue != 0 || c.s.mode == FaultMode::Slow)) service(c, ce, ue, now);
    }
    if (listening && listenFd >= 0 && (fds[1].revents & POLLIN)) accept();
    std::erase_if(conns, [](const Conn& c) { return c.dead; });
    open = conns.size();
  }
}

}  // namespace anteroom::nettest
