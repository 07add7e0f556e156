// The device's side of sync: server rows applied with the version rule and held back over
// pending mutations, the acknowledgement transaction (remaps, conflicts, authoritative rows),
// sync state in the caller's transaction, and the resync reset.
#include "anteroom/store/sync_store.hpp"

#include <algorithm>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "anteroom/model/fields.hpp"
#include "anteroom/model/hlc.hpp"
#include "anteroom/model/row_json.hpp"
#include "sqlite.hpp"
#include "store_internal.hpp"

namespace anteroom::store {

// [SECTION] Wire names

namespace {

constexpr std::pair<ChangeOp, std::string_view> kChangeOps[] = {
    {ChangeOp::Upsert, "upsert"}, {ChangeOp::Delete, "delete"}, {ChangeOp::Purge, "purge"}, {ChangeOp::Leave, "leave"}};
constexpr std::pair<AckStatus, std::string_view> kAckStatuses[] = {{AckStatus::Applied, "applied"},
                                                                   {AckStatus::Merged, "merged"},
                                                                   {AckStatus::Rejected, "rejected"},
                                                                   {AckStatus::Remapped, "remapped"},
                                                                   {AckStatus::Held, "held"}};

template <class E, std::size_t N>
std::string_view nameOf(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return table[0].second;
}

template <class E, std::size_t N>
std::optional<E> valueOf(const std::pair<E, std::string_view> (&table)[N], std::string_view text) {
  for (const auto& [v, name] : table)
    if (name == text) return v;
  return std::nullopt;
}

}  // namespace

std::string_view toString(ChangeOp op) { return nameOf(kChangeOps, op); }
std::optional<ChangeOp> parseChangeOp(std::string_view text) { return valueOf(kChangeOps, text); }
std::string_view toString(AckStatus status) { return nameOf(kAckStatuses, status); }
std::optional<AckStatus> parseAckStatus(std::string_view text) { return valueOf(kAckStatuses, text); }

namespace {

// [SECTION] Row JSON -> record (the model's fromRowJson, shared with the hub)

template <class T>
Result<T> decodeRow(const RemoteChange& change) {
  auto decoded = fromRowJson<T>(change.row);
  if (!decoded) {
    // The model names the column, never its value (rows carry PHI); say which table it was.
    Error e = std::move(decoded.error());
    e.message = "the server sent a " + change.entity + " row whose " + e.message;
    return std::unexpected(std::move(e));
  }
  T record = std::move(*decoded);
  if (record.*Fields<T>::idMember != change.id)
    return fail(ErrorDomain::Protocol, "sync.row.id",
                "the server sent a " + change.entity + " row whose id is not the change's id");
  bool deleted = change.op == ChangeOp::Delete;
  if (const auto it = change.row.find("deleted"); it != change.row.end() && !it->second.isNull()) {
    if (!it->second.isBool())
      return fail(ErrorDomain::Protocol, "sync.row.type",
                  "the server sent a " + change.entity + " row whose column deleted must be true or false");
    deleted = deleted || it->second.asBool();
  }
  record.sync.rowVersion = change.rowVersion;
  record.sync.deleted = deleted;
  return record;
}

// [SECTION] Entities: one row per record type (fields.hpp), found by table name

struct Table {
  std::string_view table;
  std::string_view idColumn;
  // Decodes the row and writes every column (insert when `exists` is false).
  Result<void> (*write)(Store::Impl&, const RemoteChange&, bool exists);
};

template <class T>
Result<void> writeRowOf(Store::Impl& impl, const RemoteChange& change, bool exists) {
  auto record = decodeRow<T>(change);
  if (!record) return std::unexpected(record.error());
  return internal::writeServerRow(impl, *record, exists);
}

const std::vector<Table>& entities() {
  static const std::vector<Table> all = [] {
    std::vector<Table> v;
    forEachRecordType([&](const auto& sample) {
      using T = std::decay_t<decltype(sample)>;
      v.push_back({Fields<T>::table, Fields<T>::idColumn, &writeRowOf<T>});
    });
    return v;
  }();
  return all;
}

Result<const Table*> entityNamed(std::string_view table) {
  for (const auto& e : entities())
    if (e.table == table) return &e;
  return fail(ErrorDomain::Protocol, "sync.unknown_entity",
              "the server sent a change for '" + std::string(table) + "', which this device does not keep");
}

// Columns of other tables that hold an entity's id; a remap rewrites them. Notifications name
// their recipient by id and type.
struct Reference {
  std::string_view parent;
  std::string_view table;
  std::string_view column;
  std::string_view condition;
};
constexpr Reference kReferences[] = {
    {"practice", "provider", "practice_id", ""},
    {"practice", "waitlist", "practice_id", ""},
    {"practice", "staff_user", "practice_id", ""},
    {"provider", "waitlist_entry", "provider_id", ""},
    {"provider", "appointment_slot", "provider_id", ""},
    {"provider", "appointment_request", "provider_id", ""},
    {"provider", "appointment", "provider_id", ""},
    {"provider", "notification", "recipient_id", " AND recipient_type = 'provider'"},
    {"patient", "waitlist_entry", "patient_id", ""},
    {"patient", "appointment_request", "patient_id", ""},
    {"patient", "appointment", "patient_id", ""},
    {"patient", "notification", "recipient_id", " AND recipient_type = 'patient'"},
    {"waitlist", "waitlist_entry", "waitlist_id", ""},
    {"waitlist_entry", "appointment_request", "waitlist_entry_id", ""},
    {"waitlist_entry", "appointment", "waitlist_entry_id", ""},
    {"appointment_slot", "appointment_request", "appointment_slot_id", ""},
    {"staff_user", "waitlist_entry", "urgency_set_by", ""},
};

std::string quoted(const Uuid& id) { return "\"" + id.toString() + "\""; }

// [SECTION] Small statements

Result<void> run(Store::Impl& impl, const std::string& sqlText, std::initializer_list<sql::Value> params,
                 std::string_view what) {
  auto stmt = internal::connection(impl).cached(sqlText);
  if (!stmt) return std::unexpected(stmt.error());
  int i = 1;
  for (const auto& p : params) (*stmt)->bind(i++, p);
  return internal::step(impl, **stmt, what);
}

// The row's server version on the device, or nullopt when the device does not hold it.
Result<std::optional<std::int64_t>> localVersion(Store::Impl& impl, const Table& entity, const Uuid& id) {
  auto stmt = internal::connection(impl).cached("SELECT row_version FROM " + std::string(entity.table) + " WHERE " +
                                                std::string(entity.idColumn) + " = ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindText(1, id.toString());
  const int rc = (*stmt)->step();
  if (rc == SQLITE_ROW) return std::optional<std::int64_t>((*stmt)->getInt(0));
  if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
  return std::unexpected(sql::sqliteError(internal::connection(impl).raw(), rc, "reading a record's version"));
}

// Keeps the newest server row for a record whose local mutations are still pending.
Result<void> hold(Store::Impl& impl, const RemoteChange& change, Instant now) {
  auto stmt = internal::connection(impl).cached("SELECT row_version FROM sync_held WHERE entity = ? AND entity_id = ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindText(1, change.entity);
  (*stmt)->bindText(2, change.id.toString());
  const int rc = (*stmt)->step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return std::unexpected(sql::sqliteError(internal::connection(impl).raw(), rc, "reading held-back changes"));
  if (rc == SQLITE_ROW && (*stmt)->getInt(0) >= change.rowVersion) return {};
  return run(impl,
             "INSERT OR REPLACE INTO sync_held (entity, entity_id, op, row_version, row, held_at)"
             " VALUES (?, ?, ?, ?, ?, ?)",
             {change.entity, change.id.toString(), std::string(toString(change.op)), change.rowVersion,
              Json(change.row).dump(), formatInstant(now)},
             "holding back a server change");
}

struct OutboxRow {
  std::string entity;
  std::string entityId;
  std::string changes;
  std::string kind;
};

// What the acknowledgement of one mutation works on.
struct AckedChange {
  std::string entity;
  std::string entityId;
  std::string changes;  // JSON: what the device wrote
  std::string kind;     // "insert" | "update" | "delete"; empty when only a review conflict tells
  bool fromOutbox = false;
};

Result<std::optional<OutboxRow>> outboxRow(Store::Impl& impl, const std::string& mutationId) {
  auto stmt = internal::connection(impl).cached("SELECT entity, entity_id, changes, kind FROM outbox WHERE mutation_id = ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindText(1, mutationId);
  const int rc = (*stmt)->step();
  if (rc == SQLITE_ROW)
    return std::optional<OutboxRow>(
        OutboxRow{(*stmt)->getText(0), (*stmt)->getText(1), (*stmt)->getText(2), (*stmt)->getText(3)});
  if (rc == SQLITE_DONE) return std::optional<OutboxRow>();
  return std::unexpected(sql::sqliteError(internal::connection(impl).raw(), rc, "reading the outbox"));
}

// The local id becomes the central one everywhere the device holds it. When the device already
// has the central row (pulled before the ack), the local copy goes and the children follow.
Result<void> remap(Store::Impl& impl, const Table& entity, const Uuid& localId, const Uuid& centralId, Instant now) {
  const std::string table(entity.table);
  const std::string idColumn(entity.idColumn);
  auto central = localVersion(impl, entity, centralId);
  if (!central) return std::unexpected(central.error());
  if (*central) {
    if (auto r = run(impl, "DELETE FROM " + table + " WHERE " + idColumn + " = ?", {localId.toString()},
                     "replacing a record by its central copy");
        !r)
      return r;
  } else if (auto r = run(impl, "UPDATE " + table + " SET " + idColumn + " = ? WHERE " + idColumn + " = ?",
                          {centralId.toString(), localId.toString()}, "giving a record its central id");
             !r) {
    return r;
  }
  for (const auto& ref : kReferences) {
    if (ref.parent != entity.table) continue;
    const std::string sqlText = "UPDATE " + std::string(ref.table) + " SET " + std::string(ref.column) + " = ? WHERE " +
                                std::string(ref.column) + " = ?" + std::string(ref.condition);
    if (auto r = run(impl, sqlText, {centralId.toString(), localId.toString()}, "repointing a record's children"); !r)
      return r;
  }
  // Ids inside JSON text appear as whole JSON strings: replacing the quoted id is exact.
  const std::string from = quoted(localId);
  const std::string to = quoted(centralId);
  const std::vector<std::pair<std::string, std::vector<sql::Value>>> rewrites = {
      {"UPDATE notification SET content = replace(content, ?, ?) WHERE instr(content, ?) > 0", {from, to, from}},
      {"UPDATE outbox SET entity_id = ? WHERE entity = ? AND entity_id = ?",
       {centralId.toString(), table, localId.toString()}},
      {"UPDATE outbox SET changes = replace(changes, ?, ?), prior = replace(prior, ?, ?)"
       " WHERE instr(changes, ?) > 0 OR instr(prior, ?) > 0",
       {from, to, from, to, from, from}},
      {"UPDATE sync_conflict SET entity_id = ? WHERE entity = ? AND entity_id = ?",
       {centralId.toString(), table, localId.toString()}},
      {"UPDATE sync_conflict SET local_value = replace(local_value, ?, ?), server_value = replace(server_value, ?, ?)"
       " WHERE instr(local_value, ?) > 0 OR instr(server_value, ?) > 0",
       {from, to, from, to, from, from}},
  };
  for (const auto& [sqlText, params] : rewrites) {
    auto stmt = internal::connection(impl).cached(sqlText);
    if (!stmt) return std::unexpected(stmt.error());
    int i = 1;
    for (const auto& p : params) (*stmt)->bind(i++, p);
    if (auto r = internal::step(impl, **stmt, "rewriting a remapped id"); !r) return r;
  }
  // Ids are not PHI: the audit trail keeps which local id the central one replaced.
  return internal::appendAudit(impl, "remap", table, centralId.toString(), "was " + localId.toString(), now);
}

// A sync_conflict row for staff: the server's words, what the device wrote and the server's row.
Result<void> fileConflict(Store::Impl& impl, const MutationAck& ack, const AckedChange& change, Instant now) {
  sql::Value serverValue = std::monostate{};
  if (ack.row) serverValue = Json(ack.row->row).dump();
  // Staff must always read something they can act on, even when the server gave no words.
  const std::string reason = !ack.message.empty()             ? ack.message
                             : ack.status == AckStatus::Held ? "the server is holding this change for review by staff"
                                                             : "the server refused this change without giving a reason";
  return run(impl,
             "INSERT INTO sync_conflict (mutation_id, entity, entity_id, reason, code, local_value,"
             " server_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             {ack.mutationId, change.entity, change.entityId, reason, ack.code, change.changes, serverValue,
              formatInstant(now)},
             "recording a conflict for staff");
}

// An acknowledged mutation: its outbox row, or, for the answer about a mutation held for staff
// review that the device asked about again (its outbox row went with the held result), what its
// open review conflict says.
Result<std::optional<AckedChange>> ackedChange(Store::Impl& impl, const MutationAck& ack) {
  auto queued = outboxRow(impl, ack.mutationId);
  if (!queued) return std::unexpected(queued.error());
  if (*queued) return std::optional<AckedChange>(AckedChange{(*queued)->entity, (*queued)->entityId, (*queued)->changes, (*queued)->kind, true});
  // Still held, or a record the hub no longer has (past its horizon): nothing learned yet.
  if (ack.status == AckStatus::Held || ack.code == "sync.already_applied") return std::optional<AckedChange>();
  auto stmt = internal::connection(impl).cached(
      "SELECT entity, entity_id, local_value FROM sync_conflict WHERE mutation_id = ? AND code = ? AND resolved_at IS NULL"
      " ORDER BY conflict_id LIMIT 1");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindText(1, ack.mutationId);
  (*stmt)->bindText(2, std::string(kWalkinReviewCode));
  const int rc = (*stmt)->step();
  if (rc == SQLITE_ROW)
    return std::optional<AckedChange>(AckedChange{(*stmt)->getText(0), (*stmt)->getText(1), (*stmt)->getText(2), "", false});
  if (rc == SQLITE_DONE) return std::optional<AckedChange>();  // a repeated result: only its row counts
  return std::unexpected(sql::sqliteError(internal::connection(impl).raw(), rc, "reading the changes held for review"));
}

}  // namespace

// [SECTION] SyncTx

Result<ApplyOutcome> SyncTx::apply(const RemoteChange& change) { return applyChange(change, false); }

// Read once a transaction and then known: nothing in a SyncTx adds outbox rows (acknowledge
// only deletes and rewrites them) and no other writer runs inside its IMMEDIATE transaction;
// hold() marks sync_held itself. A first sync, with both empty, skips two statements a row.
Result<bool> SyncTx::anyRows(std::optional<bool>& known, const char* table) {
  if (!known) {
    auto v = internal::connection(m_impl).scalar("SELECT EXISTS (SELECT 1 FROM " + std::string(table) + ")");
    if (!v) return std::unexpected(v.error());
    known = *v && std::get<std::int64_t>(**v) != 0;
  }
  return *known;
}

Result<ApplyOutcome> SyncTx::applyChange(const RemoteChange& change, bool equalVersionWins) {
  auto entity = entityNamed(change.entity);
  if (!entity) return std::unexpected(entity.error());
  auto version = localVersion(m_impl, **entity, change.id);
  if (!version) return std::unexpected(version.error());
  if (*version) {
    const bool newer = change.rowVersion > **version || (equalVersionWins && change.rowVersion == **version);
    if (!newer) return ApplyOutcome::Stale;
  }
  auto anyOutbox = anyRows(m_anyOutbox, "outbox");
  if (!anyOutbox) return std::unexpected(anyOutbox.error());
  auto pending = *anyOutbox ? internal::hasPendingMutation(m_impl, change.entity, change.id) : Result<bool>(false);
  if (!pending) return std::unexpected(pending.error());
  if (*pending) {
    if (auto h = hold(m_impl, change, m_now); !h) return std::unexpected(h.error());
    m_anyHeld = true;
    return ApplyOutcome::SkippedPendingLocal;
  }
  auto anyHeld = anyRows(m_anyHeld, "sync_held");
  if (!anyHeld) return std::unexpected(anyHeld.error());
  if (*anyHeld) {
    if (auto r = run(m_impl, "DELETE FROM sync_held WHERE entity = ? AND entity_id = ? AND row_version <= ?",
                     {change.entity, change.id.toString(), change.rowVersion}, "dropping a held-back change");
        !r)
      return std::unexpected(r.error());
  }
  if (change.op == ChangeOp::Purge || change.op == ChangeOp::Leave) {
    // Hard delete: the row only; its children get their own changes from the hub.
    auto r = run(m_impl,
                 "DELETE FROM " + std::string((*entity)->table) + " WHERE " + std::string((*entity)->idColumn) + " = ?",
                 {change.id.toString()}, "removing a record the server purged");
    if (!r) return std::unexpected(r.error());
    return ApplyOutcome::Applied;
  }
  if (auto w = (*entity)->write(m_impl, change, version->has_value()); !w) return std::unexpected(w.error());
  return ApplyOutcome::Applied;
}

Result<void> SyncTx::acknowledge(std::span<const MutationAck> acks) {
  // Everything is checked before anything is written, so a malformed result names itself.
  for (const auto& ack : acks) {
    if (ack.status == AckStatus::Remapped && !ack.centralId)
      return fail(ErrorDomain::Protocol, "sync.bad_ack", "the server remapped a change without naming the new id");
    if (ack.row) {
      if (auto e = entityNamed(ack.row->entity); !e) return std::unexpected(e.error());
    }
  }
  for (const auto& ack : acks) {
    if (ack.status != AckStatus::Remapped) continue;
    auto change = ackedChange(m_impl, ack);
    if (!change) return std::unexpected(change.error());
    if (!*change) continue;  // a repeated result: remapped already
    auto entity = entityNamed((*change)->entity);
    auto localId = Uuid::parse((*change)->entityId);
    if (!entity || !localId)
      return fail(ErrorDomain::Store, "store.bad_row", "the outbox holds a change this program cannot read");
    if (*localId == *ack.centralId) continue;
    if (auto r = remap(m_impl, **entity, *localId, *ack.centralId, m_now); !r) return r;
  }
  std::set<std::pair<std::string, std::string>> acked;  // (entity, id) of the acknowledged rows
  std::size_t removed = 0;
  for (const auto& ack : acks) {
    // Read after the remaps: they rewrote ids in the outbox and the conflicts.
    auto found = ackedChange(m_impl, ack);
    if (!found) return std::unexpected(found.error());
    if (!*found) continue;
    const AckedChange& change = **found;
    if (change.fromOutbox) {
      acked.emplace(change.entity, change.entityId);
      if (auto r = run(m_impl, "DELETE FROM outbox WHERE mutation_id = ?", {ack.mutationId}, "clearing a sent change");
          !r)
        return r;
      ++removed;
    } else if (auto r = run(m_impl,
                            "UPDATE sync_conflict SET resolved_at = ?, resolved_by = 'sync' WHERE mutation_id = ? AND"
                            " code = ? AND resolved_at IS NULL",
                            {formatInstant(m_now), ack.mutationId, std::string(kWalkinReviewCode)},
                            "closing a review staff resolved");
               !r) {
      return r;  // staff resolved the review centrally: the hold is over, its outcome follows
    }
    // A merge that kept a central value in place of the device's (an identity edit on both
    // sides) carries a code too: staff see both values, as for a refusal.
    const bool mergedWithConflict = ack.status == AckStatus::Merged && !ack.code.empty();
    if (ack.status == AckStatus::Rejected || ack.status == AckStatus::Held || mergedWithConflict) {
      if (auto r = fileConflict(m_impl, ack, change, m_now); !r) return r;
    }
    // A new record the hub refused exists nowhere else: it leaves the device (staff still see
    // it in the conflict, with what was typed), unless later changes to it still wait. A held
    // change's kind is not known any more; row_version 0 keeps every row the server ever sent.
    if (ack.status == AckStatus::Rejected && (change.kind == "insert" || !change.fromOutbox) && !ack.row) {
      auto entity = entityNamed(change.entity);
      if (!entity) return std::unexpected(entity.error());
      const std::string table((*entity)->table), idColumn((*entity)->idColumn);
      if (auto r = run(m_impl,
                       "DELETE FROM " + table + " WHERE " + idColumn + " = ? AND row_version = 0 AND NOT EXISTS"
                       " (SELECT 1 FROM outbox o WHERE o.entity = ? AND o.entity_id = ?)",
                       {change.entityId, change.entity, change.entityId}, "removing a refused new record");
          !r)
        return r;
    }
  }
  internal::outboxChanged(m_impl);
  for (const auto& ack : acks) {
    if (!ack.row) continue;
    const bool ownRow = acked.contains({ack.row->entity, ack.row->id.toString()});
    if (auto r = applyChange(*ack.row, ownRow); !r) return std::unexpected(r.error());
  }
  if (auto r = releaseHeld(); !r) return r;
  return internal::appendAudit(m_impl, "push_ack", "sync", "batch", std::to_string(removed) + " changes", m_now);
}

Result<void> SyncTx::releaseHeld() {
  struct Held {
    RemoteChange change;
    std::string rowText;
  };
  std::vector<Held> ready;
  {
    auto stmt = internal::connection(m_impl).cached(
        "SELECT entity, entity_id, op, row_version, row FROM sync_held h WHERE NOT EXISTS"
        " (SELECT 1 FROM outbox o WHERE o.entity = h.entity AND o.entity_id = h.entity_id) ORDER BY held_at");
    if (!stmt) return std::unexpected(stmt.error());
    int rc = 0;
    while ((rc = (*stmt)->step()) == SQLITE_ROW) {
      auto& s = **stmt;
      const auto id = Uuid::parse(s.getText(1));
      const auto op = parseChangeOp(s.getText(2));
      if (!id || !op) return fail(ErrorDomain::Store, "store.bad_row", "a held-back server change is unreadable");
      RemoteChange change;
      change.entity = s.getText(0);
      change.id = *id;
      change.op = *op;
      change.rowVersion = s.getInt(3);
      ready.push_back({std::move(change), s.getText(4)});
    }
    if (rc != SQLITE_DONE)
      return std::unexpected(sql::sqliteError(internal::connection(m_impl).raw(), rc, "reading held-back changes"));
  }
  for (auto& h : ready) {
    auto row = Json::parse(h.rowText);
    if (!row || !row->isObject())
      return fail(ErrorDomain::Store, "store.bad_row", "a held-back server change is unreadable");
    h.change.row = std::move(row->asObject());
    if (auto r = run(m_impl, "DELETE FROM sync_held WHERE entity = ? AND entity_id = ?",
                     {h.change.entity, h.change.id.toString()}, "releasing a held-back change");
        !r)
      return r;
    if (auto r = applyChange(h.change, false); !r) return std::unexpected(r.error());
  }
  return {};
}

Result<std::vector<HeldChange>> SyncTx::held() {
  auto stmt =
      internal::connection(m_impl).cached("SELECT entity, entity_id, op, row_version FROM sync_held ORDER BY held_at");
  if (!stmt) return std::unexpected(stmt.error());
  std::vector<HeldChange> out;
  int rc = 0;
  while ((rc = (*stmt)->step()) == SQLITE_ROW) {
    auto& s = **stmt;
    out.push_back({s.getText(0), s.getText(1), parseChangeOp(s.getText(2)).value_or(ChangeOp::Upsert), s.getInt(3)});
  }
  if (rc != SQLITE_DONE)
    return std::unexpected(sql::sqliteError(internal::connection(m_impl).raw(), rc, "reading held-back changes"));
  return out;
}

Result<std::optional<std::string>> SyncTx::value(std::string_view key) { return internal::getState(m_impl, key); }

Result<void> SyncTx::setValue(std::string_view key, std::string_view value) {
  return internal::putState(m_impl, key, value, m_now);
}

Result<void> SyncTx::observeClock(std::string_view hlc) {
  const auto decoded = HybridLogicalClock::decode(hlc);
  if (!decoded)
    return fail(ErrorDomain::Protocol, "sync.bad_clock", "the server sent a clock value that is unreadable");
  internal::observeClock(m_impl, decoded->first, m_now);
  return {};
}

Result<void> SyncTx::recordPage(std::size_t changes) {
  return internal::appendAudit(m_impl, "pull_page", "sync", "page", std::to_string(changes) + " changes", m_now);
}

// [SECTION] Store's sync entry points

Result<void> Store::syncWrite(const std::function<Result<void>(SyncTx&)>& fn) { return syncWrite(nowUtc(), fn); }

Result<void> Store::syncWrite(Instant now, const std::function<Result<void>(SyncTx&)>& fn) {
  SyncTx tx(*m_impl, now);
  return internal::transact(*m_impl, now, [&] { return fn(tx); });
}

Result<void> Store::resetForResync() {
  auto& impl = *m_impl;
  const Instant now = nowUtc();
  return internal::transact(impl, now, [&]() -> Result<void> {
    auto pending = internal::countOutbox(impl);
    if (!pending) return std::unexpected(pending.error());
    if (*pending > 0)
      return fail(ErrorDomain::Conflict, "store.outbox_not_empty",
                  std::to_string(*pending) +
                      " changes made on this device have not reached the server yet; the device refills its "
                      "records only after they are sent");
    std::int64_t removed = 0;
    for (const auto& entity : entities()) {
      if (auto r = internal::connection(impl).exec("DELETE FROM " + std::string(entity.table)); !r) return r;
      removed += sqlite3_changes(internal::connection(impl).raw());
    }
    if (auto r = internal::connection(impl).exec("DELETE FROM sync_held"); !r) return r;
    if (auto r = internal::connection(impl).exec("DELETE FROM sync_state WHERE key = 'pull_cursor'"); !r) return r;
    return internal::appendAudit(impl, "resync_reset", "store", "*", std::to_string(removed) + " rows", now);
  });
}

}  // namespace anteroom::store
