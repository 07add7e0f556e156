// Another process holding the store's write lock, as the sync daemon does while it applies a pull
// page: shared by the store-worker tests and the kiosk bench. Free of doctest. Needs SQLCipher's
// sqlite3.h (SQLITE_HAS_CODEC) and Debian's sqlcipher shell.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "anteroom/store/secret_key.hpp"

namespace anteroom::uitest {

// The sqlcipher shell on the store: BEGIN IMMEDIATE and one write (an open write transaction, what
// the daemon holds: in WAL mode readers go on, writers wait), a sleep of `hold`, the wall-clock
// time it is about to let go, then ROLLBACK.
class StoreLockHolder {
 public:
  // Returns once the lock is seen taken (a probe connection is refused it).
  static std::expected<StoreLockHolder, std::string> take(const std::filesystem::path& db, const store::SecretKey& key,
                                                          std::chrono::seconds hold) {
    StoreLockHolder holder(db.parent_path() / "hold.sql");
    writeScript(holder.m_script, key, hold);
    const std::string command = "sqlcipher '" + db.string() + "' < '" + holder.m_script.string() + "' 2>/dev/null";
    holder.m_pipe = ::popen(command.c_str(), "r");
    if (holder.m_pipe == nullptr) return std::unexpected("cannot start the sqlcipher shell");
    if (auto held = waitUntilHeld(db, key); !held) return std::unexpected(held.error());
    holder.m_since = std::chrono::steady_clock::now();
    return holder;
  }
  StoreLockHolder(StoreLockHolder&& other) noexcept
      : m_script(std::move(other.m_script)),
        m_pipe(std::exchange(other.m_pipe, nullptr)),
        m_since(other.m_since),
        m_released(other.m_released) {}
  StoreLockHolder(const StoreLockHolder&) = delete;
  StoreLockHolder& operator=(const StoreLockHolder&) = delete;
  StoreLockHolder& operator=(StoreLockHolder&&) = delete;
  ~StoreLockHolder() { finish(); }

  // Waits for the shell to end (the lock released) and reads the time it let go.
  void finish() {
    if (m_pipe == nullptr) return;
    std::string out;
    char buffer[256];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, m_pipe)) > 0;) out.append(buffer, n);
    ::pclose(m_pipe);
    m_pipe = nullptr;
    std::error_code ec;
    std::filesystem::remove(m_script, ec);
    m_released = releaseTime(out);
  }
  // When the lock was seen taken.
  [[nodiscard]] std::chrono::steady_clock::time_point since() const { return m_since; }
  // After finish(): the wall-clock time just before the ROLLBACK, so anything the lock held back
  // landed after it. Empty if the shell did not get that far.
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> released() const { return m_released; }

 private:
  explicit StoreLockHolder(std::filesystem::path script) : m_script(std::move(script)) {}

  static void writeScript(const std::filesystem::path& script, const store::SecretKey& key, std::chrono::seconds hold) {
    const store::SecretKey::RawKeyText text(key);
    std::ofstream out(script);
    // .timeout: BEGIN IMMEDIATE waits out the probe rather than failing; .bail: no sleep without
    // the lock. `date` prints to the pipe we read.
    out << "PRAGMA key = \"" << std::string(text.data(), static_cast<std::size_t>(text.size()))
        << "\";\nPRAGMA cipher_page_size = 4096;\n.timeout 10000\n.bail on\n"
        << "BEGIN IMMEDIATE;\nINSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES ('test.lock', 'held', '');\n"
        << ".system sleep " << hold.count() << "\n.system date +%s%N\nROLLBACK;\n";
  }

  // Probes until another connection is refused the write lock (SQLITE_BUSY), for up to 10 s.
  static std::expected<void, std::string> waitUntilHeld(const std::filesystem::path& db, const store::SecretKey& key) {
    sqlite3* probe = nullptr;
    const store::SecretKey::RawKeyText text(key);
    if (sqlite3_open(db.c_str(), &probe) != SQLITE_OK || sqlite3_key(probe, text.data(), text.size()) != SQLITE_OK ||
        sqlite3_exec(probe, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_close(probe);
      return std::unexpected("cannot open the probe connection");
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    bool held = false;
    while (!held && std::chrono::steady_clock::now() < deadline) {
      const int rc = sqlite3_exec(probe, "BEGIN IMMEDIATE;", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) {
        sqlite3_exec(probe, "ROLLBACK;", nullptr, nullptr, nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      } else {
        held = (rc & 0xff) == SQLITE_BUSY;
      }
    }
    sqlite3_close(probe);
    if (!held) return std::unexpected("the sqlcipher shell did not take the write lock in 10 s");
    return {};
  }

  // The shell's last line of digits: `date +%s%N`, nanoseconds since the epoch.
  static std::optional<std::chrono::system_clock::time_point> releaseTime(const std::string& out) {
    std::optional<std::chrono::system_clock::time_point> at;
    std::size_t start = 0;
    while (start < out.size()) {
      auto end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      const std::string line = out.substr(start, end - start);
      if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) {
        const std::chrono::nanoseconds since(std::stoll(line));
        at = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(since));
      }
      start = end + 1;
    }
    return at;
  }

  std::filesystem::path m_script;
  FILE* m_pipe = nullptr;
  std::chrono::steady_clock::time_point m_since;
  std::optional<std::chrono::system_clock::time_point> m_released;
};

}  // namespace anteroom::uitest
