// The hub's database workers: each thread owns one HubCore (HubCore is not thread-safe) and
// takes jobs from two lanes, requests and long-poll wake-ups, alternating when both wait, so a
// burst of thousands of wake-ups cannot starve pushes. Both lanes have a ceiling.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "anteroom/sync/hub_core.hpp"

namespace anteroom::hub {

class Worker {
 public:
  explicit Worker(sync::HubOptions options) : m_options(std::move(options)) {}
  // This worker's HubCore, connecting (again) when it has none, at most once per backoff
  // step (0.1 s doubling to 5 s) so a dead PostgreSQL costs no time per request.
  // Errors: Network "hub.database" (transient).
  Result<sync::HubCore*> core();
  // Forget the connection after HubCore reported "hub.database" (HubCore reconnects by itself
  // on its next call; this only makes the next core() go through the backoff).
  void databaseFailed();
  void databaseOk() noexcept { m_backoff = std::chrono::milliseconds{0}; }

 private:
  sync::HubOptions m_options;
  std::unique_ptr<sync::HubCore> m_core;
  std::chrono::steady_clock::time_point m_nextAttempt{};
  std::chrono::milliseconds m_backoff{0};
};

class WorkerPool {
 public:
  enum class Lane { Request, Wake };
  using Job = std::function<void(Worker&)>;

  WorkerPool(sync::HubOptions options, int workers, std::size_t maxQueuedPerLane);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the lane is at its ceiling or the pool is stopping (the caller answers 503).
  bool submit(Lane lane, Job job);
  // Joins the threads; jobs still queued are dropped (their connections are closing anyway).
  void stop();
  [[nodiscard]] std::size_t queued() const;

 private:
  void run(std::size_t index);
  std::vector<std::unique_ptr<Worker>> m_workers;
  std::vector<std::thread> m_threads;
  mutable std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<Job> m_requests;
  std::deque<Job> m_wakes;
  std::size_t m_ceiling;
  bool m_stopping = false;
};

}  // namespace anteroom::hub
