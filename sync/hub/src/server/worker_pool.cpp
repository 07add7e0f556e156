// Worker threads around one HubCore each, with reconnect backoff.
#include "worker_pool.hpp"

#include <algorithm>

namespace anteroom::hub {

using namespace std::chrono;

Result<sync::HubCore*> Worker::core() {
  if (m_core) return m_core.get();
  const auto now = steady_clock::now();
  if (now < m_nextAttempt)
    return fail(ErrorDomain::Network, "hub.database", "the central database cannot be reached; try again shortly", true);
  auto connected = sync::HubCore::connect(m_options);
  if (!connected) {
    m_backoff = std::clamp(m_backoff * 2, milliseconds{100}, milliseconds{5000});
    m_nextAttempt = now + m_backoff;
    return std::unexpected(connected.error());
  }
  m_backoff = milliseconds{0};
  m_core = std::move(*connected);
  return m_core.get();
}

void Worker::databaseFailed() {
  // Keep the HubCore (its clock and prepared statements reset themselves); a second failure in
  // a row drops it so that core() backs off instead of trying on every request.
  if (m_backoff.count() > 0) m_core.reset();
  m_backoff = std::clamp(m_backoff * 2, milliseconds{100}, milliseconds{5000});
  m_nextAttempt = steady_clock::now() + m_backoff;
}

WorkerPool::WorkerPool(sync::HubOptions options, int workers, std::size_t maxQueuedPerLane)
    : m_ceiling(maxQueuedPerLane) {
  for (int i = 0; i < workers; ++i) m_workers.push_back(std::make_unique<Worker>(options));
  for (std::size_t i = 0; i < m_workers.size(); ++i) m_threads.emplace_back([this, i] { run(i); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(Lane lane, Job job) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return false;
    auto& q = lane == Lane::Request ? m_requests : m_wakes;
    if (q.size() >= m_ceiling) return false;
    q.push_back(std::move(job));
  }
  m_ready.notify_one();
  return true;
}

void WorkerPool::stop() {
  std::deque<Job> dropRequests, dropWakes;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && m_threads.empty()) return;
    m_stopping = true;
    dropRequests.swap(m_requests);
    dropWakes.swap(m_wakes);
  }
  m_ready.notify_all();
  for (auto& t : m_threads)
    if (t.joinable()) t.join();
  m_threads.clear();
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(m_mutex);
  return m_requests.size() + m_wakes.size();
}

void WorkerPool::run(std::size_t index) {
  Worker& worker = *m_workers[index];
  bool wakeTurn = false;  // alternate the lanes when both hold work
  for (;;) {
    Job job;
    {
      std::unique_lock lock(m_mutex);
      m_ready.wait(lock, [&] { return m_stopping || !m_requests.empty() || !m_wakes.empty(); });
      if (m_stopping) return;
      const bool takeWake = m_requests.empty() || (wakeTurn && !m_wakes.empty());
      auto& q = takeWake ? m_wakes : m_requests;
      job = std::move(q.front());
      q.pop_front();
      wakeTurn = !takeWake;
    }
    job(worker);
  }
}

}  // namespace anteroom::hub
