// Record-level validation: a local write must hold values exactly as the field normalisers
// would produce them, so the store never keeps "555-1234" next to "+15555551234".
#include "anteroom/model/record_rules.hpp"

#include <cmath>

#include "anteroom/model/validation.hpp"

namespace anteroom {
namespace {

Result<void> invalid(std::string code, std::string message) {
  return fail(ErrorDomain::Validation, std::move(code), std::move(message));
}

// The value must already be in normal form: normalising it again changes nothing.
Result<void> normalised(const Result<std::string>& result, const std::string& value, std::string_view field) {
  if (!result) {
    Error e = result.error();
    e.message = std::string(field) + ": " + e.message;
    return std::unexpected(e);
  }
  if (*result != value) {
    return invalid("validation.not_normalized", std::string(field) + " is not in its normal form");
  }
  return {};
}

Result<void> name(const std::string& value, std::string_view field) {
  return normalised(normalizeName(value), value, field);
}
Result<void> email(const std::string& value, std::string_view field) {
  return normalised(normalizeEmail(value), value, field);
}
Result<void> phone(const std::string& value, std::string_view field) {
  return normalised(normalizePhone(value), value, field);
}
Result<void> text(const std::optional<std::string>& value, std::size_t max, std::string_view field) {
  if (!value) return {};
  return normalised(normalizeFreeText(*value, max), *value, field);
}
Result<void> label(const std::string& value, std::size_t max, std::string_view field) {
  if (value.empty()) return invalid("validation.required", std::string(field) + " is required");
  return normalised(normalizeFreeText(value, max), value, field);
}
Result<void> present(const Uuid& id, std::string_view field) {
  if (id.isNil()) return invalid("validation.required", std::string(field) + " is required");
  return {};
}

// Runs checks in order and stops at the first failure.
template <class... Checks>
Result<void> all(Checks&&... checks) {
  Result<void> result;
  ((result ? (result = checks()) : result), ...);
  return result;
}

}  // namespace

Result<void> validateRecord(const Practice& r, Instant) {
  return all([&] { return present(r.practiceId, "practice_id"); },
             [&] { return label(r.name, 255, "name"); },
             [&] { return email(r.email, "email"); },
             [&] { return phone(r.phone, "phone"); });
}

Result<void> validateRecord(const Provider& r, Instant) {
  return all([&] { return present(r.providerId, "provider_id"); },
             [&] { return present(r.practiceId, "practice_id"); },
             [&] { return name(r.firstName, "first_name"); },
             [&] { return name(r.lastName, "last_name"); },
             [&] { return email(r.email, "email"); },
             [&]() -> Result<void> {
               if (r.experience < 0 || r.experience > 80)
                 return invalid("validation.experience", "experience must be between 0 and 80 years");
               return {};
             },
             [&] { return validate(r.availability); });
}

Result<void> validateRecord(const Patient& r, Instant now) {
  return all([&] { return present(r.patientId, "patient_id"); },
             [&] { return name(r.firstName, "first_name"); },
             [&] { return name(r.lastName, "last_name"); },
             [&] { return email(r.email, "email"); },
             [&] { return phone(r.phone, "phone"); },
             [&]() -> Result<void> {
               auto dob = validateDateOfBirth(r.dateOfBirth, toDate(now));
               if (!dob) return std::unexpected(dob.error());
               return {};
             },
             [&] { return validate(r.insuranceInfo); },
             [&] { return validate(r.preferences); });
}

Result<void> validateRecord(const Waitlist& r, Instant) {
  return all([&] { return present(r.waitlistId, "waitlist_id"); },
             [&] { return present(r.practiceId, "practice_id"); },
             [&] { return label(r.name, 255, "name"); },
             [&] { return text(r.description, 2000, "description"); });
}

Result<void> validateRecord(const WaitlistEntry& r, Instant) {
  return all([&] { return present(r.entryId, "entry_id"); },
             [&] { return present(r.waitlistId, "waitlist_id"); },
             [&] { return present(r.patientId, "patient_id"); },
             [&]() -> Result<void> {
               if (!std::isfinite(r.priorityScore))
                 return invalid("validation.priority", "priority_score must be a finite number");
               if (r.urgency < 0 || r.urgency > 3)
                 return invalid("validation.urgency", "urgency must be between 0 (routine) and 3 (highest)");
               return {};
             },
             [&] { return text(r.notes, 2000, "notes"); });
}

Result<void> validateRecord(const AppointmentSlot& r, Instant) {
  return all([&] { return present(r.slotId, "slot_id"); },
             [&] { return present(r.providerId, "provider_id"); },
             [&] { return validateTimeRange(r.startTime, r.endTime); });
}

Result<void> validateRecord(const AppointmentRequest& r, Instant) {
  return all([&] { return present(r.requestId, "request_id"); },
             [&] { return present(r.patientId, "patient_id"); },
             [&] { return present(r.providerId, "provider_id"); },
             [&] { return present(r.appointmentSlotId, "appointment_slot_id"); },
             [&] { return text(r.notes, 2000, "notes"); });
}

Result<void> validateRecord(const Appointment& r, Instant) {
  return all([&] { return present(r.appointmentId, "appointment_id"); },
             [&] { return present(r.providerId, "provider_id"); },
             [&] { return present(r.patientId, "patient_id"); },
             [&] { return validateTimeRange(r.startTime, r.endTime); },
             [&] { return text(r.notes, 2000, "notes"); });
}

Result<void> validateRecord(const Notification& r, Instant) {
  return all([&] { return present(r.notificationId, "notification_id"); },
             [&] { return present(r.recipientId, "recipient_id"); },
             [&]() -> Result<void> {
               if (r.content.templateKey.empty())
                 return invalid("validation.required", "content.template_key is required");
               return {};
             });
}

Result<void> validateRecord(const StaffUser& r, Instant) {
  return all([&] { return present(r.staffId, "staff_id"); },
             [&] { return present(r.practiceId, "practice_id"); },
             [&] { return label(r.displayName, 100, "display_name"); },
             [&]() -> Result<void> {
               if (!r.pinHash.starts_with("$argon2id$"))
                 return invalid("validation.pin_hash", "pin_hash must be an Argon2id hash");
               return {};
             });
}

}  // namespace anteroom
