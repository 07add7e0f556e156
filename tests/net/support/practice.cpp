// A whole practice on loopback for the end-to-end tests (see practice.hpp).
#include "support/practice.hpp"

#include <doctest/doctest.h>

#include <pqxx/pqxx>
#include <thread>

#include "anteroom/model/json.hpp"
#include "anteroom/model/records.hpp"
#include "central_migrations.hpp"
#include "checker.hpp"
#include "pg_fixture.hpp"

namespace anteroom::nettest {

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

// Test keys: 64 hex characters like production keys, obviously not secret.
constexpr const char* kPiiKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
constexpr const char* kHashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// Synthetic people only: invented names from a short list, numbered.
constexpr const char* kFirst[] = {"Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jules"};
constexpr const char* kLast[] = {"Testwell", "Sampleton", "Mockridge", "Fixturo", "Demoine", "Placeholt"};

pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> p;
  for (const auto& v : params) p.push_back(v ? v->c_str() : nullptr);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p));
}

std::string quoted(const fs::path& p) { return "\"" + p.string() + "\""; }
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// The value after "label" on a line of `text` ("" when absent).
std::string lineAfter(const std::string& text, std::string_view label) {
  const auto at = text.find(label);
  if (at == std::string::npos) return {};
  const auto end = text.find('\n', at);
  return text.substr(at + label.size(), (end == std::string::npos ? text.size() : end) - at - label.size());
}

// A sanitizer build's hub: libpqxx 6.4's own leak on a connection PostgreSQL closed is
// suppressed (tests/net/lsan.supp, the hub-net helper's), as for the hubs its tests start.
std::map<std::string, std::string> hubEnvironment() { return {{"LSAN_OPTIONS", "suppressions=" ANTEROOM_NET_LSAN_SUPP}}; }

}  // namespace

fs::path binary(std::string_view name) {
  if (const char* dir = std::getenv("ANTEROOM_BIN_DIR")) return fs::path(dir) / name;
  return fs::path(ANTEROOM_BIN_DIR) / name;
}

bool eventually(const std::function<bool()>& pred, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool drained(Kiosk& k, milliseconds timeout) {
  return eventually([&] { return k.store->pendingOutboxCount().value_or(-1) == 0; }, timeout);
}

void Kiosk::rememberOutbox() {
  auto pending = store->pendingOutbox(1000000);
  REQUIRE_MESSAGE(pending.has_value(), name << ": cannot read the outbox");
  for (const auto& m : *pending) mutationsMade.insert(m.mutationId);
}

// [SECTION] The practice

TestPractice::TestPractice() : TestPractice(Options{}) {}

TestPractice::TestPractice(Options options) : m_options(options), m_dir("anteroom-e2e-") {
  REQUIRE_MESSAGE(!m_dir.path().empty(), "cannot make a temp dir");
  for (const char* b : {"anteroom-hub", "anteroom-syncd", "anteroom-admin"})
    REQUIRE_MESSAGE(fs::exists(binary(b)), binary(b).string() << " is not built");
  REQUIRE_MESSAGE(testing::postgresAvailable(), "PostgreSQL 15 with pgaudit is not installed (scripts/deps)");
  testing::PgOptions pgo;
  pgo.extraConf.push_back("max_connections = " + std::to_string(m_options.maxConnections));
  auto pg = testing::TempPostgres::start(pgo);
  REQUIRE_MESSAGE(pg.has_value(), (pg ? "" : pg.error().message));
  m_pg = std::move(*pg);
  {
    pqxx::connection admin(m_pg->dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + m_db);
  }
  auto migrated = admin::central::centralMigrate(superDsn());
  REQUIRE_MESSAGE(migrated.has_value(), (migrated ? "" : migrated.error().message));
  m_practice = seedPractice("main");

  m_piiKeyFile = m_dir / "pii.key";
  m_hashKeyFile = m_dir / "hash.key";
  writeFile(m_piiKeyFile, std::string(kPiiKey) + "\n", 0600);
  writeFile(m_hashKeyFile, std::string(kHashKey) + "\n", 0600);

  m_caDir = m_dir / "ca";
  auto ca = run({binary("anteroom-admin").string(), "ca", "init", "--dir", m_caDir.string(), "--hub-host", "127.0.0.1"});
  REQUIRE_MESSAGE(ca.exitCode == 0, "ca init: " << ca.err);
  m_hubPin = ca.lastLine();
  m_backupPin = lineAfter(ca.out, "backup hub key pin: ");
  REQUIRE(m_hubPin.starts_with("sha256//"));
}

TestPractice::~TestPractice() {
  m_kiosks.clear();  // stores closed before the directory goes
}

fs::path TestPractice::pgDir() const { return m_pg->dir(); }
int TestPractice::pgPort() const { return m_pg->port(); }

std::string TestPractice::superDsn() const { return m_pg->dsn(m_db); }
std::string TestPractice::hubDsn(bool tcp) const { return tcp ? m_pg->tcpDsn(m_db, "anteroom_hub") : m_pg->dsn(m_db, "anteroom_hub"); }

SeededPractice TestPractice::seedPractice(std::string_view tagText) {
  SeededPractice sp;
  UuidGenerator ids(static_cast<std::uint64_t>(std::hash<std::string_view>{}(tagText)) ^
                    static_cast<std::uint64_t>(system_clock::now().time_since_epoch().count()));
  const Instant now = floor<seconds>(nowUtc());
  sp.id = ids.v7(now);
  sp.waitlist = ids.v7(now);
  const std::string tag = sp.id.toString().substr(24);
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'system:setup', true)",
                 sp.id.toString());
  tx.exec_params(
      "INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, $2,"
      " '{\"city\":\"Springfield\"}', '+15415550100', $3, '{\"data_window_days_ahead\":3}')",
      sp.id.toString(), "Invented Practice " + std::string(tagText) + " " + tag, "desk." + tag + "@practice.example");
  for (int i = 0; i < 2; ++i) {
    const Uuid p = ids.v7(now);
    tx.exec_params(
        "INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
        " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', $3, $4, '[\"anxiety\"]',"
        " '[\"cbt\"]', '{}', 7, true)",
        p.toString(), sp.id.toString(), std::string(kLast[i]), "robin" + std::to_string(i) + "." + tag + "@practice.example");
    sp.providers.push_back(p);
  }
  tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'General', '{}')",
                 sp.waitlist.toString(), sp.id.toString());
  for (int i = 0; i < 6; ++i) {
    const Uuid id = ids.v7(now);
    const std::string email = "p" + std::to_string(i) + "." + tag + "@mail.example";
    const std::string dob = "19" + std::to_string(70 + i) + "-0" + std::to_string(1 + i) + "-1" + std::to_string(i);
    tx.exec_params(
        "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info,"
        " preferences, email_hash, insurance_ids) VALUES ($1::uuid, pii_encrypt($2, $6), pii_encrypt($3, $6),"
        " pii_encrypt($4, $6), pii_encrypt('+15415550199', $6), pii_encrypt($5, $6), '{\"payer\":\"Invented Mutual\"}',"
        " pii_encrypt('{\"mode\":\"either\"}', $6), pii_lookup_hash($4, $7), pii_encrypt($8, $6))",
        id.toString(), std::string(kFirst[i]), std::string(kLast[i % 6]), email, dob, std::string(kPiiKey),
        std::string(kHashKey), "{\"member_id\":\"M-100" + std::to_string(i) + "\"}");
    sp.patients.push_back(id);
  }
  // Appointments from an hour from now, 40 minutes apart (one provider, no overlap), and
  // open slots tomorrow for the other provider.
  for (std::size_t i = 0; i < sp.patients.size(); ++i) {
    const Uuid id = ids.v7(now);
    const Instant start = floor<minutes>(now) + hours{1} + minutes{40 * static_cast<int>(i)};
    tx.exec_params(
        "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
        " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamp, $5::timestamp, 'scheduled', 'in_person')",
        id.toString(), sp.providers[0].toString(), sp.patients[i].toString(), formatInstant(start),
        formatInstant(start + minutes{30}));
    sp.appointments.push_back(id);
  }
  for (int i = 0; i < 4; ++i) {
    const Uuid id = ids.v7(now);
    const Instant start = floor<days>(now) + days{1} + hours{15 + i};
    tx.exec_params(
        "INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status)"
        " VALUES ($1::uuid, $2::uuid, $3::timestamp, $4::timestamp, 'open')",
        id.toString(), sp.providers[1].toString(), formatInstant(start), formatInstant(start + minutes{50}));
    sp.slots.push_back(id);
  }
  tx.commit();
  return sp;
}

void TestPractice::centralExec(const Uuid& practice, const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'system:ehr', true)",
                 practice.toString());
  exec(tx, sql, params);
  tx.commit();
}

std::optional<std::string> TestPractice::centralValue(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  auto r = exec(tx, sql, params);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
}

void TestPractice::stopPostgres() {
  auto s = m_pg->stop();
  REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
}

void TestPractice::startPostgres() {
  auto s = m_pg->startDataDir(m_pg->dataDir());
  REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
}

void TestPractice::restartPostgres() {
  stopPostgres();
  startPostgres();
}

// [SECTION] Certificates

Enrolled TestPractice::enroll(const std::string& name, const Uuid& practice) {
  Enrolled e;
  e.name = name;
  e.dir = m_dir / ("device-" + name);
  auto r = run({binary("anteroom-admin").string(), "device", "enroll", "--ca-dir", m_caDir.string(), "--dsn", superDsn(),
                "--practice-id", practice.toString(), "--out", e.dir.string(), "--name", name});
  REQUIRE_MESSAGE(r.exitCode == 0, "device enroll: " << r.err);
  auto id = Uuid::parse(r.lastLine());
  REQUIRE_MESSAGE(id.has_value(), "device enroll's last line is not a device id: " << r.lastLine());
  e.deviceId = *id;
  return e;
}

void TestPractice::revoke(const Uuid& deviceId) {
  auto r = run({binary("anteroom-admin").string(), "device", "revoke", "--dsn", superDsn(), "--device-id", deviceId.toString()});
  REQUIRE_MESSAGE(r.exitCode == 0, "device revoke: " << r.err);
}

// [SECTION] Hubs

fs::path TestPractice::writeHubConfig(const HubSpec& spec, const std::string& name) {
  const fs::path config = m_dir / (name + ".toml");
  std::string text = "# written by the end-to-end fixture\n";
  text += "listen = " + quoted("127.0.0.1:" + std::to_string(spec.port)) + "\n";
  text += "dsn = " + quoted(spec.dsn.empty() ? hubDsn() : spec.dsn) + "\n";
  text += "tls_cert = " + quoted(m_caDir / "hub.crt") + "\n";
  text += "tls_key = " + quoted(m_caDir / "hub.key") + "\n";
  text += "client_ca = " + quoted(m_caDir / "ca.crt") + "\n";
  text += "pii_key_file = " + quoted(m_piiKeyFile) + "\n";
  text += "hash_key_file = " + quoted(m_hashKeyFile) + "\n";
  for (const auto& [k, v] : spec.extra) text += k + " = " + v + "\n";
  writeFile(config, text, 0600);
  return config;
}

Hub TestPractice::startHub(const HubSpec& specIn) {
  // Port 0: the hub binds a free port itself and prints it (no race with other programs
  // between choosing a port and binding it); the config is then rewritten with that port,
  // so a restart comes back on the same one.
  HubSpec spec = specIn;
  Hub hub;
  hub.dsn = spec.dsn.empty() ? hubDsn() : spec.dsn;
  const std::string name = "hub" + std::to_string(++m_hubs);
  hub.config = writeHubConfig(spec, name);
  hub.port = spec.port;
  hub.process = Process::spawn({{binary("anteroom-hub").string(), "--config", hub.config.string()}, hubEnvironment(), m_dir / (name + ".log"), {}, {}});
  REQUIRE_MESSAGE(hub.process.started(), hub.process.error());
  auto line = hub.process.waitForLine("anteroom-hub: listening on", spec.startTimeout);
  REQUIRE_MESSAGE(line.has_value(), "the hub did not start:\n" << hub.process.output());
  const auto colon = line->rfind(':');
  REQUIRE(colon != std::string::npos);
  hub.port = std::atoi(line->c_str() + colon + 1);
  REQUIRE_MESSAGE(hub.port > 0, "no port in the hub's line: " << *line);
  if (spec.port == 0) {
    spec.port = hub.port;
    hub.config = writeHubConfig(spec, name);
  }
  return hub;
}

void TestPractice::restartHub(Hub& hub) {
  hub.process.kill();
  const std::size_t from = hub.process.output().size();
  const fs::path log = hub.process.outputPath();
  hub.process = Process::spawn({{binary("anteroom-hub").string(), "--config", hub.config.string()}, hubEnvironment(), log, {}, {}});
  REQUIRE_MESSAGE(hub.process.started(), hub.process.error());
  // The port may linger a moment after a kill; the hub says so and exits, so try again.
  auto line = hub.process.waitForLine("anteroom-hub: listening on", 30s, from);
  REQUIRE_MESSAGE(line.has_value(), "the hub did not start again:\n" << hub.process.output().substr(from));
}

// [SECTION] Kiosks and daemons

Kiosk& TestPractice::addKiosk(const std::string& name, const Uuid& practice) {
  auto k = std::make_unique<Kiosk>();
  k->name = name;
  k->device = enroll(name, practice);
  k->storePath = m_dir / (name + ".db");
  k->keyPath = m_dir / (name + ".key");
  auto key = store::SecretKey::generate();
  REQUIRE(key.has_value());
  REQUIRE(key->writeNewFile(k->keyPath).has_value());
  k->key = std::make_unique<store::SecretKey>(std::move(*key));
  store::OpenOptions o;
  o.path = k->storePath;
  o.create = true;
  auto s = store::Store::open(o, *k->key);
  REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
  k->store = std::make_unique<store::Store>(std::move(*s));
  m_kiosks.push_back(std::move(k));
  return *m_kiosks.back();
}

fs::path TestPractice::writeSyncdConfig(const Kiosk& k, int hubPort, const DaemonSpec& spec) {
  const std::string tmpl = readFile(k.device.dir / "syncd.toml");
  REQUIRE_MESSAGE(!tmpl.empty(), "device enroll wrote no syncd.toml template");
  std::string text;
  std::size_t pos = 0;
  int edited = 0;
  while (pos < tmpl.size()) {
    std::size_t end = tmpl.find('\n', pos);
    if (end == std::string::npos) end = tmpl.size();
    std::string line = tmpl.substr(pos, end - pos);
    pos = end + 1;
    // The three lines the template asks the operator to edit.
    // A key the test gives itself (a wrong pin, say) replaces the template's line.
    const std::string key = line.substr(0, line.find(' '));
    if (!key.empty() && key[0] != '#' && spec.extra.contains(key)) continue;
    if (line.starts_with("db ")) line = "db = " + quoted(k.storePath), ++edited;
    else if (line.starts_with("key_file ")) line = "key_file = " + quoted(k.keyPath), ++edited;
    else if (line.starts_with("hub_url ")) line = "hub_url = " + quoted("https://127.0.0.1:" + std::to_string(hubPort)), ++edited;
    text += line + "\n";
  }
  REQUIRE_MESSAGE(edited == 3, "the syncd.toml template lacks db, key_file or hub_url");
  text += "connect_timeout_s = " + std::to_string(spec.connectTimeout) + "\n";
  text += "total_timeout_s = " + std::to_string(spec.totalTimeout) + "\n";
  text += "low_speed_time_s = " + std::to_string(spec.lowSpeedTime) + "\n";
  text += "wait_s = " + std::to_string(spec.waitSeconds) + "\n";
  for (const auto& [key, v] : spec.extra) text += key + " = " + v + "\n";
  const fs::path config = m_dir / (k.name + "-syncd.toml");
  writeFile(config, text, 0600);
  return config;
}

RunResult TestPractice::syncOnce(const Kiosk& k, int hubPort, milliseconds timeout, const DaemonSpec& spec) {
  const fs::path config = writeSyncdConfig(k, hubPort, spec);
  return run({binary("anteroom-syncd").string(), "--config", config.string(), "--once"}, timeout);
}

Process TestPractice::startDaemon(const Kiosk& k, int hubPort, const DaemonSpec& spec) {
  const fs::path config = writeSyncdConfig(k, hubPort, spec);
  auto p = Process::spawn({{binary("anteroom-syncd").string(), "--config", config.string()}, {}, m_dir / (k.name + "-syncd.log"), {}, {}});
  REQUIRE_MESSAGE(p.started(), p.error());
  return p;
}

std::optional<std::string> TestPractice::syncState(Kiosk& k, std::string_view key) {
  auto v = k.store->syncValue(key);
  REQUIRE_MESSAGE(v.has_value(), k.name << ": cannot read sync_state");
  return *v;
}

// [SECTION] The checker

std::vector<std::string> TestPractice::check(int hubPort) {
  Kiosk& probe = addKiosk("probe-" + std::to_string(nextNumber()));
  auto first = syncOnce(probe, hubPort, 120s);
  if (first.exitCode != 0) return {"the probe's first sync failed: " + first.err};
  sim::CheckInput in;
  in.superDsn = superDsn();
  in.practice = m_practice.id;
  in.now = nowUtc();
  in.probePath = probe.storePath;
  in.probeKey = probe.key.get();
  in.probeStore = probe.store.get();
  for (auto& k : m_kiosks) {
    if (k.get() == &probe || k->name.starts_with("probe-")) continue;
    in.devices.push_back({k->name, k->device.deviceId, k->storePath, k->key.get(), k->store.get(), &k->mutationsMade});
  }
  return sim::checkInvariants(in);
}

// [SECTION] Raw HTTPS requests

std::string HttpAnswer::errorCode() const {
  auto j = Json::parse(body);
  if (!j || !j->isObject()) return {};
  const Json* c = j->find("code");
  return c && c->isString() ? c->asString() : std::string();
}

HttpAnswer https(const TestPractice& practice, int port, const HttpRequest& request) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
                                   "--cacert", (practice.caDir() / "ca.crt").string(), "-X", request.method};
  if (request.device != nullptr) {
    argv.insert(argv.end(), {"--cert", (request.device->dir / "device.crt").string(), "--key",
                             (request.device->dir / "device.key").string()});
  }
  if (request.schemaHeader) argv.insert(argv.end(), {"-H", "Anteroom-Schema-Version: 2"});
  for (const auto& h : request.headers) argv.insert(argv.end(), {"-H", h});
  if (request.bodyFile) argv.insert(argv.end(), {"--data-binary", "@" + request.bodyFile->string()});
  argv.insert(argv.end(), request.curlArgs.begin(), request.curlArgs.end());
  argv.push_back("https://127.0.0.1:" + std::to_string(port) + request.path);
  auto r = run(argv, 30s);
  HttpAnswer a;
  const auto nl = r.out.rfind('\n');
  const std::string code = nl == std::string::npos ? r.out : r.out.substr(nl + 1);
  a.body = nl == std::string::npos ? std::string() : r.out.substr(0, nl);
  a.status = std::atoi(code.c_str());
  if (r.exitCode != 0) a.curlError = "curl exit " + std::to_string(r.exitCode) + ": " + r.err;
  return a;
}

// [SECTION] What a kiosk does

Uuid walkIn(TestPractice& practice, Kiosk& k, const SeededPractice& where) {
  const Instant now = nowUtc();
  UuidGenerator ids(static_cast<std::uint64_t>(now.time_since_epoch().count()) + static_cast<std::uint64_t>(practice.nextNumber()));
  const int n = practice.nextNumber();
  Patient p;
  p.patientId = ids.v7(now);
  p.firstName = kFirst[n % 8];
  p.lastName = std::string(kLast[n % 6]);
  p.dateOfBirth = year{1990 + n % 20} / January / (1 + n % 28);
  p.email = "walkin" + std::to_string(n) + "." + where.id.toString().substr(24) + "@mail.example";
  p.phone = "+1541555" + std::to_string(1000 + n % 9000);
  p.insuranceInfo.selfPay = true;
  WaitlistEntry e;
  e.entryId = ids.v7(now);
  e.waitlistId = where.waitlist;
  e.patientId = p.patientId;
  auto r = k.store->write(store::Actor::kiosk(), now, [&](store::WriteTx& tx) -> Result<void> {
    if (auto i = tx.insert(p); !i) return i;
    return tx.insert(e);
  });
  REQUIRE_MESSAGE(r.has_value(), k.name << ": walk-in refused: " << (r ? "" : r.error().message));
  k.rememberOutbox();
  return p.patientId;
}

void checkIn(Kiosk& k, const Uuid& appointmentId) {
  auto r = k.store->checkIn(appointmentId, store::Actor::kiosk(), nowUtc());
  REQUIRE_MESSAGE(r.has_value(), k.name << ": check-in refused: " << (r ? "" : r.error().message));
  k.rememberOutbox();
}

}  // namespace anteroom::nettest
