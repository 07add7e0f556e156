// Rows as JSON over the field lists, and the entity table (name, noun) that dispatch reads.
#include "anteroom/model/row_json.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "anteroom/model/columns.hpp"
#include "anteroom/model/status.hpp"

namespace anteroom {
namespace {

// A record member stored as a JSON column (typed structures of columns.hpp).
template <class T>
concept JsonColumn = requires(const T& t) {
  { toJson(t) } -> std::same_as<Json>;
};

// [SECTION] Record -> JSON

struct RowWriter {
  Json::Object row;

  void operator()(std::string_view col, const Uuid& v) { put(col, v.toString()); }
  void operator()(std::string_view col, const std::string& v) { put(col, v); }
  void operator()(std::string_view col, const int& v) { put(col, v); }
  void operator()(std::string_view col, const double& v) { put(col, v); }
  void operator()(std::string_view col, const bool& v) { put(col, v); }
  void operator()(std::string_view col, const Instant& v) { put(col, formatInstant(v)); }
  void operator()(std::string_view col, const Date& v) { put(col, formatDate(v)); }
  template <ModelEnum E>
  void operator()(std::string_view col, const E& v) {
    put(col, toString(v));
  }
  template <JsonColumn T>
  void operator()(std::string_view col, const T& v) {
    put(col, toJson(v));
  }
  template <class V>
  void operator()(std::string_view col, const std::optional<V>& v) {
    if (v) (*this)(col, *v);
    else put(col, nullptr);
  }
  // Local-only columns never leave the device.
  void local(std::string_view, const std::string&) {}

 private:
  void put(std::string_view col, Json value) { row.insert_or_assign(std::string(col), std::move(value)); }
};

// [SECTION] JSON -> record

class RowReader {
 public:
  explicit RowReader(const Json::Object& row) : m_row(row) {}

  void operator()(std::string_view col, Uuid& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, std::string& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, int& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, double& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, bool& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, Instant& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  void operator()(std::string_view col, Date& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  template <ModelEnum E>
  void operator()(std::string_view col, E& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  template <JsonColumn T>
  void operator()(std::string_view col, T& v) {
    if (const Json* j = required(col)) read(col, *j, v);
  }
  // Absent or null is an empty optional.
  template <class V>
  void operator()(std::string_view col, std::optional<V>& v) {
    v.reset();
    if (m_error) return;
    const auto it = m_row.find(col);
    if (it == m_row.end() || it->second.isNull()) return;
    V value{};
    read(col, it->second, value);
    if (!m_error) v = std::move(value);
  }
  void local(std::string_view, const std::string&) {}

  [[nodiscard]] const std::optional<Error>& error() const { return m_error; }

  // One present value of type V, as the operators above read it.
  template <class V>
  static bool reads(const Json& value) {
    static const Json::Object kNone;
    RowReader r(kNone);
    V v{};
    r.read({}, value, v);
    return !r.m_error;
  }

 private:
  const Json* required(std::string_view col) {
    if (m_error) return nullptr;
    const auto it = m_row.find(col);
    if (it == m_row.end()) {
      m_error = Error{ErrorDomain::Protocol, "sync.row.missing", "column " + std::string(col) + " is missing"};
      return nullptr;
    }
    if (it->second.isNull()) {
      bad(col, "must not be null");
      return nullptr;
    }
    return &it->second;
  }

  void read(std::string_view col, const Json& j, Uuid& v) {
    const auto parsed = j.isString() ? Uuid::parse(j.asString()) : std::nullopt;
    if (!parsed) return bad(col, "must be a UUID");
    v = *parsed;
  }
  void read(std::string_view col, const Json& j, std::string& v) {
    if (!j.isString()) return bad(col, "must be a string");
    v = j.asString();
  }
  void read(std::string_view col, const Json& j, int& v) {
    if (!j.isInt() || j.asInt() < std::numeric_limits<int>::min() || j.asInt() > std::numeric_limits<int>::max())
      return bad(col, "must be a whole number");
    v = static_cast<int>(j.asInt());
  }
  void read(std::string_view col, const Json& j, double& v) {
    if (!j.isNumber()) return bad(col, "must be a number");
    v = j.asDouble();
  }
  void read(std::string_view col, const Json& j, bool& v) {
    if (!j.isBool()) return bad(col, "must be true or false");
    v = j.asBool();
  }
  void read(std::string_view col, const Json& j, Instant& v) {
    const auto parsed = j.isString() ? parseInstant(j.asString()) : std::nullopt;
    if (!parsed) return bad(col, "must be a UTC time such as 2026-11-25T09:00:00.000000Z");
    v = *parsed;
  }
  void read(std::string_view col, const Json& j, Date& v) {
    const auto parsed = j.isString() ? parseIsoDate(j.asString()) : std::nullopt;
    if (!parsed) return bad(col, "must be a date such as 1984-02-29");
    v = *parsed;
  }
  template <ModelEnum E>
  void read(std::string_view col, const Json& j, E& v) {
    const auto parsed = j.isString() ? parseEnum<E>(j.asString()) : std::nullopt;
    if (!parsed) return bad(col, "must be one of its known values");
    v = *parsed;
  }
  template <JsonColumn T>
  void read(std::string_view col, const Json& j, T& v) {
    auto parsed = fromJson<T>(j);
    if (!parsed) {
      Error e = std::move(parsed.error());
      // fromJson names the path inside the column ("insurance_info.payer ..."), except for tags.
      e.message = e.message.starts_with(col) ? "column " + e.message
                                             : "column " + std::string(col) + ": " + e.message;
      m_error = std::move(e);
      return;
    }
    v = std::move(*parsed);
  }

  void bad(std::string_view col, std::string_view what) {
    if (m_error) return;
    m_error = Error{ErrorDomain::Protocol, "sync.row.type", "column " + std::string(col) + " " + std::string(what)};
  }

  const Json::Object& m_row;
  std::optional<Error> m_error;
};

// [SECTION] Column checks

struct CheckCollector {
  std::vector<ColumnCheck> checks;
  template <class V>
  void operator()(std::string_view col, const V&) {
    checks.push_back({col, false, &RowReader::reads<V>});
  }
  template <class V>
  void operator()(std::string_view col, const std::optional<V>&) {
    checks.push_back({col, true, &RowReader::reads<V>});
  }
  void local(std::string_view, const std::string&) {}
};

// [SECTION] The entity table

struct EntityRow {
  Entity entity;
  std::string_view table;
  std::string_view noun;
};

template <class T>
constexpr EntityRow rowFor(std::string_view noun) {
  return {entityOf<T>(), Fields<T>::table, noun};
}

// In declaration order of Entity.
constexpr EntityRow kEntities[] = {
    rowFor<Practice>("practice"),
    rowFor<Provider>("provider"),
    rowFor<Patient>("patient"),
    rowFor<Waitlist>("waitlist"),
    rowFor<WaitlistEntry>("waitlist entry"),
    rowFor<AppointmentSlot>("appointment slot"),
    rowFor<AppointmentRequest>("appointment request"),
    rowFor<Appointment>("appointment"),
    rowFor<Notification>("notification"),
    rowFor<StaffUser>("staff member"),
};

constexpr auto kEntityValues = [] {
  std::array<Entity, std::size(kEntities)> values{};
  std::ranges::transform(kEntities, values.begin(), &EntityRow::entity);
  return values;
}();

const EntityRow* find(Entity entity) noexcept {
  const auto* it = std::ranges::find(kEntities, entity, &EntityRow::entity);
  return it == std::ranges::end(kEntities) ? nullptr : it;
}

}  // namespace

template <class T>
Json::Object toRowJson(const T& record) {
  RowWriter w;
  Fields<T>::fields(record, w);
  return std::move(w.row);
}

template <class T>
Result<T> fromRowJson(const Json::Object& row) {
  T record{};
  RowReader r(row);
  Fields<T>::fields(record, r);
  if (r.error()) return std::unexpected(*r.error());
  return record;
}

template <class T>
std::span<const ColumnCheck> columnChecks() {
  static const std::vector<ColumnCheck> checks = [] {
    CheckCollector c;
    const T record{};
    Fields<T>::fields(record, c);
    return std::move(c.checks);
  }();
  return checks;
}

std::optional<Entity> entityFromTable(std::string_view table) noexcept {
  const auto* it = std::ranges::find(kEntities, table, &EntityRow::table);
  if (it == std::ranges::end(kEntities)) return std::nullopt;
  return it->entity;
}

std::string_view tableOf(Entity entity) noexcept {
  const EntityRow* row = find(entity);
  return row ? row->table : std::string_view{};
}

std::string_view nounOf(Entity entity) noexcept {
  const EntityRow* row = find(entity);
  return row ? row->noun : std::string_view{};
}

std::span<const Entity> allEntities() noexcept { return kEntityValues; }

#define ANTEROOM_ROW_JSON(T)                          \
  template Json::Object toRowJson<T>(const T&); \
  template Result<T> fromRowJson<T>(const Json::Object&); \
  template std::span<const ColumnCheck> columnChecks<T>();
ANTEROOM_ROW_JSON(Practice)
ANTEROOM_ROW_JSON(Provider)
ANTEROOM_ROW_JSON(Patient)
ANTEROOM_ROW_JSON(Waitlist)
ANTEROOM_ROW_JSON(WaitlistEntry)
ANTEROOM_ROW_JSON(AppointmentSlot)
ANTEROOM_ROW_JSON(AppointmentRequest)
ANTEROOM_ROW_JSON(Appointment)
ANTEROOM_ROW_JSON(Notification)
ANTEROOM_ROW_JSON(StaffUser)
#undef ANTEROOM_ROW_JSON

}  // namespace anteroom
