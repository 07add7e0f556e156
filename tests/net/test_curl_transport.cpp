// anteroom-syncd's transport and supervisor against a canned HTTPS server (label net): the
// hub's identity (pins, CA), stalls, resets, Retry-After, gzip both ways, malformed answers,
// the long-poll abort hook, the backoff table, the local-write watcher, and the config errors.
#include <doctest/doctest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../store/fixture.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/curl_transport.hpp"
#include "anteroom/sync/messages.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"
#include "supervisor.hpp"
#include "syncd_config.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

// [SECTION] Fixtures
const CannedPki& pki() {
  static TempDir dir("anteroom-pki-");
  static CannedPki made = CannedPki::make(dir.path());
  return made;
}

sync::CurlOptions clientOptions(const TlsTestServer& server, std::vector<std::string> pins) {
  sync::CurlOptions o;
  o.hubUrl = server.url();
  o.caFile = pki().caCert;
  o.pins = std::move(pins);
  o.certFile = pki().deviceCert;
  o.keyFile = pki().deviceKey;
  o.connectTimeout = 5s;
  o.totalTimeout = 20s;
  o.lowSpeedTime = 15s;
  return o;
}

std::unique_ptr<sync::CurlTransport> transportFor(const TlsTestServer& server, std::vector<std::string> pins) {
  auto t = sync::CurlTransport::create(clientOptions(server, std::move(pins)));
  if (!t) FAIL("transport: " << t.error().message);
  return std::move(*t);
}

sync::PullResponse page(std::string cursor, bool more = false) {
  sync::PullResponse r;
  r.cursor = std::move(cursor);
  r.more = more;
  return r;
}

CannedReply json(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  CannedReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

CannedReply errorReply(int status, std::string code, bool transient = false,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  return json(status, sync::encode(sync::ErrorBody{std::move(code), "canned refusal", transient}), std::move(headers));
}

// A hub that applies every pushed mutation and answers pulls with an empty page (cursor c1.N).
CannedReply cannedHub(const HttpRequest& r, std::atomic<int>& pulls) {
  if (r.method == "POST" && r.target == "/v1/push") {
    auto request = sync::decodePushRequest(r.decodedBody);
    if (!request) return errorReply(400, "protocol.malformed");
    sync::PushResponse response;
    for (const auto& m : request->mutations) {
      sync::MutationResult result;
      result.mutationId = m.mutationId;
      result.deviceSeq = m.deviceSeq;
      result.status = sync::ResultStatus::Applied;
      result.rowVersion = 1;
      response.results.push_back(result);
    }
    return json(200, sync::encode(response));
  }
  if (r.method == "GET" && r.target.starts_with("/v1/pull")) return json(200, sync::encode(page("c1." + std::to_string(++pulls))));
  return errorReply(404, "http.not_found");
}

TlsServerOptions hubOptions(Handler handler) {
  return TlsServerOptions{pki().hubCert, pki().hubKey, pki().caCert, std::move(handler)};
}

// What went wrong, for a message ("" when nothing did: never touch error() of a value).
template <class T, class E>
std::string why(const std::expected<T, E>& r) {
  if (r) return {};
  if constexpr (std::is_same_v<E, std::string>) {
    return r.error();
  } else {
    return r.error().code + ": " + r.error().message;
  }
}

std::string stateOf(store::Store& s, std::string_view key) { return s.syncValue(key).value_or(std::nullopt).value_or(""); }

}  // namespace

TEST_CASE("the test PKI was made") {
  REQUIRE_MESSAGE(pki().error.empty(), pki().error);
  CHECK(pki().hubPin.size() == 8 + 44);
  CHECK(pki().hubPin != pki().otherHubPin);
}

// [SECTION] The hub's identity
TEST_CASE("pins: the right pin is accepted, a backup pin is accepted, a wrong pin is refused") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  SUBCASE("the current pin") {
    TlsTestServer server(hubOptions([&](const HttpRequest& r) { return cannedHub(r, pulls); }));
    REQUIRE(server.ok());
    auto t = transportFor(server, {pki().hubPin});
    auto r = t->pull(sync::PullRequest{"", 100, 0});
    REQUIRE_MESSAGE(r.has_value(), why(r));
    CHECK(r->cursor == "c1.1");
    auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("anteroom-schema-version") == std::to_string(sync::kSchemaVersion));
    CHECK(requests[0].header("accept-encoding").find("gzip") != std::string::npos);
    CHECK(requests[0].target == "/v1/pull?after=&limit=100&wait=0&schema=" + std::to_string(sync::kSchemaVersion));
  }
  SUBCASE("the hub moved to its backup key: the backup pin lets it in") {
    TlsTestServer server({pki().otherHubCert, pki().otherHubKey, pki().caCert, [&](const HttpRequest& r) { return cannedHub(r, pulls); }});
    REQUIRE(server.ok());
    auto t = transportFor(server, {pki().hubPin, pki().otherHubPin});
    auto r = t->pull(sync::PullRequest{});
    REQUIRE_MESSAGE(r.has_value(), why(r));
  }
  SUBCASE("a key that is not pinned, even under the practice CA, is refused in plain words") {
    TlsTestServer server({pki().otherHubCert, pki().otherHubKey, pki().caCert, [&](const HttpRequest& r) { return cannedHub(r, pulls); }});
    REQUIRE(server.ok());
    auto t = transportFor(server, {pki().hubPin});
    auto r = t->pull(sync::PullRequest{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "sync.hub_identity");
    CHECK_FALSE(r.error().isTransient());
    CHECK(r.error().message.find("the hub's identity does not match") != std::string::npos);
    CHECK(server.requests().empty());
  }
}

TEST_CASE("a hub certificate from a CA other than the practice's is refused, even with its pin") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server({pki().foreignHubCert, pki().foreignHubKey, pki().caCert, [&](const HttpRequest& r) { return cannedHub(r, pulls); }});
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().foreignHubPin});
  auto r = t->pull(sync::PullRequest{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.hub_identity");
  CHECK_FALSE(r.error().isTransient());
  CHECK(server.requests().empty());
}

TEST_CASE("bad transport options are refused, naming the option") {
  REQUIRE(pki().error.empty());
  TlsTestServer server(hubOptions({}));
  auto o = clientOptions(server, {pki().hubPin});
  o.hubUrl = "http://127.0.0.1:1";
  CHECK(sync::CurlTransport::create(o).error().message.starts_with("hub_url:"));
  o = clientOptions(server, {"sha256//short"});
  CHECK(sync::CurlTransport::create(o).error().message.starts_with("pins:"));
  o = clientOptions(server, {});
  CHECK(sync::CurlTransport::create(o).error().message.starts_with("pins:"));
  o = clientOptions(server, {pki().hubPin});
  o.caFile = "/nonexistent/ca.crt";
  CHECK(sync::CurlTransport::create(o).error().message.starts_with("ca:"));
}

// [SECTION] Faults on the wire
TEST_CASE("a stalled answer is aborted within low_speed_time, as a transient timeout") {
  REQUIRE(pki().error.empty());
  TlsTestServer server(hubOptions([](const HttpRequest&) {
    CannedReply r = json(200, sync::encode(page("c1.1")) + std::string(4000, ' '));
    r.gzipWhenAccepted = false;
    r.stallAfter = 10;
    return r;
  }));
  REQUIRE(server.ok());
  auto o = clientOptions(server, {pki().hubPin});
  o.lowSpeedTime = 2s;
  auto t = sync::CurlTransport::create(o);
  REQUIRE(t.has_value());
  const auto start = SteadyClock::now();
  auto r = (*t)->pull(sync::PullRequest{});
  const auto took = SteadyClock::now() - start;
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.timeout");
  CHECK(r.error().isTransient());
  CHECK(took >= 1500ms);
  CHECK(took < 5s);
  MESSAGE("stall aborted after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (low_speed_time 2 s)");
}

TEST_CASE("a connection reset mid-body is a transient lost connection") {
  REQUIRE(pki().error.empty());
  TlsTestServer server(hubOptions([](const HttpRequest&) {
    CannedReply r = json(200, sync::encode(page("c1.1")) + std::string(4000, ' '));
    r.gzipWhenAccepted = false;
    r.resetAfter = 20;
    return r;
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  auto r = t->pull(sync::PullRequest{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().domain == ErrorDomain::Network);
  CHECK(r.error().isTransient());
  CHECK(r.error().code == "sync.connection_lost");
}

TEST_CASE("a hub that is not listening is a transient 'cannot be reached'") {
  REQUIRE(pki().error.empty());
  int port = 0;
  {
    TlsTestServer gone(hubOptions({}));
    port = gone.port();
  }
  sync::CurlOptions o;
  o.hubUrl = "https://127.0.0.1:" + std::to_string(port);
  o.caFile = pki().caCert;
  o.pins = {pki().hubPin};
  o.certFile = pki().deviceCert;
  o.keyFile = pki().deviceKey;
  auto t = sync::CurlTransport::create(o);
  REQUIRE(t.has_value());
  auto r = (*t)->pull(sync::PullRequest{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.offline");
  CHECK(r.error().isTransient());
}

// [SECTION] The hub's answers mapped to errors (the contract's table)
TEST_CASE("refusals map to domains and codes") {
  REQUIRE(pki().error.empty());
  struct Row {
    CannedReply reply;
    ErrorDomain domain;
    std::string code;
    bool transient;
  };
  const std::vector<Row> rows = {
      {errorReply(503, "hub.database", true, {{"Retry-After", "7"}}), ErrorDomain::Network, "hub.database", true},
      {json(502, "<html>bad gateway</html>", {{"Content-Type", "text/html"}}), ErrorDomain::Network, "hub.unavailable", true},
      {errorReply(409, "sync.resync"), ErrorDomain::Conflict, "sync.resync", false},
      {errorReply(409, "sync.schema_version"), ErrorDomain::Conflict, "sync.schema_version", false},
      {errorReply(409, "sync.device_restored"), ErrorDomain::Conflict, "sync.device_restored", false},
      {errorReply(403, "hub.revoked_device"), ErrorDomain::Conflict, "hub.revoked_device", false},
      {errorReply(403, "hub.unknown_device"), ErrorDomain::Conflict, "hub.unknown_device", false},
      {errorReply(400, "protocol.cursor"), ErrorDomain::Protocol, "protocol.cursor", false},
      {errorReply(413, "protocol.too_large"), ErrorDomain::Protocol, "protocol.too_large", false},
      {errorReply(404, "http.not_found"), ErrorDomain::Protocol, "http.not_found", false},
  };
  std::size_t current = 0;
  TlsTestServer server(hubOptions([&](const HttpRequest&) { return rows[current].reply; }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  for (current = 0; current < rows.size(); ++current) {
    CAPTURE(current);
    auto r = t->pull(sync::PullRequest{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().domain == rows[current].domain);
    CHECK(r.error().code == rows[current].code);
    CHECK(r.error().isTransient() == rows[current].transient);
    CHECK_FALSE(r.error().message.empty());
    if (current == 0) {
      REQUIRE(t->lastRetryAfter().has_value());
      CHECK(*t->lastRetryAfter() == 7s);
    } else {
      CHECK_FALSE(t->lastRetryAfter().has_value());
    }
  }
  // One handle, kept alive across answers (errors included).
  CHECK(server.connections() == 1);
}

TEST_CASE("a malformed answer is a Protocol error, never a crash") {
  REQUIRE(pki().error.empty());
  std::string body;
  TlsTestServer server(hubOptions([&](const HttpRequest&) { return json(200, body); }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  for (const std::string& bad : {std::string("{not json"), std::string("[]"), std::string(R"({"changes":"x","cursor":1})"),
                                 std::string("")}) {
    CAPTURE(bad);
    body = bad;
    auto r = t->pull(sync::PullRequest{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().domain == ErrorDomain::Protocol);
    auto p = t->push(sync::PushRequest{});
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().domain == ErrorDomain::Protocol);
  }
}

TEST_CASE("an answer over the ceiling is refused while it arrives") {
  REQUIRE(pki().error.empty());
  TlsTestServer server(hubOptions([](const HttpRequest&) { return json(200, sync::encode(page(std::string(20000, 'c')))); }));
  REQUIRE(server.ok());
  auto o = clientOptions(server, {pki().hubPin});
  o.limits.maxBodyBytes = 4096;
  auto t = sync::CurlTransport::create(o);
  REQUIRE(t.has_value());
  auto r = (*t)->pull(sync::PullRequest{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "protocol.too_large");
}

// [SECTION] gzip both ways
TEST_CASE("gzip: the push body goes gzip'd and the gzip'd answer is read") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) { return cannedHub(r, pulls); }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});

  UuidGenerator ids{7};
  sync::PushRequest request;
  for (int i = 0; i < 100; ++i) {
    sync::Mutation m;
    m.mutationId = ids.v7(std::chrono::system_clock::now());
    m.deviceSeq = i + 1;
    m.entity = "appointment";
    m.id = ids.v7(std::chrono::system_clock::now());
    m.kind = sync::MutationKind::Update;
    m.changes["status"] = Json("checked_in");
    m.prior["status"] = Json("scheduled");
    m.baseVersion = 3;
    m.hlc = "0001764061200000-0000000000-dev";
    request.mutations.push_back(m);
  }
  auto response = t->push(request);
  REQUIRE_MESSAGE(response.has_value(), why(response));
  REQUIRE(response->results.size() == 100);
  CHECK(response->results[99].mutationId == request.mutations[99].mutationId);

  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("content-encoding") == "gzip");
  CHECK(seen[0].body.size() < seen[0].decodedBody.size() / 3);
  auto decoded = sync::decodePushRequest(seen[0].decodedBody);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == request);
  const auto stats = t->stats();
  CHECK(stats.requestBodyBytes == seen[0].body.size());
  // The answer came gzip'd: fewer bytes on the wire than its JSON.
  CHECK(stats.responseBytes < sync::encode(*response).size());
  MESSAGE("100 check-ins: " << seen[0].decodedBody.size() << " bytes of JSON, " << seen[0].body.size()
                            << " gzip'd (" << static_cast<double>(seen[0].body.size()) / 100.0 << " bytes a mutation)");
}

// [SECTION] The abort hook
TEST_CASE("the abort hook ends a parked long-poll within a second, and leaves other requests alone") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) {
    CannedReply reply = cannedHub(r, pulls);
    if (r.target.find("wait=25") != std::string::npos) reply.delay = 20s;
    return reply;
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});

  std::thread cutter([&] {
    std::this_thread::sleep_for(300ms);
    t->interruptLongPoll();
  });
  const auto start = SteadyClock::now();
  auto r = t->pull(sync::PullRequest{"", 500, 25});
  const auto took = SteadyClock::now() - start;
  cutter.join();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == "sync.interrupted");
  CHECK(took < 1300ms);
  MESSAGE("long-poll cut after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (cut at 300 ms)");

  // Still set: a request without a wait goes through; the next long-poll would be cut at once.
  auto quick = t->pull(sync::PullRequest{"", 500, 0});
  CHECK_MESSAGE(quick.has_value(), why(quick));
  auto again = t->pull(sync::PullRequest{"", 500, 25});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "sync.interrupted");
  t->clearInterrupt();

  // stop(): the transfer in flight ends, and nothing more is sent.
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    t->stop();
  });
  auto stopped = t->pull(sync::PullRequest{"", 500, 25});
  stopper.join();
  REQUIRE_FALSE(stopped.has_value());
  CHECK(stopped.error().code == "sync.stopped");
  const auto before = server.requests().size();
  CHECK(t->pull(sync::PullRequest{}).error().code == "sync.stopped");
  CHECK(server.requests().size() == before);
}

// [SECTION] Backoff: a table of attempts and where the delay must fall
TEST_CASE("backoff grows from 1 s to the 5 minute cap with full jitter, and honours Retry-After") {
  const sync::BackoffPolicy policy;  // 1 s .. 300 s
  struct Row {
    unsigned attempt;
    double unit;
    bool transient;
    std::optional<std::chrono::seconds> retryAfter;
    std::chrono::milliseconds expected;
  };
  const Row rows[] = {
      {0, 0.0, true, std::nullopt, 1000ms},     // the floor
      {0, 0.999, true, std::nullopt, 1000ms},   // attempt 0: ceiling = base
      {1, 0.0, true, std::nullopt, 1000ms},
      {1, 0.5, true, std::nullopt, 1500ms},     // uniform in [1 s, 2 s]
      {3, 0.5, true, std::nullopt, 4500ms},     // [1 s, 8 s]
      {8, 1.0, true, std::nullopt, 256000ms},   // 2^8 s
      {9, 1.0, true, std::nullopt, 300000ms},   // capped
      {40, 0.5, true, std::nullopt, 150500ms},  // no overflow far past the cap
      {1000, 1.0, true, std::nullopt, 300000ms},
      {0, 0.0, true, 7s, 7000ms},               // Retry-After is a floor
      {5, 0.9, true, 7s, 28900ms},              // ... below the jittered delay it changes nothing
      {0, 0.0, true, 3600s, 300000ms},          // ... and is itself capped
      {0, 0.0, false, std::nullopt, 150000ms},  // not transient: half the cap to the cap
      {0, 1.0, false, std::nullopt, 300000ms},
  };
  for (const auto& row : rows) {
    CAPTURE(row.attempt);
    CAPTURE(row.unit);
    CHECK(sync::backoffDelay(policy, row.attempt, row.unit, row.transient, row.retryAfter) == row.expected);
  }
  // Random points stay within [base, min(cap, base * 2^attempt)].
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (unsigned attempt = 0; attempt < 20; ++attempt) {
    const auto ceiling = std::min<std::chrono::milliseconds>(1000ms * (1LL << std::min(attempt, 20U)), 300000ms);
    std::chrono::milliseconds lo = ceiling, hi{0};
    for (int i = 0; i < 200; ++i) {
      const auto d = sync::backoffDelay(policy, attempt, unit(rng), true, std::nullopt);
      REQUIRE(d >= 1000ms);
      REQUIRE(d <= ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    if (attempt >= 3) CHECK(hi - lo > (ceiling - 1000ms) / 2);  // jitter spreads, not a constant
  }
}

// [SECTION] The supervisor with a store
namespace {

struct DaemonStores {
  test::TempDir dir;
  store::SecretKey key = test::newKey();
  store::Store daemon = test::openStore(dir / "store.db", key);
  store::Store watcher = test::openStore(dir / "store.db", key);
  store::Store kiosk = test::openStore(dir / "store.db", key);
};

sync::SupervisorOptions quietOptions() {
  sync::SupervisorOptions o;
  o.watchNetwork = false;
  o.seed = 42;
  return o;
}

template <class Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
  const auto until = SteadyClock::now() + timeout;
  while (SteadyClock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

}  // namespace

TEST_CASE("the supervisor's next delay honours the hub's 503 Retry-After, and the status says so") {
  REQUIRE(pki().error.empty());
  TlsTestServer server(hubOptions([](const HttpRequest&) { return errorReply(503, "hub.database", true, {{"Retry-After", "7"}}); }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, quietOptions());
  const Instant started = nowUtc();
  std::thread runner([&] { supervisor.run(); });
  const bool failed = waitUntil([&] { return supervisor.stats().failures >= 1; }, 5s);
  // Let the status commit land, then look at it from another connection (as the kiosk does).
  const bool recorded = waitUntil([&] { return stateOf(stores.kiosk, sync::kLastErrorCodeKey) == "hub.database"; }, 2s);
  const auto requestsAtFailure = server.requests().size();
  std::this_thread::sleep_for(1500ms);
  const auto requestsLater = server.requests().size();
  const auto stopAsked = SteadyClock::now();
  supervisor.requestStop();
  runner.join();
  const auto stopTook = SteadyClock::now() - stopAsked;
  REQUIRE(failed);
  REQUIRE(recorded);
  const auto stats = supervisor.stats();
  CHECK(stats.lastDelay >= 7000ms);
  CHECK(stats.lastDelay <= 300000ms);
  CHECK(requestsLater == requestsAtFailure);  // nothing sent during the wait
  auto next = parseInstant(stateOf(stores.kiosk, sync::kNextAttemptKey));
  REQUIRE(next.has_value());
  CHECK(*next - started >= 6s);
  const std::string words = stateOf(stores.kiosk, sync::kLastErrorKey);
  CHECK(words.find("the hub is unavailable") != std::string::npos);
  CHECK(words.find("trying again") != std::string::npos);
  CHECK(stateOf(stores.kiosk, sync::kLastSuccessKey).empty());
  CHECK(stopTook < 1s);
}

TEST_CASE("a local write cuts the long-poll and is pushed within a second; the daemon's own writes do not wake it") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  std::atomic<int> pushes{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) {
    if (r.method == "POST") ++pushes;
    CannedReply reply = cannedHub(r, pulls);
    // A parked long-poll that the hub answers after a while with a new cursor: the daemon
    // commits each page (cursor, audit), which moves data_version for the watcher.
    if (r.target.find("wait=") != std::string::npos && r.target.find("wait=0") == std::string::npos) reply.delay = 400ms;
    return reply;
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  auto options = quietOptions();
  options.waitSeconds = 25;
  sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, options);
  std::thread runner([&] { supervisor.run(); });

  // Several pages applied by the daemon itself: no wake, no interrupted poll, no push.
  const bool paged = waitUntil([&] { return pulls.load() >= 5; }, 10s);
  CHECK(paged);
  CHECK(supervisor.stats().wakesByLocalWrite == 0);
  CHECK(supervisor.stats().interruptedPolls == 0);
  CHECK(pushes.load() == 0);
  CHECK_FALSE(stateOf(stores.kiosk, sync::kLastSuccessKey).empty());

  // Now park the next poll for long, and write on the kiosk's connection.
  server.setHandler([&](const HttpRequest& r) {
    if (r.method == "POST") ++pushes;
    CannedReply reply = cannedHub(r, pulls);
    if (r.target.find("wait=25") != std::string::npos) reply.delay = 20s;
    return reply;
  });
  std::this_thread::sleep_for(800ms);  // the daemon is parked in a 20 s poll
  test::SampleData data;
  const auto wrote = SteadyClock::now();
  REQUIRE(stores.kiosk.insert(data.patient, store::Actor::kiosk()).has_value());
  const bool pushed = waitUntil([&] { return pushes.load() >= 1; }, 3s);
  const auto took = SteadyClock::now() - wrote;
  CHECK(pushed);
  CHECK(took < 1s);
  CHECK(waitUntil([&] { return stores.kiosk.pendingOutboxCount().value_or(-1) == 0; }, 2s));
  MESSAGE("local write pushed after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(supervisor.stats().wakesByLocalWrite == 1);
  supervisor.requestStop();
  runner.join();
}

TEST_CASE("the network coming back ends a long backoff at once") {
  REQUIRE(pki().error.empty());
  std::atomic<bool> up{false};
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) {
    if (!up.load()) return errorReply(503, "hub.database", true);
    return cannedHub(r, pulls);
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  auto options = quietOptions();
  options.backoff.base = 60s;  // a retry would take a minute without the network event
  options.waitSeconds = 0;
  sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, options);
  std::thread runner([&] { supervisor.run(); });
  REQUIRE(waitUntil([&] { return supervisor.stats().failures >= 1; }, 5s));
  up.store(true);
  const auto event = SteadyClock::now();
  supervisor.notifyNetworkUp();
  const bool synced = waitUntil([&] { return !stateOf(stores.kiosk, sync::kLastSuccessKey).empty(); }, 5s);
  const auto took = SteadyClock::now() - event;
  supervisor.requestStop();
  runner.join();
  CHECK(synced);
  CHECK(took < 1s);
  CHECK(supervisor.stats().wakesByNetwork == 1);
  CHECK(stateOf(stores.kiosk, sync::kLastErrorKey).empty());
  CHECK(stateOf(stores.kiosk, sync::kLastErrorCodeKey).empty());
  CHECK(stateOf(stores.kiosk, sync::kNextAttemptKey).empty());
}

TEST_CASE("runOnce pushes and pulls to quiescence, and records the status") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) {
    if (r.target.starts_with("/v1/pull")) {
      const int n = ++pulls;
      return json(200, sync::encode(page("c1." + std::to_string(n), n < 3)));
    }
    return cannedHub(r, pulls);
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  test::SampleData data;
  REQUIRE(stores.kiosk.insert(data.patient, store::Actor::kiosk()).has_value());
  sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, quietOptions());
  auto r = supervisor.runOnce();
  REQUIRE_MESSAGE(r.has_value(), why(r));
  CHECK(r->pushed == 1);
  CHECK(r->acknowledged == 1);
  CHECK(r->pages == 3);
  CHECK(stores.kiosk.pendingOutboxCount().value_or(-1) == 0);
  CHECK(stateOf(stores.kiosk, "pull_cursor") == "c1.3");
  CHECK_FALSE(stateOf(stores.kiosk, sync::kLastSuccessKey).empty());
  for (const auto& req : server.requests()) {
    const bool noWait = req.method == "POST" || req.target.find("wait=0") != std::string::npos;
    CHECK(noWait);
  }
}

// [SECTION] Configuration
namespace {

std::string replaceLine(const std::string& text, const std::string& key, const std::string& line) {
  const auto at = text.find(key + " = ");
  REQUIRE(at != std::string::npos);
  const auto end = text.find('\n', at);
  return text.substr(0, at) + line + text.substr(end);
}

struct ConfigFiles {
  TempDir dir{"anteroom-syncd-config-"};
  std::filesystem::path db = dir / "store.db";
  std::filesystem::path keyFile = dir / "store.key";
  ConfigFiles() {
    writeFile(db, "not checked here", 0600);
    writeFile(keyFile, std::string(64, 'a') + "\n", 0600);
  }
  std::string good() const {
    return "db = \"" + db.string() + "\"\nkey_file = \"" + keyFile.string() + "\"\nhub_url = \"https://127.0.0.1:8443\"\nca = \"" +
           pki().caCert.string() + "\"\ncert = \"" + pki().deviceCert.string() + "\"\nkey = \"" + pki().deviceKey.string() +
           "\"\npins = [\"" + pki().hubPin + "\", \"" + pki().otherHubPin + "\"]\n";
  }
  std::expected<sync::SyncdConfig, std::string> parse(const std::string& text, std::vector<std::string> extra = {}) {
    const auto file = dir / "syncd.toml";
    writeFile(file, text, 0600);
    std::vector<std::string> args = {"anteroom-syncd", "--config", file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return sync::parseSyncdConfig(static_cast<int>(argv.size()), argv.data());
  }
};

}  // namespace

TEST_CASE("config: a good file, defaults, and flags that override it") {
  REQUIRE(pki().error.empty());
  ConfigFiles files;
  auto c = files.parse(files.good());
  REQUIRE_MESSAGE(c.has_value(), why(c));
  CHECK(c->curl.hubUrl == "https://127.0.0.1:8443");
  CHECK(c->curl.pins.size() == 2);
  CHECK(c->waitSeconds == 25);
  CHECK(c->curl.connectTimeout == 5s);
  CHECK(c->curl.totalTimeout == 60s);
  CHECK(c->curl.lowSpeedTime == 15s);
  CHECK_FALSE(c->once);
  auto o = files.parse(files.good() + "wait_s = 3\n", {"--once", "--wait_s", "7", "--hub-url=https://localhost:9443/",
                                                       "--pins", pki().otherHubPin});
  REQUIRE_MESSAGE(o.has_value(), why(o));
  CHECK(o->once);
  CHECK(o->waitSeconds == 7);
  CHECK(o->curl.hubUrl == "https://localhost:9443");
  CHECK(o->curl.pins == std::vector<std::string>{pki().otherHubPin});
}

TEST_CASE("config errors: one line naming the file, the line and the key") {
  REQUIRE(pki().error.empty());
  ConfigFiles files;
  const std::string file = (files.dir / "syncd.toml").string();
  struct Row {
    std::string text;
    std::vector<std::string> flags;
    std::string expected;  // the whole line, or its start
  };
  const std::string g = files.good();
  const std::vector<Row> rows = {
      {g + "colour = \"blue\"\n", {}, file + ":8: colour: unknown key"},
      {g + "wait_s = 31\n", {}, file + ":8: wait_s: must be between 0 and 30"},
      {g + "wait_s = \"ten\"\n", {}, file + ":8: wait_s: must be a whole number of seconds"},
      {g + "connect_timeout_s = 0\n", {}, file + ":8: connect_timeout_s: must be between 1 and 120"},
      {g.substr(g.find('\n') + 1), {}, file + ": db: is required"},
      {replaceLine(g, "hub_url", "hub_url = \"http://hub:80\""), {}, file + ":3: hub_url: must be an https:// URL"},
      {replaceLine(g, "hub_url", "hub_url = \"https://hub:80/v1\""), {}, file + ":3: hub_url: must be scheme, host and port only"},
      {g, {"--pins", "sha256//nope"}, "--pins: pins: \"sha256//nope\" is not sha256//"},
      {replaceLine(g, "pins", "pins = 3"), {}, file + ":7: pins: must be a list"},
      {replaceLine(g, "pins", "pins = []"), {}, file + ":7: pins: needs at least one pin"},
      {replaceLine(g, "ca", "ca = \"/nonexistent/ca.crt\""), {}, file + ":4: ca: /nonexistent/ca.crt does not exist"},
      {g, {"--wait_s", "x"}, "--wait_s: must be a whole number of seconds"},
      {g, {"--colour", "blue"}, "--colour: unknown option"},
      {g, {"--db", "/nonexistent/store.db"}, "--db: db: /nonexistent/store.db is not an existing store"},
      {"db = \n", {}, file + ":1: "},
  };
  for (const auto& row : rows) {
    CAPTURE(row.text);
    auto c = files.parse(row.text, row.flags);
    REQUIRE_FALSE(c.has_value());
    CHECK_MESSAGE(c.error().starts_with(row.expected), c.error());
    CHECK(c.error().find('\n') == std::string::npos);
  }
  // A duplicate key is TOML's own error, still on one line with the line number.
  auto dup = files.parse(g + "wait_s = 1\nwait_s = 2\n");
  REQUIRE_FALSE(dup.has_value());
  CHECK_MESSAGE(dup.error().starts_with(file + ":9:"), dup.error());
  // A device key others can read is refused.
  ::chmod(pki().deviceKey.c_str(), 0644);
  auto open = files.parse(g);
  ::chmod(pki().deviceKey.c_str(), 0600);
  REQUIRE_FALSE(open.has_value());
  CHECK_MESSAGE(open.error().starts_with(file + ":6: key: "), open.error());
  CHECK(open.error().find("readable by others") != std::string::npos);
}

TEST_CASE("anteroom-syncd exits 2 with one line for a bad config, and 1 when the hub cannot be reached") {
  REQUIRE(pki().error.empty());
  ConfigFiles files;
  const auto file = files.dir / "syncd.toml";
  writeFile(file, files.good() + "wait_s = 99\n", 0600);
  auto bad = run({ANTEROOM_SYNCD_BIN, "--config", file.string()}, 20s);
  CHECK(bad.exitCode == 2);
  CHECK(bad.err == "<3>anteroom-syncd: " + file.string() + ":8: wait_s: must be between 0 and 30\n");

  // A real store, a hub that is not there: --once fails with words on stderr and exit 1.
  test::TempDir storeDir;
  auto key = test::newKey();
  { auto s = test::openStore(storeDir / "store.db", key); }
  REQUIRE(key.writeNewFile(storeDir / "store.key").has_value());
  int port = 0;
  {
    TlsTestServer gone(hubOptions({}));
    port = gone.port();
  }
  writeFile(file, files.good(), 0600);
  auto offline = run({ANTEROOM_SYNCD_BIN, "--config", file.string(), "--once", "--db", (storeDir / "store.db").string(),
                      "--key_file", (storeDir / "store.key").string(), "--hub_url", "https://127.0.0.1:" + std::to_string(port)},
                     30s);
  CHECK(offline.exitCode == 1);
  CHECK_MESSAGE(offline.err.find("sync failed: sync.offline: the hub cannot be reached") != std::string::npos, offline.err);
  CHECK(offline.err.find("<4>anteroom-syncd: ") == 0);
}

TEST_CASE("no busy loop: without a long-poll the daemon pauses between rounds, and so it does for a hub that never parks") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) { return cannedHub(r, pulls); }));  // answers at once
  REQUIRE(server.ok());
  DaemonStores stores;
  for (int wait : {0, 25}) {
    CAPTURE(wait);
    pulls = 0;
    auto t = transportFor(server, {pki().hubPin});  // a stopped transport stays stopped
    auto options = quietOptions();
    options.waitSeconds = wait;
    options.idlePoll = 500ms;
    sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, options);
    std::thread runner([&] { supervisor.run(); });
    std::this_thread::sleep_for(2200ms);
    supervisor.requestStop();
    runner.join();
    // 500 ms (wait 0) between rounds; against a hub that answers a long-poll at once, three
    // quick empty rounds and then 1 s between rounds. Hundreds would be a busy loop.
    CHECK(pulls.load() >= 2);
    CHECK(pulls.load() <= 6);
    MESSAGE("rounds in 2.2 s with wait_s=" << wait << ": " << pulls.load());
  }
}

TEST_CASE("netlink: a link up and running or a new address means the network may be back; anything else does not") {
  auto message = [](std::uint16_t type, unsigned flags) {
    std::string m(NLMSG_SPACE(sizeof(ifinfomsg)), '\0');
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof(ifinfomsg)));
    h.nlmsg_type = type;
    ifinfomsg info{};
    info.ifi_flags = flags;
    std::memcpy(m.data(), &h, sizeof h);
    std::memcpy(m.data() + NLMSG_HDRLEN, &info, sizeof info);
    return m;
  };
  CHECK(sync::netlinkSaysUp(message(RTM_NEWLINK, IFF_UP | IFF_RUNNING)));
  CHECK_FALSE(sync::netlinkSaysUp(message(RTM_NEWLINK, IFF_UP)));  // no carrier yet
  CHECK_FALSE(sync::netlinkSaysUp(message(RTM_DELLINK, IFF_UP | IFF_RUNNING)));
  CHECK(sync::netlinkSaysUp(message(RTM_NEWADDR, 0)));
  CHECK_FALSE(sync::netlinkSaysUp(message(RTM_DELADDR, 0)));
  // Several in one datagram: the second one counts.
  CHECK(sync::netlinkSaysUp(message(RTM_DELADDR, 0) + message(RTM_NEWLINK, IFF_UP | IFF_RUNNING)));
  // Truncated or garbage: read as far as it is whole, never past the end.
  const std::string up = message(RTM_NEWLINK, IFF_UP | IFF_RUNNING);
  CHECK_FALSE(sync::netlinkSaysUp(up.substr(0, 10)));
  CHECK_FALSE(sync::netlinkSaysUp(up.substr(0, up.size() - 8)));
  CHECK_FALSE(sync::netlinkSaysUp(std::string(64, '\xff')));
  CHECK_FALSE(sync::netlinkSaysUp(""));
  // The socket itself opens where netlink exists (not a failure where it does not).
  sync::NetlinkWatch watch;
  MESSAGE("netlink socket " << std::string(watch.fd() >= 0 ? "open" : "unavailable here"));
  CHECK_FALSE(watch.drainCameUp());  // nothing queued yet is not "up"
}

TEST_CASE("wire bytes: 100 real check-ins (one mutation each) in one gzip'd push") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) { return cannedHub(r, pulls); }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  test::SampleData data;
  data.applyAll(stores.kiosk);
  std::vector<Uuid> appointments;
  for (int i = 0; i < 100; ++i) {  // a check-in is one mutation: 100 of them in one push
    Appointment a = data.appointment;
    a.appointmentId = data.id();
    a.startTime = nowUtc() + std::chrono::minutes{5 * i};
    a.endTime = a.startTime + std::chrono::minutes{4};
    REQUIRE(stores.kiosk.applyRemote(a, store::Actor::sync()).has_value());
    appointments.push_back(a.appointmentId);
  }
  for (const auto& id : appointments) REQUIRE(stores.kiosk.checkIn(id, store::Actor::kiosk(), nowUtc()).has_value());
  const auto pending = stores.kiosk.pendingOutboxCount().value_or(0);
  sync::SessionOptions so;
  so.pushBatch = 100;
  sync::SyncSession session(stores.daemon, *t, so);
  sync::SessionReport report;
  REQUIRE(session.pushAll(report).has_value());
  const auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  const double perMutation = static_cast<double>(t->stats().requestBodyBytes) / static_cast<double>(report.pushed);
  MESSAGE("wire_bytes_per_checkin: " << perMutation << " bytes (" << pending << " mutations, " << seen[0].decodedBody.size()
                                     << " bytes of JSON, " << seen[0].body.size() << " gzip'd)");
  CHECK(report.pushed == 100);
  CHECK(report.acknowledged == 100);
  CHECK(stores.kiosk.pendingOutboxCount().value_or(-1) == 0);
  CHECK(seen[0].header("content-encoding") == "gzip");
}

TEST_CASE("Store::lastOutboxSeq: 0 for a new store, the newest device_seq after writes, and it never falls when acks delete rows") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) { return cannedHub(r, pulls); }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  CHECK(stores.kiosk.lastOutboxSeq().value_or(-1) == 0);
  test::SampleData data;
  REQUIRE(stores.kiosk.insert(data.patient, store::Actor::kiosk()).has_value());
  REQUIRE(stores.kiosk.insert(data.provider, store::Actor::kiosk()).has_value());
  CHECK(stores.kiosk.lastOutboxSeq().value_or(-1) == 2);
  CHECK(stores.watcher.lastOutboxSeq().value_or(-1) == 2);  // another connection sees it
  sync::SyncSession session(stores.daemon, *t);
  sync::SessionReport report;
  REQUIRE(session.pushAll(report).has_value());
  CHECK(stores.kiosk.pendingOutboxCount().value_or(-1) == 0);
  CHECK(stores.kiosk.lastOutboxSeq().value_or(-1) == 2);
}

TEST_CASE("the network coming back also restarts a parked long-poll on a fresh connection") {
  REQUIRE(pki().error.empty());
  std::atomic<int> pulls{0};
  TlsTestServer server(hubOptions([&](const HttpRequest& r) {
    CannedReply reply = cannedHub(r, pulls);
    if (r.target.find("wait=25") != std::string::npos) reply.delay = 20s;
    return reply;
  }));
  REQUIRE(server.ok());
  auto t = transportFor(server, {pki().hubPin});
  DaemonStores stores;
  sync::Supervisor supervisor(stores.daemon, stores.watcher, *t, quietOptions());
  std::thread runner([&] { supervisor.run(); });
  REQUIRE(waitUntil([&] { return server.requests().size() >= 1; }, 5s));
  std::this_thread::sleep_for(300ms);  // parked
  const auto connectionsBefore = server.connections();
  const auto event = SteadyClock::now();
  supervisor.notifyNetworkUp();
  const bool again = waitUntil([&] { return server.requests().size() >= 2; }, 3s);
  const auto took = SteadyClock::now() - event;
  supervisor.requestStop();
  runner.join();
  CHECK(again);
  CHECK(took < 1s);
  CHECK(server.connections() == connectionsBefore + 1);
  CHECK(supervisor.stats().interruptedPolls == 1);
}
