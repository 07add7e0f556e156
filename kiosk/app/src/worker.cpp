// The kiosk's background thread and its result queue.
#include "worker.hpp"

#include <utility>

namespace anteroom::kiosk {

Worker::Worker() : m_thread([this] { run(); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

bool Worker::post(Job job) {
  {
    std::lock_guard lock(m_mutex);
    if (m_jobs.size() >= kMaxQueued) return false;
    m_jobs.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

std::size_t Worker::drain() {
  std::deque<Done> ready;
  {
    std::lock_guard lock(m_mutex);
    ready.swap(m_done);
  }
  for (auto& done : ready)
    if (done) done();
  return ready.size();
}

bool Worker::busy() const {
  std::lock_guard lock(m_mutex);
  return !m_jobs.empty() || m_running > 0 || !m_done.empty();
}

void Worker::waitIdle() {
  std::unique_lock lock(m_mutex);
  m_idle.wait(lock, [&] { return m_jobs.empty() && m_running == 0; });
}

void Worker::run() {
  std::unique_lock lock(m_mutex);
  while (true) {
    m_wake.wait(lock, [&] { return m_stop || !m_jobs.empty(); });
    if (m_stop) return;
    Job job = std::move(m_jobs.front());
    m_jobs.pop_front();
    ++m_running;
    lock.unlock();
    Done done = job ? job() : Done{};
    lock.lock();
    --m_running;
    m_done.push_back(std::move(done));
    if (m_jobs.empty() && m_running == 0) m_idle.notify_all();
  }
}

}  // namespace anteroom::kiosk
