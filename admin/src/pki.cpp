// The practice PKI on OpenSSL 3's EVP and X509 API: keys, certificates, pins, atomic key files.
#include "pki.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace anteroom::pki {

// [SECTION] OpenSSL helpers
namespace {

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free_all(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* s) const noexcept { X509_STORE_CTX_free(s); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const noexcept { X509_EXTENSION_free(e); }
};
struct BnFree {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};

// The newest OpenSSL error as words, and the queue emptied.
std::string sslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  std::array<char, 256> buf{};
  ERR_error_string_n(code, buf.data(), buf.size());
  return buf.data();
}

std::unexpected<Error> sslFail(std::string code, const std::string& what) {
  return fail(ErrorDomain::Internal, std::move(code), what + ": " + sslError());
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string pinOf(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return {};
  std::array<unsigned char, 32> digest{};
  unsigned int len = 0;
  EVP_Digest(der, static_cast<std::size_t>(n), digest.data(), &len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return "sha256//" + base64(digest.data(), len);
}

Result<std::string> readSmallFile(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorDomain::Io, "pki.unreadable", "cannot read the " + std::string(what) + " " + path.string() +
                                                       ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  if (s.size() > (1u << 20)) {
    return fail(ErrorDomain::Validation, "pki.too_large", "the " + std::string(what) + " " + path.string() +
                                                              " is larger than 1 MiB; it is not a PEM file");
  }
  return s;
}

}  // namespace

// [SECTION] PrivateKey

void PrivateKey::Free::operator()(evp_pkey_st* k) const noexcept { EVP_PKEY_free(k); }

Result<PrivateKey> PrivateKey::generate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return sslFail("pki.keygen", "cannot generate an EC P-256 key");
  return PrivateKey(key);
}

Result<PrivateKey> PrivateKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return sslFail("pki.internal", "cannot read a key");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return fail(ErrorDomain::Validation, "pki.key_invalid", "not a PEM private key");
  }
  PrivateKey out(key);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
    return fail(ErrorDomain::Validation, "pki.key_invalid", "the private key is not an EC key");
  }
  return out;
}

Result<PrivateKey> PrivateKey::readFile(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(ErrorDomain::Io, "pki.unreadable", "cannot read the private key " + path.string() + ": " +
                                                       std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return fail(ErrorDomain::Validation, "pki.key_mode",
                "the private key " + path.string() + " is readable by group or others; chmod 600 it");
  }
  auto text = readSmallFile(path, "private key");
  if (!text) return std::unexpected(text.error());
  auto key = fromPem(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) {
    Error e = key.error();
    e.message = "the file " + path.string() + " holds no usable key: " + e.message;
    return std::unexpected(e);
  }
  return key;
}

std::string PrivateKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return bioText(bio.get());
}

std::string PrivateKey::publicKeyPin() const { return pinOf(m_key.get()); }

// [SECTION] Certificate

void Certificate::Free::operator()(x509_st* c) const noexcept { X509_free(c); }

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return sslFail("pki.internal", "cannot read a certificate");
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr) {
    ERR_clear_error();
    return fail(ErrorDomain::Validation, "pki.cert_invalid", "not a PEM certificate");
  }
  return Certificate(cert);
}

Result<Certificate> Certificate::readFile(const std::filesystem::path& path) {
  auto text = readSmallFile(path, "certificate");
  if (!text) return std::unexpected(text.error());
  auto cert = fromPem(*text);
  if (!cert) {
    Error e = cert.error();
    e.message = "the file " + path.string() + " holds no certificate: " + e.message;
    return std::unexpected(e);
  }
  return cert;
}

std::string Certificate::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), m_cert.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return bioText(bio.get());
}

std::vector<unsigned char> Certificate::der() const {
  const int n = i2d_X509(m_cert.get(), nullptr);
  if (n <= 0) return {};
  std::vector<unsigned char> out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(m_cert.get(), &p);
  return out;
}

std::string Certificate::fingerprintSha256() const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (X509_digest(m_cert.get(), EVP_sha256(), digest.data(), &len) != 1) return {};
  return hex(digest.data(), len);
}

std::string Certificate::publicKeyPin() const { return pinOf(X509_get0_pubkey(m_cert.get())); }

std::string Certificate::commonName() const {
  const X509_NAME* name = X509_get_subject_name(m_cert.get());
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

std::vector<std::string> Certificate::subjectAltNames() const {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(m_cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                         static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(n->d.iPAddress);
      std::array<char, INET6_ADDRSTRLEN> text{};
      const int family = len == 4 ? AF_INET : AF_INET6;
      if ((len == 4 || len == 16) && inet_ntop(family, ASN1_STRING_get0_data(n->d.iPAddress), text.data(),
                                               static_cast<socklen_t>(text.size())) != nullptr) {
        out.push_back("IP:" + std::string(text.data()));
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::chrono::system_clock::time_point Certificate::notAfter() const {
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(m_cert.get()), &t) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&t));
}

bool Certificate::matches(const PrivateKey& key) const {
  return X509_check_private_key(m_cert.get(), key.native()) == 1 || (ERR_clear_error(), false);
}

// [SECTION] Issuing

// Builds and signs one certificate; a friend of Certificate for its private constructor.
struct Issuer {
  static Result<Issued> issue(const Issued* ca, std::string_view commonName, const PrivateKey* givenKey, int days,
                              const std::vector<std::pair<int, std::string>>& extensions) {
    if (commonName.empty() || commonName.size() > 64) {
      return fail(ErrorDomain::Validation, "pki.name", "a certificate name must have 1 to 64 characters");
    }
    auto fresh = givenKey == nullptr ? PrivateKey::generate() : Result<PrivateKey>(std::unexpected(Error{}));
    if (givenKey == nullptr && !fresh) return std::unexpected(fresh.error());
    EVP_PKEY* subjectKey = givenKey != nullptr ? givenKey->native() : fresh->native();

    Certificate cert(X509_new());
    X509* x = cert.native();
    if (x == nullptr) return sslFail("pki.internal", "cannot make a certificate");
    X509_set_version(x, 2);  // v3
    // A random positive 127-bit serial (RFC 5280: at most 20 octets, unpredictable).
    std::array<unsigned char, 16> serialBytes{};
    if (RAND_bytes(serialBytes.data(), serialBytes.size()) != 1) return sslFail("pki.random", "no random serial");
    serialBytes[0] &= 0x7f;
    serialBytes[0] |= 0x01;
    std::unique_ptr<BIGNUM, BnFree> serial(BN_bin2bn(serialBytes.data(), serialBytes.size(), nullptr));
    if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr)
      return sslFail("pki.internal", "cannot set the serial number");
    // Valid from an hour ago: a kiosk whose clock runs a little behind still accepts it.
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, nullptr);

    X509_NAME* name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(commonName.data()),
                                   static_cast<int>(commonName.size()), -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Anteroom practice"),
                                   -1, -1, 0) != 1) {
      return sslFail("pki.name", "cannot set the certificate's name");
    }
    X509_set_issuer_name(x, ca != nullptr ? X509_get_subject_name(ca->cert.native()) : name);
    if (X509_set_pubkey(x, subjectKey) != 1) return sslFail("pki.internal", "cannot set the public key");

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, ca != nullptr ? ca->cert.native() : x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) {
      std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
      if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
        return sslFail("pki.extension", "cannot add the certificate extension " + std::string(OBJ_nid2sn(nid)) +
                                            " = " + value);
      }
    }
    EVP_PKEY* signer = ca != nullptr ? ca->key.native() : subjectKey;
    if (X509_sign(x, signer, EVP_sha256()) <= 0) return sslFail("pki.sign", "cannot sign the certificate");

    if (givenKey != nullptr) {
      auto copy = PrivateKey::fromPem(givenKey->toPem());
      if (!copy) return std::unexpected(copy.error());
      return Issued{std::move(cert), std::move(*copy)};
    }
    return Issued{std::move(cert), std::move(*fresh)};
  }
};

Result<Issued> makeCa(std::string_view commonName, int days) {
  return Issuer::issue(nullptr, commonName, nullptr, days,
                       {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}});
}

namespace {

bool isIpAddress(std::string_view host, bool& v6) {
  const std::string h(host);
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, h.c_str(), buf.data()) == 1) return v6 = false, true;
  if (inet_pton(AF_INET6, h.c_str(), buf.data()) == 1) return v6 = true, true;
  return false;
}

// A DNS name as RFC 1123 allows: letters, digits, '-' and '.', labels of 1..63.
bool isHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

}  // namespace

Result<Issued> makeHubCert(const Issued& ca, std::string_view host, const PrivateKey* key, int days) {
  bool v6 = false;
  std::string san;
  if (isIpAddress(host, v6)) {
    san = "IP:" + std::string(host);
    if (host != "127.0.0.1") san += ",IP:127.0.0.1";
  } else if (isHostName(host)) {
    san = "DNS:" + std::string(host);
    if (host == "localhost") san += ",IP:127.0.0.1,IP:::1";
  } else {
    return fail(ErrorDomain::Validation, "pki.hub_host",
                "the hub host '" + std::string(host) + "' is neither a host name nor an IP address");
  }
  return Issuer::issue(&ca, host, key, days,
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyAgreement"},
                        {NID_ext_key_usage, "serverAuth"},
                        {NID_subject_alt_name, san},
                        {NID_subject_key_identifier, "hash"},
                        {NID_authority_key_identifier, "keyid:always"}});
}

Result<Issued> makeDeviceCert(const Issued& ca, std::string_view deviceId, int days) {
  return Issuer::issue(&ca, deviceId, nullptr, days,
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyAgreement"},
                        {NID_ext_key_usage, "clientAuth"},
                        {NID_subject_key_identifier, "hash"},
                        {NID_authority_key_identifier, "keyid:always"}});
}

Result<void> verify(const Certificate& ca, const Certificate& leaf, Purpose purpose) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.native()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native(), nullptr) != 1) {
    return sslFail("pki.internal", "cannot set up certificate verification");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), purpose == Purpose::Server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return fail(ErrorDomain::Validation, "pki.verify",
                std::string("the certificate does not verify against the CA: ") + X509_verify_cert_error_string(err));
  }
  return {};
}

// [SECTION] Files

namespace {

bool writeAll(int fd, std::string_view content) {
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

void syncFolder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Result<void> makeFolder(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  if (!std::filesystem::create_directories(dir, ec) || ec) {
    return fail(ErrorDomain::Io, "pki.unwritable", "cannot create the folder " + dir.string() + ": " + ec.message());
  }
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  return {};
}

}  // namespace

Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view content, mode_t mode,
                             bool overwrite) {
  const std::filesystem::path dir = path.parent_path();
  std::string temp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return fail(ErrorDomain::Io, "pki.unwritable", "cannot write in the folder " + dir.string() + ": " +
                                                       std::strerror(errno));
  }
  bool ok = ::fchmod(fd, mode) == 0 && writeAll(fd, content) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    return fail(ErrorDomain::Io, "pki.unwritable", "cannot write " + path.string() + ": " + why);
  }
  // link() refuses an existing name, so a key is never replaced by accident; rename() replaces.
  const int placed = overwrite ? ::rename(temp.c_str(), path.c_str()) : ::link(temp.c_str(), path.c_str());
  const int placeErrno = errno;
  if (!overwrite) ::unlink(temp.c_str());
  if (placed != 0) {
    if (overwrite) ::unlink(temp.c_str());
    if (placeErrno == EEXIST) {
      return fail(ErrorDomain::Io, "pki.exists", "the file " + path.string() + " already exists; refusing to overwrite it");
    }
    return fail(ErrorDomain::Io, "pki.unwritable", "cannot write " + path.string() + ": " + std::strerror(placeErrno));
  }
  syncFolder(dir);
  return {};
}

Result<void> writeSecretFile(const std::filesystem::path& path, std::string_view content, bool overwrite) {
  return writeFileAtomic(path, content, 0600, overwrite);
}

// [SECTION] CaFolder

std::vector<std::string> CaFolder::pins() const { return {hub.key.publicKeyPin(), backupKey.publicKeyPin()}; }

Result<CaFolder> CaFolder::create(const std::filesystem::path& dir, std::string_view hubHost) {
  std::error_code ec;
  for (const char* name : {"ca.key", "ca.crt", "hub.key", "hub.crt", "hub-backup.key"}) {
    if (std::filesystem::exists(dir / name, ec)) {
      return fail(ErrorDomain::Io, "pki.exists", "the folder " + dir.string() + " already holds a CA (" + name +
                                                     "); refusing to replace it, since every enrolled device trusts it");
    }
  }
  auto ca = makeCa("Anteroom practice CA");
  if (!ca) return std::unexpected(ca.error());
  auto hub = makeHubCert(*ca, hubHost);
  if (!hub) return std::unexpected(hub.error());
  auto backup = PrivateKey::generate();
  if (!backup) return std::unexpected(backup.error());
  if (auto m = makeFolder(dir); !m) return std::unexpected(m.error());
  // Keys first: a folder with certificates but no keys would look usable and is not.
  const std::pair<const char*, std::string> files[] = {
      {"ca.key", ca->key.toPem()},        {"hub.key", hub->key.toPem()}, {"hub-backup.key", backup->toPem()},
      {"ca.crt", ca->cert.toPem()},       {"hub.crt", hub->cert.toPem()}};
  std::vector<std::filesystem::path> written;
  for (const auto& [name, text] : files) {
    const bool secret = std::string_view(name).ends_with(".key");
    auto w = writeFileAtomic(dir / name, text, secret ? 0600 : 0644);
    if (!w) {
      // No half a CA: a second 'ca init' would refuse the folder, and enroll could not use it.
      for (const auto& p : written) std::filesystem::remove(p, ec);
      return std::unexpected(w.error());
    }
    written.push_back(dir / name);
  }
  return CaFolder{dir, std::move(*ca), std::move(*hub), std::move(*backup)};
}

Result<CaFolder> CaFolder::open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(ErrorDomain::NotFound, "pki.no_ca", "the CA folder " + dir.string() +
                                                        " does not exist; make it with 'anteroom-admin ca init'");
  }
  auto caCert = Certificate::readFile(dir / "ca.crt");
  if (!caCert) return std::unexpected(caCert.error());
  auto caKey = PrivateKey::readFile(dir / "ca.key");
  if (!caKey) return std::unexpected(caKey.error());
  auto hubCert = Certificate::readFile(dir / "hub.crt");
  if (!hubCert) return std::unexpected(hubCert.error());
  auto hubKey = PrivateKey::readFile(dir / "hub.key");
  if (!hubKey) return std::unexpected(hubKey.error());
  auto backup = PrivateKey::readFile(dir / "hub-backup.key");
  if (!backup) return std::unexpected(backup.error());
  if (!caCert->matches(*caKey)) {
    return fail(ErrorDomain::Validation, "pki.mismatch", "ca.key in " + dir.string() + " is not the key of ca.crt");
  }
  if (!hubCert->matches(*hubKey)) {
    return fail(ErrorDomain::Validation, "pki.mismatch", "hub.key in " + dir.string() + " is not the key of hub.crt");
  }
  if (auto v = verify(*caCert, *hubCert, Purpose::Server); !v) {
    return fail(ErrorDomain::Validation, "pki.mismatch", "hub.crt in " + dir.string() + " was not issued by ca.crt: " +
                                                             v.error().message);
  }
  return CaFolder{dir, Issued{std::move(*caCert), std::move(*caKey)}, Issued{std::move(*hubCert), std::move(*hubKey)},
                  std::move(*backup)};
}

// [SECTION] Device folder

std::string syncdTemplate(const std::filesystem::path& out, const CaFolder& ca) {
  const std::filesystem::path abs = std::filesystem::absolute(out);
  std::string pins;
  for (const auto& p : ca.pins()) pins += (pins.empty() ? "\"" : ", \"") + p + "\"";
  std::string hubHost = ca.hub.cert.commonName();
  if (hubHost.find(':') != std::string::npos) hubHost = "[" + hubHost + "]";
  return "# anteroom-syncd configuration for this kiosk, written by 'anteroom-admin device enroll'.\n"
         "# Edit db, key_file and hub_url; the certificate paths and the hub key pins are filled in.\n"
         "db = \"/var/lib/anteroom/store.db\"            # EDIT: the kiosk's store\n"
         "key_file = \"/etc/anteroom/store.key\"         # EDIT: the store's key file (anteroom-admin keygen)\n"
         "hub_url = \"https://" + hubHost + ":8443\"     # EDIT: the hub's address and port\n"
         "ca = \"" + (abs / "ca.crt").string() + "\"\n"
         "cert = \"" + (abs / "device.crt").string() + "\"\n"
         "key = \"" + (abs / "device.key").string() + "\"\n"
         "# The hub's current key and its backup (from the CA folder's hub.key and hub-backup.key).\n"
         "pins = [" + pins + "]\n"
         "# connect_timeout_s = 5\n"
         "# total_timeout_s = 60\n"
         "# low_speed_time_s = 15\n"
         "# wait_s = 25\n";
}

Result<void> writeDeviceFolder(const std::filesystem::path& out, const CaFolder& ca, const DeviceFiles& device) {
  std::error_code ec;
  if (std::filesystem::exists(out / "device.key", ec)) {
    return fail(ErrorDomain::Io, "pki.exists", "the folder " + out.string() +
                                                   " already holds an enrolled device (device.key); choose another --out");
  }
  if (auto m = makeFolder(out); !m) return std::unexpected(m.error());
  const std::pair<const char*, std::string> files[] = {{"device.key", device.device.key.toPem()},
                                                       {"device.crt", device.device.cert.toPem()},
                                                       {"ca.crt", ca.ca.cert.toPem()},
                                                       {"syncd.toml", syncdTemplate(out, ca)}};
  std::vector<std::filesystem::path> written;
  for (const auto& [name, text] : files) {
    auto w = writeFileAtomic(out / name, text, std::string_view(name) == "device.key" ? 0600 : 0644);
    if (!w) {
      for (const auto& p : written) std::filesystem::remove(p, ec);
      return std::unexpected(w.error());
    }
    written.push_back(out / name);
  }
  return {};
}

}  // namespace anteroom::pki
