// Security end to end (label e2e): who the hub refuses (no client certificate, another CA's,
// an unknown and a revoked device, TLS 1.1), what the daemon refuses (a hub whose key is not
// pinned), practice isolation through the real hub, bad bodies answered 400/413 while the hub
// keeps serving, and sslscan with the device certificate finding nothing below TLS 1.2 and no
// weak cipher.
#include <doctest/doctest.h>

#include <regex>

#include "anteroom/model/records.hpp"
#include "anteroom/sync/messages.hpp"
#include "support/fault_proxy.hpp"
#include "support/practice.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono_literals;

namespace {

HttpAnswer health(const TestPractice& p, int port, const Enrolled* device, std::vector<std::string> curlArgs = {}) {
  HttpRequest r;
  r.device = device;
  r.curlArgs = std::move(curlArgs);
  return https(p, port, r);
}

HttpAnswer push(const TestPractice& p, int port, const Enrolled& device, const std::filesystem::path& body,
                std::vector<std::string> headers = {}) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/v1/push";
  r.device = &device;
  r.bodyFile = body;
  r.headers = std::move(headers);
  r.headers.push_back("Content-Type: application/json");
  return https(p, port, r);
}

// openssl s_client with one protocol version forced; true when the handshake completed.
bool handshakes(const TestPractice& p, int port, const Enrolled& device, const std::string& versionFlag) {
  auto r = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port), versionFlag,
                // Level 0 lets this client offer TLS 1.1 at all: the refusal must be the hub's.
                "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", (p.caDir() / "ca.crt").string(), "-cert",
                (device.dir / "device.crt").string(), "-key", (device.dir / "device.key").string(), "-servername",
                "127.0.0.1"},
               20s);
  const std::string all = r.out + r.err;
  return all.find("Cipher is (NONE)") == std::string::npos && all.find("New, TLS") != std::string::npos &&
         all.find("Verify return code: 0 (ok)") != std::string::npos;
}

}  // namespace

TEST_CASE("e2e security: certificates, revocation, pins and protocol versions") {
  TestPractice practice;
  Hub hub = practice.startHub();
  Kiosk& a = practice.addKiosk("kiosk-a");

  SUBCASE("an enrolled device is served; no client certificate is refused at the handshake") {
    auto ok = health(practice, hub.port, &a.device);
    CHECK_MESSAGE(ok.status == 200, ok.curlError << ok.body);
    CHECK(ok.body.find("\"ok\"") != std::string::npos);
    auto none = health(practice, hub.port, nullptr);
    CHECK_MESSAGE(none.status == 0, "answered " << none.status << " without a client certificate");
  }

  SUBCASE("another CA's certificate is refused; an unenrolled one of the practice CA gets 403") {
    // A second practice CA: its device certificate does not verify against this hub's client_ca.
    const auto otherCa = practice.dir() / "other-ca";
    auto ca = run({binary("anteroom-admin").string(), "ca", "init", "--dir", otherCa.string(), "--hub-host", "127.0.0.1"});
    REQUIRE(ca.exitCode == 0);
    const auto otherDev = practice.dir() / "other-device";
    auto en = run({binary("anteroom-admin").string(), "device", "enroll", "--ca-dir", otherCa.string(), "--dsn",
                   practice.superDsn(), "--practice-id", practice.practice().id.toString(), "--out", otherDev.string()});
    REQUIRE_MESSAGE(en.exitCode == 0, en.err);
    Enrolled foreign{"foreign", *Uuid::parse(en.lastLine()), otherDev};
    CHECK(health(practice, hub.port, &foreign).status == 0);

    // Signed by the practice CA, but the hub does not know its fingerprint.
    Enrolled ghost = practice.enroll("ghost");
    practice.centralExec(practice.practice().id, "DELETE FROM device WHERE device_id = $1::uuid", {ghost.deviceId.toString()});
    auto unknown = health(practice, hub.port, &ghost);
    CHECK(unknown.status == 403);
    CHECK(unknown.errorCode() == "hub.unknown_device");
  }

  SUBCASE("a revoked device is refused from its next request, and its daemon says so") {
    auto first = practice.syncOnce(a, hub.port);
    REQUIRE_MESSAGE(first.exitCode == 0, first.err);
    practice.revoke(a.device.deviceId);
    auto h = health(practice, hub.port, &a.device);
    CHECK(h.status == 403);
    CHECK(h.errorCode() == "hub.revoked_device");
    auto again = practice.syncOnce(a, hub.port);
    CHECK(again.exitCode == 1);
    CHECK_MESSAGE(again.err.find("revoked") != std::string::npos, again.err);
    CHECK(hub.process.output().find("hub.revoked_device") != std::string::npos);
  }

  SUBCASE("the daemon refuses a hub whose key is not pinned") {
    const auto otherCa = practice.dir() / "pin-ca";
    auto ca = run({binary("anteroom-admin").string(), "ca", "init", "--dir", otherCa.string(), "--hub-host", "127.0.0.1"});
    REQUIRE(ca.exitCode == 0);
    DaemonSpec spec;
    spec.extra["pins"] = "[\"" + ca.lastLine() + "\"]";
    auto r = practice.syncOnce(a, hub.port, 60s, spec);
    CHECK(r.exitCode == 1);
    CHECK(a.store->syncValue("last_success_at").value_or(std::nullopt).value_or("") == "");
    // The right pins (current and backup) work.
    DaemonSpec good;
    good.extra["pins"] = "[\"" + practice.hubPin() + "\", \"" + practice.backupPin() + "\"]";
    auto ok = practice.syncOnce(a, hub.port, 60s, good);
    CHECK_MESSAGE(ok.exitCode == 0, ok.err);
  }

  SUBCASE("TLS 1.1 and 1.0 are refused, 1.2 and 1.3 complete") {
    CHECK_FALSE(handshakes(practice, hub.port, a.device, "-tls1_1"));
    CHECK_FALSE(handshakes(practice, hub.port, a.device, "-tls1"));
    CHECK(handshakes(practice, hub.port, a.device, "-tls1_2"));
    CHECK(handshakes(practice, hub.port, a.device, "-tls1_3"));
    auto curl11 = health(practice, hub.port, &a.device, {"--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0"});
    CHECK(curl11.status == 0);
  }
}

TEST_CASE("e2e security: practice A's device can neither read nor write practice B's rows") {
  TestPractice practice;
  Hub hub = practice.startHub();
  const SeededPractice other = practice.seedPractice("other");
  Kiosk& a = practice.addKiosk("kiosk-a");
  Kiosk& b = practice.addKiosk("kiosk-b", other.id);
  REQUIRE(practice.syncOnce(a, hub.port).exitCode == 0);
  REQUIRE(practice.syncOnce(b, hub.port).exitCode == 0);
  // Reading: each store holds its own practice's rows and none of the other's.
  CHECK(a.store->get<Patient>(practice.practice().patients[0]).value_or(std::nullopt).has_value());
  CHECK(b.store->get<Patient>(other.patients[0]).value_or(std::nullopt).has_value());
  for (const auto& id : other.patients) CHECK_FALSE(a.store->get<Patient>(id).value_or(std::nullopt).has_value());
  for (const auto& id : other.appointments) CHECK_FALSE(a.store->get<Appointment>(id).value_or(std::nullopt).has_value());
  for (const auto& id : practice.practice().patients) CHECK_FALSE(b.store->get<Patient>(id).value_or(std::nullopt).has_value());

  // Writing: A's device pushes an edit of B's patient and an entry on B's waitlist.
  const auto before = practice.centralValue("SELECT row_version || ':' || md5(phone::text) FROM patient WHERE patient_id = $1::uuid",
                                            {other.patients[0].toString()});
  const auto entriesBefore = practice.centralValue("SELECT count(*) FROM waitlist_entry WHERE waitlist_id = $1::uuid",
                                                   {other.waitlist.toString()});
  UuidGenerator ids;
  sync::PushRequest req;
  sync::Mutation edit;
  edit.mutationId = ids.v7(nowUtc());
  edit.deviceSeq = 1000001;
  edit.entity = "patient";
  edit.id = other.patients[0];
  edit.kind = sync::MutationKind::Update;
  edit.changes["phone"] = Json("+15415559999");
  edit.prior["phone"] = Json("+15415550199");
  edit.baseVersion = 1;
  {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(nowUtc().time_since_epoch()).count();
    const std::string digits = std::to_string(ms);
    edit.hlc = std::string(16 - digits.size(), '0') + digits + "-0000000000-dev";
  }
  req.mutations.push_back(edit);
  sync::Mutation entry;
  entry.mutationId = ids.v7(nowUtc());
  entry.deviceSeq = 1000002;
  entry.entity = "waitlist_entry";
  entry.id = ids.v7(nowUtc());
  entry.kind = sync::MutationKind::Insert;
  entry.changes["waitlist_id"] = Json(other.waitlist.toString());
  entry.changes["patient_id"] = Json(other.patients[1].toString());
  entry.hlc = edit.hlc;
  req.mutations.push_back(entry);
  const auto body = practice.dir() / "cross.json";
  writeFile(body, sync::encode(req));
  auto answer = push(practice, hub.port, a.device, body);
  MESSAGE("cross-practice push answered " << answer.status << " " << answer.errorCode());
  CHECK(answer.status != 0);
  CHECK(answer.status != 500);
  CHECK(practice.centralValue("SELECT row_version || ':' || md5(phone::text) FROM patient WHERE patient_id = $1::uuid",
                              {other.patients[0].toString()}) == before);
  CHECK(practice.centralValue("SELECT count(*) FROM waitlist_entry WHERE waitlist_id = $1::uuid", {other.waitlist.toString()}) ==
        entriesBefore);
  CHECK(practice.centralValue("SELECT count(*) FROM waitlist_entry WHERE entry_id = $1::uuid", {entry.id.toString()}) ==
        "0");
  // And B's own device still syncs, seeing none of it.
  CHECK(practice.syncOnce(b, hub.port).exitCode == 0);
  CHECK_FALSE(b.store->get<WaitlistEntry>(entry.id).value_or(std::nullopt).has_value());
}

TEST_CASE("e2e security: malformed, truncated, gzip-bomb and oversize bodies; the hub keeps serving") {
  TestPractice practice;
  Hub hub = practice.startHub();
  Kiosk& a = practice.addKiosk("kiosk-a");
  REQUIRE(practice.syncOnce(a, hub.port).exitCode == 0);
  const auto dir = practice.dir();

  writeFile(dir / "malformed.json", "{\"schemaVersion\": 2, \"mutations\": [ {\"mutationId\": ");
  writeFile(dir / "notjson.json", "this is not JSON at all");
  writeFile(dir / "wrongshape.json", "[1, 2, 3]");
  auto malformed = push(practice, hub.port, a.device, dir / "malformed.json");
  CHECK(malformed.status == 400);
  CHECK(malformed.errorCode().starts_with("protocol."));
  CHECK(push(practice, hub.port, a.device, dir / "notjson.json").status == 400);
  CHECK(push(practice, hub.port, a.device, dir / "wrongshape.json").status == 400);

  // A body that claims gzip but is not, and a gzip stream cut short.
  auto badGzip = push(practice, hub.port, a.device, dir / "notjson.json", {"Content-Encoding: gzip"});
  CHECK(badGzip.status == 400);
  CHECK(badGzip.errorCode().starts_with("protocol."));
  sync::PushRequest empty;
  writeFile(dir / "empty.json", sync::encode(empty));
  REQUIRE(run({"sh", "-c", "gzip -c " + (dir / "empty.json").string() + " | head -c 20 > " + (dir / "cut.gz").string()}).exitCode == 0);
  CHECK(push(practice, hub.port, a.device, dir / "cut.gz", {"Content-Encoding: gzip"}).status == 400);

  // A gzip bomb: 64 MiB of zeros in about 64 KiB stops at the 8 MiB ceiling.
  REQUIRE(run({"sh", "-c", "head -c 67108864 /dev/zero | gzip -9 > " + (dir / "bomb.gz").string()}).exitCode == 0);
  auto bomb = push(practice, hub.port, a.device, dir / "bomb.gz", {"Content-Encoding: gzip"});
  CHECK(bomb.status == 413);
  CHECK(bomb.errorCode() == "protocol.too_large");
  // Oversize as sent: 9 MiB.
  REQUIRE(run({"sh", "-c", "head -c 9437184 /dev/zero | tr '\\\\0' ' ' > " + (dir / "big.json").string()}).exitCode == 0);
  auto big = push(practice, hub.port, a.device, dir / "big.json");
  CHECK(big.status == 413);

  // Bad queries, routes and methods.
  HttpRequest q;
  q.device = &a.device;
  for (const char* path : {"/v1/pull?limit=0", "/v1/pull?limit=abc", "/v1/pull?wait=99", "/v1/pull?after=%%%not-a-cursor"}) {
    q.path = path;
    auto r = https(practice, hub.port, q);
    CHECK_MESSAGE(r.status == 400, path << " answered " << r.status << " " << r.body);
  }
  q.path = "/v1/nothing-here";
  CHECK(https(practice, hub.port, q).status == 404);
  q.path = "/v1/push";
  q.method = "GET";
  CHECK(https(practice, hub.port, q).status == 405);

  // A request cut off mid-body by the network.
  std::string error;
  auto proxy = FaultProxy::start(hub.port, error);
  REQUIRE(proxy != nullptr);
  FaultSettings s;
  s.mode = FaultMode::ResetAfter;
  s.resetAfterBytes = 3000;
  proxy->set(s);
  writeFile(dir / "long.json", std::string(200000, ' ') + sync::encode(empty));
  CHECK(push(practice, proxy->port(), a.device, dir / "long.json").status == 0);

  // Still serving: health, and a real sync.
  CHECK(hub.process.running());
  CHECK(health(practice, hub.port, &a.device).status == 200);
  walkIn(practice, a, practice.practice());
  auto after = practice.syncOnce(a, hub.port);
  CHECK_MESSAGE(after.exitCode == 0, after.err);
  // One log line per error, with the code, and no stack or PHI.
  const std::string log = hub.process.output();
  CHECK(log.find("protocol.too_large") != std::string::npos);
  CHECK(log.find("walkin") == std::string::npos);
}

TEST_CASE("e2e security: sslscan with the device certificate finds nothing below TLS 1.2 and no weak cipher") {
  TestPractice practice;
  Hub hub = practice.startHub();
  Kiosk& a = practice.addKiosk("kiosk-a");
  const auto xml = practice.dir() / "sslscan.xml";
  auto r = run({"sslscan", "--no-colour", "--certs=" + (a.device.dir / "device.crt").string(),
                "--pk=" + (a.device.dir / "device.key").string(), "--xml=" + xml.string(), "127.0.0.1:" + std::to_string(hub.port)},
               240s);
  REQUIRE_MESSAGE(r.exitCode == 0, r.err);
  const std::string text = readFile(xml);
  REQUIRE(!text.empty());
  // <protocol type="tls" version="1.1" enabled="0" />
  const std::regex protocol(R"re(<protocol type="(\w+)" version="([\d.]+)" enabled="(\d)")re");
  int enabledGood = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), protocol); it != std::sregex_iterator(); ++it) {
    const std::string type = (*it)[1], version = (*it)[2], enabled = (*it)[3];
    const bool good = type == "tls" && (version == "1.2" || version == "1.3");
    if (enabled == "1") {
      CHECK_MESSAGE(good, type << " " << version << " is enabled");
      if (good) ++enabledGood;
    }
  }
  CHECK(enabledGood >= 1);
  // <cipher status="accepted" sslversion="TLSv1.2" bits="256" cipher="ECDHE-ECDSA-AES256-GCM-SHA384" ...
  const std::regex cipher(R"re(<cipher status="(\w+)" sslversion="([\w.]+)" bits="(\d+)" cipher="([\w-]+)")re");
  int accepted = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), cipher); it != std::sregex_iterator(); ++it) {
    const std::string version = (*it)[2], name = (*it)[4];
    const int bits = std::stoi((*it)[3]);
    ++accepted;
    CHECK_MESSAGE((version == "TLSv1.2" || version == "TLSv1.3"), name << " accepted over " << version);
    CHECK_MESSAGE(bits >= 128, name << " has " << bits << " bits");
    if (version == "TLSv1.2") {
      const bool strong = name.starts_with("ECDHE-") && (name.find("GCM") != std::string::npos || name.find("CHACHA20") != std::string::npos);
      CHECK_MESSAGE(strong, name << " is not ECDHE with AES-GCM or ChaCha20");
    } else {
      const bool strong = name.find("GCM") != std::string::npos || name.find("CHACHA20") != std::string::npos;
      CHECK_MESSAGE(strong, name << " is not an AEAD suite");
    }
  }
  CHECK(accepted >= 1);
  // The scan completed its handshakes with the device certificate (sslscan found ciphers only
  // because the hub accepted the certificate).
  CHECK(text.find("<cipher") != std::string::npos);
}
