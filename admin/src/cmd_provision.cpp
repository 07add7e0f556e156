// anteroom-admin ca init, device enroll|revoke: the practice CA and its kiosks (issue 10).
// Exit 0 on success, 1 when the operation fails, 2 on bad usage; errors are one line on stderr.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "anteroom/model/uuid.hpp"
#include "central_devices.hpp"
#include "central_seed.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "pki.hpp"

namespace anteroom::admin {

namespace {

constexpr const char* kCaHelp =
    "usage: anteroom-admin ca init --dir D --hub-host HOST\n"
    "  Makes the practice's certificate authority and the hub's certificate (EC P-256):\n"
    "    D/ca.crt          the practice CA (10 years); give it to the hub (client_ca) and the kiosks\n"
    "    D/ca.key          the CA's key (mode 0600): keep it offline, it enrolls devices\n"
    "    D/hub.crt         the hub's certificate for HOST (subjectAltName DNS:HOST, or IP:HOST)\n"
    "    D/hub.key         the hub's key (mode 0600)\n"
    "    D/hub-backup.key  a spare hub key (mode 0600) whose pin every kiosk also trusts\n"
    "  Refuses a folder that already holds a CA. The last line printed is the hub key's pin\n"
    "  (sha256//BASE64), the value syncd's 'pins' holds.\n";

constexpr const char* kDeviceHelp =
    "usage: anteroom-admin device <enroll|revoke> [options]\n"
    "  enroll --ca-dir D --dsn DSN --practice-id ID --out E [--name N]\n"
    "         issues a client certificate for a new kiosk and registers it in the central database:\n"
    "           E/device.crt, E/device.key (0600), E/ca.crt, E/syncd.toml (edit db, key_file, hub_url)\n"
    "         The name (default 'kiosk-' and the id's last 6 characters) must be new in the practice.\n"
    "         The last line printed is the device id.\n"
    "  revoke --dsn DSN --device-id ID\n"
    "         the hub refuses the device's certificate from its next request; revocation is final\n"
    "\n"
    "  DSN: a libpq connection string for the superuser that ran 'anteroom-admin central migrate'.\n";

int runCaInit(const ParsedArgs& args) {
  std::string missing;
  if (!needOptions(args, {"--dir", "--hub-host"}, missing)) return usageError(missing, kCaHelp);
  auto folder = pki::CaFolder::create(*args.get("--dir"), *args.get("--hub-host"));
  if (!folder) return commandFailed(folder.error());
  std::printf("practice CA written to %s: ca.crt, ca.key (0600), hub.crt, hub.key (0600), hub-backup.key (0600)\n",
              folder->dir.c_str());
  std::printf("hub certificate for: ");
  const auto names = folder->hub.cert.subjectAltNames();
  for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s%s", i == 0 ? "" : ", ", names[i].c_str());
  std::printf("\nbackup hub key pin: %s\n", folder->backupKey.publicKeyPin().c_str());
  std::printf("hub key pin:\n%s\n", folder->hub.key.publicKeyPin().c_str());
  return kExitOk;
}

int runEnroll(const ParsedArgs& args) {
  std::string missing;
  if (!needOptions(args, {"--ca-dir", "--dsn", "--practice-id", "--out"}, missing)) return usageError(missing, kDeviceHelp);
  const auto practice = Uuid::parse(*args.get("--practice-id"));
  if (!practice) return usageError("--practice-id must be a UUID (8-4-4-4-12 hex digits)", kDeviceHelp);
  const std::filesystem::path out = *args.get("--out");
  std::error_code ec;
  if (std::filesystem::exists(out / "device.key", ec)) {
    return commandFailed(Error{ErrorDomain::Io, "pki.exists",
                               "the folder " + out.string() + " already holds an enrolled device (device.key); "
                               "choose another --out",
                               false});
  }
  auto ca = pki::CaFolder::open(*args.get("--ca-dir"));
  if (!ca) return commandFailed(ca.error());

  UuidGenerator ids;
  const std::string deviceId = ids.v7(std::chrono::system_clock::now()).toString();
  std::string name = args.get("--name").value_or("kiosk-" + deviceId.substr(30));
  if (name.empty() || name.size() > 100) return usageError("--name must have 1 to 100 characters", kDeviceHelp);
  auto cert = pki::makeDeviceCert(ca->ca, deviceId);
  if (!cert) return commandFailed(cert.error());
  if (auto v = pki::verify(ca->ca.cert, cert->cert, pki::Purpose::Client); !v) return commandFailed(v.error());
  pki::DeviceFiles files{std::move(*cert), deviceId, {}};
  files.fingerprint = files.device.cert.fingerprintSha256();

  bool written = false;
  const central::NewDevice row{deviceId, practice->toString(), name, files.fingerprint};
  auto enrolled = central::enrollDevice(*args.get("--dsn"), row, [&]() -> Result<void> {
    auto w = pki::writeDeviceFolder(out, *ca, files);
    written = w.has_value();
    return w;
  });
  if (!enrolled) {
    // Not registered: the files would be a certificate the hub does not know. In doubt, kept.
    if (written && enrolled.error().code != "device.enroll_in_doubt") {
      for (const char* f : {"device.key", "device.crt", "ca.crt", "syncd.toml"}) std::filesystem::remove(out / f, ec);
    }
    return commandFailed(enrolled.error());
  }
  std::printf("device '%s' enrolled in practice %s\n", name.c_str(), practice->toString().c_str());
  std::printf("wrote %s: device.crt, device.key (0600), ca.crt, syncd.toml (edit db, key_file and hub_url)\n",
              out.c_str());
  std::printf("certificate fingerprint: %s\n", files.fingerprint.c_str());
  std::printf("device id:\n%s\n", deviceId.c_str());
  return kExitOk;
}

int runRevoke(const ParsedArgs& args) {
  std::string missing;
  if (!needOptions(args, {"--dsn", "--device-id"}, missing)) return usageError(missing, kDeviceHelp);
  const auto id = Uuid::parse(*args.get("--device-id"));
  if (!id) return usageError("--device-id must be a UUID (8-4-4-4-12 hex digits)", kDeviceHelp);
  auto revoked = central::revokeDevice(*args.get("--dsn"), id->toString());
  if (!revoked) return commandFailed(revoked.error());
  std::printf("device %s ('%s') of practice %s revoked at %s\n", id->toString().c_str(), revoked->name.c_str(),
              revoked->practiceId.c_str(), revoked->revokedAt.c_str());
  return kExitOk;
}

constexpr const char* kSeedCentralHelp =
    "usage: anteroom-admin demo seed-central --dsn DSN --pii-key-file F --hash-key-file F [--patients N]\n"
    "                                        [--seed S] [--time-zone ZONE]\n"
    "  Writes a synthetic practice into the central database (migrated with 'central migrate'):\n"
    "  providers, N invented patients (default 200; PII encrypted with the key in --pii-key-file,\n"
    "  e-mail lookup hashes with --hash-key-file, the hub's two key files), today's appointments\n"
    "  in the practice's zone (default America/Los_Angeles), open slots, waitlists and two staff.\n"
    "  The same seed (default 1) gives the same practice; a seed already seeded is refused.\n"
    "  The last line printed is the practice id.\n";

}  // namespace

int cmdDemoSeedCentral(const std::vector<std::string>& rest) {
  const auto args = parseArgs(rest, {"--dsn", "--pii-key-file", "--hash-key-file", "--patients", "--seed", "--time-zone"}, {});
  if (args.has("--help")) return std::fputs(kSeedCentralHelp, stdout), kExitOk;
  if (!args.error.empty()) return usageError(args.error, kSeedCentralHelp);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), kSeedCentralHelp);
  std::string missing;
  if (!needOptions(args, {"--dsn", "--pii-key-file", "--hash-key-file"}, missing)) return usageError(missing, kSeedCentralHelp);
  central::CentralSeedOptions options;
  options.dsn = *args.get("--dsn");
  options.piiKeyFile = *args.get("--pii-key-file");
  options.hashKeyFile = *args.get("--hash-key-file");
  if (auto z = args.get("--time-zone")) options.timeZone = *z;
  try {
    std::size_t used = 0;
    if (auto n = args.get("--patients")) {
      options.patients = std::stoi(*n, &used);
      if (used != n->size()) throw std::invalid_argument("patients");
    }
    if (auto s = args.get("--seed")) {
      if (s->starts_with("-")) throw std::invalid_argument("seed");
      options.seed = std::stoull(*s, &used);
      if (used != s->size()) throw std::invalid_argument("seed");
    }
  } catch (...) {
    return usageError("--patients and --seed take whole numbers", kSeedCentralHelp);
  }
  if (options.patients < 1 || options.patients > 1000000)
    return usageError("--patients must be between 1 and 1000000", kSeedCentralHelp);
  auto summary = central::seedCentralDemo(options);
  if (!summary) return commandFailed(summary.error());
  std::printf("central demo practice seeded (seed %llu, zone %s): %d providers, %d patients, %d appointments today, "
              "%d open slots, %d waitlists with %d entries, %d staff\n",
              static_cast<unsigned long long>(options.seed), options.timeZone.c_str(), summary->providers,
              summary->patients, summary->appointmentsToday, summary->openSlots, summary->waitlists,
              summary->waitlistEntries, summary->staff);
  for (const auto& staff : kDemoStaff) std::printf("demo staff PIN: %-24s %s\n", staff.displayName, staff.pin);
  std::printf("practice id:\n%s\n", summary->practiceId.toString().c_str());
  return kExitOk;
}

int cmdCa(const std::vector<std::string>& rest) {
  if (rest.empty()) return usageError("ca needs a subcommand", kCaHelp);
  const std::string sub = rest.front();
  if (sub == "--help" || sub == "-h") return std::fputs(kCaHelp, stdout), kExitOk;
  const auto args = parseArgs({rest.begin() + 1, rest.end()}, {"--dir", "--hub-host"}, {});
  if (args.has("--help")) return std::fputs(kCaHelp, stdout), kExitOk;
  if (sub != "init") return usageError("unknown ca subcommand '" + sub + "'", kCaHelp);
  if (!args.error.empty()) return usageError(args.error, kCaHelp);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), kCaHelp);
  return runCaInit(args);
}

int cmdDevice(const std::vector<std::string>& rest) {
  if (rest.empty()) return usageError("device needs a subcommand", kDeviceHelp);
  const std::string sub = rest.front();
  if (sub == "--help" || sub == "-h") return std::fputs(kDeviceHelp, stdout), kExitOk;
  const auto args = parseArgs({rest.begin() + 1, rest.end()},
                              {"--ca-dir", "--dsn", "--practice-id", "--out", "--name", "--device-id"}, {});
  if (args.has("--help")) return std::fputs(kDeviceHelp, stdout), kExitOk;
  if (sub != "enroll" && sub != "revoke") return usageError("unknown device subcommand '" + sub + "'", kDeviceHelp);
  if (!args.error.empty()) return usageError(args.error, kDeviceHelp);
  if (!args.positional.empty()) return usageError("unexpected argument " + args.positional.front(), kDeviceHelp);
  return sub == "enroll" ? runEnroll(args) : runRevoke(args);
}

}  // namespace anteroom::admin
