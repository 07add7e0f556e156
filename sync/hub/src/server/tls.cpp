// OpenSSL settings for the hub's server context, and the device's certificate fingerprint.
#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>

namespace anteroom::hub {

namespace {

std::string opensslReason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  std::array<char, 256> text{};
  ERR_error_string_n(e, text.data(), text.size());
  return text.data();
}

std::unexpected<Error> tlsError(const std::string& what) {
  return fail(ErrorDomain::Io, "hub.tls", what + " (" + opensslReason() + ")");
}

}  // namespace

Result<void> configureServerTls(boost::asio::ssl::context& ctx, const HubConfig& config) {
  SSL_CTX* c = ctx.native_handle();
  if (auto r = requirePrivateFile(config.tlsKey, "TLS key"); !r) return r;
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) return tlsError("cannot require TLS 1.2");
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                             SSL_OP_SINGLE_ECDH_USE | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                             SSL_OP_NO_TLSv1_1);
  // Parked long-polls sit idle for up to 30 s: free their ~34 KB of record buffers meanwhile.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) return tlsError("cannot set the TLS 1.2 ciphers");
  if (SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1)
    return tlsError("cannot set the TLS 1.3 suites");
  if (SSL_CTX_use_certificate_chain_file(c, config.tlsCert.c_str()) != 1)
    return tlsError("cannot use the hub certificate " + config.tlsCert);
  if (SSL_CTX_use_PrivateKey_file(c, config.tlsKey.c_str(), SSL_FILETYPE_PEM) != 1)
    return tlsError("cannot use the hub key " + config.tlsKey);
  if (SSL_CTX_check_private_key(c) != 1)
    return tlsError("the hub key " + config.tlsKey + " does not match the certificate " + config.tlsCert);
  if (SSL_CTX_load_verify_locations(c, config.clientCa.c_str(), nullptr) != 1)
    return tlsError("cannot use the client CA " + config.clientCa);
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.clientCa.c_str());
  if (!names) return tlsError("cannot read the client CA names from " + config.clientCa);
  SSL_CTX_set_client_CA_list(c, names);
  // The practice CA only: no system roots, and no handshake without a device certificate.
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(c, 4);
  // Session resumption across hubs would need a shared ticket key; keep one per process.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  static const unsigned char kContext[] = "anteroom-hub";
  SSL_CTX_set_session_id_context(c, kContext, sizeof(kContext) - 1);
  return {};
}

std::string peerFingerprint(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  const bool ok = X509_digest(cert, EVP_sha256(), digest.data(), &size) == 1;
  X509_free(cert);
  if (!ok) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace anteroom::hub
