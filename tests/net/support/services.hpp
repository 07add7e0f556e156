// The Debian services the end-to-end tests put in front of the hub and PostgreSQL: HAProxy
// (TLS passthrough, mode tcp) and PgBouncer (transaction pooling), each started from a
// generated config on 127.0.0.1 and stopped (its process group killed) by the destructor.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace anteroom::nettest {

class HaProxy {
 public:
  // Listens on a free port and balances over the hub ports, health-checking them every 300 ms.
  // `balance`: HAProxy's algorithm; "first" sends everything to the first hub that is up.
  HaProxy(const std::filesystem::path& dir, const std::vector<int>& hubPorts, const std::string& balance = "roundrobin");
  [[nodiscard]] int port() const { return m_port; }
  Process& process() { return m_process; }

 private:
  int m_port = 0;
  Process m_process;
};

class PgBouncer {
 public:
  // Pools `database` on the PostgreSQL at 127.0.0.1:`pgPort` in transaction mode; runs as the
  // postgres user (PgBouncer refuses root) from a folder inside `pgDir` (owned by postgres).
  PgBouncer(const std::filesystem::path& pgDir, int pgPort, const std::string& database,
            const std::vector<std::string>& users);
  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] std::string dsn(const std::string& database, const std::string& user) const;
  Process& process() { return m_process; }

 private:
  int m_port = 0;
  Process m_process;
};

}  // namespace anteroom::nettest
