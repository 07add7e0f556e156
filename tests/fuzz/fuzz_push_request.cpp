// libFuzzer target: the hub's push body parser (decodePushRequest). Any input must give a value
// or a Protocol error, never a crash, a hang or undefined behaviour; what decodes must come back
// the same after encode and decode again (the device and the hub read one wire).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "anteroom/sync/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = anteroom::sync::decodePushRequest(body);
  if (!decoded) {
    if (decoded.error().domain != anteroom::ErrorDomain::Protocol || decoded.error().code.empty()) {
      std::fprintf(stderr, "push request refused with a non-protocol error: %s\n", decoded.error().code.c_str());
      std::abort();
    }
    return 0;
  }
  const std::string again = anteroom::sync::encode(*decoded);
  auto redecoded = anteroom::sync::decodePushRequest(again);
  if (!redecoded || !(*redecoded == *decoded)) {
    std::fprintf(stderr, "push request does not survive encode/decode: %s\n",
                 redecoded ? "values differ" : redecoded.error().message.c_str());
    std::abort();
  }
  return 0;
}
