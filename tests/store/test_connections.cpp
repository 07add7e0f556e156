// Two connections to one store in one process (the kiosk's UI thread and its store worker),
// beside another process (the sync daemon): nothing either commits may be lost.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <fstream>
#include <vector>

#include "fixture.hpp"

using namespace anteroom;
using namespace anteroom::test;

namespace {

// Audit rows as another process sees them: Debian's sqlcipher shell (SQLCipher 3.4.1, like the
// daemon) opens the store, counts and closes it, as the sync daemon restarting or an operator's
// tool would. A forked child would not do: it inherits SQLite's in-process lock bookkeeping.
std::int64_t auditRowsSeenByAnotherProcess(const std::filesystem::path& path, const std::filesystem::path& keyFile) {
  const auto script = path.parent_path() / "count.sql";
  {
    std::ofstream out(script);
    out << "PRAGMA key = \"x'" << readAll(keyFile).substr(0, 64) << "'\";\nPRAGMA cipher_page_size = 4096;\n"
        << "SELECT count(*) FROM audit_log;\n";
  }
  const std::string command = "sqlcipher '" + path.string() + "' < '" + script.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  std::filesystem::remove(script);
  INFO("sqlcipher said: " << output);
  REQUIRE(status == 0);
  // The key pragma prints "ok" on SQLCipher 4; the count is the last line.
  const auto lastLine = output.substr(output.find_last_of('\n', output.size() - 2) + 1);
  return std::stoll(lastLine);
}

}  // namespace

TEST_CASE("a second connection in the same process keeps the first one's commits safe from other processes") {
  TempDir dir;
  auto key = newKey();
  const auto path = dir / "store.db";
  const auto keyFile = dir / "store.key";
  REQUIRE(key.writeNewFile(keyFile).has_value());
  auto ui = openStore(path, key);
  SampleData d;
  REQUIRE(ui.write(store::Actor::kiosk(), at(9), [&](store::WriteTx& tx) { return tx.insert(d.practice); }).has_value());
  // The kiosk's store worker opens its own connection while the UI's is open.
  auto worker = openStore(path, key);
  REQUIRE(ui.write(store::Actor::kiosk(), at(9, 1), [&](store::WriteTx& tx) {
              return tx.recordAccess("appointment", Uuid{}, "view_board");
            }).has_value());
  const auto before = auditRowsSeenByAnotherProcess(path, keyFile);
  CHECK(before == 2);
  // Another process opens and closes the store (the daemon restarting, anteroom-admin): it must
  // not believe it was the last connection and delete the write-ahead log under us.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(worker.write(store::Actor::kiosk(), at(9, 2 + i), [&](store::WriteTx& tx) {
                return tx.recordAccess("waitlist_entry", Uuid{}, "view_board");
              }).has_value());
    REQUIRE(ui.write(store::Actor::kiosk(), at(9, 2 + i), [&](store::WriteTx& tx) {
                return tx.recordAccess("appointment", Uuid{}, "view");
              }).has_value());
    CHECK(auditRowsSeenByAnotherProcess(path, keyFile) == before + 2 * (i + 1));
  }
  // And both connections still see every row.
  CHECK(ui.auditTrail(1000).value().size() == static_cast<std::size_t>(before + 6));
  CHECK(worker.auditTrail(1000).value().size() == static_cast<std::size_t>(before + 6));
}
