// Whole-record rules checked before a local write reaches the store: every field normalised
// and valid, times ordered. Rows from the server are the server's to judge and are not re-checked.
#pragma once

#include "anteroom/model/error.hpp"
#include "anteroom/model/records.hpp"

namespace anteroom {

// `now` decides what "a plausible date of birth" is. Errors carry the field's code from
// validation.hpp, and a message that names the field without echoing its value.
Result<void> validateRecord(const Practice& r, Instant now);
Result<void> validateRecord(const Provider& r, Instant now);
Result<void> validateRecord(const Patient& r, Instant now);
Result<void> validateRecord(const Waitlist& r, Instant now);
Result<void> validateRecord(const WaitlistEntry& r, Instant now);
Result<void> validateRecord(const AppointmentSlot& r, Instant now);
Result<void> validateRecord(const AppointmentRequest& r, Instant now);
Result<void> validateRecord(const Appointment& r, Instant now);
Result<void> validateRecord(const Notification& r, Instant now);
Result<void> validateRecord(const StaffUser& r, Instant now);

}  // namespace anteroom
