// A whole practice on loopback for the end-to-end tests: a throw-away PostgreSQL with the
// central schema and a synthetic practice, the practice CA and enrolled devices (through
// anteroom-admin ca init / device enroll), hubs (build/bin/anteroom-hub), kiosk stores and
// their daemons (build/bin/anteroom-syncd), and the simulation's checker on the result.
// Helpers REQUIRE (doctest) what they need, so a broken set-up fails the test that asked.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/store/secret_key.hpp"
#include "anteroom/store/store.hpp"
#include "support/process.hpp"

namespace anteroom::testing {
class TempPostgres;
}

namespace anteroom::nettest {

// build/bin/<name>, or $ANTEROOM_BIN_DIR/<name>.
std::filesystem::path binary(std::string_view name);

// One synthetic practice as seeded centrally.
struct SeededPractice {
  Uuid id;
  Uuid waitlist;
  std::vector<Uuid> providers, patients, appointments, slots;
};

struct Enrolled {
  std::string name;
  Uuid deviceId;
  std::filesystem::path dir;  // device.crt, device.key, ca.crt, syncd.toml
};

struct Hub {
  Process process;
  int port = 0;
  std::filesystem::path config;
  std::string dsn;
};

struct HubSpec {
  std::string dsn;                           // empty: the hub role over the Unix socket
  int port = 0;                              // 0: the hub picks one and prints it
  std::map<std::string, std::string> extra;  // more TOML keys, values written as given
  std::chrono::seconds startTimeout{30};
};

struct Kiosk {
  std::string name;
  Enrolled device;
  std::filesystem::path storePath, keyPath;
  std::unique_ptr<store::SecretKey> key;
  std::unique_ptr<store::Store> store;  // the test's own connection (the kiosk's)
  std::set<std::string> mutationsMade;  // every outbox mutation id seen on this kiosk
  // Records the outbox's mutation ids now (call after each write, before a sync).
  void rememberOutbox();
};

struct DaemonSpec {
  int waitSeconds = 2;  // long-poll
  int connectTimeout = 2;
  int totalTimeout = 10;
  int lowSpeedTime = 3;
  std::map<std::string, std::string> extra;
};

class TestPractice {
 public:
  struct Options {
    int maxConnections = 150;
  };
  TestPractice();
  explicit TestPractice(Options options);
  ~TestPractice();
  TestPractice(const TestPractice&) = delete;
  TestPractice& operator=(const TestPractice&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir.path(); }
  testing::TempPostgres& pg() { return *m_pg; }
  [[nodiscard]] std::filesystem::path pgDir() const;  // the cluster's temp dir (owned by postgres)
  [[nodiscard]] int pgPort() const;
  [[nodiscard]] std::string superDsn() const;
  // The anteroom_hub role: over the Unix socket, or TCP on 127.0.0.1.
  [[nodiscard]] std::string hubDsn(bool tcp = false) const;
  [[nodiscard]] const std::string& database() const { return m_db; }

  // [SECTION] Central
  [[nodiscard]] const SeededPractice& practice() const { return m_practice; }
  // Another practice (e.g. B for the isolation tests), seeded the same way.
  SeededPractice seedPractice(std::string_view tag);
  // Runs SQL as superuser working for `practice` (app.practice_id), as another system would.
  void centralExec(const Uuid& practice, const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
  // A value as superuser ("" for NULL, nullopt for no row).
  std::optional<std::string> centralValue(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
  // Restarts PostgreSQL (fast shutdown, start again on the same port).
  void restartPostgres();
  void stopPostgres();
  void startPostgres();

  // [SECTION] Certificates (anteroom-admin)
  [[nodiscard]] const std::filesystem::path& caDir() const { return m_caDir; }
  [[nodiscard]] const std::string& hubPin() const { return m_hubPin; }
  [[nodiscard]] const std::string& backupPin() const { return m_backupPin; }
  Enrolled enroll(const std::string& name, const Uuid& practice);
  Enrolled enroll(const std::string& name) { return enroll(name, m_practice.id); }
  void revoke(const Uuid& deviceId);

  // [SECTION] Hubs
  Hub startHub(const HubSpec& spec = {});
  std::filesystem::path writeHubConfig(const HubSpec& spec, const std::string& name);
  // A hub started again with the same config file and port.
  void restartHub(Hub& hub);

  // [SECTION] Kiosks and daemons
  Kiosk& addKiosk(const std::string& name, const Uuid& practice);
  Kiosk& addKiosk(const std::string& name) { return addKiosk(name, m_practice.id); }
  std::vector<std::unique_ptr<Kiosk>>& kiosks() { return m_kiosks; }
  // syncd.toml from the enroll template, with db, key_file and hub_url filled in.
  std::filesystem::path writeSyncdConfig(const Kiosk& k, int hubPort, const DaemonSpec& spec = {});
  // anteroom-syncd --config F --once; killed after `timeout`.
  RunResult syncOnce(const Kiosk& k, int hubPort, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                     const DaemonSpec& spec = {});
  Process startDaemon(const Kiosk& k, int hubPort, const DaemonSpec& spec = {});
  // A sync_state value in a kiosk's store (read through the test's connection).
  std::optional<std::string> syncState(Kiosk& k, std::string_view key);

  // [SECTION] The checker
  // A new device enrolled and synced once through `hubPort` is the reference; every kiosk of
  // the main practice is compared with it and with central. Returns the failures.
  std::vector<std::string> check(int hubPort);

  // The synthetic person for a new walk-in (unique per call).
  int nextNumber() { return ++m_counter; }

 private:
  Options m_options;
  TempDir m_dir;
  std::unique_ptr<testing::TempPostgres> m_pg;
  std::string m_db = "anteroom_e2e";
  SeededPractice m_practice;
  std::filesystem::path m_caDir, m_piiKeyFile, m_hashKeyFile;
  std::string m_hubPin, m_backupPin;
  std::vector<std::unique_ptr<Kiosk>> m_kiosks;
  int m_counter = 0;
  int m_hubs = 0;
};

// [SECTION] Raw HTTPS requests (the curl program), for the security and bad-input tests
struct HttpAnswer {
  int status = 0;          // 0 when no HTTP answer came (TLS refused, connection reset)
  std::string body;
  std::string curlError;   // curl's stderr and exit code when it failed
  // The "code" of an ErrorBody ("" when the body is not one).
  [[nodiscard]] std::string errorCode() const;
};
struct HttpRequest {
  std::string method = "GET";
  std::string path = "/v1/health";
  std::optional<std::filesystem::path> bodyFile;
  std::vector<std::string> headers;  // "Name: value"
  const Enrolled* device = nullptr;  // the client certificate; nullptr = none
  bool schemaHeader = true;          // Anteroom-Schema-Version: current
  std::vector<std::string> curlArgs;  // more, e.g. --tls-max 1.1
};
HttpAnswer https(const TestPractice& practice, int port, const HttpRequest& request);

// [SECTION] What a kiosk does (through the store API, as the kiosk binary would)
// A walk-in: a new patient and a waitlist entry in one write. Returns the patient id.
Uuid walkIn(TestPractice& practice, Kiosk& k, const SeededPractice& where);
// Checks a seeded appointment in.
void checkIn(Kiosk& k, const Uuid& appointmentId);
// Waits until the kiosk's outbox is empty (its daemon pushed and recorded every answer).
bool drained(Kiosk& k, std::chrono::milliseconds timeout = std::chrono::seconds(30));
// Waits until `pred` holds, polling every 20 ms; false after `timeout`.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace anteroom::nettest
