// The hub's core (DESIGN.md 5.1-5.4): applies a device's pushed mutations to PostgreSQL under
// row-level security with the model's rules, and serves its practice's change feed. No HTTP
// and no SQLCipher here; anteroom-hub is a thin HTTPS shell around it. libpqxx stays private.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/sync/messages.hpp"

namespace anteroom::sync {

struct HubOptions {
  std::string dsn;      // PostgreSQL, as the anteroom_hub role
  std::string piiKey;   // 64 hex characters (the caller reads it from a file and wipes it)
  std::string hashKey;  // 64 hex characters
  WireLimits limits;
  // The hub's idea of now: the data window and receipt times. Tests and the simulation set it.
  std::function<Instant()> clock;
  // Rows of a push applied per transaction (a SAVEPOINT each, one commit per batch).
  std::size_t batchSize = 100;
  // Named prepared statements, planned once per connection. false: the same SQL as unnamed
  // parameterised statements, so the hub works through PgBouncer in transaction pooling mode
  // (which keeps no session for a client between transactions). Nothing else the core does
  // needs a session: every setting it makes is local to its transaction.
  bool preparedStatements = true;
  // Where the core reports what an operator should know of (one line: a dotted code and ids,
  // never row values), e.g. a central row the model cannot decode, which is left out of pages.
  // Unset: stderr with the journald warning prefix "<4>anteroom-hub: ".
  std::function<void(const std::string&)> log = {};
};

// The device a request comes from, once its certificate has been matched to an enrolled,
// unrevoked device. Its practice is the RLS scope of every transaction made for it.
struct DeviceContext {
  Uuid deviceId;
  Uuid practiceId;
};

// Staff's decision on a walk-in held for review (anteroom-admin review resolve): the walk-in is
// the patient who already has its email (Existing: linked, the device's id aliased to theirs),
// or someone else (New: a patient of its own, without the email, which stays the other
// patient's). Either way the held mutations are then applied in device_seq order.
enum class ReviewOutcome { Existing, New };

struct ReviewDecision {
  Uuid reviewId;
  ReviewOutcome as = ReviewOutcome::Existing;
  std::string actor;  // app.actor for the audit trail, e.g. "admin:jdoe"
};

struct ReviewRelease {
  Uuid practiceId;
  Uuid patientId;                 // the central patient the walk-in now is
  std::size_t released = 0;       // held mutations applied (in device_seq order)
  std::size_t refused = 0;        // of which the model or the database refused (kiosk conflicts)
  bool emailDropped = false;      // New: the record has no email (it is another patient's)
};

struct RescoreReport {
  std::size_t practices = 0;
  std::size_t entries = 0;  // active waitlist entries scored
  std::size_t changed = 0;  // whose score moved (written, so the devices get it)
};

class HubCore {
 public:
  // Errors: Network "hub.database" (transient) when PostgreSQL cannot be reached.
  static Result<std::unique_ptr<HubCore>> connect(HubOptions options);
  HubCore(const HubCore&) = delete;
  HubCore& operator=(const HubCore&) = delete;
  ~HubCore();

  // Errors: Conflict "hub.unknown_device" or "hub.revoked_device".
  Result<DeviceContext> deviceForFingerprint(std::string_view sha256Hex);

  // Answers only after the batch committed; a repeat of an applied mutation gets its stored
  // result and changes nothing. Errors (the whole push): Conflict "sync.schema_version",
  // "sync.device_restored"; Network "hub.database" (transient: retry the same push).
  Result<PushResponse> applyPush(const DeviceContext& device, const PushRequest& push);

  // A page of the practice's changes after `after`, from one snapshot, filtered to the
  // device's data window, with the rows they reference and the rows that entered the window
  // since the cursor's day. Errors: Conflict "sync.resync" (cursor past the tombstone horizon:
  // empty the outbox and pull from the start), "sync.schema_version"; Protocol "protocol.cursor".
  Result<PullResponse> pull(const DeviceContext& device, const PullRequest& request);

  // Resolves an open walk-in review in one transaction: the link or the new patient, the held
  // mutations applied as a push would apply them, their idempotency records rewritten with the
  // outcome (a device asking about a held mutation again gets it), the review closed. Needs a
  // DSN that sees every practice (the superuser 'central migrate' uses): the hub role may not
  // resolve. Errors: NotFound "review.unknown"; Conflict "review.resolved" (already resolved:
  // nothing is applied twice), "review.no_existing" (Existing, but the patient with that email
  // is gone or deleted); Network "hub.database".
  Result<ReviewRelease> resolveReview(const ReviewDecision& decision);

  // Scores every practice's active waitlist entries again at the hub's clock (days waited change
  // priority_score though the entry did not), one transaction per practice; writes only scores
  // that moved. For a daily timer ('anteroom-admin waitlist rescore'); needs a DSN that sees every
  // practice. Errors: Network "hub.database", "hub.busy" (transient); Internal "rescore.failed".
  Result<RescoreReport> rescoreWaitlists();

  // The hub's hybrid logical clock, observed from every push and sent with every answer.
  [[nodiscard]] std::string clockNow();

  struct Impl;

 private:
  explicit HubCore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace anteroom::sync
