// The commands that run the hub core on the central database as the superuser: review
// list|resolve (staff decide who a walk-in held for review is) and waitlist rescore (the daily
// job that moves time-dependent priority scores). Exit 0 on success, 1 when the operation
// fails, 2 on bad usage; errors are one line on stderr. What review list prints is PHI for the
// manager at the server's terminal: it goes to stdout only.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "anteroom/model/uuid.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central_reviews.hpp"
#include "central_seed.hpp"
#include "cli.hpp"
#include "commands.hpp"

namespace anteroom::admin {

namespace {

constexpr const char* kReviewHelp =
    "usage: anteroom-admin review <list|resolve> --dsn DSN [options]\n"
    "  A walk-in whose email belongs to a central patient with another name or date of birth is\n"
    "  held for review: neither merged nor duplicated, its changes (a waitlist entry, ...) wait.\n"
    "  list    --practice-id ID [--pii-key-file F --hash-key-file F]\n"
    "          the practice's open reviews, oldest first; with the hub's two key files, the name and\n"
    "          date of birth the walk-in typed beside those of the patient who has the email\n"
    "  resolve --review-id ID --as existing|new --pii-key-file F --hash-key-file F [--by NAME]\n"
    "          existing: the walk-in is that patient; the kiosk's record becomes theirs\n"
    "          new:      someone else; a new patient record WITHOUT the email (it stays the other\n"
    "                    patient's): ask the patient for their own address\n"
    "          Then the held changes are applied in the order the kiosk made them, in the same\n"
    "          transaction, and the kiosk learns the outcome on its next sync. A review is resolved\n"
    "          once; NAME (default $USER) is recorded in the audit trail as admin:NAME.\n"
    "\n"
    "  DSN: a libpq connection string for the superuser that ran 'anteroom-admin central migrate'.\n";

int usage(const std::string& message) { return usageError(message, kReviewHelp); }

Result<central::ReviewKeys> readKeys(const ParsedArgs& args) {
  auto pii = central::readHexKeyFile(*args.get("--pii-key-file"));
  if (!pii) return std::unexpected(pii.error());
  auto hash = central::readHexKeyFile(*args.get("--hash-key-file"));
  if (!hash) return std::unexpected(hash.error());
  return central::ReviewKeys{std::move(*pii), std::move(*hash)};
}

std::string describe(const central::ReviewPerson& p) {
  return p.firstName + " " + p.lastName + ", born " + (p.dateOfBirth.empty() ? "(unknown)" : p.dateOfBirth);
}

void printReview(const central::OpenReview& r) {
  std::printf("review %s  %s  from %s (device %s)  %s, %zu held change(s)\n", r.reviewId.c_str(), r.createdAt.c_str(),
              r.deviceName.c_str(), r.deviceId.c_str(), r.reason.c_str(), r.heldMutations);
  if (!r.walkIn) return;
  std::printf("  walk-in typed:    %s; email %s\n", describe(*r.walkIn).c_str(), r.email.c_str());
  if (!r.existingPatientId) {
    std::printf("  existing patient: nobody has this email now (resolve as new)\n");
  } else if (r.existingDeleted || !r.existing) {
    std::printf("  existing patient: %s, deleted (resolve as new)\n", r.existingPatientId->c_str());
  } else {
    std::printf("  existing patient: %s (patient %s)\n", describe(*r.existing).c_str(), r.existingPatientId->c_str());
  }
}

int runList(const ParsedArgs& args) {
  std::string missing;
  if (!needOptions(args, {"--dsn", "--practice-id"}, missing)) return usage(missing);
  const auto practice = Uuid::parse(*args.get("--practice-id"));
  if (!practice) return usage("--practice-id must be a UUID (8-4-4-4-12 hex digits)");
  if (args.get("--pii-key-file").has_value() != args.get("--hash-key-file").has_value())
    return usage("--pii-key-file and --hash-key-file go together (names need both)");
  std::optional<central::ReviewKeys> keys;
  if (args.get("--pii-key-file")) {
    auto read = readKeys(args);
    if (!read) return commandFailed(read.error());
    keys = std::move(*read);
  }
  auto reviews = central::openReviews(*args.get("--dsn"), practice->toString(), keys);
  if (!reviews) return commandFailed(reviews.error());
  for (const auto& r : *reviews) printReview(r);
  std::printf("%zu open review(s) in practice %s%s\n", reviews->size(), practice->toString().c_str(),
              keys || reviews->empty() ? "" : " (names need --pii-key-file and --hash-key-file)");
  return kExitOk;
}

// "admin:NAME", the app.actor shape the audit trail and walkin_review.resolved_by accept.
std::optional<std::string> actorFor(const ParsedArgs& args) {
  const char* user = std::getenv("USER");
  const std::string name = args.get("--by").value_or(user && *user ? user : "anteroom-admin");
  if (name.empty() || name.size() > 64) return std::nullopt;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return std::nullopt;
  }
  return "admin:" + name;
}

// The hub core on the DSN, with the hub's two keys, once the role is known to see every practice.
Result<std::unique_ptr<sync::HubCore>> hubFor(const ParsedArgs& args) {
  auto keys = readKeys(args);
  if (!keys) return std::unexpected(keys.error());
  if (auto s = central::checkSuperuser(*args.get("--dsn")); !s) return std::unexpected(s.error());
  sync::HubOptions options;
  options.dsn = *args.get("--dsn");
  options.piiKey = keys->piiKey;
  options.hashKey = keys->hashKey;
  options.log = [](const std::string& line) { std::fprintf(stderr, "anteroom-admin: warning: %s\n", line.c_str()); };
  return sync::HubCore::connect(std::move(options));
}

int runResolve(const ParsedArgs& args) {
  std::string missing;
  if (!needOptions(args, {"--dsn", "--review-id", "--as", "--pii-key-file", "--hash-key-file"}, missing)) return usage(missing);
  const auto review = Uuid::parse(*args.get("--review-id"));
  if (!review) return usage("--review-id must be a UUID (8-4-4-4-12 hex digits)");
  const std::string as = *args.get("--as");
  if (as != "existing" && as != "new") return usage("--as must be existing or new");
  const auto actor = actorFor(args);
  if (!actor) return usage("--by must be 1 to 64 letters, digits, '.', '_' or '-'");
  auto hub = hubFor(args);
  if (!hub) return commandFailed(hub.error());
  const sync::ReviewDecision decision{*review, as == "existing" ? sync::ReviewOutcome::Existing : sync::ReviewOutcome::New,
                                      *actor};
  auto released = (*hub)->resolveReview(decision);
  if (!released) return commandFailed(released.error());
  std::printf("review %s resolved as %s by %s: %zu held change(s) applied, %zu refused (the kiosk shows why)\n",
              review->toString().c_str(), as.c_str(), actor->c_str(), released->released, released->refused);
  if (released->emailDropped)
    std::printf("the new patient record has no email: the address typed belongs to another patient. Ask the patient "
                "for their own and correct it at the kiosk\n");
  std::printf("the kiosk learns the outcome on its next sync\npatient id:\n%s\n", released->patientId.toString().c_str());
  return kExitOk;
}

constexpr const char* kRescoreHelp =
    "usage: anteroom-admin waitlist rescore --dsn DSN --pii-key-file F --hash-key-file F\n"
    "  Scores every practice's waiting and offered entries again now: days waited change a\n"
    "  priority score though nothing about the entry changed. Only scores that moved are written\n"
    "  (and so reach the kiosks). Run daily (systemd/anteroom-rescore.timer). The key files are the\n"
    "  hub's; DSN is the superuser's, as for 'central migrate'.\n";

}  // namespace

int cmdWaitlistRescore(const std::vector<std::string>& rest) {
  const auto args = parseArgs(rest, {"--dsn", "--pii-key-file", "--hash-key-file"}, {});
  if (args.has("--help")) return std::fputs(kRescoreHelp, stdout), kExitOk;
  if (!args.error.empty()) return usageError(args.error, kRescoreHelp);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), kRescoreHelp);
  std::string missing;
  if (!needOptions(args, {"--dsn", "--pii-key-file", "--hash-key-file"}, missing)) return usageError(missing, kRescoreHelp);
  auto hub = hubFor(args);
  if (!hub) return commandFailed(hub.error());
  auto report = (*hub)->rescoreWaitlists();
  if (!report) return commandFailed(report.error());
  std::printf("rescored %zu waiting entries in %zu practices: %zu scores moved\n", report->entries, report->practices,
              report->changed);
  return kExitOk;
}

int cmdReview(const std::vector<std::string>& rest) {
  if (rest.empty()) return usage("review needs a subcommand");
  const std::string sub = rest.front();
  if (sub == "--help" || sub == "-h") return std::fputs(kReviewHelp, stdout), kExitOk;
  const auto args = parseArgs({rest.begin() + 1, rest.end()},
                              {"--dsn", "--practice-id", "--pii-key-file", "--hash-key-file", "--review-id", "--as", "--by"},
                              {});
  if (args.has("--help")) return std::fputs(kReviewHelp, stdout), kExitOk;
  if (sub != "list" && sub != "resolve") return usage("unknown review subcommand '" + sub + "'");
  if (!args.error.empty()) return usage(args.error);
  if (!args.positional.empty()) return usage("unexpected argument " + args.positional.front());
  return sub == "list" ? runList(args) : runResolve(args);
}

}  // namespace anteroom::admin
