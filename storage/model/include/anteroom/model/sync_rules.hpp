// Who decides what when a device's change meets the central row (DESIGN.md 5.3): the class of
// every column, what a device may write, the per-column merge of an update, the walk-in identity
// match, and the hub's decision on an appointment request. Pure functions over row JSON.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "anteroom/model/json.hpp"
#include "anteroom/model/records.hpp"
#include "anteroom/model/row_json.hpp"
#include "anteroom/model/time.hpp"

namespace anteroom {

// [SECTION] Column classes

enum class ColumnClass {
  Key,          // the row's id; never changes
  Reference,    // a foreign key (*_id); fixed once the row exists (ids are remapped before merging)
  Identity,     // who a person is (names, date of birth, email): compare-and-set, conflicts to staff
  Mergeable,    // details anyone may correct (phone, insurance, preferences, notes): later arrival wins
  Status,       // the entity's one-way machine (status.hpp)
  ServerOwned,  // derived or decided centrally (priority_score, slot status, timestamps): ignored
  Immutable,    // fixed when the row is created (times of an appointment, a notification's content)
};

// "key", "reference", "identity", "mergeable", "status", "server_owned", "immutable"
std::string_view toString(ColumnClass value) noexcept;

// The class of a column of a row JSON (row_json.hpp); nullopt for a column the entity does not have.
std::optional<ColumnClass> findColumnClass(Entity entity, std::string_view column) noexcept;
// As findColumnClass, with unknown columns (local-only ones, a newer schema's) as ServerOwned:
// a device's value for them is ignored.
ColumnClass columnClass(Entity entity, std::string_view column) noexcept;
// A default record's server-owned columns and values: what a device's new row is completed with
// before it is read (a device need not send them). Built once an entity.
const Json::Object& serverOwnedDefaults(Entity entity);
// The entity's columns of one class in field-list order, e.g. its references for pulling the
// rows a page's rows point at.
std::vector<std::string_view> columnsOfClass(Entity entity, ColumnClass cls);

// [SECTION] What a device may write

enum class MutationKind { Insert, Update, Delete };

// The outbox's words: "insert", "update", "delete".
std::string_view toString(MutationKind kind) noexcept;
std::optional<MutationKind> parseMutationKind(std::string_view text) noexcept;

// From what the kiosk writes (walk-ins, waitlist joins and offers, same-day requests, check-in
// and no-show, front-desk notifications). Devices never book: no appointment inserts and no slot
// writes; an offer is an AppointmentRequest. Nothing is deleted from a device (removal from a
// waitlist is a status). Practice, providers, waitlists and staff are managed centrally.
bool deviceMay(Entity entity, MutationKind kind) noexcept;

// [SECTION] Merging a device's change into the central row

struct FieldConflict {
  std::string column;
  Json central;  // kept
  Json device;   // not applied; staff review both
  bool operator==(const FieldConflict&) const = default;
};

// A mergeable value someone else had changed, replaced by the device's: kept for the audit trail.
struct Overwrite {
  std::string column;
  Json previous;  // the central value that was overwritten
  Json written;   // the device's value
  bool operator==(const Overwrite&) const = default;
};

// Why a whole mutation is refused: a stable code and a sentence a person can act on (no values).
struct Rejection {
  std::string code;
  std::string message;
  bool operator==(const Rejection&) const = default;
};

struct MergePlan {
  Json::Object toWrite;                  // column -> value to write centrally
  std::vector<FieldConflict> conflicts;  // identity columns kept at their central value
  std::vector<Overwrite> overwritten;    // mergeable columns changed centrally since the device saw them
  std::vector<std::string> ignored;      // server-owned and unknown columns the device sent
  std::optional<Rejection> rejection;    // set: nothing of the mutation applies (the rest is empty)

  // Something differed from a plain apply of every change (the result is "merged", not "applied").
  [[nodiscard]] bool merged() const noexcept;
  bool operator==(const MergePlan&) const = default;
};

// central: the current central row (row JSON); changes: the device's new values of the columns it
// changed; prior: the values those columns had on the device before. Ids in changes must already
// be resolved through the hub's alias table. Per column of `changes`, in column order:
//   server-owned or unknown   ignored (listed)
//   key, reference, immutable equal to central: nothing; else the mutation is rejected
//                             ("sync.column.fixed"): the device never changes these, so a
//                             change is a defect to put in front of a person, not to drop
//   mergeable                 equal to central: nothing; central == prior: apply; else apply and
//                             record the overwritten central value
//   identity                  equal to central: nothing; central == prior: apply; else keep
//                             central and file a FieldConflict
//   status                    the machine: legal applies, a repeat is nothing, illegal rejects
//                             ("sync.status.illegal", the machine's reason); a status only the hub
//                             sets (a request's confirmed/rejected, an entry's scheduled) rejects
//                             ("sync.status.hub_only")
// A column missing from `prior` counts as "not what central holds". An entity the device may not
// update rejects ("sync.not_writable"); so does a value of the wrong type for its column, with the
// codes and messages of fromRowJson (e.g. "sync.row.type", "column phone must be a string").
MergePlan planUpdate(Entity entity, const Json::Object& central, const Json::Object& changes,
                     const Json::Object& prior);

// A device's new row: server-owned and unknown columns are ignored (the hub sets them, clamping
// created_at to receipt time), the rest is written. Rejects an entity the device may not insert
// ("sync.not_writable") and a status a new row of it cannot start in ("sync.status.initial":
// requests start pending or offered, waitlist entries waiting, notifications pending). The row
// must read as its record type (fromRowJson's errors, every column present).
MergePlan planInsert(Entity entity, const Json::Object& row);

// A device's delete: a tombstone written centrally when deviceMay allows it (today no entity),
// else rejected ("sync.not_writable") with the reason, e.g. "a device may not delete patient
// records: patient records are never deleted from a kiosk".
MergePlan planDelete(Entity entity);

// [SECTION] Walk-in identity

// Names folded as the kiosk folds them for lookup (nameLookupKey: case, accents, punctuation).
struct WalkinIdentity {
  std::string firstFolded;
  std::string lastFolded;
  Date dateOfBirth{};
  bool operator==(const WalkinIdentity&) const = default;
};

WalkinIdentity foldIdentity(std::string_view firstName, std::string_view lastName, Date dateOfBirth);
// Same folded first and last name and the same date of birth; an empty name never matches.
bool sameIdentity(const WalkinIdentity& a, const WalkinIdentity& b) noexcept;

// [SECTION] Confirming an appointment request (devices never book; the hub decides)

// What the caller supplies for the appointment a confirmation creates.
struct NewAppointment {
  Uuid appointmentId;
  AppointmentType type = AppointmentType::InPerson;  // from the patient's mode and the slot's
};

// Everything to write, in one transaction (the exclusion constraint has the last word).
struct RequestConfirmation {
  Appointment toCreate;
  AppointmentSlot slotBooked;                  // status booked
  std::optional<WaitlistEntry> entryScheduled;  // when the request came from a waitlist entry
  AppointmentRequest requestConfirmed;          // status confirmed
};

struct RequestRejection {
  std::string code;     // "request.slot_taken", ...
  std::string message;  // for staff and the patient's notification
  // Status rejected when the request machine allows it, else the request unchanged.
  AppointmentRequest requestRejected;
};

using RequestDecision = std::variant<RequestConfirmation, RequestRejection>;

// Rejects, in this order, when: the request cannot be confirmed (the request machine: only a
// pending request or an accepted offer; code "request.not_open"), names another slot
// ("request.wrong_slot"), the slot was deleted ("request.slot_gone") or is not open or held
// ("request.slot_taken"), is held for an offer and this is not an accepted offer
// ("request.slot_held"), has started ("request.slot_past"), belongs to another provider
// ("request.other_provider"), overlaps a live (not cancelled, not no-show) appointment of the
// provider ("request.overlap"), or the request's waitlist entry is missing or not active
// ("request.entry_inactive") or is another patient's ("request.entry_mismatch"). Times written
// are `now`.
RequestDecision decideRequest(const AppointmentRequest& request, const AppointmentSlot& slot,
                              std::span<const Appointment> providerAppointmentsOverlappingSlot,
                              const std::optional<WaitlistEntry>& entry, Instant now,
                              const NewAppointment& appointment);

// [SECTION] A patient's arrival (the hub tells the provider; devices only check in)

// The arrival notice the hub writes in the transaction that applies a check-in, so a check-in
// is one mutation on the wire and two kiosks checking one patient in make one notice. When the
// device checked in (`arrivedAt`, its clock) is kept apart from when the hub heard of it.
struct ArrivalCheckIn {
  Instant arrivedAt;  // the device's time of the check-in, never later than `now`
  Instant now;        // the hub's clock: the notice's created_at
};
// Whether applying `changes` to the central appointment row `before` checks the patient in:
// the status moves to checked_in from another status (a repeat is not an arrival).
bool checksIn(const Json::Object& before, const Json::Object& toWrite);
Notification arrivalNotice(const Appointment& appointment, const ArrivalCheckIn& at, const Uuid& notificationId);

}  // namespace anteroom
