// anteroom-admin's provisioning as an operator runs it: ca init, device enroll|revoke, demo
// seed-central and review list|resolve against a throw-away PostgreSQL, checked with OpenSSL's
// own tools and SQL.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <toml++/toml.h>
#include <tuple>
#include <vector>

#include "anteroom/model/row_json.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central_migrations.hpp"
#include "pg_fixture.hpp"
#include "pki.hpp"

namespace fs = std::filesystem;
using namespace anteroom;

namespace {

// [SECTION] Running programs

std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Run {
  int code = -1;
  std::string out;
  std::string err;
  // The last non-empty line of stdout.
  [[nodiscard]] std::string lastLine() const {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "anteroom-provision-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TempDir& scratch() {
  static TempDir dir;
  return dir;
}

Run sh(const std::string& command) {
  static int n = 0;
  const fs::path out = scratch().path / ("out" + std::to_string(n));
  const fs::path err = scratch().path / ("err" + std::to_string(n++));
  const int status = std::system((command + " >" + quote(out.string()) + " 2>" + quote(err.string())).c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

Run runAdmin(const std::vector<std::string>& args) {
  std::string cmd = quote(ANTEROOM_ADMIN);
  for (const auto& a : args) cmd += " " + quote(a);
  return sh(cmd);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

unsigned modeOf(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// What OpenSSL's command line says the pin of a certificate's public key is.
std::string opensslPin(const fs::path& cert) {
  const Run r = sh("openssl x509 -in " + quote(cert.string()) +
                   " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
  REQUIRE(r.code == 0);
  return "sha256//" + trim(r.out);
}

// [SECTION] A central database

testing::TempPostgres& pg() {
  static auto server = [] {
    auto s = testing::TempPostgres::start();
    if (!s) FAIL("cannot start PostgreSQL: " << s.error().message);
    return std::move(*s);
  }();
  return *server;
}

std::string freshDatabase(const std::string& name) {
  {
    pqxx::connection c(pg().dsn());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + name);
  }
  const std::string dsn = pg().dsn(name);
  auto migrated = admin::central::centralMigrate(dsn);
  if (!migrated) FAIL(migrated.error().message);
  return dsn;
}

fs::path keyFile(const std::string& name, const std::string& hex, unsigned mode = 0600) {
  const fs::path p = scratch().path / name;
  std::ofstream(p) << hex << "\n";
  fs::permissions(p, static_cast<fs::perms>(mode));
  return p;
}

const std::string kPii = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const std::string kHash = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

Run seedCentral(const std::string& dsn, const std::string& seed, const std::string& patients = "40") {
  return runAdmin({"demo", "seed-central", "--dsn", dsn, "--pii-key-file", keyFile("pii.key", kPii).string(),
                "--hash-key-file", keyFile("hash.key", kHash).string(), "--patients", patients, "--seed", seed});
}

std::string single(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::read_transaction tx(c);
  auto r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
}

}  // namespace

// [SECTION] ca init

TEST_CASE("ca init writes the CA and the hub's certificate, keys 0600, and prints the hub key pin last") {
  const fs::path dir = scratch().path / "ca-ip";
  const Run r = runAdmin({"ca", "init", "--dir", dir.string(), "--hub-host", "127.0.0.1"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  for (const char* key : {"ca.key", "hub.key", "hub-backup.key"}) CHECK(modeOf(dir / key) == 0600);
  for (const char* cert : {"ca.crt", "hub.crt"}) CHECK((modeOf(dir / cert) & 0077) == 0044);

  // OpenSSL's command line agrees: the hub certificate is a server certificate of this CA.
  CHECK(sh("openssl verify -CAfile " + quote((dir / "ca.crt").string()) + " -purpose sslserver " +
           quote((dir / "hub.crt").string()))
            .code == 0);
  CHECK(sh("openssl verify -CAfile " + quote((dir / "ca.crt").string()) + " -purpose sslclient " +
           quote((dir / "hub.crt").string()))
            .code != 0);
  const Run text = sh("openssl x509 -in " + quote((dir / "hub.crt").string()) + " -noout -text");
  CHECK(text.out.find("IP Address:127.0.0.1") != std::string::npos);
  CHECK(text.out.find("TLS Web Server Authentication") != std::string::npos);
  CHECK(text.out.find("ASN1 OID: prime256v1") != std::string::npos);
  const Run ca = sh("openssl x509 -in " + quote((dir / "ca.crt").string()) + " -noout -text -enddate");
  CHECK(ca.out.find("CA:TRUE") != std::string::npos);

  // The pin printed last is OpenSSL's SHA-256 of the hub's SubjectPublicKeyInfo.
  CHECK(r.lastLine() == opensslPin(dir / "hub.crt"));
  auto folder = pki::CaFolder::open(dir);
  REQUIRE(folder);
  CHECK(folder->pins().at(0) == r.lastLine());
  CHECK(folder->pins().at(1) != r.lastLine());
  CHECK(pki::verify(folder->ca.cert, folder->hub.cert, pki::Purpose::Server));
  // The CA lasts ten years, the hub certificate less.
  const auto tenYears = std::chrono::system_clock::now() + std::chrono::days{3649};
  CHECK(folder->ca.cert.notAfter() > tenYears);
  CHECK(folder->hub.cert.notAfter() < tenYears);
}

TEST_CASE("ca init names the hub by DNS for a host name, and refuses a second CA or a bad host") {
  const fs::path dir = scratch().path / "ca-dns";
  REQUIRE(runAdmin({"ca", "init", "--dir", dir.string(), "--hub-host", "localhost"}).code == 0);
  auto hub = pki::Certificate::readFile(dir / "hub.crt");
  REQUIRE(hub);
  CHECK(hub->subjectAltNames() == std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"});
  const std::string before = slurp(dir / "ca.key");
  const Run again = runAdmin({"ca", "init", "--dir", dir.string(), "--hub-host", "localhost"});
  CHECK(again.code == 1);
  CHECK(again.err.find("already holds a CA") != std::string::npos);
  CHECK(slurp(dir / "ca.key") == before);

  const fs::path bad = scratch().path / "ca-bad";
  const Run r = runAdmin({"ca", "init", "--dir", bad.string(), "--hub-host", "hub example"});
  CHECK(r.code == 1);
  CHECK(r.err.find("neither a host name nor an IP address") != std::string::npos);
  CHECK_FALSE(fs::exists(bad));
  CHECK(runAdmin({"ca", "init", "--dir", bad.string()}).code == 2);
}

TEST_CASE("a key file left readable by others is refused when the CA folder is read") {
  const fs::path dir = scratch().path / "ca-mode";
  REQUIRE(runAdmin({"ca", "init", "--dir", dir.string(), "--hub-host", "hub.practice.example"}).code == 0);
  fs::permissions(dir / "ca.key", static_cast<fs::perms>(0644));
  auto folder = pki::CaFolder::open(dir);
  REQUIRE_FALSE(folder);
  CHECK(folder.error().code == "pki.key_mode");
}

// [SECTION] device enroll and revoke

TEST_CASE("device enroll, revoke and their refusals") {
  // Each subcase runs this setup again: a database, a practice, a CA and a device of its own.
  static int run = 0;
  const std::string n = std::to_string(++run);
  const std::string dsn = freshDatabase("enroll" + n);
  const Run seeded = seedCentral(dsn, "3");
  REQUIRE_MESSAGE(seeded.code == 0, seeded.err);
  const std::string practice = seeded.lastLine();
  REQUIRE(Uuid::parse(practice));
  const fs::path caDir = scratch().path / ("ca-enroll" + n);
  const Run ca = runAdmin({"ca", "init", "--dir", caDir.string(), "--hub-host", "127.0.0.1"});
  REQUIRE(ca.code == 0);
  const fs::path out = scratch().path / ("kiosk-a" + n);

  const Run r = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id", practice,
                       "--out", out.string(), "--name", "Front desk A"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::string deviceId = r.lastLine();
  REQUIRE(Uuid::parse(deviceId));

  SUBCASE("the files, their modes and the certificate") {
    CHECK(modeOf(out / "device.key") == 0600);
    CHECK(modeOf(out) == 0700);
    CHECK(slurp(out / "ca.crt") == slurp(caDir / "ca.crt"));
    const std::string verify = "openssl verify -CAfile " + quote((out / "ca.crt").string());
    CHECK(sh(verify + " -purpose sslclient " + quote((out / "device.crt").string())).code == 0);
    CHECK(sh(verify + " -purpose sslserver " + quote((out / "device.crt").string())).code != 0);
    // The key is the certificate's.
    const Run a = sh("openssl x509 -in " + quote((out / "device.crt").string()) + " -pubkey -noout");
    const Run b = sh("openssl pkey -in " + quote((out / "device.key").string()) + " -pubout");
    CHECK(a.out == b.out);
    auto cert = pki::Certificate::readFile(out / "device.crt");
    auto caCert = pki::Certificate::readFile(caDir / "ca.crt");
    REQUIRE(cert);
    REQUIRE(caCert);
    CHECK(cert->commonName() == deviceId);
    CHECK(pki::verify(*caCert, *cert, pki::Purpose::Client));
    // A certificate of another CA does not verify against this one.
    auto other = pki::makeCa("Another practice");
    REQUIRE(other);
    auto stranger = pki::makeDeviceCert(*other, deviceId);
    REQUIRE(stranger);
    CHECK_FALSE(pki::verify(*caCert, stranger->cert, pki::Purpose::Client));

    // The central row holds the fingerprint OpenSSL computes of the DER.
    const Run der = sh("openssl x509 -in " + quote((out / "device.crt").string()) + " -outform der | sha256sum");
    const std::string fingerprint = der.out.substr(0, 64);
    CHECK(cert->fingerprintSha256() == fingerprint);
    CHECK(r.out.find(fingerprint) != std::string::npos);
    CHECK(single(dsn, "SELECT cert_fingerprint || ' ' || practice_id || ' ' || name || ' ' || (revoked_at IS NULL) "
                      "FROM device WHERE device_id = '" + deviceId + "'") ==
          fingerprint + " " + practice + " Front desk A true");
    CHECK(single(dsn, "SELECT device_id::text FROM device_for_fingerprint('" + fingerprint + "')") == deviceId);
  }

  SUBCASE("syncd.toml is valid TOML with the paths and both pins filled in") {
    const std::string text = slurp(out / "syncd.toml");
    toml::table config;
    try {
      config = toml::parse(text);
    } catch (const toml::parse_error& e) {
      FAIL("syncd.toml does not parse: " << e.description());
    }
    CHECK(config["cert"].value_or(std::string()) == fs::absolute(out / "device.crt").string());
    CHECK(config["key"].value_or(std::string()) == fs::absolute(out / "device.key").string());
    CHECK(config["ca"].value_or(std::string()) == fs::absolute(out / "ca.crt").string());
    CHECK(config["hub_url"].value_or(std::string()) == "https://127.0.0.1:8443");
    const auto* pins = config["pins"].as_array();
    REQUIRE(pins != nullptr);
    REQUIRE(pins->size() == 2);
    CHECK(pins->at(0).value_or(std::string()) == opensslPin(caDir / "hub.crt"));
    CHECK(pins->at(0).value_or(std::string()) == ca.lastLine());
    CHECK(config["db"].is_string());
    CHECK(config["key_file"].is_string());
  }

  SUBCASE("enrolling into the same folder again, or under a taken name, is refused and registers nothing") {
    const std::string before = slurp(out / "device.key");
    const Run again = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id", practice,
                             "--out", out.string()});
    CHECK(again.code == 1);
    CHECK(again.err == "anteroom-admin: the folder " + out.string() +
                           " already holds an enrolled device (device.key); choose another --out\n");
    CHECK(slurp(out / "device.key") == before);

    const fs::path other = scratch().path / ("kiosk-b" + n);
    const Run taken = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id", practice,
                             "--out", other.string(), "--name", "Front desk A"});
    CHECK(taken.code == 1);
    CHECK(taken.err.find("already has an enrolled device named 'Front desk A' (" + deviceId + ")") != std::string::npos);
    CHECK_FALSE(fs::exists(other / "device.key"));
    CHECK_FALSE(fs::exists(other / "syncd.toml"));
    CHECK(single(dsn, "SELECT count(*) FROM device") == "1");
  }

  SUBCASE("an unknown practice, a malformed id and a role that cannot see devices are refused") {
    const fs::path other = scratch().path / ("kiosk-x" + n);
    const std::string unknown = "01890000-0000-7000-8000-000000000000";
    const Run r2 = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id", unknown,
                          "--out", other.string()});
    CHECK(r2.code == 1);
    CHECK(r2.err == "anteroom-admin: there is no practice " + unknown + " in the central database\n");
    CHECK_FALSE(fs::exists(other / "device.key"));
    const Run r3 = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id", "practice-1",
                          "--out", other.string()});
    CHECK(r3.code == 2);
    CHECK(r3.err.find("--practice-id must be a UUID") != std::string::npos);
    const Run r4 = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", pg().dsn("enroll" + n, "anteroom_hub"),
                          "--practice-id", practice, "--out", other.string()});
    CHECK(r4.code == 1);
    CHECK(r4.err.find("connect as the superuser") != std::string::npos);
    const Run r5 = runAdmin({"device", "enroll", "--ca-dir", (scratch().path / "no-ca").string(), "--dsn", dsn,
                          "--practice-id", practice, "--out", other.string()});
    CHECK(r5.code == 1);
    CHECK(r5.err.find("make it with 'anteroom-admin ca init'") != std::string::npos);
    const Run r6 = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn",
                          "host=127.0.0.1 port=1 dbname=x connect_timeout=2", "--practice-id", practice, "--out",
                          other.string()});
    CHECK(r6.code == 1);
    CHECK(r6.err.find("cannot connect to the central database") != std::string::npos);
    CHECK_FALSE(fs::exists(other / "device.key"));
    CHECK(single(dsn, "SELECT count(*) FROM device") == "1");
  }

  SUBCASE("revoke, revoke again, revoke an unknown device") {
    const Run rv = runAdmin({"device", "revoke", "--dsn", dsn, "--device-id", deviceId});
    REQUIRE_MESSAGE(rv.code == 0, rv.err);
    CHECK(rv.out.find("'Front desk A'") != std::string::npos);
    const std::string fingerprint = single(dsn, "SELECT cert_fingerprint FROM device WHERE device_id = '" + deviceId + "'");
    CHECK(single(dsn, "SELECT revoked::text FROM device_for_fingerprint('" + fingerprint + "')") == "true");
    const Run twice = runAdmin({"device", "revoke", "--dsn", dsn, "--device-id", deviceId});
    CHECK(twice.code == 1);
    CHECK(twice.err.find("is already revoked") != std::string::npos);
    const std::string unknown = "01890000-0000-7000-8000-0000000000ff";
    const Run none = runAdmin({"device", "revoke", "--dsn", dsn, "--device-id", unknown});
    CHECK(none.code == 1);
    CHECK(none.err == "anteroom-admin: there is no device " + unknown + " in the central database\n");
    CHECK(runAdmin({"device", "revoke", "--dsn", dsn, "--device-id", "kiosk-a"}).code == 2);
    CHECK(runAdmin({"device", "revoke", "--dsn", dsn}).code == 2);
    // The name is free again once its device is revoked.
    const Run reenrolled = runAdmin({"device", "enroll", "--ca-dir", caDir.string(), "--dsn", dsn, "--practice-id",
                                  practice, "--out", (scratch().path / ("kiosk-c" + n)).string(), "--name", "Front desk A"});
    CHECK_MESSAGE(reenrolled.code == 0, reenrolled.err);
    CHECK(reenrolled.lastLine() != deviceId);
  }
}

// [SECTION] demo seed-central

TEST_CASE("demo seed-central: encrypted PII, today's schedule in the practice's zone, reproducible by seed") {
  const std::string first = freshDatabase("seed_one");
  const std::string second = freshDatabase("seed_two");
  const Run a = seedCentral(first, "11");
  REQUIRE_MESSAGE(a.code == 0, a.err);
  const Run b = seedCentral(second, "11");
  REQUIRE_MESSAGE(b.code == 0, b.err);
  CHECK(a.lastLine() == b.lastLine());
  CHECK(a.out.find("40 patients") != std::string::npos);

  const std::string key = "'" + kPii + "'";
  const std::string rows =
      "SELECT string_agg(patient_id || ':' || pii_decrypt(first_name, " + key + ") || ' ' || pii_decrypt(last_name, " +
      key + ") || ' ' || pii_decrypt(date_of_birth, " + key + "), ',' ORDER BY patient_id) FROM patient";
  const std::string schedule =
      "SELECT string_agg(appointment_id || '@' || start_time || ':' || patient_id, ',' ORDER BY appointment_id) "
      "FROM appointment";
  const std::string patients = single(first, rows);
  CHECK(patients.size() > 40 * 40);  // 40 patients, each id, name and date of birth
  CHECK(patients == single(second, rows));
  CHECK(single(first, schedule) == single(second, schedule));
  CHECK(single(first, "SELECT count(*) FROM patient") == "40");
  // Stored encrypted: the ciphertext holds no name, the lookup hash is the hub's.
  CHECK(single(first, "SELECT count(*) FROM patient WHERE position(convert_to(pii_decrypt(last_name, " + key +
                          "), 'UTF8') IN last_name) > 0") == "0");
  CHECK(single(first, "SELECT count(*) FROM patient WHERE email_hash = pii_lookup_hash(pii_decrypt(email, " + key +
                          "), '" + kHash + "')") == "40");

  // Today's appointments in the practice's zone, as many as it said.
  const std::string today =
      single(first, "SELECT count(*) FROM appointment WHERE (start_time AT TIME ZONE 'UTC' AT TIME ZONE "
                    "'America/Los_Angeles')::date = (now() AT TIME ZONE 'America/Los_Angeles')::date");
  CHECK(std::stoi(today) > 0);
  CHECK(a.out.find(" " + today + " appointments today") != std::string::npos);
  CHECK(single(first, "SELECT settings->>'time_zone' FROM practice") == "America/Los_Angeles");

  // Every row is in the practice's change feed, so a new device's first pull gets them.
  CHECK(single(first, "SELECT count(*) FROM practice_patient WHERE practice_id = '" + a.lastLine() + "'") == "40");

  // The same seed again is refused and changes nothing; another seed is another practice.
  const Run again = seedCentral(first, "11");
  CHECK(again.code == 1);
  CHECK(again.err.find("already in this database; use another --seed") != std::string::npos);
  CHECK(single(first, "SELECT count(*) FROM patient") == "40");
  const Run other = seedCentral(first, "12", "5");
  REQUIRE_MESSAGE(other.code == 0, other.err);
  CHECK(other.lastLine() != a.lastLine());
  CHECK(single(first, "SELECT count(*) FROM practice") == "2");
}

TEST_CASE("demo seed-central refuses bad key files and bad numbers") {
  const std::string dsn = freshDatabase("seed_bad");
  const fs::path loose = keyFile("loose.key", kPii, 0644);
  const fs::path shortKey = keyFile("short.key", "abc123");
  const fs::path hash = keyFile("hash2.key", kHash);
  const Run r1 = runAdmin({"demo", "seed-central", "--dsn", dsn, "--pii-key-file", loose.string(), "--hash-key-file",
                        hash.string()});
  CHECK(r1.code == 1);
  CHECK(r1.err.find("is readable by group or others") != std::string::npos);
  const Run r2 = runAdmin({"demo", "seed-central", "--dsn", dsn, "--pii-key-file", shortKey.string(), "--hash-key-file",
                        hash.string()});
  CHECK(r2.code == 1);
  CHECK(r2.err.find("must hold 64 hex characters") != std::string::npos);
  CHECK(r2.err.find("abc123") == std::string::npos);
  const Run r3 = runAdmin({"demo", "seed-central", "--dsn", dsn, "--pii-key-file", hash.string(), "--hash-key-file",
                        hash.string(), "--patients", "ten"});
  CHECK(r3.code == 2);
  const Run r4 = runAdmin({"demo", "seed-central", "--dsn", dsn, "--pii-key-file", hash.string(), "--hash-key-file",
                        hash.string(), "--time-zone", "Mars/Olympus"});
  CHECK(r4.code == 1);
  CHECK(single(dsn, "SELECT count(*) FROM practice") == "0");
}

// [SECTION] review list|resolve

namespace {

// A walk-in pushed by a kiosk of the practice whose email is the seeded patient's but whose
// name is not: the hub holds it and its waitlist entry for review. Returns the walk-in's id.
Uuid pushHeldWalkin(const std::string& dsn, const std::string& practice, const std::string& email) {
  const Uuid device = UuidGenerator(5).v7(std::chrono::system_clock::now());
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid,"
                   " 'review kiosk', repeat('ab', 32))",
                   device.toString(), practice);
    tx.commit();
  }
  UuidGenerator ids(9);
  Patient p;
  p.patientId = ids.v7(std::chrono::system_clock::now());
  p.firstName = "Rowan";
  p.lastName = "Otherperson";
  p.dateOfBirth = std::chrono::year{1999} / std::chrono::July / 7;
  p.email = email;
  p.phone = "+15415550142";
  p.insuranceInfo.selfPay = true;
  WaitlistEntry e;
  e.entryId = ids.v7(std::chrono::system_clock::now());
  e.waitlistId = *Uuid::parse(single(dsn, "SELECT waitlist_id::text FROM waitlist WHERE practice_id = '" + practice +
                                              "' ORDER BY waitlist_id LIMIT 1"));
  e.patientId = p.patientId;
  sync::PushRequest push{sync::kSchemaVersion, {}};
  std::int64_t seq = 0;
  for (auto [entity, id, row] : {std::tuple{"patient", p.patientId, toRowJson(p)},
                                 std::tuple{"waitlist_entry", e.entryId, toRowJson(e)}}) {
    sync::Mutation m;
    m.mutationId = ids.v7(std::chrono::system_clock::now());
    m.deviceSeq = ++seq;
    m.entity = entity;
    m.id = id;
    m.kind = sync::MutationKind::Insert;
    m.changes = row;
    m.schemaVersion = sync::kSchemaVersion;
    push.mutations.push_back(std::move(m));
  }
  sync::HubOptions options;
  options.dsn = dsn;
  options.piiKey = kPii;
  options.hashKey = kHash;
  auto hub = sync::HubCore::connect(std::move(options));
  REQUIRE(hub);
  auto answer = (*hub)->applyPush({device, *Uuid::parse(practice)}, push);
  REQUIRE(answer);
  for (const auto& r : answer->results) REQUIRE_MESSAGE(r.status == sync::ResultStatus::Held, r.code << ": " << r.message);
  return p.patientId;
}

}  // namespace

TEST_CASE("review list shows who a held walk-in says they are beside the patient with the email; resolve decides once") {
  const std::string dsn = freshDatabase("review_cli");
  const Run seeded = seedCentral(dsn, "21");
  REQUIRE_MESSAGE(seeded.code == 0, seeded.err);
  const std::string practice = seeded.lastLine();
  const std::string key = "'" + kPii + "'";
  // A patient not waiting yet, so the walk-in's entry is theirs to have.
  const std::string existing = single(dsn, "SELECT patient_id::text FROM patient p WHERE NOT EXISTS (SELECT 1 FROM"
                                           " waitlist_entry e WHERE e.patient_id = p.patient_id) ORDER BY patient_id LIMIT 1");
  const std::string who = single(dsn, "SELECT pii_decrypt(first_name, " + key + ") || ' ' || pii_decrypt(last_name, " +
                                          key + ") || ', born ' || pii_decrypt(date_of_birth, " + key +
                                          ") FROM patient WHERE patient_id = '" + existing + "'");
  const std::string email = single(dsn, "SELECT pii_decrypt(email, " + key + ") FROM patient WHERE patient_id = '" + existing + "'");
  const Uuid walkin = pushHeldWalkin(dsn, practice, email);
  const std::string review = single(dsn, "SELECT review_id::text FROM walkin_review");
  const std::string pii = keyFile("pii.key", kPii).string(), hash = keyFile("hash.key", kHash).string();

  // Without the keys: ids and counts, no names.
  const Run bare = runAdmin({"review", "list", "--dsn", dsn, "--practice-id", practice});
  REQUIRE_MESSAGE(bare.code == 0, bare.err);
  CHECK(bare.out.find("review " + review) != std::string::npos);
  CHECK(bare.out.find("email_in_use, 2 held change(s)") != std::string::npos);
  CHECK(bare.out.find("Otherperson") == std::string::npos);
  CHECK(bare.out.find("1 open review(s) in practice " + practice + " (names need") != std::string::npos);
  // With them: what a manager needs to decide.
  const Run full = runAdmin({"review", "list", "--dsn", dsn, "--practice-id", practice, "--pii-key-file", pii,
                             "--hash-key-file", hash});
  REQUIRE_MESSAGE(full.code == 0, full.err);
  CHECK(full.out.find("walk-in typed:    Rowan Otherperson, born 1999-07-07; email " + email) != std::string::npos);
  CHECK(full.out.find("existing patient: " + who + " (patient " + existing + ")") != std::string::npos);
  CHECK(full.err.empty());

  // Bad usage: exit 2, one line and the help.
  const Run badAs = runAdmin({"review", "resolve", "--dsn", dsn, "--review-id", review, "--as", "maybe",
                              "--pii-key-file", pii, "--hash-key-file", hash});
  CHECK(badAs.code == 2);
  CHECK(badAs.err.rfind("anteroom-admin: --as must be existing or new\n", 0) == 0);
  CHECK(runAdmin({"review", "list", "--dsn", dsn, "--practice-id", practice, "--pii-key-file", pii}).code == 2);

  const Run resolved = runAdmin({"review", "resolve", "--dsn", dsn, "--review-id", review, "--as", "existing",
                                 "--pii-key-file", pii, "--hash-key-file", hash, "--by", "office-manager"});
  REQUIRE_MESSAGE(resolved.code == 0, resolved.err);
  CHECK(resolved.lastLine() == existing);
  CHECK(resolved.out.find("2 held change(s) applied, 0 refused") != std::string::npos);
  CHECK(single(dsn, "SELECT count(*) FROM waitlist_entry WHERE patient_id = '" + existing + "' AND status = 'waiting'") ==
        "1");  // the walk-in's entry, now the existing patient's
  CHECK(single(dsn, "SELECT central_id::text FROM id_alias WHERE local_id = '" + walkin.toString() + "'") == existing);
  CHECK(single(dsn, "SELECT resolved_by FROM walkin_review") == "admin:office-manager");
  CHECK(single(dsn, "SELECT string_agg(result->>'status', ',' ORDER BY device_seq) FROM idempotency_record") ==
        "remapped,applied");

  // Once only: the second decision is refused in one line and changes nothing.
  const Run again = runAdmin({"review", "resolve", "--dsn", dsn, "--review-id", review, "--as", "new",
                              "--pii-key-file", pii, "--hash-key-file", hash});
  CHECK(again.code == 1);
  CHECK(again.err == "anteroom-admin: the walk-in review " + review + " was already resolved (linked); nothing was changed\n");
  CHECK(single(dsn, "SELECT count(*) FROM patient WHERE patient_id = '" + walkin.toString() + "'") == "0");
  const Run none = runAdmin({"review", "list", "--dsn", dsn, "--practice-id", practice});
  CHECK(none.out == "0 open review(s) in practice " + practice + "\n");
  const Run unknown = runAdmin({"review", "resolve", "--dsn", dsn, "--review-id", existing, "--as", "new",
                                "--pii-key-file", pii, "--hash-key-file", hash});
  CHECK(unknown.code == 1);
  CHECK(unknown.err == "anteroom-admin: there is no walk-in review " + existing + "\n");

  // The daily rescoring the timer runs: every active entry of the practice scored again (that
  // days waited move a score is tested with the hub's clock injected, in tests/sync).
  const std::string active = single(dsn, "SELECT count(*) FROM waitlist_entry WHERE status IN ('waiting', 'offered')");
  const Run rescored = runAdmin({"waitlist", "rescore", "--dsn", dsn, "--pii-key-file", pii, "--hash-key-file", hash});
  REQUIRE_MESSAGE(rescored.code == 0, rescored.err);
  CHECK(rescored.out.rfind("rescored " + active + " waiting entries in 1 practices: ", 0) == 0);
  CHECK(runAdmin({"waitlist", "rescore", "--dsn", dsn}).code == 2);
}
