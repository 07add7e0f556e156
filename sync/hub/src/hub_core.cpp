// The hub core: push applied under RLS with the model's rules, idempotent per device; pull
// pages from one snapshot, filtered to the device's data window.
#include "anteroom/sync/hub_core.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include <pqxx/pqxx>

#include "anteroom/model/data_window.hpp"
#include "anteroom/model/hlc.hpp"
#include "anteroom/model/record_rules.hpp"
#include "anteroom/model/row_json.hpp"
#include "anteroom/model/sync_rules.hpp"
#include "anteroom/model/validation.hpp"
#include "anteroom/model/waitlist_engine.hpp"
#include "entity_sql.hpp"

namespace anteroom::sync {

using hub::ColKind;
using hub::ColumnSpec;
using hub::EntitySpec;

namespace {

// [SECTION] Small helpers

// Thrown inside a mutation's savepoint to refuse it with words for a person; never leaves
// this file.
struct Refusal {
  std::string code;
  std::string message;
};

[[noreturn]] void refuse(std::string code, std::string message) { throw Refusal{std::move(code), std::move(message)}; }

// Thrown when the database refuses a multi-row insert of a batch: the batch is rolled back and
// applied again one mutation at a time. Never leaves this file.
struct RunRefused {};

std::int64_t unixMs(Instant t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Parameters of one statement: text or NULL.
struct Params {
  std::vector<std::optional<std::string>> values;
  int add(std::optional<std::string> v) {
    values.push_back(std::move(v));
    return static_cast<int>(values.size());
  }
  [[nodiscard]] std::vector<const char*> pointers() const {
    std::vector<const char*> p;
    p.reserve(values.size());
    for (const auto& v : values) p.push_back(v ? v->c_str() : nullptr);
    return p;
  }
};

// A savepoint in SQL (SAVEPOINT / RELEASE / ROLLBACK TO): a refused mutation undoes only its
// own statements and the batch's transaction carries on. Rolled back unless released.
class Savepoint {
 public:
  Savepoint(pqxx::dbtransaction& tx, std::string name) : m_tx(tx), m_name(std::move(name)) {
    m_tx.exec("SAVEPOINT " + m_name);
  }
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  ~Savepoint() {
    if (m_open) {
      try {
        rollback();
      } catch (const std::exception&) {
        // The transaction itself is lost (a broken connection, or pqxx refusing any statement
        // on it: a usage_error, which is no pqxx::failure); its owner sees that on its next
        // statement. Nothing may leave a destructor: the e2e fault test's hub died here, in
        // std::terminate, when PostgreSQL went away mid-mutation.
      }
    }
  }
  void release() {
    m_tx.exec("RELEASE SAVEPOINT " + m_name);
    m_open = false;
  }
  void rollback() {
    m_open = false;
    m_tx.exec("ROLLBACK TO SAVEPOINT " + m_name);
    m_tx.exec("RELEASE SAVEPOINT " + m_name);
  }

 private:
  pqxx::dbtransaction& m_tx;
  std::string m_name;
  bool m_open = true;
};


// A row read from PostgreSQL, in the model's row JSON.
struct CentralRow {
  Uuid id;
  std::int64_t rowVersion = 0;
  bool deleted = false;
  Json::Object row;
};

// Rewrites a row read centrally into the model's canonical row JSON (JSON columns with every
// key the model writes, doubles as doubles), so comparisons with device values are exact.
Result<Json::Object> canonical(Entity entity, const Json::Object& row) {
  return visitEntity(entity, [&](auto type) -> Result<Json::Object> {
    using T = decltype(type);
    auto record = fromRowJson<T>(row);
    if (!record) return std::unexpected(record.error());
    return toRowJson(*record);
  });
}

bool isReferenceColumn(const ColumnSpec& c) { return c.kind == ColKind::Uuid; }

// A result row as a CentralRow; nullopt for a row the model cannot decode (written centrally
// by another system in a shape the model does not accept): sending it would fail the device's
// whole page, so callers leave it out and report it (Impl::decode).
// Form::Canonical reads a row of hub::selectRowsSql (id, row_version, deleted, row JSON) and
// rewrites it as the model writes it (what comparisons with a device's values need).
// Form::Decodable reads a row of hub::selectColumnsSql (id, row_version, deleted, extra, each
// column), builds the JSON json_build_object would have given, and only checks that the model
// decodes it: the same JSON, which decodes to the same record on the device, for a pull page
// at half the CPU, without PostgreSQL building JSON text for the hub to parse.
enum class Form { Canonical, Decodable };

// A result row's values, read with one pqxx field for the whole row: r[k] builds a field that
// holds a copy of the result (a shared pointer's two atomic updates), a column at a time; 5% of
// a pull page's hub CPU.
struct RowValues {
  struct Value {
    std::optional<std::string_view> text;  // nullopt: SQL NULL
    unsigned type = 0;                      // the column's type oid
  };
  std::vector<Value> values;
  explicit RowValues(const pqxx::row& r) {
    const auto n = r.size();
    values.reserve(n);
    auto f = r.begin();
    for (pqxx::row::size_type k = 0; k < n; ++k, ++f)
      values.push_back({f->is_null() ? std::nullopt : std::optional<std::string_view>(std::in_place, f->c_str(), f->size()),
                        static_cast<unsigned>(f->type())});
  }
};

// The row JSON from the columns of a selectColumnsSql row; nullopt if one does not parse or the
// model would not decode it. The row has each of the model's columns and no other, so it
// decodes exactly when each value passes its column's check (ColumnCheck): fromRowJson's
// answer without its lookups by name and without building a record. Built in key order, so
// each member goes in at the end without a search.
std::optional<Json::Object> rowFromColumns(const RowValues& r, const EntitySpec& spec) {
  Json::Object row;
  for (const std::size_t k : spec.byName) {
    const hub::ColumnSpec& column = spec.columns[k];
    const RowValues::Value& f = r.values[static_cast<std::size_t>(hub::kFirstColumn) + k];
    auto value = hub::columnJson(column, f.text, f.type);
    if (!value) return std::nullopt;
    const bool reads = value->isNull() ? column.optional : hub::alwaysReads(column, f.type) || column.reads(*value);
    if (!reads) return std::nullopt;
    row.emplace_hint(row.end(), column.name, std::move(*value));
  }
  return row;
}

std::optional<CentralRow> rowFrom(const pqxx::row& r, const EntitySpec& spec, Form form = Form::Canonical) {
  CentralRow row;
  if (form == Form::Canonical) {
    auto parsed = Json::parse(r[3].c_str());
    if (!parsed || !parsed->isObject()) return std::nullopt;
    auto canon = canonical(*entityFromTable(spec.table), parsed->asObject());
    if (!canon) return std::nullopt;
    row.row = std::move(*canon);
    row.id = *Uuid::parse(r[0].c_str());
    row.rowVersion = r[1].as<std::int64_t>();
    row.deleted = r[2].as<bool>();
  } else {
    const RowValues values(r);
    auto columns = rowFromColumns(values, spec);
    if (!columns) return std::nullopt;
    row.row = std::move(*columns);
    row.id = *Uuid::parse(*values.values[0].text);
    const std::string_view version = *values.values[1].text;
    if (std::from_chars(version.data(), version.data() + version.size(), row.rowVersion).ec != std::errc{}) return std::nullopt;
    row.deleted = *values.values[2].text == "t";
  }
  return row;
}

// The answer for a mutation that waits on a walk-in the front desk has to review.
void holdFor(MutationResult& result, const Uuid& review, std::optional<Uuid>& heldBy, std::string message) {
  heldBy = review;
  result.status = ResultStatus::Held;
  result.code = "sync.walkin_review";
  result.message = std::move(message);
}

}  // namespace

// [SECTION] Impl
struct HubCore::Impl {
  HubOptions options;
  std::unique_ptr<pqxx::connection> conn;
  HybridLogicalClock clock{"hub"};
  std::mutex clockMutex;
  UuidGenerator uuids;

  Instant now() const { return options.clock ? options.clock() : std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

  // Statements are generated per entity and column set, so each distinct text is prepared once
  // on this connection (planned once, not per mutation). Cleared when the connection is new.
  std::map<std::string, std::string, std::less<>> prepared;
  // Without prepared statements (a transaction-pooling PgBouncer in front of PostgreSQL, where a
  // statement prepared on one server connection is unknown on the next) the same text goes out
  // as an unnamed parameterised statement, planned each time.
  pqxx::result exec(pqxx::dbtransaction& tx, const std::string& sql, const Params& params) {
    const auto ptrs = params.pointers();
    if (!options.preparedStatements) return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
    auto it = prepared.find(sql);
    if (it == prepared.end()) {
      const std::string name = "q" + std::to_string(prepared.size() + 1);
      conn->prepare(name, sql);
      it = prepared.emplace(sql, name).first;
    }
    return tx.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(ptrs));
  }

  // Per batch: the device's ids that centrally became others (walk-in links) and the new
  // patients held for review, read once for all of the batch's ids and kept up to date by it.
  struct BatchIds {
    std::map<std::pair<std::string, Uuid>, Uuid> aliases;  // (entity, local id) -> central id
    std::map<Uuid, Uuid> reviews;                          // local patient id -> open review
  };
  BatchIds* batchIds = nullptr;

  std::string tick() {
    std::lock_guard lock(clockMutex);
    return clock.encode(clock.now(unixMs(now())));
  }
  void observe(std::string_view hlc) {
    auto decoded = HybridLogicalClock::decode(hlc);
    if (!decoded) return;
    std::lock_guard lock(clockMutex);
    clock.observe(decoded->first, unixMs(now()));
  }

  Result<void> ensureConnected() {
    try {
      if (!conn || !conn->is_open()) {
        conn = std::make_unique<pqxx::connection>(options.dsn);
        prepared.clear();
        preparedRuns = 0;
      }
      return {};
    } catch (const std::exception&) {
      conn.reset();
      return fail(ErrorDomain::Network, "hub.database", "the central database cannot be reached; try again shortly", true);
    }
  }

  // One line for an operator: a dotted code and ids, never row values.
  void warn(const std::string& line) const {
    if (options.log) options.log(line);
    else std::fprintf(stderr, "<4>anteroom-hub: %s\n", line.c_str());
  }

  // rowFrom, reporting a row the model cannot decode (by entity and id only).
  std::optional<CentralRow> decode(const pqxx::row& r, const EntitySpec& spec, Form form = Form::Canonical) {
    auto row = rowFrom(r, spec, form);
    if (!row)
      warn("sync.undecodable_row: central " + spec.table + " " + r[0].c_str() +
           " does not fit the model; it is left out of device pages and push answers");
    return row;
  }

  // The push transaction's RLS scope and actor, and generic plans for its prepared statements:
  // PostgreSQL otherwise planned readRows' `= ANY($1) FOR UPDATE` (with its policies' subqueries)
  // anew on every execution, twice a check-in; forced generic, a pushed check-in costs ~25% less
  // (anteroom-bench-sync-net push_checkins_per_s 866 -> 1,135 on an idle machine). Local to the
  // transaction, so also right behind a transaction-pooling PgBouncer.
  void scope(pqxx::dbtransaction& tx, const DeviceContext& device) {
    Params p;
    p.add(device.practiceId.toString());
    p.add("device:" + device.deviceId.toString());
    exec(tx, "SELECT set_config('app.practice_id', $1, true), set_config('app.actor', $2, true), set_config('plan_cache_mode', 'force_generic_plan', true)", p);
  }

  // [SECTION] Rows
  std::vector<CentralRow> readRows(pqxx::dbtransaction& tx, const EntitySpec& spec, const std::vector<Uuid>& ids,
                                   bool forUpdate, Form form = Form::Canonical) {
    std::vector<CentralRow> out;
    if (ids.empty()) return out;
    Params p;
    if (spec.hasPii) p.add(options.piiKey);
    std::string array = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) array += (i ? "," : "") + ids[i].toString();
    array += "}";
    const int n = p.add(array);
    const std::string select = form == Form::Canonical ? hub::selectRowsSql(spec) : hub::selectColumnsSql(spec);
    std::string sql = select + " WHERE t." + spec.idColumn + " = ANY($" + std::to_string(n) + "::uuid[])";
    if (forUpdate) sql += " FOR UPDATE";
    for (const auto& r : exec(tx, sql, p))
      if (auto row = decode(r, spec, form)) out.push_back(std::move(*row));
    return out;
  }

  std::optional<CentralRow> readRow(pqxx::dbtransaction& tx, const EntitySpec& spec, const Uuid& id, bool forUpdate) {
    auto rows = readRows(tx, spec, {id}, forUpdate);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }

  // A row passed as an rvalue gives up its values (a pull page's rows are not copied).
  static Change toChange(const EntitySpec& spec, CentralRow row) {
    Change c;
    c.entity = spec.table;
    c.id = row.id;
    c.op = row.deleted ? ChangeOp::Delete : ChangeOp::Upsert;
    c.rowVersion = row.rowVersion;
    c.row = std::move(row.row);
    return c;
  }

  // Writes `values` (row JSON, server-owned columns already removed) as an INSERT or UPDATE.
  void writeRow(pqxx::dbtransaction& tx, const EntitySpec& spec, const Uuid& id, const Json::Object& values, bool insert) {
    Params p;
    const int key = spec.hasPii ? p.add(options.piiKey) : 0;
    std::vector<std::pair<std::string, std::string>> assignments;  // column, expression
    for (const auto& [col, value] : values) {
      const ColumnSpec* c = spec.column(col);
      if (!c || col == spec.idColumn) continue;
      if (spec.hasPii && col == "insurance_info") {
        if (!value.isObject()) refuse("sync.bad_value", "the insurance details are not in the expected form");
        auto [plain, ids] = hub::splitInsurance(value.asObject());
        assignments.emplace_back("insurance_info", "$" + std::to_string(p.add(Json(plain).dump())) + "::jsonb");
        if (ids.empty()) assignments.emplace_back("insurance_ids", "NULL");
        else assignments.emplace_back("insurance_ids", "pii_encrypt($" + std::to_string(p.add(Json(ids).dump())) + ", $" + std::to_string(key) + ")");
        continue;
      }
      const int n = p.add(hub::paramText(value));
      assignments.emplace_back(col, hub::writeExpression(spec, *c, n, key));
      if (spec.hasPii && col == "email") {
        const int h = p.add(options.hashKey);
        assignments.emplace_back("email_hash", "pii_lookup_hash($" + std::to_string(n) + "::text, $" + std::to_string(h) + ")");
      }
    }
    const int idParam = p.add(id.toString());
    std::string sql;
    if (insert) {
      std::string cols = spec.idColumn, exprs = "$" + std::to_string(idParam) + "::uuid";
      for (const auto& [c, e] : assignments) {
        cols += ", " + c;
        exprs += ", " + e;
      }
      sql = "INSERT INTO " + spec.table + " (" + cols + ") VALUES (" + exprs + ")";
    } else {
      if (assignments.empty()) return;
      sql = "UPDATE " + spec.table + " SET ";
      for (std::size_t i = 0; i < assignments.size(); ++i)
        sql += (i ? ", " : "") + assignments[i].first + " = " + assignments[i].second;
      sql += " WHERE " + spec.idColumn + " = $" + std::to_string(idParam) + "::uuid";
    }
    exec(tx, sql, p);
  }

  // [SECTION] Ids: aliases made by walk-in links, and rows held for staff review
  std::optional<Uuid> aliasOf(pqxx::dbtransaction& tx, std::string_view entity, const Uuid& localId) {
    if (batchIds) {
      auto it = batchIds->aliases.find({std::string(entity), localId});
      if (it == batchIds->aliases.end()) return std::nullopt;
      return it->second;
    }
    auto r = tx.exec_params("SELECT central_id::text FROM id_alias WHERE entity = $1 AND local_id = $2::uuid",
                            std::string(entity), localId.toString());
    if (r.empty()) return std::nullopt;
    return Uuid::parse(r[0][0].c_str());
  }

  std::optional<Uuid> openReviewFor(const Uuid& localPatientId) const {
    if (!batchIds) return std::nullopt;
    auto it = batchIds->reviews.find(localPatientId);
    if (it == batchIds->reviews.end()) return std::nullopt;
    return it->second;
  }

  // Every id a batch's mutations carry (their own and their references'), for BatchIds.
  static std::string idsOf(std::span<const Mutation> batch) {
    std::set<std::string> ids;
    for (const auto& m : batch) {
      ids.insert(m.id.toString());
      for (const auto& [col, v] : m.changes)
        if (v.isString() && v.asString().size() == 36 && Uuid::parse(v.asString())) ids.insert(v.asString());
    }
    std::string array = "{";
    for (const auto& id : ids) array += (array.size() > 1 ? "," : "") + id;
    return array + "}";
  }

  // What a batch needs to know up front, in one statement: the results recorded earlier for its
  // mutation ids (`stored`), and its ids' aliases and open reviews (BatchIds).
  BatchIds loadBatchIds(pqxx::dbtransaction& tx, const std::string& deviceId, std::span<const Mutation> batch,
                        std::map<Uuid, std::string>& stored) {
    std::string mutationIds = "{";
    for (const auto& m : batch) mutationIds += (mutationIds.size() > 1 ? "," : "") + m.mutationId.toString();
    BatchIds b;
    Params p;
    p.add(deviceId);
    p.add(mutationIds + "}");
    p.add(idsOf(batch));
    for (const auto& r : exec(tx,
                              "SELECT 'stored', mutation_id::text, result::text, NULL FROM idempotency_record"
                              " WHERE device_id = $1::uuid AND mutation_id = ANY($2::uuid[])"
                              " UNION ALL SELECT 'alias', entity, local_id::text, central_id::text FROM id_alias"
                              " WHERE local_id = ANY($3::uuid[])"
                              " UNION ALL SELECT 'review', local_patient_id::text, review_id::text, NULL FROM walkin_review"
                              " WHERE local_patient_id = ANY($3::uuid[]) AND status = 'open'",
                              p)) {
      const std::string_view kind = r[0].c_str();
      if (kind == "stored") stored[*Uuid::parse(r[1].c_str())] = r[2].c_str();
      else if (kind == "alias") b.aliases[{r[1].c_str(), *Uuid::parse(r[2].c_str())}] = *Uuid::parse(r[3].c_str());
      else b.reviews[*Uuid::parse(r[1].c_str())] = *Uuid::parse(r[2].c_str());
    }
    return b;
  }

  // [SECTION] Push: one mutation
  struct Applied {
    MutationResult result;
    std::optional<Uuid> heldBy;  // review the mutation waits on
  };

  Applied applyOne(pqxx::dbtransaction& tx, const DeviceContext& device, Mutation m) {
    Applied out;
    out.result.mutationId = m.mutationId;
    out.result.deviceSeq = m.deviceSeq;
    const EntitySpec* spec = hub::entitySpec(m.entity);
    const auto entity = entityFromTable(m.entity);
    if (!spec || !entity) refuse("sync.unknown_entity", "this hub does not know records of type " + m.entity);
    const anteroom::MutationKind kind = m.kind == MutationKind::Insert   ? anteroom::MutationKind::Insert
                                        : m.kind == MutationKind::Update ? anteroom::MutationKind::Update
                                                                         : anteroom::MutationKind::Delete;
    if (!deviceMay(*entity, kind))
      refuse("sync.not_writable", "a kiosk may not " + std::string(toString(m.kind)) + " " + m.entity + " records");

    // Ids the device made that centrally became others (walk-in links), and rows held for review.
    if (auto central = aliasOf(tx, m.entity, m.id)) m.id = *central;
    for (auto& [col, value] : m.changes) {
      const ColumnSpec* c = spec->column(col);
      if (!c || !isReferenceColumn(*c) || !value.isString() || col == spec->idColumn) continue;
      auto local = Uuid::parse(value.asString());
      if (!local) continue;
      if (auto central = aliasOf(tx, "patient", *local)) value = Json(central->toString());
      else if (auto review = openReviewFor(*local)) {
        holdFor(out.result, *review, out.heldBy, "waiting for the front desk to confirm who this new patient is");
        return out;
      }
    }
    if (m.entity == "patient") {
      if (auto review = openReviewFor(m.id)) {
        holdFor(out.result, *review, out.heldBy, "waiting for the front desk to confirm who this new patient is");
        return out;
      }
    }

    switch (m.kind) {
      case MutationKind::Insert: insertOne(tx, device, *spec, *entity, m, out); break;
      case MutationKind::Update: updateOne(tx, *spec, *entity, m, out); break;
      case MutationKind::Delete: deleteOne(tx, *spec, m, out); break;
    }
    if (out.result.status != ResultStatus::Held) {
      const Uuid rowId = out.result.centralId.value_or(m.id);
      if (auto row = readRow(tx, *spec, rowId, false)) {
        out.result.row = toChange(*spec, *row);
        if (out.result.status != ResultStatus::Rejected) out.result.rowVersion = row->rowVersion;
      }
    }
    return out;
  }

  // The record a device's new row makes (server-owned columns at their defaults), checked by
  // the model's validation; the message of the first rule it breaks, if any.
  std::optional<std::string> validateNew(Entity entity, const Json::Object& row) {
    return visitEntity(entity, [&](auto type) -> std::optional<std::string> {
      using T = decltype(type);
      Json::Object complete = row;
      for (const auto& [column, value] : serverOwnedDefaults(entity)) complete.emplace(column, value);
      auto record = fromRowJson<T>(complete);
      if (!record) return record.error().message;
      if (auto valid = validateRecord(*record, now()); !valid) return valid.error().message;
      return std::nullopt;
    });
  }

  // created_at is the device's, clamped to receipt: a fast clock cannot date a row ahead.
  Json createdAt(const Mutation& m) const {
    const Instant received = now();
    auto created = m.changes.find("created_at");
    std::optional<Instant> at;
    if (created != m.changes.end() && created->second.isString()) at = parseInstant(created->second.asString());
    return Json(formatInstant(at && *at < received ? *at : received));
  }

  void insertOne(pqxx::dbtransaction& tx, const DeviceContext& device, const EntitySpec& spec, Entity entity,
                 const Mutation& m, Applied& out) {
    MergePlan plan = planInsert(entity, m.changes);
    if (plan.rejection) refuse(plan.rejection->code, plan.rejection->message);
    // The model's rules for a record hold for what a device sends as much as for what it types.
    if (auto invalid = validateNew(entity, m.changes)) refuse("sync.invalid", *invalid);
    Json::Object values = std::move(plan.toWrite);
    if (entity == Entity::Patient) {
      if (insertWalkin(tx, device, spec, m, values, out)) return;
    }
    if (entity == Entity::WaitlistEntry) values["priority_score"] = Json(0.0);  // scored below
    if (spec.column("created_at")) values["created_at"] = createdAt(m);
    writeRow(tx, spec, m.id, values, true);
    if (entity == Entity::WaitlistEntry) rescore(tx, m.id);
    if (entity == Entity::AppointmentRequest) confirmRequest(tx, m.id, out);
  }

  // A walk-in: link to an existing central patient with the same email, name and date of
  // birth (remap), hold it for review when the email belongs to someone else, else insert.
  bool insertWalkin(pqxx::dbtransaction& tx, const DeviceContext& device, const EntitySpec&, const Mutation& m,
                    const Json::Object& values, Applied& out) {
    auto str = [&](const char* col) -> std::string {
      auto it = values.find(col);
      return it != values.end() && it->second.isString() ? it->second.asString() : std::string();
    };
    const std::string email = str("email");
    if (email.empty()) return false;
    auto dob = parseIsoDate(str("date_of_birth"));
    if (!dob) refuse("sync.bad_value", "the date of birth is not a date");
    const WalkinIdentity who = foldIdentity(str("first_name"), str("last_name"), *dob);
    auto match = tx.exec_params(
        "SELECT outcome, patient_id::text FROM sync_match_walkin($1, $2, $3, $4::date, $5, $6)", email, who.firstFolded,
        who.lastFolded, formatDate(*dob), options.piiKey, options.hashKey);
    const std::string outcome = match.empty() ? "absent" : match[0][0].c_str();
    if (outcome == "absent") return false;
    if (outcome == "linked") {
      const Uuid central = *Uuid::parse(match[0][1].c_str());
      tx.exec_params(
          "INSERT INTO id_alias (practice_id, entity, local_id, central_id, device_id, created_at)"
          " VALUES ($1::uuid, 'patient', $2::uuid, $3::uuid, $4::uuid, now() AT TIME ZONE 'UTC')",
          device.practiceId.toString(), m.id.toString(), central.toString(), device.deviceId.toString());
      if (batchIds) batchIds->aliases[{"patient", m.id}] = central;
      out.result.status = ResultStatus::Remapped;
      out.result.centralId = central;
      return true;
    }
    // mismatch: the email is someone else's. Never merged, never duplicated: staff decide.
    const Uuid review = uuids.v7(now());
    tx.exec_params(
        "INSERT INTO walkin_review (review_id, practice_id, device_id, local_patient_id, mutation_id, reason, payload,"
        " status, created_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, 'email_in_use',"
        " pii_encrypt($6, $7), 'open', now() AT TIME ZONE 'UTC')",
        review.toString(), device.practiceId.toString(), device.deviceId.toString(), m.id.toString(),
        m.mutationId.toString(), Json(values).dump(), options.piiKey);
    if (batchIds) batchIds->reviews[m.id] = review;
    holdFor(out.result, review, out.heldBy,
            "this email already belongs to another patient record; the front desk needs to confirm who this is");
    return true;
  }

  void updateOne(pqxx::dbtransaction& tx, const EntitySpec& spec, Entity entity, const Mutation& m, Applied& out) {
    auto current = readRow(tx, spec, m.id, true);
    if (!current) refuse("sync.not_found", "this " + spec.table + " record is not known centrally");
    if (current->deleted) refuse("sync.deleted", "this " + spec.table + " record was deleted centrally");
    MergePlan plan = planUpdate(entity, current->row, m.changes, m.prior);
    if (plan.rejection) refuse(plan.rejection->code, plan.rejection->message);
    writeRow(tx, spec, m.id, plan.toWrite, false);
    if (entity == Entity::WaitlistEntry || entity == Entity::Patient) rescoreFor(tx, entity, m.id);
    if (entity == Entity::Appointment && checksIn(current->row, plan.toWrite)) announceArrival(tx, current->row, m);
    if (!plan.conflicts.empty()) {
      out.result.status = ResultStatus::Merged;
      out.result.code = "sync.identity_conflict";
      std::string cols;
      for (const auto& c : plan.conflicts) cols += (cols.empty() ? "" : ", ") + c.column;
      out.result.message = "changed here and centrally at the same time; the central value was kept for: " + cols;
    } else if (plan.merged()) {
      out.result.status = ResultStatus::Merged;
    }
    if (entity == Entity::AppointmentRequest) confirmRequest(tx, m.id, out);
  }

  // The provider hears of the arrival from the hub, once, in the check-in's transaction. The
  // notice says when the kiosk checked the patient in (its clock, from the mutation's HLC, never
  // later than the hub's), which for a check-in made offline is earlier than its arrival here.
  void announceArrival(pqxx::dbtransaction& tx, const Json::Object& appointmentRow, const Mutation& m) {
    auto appointment = fromRowJson<Appointment>(appointmentRow);
    if (!appointment) return;
    const Instant at = now();
    Instant arrivedAt = at;
    if (auto hlc = HybridLogicalClock::decode(m.hlc))
      arrivedAt = Instant{std::chrono::milliseconds{hlc->first.wallMs}};
    const Notification note = arrivalNotice(*appointment, {arrivedAt, at}, uuids.v7(at));
    writeRow(tx, *hub::entitySpec("notification"), note.notificationId, toRowJson(note), true);
  }

  void deleteOne(pqxx::dbtransaction& tx, const EntitySpec& spec, const Mutation& m, Applied&) {
    auto current = readRow(tx, spec, m.id, true);
    if (!current) refuse("sync.not_found", "this " + spec.table + " record is not known centrally");
    if (current->deleted) return;  // already a tombstone: a repeat
    tx.exec_params("UPDATE " + spec.table + " SET deleted = true WHERE " + spec.idColumn + " = $1::uuid", m.id.toString());
  }

  // [SECTION] Server-owned values: priority scores and slot booking
  // True when the entry's score changed (and was written).
  bool rescore(pqxx::dbtransaction& tx, const Uuid& entryId);
  Result<RescoreReport> rescoreWaitlists();
  void rescoreFor(pqxx::dbtransaction& tx, Entity entity, const Uuid& id);
  void confirmRequest(pqxx::dbtransaction& tx, const Uuid& requestId, Applied& out);

  // [SECTION] Push: results kept for repeats
  static Json resultRecord(const MutationResult& r);
  static Json idempotencyEntry(const Mutation& m, const MutationResult& r);
  MutationResult storedResult(pqxx::dbtransaction& tx, const Mutation& m, std::string_view record);
  static std::string constraintWords(const pqxx::sql_error& e);

  // [SECTION] Push: runs of plain new records
  // A new record with nothing for the hub to do beside writing it: no walk-in match, no score,
  // no booking, no PII, no id or reference that a walk-in link or review changes. Its plan and
  // validation are the ones insertOne makes; nullopt when it is not such a record or they refuse
  // it (the one-by-one path then gives the refusal).
  std::optional<Json::Object> plainInsert(const Mutation& m) {
    if (m.kind != MutationKind::Insert) return std::nullopt;
    const EntitySpec* spec = hub::entitySpec(m.entity);
    const auto entity = entityFromTable(m.entity);
    if (!spec || !entity || spec->hasPii) return std::nullopt;
    if (*entity == Entity::Patient || *entity == Entity::WaitlistEntry || *entity == Entity::AppointmentRequest)
      return std::nullopt;
    if (!deviceMay(*entity, anteroom::MutationKind::Insert)) return std::nullopt;
    if (batchIds) {
      if (batchIds->aliases.contains({m.entity, m.id})) return std::nullopt;
      for (const auto& [col, value] : m.changes) {
        const ColumnSpec* c = spec->column(col);
        if (!c || !isReferenceColumn(*c) || !value.isString()) continue;
        auto local = Uuid::parse(value.asString());
        if (local && (batchIds->aliases.contains({"patient", *local}) || batchIds->reviews.contains(*local)))
          return std::nullopt;
      }
    }
    MergePlan plan = planInsert(*entity, m.changes);
    if (plan.rejection || validateNew(*entity, m.changes)) return std::nullopt;
    Json::Object values = std::move(plan.toWrite);
    if (spec->column("created_at")) values["created_at"] = createdAt(m);
    return values;
  }

  // The run of plain inserts of one entity starting at `from`, as the values each writes:
  // new mutations (not repeats, above the high-water mark) with distinct row ids.
  std::vector<Json::Object> runOf(std::span<const Mutation> batch, std::size_t from,
                                  const std::map<Uuid, std::string>& stored, std::int64_t highWater) {
    std::vector<Json::Object> run;
    std::set<Uuid> rowIds;
    for (std::size_t at = from; at < batch.size(); ++at) {
      const Mutation& m = batch[at];
      if (m.entity != batch[from].entity || stored.contains(m.mutationId) || m.deviceSeq <= highWater ||
          !rowIds.insert(m.id).second)
        break;
      auto values = plainInsert(m);
      if (!values) break;
      run.push_back(std::move(*values));
      highWater = m.deviceSeq;
    }
    return run;
  }

  // Inserts a run in one statement and answers each mutation with the row the database returned
  // (the same results and rows the one-by-one path gives; the row triggers fire in the run's
  // order, so the change log keeps the push's order). No savepoint of its own: when the database
  // refuses the statement it throws RunRefused, the batch's transaction is rolled back and the
  // batch applied again one mutation at a time (runsOff), which finds the mutation at fault.
  // Its text varies with the run's entity, columns and length, so only the first few texts a
  // connection sees are prepared (kPreparedRuns; a device's full batches of one entity repeat
  // one text, and PostgreSQL then skips parsing and planning ~1,000 parameters); the others go
  // unprepared, so a hub that sees many shapes does not pile up statements on its connections.
  static constexpr std::size_t kPreparedRuns = 8;
  std::size_t preparedRuns = 0;  // run texts in `prepared`
  bool runsOff = false;
  void insertRun(pqxx::dbtransaction& tx, std::span<const Mutation> run, const std::vector<Json::Object>& rows,
                 std::vector<Applied>& out) {
    const EntitySpec& spec = *hub::entitySpec(run.front().entity);
    std::vector<const ColumnSpec*> cols;  // every column any row writes, in the spec's order
    for (const auto& c : spec.columns) {
      if (c.name == spec.idColumn) continue;
      for (const auto& r : rows)
        if (r.contains(c.name)) {
          cols.push_back(&c);
          break;
        }
    }
    Params p;
    std::string sql = "INSERT INTO " + spec.table + " AS t (" + spec.idColumn;
    for (const auto* c : cols) sql += ", " + c->name;
    sql += ") VALUES ";
    for (std::size_t k = 0; k < run.size(); ++k) {
      sql += (k ? ", ($" : "($") + std::to_string(p.add(run[k].id.toString())) + "::uuid";
      for (const auto* c : cols) {
        auto v = rows[k].find(c->name);
        sql += ", " + (v == rows[k].end() ? std::string("DEFAULT") : hub::writeExpression(spec, *c, p.add(hub::paramText(v->second)), 0));
      }
      sql += ")";
    }
    sql += " RETURNING " + hub::rowColumnsSql(spec);
    const bool prepare = prepared.contains(sql) || preparedRuns < kPreparedRuns;
    pqxx::result returned;
    try {
      if (prepare) {
        if (!prepared.contains(sql)) ++preparedRuns;
        returned = exec(tx, sql, p);
      } else {
        const auto ptrs = p.pointers();
        returned = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
      }
    } catch (const pqxx::transaction_rollback&) {
      throw;  // the whole batch is retried
    } catch (const pqxx::insufficient_resources&) {
      throw;
    } catch (const pqxx::sql_error&) {
      throw RunRefused{};
    }
    std::map<Uuid, CentralRow> byId;
    for (const auto& r : returned)
      if (auto row = decode(r, spec)) byId.emplace(row->id, std::move(*row));
    for (const Mutation& m : run) {
      Applied a;
      a.result.mutationId = m.mutationId;
      a.result.deviceSeq = m.deviceSeq;
      if (auto it = byId.find(m.id); it != byId.end()) {
        a.result.rowVersion = it->second.rowVersion;
        a.result.row = toChange(spec, std::move(it->second));
      }
      out.push_back(std::move(a));
    }
  }

  // [SECTION] Push: batches
  Result<PushResponse> push(const DeviceContext& device, const PushRequest& req);
  std::vector<MutationResult> pushBatch(const DeviceContext& device, std::span<const Mutation> batch);
  Applied applyGuarded(pqxx::dbtransaction& tx, const DeviceContext& device, const Mutation& m);

  // [SECTION] Walk-in reviews resolved by staff
  Result<ReviewRelease> resolveReview(const ReviewDecision& decision);
  Applied releaseWalkin(pqxx::dbtransaction& tx, const DeviceContext& device, Mutation m, ReviewOutcome as,
                        const Uuid& patientId);

  // [SECTION] Pull
  Result<PullResponse> pull(const DeviceContext& device, const PullRequest& req);
};

// [SECTION] Server-owned values

bool HubCore::Impl::rescore(pqxx::dbtransaction& tx, const Uuid& entryId) {
  auto entryRow = readRow(tx, *hub::entitySpec("waitlist_entry"), entryId, false);
  if (!entryRow) return false;
  auto entry = fromRowJson<WaitlistEntry>(entryRow->row);
  if (!entry || !isActive(entry->status)) return false;
  auto patientRow = readRow(tx, *hub::entitySpec("patient"), entry->patientId, false);
  auto listRow = readRow(tx, *hub::entitySpec("waitlist"), entry->waitlistId, false);
  if (!patientRow || !listRow) return false;
  auto patient = fromRowJson<Patient>(patientRow->row);
  auto list = fromRowJson<Waitlist>(listRow->row);
  if (!patient || !list) return false;
  std::vector<Provider> providers;
  const EntitySpec& ps = *hub::entitySpec("provider");
  for (const auto& r : exec(tx, hub::selectRowsSql(ps) + " WHERE NOT t.deleted AND t.practice_id = current_practice_id()", {})) {
    auto parsed = Json::parse(r[3].c_str());
    if (!parsed || !parsed->isObject()) continue;
    if (auto p = fromRowJson<Provider>(parsed->asObject())) providers.push_back(std::move(*p));
  }
  const double score = computePriority(*entry, *patient, list->criteria, providers, now()).score;
  if (score == entry->priorityScore) return false;
  tx.exec_params("UPDATE waitlist_entry SET priority_score = $1::double precision WHERE entry_id = $2::uuid",
                 Json(score).dump(), entryId.toString());
  return true;
}

void HubCore::Impl::rescoreFor(pqxx::dbtransaction& tx, Entity entity, const Uuid& id) {
  if (entity == Entity::WaitlistEntry) {
    rescore(tx, id);
    return;
  }
  auto r = tx.exec_params(
      "SELECT entry_id::text FROM waitlist_entry WHERE patient_id = $1::uuid AND status IN ('waiting', 'offered')"
      " AND NOT deleted",
      id.toString());
  for (const auto& row : r) rescore(tx, *Uuid::parse(row[0].c_str()));
}

// Devices never book (DESIGN 5.3): a pending request, or an offer the patient accepted, is
// confirmed here or rejected, in the pushing transaction, with the exclusion constraint on
// appointments as the last word.
void HubCore::Impl::confirmRequest(pqxx::dbtransaction& tx, const Uuid& requestId, Applied& out) {
  const EntitySpec& requests = *hub::entitySpec("appointment_request");
  const EntitySpec& slots = *hub::entitySpec("appointment_slot");
  const EntitySpec& appointments = *hub::entitySpec("appointment");
  const EntitySpec& entries = *hub::entitySpec("waitlist_entry");
  auto requestRow = readRow(tx, requests, requestId, true);
  if (!requestRow) return;
  auto request = fromRowJson<AppointmentRequest>(requestRow->row);
  if (!request) return;
  if (request->status != RequestStatus::Pending && request->status != RequestStatus::Accepted) return;

  AppointmentSlot slot;
  slot.slotId = request->appointmentSlotId;
  slot.sync.deleted = true;  // "the slot is gone" unless found below
  if (auto slotRow = readRow(tx, slots, request->appointmentSlotId, true)) {
    if (auto parsed = fromRowJson<AppointmentSlot>(slotRow->row)) {
      slot = *parsed;
      slot.sync = SyncMeta{slotRow->rowVersion, slotRow->deleted};
    }
  }
  std::vector<Appointment> overlapping;
  if (!slot.sync.deleted) {
    Params p;
    const int provider = p.add(slot.providerId.toString());
    const int from = p.add(formatInstant(slot.startTime));
    const int to = p.add(formatInstant(slot.endTime));
    const std::string sql = hub::selectRowsSql(appointments) + " WHERE NOT t.deleted AND t.provider_id = $" +
                            std::to_string(provider) + "::uuid AND t.status NOT IN ('cancelled', 'no_show')" +
                            " AND tsrange(t.start_time, t.end_time) && tsrange($" + std::to_string(from) +
                            "::timestamp, $" + std::to_string(to) + "::timestamp)";
    for (const auto& r : exec(tx, sql, p)) {
      auto parsed = Json::parse(r[3].c_str());
      if (!parsed || !parsed->isObject()) continue;
      if (auto a = fromRowJson<Appointment>(parsed->asObject())) overlapping.push_back(std::move(*a));
    }
  }
  std::optional<WaitlistEntry> entry;
  if (request->waitlistEntryId) {
    if (auto entryRow = readRow(tx, entries, *request->waitlistEntryId, true)) {
      if (auto parsed = fromRowJson<WaitlistEntry>(entryRow->row)) {
        entry = *parsed;
        entry->sync = SyncMeta{entryRow->rowVersion, entryRow->deleted};
      }
    }
  }
  NewAppointment fresh{uuids.v7(now()), AppointmentType::InPerson};
  if (auto patientRow = readRow(tx, *hub::entitySpec("patient"), request->patientId, false)) {
    if (auto patient = fromRowJson<Patient>(patientRow->row); patient && patient->preferences.mode == VisitMode::Telehealth)
      fresh.type = AppointmentType::Telehealth;
  }
  const RequestDecision decision = decideRequest(*request, slot, overlapping, entry, now(), fresh);

  auto reject = [&](const std::string& code, const std::string& message) {
    tx.exec_params("UPDATE appointment_request SET status = 'rejected' WHERE request_id = $1::uuid AND status <> 'rejected'",
                   requestId.toString());
    out.result.status = ResultStatus::Rejected;
    out.result.code = code;
    out.result.message = message;
  };
  if (const auto* no = std::get_if<RequestRejection>(&decision)) {
    reject(no->code, no->message);
    return;
  }
  const auto& yes = std::get<RequestConfirmation>(decision);
  try {
    Savepoint book(tx, "book");
    writeRow(tx, appointments, yes.toCreate.appointmentId, toRowJson(yes.toCreate), true);
    writeRow(tx, slots, slot.slotId, Json::Object{{"status", Json(toString(yes.slotBooked.status))}}, false);
    if (yes.entryScheduled)
      writeRow(tx, entries, yes.entryScheduled->entryId,
               Json::Object{{"status", Json(toString(yes.entryScheduled->status))}}, false);
    writeRow(tx, requests, requestId, Json::Object{{"status", Json(toString(yes.requestConfirmed.status))}}, false);
    book.release();
  } catch (const pqxx::integrity_constraint_violation&) {
    // Another transaction booked the time first: the exclusion constraint decided.
    reject("request.overlap", "the provider already has an appointment at that time");
  }
}

// [SECTION] Push: batches

Result<PushResponse> HubCore::Impl::push(const DeviceContext& device, const PushRequest& req) {
  if (!isAcceptedSchemaVersion(req.schemaVersion))
    return fail(ErrorDomain::Conflict, "sync.schema_version",
                "this kiosk's software is too old or too new for the hub (schema " + std::to_string(req.schemaVersion) +
                    "); update it");
  if (req.mutations.size() > options.limits.maxMutationsPerPush)
    return fail(ErrorDomain::Protocol, "protocol.too_large", "too many changes in one push");
  for (const auto& m : req.mutations) {
    if (!isAcceptedSchemaVersion(m.schemaVersion))
      return fail(ErrorDomain::Conflict, "sync.schema_version",
                  "a change was written by a kiosk version the hub no longer accepts; update the kiosk");
    observe(m.hlc);
  }
  PushResponse res;
  const std::span<const Mutation> all(req.mutations);
  for (std::size_t at = 0; at < all.size(); at += options.batchSize) {
    const auto batch = all.subspan(at, std::min(options.batchSize, all.size() - at));
    // A serialization failure or deadlock undoes the whole batch: retry it a few times.
    runsOff = false;
    for (int attempt = 0;; ++attempt) {
      if (auto c = ensureConnected(); !c) return std::unexpected(c.error());
      try {
        auto results = pushBatch(device, batch);
        runsOff = false;
        res.results.insert(res.results.end(), results.begin(), results.end());
        break;
      } catch (const RunRefused&) {
        runsOff = true;  // nothing of the batch was kept: again, one mutation at a time
        continue;
      } catch (const Refusal& whole) {
        return fail(ErrorDomain::Conflict, whole.code, whole.message);
      } catch (const pqxx::transaction_rollback&) {
        if (attempt >= 5)
          return fail(ErrorDomain::Network, "hub.busy", "the central database is busy; try again shortly", true);
      } catch (const pqxx::broken_connection&) {
        conn.reset();
        return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; try again", true);
      } catch (const pqxx::in_doubt_error&) {
        conn.reset();
        return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; try again", true);
      } catch (const pqxx::failure&) {
        return fail(ErrorDomain::Internal, "hub.internal", "the hub could not apply the changes; nothing of this batch was kept");
      }
    }
  }
  res.hlc = tick();
  return res;
}

// One mutation in a savepoint of its own: a refusal undoes its statements only (its neighbours
// in the batch stand) and becomes a rejected result with the authoritative row.
HubCore::Impl::Applied HubCore::Impl::applyGuarded(pqxx::dbtransaction& tx, const DeviceContext& device, const Mutation& m) {
  Applied applied;
  {
    Savepoint sp(tx, "mutation");
    // A refusal undoes this mutation's statements only; its neighbours in the batch stand.
    auto refused = [&](std::string code, std::string message) {
      sp.rollback();
      applied = {};
      applied.result.mutationId = m.mutationId;
      applied.result.deviceSeq = m.deviceSeq;
      applied.result.status = ResultStatus::Rejected;
      applied.result.code = std::move(code);
      applied.result.message = std::move(message);
    };
    try {
      applied = applyOne(tx, device, m);
      sp.release();
    } catch (const Refusal& r) {
      refused(r.code, r.message);
    } catch (const pqxx::integrity_constraint_violation& e) {
      refused("sync.constraint", constraintWords(e));
    } catch (const pqxx::data_exception&) {
      refused("sync.bad_value", "a value in this change is not valid centrally");
    } catch (const pqxx::insufficient_privilege&) {
      refused("sync.not_permitted", "this kiosk's practice may not change that record");
    } catch (const pqxx::syntax_error&) {
      throw;  // the hub's own defect: the whole push fails and is retried after a fix
    } catch (const pqxx::insufficient_resources&) {
      throw;  // the server is short of disk or memory: retry later
    } catch (const pqxx::sql_error&) {
      // No detail: a database message can quote values.
      refused("sync.refused", "the central records refused this change");
    }
  }
  if (applied.result.status == ResultStatus::Rejected) {
    // The authoritative row lets the device show staff what stands centrally.
    if (const EntitySpec* spec = hub::entitySpec(m.entity)) {
      if (auto row = readRow(tx, *spec, m.id, false)) applied.result.row = toChange(*spec, *row);
    }
  }
  return applied;
}

std::vector<MutationResult> HubCore::Impl::pushBatch(const DeviceContext& device, std::span<const Mutation> batch) {
  pqxx::work tx(*conn);
  scope(tx, device);
  const std::string deviceId = device.deviceId.toString();
  Params byDevice;
  byDevice.add(deviceId);
  auto hw = exec(tx, "SELECT last_device_seq FROM device WHERE device_id = $1::uuid FOR UPDATE", byDevice);
  if (hw.empty()) throw Refusal{"hub.unknown_device", "this device is not enrolled with the practice"};
  std::int64_t highWater = hw[0][0].as<std::int64_t>();

  // What this batch needs to know up front, in three statements rather than three a mutation.
  std::map<Uuid, std::string> stored;  // mutation id -> result recorded earlier
  BatchIds known = loadBatchIds(tx, deviceId, batch, stored);
  batchIds = &known;
  struct Unset {
    BatchIds*& ptr;
    ~Unset() { ptr = nullptr; }
  } unset{batchIds};

  std::vector<MutationResult> results;
  Json::Array records;  // the idempotency rows, written in one statement at the end
  // Runs of plain new records go in one multi-row INSERT (see insertRun).
  std::vector<Applied> fromRun;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Mutation& m = batch[i];
    if (!runsOff) {
      const std::vector<Json::Object> run = runOf(batch, i, stored, highWater);
      if (run.size() >= 2) {
        fromRun.clear();
        insertRun(tx, batch.subspan(i, run.size()), run, fromRun);
        for (std::size_t k = 0; k < fromRun.size(); ++k) {
          const Mutation& rm = batch[i + k];
          records.push_back(idempotencyEntry(rm, fromRun[k].result));
          highWater = rm.deviceSeq;
          results.push_back(std::move(fromRun[k].result));
        }
        i += run.size() - 1;
        continue;
      }
    }
    if (auto it = stored.find(m.mutationId); it != stored.end()) {
      results.push_back(storedResult(tx, m, it->second));
      continue;
    }
    if (m.deviceSeq <= highWater) {
      auto used = tx.exec_params("SELECT 1 FROM idempotency_record WHERE device_id = $1::uuid AND device_seq = $2",
                                 deviceId, m.deviceSeq);
      if (!used.empty())
        throw Refusal{"sync.device_restored",
                      "this kiosk's store is older than what the hub has already received from it (restored from a "
                      "backup?); it must be set up again"};
      // Its record is past the idempotency horizon: applied long ago.
      MutationResult r;
      r.mutationId = m.mutationId;
      r.deviceSeq = m.deviceSeq;
      r.code = "sync.already_applied";
      results.push_back(r);
      continue;
    }
    Applied applied = applyGuarded(tx, device, m);
    if (applied.heldBy) {
      tx.exec_params(
          "INSERT INTO walkin_review_held (review_id, device_id, mutation_id, device_seq, payload)"
          " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, pii_encrypt($5, $6))",
          applied.heldBy->toString(), deviceId, m.mutationId.toString(), m.deviceSeq,
          encode(PushRequest{kSchemaVersion, {m}}), options.piiKey);
    }
    records.push_back(idempotencyEntry(m, applied.result));
    highWater = m.deviceSeq;
    results.push_back(std::move(applied.result));
  }
  // The idempotency records and the device's high-water mark in one statement.
  Params p;
  p.add(deviceId);
  p.add(device.practiceId.toString());
  p.add(Json(std::move(records)).dump());
  p.add(std::to_string(highWater));
  exec(tx,
       "WITH recorded AS (INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result)"
       " SELECT $1::uuid, (e->>'m')::uuid, $2::uuid, (e->>'s')::bigint, e->'r' FROM jsonb_array_elements($3::jsonb) e)"
       " UPDATE device SET last_device_seq = $4::bigint, last_seen_at = now() AT TIME ZONE 'UTC' WHERE device_id = $1::uuid",
       p);
  tx.commit();
  return results;
}

// [SECTION] Push: results kept for repeats

Json HubCore::Impl::resultRecord(const MutationResult& r) {
  Json::Object o;
  o["status"] = Json(toString(r.status));
  if (r.status == ResultStatus::Applied || r.status == ResultStatus::Merged || r.status == ResultStatus::Remapped)
    o["row_version"] = Json(r.rowVersion);
  if (!r.code.empty() || r.status == ResultStatus::Rejected || r.status == ResultStatus::Held) {
    o["code"] = Json(r.code);
    o["message"] = Json(r.message);
  }
  if (r.centralId) o["central_id"] = Json(r.centralId->toString());
  return Json(std::move(o));
}

// One element of the JSON array the idempotency records are written from, in one statement.
Json HubCore::Impl::idempotencyEntry(const Mutation& m, const MutationResult& r) {
  Json::Object o;
  o["m"] = Json(m.mutationId.toString());
  o["s"] = Json(m.deviceSeq);
  o["r"] = resultRecord(r);
  return Json(std::move(o));
}

MutationResult HubCore::Impl::storedResult(pqxx::dbtransaction& tx, const Mutation& m, std::string_view record) {
  MutationResult r;
  r.mutationId = m.mutationId;
  r.deviceSeq = m.deviceSeq;
  auto parsed = Json::parse(record);
  if (parsed && parsed->isObject()) {
    const Json& o = *parsed;
    if (const Json* s = o.find("status"); s && s->isString()) r.status = parseResultStatus(s->asString()).value_or(ResultStatus::Applied);
    if (const Json* v = o.find("row_version"); v && v->isInt()) r.rowVersion = v->asInt();
    if (const Json* c = o.find("code"); c && c->isString()) r.code = c->asString();
    if (const Json* c = o.find("message"); c && c->isString()) r.message = c->asString();
    if (const Json* c = o.find("central_id"); c && c->isString()) r.centralId = Uuid::parse(c->asString());
  }
  if (const EntitySpec* spec = hub::entitySpec(m.entity)) {
    const Uuid id = r.centralId.value_or(aliasOf(tx, m.entity, m.id).value_or(m.id));
    if (r.status != ResultStatus::Held) {
      if (auto row = readRow(tx, *spec, id, false)) r.row = toChange(*spec, *row);
    }
  }
  return r;
}

// Constraint names are the schema's own words for a rule; say them to a person.
std::string HubCore::Impl::constraintWords(const pqxx::sql_error& e) {
  const std::string what = e.what();
  struct Rule {
    const char* constraint;
    const char* words;
  };
  static constexpr Rule rules[] = {
      {"waitlist_entry_one_active", "this patient is already waiting on that list"},
      {"appointment_no_overlap", "the provider already has an appointment at that time"},
      {"appointment_slot_no_overlap", "the provider already has a slot at that time"},
      {"patient_email_hash_key", "another patient record already uses this email"},
      {"_pkey", "a record with this id already exists centrally"},
      {"_fkey", "it refers to a record the practice does not have"},
      {"tombstone_final", "a deleted record cannot be restored"},
  };
  for (const auto& rule : rules)
    if (what.find(rule.constraint) != std::string::npos) return rule.words;
  if (what.find("not known to this practice") != std::string::npos) return "this patient is not known to this practice";
  return "the change breaks a rule of the central records";
}

// [SECTION] Daily rescoring

// Days waited move every score (DESIGN 6) though nothing about the entry changed: each
// practice's active entries are scored again at the hub's now, one transaction per practice,
// and only a score that moved is written (and so sent to the practice's devices).
Result<RescoreReport> HubCore::Impl::rescoreWaitlists() {
  if (auto c = ensureConnected(); !c) return std::unexpected(c.error());
  try {
    std::vector<std::string> practices;
    {
      pqxx::read_transaction tx(*conn);
      for (const auto& r : tx.exec("SELECT practice_id::text FROM practice WHERE NOT deleted ORDER BY practice_id"))
        practices.emplace_back(r[0].c_str());
    }
    RescoreReport report;
    for (const auto& practice : practices) {
      pqxx::work tx(*conn);
      tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'admin:waitlist-rescore', true)",
                     practice);
      const auto entries = tx.exec_params(
          "SELECT e.entry_id::text FROM waitlist_entry e JOIN waitlist w ON w.waitlist_id = e.waitlist_id"
          " WHERE w.practice_id = $1::uuid AND e.status IN ('waiting', 'offered') AND NOT e.deleted ORDER BY e.entry_id",
          practice);
      for (const auto& r : entries) {
        ++report.entries;
        if (rescore(tx, *Uuid::parse(r[0].c_str()))) ++report.changed;
      }
      tx.commit();
      ++report.practices;
    }
    return report;
  } catch (const pqxx::broken_connection&) {
    conn.reset();
    return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; run it again", true);
  } catch (const pqxx::transaction_rollback&) {
    return fail(ErrorDomain::Network, "hub.busy", "the central database is busy; run it again", true);
  } catch (const pqxx::failure&) {
    // No detail: a database message can quote values.
    return fail(ErrorDomain::Internal, "rescore.failed", "the scores could not be recomputed; practices done so far keep theirs");
  }
}

// [SECTION] Walk-in reviews resolved by staff

namespace {

// A held mutation as the hub stored it: a push request of that one mutation.
std::optional<Mutation> heldMutation(std::string_view payload) {
  auto request = decodePushRequest(payload);
  if (!request || request->mutations.size() != 1) return std::nullopt;
  return std::move(request->mutations.front());
}

std::string stringAt(const Json::Object& row, const char* col) {
  auto it = row.find(col);
  return it != row.end() && it->second.isString() ? it->second.asString() : std::string();
}

}  // namespace

// The review's own mutation, the walk-in's registration, as staff decided: the existing
// patient (remapped, as an automatic link answers) or a new patient without the email, which
// stays the other patient's (the model's "no email" address, as a walk-in who gives none).
HubCore::Impl::Applied HubCore::Impl::releaseWalkin(pqxx::dbtransaction& tx, const DeviceContext& device, Mutation m,
                                                    ReviewOutcome as, const Uuid& patientId) {
  const EntitySpec& patients = *hub::entitySpec("patient");
  if (as == ReviewOutcome::Existing) {
    Applied out;
    out.result.mutationId = m.mutationId;
    out.result.deviceSeq = m.deviceSeq;
    out.result.status = ResultStatus::Remapped;
    out.result.centralId = patientId;
    if (auto row = readRow(tx, patients, patientId, false)) {
      out.result.row = toChange(patients, *row);
      out.result.rowVersion = row->rowVersion;
    }
    return out;
  }
  m.changes["email"] = Json(noEmailAddressFor(m.id));
  Applied out = applyGuarded(tx, device, m);
  if (out.result.status == ResultStatus::Applied) {
    // A merge with a code is in front of staff on the kiosk, as the CLI tells the manager.
    out.result.status = ResultStatus::Merged;
    out.result.code = "sync.walkin_new_patient";
    out.result.message =
        "registered as a new patient without an email: the address typed belongs to another patient's record; "
        "ask the patient for their own";
  }
  return out;
}

Result<ReviewRelease> HubCore::Impl::resolveReview(const ReviewDecision& d) {
  if (auto c = ensureConnected(); !c) return std::unexpected(c.error());
  const std::string reviewId = d.reviewId.toString();
  try {
    pqxx::work tx(*conn);
    auto review = tx.exec_params(
        "SELECT practice_id::text, device_id::text, local_patient_id::text, mutation_id::text, status,"
        " pii_decrypt(payload, $2) FROM walkin_review WHERE review_id = $1::uuid FOR UPDATE",
        reviewId, options.piiKey);
    if (review.empty())
      return fail(ErrorDomain::NotFound, "review.unknown", "there is no walk-in review " + reviewId);
    if (const std::string status = review[0][4].c_str(); status != "open")
      return fail(ErrorDomain::Conflict, "review.resolved",
                  "the walk-in review " + reviewId + " was already resolved (" + status + "); nothing was changed");
    const DeviceContext device{*Uuid::parse(review[0][1].c_str()), *Uuid::parse(review[0][0].c_str())};
    const Uuid localPatient = *Uuid::parse(review[0][2].c_str());
    const Uuid walkinMutation = *Uuid::parse(review[0][3].c_str());
    auto walkin = Json::parse(review[0][5].c_str());
    if (!walkin || !walkin->isObject())
      return fail(ErrorDomain::Internal, "review.unreadable", "the walk-in of review " + reviewId + " cannot be read");
    tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', $2, true)",
                   device.practiceId.toString(), d.actor);

    ReviewRelease out;
    out.practiceId = device.practiceId;
    out.patientId = localPatient;
    if (d.as == ReviewOutcome::Existing) {
      auto existing = tx.exec_params(
          "SELECT patient_id::text FROM patient WHERE email_hash = pii_lookup_hash($1, $2) AND NOT deleted",
          stringAt(walkin->asObject(), "email"), options.hashKey);
      if (existing.empty())
        return fail(ErrorDomain::Conflict, "review.no_existing",
                    "no live patient has this walk-in's email any more (deleted, or the email changed); nothing was "
                    "changed: resolve it as new");
      out.patientId = *Uuid::parse(existing[0][0].c_str());
      // The link a matching walk-in gets from sync_match_walkin, and the alias that remaps the
      // device's id: later mutations naming it, and repeats, land on the existing patient.
      tx.exec_params("SELECT link_patient_to_practice($1::uuid, $2::uuid)", device.practiceId.toString(),
                     out.patientId.toString());
      tx.exec_params(
          "INSERT INTO id_alias (practice_id, entity, local_id, central_id, device_id, created_at)"
          " VALUES ($1::uuid, 'patient', $2::uuid, $3::uuid, $4::uuid, now() AT TIME ZONE 'UTC')",
          device.practiceId.toString(), localPatient.toString(), out.patientId.toString(), device.deviceId.toString());
    } else {
      out.emailDropped = true;
    }

    // The held mutations in device_seq order, each as a push applies it; their stored results
    // become the outcome, so the device learns it when it asks again (and a repeat stays one).
    Json::Array records;
    for (const auto& h : tx.exec_params(
             "SELECT pii_decrypt(payload, $2) FROM walkin_review_held WHERE review_id = $1::uuid ORDER BY device_seq",
             reviewId, options.piiKey)) {
      auto m = heldMutation(h[0].c_str());
      if (!m) return fail(ErrorDomain::Internal, "review.unreadable", "a held change of review " + reviewId + " cannot be read");
      const Applied a = m->mutationId == walkinMutation ? releaseWalkin(tx, device, *m, d.as, out.patientId)
                                                        : applyGuarded(tx, device, *m);
      records.push_back(idempotencyEntry(*m, a.result));
      ++out.released;
      if (a.result.status == ResultStatus::Rejected) ++out.refused;
    }
    // A record past the idempotency horizon is written again; a fresh created_at keeps the
    // outcome for the device as long as any other result.
    tx.exec_params(
        "INSERT INTO idempotency_record (device_id, mutation_id, practice_id, device_seq, result)"
        " SELECT $1::uuid, (e->>'m')::uuid, $2::uuid, (e->>'s')::bigint, e->'r' FROM jsonb_array_elements($3::jsonb) e"
        " ON CONFLICT (device_id, mutation_id) DO UPDATE SET result = EXCLUDED.result, created_at = now() AT TIME ZONE 'UTC'",
        device.deviceId.toString(), device.practiceId.toString(), Json(std::move(records)).dump());
    tx.exec_params(
        "UPDATE walkin_review SET status = $2, existing_patient_id = $3::uuid, resolved_at = now() AT TIME ZONE 'UTC',"
        " resolved_by = $4 WHERE review_id = $1::uuid",
        reviewId, d.as == ReviewOutcome::Existing ? "linked" : "created",
        d.as == ReviewOutcome::Existing ? std::optional<std::string>(out.patientId.toString()) : std::nullopt, d.actor);
    tx.commit();
    return out;
  } catch (const pqxx::broken_connection&) {
    conn.reset();
    return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; nothing was changed", true);
  } catch (const pqxx::in_doubt_error&) {
    conn.reset();
    return fail(ErrorDomain::Network, "review.in_doubt",
                "the connection broke while the resolution committed; run 'review list' to see whether it is still open", true);
  } catch (const pqxx::transaction_rollback&) {
    return fail(ErrorDomain::Network, "hub.busy", "the central database is busy; nothing was changed, try again", true);
  } catch (const Refusal& r) {
    return fail(ErrorDomain::Conflict, r.code, r.message);
  } catch (const pqxx::failure&) {
    // No detail: a database message can quote values.
    return fail(ErrorDomain::Internal, "review.failed", "the review could not be resolved; nothing was changed");
  }
}

// [SECTION] Pull

namespace {

// The device's data window (the model's dataWindowAt, which the store's purge uses too), with
// its last day for the cursor.
struct Window : DataWindow {
  Date throughDay{};
};

Window windowAt(Instant now, int daysAhead) {
  Window w{dataWindowAt(now, daysAhead), {}};
  w.throughDay = toDate(w.to);
  return w;
}

std::optional<Uuid> uuidAt(const Json::Object& row, const char* col) {
  auto it = row.find(col);
  if (it == row.end() || !it->second.isString()) return std::nullopt;
  return Uuid::parse(it->second.asString());
}

// The SQL condition (on alias t) for rows of an entity a device keeps; "" for all.
std::string windowCondition(std::string_view entity) {
  if (entity == "appointment" || entity == "appointment_slot") return "t.start_time >= $W1::timestamp AND t.start_time < $W2::timestamp";
  if (entity == "appointment_request")
    return "EXISTS (SELECT 1 FROM appointment_slot s WHERE s.slot_id = t.appointment_slot_id AND s.start_time >= $W1::timestamp AND s.start_time < $W2::timestamp)";
  if (entity == "waitlist_entry") return "t.status IN ('waiting', 'offered')";
  if (entity == "notification") return "t.created_at >= $W3::timestamp";
  if (entity == "patient")
    return "(EXISTS (SELECT 1 FROM appointment a WHERE a.patient_id = t.patient_id AND a.start_time >= $W1::timestamp AND a.start_time < $W2::timestamp)"
           " OR EXISTS (SELECT 1 FROM waitlist_entry e WHERE e.patient_id = t.patient_id AND e.status IN ('waiting', 'offered'))"
           " OR EXISTS (SELECT 1 FROM appointment_request r JOIN appointment_slot s ON s.slot_id = r.appointment_slot_id"
           " WHERE r.patient_id = t.patient_id AND s.start_time >= $W1::timestamp AND s.start_time < $W2::timestamp))";
  return "";
}

// A pull page's transaction: one snapshot (REPEATABLE READ, READ ONLY), begun in the same round
// trip as the statements that scope it (`first`, a simple query). pqxx's own transaction sends
// its BEGIN alone, a round trip of a 500-change page's six; a page is now four (this, the
// settings with the change log, the rows, COMMIT).
class PullTransaction final : public pqxx::dbtransaction {
 public:
  PullTransaction(pqxx::connection_base& c, std::string first)
      : namedclass{"pull"}, dbtransaction(c, "REPEATABLE READ", pqxx::read_only), m_first(std::move(first)) {
    Begin();
  }
  ~PullTransaction() noexcept override { End(); }

 private:
  // Two retries, as pqxx's own BEGIN (the hub's connection has nothing that forbids reconnecting).
  void do_begin() override { direct_exec(("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " + m_first).c_str(), 2); }
  void do_commit() override { direct_exec("COMMIT"); }

  std::string m_first;
};

// Replaces $W1..$W3 with real parameter numbers appended to p.
std::string bindWindow(std::string sql, const Window& w, Params& p) {
  const std::pair<const char*, Instant> marks[] = {{"$W1", w.from}, {"$W2", w.to}, {"$W3", w.notificationsFrom}};
  for (const auto& [mark, at] : marks) {
    if (sql.find(mark) == std::string::npos) continue;
    const std::string n = "$" + std::to_string(p.add(formatInstant(at)));
    for (auto pos = sql.find(mark); pos != std::string::npos; pos = sql.find(mark, pos)) sql.replace(pos, 3, n);
  }
  return sql;
}

}  // namespace

Result<PullResponse> HubCore::Impl::pull(const DeviceContext& device, const PullRequest& req) {
  if (!isAcceptedSchemaVersion(req.schemaVersion))
    return fail(ErrorDomain::Conflict, "sync.schema_version",
                "this kiosk's software is too old or too new for the hub; update it");
  auto cursor = decodeCursor(req.after);
  if (!cursor) return std::unexpected(cursor.error());
  const std::size_t limit =
      static_cast<std::size_t>(std::clamp(req.limit, 1, static_cast<int>(options.limits.maxChangesPerPage)));
  if (auto c = ensureConnected(); !c) return std::unexpected(c.error());
  try {
    const bool starting = req.after.empty();
    // The scope of the device (as scope() sets it) and this read-only transaction's planner
    // settings, then the practice's window setting, the tombstone horizon and (for a first
    // page) the last change, all sent with BEGIN. set_config(..., true): this transaction only,
    // so also right behind a transaction-pooling PgBouncer. The ids are UUIDs, quoted anyway.
    // - jit off: a snapshot page of a large table costs above jit_above_cost, and compiling
    //   its expressions took ~45 ms a page, several times the query itself.
    // - enable_sort off: every page walks a primary key (snapshot by id, change log by seq).
    //   Without statistics (a table just filled, before autovacuum's ANALYZE) the planner
    //   guesses few rows pass the window and RLS and sorts the whole rest of the table for
    //   each page instead: 50,000 rows read for each 2,000 sent. A query with no index order
    //   still gets its sort (disabled is only a high cost).
    // - DateStyle ISO: rows come as columns, and the hub formats the ISO text of their times.
    PullTransaction tx(
        *conn,
        "SELECT set_config('app.practice_id', " + conn->quote(device.practiceId.toString()) +
            ", true), set_config('app.actor', " + conn->quote("device:" + device.deviceId.toString()) +
            ", true), set_config('jit', 'off', true), set_config('enable_sort', 'off', true),"
            " set_config('datestyle', 'ISO', true), set_config('plan_cache_mode', 'force_generic_plan', true)");
    // The practice's window setting and the tombstone horizon (once: OFFSET 0 keeps them out of
    // the join), with a first page's last change or a later page's change log after the cursor,
    // in commit order (columns 2-6; one row of nulls when there is none). One prepared
    // statement: planned once, where the simple query with BEGIN was planned every page.
    const std::string settingsSql =
        "SELECT coalesce((SELECT (settings->>'data_window_days_ahead')::int FROM practice"
        " WHERE practice_id = current_practice_id()), 3), sync_pull_horizon()";
    const bool logPage = !starting && !cursor->snapshot;
    Params sp;
    if (logPage) {
      sp.add(std::to_string(cursor->seq));
      sp.add(std::to_string(limit));
    }
    const pqxx::result settings = exec(
        tx, starting  ? settingsSql + ", (SELECT coalesce(max(seq), 0) FROM change_log WHERE practice_id = current_practice_id())"
            : logPage ? "SELECT s.*, l.* FROM (" + settingsSql + " OFFSET 0) s LEFT JOIN LATERAL"
                        " (SELECT seq, entity, entity_id::text, op, row_version FROM change_log"
                        " WHERE practice_id = current_practice_id() AND seq > $1::bigint ORDER BY seq LIMIT $2::bigint) l ON true"
                      : settingsSql,
        sp);
    const int daysAhead = std::clamp(settings[0][0].as<int>(), 0, 60);
    const Window window = windowAt(now(), daysAhead);

    PullResponse page;
    Cursor next = *cursor;
    if (starting) {
      next.seq = settings[0][2].as<std::int64_t>();
      next.snapshot = SnapshotPosition{};
      next.windowThrough = window.throughDay;
    } else if (!cursor->snapshot) {
      const auto horizon = settings[0][1].as<std::int64_t>();
      if (cursor->seq < horizon)
        return fail(ErrorDomain::Conflict, "sync.resync",
                    "this kiosk was offline longer than the hub keeps changes; it must sync again from the start");
    }

    // The page's changes keyed (entity order, id): parents first, one change per row, the last
    // put of a row winning. A vector sorted when read (settle), not a tree node a change.
    using Keyed = std::pair<std::pair<int, Uuid>, Change>;
    std::vector<Keyed> out;
    const auto& entities = hub::allEntities();
    auto indexOf = [&](std::string_view table) {
      for (std::size_t i = 0; i < entities.size(); ++i)
        if (entities[i]->table == table) return static_cast<int>(i);
      return -1;
    };
    auto put = [&](const EntitySpec& spec, Change c) {
      out.emplace_back(std::pair{indexOf(spec.table), c.id}, std::move(c));
    };
    // Sorts by key, keeping each key's last put: the keys and positions are sorted, then the
    // changes moved once into that order (sorting the changes themselves moved each several
    // times through a 60 KB buffer, whose free also made malloc consolidate its free lists).
    auto settle = [&] {
      struct Order {
        std::pair<int, Uuid> key;
        std::size_t at;
        bool operator<(const Order& o) const { return key != o.key ? key < o.key : at < o.at; }
      };
      std::vector<Order> order;
      order.reserve(out.size());
      for (std::size_t i = 0; i < out.size(); ++i) order.push_back({out[i].first, i});
      std::sort(order.begin(), order.end());
      std::vector<Keyed> sorted;
      sorted.reserve(order.size());
      for (std::size_t i = 0; i < order.size(); ++i)
        if (i + 1 == order.size() || order[i + 1].key != order[i].key) sorted.push_back(std::move(out[order[i].at]));
      out = std::move(sorted);
    };
    auto leave = [&](const EntitySpec& spec, const Uuid& id, ChangeOp op, std::int64_t version) {
      Change c;
      c.entity = spec.table;
      c.id = id;
      c.op = op;
      c.rowVersion = version;
      put(spec, std::move(c));
    };
    // Rows of `spec` among `ids`, read from this snapshot in one statement, each with whether
    // the device keeps it (its window). A row the model cannot decode is left out (reported);
    // the device keeps what it has of it rather than being told it left.
    std::set<Uuid> undecodable;
    // The rows of `spec` the page's change log names from (after, through], read with the log
    // as a subquery of the same snapshot rather than sent back as an array of ids (PostgreSQL's
    // parse of a 500-id text array was a sixth of its time for a page), and kept when their
    // last change is in `ids` (sorted; a row whose last change is a purge or leave is not).
    auto readKept = [&](const EntitySpec& spec, const std::vector<Uuid>& ids, std::int64_t after, std::int64_t through) {
      std::vector<std::pair<CentralRow, bool>> rows;
      if (ids.empty()) return rows;
      const std::string cond = windowCondition(spec.table);
      Params p;
      if (spec.hasPii) p.add(options.piiKey);
      const int from = p.add(std::to_string(after));
      const int to = p.add(std::to_string(through));
      // spec.table is the model's table name, not input.
      const std::string sql = bindWindow(
          hub::selectColumnsSql(spec, cond.empty() ? "true" : cond) + " WHERE t." + spec.idColumn +
              " = ANY(ARRAY(SELECT l.entity_id FROM change_log l WHERE l.practice_id = current_practice_id() AND l.seq > $" +
              std::to_string(from) + "::bigint AND l.seq <= $" + std::to_string(to) + "::bigint AND l.entity = '" + spec.table + "'))",
          window, p);
      for (const auto& r : exec(tx, sql, p)) {
        const Uuid id = *Uuid::parse(r[0].c_str());
        if (!std::ranges::binary_search(ids, id)) continue;
        if (auto row = decode(r, spec, Form::Decodable)) rows.emplace_back(std::move(*row), r[3].as<bool>());
        else undecodable.insert(id);
      }
      return rows;
    };
    // The patients (and a request's slot) a kept row references, so the device has them.
    std::map<std::string, std::set<Uuid>> referenced;
    auto noteReferences = [&](const EntitySpec& spec, const Json::Object& row) {
      if (spec.table == "appointment" || spec.table == "waitlist_entry" || spec.table == "appointment_request") {
        if (auto p = uuidAt(row, "patient_id")) referenced["patient"].insert(*p);
      }
      if (spec.table == "appointment_request") {
        if (auto s = uuidAt(row, "appointment_slot_id")) referenced["appointment_slot"].insert(*s);
      }
    };

    std::size_t budget = limit;
    if (next.snapshot) {
      // First sync: the practice's rows, table by table, in id order.
      while (budget > 0 && next.snapshot->entity < static_cast<int>(entities.size())) {
        const EntitySpec& spec = *entities[static_cast<std::size_t>(next.snapshot->entity)];
        Params p;
        if (spec.hasPii) p.add(options.piiKey);
        // Keyset paging on the primary key; the row JSON is built for the page's rows only.
        std::string source = "SELECT * FROM " + spec.table + " t WHERE NOT t.deleted";
        if (const std::string cond = windowCondition(spec.table); !cond.empty()) source += " AND " + cond;
        if (next.snapshot->after) source += " AND t." + spec.idColumn + " > $" + std::to_string(p.add(next.snapshot->after->toString())) + "::uuid";
        source += " ORDER BY t." + spec.idColumn + " LIMIT $" + std::to_string(p.add(std::to_string(budget))) + "::bigint";
        const std::string sql = bindWindow(hub::selectColumnsFromSql(spec, source) + " ORDER BY t." + spec.idColumn, window, p);
        const auto rows = exec(tx, sql, p);
        for (const auto& r : rows) {
          next.snapshot->after = *Uuid::parse(r[0].c_str());  // past a row left out, too
          if (auto row = decode(r, spec, Form::Decodable)) put(spec, toChange(spec, std::move(*row)));
        }
        const std::size_t asked = budget;
        budget -= rows.size();
        if (rows.size() < asked) {  // this table is done
          ++next.snapshot->entity;
          next.snapshot->after.reset();
        }
      }
      if (next.snapshot->entity >= static_cast<int>(entities.size())) next.snapshot.reset();
      page.more = next.snapshot.has_value();
    } else {
      // The change log after the cursor, read with the settings above; the last change of each
      // row counts.
      const pqxx::result& log = settings;
      const std::size_t logRows = log[0][2].is_null() ? 0 : log.size();
      // The last change of each row: the log's entries sorted by (entity, id, place in the log),
      // so the latest of a row ends its run (a vector and one sort, not a tree node a change).
      struct Logged {
        std::string_view entity;  // into `log`, which outlives this
        Uuid id;
        std::string_view op;
        std::int64_t version = 0;
        std::size_t at = 0;  // its place in the log: the latest of a row sorts last
      };
      std::vector<Logged> logged;
      logged.reserve(log.size());
      for (std::size_t k = 0; k < logRows; ++k) {
        const auto r = log[static_cast<pqxx::result::size_type>(k)];
        auto f = r.begin() + 2;  // one field walked along the row (r[k] copies the result each time)
        next.seq = f->as<std::int64_t>();
        Logged e;
        ++f;
        e.entity = std::string_view(f->c_str(), f->size());
        ++f;
        e.id = *Uuid::parse(std::string_view(f->c_str(), f->size()));
        ++f;
        e.op = std::string_view(f->c_str(), f->size());
        ++f;
        e.version = f->as<std::int64_t>();
        e.at = k;
        logged.push_back(e);
      }
      page.more = logRows == limit;
      std::ranges::sort(logged, [](const Logged& a, const Logged& b) {
        if (const auto c = a.entity <=> b.entity; c != 0) return c < 0;
        if (a.id != b.id) return a.id < b.id;
        return a.at < b.at;
      });
      for (auto group = logged.begin(); group != logged.end();) {
        const auto groupEnd = std::find_if(group, logged.end(), [&](const Logged& e) { return e.entity != group->entity; });
        const EntitySpec* spec = hub::entitySpec(group->entity);
        if (!spec) {
          group = groupEnd;
          continue;
        }
        std::vector<Uuid> live;  // in id order
        for (auto it = group; it != groupEnd; ++it) {
          if (it + 1 != groupEnd && (it + 1)->id == it->id) continue;  // a later change of this row follows
          if (it->op == "purge") leave(*spec, it->id, ChangeOp::Purge, it->version);
          else if (it->op == "leave") leave(*spec, it->id, ChangeOp::Leave, it->version);
          else live.push_back(it->id);
        }
        group = groupEnd;
        std::vector<Uuid> found;  // sorted below: one allocation, not a tree node a row
        found.reserve(live.size());
        for (auto& [row, kept] : readKept(*spec, live, cursor->seq, next.seq)) {
          found.push_back(row.id);
          // A tombstone is sent as one wherever it is; a live row outside the window leaves.
          if (!row.deleted && !kept) {
            leave(*spec, row.id, ChangeOp::Leave, row.rowVersion);
            continue;
          }
          noteReferences(*spec, row.row);
          put(*spec, toChange(*spec, std::move(row)));
        }
        std::ranges::sort(found);
        for (const auto& id : live)
          if (!std::ranges::binary_search(found, id) && !undecodable.contains(id))
            leave(*spec, id, ChangeOp::Leave, 0);  // no longer visible here
      }
    }

    // Window catch-up: rows whose day entered the window since the cursor's day.
    if (!starting && cursor->windowThrough && *cursor->windowThrough < window.throughDay && !cursor->snapshot) {
      const Instant from = std::chrono::sys_days{*cursor->windowThrough};
      for (const char* table : {"appointment_slot", "appointment_request", "appointment"}) {
        const EntitySpec& spec = *hub::entitySpec(table);
        Params p;
        const int a = p.add(formatInstant(from));
        const int b = p.add(formatInstant(window.to));
        std::string cond = std::string(table) == "appointment_request"
                               ? "EXISTS (SELECT 1 FROM appointment_slot s WHERE s.slot_id = t.appointment_slot_id AND s.start_time >= $" +
                                     std::to_string(a) + "::timestamp AND s.start_time < $" + std::to_string(b) + "::timestamp)"
                               : "t.start_time >= $" + std::to_string(a) + "::timestamp AND t.start_time < $" +
                                     std::to_string(b) + "::timestamp";
        // selectColumnsSql numbers no parameters of its own for these entities.
        for (const auto& r : exec(tx, hub::selectColumnsSql(spec) + " WHERE NOT t.deleted AND " + cond, p)) {
          auto row = decode(r, spec, Form::Decodable);
          if (!row) continue;
          noteReferences(spec, row->row);
          put(spec, toChange(spec, std::move(*row)));
        }
      }
    }
    if (!next.snapshot && !page.more) next.windowThrough = window.throughDay;
    else if (!next.windowThrough) next.windowThrough = window.throughDay;

    // Referenced rows the page does not carry itself.
    settle();
    const std::size_t carriedCount = out.size();  // sorted; the puts below go after them
    for (const auto& [table, ids] : referenced) {
      const EntitySpec& spec = *hub::entitySpec(table);
      const int entity = indexOf(table);
      std::vector<Uuid> missing;
      for (const auto& id : ids) {
        const auto sorted = std::ranges::subrange(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(carriedCount));
        if (!std::ranges::binary_search(sorted, std::pair{entity, id}, {}, &Keyed::first)) missing.push_back(id);
      }
      for (auto& row : readRows(tx, spec, missing, false, Form::Decodable)) put(spec, toChange(spec, std::move(row)));
    }

    settle();
    page.changes.reserve(out.size());
    for (auto& [key, change] : out) page.changes.push_back(std::move(change));
    tx.commit();
    page.cursor = encodeCursor(next);
    page.hlc = tick();
    return page;
  } catch (const pqxx::broken_connection&) {
    conn.reset();
    return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; try again", true);
  } catch (const pqxx::transaction_rollback&) {
    return fail(ErrorDomain::Network, "hub.busy", "the central database is busy; try again shortly", true);
  } catch (const pqxx::failure&) {
    // No detail: a database message can quote values.
    return fail(ErrorDomain::Internal, "hub.internal", "the hub could not read the changes; the error is in its log");
  }
}

// [SECTION] HubCore

HubCore::HubCore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
HubCore::~HubCore() = default;

Result<std::unique_ptr<HubCore>> HubCore::connect(HubOptions options) {
  if (options.piiKey.size() != 64 || options.hashKey.size() != 64)
    return fail(ErrorDomain::Validation, "hub.keys", "the PII and hash keys must each be 64 hex characters");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.batchSize == 0) impl->options.batchSize = 1;
  if (auto c = impl->ensureConnected(); !c) return std::unexpected(c.error());
  return std::unique_ptr<HubCore>(new HubCore(std::move(impl)));
}

Result<DeviceContext> HubCore::deviceForFingerprint(std::string_view sha256Hex) {
  if (auto c = m_impl->ensureConnected(); !c) return std::unexpected(c.error());
  try {
    // One statement on its own: no BEGIN and COMMIT round trips around it (it is asked once a
    // request).
    pqxx::nontransaction tx(*m_impl->conn);
    auto r = tx.exec_params("SELECT device_id::text, practice_id::text, revoked FROM device_for_fingerprint($1)",
                            std::string(sha256Hex));
    if (r.empty()) return fail(ErrorDomain::Conflict, "hub.unknown_device", "this device is not enrolled");
    if (r[0][2].as<bool>()) return fail(ErrorDomain::Conflict, "hub.revoked_device", "this device's enrolment was revoked");
    return DeviceContext{*Uuid::parse(r[0][0].c_str()), *Uuid::parse(r[0][1].c_str())};
  } catch (const pqxx::broken_connection&) {
    m_impl->conn.reset();
    return fail(ErrorDomain::Network, "hub.database", "the central database connection was lost; try again", true);
  } catch (const pqxx::failure&) {
    return fail(ErrorDomain::Internal, "hub.internal", "the hub could not look the device up");
  }
}

Result<PushResponse> HubCore::applyPush(const DeviceContext& device, const PushRequest& push) {
  return m_impl->push(device, push);
}

Result<PullResponse> HubCore::pull(const DeviceContext& device, const PullRequest& request) {
  return m_impl->pull(device, request);
}

Result<ReviewRelease> HubCore::resolveReview(const ReviewDecision& decision) { return m_impl->resolveReview(decision); }

Result<RescoreReport> HubCore::rescoreWaitlists() { return m_impl->rescoreWaitlists(); }

std::string HubCore::clockNow() { return m_impl->tick(); }

}  // namespace anteroom::sync
