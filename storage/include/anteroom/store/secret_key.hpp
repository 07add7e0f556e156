// The store key: 32 random bytes in locked, guarded memory that is wiped when freed.
// Read from a key file of 64 hex characters; never from the environment or the command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "anteroom/model/error.hpp"

namespace anteroom::store {

class SecretKey {
 public:
  static constexpr std::size_t kSize = 32;

  // 32 bytes from the OS's CSPRNG.
  static Result<SecretKey> generate();
  // A file holding exactly 64 hex characters (one trailing newline allowed).
  static Result<SecretKey> readFile(const std::filesystem::path& path);
  // Writes 64 hex characters and a newline with mode 0600; refuses to overwrite.
  Result<void> writeNewFile(const std::filesystem::path& path) const;

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  [[nodiscard]] std::span<const std::uint8_t, kSize> bytes() const noexcept;

  // The SQLCipher raw-key form x'<64 hex>' in locked memory; wiped when the holder dies.
  class RawKeyText {
   public:
    explicit RawKeyText(const SecretKey& key);
    RawKeyText(const RawKeyText&) = delete;
    RawKeyText& operator=(const RawKeyText&) = delete;
    ~RawKeyText();
    [[nodiscard]] const char* data() const noexcept { return m_text; }
    [[nodiscard]] int size() const noexcept { return kTextSize; }

   private:
    static constexpr int kTextSize = 67;  // x' + 64 + '
    char* m_text = nullptr;
  };

 private:
  SecretKey();
  std::uint8_t* m_bytes = nullptr;  // sodium_malloc'd: guard pages, mlock'd, zeroed on free
};

}  // namespace anteroom::store
