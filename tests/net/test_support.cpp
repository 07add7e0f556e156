// The network tests' own tools: the fault proxy against a plain echo server, and the process
// helpers (a line waited for, a whole group killed, a short command's output and exit code).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/fault_proxy.hpp"
#include "support/process.hpp"

using namespace anteroom::nettest;
using namespace std::chrono_literals;

namespace {

// Echoes every connection back, a thread each; counts the bytes it received.
class EchoServer {
 public:
  EchoServer() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 64) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] {
      while (true) {
        const int c = ::accept(m_fd, nullptr, nullptr);
        if (c < 0) return;
        m_workers.emplace_back([this, c] {
          char buf[16384];
          while (true) {
            const ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) break;
            received += static_cast<std::size_t>(n);
            if (::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
          }
          ::close(c);
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
    for (auto& w : m_workers) w.join();
  }
  [[nodiscard]] int port() const { return m_port; }
  std::atomic<std::size_t> received{0};

 private:
  int m_fd = -1;
  int m_port = 0;
  std::thread m_thread;
  std::vector<std::thread> m_workers;
};

// A client socket with a receive timeout; connectTo returns -errno on failure.
int connectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void sendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

// Reads until `want` bytes, EOF, an error or `within` passes. `how` says how it ended.
std::string readUpTo(int fd, std::size_t want, std::chrono::milliseconds within, std::string* how = nullptr) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (out.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (how) *how = "timeout";
      return out;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[16384];
    const ssize_t n = ::read(fd, buf, std::min(sizeof buf, want - out.size()));
    if (n == 0) {
      if (how) *how = "eof";
      return out;
    }
    if (n < 0) {
      if (how) *how = errno == ECONNRESET ? "reset" : "error";
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (how) *how = "complete";
  return out;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// A TLS record header and body: type 22 handshake, 23 application data.
std::string record(unsigned char type, std::size_t length) {
  std::string r;
  r += static_cast<char>(type);
  r += '\x03';
  r += '\x03';
  r += static_cast<char>((length >> 8U) & 0xffU);
  r += static_cast<char>(length & 0xffU);
  r += std::string(length, 'r');
  return r;
}

std::unique_ptr<FaultProxy> proxyTo(int port) {
  std::string error;
  auto p = FaultProxy::start(port, error);
  REQUIRE_MESSAGE(p != nullptr, error);
  return p;
}

}  // namespace

TEST_CASE("fault proxy: pass relays a megabyte both ways intact") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  const std::string data = pattern(1 << 20);
  std::thread writer([&] { sendAll(fd, data); });
  const std::string back = readUpTo(fd, data.size(), 10s);
  writer.join();
  CHECK(back.size() == data.size());
  CHECK(back == data);
  ::close(fd);
  CHECK(proxy->counters().bytesUp == data.size());
}

TEST_CASE("fault proxy: refuse closes the port, pass opens the same port again") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  proxy->setMode(FaultMode::Refuse);
  // The loop applies it within a poll round.
  int fd = 0;
  for (int i = 0; i < 100; ++i) {
    fd = connectTo(proxy->port());
    if (fd < 0) break;
    ::close(fd);
    std::this_thread::sleep_for(10ms);
  }
  CHECK(fd == -ECONNREFUSED);
  proxy->setMode(FaultMode::Pass);
  for (int i = 0; i < 100; ++i) {
    fd = connectTo(proxy->port());
    if (fd >= 0) break;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(fd >= 0);
  sendAll(fd, "hello");
  CHECK(readUpTo(fd, 5, 5s) == "hello");
  ::close(fd);
}

TEST_CASE("fault proxy: refuse also resets the connections already open") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  sendAll(fd, "one");
  REQUIRE(readUpTo(fd, 3, 5s) == "one");
  proxy->setMode(FaultMode::Refuse);
  std::string how;
  CHECK(readUpTo(fd, 1, 5s, &how).empty());
  CHECK((how == "reset" || how == "eof"));
  ::close(fd);
}

TEST_CASE("fault proxy: stall holds the bytes until the network comes back") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  FaultSettings s;
  s.mode = FaultMode::Stall;
  proxy->set(s);
  std::this_thread::sleep_for(50ms);
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  sendAll(fd, "stalled");
  std::string how;
  CHECK(readUpTo(fd, 7, 400ms, &how).empty());
  CHECK(how == "timeout");
  CHECK(echo.received == 0);
  proxy->setMode(FaultMode::Pass);
  CHECK(readUpTo(fd, 7, 5s) == "stalled");
  ::close(fd);
}

TEST_CASE("fault proxy: reset after N bytes delivers exactly N upstream, then resets the client") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  FaultSettings s;
  s.mode = FaultMode::ResetAfter;
  s.resetAfterBytes = 1000;
  proxy->set(s);
  std::this_thread::sleep_for(50ms);
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  sendAll(fd, pattern(5000));
  std::string how;
  const std::string back = readUpTo(fd, 5000, 5s, &how);
  CHECK(back.size() <= 1000);
  CHECK((how == "reset" || how == "eof"));
  for (int i = 0; i < 100 && echo.received < 1000; ++i) std::this_thread::sleep_for(10ms);
  CHECK(echo.received == 1000);
  CHECK(proxy->counters().resets == 1);
  ::close(fd);
}

TEST_CASE("fault proxy: slow relays at its rate and keeps every byte") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  FaultSettings s;
  s.mode = FaultMode::Slow;
  s.bytesPerTick = 512;
  s.tick = 10ms;
  proxy->set(s);
  std::this_thread::sleep_for(50ms);
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  const std::string data = pattern(16384);
  const auto t0 = std::chrono::steady_clock::now();
  sendAll(fd, data);
  const std::string back = readUpTo(fd, data.size(), 20s);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(back == data);
  // 16 KiB at 512 bytes per 10 ms is 32 ticks at least.
  CHECK(took >= 250ms);
  ::close(fd);
}

TEST_CASE("fault proxy: drop-response relays the handshake and the request, swallows the answer") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  FaultSettings s;
  s.mode = FaultMode::DropResponse;
  s.quiet = 100ms;
  proxy->set(s);
  std::this_thread::sleep_for(50ms);
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  // The handshake passes both ways (split across writes, as TCP may).
  const std::string hello = record(22, 300);
  sendAll(fd, hello.substr(0, 3));
  std::this_thread::sleep_for(20ms);
  sendAll(fd, hello.substr(3));
  CHECK(readUpTo(fd, hello.size(), 5s) == hello);
  // The request reaches the server whole; its answer never reaches the client.
  const std::string request = record(23, 2000);
  sendAll(fd, request);
  std::string how;
  const std::string back = readUpTo(fd, request.size(), 5s, &how);
  CHECK(back.empty());
  CHECK(how == "eof");
  CHECK(echo.received == hello.size() + request.size());
  const auto counters = proxy->counters();
  CHECK(counters.dropped == 1);
  CHECK(counters.swallowedBytes == request.size());
  ::close(fd);
}

TEST_CASE("fault proxy: a plain-text request counts as application data for drop-response") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  proxy->setMode(FaultMode::DropResponse);
  std::this_thread::sleep_for(50ms);
  const int fd = connectTo(proxy->port());
  REQUIRE(fd >= 0);
  sendAll(fd, "GET / HTTP/1.1\r\n\r\n");
  std::string how;
  CHECK(readUpTo(fd, 1, 5s, &how).empty());
  CHECK(how == "eof");
  ::close(fd);
}

TEST_CASE("fault proxy: resetAll drops every open connection; an upstream that is down resets") {
  EchoServer echo;
  auto proxy = proxyTo(echo.port());
  const int a = connectTo(proxy->port());
  const int b = connectTo(proxy->port());
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  sendAll(a, "x");
  sendAll(b, "y");
  REQUIRE(readUpTo(a, 1, 5s) == "x");
  REQUIRE(readUpTo(b, 1, 5s) == "y");
  CHECK(proxy->openConnections() == 2);
  proxy->resetAll();
  std::string how;
  CHECK(readUpTo(a, 1, 5s, &how).empty());
  CHECK((how == "reset" || how == "eof"));
  CHECK(readUpTo(b, 1, 5s, &how).empty());
  ::close(a);
  ::close(b);

  proxy->setUpstream(freeLoopbackPort());  // nothing listens there
  const int c = connectTo(proxy->port());
  REQUIRE(c >= 0);
  CHECK(readUpTo(c, 1, 5s, &how).empty());
  CHECK((how == "reset" || how == "eof"));
  ::close(c);
}

TEST_CASE("process: waits for a line, kills the whole group, reports exit codes") {
  TempDir dir;
  REQUIRE(!dir.path().empty());
  const auto pidFile = dir / "child.pid";
  pid_t grandchild = 0;
  {
    auto p = Process::spawn({{"sh", "-c", "sleep 60 & echo $! > " + pidFile.string() + "; echo '<6>ready on 1234' >&2; wait"},
                             {},
                             dir / "out.log",
                             {},
                             {}});
    REQUIRE(p.started());
    auto line = p.waitForLine("ready on", 5s);
    REQUIRE(line.has_value());
    CHECK(*line == "<6>ready on 1234");
    CHECK_FALSE(p.waitForLine("never printed", 100ms).has_value());
    grandchild = static_cast<pid_t>(std::stol(readFile(pidFile)));
    CHECK(::kill(grandchild, 0) == 0);
  }  // destroyed: the group is killed, the child reaped
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = ::kill(grandchild, 0) != 0;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  CHECK(gone);

  auto quick = Process::spawn({{"sh", "-c", "exit 3"}, {}, dir / "quick.log", {}, {}});
  CHECK(quick.wait(5s) == 3);
  auto term = Process::spawn({{"sleep", "60"}, {}, dir / "term.log", {}, {}});
  CHECK(term.stop(5s) == 128 + SIGTERM);
  auto missing = Process::spawn({{"/nonexistent/program"}, {}, dir / "missing.log", {}, {}});
  CHECK(missing.wait(5s) == 127);
  CHECK(missing.output().find("exec failed") != std::string::npos);
}

TEST_CASE("process: children die with a test program that exits without unwinding") {
  TempDir dir;
  const auto pidFile = dir / "orphan.pid";
  const pid_t test = ::fork();
  REQUIRE(test >= 0);
  if (test == 0) {
    // A test program that dies without running any destructor.
    auto p = Process::spawn({{"sleep", "60"}, {}, dir / "orphan.log", {}, {}});
    writeFile(pidFile, std::to_string(p.pid()));
    _exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(test, &status, 0) == test);
  const auto orphan = static_cast<pid_t>(std::stol(readFile(pidFile)));
  REQUIRE(orphan > 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    // Gone, or a zombie waiting for init to reap it.
    const std::string stat = readFile("/proc/" + std::to_string(orphan) + "/stat");
    gone = stat.empty() || stat.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  CHECK(gone);
}

TEST_CASE("run: stdout, stderr, exit code, last line and the timeout") {
  auto r = run({"sh", "-c", "echo one; echo two; echo oops >&2; exit 4"});
  CHECK(r.exitCode == 4);
  CHECK(r.out == "one\ntwo\n");
  CHECK(r.err == "oops\n");
  CHECK(r.lastLine() == "two");
  auto env = run({"sh", "-c", "printf %s \"$ANTEROOM_TEST_VALUE\""}, 5s, {{"ANTEROOM_TEST_VALUE", "set"}});
  CHECK(env.out == "set");
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = run({"sleep", "30"}, 300ms);
  CHECK(slow.exitCode == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}
