// The device rows of the central database: enrollment and revocation.
#include "central_devices.hpp"

#include <pqxx/pqxx>

#include "central_connection.hpp"
#include "central_migrations.hpp"

namespace anteroom::admin::central {

namespace {

void actAs(pqxx::transaction_base& tx, const std::string& practiceId) {
  tx.exec_params("SELECT set_config('app.practice_id', $1, true), set_config('app.actor', 'admin:anteroom-admin', true)",
                 practiceId);
}

}  // namespace

Result<void> enrollDevice(const std::string& dsn, const NewDevice& device,
                          const std::function<Result<void>()>& beforeCommit) {
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  try {
    pqxx::work tx(**connected);
    if (auto s = requireSuperuser(tx); !s) return s;
    if (tx.exec_params("SELECT 1 FROM practice WHERE practice_id = $1::uuid", device.practiceId).empty()) {
      return fail(ErrorDomain::NotFound, "device.unknown_practice",
                  "there is no practice " + device.practiceId + " in the central database");
    }
    actAs(tx, device.practiceId);
    const auto same = tx.exec_params(
        "SELECT device_id FROM device WHERE practice_id = $1::uuid AND name = $2 AND revoked_at IS NULL",
        device.practiceId, device.name);
    if (!same.empty()) {
      return fail(ErrorDomain::Conflict, "device.name_taken",
                  "the practice already has an enrolled device named '" + device.name + "' (" +
                      same[0][0].as<std::string>() + "); choose another --name or revoke that one first");
    }
    if (!tx.exec_params("SELECT 1 FROM device WHERE cert_fingerprint = $1", device.fingerprint).empty()) {
      return fail(ErrorDomain::Conflict, "device.fingerprint_taken",
                  "a device with this certificate is already enrolled");
    }
    tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, $3, $4)",
                   device.deviceId, device.practiceId, device.name, device.fingerprint);
    if (auto written = beforeCommit(); !written) return written;  // the row rolls back with tx
    tx.commit();
    return {};
  } catch (const pqxx::in_doubt_error&) {
    return fail(ErrorDomain::Network, "device.enroll_in_doubt",
                "the connection broke while the enrollment committed, so the device " + device.deviceId +
                    " may or may not be registered; its files are kept. Run 'anteroom-admin device revoke' on it (which "
                    "says whether it exists) and enroll again into a new folder");
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Store, "device.enroll", "cannot register the device: " + firstLine(e.what()));
  }
}

Result<RevokedDevice> revokeDevice(const std::string& dsn, const std::string& deviceId) {
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  try {
    pqxx::work tx(**connected);
    if (auto s = requireSuperuser(tx); !s) return std::unexpected(s.error());
    const auto found = tx.exec_params(
        "SELECT name, practice_id::text, revoked_at IS NOT NULL FROM device WHERE device_id = $1::uuid FOR UPDATE",
        deviceId);
    if (found.empty()) {
      return fail(ErrorDomain::NotFound, "device.unknown", "there is no device " + deviceId + " in the central database");
    }
    RevokedDevice out{found[0][0].as<std::string>(), found[0][1].as<std::string>(), {}};
    if (found[0][2].as<bool>()) {
      return fail(ErrorDomain::Conflict, "device.already_revoked",
                  "the device " + deviceId + " ('" + out.name + "') is already revoked");
    }
    actAs(tx, out.practiceId);
    const auto row = tx.exec_params1(
        "UPDATE device SET revoked_at = now() AT TIME ZONE 'UTC' WHERE device_id = $1::uuid "
        "RETURNING to_char(revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        deviceId);
    out.revokedAt = row[0].as<std::string>();
    tx.commit();
    return out;
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Store, "device.revoke", "cannot revoke the device: " + firstLine(e.what()));
  }
}

}  // namespace anteroom::admin::central
