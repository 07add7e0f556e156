// anteroom-hub's HTTPS server: Boost.Beast on Asio. A few I/O threads do all socket work
// asynchronously (every phase under a timeout), database work goes to the worker pool, and a
// long-poll parks as a timer and an entry in the ParkRegistry, so thousands of parked pulls
// cost only memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config.hpp"
#include "listener.hpp"
#include "park.hpp"
#include "worker_pool.hpp"

namespace anteroom::hub {

struct ServerLimits {
  std::chrono::seconds handshake{10};
  std::chrono::seconds firstHeader{30};  // from the handshake to a request's headers
  std::chrono::seconds idle{60};         // between requests on a kept-alive connection
  std::chrono::seconds body{60};
  std::chrono::seconds write{30};
  std::size_t headerBytes = 16 * 1024;
};

class HubServer {
 public:
  // Errors: Io "hub.tls", "hub.listen" (naming what could not be used).
  static Result<std::unique_ptr<HubServer>> create(const HubConfig& config, sync::HubOptions options);
  ~HubServer();
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  // The address actually bound (port 0 in the config becomes the kernel's choice).
  [[nodiscard]] std::string boundAddress() const;
  // Serves until SIGTERM or SIGINT, then stops accepting and returns.
  void run();

  struct Shared;

 private:
  HubServer() = default;
  std::unique_ptr<Shared> m_shared;
};

}  // namespace anteroom::hub
