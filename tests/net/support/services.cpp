// HAProxy and PgBouncer for the end-to-end tests (see services.hpp).
#include "support/services.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace anteroom::nettest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

HaProxy::HaProxy(const fs::path& dir, const std::vector<int>& hubPorts, const std::string& balance) {
  m_port = freeLoopbackPort();
  std::string cfg =
      "global\n  maxconn 8192\n"
      "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n"
      "  retries 3\n  option redispatch\n"
      // TLS passthrough: HAProxy never terminates TLS, so mutual TLS stays end to end.
      "frontend hubs\n  bind 127.0.0.1:" + std::to_string(m_port) + "\n  default_backend hubs\n"
      "backend hubs\n  balance " + balance + "\n";
  for (std::size_t i = 0; i < hubPorts.size(); ++i) {
    cfg += "  server hub" + std::to_string(i + 1) + " 127.0.0.1:" + std::to_string(hubPorts[i]) +
           " maxconn 1000 check inter 300ms fall 1 rise 2\n";
  }
  const fs::path path = dir / "haproxy.cfg";
  writeFile(path, cfg, 0600);
  m_process = Process::spawn({{"haproxy", "-db", "-f", path.string()}, {}, dir / "haproxy.log", {}, {}});
  REQUIRE_MESSAGE(m_process.started(), m_process.error());
  const bool up = [&] {
    for (int i = 0; i < 500; ++i) {
      if (accepts(m_port)) return true;
      if (!m_process.running()) return false;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }();
  REQUIRE_MESSAGE(up, "haproxy did not start:\n" << m_process.output());
}

PgBouncer::PgBouncer(const fs::path& pgDir, int pgPort, const std::string& database, const std::vector<std::string>& users) {
  m_port = freeLoopbackPort();
  const fs::path dir = pgDir / "pgbouncer";
  fs::create_directories(dir);
  const bool root = ::geteuid() == 0;
  const passwd* pw = root ? ::getpwnam("postgres") : nullptr;
  if (root) REQUIRE_MESSAGE(pw != nullptr, "no postgres user to run pgbouncer as");
  std::string userlist;
  for (const auto& u : users) userlist += "\"" + u + "\" \"\"\n";
  writeFile(dir / "userlist.txt", userlist, 0600);
  const std::string ini =
      "[databases]\n" + database + " = host=127.0.0.1 port=" + std::to_string(pgPort) + " dbname=" + database +
      "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " + std::to_string(m_port) +
      "\nunix_socket_dir =\nauth_type = trust\nauth_file = " + (dir / "userlist.txt").string() +
      "\npool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
      "ignore_startup_parameters = extra_float_digits,options\nadmin_users = postgres\n"
      // The hub's practice setting is per transaction (set_config(..., true)), which is what
      // transaction pooling allows; its LISTEN goes straight to PostgreSQL (listen_dsn).
      "server_reset_query =\n";
  writeFile(dir / "pgbouncer.ini", ini, 0600);
  for (const auto& f : {dir, dir / "userlist.txt", dir / "pgbouncer.ini"}) {
    if (root) REQUIRE(::chown(f.c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  SpawnOptions o{{"pgbouncer", (dir / "pgbouncer.ini").string()}, {}, pgDir / "pgbouncer.log", {}, {}};
  if (root) o.user = "postgres";
  m_process = Process::spawn(o);
  REQUIRE_MESSAGE(m_process.started(), m_process.error());
  const bool up = [&] {
    for (int i = 0; i < 500; ++i) {
      if (accepts(m_port)) return true;
      if (!m_process.running()) return false;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }();
  REQUIRE_MESSAGE(up, "pgbouncer did not start:\n" << m_process.output());
}

std::string PgBouncer::dsn(const std::string& database, const std::string& user) const {
  return "host=127.0.0.1 port=" + std::to_string(m_port) + " dbname=" + database + " user=" + user + " connect_timeout=10";
}

}  // namespace anteroom::nettest
