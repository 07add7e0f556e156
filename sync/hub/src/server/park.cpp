// The parked long-polls, keyed by practice id text (the NOTIFY payload).
#include "park.hpp"

#include <vector>

namespace anteroom::hub {

std::uint64_t ParkRegistry::generation(const std::string& practice) {
  std::lock_guard lock(m_mutex);
  return m_epoch + m_practices[practice].generation;
}

bool ParkRegistry::park(const std::string& practice, std::uint64_t seen, std::uint64_t token, Wake wake) {
  std::lock_guard lock(m_mutex);
  auto& p = m_practices[practice];
  if (m_epoch + p.generation != seen) return false;
  if (p.parked.emplace(token, std::move(wake)).second) ++m_parked;
  return true;
}

void ParkRegistry::unpark(const std::string& practice, std::uint64_t token) {
  std::lock_guard lock(m_mutex);
  const auto it = m_practices.find(practice);
  if (it == m_practices.end()) return;
  if (it->second.parked.erase(token) > 0) --m_parked;
}

void ParkRegistry::notify(const std::string& practice) {
  std::unordered_map<std::uint64_t, Wake> woken;
  {
    std::lock_guard lock(m_mutex);
    auto& p = m_practices[practice];
    ++p.generation;
    woken.swap(p.parked);
    m_parked -= woken.size();
  }
  for (auto& [token, wake] : woken) wake();
}

void ParkRegistry::notifyAll() {
  std::vector<Wake> woken;
  {
    std::lock_guard lock(m_mutex);
    ++m_epoch;
    for (auto& [id, p] : m_practices) {
      for (auto& [token, wake] : p.parked) woken.push_back(std::move(wake));
      p.parked.clear();
    }
    m_parked = 0;
  }
  for (auto& wake : woken) wake();
}

}  // namespace anteroom::hub
