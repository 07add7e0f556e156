// A fault-injecting TCP proxy for the network tests: one thread and poll(), listening on
// 127.0.0.1 and relaying to an upstream port, with the faults a practice's network makes.
// TLS passes through untouched (mutual TLS stays end to end); the proxy only reads the
// 5-byte TLS record headers to tell the handshake from the request (kDropResponse).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace anteroom::nettest {

enum class FaultMode {
  Pass,          // relay both ways
  Refuse,        // the port is closed: connect() gets ECONNREFUSED
  Stall,         // accept, then relay nothing either way (the peer hangs until it gives up)
  ResetAfter,    // relay, then reset both sides after `resetAfterBytes` bytes sent upstream
  Slow,          // relay `bytesPerTick` bytes each `tick`, each way
  DropResponse,  // relay the handshake and the whole request; swallow the answer and close the
                 // client side once the upstream has answered and gone quiet: the server acted
                 // on the request, the client never hears
};

std::string_view toString(FaultMode mode) noexcept;

struct FaultSettings {
  FaultMode mode = FaultMode::Pass;
  std::size_t resetAfterBytes = 4096;
  std::size_t bytesPerTick = 256;
  std::chrono::milliseconds tick{10};
  // kDropResponse: the client side closes once both directions have been quiet this long after
  // the upstream began answering.
  std::chrono::milliseconds quiet{150};
};

struct ProxyCounters {
  std::uint64_t accepted = 0;
  std::uint64_t bytesUp = 0;     // client -> upstream, relayed
  std::uint64_t bytesDown = 0;   // upstream -> client, relayed
  std::uint64_t resets = 0;      // connections reset by ResetAfter
  std::uint64_t dropped = 0;     // answers swallowed by DropResponse
  std::uint64_t swallowedBytes = 0;
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1:`listenPort` (0 = a free port) and relays to 127.0.0.1:`upstreamPort`.
  // Returns nullptr with `error` set when the port cannot be bound.
  static std::unique_ptr<FaultProxy> start(int upstreamPort, std::string& error, int listenPort = 0);
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  ~FaultProxy();  // closes every connection and joins the thread

  [[nodiscard]] int port() const noexcept { return m_port; }
  // Applies to connections accepted from now on; Refuse also closes the port, and leaving
  // Refuse opens it again on the same port number.
  void set(const FaultSettings& settings);
  void setMode(FaultMode mode);
  void setUpstream(int upstreamPort);
  [[nodiscard]] FaultSettings settings() const;
  // Resets every open connection at once (the network dropped).
  void resetAll();
  [[nodiscard]] ProxyCounters counters() const;
  [[nodiscard]] std::size_t openConnections() const;

  struct Impl;

 private:
  FaultProxy() = default;
  std::unique_ptr<Impl> m_impl;
  int m_port = 0;
};

}  // namespace anteroom::nettest
