// The encrypted store: opening and proving encryption, generic record writes with their
// outbox and audit rows, reads, domain operations and the data-window purge.
#include "anteroom/store/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "anteroom/model/data_window.hpp"
#include "anteroom/model/hlc.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/model/record_rules.hpp"
#include "anteroom/model/waitlist_engine.hpp"
#include "anteroom/model/validation.hpp"
#include "codec.hpp"
#include "integrity.hpp"
#include "migrations.hpp"
#include "sqlite.hpp"
#include "store_internal.hpp"

namespace anteroom::store {

// [SECTION] Internals

struct Store::Impl {
  sql::Connection conn;
  Uuid deviceId;
  std::optional<HybridLogicalClock> clock;  // node id: device id + a suffix of this open
  HlcTimestamp clockAtBegin;
  UuidGenerator ids;
  UuidGenerator mutationIds;  // outbox mutation ids: unique among this device's, compact on the wire
  std::size_t outboxCeiling = 0;
  std::int64_t outboxCountCache = -1;
  int schemaVersion = 0;
  int latestKnownVersion = 0;
  std::filesystem::path path;
  std::optional<Error> damage;  // see Store::damage()
  std::vector<std::string> warnings;

  // Damage seen at run time stops every later write, in this process and (by the marker) in
  // the next one to open the store.
  template <class T>
  Result<T> watch(Result<T> r) {
    if (!r && !damage && (r.error().code == "store.corrupt" || r.error().code == "store.wrong_key")) {
      damage = r.error();
      integrity::writeDamageMarker(path, r.error().message);
    }
    return r;
  }
  // Every write asks first.
  Result<void> refuseIfDamaged() const {
    if (damage) return std::unexpected(integrity::damagedStoreError(damage->message));
    return {};
  }

  Result<void> step(sql::Stmt& stmt, std::string_view what) {
    const int rc = stmt.step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
      return std::unexpected(sql::sqliteError(conn.raw(), rc, what));
    return {};
  }

  std::string nextHlc(Instant now) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return clock->encode(clock->now(ms));
  }

  // The kiosk and the sync daemon are two processes on one file, each with its own clock (and
  // node id): a transaction first adopts the persisted clock, so its timestamps follow every
  // commit before it, and persists its own at the end if it moved.
  Result<void> adoptPersistedClock() {
    auto persisted = getState("hlc");
    if (!persisted) return std::unexpected(persisted.error());
    if (*persisted) {
      if (auto decoded = HybridLogicalClock::decode(**persisted)) clock->restore(decoded->first);
    }
    clockAtBegin = clock->last();
    return {};
  }

  Result<void> persistClockIfMoved(Instant now) {
    if (clock->last() <= clockAtBegin) return {};
    return putState("hlc", clock->encode(clock->last()), now);
  }

  // BEGIN IMMEDIATE; clock adopted; fn; clock persisted; COMMIT. Rolled back unless all succeed.
  // A damaged store takes no writes; damage seen inside one marks the store (watch).
  Result<void> transact(Instant now, const std::function<Result<void>()>& fn) {
    if (auto refused = refuseIfDamaged(); !refused) return refused;
    auto tx = sql::Transaction::begin(conn);
    if (!tx) return watch(Result<void>(std::unexpected(tx.error())));
    auto r = adoptPersistedClock();
    if (r) r = fn();
    if (r) r = persistClockIfMoved(now);
    if (r) r = tx->commit();
    if (!r) outboxCountCache = -1;  // rolled back: recount next time
    return watch(std::move(r));
  }

  Result<void> putState(std::string_view key, std::string_view value, Instant now) {
    auto stmt = conn.cached("INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bindText(1, key);
    (*stmt)->bindText(2, value);
    (*stmt)->bindText(3, formatInstant(now));
    return step(**stmt, "saving device state");
  }

  Result<std::optional<std::string>> getState(std::string_view key) {
    auto stmt = conn.cached("SELECT value FROM sync_state WHERE key = ?");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bindText(1, key);
    const int rc = (*stmt)->step();
    if (rc == SQLITE_ROW) return std::optional<std::string>((*stmt)->getText(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return std::unexpected(sql::sqliteError(conn.raw(), rc, "reading device state"));
  }

  Result<std::int64_t> countOutbox() {
    auto v = conn.scalar("SELECT count(*) FROM outbox");
    if (!v) return std::unexpected(v.error());
    return std::get<std::int64_t>(**v);
  }

  Result<void> appendOutbox(std::string_view entity, const Uuid& id, std::string_view kind,
                            const std::string& changes, const std::string& prior, std::int64_t baseVersion,
                            Instant now, const std::string& hlc) {
    if (outboxCountCache < 0 || outboxCountCache >= static_cast<std::int64_t>(outboxCeiling)) {
      auto n = countOutbox();
      if (!n) return std::unexpected(n.error());
      outboxCountCache = *n;
      if (outboxCountCache >= static_cast<std::int64_t>(outboxCeiling)) {
        return fail(ErrorDomain::Store, "store.outbox_full",
                    "the sync queue is full (" + std::to_string(*n) +
                        " changes waiting); connect the device to the network so it can sync",
                    true);
      }
    }
    auto stmt = conn.cached(
        "INSERT INTO outbox (mutation_id, entity, entity_id, kind, changes, prior, base_version, hlc, created_at,"
        " schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return std::unexpected(stmt.error());
    auto& s = **stmt;
    s.bindText(1, mutationIds.v7Sequential(now).toString());
    s.bindText(2, entity);
    s.bindText(3, id.toString());
    s.bindText(4, kind);
    s.bindText(5, changes);
    s.bindText(6, prior);
    s.bindInt(7, baseVersion);
    s.bindText(8, hlc);
    s.bindText(9, formatInstant(now));
    s.bindInt(10, schemaVersion);
    if (auto r = step(s, "queueing a change for sync"); !r) return r;
    ++outboxCountCache;
    return {};
  }

  Result<void> appendAudit(const Actor& actor, std::string_view action, std::string_view entity,
                           std::string_view entityId, std::string_view fields, Instant now,
                           const std::string& hlc) {
    auto stmt = conn.cached(
        "INSERT INTO audit_log (at, hlc, actor_kind, actor_id, action, entity, entity_id, fields)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return std::unexpected(stmt.error());
    auto& s = **stmt;
    s.bindText(1, formatInstant(now));
    s.bindText(2, hlc);
    s.bindText(3, toString(actor.kind));
    s.bindText(4, actor.id);
    s.bindText(5, action);
    s.bindText(6, entity);
    s.bindText(7, entityId);
    s.bindText(8, fields);
    return step(s, "writing the audit log");
  }

  Result<bool> hasPendingMutation(std::string_view entity, const Uuid& id) {
    auto stmt = conn.cached("SELECT 1 FROM outbox WHERE entity = ? AND entity_id = ? LIMIT 1");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bindText(1, entity);
    (*stmt)->bindText(2, id.toString());
    const int rc = (*stmt)->step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(sql::sqliteError(conn.raw(), rc, "reading the outbox"));
  }
};

namespace {

template <class T>
const std::vector<std::string_view>& columnsOf() {
  static const std::vector<std::string_view> names = [] {
    ColumnNames c;
    T r{};
    Codec<T>::fields(r, c);
    return c.names;
  }();
  return names;
}

template <class T>
const std::string& selectPrefix() {
  static const std::string sqlText = [] {
    std::string s = "SELECT ";
    for (auto c : columnsOf<T>()) {
      s += c;
      s += ", ";
    }
    s += "row_version, deleted FROM ";
    s += Codec<T>::table;
    s += ' ';
    return s;
  }();
  return sqlText;
}

// INSERT of every column; a local row starts at row_version 0, a server row binds its own.
template <class T>
std::string buildInsertSql(std::string_view syncValues) {
  std::string cols, marks;
  for (auto c : columnsOf<T>()) {
    cols += std::string(c) + ", ";
    marks += "?, ";
  }
  return "INSERT INTO " + std::string(Codec<T>::table) + " (" + cols + "row_version, deleted) VALUES (" + marks +
         std::string(syncValues) + ")";
}

template <class T>
const std::string& insertSql(bool serverRow) {
  static const std::string local = buildInsertSql<T>("0, 0");
  static const std::string server = buildInsertSql<T>("?, ?");
  return serverRow ? server : local;
}

template <class T>
Result<T> readRecord(const sql::Stmt& stmt) {
  T r{};
  RowReader reader(stmt, 0);
  Codec<T>::fields(r, reader);
  if (reader.error()) return std::unexpected(*reader.error());
  r.sync.rowVersion = stmt.getInt(reader.nextColumn());
  r.sync.deleted = stmt.getInt(reader.nextColumn() + 1) != 0;
  return r;
}

// SELECT <all columns> FROM <table> <clause>, with positional parameters.
template <class T>
Result<std::vector<T>> selectWhere(Store::Impl& impl, std::string_view clause,
                                   std::initializer_list<sql::Value> params) {
  auto stmt = impl.conn.cached(selectPrefix<T>() + std::string(clause));
  if (!stmt) return std::unexpected(stmt.error());
  int i = 1;
  for (const auto& p : params) (*stmt)->bind(i++, p);
  std::vector<T> out;
  int rc = 0;
  while ((rc = (*stmt)->step()) == SQLITE_ROW) {
    auto r = readRecord<T>(**stmt);
    if (!r) return std::unexpected(r.error());
    out.push_back(std::move(*r));
  }
  if (rc != SQLITE_DONE)
    return impl.watch(Result<std::vector<T>>(std::unexpected(sql::sqliteError(impl.conn.raw(), rc, "reading the store"))));
  return out;
}

template <class T>
Result<std::optional<T>> selectById(Store::Impl& impl, const Uuid& id) {
  static const std::string clause = "WHERE " + std::string(Codec<T>::idColumn) + " = ?";
  auto rows = selectWhere<T>(impl, clause, {id.toString()});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(std::move(rows->front()));
}

std::string joinNames(const std::vector<const Cell*>& cells) {
  std::string out;
  for (const Cell* c : cells) {
    if (c->localOnly) continue;
    if (!out.empty()) out += ',';
    out += c->column;
  }
  return out;
}

// Server-owned columns (DESIGN.md 5.3) are kept current on the device for its own screens but
// never sent: the hub derives them. The model's column classes will name them (issue 9, item 1).
bool serverOwned(std::string_view column) { return column == "priority_score"; }

// Whether a column of a local change travels in the outbox mutation.
bool synced(const Cell& c) { return !c.localOnly && !serverOwned(c.column); }

std::string changesJson(const std::vector<const Cell*>& cells) {
  Json::Object obj;
  for (const Cell* c : cells) {
    if (synced(*c)) obj.emplace(std::string(c->column), c->json);
  }
  return Json(std::move(obj)).dump();
}

template <class T>
std::vector<Cell> cellsOf(const T& r) {
  RowWriter w;
  Codec<T>::fields(r, w);
  return std::move(w.cells);
}

// A server row: every column rewritten (insert or replace), its row_version and tombstone flag
// taken from the record. No outbox row, no audit row: callers decide what to record. A caller
// that already knows whether the row exists says so and saves a statement (initial sync).
template <class T>
Result<void> writeServerRow(Store::Impl& impl, const T& record, std::optional<bool> exists = std::nullopt) {
  const Uuid& id = record.*Codec<T>::idMember;
  const std::vector<Cell> cells = cellsOf(record);
  static const std::string updateSql = [] {
    std::string s = "UPDATE " + std::string(Codec<T>::table) + " SET ";
    for (auto c : columnsOf<T>()) s += std::string(c) + " = ?, ";
    return s + "row_version = ?, deleted = ? WHERE " + std::string(Codec<T>::idColumn) + " = ?";
  }();
  auto bindAll = [&](sql::Stmt& s) {
    int i = 1;
    for (const auto& c : cells) s.bind(i++, c.value);
    s.bindInt(i++, record.sync.rowVersion);
    s.bindInt(i++, record.sync.deleted ? 1 : 0);
    return i;
  };
  if (exists != false) {
    auto stmt = impl.conn.cached(updateSql);
    if (!stmt) return std::unexpected(stmt.error());
    const int i = bindAll(**stmt);
    (*stmt)->bindText(i, id.toString());
    if (auto s = impl.step(**stmt, "applying a server change"); !s) return s;
    if (exists == true || sqlite3_changes(impl.conn.raw()) > 0) return {};
  }
  {
    auto stmt = impl.conn.cached(insertSql<T>(true));
    if (!stmt) return std::unexpected(stmt.error());
    bindAll(**stmt);
    if (auto s = impl.step(**stmt, "applying a server change"); !s) return s;
  }
  return {};
}

std::string tableNotFound(std::string_view table) {
  return "no " + std::string(table) + " record with that id";
}

// [SECTION] Priority kept current on write (waitlist_engine.hpp explains the formula)

// The entry's score at `now` from the rows it depends on, read in the same transaction.
// The score is server-owned (DESIGN 5.3): once the entry has reached the hub (a row version),
// the hub's score stands, so every kiosk shows the same ranking; a new entry is scored here
// until the hub's arrives. Without its patient or list on this device the stored score stands.
Result<double> currentPriority(Store::Impl& impl, const WaitlistEntry& entry, Instant now) {
  if (!isActive(entry.status) || entry.sync.rowVersion > 0) return entry.priorityScore;
  auto patient = selectById<Patient>(impl, entry.patientId);
  if (!patient) return std::unexpected(patient.error());
  auto list = selectById<Waitlist>(impl, entry.waitlistId);
  if (!list) return std::unexpected(list.error());
  if (!*patient || !*list) return entry.priorityScore;
  auto providers = selectWhere<Provider>(impl, "WHERE deleted = 0", {});
  if (!providers) return std::unexpected(providers.error());
  return computePriority(entry, **patient, (*list)->criteria, *providers, now).score;
}

}  // namespace

std::string_view toString(Actor::Kind kind) {
  switch (kind) {
    case Actor::Kind::Kiosk: return "kiosk";
    case Actor::Kind::Staff: return "staff";
    case Actor::Kind::Sync: return "sync";
    case Actor::Kind::Admin: return "admin";
  }
  return "kiosk";
}

std::int64_t PurgeReport::total() const {
  std::int64_t n = 0;
  for (const auto& [table, count] : removed) n += count;
  return n;
}

// [SECTION] WriteTx

template <class T>
Result<void> WriteTx::insert(const T& record) {
  auto& impl = *m_store.m_impl;
  if (auto valid = validateRecord(record, m_now); !valid) return valid;
  T r = record;
  if (r.createdAt == Instant{}) r.createdAt = m_now;
  r.updatedAt = m_now;
  r.sync = SyncMeta{};
  if constexpr (std::is_same_v<T, WaitlistEntry>) {
    auto score = currentPriority(impl, r, m_now);
    if (!score) return std::unexpected(score.error());
    r.priorityScore = *score;
  }
  const std::vector<Cell> cells = cellsOf(r);

  auto stmt = impl.conn.cached(insertSql<T>(false));
  if (!stmt) return std::unexpected(stmt.error());
  int i = 1;
  for (const auto& c : cells) (*stmt)->bind(i++, c.value);
  if (auto s = impl.step(**stmt, "saving a new record"); !s) return s;

  std::vector<const Cell*> all;
  for (const auto& c : cells) all.push_back(&c);
  const std::string hlc = impl.nextHlc(m_now);
  const Uuid& id = r.*Codec<T>::idMember;
  if (auto o = impl.appendOutbox(Codec<T>::table, id, "insert", changesJson(all), "{}", 0, m_now, hlc); !o) return o;
  return impl.appendAudit(m_actor, "create", Codec<T>::table, id.toString(), "", m_now, hlc);
}

template <class T>
Result<void> WriteTx::update(const T& record) {
  auto& impl = *m_store.m_impl;
  if (auto valid = validateRecord(record, m_now); !valid) return valid;
  const Uuid& id = record.*Codec<T>::idMember;
  auto current = selectById<T>(impl, id);
  if (!current) return std::unexpected(current.error());
  if (!*current) return fail(ErrorDomain::NotFound, "store.not_found", tableNotFound(Codec<T>::table));
  if ((*current)->sync.deleted)
    return fail(ErrorDomain::Conflict, "store.deleted", "that " + std::string(Codec<T>::table) + " record was deleted");

  T next = record;
  next.createdAt = (*current)->createdAt;
  next.updatedAt = (*current)->updatedAt;
  next.sync = (*current)->sync;
  if constexpr (std::is_same_v<T, WaitlistEntry>) {
    auto score = currentPriority(impl, next, m_now);
    if (!score) return std::unexpected(score.error());
    next.priorityScore = *score;
  }
  const std::vector<Cell> before = cellsOf(**current);
  const std::vector<Cell> after = cellsOf(next);
  std::vector<const Cell*> changed;
  std::vector<const Cell*> priorValues;  // what the changed columns held before, for the hub's compare
  bool anySynced = false;
  for (std::size_t k = 0; k < after.size(); ++k) {
    if (after[k].value == before[k].value) continue;
    changed.push_back(&after[k]);
    priorValues.push_back(&before[k]);
    anySynced = anySynced || synced(after[k]);
  }
  if (changed.empty()) return {};

  std::string setSql = "UPDATE " + std::string(Codec<T>::table) + " SET ";
  for (const Cell* c : changed) setSql += std::string(c->column) + " = ?, ";
  setSql += "updated_at = ? WHERE " + std::string(Codec<T>::idColumn) + " = ?";
  auto stmt = impl.conn.cached(setSql);
  if (!stmt) return std::unexpected(stmt.error());
  int i = 1;
  for (const Cell* c : changed) (*stmt)->bind(i++, c->value);
  (*stmt)->bindText(i++, formatInstant(m_now));
  (*stmt)->bindText(i, id.toString());
  if (auto s = impl.step(**stmt, "saving a change"); !s) return s;

  const std::string hlc = impl.nextHlc(m_now);
  // A change of server-owned columns only (a re-score) stays on the device.
  if (anySynced) {
    if (auto o = impl.appendOutbox(Codec<T>::table, id, "update", changesJson(changed), changesJson(priorValues),
                                   (*current)->sync.rowVersion, m_now, hlc);
        !o)
      return o;
  }
  if (auto a = impl.appendAudit(m_actor, "update", Codec<T>::table, id.toString(), joinNames(changed), m_now, hlc); !a)
    return a;

  // A change to a priority input re-scores the entries it feeds, in this transaction.
  if constexpr (std::is_same_v<T, Patient> || std::is_same_v<T, Waitlist>) {
    const char* clause = std::is_same_v<T, Patient>
                             ? "WHERE patient_id = ? AND status IN ('waiting', 'offered') AND deleted = 0"
                             : "WHERE waitlist_id = ? AND status IN ('waiting', 'offered') AND deleted = 0";
    auto entries = selectWhere<WaitlistEntry>(impl, clause, {id.toString()});
    if (!entries) return std::unexpected(entries.error());
    for (const auto& e : *entries) {
      auto score = currentPriority(impl, e, m_now);
      if (!score) return std::unexpected(score.error());
      if (*score == e.priorityScore) continue;
      if (auto u = update(e); !u) return u;
    }
  }
  return {};
}

template <class T>
Result<void> WriteTx::remove(const Uuid& id) {
  auto& impl = *m_store.m_impl;
  auto current = selectById<T>(impl, id);
  if (!current) return std::unexpected(current.error());
  if (!*current) return fail(ErrorDomain::NotFound, "store.not_found", tableNotFound(Codec<T>::table));
  if ((*current)->sync.deleted) return {};
  static const std::string sqlText = "UPDATE " + std::string(Codec<T>::table) +
                                     " SET deleted = 1, updated_at = ? WHERE " +
                                     std::string(Codec<T>::idColumn) + " = ?";
  auto stmt = impl.conn.cached(sqlText);
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindText(1, formatInstant(m_now));
  (*stmt)->bindText(2, id.toString());
  if (auto s = impl.step(**stmt, "deleting a record"); !s) return s;
  const std::string hlc = impl.nextHlc(m_now);
  if (auto o = impl.appendOutbox(Codec<T>::table, id, "delete", "{}", "{}", (*current)->sync.rowVersion, m_now, hlc);
      !o)
    return o;
  return impl.appendAudit(m_actor, "delete", Codec<T>::table, id.toString(), "", m_now, hlc);
}

template <class T>
Result<std::optional<T>> WriteTx::get(const Uuid& id) {
  return selectById<T>(*m_store.m_impl, id);
}

template <class T>
Result<ApplyOutcome> WriteTx::applyRemote(const T& record) {
  auto& impl = *m_store.m_impl;
  const Uuid& id = record.*Codec<T>::idMember;
  auto pending = impl.hasPendingMutation(Codec<T>::table, id);
  if (!pending) return std::unexpected(pending.error());
  if (*pending) return ApplyOutcome::SkippedPendingLocal;
  if (auto w = writeServerRow(impl, record); !w) return std::unexpected(w.error());
  const std::string hlc = impl.nextHlc(m_now);
  if (auto a = impl.appendAudit(m_actor, "apply_remote", Codec<T>::table, id.toString(), "", m_now, hlc); !a)
    return std::unexpected(a.error());
  return ApplyOutcome::Applied;
}

Result<void> WriteTx::recordAccess(std::string_view entity, const Uuid& id, std::string_view action) {
  auto& impl = *m_store.m_impl;
  const std::string hlc = impl.nextHlc(m_now);
  return impl.appendAudit(m_actor, action, entity, id.toString(), "", m_now, hlc);
}

// [SECTION] Opening

namespace {

// The kiosk and the sync daemon open one store: each open is its own clock node, so two
// timestamps from one device never tie. Device id, then a random suffix for this open.
std::string processNodeId(const Uuid& deviceId) {
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%08x", static_cast<unsigned>(random()));
  return deviceId.toString() + suffix;
}

constexpr char kPlainSqliteHeader[] = "SQLite format 3";

// A plaintext SQLite file is the classic mistake (a build linked against libsqlite3, or a
// copied database): say so plainly instead of "wrong key".
Result<void> precheckFile(const OpenOptions& options, bool& exists, std::vector<std::string>& warnings) {
  struct stat st {};
  exists = ::stat(options.path.c_str(), &st) == 0;
  if (exists && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    warnings.push_back("the store file " + options.path.string() +
                       " is readable by other users than its owner; run chmod 600 on it (and its -wal and -shm files)");
  }
  if (!exists) {
    if (!options.create)
      return fail(ErrorDomain::Store, "store.missing",
                  "no store at " + options.path.string() + " (create one with 'anteroom-admin store init')");
    // Owner-only from the first byte; SQLite gives the -wal and -shm files the same mode.
    const int fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return fail(ErrorDomain::Store, "store.cannot_create", "cannot create the store file " + options.path.string());
    ::close(fd);
    return {};
  }
  if (!S_ISREG(st.st_mode))
    return fail(ErrorDomain::Store, "store.not_a_file", options.path.string() + " is not a regular file");
  if (st.st_size == 0 && !options.create)
    return fail(ErrorDomain::Store, "store.empty", "the store file " + options.path.string() + " is empty");
  if (auto r = integrity::checkFileSize(options.path, static_cast<std::uintmax_t>(st.st_size)); !r) return r;
  if (auto r = integrity::checkWal(options.path); !r) return r;
  if (!options.allowDamaged) {
    if (auto what = integrity::readDamageMarker(options.path)) return std::unexpected(integrity::damagedStoreError(*what));
  }
  return {};
}

// A plaintext SQLite file is refused by its header, read through the connection's own file
// handle. Never open and close the store file beside SQLite: closing any descriptor of a file
// drops every POSIX lock this process holds on it, so a second connection in the process (the
// kiosk's store worker) would silently release the first one's shared lock, and another process
// closing the store would then believe it was the last, checkpoint and delete the write-ahead
// log under us: later commits went into a deleted file.
Result<void> refusePlaintext(sqlite3* db, const std::filesystem::path& path) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
      file->pMethods == nullptr)
    return {};
  char header[16] = {};
  // SQLITE_IOERR_SHORT_READ for a file shorter than the header (a new store): nothing to refuse.
  if (file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK) return {};
  if (std::string_view(header, 15) == kPlainSqliteHeader) {
    return fail(ErrorDomain::Store, "store.plaintext",
                path.string() + " is an unencrypted SQLite file, not an Anteroom store; refusing to use it");
  }
  return {};
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Result<Store> Store::open(const OpenOptions& options, const SecretKey& key) {
  bool exists = false;
  std::vector<std::string> warnings;
  if (auto r = precheckFile(options, exists, warnings); !r) return std::unexpected(r.error());

  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
  sql::DbHandle handle(raw);
  if (rc != SQLITE_OK) return std::unexpected(sql::sqliteError(raw, rc, "opening " + options.path.string()));
  if (auto r = refusePlaintext(raw, options.path); !r) return std::unexpected(r.error());

  auto impl = std::make_unique<Impl>();
  impl->conn = sql::Connection(std::move(handle));
  impl->outboxCeiling = options.outboxCeiling;
  impl->path = options.path;
  impl->warnings = std::move(warnings);
  auto& conn = impl->conn;
  {
    const SecretKey::RawKeyText text(key);
    rc = sqlite3_key(conn.raw(), text.data(), text.size());
  }
  if (rc != SQLITE_OK) return std::unexpected(sql::sqliteError(conn.raw(), rc, "setting the store key"));
  if (auto r = conn.exec("PRAGMA cipher_page_size = 4096"); !r) return std::unexpected(r.error());

  // Proof that this binary really is SQLCipher: plain SQLite ignores PRAGMA key silently.
  auto cipher = conn.scalar("PRAGMA cipher_version");
  if (!cipher) return std::unexpected(cipher.error());
  if (!*cipher || !std::holds_alternative<std::string>(**cipher)) {
    return fail(ErrorDomain::Store, "store.not_encrypted",
                "this program is not linked with SQLCipher; refusing to write an unencrypted store");
  }
  // The first read decrypts page 1: a wrong key or a foreign file fails here.
  if (auto first = conn.scalar("SELECT count(*) FROM sqlite_master"); !first) return std::unexpected(first.error());

  conn.setBusyTimeout(options.busyTimeout);
  auto mode = conn.scalar("PRAGMA journal_mode = WAL");
  if (!mode) return std::unexpected(mode.error());
  if (!*mode || std::get_if<std::string>(&**mode) == nullptr || std::get<std::string>(**mode) != "wal")
    return fail(ErrorDomain::Store, "store.wal", "the store could not switch to WAL mode");
  const std::string cacheSize = "PRAGMA cache_size = -" + std::to_string(std::max<std::size_t>(options.pageCacheKiB, 64));
  for (const char* pragma : {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA secure_delete = ON",
                             cacheSize.c_str()}) {
    if (auto r = conn.exec(pragma); !r) return std::unexpected(r.error());
  }

  // A store encrypted with this key but holding someone else's tables is not ours.
  if (exists) {
    auto tables = conn.scalar("SELECT count(*) FROM sqlite_master");
    auto ours = conn.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'");
    if (!tables) return std::unexpected(tables.error());
    if (!ours) return std::unexpected(ours.error());
    if (std::get<std::int64_t>(**tables) > 0 && std::get<std::int64_t>(**ours) == 0)
      return fail(ErrorDomain::Store, "store.foreign",
                  "not an Anteroom store: this key opens it, but it holds another program's tables");
  }

  const auto migrations = options.migrations.value_or(bundledMigrations());
  for (const auto& m : migrations) impl->latestKnownVersion = std::max(impl->latestKnownVersion, m.version);
  auto version = migrate(conn, migrations);
  if (!version) return std::unexpected(version.error());
  impl->schemaVersion = *version;

  // The device id is made once, when the store is created, and names this device to the hub.
  const Instant now = nowUtc();
  auto deviceId = impl->getState("device_id");
  if (!deviceId) return std::unexpected(deviceId.error());
  if (!*deviceId) {
    const std::string fresh = impl->ids.v7(now).toString();
    if (auto r = impl->putState("device_id", fresh, now); !r) return std::unexpected(r.error());
    *deviceId = fresh;
  }
  const auto parsedId = Uuid::parse(**deviceId);
  if (!parsedId) return fail(ErrorDomain::Store, "store.bad_row", "the store's device id is unreadable");
  impl->deviceId = *parsedId;
  impl->clock.emplace(processNodeId(impl->deviceId));
  auto lastClock = impl->getState("hlc");
  if (!lastClock) return std::unexpected(lastClock.error());
  if (*lastClock) {
    if (auto decoded = HybridLogicalClock::decode(**lastClock)) impl->clock->restore(decoded->first);
  }
  return Store(std::move(impl));
}

// [SECTION] Whole-store operations

Result<StoreInfo> Store::info() {
  auto& conn = m_impl->conn;
  StoreInfo info;
  auto text = [&](std::string_view q) -> Result<std::string> {
    auto v = conn.scalar(q);
    if (!v) return std::unexpected(v.error());
    if (!*v) return std::string();
    if (auto* s = std::get_if<std::string>(&**v)) return *s;
    if (auto* i = std::get_if<std::int64_t>(&**v)) return std::to_string(*i);
    return std::string();
  };
  auto number = [&](std::string_view q) -> Result<std::int64_t> {
    auto v = conn.scalar(q);
    if (!v) return std::unexpected(v.error());
    if (!*v) return 0;
    if (auto* i = std::get_if<std::int64_t>(&**v)) return *i;
    return 0;
  };
  auto cv = text("PRAGMA cipher_version");
  if (!cv) return std::unexpected(cv.error());
  info.cipherVersion = *cv;
  info.sqliteVersion = sqlite3_libversion();
  info.schemaVersion = m_impl->schemaVersion;
  info.latestKnownVersion = m_impl->latestKnownVersion;
  info.deviceId = m_impl->deviceId.toString();
  auto ps = number("PRAGMA page_size");
  auto pc = number("PRAGMA page_count");
  auto jm = text("PRAGMA journal_mode");
  if (!ps || !pc || !jm) return std::unexpected(!ps ? ps.error() : !pc ? pc.error() : jm.error());
  info.pageSize = *ps;
  info.pageCount = *pc;
  info.journalMode = *jm;
  for (const char* table : {"practice", "provider", "patient", "waitlist", "waitlist_entry", "appointment_slot",
                            "appointment_request", "appointment", "notification", "staff_user", "outbox",
                            "sync_conflict", "audit_log"}) {
    auto n = number(std::string("SELECT count(*) FROM ") + table);
    if (!n) return std::unexpected(n.error());
    info.rowCounts.emplace_back(table, *n);
    if (std::string_view(table) == "outbox") info.pendingOutbox = *n;
  }
  return info;
}

namespace {
Result<void> checkEveryPage(sql::Connection& conn);
}  // namespace

Result<void> Store::checkIntegrity() {
  auto checked = m_impl->watch(checkEveryPage(m_impl->conn));
  if (checked && !m_impl->damage) integrity::clearDamageMarker(m_impl->path);
  return checked;
}

std::optional<Error> Store::damage() const { return m_impl->damage; }
const std::vector<std::string>& Store::warnings() const { return m_impl->warnings; }

namespace {

Result<void> checkEveryPage(sql::Connection& conn) {
  // SQLCipher 4 checks every page's MAC here; SQLCipher 3 ignores the unknown pragma.
  for (const char* pragma : {"PRAGMA cipher_integrity_check", "PRAGMA integrity_check"}) {
    auto stmt = conn.prepare(pragma);
    if (!stmt) return std::unexpected(stmt.error());
    std::vector<std::string> problems;
    int rc = 0;
    while ((rc = stmt->step()) == SQLITE_ROW) {
      std::string line = stmt->getText(0);
      if (line != "ok") problems.push_back(std::move(line));
    }
    if (rc != SQLITE_DONE) {
      Error e = sql::sqliteError(conn.raw(), rc, "checking the store");
      // SQLCipher 3 reports a page whose MAC does not verify as a generic SQL error.
      if (!e.isTransient()) {
        e.domain = ErrorDomain::Store;
        e.code = "store.corrupt";
        // The check stops at a page it cannot decrypt (an index or table's inner page), so it
        // cannot count them: say so, and what to do, in the same words as a counted report.
        e.message = "the store is damaged: at least one page fails its check and stops the scan; restore it from "
                    "the server by re-provisioning the device";
      }
      return std::unexpected(e);
    }
    if (!problems.empty()) return fail(ErrorDomain::Store, "store.corrupt", integrity::summariseIntegrityReport(problems));
  }
  return {};
}

}  // namespace

Result<void> Store::checkpoint() {
  auto& conn = m_impl->conn;
  int logFrames = 0;
  int checkpointed = 0;
  const int rc = sqlite3_wal_checkpoint_v2(conn.raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed);
  if (rc != SQLITE_OK) return std::unexpected(sql::sqliteError(conn.raw(), rc, "checkpointing the store"));
  return {};
}

Result<std::int64_t> Store::dataVersion() {
  auto v = m_impl->conn.scalar("PRAGMA data_version");
  if (!v) return std::unexpected(v.error());
  if (!*v || !std::holds_alternative<std::int64_t>(**v)) return std::int64_t{0};
  return std::get<std::int64_t>(**v);
}

Result<void> Store::rekey(const SecretKey& newKey) {
  auto& conn = m_impl->conn;
  if (auto r = checkpoint(); !r) return r;
  // Rekeying rewrites every page through the rollback journal; WAL mode is restored after.
  auto mode = conn.scalar("PRAGMA journal_mode = DELETE");
  if (!mode) return std::unexpected(mode.error());
  if (!*mode || std::get_if<std::string>(&**mode) == nullptr || std::get<std::string>(**mode) != "delete")
    return fail(ErrorDomain::Store, "store.busy",
                "another process has the store open; stop the kiosk and sync daemon, then rekey", true);
  int rc = 0;
  {
    const SecretKey::RawKeyText text(newKey);
    rc = sqlite3_rekey(conn.raw(), text.data(), text.size());
  }
  auto back = conn.scalar("PRAGMA journal_mode = WAL");
  if (rc != SQLITE_OK) return std::unexpected(sql::sqliteError(conn.raw(), rc, "rekeying the store"));
  if (!back) return std::unexpected(back.error());
  return {};
}

// [SECTION] Writes

Result<void> Store::write(const Actor& actor, const std::function<Result<void>(WriteTx&)>& fn) {
  return write(actor, nowUtc(), fn);
}

Result<void> Store::write(const Actor& actor, Instant now, const std::function<Result<void>(WriteTx&)>& fn) {
  WriteTx writer(*this, actor, now);
  return m_impl->transact(now, [&] { return fn(writer); });
}

template <class T>
Result<void> Store::insert(const T& record, const Actor& actor) {
  return write(actor, [&](WriteTx& tx) { return tx.insert(record); });
}

template <class T>
Result<void> Store::update(const T& record, const Actor& actor) {
  return write(actor, [&](WriteTx& tx) { return tx.update(record); });
}

template <class T>
Result<ApplyOutcome> Store::applyRemote(const T& record, const Actor& actor) {
  ApplyOutcome outcome = ApplyOutcome::Applied;
  auto r = write(actor, [&](WriteTx& tx) -> Result<void> {
    auto o = tx.applyRemote(record);
    if (!o) return std::unexpected(o.error());
    outcome = *o;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return outcome;
}

// [SECTION] Reads

template <class T>
Result<std::optional<T>> Store::get(const Uuid& id) {
  return selectById<T>(*m_impl, id);
}

Result<std::optional<Practice>> Store::practice() {
  auto rows = selectWhere<Practice>(*m_impl, "WHERE deleted = 0 ORDER BY created_at LIMIT 1", {});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Practice>();
  return std::optional<Practice>(std::move(rows->front()));
}

Result<std::vector<Provider>> Store::providers() {
  return selectWhere<Provider>(*m_impl, "WHERE deleted = 0 ORDER BY last_name, first_name", {});
}

Result<std::vector<Waitlist>> Store::waitlists() {
  return selectWhere<Waitlist>(*m_impl, "WHERE deleted = 0 ORDER BY name", {});
}

Result<std::vector<StaffUser>> Store::staffUsers() {
  return selectWhere<StaffUser>(*m_impl, "WHERE deleted = 0 ORDER BY display_name", {});
}

Result<std::vector<Patient>> Store::findPatients(std::string_view lastName, Date dateOfBirth) {
  const std::string key = nameLookupKey(lastName);
  if (key.empty()) return std::vector<Patient>{};
  return selectWhere<Patient>(*m_impl, "WHERE date_of_birth = ? AND lookup_key = ? AND deleted = 0",
                              {formatDate(dateOfBirth), key});
}

Result<std::optional<Patient>> Store::findPatientByEmail(std::string_view email) {
  auto normalized = normalizeEmail(email);
  if (!normalized) return std::optional<Patient>();
  auto rows = selectWhere<Patient>(*m_impl, "WHERE email = ? AND deleted = 0", {*normalized});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Patient>();
  return std::optional<Patient>(std::move(rows->front()));
}

Result<std::vector<Appointment>> Store::appointmentsBetween(Instant from, Instant to) {
  return selectWhere<Appointment>(*m_impl, "WHERE start_time >= ? AND start_time < ? AND deleted = 0 ORDER BY start_time",
                                  {formatInstant(from), formatInstant(to)});
}

Result<std::vector<Appointment>> Store::appointmentsForPatient(const Uuid& patientId, Instant from, Instant to) {
  return selectWhere<Appointment>(
      *m_impl, "WHERE patient_id = ? AND start_time >= ? AND start_time < ? AND deleted = 0 ORDER BY start_time",
      {patientId.toString(), formatInstant(from), formatInstant(to)});
}

Result<std::vector<AppointmentSlot>> Store::slotsBetween(Instant from, Instant to, std::optional<SlotStatus> status) {
  if (status) {
    return selectWhere<AppointmentSlot>(
        *m_impl, "WHERE start_time >= ? AND start_time < ? AND status = ? AND deleted = 0 ORDER BY start_time",
        {formatInstant(from), formatInstant(to), std::string(toString(*status))});
  }
  return selectWhere<AppointmentSlot>(*m_impl,
                                      "WHERE start_time >= ? AND start_time < ? AND deleted = 0 ORDER BY start_time",
                                      {formatInstant(from), formatInstant(to)});
}

Result<std::vector<WaitlistEntry>> Store::waitlistEntries(const Uuid& waitlistId, bool activeOnly) {
  if (activeOnly) {
    return selectWhere<WaitlistEntry>(
        *m_impl,
        "WHERE waitlist_id = ? AND status IN ('waiting', 'offered') AND deleted = 0 ORDER BY created_at",
        {waitlistId.toString()});
  }
  return selectWhere<WaitlistEntry>(*m_impl, "WHERE waitlist_id = ? AND deleted = 0 ORDER BY created_at",
                                    {waitlistId.toString()});
}

Result<std::vector<Patient>> Store::patientsOnWaitlists(std::optional<Uuid> waitlistId) {
  if (waitlistId) {
    return selectWhere<Patient>(*m_impl,
                                "WHERE deleted = 0 AND patient_id IN (SELECT patient_id FROM waitlist_entry"
                                " WHERE deleted = 0 AND waitlist_id = ?)",
                                {waitlistId->toString()});
  }
  return selectWhere<Patient>(
      *m_impl, "WHERE deleted = 0 AND patient_id IN (SELECT patient_id FROM waitlist_entry WHERE deleted = 0)", {});
}

Result<std::vector<AppointmentRequest>> Store::requestsForSlot(const Uuid& slotId) {
  return selectWhere<AppointmentRequest>(*m_impl, "WHERE appointment_slot_id = ? AND deleted = 0 ORDER BY created_at",
                                         {slotId.toString()});
}

Result<std::vector<Notification>> Store::notificationsFor(const Uuid& recipientId) {
  return selectWhere<Notification>(*m_impl, "WHERE recipient_id = ? AND deleted = 0 ORDER BY created_at",
                                   {recipientId.toString()});
}

// [SECTION] Domain operations

Result<CheckInReceipt> Store::checkIn(const Uuid& appointmentId, const Actor& actor, Instant now) {
  CheckInReceipt receipt;
  auto r = write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto current = tx.get<Appointment>(appointmentId);
    if (!current) return std::unexpected(current.error());
    if (!*current || (*current)->sync.deleted)
      return fail(ErrorDomain::NotFound, "checkin.not_found", "no appointment with that id");
    Appointment appt = **current;
    const auto check = checkTransition(appt.status, AppointmentStatus::CheckedIn);
    if (check.kind == Transition::NoOp) {
      receipt.appointment = appt;
      receipt.alreadyCheckedIn = true;
      return {};
    }
    if (check.kind == Transition::Illegal)
      return fail(ErrorDomain::Conflict, "checkin.illegal", std::string(check.reason));
    appt.status = AppointmentStatus::CheckedIn;
    if (auto u = tx.update(appt); !u) return u;
    if (auto a = tx.recordAccess("appointment", appt.appointmentId, "check_in"); !a) return a;
    receipt.appointment = appt;
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return receipt;
}

Result<Appointment> Store::setAppointmentStatus(const Uuid& appointmentId, AppointmentStatus to, const Actor& actor,
                                                Instant now) {
  Appointment result;
  auto r = write(actor, now, [&](WriteTx& tx) -> Result<void> {
    auto current = tx.get<Appointment>(appointmentId);
    if (!current) return std::unexpected(current.error());
    if (!*current || (*current)->sync.deleted)
      return fail(ErrorDomain::NotFound, "appointment.not_found", "no appointment with that id");
    result = **current;
    const auto check = checkTransition(result.status, to);
    if (check.kind == Transition::NoOp) return {};
    if (check.kind == Transition::Illegal)
      return fail(ErrorDomain::Conflict, "appointment.illegal_transition", std::string(check.reason));
    result.status = to;
    return tx.update(result);
  });
  if (!r) return std::unexpected(r.error());
  return result;
}

// [SECTION] Outbox, audit, sync state

Result<std::vector<OutboxMutation>> Store::pendingOutbox(std::size_t limit) {
  auto stmt = m_impl->conn.cached(
      "SELECT device_seq, mutation_id, entity, entity_id, kind, changes, base_version, hlc, created_at, prior,"
      " schema_version FROM outbox ORDER BY device_seq LIMIT ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindInt(1, static_cast<std::int64_t>(limit));
  std::vector<OutboxMutation> out;
  int rc = 0;
  while ((rc = (*stmt)->step()) == SQLITE_ROW) {
    auto& s = **stmt;
    out.push_back({s.getInt(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5), s.getInt(6),
                   s.getText(7), s.getText(8), s.getText(9), static_cast<int>(s.getInt(10))});
  }
  if (rc != SQLITE_DONE) return std::unexpected(sql::sqliteError(m_impl->conn.raw(), rc, "reading the outbox"));
  return out;
}

Result<std::int64_t> Store::pendingOutboxCount() { return m_impl->countOutbox(); }

Result<std::int64_t> Store::lastOutboxSeq() {
  // AUTOINCREMENT keeps the highest rowid ever used in sqlite_sequence (no row before the first).
  auto v = m_impl->conn.scalar("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)");
  if (!v) return std::unexpected(v.error());
  if (!*v || !std::holds_alternative<std::int64_t>(**v)) return std::int64_t{0};
  return std::get<std::int64_t>(**v);
}

Result<std::vector<AuditEvent>> Store::auditTrail(std::size_t limit) {
  auto stmt = m_impl->conn.cached(
      "SELECT audit_id, at, actor_kind, actor_id, action, entity, entity_id, fields FROM audit_log"
      " ORDER BY audit_id DESC LIMIT ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindInt(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEvent> out;
  int rc = 0;
  while ((rc = (*stmt)->step()) == SQLITE_ROW) {
    auto& s = **stmt;
    out.push_back({s.getInt(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5), s.getText(6),
                   s.getText(7)});
  }
  if (rc != SQLITE_DONE) return std::unexpected(sql::sqliteError(m_impl->conn.raw(), rc, "reading the audit log"));
  return out;
}

Result<std::optional<std::string>> Store::syncValue(std::string_view key) { return m_impl->getState(key); }

Result<void> Store::setSyncValue(std::string_view key, std::string_view value) {
  if (auto refused = m_impl->refuseIfDamaged(); !refused) return refused;
  return m_impl->watch(m_impl->putState(key, value, nowUtc()));
}

const Uuid& Store::deviceId() const { return m_impl->deviceId; }

Result<std::vector<SyncConflict>> Store::openConflicts(std::size_t limit) {
  auto stmt = m_impl->conn.cached(
      "SELECT conflict_id, mutation_id, entity, entity_id, reason, created_at, code, local_value, server_value"
      " FROM sync_conflict WHERE resolved_at IS NULL ORDER BY conflict_id LIMIT ?");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->bindInt(1, static_cast<std::int64_t>(limit));
  std::vector<SyncConflict> out;
  int rc = 0;
  while ((rc = (*stmt)->step()) == SQLITE_ROW) {
    auto& s = **stmt;
    out.push_back({s.getInt(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5), s.getText(6),
                   s.getText(7), s.getText(8)});
  }
  if (rc != SQLITE_DONE) return std::unexpected(sql::sqliteError(m_impl->conn.raw(), rc, "reading conflicts"));
  return out;
}

Result<void> Store::resolveConflict(std::int64_t conflictId, const Actor& actor) {
  return write(actor, [&](WriteTx& tx) -> Result<void> {
    auto stmt = m_impl->conn.cached(
        "UPDATE sync_conflict SET resolved_at = ?, resolved_by = ? WHERE conflict_id = ? AND resolved_at IS NULL");
    if (!stmt) return std::unexpected(stmt.error());
    (*stmt)->bindText(1, formatInstant(tx.now()));
    (*stmt)->bindText(2, actor.id);
    (*stmt)->bindInt(3, conflictId);
    if (auto st = m_impl->step(**stmt, "resolving a conflict"); !st) return st;
    if (sqlite3_changes(m_impl->conn.raw()) == 0)
      return fail(ErrorDomain::NotFound, "conflict.not_found", "that conflict is already resolved");
    const std::string hlc = m_impl->nextHlc(tx.now());
    return m_impl->appendAudit(actor, "resolve_conflict", "sync_conflict", std::to_string(conflictId), "", tx.now(), hlc);
  });
}

// [SECTION] Purge

Result<PurgeReport> Store::purgeOutsideWindow(Instant now, int daysAhead) {
  // The model's window, the one the hub sends by.
  const DataWindow window = dataWindowAt(now, daysAhead);
  const std::string from = formatInstant(window.from);
  const std::string to = formatInstant(window.to);
  const std::string notificationCutoff = formatInstant(window.notificationsFrom);
  auto noPending = [](std::string_view table, std::string_view idCol) {
    return " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity = '" + std::string(table) +
           "' AND o.entity_id = " + std::string(table) + "." + std::string(idCol) + ")";
  };
  struct Step {
    std::string table;
    std::string sqlText;
    std::vector<std::string> params;
  };
  // Children before parents: foreign keys are checked at commit.
  const std::vector<Step> steps = {
      {"notification",
       "DELETE FROM notification WHERE (created_at < ? OR deleted = 1)" + noPending("notification", "notification_id"),
       {notificationCutoff}},
      {"appointment_request",
       "DELETE FROM appointment_request WHERE (deleted = 1 OR appointment_slot_id IN (SELECT slot_id FROM "
       "appointment_slot WHERE start_time < ? OR start_time >= ?))" +
           noPending("appointment_request", "request_id"),
       {from, to}},
      {"appointment",
       "DELETE FROM appointment WHERE (deleted = 1 OR start_time < ? OR start_time >= ?)" +
           noPending("appointment", "appointment_id"),
       {from, to}},
      {"appointment_slot",
       "DELETE FROM appointment_slot WHERE (deleted = 1 OR start_time < ? OR start_time >= ?)"
       " AND NOT EXISTS (SELECT 1 FROM appointment_request r WHERE r.appointment_slot_id = appointment_slot.slot_id)" +
           noPending("appointment_slot", "slot_id"),
       {from, to}},
      {"waitlist_entry",
       "DELETE FROM waitlist_entry WHERE (deleted = 1 OR status NOT IN ('waiting', 'offered'))"
       " AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.waitlist_entry_id = waitlist_entry.entry_id)"
       " AND NOT EXISTS (SELECT 1 FROM appointment_request r WHERE r.waitlist_entry_id = waitlist_entry.entry_id)" +
           noPending("waitlist_entry", "entry_id"),
       {}},
      {"patient",
       "DELETE FROM patient WHERE NOT EXISTS (SELECT 1 FROM appointment a WHERE a.patient_id = patient.patient_id)"
       " AND NOT EXISTS (SELECT 1 FROM waitlist_entry e WHERE e.patient_id = patient.patient_id)"
       " AND NOT EXISTS (SELECT 1 FROM appointment_request r WHERE r.patient_id = patient.patient_id)"
       " AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.recipient_id = patient.patient_id)" +
           noPending("patient", "patient_id"),
       {}},
  };
  PurgeReport report;
  auto r = write(Actor::sync(), now, [&](WriteTx& tx) -> Result<void> {
    for (const auto& s : steps) {
      auto stmt = m_impl->conn.prepare(s.sqlText);
      if (!stmt) return std::unexpected(stmt.error());
      int i = 1;
      for (const auto& p : s.params) stmt->bindText(i++, p);
      if (auto st = m_impl->step(*stmt, "purging old records"); !st) return st;
      report.removed.emplace_back(s.table, sqlite3_changes(m_impl->conn.raw()));
    }
    auto kept = m_impl->countOutbox();
    if (!kept) return std::unexpected(kept.error());
    report.keptForPendingSync = *kept;
    const std::string hlc = m_impl->nextHlc(now);
    return m_impl->appendAudit(tx.actor(), "purge", "store", "*", std::to_string(report.total()) + " rows", now, hlc);
  });
  if (!r) return std::unexpected(r.error());
  return report;
}

// [SECTION] What sync_store.cpp uses of the internals (store_internal.hpp)

namespace internal {

sql::Connection& connection(Store::Impl& impl) { return impl.conn; }
Result<void> step(Store::Impl& impl, sql::Stmt& stmt, std::string_view what) { return impl.step(stmt, what); }
Result<void> transact(Store::Impl& impl, Instant now, const std::function<Result<void>()>& fn) {
  return impl.transact(now, fn);
}
Result<std::optional<std::string>> getState(Store::Impl& impl, std::string_view key) { return impl.getState(key); }
Result<void> putState(Store::Impl& impl, std::string_view key, std::string_view value, Instant now) {
  return impl.putState(key, value, now);
}
Result<void> appendAudit(Store::Impl& impl, std::string_view action, std::string_view entity,
                         std::string_view entityId, std::string_view fields, Instant now) {
  return impl.appendAudit(Actor::sync(), action, entity, entityId, fields, now, impl.nextHlc(now));
}
Result<bool> hasPendingMutation(Store::Impl& impl, std::string_view entity, const Uuid& id) {
  return impl.hasPendingMutation(entity, id);
}
Result<std::int64_t> countOutbox(Store::Impl& impl) { return impl.countOutbox(); }
void outboxChanged(Store::Impl& impl) { impl.outboxCountCache = -1; }
void observeClock(Store::Impl& impl, const HlcTimestamp& remote, Instant now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  impl.clock->observe(remote, ms);
}
template <class T>
Result<void> writeServerRow(Store::Impl& impl, const T& record, bool exists) {
  return store::writeServerRow(impl, record, exists);
}

}  // namespace internal

// [SECTION] Explicit instantiations for every record type

#define ANTEROOM_INSTANTIATE(T)                                              \
  template Result<void> WriteTx::insert<T>(const T&);                        \
  template Result<void> WriteTx::update<T>(const T&);                        \
  template Result<void> WriteTx::remove<T>(const Uuid&);                     \
  template Result<std::optional<T>> WriteTx::get<T>(const Uuid&);            \
  template Result<ApplyOutcome> WriteTx::applyRemote<T>(const T&);           \
  template Result<void> Store::insert<T>(const T&, const Actor&);            \
  template Result<void> Store::update<T>(const T&, const Actor&);            \
  template Result<ApplyOutcome> Store::applyRemote<T>(const T&, const Actor&); \
  template Result<std::optional<T>> Store::get<T>(const Uuid&);            \
  template Result<void> internal::writeServerRow<T>(Store::Impl&, const T&, bool);

ANTEROOM_INSTANTIATE(Practice)
ANTEROOM_INSTANTIATE(Provider)
ANTEROOM_INSTANTIATE(Patient)
ANTEROOM_INSTANTIATE(Waitlist)
ANTEROOM_INSTANTIATE(WaitlistEntry)
ANTEROOM_INSTANTIATE(AppointmentSlot)
ANTEROOM_INSTANTIATE(AppointmentRequest)
ANTEROOM_INSTANTIATE(Appointment)
ANTEROOM_INSTANTIATE(Notification)
ANTEROOM_INSTANTIATE(StaffUser)

}  // namespace anteroom::store
