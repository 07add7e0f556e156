// Child processes for the network tests: spawn a binary in its own process group with its
// output in a file, wait for a line with a deadline, signal, reap. A Process that goes out of
// scope (a failed REQUIRE included) SIGKILLs its whole group and reaps it: no test leaks one.
// A test program that dies without unwinding (a signal, abort) takes its children with it:
// each child has PR_SET_PDEATHSIG = SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anteroom::nettest {

// A temp directory removed with everything in it when destroyed (ANTEROOM_KEEP_TMP keeps it).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "anteroom-net-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

// A port the kernel just handed out on 127.0.0.1 (free again once the probe socket closed).
int freeLoopbackPort();

struct SpawnOptions {
  std::vector<std::string> argv;              // argv[0] is the program (a path, or found on PATH)
  std::map<std::string, std::string> env;     // added to (or replacing in) the test's environment
  std::filesystem::path output;               // stdout and stderr appended here (required)
  std::optional<std::filesystem::path> cwd;
  // Run as this user (root only): for servers that refuse root, such as PgBouncer.
  std::optional<std::string> user;
};

class Process {
 public:
  // Starts the program in a new process group. On failure (fork, exec) the error is in
  // `error()` and `running()` is false; the output file then says why exec failed.
  static Process spawn(const SpawnOptions& options);

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // SIGKILL to the group, then reap

  [[nodiscard]] pid_t pid() const noexcept { return m_pid; }
  [[nodiscard]] bool started() const noexcept { return m_pid > 0; }
  [[nodiscard]] const std::string& error() const noexcept { return m_error; }
  [[nodiscard]] const std::filesystem::path& outputPath() const noexcept { return m_output; }
  // Everything the process wrote so far.
  [[nodiscard]] std::string output() const;

  // True while the process has not exited (reaps it if it has).
  bool running();
  // Waits until a line containing `needle` appears in the output (searching from byte `from`),
  // the process exits, or the timeout passes. Returns the whole line, or nullopt.
  std::optional<std::string> waitForLine(std::string_view needle, std::chrono::milliseconds timeout,
                                         std::size_t from = 0);
  // Sends `sig` to the process group (the process and anything it started).
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL the group and reap.
  int kill();
  // The exit code once exited (128+signal when killed by one).
  [[nodiscard]] std::optional<int> exitCode() const noexcept { return m_exit; }

 private:
  void reset() noexcept;
  pid_t m_pid = -1;
  std::optional<int> m_exit;
  std::filesystem::path m_output;
  std::string m_error;
};

struct RunResult {
  int exitCode = -1;  // 128+signal when killed, -1 when it could not start
  std::string out;    // stdout
  std::string err;    // stderr
  // The last non-empty line of stdout (commands that print an id as their last line).
  [[nodiscard]] std::string lastLine() const;
};

// Runs a short command to completion (killed after `timeout`), capturing stdout and stderr.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const std::map<std::string, std::string>& env = {});

// The whole content of a file ("" when absent).
std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, std::string_view text, unsigned mode = 0600);

}  // namespace anteroom::nettest
