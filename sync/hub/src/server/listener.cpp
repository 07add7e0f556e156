// LISTEN anteroom_changes with libpqxx 6.4's notification_receiver.
#include "listener.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>

namespace anteroom::hub {

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::function<void(const std::string&)>& onNotify)
      : pqxx::notification_receiver(c, "anteroom_changes"), m_onNotify(onNotify) {}
  void operator()(const std::string& payload, int /*backendPid*/) override { m_onNotify(payload); }

 private:
  std::function<void(const std::string&)>& m_onNotify;
};

}  // namespace

ChangeListener::ChangeListener(std::string dsn, std::function<void(const std::string&)> onNotify,
                               std::function<void()> onResubscribed)
    : m_dsn(std::move(dsn)), m_onNotify(std::move(onNotify)), m_onResubscribed(std::move(onResubscribed)) {}

ChangeListener::~ChangeListener() { stop(); }

void ChangeListener::start() { m_thread = std::thread([this] { run(); }); }

void ChangeListener::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_stopped.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void ChangeListener::run() {
  using namespace std::chrono;
  milliseconds backoff{0};
  bool missed = false;  // a NOTIFY may have gone by while there was no session
  while (!m_stop) {
    try {
      pqxx::connection conn(m_dsn);
      Receiver receiver(conn, m_onNotify);
      conn.get_notifs();  // LISTEN is sent by the receiver; make sure it went through
      m_listening = true;
      backoff = milliseconds{0};
      if (missed) {
        std::fprintf(stderr, "<6>anteroom-hub: listening for changes again; waking every parked pull\n");
        m_onResubscribed();
      }
      missed = false;
      while (!m_stop) conn.await_notification(0, 500000);
    } catch (const std::exception&) {
      // No detail: the message can quote the DSN's host but never data; keep it to one line.
      if (m_listening || backoff.count() == 0)
        std::fprintf(stderr, "<4>anteroom-hub: the LISTEN session to the central database was lost; reconnecting\n");
    }
    m_listening = false;
    missed = true;
    backoff = std::clamp(backoff * 2, milliseconds{100}, milliseconds{5000});
    std::unique_lock lock(m_mutex);
    m_stopped.wait_for(lock, backoff, [&] { return m_stop.load(); });
  }
}

}  // namespace anteroom::hub
