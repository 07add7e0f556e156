// A synced row as JSON keyed by column name, built from the field lists (fields.hpp), and the
// entities by name: what the hub and the store exchange about a row, and how they dispatch on it.
#pragma once

#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "anteroom/model/error.hpp"
#include "anteroom/model/fields.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/model/records.hpp"

namespace anteroom {

// [SECTION] Row JSON
//
// Values: uuid, text, instants (formatInstant), dates ("1984-02-29") and enums (their stored
// text) as strings; JSON columns nested as their toJson (columns.hpp); int, double and bool as
// numbers and booleans; an empty optional as null. Local-only columns (lookup keys) and the sync
// envelope's row_version and deleted are not part of a row.
template <class T>
Json::Object toRowJson(const T& record);

// Strict on types: a wrong type or unreadable value is Protocol "sync.row.type", a missing column
// Protocol "sync.row.missing", a JSON column of the wrong shape keeps fromJson's "json.column";
// every message names the column (never its value). An optional column may be null or absent.
// Unknown columns are ignored (a newer hub may add some). The record's SyncMeta stays default.
template <class T>
Result<T> fromRowJson(const Json::Object& row);

// fromRowJson's check of one column's value, in field-list order (local-only columns have
// none): whether a present value reads as the column's type. A null is accepted exactly when
// `optional`. For a row that has every column and nothing else, fromRowJson succeeds exactly
// when each column passes its check: the hub checks the rows it builds from typed columns
// this way, without building the records.
struct ColumnCheck {
  std::string_view name;
  bool optional = false;
  bool (*reads)(const Json& value) = nullptr;
};
template <class T>
std::span<const ColumnCheck> columnChecks();

// [SECTION] Entities by name

enum class Entity {
  Practice,
  Provider,
  Patient,
  Waitlist,
  WaitlistEntry,
  AppointmentSlot,
  AppointmentRequest,
  Appointment,
  Notification,
  StaffUser,
};

// "appointment_request" <-> Entity::AppointmentRequest (the tables of fields.hpp); exact match.
std::optional<Entity> entityFromTable(std::string_view table) noexcept;
std::string_view tableOf(Entity entity) noexcept;
// For people: "appointment request", "waitlist entry".
std::string_view nounOf(Entity entity) noexcept;
// Every entity, in declaration order (the order of forEachRecordType).
std::span<const Entity> allEntities() noexcept;

template <class T>
constexpr Entity entityOf() noexcept {
  if constexpr (std::is_same_v<T, Practice>) return Entity::Practice;
  else if constexpr (std::is_same_v<T, Provider>) return Entity::Provider;
  else if constexpr (std::is_same_v<T, Patient>) return Entity::Patient;
  else if constexpr (std::is_same_v<T, Waitlist>) return Entity::Waitlist;
  else if constexpr (std::is_same_v<T, WaitlistEntry>) return Entity::WaitlistEntry;
  else if constexpr (std::is_same_v<T, AppointmentSlot>) return Entity::AppointmentSlot;
  else if constexpr (std::is_same_v<T, AppointmentRequest>) return Entity::AppointmentRequest;
  else if constexpr (std::is_same_v<T, Appointment>) return Entity::Appointment;
  else if constexpr (std::is_same_v<T, Notification>) return Entity::Notification;
  else {
    static_assert(std::is_same_v<T, StaffUser>, "not a synced record type");
    return Entity::StaffUser;
  }
}

// Calls f(T{}) with a default value of the entity's record type; every call must return the
// same type. E.g. visitEntity(e, [&](auto r) { return fromRowJson<decltype(r)>(row).has_value(); }).
template <class F>
decltype(auto) visitEntity(Entity entity, F&& f) {
  switch (entity) {
    case Entity::Practice: return f(Practice{});
    case Entity::Provider: return f(Provider{});
    case Entity::Patient: return f(Patient{});
    case Entity::Waitlist: return f(Waitlist{});
    case Entity::WaitlistEntry: return f(WaitlistEntry{});
    case Entity::AppointmentSlot: return f(AppointmentSlot{});
    case Entity::AppointmentRequest: return f(AppointmentRequest{});
    case Entity::Appointment: return f(Appointment{});
    case Entity::Notification: return f(Notification{});
    case Entity::StaffUser: return f(StaffUser{});
  }
  std::abort();  // only reachable through a cast of an out-of-range integer: a caller bug
}

}  // namespace anteroom
