// The device's side of sync (DESIGN.md 5.2-5.4): server rows applied so that row_version only
// grows, held back while local mutations wait; the acknowledgement transaction; sync state in
// the caller's transaction; the resync reset. Used by the sync client core through
// Store::syncWrite; the kiosk never calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/store/store.hpp"

namespace anteroom::store {

// Wire: "upsert" | "delete" | "purge" | "leave".
enum class ChangeOp { Upsert, Delete, Purge, Leave };
std::string_view toString(ChangeOp op);
std::optional<ChangeOp> parseChangeOp(std::string_view text);

// One row of a pull page, or the authoritative row of a push result.
struct RemoteChange {
  // Table name: practice, provider, patient, waitlist, waitlist_entry, appointment_slot,
  // appointment_request, appointment, notification, staff_user.
  std::string entity;
  Uuid id;
  ChangeOp op = ChangeOp::Upsert;
  std::int64_t rowVersion = 0;  // server version
  // Upsert/Delete: the row as the model's toRowJson makes it (row_json.hpp: every column keyed by
  // name); a "deleted" member (bool) marks a tombstone, which a Delete implies. Empty for
  // Purge/Leave.
  Json::Object row;
};

// Wire: "applied" | "merged" | "rejected" | "remapped" | "held".
enum class AckStatus { Applied, Merged, Rejected, Remapped, Held };
std::string_view toString(AckStatus status);
std::optional<AckStatus> parseAckStatus(std::string_view text);

struct MutationAck {
  std::string mutationId;
  AckStatus status = AckStatus::Applied;
  std::string code, message;        // Rejected/Held: a code and words a person can act on
  std::optional<Uuid> centralId;    // Remapped: the central id that replaces the local one
  std::optional<RemoteChange> row;  // the authoritative row, when the server has one
};

// The code of a mutation the hub holds until staff decide who a walk-in is (its conflict's code).
inline constexpr std::string_view kWalkinReviewCode = "sync.walkin_review";

// The held-back server rows (sync_held), for the daemon's status and for tests.
struct HeldChange {
  std::string entity;
  std::string entityId;
  ChangeOp op = ChangeOp::Upsert;
  std::int64_t rowVersion = 0;
};

// One IMMEDIATE transaction, from Store::syncWrite. Nothing it writes enters the outbox.
class SyncTx {
 public:
  // Applies a server row. Only moves row_version forward: an older or equal version is a no-op
  // (Stale). Upsert/Delete write every column (insert or replace; the tombstone flag from the
  // row); Purge/Leave hard-delete the row and nothing else. A row with pending outbox mutations
  // is held back in sync_held (the newest per row) and applied by acknowledge() once they are
  // gone (SkippedPendingLocal). No audit row per change: recordPage() writes one per page.
  // Errors: Protocol "sync.unknown_entity"; the model's fromRowJson codes "sync.row.missing",
  // "sync.row.type" (and "json.column") naming the column; "sync.row.id" for a row whose id is
  // not the change's.
  Result<ApplyOutcome> apply(const RemoteChange& change);

  // The acknowledgement transaction for a push result, in this order: remaps (the row's id,
  // every column of another table that references it, pending outbox rows -- entity_id and ids
  // inside changes/prior -- and conflicts); acked outbox rows deleted; Rejected and Held filed
  // as sync_conflict rows, and so is a Merged result that has a code (a value kept centrally):
  // reason = message, with the code, local_value = the mutation's changes, server_value = the
  // authoritative row; a new record refused with no server row leaves the device (its conflict
  // keeps what was typed); the authoritative rows written (the version
  // rule holds, except that the row of an acked mutation is rewritten at an equal version: the
  // device's own unacknowledged edit sits on top of that version); finally the held-back rows
  // whose pending mutations are all gone. An ack for a mutation no longer in the outbox (a
  // repeated result) only applies its row, except the answer about a mutation held for review
  // (an open conflict with kWalkinReviewCode) that is no longer held: staff resolved it, so its
  // conflict is closed, a Remapped answer remaps the walk-in's id as above, and a Rejected or
  // coded Merged answer files a new conflict. Errors: Protocol "sync.bad_ack", and apply()'s.
  Result<void> acknowledge(std::span<const MutationAck> acks);


  // Sync state (pull_cursor, last_push_at, ...) inside this transaction.
  Result<std::optional<std::string>> value(std::string_view key);
  Result<void> setValue(std::string_view key, std::string_view value);

  // Adopts a remote hybrid logical clock (the hub's) into this process's clock; persisted with
  // this transaction. A clock more than five minutes ahead is not adopted. Error: Protocol
  // "sync.bad_clock" for text that is not a clock.
  Result<void> observeClock(std::string_view hlc);

  // One audit row (actor sync) for a pulled page of `changes` rows.
  Result<void> recordPage(std::size_t changes);

  // The held-back rows, oldest first.
  Result<std::vector<HeldChange>> held();

  [[nodiscard]] Instant now() const { return m_now; }

 private:
  friend class Store;
  SyncTx(Store::Impl& impl, Instant now) : m_impl(impl), m_now(now) {}
  Result<ApplyOutcome> applyChange(const RemoteChange& change, bool equalVersionWins);
  Result<void> releaseHeld();
  Result<bool> anyRows(std::optional<bool>& known, const char* table);

  Store::Impl& m_impl;
  Instant m_now;
  // Whether the outbox / sync_held has any row, read once in this transaction (see anyRows).
  std::optional<bool> m_anyOutbox, m_anyHeld;
};

}  // namespace anteroom::store
