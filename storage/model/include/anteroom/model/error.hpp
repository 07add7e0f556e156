// Error values for expected failures (offline, busy, conflict, validation, ...).
// Bugs are asserts; exceptions never cross a library's public header.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace anteroom {

enum class ErrorDomain {
  Validation,  // bad input a person can correct
  Store,       // local store: key, file, SQL
  Migration,   // schema migrations
  Conflict,    // a domain rule refused a change (illegal transition, stale version)
  NotFound,
  Io,          // files, processes
  Network,     // transport to the hub
  Protocol,    // malformed messages
  Internal,
};

struct Error {
  ErrorDomain domain = ErrorDomain::Internal;
  // Stable dotted key ("validation.email.invalid"); the kiosk translates by it.
  std::string code;
  // One sentence a person can act on, in English. Never contains PHI values.
  std::string message;
  bool transient = false;

  [[nodiscard]] bool isTransient() const noexcept { return transient; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorDomain domain, std::string code, std::string message,
                                   bool transient = false) {
  return std::unexpected<Error>(Error{domain, std::move(code), std::move(message), transient});
}

std::string_view toString(ErrorDomain domain) noexcept;

}  // namespace anteroom
