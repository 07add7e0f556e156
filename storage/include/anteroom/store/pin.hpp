// Staff PINs: 4 to 8 digits, stored only as Argon2id hashes (libsodium crypto_pwhash_str).
#pragma once

#include <string>
#include <string_view>

#include "anteroom/model/error.hpp"

namespace anteroom::store {

Result<std::string> hashPin(std::string_view pin);
// Constant-time comparison inside libsodium; false for a malformed hash too.
bool verifyPin(const std::string& hash, std::string_view pin);

}  // namespace anteroom::store
