// anteroom-admin waitlist rank|match: prints the engine's ranking and a slot's matches with
// their reasons, so a practice can check its judgement. Patients appear as "First L." only.
#include <cmath>
#include <cstdio>
#include <string>

#include "anteroom/model/json.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/store/waitlist_service.hpp"
#include "anteroom/model/validation.hpp"
#include "cli.hpp"
#include "commands.hpp"

namespace anteroom::admin {
namespace {

constexpr const char* kHelp =
    "usage: anteroom-admin waitlist <rank|match> --db FILE --key-file FILE [options]\n"
    "  rank   [--waitlist ID] [--json]\n"
    "         active entries in priority order, with each score's breakdown\n"
    "  match  --slot ID [--waitlist ID] [--limit N] [--json]\n"
    "         the waiting patients who fit a slot, best first, with reasons, and how many\n"
    "         each hard filter excluded\n"
    "  Patients are shown by entry id and first name plus last initial only.\n"
    "usage: anteroom-admin waitlist rescore --dsn DSN --pii-key-file F --hash-key-file F\n"
    "  the central database's scores again now (days waited move them); daily, from a timer\n";

int usage(const std::string& message) { return usageError(message, kHelp); }
int failed(const Error& e) { return commandFailed(e); }

// "Lucía P.": first name and last initial only.
std::string shortName(const Patient& p) { return firstNameLastInitial(p.firstName, p.lastName); }

std::string localTime(Instant t) {
  const Instant local = t + store::deviceUtcOffset(t);
  std::string s = formatInstant(local);  // "YYYY-MM-DDTHH:MM:SS.ffffffZ"
  return s.substr(0, 10) + ' ' + s.substr(11, 5);
}

// Built the way columns.cpp builds JSON (objects returned by value): GCC 12 warns
// (maybe-uninitialized, falsely) about Json temporaries moved into containers.
Json termJson(const ScoreTerm& t) {
  Json::Object o;
  o["points"] = std::round(t.points * 100.0) / 100.0;
  o["reason"] = t.reason;
  return o;
}

Json termsJson(std::span<const ScoreTerm> terms) {
  Json::Array out;
  for (const auto& t : terms) out.push_back(termJson(t));
  return out;
}

std::string score(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

Json rankRowJson(const RankedEntry& r, const WaitlistEntry& e, const std::string& name) {
  Json::Object o;
  o["position"] = r.position;
  o["entry_id"] = e.entryId.toString();
  o["patient"] = name;
  o["status"] = toString(e.status);
  o["urgency"] = e.urgency;
  o["priority_score"] = r.priority.score;
  o["stored_priority_score"] = e.priorityScore;
  o["breakdown"] = termsJson(r.priority.terms);
  return o;
}

Json listJson(const Waitlist& list, Json::Array rows) {
  Json::Object o;
  o["waitlist_id"] = list.waitlistId.toString();
  o["name"] = list.name;
  o["offer_mode"] = toString(list.criteria.offerMode);
  o["entries"] = std::move(rows);
  return o;
}

Json candidateJson(const WaitlistEngine& engine, const SlotCandidate& c, int rank) {
  const auto& e = engine.entries()[c.entryIndex];
  Json::Object o;
  o["rank"] = rank;
  o["entry_id"] = e.entryId.toString();
  o["waitlist_id"] = e.waitlistId.toString();
  o["patient"] = shortName(engine.patientOf(c.entryIndex));
  o["total"] = c.total;
  o["priority"] = c.priority;
  o["fit"] = c.fit;
  o["priority_breakdown"] = termsJson(engine.priorityOf(c.entryIndex).terms);
  o["fit_breakdown"] = termsJson(c.fitTerms);
  return o;
}

Result<store::Store> open(const ParsedArgs& args) {
  auto key = store::SecretKey::readFile(*args.get("--key-file"));
  if (!key) return std::unexpected(key.error());
  store::OpenOptions options;
  options.path = *args.get("--db");
  return store::Store::open(options, *key);
}

int rank(store::Store& s, const ParsedArgs& args, std::optional<Uuid> waitlistId) {
  const Instant now = nowUtc();
  store::WaitlistService service(s);
  auto engine = service.loadEngine(now, waitlistId);
  if (!engine) return failed(engine.error());
  if (waitlistId && engine->data().waitlists.empty()) return failed(Error{ErrorDomain::NotFound, "", "no waitlist with that id", false});
  // Reading patient names for a staff view is audited, like the kiosk's staff screens.
  auto audited = s.write(store::Actor::admin(), now, [&](store::WriteTx& tx) -> Result<void> {
    for (const auto& list : engine->data().waitlists)
      if (auto a = tx.recordAccess("waitlist", list.waitlistId, "rank"); !a) return a;
    return {};
  });
  if (!audited) return failed(audited.error());

  const bool json = args.has("--json");
  Json::Array lists;
  for (const auto& list : engine->data().waitlists) {
    const auto ranked = engine->rank(list.waitlistId);
    if (!json) {
      std::printf("waitlist %s \"%s\": %zu active, offers %s, hold %d min\n", list.waitlistId.toString().c_str(),
                  list.name.c_str(), ranked.size(), std::string(toString(list.criteria.offerMode)).c_str(),
                  list.criteria.holdMinutes);
      std::printf("  %4s  %-36s  %-18s %-8s %7s  %s\n", "#", "entry id", "patient", "status", "score", "why");
    }
    Json::Array rows;
    for (const auto& r : ranked) {
      const auto& e = engine->entries()[r.entryIndex];
      const std::string name = shortName(engine->patientOf(r.entryIndex));
      if (json) {
        rows.push_back(rankRowJson(r, e, name));
      } else {
        std::printf("  %4d  %-36s  %-18s %-8s %7s  %s\n", r.position, e.entryId.toString().c_str(), name.c_str(),
                    std::string(toString(e.status)).c_str(), score(r.priority.score).c_str(),
                    formatTerms(r.priority.terms).c_str());
      }
    }
    if (json) {
      lists.push_back(listJson(list, std::move(rows)));
    } else {
      std::printf("\n");
    }
  }
  if (json) {
    Json::Object root;
    root["computed_at"] = formatInstant(now);
    root["waitlists"] = std::move(lists);
    std::printf("%s\n", Json(std::move(root)).dump().c_str());
  }
  return kExitOk;
}

int match(store::Store& s, const ParsedArgs& args, const Uuid& slotId, std::optional<Uuid> waitlistId, std::size_t limit) {
  const Instant now = nowUtc();
  auto slot = s.get<AppointmentSlot>(slotId);
  if (!slot) return failed(slot.error());
  if (!*slot || (*slot)->sync.deleted) return failed(Error{ErrorDomain::NotFound, "", "no appointment slot with that id", false});
  store::WaitlistService service(s);
  auto engine = service.loadEngine(now);
  if (!engine) return failed(engine.error());
  auto audited = s.write(store::Actor::admin(), now, [&](store::WriteTx& tx) { return tx.recordAccess("appointment_slot", slotId, "match"); });
  if (!audited) return failed(audited.error());

  // A held slot is being offered; show whom it would go to as if it were open.
  AppointmentSlot asOpen = **slot;
  if (asOpen.status == SlotStatus::Held) asOpen.status = SlotStatus::Open;
  const auto result = engine->matchSlot(asOpen, limit, waitlistId);
  std::string providerName = "unknown provider";
  for (const auto& p : engine->data().providers)
    if (p.providerId == asOpen.providerId) providerName = p.firstName + " " + p.lastName;

  std::size_t considered = result.eligible;
  for (auto n : result.excluded) considered += n;
  if (args.has("--json")) {
    Json::Object root;
    root["slot_id"] = slotId.toString();
    root["provider_id"] = asOpen.providerId.toString();
    root["start_time"] = formatInstant(asOpen.startTime);
    root["end_time"] = formatInstant(asOpen.endTime);
    root["slot_status"] = toString((*slot)->status);
    root["considered"] = static_cast<std::int64_t>(considered);
    root["eligible"] = static_cast<std::int64_t>(result.eligible);
    Json::Object excluded;
    for (std::size_t f = 1; f < result.excluded.size(); ++f)
      if (result.excluded[f])
        excluded[std::string(toString(static_cast<HardFilter>(f)))] = static_cast<std::int64_t>(result.excluded[f]);
    root["excluded"] = std::move(excluded);
    Json::Array rows;
    int n = 0;
    for (const auto& c : result.candidates) rows.push_back(candidateJson(*engine, c, ++n));
    root["candidates"] = std::move(rows);
    std::printf("%s\n", Json(std::move(root)).dump().c_str());
    return kExitOk;
  }
  std::printf("slot %s: %s, %s to %s (local), %s\n", slotId.toString().c_str(), providerName.c_str(),
              localTime(asOpen.startTime).c_str(), localTime(asOpen.endTime).substr(11).c_str(),
              std::string(toString((*slot)->status)).c_str());
  std::printf("%zu of %zu entries fit", result.eligible, considered);
  bool first = true;
  for (std::size_t f = 1; f < result.excluded.size(); ++f) {
    if (!result.excluded[f]) continue;
    std::printf("%s%zu %s", first ? "; excluded: " : ", ", result.excluded[f],
                std::string(describe(static_cast<HardFilter>(f))).c_str());
    first = false;
  }
  std::printf("\n");
  if (result.candidates.empty()) return kExitOk;
  std::printf("  %4s  %-36s  %-18s %7s %8s %6s  %s\n", "#", "entry id", "patient", "total", "priority", "fit", "why");
  int n = 0;
  for (const auto& c : result.candidates) {
    const auto& e = engine->entries()[c.entryIndex];
    std::printf("  %4d  %-36s  %-18s %7s %8s %6s  %s | fit: %s\n", ++n, e.entryId.toString().c_str(),
                shortName(engine->patientOf(c.entryIndex)).c_str(), score(c.total).c_str(), score(c.priority).c_str(),
                score(c.fit).c_str(), formatTerms(engine->priorityOf(c.entryIndex).terms).c_str(),
                c.fitTerms.empty() ? "-" : formatTerms(c.fitTerms).c_str());
  }
  return kExitOk;
}

}  // namespace

int cmdWaitlist(const std::vector<std::string>& rest) {
  if (rest.empty()) return usage("waitlist needs a subcommand");
  const std::string sub = rest.front();
  if (sub == "--help" || sub == "-h") return std::fputs(kHelp, stdout), kExitOk;
  if (sub == "rescore") return cmdWaitlistRescore({rest.begin() + 1, rest.end()});
  if (sub != "rank" && sub != "match") return usage("unknown waitlist subcommand '" + sub + "'");
  const auto args = parseArgs({rest.begin() + 1, rest.end()}, {"--db", "--key-file", "--waitlist", "--slot", "--limit"},
                              {"--json"});
  if (args.has("--help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.error.empty()) return usage(args.error);
  if (!args.positional.empty()) return usage("unexpected argument " + args.positional.front());
  for (const char* name : {"--db", "--key-file"})
    if (!args.get(name)) return usage(std::string(name) + " is required");
  std::optional<Uuid> waitlistId;
  if (auto w = args.get("--waitlist")) {
    waitlistId = Uuid::parse(*w);
    if (!waitlistId) return usage("--waitlist must be a waitlist id (a UUID)");
  }
  std::optional<Uuid> slotId;
  std::size_t limit = 10;
  if (sub == "match") {
    if (!args.get("--slot")) return usage("--slot is required");
    slotId = Uuid::parse(*args.get("--slot"));
    if (!slotId) return usage("--slot must be a slot id (a UUID)");
    if (auto l = args.get("--limit")) {
      try {
        std::size_t used = 0;
        const int v = std::stoi(*l, &used);
        if (used != l->size() || v < 1 || v > 100000) throw std::out_of_range("limit");
        limit = static_cast<std::size_t>(v);
      } catch (...) {
        return usage("--limit must be a whole number from 1 to 100000");
      }
    }
  } else if (args.get("--slot") || args.get("--limit")) {
    return usage("--slot and --limit belong to 'waitlist match'");
  }
  auto s = open(args);
  if (!s) return failed(s.error());
  return sub == "rank" ? rank(*s, args, waitlistId) : match(*s, args, *slotId, waitlistId, limit);
}

}  // namespace anteroom::admin
