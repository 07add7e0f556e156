// The hub's one LISTEN session on channel anteroom_changes (libpqxx, its own thread and its own
// DSN: through PgBouncer in transaction mode LISTEN needs a direct session). Each NOTIFY's
// payload is a practice id; on losing the session it reconnects with backoff and reports it,
// so that every parked pull runs again (a NOTIFY may have been missed meanwhile).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace anteroom::hub {

class ChangeListener {
 public:
  ChangeListener(std::string dsn, std::function<void(const std::string&)> onNotify, std::function<void()> onResubscribed);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;
  void start();
  void stop();
  [[nodiscard]] bool listening() const { return m_listening.load(); }

 private:
  void run();
  std::string m_dsn;
  std::function<void(const std::string&)> m_onNotify;
  std::function<void()> m_onResubscribed;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_listening{false};
  std::mutex m_mutex;
  std::condition_variable m_stopped;
  std::thread m_thread;
};

}  // namespace anteroom::hub
