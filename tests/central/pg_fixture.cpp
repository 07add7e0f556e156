// Starts and stops a private PostgreSQL 15 cluster for one test program (see pg_fixture.hpp).
// Root cannot run initdb or pg_ctl, so as root every server program runs through runuser.
#include "pg_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace anteroom::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPgBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kPgLibDir = "/usr/lib/postgresql/15/lib";
constexpr const char* kDirPrefix = "anteroom-pg-";

std::unexpected<Error> ioFail(std::string message) {
  return fail(ErrorDomain::Io, "test.postgres", std::move(message));
}

bool isRoot() { return geteuid() == 0; }

const char* runuserPath() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

// A port the kernel just handed out on 127.0.0.1; free again once the socket closes.
int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Runs argv (as postgres when we are root) with output appended to logFile; returns the exit code.
int runProgram(const std::vector<std::string>& argv, const fs::path& logFile) {
  std::vector<std::string> full;
  if (isRoot()) {
    const char* runuser = runuserPath();
    if (!runuser) return 127;
    full = {runuser, "-u", "postgres", "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (auto& a : full) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    const int out = open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    if (in >= 0) dup2(in, STDIN_FILENO);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void stopDataDir(const fs::path& dataDir, const fs::path& logFile, const char* mode) {
  if (fs::exists(dataDir / "postmaster.pid")) {
    runProgram({pgBin("pg_ctl").string(), "-D", dataDir.string(), "-m", mode, "-w", "-t", "30", "stop"}, logFile);
  }
}

// A test that died (SIGKILL, abort under a sanitizer) leaves its cluster running. Stop and remove
// those whose owning test process is gone, so they do not pile up on a CI machine.
void reapStaleClusters() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kDirPrefix)) continue;
    std::ifstream owner(entry.path() / "owner.pid");
    long pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    for (const auto& sub : fs::directory_iterator(entry.path(), ec)) {
      if (fs::exists(sub.path() / "PG_VERSION")) stopDataDir(sub.path(), "/dev/null", "immediate");
    }
    fs::remove_all(entry.path(), ec);
  }
}

std::string randomHex(std::size_t bytes) {
  std::random_device rd;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xffU;
    out += kHex[b >> 4U];
    out += kHex[b & 0xfU];
  }
  return out;
}

}  // namespace

fs::path pgBin(std::string_view program) { return fs::path(kPgBinDir) / program; }

bool postgresAvailable() {
  for (const char* p : {"initdb", "pg_ctl", "postgres"}) {
    if (access(pgBin(p).c_str(), X_OK) != 0) return false;
  }
  if (!fs::exists(fs::path(kPgLibDir) / "pgaudit.so")) return false;
  if (isRoot() && (getpwnam("postgres") == nullptr || runuserPath() == nullptr)) return false;
  return true;
}

bool pgbackrestAvailable() { return access("/usr/bin/pgbackrest", X_OK) == 0; }

Result<std::unique_ptr<TempPostgres>> TempPostgres::start(const PgOptions& options) {
  if (!postgresAvailable()) return ioFail("PostgreSQL 15 with pgaudit is not installed (run scripts/deps)");
  reapStaleClusters();

  std::string pattern = (fs::temp_directory_path() / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return ioFail("cannot create a temp dir for PostgreSQL");
  std::unique_ptr<TempPostgres> pg(new TempPostgres());
  pg->m_dir = pattern;
  pg->m_dataDir = pg->m_dir / "data";
  {
    std::ofstream owner(pg->m_dir / "owner.pid");
    owner << getpid() << '\n';
  }
  if (isRoot()) {
    const passwd* pw = getpwnam("postgres");
    if (chown(pg->m_dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return ioFail("cannot hand the temp dir to postgres");
  }
  chmod(pg->m_dir.c_str(), 0700);

  const fs::path cmdLog = pg->m_dir / "commands.log";
  // --no-sync: a test cluster does not need to survive a power cut.
  if (runProgram({pgBin("initdb").string(), "-D", pg->m_dataDir.string(), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C"},
                 cmdLog) != 0) {
    return ioFail("initdb failed; see " + cmdLog.string());
  }

  for (int attempt = 0; attempt < 3; ++attempt) {
    pg->m_port = freeLoopbackPort();
    if (pg->m_port == 0) return ioFail("no free loopback port");
    std::ofstream conf(pg->m_dataDir / "postgresql.auto.conf", std::ios::trunc);
    conf << "listen_addresses = '127.0.0.1'\n"
         << "port = " << pg->m_port << "\n"
         << "unix_socket_directories = '" << pg->m_dir.string() << "'\n"
         // The production settings that matter to the tests (migrations/central/README.md).
         << "shared_preload_libraries = 'pgaudit'\n"
         << "pgaudit.log = 'read, write, ddl, role'\n"
         << "pgaudit.log_parameter = off\n"
         << "pgaudit.log_catalog = off\n"
         << "log_error_verbosity = terse\n"
         << "log_min_messages = log\n"
         << "log_parameter_max_length = 0\n"
         << "log_parameter_max_length_on_error = 0\n"
         << "log_line_prefix = '%m [%p] %u@%d '\n"
         << "timezone = 'UTC'\n"
         << "max_connections = 30\n"
         << "shared_buffers = '64MB'\n"
         // Speed over durability: the cluster lives for one test run.
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
    if (options.pgbackrestArchive) {
      conf << "wal_level = replica\narchive_mode = on\n"
           << "archive_command = 'pgbackrest --config=" << pg->pgbackrestConf().string()
           << " --stanza=anteroom archive-push %p'\n";
    }
    for (const auto& line : options.extraConf) conf << line << '\n';
    conf.close();
    if (options.pgbackrestArchive) {
      if (auto written = pg->writePgbackrestConf(); !written) return std::unexpected(written.error());
    }
    if (auto started = pg->startDataDir(pg->m_dataDir)) return pg;
  }
  return ioFail("PostgreSQL did not start; see " + pg->logPath().string());
}

Result<void> TempPostgres::writePgbackrestConf() const {
  // pgBackRest does not create its log directory; it runs as postgres, so postgres owns it.
  const fs::path logDir = m_dir / "pgbackrest-log";
  std::error_code ec;
  fs::create_directories(logDir, ec);
  if (isRoot()) {
    const passwd* pw = getpwnam("postgres");
    if (chown(logDir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return ioFail("cannot hand the pgBackRest log dir to postgres");
  }
  std::ofstream conf(pgbackrestConf(), std::ios::trunc);
  conf << "[global]\n"
       << "repo1-path=" << (m_dir / "repo").string() << "\n"
       << "repo1-cipher-type=aes-256-cbc\n"
       << "repo1-cipher-pass=" << randomHex(32) << "\n"
       << "repo1-retention-full=2\n"
       << "log-path=" << logDir.string() << "\n"
       << "lock-path=" << (m_dir / "pgbackrest-lock").string() << "\n"
       << "spool-path=" << (m_dir / "pgbackrest-spool").string() << "\n"
       << "log-level-console=warn\nlog-level-file=info\nstart-fast=y\ncompress-level=1\n\n"
       << "[anteroom]\n"
       << "pg1-path=" << m_dataDir.string() << "\n"
       << "pg1-port=" << m_port << "\n"
       << "pg1-socket-path=" << m_dir.string() << "\n";
  if (!conf) return ioFail("cannot write " + pgbackrestConf().string());
  return {};
}

Result<void> TempPostgres::startDataDir(const fs::path& dataDir) {
  if (m_running) return ioFail("a server is already running in " + m_dir.string());
  if (runProgram({pgBin("pg_ctl").string(), "-D", dataDir.string(), "-l", logPath().string(), "-w", "-t", "120",
                  "start"},
                 m_dir / "commands.log") != 0) {
    return ioFail("pg_ctl start failed; see " + logPath().string());
  }
  m_dataDir = dataDir;
  m_running = true;
  return {};
}

Result<void> TempPostgres::stop() {
  if (!m_running) return {};
  m_running = false;
  if (runProgram({pgBin("pg_ctl").string(), "-D", m_dataDir.string(), "-m", "fast", "-w", "-t", "60", "stop"},
                 m_dir / "commands.log") != 0) {
    return ioFail("pg_ctl stop failed; see " + (m_dir / "commands.log").string());
  }
  return {};
}

TempPostgres::~TempPostgres() {
  if (m_running && !stop()) stopDataDir(m_dataDir, "/dev/null", "immediate");
  if (std::getenv("ANTEROOM_KEEP_PG") == nullptr) {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
}

std::string TempPostgres::dsn(std::string_view database, std::string_view user) const {
  return "host=" + m_dir.string() + " port=" + std::to_string(m_port) + " dbname=" + std::string(database) +
         " user=" + std::string(user) + " connect_timeout=10";
}

std::string TempPostgres::tcpDsn(std::string_view database, std::string_view user) const {
  return "host=127.0.0.1 port=" + std::to_string(m_port) + " dbname=" + std::string(database) +
         " user=" + std::string(user) + " connect_timeout=10";
}

std::string TempPostgres::readLog() const {
  std::ifstream in(logPath(), std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<void> TempPostgres::runAsPostgres(const std::vector<std::string>& argv, const fs::path& logFile) const {
  const int code = runProgram(argv, logFile);
  if (code != 0) {
    return ioFail(argv.front() + " exited with " + std::to_string(code) + "; see " + logFile.string());
  }
  return {};
}

}  // namespace anteroom::testing
