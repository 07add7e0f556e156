// The hub core through PgBouncer 1.18 in transaction pooling mode (what the end-to-end tests
// put in front of PostgreSQL): with HubOptions::preparedStatements = false a push and a pull
// work from two hubs sharing one server connection; with prepared statements they collide, which
// shows the pool really is shared and the option is what makes the difference.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "anteroom/model/row_json.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central.hpp"

using namespace anteroom;
using namespace anteroom::sync;
using namespace std::chrono;

namespace {

const char* kPgBouncer = "/usr/sbin/pgbouncer";
const Instant kNow = Instant{sys_days{2026y / March / 2}} + hours{15};

UuidGenerator& ids() {
  static UuidGenerator g(7171);
  return g;
}
Uuid newId() { return ids().v7(system_clock::now()); }

// "key=value" out of a libpq DSN of space-separated pairs (the test fixture's own DSNs).
std::string dsnValue(const std::string& dsn, const std::string& key) {
  const std::string mark = key + "=";
  for (std::size_t at = 0; at < dsn.size();) {
    const std::size_t end = std::min(dsn.find(' ', at), dsn.size());
    if (dsn.compare(at, mark.size(), mark) == 0) return dsn.substr(at + mark.size(), end - at - mark.size());
    at = end + 1;
  }
  return {};
}

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// A PgBouncer on 127.0.0.1 in front of the test PostgreSQL: transaction pooling, one server
// connection per (database, user), trust (the server behind it trusts its Unix socket).
class PgBouncer {
 public:
  explicit PgBouncer(const std::string& superDsn) {
    m_dir = std::filesystem::temp_directory_path() / ("anteroom-pgbouncer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(m_dir);
    m_port = freePort();
    const std::string db = dsnValue(superDsn, "dbname");
    m_db = db;
    std::ofstream(m_dir / "users.txt") << "\"anteroom_hub\" \"\"\n";
    std::ofstream(m_dir / "pgbouncer.ini")
        << "[databases]\n"
        << db << " = host=" << dsnValue(superDsn, "host") << " port=" << dsnValue(superDsn, "port") << " dbname=" << db
        << "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << m_port << "\nunix_socket_dir =\n"
        << "auth_type = trust\nauth_file = " << (m_dir / "users.txt").string() << "\npool_mode = transaction\n"
        << "default_pool_size = 1\nmin_pool_size = 0\nmax_client_conn = 20\n"
        << "ignore_startup_parameters = extra_float_digits,options\n"
        << "logfile = " << (m_dir / "pgbouncer.log").string() << "\n";
    const bool root = ::geteuid() == 0;
    if (root) {
      // PgBouncer refuses to run as root; -u hands it to the postgres user, who must read its files.
      if (const passwd* pw = ::getpwnam("postgres")) {
        for (const auto& f : std::filesystem::recursive_directory_iterator(m_dir))
          (void)::chown(f.path().c_str(), pw->pw_uid, pw->pw_gid);
        (void)::chown(m_dir.c_str(), pw->pw_uid, pw->pw_gid);
      }
    }
    const std::string ini = (m_dir / "pgbouncer.ini").string();
    m_pid = ::fork();
    if (m_pid == 0) {
      if (root) ::execl(kPgBouncer, "pgbouncer", "-q", "-u", "postgres", ini.c_str(), static_cast<char*>(nullptr));
      else ::execl(kPgBouncer, "pgbouncer", "-q", ini.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !ready(); ++i) std::this_thread::sleep_for(milliseconds(100));
  }
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;
  ~PgBouncer() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  [[nodiscard]] std::string hubDsn() const {
    return "host=127.0.0.1 port=" + std::to_string(m_port) + " dbname=" + m_db + " user=anteroom_hub connect_timeout=5";
  }
  [[nodiscard]] bool ready() const {
    try {
      pqxx::connection c(hubDsn());
      pqxx::work tx(c);
      tx.exec("SELECT 1");
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  [[nodiscard]] std::string log() const {
    std::ifstream in(m_dir / "pgbouncer.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::filesystem::path m_dir;
  std::string m_db;
  int m_port = 0;
  pid_t m_pid = -1;
};

struct BouncerPractice {
  Uuid practice = newId(), provider = newId(), device = newId(), device2 = newId();
};

BouncerPractice seed(const std::string& superDsn) {
  BouncerPractice p;
  const std::string tag = p.practice.toString().substr(24);
  pqxx::connection c(superDsn);
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
  tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, 'Invented',"
                 " '{}', '+15415550100', $2, '{}')",
                 p.practice.toString(), "desk." + tag + "@practice.example");
  tx.exec_params("INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
                 " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', 'Testcase', $3, '[]', '[]',"
                 " '{}', 3, false)",
                 p.provider.toString(), p.practice.toString(), "robin." + tag + "@practice.example");
  for (const Uuid& d : {p.device, p.device2})
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'kiosk',"
                   " md5($1::text) || md5($2::text))",
                   d.toString(), p.practice.toString());
  tx.commit();
  return p;
}

PushRequest arrival(const Uuid& provider, std::int64_t seq, Uuid& id) {
  Notification n;
  n.notificationId = id = newId();
  n.recipientId = provider;
  n.recipientType = RecipientType::Provider;
  n.type = NotificationType::PatientArrived;
  n.content.templateKey = "patient_arrived";
  n.createdAt = kNow;
  n.updatedAt = kNow;
  Mutation m;
  m.mutationId = newId();
  m.deviceSeq = seq;
  m.entity = "notification";
  m.id = n.notificationId;
  m.kind = MutationKind::Insert;
  m.changes = toRowJson(n);
  m.hlc = "0001772463600000-0000000000-kiosk";
  PushRequest req;
  req.mutations.push_back(std::move(m));
  return req;
}

std::unique_ptr<HubCore> hubThrough(const PgBouncer& bouncer, bool prepared) {
  HubOptions o{bouncer.hubDsn(), sim::kPiiKey, sim::kHashKey, {}, [] { return kNow; }, 100};
  o.preparedStatements = prepared;
  auto h = HubCore::connect(std::move(o));
  if (!h) FAIL(h.error().message);
  return std::move(*h);
}

bool pulled(const PullResponse& page, const Uuid& id) {
  for (const auto& c : page.changes)
    if (c.id == id && c.op == ChangeOp::Upsert) return true;
  return false;
}

}  // namespace

TEST_CASE("the hub core pushes and pulls through PgBouncer in transaction pooling mode without prepared statements") {
  if (::access(kPgBouncer, X_OK) != 0) FAIL("PgBouncer is not installed at " << kPgBouncer << " (scripts/deps)");
  auto started = sim::Central::start();
  if (!started) FAIL("PostgreSQL for the hub tests: " << started.error().message);
  const sim::Central& central = **started;
  PgBouncer bouncer(central.superDsn());
  REQUIRE_MESSAGE(bouncer.ready(), "PgBouncer did not start: " << bouncer.log());
  const BouncerPractice p = seed(central.superDsn());

  // Two hubs, one server connection: every transaction of either may land on it.
  auto a = hubThrough(bouncer, false);
  auto b = hubThrough(bouncer, false);
  Uuid first, second;
  for (int round = 0; round < 3; ++round) {  // more than once: statements are sent again, not remembered
    auto pa = a->applyPush({p.device, p.practice}, arrival(p.provider, round + 1, first));
    REQUIRE_MESSAGE(pa.has_value(), pa.error().message);
    REQUIRE(pa->results.size() == 1);
    CHECK(pa->results[0].status == ResultStatus::Applied);
    CHECK(pa->results[0].row.has_value());
    auto pb = b->applyPush({p.device2, p.practice}, arrival(p.provider, round + 1, second));
    REQUIRE_MESSAGE(pb.has_value(), pb.error().message);
    CHECK(pb->results[0].status == ResultStatus::Applied);
  }
  auto pageA = a->pull({p.device, p.practice}, PullRequest{});
  REQUIRE_MESSAGE(pageA.has_value(), pageA.error().message);
  CHECK(pulled(*pageA, first));
  CHECK(pulled(*pageA, second));
  // A later page from the cursor: the change log path, through the other hub.
  PullRequest after;
  after.after = pageA->cursor;
  auto pageB = b->pull({p.device2, p.practice}, after);
  REQUIRE_MESSAGE(pageB.has_value(), pageB.error().message);
  CHECK(pageB->changes.empty());
  {
    pqxx::connection c(central.superDsn());
    pqxx::work tx(c);
    const auto notifications =
        tx.exec_params("SELECT count(*) FROM notification WHERE recipient_id = $1::uuid", p.provider.toString());
    CHECK(notifications[0][0].as<int>() == 6);
    const auto records =
        tx.exec_params("SELECT count(*) FROM idempotency_record WHERE practice_id = $1::uuid", p.practice.toString());
    CHECK(records[0][0].as<int>() == 6);
  }

  // The control: named prepared statements of two hubs collide on the one shared server
  // connection (statement "q1" of one already exists for the other), so the second hub's push
  // does not get through. This is why the option exists.
  const BouncerPractice q = seed(central.superDsn());
  auto c1 = hubThrough(bouncer, true);
  auto c2 = hubThrough(bouncer, true);
  Uuid ignored;
  auto ok = c1->applyPush({q.device, q.practice}, arrival(q.provider, 1, ignored));
  REQUIRE(ok.has_value());
  CHECK(ok->results[0].status == ResultStatus::Applied);
  auto clash = c2->applyPush({q.device2, q.practice}, arrival(q.provider, 1, ignored));
  CHECK((!clash.has_value() || clash->results[0].status != ResultStatus::Applied));
}
