// Row codecs: one field list per record type maps struct members to store columns,
// used for SQL binding, reading rows back, and the outbox's JSON of changed columns.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "anteroom/model/columns.hpp"
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

// [SECTION] Field lists, one per record type. Order = column order in SELECTs.
template <class T>
struct Codec;

template <>
struct Codec<Practice> {
  static constexpr std::string_view table = "practice";
  static constexpr std::string_view idColumn = "practice_id";
  static constexpr auto idMember = &Practice::practiceId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("practice_id", r.practiceId);
    v("name", r.name);
    v("address", r.address);
    v("phone", r.phone);
    v("email", r.email);
    v("settings", r.settings);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<Provider> {
  static constexpr std::string_view table = "provider";
  static constexpr std::string_view idColumn = "provider_id";
  static constexpr auto idMember = &Provider::providerId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("provider_id", r.providerId);
    v("practice_id", r.practiceId);
    v("first_name", r.firstName);
    v("last_name", r.lastName);
    v("email", r.email);
    v("specialties", r.specialties);
    v("modalities", r.modalities);
    v("availability", r.availability);
    v("experience", r.experience);
    v("telehealth", r.telehealth);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<Patient> {
  static constexpr std::string_view table = "patient";
  static constexpr std::string_view idColumn = "patient_id";
  static constexpr auto idMember = &Patient::patientId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("patient_id", r.patientId);
    v("first_name", r.firstName);
    v("last_name", r.lastName);
    v("email", r.email);
    v("phone", r.phone);
    v("date_of_birth", r.dateOfBirth);
    v("insurance_info", r.insuranceInfo);
    v("preferences", r.preferences);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
    v.local("lookup_key", nameLookupKey(r.lastName));
  }
};

template <>
struct Codec<Waitlist> {
  static constexpr std::string_view table = "waitlist";
  static constexpr std::string_view idColumn = "waitlist_id";
  static constexpr auto idMember = &Waitlist::waitlistId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("waitlist_id", r.waitlistId);
    v("practice_id", r.practiceId);
    v("name", r.name);
    v("description", r.description);
    v("criteria", r.criteria);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<WaitlistEntry> {
  static constexpr std::string_view table = "waitlist_entry";
  static constexpr std::string_view idColumn = "entry_id";
  static constexpr auto idMember = &WaitlistEntry::entryId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("entry_id", r.entryId);
    v("waitlist_id", r.waitlistId);
    v("patient_id", r.patientId);
    v("provider_id", r.providerId);
    v("priority_score", r.priorityScore);
    v("status", r.status);
    v("notes", r.notes);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
    // Added by migration 0002_waitlist_engine (appended so older column order is unchanged).
    v("urgency", r.urgency);
    v("urgency_set_by", r.urgencySetBy);
  }
};

template <>
struct Codec<AppointmentSlot> {
  static constexpr std::string_view table = "appointment_slot";
  static constexpr std::string_view idColumn = "slot_id";
  static constexpr auto idMember = &AppointmentSlot::slotId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("slot_id", r.slotId);
    v("provider_id", r.providerId);
    v("start_time", r.startTime);
    v("end_time", r.endTime);
    v("status", r.status);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<AppointmentRequest> {
  static constexpr std::string_view table = "appointment_request";
  static constexpr std::string_view idColumn = "request_id";
  static constexpr auto idMember = &AppointmentRequest::requestId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("request_id", r.requestId);
    v("patient_id", r.patientId);
    v("provider_id", r.providerId);
    v("waitlist_entry_id", r.waitlistEntryId);
    v("appointment_slot_id", r.appointmentSlotId);
    v("status", r.status);
    v("requested_time", r.requestedTime);
    v("notes", r.notes);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<Appointment> {
  static constexpr std::string_view table = "appointment";
  static constexpr std::string_view idColumn = "appointment_id";
  static constexpr auto idMember = &Appointment::appointmentId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("appointment_id", r.appointmentId);
    v("provider_id", r.providerId);
    v("patient_id", r.patientId);
    v("waitlist_entry_id", r.waitlistEntryId);
    v("start_time", r.startTime);
    v("end_time", r.endTime);
    v("status", r.status);
    v("type", r.type);
    v("notes", r.notes);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<Notification> {
  static constexpr std::string_view table = "notification";
  static constexpr std::string_view idColumn = "notification_id";
  static constexpr auto idMember = &Notification::notificationId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("notification_id", r.notificationId);
    v("recipient_id", r.recipientId);
    v("recipient_type", r.recipientType);
    v("type", r.type);
    v("content", r.content);
    v("status", r.status);
    v("sent_at", r.sentAt);
    v("read_at", r.readAt);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

template <>
struct Codec<StaffUser> {
  static constexpr std::string_view table = "staff_user";
  static constexpr std::string_view idColumn = "staff_id";
  static constexpr auto idMember = &StaffUser::staffId;
  template <class R, class V>
  static void fields(R& r, V& v) {
    v("staff_id", r.staffId);
    v("practice_id", r.practiceId);
    v("display_name", r.displayName);
    v("role", r.role);
    v("pin_hash", r.pinHash);
    v("active", r.active);
    v("created_at", r.createdAt);
    v("updated_at", r.updatedAt);
  }
};

// Applies f to a value of each record type, e.g. to instantiate templates or list tables.
template <class F>
void forEachRecordType(F&& f) {
  f(Practice{}), f(Provider{}), f(Patient{}), f(Waitlist{}), f(WaitlistEntry{}),
      f(AppointmentSlot{}), f(AppointmentRequest{}), f(Appointment{}), f(Notification{}),
      f(StaffUser{});
}

}  // namespace anteroom::store
