// anteroom-syncd against the real anteroom-hub (label e2e): a new device's first `--once` fills
// an empty store from central; a walk-in and a check-in made on the kiosk reach central; the
// daemon's loop wakes on a local write and stops cleanly on SIGTERM, with READY=1 sent.
#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "../store/fixture.hpp"
#include "anteroom/store/store.hpp"
#include "hub_fixture.hpp"

using namespace anteroom;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace nt = anteroom::nettest;

namespace {

// [SECTION] Running anteroom-syncd (this file links the hub fixture, not tests/net/support).
struct RunResult {
  int exitCode = -1;
  std::string err;
};

RunResult runSyncd(const std::vector<std::string>& args, const fs::path& errFile) {
  std::string command = "timeout 60 " + std::string(ANTEROOM_SYNCD_BIN);
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2> '" + errFile.string() + "'";
  RunResult r;
  r.exitCode = nt::shell(command);
  r.err = nt::readFile(errFile);
  return r;
}

// The daemon as a child process; SIGKILLed and reaped if a test ends early.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& log) : m_log(log) {
    m_pid = ::fork();
    if (m_pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      std::string bin = ANTEROOM_SYNCD_BIN;
      argv.push_back(bin.data());
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  [[nodiscard]] bool started() const { return m_pid > 0; }
  void signal(int sig) { ::kill(m_pid, sig); }
  // The exit code, or nullopt after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }
  [[nodiscard]] std::string output() const { return nt::readFile(m_log); }
  // utime + stime so far, in clock ticks (/proc/PID/stat fields 14 and 15).
  [[nodiscard]] long cpuTicks() const {
    std::string stat = nt::readFile("/proc/" + std::to_string(m_pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream in(stat.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stol(field);
      if (i == 15) stime = std::stol(field);
    }
    return utime + stime;
  }

 private:
  pid_t m_pid = -1;
  fs::path m_log;
};

std::string pinOf(const fs::path& key) {
  const fs::path out = key.string() + ".pin";
  REQUIRE(nt::shell("openssl pkey -in " + key.string() +
                    " -pubout -outform DER | openssl dgst -sha256 -binary | openssl base64 -A > " + out.string()) == 0);
  std::string pin = nt::readFile(out);
  while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
  return "sha256//" + pin;
}

// PostgreSQL, one practice, the hub, one enrolled kiosk device with an empty store.
struct PracticeWorld {
  test::TempDir dir;
  nt::CentralDb db;
  nt::TestPki pki{dir / "pki"};
  nt::CentralDb::Practice seeded = db.seedPractice();
  nt::CertPair deviceCert = pki.device("kiosk-a");
  Uuid device = db.enrollDevice(seeded.practice, deviceCert.fingerprint);
  nt::HubProcess hub{dir / "hub", nt::hubConfig(pki, db.hubDsn(), dir / "hub")};
  store::SecretKey key = test::newKey();
  fs::path storePath = dir / "store.db";
  fs::path keyFile = dir / "store.key";
  fs::path config = dir / "syncd.toml";

  PracticeWorld() {
    { auto created = test::openStore(storePath, key); }
    REQUIRE(key.writeNewFile(keyFile).has_value());
    // As `anteroom-admin device enroll` writes it, with db, key_file and hub_url edited.
    nt::writeFile(config, "db = \"" + storePath.string() + "\"\nkey_file = \"" + keyFile.string() +
                              "\"\nhub_url = \"https://127.0.0.1:" + std::to_string(hub.port()) + "\"\nca = \"" +
                              pki.caCert().string() + "\"\ncert = \"" + deviceCert.cert.string() + "\"\nkey = \"" +
                              deviceCert.key.string() + "\"\npins = [\"" + pinOf(pki.dir() / "hub.key") + "\"]\n");
  }

  RunResult once() { return runSyncd({"--config", config.string(), "--once"}, dir / "once.err"); }

  store::Store open() { return test::openStore(storePath, key); }

  std::string centralValue(const std::string& sql) {
    pqxx::connection c(db.superDsn());
    pqxx::work tx(c);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].c_str();
  }
};

std::string stateOf(store::Store& s, std::string_view key) { return s.syncValue(key).value_or(std::nullopt).value_or(""); }

}  // namespace

TEST_CASE("syncd --once fills a new device's empty store from central, then pushes a walk-in and a check-in") {
  PracticeWorld p;
  REQUIRE(fs::exists(p.pki.dir() / "hub.key"));

  auto first = p.once();
  INFO(first.err);
  REQUIRE(first.exitCode == 0);
  CHECK(first.err.find("<6>anteroom-syncd: synced: pushed 0, acknowledged 0, refused 0, received ") != std::string::npos);
  MESSAGE("first sync: " << first.err);
  {
    auto s = p.open();
    auto practice = s.practice();
    REQUIRE(practice.has_value());
    REQUIRE(practice->has_value());
    CHECK((*practice)->practiceId == p.seeded.practice);
    auto appointment = s.get<Appointment>(p.seeded.appointment);
    REQUIRE(appointment.has_value());
    REQUIRE(appointment->has_value());
    CHECK((*appointment)->status == AppointmentStatus::Scheduled);
    auto patient = s.get<Patient>(p.seeded.patient);
    REQUIRE(patient.has_value());
    REQUIRE(patient->has_value());
    CHECK((*patient)->lastName == "Testwell");  // decrypted centrally, stored encrypted at rest here
    CHECK_FALSE(stateOf(s, "pull_cursor").empty());
    CHECK_FALSE(stateOf(s, "last_success_at").empty());
    CHECK(stateOf(s, "last_error").empty());
  }
  // No PHI in the daemon's output.
  CHECK(first.err.find("Testwell") == std::string::npos);
  CHECK(first.err.find("Avery") == std::string::npos);

  // On the kiosk: a walk-in registers, and the seeded patient checks in.
  test::SampleData data("Newcomerby");
  data.patient.email = "ottilie." + p.seeded.practice.toString().substr(24) + "@patients.example";
  {
    auto s = p.open();
    REQUIRE(s.insert(data.patient, store::Actor::kiosk()).has_value());
    REQUIRE(s.checkIn(p.seeded.appointment, store::Actor::kiosk(), nowUtc()).has_value());
    CHECK(s.pendingOutboxCount().value_or(0) >= 2);
  }
  auto second = p.once();
  INFO(second.err);
  REQUIRE(second.exitCode == 0);
  MESSAGE("second sync: " << second.err);
  {
    auto s = p.open();
    CHECK(s.pendingOutboxCount().value_or(-1) == 0);
    auto conflicts = s.openConflicts(10);
    REQUIRE(conflicts.has_value());
    CHECK(conflicts->empty());
  }
  CHECK(p.centralValue("SELECT count(*) FROM patient WHERE patient_id = '" + data.patient.patientId.toString() + "'") == "1");
  CHECK(p.centralValue("SELECT status FROM appointment WHERE appointment_id = '" + p.seeded.appointment.toString() + "'") ==
        "checked_in");
  CHECK(second.err.find("Newcomerby") == std::string::npos);

  // A third run has nothing to do and still succeeds.
  auto third = p.once();
  CHECK(third.exitCode == 0);
  CHECK(third.err == "<6>anteroom-syncd: synced: pushed 0, acknowledged 0, refused 0, received 0 changes in 1 pages\n");

  // Revoked centrally: the next run fails in plain words, and the status says so for staff.
  p.db.revokeDevice(p.device);
  auto revoked = p.once();
  CHECK(revoked.exitCode == 1);
  CHECK_MESSAGE(revoked.err.find("<3>anteroom-syncd: sync failed: hub.revoked_device: the hub refuses this device") == 0,
                revoked.err);
  {
    auto s = p.open();
    CHECK(stateOf(s, "last_error_code") == "hub.revoked_device");
    CHECK(stateOf(s, "last_error").find("revoked") != std::string::npos);
  }
}

TEST_CASE("the daemon sends READY=1, pushes a local write within a second while long-polling, and stops on SIGTERM") {
  PracticeWorld p;
  // The notify socket systemd would give it.
  const fs::path notifyPath = p.dir / "notify.sock";
  const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(sock >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notifyPath.c_str());
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{10, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  Daemon daemon({"--config", p.config.string()}, {"NOTIFY_SOCKET=" + notifyPath.string(), "WATCHDOG_USEC=2000000"},
                p.dir / "syncd.log");
  REQUIRE(daemon.started());
  char buffer[64] = {};
  const ssize_t n = ::recv(sock, buffer, sizeof buffer - 1, 0);
  REQUIRE(n > 0);
  CHECK(std::string(buffer, static_cast<std::size_t>(n)) == "READY=1");

  // Wait for the first sync to land, then for the daemon to park in its long-poll.
  auto synced = [&] {
    auto s = p.open();
    return !stateOf(s, "last_success_at").empty();
  };
  for (int i = 0; i < 100 && !synced(); ++i) std::this_thread::sleep_for(100ms);
  REQUIRE(synced());
  std::this_thread::sleep_for(1s);

  {
    auto s = p.open();
    CHECK_FALSE(stateOf(s, "daemon_heartbeat_at").empty());
    CHECK(stateOf(s, "last_error").empty());
  }
  // Parked in its long-poll, the watcher polling data_version every 20 ms: next to no CPU.
  const long before = daemon.cpuTicks();
  std::this_thread::sleep_for(3s);
  const long used = daemon.cpuTicks() - before;
  const double percent = 100.0 * static_cast<double>(used) / static_cast<double>(::sysconf(_SC_CLK_TCK)) / 3.0;
  MESSAGE("parked daemon CPU: " << percent << " % of a core over 3 s");
  CHECK(percent < 5.0);
  // The watchdog pings at half of WATCHDOG_USEC while the daemon is alive (parked included).
  const ssize_t ping = ::recv(sock, buffer, sizeof buffer - 1, 0);
  REQUIRE(ping > 0);
  CHECK(std::string(buffer, static_cast<std::size_t>(ping)) == "WATCHDOG=1");

  test::SampleData data("Walkinsworth");
  data.patient.email = "walkin." + p.seeded.practice.toString().substr(24) + "@patients.example";
  const auto wrote = std::chrono::steady_clock::now();
  {
    auto s = p.open();
    REQUIRE(s.insert(data.patient, store::Actor::kiosk()).has_value());
  }
  std::string count;
  while (std::chrono::steady_clock::now() - wrote < 5s) {
    count = p.centralValue("SELECT count(*) FROM patient WHERE patient_id = '" + data.patient.patientId.toString() + "'");
    if (count == "1") break;
    std::this_thread::sleep_for(20ms);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wrote);
  CHECK(count == "1");
  CHECK(took < 1500ms);
  MESSAGE("local write on the kiosk -> central: " << took.count() << " ms (daemon parked in a 25 s long-poll)");

  const auto asked = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  auto code = daemon.wait(10s);
  const auto stopTook = std::chrono::steady_clock::now() - asked;
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(stopTook < 2s);
  const std::string log = daemon.output();
  CHECK(log.find("<6>anteroom-syncd: stopped") != std::string::npos);
  CHECK(log.find("Walkinsworth") == std::string::npos);
  ::close(sock);
}
