// Column specs from the model's field lists, and the SQL that reads and writes them centrally.
#include "entity_sql.hpp"

#include <concepts>
#include <type_traits>

#include "anteroom/model/fields.hpp"

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

std::string readExpression(const EntitySpec& spec, const ColumnSpec& c) {
  const std::string col = "t." + c.name;
  if (spec.hasPii) {
    if (isPiiText(c.name)) return "pii_decrypt(" + col + ", $1)";
    if (c.name == "preferences") return "pii_decrypt(" + col + ", $1)::json";
    if (c.name == "insurance_info")
      return "(" + col + " || coalesce(pii_decrypt(t.insurance_ids, $1)::jsonb, '{}'::jsonb))";
  }
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
    sql += "'" + c.name + "', " + readExpression(spec, c);
  }
  return sql + ")::text";
}
std::string selectColumns(const EntitySpec& spec) { return "SELECT " + columnList(spec); }
}  // namespace

std::string rowColumnsSql(const EntitySpec& spec) { return columnList(spec); }

std::string selectRowsSql(const EntitySpec& spec) { return selectColumns(spec) + " FROM " + spec.table + " t"; }

std::string selectRowsSql(const EntitySpec& spec, const std::string& extra) {
  return selectColumns(spec) + ", (" + extra + ") FROM " + spec.table + " t";
}

std::string selectRowsFromSql(const EntitySpec& spec, const std::string& source) {
  return selectColumns(spec) + " FROM (" + source + ") t";
}

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
