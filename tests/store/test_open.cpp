// Opening the store: the right key, the wrong key, foreign and damaged files, migrations, rekey.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <set>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

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

// A second SQLCipher connection to the store, as the sync daemon or another tool holds one.
struct RawConnection {
  sqlite3* db = nullptr;
  RawConnection(const std::filesystem::path& path, const store::SecretKey& key) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const store::SecretKey::RawKeyText text(key);
    REQUIRE(sqlite3_key(db, text.data(), text.size()) == SQLITE_OK);
    REQUIRE(exec("PRAGMA cipher_page_size = 4096") == SQLITE_OK);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() { sqlite3_close_v2(db); }
  int exec(const char* sqlText) const { return sqlite3_exec(db, sqlText, nullptr, nullptr, nullptr); }
};

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
  CHECK(wrong.error().message == store::kWrongKeyMessage);
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
    CHECK(r.error().message == store::kWrongKeyMessage);
  }
  SUBCASE("a text file") {
    std::ofstream(dir / "notes.txt") << "just some notes\n";
    auto r = tryOpen(dir / "notes.txt", key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "store.truncated");  // not a whole number of pages
    CHECK(r.error().message.find("not an Anteroom store") != std::string::npos);
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
    // The key may be right: the words say the first page may be damaged too.
    CHECK(s.error().message.find("first page is damaged") != std::string::npos);
  }
  SUBCASE("a truncated file") {
    std::filesystem::resize_file(dir / "store.db", size / 2 + 100);
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "store.truncated");
  }
  SUBCASE("a file cut to 1,000 bytes is damaged, not a wrong key") {
    std::filesystem::resize_file(dir / "store.db", 1000);
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE_FALSE(s.has_value());
    INFO(s.error().message);
    CHECK(s.error().code == "store.truncated");
    CHECK(s.error().message.find("1000 bytes") != std::string::npos);
    CHECK(s.error().message.find("not a whole number of 4096-byte pages") != std::string::npos);
    CHECK(s.error().message.find("wrong key") == std::string::npos);
  }
}

namespace {

// A 300-patient demo store with one page overwritten, as the audit did (its page 40). The page
// is the first from 40 on that holds rows of a table and is no table's or index's root, so the
// damage is in the data wherever the schema's migrations placed the tables. Returns its number.
int makeStoreWithDamagedPage(const std::filesystem::path& path, const store::SecretKey& key) {
  {
    auto s = openStore(path, key);
    admin::SeedOptions options;
    options.patients = 300;
    REQUIRE(admin::seedDemo(s, options).has_value());
    REQUIRE(s.checkpoint().has_value());
  }
  std::set<int> roots;
  {
    RawConnection raw(path, key);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.db, "SELECT rootpage FROM sqlite_master WHERE rootpage > 0", -1, &st, nullptr) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) roots.insert(sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
  }
  // A leaf page holds rows; an inner page stops SQLite's scan (see the next test). Keep the
  // first from 40 on whose damage the check reports by number.
  const auto pages = static_cast<int>(std::filesystem::file_size(path) / 4096);
  for (int page = 40; page < pages; ++page) {
    if (roots.contains(page)) continue;
    const std::string before = readAll(path).substr(static_cast<std::size_t>(page - 1) * 4096, 4096);
    overwrite(path, static_cast<std::streamoff>(page - 1) * 4096, std::string(4096, '\x5a'));
    auto s = tryOpen(path, key);
    auto check = s ? s->checkIntegrity() : Result<void>(std::unexpected(s.error()));
    // The search's own check marks the store damaged; the tests find that out for themselves.
    std::filesystem::remove(path.string() + "-damaged");
    if (!check && check.error().message.find("(page " + std::to_string(page) + ")") != std::string::npos) return page;
    overwrite(path, static_cast<std::streamoff>(page - 1) * 4096, before);
  }
  FAIL("no leaf page from 40 on in a 300-patient store");
  return 0;
}

}  // namespace

TEST_CASE("one damaged page is reported in one line: how many pages failed, and what to do") {
  TempDir dir;
  auto key = newKey();
  const int page = makeStoreWithDamagedPage(dir / "store.db", key);
  auto s = tryOpen(dir / "store.db", key);
  REQUIRE_MESSAGE(s.has_value(), s.error().message);
  auto check = s->checkIntegrity();
  REQUIRE_FALSE(check.has_value());
  INFO(check.error().message);
  CHECK(check.error().code == "store.corrupt");
  CHECK(check.error().message.find('\n') == std::string::npos);
  CHECK(check.error().message.find("1 page failed its check (page " + std::to_string(page) + ")") != std::string::npos);
  CHECK(check.error().message.find("re-provision") != std::string::npos);
  CHECK(check.error().message.size() < 300);
}

TEST_CASE("a damaged inner page, which stops the scan, still reads as one line with what to do") {
  TempDir dir;
  auto key = newKey();
  {
    auto s = openStore(dir / "store.db", key);
    admin::SeedOptions options;
    options.patients = 300;
    REQUIRE(admin::seedDemo(s, options).has_value());
    REQUIRE(s.checkpoint().has_value());
  }
  overwrite(dir / "store.db", 39 * 4096, std::string(4096, '\x5a'));  // the audit's page 40
  auto s = tryOpen(dir / "store.db", key);
  REQUIRE_MESSAGE(s.has_value(), s.error().message);
  auto check = s->checkIntegrity();
  REQUIRE_FALSE(check.has_value());
  INFO(check.error().message);
  CHECK(check.error().code == "store.corrupt");
  CHECK(check.error().message.find('\n') == std::string::npos);
  CHECK(check.error().message.find("re-provision") != std::string::npos);
}

TEST_CASE("a store found damaged at run time refuses further writes, also after reopening") {
  TempDir dir;
  auto key = newKey();
  makeStoreWithDamagedPage(dir / "store.db", key);
  {
    // Also the root of the notification recipient index, so that a lookup reaches damage.
    int root = 0;
    {
      RawConnection raw(dir / "store.db", key);
      sqlite3_stmt* st = nullptr;
      REQUIRE(sqlite3_prepare_v2(raw.db, "SELECT rootpage FROM sqlite_master WHERE name = 'notification_recipient_idx'",
                                 -1, &st, nullptr) == SQLITE_OK);
      if (sqlite3_step(st) == SQLITE_ROW) root = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
    }
    REQUIRE(root > 1);
    overwrite(dir / "store.db", static_cast<std::streamoff>(root - 1) * 4096, std::string(4096, '\x5a'));
  }
  SampleData d;
  {
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE_MESSAGE(s.has_value(), s.error().message);
    CHECK_FALSE(s->damage().has_value());
    auto read = s->notificationsFor(d.provider.providerId);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().code == "store.corrupt");
    REQUIRE(s->damage().has_value());
    // A write that touches only healthy pages would succeed; it is refused instead.
    auto w = s->setSyncValue("kiosk.note", "x");
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().code == "store.damaged");
    CHECK(w.error().message.find("damaged") != std::string::npos);
    auto insert = s->insert(d.practice, store::Actor::admin());
    REQUIRE_FALSE(insert.has_value());
    CHECK(insert.error().code == "store.damaged");
  }
  // The next program to open it (the kiosk after a restart, 'store init', 'demo seed') is told too.
  auto again = tryOpen(dir / "store.db", key);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "store.damaged");
  // 'store check' may still open it to look, and finds the damage again.
  store::OpenOptions look;
  look.path = dir / "store.db";
  look.allowDamaged = true;
  auto checked = store::Store::open(look, key);
  REQUIRE_MESSAGE(checked.has_value(), checked.error().message);
  CHECK_FALSE(checked->checkIntegrity().has_value());
}

TEST_CASE("a repaired store opens again once a check passes") {
  TempDir dir;
  auto key = newKey();
  makeStoreWithDamagedPage(dir / "store.db", key);
  {
    auto s = tryOpen(dir / "store.db", key);
    REQUIRE(s.has_value());
    REQUIRE_FALSE(s->checkIntegrity().has_value());
  }
  REQUIRE_FALSE(tryOpen(dir / "store.db", key).has_value());
  // The operator replaces the file with a good one (here: a new store) and checks it.
  std::filesystem::remove(dir / "store.db");
  {
    store::OpenOptions options;
    options.path = dir / "store.db";
    options.create = true;
    options.allowDamaged = true;
    auto fresh = store::Store::open(options, key);
    REQUIRE_MESSAGE(fresh.has_value(), fresh.error().message);
    REQUIRE(fresh->checkIntegrity().has_value());
  }
  auto s = tryOpen(dir / "store.db", key);
  REQUIRE_MESSAGE(s.has_value(), s.error().message);
  CHECK(s->setSyncValue("kiosk.note", "x").has_value());
}

TEST_CASE("a key file others can read is refused; a store others can read is used with a warning") {
  TempDir dir;
  auto key = newKey();
  REQUIRE(key.writeNewFile(dir / "store.key").has_value());
  for (const auto mode : {0644, 0640, 0604, 0660}) {
    CAPTURE(mode);
    REQUIRE(::chmod((dir / "store.key").c_str(), static_cast<mode_t>(mode)) == 0);
    auto r = store::SecretKey::readFile(dir / "store.key");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "key.permissions");
    CHECK(r.error().message.find("chmod 600") != std::string::npos);
  }
  for (const auto mode : {0600, 0400}) {
    CAPTURE(mode);
    REQUIRE(::chmod((dir / "store.key").c_str(), static_cast<mode_t>(mode)) == 0);
    CHECK(store::SecretKey::readFile(dir / "store.key").has_value());
  }
  {
    auto s = openStore(dir / "store.db", key);
    CHECK(s.warnings().empty());
  }
  REQUIRE(::chmod((dir / "store.db").c_str(), 0644) == 0);
  auto s = tryOpen(dir / "store.db", key);
  REQUIRE(s.has_value());
  REQUIRE(s->warnings().size() == 1);
  CHECK(s->warnings().front().find("readable by other users") != std::string::npos);
  CHECK(s->warnings().front().find("chmod 600") != std::string::npos);
}

namespace {

// Copies a store while it is open, write-ahead log included, as a crash would leave it.
void copyLive(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::copy_file(from, to);
  std::filesystem::copy_file(from.string() + "-wal", to.string() + "-wal");
}

}  // namespace

TEST_CASE("a write-ahead log that would replay nothing is reported, not silently dropped") {
  TempDir dir;
  auto key = newKey();
  SampleData d;
  auto live = openStore(dir / "store.db", key);
  d.applyAll(live);
  for (int i = 0; i < 10; ++i) REQUIRE(live.setSyncValue("k" + std::to_string(i), "v").has_value());
  REQUIRE(std::filesystem::file_size(dir / "store.db-wal") > 32 + 4096);

  SUBCASE("a healthy log replays every committed change") {
    copyLive(dir / "store.db", dir / "copy.db");
    auto s = tryOpen(dir / "copy.db", key);
    REQUIRE_MESSAGE(s.has_value(), s.error().message);
    CHECK(s->get<Patient>(d.patient.patientId).value().has_value());
    CHECK(s->syncValue("k9").value() == std::optional<std::string>("v"));
  }
  SUBCASE("a garbage header") {
    copyLive(dir / "store.db", dir / "copy.db");
    overwrite(dir / "copy.db-wal", 0, std::string(32, 'G'));
    auto s = tryOpen(dir / "copy.db", key);
    REQUIRE_FALSE(s.has_value());
    INFO(s.error().message);
    CHECK(s.error().code == "store.wal_damaged");
    CHECK(s.error().message.find("copy.db-wal") != std::string::npos);
    CHECK(s.error().message.find("cannot be replayed") != std::string::npos);
    // Nothing was thrown away: the log is still there for the operator.
    CHECK(std::filesystem::file_size(dir / "copy.db-wal") == std::filesystem::file_size(dir / "store.db-wal"));
  }
  SUBCASE("a damaged first frame with commits after it") {
    copyLive(dir / "store.db", dir / "copy.db");
    overwrite(dir / "copy.db-wal", 32 + 24 + 100, std::string(16, '\x01'));
    auto s = tryOpen(dir / "copy.db", key);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "store.wal_damaged");
  }
  SUBCASE("a first frame torn by a power cut, nothing committed after it, is not mistaken for damage") {
    copyLive(dir / "store.db", dir / "copy.db");
    std::filesystem::resize_file(dir / "copy.db-wal", 32 + 24 + 4096);
    overwrite(dir / "copy.db-wal", 32 + 24 + 100, std::string(16, '\x01'));
    auto s = tryOpen(dir / "copy.db", key);
    REQUIRE_MESSAGE(s.has_value(), s.error().message);
    CHECK(s->checkIntegrity().has_value());
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

TEST_CASE("opening an up-to-date store does not wait for the write lock; only a pending migration takes it") {
  TempDir dir;
  auto key = newKey();
  SampleData d;
  {
    auto s = openStore(dir / "store.db", key);
    d.applyAll(s);
  }
  RawConnection writer(dir / "store.db", key);
  REQUIRE(writer.exec("BEGIN IMMEDIATE; INSERT INTO sync_state (key, value, updated_at) "
                      "VALUES ('held', 'x', '2026-01-01T00:00:00.000000Z')") == SQLITE_OK);
  store::OpenOptions options;
  options.path = dir / "store.db";
  options.busyTimeout = std::chrono::milliseconds(300);
  for (int i = 0; i < 20; ++i) {
    auto s = store::Store::open(options, key);
    REQUIRE_MESSAGE(s.has_value(), s.error().message);
    CHECK(s->get<Patient>(d.patient.patientId).value().has_value());
    CHECK(s->info().value().schemaVersion == s->info().value().latestKnownVersion);
  }
  // A migration to apply needs the lock, and says the store is busy instead of waiting forever.
  std::vector<store::Migration> list(store::bundledMigrations().begin(), store::bundledMigrations().end());
  list.push_back({list.back().version + 1, "9999_test_extra", "CREATE TABLE test_extra (x INTEGER);"});
  options.migrations = list;
  auto busy = store::Store::open(options, key);
  REQUIRE_FALSE(busy.has_value());
  CHECK(busy.error().code == "store.busy");
  CHECK(busy.error().isTransient());
  REQUIRE(writer.exec("COMMIT") == SQLITE_OK);
  auto migrated = store::Store::open(options, key);
  REQUIRE_MESSAGE(migrated.has_value(), migrated.error().message);
  CHECK(migrated->info().value().schemaVersion == list.back().version);
}

TEST_CASE("a write gets the lock between the commits of a writer that never pauses") {
  TempDir dir;
  auto key = newKey();
  { auto s = openStore(dir / "store.db", key); }
  std::atomic<bool> stop{false};
  std::atomic<int> loops{0};
  // The sync daemon applying page after page: one short transaction right after another.
  std::thread writer([&] {
    RawConnection c(dir / "store.db", key);
    c.exec("PRAGMA busy_timeout = 5000");
    while (!stop) {
      if (c.exec("BEGIN IMMEDIATE; INSERT OR REPLACE INTO sync_state (key, value, updated_at) "
                 "VALUES ('loop', 'x', '2026-01-01T00:00:00.000000Z'); COMMIT") == SQLITE_OK)
        ++loops;
    }
  });
  while (loops < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int before = loops;
  store::OpenOptions options;
  options.path = dir / "store.db";
  // The store's default wait (what the kiosk and the daemon open with). With 2 s, 1 run in ~20
  // failed on a machine loaded by parallel builds: the writer fsyncs every commit, the gaps
  // between its transactions are microseconds, and a starved poller wakes less often.
  options.busyTimeout = store::OpenOptions{}.busyTimeout;
  int failed = 0;
  std::string errors;
  for (int i = 0; i < 20; ++i) {
    auto s = store::Store::open(options, key);
    auto w = s ? s->setSyncValue("mine", std::to_string(i)) : Result<void>(std::unexpected(s.error()));
    if (!w) {
      ++failed;
      errors += (s ? "write: " : "open: ") + w.error().message + "\n";
    }
  }
  INFO(errors);
  const int during = loops - before;
  stop = true;
  writer.join();
  CHECK(during > 0);  // the writer kept committing meanwhile
  CHECK(failed == 0);
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

  const auto ownerOnly = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    std::filesystem::permissions(dir / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return dir / name;
  };
  CHECK(store::SecretKey::readFile(ownerOnly("short.key", "abcd\n")).error().code == "key.format");
  CHECK(store::SecretKey::readFile(ownerOnly("nothex.key", std::string(64, 'g') + "\n")).error().code == "key.format");
  CHECK(store::SecretKey::readFile(ownerOnly("long.key", std::string(65, 'a') + "\n")).error().code == "key.format");
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
    CHECK(s->pendingOutboxCount().value() == 1);
  }
}
