// The field lists of the synced records: one list per record type maps struct members to
// column names, shared by the store's row codec and the hub (DESIGN.md 5.1), so both ends
// agree on every column without writing it twice.
#pragma once

#include <string>
#include <string_view>

#include "anteroom/model/records.hpp"
#include "anteroom/model/validation.hpp"

namespace anteroom {

// A visitor V is called as v("column", member) for each column in order, and as
// v.local("column", value) for a derived column that exists only on the device.
// [SECTION] Field lists, one per record type. Order = column order in SELECTs.
template <class T>
struct Fields;

template <>
struct Fields<Practice> {
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
struct Fields<Provider> {
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
struct Fields<Patient> {
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
struct Fields<Waitlist> {
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
struct Fields<WaitlistEntry> {
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
struct Fields<AppointmentSlot> {
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
struct Fields<AppointmentRequest> {
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
struct Fields<Appointment> {
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
struct Fields<Notification> {
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
struct Fields<StaffUser> {
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

}  // namespace anteroom
