// Enrolling and revoking kiosks in the central database (the device table of
// migrations/central/0003_sync.sql), behind 'anteroom-admin device enroll|revoke'.
#pragma once

#include <functional>
#include <string>

#include "anteroom/model/error.hpp"

namespace anteroom::admin::central {

struct NewDevice {
  std::string deviceId;     // canonical UUID, the certificate's CN
  std::string practiceId;   // canonical UUID of an existing practice
  std::string name;         // 1..100 characters, unique among the practice's devices not revoked
  std::string fingerprint;  // sha256 lower hex of the certificate DER
};

// Inserts the device row in one transaction and runs `beforeCommit` (writing the device's
// files) inside it: a failure there rolls the row back, so no device is registered whose
// certificate nobody holds. The DSN's role must be a superuser (as for 'central migrate'):
// the device table's row-level security hides every practice from anyone else until a practice
// is chosen, and a typo'd practice id has to be told apart from a hidden one.
// Errors: central.connect (transient), central.not_superuser, device.unknown_practice,
// device.name_taken, device.fingerprint_taken, device.enroll.
Result<void> enrollDevice(const std::string& dsn, const NewDevice& device,
                          const std::function<Result<void>()>& beforeCommit);

struct RevokedDevice {
  std::string name;
  std::string practiceId;
  std::string revokedAt;  // ISO-8601 UTC
};
// Sets revoked_at: the hub refuses the device's certificate from its next request.
// Errors: central.connect, central.not_superuser, device.unknown (no such device),
// device.already_revoked, device.revoke.
Result<RevokedDevice> revokeDevice(const std::string& dsn, const std::string& deviceId);

}  // namespace anteroom::admin::central
