// gzip bodies for the hub: inflating a request with a ceiling (a gzip bomb stops there) and
// compressing a response.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"

namespace anteroom::hub {

// Errors: Protocol "protocol.gzip" (not gzip, truncated, trailing bytes),
// "protocol.too_large" (more than `ceiling` bytes once inflated).
Result<std::string> gunzip(std::string_view compressed, std::size_t ceiling);

std::string gzip(std::string_view plain);

}  // namespace anteroom::hub
