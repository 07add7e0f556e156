// A tiny HTTPS server for the daemon's transport tests (OpenSSL, a thread per connection):
// canned answers, gzip, a delayed answer (a parked long-poll), a stall, a reset mid-body, and
// the test PKI it serves with (the openssl CLI: two CAs, hub certs with the right and another key).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace anteroom::nettest {

// Certificates made with the openssl CLI in `dir` (EC P-256). `error` says what failed.
struct CannedPki {
  std::filesystem::path caCert, caKey;            // the practice CA
  std::filesystem::path hubCert, hubKey;          // the hub: SAN IP:127.0.0.1, DNS:localhost
  std::filesystem::path otherHubCert, otherHubKey;  // the same CA and names, another key
  std::filesystem::path foreignCaCert;              // a CA that is not the practice's
  std::filesystem::path foreignHubCert, foreignHubKey;  // the hub's names, signed by it
  std::filesystem::path deviceCert, deviceKey;    // the device (clientAuth), key 0600
  std::string hubPin, otherHubPin, foreignHubPin;  // sha256//BASE64 of the keys' SPKI
  std::string error;                              // empty when everything was made

  static CannedPki make(const std::filesystem::path& dir);
};

struct HttpRequest {
  std::string method;
  std::string target;                         // "/v1/pull?after=..."
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                           // as received
  std::string decodedBody;                    // inflated when Content-Encoding: gzip
  [[nodiscard]] std::string header(const std::string& lowerName) const;
};

struct CannedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // gzip the body (Content-Encoding: gzip) when the request accepts it.
  bool gzipWhenAccepted = true;
  // Answer only after this long (a parked long-poll); ends early when the client goes away.
  std::chrono::milliseconds delay{0};
  // Send the headers and this many body bytes, then nothing until the client gives up.
  std::optional<std::size_t> stallAfter;
  // Send the headers and this many body bytes, then reset the connection (RST).
  std::optional<std::size_t> resetAfter;
};

using Handler = std::function<CannedReply(const HttpRequest&)>;

struct TlsServerOptions {
  std::filesystem::path cert, key;
  std::filesystem::path clientCa;  // when set, a client certificate signed by it is required
  Handler handler;
};

class TlsTestServer {
 public:
  explicit TlsTestServer(TlsServerOptions options);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  [[nodiscard]] bool ok() const noexcept { return m_listenFd >= 0; }
  [[nodiscard]] const std::string& error() const noexcept { return m_error; }
  [[nodiscard]] int port() const noexcept { return m_port; }
  [[nodiscard]] std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port); }
  [[nodiscard]] std::size_t connections() const noexcept { return m_connections.load(); }
  [[nodiscard]] std::size_t handshakesFailed() const noexcept { return m_handshakesFailed.load(); }
  [[nodiscard]] std::vector<HttpRequest> requests() const;
  void setHandler(Handler handler);

  struct Connection;

 private:
  void acceptLoop();
  void serve(int fd);
  CannedReply answer(const HttpRequest& request);

  TlsServerOptions m_options;
  std::string m_error;
  int m_listenFd = -1;
  int m_port = 0;
  void* m_ctx = nullptr;  // SSL_CTX*
  std::atomic<bool> m_stop{false};
  std::atomic<std::size_t> m_connections{0};
  std::atomic<std::size_t> m_handshakesFailed{0};
  mutable std::mutex m_mutex;
  std::vector<HttpRequest> m_requests;
  std::vector<std::thread> m_threads;
  std::thread m_acceptor;
};

// gzip and gunzip for the tests' checks ("" from gunzip when the input is not gzip).
std::string cannedGzip(std::string_view text);
std::optional<std::string> cannedGunzip(std::string_view gz);

}  // namespace anteroom::nettest
