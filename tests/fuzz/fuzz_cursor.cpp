// libFuzzer target: the pull cursor decoder (decodeCursor), which reads the `after=` query of
// every pull. Any text gives a cursor or protocol.cursor; a decoded cursor encodes back to one
// that decodes to the same position.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "anteroom/sync/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cursor = anteroom::sync::decodeCursor(text);
  if (!cursor) {
    if (cursor.error().code != "protocol.cursor") {
      std::fprintf(stderr, "cursor refused with %s\n", cursor.error().code.c_str());
      std::abort();
    }
    return 0;
  }
  const std::string encoded = anteroom::sync::encodeCursor(*cursor);
  auto again = anteroom::sync::decodeCursor(encoded);
  if (!again || !(*again == *cursor)) {
    std::fprintf(stderr, "cursor does not survive encode/decode\n");
    std::abort();
  }
  return 0;
}
