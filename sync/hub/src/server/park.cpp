// The parked long-polls, keyed by practice id text (the NOTIFY payload).
#include "park.hpp"

namespace anteroom::hub {

std::uint64_t ParkRegistry::generation(const std::string& practice) {
  std::lock_guard lock(m_mutex);
  return m_epoch + m_practices[practice].generation;
}

bool ParkRegistry::park(const std::string& practice, std::uint64_t seen, ParkedPull pull) {
  std::lock_guard lock(m_mutex);
  auto& p = m_practices[practice];
  if (m_epoch + p.generation != seen) return false;
  const auto token = pull.token;
  if (p.parked.emplace(token, std::move(pull)).second) ++m_parked;
  return true;
}

void ParkRegistry::unpark(const std::string& practice, std::uint64_t token) {
  std::lock_guard lock(m_mutex);
  const auto it = m_practices.find(practice);
  if (it == m_practices.end()) return;
  if (it->second.parked.erase(token) > 0) --m_parked;
}

void ParkRegistry::notify(const std::string& practice) {
  std::vector<ParkedPull> woken;
  {
    std::lock_guard lock(m_mutex);
    auto& p = m_practices[practice];
    ++p.generation;
    woken.reserve(p.parked.size());
    for (auto& [token, pull] : p.parked) woken.push_back(std::move(pull));
    p.parked.clear();
    m_parked -= woken.size();
  }
  if (!woken.empty() && m_wake) m_wake(std::move(woken));
}

void ParkRegistry::notifyAll() {
  std::vector<ParkedPull> woken;
  {
    std::lock_guard lock(m_mutex);
    ++m_epoch;
    for (auto& [id, p] : m_practices) {
      for (auto& [token, pull] : p.parked) woken.push_back(std::move(pull));
      p.parked.clear();
    }
    m_parked = 0;
  }
  if (!woken.empty() && m_wake) m_wake(std::move(woken));
}

}  // namespace anteroom::hub
