// anteroom-hub as a process: mutual TLS, the three routes, long-polls woken by a central commit,
// refusals of bad input with the hub serving on, and PostgreSQL going away and coming back.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "anteroom/model/row_json.hpp"
#include "anteroom/sync/messages.hpp"
#include "hub_fixture.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace anteroom::sync;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

// One world for the whole program: PostgreSQL, certificates, one practice, the hub.
struct World {
  fs::path dir;
  CentralDb db;
  TestPki pki;
  CentralDb::Practice practice;
  CertPair deviceCert, strangerCert, revokedCert, rogueCert;
  Uuid device, revokedDevice;
  std::unique_ptr<HubProcess> hub;

  World()
      : dir(fs::temp_directory_path() / ("anteroom-net-" + std::to_string(::getpid()))),
        pki(dir / "pki"),
        practice(db.seedPractice()) {
    deviceCert = pki.device("kiosk-a");
    strangerCert = pki.device("kiosk-unenrolled");
    revokedCert = pki.device("kiosk-revoked");
    TestPki rogue(dir / "rogue");
    rogueCert = rogue.device("kiosk-rogue");
    device = db.enrollDevice(practice.practice, deviceCert.fingerprint);
    revokedDevice = db.enrollDevice(practice.practice, revokedCert.fingerprint);
    hub = std::make_unique<HubProcess>(dir / "hub", hubConfig(pki, db.hubDsn(), dir / "hub"));
  }
  ~World() {
    hub.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Client client(const CertPair* cert = nullptr) { return Client(hub->port(), pki.caCert(), cert ? cert : &deviceCert); }
};

World& world() {
  static World w;
  return w;
}

UuidGenerator& ids() {
  static UuidGenerator g(99);
  return g;
}

ErrorBody errorOf(const Response& r) {
  auto e = decodeErrorBody(r.body);
  REQUIRE_MESSAGE(e.has_value(), "not an error body: " << r.body);
  return *e;
}

// Pulls from the start until the feed is quiet; the cursor to long-poll from.
std::string quiescentCursor(Client& c, std::vector<Change>* all = nullptr) {
  std::string cursor;
  for (int page = 0; page < 50; ++page) {
    auto r = c.get("/v1/pull?limit=500&after=" + cursor);
    REQUIRE(r.status == 200);
    auto res = decodePullResponse(r.body);
    REQUIRE(res.has_value());
    if (all) all->insert(all->end(), res->changes.begin(), res->changes.end());
    cursor = res->cursor;
    if (!res->more) return cursor;
  }
  FAIL("the feed never went quiet");
  return cursor;
}

Json::Object walkInRow(const Uuid& id) {
  Patient p;
  p.patientId = id;
  p.firstName = "Quinn";
  p.lastName = "Newcomer";
  p.email = "quinn." + id.toString().substr(24) + "@mail.example";
  p.phone = "+15415550142";
  p.dateOfBirth = std::chrono::year{1991} / std::chrono::May / 5;
  p.insuranceInfo.payer = "Invented Mutual";
  p.insuranceInfo.memberId = "M-000123";
  p.createdAt = nowUtc();
  p.updatedAt = p.createdAt;
  return toRowJson(p);
}

PushRequest walkInPush(std::int64_t seq, const Uuid& id) {
  Mutation m;
  m.mutationId = ids().v7(system_clock::now());
  m.deviceSeq = seq;
  m.entity = "patient";
  m.id = id;
  m.kind = MutationKind::Insert;
  m.changes = walkInRow(id);
  m.hlc = "0001772463600000-0000000000-kiosk";
  PushRequest push;
  push.mutations.push_back(std::move(m));
  return push;
}

}  // namespace

TEST_CASE("health answers 200 for an enrolled device, with the schema version and gzip when asked") {
  auto c = world().client();
  auto r = c.get("/v1/health", {});
  REQUIRE(r.curlCode == 0);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ok"})");
  CHECK(r.headers["content-encoding"] == "gzip");  // curl inflated it
  CHECK(r.headers["anteroom-schema-version"] == std::to_string(kSchemaVersion));
}

TEST_CASE("push then pull over HTTPS: the walk-in is applied once, a repeat changes nothing, and it comes back") {
  auto c = world().client();
  const std::string cursor = quiescentCursor(c);
  const Uuid walkIn = ids().v7(system_clock::now());
  const auto push = walkInPush(1, walkIn);
  auto r = c.post("/v1/push", encode(push), {"Anteroom-Schema-Version: 2", "Content-Type: application/json"});
  REQUIRE(r.status == 200);
  auto res = decodePushResponse(r.body);
  REQUIRE(res.has_value());
  REQUIRE(res->results.size() == 1);
  CAPTURE(res->results[0].code);
  CAPTURE(res->results[0].message);
  CHECK(res->results[0].status == ResultStatus::Applied);
  CHECK(res->results[0].rowVersion == 1);

  // The same push again, gzip'd: the stored result, nothing new.
  auto again = c.post("/v1/push", gzipText(encode(push)), {"Anteroom-Schema-Version: 2", "Content-Encoding: gzip"});
  REQUIRE(again.status == 200);
  auto res2 = decodePushResponse(again.body);
  REQUIRE(res2.has_value());
  CHECK(res2->results[0].status == ResultStatus::Applied);
  CHECK(res2->results[0].rowVersion == 1);

  auto pulled = c.get("/v1/pull?after=" + cursor + "&limit=100");
  REQUIRE(pulled.status == 200);
  auto page = decodePullResponse(pulled.body);
  REQUIRE(page.has_value());
  const bool found = std::any_of(page->changes.begin(), page->changes.end(), [&](const Change& ch) { return ch.id == walkIn; });
  CHECK_MESSAGE(found, "the pushed walk-in is not in the next pull page");
}

TEST_CASE("a parked long-poll is woken by a central commit, and an unwoken one ends at its wait") {
  auto& w = world();
  auto c = w.client();
  const std::string cursor = quiescentCursor(c);

  std::atomic<bool> done{false};
  Response parked;
  steady_clock::time_point answeredAt{};
  std::thread poller([&] {
    auto pc = w.client();
    parked = pc.get("/v1/pull?wait=10&after=" + cursor);
    answeredAt = steady_clock::now();
    done = true;
  });
  std::this_thread::sleep_for(milliseconds{500});
  CHECK_FALSE(done.load());  // parked, not answered with an empty page at once
  const auto committed = steady_clock::now();
  w.db.touchProvider(w.practice.practice, w.practice.provider);
  poller.join();
  REQUIRE(parked.status == 200);
  const double wakeMs = duration<double, std::milli>(answeredAt - committed).count();
  std::printf("longpoll_wake_ms: %.1f ms\n", wakeMs);
  CHECK(wakeMs < 500.0);
  auto page = decodePullResponse(parked.body);
  REQUIRE(page.has_value());
  CHECK(std::any_of(page->changes.begin(), page->changes.end(),
                    [&](const Change& ch) { return ch.id == w.practice.provider; }));

  // Nothing changes: the wait ends with an empty page and the same position.
  auto quiet = c.get("/v1/pull?wait=1&after=" + page->cursor);
  REQUIRE(quiet.status == 200);
  CHECK(quiet.seconds >= 0.95);
  CHECK(quiet.seconds < 3.0);
  auto empty = decodePullResponse(quiet.body);
  REQUIRE(empty.has_value());
  CHECK(empty->changes.empty());
  CHECK_FALSE(empty->more);

  // wait=0 answers at once.
  auto now = c.get("/v1/pull?wait=0&after=" + page->cursor);
  CHECK(now.status == 200);
  CHECK(now.seconds < 0.9);
}

TEST_CASE("mutual TLS: no certificate, another CA's certificate and TLS 1.1 fail the handshake; an unenrolled one is 403") {
  auto& w = world();
  {
    Client none(w.hub->port(), w.pki.caCert(), nullptr);
    // Construct without a certificate: Client(nullptr) sets none.
    auto r = none.get("/v1/health");
    CHECK(r.curlCode != 0);
    CHECK(r.status == 0);
  }
  {
    auto rogue = w.client(&w.rogueCert);
    auto r = rogue.get("/v1/health");
    CHECK(r.curlCode != 0);
    CHECK(r.status == 0);
  }
  {
    auto stranger = w.client(&w.strangerCert);
    auto r = stranger.get("/v1/health");
    REQUIRE(r.status == 403);
    CHECK(errorOf(r).code == "hub.unknown_device");
    CHECK(w.hub->log().find("route=/v1/health status=403 code=hub.unknown_device") != std::string::npos);
  }
  // TLS 1.1 offered with every cipher the client has: refused. The same command at TLS 1.2 works.
  const std::string base = "openssl s_client -connect 127.0.0.1:" + std::to_string(w.hub->port()) + " -CAfile " +
                           w.pki.caCert().string() + " -cert " + w.deviceCert.cert.string() + " -key " +
                           w.deviceCert.key.string() + " </dev/null >" + (w.dir / "s_client.log").string() + " 2>&1";
  CHECK(shell(base + " -tls1_2") == 0);
  CHECK(readFile(w.dir / "s_client.log").find("Protocol  : TLSv1.2") != std::string::npos);
  CHECK(shell(base + " -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'") != 0);
  {
    const std::string log = readFile(w.dir / "s_client.log");
    CAPTURE(log);
    CHECK(log.find("Cipher is (NONE)") != std::string::npos);
    CHECK(log.find("alert protocol version") != std::string::npos);  // the hub said no, not the client
  }
  // A TLS 1.2 client offering only CBC ciphers: no shared cipher.
  CHECK(shell(base + " -tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:AES128-SHA'") != 0);
  CHECK(readFile(w.dir / "s_client.log").find("Cipher is (NONE)") != std::string::npos);
  CHECK(w.hub->running());
}

TEST_CASE("sslscan with the device certificate finds TLS 1.2 and 1.3 only, and only ECDHE with AEAD ciphers") {
  auto& w = world();
  if (shell("command -v sslscan >/dev/null 2>&1") != 0) {
    MESSAGE("sslscan is not installed (scripts/deps); skipped");
    return;
  }
  const fs::path out = w.dir / "sslscan.txt";
  REQUIRE(shell("sslscan --no-colour --no-heartbleed --certs=" + w.deviceCert.cert.string() + " --pk=" +
                w.deviceCert.key.string() + " 127.0.0.1:" + std::to_string(w.hub->port()) + " >" + out.string() +
                " 2>&1") == 0);
  const std::string text = readFile(out);
  CAPTURE(text);
  for (const char* off : {"SSLv2     disabled", "SSLv3     disabled", "TLSv1.0   disabled", "TLSv1.1   disabled"})
    CHECK(text.find(off) != std::string::npos);
  CHECK(text.find("TLSv1.2   enabled") != std::string::npos);
  CHECK(text.find("TLSv1.3   enabled") != std::string::npos);
  // Every accepted cipher line names an AEAD suite with ephemeral keys.
  std::istringstream lines(text);
  int accepted = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("Preferred") && !line.starts_with("Accepted")) continue;
    ++accepted;
    CAPTURE(line);
    const bool aead = line.find("GCM") != std::string::npos || line.find("CHACHA20") != std::string::npos;
    const bool ephemeral = line.find("TLSv1.3") != std::string::npos || line.find("ECDHE") != std::string::npos;
    CHECK(aead);
    CHECK(ephemeral);
    CHECK(line.find("CBC") == std::string::npos);
  }
  CHECK(accepted >= 3);
}

TEST_CASE("bad requests get 400/404/405/409/413 with a reason, and the hub goes on serving") {
  auto& w = world();
  auto c = w.client();
  struct Case {
    const char* what;
    Response r;
    long status;
    const char* code;
  };
  std::string bomb(20u << 20, '\0');  // 20 MiB of zeros, ~20 KiB gzip'd
  const std::string bombGz = gzipText(bomb);
  const std::string valid = gzipText(encode(walkInPush(100, ids().v7(system_clock::now()))));
  std::vector<Case> cases;
  cases.push_back({"malformed JSON", c.post("/v1/push", "{\"schema_version\":2,\"mutations\":[", {"Anteroom-Schema-Version: 2"}),
                   400, nullptr});
  cases.push_back({"wrong shape", c.post("/v1/push", "[1,2,3]", {"Anteroom-Schema-Version: 2"}), 400, nullptr});
  cases.push_back({"truncated gzip",
                   c.post("/v1/push", valid.substr(0, valid.size() / 2), {"Anteroom-Schema-Version: 2", "Content-Encoding: gzip"}),
                   400, "protocol.gzip"});
  cases.push_back({"not gzip", c.post("/v1/push", "plainly not gzip", {"Anteroom-Schema-Version: 2", "Content-Encoding: gzip"}),
                   400, "protocol.gzip"});
  cases.push_back({"gzip bomb", c.post("/v1/push", bombGz, {"Anteroom-Schema-Version: 2", "Content-Encoding: gzip"}), 413,
                   "protocol.too_large"});
  cases.push_back({"unknown encoding", c.post("/v1/push", "{}", {"Anteroom-Schema-Version: 2", "Content-Encoding: br"}), 400,
                   "protocol.encoding"});
  cases.push_back({"no schema header", c.post("/v1/push", encode(walkInPush(101, ids().v7(system_clock::now()))), {}), 400,
                   "protocol.schema_header"});
  cases.push_back({"bad schema header", c.get("/v1/pull", {"Anteroom-Schema-Version: two"}), 400, "protocol.schema_header"});
  cases.push_back({"limit too big", c.get("/v1/pull?limit=5000"), 400, "protocol.query"});
  cases.push_back({"wait too long", c.get("/v1/pull?wait=31"), 400, "protocol.query"});
  cases.push_back({"limit twice", c.get("/v1/pull?limit=1&limit=2"), 400, "protocol.query"});
  cases.push_back({"bad cursor", c.get("/v1/pull?after=c1.zz"), 400, "protocol.cursor"});
  cases.push_back({"old schema", c.get("/v1/pull?schema=99"), 409, "sync.schema_version"});
  cases.push_back({"no route", c.get("/v2/everything"), 404, "http.not_found"});
  cases.push_back({"wrong method", c.get("/v1/push"), 405, "http.method"});
  // Over the ceiling before any inflating: refused as it arrives, and the connection closed.
  cases.push_back({"oversize", c.post("/v1/push", std::string((8u << 20) + 1, 'x'), {"Anteroom-Schema-Version: 2"}), 413,
                   "protocol.too_large"});
  for (const auto& k : cases) {
    CAPTURE(k.what);
    CAPTURE(k.r.body);
    CHECK(k.r.status == k.status);
    if (k.r.status >= 400) {
      const auto e = errorOf(k.r);
      CHECK_FALSE(e.message.empty());
      if (k.code) CHECK(e.code == k.code);
      else CHECK(e.code.starts_with("protocol."));
      CHECK_FALSE(e.transient);
    }
  }
  // Garbage instead of HTTP on a TLS connection: a 400 and the connection closed.
  const std::string garbage = "printf 'NOT HTTP AT ALL\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:" +
                              std::to_string(w.hub->port()) + " -CAfile " + w.pki.caCert().string() + " -cert " +
                              w.deviceCert.cert.string() + " -key " + w.deviceCert.key.string() + " >" +
                              (w.dir / "garbage.log").string() + " 2>&1";
  shell(garbage);
  CHECK(readFile(w.dir / "garbage.log").find("HTTP/1.1 400") != std::string::npos);

  auto after = w.client().get("/v1/health");
  CHECK(after.status == 200);
  CHECK(w.hub->running());
  // The log has one line per refusal and no row values.
  const std::string log = w.hub->log();
  CHECK(log.find("code=protocol.gzip") != std::string::npos);
  CHECK(log.find("Newcomer") == std::string::npos);
  CHECK(log.find("quinn.") == std::string::npos);
}

TEST_CASE("a revoked device is refused on its next request, on the same connection") {
  auto& w = world();
  auto c = w.client(&w.revokedCert);
  REQUIRE(c.get("/v1/health").status == 200);
  w.db.revokeDevice(w.revokedDevice);
  auto r = c.get("/v1/health");
  REQUIRE(r.status == 403);
  CHECK(errorOf(r).code == "hub.revoked_device");
  auto p = c.get("/v1/pull");
  CHECK(p.status == 403);
}

TEST_CASE("PostgreSQL stopped: 503 with Retry-After, the hub keeps running; restarted: 200 again") {
  auto& w = world();
  auto c = w.client();
  REQUIRE(c.get("/v1/health").status == 200);
  REQUIRE(w.db.pg().stop().has_value());
  for (int i = 0; i < 3; ++i) {
    auto r = c.get("/v1/health");
    CHECK(r.status == 503);
    CHECK_FALSE(r.headers["retry-after"].empty());
    if (r.status == 503) {
      CHECK(errorOf(r).code == "hub.database");
      CHECK(errorOf(r).transient);
    }
    auto p = c.get("/v1/pull?wait=5");
    CHECK(p.status == 503);
  }
  CHECK(w.hub->running());
  REQUIRE(w.db.pg().startDataDir(w.db.pg().dataDir()).has_value());
  long status = 0;
  const auto until = steady_clock::now() + seconds{20};
  while (steady_clock::now() < until) {
    status = c.get("/v1/health").status;
    if (status == 200) break;
    std::this_thread::sleep_for(milliseconds{200});
  }
  CHECK(status == 200);
  // Long-polls are woken again once LISTEN is back.
  const std::string cursor = quiescentCursor(c);
  std::thread later([&] {
    std::this_thread::sleep_for(seconds{2});  // the LISTEN session reconnects with backoff
    w.db.touchProvider(w.practice.practice, w.practice.provider);
  });
  auto r = c.get("/v1/pull?wait=20&after=" + cursor);
  later.join();
  CHECK(r.status == 200);
  CHECK(r.seconds < 10.0);
  auto page = decodePullResponse(r.body);
  REQUIRE(page.has_value());
  CHECK_FALSE(page->changes.empty());

  // A hub started while PostgreSQL is down waits for it, then serves.
  REQUIRE(w.db.pg().stop().has_value());
  std::thread restart([&] {
    std::this_thread::sleep_for(seconds{3});
    REQUIRE(w.db.pg().startDataDir(w.db.pg().dataDir()).has_value());
  });
  auto late = std::make_unique<HubProcess>(w.dir / "late-hub", hubConfig(w.pki, w.db.hubDsn(), w.dir / "late-hub"));
  restart.join();
  CHECK(late->log().find("the central database cannot be reached yet") != std::string::npos);
  Client lc(late->port(), w.pki.caCert(), &w.deviceCert);
  CHECK(lc.get("/v1/health").status == 200);
  CHECK(late->stop() == 0);
  CHECK(late->log().find("Sanitizer") == std::string::npos);
}

TEST_CASE("bad configuration: one line naming the file, the line and the key; exit 2") {
  auto& w = world();
  const fs::path dir = w.dir / "badconfig";
  fs::create_directories(dir);
  std::string good = hubConfig(w.pki, w.db.hubDsn(), dir);
  good.erase(good.find("workers = 2\n"));  // 8 lines; a case's own line is line 9
  struct Case {
    std::string text;
    std::vector<std::string> flags;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {good + "workers = \"four\"\n", {}, "hub.toml:9: workers: must be a whole number"},
      {good + "listen_port = 1\n", {}, "hub.toml:9: listen_port: unknown key"},
      {"listen = \"127.0.0.1\"\n" + good.substr(good.find("dsn")), {}, "hub.toml:1: listen: must be HOST:PORT"},
      {good + "workers = 0\n", {}, "hub.toml:9: workers: must be a whole number from 1 to 64"},
      {good + "= broken\n", {}, "hub.toml:9:"},
      {good + "prepared_statements = \"no\"\n", {}, "hub.toml:9: prepared_statements: must be true or false"},
      {good, {"--prepared-statements", "maybe"}, "--prepared_statements: must be true or false"},
      {good, {"--tls_key"}, "--tls_key: needs a value"},
      {good, {"--colour", "blue"}, "--colour: unknown flag"},
      {good + "listen_dsn = 7\n", {}, "hub.toml:9: listen_dsn: must be a string in quotes"},
      {good.substr(0, good.find("dsn")) + good.substr(good.find("tls_cert")), {}, "hub.toml: dsn: missing"},
      {good, {"--workers", "many"}, "--workers: must be a whole number"},
      {good, {"--listen", "127.0.0.1:99999"}, "--listen: the port must be a number from 0 to 65535"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.text);
    writeFile(dir / "hub.toml", k.text);
    std::vector<std::string> args{"--config", (dir / "hub.toml").string()};
    args.insert(args.end(), k.flags.begin(), k.flags.end());
    const auto res = runHubToExit(args, dir);
    CHECK(res.code == 2);
    CHECK(std::count(res.stderrText.begin(), res.stderrText.end(), '\n') == 1);
    CHECK(res.stderrText.find(k.expect) != std::string::npos);
  }
  // PostgreSQL settings that would let PHI into its log: the hub refuses to serve.
  writeFile(dir / "hub.toml", good);
  w.db.exec("ALTER ROLE anteroom_hub SET log_min_messages = 'debug1'");
  auto unsafe = runHubToExit({"--config", (dir / "hub.toml").string()}, dir);
  w.db.exec("ALTER ROLE anteroom_hub RESET log_min_messages");
  CHECK(unsafe.code == 1);
  CHECK(unsafe.stderrText.find("refusing to serve: log_min_messages") != std::string::npos);
  // A key file others can read is refused.
  writeFile(dir / "hub.toml", good);
  ::chmod((dir / "pii.key").c_str(), 0644);
  auto open = runHubToExit({"--config", (dir / "hub.toml").string()}, dir);
  CHECK(open.code == 2);
  CHECK(open.stderrText.find("is open to other users") != std::string::npos);
  ::chmod((dir / "pii.key").c_str(), 0600);
  writeFile(dir / "pii.key", "not hex\n");
  auto bad = runHubToExit({"--config", (dir / "hub.toml").string()}, dir);
  CHECK(bad.code == 2);
  CHECK(bad.stderrText.find("64 hex characters") != std::string::npos);
}

TEST_CASE("max_connections: a connection past the limit is closed at once; the hub serves again when one goes") {
  auto& w = world();
  HubProcess small(w.dir / "small-hub", hubConfig(w.pki, w.db.hubDsn(), w.dir / "small-hub"), {"--max_connections", "2"});
  auto a = std::make_unique<Client>(small.port(), w.pki.caCert(), &w.deviceCert);
  Client b(small.port(), w.pki.caCert(), &w.deviceCert);
  REQUIRE(a->get("/v1/health").status == 200);  // both stay open (keep-alive)
  REQUIRE(b.get("/v1/health").status == 200);
  {
    Client c(small.port(), w.pki.caCert(), &w.deviceCert);
    auto r = c.get("/v1/health");
    CHECK(r.curlCode != 0);
    CHECK(r.status == 0);
  }
  CHECK(small.log().find("refusing a connection: 2 are open (max_connections)") != std::string::npos);
  a.reset();  // closes its connection
  std::this_thread::sleep_for(milliseconds{200});
  Client d(small.port(), w.pki.caCert(), &w.deviceCert);
  CHECK(d.get("/v1/health").status == 200);

  // A parked pull whose device gives up (its own timeout closes the connection) frees its
  // connection at once, not when its 30 s wait ends.
  b.setTimeoutSeconds(1);
  const std::string cursor = quiescentCursor(b);
  auto gaveUp = b.get("/v1/pull?wait=30&after=" + cursor);
  CHECK(gaveUp.curlCode != 0);  // curl's timeout, the pull was parked
  b.setTimeoutSeconds(60);
  std::this_thread::sleep_for(milliseconds{300});
  auto again = b.get("/v1/health");  // a new connection: refused if the parked one still counted
  CAPTURE(small.log());
  CHECK(again.status == 200);
  CHECK(small.stop() == 0);
}

TEST_CASE("SIGTERM stops the hub cleanly: exit 0, and no sanitizer report in its log") {
  auto& w = world();
  REQUIRE(w.hub->running());
  CHECK(w.hub->stop() == 0);
  const std::string log = w.hub->log();
  CHECK(log.find("<6>anteroom-hub: stopping") != std::string::npos);
  const auto report = log.find("Sanitizer");
  INFO((report == std::string::npos ? std::string() : log.substr(report > 300 ? report - 300 : 0, 4000)));
  CHECK(report == std::string::npos);
  CHECK(log.find("runtime error:") == std::string::npos);
}
