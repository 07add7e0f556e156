// The kiosk's encrypted local store (SQLCipher): open, migrate, read and write records.
// Every domain write appends its outbox mutation and an audit row in the same transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anteroom/model/error.hpp"
#include "anteroom/model/records.hpp"
#include "anteroom/store/secret_key.hpp"

namespace anteroom::store {

// Who is acting, for the audit log: the kiosk (patient self-service), a staff member
// (by staff id), the sync daemon, or an operator through anteroom-admin.
struct Actor {
  enum class Kind { Kiosk, Staff, Sync, Admin };
  Kind kind = Kind::Kiosk;
  std::string id;  // staff id, device id or operator tag; never a patient's name

  static Actor kiosk() { return {Kind::Kiosk, "kiosk"}; }
  static Actor staff(const Uuid& staffId) { return {Kind::Staff, staffId.toString()}; }
  static Actor sync() { return {Kind::Sync, "syncd"}; }
  static Actor admin() { return {Kind::Admin, "admin"}; }
};
std::string_view toString(Actor::Kind kind);

struct Migration {
  int version = 0;
  std::string name;  // "0001_initial"
  std::string sql;
};
// The migrations compiled into this program from migrations/local/.
std::span<const Migration> bundledMigrations();

// What opening says when the key does not decrypt the first page. SQLCipher cannot tell a wrong
// key from a damaged first page; 'anteroom-admin store check --backup' can.
inline constexpr const char* kWrongKeyMessage =
    "wrong key or not an Anteroom store, or its first page is damaged";

struct OpenOptions {
  std::filesystem::path path;
  bool create = false;  // create the file when missing (otherwise a missing file is an error)
  // Tests pass their own list; normally the bundled migrations.
  std::optional<std::span<const Migration>> migrations;
  std::size_t outboxCeiling = 200000;  // a full outbox refuses new writes instead of growing forever
  std::chrono::milliseconds busyTimeout{5000};
  // Open a store that was found damaged before (for 'store check', which looks and can clear it).
  bool allowDamaged = false;
  // Decrypted pages kept per connection. SQLite's own default (2 MiB) for the kiosk, whose store
  // is small and whose memory is watched; the sync daemon asks for kSyncPageCacheKiB.
  std::size_t pageCacheKiB = 2048;
};

// A page that falls out of the cache is read back and decrypted (AES and HMAC) when touched
// again; the random keys of a pulled table's primary-key index touch every leaf, so a first sync
// of 50,000 rows spent a third of its apply time decrypting pages it had just written
// (44 -> 28 us a row with 8 MiB).
inline constexpr std::size_t kSyncPageCacheKiB = 8192;

struct OutboxMutation {
  std::int64_t deviceSeq = 0;
  std::string mutationId;  // UUIDv7
  std::string entity;      // table name
  std::string entityId;
  std::string kind;     // insert | update | delete
  std::string changes;  // JSON object of the changed columns' new values
  std::int64_t baseVersion = 0;
  std::string hlc;
  std::string createdAt;
  // JSON object of the values the changed columns had on the device before the change ("{}" for
  // an insert or a delete), so the hub can compare-and-set per column (DESIGN.md 5.2).
  std::string prior;
  int schemaVersion = 0;  // the store's schema version when the mutation was written
};

struct AuditEvent {
  std::int64_t auditId = 0;
  std::string at;
  std::string actorKind;
  std::string actorId;
  std::string action;
  std::string entity;
  std::string entityId;
  std::string fields;  // names of the fields touched, comma separated; never their values
};

// A mutation the server refused or merged differently, waiting for staff to look at it.
struct SyncConflict {
  std::int64_t conflictId = 0;
  std::string mutationId;
  std::string entity;
  std::string entityId;
  std::string reason;  // the server's words, e.g. "a cancelled appointment cannot be checked in"
  std::string createdAt;
  std::string code;         // the server's code, e.g. "appointment.illegal_transition"
  std::string localValue;   // JSON: what the device wrote (the mutation's changes)
  std::string serverValue;  // JSON: the server's row, or empty when it sent none
};

struct StoreInfo {
  std::string cipherVersion;
  std::string sqliteVersion;
  int schemaVersion = 0;
  int latestKnownVersion = 0;
  std::string deviceId;
  std::int64_t pageSize = 0;
  std::int64_t pageCount = 0;
  std::string journalMode;
  std::vector<std::pair<std::string, std::int64_t>> rowCounts;  // per table
  std::int64_t pendingOutbox = 0;
};

struct PurgeReport {
  std::vector<std::pair<std::string, std::int64_t>> removed;  // per table
  std::int64_t keptForPendingSync = 0;
  [[nodiscard]] std::int64_t total() const;
};

struct CheckInReceipt {
  Appointment appointment;
  bool alreadyCheckedIn = false;
};

// Whether a row applied from the server was written, held back for pending local edits (kept in
// sync_held by SyncTx::apply), or older than what the device has (Stale: nothing written).
enum class ApplyOutcome { Applied, SkippedPendingLocal, Stale };

class Store;
class SyncTx;  // sync_store.hpp

// Writes inside one transaction. Obtained from Store::write(); each call appends
// outbox and audit rows in the same transaction.
class WriteTx {
 public:
  template <class T>
  Result<void> insert(const T& record);
  // Writes the changed columns; the outbox carries only what changed. No-op when nothing did.
  template <class T>
  Result<void> update(const T& record);
  // A tombstone: the row stays (deleted = 1) until the server has it and the purge removes it.
  template <class T>
  Result<void> remove(const Uuid& id);
  template <class T>
  Result<std::optional<T>> get(const Uuid& id);
  // A whole row written as if from the server (demo data, seeding, tests): no outbox entry,
  // skipped (not kept) while local edits wait, any row_version. Pulled rows go through
  // SyncTx::apply (sync_store.hpp), which keeps the version rule and holds rows back.
  template <class T>
  Result<ApplyOutcome> applyRemote(const T& record);
  // An audit row for reading PHI (staff views); no outbox.
  Result<void> recordAccess(std::string_view entity, const Uuid& id, std::string_view action);
  [[nodiscard]] Instant now() const { return m_now; }
  [[nodiscard]] const Actor& actor() const { return m_actor; }

 private:
  friend class Store;
  WriteTx(Store& store, Actor actor, Instant now) : m_store(store), m_actor(std::move(actor)), m_now(now) {}
  Store& m_store;
  Actor m_actor;
  Instant m_now;
};

class Store {
 public:
  // Opens (or creates) the store, proves it is encrypted with this key, applies pending
  // migrations. Errors: "wrong key or not an Anteroom store", a corrupt file, a newer schema.
  static Result<Store> open(const OpenOptions& options, const SecretKey& key);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // [SECTION] Whole-store operations
  Result<StoreInfo> info();
  // Reads every page (each page's MAC is checked) and runs SQLite's integrity_check. A pass
  // clears an earlier damage mark; a failure sets it.
  Result<void> checkIntegrity();
  // Set once damage (SQLITE_CORRUPT or NOTADB) was seen: every write is refused from then on,
  // and later opens are refused until a check passes. The kiosk goes out of service on it.
  [[nodiscard]] std::optional<Error> damage() const;
  // Things the operator should fix that do not stop the store (a store file others can read).
  [[nodiscard]] const std::vector<std::string>& warnings() const;
  Result<void> rekey(const SecretKey& newKey);
  // Folds the WAL into the main file (for backups, tests and the sqlcipher shell).
  Result<void> checkpoint();
  // Changes whenever another connection (the sync daemon) commits; cheap enough to poll.
  Result<std::int64_t> dataVersion();

  // [SECTION] Writes: fn runs inside one IMMEDIATE transaction, committed iff it succeeds.
  Result<void> write(const Actor& actor, const std::function<Result<void>(WriteTx&)>& fn);
  Result<void> write(const Actor& actor, Instant now, const std::function<Result<void>(WriteTx&)>& fn);
  template <class T>
  Result<void> insert(const T& record, const Actor& actor);
  template <class T>
  Result<void> update(const T& record, const Actor& actor);

  // Demo data and seeding (see WriteTx::applyRemote): written without an outbox entry; a row
  // with pending local mutations is left as it is.
  template <class T>
  Result<ApplyOutcome> applyRemote(const T& record, const Actor& actor);

  // [SECTION] Reads
  template <class T>
  Result<std::optional<T>> get(const Uuid& id);
  Result<std::optional<Practice>> practice();
  Result<std::vector<Provider>> providers();
  Result<std::vector<Waitlist>> waitlists();
  Result<std::vector<StaffUser>> staffUsers();
  // Exact match on date of birth and the case/accent-folded last name.
  Result<std::vector<Patient>> findPatients(std::string_view lastName, Date dateOfBirth);
  Result<std::optional<Patient>> findPatientByEmail(std::string_view email);
  Result<std::vector<Appointment>> appointmentsBetween(Instant from, Instant to);
  Result<std::vector<Appointment>> appointmentsForPatient(const Uuid& patientId, Instant from, Instant to);
  Result<std::vector<AppointmentSlot>> slotsBetween(Instant from, Instant to, std::optional<SlotStatus> status);
  Result<std::vector<WaitlistEntry>> waitlistEntries(const Uuid& waitlistId, bool activeOnly);
  // Everyone with an entry (any status) on one waitlist, or on any: one query, not one per entry.
  Result<std::vector<Patient>> patientsOnWaitlists(std::optional<Uuid> waitlistId);
  Result<std::vector<AppointmentRequest>> requestsForSlot(const Uuid& slotId);
  Result<std::vector<Notification>> notificationsFor(const Uuid& recipientId);

  // [SECTION] Domain operations (rules from the model)
  // scheduled -> checked_in: one outbox mutation. The provider's PatientArrived notification is
  // the hub's to write when it applies the check-in (model arrivalNotice), once however many
  // kiosks checked the patient in. Repeating a check-in is a no-op; an illegal move is a Conflict error with the reason.
  Result<CheckInReceipt> checkIn(const Uuid& appointmentId, const Actor& actor, Instant now);
  Result<Appointment> setAppointmentStatus(const Uuid& appointmentId, AppointmentStatus to,
                                           const Actor& actor, Instant now);

  // [SECTION] Sync (sync_store.hpp): fn runs inside one IMMEDIATE transaction with the sync
  // actor, committed iff it succeeds. Pull pages and acknowledgements go through here.
  Result<void> syncWrite(const std::function<Result<void>(SyncTx&)>& fn);
  Result<void> syncWrite(Instant now, const std::function<Result<void>(SyncTx&)>& fn);
  // Resync after the hub's 409: refused (Conflict "store.outbox_not_empty") while local changes
  // wait; otherwise removes every synced row, the held-back rows and the pull cursor, keeping
  // conflicts, the audit log, the device id and the rest of the device's state.
  Result<void> resetForResync();

  // [SECTION] Outbox, audit, sync state
  Result<std::vector<OutboxMutation>> pendingOutbox(std::size_t limit);
  Result<std::int64_t> pendingOutboxCount();
  // The highest device_seq ever queued (0 for none). It only grows: acknowledgements delete outbox
  // rows but never lower it, so the sync daemon's watcher can tell a new local write from its own.
  Result<std::int64_t> lastOutboxSeq();
  Result<std::vector<AuditEvent>> auditTrail(std::size_t limit);
  Result<std::optional<std::string>> syncValue(std::string_view key);
  // Commits on its own: for device settings. Sync state that must move with a page (the cursor)
  // is written through SyncTx::setValue.
  Result<void> setSyncValue(std::string_view key, std::string_view value);
  [[nodiscard]] const Uuid& deviceId() const;
  Result<std::vector<SyncConflict>> openConflicts(std::size_t limit);
  // Marks a conflict reviewed by a staff member (audited).
  Result<void> resolveConflict(std::int64_t conflictId, const Actor& actor);

  // [SECTION] Data minimisation: removes synced rows outside the device's data window
  // (appointments from yesterday to daysAhead ahead, open waitlist entries, what they reference).
  Result<PurgeReport> purgeOutsideWindow(Instant now, int daysAhead);

  struct Impl;

 private:
  friend class WriteTx;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace anteroom::store
