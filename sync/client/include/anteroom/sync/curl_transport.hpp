// The daemon's Transport over HTTPS (libcurl): the practice CA only, the hub's pinned key,
// the device certificate, timeouts, gzip both ways, one reused handle (keep-alive).
// No curl.h here: the handle lives in the implementation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"
#include "anteroom/sync/client.hpp"
#include "anteroom/sync/messages.hpp"

namespace anteroom::sync {

// What the supervisor needs of a transport beyond one request and one answer.
class LongPollTransport : public Transport {
 public:
  // The Retry-After of the last answer that carried one (503, 429), cleared by every request.
  [[nodiscard]] virtual std::optional<std::chrono::seconds> lastRetryAfter() const = 0;
  // Thread-safe. Cuts the running long-poll short (or the next one, until clearInterrupt()):
  // its pull answers Network "sync.interrupted". Requests without a wait are not cut.
  virtual void interruptLongPoll() noexcept = 0;
  virtual void clearInterrupt() noexcept = 0;
  // Thread-safe and async-signal-safe: aborts whatever is in flight, and refuses every later
  // request with Network "sync.stopped". Nothing local is half-written by it: the store is
  // only written after an answer arrives.
  virtual void stop() noexcept = 0;
  // When a request last showed progress (at least once a second while one runs): the daemon's
  // watchdog uses it to tell a long transfer from a hung process.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point lastActivity() const noexcept = 0;
};

struct CurlOptions {
  std::string hubUrl;                // "https://host:port", no path
  std::filesystem::path caFile;      // the practice CA (PEM); the system store is never used
  std::vector<std::string> pins;     // "sha256//BASE64" of the hub's public key: current, backup
  std::filesystem::path certFile;    // the device certificate (PEM)
  std::filesystem::path keyFile;     // its private key (PEM)
  std::chrono::seconds connectTimeout{5};
  std::chrono::seconds totalTimeout{60};  // a request, plus the long-poll wait for a pull
  std::chrono::seconds lowSpeedTime{15};  // abort a transfer that moves no byte this long
  WireLimits limits;                       // the response ceiling (after inflating)
};

// Bytes and requests so far (for the benchmark's wire bytes and the keep-alive test).
struct TransportStats {
  std::uint64_t requests = 0;
  std::uint64_t connections = 0;       // new TCP+TLS connections made
  std::uint64_t requestBodyBytes = 0;  // as sent (gzip'd)
  std::uint64_t responseBytes = 0;     // headers and body as received (before inflating)
};

class CurlTransport final : public LongPollTransport {
 public:
  // Checks the options (https URL, files readable, pin syntax) and prepares the one handle.
  // Errors: Validation "syncd.config" naming the option.
  static Result<std::unique_ptr<CurlTransport>> create(const CurlOptions& options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // POST /v1/push (gzip'd body). GET /v1/pull?after=&limit=&wait=. Answers map to Errors:
  // no answer, a timeout or a 5xx -> Network (transient; lastRetryAfter() when given);
  // 409 -> Conflict with the hub's code; 401/403 -> Conflict "hub.unknown_device" or
  // "hub.revoked_device" (not transient); 400/413 and malformed answers -> Protocol;
  // a certificate or pin that does not match -> Network "sync.hub_identity" (not transient).
  Result<PushResponse> push(const PushRequest& request) override;
  Result<PullResponse> pull(const PullRequest& request) override;
  // GET /v1/health: ok when the hub and its database answer.
  Result<void> health();

  [[nodiscard]] std::optional<std::chrono::seconds> lastRetryAfter() const override;
  void interruptLongPoll() noexcept override;
  void clearInterrupt() noexcept override;
  void stop() noexcept override;

  [[nodiscard]] std::chrono::steady_clock::time_point lastActivity() const noexcept override;
  [[nodiscard]] TransportStats stats() const noexcept;

  struct Impl;

 private:
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// "sha256//" and the base64 of 32 bytes: libcurl's CURLOPT_PINNEDPUBLICKEY form of one pin.
[[nodiscard]] bool isValidPin(std::string_view pin) noexcept;

// gzip (RFC 1952) of bytes, for request bodies. Exposed for tests.
Result<std::string> gzipCompress(std::string_view data);

}  // namespace anteroom::sync
