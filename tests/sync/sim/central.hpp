// A throw-away PostgreSQL with the central schema for the sync tests and the simulation.
#pragma once

#include <memory>
#include <string>

#include "anteroom/model/error.hpp"

namespace anteroom::sim {

// Test keys: 64 hex characters like production keys, obviously not secret.
inline constexpr const char* kPiiKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
inline constexpr const char* kHashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// One PostgreSQL for a whole run: each world works in a practice of its own, which row-level
// security keeps apart, so seeds share the server without seeing each other.
class Central {
 public:
  // Starts a throw-away cluster and migrates a database. Errors say why (missing packages).
  static Result<std::unique_ptr<Central>> start();
  ~Central();
  [[nodiscard]] std::string superDsn() const;
  [[nodiscard]] std::string hubDsn() const;
  [[nodiscard]] std::string log() const;

 private:
  Central() = default;
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace anteroom::sim
