// Column specs from the model's field lists, and the SQL that reads and writes them centrally.
#include "entity_sql.hpp"

#include <algorithm>
#include <concepts>
#include <type_traits>

#include "anteroom/model/fields.hpp"
#include "anteroom/model/row_json.hpp"

namespace anteroom::sync::hub {

namespace {

template <class T>
concept JsonCol = requires(const T& t) {
  { toJson(t) } -> std::same_as<Json>;
};

// Visits a record's field list and records each column's kind.
struct SpecBuilder {
  std::vector<ColumnSpec> columns;
  void add(std::string_view col, ColKind kind, bool optional) { columns.push_back({std::string(col), kind, optional}); }
  void operator()(std::string_view c, const Uuid&) { add(c, ColKind::Uuid, false); }
  void operator()(std::string_view c, const std::optional<Uuid>&) { add(c, ColKind::Uuid, true); }
  void operator()(std::string_view c, const std::string&) { add(c, ColKind::Text, false); }
  void operator()(std::string_view c, const std::optional<std::string>&) { add(c, ColKind::Text, true); }
  void operator()(std::string_view c, const int&) { add(c, ColKind::Int, false); }
  void operator()(std::string_view c, const double&) { add(c, ColKind::Double, false); }
  void operator()(std::string_view c, const bool&) { add(c, ColKind::Bool, false); }
  void operator()(std::string_view c, const Instant&) { add(c, ColKind::Instant, false); }
  void operator()(std::string_view c, const std::optional<Instant>&) { add(c, ColKind::Instant, true); }
  void operator()(std::string_view c, const Date&) { add(c, ColKind::Date, false); }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(std::string_view c, const E&) {
    add(c, ColKind::Enum, false);
  }
  template <JsonCol T>
  void operator()(std::string_view c, const T&) {
    add(c, ColKind::JsonColumn, false);
  }
  void local(std::string_view, const std::string&) {}  // device-only lookup keys
};

template <class T>
EntitySpec makeSpec() {
  SpecBuilder b;
  const T r{};
  Fields<T>::fields(r, b);
  EntitySpec s;
  s.table = std::string(Fields<T>::table);
  s.idColumn = std::string(Fields<T>::idColumn);
  s.columns = std::move(b.columns);
  const auto checks = columnChecks<T>();  // the same field list, in the same order
  for (std::size_t k = 0; k < s.columns.size(); ++k) s.columns[k].reads = checks[k].reads;
  for (std::size_t k = 0; k < s.columns.size(); ++k) s.byName.push_back(k);
  std::ranges::sort(s.byName, {}, [&](std::size_t k) -> const std::string& { return s.columns[k].name; });
  s.hasPii = std::is_same_v<T, Patient>;
  return s;
}

struct Registry {
  std::vector<EntitySpec> specs;
  std::vector<const EntitySpec*> ordered;
  Registry() {
    specs.reserve(10);
    forEachRecordType([&](auto r) { specs.push_back(makeSpec<decltype(r)>()); });
    for (const auto& s : specs) ordered.push_back(&s);
  }
};

const Registry& registry() {
  static const Registry r;
  return r;
}

bool isPiiText(std::string_view col) {
  return col == "first_name" || col == "last_name" || col == "email" || col == "phone" || col == "date_of_birth";
}

// A column's value as the row JSON holds it. PII is decrypted in SQL either way; times are
// formatted by to_char in SQL for the JSON shape, and by formattedTime() in C++ for the columns
// shape (to_char of a notification's timestamps was 0.4 ms of a 500-row page's 1.8 ms query).
std::string readExpression(const EntitySpec& spec, const ColumnSpec& c, RowShape shape) {
  const std::string col = "t." + c.name;
  if (spec.hasPii) {
    if (isPiiText(c.name)) return "pii_decrypt(" + col + ", $1)";
    if (c.name == "preferences") return "pii_decrypt(" + col + ", $1)::json";
    if (c.name == "insurance_info")
      return "(" + col + " || coalesce(pii_decrypt(t.insurance_ids, $1)::jsonb, '{}'::jsonb))";
  }
  if (shape == RowShape::Columns) return col;
  switch (c.kind) {
    case ColKind::Instant: return "to_char(" + col + ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
    case ColKind::Date: return "to_char(" + col + ", 'YYYY-MM-DD')";
    default: return col;
  }
}

std::string castOf(ColKind kind) {
  switch (kind) {
    case ColKind::Uuid: return "uuid";
    case ColKind::Int: return "integer";
    case ColKind::Double: return "double precision";
    case ColKind::Bool: return "boolean";
    case ColKind::Instant: return "timestamp";
    case ColKind::Date: return "date";
    case ColKind::JsonColumn: return "jsonb";
    case ColKind::Text:
    case ColKind::Enum: return "text";
  }
  return "text";
}

}  // namespace

const ColumnSpec* EntitySpec::column(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

const EntitySpec* entitySpec(std::string_view table) {
  for (const auto& s : registry().specs)
    if (s.table == table) return &s;
  return nullptr;
}

const std::vector<const EntitySpec*>& allEntities() { return registry().ordered; }

namespace {
std::string columnList(const EntitySpec& spec) {
  // json_build_object takes at most 100 arguments: 50 columns, more than any entity has.
  std::string sql = "t." + spec.idColumn + "::text, t.row_version, t.deleted, json_build_object(";
  bool first = true;
  for (const auto& c : spec.columns) {
    if (!first) sql += ", ";
    first = false;
    sql += "'" + c.name + "', " + readExpression(spec, c, RowShape::Json);
  }
  return sql + ")::text";
}
std::string selectColumns(const EntitySpec& spec) { return "SELECT " + columnList(spec); }

// "SELECT id::text, row_version, deleted, (extra), <the model's columns>".
std::string selectEachColumn(const EntitySpec& spec, const std::string& extra) {
  std::string sql = "SELECT t." + spec.idColumn + "::text, t.row_version, t.deleted, (" + extra + ")";
  for (const auto& c : spec.columns) sql += ", " + readExpression(spec, c, RowShape::Columns);
  return sql;
}
}  // namespace

std::string rowColumnsSql(const EntitySpec& spec) { return columnList(spec); }

std::string selectRowsSql(const EntitySpec& spec) { return selectColumns(spec) + " FROM " + spec.table + " t"; }

std::string selectColumnsSql(const EntitySpec& spec, const std::string& extra) {
  return selectEachColumn(spec, extra) + " FROM " + spec.table + " t";
}

std::string selectColumnsFromSql(const EntitySpec& spec, const std::string& source) {
  return selectEachColumn(spec, "true") + " FROM (" + source + ") t";
}

// [SECTION] A row's JSON built from its columns, value by value as json_build_object built it
// (and the model's parser then read it), so a page carries the same JSON either way.

namespace {

// Type oids of pg_type (fixed in PostgreSQL's catalog).
enum : unsigned { kUuid = 2950, kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kJson = 114, kFloat4 = 700, kFloat8 = 701,
                  kDate = 1082, kTimestamp = 1114, kNumeric = 1700, kJsonb = 3802 };

// What to_char(v, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') (an Instant) or to_char(v, 'YYYY-MM-DD') (a
// Date) gave, from the ISO text PostgreSQL sends for a timestamp or date ("2026-03-02
// 14:05:00.5", "0044-03-15 BC", "infinity"): null for an infinity, as to_char's; no era.
Json formattedTime(std::string_view text, ColKind kind) {
  if (text == "infinity" || text == "-infinity") return nullptr;
  if (text.ends_with(" BC")) text.remove_suffix(3);
  const auto space = text.find(' ');
  const std::string_view day = text.substr(0, space);
  if (kind == ColKind::Date) return Json(day);
  const std::string_view time = space == std::string_view::npos ? "00:00:00" : text.substr(space + 1);
  const auto dot = time.find('.');
  const std::string_view fraction = dot == std::string_view::npos ? "" : time.substr(dot + 1);
  std::string out;
  out.reserve(day.size() + 17);
  out.append(day).append("T").append(time.substr(0, dot)).append(".").append(fraction);
  out.append(fraction.size() < 6 ? 6 - fraction.size() : 0, '0').append("Z");
  return Json(std::move(out));
}

bool isNumberType(unsigned oid) {
  return oid == kInt2 || oid == kInt4 || oid == kInt8 || oid == kFloat4 || oid == kFloat8 || oid == kNumeric;
}

}  // namespace

std::optional<Json> columnJson(const ColumnSpec& column, std::optional<std::string_view> text, unsigned typeOid) {
  if (!text) return Json(nullptr);
  // Times to_char formatted (a decrypted date of birth is text, kept as it is). Every timestamp
  // and date column is an Instant or a Date of the model.
  if ((typeOid == kTimestamp || typeOid == kDate) && (column.kind == ColKind::Instant || column.kind == ColKind::Date))
    return formattedTime(*text, column.kind);
  if (typeOid == kBool) return Json(*text == "t");
  // json_build_object quotes a number PostgreSQL prints as NaN or an infinity; the rest it
  // writes as they are, and the parser reads them (a number past double range fails the row).
  if (isNumberType(typeOid) && (*text == "NaN" || *text == "Infinity" || *text == "-Infinity")) return Json(*text);
  if (isNumberType(typeOid) || typeOid == kJson || typeOid == kJsonb) {
    // The value sat one level down in the row's object, within the whole row's limits.
    auto parsed = Json::parse(*text, ParseLimits{std::size_t{1} << 20, 63});
    if (!parsed) return std::nullopt;
    return std::move(*parsed);
  }
  return Json(*text);
}

bool alwaysReads(const ColumnSpec& column, unsigned typeOid) { return typeOid == kUuid && column.kind == ColKind::Uuid; }

int firstFreeParam(const EntitySpec& spec) { return spec.hasPii ? 2 : 1; }

std::optional<std::string> paramText(const Json& value) {
  switch (value.type()) {
    case Json::Type::Null: return std::nullopt;
    case Json::Type::String: return value.asString();
    case Json::Type::Bool: return std::string(value.asBool() ? "true" : "false");
    case Json::Type::Int:
    case Json::Type::Double:
    case Json::Type::Array:
    case Json::Type::Object: return value.dump();
  }
  return std::nullopt;
}

std::string writeExpression(const EntitySpec& spec, const ColumnSpec& column, int n, int keyParam) {
  const std::string p = "$" + std::to_string(n);
  if (spec.hasPii && (isPiiText(column.name) || column.name == "preferences"))
    return "pii_encrypt(" + p + "::text, $" + std::to_string(keyParam) + ")";
  return p + "::" + castOf(column.kind);
}

std::pair<Json::Object, Json::Object> splitInsurance(const Json::Object& insurance) {
  Json::Object plain, ids;
  for (const auto& [k, v] : insurance) {
    if (k == "member_id" || k == "group_number") {
      if (v.isString() && !v.asString().empty()) ids.emplace(k, v);
    } else {
      plain.emplace(k, v);
    }
  }
  return {std::move(plain), std::move(ids)};
}

}  // namespace anteroom::sync::hub
