// The kiosk's background thread: slow work (today: the Argon2id PIN check) runs here, and its
// results come back through one queue that the UI thread drains once a frame (Tracy's
// RunQueue), so the frame loop never waits on it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace anteroom::kiosk {

class Worker {
 public:
  using Done = std::function<void()>;  // runs on the UI thread, from drain()
  using Job = std::function<Done()>;   // runs on the worker; returns what to apply after
  static constexpr std::size_t kMaxQueued = 16;

  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Queues a job; false when kMaxQueued are already waiting (the caller says "busy").
  bool post(Job job);
  // Applies every finished job's result, in order; returns how many. UI thread only.
  std::size_t drain();
  // Jobs waiting, running, or finished but not yet drained.
  [[nodiscard]] bool busy() const;
  // Blocks until every posted job has finished (tests and shutdown; never the frame loop).
  void waitIdle();

 private:
  void run();

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_idle;
  std::deque<Job> m_jobs;
  std::deque<Done> m_done;
  int m_running = 0;
  bool m_stop = false;
  std::thread m_thread;  // last: started after everything it uses exists
};

}  // namespace anteroom::kiosk
