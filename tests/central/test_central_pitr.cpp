// Encrypted point-in-time recovery with pgBackRest: back up, write, note a time, write more,
// restore to that time into a fresh data dir, and find exactly the rows written before it.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "central_migrations.hpp"
#include "central_support.hpp"

using namespace anteroom::testing;
namespace fs = std::filesystem;

namespace {

void addWaitlists(const std::string& dsn, const std::string& label, int n) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  actFor(tx, kPracticeA);
  for (int i = 0; i < n; ++i) {
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES (gen_random_uuid(), $1, $2, '{}')",
                   kPracticeA, label + " " + std::to_string(i));
  }
  tx.commit();
}

long long countNamed(const std::string& dsn, const std::string& prefix) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  return tx.exec_params("SELECT count(*) FROM waitlist WHERE name LIKE $1", prefix + "%")[0][0].as<long long>();
}

bool startsWithSalted(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return std::string(magic, sizeof magic) == "Salted__";
}

}  // namespace

TEST_CASE("pgBackRest restores an encrypted backup to a point in time") {
  REQUIRE_MESSAGE(pgbackrestAvailable(), "pgbackrest is not installed (run scripts/deps)");
  auto started = TempPostgres::start(PgOptions{.pgbackrestArchive = true, .extraConf = {}});
  REQUIRE_MESSAGE(started.has_value(), (started ? "" : started.error().message));
  TempPostgres& pg = **started;

  {
    pqxx::connection admin(pg.dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE anteroom");
  }
  const std::string dsn = pg.dsn("anteroom");
  {
    auto migrated = anteroom::admin::central::centralMigrate(dsn);
    REQUIRE_MESSAGE(migrated.has_value(), (migrated ? "" : migrated.error().message));
  }
  seedTwoPractices(dsn);

  const fs::path log = pg.dir() / "pgbackrest-commands.log";
  const std::string conf = "--config=" + pg.pgbackrestConf().string();
  const auto backrest = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"pgbackrest", conf, "--stanza=anteroom"});
    return pg.runAsPostgres(args, log);
  };
  REQUIRE(backrest({"stanza-create"}));
  REQUIRE(backrest({"check"}));
  REQUIRE(backrest({"--type=full", "backup"}));

  addWaitlists(dsn, "before-target", 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string target;
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    target = tx.exec("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")[0][0]
                 .as<std::string>();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  addWaitlists(dsn, "after-target", 2);
  CHECK(countNamed(dsn, "after-target") == 2);
  // check forces a WAL switch and waits until the segment with the later rows is archived.
  REQUIRE(backrest({"check"}));
  REQUIRE(pg.stop());

  // The repository is encrypted: backup manifests and archived WAL start with OpenSSL's header.
  const fs::path repo = pg.dir() / "repo";
  CHECK(startsWithSalted(repo / "backup" / "anteroom" / "backup.info"));
  bool sawWal = false;
  for (const auto& f : fs::recursive_directory_iterator(repo / "archive" / "anteroom")) {
    if (f.is_regular_file() && f.path().filename().string().size() > 24) {
      CHECK(startsWithSalted(f.path()));
      sawWal = true;
      break;
    }
  }
  CHECK(sawWal);

  const fs::path restored = pg.dir() / "restored";
  REQUIRE(backrest({"--pg1-path=" + restored.string(), "--type=time", "--target=" + target,
                    "--target-action=promote", "restore"}));
  REQUIRE(pg.startDataDir(restored));
  // pg_ctl returns once the server takes connections, which a hot standby does while it is
  // still replaying archived WAL: wait for the promotion that ends recovery at the target.
  bool promoted = false;
  for (int i = 0; i < 240 && !promoted; ++i) {
    pqxx::connection c(pg.dsn());
    pqxx::nontransaction tx(c);
    promoted = !tx.exec("SELECT pg_is_in_recovery()")[0][0].as<bool>();
    if (!promoted) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  REQUIRE_MESSAGE(promoted, "the restored server did not finish recovery within 60 s");

  CHECK(countNamed(dsn, "before-target") == 3);
  CHECK(countNamed(dsn, "after-target") == 0);
  CHECK(countNamed(dsn, "General") == 2);  // from before the backup
  // The restored database is still the migrated, secured schema.
  pqxx::connection c(pg.dsn("anteroom", "anteroom_hub"));
  pqxx::work tx(c);
  CHECK(tx.exec("SELECT count(*) FROM waitlist")[0][0].as<int>() == 0);  // RLS: no practice set
  // This suite's own cluster: its log holds no patient value either (central_main.cpp checks the shared one).
  CHECK(patientValuesIn(pg.readLog()).empty());
}
