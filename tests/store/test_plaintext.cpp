// Encryption at rest: a sentinel patient's name never appears in the store file, its WAL or
// its shared-memory file, before or after a checkpoint; the audit log holds no PHI either.
#include <doctest/doctest.h>

#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

void checkNoSentinel(const std::filesystem::path& dir, const std::string& sentinel) {
  for (const char* name : {"store.db", "store.db-wal", "store.db-shm"}) {
    const auto path = dir / name;
    if (!std::filesystem::exists(path)) continue;
    const std::string bytes = readAll(path);
    INFO(name << " (" << bytes.size() << " bytes)");
    CHECK(bytes.find(sentinel) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("no plaintext of a sentinel name in the store, its WAL or its shm file") {
  TempDir dir;
  auto key = newKey();
  const std::string sentinel = "Qzyxwvoranth";
  SampleData d(sentinel);
  d.patient.firstName = "Sentinelia";
  {
    auto s = openStore(dir / "store.db", key);
    d.applyAll(s);
    Patient local = d.patient;
    local.patientId = d.id();
    local.email = "qzyxwvoranth@patients.example";
    REQUIRE(s.insert(local, store::Actor::kiosk()).has_value());  // also in the outbox JSON
    REQUIRE(std::filesystem::exists(dir / "store.db-wal"));
    REQUIRE(std::filesystem::file_size(dir / "store.db-wal") > 0);
    checkNoSentinel(dir.path(), sentinel);
    checkNoSentinel(dir.path(), "Sentinelia");
    checkNoSentinel(dir.path(), "qzyxwvoranth");

    const auto audit = s.auditTrail(1000).value();
    for (const auto& e : audit) {
      CHECK(e.fields.find(sentinel) == std::string::npos);
      CHECK(e.entityId.find(sentinel) == std::string::npos);
    }
    REQUIRE(s.checkpoint().has_value());
    checkNoSentinel(dir.path(), sentinel);
  }
  checkNoSentinel(dir.path(), sentinel);
  checkNoSentinel(dir.path(), "Sentinelia");
}
