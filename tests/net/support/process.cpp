// Child processes, temp dirs and loopback ports for the network tests (see process.hpp).
#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace anteroom::nettest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// [SECTION] Temp dirs and ports

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) != nullptr) m_path = pattern;
}

TempDir::~TempDir() {
  if (m_path.empty() || std::getenv("ANTEROOM_KEEP_TMP") != nullptr) return;
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const fs::path& path, std::string_view text, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

// [SECTION] Spawning

namespace {

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The environment for the child: the test's own, with `extra` added or replacing entries.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos && extra.contains(entry.substr(0, eq))) continue;
    out.push_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

// In the child after fork: only async-signal-safe calls until exec.
struct Identity {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

[[noreturn]] void execChild(std::vector<char*>& argv, std::vector<char*>& envp, int outFd, int errFd, const char* cwd,
                            const Identity& who, pid_t parent) {
  ::setpgid(0, 0);
  if (who.change && (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)) _exit(126);
  // After any change of user (which clears it): the child dies with the test program.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) _exit(125);
  // The parent's handlers (doctest catches SIGTERM) must not run in the child: every signal
  // back to its default while all are blocked, then unblocked (a pending one acts now).
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int in = ::open("/dev/null", O_RDONLY);
  if (in >= 0) ::dup2(in, STDIN_FILENO);
  ::dup2(outFd, STDOUT_FILENO);
  ::dup2(errFd, STDERR_FILENO);
  if (cwd != nullptr && ::chdir(cwd) != 0) _exit(126);
  ::execvpe(argv[0], argv.data(), envp.data());
  const char msg[] = "exec failed: cannot run the program\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(127);
}

pid_t forkExec(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, int outFd,
               int errFd, const std::optional<fs::path>& cwd, const std::optional<std::string>& user = std::nullopt) {
  Identity who;
  if (user) {
    const passwd* pw = ::getpwnam(user->c_str());
    if (pw == nullptr) {
      errno = ENOENT;
      return -1;
    }
    who = {true, pw->pw_uid, pw->pw_gid};
  }
  const pid_t parent = ::getpid();
  std::vector<std::string> argStore = args;
  std::vector<std::string> envStore = childEnvironment(env);
  std::vector<char*> argv, envp;
  for (auto& a : argStore) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envStore) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwdText = cwd ? cwd->string() : std::string();
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) execChild(argv, envp, outFd, errFd, cwd ? cwdText.c_str() : nullptr, who, parent);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  // Both sides set the group, so a signal sent right after fork reaches the child's group.
  if (pid > 0) ::setpgid(pid, pid);
  return pid;
}

}  // namespace

Process Process::spawn(const SpawnOptions& options) {
  Process p;
  p.m_output = options.output;
  if (options.argv.empty()) {
    p.m_error = "no program given";
    return p;
  }
  const int fd = ::open(options.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    p.m_error = "cannot open " + options.output.string() + ": " + std::strerror(errno);
    return p;
  }
  const pid_t pid = forkExec(options.argv, options.env, fd, fd, options.cwd, options.user);
  ::close(fd);
  if (pid < 0) {
    p.m_error = std::string("fork failed: ") + std::strerror(errno);
    return p;
  }
  p.m_pid = pid;
  return p;
}

Process::Process(Process&& other) noexcept { *this = std::move(other); }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (m_pid > 0 && !m_exit) kill();
    m_pid = other.m_pid;
    m_exit = other.m_exit;
    m_output = std::move(other.m_output);
    m_error = std::move(other.m_error);
    other.reset();
  }
  return *this;
}

void Process::reset() noexcept {
  m_pid = -1;
  m_exit.reset();
}

Process::~Process() {
  if (m_pid > 0 && !m_exit) kill();
}

std::string Process::output() const { return readFile(m_output); }

bool Process::running() {
  if (m_pid <= 0 || m_exit) return false;
  int status = 0;
  const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
  if (r == m_pid) {
    m_exit = decodeStatus(status);
    // Anything the process left behind in its group goes with it.
    ::kill(-m_pid, SIGKILL);
    return false;
  }
  return r == 0;
}

std::optional<std::string> Process::waitForLine(std::string_view needle, std::chrono::milliseconds timeout,
                                                std::size_t from) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const std::string text = output();
    std::size_t at = text.find(needle, std::min(from, text.size()));
    if (at != std::string::npos) {
      const std::size_t begin = text.rfind('\n', at);
      const std::size_t end = text.find('\n', at);
      const std::size_t b = begin == std::string::npos ? 0 : begin + 1;
      return text.substr(b, (end == std::string::npos ? text.size() : end) - b);
    }
    if (!running() || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Process::signal(int sig) {
  if (m_pid > 0 && !m_exit) ::kill(-m_pid, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return m_exit;
}

int Process::stop(std::chrono::milliseconds grace) {
  if (m_pid <= 0) return -1;
  if (!running()) return m_exit.value_or(-1);
  signal(SIGTERM);
  if (auto code = wait(grace)) return *code;
  return kill();
}

int Process::kill() {
  if (m_pid <= 0) return -1;
  if (m_exit) return *m_exit;
  ::kill(-m_pid, SIGKILL);
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0) {
    if (errno != EINTR) {
      m_exit = -1;
      return -1;
    }
  }
  m_exit = decodeStatus(status);
  return *m_exit;
}

// [SECTION] Short commands

std::string RunResult::lastLine() const {
  std::size_t end = out.size();
  while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == '\r' || out[end - 1] == ' ')) --end;
  const std::size_t nl = out.rfind('\n', end == 0 ? 0 : end - 1);
  const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
  return end > begin ? out.substr(begin, end - begin) : std::string();
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::map<std::string, std::string>& env) {
  RunResult result;
  int outPipe[2] = {-1, -1};
  int errPipe[2] = {-1, -1};
  if (::pipe2(outPipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(errPipe, O_CLOEXEC) != 0) {
    ::close(outPipe[0]);
    ::close(outPipe[1]);
    return result;
  }
  const pid_t pid = forkExec(argv, env, outPipe[1], errPipe[1], std::nullopt);
  ::close(outPipe[1]);
  ::close(errPipe[1]);
  if (pid < 0) {
    ::close(outPipe[0]);
    ::close(errPipe[0]);
    return result;
  }
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  bool killed = false;
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      ::kill(-pid, SIGKILL);
      killed = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 200)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[8192];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = decodeStatus(status);
  if (killed) result.err += "\n(killed after the test's timeout)";
  return result;
}

}  // namespace anteroom::nettest
