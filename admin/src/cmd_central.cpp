// anteroom-admin central migrate|status: the central PostgreSQL schema's migrations.
// Exit 0 on success, 1 when the operation fails, 2 on bad usage; errors are one line on stderr.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "central_migrations.hpp"
#include "central_settings.hpp"
#include "cli.hpp"
#include "commands.hpp"

namespace anteroom::admin {

namespace {

constexpr const char* kCentralHelp =
    "usage: anteroom-admin central <migrate|status> --dsn DSN\n"
    "  migrate  apply the pending migrations of the central PostgreSQL schema, each in its own\n"
    "           transaction; refuses a database whose applied migrations were changed; running it\n"
    "           again is a no-op. Connect as a superuser: it creates roles and extensions.\n"
    "  status   list applied and pending migrations, and check the server settings that keep PHI out\n"
    "           of the log (exit 1 when one is unsafe or a migration changed)\n"
    "\n"
    "  DSN is a libpq connection string, e.g. \"host=/run/postgresql dbname=anteroom user=postgres\".\n"
    "  Put no password in it: use peer authentication on the Unix socket, or ~/.pgpass (PGPASSFILE).\n";

int usage(const std::string& message) { return usageError(message, kCentralHelp); }
int failed(const Error& e) { return commandFailed(e); }

int runStatus(const std::string& dsn) {
  auto status = central::centralStatus(dsn);
  if (!status) return failed(status.error());
  std::printf("database: %s (PostgreSQL %s)\n", status->database.c_str(), status->serverVersion.c_str());
  for (const auto& m : status->migrations) {
    std::printf("  %-8s %-28s %s\n", std::string(central::toString(m.state)).c_str(), m.name.c_str(),
                m.appliedAt.c_str());
  }
  std::printf("%d applied, %d pending", status->applied, status->pending);
  if (status->changed > 0) std::printf(", %d changed since applied", status->changed);
  if (status->unknown > 0) std::printf(", %d unknown to this program", status->unknown);
  std::printf("\n");
  auto settings = central::checkLogSettings(dsn);
  if (!settings) return failed(settings.error());
  const bool safe = std::ranges::all_of(*settings, &central::LogSetting::safe);
  std::printf("log settings (PHI stays out of the server log): %s\n", safe ? "safe" : "UNSAFE");
  for (const auto& s : *settings) {
    const std::string where = s.scope.empty() ? "" : s.scope + "; ";
    const std::string note = s.safe ? "" : " (" + where + "must be " + s.required + ")";
    std::printf("  %-7s %s = %s%s\n", s.safe ? "ok" : "UNSAFE", s.name.c_str(), s.value.c_str(), note.c_str());
  }
  // A changed or unknown migration, or a setting that lets PHI into the log, is a state an
  // operator must act on.
  return status->changed + status->unknown > 0 || !safe ? kExitFailed : kExitOk;
}

int runMigrate(const std::string& dsn) {
  auto report = central::centralMigrate(dsn);
  if (!report) return failed(report.error());
  for (const auto& name : report->applied) std::printf("applied %s\n", name.c_str());
  if (report->applied.empty()) {
    std::printf("central schema is up to date (%d migrations applied)\n", report->alreadyApplied);
  } else {
    std::printf("central schema migrated: %zu applied now, %d before\n", report->applied.size(),
                report->alreadyApplied);
  }
  return kExitOk;
}

}  // namespace

int cmdCentral(const std::vector<std::string>& rest) {
  if (rest.empty()) return usage("central needs a subcommand");
  const std::string sub = rest.front();
  if (sub == "--help" || sub == "-h") return std::fputs(kCentralHelp, stdout), kExitOk;
  const auto args = parseArgs({rest.begin() + 1, rest.end()}, {"--dsn"}, {});
  if (args.has("--help")) return std::fputs(kCentralHelp, stdout), kExitOk;
  if (sub != "migrate" && sub != "status") return usage("unknown central subcommand '" + sub + "'");
  if (!args.error.empty()) return usage(args.error);
  if (!args.positional.empty()) return usage("unexpected argument " + args.positional.front());
  const auto dsn = args.get("--dsn");
  if (!dsn || dsn->empty()) return usage("--dsn is required");
  return sub == "migrate" ? runMigrate(*dsn) : runStatus(*dsn);
}

}  // namespace anteroom::admin
