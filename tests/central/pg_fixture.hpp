// A throw-away PostgreSQL 15 for the central tests and benchmark: initdb into a temp dir, start
// on a free loopback port with pgaudit loaded, stop and delete everything when destroyed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::testing {

// Path of a PostgreSQL 15 server program ("initdb", "pg_ctl", ...).
std::filesystem::path pgBin(std::string_view program);
// initdb, pg_ctl, postgres, the pgaudit library and (as root) the postgres user are present.
bool postgresAvailable();
// pgbackrest is installed (the point-in-time restore test needs it).
bool pgbackrestAvailable();

struct PgOptions {
  // archive_mode=on with pgbackrest archive-push into a repository in the temp dir.
  bool pgbackrestArchive = false;
  std::vector<std::string> extraConf;  // more postgresql.conf lines
};

class TempPostgres {
 public:
  static Result<std::unique_ptr<TempPostgres>> start(const PgOptions& options = {});
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;
  ~TempPostgres();  // stops the server(s) and removes the temp dir, also after a failed test

  // libpq DSN over the Unix socket in the temp dir (trust authentication, no password).
  [[nodiscard]] std::string dsn(std::string_view database = "postgres", std::string_view user = "postgres") const;
  // The same over TCP on 127.0.0.1.
  [[nodiscard]] std::string tcpDsn(std::string_view database = "postgres", std::string_view user = "postgres") const;
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return m_dir; }
  [[nodiscard]] const std::filesystem::path& dataDir() const noexcept { return m_dataDir; }
  [[nodiscard]] std::filesystem::path logPath() const { return m_dir / "postgresql.log"; }
  [[nodiscard]] std::filesystem::path pgbackrestConf() const { return m_dir / "pgbackrest.conf"; }
  [[nodiscard]] int port() const noexcept { return m_port; }
  // The server log so far (pgaudit writes its AUDIT lines there too).
  [[nodiscard]] std::string readLog() const;

  // Runs a program as the postgres user (directly when not root), output appended to `logFile`.
  Result<void> runAsPostgres(const std::vector<std::string>& argv, const std::filesystem::path& logFile) const;
  // Stops the running server; start(dataDir) brings up another data dir (e.g. a restored one)
  // on the same port and socket.
  Result<void> stop();
  Result<void> startDataDir(const std::filesystem::path& dataDir);

 private:
  TempPostgres() = default;
  Result<void> writePgbackrestConf() const;
  std::filesystem::path m_dir;
  std::filesystem::path m_dataDir;
  int m_port = 0;
  bool m_running = false;
};

}  // namespace anteroom::testing
