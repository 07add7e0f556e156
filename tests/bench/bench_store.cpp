// Storage benchmarks for the kiosk: check-in transaction latency, patient lookup, SQLCipher's
// overhead against plain SQLite, and store open time. Prints "name: value unit" lines only.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "anteroom/model/validation.hpp"
#include "anteroom/store/secret_key.hpp"
#include "anteroom/store/store.hpp"
#include "demo_seed.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using anteroom::Appointment;
using anteroom::AppointmentStatus;
using anteroom::Date;
using anteroom::Error;
using anteroom::Instant;
using anteroom::Patient;
using anteroom::Result;
using anteroom::Uuid;
using anteroom::UuidGenerator;
using anteroom::store::Actor;
using anteroom::store::OpenOptions;
using anteroom::store::SecretKey;
using anteroom::store::Store;
using anteroom::store::WriteTx;
using Clock = std::chrono::steady_clock;

// [SECTION] Plumbing: sizes, errors, output, statistics, the temp directory

struct Sizes {
  int demoPatients;       // seedDemo's practice for the check-in store
  int extraAppointments;  // scheduled today, each checked in once (timed)
  int lookupPatients;     // the lookup store's patients
  int lookupHits;
  int lookupMisses;
  int rawRows;   // patients and appointments in the raw-SQL workload
  int rawTxns;   // check-in-shaped transactions in the raw-SQL workload
  int rawReads;  // primary-key lookups in the raw-SQL workload
  int opens;
};
constexpr Sizes kFull{2000, 1000, 100000, 2000, 200, 2000, 2000, 20000, 30};
constexpr Sizes kQuick{200, 150, 10000, 400, 40, 300, 150, 4000, 8};

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void failWith(std::string_view what, const Error& e) {
  throw BenchError(std::string(what) + ": " + e.code + ": " + e.message);
}

template <class T>
T need(Result<T> r, std::string_view what) {
  if (!r) failWith(what, r.error());
  return std::move(*r);
}
void need(const Result<void>& r, std::string_view what) {
  if (!r) failWith(what, r.error());
}

void metric(const char* name, double value, const char* unit) {
  std::printf("%s: %.3f %s\n", name, value, unit);
  std::fflush(stdout);
}
void count(const char* name, long long value, const char* unit) {
  std::printf("%s: %lld %s\n", name, value, unit);
  std::fflush(stdout);
}
void note(const std::string& text) {
  std::printf("# %s\n", text.c_str());
  std::fflush(stdout);
}

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Stats {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};
// Nearest-rank percentiles.
Stats summarize(std::vector<double> samples) {
  if (samples.empty()) throw BenchError("no samples to summarize");
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    k = std::clamp<std::size_t>(k, 1, samples.size());
    return samples[k - 1];
  };
  return {rank(0.50), rank(0.99), samples.back()};
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern += "/anteroom-bench-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw BenchError("cannot create a temp directory from " + pattern);
    m_path = buffer.data();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
    if (ec) std::fprintf(stderr, "anteroom-bench-store: could not remove %s: %s\n", m_path.c_str(), ec.message().c_str());
  }
  [[nodiscard]] const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

void removeDatabase(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    fs::remove(fs::path(file.string() + suffix), ec);
  }
}

// [SECTION] Synthetic people

constexpr std::array<const char*, 12> kFirstNames = {"Avery", "Blake", "Camila", "Dmitri", "Elena",  "Farah",
                                                     "Hana",  "Inés",  "Jonah",  "Lucía",  "Mateo", "Zoe"};
constexpr std::array<const char*, 30> kLastNames = {
    "Abernathy", "Bellweather", "Castellanos", "Duquesne",  "Everhart",    "Fairbanks", "Galloway", "Hollister",
    "Ibarra",    "Jessop",      "Kowalczyk",   "Lindqvist", "Marchetti",   "Nakamura",  "Okonkwo",  "Peña",
    "Quintero",  "Rosenthal",   "Salcedo",     "Thistlewood", "Underhill", "Valdés",    "Whitcombe", "Yarborough",
    "Zeller",    "Muñoz",       "O'Hanlon",    "Ruiz-Tagle", "Beaumont",   "Carrow"};
constexpr const char* kMissingLastName = "Quillfeather";  // never generated

template <class Array>
const char* pick(std::mt19937_64& rng, const Array& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(rng)];
}

Date randomBirthDate(std::mt19937_64& rng) {
  using namespace std::chrono;
  const int offset = std::uniform_int_distribution<int>(0, 22500)(rng);
  return year_month_day{sys_days{1945y / January / 1} + days{offset}};
}

Patient makePatient(std::mt19937_64& rng, UuidGenerator& ids, int index, std::string_view tag, Instant now) {
  Patient p;
  p.patientId = ids.v7(now);
  p.firstName = pick(rng, kFirstNames);
  p.lastName = pick(rng, kLastNames);
  p.email = std::string(tag) + "." + std::to_string(index) + "@patients.example";
  p.phone = "+1541555" + std::to_string(1000 + index % 9000);
  p.dateOfBirth = randomBirthDate(rng);
  p.insuranceInfo.payer = "Aetna";
  p.insuranceInfo.planName = "Standard";
  p.insuranceInfo.memberId = "M" + std::to_string(10000000 + index);
  p.preferences.concerns = {"anxiety"};
  p.preferences.contactConsent = true;
  p.createdAt = now - std::chrono::days{30};
  p.updatedAt = p.createdAt;
  p.sync.rowVersion = 1;
  return p;
}

OpenOptions storeOptions(const fs::path& path, bool create) {
  OpenOptions o;
  o.path = path;
  o.create = create;
  return o;
}

// [SECTION] 1. Check-in transaction latency

constexpr int kPageCountedCheckIns = 20;
constexpr double kPageBytes = 4096;          // cipher_page_size
constexpr double kWalHeaderBytes = 32;       // sqlite's WAL file header
constexpr double kWalFrameHeaderBytes = 24;  // per frame

// Returns the store's path, left behind for the open benchmark.
fs::path benchCheckIn(const fs::path& dir, const SecretKey& key, const Sizes& sizes) {
  const fs::path path = dir / "checkin.db";
  auto store = need(Store::open(storeOptions(path, true), key), "creating the check-in store");
  const Instant now = anteroom::nowUtc();
  const Instant midnight = anteroom::admin::localMidnightToday(now);

  anteroom::admin::SeedOptions seed;
  seed.patients = sizes.demoPatients;
  seed.now = now;
  seed.localMidnight = midnight;
  const auto summary = need(anteroom::admin::seedDemo(store, seed), "seeding the demo practice");
  const auto providers = need(store.providers(), "reading the providers");
  if (providers.empty()) throw BenchError("the demo practice has no providers");

  // Extra scheduled appointments today, for new patients, spread over the providers.
  std::mt19937_64 rng(11);
  UuidGenerator ids(11);
  std::vector<Uuid> appointments;
  appointments.reserve(static_cast<std::size_t>(sizes.extraAppointments + kPageCountedCheckIns));
  need(store.write(Actor::admin(), now,
                   [&](WriteTx& tx) -> Result<void> {
                     for (int i = 0; i < sizes.extraAppointments + kPageCountedCheckIns; ++i) {
                       const Patient patient = makePatient(rng, ids, i, "checkin", now);
                       if (auto r = tx.applyRemote(patient); !r) return std::unexpected(r.error());
                       Appointment appt;
                       appt.appointmentId = ids.v7(now);
                       appt.providerId = providers[static_cast<std::size_t>(i) % providers.size()].providerId;
                       appt.patientId = patient.patientId;
                       appt.startTime = midnight + 7h + std::chrono::seconds{15LL * i};
                       appt.endTime = appt.startTime + 50min;
                       appt.status = AppointmentStatus::Scheduled;
                       appt.createdAt = now - std::chrono::days{7};
                       appt.updatedAt = appt.createdAt;
                       appt.sync.rowVersion = 1;
                       if (auto r = tx.applyRemote(appt); !r) return std::unexpected(r.error());
                       appointments.push_back(appt.appointmentId);
                     }
                     return {};
                   }),
       "adding today's extra appointments");
  // The last few check-ins are not timed: each starts on an empty WAL, so the WAL's size after
  // its commit says how many pages (each encrypted, each fsync'd) one check-in writes.
  const std::vector<Uuid> pageCounted(appointments.end() - kPageCountedCheckIns, appointments.end());
  appointments.resize(appointments.size() - kPageCountedCheckIns);
  const auto today = need(store.appointmentsBetween(midnight, midnight + std::chrono::days{1}), "reading today");
  note("checkin: " + std::to_string(summary.patients + sizes.extraAppointments) + " patients, " +
       std::to_string(today.size()) + " appointments today; timing " + std::to_string(appointments.size()) +
       " check-ins (synchronous=FULL)");

  std::vector<double> samples;
  samples.reserve(appointments.size());
  for (const Uuid& id : appointments) {
    const auto start = Clock::now();
    auto receipt = store.checkIn(id, Actor::kiosk(), anteroom::nowUtc());
    const double ms = msSince(start);
    const auto checked = need(std::move(receipt), "checking in");
    if (checked.alreadyCheckedIn || checked.appointment.status != AppointmentStatus::CheckedIn)
      throw BenchError("a check-in did not move the appointment to checked_in");
    samples.push_back(ms);
  }
  const Stats s = summarize(std::move(samples));
  note("target: checkin_txn_p99_ms < 10");
  metric("checkin_txn_p50_ms", s.p50, "ms");
  metric("checkin_txn_p99_ms", s.p99, "ms");
  metric("checkin_txn_max_ms", s.max, "ms");

  const fs::path wal = path.string() + "-wal";
  double pages = 0;
  for (const Uuid& id : pageCounted) {
    need(store.checkpoint(), "emptying the WAL");
    need(store.checkIn(id, Actor::kiosk(), anteroom::nowUtc()), "checking in");
    const auto walBytes = static_cast<double>(fs::file_size(wal));
    pages += (walBytes - kWalHeaderBytes) / (kPageBytes + kWalFrameHeaderBytes);
  }
  note("checkin_pages_per_commit: WAL frames of one check-in commit, mean of " +
       std::to_string(kPageCountedCheckIns) + " (target: no heavier than about 11)");
  metric("checkin_pages_per_commit", pages / kPageCountedCheckIns, "pages");
  return path;
}

// [SECTION] 2. Patient lookup on a large store

void benchLookup(const fs::path& dir, const SecretKey& key, const Sizes& sizes) {
  auto store = need(Store::open(storeOptions(dir / "lookup.db", true), key), "creating the lookup store");
  const Instant now = anteroom::nowUtc();
  struct Probe {
    std::string lastName;
    Date dateOfBirth;
    bool exists;
  };
  std::vector<Probe> known;
  known.reserve(static_cast<std::size_t>(sizes.lookupPatients));
  std::mt19937_64 rng(23);
  UuidGenerator ids(23);

  const auto seedStart = Clock::now();
  need(store.write(Actor::admin(), now,
                   [&](WriteTx& tx) -> Result<void> {
                     for (int i = 0; i < sizes.lookupPatients; ++i) {
                       Patient patient = makePatient(rng, ids, i, "lookup", now);
                       if (auto r = tx.applyRemote(patient); !r) return std::unexpected(r.error());
                       known.push_back({std::move(patient.lastName), patient.dateOfBirth, true});
                     }
                     return {};
                   }),
       "seeding the lookup patients");
  const double seedSeconds = msSince(seedStart) / 1000.0;
  note("lookup: " + std::to_string(sizes.lookupPatients) + " patients seeded in one transaction; " +
       std::to_string(sizes.lookupHits) + " lookups of existing patients + " + std::to_string(sizes.lookupMisses) +
       " misses, in random order");
  count("lookup_patients", sizes.lookupPatients, "patients");
  metric("seed_100k_patients_s", seedSeconds, "s");

  std::vector<Probe> probes;
  probes.reserve(static_cast<std::size_t>(sizes.lookupHits + sizes.lookupMisses));
  std::uniform_int_distribution<std::size_t> anyKnown(0, known.size() - 1);
  for (int i = 0; i < sizes.lookupHits; ++i) probes.push_back(known[anyKnown(rng)]);
  for (int i = 0; i < sizes.lookupMisses; ++i) {
    // Half an unknown name on a busy date, half a known name with an unused (future) date.
    if (i % 2 == 0) {
      probes.push_back({kMissingLastName, randomBirthDate(rng), false});
    } else {
      using namespace std::chrono;
      probes.push_back({pick(rng, kLastNames), year_month_day{sys_days{2030y / January / 1} + days{i}}, false});
    }
  }
  std::shuffle(probes.begin(), probes.end(), rng);

  std::vector<double> samples;
  samples.reserve(probes.size());
  for (const Probe& probe : probes) {
    const auto start = Clock::now();
    auto found = store.findPatients(probe.lastName, probe.dateOfBirth);
    const double ms = msSince(start);
    const auto rows = need(std::move(found), "looking up a patient");
    if (probe.exists != !rows.empty())
      throw BenchError(probe.exists ? "a lookup missed a seeded patient" : "a lookup found a patient that was never seeded");
    samples.push_back(ms);
  }
  const Stats s = summarize(std::move(samples));
  note("target: patient_lookup_100k_p99_ms < 1");
  metric("patient_lookup_100k_p50_ms", s.p50, "ms");
  metric("patient_lookup_100k_p99_ms", s.p99, "ms");
  metric("patient_lookup_100k_max_ms", s.max, "ms");
}

// [SECTION] 3. SQLCipher against plain SQLite (same library), raw SQL

class RawDb {
 public:
  RawDb(const fs::path& path, const SecretKey* key) {
    const int rc = sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) raise("opening " + path.string());
    if (key != nullptr) {
      const SecretKey::RawKeyText text(*key);
      if (sqlite3_key(m_db, text.data(), text.size()) != SQLITE_OK) raise("setting the key");
      exec("PRAGMA cipher_page_size = 4096");
    }
    if (scalar("PRAGMA journal_mode = WAL") != "wal") throw BenchError("the raw database refused WAL mode");
    exec("PRAGMA synchronous = FULL");
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA secure_delete = ON");
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close_v2(m_db); }

  [[nodiscard]] sqlite3* get() const { return m_db; }
  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message != nullptr ? message : sqlite3_errmsg(m_db);
      sqlite3_free(message);
      throw BenchError("raw SQL failed: " + text);
    }
  }
  // The first column of the first row, as text ("" for none or NULL).
  std::string scalar(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) != SQLITE_OK) raise(sql);
    std::string out;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out.assign(reinterpret_cast<const char*>(text));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) raise(sql);
    return out;
  }
  [[noreturn]] void raise(const std::string& what) const {
    throw BenchError("raw SQL: " + what + ": " + (m_db != nullptr ? sqlite3_errmsg(m_db) : "out of memory"));
  }

 private:
  sqlite3* m_db = nullptr;
};

class RawStmt {
 public:
  RawStmt(RawDb& db, const char* sql) : m_db(db) {
    if (sqlite3_prepare_v2(db.get(), sql, -1, &m_stmt, nullptr) != SQLITE_OK) db.raise(sql);
  }
  RawStmt(const RawStmt&) = delete;
  RawStmt& operator=(const RawStmt&) = delete;
  ~RawStmt() { sqlite3_finalize(m_stmt); }

  RawStmt& text(int index, const std::string& value) {
    sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  RawStmt& integer(int index, std::int64_t value) {
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
  }
  void run() {
    const int rc = sqlite3_step(m_stmt);
    sqlite3_reset(m_stmt);
    if (rc != SQLITE_DONE) m_db.raise("writing");
  }
  // Steps to the one row and reads every column; returns its size in bytes (0: no row).
  std::size_t fetchRow() {
    const int rc = sqlite3_step(m_stmt);
    std::size_t bytes = 0;
    if (rc == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(m_stmt); ++c) {
        sqlite3_column_text(m_stmt, c);
        bytes += static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c));
      }
    }
    sqlite3_reset(m_stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) m_db.raise("reading");
    return bytes;
  }

 private:
  RawDb& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

struct RawTimes {
  double totalMs = 0;
  double setupMs = 0;
  double writeMs = 0;
  double readMs = 0;
};

// Schema, a practice with patients and appointments (one transaction), check-in-shaped
// transactions, then a fresh connection doing primary-key lookups (pages decrypted cold).
RawTimes runRawWorkload(const fs::path& file, const SecretKey* key, const Sizes& sizes) {
  removeDatabase(file);
  RawTimes t;
  const auto total = Clock::now();
  const Instant now = anteroom::nowUtc();
  const std::string stamp = anteroom::formatInstant(now);
  UuidGenerator ids(31);
  std::mt19937_64 rng(31);
  std::vector<std::string> patientIds;
  std::vector<std::string> appointmentIds;
  const auto rows = static_cast<std::size_t>(sizes.rawRows);
  patientIds.reserve(rows);
  appointmentIds.reserve(rows);
  {
    RawDb db(file, key);
    auto phase = Clock::now();
    for (const auto& m : anteroom::store::bundledMigrations()) db.exec(m.sql);
    db.exec("BEGIN IMMEDIATE");
    const std::string practiceId = ids.v7(now).toString();
    const std::string providerId = ids.v7(now).toString();
    {
      RawStmt practice(db,
                       "INSERT INTO practice (practice_id, name, address, phone, email, settings, created_at,"
                       " updated_at, row_version) VALUES (?, 'Bench practice', '{\"city\":\"Springfield\"}',"
                       " '+15415550100', 'bench@practice.example', '{}', ?, ?, 1)");
      practice.text(1, practiceId).text(2, stamp).text(3, stamp).run();
      RawStmt provider(db,
                       "INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties,"
                       " modalities, availability, experience, telehealth, created_at, updated_at, row_version)"
                       " VALUES (?, ?, 'Miriam', 'Ashcombe', 'miriam@practice.example', '[\"anxiety\"]',"
                       " '[\"cbt\"]', '{\"windows\":[]}', 14, 1, ?, ?, 1)");
      provider.text(1, providerId).text(2, practiceId).text(3, stamp).text(4, stamp).run();
      RawStmt patient(db,
                      "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth,"
                      " insurance_info, preferences, created_at, updated_at, row_version, lookup_key)"
                      " VALUES (?, ?, ?, ?, '+15415551234', ?,"
                      " '{\"self_pay\":false,\"payer\":\"Aetna\",\"plan_name\":\"Standard\",\"member_id\":\"M12345678\"}',"
                      " '{\"mode\":\"either\",\"concerns\":[\"anxiety\"],\"language\":\"en\",\"contact_consent\":true}',"
                      " ?, ?, 1, ?)");
      RawStmt appointment(db,
                          "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time,"
                          " status, type, created_at, updated_at, row_version)"
                          " VALUES (?, ?, ?, ?, ?, 'scheduled', 'in_person', ?, ?, 1)");
      for (int i = 0; i < sizes.rawRows; ++i) {
        patientIds.push_back(ids.v7(now).toString());
        const std::string last = pick(rng, kLastNames);
        patient.text(1, patientIds.back())
            .text(2, pick(rng, kFirstNames))
            .text(3, last)
            .text(4, "raw." + std::to_string(i) + "@patients.example")
            .text(5, anteroom::formatDate(randomBirthDate(rng)))
            .text(6, stamp)
            .text(7, stamp)
            .text(8, anteroom::nameLookupKey(last))
            .run();
        appointmentIds.push_back(ids.v7(now).toString());
        const Instant start = now + std::chrono::minutes{i};
        appointment.text(1, appointmentIds.back())
            .text(2, providerId)
            .text(3, patientIds.back())
            .text(4, anteroom::formatInstant(start))
            .text(5, anteroom::formatInstant(start + 50min))
            .text(6, stamp)
            .text(7, stamp)
            .run();
      }
    }
    db.exec("COMMIT");
    t.setupMs = msSince(phase);

    // Mirrors Store::checkIn: status update, notification, two outbox rows, three audit
    // rows and the persisted clock, in one IMMEDIATE transaction each.
    phase = Clock::now();
    {
      RawStmt update(db, "UPDATE appointment SET status = 'checked_in', updated_at = ? WHERE appointment_id = ?");
      RawStmt notify(db,
                     "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content,"
                     " status, created_at, updated_at) VALUES (?, ?, 'provider', 'patient_arrived', ?, 'pending',"
                     " ?, ?)");
      RawStmt outbox(db,
                     "INSERT INTO outbox (mutation_id, entity, entity_id, kind, changes, base_version, hlc,"
                     " created_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
      RawStmt audit(db,
                    "INSERT INTO audit_log (at, hlc, actor_kind, actor_id, action, entity, entity_id, fields)"
                    " VALUES (?, ?, 'kiosk', 'kiosk', ?, ?, ?, ?)");
      RawStmt clock(db, "INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES ('hlc', ?, ?)");
      for (int i = 0; i < sizes.rawTxns; ++i) {
        const std::string& apptId = appointmentIds[static_cast<std::size_t>(i) % rows];
        const std::string at = anteroom::formatInstant(anteroom::nowUtc());
        const std::string hlc = at + "-" + std::to_string(i) + "-bench";
        const std::string noteId = ids.v7(now).toString();
        const std::string content = "{\"template_key\":\"patient_arrived\",\"params\":{\"appointment_id\":\"" + apptId +
                                    "\",\"arrived_at\":\"" + at + "\"}}";
        db.exec("BEGIN IMMEDIATE");
        update.text(1, at).text(2, apptId).run();
        outbox.text(1, ids.v7(now).toString())
            .text(2, "appointment")
            .text(3, apptId)
            .text(4, "update")
            .text(5, "{\"status\":\"checked_in\"}")
            .text(6, hlc)
            .text(7, at)
            .run();
        audit.text(1, at).text(2, hlc).text(3, "update").text(4, "appointment").text(5, apptId).text(6, "status").run();
        notify.text(1, noteId).text(2, providerId).text(3, content).text(4, at).text(5, at).run();
        outbox.text(1, ids.v7(now).toString())
            .text(2, "notification")
            .text(3, noteId)
            .text(4, "insert")
            .text(5, content)
            .text(6, hlc)
            .text(7, at)
            .run();
        audit.text(1, at).text(2, hlc).text(3, "create").text(4, "notification").text(5, noteId).text(6, "").run();
        audit.text(1, at).text(2, hlc).text(3, "check_in").text(4, "appointment").text(5, apptId).text(6, "").run();
        clock.text(1, hlc).text(2, at).run();
        db.exec("COMMIT");
      }
    }
    t.writeMs = msSince(phase);
  }
  {
    const auto phase = Clock::now();
    RawDb db(file, key);
    RawStmt patient(db, "SELECT * FROM patient WHERE patient_id = ?");
    RawStmt appointment(db, "SELECT * FROM appointment WHERE appointment_id = ?");
    std::uniform_int_distribution<std::size_t> anyRow(0, rows - 1);
    for (int i = 0; i < sizes.rawReads; ++i) {
      const std::size_t row = anyRow(rng);
      RawStmt& stmt = i % 2 == 0 ? patient : appointment;
      stmt.text(1, i % 2 == 0 ? patientIds[row] : appointmentIds[row]);
      if (stmt.fetchRow() == 0) throw BenchError("a primary-key lookup found no row");
    }
    t.readMs = msSince(phase);
  }
  t.totalMs = msSince(total);

  // The keyed file must not be readable as SQLite, and the unkeyed one must be.
  std::array<char, 16> header{};
  std::ifstream in(file, std::ios::binary);
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  const bool plain = std::string_view(header.data(), 15) == "SQLite format 3";
  if (plain == (key != nullptr))
    throw BenchError(key != nullptr ? "the keyed raw database is not encrypted" : "the unkeyed raw database is not plain SQLite");
  removeDatabase(file);
  return t;
}

void benchEncryption(const fs::path& dir, const SecretKey& key, const Sizes& sizes) {
  {
    RawDb probe(dir / "probe.db", &key);
    const std::string version = probe.scalar("PRAGMA cipher_version");
    if (version.empty()) throw BenchError("PRAGMA cipher_version is empty: this binary is not linked with SQLCipher");
    note("sqlcipher " + version + ", sqlite " + sqlite3_libversion());
  }
  removeDatabase(dir / "probe.db");
  note("encryption: " + std::to_string(sizes.rawRows) + " patients + appointments, " + std::to_string(sizes.rawTxns) +
       " check-in transactions, " + std::to_string(sizes.rawReads) +
       " primary-key reads; runs off,on,off,on, best of each");

  RawTimes bestOff;
  RawTimes bestOn;
  bestOff.totalMs = bestOn.totalMs = 1e300;
  for (int round = 0; round < 2; ++round) {
    const RawTimes off = runRawWorkload(dir / "raw-plain.db", nullptr, sizes);
    if (off.totalMs < bestOff.totalMs) bestOff = off;
    const RawTimes on = runRawWorkload(dir / "raw-keyed.db", &key, sizes);
    if (on.totalMs < bestOn.totalMs) bestOn = on;
  }
  auto phases = [](const RawTimes& t) {
    std::array<char, 128> line{};
    std::snprintf(line.data(), line.size(), "setup %.1f ms, writes %.1f ms, reads %.1f ms", t.setupMs, t.writeMs,
                  t.readMs);
    return std::string(line.data());
  };
  note("encryption off: " + phases(bestOff));
  note("encryption on:  " + phases(bestOn));
  note("target: encryption_overhead_ratio <= 1.5");
  metric("encryption_on_ms", bestOn.totalMs, "ms");
  metric("encryption_off_ms", bestOff.totalMs, "ms");
  metric("encryption_overhead_ratio", bestOn.totalMs / bestOff.totalMs, "x");
}

// [SECTION] 4. Opening an existing store with the raw key

void benchOpen(const fs::path& path, const SecretKey& key, const Sizes& sizes) {
  note("open: Store::open of the seeded check-in store, " + std::to_string(sizes.opens) + " times");
  std::vector<double> samples;
  for (int i = 0; i < sizes.opens; ++i) {
    const auto start = Clock::now();
    auto opened = Store::open(storeOptions(path, false), key);
    const double ms = msSince(start);
    auto store = need(std::move(opened), "reopening the check-in store");
    samples.push_back(ms);
  }  // each store closes before the next opens
  const Stats s = summarize(std::move(samples));
  note("target: store_open_raw_key_p50_ms < 20");
  metric("store_open_raw_key_p50_ms", s.p50, "ms");
  metric("store_open_raw_key_max_ms", s.max, "ms");
}

void run(bool quick) {
  const Sizes& sizes = quick ? kQuick : kFull;
  const auto start = Clock::now();
  note(std::string("anteroom-bench-store, ") + (quick ? "quick" : "full") + " run");
  const TempDir dir;
  const SecretKey key = need(SecretKey::generate(), "generating a store key");
  const fs::path checkInStore = benchCheckIn(dir.path(), key, sizes);
  benchLookup(dir.path(), key, sizes);
  benchEncryption(dir.path(), key, sizes);
  benchOpen(checkInStore, key, sizes);
  metric("bench_total_s", msSince(start) / 1000.0, "s");
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: anteroom-bench-store [--quick]\n");
      return 1;
    }
  }
  try {
    run(quick);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "anteroom-bench-store: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
