// anteroom-admin: the operator's command line (keys, stores, demo data).
// Exit 0 on success, 1 when the operation fails, 2 on bad usage; errors are one line on stderr.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "anteroom/store/store.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "demo_seed.hpp"

using namespace anteroom;
using namespace anteroom::admin;

namespace {

constexpr const char* kTopHelp =
    "usage: anteroom-admin <command> [options]\n"
    "\n"
    "commands:\n"
    "  keygen --out FILE                 make a new 32-byte store key (64 hex characters, mode 0600)\n"
    "  store init   --db FILE --key-file FILE\n"
    "                                    create and migrate an encrypted store\n"
    "  store check  --db FILE --key-file FILE [--backup FILE]\n"
    "                                    cipher, integrity and schema version\n"
    "  store rekey  --db FILE --key-file OLD --new-key-file NEW\n"
    "                                    re-encrypt the store with a new key\n"
    "  store purge  --db FILE --key-file FILE [--days-ahead N]\n"
    "                                    remove synced rows outside the device's data window\n"
    "  demo seed    --db FILE --key-file FILE --patients N [--seed S]\n"
    "                                    fill a store with a synthetic demo practice\n"
    "  demo seed-central --dsn DSN --pii-key-file F --hash-key-file F [--patients N] [--seed S]\n"
    "                                    a synthetic practice in the central database; prints its id\n"
    "  waitlist rank  --db FILE --key-file FILE [--waitlist ID] [--json]\n"
    "                                    active entries in priority order, with the reasons\n"
    "  waitlist match --db FILE --key-file FILE --slot ID [--limit N] [--json]\n"
    "                                    the waiting patients who fit a slot, best first\n"
    "  waitlist rescore --dsn DSN --pii-key-file F --hash-key-file F\n"
    "                                    central priority scores again now (daily: days waited move them)\n"
    "  central migrate --dsn DSN         apply the central PostgreSQL schema's pending migrations\n"
    "  central status  --dsn DSN         applied and pending central migrations\n"
    "  ca init --dir D --hub-host HOST   make the practice CA and the hub's certificate; prints the hub key pin\n"
    "  device enroll --ca-dir D --dsn DSN --practice-id ID --out E [--name N]\n"
    "                                    certificate, key and syncd.toml for a new kiosk; registers it centrally\n"
    "  device revoke --dsn DSN --device-id ID\n"
    "                                    the hub refuses the device from its next request\n"
    "  review list    --dsn DSN --practice-id ID [--pii-key-file F --hash-key-file F]\n"
    "                                    walk-ins held because their email is another patient's\n"
    "  review resolve --dsn DSN --review-id ID --as existing|new --pii-key-file F --hash-key-file F\n"
    "                                    decide who the walk-in is; its held changes are applied\n"
    "\n"
    "Run 'anteroom-admin <command> --help' for details. Keys are read from files only.\n";


// Warnings about the store that do not stop the command, one line each on stderr.
void printWarnings(const store::Store& s) {
  for (const auto& w : s.warnings()) std::fprintf(stderr, "anteroom-admin: warning: %s\n", w.c_str());
}

// Opens a store given --db and --key-file; create for 'store init'. allowDamaged for 'store check'.
Result<store::Store> openStore(const ParsedArgs& args, bool create, bool allowDamaged = false) {
  auto key = store::SecretKey::readFile(*args.get("--key-file"));
  if (!key) return std::unexpected(key.error());
  store::OpenOptions options;
  options.path = *args.get("--db");
  options.create = create;
  options.allowDamaged = allowDamaged;
  auto s = store::Store::open(options, *key);
  if (s) printWarnings(*s);
  return s;
}

// An existing store is checked before a command writes into it: a damaged one takes no writes.
Result<store::Store> openStoreToWrite(const ParsedArgs& args) {
  const bool existed = std::filesystem::exists(*args.get("--db"));
  auto s = openStore(args, true);
  if (!s || !existed) return s;
  if (auto c = s->checkIntegrity(); !c) return std::unexpected(c.error());
  return s;
}

// The key did not open the store. If it opens a backup of the store, the key is right and the
// store's first page is what is damaged; otherwise the key is most likely the wrong one.
Error explainWrongKey(const ParsedArgs& args, const Error& original) {
  const auto backup = args.get("--backup");
  if (!backup || original.code != "store.wrong_key") return original;
  auto key = store::SecretKey::readFile(*args.get("--key-file"));
  if (!key) return original;
  // Opened as a copy beside it: opening migrates and switches to WAL, and a backup stays as it was.
  std::string probe = *backup + ".probe-XXXXXX";
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return original;
  ::close(fd);
  std::error_code ec;
  std::filesystem::copy_file(*backup, probe, std::filesystem::copy_options::overwrite_existing, ec);
  store::OpenOptions options;
  options.path = probe;
  options.allowDamaged = true;
  const bool opens = !ec && store::Store::open(options, *key).has_value();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(probe + suffix, ec);
  Error e = original;
  if (opens) {
    e.code = "store.first_page_damaged";
    e.message = "the key is right (it opens the backup " + *backup +
                "), so the store's first page is damaged; restore the store from that backup or from the "
                "server by re-provisioning the device";
  } else {
    e.message = "the key opens neither the store nor the backup " + *backup + ": it is most likely the wrong key";
  }
  return e;
}

bool need(const ParsedArgs& args, std::initializer_list<const char*> names, std::string& missing) {
  for (const char* n : names) {
    if (!args.get(n)) {
      missing = std::string(n) + " is required";
      return false;
    }
  }
  return true;
}

int cmdKeygen(const std::vector<std::string>& rest) {
  static constexpr const char* help =
      "usage: anteroom-admin keygen --out FILE\n"
      "  Writes 32 random bytes as 64 hex characters to FILE with mode 0600.\n"
      "  Refuses to overwrite an existing file.\n";
  const auto args = parseArgs(rest, {"--out"}, {});
  if (args.has("--help")) return std::fputs(help, stdout), kExitOk;
  std::string missing;
  if (!args.error.empty()) return usageError(args.error, help);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), help);
  if (!need(args, {"--out"}, missing)) return usageError(missing, help);
  auto key = store::SecretKey::generate();
  if (!key) return commandFailed(key.error());
  if (auto w = key->writeNewFile(*args.get("--out")); !w) return commandFailed(w.error());
  std::printf("wrote a new store key to %s (mode 0600)\n", args.get("--out")->c_str());
  return kExitOk;
}

void printInfo(const store::StoreInfo& info) {
  std::printf("cipher:          SQLCipher %s (SQLite %s)\n", info.cipherVersion.c_str(), info.sqliteVersion.c_str());
  std::printf("schema version:  %d (this program knows %d)\n", info.schemaVersion, info.latestKnownVersion);
  std::printf("device id:       %s\n", info.deviceId.c_str());
  std::printf("journal mode:    %s\n", info.journalMode.c_str());
  std::printf("pages:           %lld x %lld bytes\n", static_cast<long long>(info.pageCount),
              static_cast<long long>(info.pageSize));
  std::printf("rows:\n");
  for (const auto& [table, count] : info.rowCounts) {
    std::printf("  %-20s %lld\n", table.c_str(), static_cast<long long>(count));
  }
}

int cmdStore(const std::vector<std::string>& rest) {
  static constexpr const char* help =
      "usage: anteroom-admin store <init|check|rekey|purge> --db FILE --key-file FILE [options]\n"
      "  init   create the store if missing and apply migrations\n"
      "  check  verify the key, every page, integrity and the schema version; with --backup FILE,\n"
      "         a key that opens the backup but not the store means the store's first page is damaged\n"
      "  rekey  --new-key-file NEW: re-encrypt with a new key (stop the kiosk and syncd first)\n"
      "  purge  [--days-ahead N]: remove synced rows outside the data window (default 3 days)\n";
  if (rest.empty()) return usageError("store needs a subcommand", help);
  const std::string sub = rest.front();
  const std::vector<std::string> tail(rest.begin() + 1, rest.end());
  if (sub == "--help" || sub == "-h") return std::fputs(help, stdout), kExitOk;
  const auto args = parseArgs(tail, {"--db", "--key-file", "--new-key-file", "--days-ahead", "--backup"}, {});
  if (args.has("--help")) return std::fputs(help, stdout), kExitOk;
  if (!args.error.empty()) return usageError(args.error, help);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), help);
  std::string missing;
  if (!need(args, {"--db", "--key-file"}, missing)) return usageError(missing, help);

  if (sub == "init") {
    auto s = openStoreToWrite(args);
    if (!s) return commandFailed(s.error());
    auto info = s->info();
    if (!info) return commandFailed(info.error());
    std::printf("store ready: %s (schema %d, SQLCipher %s)\n", args.get("--db")->c_str(), info->schemaVersion,
                info->cipherVersion.c_str());
    return kExitOk;
  }
  if (sub == "check") {
    auto s = openStore(args, false, true);
    if (!s) return commandFailed(explainWrongKey(args, s.error()));
    if (auto c = s->checkIntegrity(); !c) return commandFailed(c.error());
    auto info = s->info();
    if (!info) return commandFailed(info.error());
    printInfo(*info);
    std::printf("integrity:       ok\n");
    return kExitOk;
  }
  if (sub == "rekey") {
    if (!need(args, {"--new-key-file"}, missing)) return usageError(missing, help);
    auto newKey = store::SecretKey::readFile(*args.get("--new-key-file"));
    if (!newKey) return commandFailed(newKey.error());
    auto s = openStore(args, false);
    if (!s) return commandFailed(s.error());
    if (auto r = s->rekey(*newKey); !r) return commandFailed(r.error());
    std::printf("store re-encrypted with the key in %s\n", args.get("--new-key-file")->c_str());
    return kExitOk;
  }
  if (sub == "purge") {
    int daysAhead = 3;
    if (auto d = args.get("--days-ahead")) {
      try {
        daysAhead = std::stoi(*d);
      } catch (...) {
        return usageError("--days-ahead must be a number of days", help);
      }
      if (daysAhead < 0 || daysAhead > 60) return usageError("--days-ahead must be between 0 and 60", help);
    }
    auto s = openStore(args, false);
    if (!s) return commandFailed(s.error());
    auto report = s->purgeOutsideWindow(nowUtc(), daysAhead);
    if (!report) return commandFailed(report.error());
    for (const auto& [table, n] : report->removed) {
      std::printf("removed %-20s %lld\n", table.c_str(), static_cast<long long>(n));
    }
    std::printf("kept for pending sync: %lld outbox change(s)\n", static_cast<long long>(report->keptForPendingSync));
    return kExitOk;
  }
  return usageError("unknown store subcommand '" + sub + "'", help);
}

int cmdDemo(const std::vector<std::string>& rest) {
  static constexpr const char* help =
      "usage: anteroom-admin demo seed --db FILE --key-file FILE --patients N [--seed S]\n"
      "  Fills the store (created if missing) with a synthetic practice: providers with\n"
      "  specialties, modalities and weekly hours, N invented patients, today's appointments,\n"
      "  open slots, two waitlists with entries, and two demo staff users. The same seed\n"
      "  gives the same practice.\n"
      "usage: anteroom-admin demo seed-central --dsn DSN --pii-key-file F --hash-key-file F [--patients N] [--seed S]\n"
      "                                        [--time-zone ZONE]\n"
      "  The same practice in the central PostgreSQL (PII encrypted as the hub writes it); prints its id last.\n";
  if (rest.empty()) return usageError("demo needs a subcommand", help);
  if (rest.front() == "--help" || rest.front() == "-h") return std::fputs(help, stdout), kExitOk;
  if (rest.front() == "seed-central") return cmdDemoSeedCentral({rest.begin() + 1, rest.end()});
  if (rest.front() != "seed") return usageError("unknown demo subcommand '" + rest.front() + "'", help);
  const auto args = parseArgs({rest.begin() + 1, rest.end()}, {"--db", "--key-file", "--patients", "--seed"}, {});
  if (args.has("--help")) return std::fputs(help, stdout), kExitOk;
  if (!args.error.empty()) return usageError(args.error, help);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), help);
  std::string missing;
  if (!need(args, {"--db", "--key-file", "--patients"}, missing)) return usageError(missing, help);
  SeedOptions options;
  try {
    std::size_t used = 0;
    options.patients = std::stoi(*args.get("--patients"), &used);
    if (used != args.get("--patients")->size()) throw std::invalid_argument("patients");
    if (auto s = args.get("--seed")) {
      options.seed = std::stoull(*s, &used);
      if (used != s->size()) throw std::invalid_argument("seed");
    }
  } catch (...) {
    return usageError("--patients and --seed take whole numbers", help);
  }
  if (options.patients < 1 || options.patients > 1000000)
    return usageError("--patients must be between 1 and 1000000", help);
  auto s = openStoreToWrite(args);
  if (!s) return commandFailed(s.error());
  auto summary = seedDemo(*s, options);
  if (!summary) return commandFailed(summary.error());
  std::printf("demo practice seeded: %d providers, %d patients, %d appointments today, %d open slots, "
              "%d waitlists with %d entries, %d staff\n",
              summary->providers, summary->patients, summary->appointmentsToday, summary->openSlots,
              summary->waitlists, summary->waitlistEntries, summary->staff);
  for (const auto& staff : kDemoStaff) std::printf("demo staff PIN: %-24s %s\n", staff.displayName, staff.pin);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usageError("no command given", kTopHelp);
  const std::string command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") return std::fputs(kTopHelp, stdout), kExitOk;
  if (command == "keygen") return cmdKeygen(rest);
  if (command == "store") return cmdStore(rest);
  if (command == "demo") return cmdDemo(rest);
  if (command == "waitlist") return cmdWaitlist(rest);
  if (command == "central") return cmdCentral(rest);
  if (command == "ca") return cmdCa(rest);
  if (command == "device") return cmdDevice(rest);
  if (command == "review") return cmdReview(rest);
  return usageError("unknown command '" + command + "'", kTopHelp);
}
