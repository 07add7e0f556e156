// The tables of DESIGN.md 5.3: one row per column class, per writable entity, per status only the
// hub sets, per request rule; the functions below only read them.
#include "anteroom/model/sync_rules.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <iterator>
#include <utility>

#include "anteroom/model/status.hpp"
#include "anteroom/model/validation.hpp"

namespace anteroom {
namespace {

using C = ColumnClass;
using E = Entity;

// [SECTION] Column classes, one row per column of every field list (fields.hpp)

struct ColumnRow {
  Entity entity;
  std::string_view column;
  ColumnClass cls;
};

constexpr ColumnRow kColumns[] = {
    {E::Practice, "practice_id", C::Key},
    {E::Practice, "name", C::Mergeable},
    {E::Practice, "address", C::Mergeable},
    {E::Practice, "phone", C::Mergeable},
    {E::Practice, "email", C::Mergeable},
    {E::Practice, "settings", C::Mergeable},
    {E::Practice, "created_at", C::ServerOwned},
    {E::Practice, "updated_at", C::ServerOwned},

    {E::Provider, "provider_id", C::Key},
    {E::Provider, "practice_id", C::Reference},
    {E::Provider, "first_name", C::Identity},
    {E::Provider, "last_name", C::Identity},
    {E::Provider, "email", C::Identity},
    {E::Provider, "specialties", C::Mergeable},
    {E::Provider, "modalities", C::Mergeable},
    {E::Provider, "availability", C::Mergeable},
    {E::Provider, "experience", C::Mergeable},
    {E::Provider, "telehealth", C::Mergeable},
    {E::Provider, "created_at", C::ServerOwned},
    {E::Provider, "updated_at", C::ServerOwned},

    {E::Patient, "patient_id", C::Key},
    {E::Patient, "first_name", C::Identity},
    {E::Patient, "last_name", C::Identity},
    {E::Patient, "email", C::Identity},
    {E::Patient, "phone", C::Mergeable},
    {E::Patient, "date_of_birth", C::Identity},
    {E::Patient, "insurance_info", C::Mergeable},
    {E::Patient, "preferences", C::Mergeable},
    {E::Patient, "created_at", C::ServerOwned},
    {E::Patient, "updated_at", C::ServerOwned},

    {E::Waitlist, "waitlist_id", C::Key},
    {E::Waitlist, "practice_id", C::Reference},
    {E::Waitlist, "name", C::Mergeable},
    {E::Waitlist, "description", C::Mergeable},
    {E::Waitlist, "criteria", C::Mergeable},
    {E::Waitlist, "created_at", C::ServerOwned},
    {E::Waitlist, "updated_at", C::ServerOwned},

    {E::WaitlistEntry, "entry_id", C::Key},
    {E::WaitlistEntry, "waitlist_id", C::Reference},
    {E::WaitlistEntry, "patient_id", C::Reference},
    {E::WaitlistEntry, "provider_id", C::Reference},
    // Derived from the entry, the patient and the clock: the hub scores it (waitlist_engine.hpp).
    {E::WaitlistEntry, "priority_score", C::ServerOwned},
    {E::WaitlistEntry, "status", C::Status},
    {E::WaitlistEntry, "notes", C::Mergeable},
    {E::WaitlistEntry, "created_at", C::ServerOwned},
    {E::WaitlistEntry, "updated_at", C::ServerOwned},
    // Staff set urgency on the kiosk's staff board (WaitlistService::setUrgency, staff only);
    // the later judgement wins and the earlier one stays in the audit trail.
    {E::WaitlistEntry, "urgency", C::Mergeable},
    {E::WaitlistEntry, "urgency_set_by", C::Mergeable},

    {E::AppointmentSlot, "slot_id", C::Key},
    {E::AppointmentSlot, "provider_id", C::Reference},
    {E::AppointmentSlot, "start_time", C::Immutable},
    {E::AppointmentSlot, "end_time", C::Immutable},
    {E::AppointmentSlot, "status", C::ServerOwned},  // devices never book or hold
    {E::AppointmentSlot, "created_at", C::ServerOwned},
    {E::AppointmentSlot, "updated_at", C::ServerOwned},

    {E::AppointmentRequest, "request_id", C::Key},
    {E::AppointmentRequest, "patient_id", C::Reference},
    {E::AppointmentRequest, "provider_id", C::Reference},
    {E::AppointmentRequest, "waitlist_entry_id", C::Reference},
    {E::AppointmentRequest, "appointment_slot_id", C::Reference},
    {E::AppointmentRequest, "status", C::Status},
    {E::AppointmentRequest, "requested_time", C::Immutable},
    {E::AppointmentRequest, "notes", C::Mergeable},
    {E::AppointmentRequest, "created_at", C::ServerOwned},
    {E::AppointmentRequest, "updated_at", C::ServerOwned},

    {E::Appointment, "appointment_id", C::Key},
    {E::Appointment, "provider_id", C::Reference},
    {E::Appointment, "patient_id", C::Reference},
    {E::Appointment, "waitlist_entry_id", C::Reference},
    {E::Appointment, "start_time", C::Immutable},
    {E::Appointment, "end_time", C::Immutable},
    {E::Appointment, "status", C::Status},
    {E::Appointment, "type", C::Immutable},
    {E::Appointment, "notes", C::Mergeable},
    {E::Appointment, "created_at", C::ServerOwned},
    {E::Appointment, "updated_at", C::ServerOwned},

    {E::Notification, "notification_id", C::Key},
    {E::Notification, "recipient_id", C::Reference},
    {E::Notification, "recipient_type", C::Immutable},
    {E::Notification, "type", C::Immutable},
    {E::Notification, "content", C::Immutable},
    {E::Notification, "status", C::Status},
    {E::Notification, "sent_at", C::ServerOwned},  // set by delivery, centrally
    {E::Notification, "read_at", C::ServerOwned},
    {E::Notification, "created_at", C::ServerOwned},
    {E::Notification, "updated_at", C::ServerOwned},

    {E::StaffUser, "staff_id", C::Key},
    {E::StaffUser, "practice_id", C::Reference},
    {E::StaffUser, "display_name", C::Mergeable},
    // Who may unlock the back office, and as what: enrolled centrally only.
    {E::StaffUser, "role", C::ServerOwned},
    {E::StaffUser, "pin_hash", C::ServerOwned},
    {E::StaffUser, "active", C::ServerOwned},
    {E::StaffUser, "created_at", C::ServerOwned},
    {E::StaffUser, "updated_at", C::ServerOwned},
};

struct ClassName {
  ColumnClass cls;
  std::string_view name;
};
constexpr ClassName kClassNames[] = {
    {C::Key, "key"},         {C::Reference, "reference"},      {C::Identity, "identity"},
    {C::Mergeable, "mergeable"}, {C::Status, "status"}, {C::ServerOwned, "server_owned"},
    {C::Immutable, "immutable"},
};

// [SECTION] What a device may write

struct Writable {
  Entity entity;
  bool insert;
  bool update;
  bool remove;
  std::string_view why;  // completes "a device may not <verb> <noun> records: "
};

constexpr Writable kWritable[] = {
    {E::Practice, false, false, false, "practice details are managed centrally"},
    {E::Provider, false, false, false, "providers are managed centrally"},
    // Walk-ins register, and returning walk-ins correct their details.
    {E::Patient, true, true, false, "patient records are never deleted from a kiosk"},
    {E::Waitlist, false, false, false, "waitlists are managed centrally"},
    // Joining, offers (waiting <-> offered), staff urgency and removal (a status).
    {E::WaitlistEntry, true, true, false, "removing a patient from a waitlist is a status change"},
    {E::AppointmentSlot, false, false, false, "only the practice books and holds slots"},
    // Same-day requests and waitlist offers, and the patient's answer to an offer.
    {E::AppointmentRequest, true, true, false, "a request is withdrawn by cancelling it"},
    // Check-in and no-show; booking happens when the practice confirms a request.
    {E::Appointment, false, true, false, "appointments are booked by the practice from a request"},
    // Arrivals and requests for the front desk; delivery updates them centrally.
    {E::Notification, true, false, false, "notifications are updated by their delivery"},
    {E::StaffUser, false, false, false, "staff and their PINs are enrolled centrally"},
};

struct KindName {
  MutationKind kind;
  std::string_view name;
  std::string_view verb;
};
constexpr KindName kKinds[] = {
    {MutationKind::Insert, "insert", "create"},
    {MutationKind::Update, "update", "change"},
    {MutationKind::Delete, "delete", "delete"},
};

// [SECTION] Statuses a device may not set (the hub's decisions) and may start in

struct StatusRow {
  Entity entity;
  std::string_view status;
  std::string_view message;  // for hub-only rows; empty for start rows
};

constexpr StatusRow kHubOnlyStatuses[] = {
    {E::AppointmentRequest, "confirmed", "only the practice can confirm a request; it stays a request until then"},
    {E::AppointmentRequest, "rejected", "only the practice can reject a request"},
    {E::WaitlistEntry, "scheduled", "a waitlist entry is scheduled when the practice confirms its appointment"},
};

constexpr StatusRow kInitialStatuses[] = {
    {E::AppointmentRequest, "pending", ""},
    {E::AppointmentRequest, "offered", ""},
    {E::WaitlistEntry, "waiting", ""},
    {E::Notification, "pending", ""},
};

const StatusRow* findStatus(std::span<const StatusRow> rows, Entity entity, const Json& status) {
  if (!status.isString()) return nullptr;
  const auto it = std::ranges::find_if(
      rows, [&](const StatusRow& r) { return r.entity == entity && r.status == status.asString(); });
  return it == rows.end() ? nullptr : &*it;
}

// [SECTION] Helpers

template <class T>
concept HasStatus = requires(T r) {
  { checkTransition(r.status, r.status) } -> std::same_as<TransitionCheck>;
};

// The entity's machine on two status texts; nullopt when either is not one of its statuses.
std::optional<TransitionCheck> statusMove(Entity entity, const Json& from, const Json& to) {
  return visitEntity(entity, [&](auto record) -> std::optional<TransitionCheck> {
    if constexpr (HasStatus<decltype(record)>) {
      using S = decltype(record.status);
      if (!from.isString() || !to.isString()) return std::nullopt;
      const auto f = parseEnum<S>(from.asString());
      const auto t = parseEnum<S>(to.asString());
      if (!f || !t) return std::nullopt;
      return checkTransition(*f, *t);
    } else {
      return std::nullopt;
    }
  });
}

const Writable* writableOf(Entity entity) {
  const auto* it = std::ranges::find(kWritable, entity, &Writable::entity);
  return it == std::ranges::end(kWritable) ? nullptr : it;
}

MergePlan rejected(std::string code, std::string message) {
  MergePlan plan;
  plan.rejection = Rejection{std::move(code), std::move(message)};
  return plan;
}

MergePlan notWritable(Entity entity, MutationKind kind) {
  const auto* k = std::ranges::find(kKinds, kind, &KindName::kind);
  const Writable* w = writableOf(entity);
  const std::string_view verb = k == std::ranges::end(kKinds) ? "write" : k->verb;
  std::string message = "a device may not " + std::string(verb) + " " + std::string(nounOf(entity)) + " records";
  if (w) message += ": " + std::string(w->why);
  return rejected("sync.not_writable", std::move(message));
}

// The row as it would be with the device's values in it must read back as its record type, so
// that a value of the wrong type is refused naming its column before anything is decided.
std::optional<MergePlan> badValues(Entity entity, const Json::Object& row) {
  auto error = visitEntity(entity, [&](auto record) -> std::optional<Error> {
    auto read = fromRowJson<decltype(record)>(row);
    if (read) return std::nullopt;
    return std::move(read.error());
  });
  if (!error) return std::nullopt;
  return rejected(std::move(error->code), std::move(error->message));
}

const Json& valueIn(const Json::Object& row, const std::string& column) {
  static const Json kNull;
  const auto it = row.find(column);
  return it == row.end() ? kNull : it->second;
}

// [SECTION] Request rules, in the order they are checked

struct RequestContext {
  const AppointmentRequest& request;
  const AppointmentSlot& slot;
  std::span<const Appointment> appointments;
  const std::optional<WaitlistEntry>& entry;
  Instant now;
};

struct RequestRule {
  std::string_view code;
  std::string_view message;
  bool (*refuses)(const RequestContext&);
};

bool isLive(const Appointment& a) {
  return !a.sync.deleted && a.status != AppointmentStatus::Cancelled && a.status != AppointmentStatus::NoShow;
}

constexpr RequestRule kRequestRules[] = {
    {"request.wrong_slot", "this request is for a different time slot",
     [](const RequestContext& c) { return c.request.appointmentSlotId != c.slot.slotId; }},
    {"request.slot_gone", "that time slot was removed by the practice",
     [](const RequestContext& c) { return c.slot.sync.deleted; }},
    {"request.slot_taken", "that time slot is no longer available",
     [](const RequestContext& c) {
       return c.slot.status != SlotStatus::Open && c.slot.status != SlotStatus::Held;
     }},
    {"request.slot_held", "that time slot is held for a patient who was offered it",
     [](const RequestContext& c) {
       return c.slot.status == SlotStatus::Held && c.request.status != RequestStatus::Accepted;
     }},
    {"request.slot_past", "that time slot has already started",
     [](const RequestContext& c) { return c.slot.startTime <= c.now; }},
    {"request.other_provider", "that time slot belongs to a different provider than the one requested",
     [](const RequestContext& c) { return c.slot.providerId != c.request.providerId; }},
    {"request.overlap", "the provider already has an appointment at that time",
     [](const RequestContext& c) {
       return std::ranges::any_of(c.appointments, [&](const Appointment& a) {
         return isLive(a) && a.providerId == c.slot.providerId && a.startTime < c.slot.endTime &&
                c.slot.startTime < a.endTime;
       });
     }},
    {"request.entry_inactive", "the patient is no longer waiting on that waitlist",
     [](const RequestContext& c) {
       if (!c.request.waitlistEntryId) return false;
       return !c.entry || c.entry->entryId != *c.request.waitlistEntryId || c.entry->sync.deleted ||
              !isActive(c.entry->status);
     }},
    {"request.entry_mismatch", "the waitlist entry belongs to another patient",
     [](const RequestContext& c) { return c.request.waitlistEntryId && c.entry->patientId != c.request.patientId; }},
};

RequestRejection rejectRequest(const AppointmentRequest& request, Instant now, std::string code, std::string message) {
  RequestRejection r{std::move(code), std::move(message), request};
  if (checkTransition(request.status, RequestStatus::Rejected).kind == Transition::Legal) {
    r.requestRejected.status = RequestStatus::Rejected;
    r.requestRejected.updatedAt = now;
  }
  return r;
}

}  // namespace

// [SECTION] Column classes

std::string_view toString(ColumnClass value) noexcept {
  const auto* it = std::ranges::find(kClassNames, value, &ClassName::cls);
  return it == std::ranges::end(kClassNames) ? std::string_view{} : it->name;
}

std::optional<ColumnClass> findColumnClass(Entity entity, std::string_view column) noexcept {
  const auto* it = std::ranges::find_if(
      kColumns, [&](const ColumnRow& r) { return r.entity == entity && r.column == column; });
  if (it == std::ranges::end(kColumns)) return std::nullopt;
  return it->cls;
}

ColumnClass columnClass(Entity entity, std::string_view column) noexcept {
  return findColumnClass(entity, column).value_or(ColumnClass::ServerOwned);
}

const Json::Object& serverOwnedDefaults(Entity entity) {
  // One static per record type: a pushed row no longer builds a default record's JSON and looks
  // up every column's class (twice, with the hub's validation) to complete itself.
  return visitEntity(entity, [entity](auto record) -> const Json::Object& {
    static const Json::Object defaults = [&] {
      Json::Object serverOwned;
      for (auto& [column, value] : toRowJson(record))
        if (columnClass(entity, column) == ColumnClass::ServerOwned) serverOwned.emplace(column, std::move(value));
      return serverOwned;
    }();
    return defaults;
  });
}

std::vector<std::string_view> columnsOfClass(Entity entity, ColumnClass cls) {
  std::vector<std::string_view> columns;
  for (const ColumnRow& r : kColumns)
    if (r.entity == entity && r.cls == cls) columns.push_back(r.column);
  return columns;
}

// [SECTION] What a device may write

std::string_view toString(MutationKind kind) noexcept {
  const auto* it = std::ranges::find(kKinds, kind, &KindName::kind);
  return it == std::ranges::end(kKinds) ? std::string_view{} : it->name;
}

std::optional<MutationKind> parseMutationKind(std::string_view text) noexcept {
  const auto* it = std::ranges::find(kKinds, text, &KindName::name);
  if (it == std::ranges::end(kKinds)) return std::nullopt;
  return it->kind;
}

bool deviceMay(Entity entity, MutationKind kind) noexcept {
  const Writable* it = writableOf(entity);
  if (!it) return false;
  switch (kind) {
    case MutationKind::Insert: return it->insert;
    case MutationKind::Update: return it->update;
    case MutationKind::Delete: return it->remove;
  }
  return false;
}

// [SECTION] Merging

bool MergePlan::merged() const noexcept {
  return !rejection && (!conflicts.empty() || !overwritten.empty() || !ignored.empty());
}

MergePlan planUpdate(Entity entity, const Json::Object& central, const Json::Object& changes,
                     const Json::Object& prior) {
  if (!deviceMay(entity, MutationKind::Update)) return notWritable(entity, MutationKind::Update);
  Json::Object withChanges = central;
  for (const auto& [column, change] : changes)
    if (columnClass(entity, column) != ColumnClass::ServerOwned) withChanges.insert_or_assign(column, change);
  if (auto bad = badValues(entity, withChanges)) return std::move(*bad);

  MergePlan plan;
  for (const auto& [column, change] : changes) {
    const auto cls = findColumnClass(entity, column);
    if (!cls || *cls == ColumnClass::ServerOwned) {
      plan.ignored.push_back(column);
      continue;
    }
    const Json& now = valueIn(central, column);
    if (change == now) continue;  // a repeat, or both sides made the same change
    const auto seen = prior.find(column);
    const bool unchangedCentrally = seen != prior.end() && seen->second == now;
    switch (*cls) {
      case ColumnClass::Key:
      case ColumnClass::Reference:
      case ColumnClass::Immutable:
        return rejected("sync.column.fixed", "this " + std::string(nounOf(entity)) + "'s " + column +
                                                 " cannot be changed once it is created");
      case ColumnClass::Mergeable:
        if (!unchangedCentrally) plan.overwritten.push_back({column, now, change});
        plan.toWrite.insert_or_assign(column, change);
        break;
      case ColumnClass::Identity:
        if (unchangedCentrally) plan.toWrite.insert_or_assign(column, change);
        else plan.conflicts.push_back({column, now, change});
        break;
      case ColumnClass::Status: {
        if (const StatusRow* hubOnly = findStatus(kHubOnlyStatuses, entity, change))
          return rejected("sync.status.hub_only", std::string(hubOnly->message));
        const auto move = statusMove(entity, now, change);
        if (!move)
          return rejected("sync.status.unknown",
                          "the " + std::string(nounOf(entity)) + "'s status is not one this system knows");
        if (move->kind == Transition::Illegal) return rejected("sync.status.illegal", std::string(move->reason));
        plan.toWrite.insert_or_assign(column, change);
        break;
      }
      case ColumnClass::ServerOwned: break;  // handled above
    }
  }
  return plan;
}

MergePlan planInsert(Entity entity, const Json::Object& row) {
  if (!deviceMay(entity, MutationKind::Insert)) return notWritable(entity, MutationKind::Insert);
  // Server-owned columns are the hub's to set, so a device's row need not carry them (the
  // store leaves priority_score out of the outbox): read it back with their defaults.
  Json::Object complete = row;
  for (const auto& [column, value] : serverOwnedDefaults(entity)) complete.emplace(column, value);
  if (auto bad = badValues(entity, complete)) return std::move(*bad);
  MergePlan plan;
  for (const auto& [column, value] : row) {
    const auto cls = findColumnClass(entity, column);
    if (!cls || *cls == ColumnClass::ServerOwned) {
      plan.ignored.push_back(column);
      continue;
    }
    if (*cls == ColumnClass::Status && !findStatus(kInitialStatuses, entity, value))
      return rejected("sync.status.initial", "a new " + std::string(nounOf(entity)) + " cannot start with that status");
    plan.toWrite.insert_or_assign(column, value);
  }
  return plan;
}

MergePlan planDelete(Entity entity) {
  if (!deviceMay(entity, MutationKind::Delete)) return notWritable(entity, MutationKind::Delete);
  return {};
}

// [SECTION] Walk-in identity

WalkinIdentity foldIdentity(std::string_view firstName, std::string_view lastName, Date dateOfBirth) {
  // The kiosk's lookup key (and central's anteroom_fold_name, kept in parity with it).
  return {nameLookupKey(firstName), nameLookupKey(lastName), dateOfBirth};
}

bool sameIdentity(const WalkinIdentity& a, const WalkinIdentity& b) noexcept {
  if (a.firstFolded.empty() || a.lastFolded.empty()) return false;
  return a == b;
}

// [SECTION] Request confirmation

RequestDecision decideRequest(const AppointmentRequest& request, const AppointmentSlot& slot,
                              std::span<const Appointment> providerAppointmentsOverlappingSlot,
                              const std::optional<WaitlistEntry>& entry, Instant now,
                              const NewAppointment& appointment) {
  const TransitionCheck open = checkTransition(request.status, RequestStatus::Confirmed);
  if (open.kind == Transition::NoOp)
    return rejectRequest(request, now, "request.not_open", "this request is already confirmed");
  if (open.kind == Transition::Illegal)
    return rejectRequest(request, now, "request.not_open", std::string(open.reason));

  const RequestContext context{request, slot, providerAppointmentsOverlappingSlot, entry, now};
  for (const RequestRule& rule : kRequestRules)
    if (rule.refuses(context)) return rejectRequest(request, now, std::string(rule.code), std::string(rule.message));

  RequestConfirmation c;
  c.toCreate.appointmentId = appointment.appointmentId;
  c.toCreate.providerId = slot.providerId;
  c.toCreate.patientId = request.patientId;
  c.toCreate.waitlistEntryId = request.waitlistEntryId;
  c.toCreate.startTime = slot.startTime;
  c.toCreate.endTime = slot.endTime;
  c.toCreate.status = AppointmentStatus::Scheduled;
  c.toCreate.type = appointment.type;
  c.toCreate.createdAt = now;
  c.toCreate.updatedAt = now;

  c.slotBooked = slot;
  c.slotBooked.status = SlotStatus::Booked;
  c.slotBooked.updatedAt = now;

  if (request.waitlistEntryId) {
    c.entryScheduled = *entry;  // present and active: checked by the last rule
    c.entryScheduled->status = WaitlistEntryStatus::Scheduled;
    c.entryScheduled->updatedAt = now;
  }

  c.requestConfirmed = request;
  c.requestConfirmed.status = RequestStatus::Confirmed;
  c.requestConfirmed.updatedAt = now;
  return c;
}

// [SECTION] A patient's arrival

bool checksIn(const Json::Object& before, const Json::Object& toWrite) {
  const auto to = toWrite.find("status");
  if (to == toWrite.end() || !to->second.isString() || to->second.asString() != toString(AppointmentStatus::CheckedIn))
    return false;
  const auto from = before.find("status");
  return from == before.end() || !from->second.isString() || from->second.asString() != to->second.asString();
}

Notification arrivalNotice(const Appointment& appointment, const ArrivalCheckIn& at, const Uuid& notificationId) {
  Notification note;
  note.notificationId = notificationId;
  note.recipientId = appointment.providerId;
  note.recipientType = RecipientType::Provider;
  note.type = NotificationType::PatientArrived;
  note.content.templateKey = "patient_arrived";
  note.content.params = {{"appointment_id", appointment.appointmentId.toString()},
                         {"arrived_at", formatInstant(std::min(at.arrivedAt, at.now))}};
  note.status = NotificationStatus::Pending;
  note.createdAt = at.now;
  note.updatedAt = at.now;
  return note;
}

}  // namespace anteroom
