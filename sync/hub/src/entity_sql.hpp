// How each synced entity's columns map to the central schema: one spec per record type,
// derived from the model's field lists, with the SQL that reads a row as the model's row JSON
// and the expression that writes a value (patient PII through pgcrypto, keys as parameters).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/json.hpp"

namespace anteroom::sync::hub {

enum class ColKind { Uuid, Text, Int, Double, Bool, Instant, Date, Enum, JsonColumn };

// How a query returns a row's values: the model's row JSON built by PostgreSQL (one text), or
// the columns one by one, from which the hub builds the same JSON (columnJson): json_build_object
// and to_char were most of a pull page's query (EXPLAIN ANALYZE, 500 notifications by id under
// RLS: 4.1 ms, as columns 1.3 ms; 2,000 in a snapshot page: 11.9 ms, as columns 1.9 ms).
enum class RowShape { Json, Columns };

struct ColumnSpec {
  std::string name;
  ColKind kind = ColKind::Text;
  bool optional = false;
  bool (*reads)(const Json& value) = nullptr;  // the model's check of a present value (ColumnCheck)
};

struct EntitySpec {
  std::string table;
  std::string idColumn;
  std::vector<ColumnSpec> columns;  // the model's columns, in field-list order (no local-only ones)
  std::vector<std::size_t> byName;  // indexes of columns in name order (a row JSON's key order)
  bool hasPii = false;              // patient: encrypted columns, email hash, split insurance ids
  [[nodiscard]] const ColumnSpec* column(std::string_view name) const;
};

// nullptr for a name that is not a synced entity.
const EntitySpec* entitySpec(std::string_view table);
const std::vector<const EntitySpec*>& allEntities();  // parents before children

// "SELECT id::text, row_version, deleted, <row json>::text FROM <table> t" — parameter $1 is
// the PII key when the entity has PII (its decrypt calls use it), so callers number their own
// parameters from $2 on in that case (firstFreeParam()).
std::string selectRowsSql(const EntitySpec& spec);
// The four columns alone (on alias t), for INSERT ... AS t ... RETURNING.
std::string rowColumnsSql(const EntitySpec& spec);
int firstFreeParam(const EntitySpec& spec);

// The columns shape (pull pages): "SELECT id::text, row_version, deleted, (extra), <each
// column>", parameters as above. `extra` is an SQL expression on alias t, e.g. a window test.
// From `source`, a query over the entity's table that returns its columns (e.g. "SELECT * FROM
// notification t WHERE ... ORDER BY ... LIMIT n"), as alias t, extra true: the columns are then
// read only for the rows the source keeps. Column k of spec.columns is result column
// kFirstColumn + k, and columnJson turns it into its value of the row JSON.
inline constexpr int kFirstColumn = 4;
std::string selectColumnsSql(const EntitySpec& spec, const std::string& extra = "true");
std::string selectColumnsFromSql(const EntitySpec& spec, const std::string& source);
// The value json_build_object gave column's text (nullopt text = SQL NULL) of type typeOid, as
// the model's parser read it; nullopt when that parse failed (the row does not decode).
std::optional<Json> columnJson(const ColumnSpec& column, std::optional<std::string_view> text, unsigned typeOid);
// Whether a value of type typeOid always passes the column's check (ColumnSpec::reads), so a
// caller need not ask: PostgreSQL's text of a uuid always reads as the model's Uuid.
bool alwaysReads(const ColumnSpec& column, unsigned typeOid);

// A column value as a statement parameter (nullopt = SQL NULL) and the SQL expression that
// stores parameter $n in it; for patient PII the expression encrypts with $keyParam.
std::optional<std::string> paramText(const Json& value);
std::string writeExpression(const EntitySpec& spec, const ColumnSpec& column, int n, int keyParam);

// insurance_info on a device holds member and group numbers; centrally they live encrypted in
// insurance_ids. Splits a device value into (plain part, identifier part or empty object).
std::pair<Json::Object, Json::Object> splitInsurance(const Json::Object& insurance);

}  // namespace anteroom::sync::hub
