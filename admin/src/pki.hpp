// The practice's small PKI (issue 10, provisioning): EC P-256 keys, a practice CA, the hub's
// server certificate and the devices' client certificates, their SHA-256 fingerprints and the
// hub key pin libcurl checks. OpenSSL stays in pki.cpp; nothing here throws.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"

// OpenSSL's own struct names (EVP_PKEY, X509), so this header needs no OpenSSL include.
struct evp_pkey_st;
struct x509_st;

namespace anteroom::pki {

// An EC P-256 private key (with its public half).
class PrivateKey {
 public:
  static Result<PrivateKey> generate();
  // PEM (PKCS#8 or traditional EC); errors pki.key_invalid.
  static Result<PrivateKey> fromPem(std::string_view pem);
  static Result<PrivateKey> readFile(const std::filesystem::path& path);

  // Unencrypted PKCS#8 PEM. Write it with writeSecretFile only.
  [[nodiscard]] std::string toPem() const;
  // "sha256//BASE64" of the public key's SubjectPublicKeyInfo DER (CURLOPT_PINNEDPUBLICKEY).
  [[nodiscard]] std::string publicKeyPin() const;
  [[nodiscard]] evp_pkey_st* native() const noexcept { return m_key.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* k) const noexcept;
  };
  explicit PrivateKey(evp_pkey_st* k) : m_key(k) {}
  std::unique_ptr<evp_pkey_st, Free> m_key;
};

class Certificate {
 public:
  static Result<Certificate> fromPem(std::string_view pem);
  static Result<Certificate> readFile(const std::filesystem::path& path);

  [[nodiscard]] std::string toPem() const;
  [[nodiscard]] std::vector<unsigned char> der() const;
  // SHA-256 of the DER, lower-case hex (64 characters): what the central device row holds.
  [[nodiscard]] std::string fingerprintSha256() const;
  // The pin of the certificate's public key ("sha256//BASE64").
  [[nodiscard]] std::string publicKeyPin() const;
  [[nodiscard]] std::string commonName() const;
  // subjectAltName entries as "DNS:name" / "IP:address".
  [[nodiscard]] std::vector<std::string> subjectAltNames() const;
  [[nodiscard]] std::chrono::system_clock::time_point notAfter() const;
  // True when the certificate's public key is the key's public half.
  [[nodiscard]] bool matches(const PrivateKey& key) const;
  [[nodiscard]] x509_st* native() const noexcept { return m_cert.get(); }

 private:
  struct Free {
    void operator()(x509_st* c) const noexcept;
  };
  explicit Certificate(x509_st* c) : m_cert(c) {}
  std::unique_ptr<x509_st, Free> m_cert;
  friend struct Issuer;
};

// A certificate with its private key.
struct Issued {
  Certificate cert;
  PrivateKey key;
};

inline constexpr int kCaDays = 3650;    // the practice CA: 10 years
inline constexpr int kLeafDays = 825;   // hub and device certificates (about 27 months)

// A self-signed CA (basicConstraints CA:TRUE, keyCertSign + cRLSign).
Result<Issued> makeCa(std::string_view commonName, int days = kCaDays);
// The hub's server certificate: CN and subjectAltName from `host` (DNS:host, or IP:host for an
// address; localhost also gets IP:127.0.0.1 and IP:::1, an address also IP:127.0.0.1),
// extendedKeyUsage serverAuth. `key` is the hub's key (a fresh one when null).
Result<Issued> makeHubCert(const Issued& ca, std::string_view host, const PrivateKey* key = nullptr,
                           int days = kLeafDays);
// A device's client certificate: CN = the device id, extendedKeyUsage clientAuth.
Result<Issued> makeDeviceCert(const Issued& ca, std::string_view deviceId, int days = kLeafDays);

enum class Purpose { Server, Client };
// X509_verify_cert of `leaf` against `ca` alone, for the purpose (sslserver / sslclient).
// Errors pki.verify with OpenSSL's reason.
Result<void> verify(const Certificate& ca, const Certificate& leaf, Purpose purpose);

// Writes `content` to `path` atomically: a temporary file in the same folder with `mode`,
// fsync'd, then linked into place (refusing an existing file unless `overwrite`) and the folder
// fsync'd. Errors pki.exists, pki.unwritable.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view content, mode_t mode,
                             bool overwrite = false);
// writeFileAtomic with mode 0600, for private keys.
Result<void> writeSecretFile(const std::filesystem::path& path, std::string_view content, bool overwrite = false);

// [SECTION] The CA folder of 'anteroom-admin ca init'
// D/ca.crt, D/ca.key (0600), D/hub.crt, D/hub.key (0600), and D/hub-backup.key (0600): a spare
// hub key whose pin devices carry from enrollment, so the hub's key can be replaced without
// re-enrolling every kiosk.
struct CaFolder {
  std::filesystem::path dir;
  Issued ca;
  Issued hub;
  PrivateKey backupKey;

  [[nodiscard]] std::filesystem::path caCertPath() const { return dir / "ca.crt"; }
  // The pins devices are given: the current hub key's, then the backup's.
  [[nodiscard]] std::vector<std::string> pins() const;

  // Creates the folder (0700) and every file; refuses a folder that already holds a CA.
  static Result<CaFolder> create(const std::filesystem::path& dir, std::string_view hubHost);
  // Reads and checks a folder made by create (the keys match their certificates).
  static Result<CaFolder> open(const std::filesystem::path& dir);
};

// [SECTION] A device's enrollment folder (written by 'anteroom-admin device enroll')
struct DeviceFiles {
  Issued device;
  std::string deviceId;
  std::string fingerprint;  // of device.crt
};
// E/device.crt, E/device.key (0600), E/ca.crt, E/syncd.toml. Refuses a folder that already has
// a device.key. The folder is created (0700) if missing.
Result<void> writeDeviceFolder(const std::filesystem::path& out, const CaFolder& ca, const DeviceFiles& device);
// The syncd.toml template's text for a device folder (db, key_file and hub_url to edit).
std::string syncdTemplate(const std::filesystem::path& out, const CaFolder& ca);

}  // namespace anteroom::pki
