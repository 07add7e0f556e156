// RAII owners for sqlite3* and sqlite3_stmt* (SQLCipher build), private to anteroom_store.
#pragma once

#ifndef SQLITE_HAS_CODEC
#define SQLITE_HAS_CODEC 1
#endif
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "anteroom/model/error.hpp"

namespace anteroom::store::sql {

// A column value as SQLite stores it.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : m_stmt(stmt) {}

  void bind(int index, const Value& value);
  void bindText(int index, std::string_view text);
  void bindInt(int index, std::int64_t v);
  void bindNull(int index);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  void reset();

  [[nodiscard]] int columnCount() const;
  [[nodiscard]] bool isNull(int col) const;
  [[nodiscard]] std::int64_t getInt(int col) const;
  [[nodiscard]] double getDouble(int col) const;
  [[nodiscard]] std::string getText(int col) const;
  [[nodiscard]] Value get(int col) const;
  [[nodiscard]] sqlite3_stmt* raw() const { return m_stmt.get(); }

 private:
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> m_stmt;
};

// Maps an SQLite result code to an Error a person can act on.
Error sqliteError(sqlite3* db, int rc, std::string_view what);

class Connection {
 public:
  Connection() = default;
  explicit Connection(DbHandle db) : m_db(std::move(db)) {}

  [[nodiscard]] sqlite3* raw() const { return m_db.get(); }
  // Waits up to `timeout` for another connection's lock, polling every 0.05-0.25 ms (jittered).
  // SQLite's own busy_timeout backs off to 100 ms sleeps, and a writer that commits back to back
  // leaves gaps of microseconds between its transactions: the backoff almost never meets one.
  void setBusyTimeout(std::chrono::milliseconds timeout);
  Result<void> exec(std::string_view sqlText);
  // Prepared once, cached for the life of the connection. The lease resets the statement
  // when it goes out of scope, so no finished read keeps a snapshot open.
  class Lease {
   public:
    explicit Lease(Stmt* stmt) : m_stmt(stmt) {}
    Lease(Lease&& other) noexcept : m_stmt(std::exchange(other.m_stmt, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (m_stmt != nullptr) m_stmt->reset();
    }
    Stmt* operator->() const { return m_stmt; }
    Stmt& operator*() const { return *m_stmt; }

   private:
    Stmt* m_stmt;
  };
  Result<Lease> cached(const std::string& sqlText);
  Result<Stmt> prepare(std::string_view sqlText);
  // A single value from the first row, or nullopt when there is no row.
  Result<std::optional<Value>> scalar(std::string_view sqlText);
  void close();

 private:
  struct BusyWait {
    std::chrono::milliseconds timeout{0};
    std::chrono::steady_clock::time_point start;
    std::minstd_rand jitter{std::random_device{}()};
  };
  static int onBusy(void* wait, int attempts);
  std::unique_ptr<BusyWait> m_busy;  // declared first: outlives the handle that points at it
  DbHandle m_db;
  std::unordered_map<std::string, Stmt> m_cache;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& conn);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> commit();

 private:
  explicit Transaction(Connection& conn) : m_conn(&conn) {}
  Connection* m_conn;
  bool m_open = true;
};

}  // namespace anteroom::store::sql
