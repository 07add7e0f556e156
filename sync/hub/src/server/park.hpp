// Parked long-polls by practice. A NOTIFY for practice P takes P's parked pulls out and hands
// them to the server's wake handler, which runs each distinct pull once (see http_server.cpp).
// A generation per practice closes the gap between running a pull and parking it: a change
// committed in between makes park() refuse, and the pull runs again at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "routes.hpp"

namespace anteroom::hub {

// What a woken pull's connection receives: the outcome of the pull run for its group, with
// the body gzip'd once for all who asked. Null: the pull could not be run (answer empty).
struct WokenPage {
  std::shared_ptr<const Outcome> outcome;  // its body moved to plainBody
  std::shared_ptr<const std::string> plainBody;
  std::shared_ptr<const std::string> gzipBody;
};

struct ParkedPull {
  std::uint64_t token = 0;
  ParkInfo info;
  bool acceptGzip = false;
  std::function<void(std::uint64_t token, WokenPage)> deliver;  // posts to the connection's strand
};

class ParkRegistry {
 public:
  using WakeHandler = std::function<void(std::vector<ParkedPull>&&)>;
  void setWakeHandler(WakeHandler handler) { m_wake = std::move(handler); }

  // Read before running the pull whose empty page may be parked.
  std::uint64_t generation(const std::string& practice);
  // Parks until notify(practice); false (nothing parked) when a change came since `seen`.
  bool park(const std::string& practice, std::uint64_t seen, ParkedPull pull);
  void unpark(const std::string& practice, std::uint64_t token);
  // Hands the practice's parked pulls to the wake handler (outside the lock).
  void notify(const std::string& practice);
  // The LISTEN connection was lost and is back: a NOTIFY may have been missed, wake everyone.
  void notifyAll();
  [[nodiscard]] std::size_t parked() const { return m_parked.load(); }

 private:
  struct Practice {
    std::uint64_t generation = 0;
    std::unordered_map<std::uint64_t, ParkedPull> parked;
  };
  std::mutex m_mutex;
  std::unordered_map<std::string, Practice> m_practices;
  std::uint64_t m_epoch = 0;  // bumped by notifyAll, part of every generation
  std::atomic<std::size_t> m_parked{0};
  WakeHandler m_wake;
};

}  // namespace anteroom::hub
