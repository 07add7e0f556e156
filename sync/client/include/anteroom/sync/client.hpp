// The device's sync client core (DESIGN.md 5.1-5.4): one session pushes the store's outbox in
// bounded batches, records each acknowledgement in the transaction that deletes the acked rows,
// then pulls pages and applies each with its cursor in one transaction. It talks to the hub
// through a Transport; anteroom-syncd gives it libcurl, the tests an in-process one.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "anteroom/model/error.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/store/sync_store.hpp"
#include "anteroom/sync/messages.hpp"

namespace anteroom::sync {

// One request, one answer. An error's code says what happened: Network (transient: retry
// later), Conflict "sync.resync" / "sync.schema_version" / "sync.device_restored", Protocol.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<PushResponse> push(const PushRequest& request) = 0;
  virtual Result<PullResponse> pull(const PullRequest& request) = 0;
};

struct SessionOptions {
  std::size_t pushBatch = 100;  // mutations a push (the hub caps it at WireLimits)
  int pullLimit = 500;          // changes a page
  int pullWaitSeconds = 0;      // long-poll on the last page (the daemon; tests use 0)
  std::size_t maxRounds = 10000;  // pushes or pages in one session: a bound, not a goal
  std::size_t maxHeldAsks = 500;  // open conflicts read for held mutations to ask about again
  std::function<Instant()> clock;
  // Fetch the next page (after this page's cursor) on a second thread while this page is
  // applied: the hub's and the wire's time overlaps the store's. Each page is still applied in
  // its own transaction with its cursor, in order; a page fetched ahead of a failed apply is
  // dropped. The transport is then called from that thread (one call at a time, never two).
  bool overlapPages = false;
};

struct SessionReport {
  std::size_t pushed = 0;      // mutations sent (repeats included)
  std::size_t acknowledged = 0;
  std::size_t rejected = 0;    // filed as conflicts for staff
  std::size_t pages = 0;
  std::size_t changes = 0;     // rows received
  bool resynced = false;
};

// sync_state keys the session keeps (the kiosk's staff sync screen reads them).
inline constexpr std::string_view kPullCursorKey = "pull_cursor";
inline constexpr std::string_view kLastPushKey = "last_push_at";
inline constexpr std::string_view kLastPullKey = "last_pull_at";
inline constexpr std::string_view kLastErrorKey = "last_error";

class SyncSession {
 public:
  SyncSession(store::Store& store, Transport& transport, SessionOptions options = {});

  // Push until the outbox is empty, then pull until the hub has no more. Stops at the first
  // error (recorded as last_error in words a person can read) and returns it; what was
  // acknowledged or applied before it stays. A "sync.resync" answer resets the store (only
  // with an empty outbox) and pulls from the start.
  Result<SessionReport> run();
  Result<void> pushAll(SessionReport& report);
  // Asks the hub again about the mutations it holds for a walk-in review (their open conflicts):
  // once staff have resolved the review, the answer is the outcome. Best effort: the next
  // session asks again.
  void askAboutHeld(SessionReport& report);
  Result<void> pullAll(SessionReport& report);
  Result<PullResponse> pullAfter(std::string cursor);

 private:
  Instant now() const;
  Result<void> recordError(const Error& error);

  store::Store& m_store;
  Transport& m_transport;
  SessionOptions m_options;
};

// The mapping between the wire and the store's types, shared with the daemon. A change passed
// as an rvalue gives up its row (a page's rows are applied once, not copied).
store::RemoteChange toRemoteChange(Change change);
Result<Mutation> toMutation(const store::OutboxMutation& row);
store::MutationAck toAck(const MutationResult& result);

}  // namespace anteroom::sync
