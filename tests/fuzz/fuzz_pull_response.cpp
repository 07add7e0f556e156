// libFuzzer target: the daemon's pull page parser (decodePullResponse), which reads what comes
// back from the network. Any input gives a page or a Protocol error; a page survives
// encode/decode unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "anteroom/sync/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto page = anteroom::sync::decodePullResponse(body);
  if (!page) {
    if (page.error().domain != anteroom::ErrorDomain::Protocol) {
      std::fprintf(stderr, "pull response refused with a non-protocol error: %s\n", page.error().code.c_str());
      std::abort();
    }
    return 0;
  }
  auto again = anteroom::sync::decodePullResponse(anteroom::sync::encode(*page));
  if (!again || !(*again == *page)) {
    std::fprintf(stderr, "pull response does not survive encode/decode: %s\n",
                 again ? "values differ" : again.error().message.c_str());
    std::abort();
  }
  return 0;
}
