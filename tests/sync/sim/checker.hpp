// The checker of DESIGN.md 5.6: after healing, every acknowledged local write applied exactly
// once, nothing lost, every rejection in front of staff, no tombstone revived, no slot
// double-booked, every device equal to central within its window. Shared by the simulation
// (the cores in process) and the end-to-end tests (real hubs and daemons).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"
#include "anteroom/store/secret_key.hpp"
#include "anteroom/store/store.hpp"

namespace anteroom::sim {

struct CheckedDevice {
  std::string name;
  Uuid deviceId;                               // as enrolled centrally
  std::filesystem::path path;                  // its store file
  const store::SecretKey* key = nullptr;
  store::Store* store = nullptr;               // open on `path`
  const std::set<std::string>* mutationsMade;  // every outbox mutation id the device made
};

struct CheckInput {
  std::string superDsn;  // central, as superuser (reads across RLS)
  Uuid practice;
  Instant now;           // the devices' clock: their data window
  int windowDaysAhead = 3;
  std::vector<CheckedDevice> devices;
  std::vector<std::pair<std::string, Uuid>> tombstones;  // (table, id) made centrally
  // A new device's store after its first sync: what central says a device should hold now.
  std::filesystem::path probePath;
  const store::SecretKey* probeKey = nullptr;
  store::Store* probeStore = nullptr;
};

// Each failure is one line (synthetic data only, so values may be shown).
std::vector<std::string> checkInvariants(const CheckInput& in);

}  // namespace anteroom::sim
