// The hub server tests' world: a throw-away PostgreSQL with the central schema, a practice
// with enrolled devices, certificates made with the openssl CLI, the real anteroom-hub process
// on a free port, and a libcurl client that talks to it the way the daemon does.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "anteroom/model/uuid.hpp"
#include "pg_fixture.hpp"

namespace anteroom::nettest {

inline constexpr const char* kPiiKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
inline constexpr const char* kHashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// Runs a shell command; its exit status (output appended to `log`).
int shell(const std::string& command);
// Writes a file with the given mode.
void writeFile(const std::filesystem::path& path, const std::string& text, unsigned mode = 0600);
std::string readFile(const std::filesystem::path& path);

// A certificate and key in PEM files, with the certificate's sha256 (DER) fingerprint.
struct CertPair {
  std::filesystem::path cert, key;
  std::string fingerprint;
};

// The practice CA, the hub's certificate and device certificates, made with the openssl CLI
// (swap for `anteroom-admin ca init` / `device enroll` once provisioning has them).
class TestPki {
 public:
  explicit TestPki(std::filesystem::path dir);
  [[nodiscard]] const std::filesystem::path& caCert() const { return m_caCert; }
  [[nodiscard]] const CertPair& hub() const { return m_hub; }
  // A device certificate signed by this CA (`name` is its file stem and CN).
  CertPair device(const std::string& name);
  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

 private:
  std::filesystem::path m_dir, m_caCert, m_caKey;
  CertPair m_hub;
};

std::string fingerprintOf(const std::filesystem::path& certPem);

// PostgreSQL with the central schema, migrated by anteroom-admin's runner.
class CentralDb {
 public:
  CentralDb();
  ~CentralDb();
  [[nodiscard]] std::string superDsn() const;
  [[nodiscard]] std::string hubDsn() const;
  testing::TempPostgres& pg() { return *m_pg; }
  // One practice with a provider, a waitlist, a patient and an appointment an hour from now.
  struct Practice {
    Uuid practice, provider, waitlist, patient, appointment;
  };
  Practice seedPractice();
  Uuid enrollDevice(const Uuid& practice, const std::string& fingerprint);
  void revokeDevice(const Uuid& device);
  // A central edit as another system would make it (the change log and NOTIFY follow).
  void touchProvider(const Uuid& practice, const Uuid& provider);
  void exec(const std::string& sql);

 private:
  std::unique_ptr<testing::TempPostgres> m_pg;
  std::string m_db = "anteroom_net";
};

// The real anteroom-hub on 127.0.0.1, port 0; stderr goes to a file the test reads.
class HubProcess {
 public:
  // Starts the hub with `configText` (a TOML file written to `dir`) and waits for its
  // "listening on" line. Extra flags go after --config.
  HubProcess(const std::filesystem::path& dir, const std::string& configText, std::vector<std::string> flags = {});
  ~HubProcess();
  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] pid_t pid() const { return m_pid; }
  [[nodiscard]] std::string log() const;
  [[nodiscard]] bool running();
  // VmRSS in kB.
  [[nodiscard]] long rssKb() const;
  // SIGTERM, then SIGKILL after 5 s; the exit code (-1 when killed or already gone).
  int stop();

 private:
  std::filesystem::path m_logPath;
  pid_t m_pid = -1;
  int m_port = 0;
};

// Runs the hub to completion (a config that must fail): exit code and stderr.
struct ExitResult {
  int code = -1;
  std::string stderrText;
};
ExitResult runHubToExit(const std::vector<std::string>& args, const std::filesystem::path& dir);

// The TOML configuration for a hub of these certificates and this database.
std::string hubConfig(const TestPki& pki, const std::string& dsn, const std::filesystem::path& dir);

// One HTTPS client connection (a CURL easy handle reuses its connection).
struct Response {
  int curlCode = 0;  // CURLE_OK = 0
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  double seconds = 0;
};
class Client {
 public:
  // `cert` may be null: no client certificate.
  Client(int port, const std::filesystem::path& ca, const CertPair* cert);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  void setTimeoutSeconds(long seconds);
  Response get(const std::string& path, std::vector<std::string> headers = {"Anteroom-Schema-Version: 2"});
  Response post(const std::string& path, const std::string& body,
                std::vector<std::string> headers = {"Anteroom-Schema-Version: 2"});

 private:
  Response perform(const std::string& path, const std::string* body, const std::vector<std::string>& headers);
  void* m_curl = nullptr;
  int m_port;
};

std::string gzipText(const std::string& plain);

}  // namespace anteroom::nettest
