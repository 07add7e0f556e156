// The simulation's world: central PostgreSQL, the hub core, devices with real stores, a faulty
// in-process transport, a seeded random walk and the checker of DESIGN.md 5.6.
#include "world.hpp"

#include "checker.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "anteroom/model/fields.hpp"
#include "anteroom/model/row_json.hpp"
#include "anteroom/model/validation.hpp"
#include "anteroom/store/sync_store.hpp"

namespace anteroom::sim {

using namespace std::chrono;

// [SECTION] The faulty transport: every message goes through the wire encoding

class FaultyTransport : public sync::Transport {
 public:
  FaultyTransport(std::function<sync::HubCore&()> hub, sync::DeviceContext device, std::mt19937_64& rng, Faults faults)
      : m_hub(std::move(hub)), m_device(device), m_rng(rng), m_faults(faults) {}

  void setFaults(Faults f) { m_faults = f; }
  [[nodiscard]] std::size_t faultsMade() const { return m_faultsMade; }

  Result<sync::PushResponse> push(const sync::PushRequest& request) override {
    deliverReplays();
    const std::string body = sync::encode(request);
    if (chance(m_faults.refuse)) return lost("the hub could not be reached");
    auto decoded = sync::decodePushRequest(body);
    if (!decoded) return std::unexpected(decoded.error());
    if (chance(m_faults.replayLater)) m_replays.push_back(*decoded);
    auto response = m_hub().applyPush(m_device, *decoded);
    if (response && chance(m_faults.duplicate)) response = m_hub().applyPush(m_device, *decoded);
    if (!response) return std::unexpected(response.error());
    if (chance(m_faults.dropResponse)) return lost("the hub's answer was lost");
    return sync::decodePushResponse(sync::encode(*response));
  }

  Result<sync::PullResponse> pull(const sync::PullRequest& request) override {
    deliverReplays();
    const std::string body = sync::encode(request);
    if (chance(m_faults.refuse)) return lost("the hub could not be reached");
    auto decoded = sync::decodePullRequest(body);
    if (!decoded) return std::unexpected(decoded.error());
    auto response = m_hub().pull(m_device, *decoded);
    if (!response) return std::unexpected(response.error());
    if (chance(m_faults.dropResponse)) return lost("the hub's answer was lost");
    return sync::decodePullResponse(sync::encode(*response));
  }

 private:
  bool chance(double p) {
    if (p <= 0) return false;
    const bool hit = std::uniform_real_distribution<double>(0, 1)(m_rng) < p;
    if (hit) ++m_faultsMade;
    return hit;
  }
  std::unexpected<Error> lost(std::string words) {
    return std::unexpected(Error{ErrorDomain::Network, "net.lost", std::move(words), true});
  }
  // A late copy of an earlier push arrives (a retry the network held back).
  void deliverReplays() {
    if (m_replays.empty() || !chance(0.5)) return;
    for (const auto& r : m_replays) (void)m_hub().applyPush(m_device, r);
    m_replays.clear();
  }

  std::function<sync::HubCore&()> m_hub;
  sync::DeviceContext m_device;
  std::mt19937_64& m_rng;
  Faults m_faults;
  std::vector<sync::PushRequest> m_replays;
  std::size_t m_faultsMade = 0;
};

// [SECTION] Helpers

namespace {

std::string hex64(std::mt19937_64& rng) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 64; ++i) s += digits[rng() % 16];
  return s;
}

pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> p;
  for (const auto& v : params) p.push_back(v ? v->c_str() : nullptr);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p));
}

// Synthetic people only: invented names from a short list, numbered.
constexpr const char* kFirst[] = {"Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jules"};
constexpr const char* kLast[] = {"Testwell", "Sampleton", "Mockridge", "Fixturo", "Demoine", "Placeholt"};

struct Person {
  Uuid id;
  std::string first, last, email, phone;
  Date dob{};
};

}  // namespace

// [SECTION] World

World::World(Central& central, WorldOptions options)
    : m_central(central), m_options(options), m_rng(options.seed), m_ids(options.seed) {
  m_now = Instant{sys_days{2026y / March / 2}} + hours{14} + minutes{static_cast<int>(options.seed % 240)};
  std::string tmpl = (std::filesystem::temp_directory_path() / "anteroom-sim-XXXXXX").string();
  if (char* made = ::mkdtemp(tmpl.data())) m_dir = made;
}

World::~World() {
  m_devices.clear();
  m_hub.reset();
  std::error_code ec;
  if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
}

void World::note(std::string line) {
  if (m_options.verbose) std::fprintf(stderr, "  %s\n", line.c_str());
  m_trace.push_back(std::move(line));
}

bool World::chance(double p) { return std::uniform_real_distribution<double>(0, 1)(m_rng) < p; }

template <class T>
const T& World::pick(const std::vector<T>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(m_rng)];
}

void World::central(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  pqxx::connection c(m_central.superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'system:ehr', true)",
                 m_practice.toString());
  exec(tx, sql, params);
  tx.commit();
}

std::optional<std::string> World::centralValue(const std::string& sql,
                                               const std::vector<std::optional<std::string>>& params) {
  pqxx::connection c(m_central.superDsn());
  pqxx::work tx(c);
  auto r = exec(tx, sql, params);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
}

Uuid World::centralAppointment(const Uuid& patient, Instant start) {
  const Uuid id = m_ids.v7(m_now);
  central(
      "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
      " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamp, $5::timestamp, 'scheduled', 'in_person')",
      {id.toString(), m_providers[0].toString(), patient.toString(), formatInstant(start),
       formatInstant(start + minutes{50})});
  m_appointments.push_back(id);
  return id;
}

Uuid World::centralSlot(const Uuid& provider, Instant start) {
  const Uuid id = m_ids.v7(m_now);
  central(
      "INSERT INTO appointment_slot (slot_id, provider_id, start_time, end_time, status)"
      " VALUES ($1::uuid, $2::uuid, $3::timestamp, $4::timestamp, 'open')",
      {id.toString(), provider.toString(), formatInstant(start), formatInstant(start + minutes{50})});
  m_slots.push_back(id);
  return id;
}

void World::centralTombstone(std::string_view table, std::string_view idColumn, const Uuid& id) {
  central("UPDATE " + std::string(table) + " SET deleted = true WHERE " + std::string(idColumn) + " = $1::uuid",
          {id.toString()});
  m_tombstones.emplace_back(std::string(table), id);
}

Result<void> World::setUp() {
  if (m_dir.empty()) return fail(ErrorDomain::Io, "sim.tmp", "cannot make a temporary folder");
  m_practice = m_ids.v7(m_now);
  m_waitlist = m_ids.v7(m_now);
  const std::string tag = m_practice.toString().substr(24);
  try {
    pqxx::connection c(m_central.superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'system:setup', true)",
                   m_practice.toString());
    tx.exec_params(
        "INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, $2,"
        " '{\"city\":\"Springfield\"}', '+15415550100', $3, '{\"data_window_days_ahead\":3}')",
        m_practice.toString(), "Invented Practice " + tag, "desk." + tag + "@practice.example");
    for (int i = 0; i < 2; ++i) {
      const Uuid p = m_ids.v7(m_now);
      tx.exec_params(
          "INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
          " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', $3, $4, '[\"anxiety\"]',"
          " '[\"cbt\"]', '{}', 7, true)",
          p.toString(), m_practice.toString(), std::string(kLast[i]), "robin" + std::to_string(i) + "." + tag + "@practice.example");
      m_providers.push_back(p);
    }
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'General', '{}')",
                   m_waitlist.toString(), m_practice.toString());
    for (int i = 0; i < 5; ++i) {
      const Uuid id = m_ids.v7(m_now);
      const std::string email = "p" + std::to_string(i) + "." + tag + "@mail.example";
      const std::string dob = "19" + std::to_string(70 + i) + "-0" + std::to_string(1 + i) + "-1" + std::to_string(i);
      tx.exec_params(
          "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info,"
          " preferences, email_hash, insurance_ids) VALUES ($1::uuid, pii_encrypt($2, $6), pii_encrypt($3, $6),"
          " pii_encrypt($4, $6), pii_encrypt('+15415550199', $6), pii_encrypt($5, $6), '{\"payer\":\"Invented Mutual\"}',"
          " pii_encrypt('{\"mode\":\"either\"}', $6), pii_lookup_hash($4, $7), pii_encrypt($8, $6))",
          id.toString(), std::string(kFirst[i]), std::string(kLast[i % 6]), email, dob, std::string(kPiiKey),
          std::string(kHashKey), "{\"member_id\":\"M-100" + std::to_string(i) + "\"}");
      m_patients.push_back(id);
    }
    tx.commit();
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Io, "sim.seed", std::string("seeding central failed: ") + e.what());
  }
  const Instant today = floor<days>(m_now);
  for (int i = 0; i < 4; ++i) centralAppointment(m_patients[static_cast<std::size_t>(i)], today + hours{15 + i});
  centralAppointment(m_patients[4], today + days{10} + hours{16});  // enters the window in a week
  for (int i = 0; i < 4; ++i) centralSlot(m_providers[1], today + days{1 + i / 2} + hours{15 + i});

  auto hub = sync::HubCore::connect({m_central.hubDsn(), kPiiKey, kHashKey, {}, [this] { return m_now; }, 100});
  if (!hub) return std::unexpected(hub.error());
  m_hub = std::move(*hub);
  for (int i = 0; i < m_options.devices; ++i) {
    if (auto d = addDevice(i); !d) return d;
  }
  for (std::size_t i = 0; i < m_devices.size(); ++i) {
    auto first = syncDevice(i);
    if (!first) return std::unexpected(first.error());
  }
  setFaults(m_options.faults);
  return {};
}

void World::openStore(Device& d) {
  store::OpenOptions o;
  o.path = d.path;
  o.create = true;
  auto s = store::Store::open(o, *d.key);
  d.store = s ? std::make_unique<store::Store>(std::move(*s)) : nullptr;
}

Result<void> World::addDevice(int index) {
  auto d = std::make_unique<Device>();
  d->name = "kiosk-" + std::string(1, static_cast<char>('a' + index));
  d->path = m_dir / (d->name + ".db");
  auto key = store::SecretKey::generate();
  if (!key) return std::unexpected(key.error());
  d->key = std::make_unique<store::SecretKey>(std::move(*key));
  openStore(*d);
  if (!d->store) return fail(ErrorDomain::Store, "sim.store", "cannot create a device store");
  d->deviceId = d->store->deviceId();
  try {
    central("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, $3, $4)",
            {d->deviceId.toString(), m_practice.toString(), d->name, hex64(m_rng)});
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Io, "sim.enroll", std::string("enrolling a device failed: ") + e.what());
  }
  d->transport = std::make_unique<FaultyTransport>([this]() -> sync::HubCore& { return *m_hub; },
                                                   sync::DeviceContext{d->deviceId, m_practice}, m_rng, Faults::none());
  m_devices.push_back(std::move(d));
  return {};
}

void World::setFaults(Faults faults) {
  for (auto& d : m_devices) d->transport->setFaults(faults);
}

void World::rememberOutbox(Device& d) {
  auto rows = d.store->pendingOutbox(1000000);
  if (!rows) return;
  for (const auto& r : *rows) d.mutationsMade.insert(r.mutationId);
}

Result<sync::SessionReport> World::syncDevice(std::size_t i) {
  Device& d = *m_devices.at(i);
  if (!d.store) return fail(ErrorDomain::Store, "sim.store", d.name + " has no open store");
  rememberOutbox(d);
  sync::SessionOptions o;
  o.pushBatch = 1 + m_rng() % 20;
  o.pullLimit = 5 + static_cast<int>(m_rng() % 50);
  // Half the sessions fetch a page ahead, as the daemon does (from the same draw, so a seed's
  // random sequence is the one it had before the option existed).
  o.overlapPages = o.pullLimit % 2 == 0;
  o.clock = [this] { return m_now; };
  sync::SyncSession session(*d.store, *d.transport, o);
  auto r = session.run();
  note(d.name + " sync: " + (r ? "ok, " + std::to_string(r->acknowledged) + " acked, " + std::to_string(r->changes) + " rows"
                                : "error " + r.error().code + ": " + r.error().message));
  return r;
}

void World::crashDevice(std::size_t i) {
  Device& d = *m_devices.at(i);
  if (d.store) rememberOutbox(d);
  d.store.reset();
  openStore(d);
  note(d.name + " crashed and restarted");
}

void World::restartHub() {
  auto hub = sync::HubCore::connect({m_central.hubDsn(), kPiiKey, kHashKey, {}, [this] { return m_now; }, 1 + m_rng() % 100});
  if (hub) m_hub = std::move(*hub);
  note("hub restarted");
}

// [SECTION] The random walk

void World::deviceWrite(Device& d) {
  store::Store& s = *d.store;
  const Instant today = floor<days>(m_now);
  const int op = static_cast<int>(m_rng() % 10);
  if (op < 3) {  // a patient checks in
    auto appts = s.appointmentsBetween(today, today + days{1});
    if (!appts || appts->empty()) return;
    const Appointment& a = pick(*appts);
    auto r = s.checkIn(a.appointmentId, store::Actor::kiosk(), m_now);
    note(d.name + " check-in " + a.appointmentId.toString().substr(24) + (r ? " ok" : " refused: " + r.error().message));
  } else if (op < 6) {  // a walk-in joins the waitlist
    Patient p;
    p.patientId = m_ids.v7(m_now);
    const int n = ++m_nameCounter;
    p.firstName = kFirst[n % 8];
    p.lastName = std::string(kLast[n % 6]);
    p.dateOfBirth = year{1990 + n % 20} / January / (1 + n % 28);
    p.email = "walkin" + std::to_string(n) + "." + m_practice.toString().substr(24) + "@mail.example";
    p.phone = "+1541555" + std::to_string(1000 + n % 9000);
    p.insuranceInfo.selfPay = true;
    const int kind = static_cast<int>(m_rng() % 4);
    if (kind == 0) {  // an existing patient, known centrally by this email, name and birth date
      const std::size_t k = m_rng() % m_patients.size();
      p.firstName = kFirst[k];
      p.lastName = kLast[k % 6];
      p.email = "p" + std::to_string(k) + "." + m_practice.toString().substr(24) + "@mail.example";
      p.dateOfBirth = year{1970 + static_cast<int>(k)} / month{static_cast<unsigned>(1 + k)} / day{static_cast<unsigned>(10 + k)};
    } else if (kind == 1) {  // someone else's email
      const std::size_t k = m_rng() % m_patients.size();
      p.email = "p" + std::to_string(k) + "." + m_practice.toString().substr(24) + "@mail.example";
    }
    WaitlistEntry e;
    e.entryId = m_ids.v7(m_now);
    e.waitlistId = m_waitlist;
    e.patientId = p.patientId;
    auto r = s.write(store::Actor::kiosk(), m_now, [&](store::WriteTx& tx) -> Result<void> {
      if (auto i = tx.insert(p); !i) return i;
      return tx.insert(e);
    });
    note(d.name + " walk-in " + p.patientId.toString().substr(24) + (kind == 0 ? " (known)" : kind == 1 ? " (email of another)" : "") +
         (r ? " ok" : " refused: " + r.error().message));
  } else if (op < 8) {  // a patient corrects their phone number
    std::vector<Patient> here;
    for (const auto& id : m_patients)
      if (auto got = s.get<Patient>(id); got && *got && !(*got)->sync.deleted) here.push_back(**got);
    if (here.empty()) return;
    Patient p = pick(here);
    p.phone = "+1541555" + std::to_string(2000 + m_rng() % 7000);
    auto r = s.update(p, store::Actor::kiosk());
    note(d.name + " phone edit " + p.patientId.toString().substr(24) + (r ? " ok" : " refused: " + r.error().message));
  } else {  // the front desk asks for an open slot for a waiting patient (devices never book)
    auto slots = s.slotsBetween(m_now, m_now + days{3}, SlotStatus::Open);
    if (!slots || slots->empty()) return;
    std::vector<Patient> here;
    for (const auto& id : m_patients)
      if (auto got = s.get<Patient>(id); got && *got) here.push_back(**got);
    if (here.empty()) return;
    const AppointmentSlot& slot = pick(*slots);
    AppointmentRequest req;
    req.requestId = m_ids.v7(m_now);
    req.patientId = pick(here).patientId;
    req.providerId = slot.providerId;
    req.appointmentSlotId = slot.slotId;
    req.status = RequestStatus::Pending;
    req.requestedTime = slot.startTime;
    auto r = s.insert(req, store::Actor::kiosk());
    note(d.name + " request slot " + slot.slotId.toString().substr(24) + (r ? " ok" : " refused: " + r.error().message));
  }
}

void World::centralEdit() {
  const Instant today = floor<days>(m_now);
  const int op = static_cast<int>(m_rng() % 6);
  try {
    if (op == 0) {
      const Uuid& a = pick(m_appointments);
      central("UPDATE appointment SET status = 'cancelled' WHERE appointment_id = $1::uuid AND status = 'scheduled'",
              {a.toString()});
      note("central cancels appointment " + a.toString().substr(24));
    } else if (op == 1) {
      const Uuid& p = pick(m_patients);
      central("UPDATE patient SET phone = pii_encrypt($1, $2) WHERE patient_id = $3::uuid",
              {"+1541555" + std::to_string(3000 + m_rng() % 6000), std::string(kPiiKey), p.toString()});
      note("central edits phone of " + p.toString().substr(24));
    } else if (op == 2) {
      const Uuid& p = pick(m_patients);
      central("UPDATE patient SET last_name = pii_encrypt($1, $2) WHERE patient_id = $3::uuid",
              {std::string(kLast[m_rng() % 6]) + "-Renamed", std::string(kPiiKey), p.toString()});
      note("central renames " + p.toString().substr(24));
    } else if (op == 3) {
      const Uuid id = centralAppointment(pick(m_patients), today + days{static_cast<int>(m_rng() % 12)} + hours{17});
      note("central books appointment " + id.toString().substr(24));
    } else if (op == 4) {
      const Uuid id = centralSlot(m_providers[m_rng() % 2], today + days{1 + static_cast<int>(m_rng() % 3)} +
                                                              hours{8 + static_cast<int>(m_rng() % 10)} + minutes{7});
      note("central opens slot " + id.toString().substr(24));
    } else {
      // A slot nobody asked for is withdrawn (a tombstone, kept 30 days at least).
      for (const auto& slot : m_slots) {
        auto asked = centralValue(
            "SELECT count(*) FROM appointment_request WHERE appointment_slot_id = $1::uuid", {slot.toString()});
        auto deleted = centralValue("SELECT deleted::text FROM appointment_slot WHERE slot_id = $1::uuid", {slot.toString()});
        if (asked == "0" && deleted == "false") {
          centralTombstone("appointment_slot", "slot_id", slot);
          note("central withdraws slot " + slot.toString().substr(24));
          break;
        }
      }
    }
  } catch (const pqxx::sql_error& e) {
    // Another system's write refused by the schema (an overlapping time): nothing to sync.
    note(std::string("central edit refused: ") + e.what());
  }
}

void World::randomStep() {
  const int r = static_cast<int>(m_rng() % 100);
  const std::size_t i = m_rng() % m_devices.size();
  if (r < 40) {
    if (m_devices[i]->store) deviceWrite(*m_devices[i]);
  } else if (r < 44) {
    staffResolve();
  } else if (r < 58) {
    centralEdit();
  } else if (r < 88) {
    (void)syncDevice(i);
  } else if (r < 94) {
    const int minutes = 5 + static_cast<int>(m_rng() % 600);
    advance(std::chrono::minutes{minutes});
    note("time passes: " + std::to_string(minutes) + " min");
  } else if (r < 98) {
    crashDevice(i);
  } else {
    restartHub();
  }
}

// Staff at the server resolve the oldest open walk-in review, one way or the other.
void World::staffResolve() {
  auto open = centralValue(
      "SELECT review_id::text FROM walkin_review WHERE practice_id = $1::uuid AND status = 'open'"
      " ORDER BY created_at, review_id LIMIT 1",
      {m_practice.toString()});
  if (!open || open->empty()) return;
  const bool existing = m_rng() % 2 == 0;
  auto r = resolveReview(*Uuid::parse(*open), existing ? sync::ReviewOutcome::Existing : sync::ReviewOutcome::New);
  note("staff resolve review " + open->substr(24) + (existing ? " as existing" : " as new") +
       (r ? ": " + std::to_string(r->released) + " released, " + std::to_string(r->refused) + " refused"
          : " refused: " + r.error().message));
}

// The hub core as anteroom-admin runs it: the superuser's connection, the world's clock.
Result<std::unique_ptr<sync::HubCore>> World::adminHub() {
  return sync::HubCore::connect({m_central.superDsn(), kPiiKey, kHashKey, {}, [this] { return m_now; }, 100});
}

Result<sync::ReviewRelease> World::resolveReview(const Uuid& review, sync::ReviewOutcome as) {
  auto staff = adminHub();
  if (!staff) return std::unexpected(staff.error());
  return (*staff)->resolveReview({review, as, "admin:front-desk"});
}

Result<sync::RescoreReport> World::rescoreWaitlists() {
  auto job = adminHub();
  if (!job) return std::unexpected(job.error());
  return (*job)->rescoreWaitlists();
}

Result<void> World::heal() {
  setFaults(Faults::none());
  for (int round = 0; round < 4; ++round) {
    for (std::size_t i = 0; i < m_devices.size(); ++i) {
      auto r = syncDevice(i);
      if (!r) return std::unexpected(r.error());
    }
  }
  return {};
}

// [SECTION] The checker

std::vector<std::string> World::check() {
  std::vector<std::string> failures;
  // A new device's first sync is what central says a device should hold now.
  auto probeKey = store::SecretKey::generate();
  Device probe;
  probe.name = "probe";
  probe.path = m_dir / "probe.db";
  probe.key = std::make_unique<store::SecretKey>(std::move(*probeKey));
  openStore(probe);
  if (!probe.store) return {"the probe store could not be made"};
  probe.deviceId = probe.store->deviceId();
  central("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'probe', $3)",
          {probe.deviceId.toString(), m_practice.toString(), hex64(m_rng)});
  FaultyTransport probeTransport([this]() -> sync::HubCore& { return *m_hub; }, {probe.deviceId, m_practice}, m_rng, Faults::none());
  sync::SessionOptions po;
  po.clock = [this] { return m_now; };
  sync::SyncSession probeSession(*probe.store, probeTransport, po);
  if (auto r = probeSession.run(); !r) failures.push_back("the probe's first sync failed: " + r.error().message);

  CheckInput in;
  in.superDsn = m_central.superDsn();
  in.practice = m_practice;
  in.now = m_now;
  in.tombstones = m_tombstones;
  in.probePath = probe.path;
  in.probeKey = probe.key.get();
  in.probeStore = probe.store.get();
  for (auto& d : m_devices)
    in.devices.push_back({d->name, d->deviceId, d->path, d->key.get(), d->store.get(), &d->mutationsMade});
  for (auto& f : checkInvariants(in)) failures.push_back(std::move(f));
  return failures;
}

// [SECTION] One seed

std::vector<std::string> runSeed(Central& central, std::uint64_t seed, int steps, bool verbose) {
  WorldOptions o;
  o.seed = seed;
  std::mt19937_64 shape(seed * 7919 + 1);
  o.devices = 2 + static_cast<int>(shape() % 3);
  o.faults = Faults::some();
  o.verbose = verbose;
  World world(central, o);
  if (auto s = world.setUp(); !s) return {"set-up failed: " + s.error().message};
  for (int i = 0; i < steps; ++i) world.randomStep();
  if (auto h = world.heal(); !h) return {"healing failed: " + h.error().code + ": " + h.error().message};
  return world.check();
}

}  // namespace anteroom::sim
