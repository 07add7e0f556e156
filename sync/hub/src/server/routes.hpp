// What the hub answers, apart from sockets: the refusal table (error code -> HTTP status), the
// pull query, and the work each route does on a database worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anteroom/sync/hub_core.hpp"
#include "anteroom/sync/messages.hpp"

namespace anteroom::hub {

class Worker;

// A pull whose page came back empty with time left to wait: park it.
struct ParkInfo {
  sync::DeviceContext device;
  sync::PullRequest request;
  std::uint64_t generation = 0;  // ParkRegistry generation read before the pull ran
  sync::PullResponse page;       // the empty page, answered when the wait ends
};

struct Outcome {
  unsigned status = 200;
  std::string body;      // JSON
  std::string code;      // the error code, for the log line
  int retryAfter = 0;    // seconds, for 503
  bool close = false;    // close the connection after answering (garbage on the wire)
  std::string deviceId;  // for the log line
  std::string allow;     // for 405
  bool gzipped = false;  // body already gzip'd (on the worker, off the I/O threads)
  std::optional<ParkInfo> park;
};

// The HTTP status of a refusal, from its code (one row per code, then one per domain).
unsigned statusFor(const Error& e) noexcept;
Outcome errorOutcome(const Error& e);
Outcome errorOutcome(unsigned status, std::string code, std::string message, bool transient = false);

// GET /v1/pull's query ("after=..&limit=..&wait=..&schema=.."). `headerSchema` is the
// Anteroom-Schema-Version header's value. Errors: Protocol "protocol.query".
Result<sync::PullRequest> parsePullQuery(std::string_view query, std::optional<int> headerSchema,
                                         const sync::WireLimits& limits);
// The header's value: absent -> nullopt; Errors: Protocol "protocol.schema_header".
Result<std::optional<int>> parseSchemaHeader(std::string_view value, bool present);

// The routes' work on a worker thread. `fingerprint` is the device certificate's sha256.
Outcome runHealth(Worker& w, const std::string& fingerprint);
Outcome runPush(Worker& w, const std::string& fingerprint, std::string body, bool gzipped, const sync::WireLimits& limits);
// `generation` is read from the ParkRegistry for the device's practice before the pull runs.
template <class GenerationOf>
Outcome runPull(Worker& w, const std::string& fingerprint, const sync::PullRequest& request, GenerationOf&& generationOf);
// A parked pull run again after a wake-up (the device was checked when it arrived).
Outcome rerunPull(Worker& w, const ParkInfo& parked, std::uint64_t generation);

// [SECTION] internals the template needs
Result<sync::DeviceContext> deviceFor(Worker& w, const std::string& fingerprint);
Outcome pullOutcome(Worker& w, const sync::DeviceContext& device, const sync::PullRequest& request, std::uint64_t generation);

template <class GenerationOf>
Outcome runPull(Worker& w, const std::string& fingerprint, const sync::PullRequest& request, GenerationOf&& generationOf) {
  auto device = deviceFor(w, fingerprint);
  if (!device) return errorOutcome(device.error());
  Outcome out = pullOutcome(w, *device, request, generationOf(device->practiceId.toString()));
  out.deviceId = device->deviceId.toString();
  return out;
}

}  // namespace anteroom::hub
