// Crash safety: a writer killed with SIGKILL at random moments never loses an acknowledged
// check-in, never leaves a domain row without its outbox row, and leaves a sound store.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <sstream>

#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawnWriter(const std::vector<std::string>& args) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

std::string drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

store::OpenOptions existing(const std::filesystem::path& path) {
  store::OpenOptions options;
  options.path = path;
  return options;
}

}  // namespace

TEST_CASE("SIGKILL during a loop of check-ins loses no acknowledged write") {
  TempDir dir;
  auto key = newKey();
  REQUIRE(key.writeNewFile(dir / "store.key").has_value());
  SampleData d;
  {
    auto s = openStore(dir / "store.db", key);
    d.applyAll(s);
  }
  const int kills = std::getenv("ANTEROOM_CRASH_KILLS") ? std::atoi(std::getenv("ANTEROOM_CRASH_KILLS")) : 50;
  std::mt19937 rng(20261125);
  std::map<std::string, std::string> acknowledged;  // appointment id -> last acknowledged state
  int killedMidRun = 0;

  for (int round = 0; round < kills; ++round) {
    Child child = spawnWriter({ANTEROOM_CRASH_WRITER, (dir / "store.db").string(), (dir / "store.key").string(),
                               d.provider.providerId.toString(), d.patient.patientId.toString()});
    // Long enough to get past opening most of the time, short enough to land mid-write.
    ::usleep(std::uniform_int_distribution<useconds_t>(20000, 120000)(rng));
    ::kill(child.pid, SIGKILL);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++killedMidRun;
    std::istringstream lines(drain(child.out));
    std::string state, id;
    while (lines >> state >> id) acknowledged[id] = state;

    auto s = store::Store::open(existing(dir / "store.db"), key);
    REQUIRE_MESSAGE(s.has_value(), "round " << round << ": " << (s ? "" : s.error().message));
    for (const auto& [appointmentId, last] : acknowledged) {
      auto a = s->get<Appointment>(*Uuid::parse(appointmentId));
      REQUIRE(a.has_value());
      REQUIRE_MESSAGE(a->has_value(), "acknowledged appointment lost in round " << round);
      if (last == "checked_in") CHECK((*a)->status == AppointmentStatus::CheckedIn);
    }
    REQUIRE(s->checkIntegrity().has_value());
  }
  CHECK(killedMidRun >= kills * 9 / 10);
  CHECK(acknowledged.size() > 10);

  // Every appointment in the store came with its outbox mutation(s): none without.
  auto s = store::Store::open(existing(dir / "store.db"), key);
  REQUIRE(s.has_value());
  auto outbox = s->pendingOutbox(1000000).value();
  std::map<std::string, int> mutations;
  for (const auto& m : outbox) {
    if (m.entity == "appointment") ++mutations[m.entityId];
  }
  auto all = s->appointmentsBetween(Instant{}, nowUtc() + std::chrono::days{2}).value();
  int local = 0;
  for (const auto& a : all) {
    if (a.appointmentId == d.appointment.appointmentId) continue;  // the server row
    ++local;
    const int expected = a.status == AppointmentStatus::CheckedIn ? 2 : 1;
    CHECK(mutations[a.appointmentId.toString()] == expected);
  }
  CHECK(local >= static_cast<int>(acknowledged.size()));
  MESSAGE("kills: " << kills << ", acknowledged appointments: " << acknowledged.size());
}
