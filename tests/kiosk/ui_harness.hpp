// Process plumbing shared by the UI tests and the kiosk bench: a private Xvfb display, the real
// anteroom-kiosk binary, xdotool taps and the widget map the kiosk writes. Free of doctest.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "anteroom/model/json.hpp"

extern "C" char** environ;

namespace anteroom::uitest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using Env = std::vector<std::pair<std::string, std::string>>;

// [SECTION] Programs and child processes

// Looks a program up on PATH as execvp would; resolved before fork so the child only calls execve.
inline std::optional<fs::path> findProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return fs::path(name);
    return std::nullopt;
  }
  const char* pathVar = std::getenv("PATH");
  const std::string dirs = pathVar != nullptr ? pathVar : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (true) {
    const auto end = dirs.find(':', start);
    const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      const fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (end == std::string::npos) return std::nullopt;
    start = end + 1;
  }
}

// The current environment with `overrides` replacing or adding variables.
inline std::vector<std::string> environmentWith(const Env& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) { return o.first == name; });
    if (!replaced) out.emplace_back(entry);
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

struct SpawnOptions {
  Env env;               // added to (or replacing) the current environment
  fs::path stdoutPath;   // empty: /dev/null
  fs::path stderrPath;   // empty: /dev/null
  fs::path workDir;      // empty: ours
  int outputFd = -1;     // instead of the two paths: stdout and stderr both to this descriptor
};

// A child process that is stopped (SIGTERM, then SIGKILL) when the object dies, so a failing
// test never leaves an Xvfb or a kiosk behind. The child also dies with us (PR_SET_PDEATHSIG).
class Process {
 public:
  Process() = default;
  Process(Process&& other) noexcept : m_pid(std::exchange(other.m_pid, -1)), m_status(other.m_status) {}
  Process& operator=(Process&& other) noexcept {
    if (this != &other) {
      stop();
      m_pid = std::exchange(other.m_pid, -1);
      m_status = other.m_status;
    }
    return *this;
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { stop(); }

  static std::expected<Process, std::string> spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    if (argv.empty()) return std::unexpected(std::string("nothing to run"));
    const auto program = findProgram(argv[0]);
    if (!program) return std::unexpected(argv[0] + " not found on PATH");
    // Everything the child needs is prepared here: between fork and exec only async-signal-safe calls.
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);
    std::vector<std::string> envs = environmentWith(options.env);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string programPath = program->string();
    const std::string workDir = options.workDir.string();
    auto openOut = [](const fs::path& p) {
      return ::open(p.empty() ? "/dev/null" : p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    };
    const int nullIn = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = options.outputFd >= 0 ? options.outputFd : openOut(options.stdoutPath);
    const int err = options.outputFd >= 0 ? options.outputFd : openOut(options.stderrPath);
    auto closeOwn = [&] {
      if (nullIn >= 0) ::close(nullIn);
      if (options.outputFd < 0) {
        if (out >= 0) ::close(out);
        if (err >= 0) ::close(err);
      }
    };
    if (nullIn < 0 || out < 0 || err < 0) {
      closeOwn();
      return std::unexpected("cannot open output files for " + argv[0] + ": " + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      closeOwn();
      return std::unexpected(std::string("fork failed: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(nullIn, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      if (!workDir.empty() && ::chdir(workDir.c_str()) != 0) ::_exit(126);
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(programPath.c_str(), argp.data(), envp.data());
      ::_exit(127);
    }
    closeOwn();
    Process p;
    p.m_pid = pid;
    return p;
  }

  [[nodiscard]] pid_t pid() const { return m_pid; }

  // True while the child has not exited (reaps it once it has).
  bool running() {
    if (m_pid <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == 0) return true;
    m_status = r == m_pid ? decode(status) : -1;
    m_pid = -1;
    return false;
  }

  // The exit code, 128 + the signal that ended it, or nothing while it runs.
  [[nodiscard]] std::optional<int> exitStatus() const {
    if (m_pid > 0) return std::nullopt;
    return m_status;
  }

  // Waits up to `timeout` for the child to exit by itself.
  bool waitExit(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (running()) {
      if (SteadyClock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  // SIGTERM, then SIGKILL after `grace`. Returns the exit status (or -1 if never started).
  int stop(std::chrono::milliseconds grace = 3000ms) {
    if (m_pid > 0 && running()) {
      ::kill(m_pid, SIGTERM);
      if (!waitExit(grace)) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        m_status = ::waitpid(m_pid, &status, 0) == m_pid ? decode(status) : -1;
        m_pid = -1;
      }
    }
    return m_status;
  }

 private:
  static int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }

  pid_t m_pid = -1;
  int m_status = -1;
};

struct CommandResult {
  int status = -1;      // exit code; 128 + signal; -1 when it could not run or timed out
  std::string output;   // stdout and stderr together
};

// Runs a short command (xdotool, import) to completion, with its output captured.
inline CommandResult runCommand(const std::vector<std::string>& argv, const Env& env = {},
                                std::chrono::milliseconds timeout = 15000ms) {
  CommandResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.output = "pipe failed";
    return result;
  }
  SpawnOptions options;
  options.env = env;
  options.outputFd = fds[1];
  auto child = Process::spawn(argv, options);
  ::close(fds[1]);
  if (!child) {
    ::close(fds[0]);
    result.output = child.error();
    return result;
  }
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  const auto deadline = SteadyClock::now() + timeout;
  char buffer[4096];
  bool open = true;
  while (open) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      result.output.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) open = false;
    else if (errno != EAGAIN && errno != EINTR) open = false;
    else if (SteadyClock::now() >= deadline) break;
    else std::this_thread::sleep_for(2ms);
  }
  ::close(fds[0]);
  if (!child->waitExit(open ? 0ms : std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - SteadyClock::now())))) {
    child->stop(500ms);
    result.output += "\n(timed out)";
    return result;
  }
  result.status = child->exitStatus().value_or(-1);
  return result;
}

// [SECTION] A private X server

// Xvfb on a display of its own (90..199), so tests and benches never share a screen.
class Xvfb {
 public:
  static constexpr int kWidth = 1280;
  static constexpr int kHeight = 800;

  static std::expected<Xvfb, std::string> start(const fs::path& logFile) {
    if (!findProgram("Xvfb")) {
      return std::unexpected(std::string("Xvfb is not installed (scripts/deps installs xvfb, xdotool and imagemagick)"));
    }
    std::string errors;
    const int first = 90 + static_cast<int>(::getpid() % 110);
    int attempts = 0;
    for (int i = 0; i < 110 && attempts < 8; ++i) {
      const int n = 90 + (first - 90 + i) % 110;
      const std::string num = std::to_string(n);
      if (fs::exists("/tmp/.X11-unix/X" + num) || fs::exists("/tmp/.X" + num + "-lock")) continue;
      ++attempts;
      SpawnOptions options;
      options.stdoutPath = logFile;
      options.stderrPath = logFile;
      auto process = Process::spawn({"Xvfb", ":" + num, "-screen", "0",
                                     std::to_string(kWidth) + "x" + std::to_string(kHeight) + "x24", "-nolisten",
                                     "tcp", "-noreset"},
                                    options);
      if (!process) return std::unexpected(process.error());
      // Ready when the socket exists and the lock names our process (not a racing server).
      const auto deadline = SteadyClock::now() + 10s;
      bool ready = false;
      while (process->running() && SteadyClock::now() < deadline) {
        if (fs::exists("/tmp/.X11-unix/X" + num) && lockOwner(n) == process->pid()) {
          ready = true;
          break;
        }
        std::this_thread::sleep_for(10ms);
      }
      if (ready) {
        Xvfb x;
        x.m_process = std::move(*process);
        x.m_number = n;
        return x;
      }
      process->stop(1000ms);
      errors += " :" + num;
    }
    return std::unexpected("Xvfb did not start on any free display (tried" + errors + "); see " + logFile.string());
  }

  [[nodiscard]] std::string display() const { return ":" + std::to_string(m_number); }
  [[nodiscard]] int number() const { return m_number; }
  bool running() { return m_process.running(); }

 private:
  static pid_t lockOwner(int n) {
    std::ifstream in("/tmp/.X" + std::to_string(n) + "-lock");
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

  Process m_process;
  int m_number = -1;
};

// [SECTION] The kiosk and its widget map

struct KioskLaunch {
  fs::path binary;
  fs::path db;
  fs::path keyFile;
  fs::path widgetMap;
  fs::path workDir;   // its working directory (imgui.ini would land here)
  fs::path home;      // $HOME
  fs::path cacheDir;  // XDG_CACHE_HOME, and the Mesa shader cache under it
  fs::path stdoutPath;
  fs::path stderrPath;
  std::string display;
  int idleTimeout = 0;
};

inline std::expected<Process, std::string> launchKiosk(const KioskLaunch& k) {
  std::vector<std::string> argv = {k.binary.string(), "--db", k.db.string(), "--key-file", k.keyFile.string(),
                                   "--windowed", std::to_string(Xvfb::kWidth) + "x" + std::to_string(Xvfb::kHeight),
                                   "--widget-map", k.widgetMap.string()};
  if (k.idleTimeout > 0) {
    argv.push_back("--idle-timeout");
    argv.push_back(std::to_string(k.idleTimeout));
  }
  SpawnOptions options;
  options.env = {{"DISPLAY", k.display},
                 {"HOME", k.home.string()},
                 {"XDG_CACHE_HOME", k.cacheDir.string()},
                 {"MESA_SHADER_CACHE_DIR", (k.cacheDir / "mesa").string()}};
  options.stdoutPath = k.stdoutPath;
  options.stderrPath = k.stderrPath;
  options.workDir = k.workDir;
  return Process::spawn(argv, options);
}

struct WidgetRect {
  std::int64_t x = 0, y = 0, w = 0, h = 0;
  bool operator==(const WidgetRect&) const = default;
};

// One parse of the widget map: the widgets (without "_screen") and the screen they belong to.
struct WidgetMap {
  std::string screen;
  std::int64_t revision = -1;
  std::map<std::string, WidgetRect> widgets;
  std::string raw;

  [[nodiscard]] const WidgetRect* find(const std::string& id) const {
    const auto it = widgets.find(id);
    return it == widgets.end() ? nullptr : &it->second;
  }
  [[nodiscard]] std::vector<std::string> idsWithPrefix(std::string_view prefix) const {
    std::vector<std::string> out;
    for (const auto& [id, rect] : widgets) {
      if (id.starts_with(prefix)) out.push_back(id);
    }
    return out;
  }
};

inline std::optional<WidgetMap> readWidgetMap(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  WidgetMap map;
  map.raw.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  auto json = Json::parse(map.raw);
  if (!json || !json->isObject()) return std::nullopt;
  for (const auto& [id, value] : json->asObject()) {
    if (!value.isObject()) return std::nullopt;
    if (id == "_screen") {
      const Json* screenId = value.find("id");
      const Json* revision = value.find("revision");
      if (screenId == nullptr || !screenId->isString() || revision == nullptr || !revision->isInt()) return std::nullopt;
      map.screen = screenId->asString();
      map.revision = revision->asInt();
      continue;
    }
    WidgetRect r;
    for (auto [key, field] : {std::pair{"x", &r.x}, std::pair{"y", &r.y}, std::pair{"w", &r.w}, std::pair{"h", &r.h}}) {
      const Json* v = value.find(key);
      if (v == nullptr || !v->isInt()) return std::nullopt;
      *field = v->asInt();
    }
    map.widgets.emplace(id, r);
  }
  if (map.revision < 0) return std::nullopt;
  return map;
}

// Taps named widgets with real X pointer events (xdotool) and follows the map's revision.
class Tapper {
 public:
  Tapper(std::string display, fs::path mapPath) : m_display(std::move(display)), m_mapPath(std::move(mapPath)) {}

  // Waits until `accept` holds for the map (re-read every few ms), or the timeout passes.
  std::optional<WidgetMap> waitFor(const std::function<bool(const WidgetMap&)>& accept, std::chrono::milliseconds timeout,
                                   Process* kiosk = nullptr) {
    const auto deadline = SteadyClock::now() + timeout;
    while (true) {
      if (auto map = readWidgetMap(m_mapPath); map && accept(*map)) return map;
      if (SteadyClock::now() >= deadline) return std::nullopt;
      if (kiosk != nullptr && !kiosk->running()) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  // Waits until the map has not changed for `quiet` (the layout after a new screen can take a
  // frame or two to settle: tables size their columns on their first frame).
  std::optional<WidgetMap> settle(std::chrono::milliseconds quiet = 60ms, std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = SteadyClock::now() + timeout;
    auto last = readWidgetMap(m_mapPath);
    auto since = SteadyClock::now();
    while (SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
      auto now = readWidgetMap(m_mapPath);
      if (!now) continue;
      if (!last || now->raw != last->raw) {
        last = std::move(now);
        since = SteadyClock::now();
      } else if (SteadyClock::now() - since >= quiet) {
        return last;
      }
    }
    return last;
  }

  std::expected<void, std::string> xdotool(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"xdotool"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = runCommand(argv, {{"DISPLAY", m_display}});
    if (r.status != 0) return std::unexpected("xdotool failed (" + std::to_string(r.status) + "): " + r.output);
    return {};
  }

  std::expected<void, std::string> moveMouse(std::int64_t x, std::int64_t y) {
    return xdotool({"mousemove", std::to_string(x), std::to_string(y)});
  }

  struct Tap {
    WidgetMap map;         // after the tap
    bool changed = false;  // the revision moved on before the timeout
  };

  // Taps the centre of widget `id` as the current map places it, then waits for the next
  // revision (the kiosk has applied the tap) and for the layout to settle.
  std::expected<Tap, std::string> tap(const std::string& id, std::chrono::milliseconds timeout = 4000ms) {
    auto before = readWidgetMap(m_mapPath);
    if (!before) return std::unexpected("no widget map at " + m_mapPath.string());
    const WidgetRect* r = before->find(id);
    if (r == nullptr) return std::unexpected("screen '" + before->screen + "' has no widget '" + id + "'");
    if (r->w <= 0 || r->h <= 0 || r->x + r->w / 2 < 0 || r->y + r->h / 2 < 0 || r->x + r->w / 2 >= Xvfb::kWidth ||
        r->y + r->h / 2 >= Xvfb::kHeight) {
      return std::unexpected("widget '" + id + "' on screen '" + before->screen + "' is off screen");
    }
    if (auto moved = xdotool({"mousemove", std::to_string(r->x + r->w / 2), std::to_string(r->y + r->h / 2), "click", "1"});
        !moved) {
      return std::unexpected(moved.error());
    }
    const std::int64_t from = before->revision;
    Tap tap;
    if (auto after = waitFor([&](const WidgetMap& m) { return m.revision != from; }, timeout)) {
      tap.changed = true;
    }
    auto settled = settle();
    if (!settled) return std::unexpected(std::string("the widget map disappeared"));
    tap.map = std::move(*settled);
    return tap;
  }

 private:
  std::string m_display;
  fs::path m_mapPath;
};

// The on-screen key that types one character ("ñ" -> kb.n_tilde); empty for none.
inline std::string keyIdFor(std::string_view character) {
  if (character == "\xC3\xB1") return "kb.n_tilde";
  if (character.size() != 1) return {};
  const char c = character[0];
  switch (c) {
    case ' ': return "kb.space";
    case '-': return "kb.dash";
    case '@': return "kb.at";
    case '.': return "kb.dot";
    case '_': return "kb.underscore";
    case '+': return "kb.plus";
    case '\'': return "kb.apostrophe";
    default: break;
  }
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return std::string("kb.") + c;
  return {};
}

// Splits UTF-8 text into characters (each a string of one to four bytes).
inline std::vector<std::string> utf8Characters(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    len = std::min(len, text.size() - i);
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

// [SECTION] Screenshots: a binary PPM from ImageMagick's import, compared pixel by pixel.

struct Image {
  int width = 0;
  int height = 0;
  std::string rgb;  // width * height * 3 bytes
};

inline std::optional<Image> readPpm(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string magic;
  in >> magic;
  if (magic != "P6") return std::nullopt;
  int values[3] = {0, 0, 0};
  for (int& v : values) {
    in >> std::ws;
    while (in.peek() == '#') {
      std::string comment;
      std::getline(in, comment);
      in >> std::ws;
    }
    in >> v;
  }
  if (values[2] != 255 || values[0] <= 0 || values[1] <= 0) return std::nullopt;
  in.get();  // the single whitespace before the pixels
  Image image;
  image.width = values[0];
  image.height = values[1];
  image.rgb.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (image.rgb.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3) {
    return std::nullopt;
  }
  return image;
}

// The number of pixels that differ; nothing when the sizes differ.
inline std::optional<std::size_t> differingPixels(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height) return std::nullopt;
  std::size_t count = 0;
  for (std::size_t i = 0; i + 2 < a.rgb.size(); i += 3) {
    if (a.rgb.compare(i, 3, b.rgb, i, 3) != 0) ++count;
  }
  return count;
}

// The whole root window of `display` as a binary PPM (no compression, so it is read directly).
inline std::expected<Image, std::string> screenshot(const std::string& display, const fs::path& file) {
  const auto r = runCommand({"import", "-display", display, "-window", "root", "-depth", "8",
                             "ppm:" + file.string()});
  if (r.status != 0) return std::unexpected("import failed (" + std::to_string(r.status) + "): " + r.output);
  auto image = readPpm(file);
  if (!image) return std::unexpected("cannot read the screenshot " + file.string());
  return std::move(*image);
}

}  // namespace anteroom::uitest
