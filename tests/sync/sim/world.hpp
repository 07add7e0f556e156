// The sync simulation's world (DESIGN.md 5.6): a real PostgreSQL with the central schema, the
// hub core, and several devices with real SQLCipher stores and the client core, joined by an
// in-process transport that can drop, duplicate, delay and replay. Seeded: the same seed makes
// the same choices. Shared by the simulation program and the scenario tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "anteroom/model/records.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/client.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central.hpp"

namespace anteroom::sim {

// Transport faults, each a probability per request.
struct Faults {
  double refuse = 0;          // the request never reaches the hub
  double dropResponse = 0;    // the hub applied it, the answer is lost
  double duplicate = 0;       // the request arrives twice
  double replayLater = 0;     // a copy is kept and delivered again before a later request
  static Faults none() { return {}; }
  static Faults some() { return {0.08, 0.10, 0.05, 0.05}; }
};

class FaultyTransport;

struct Device {
  std::string name;
  Uuid deviceId;
  std::filesystem::path path;
  std::unique_ptr<store::SecretKey> key;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<FaultyTransport> transport;
  std::set<std::string> mutationsMade;  // every outbox mutation id seen on this device
};

struct WorldOptions {
  std::uint64_t seed = 1;
  int devices = 2;
  Faults faults = Faults::none();
  bool verbose = false;
};

class World {
 public:
  World(Central& central, WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Seeds the practice centrally, enrolls the devices and gives each its first sync.
  Result<void> setUp();

  // [SECTION] The clock (the hub and the devices share it)
  [[nodiscard]] Instant now() const { return m_now; }
  void advance(std::chrono::minutes by) { m_now += by; }

  // [SECTION] What people do
  Device& device(std::size_t i) { return *m_devices.at(i); }
  [[nodiscard]] std::size_t deviceCount() const { return m_devices.size(); }
  Result<sync::SessionReport> syncDevice(std::size_t i);
  void crashDevice(std::size_t i);  // the client thrown away, the store closed and reopened
  void restartHub();
  void setFaults(Faults faults);

  // Central writes by "another system", in plain SQL as the practice's EHR would make them.
  void central(const std::string& sql, const std::vector<std::optional<std::string>>& params);
  // A value from central, as superuser ("" for NULL, nullopt for no row).
  std::optional<std::string> centralValue(const std::string& sql, const std::vector<std::optional<std::string>>& params);

  // The ids seeded centrally.
  [[nodiscard]] const Uuid& practiceId() const { return m_practice; }
  [[nodiscard]] const std::vector<Uuid>& providers() const { return m_providers; }
  [[nodiscard]] const Uuid& waitlistId() const { return m_waitlist; }
  [[nodiscard]] const std::vector<Uuid>& seededPatients() const { return m_patients; }
  [[nodiscard]] const std::vector<Uuid>& seededAppointments() const { return m_appointments; }
  [[nodiscard]] const std::vector<Uuid>& seededSlots() const { return m_slots; }
  // Inserts an appointment centrally (for a seeded patient); returns its id.
  Uuid centralAppointment(const Uuid& patient, Instant start);
  Uuid centralSlot(const Uuid& provider, Instant start);
  // Tombstones made centrally, which must never come back.
  void centralTombstone(std::string_view table, std::string_view idColumn, const Uuid& id);

  // Staff at the server resolve a walk-in review, as 'anteroom-admin review resolve' does (the
  // hub core on the superuser's connection, the world's clock).
  Result<sync::ReviewRelease> resolveReview(const Uuid& review, sync::ReviewOutcome as);
  // The daily rescoring ('anteroom-admin waitlist rescore') at the world's clock.
  Result<sync::RescoreReport> rescoreWaitlists();

  // [SECTION] The random walk and the checker
  // One step chosen by the seed: a device write, a central edit, a sync, a crash, time passing.
  void randomStep();
  // Faults off, every device syncs until nothing moves.
  Result<void> heal();
  // Every invariant of DESIGN 5.6; each failure is one line.
  std::vector<std::string> check();

  std::mt19937_64& rng() { return m_rng; }
  const std::vector<std::string>& trace() const { return m_trace; }
  void note(std::string line);

 private:
  Result<void> addDevice(int index);
  Result<std::unique_ptr<sync::HubCore>> adminHub();
  void openStore(Device& d);
  void rememberOutbox(Device& d);
  void deviceWrite(Device& d);
  void centralEdit();
  void staffResolve();
  bool chance(double p);
  template <class T>
  const T& pick(const std::vector<T>& items);

  Central& m_central;
  WorldOptions m_options;
  std::mt19937_64 m_rng;
  Instant m_now{};
  std::filesystem::path m_dir;
  std::unique_ptr<sync::HubCore> m_hub;
  std::vector<std::unique_ptr<Device>> m_devices;
  Uuid m_practice, m_waitlist;
  std::vector<Uuid> m_providers, m_patients, m_appointments, m_slots;
  std::vector<std::pair<std::string, Uuid>> m_tombstones;  // table, id
  std::vector<std::string> m_trace;
  UuidGenerator m_ids;
  int m_nameCounter = 0;
};

// Runs one seed from start to checker; returns the failures (empty = the seed holds).
std::vector<std::string> runSeed(Central& central, std::uint64_t seed, int steps, bool verbose);

}  // namespace anteroom::sim
