// Argon2id hashing of staff PINs. The PIN is copied only into locked memory and wiped.
#include "anteroom/store/pin.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace anteroom::store {
namespace {

bool validPin(std::string_view pin) {
  return pin.size() >= 4 && pin.size() <= 8 &&
         std::all_of(pin.begin(), pin.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<std::string> hashPin(std::string_view pin) {
  if (!validPin(pin)) return fail(ErrorDomain::Validation, "validation.pin", "a PIN is 4 to 8 digits");
  if (sodium_init() < 0) return fail(ErrorDomain::Internal, "crypto.init", "libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  auto* copy = static_cast<char*>(sodium_malloc(pin.size() + 1));
  if (copy == nullptr) return fail(ErrorDomain::Internal, "crypto.memory", "out of memory");
  std::memcpy(copy, pin.data(), pin.size());
  const int rc = crypto_pwhash_str_alg(out, copy, pin.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
  sodium_free(copy);
  if (rc != 0) return fail(ErrorDomain::Internal, "crypto.memory", "not enough memory to hash the PIN");
  return std::string(out);
}

bool verifyPin(const std::string& hash, std::string_view pin) {
  if (!validPin(pin) || sodium_init() < 0) return false;
  auto* copy = static_cast<char*>(sodium_malloc(pin.size() + 1));
  if (copy == nullptr) return false;
  std::memcpy(copy, pin.data(), pin.size());
  const bool ok = crypto_pwhash_str_verify(hash.c_str(), copy, pin.size()) == 0;
  sodium_free(copy);
  return ok;
}

}  // namespace anteroom::store
