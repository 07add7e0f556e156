// RAII wrappers around the SQLCipher C API and the mapping of its errors.
#include "sqlite.hpp"

#include <thread>
#include <utility>

#include "anteroom/store/store.hpp"

namespace anteroom::store::sql {

void Stmt::bind(int index, const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    bindNull(index);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    bindInt(index, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    sqlite3_bind_double(m_stmt.get(), index, *d);
  } else {
    bindText(index, std::get<std::string>(value));
  }
}

void Stmt::bindText(int index, std::string_view text) {
  sqlite3_bind_text(m_stmt.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void Stmt::bindInt(int index, std::int64_t v) { sqlite3_bind_int64(m_stmt.get(), index, v); }
void Stmt::bindNull(int index) { sqlite3_bind_null(m_stmt.get(), index); }
int Stmt::step() { return sqlite3_step(m_stmt.get()); }

void Stmt::reset() {
  sqlite3_reset(m_stmt.get());
  sqlite3_clear_bindings(m_stmt.get());
}

int Stmt::columnCount() const { return sqlite3_column_count(m_stmt.get()); }
bool Stmt::isNull(int col) const { return sqlite3_column_type(m_stmt.get(), col) == SQLITE_NULL; }
std::int64_t Stmt::getInt(int col) const { return sqlite3_column_int64(m_stmt.get(), col); }
double Stmt::getDouble(int col) const { return sqlite3_column_double(m_stmt.get(), col); }

std::string Stmt::getText(int col) const {
  const auto* p = sqlite3_column_text(m_stmt.get(), col);
  const int n = sqlite3_column_bytes(m_stmt.get(), col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

Value Stmt::get(int col) const {
  switch (sqlite3_column_type(m_stmt.get(), col)) {
    case SQLITE_NULL: return std::monostate{};
    case SQLITE_INTEGER: return getInt(col);
    case SQLITE_FLOAT: return getDouble(col);
    default: return getText(col);
  }
}

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string prefix(what);
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorDomain::Store, "store.busy",
                   prefix + ": the store is busy in another process; try again", true};
    case SQLITE_NOTADB:
      return Error{ErrorDomain::Store, "store.wrong_key", kWrongKeyMessage, false};
    case SQLITE_CORRUPT:
      return Error{ErrorDomain::Store, "store.corrupt",
                   prefix + ": the store is damaged (" + detail +
                       "); restore it from the server by re-provisioning the device",
                   false};
    case SQLITE_FULL:
      return Error{ErrorDomain::Store, "store.disk_full", prefix + ": the disk is full", true};
    case SQLITE_IOERR:
      return Error{ErrorDomain::Store, "store.io", prefix + ": I/O error (" + detail + ")", true};
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return Error{ErrorDomain::Store, "store.cannot_open", prefix + ": " + detail, false};
    case SQLITE_CONSTRAINT:
      return Error{ErrorDomain::Conflict, "store.constraint", prefix + ": " + detail, false};
    default:
      return Error{ErrorDomain::Store, "store.sql", prefix + ": " + detail, false};
  }
}

void Connection::setBusyTimeout(std::chrono::milliseconds timeout) {
  m_busy = std::make_unique<BusyWait>();
  m_busy->timeout = timeout;
  sqlite3_busy_handler(m_db.get(), &Connection::onBusy, m_busy.get());
}

int Connection::onBusy(void* wait, int attempts) {
  auto* busy = static_cast<BusyWait*>(wait);
  const auto now = std::chrono::steady_clock::now();
  if (attempts == 0) busy->start = now;
  if (now - busy->start >= busy->timeout) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(50 + busy->jitter() % 200));
  return 1;
}

Result<void> Connection::exec(std::string_view sqlText) {
  const std::string text(sqlText);
  char* err = nullptr;
  const int rc = sqlite3_exec(m_db.get(), text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return std::unexpected(sqliteError(m_db.get(), rc, "executing SQL"));
  return {};
}

Result<Stmt> Connection::prepare(std::string_view sqlText) {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(m_db.get(), sqlText.data(), static_cast<int>(sqlText.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return std::unexpected(sqliteError(m_db.get(), rc, "preparing SQL"));
  }
  return Stmt(raw);
}

Result<Connection::Lease> Connection::cached(const std::string& sqlText) {
  auto it = m_cache.find(sqlText);
  if (it == m_cache.end()) {
    auto stmt = prepare(sqlText);
    if (!stmt) return std::unexpected(stmt.error());
    it = m_cache.emplace(sqlText, std::move(*stmt)).first;
  }
  return Lease(&it->second);
}

Result<std::optional<Value>> Connection::scalar(std::string_view sqlText) {
  auto stmt = prepare(sqlText);
  if (!stmt) return std::unexpected(stmt.error());
  const int rc = stmt->step();
  if (rc == SQLITE_ROW) return std::optional<Value>(stmt->get(0));
  if (rc == SQLITE_DONE) return std::optional<Value>();
  return std::unexpected(sqliteError(m_db.get(), rc, "reading"));
}

void Connection::close() {
  m_cache.clear();
  m_db.reset();
}

Result<Transaction> Transaction::begin(Connection& conn) {
  if (auto r = conn.exec("BEGIN IMMEDIATE"); !r) return std::unexpected(r.error());
  return Transaction(conn);
}

Transaction::Transaction(Transaction&& other) noexcept
    : m_conn(other.m_conn), m_open(std::exchange(other.m_open, false)) {}

Transaction::~Transaction() {
  if (m_open) (void)m_conn->exec("ROLLBACK");
}

Result<void> Transaction::commit() {
  auto r = m_conn->exec("COMMIT");
  if (r) m_open = false;
  return r;
}

}  // namespace anteroom::store::sql
