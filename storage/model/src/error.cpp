// Names of error domains, for logs and diagnostics.
#include "anteroom/model/error.hpp"

namespace anteroom {

std::string_view toString(ErrorDomain domain) noexcept {
  switch (domain) {
    case ErrorDomain::Validation: return "validation";
    case ErrorDomain::Store: return "store";
    case ErrorDomain::Migration: return "migration";
    case ErrorDomain::Conflict: return "conflict";
    case ErrorDomain::NotFound: return "not_found";
    case ErrorDomain::Io: return "io";
    case ErrorDomain::Network: return "network";
    case ErrorDomain::Protocol: return "protocol";
    case ErrorDomain::Internal: return "internal";
  }
  return "internal";
}

}  // namespace anteroom
