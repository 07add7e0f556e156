// The hub server's pieces without a process: gzip ceilings, the pull query, the refusal table,
// the configuration's file and flags, key files, and the parked-pull registry.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/config.hpp"
#include "server/gzip.hpp"
#include "server/park.hpp"
#include "server/routes.hpp"

using namespace anteroom;
using namespace anteroom::hub;
namespace fs = std::filesystem;

namespace {

// Removed when the program ends.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("anteroom-hub-units-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

fs::path tempDir() {
  static const TempDir dir;
  return dir.path;
}

fs::path writeTemp(const std::string& name, const std::string& text, unsigned mode = 0600) {
  const auto p = tempDir() / name;
  std::ofstream(p, std::ios::trunc) << text;
  ::chmod(p.c_str(), static_cast<mode_t>(mode));
  return p;
}

}  // namespace

TEST_CASE("gunzip: round trip, the ceiling to the byte, truncation and trailing bytes") {
  const std::string text(100000, 'a');
  const std::string gz = gzip(text);
  CHECK(gz.size() < 1000);
  REQUIRE(gunzip(gz, text.size()).has_value());
  CHECK(*gunzip(gz, text.size()) == text);
  CHECK(gunzip(gz, text.size() - 1).error().code == "protocol.too_large");
  CHECK(gunzip(gz.substr(0, gz.size() - 4), text.size()).error().code == "protocol.gzip");
  CHECK(gunzip(gz.substr(0, 10), text.size()).error().code == "protocol.gzip");
  CHECK(gunzip(gz + "x", text.size()).error().code == "protocol.gzip");
  CHECK(gunzip("", 10).error().code == "protocol.gzip");
  CHECK(gunzip("{\"plain\":1}", 100).error().code == "protocol.gzip");
}

TEST_CASE("the pull query: defaults, bounds, repeats, escapes and the schema version") {
  const sync::WireLimits limits;
  auto r = parsePullQuery("", 2, limits);
  REQUIRE(r.has_value());
  CHECK(r->after.empty());
  CHECK(r->limit == 500);
  CHECK(r->waitSeconds == 0);
  CHECK(r->schemaVersion == 2);
  r = parsePullQuery("after=c1.40.2026-12-04&limit=2000&wait=30&schema=1&future=x", 2, limits);
  REQUIRE(r.has_value());
  CHECK(r->after == "c1.40.2026-12-04");
  CHECK(r->limit == 2000);
  CHECK(r->waitSeconds == 30);
  CHECK(r->schemaVersion == 1);  // the query wins over the header
  CHECK(parsePullQuery("after=c1%2E40", 2, limits)->after == "c1.40");
  for (const char* bad : {"limit=0", "limit=2001", "limit=ten", "wait=-1", "wait=31", "wait=1.5", "limit=1&limit=1",
                          "after=%zz", "after=%4", "schema=two"}) {
    CAPTURE(bad);
    auto e = parsePullQuery(bad, 2, limits);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == "protocol.query");
  }
  CHECK(parsePullQuery("", std::nullopt, limits).error().code == "protocol.schema_header");
  CHECK(parsePullQuery("schema=2", std::nullopt, limits).has_value());
  CHECK(parsePullQuery("after=" + std::string(300, 'c'), 2, limits).error().code == "protocol.query");
  CHECK(parseSchemaHeader("", false)->has_value() == false);
  CHECK(**parseSchemaHeader("2", true) == 2);
  CHECK(parseSchemaHeader("2a", true).error().code == "protocol.schema_header");
}

TEST_CASE("refusals map to statuses by code, then by domain; internal errors keep their words to themselves") {
  CHECK(statusFor({ErrorDomain::Protocol, "protocol.malformed", "x"}) == 400);
  CHECK(statusFor({ErrorDomain::Protocol, "protocol.too_large", "x"}) == 413);
  CHECK(statusFor({ErrorDomain::Conflict, "hub.unknown_device", "x"}) == 403);
  CHECK(statusFor({ErrorDomain::Conflict, "hub.revoked_device", "x"}) == 403);
  CHECK(statusFor({ErrorDomain::Conflict, "sync.resync", "x"}) == 409);
  CHECK(statusFor({ErrorDomain::Conflict, "sync.schema_version", "x"}) == 409);
  CHECK(statusFor({ErrorDomain::Conflict, "sync.device_restored", "x"}) == 409);
  CHECK(statusFor({ErrorDomain::Network, "hub.database", "x", true}) == 503);
  CHECK(statusFor({ErrorDomain::Network, "hub.busy", "x", true}) == 503);
  CHECK(statusFor({ErrorDomain::Internal, "hub.internal", "x"}) == 500);
  CHECK(statusFor({ErrorDomain::Store, "odd", "x"}) == 500);
  const auto db = errorOutcome(Error{ErrorDomain::Network, "hub.database", "down", true});
  CHECK(db.retryAfter > 0);
  CHECK(sync::decodeErrorBody(db.body)->transient);
  const auto internal = errorOutcome(Error{ErrorDomain::Internal, "hub.internal", "relation \"patient\" row Avery"});
  CHECK(internal.status == 500);
  CHECK(internal.body.find("Avery") == std::string::npos);
  CHECK(sync::decodeErrorBody(internal.body)->code == "hub.internal");
}

TEST_CASE("configuration: file keys, flags over the file, relative paths, one-line errors") {
  const auto file = writeTemp("hub.toml",
                              "listen = \"127.0.0.1:9443\"\ndsn = \"dbname=x\"\ntls_cert = \"hub.crt\"\ntls_key = \"/k/hub.key\"\n"
                              "client_ca = \"ca.crt\"\npii_key_file = \"pii.key\"\nhash_key_file = \"hash.key\"\nworkers = 3\n");
  auto c = parseHubConfig({"--config", file.string(), "--workers", "5", "--listen=[::1]:0"});
  REQUIRE(c.has_value());
  CHECK(c->listenHost == "::1");
  CHECK(c->listenPort == 0);
  CHECK(c->workers == 5);
  CHECK(c->dsn == "dbname=x");
  CHECK(c->listenDsn == "dbname=x");  // defaults to dsn
  CHECK(c->tlsCert == (tempDir() / "hub.crt").string());
  CHECK(c->tlsKey == "/k/hub.key");
  CHECK(c->preparedStatements);
  auto flagsOnly = parseHubConfig({"--dsn", "d", "--tls_cert", "c", "--tls_key", "k", "--client_ca", "a", "--pii_key_file",
                                   "p", "--hash_key_file", "h"});
  REQUIRE(flagsOnly.has_value());
  CHECK(flagsOnly->tlsCert == "c");  // flags are relative to the working directory
  CHECK(parseHubConfig({"--dsn", "d"}).error().message == "--tls_cert: missing (required)");
  CHECK(parseHubConfig({"--config", (tempDir() / "absent.toml").string()}).error().message.find("cannot read") !=
        std::string::npos);
  CHECK(parseHubConfig({"--help"}).error().code == "hub.help");
  CHECK(parseHubConfig({"stray"}).error().code == "hub.config");
}

TEST_CASE("key files: 64 hex characters, private, wiped") {
  std::string key;
  REQUIRE(readHexKeyFile(writeTemp("good.key", std::string(64, 'a') + "\n").string(), key).has_value());
  CHECK(key == std::string(64, 'a'));
  CHECK(readHexKeyFile(writeTemp("short.key", std::string(63, 'a')).string(), key).error().message.find("64 hex") !=
        std::string::npos);
  CHECK(readHexKeyFile(writeTemp("long.key", std::string(65, 'a')).string(), key).has_value() == false);
  CHECK(readHexKeyFile(writeTemp("nothex.key", std::string(63, 'a') + "g").string(), key).has_value() == false);
  CHECK(readHexKeyFile(writeTemp("open.key", std::string(64, 'a'), 0640).string(), key).error().message.find(
            "open to other users") != std::string::npos);
  CHECK(readHexKeyFile((tempDir() / "none.key").string(), key).has_value() == false);
  CHECK(requirePrivateFile(writeTemp("tls.key", "x", 0604).string(), "TLS key").has_value() == false);
  CHECK(requirePrivateFile(writeTemp("tls2.key", "x", 0400).string(), "TLS key").has_value());
}

TEST_CASE("parked pulls: a NOTIFY wakes its practice only; a change between pull and park refuses the park") {
  ParkRegistry parks;
  std::vector<std::uint64_t> woken;
  parks.setWakeHandler([&](std::vector<ParkedPull>&& pulls) {
    for (auto& p : pulls) woken.push_back(p.token);
  });
  const auto g = parks.generation("A");
  CHECK(parks.park("A", g, ParkedPull{1, {}, false, {}}));
  CHECK(parks.park("A", g, ParkedPull{2, {}, false, {}}));
  CHECK(parks.park("B", parks.generation("B"), ParkedPull{3, {}, false, {}}));
  CHECK(parks.parked() == 3);
  parks.unpark("A", 2);
  parks.notify("A");
  CHECK(woken == std::vector<std::uint64_t>{1});
  CHECK(parks.parked() == 1);
  CHECK_FALSE(parks.park("A", g, ParkedPull{4, {}, false, {}}));  // A changed since g
  const auto gb = parks.generation("B");
  parks.notifyAll();  // the LISTEN session came back: everyone, and every generation moves
  CHECK(woken == std::vector<std::uint64_t>{1, 3});
  CHECK(parks.parked() == 0);
  CHECK_FALSE(parks.park("B", gb, ParkedPull{5, {}, false, {}}));
}
