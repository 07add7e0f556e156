// The hub's TLS: TLS 1.2 or later, ECDHE with AES-GCM or ChaCha20-Poly1305 only, and a client
// certificate from the practice CA required in every handshake.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include <boost/asio/ssl/context.hpp>

#include "anteroom/model/error.hpp"
#include "config.hpp"

namespace anteroom::hub {

// Errors: Io "hub.tls" naming the file that could not be used.
Result<void> configureServerTls(boost::asio::ssl::context& ctx, const HubConfig& config);

// sha256 of the peer certificate's DER in lower hex, or "" when there is none.
std::string peerFingerprint(SSL* ssl);

// The TLS 1.2 cipher list the hub offers (TLS 1.3's suites are all AEAD).
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace anteroom::hub
