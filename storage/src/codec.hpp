// Row codecs: one field list per record type maps struct members to store columns,
// used for SQL binding, reading rows back, and the outbox's JSON of changed columns.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "anteroom/model/columns.hpp"
#include "anteroom/model/fields.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/model/records.hpp"
#include "anteroom/model/validation.hpp"
#include "sqlite.hpp"

namespace anteroom::store {

// A record member stored as JSON text (typed structures of columns.hpp).
template <class T>
concept JsonColumn = requires(const T& t) {
  { toJson(t) } -> std::same_as<Json>;
};

// One column's value as SQL and as JSON (the outbox carries JSON columns as JSON, not text).
struct Cell {
  std::string_view column;
  sql::Value value;
  Json json;
  bool localOnly = false;  // derived local columns (lookup keys) never leave the device
};

// [SECTION] Writing: record -> cells
class RowWriter {
 public:
  std::vector<Cell> cells;

  void operator()(std::string_view col, const Uuid& v) { text(col, v.toString()); }
  void operator()(std::string_view col, const std::optional<Uuid>& v) {
    if (v) text(col, v->toString());
    else null(col);
  }
  void operator()(std::string_view col, const std::string& v) { text(col, v); }
  void operator()(std::string_view col, const std::optional<std::string>& v) {
    if (v) text(col, *v);
    else null(col);
  }
  void operator()(std::string_view col, const int& v) {
    cells.push_back({col, std::int64_t{v}, Json(std::int64_t{v})});
  }
  void operator()(std::string_view col, const double& v) { cells.push_back({col, v, Json(v)}); }
  void operator()(std::string_view col, const bool& v) {
    cells.push_back({col, std::int64_t{v ? 1 : 0}, Json(v)});
  }
  void operator()(std::string_view col, const Instant& v) { text(col, formatInstant(v)); }
  void operator()(std::string_view col, const std::optional<Instant>& v) {
    if (v) text(col, formatInstant(*v));
    else null(col);
  }
  void operator()(std::string_view col, const Date& v) { text(col, formatDate(v)); }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(std::string_view col, const E& v) {
    text(col, std::string(toString(v)));
  }
  template <JsonColumn T>
  void operator()(std::string_view col, const T& v) {
    Json j = toJson(v);
    std::string dumped = j.dump();
    cells.push_back({col, std::move(dumped), std::move(j)});
  }
  void local(std::string_view col, std::string v) {
    cells.push_back({col, std::move(v), Json(), true});
  }

 private:
  void text(std::string_view col, std::string v) {
    Json j(v);
    cells.push_back({col, std::move(v), std::move(j)});
  }
  void null(std::string_view col) { cells.push_back({col, std::monostate{}, Json()}); }
};

// [SECTION] Reading: statement columns (in field order) -> record
class RowReader {
 public:
  RowReader(const sql::Stmt& stmt, int firstColumn) : m_stmt(stmt), m_col(firstColumn) {}

  void operator()(std::string_view col, Uuid& v) { v = uuid(col, next()).value_or(Uuid{}); }
  void operator()(std::string_view col, std::optional<Uuid>& v) {
    const int i = next();
    if (m_stmt.isNull(i)) v.reset();
    else v = uuid(col, i);
  }
  void operator()(std::string_view, std::string& v) { v = m_stmt.getText(next()); }
  void operator()(std::string_view, std::optional<std::string>& v) {
    const int i = next();
    if (m_stmt.isNull(i)) v.reset();
    else v = m_stmt.getText(i);
  }
  void operator()(std::string_view, int& v) { v = static_cast<int>(m_stmt.getInt(next())); }
  void operator()(std::string_view, double& v) { v = m_stmt.getDouble(next()); }
  void operator()(std::string_view, bool& v) { v = m_stmt.getInt(next()) != 0; }
  void operator()(std::string_view col, Instant& v) { v = instant(col, next()).value_or(Instant{}); }
  void operator()(std::string_view col, std::optional<Instant>& v) {
    const int i = next();
    if (m_stmt.isNull(i)) v.reset();
    else v = instant(col, i);
  }
  void operator()(std::string_view col, Date& v) {
    const auto d = parseIsoDate(m_stmt.getText(next()));
    if (!d) bad(col);
    v = d.value_or(Date{});
  }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(std::string_view col, E& v) {
    const auto e = parseEnum<E>(m_stmt.getText(next()));
    if (!e) bad(col);
    else v = *e;
  }
  template <JsonColumn T>
  void operator()(std::string_view col, T& v) {
    auto parsed = parseColumn<T>(m_stmt.getText(next()));
    if (!parsed) bad(col);
    else v = std::move(*parsed);
  }
  void local(std::string_view, const std::string&) { next(); }

  [[nodiscard]] int nextColumn() const { return m_col; }
  [[nodiscard]] const std::optional<Error>& error() const { return m_error; }

 private:
  int next() { return m_col++; }
  std::optional<Uuid> uuid(std::string_view col, int i) {
    auto u = Uuid::parse(m_stmt.getText(i));
    if (!u) bad(col);
    return u;
  }
  std::optional<Instant> instant(std::string_view col, int i) {
    auto t = parseInstant(m_stmt.getText(i));
    if (!t) bad(col);
    return t;
  }
  void bad(std::string_view col) {
    if (!m_error) {
      m_error = Error{ErrorDomain::Store, "store.bad_row",
                      "the store holds an unreadable value in column " + std::string(col), false};
    }
  }
  const sql::Stmt& m_stmt;
  int m_col;
  std::optional<Error> m_error;
};

// [SECTION] Column names only
struct ColumnNames {
  std::vector<std::string_view> names;
  template <class V>
  void operator()(std::string_view col, const V&) { names.push_back(col); }
  void local(std::string_view col, const std::string&) { names.push_back(col); }
};

// [SECTION] Field lists: the model's (fields.hpp), shared with the hub.
template <class T>
using Codec = Fields<T>;

}  // namespace anteroom::store
