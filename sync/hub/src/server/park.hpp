// Parked long-polls by practice. A NOTIFY for practice P wakes P's parked pulls; a generation
// per practice closes the gap between running a pull and parking it (a change committed in
// between makes park() refuse, and the pull runs again at once).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace anteroom::hub {

class ParkRegistry {
 public:
  using Wake = std::function<void()>;

  // Read before running the pull whose empty page may be parked.
  std::uint64_t generation(const std::string& practice);
  // Parks until notify(practice); false (nothing parked) when a change came since `seen`.
  bool park(const std::string& practice, std::uint64_t seen, std::uint64_t token, Wake wake);
  void unpark(const std::string& practice, std::uint64_t token);
  // Wakes the practice's parked pulls (each wake runs outside the lock).
  void notify(const std::string& practice);
  // The LISTEN connection was lost: a NOTIFY may have been missed, so wake everyone.
  void notifyAll();
  [[nodiscard]] std::size_t parked() const { return m_parked.load(); }

 private:
  struct Practice {
    std::uint64_t generation = 0;
    std::unordered_map<std::uint64_t, Wake> parked;
  };
  std::mutex m_mutex;
  std::unordered_map<std::string, Practice> m_practices;
  std::uint64_t m_epoch = 0;  // bumped by notifyAll, part of every generation
  std::atomic<std::size_t> m_parked{0};
};

}  // namespace anteroom::hub
