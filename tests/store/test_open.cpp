// Opening the store: the right key, the wrong key, foreign and damaged files, migrations, rekey.
#include <doctest/doctest.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>

#include "demo_seed.hpp"
#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

Result<store::Store> tryOpen(const std::filesystem::path& path, const store::SecretKey& key, bool create = false,
                             std::optional<std::span<const store::Migration>> migrations = std::nullopt) {
  store::OpenOptions options;
  options.path = path;
  options.create = create;
  options.migrations = migrations;
  return store::Store::open(options, key);
}

void overwrite(const std::filesystem::path& path, std::streamoff offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekp(offset);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("a new store is encrypted, owner-only and fully migrated") {
  TempDir dir;
  auto key = newKey();
  auto s = openStore(dir / "store.db", key);
  auto info = s.info();
  REQUIRE(info.has_value());
  CHECK_FALSE(info->cipherVersion.empty());
  CHECK(info->journalMode == "wal");
  CHECK(info->pageSize == 4096);
  CHECK(info->schemaVersion == info->latestKnownVersion);
  CHECK(info->schemaVersion >= 1);
  struct stat st {};
  REQUIRE(::stat((dir / "store.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Page one is ciphertext: no SQLite header.
  CHECK(readAll(dir / "store.db").substr(0, 15) != "SQLite format 3");
}

TEST_CASE("the wrong key is refused with a clear message, and the right one still works") {
  TempDir dir;
  auto key = newKey();
  SampleData d;
  {
    auto s = openStore(dir / "store.db", key);
    d.applyAll(s);
  }
  auto other = newKey();
  auto wrong = tryOpen(dir / "store.db", other);
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == "store.wrong_key");
  CHECK(wrong.error().message == "wrong key or not an Anteroom store");
  auto right = tryOpen(dir / "store.db", key);
  REQUIRE(right.has_value());
  CHECK(right->get<Patient>(d.patient.patientId).value().has_value());
}

TEST_CASE("files that are not stores are refused, never crash") {
  TempDir dir;
  auto key = newKey();

  SUBCASE("random bytes") {
    std::ofstream(dir / "junk.db", std::ios::binary) << std::string(8192, '\x5a');
    auto r = tryOpen(dir / "junk.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == "wrong key or not an Anteroom store");
  }
  SUBCASE("a text file") {
    std::ofstream(dir / "notes.txt") << "just some notes\n";
    auto r = tryOpen(dir / "notes.txt", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.wrong_key");
  }
  SUBCASE("a plaintext SQLite database") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "plain.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto r = tryOpen(dir / "plain.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.plaintext");
  }
  SUBCASE("an empty file") {
    std::ofstream(dir / "empty.db").close();
    auto r = tryOpen(dir / "empty.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.empty");
  }
  SUBCASE("a missing file without create") {
    auto r = tryOpen(dir / "missing.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.missing");
  }
  SUBCASE("a directory") {
    std::filesystem::create_directory(dir / "folder.db");
    auto r = tryOpen(dir / "folder.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.not_a_file");
  }
  SUBCASE("an SQLCipher database with this key that is not ours") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "foreign.db").c_str(), &db) == SQLITE_OK);
    const store::SecretKey::RawKeyText text(key);
    REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA cipher_page_size = 4096; CREATE TABLE t(x);", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
    auto r = tryOpen(dir / "foreign.db", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.foreign");
  }
}

TEST_CASE("a damaged page is detected by the page MAC and reported, never a crash") {
  TempDir dir;
  auto key = newKey();
  {
    auto s = openStore(dir / "store.db", key);
    admin::SeedOptions options;
    options.patients = 400;
    REQUIRE(admin::seedDemo(s, options).has_value());
    REQUIRE(s.checkpoint().has_value());
    REQUIRE(s.checkIntegrity().has_value());
  }
  const auto size = std::filesystem::file_size(dir / "store.db");
  REQUIRE(size > 40 * 4096);

  SUBCASE("a page in the middle") {
    overwrite(dir / "store.db", 30 * 4096 + 1500, std::string(32, '\x00'));
    auto s = tryOpen(dir / "store.db", key);
    if (s.has_value()) {
      auto check = s->checkIntegrity();
      REQUIRE_FALSE(check.has_value());
      INFO(check.error().message);
      CHECK(check.error().code == "store.corrupt");
      CHECK(check.error().message.find("damaged") != std::string::npos);
    } else {
      CHECK(s.error().domain == ErrorDomain::Store);
    }
  }
  SUBCASE("the first page") {
    overwrite(dir / "store.db", 100, std::string(64, '\xff'));
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "store.wrong_key");
  }
  SUBCASE("a truncated file") {
    std::filesystem::resize_file(dir / "store.db", size / 2 + 100);
    auto s = tryOpen(dir / "store.db", key);
    if (s.has_value()) {
      CHECK_FALSE(s->checkIntegrity().has_value());
    } else {
      CHECK(s.error().domain == ErrorDomain::Store);
    }
  }
}

TEST_CASE("migrations apply once, refuse a changed file and a newer store") {
  TempDir dir;
  auto key = newKey();
  std::vector<store::Migration> list(store::bundledMigrations().begin(), store::bundledMigrations().end());
  const int next = list.back().version + 1;
  list.push_back({next, "9999_test_extra", "CREATE TABLE test_extra (x INTEGER);"});
  {
    auto s = tryOpen(dir / "store.db", key, true, list);
    REQUIRE(s.has_value());
    CHECK(s->info().value().schemaVersion == next);
  }
  {
    // Twice: a no-op, the same version, no error (the CREATE TABLE would fail if re-run).
    auto s = tryOpen(dir / "store.db", key, false, list);
    REQUIRE(s.has_value());
    CHECK(s->info().value().schemaVersion == next);
  }
  {
    auto changed = list;
    changed.back().sql = "CREATE TABLE test_extra (y TEXT);";
    auto s = tryOpen(dir / "store.db", key, false, changed);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "migration.changed");
    CHECK(s.error().message.find("9999_test_extra") != std::string::npos);
  }
  {
    // This program's bundled list is older than the store.
    auto s = tryOpen(dir / "store.db", key, false);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "migration.store_too_new");
  }
  {
    // A failing migration leaves the store at the previous version.
    TempDir other;
    auto bad = std::vector<store::Migration>(store::bundledMigrations().begin(), store::bundledMigrations().end());
    bad.push_back({next, "9999_broken", "CREATE TABLE broken (x); THIS IS NOT SQL;"});
    auto s = tryOpen(other / "store.db", key, true, bad);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().domain == ErrorDomain::Migration);
    auto again = tryOpen(other / "store.db", key, false);
    REQUIRE(again.has_value());
    CHECK(again->info().value().schemaVersion == list.back().version - 1);
  }
}

TEST_CASE("rekey re-encrypts: the old key stops working, the new one opens every row") {
  TempDir dir;
  auto oldKey = newKey();
  auto newer = newKey();
  SampleData d;
  {
    auto s = openStore(dir / "store.db", oldKey);
    d.applyAll(s);
    REQUIRE(s.rekey(newer).has_value());
    CHECK(s.get<Patient>(d.patient.patientId).value().has_value());
  }
  auto withOld = tryOpen(dir / "store.db", oldKey);
  REQUIRE_FALSE(withOld.has_value());
  CHECK(withOld.error().code == "store.wrong_key");
  auto withNew = tryOpen(dir / "store.db", newer);
  REQUIRE(withNew.has_value());
  CHECK(withNew->get<Patient>(d.patient.patientId).value()->lastName == d.patient.lastName);
  CHECK(withNew->info().value().journalMode == "wal");
  CHECK(withNew->checkIntegrity().has_value());
}

TEST_CASE("key files: 64 hex characters, owner-only, never overwritten") {
  TempDir dir;
  auto key = newKey();
  REQUIRE(key.writeNewFile(dir / "store.key").has_value());
  struct stat st {};
  REQUIRE(::stat((dir / "store.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = key.writeNewFile(dir / "store.key");
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "key.exists");
  auto read = store::SecretKey::readFile(dir / "store.key");
  REQUIRE(read.has_value());
  CHECK(std::equal(read->bytes().begin(), read->bytes().end(), key.bytes().begin()));

  std::ofstream(dir / "short.key") << "abcd\n";
  CHECK(store::SecretKey::readFile(dir / "short.key").error().code == "key.format");
  std::ofstream(dir / "nothex.key") << std::string(64, 'g') << "\n";
  CHECK(store::SecretKey::readFile(dir / "nothex.key").error().code == "key.format");
  std::ofstream(dir / "long.key") << std::string(65, 'a') << "\n";
  CHECK(store::SecretKey::readFile(dir / "long.key").error().code == "key.format");
  CHECK(store::SecretKey::readFile(dir / "absent.key").error().code == "key.unreadable");
}

TEST_CASE("a store made at every earlier schema version upgrades with its rows, device id and state") {
  // Rows as an older program wrote them: only the columns schema version 1 has.
  const char* v1Rows =
      "INSERT INTO practice VALUES ('0190a000-0000-7000-8000-000000000001','Quiet Harbor','{}','+15415550100',"
      " 'desk@quietharbor.example','{}','2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0);"
      "INSERT INTO provider VALUES ('0190a000-0000-7000-8000-000000000002','0190a000-0000-7000-8000-000000000001',"
      " 'Miriam','Ashcombe','miriam@quietharbor.example','[\"anxiety\"]','[]','{}',11,1,"
      " '2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0);"
      "INSERT INTO patient VALUES ('0190a000-0000-7000-8000-000000000003','Ottilie','Thistlewood',"
      " 'ottilie@patients.example','+15415551234','1986-04-12','{\"self_pay\":true}','{}',"
      " '2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0,'thistlewood');"
      "INSERT INTO waitlist VALUES ('0190a000-0000-7000-8000-000000000004','0190a000-0000-7000-8000-000000000001',"
      " 'Adult therapy',NULL,'{}','2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0);"
      "INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, provider_id, priority_score, status, notes,"
      " created_at, updated_at, row_version, deleted)"
      " VALUES ('0190a000-0000-7000-8000-000000000005','0190a000-0000-7000-8000-000000000004',"
      " '0190a000-0000-7000-8000-000000000003',NULL,7.5,'waiting',NULL,"
      " '2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0);"
      "INSERT INTO appointment VALUES ('0190a000-0000-7000-8000-000000000006','0190a000-0000-7000-8000-000000000002',"
      " '0190a000-0000-7000-8000-000000000003',NULL,'2026-11-25T10:00:00.000000Z','2026-11-25T10:50:00.000000Z',"
      " 'scheduled','in_person',NULL,'2026-01-01T00:00:00.000000Z','2026-01-01T00:00:00.000000Z',1,0);";
  const auto all = store::bundledMigrations();
  REQUIRE(all.size() >= 2);
  for (std::size_t upTo = 1; upTo < all.size(); ++upTo) {
    CAPTURE(upTo);
    TempDir dir;
    auto key = newKey();
    const std::vector<store::Migration> older(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(upTo));
    std::string deviceId;
    {
      auto s = tryOpen(dir / "store.db", key, true, older);
      REQUIRE(s.has_value());
      CHECK(s->info().value().schemaVersion == older.back().version);
      deviceId = s->deviceId().toString();
      REQUIRE(s->setSyncValue("cursor", "12345").has_value());
    }
    {
      // The older program's rows, written through SQLCipher directly.
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((dir / "store.db").c_str(), &db) == SQLITE_OK);
      const store::SecretKey::RawKeyText text(key);
      REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
      REQUIRE(sqlite3_exec(db, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, nullptr) == SQLITE_OK);
      char* err = nullptr;
      const int rc = sqlite3_exec(db, v1Rows, nullptr, nullptr, &err);
      INFO(std::string(err != nullptr ? err : ""));
      sqlite3_free(err);
      sqlite3_close(db);
      REQUIRE(rc == SQLITE_OK);
    }
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE(s.has_value());
    CHECK(s->info().value().schemaVersion == all.back().version);
    CHECK(s->deviceId().toString() == deviceId);
    CHECK(s->syncValue("cursor").value() == std::optional<std::string>("12345"));
    const auto patient = s->get<Patient>(*Uuid::parse("0190a000-0000-7000-8000-000000000003")).value();
    REQUIRE(patient.has_value());
    CHECK(patient->lastName == "Thistlewood");
    const auto entry = s->get<WaitlistEntry>(*Uuid::parse("0190a000-0000-7000-8000-000000000005")).value();
    REQUIRE(entry.has_value());
    CHECK(entry->urgency == 0);  // the column added later takes its default
    CHECK(s->findPatients("thistlewood", patient->dateOfBirth).value().size() == 1);
    CHECK(s->checkIntegrity().has_value());
    // And it still takes writes with their outbox rows.
    REQUIRE(s->checkIn(*Uuid::parse("0190a000-0000-7000-8000-000000000006"), store::Actor::kiosk(), at(9, 55))
                .has_value());
    CHECK(s->pendingOutboxCount().value() == 2);
  }
}
