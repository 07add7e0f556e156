// Key material lives only in sodium_malloc'd memory (locked, guarded, wiped on free).
#include "anteroom/store/secret_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace anteroom::store {
namespace {

bool sodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void* lockedAlloc(std::size_t size) {
  if (!sodiumReady()) std::abort();
  void* p = sodium_malloc(size);
  if (p == nullptr) std::abort();  // out of memory for a 64-byte key: nothing sensible to do
  return p;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string errnoText() { return std::strerror(errno); }

}  // namespace

SecretKey::SecretKey() : m_bytes(static_cast<std::uint8_t*>(lockedAlloc(kSize))) {}

SecretKey::SecretKey(SecretKey&& other) noexcept : m_bytes(std::exchange(other.m_bytes, nullptr)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (m_bytes != nullptr) sodium_free(m_bytes);
    m_bytes = std::exchange(other.m_bytes, nullptr);
  }
  return *this;
}

SecretKey::~SecretKey() {
  if (m_bytes != nullptr) sodium_free(m_bytes);
}

std::span<const std::uint8_t, SecretKey::kSize> SecretKey::bytes() const noexcept {
  return std::span<const std::uint8_t, kSize>(m_bytes, kSize);
}

Result<SecretKey> SecretKey::generate() {
  SecretKey key;
  randombytes_buf(key.m_bytes, kSize);
  return key;
}

Result<SecretKey> SecretKey::readFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return fail(ErrorDomain::Io, "key.unreadable",
                "cannot read the key file " + path.string() + ": " + errnoText());
  }
  // As ssh does with a private key: a key other users can read may already be theirs.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(ErrorDomain::Io, "key.permissions",
                "the key file " + path.string() + " is open to other users (mode " + mode.data() +
                    "); refusing to use it: run chmod 600 " + path.string() + " (and consider making a new key)");
  }
  // Read into locked memory so the hex text never sits in ordinary heap or stack pages.
  constexpr std::size_t kMax = 2 * kSize + 2;
  auto* text = static_cast<char*>(lockedAlloc(kMax + 1));
  std::size_t total = 0;
  bool readError = false;
  while (total <= kMax) {
    const ssize_t n = ::read(fd, text + total, kMax + 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      readError = true;
      break;
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  ::close(fd);

  Result<SecretKey> result = fail(ErrorDomain::Io, "key.format",
                                  "the key file " + path.string() +
                                      " must hold exactly 64 hex characters (made by "
                                      "'anteroom-admin keygen')");
  std::size_t len = total;
  if (len > 0 && text[len - 1] == '\n') --len;
  if (len > 0 && text[len - 1] == '\r') --len;
  if (readError) {
    result = fail(ErrorDomain::Io, "key.unreadable", "cannot read the key file " + path.string());
  } else if (len == 2 * kSize && total <= kMax) {
    SecretKey key;
    bool ok = true;
    for (std::size_t i = 0; i < kSize && ok; ++i) {
      const int hi = hexValue(text[2 * i]);
      const int lo = hexValue(text[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      if (ok) key.m_bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (ok) result = std::move(key);
  }
  sodium_free(text);
  return result;
}

Result<void> SecretKey::writeNewFile(const std::filesystem::path& path) const {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return fail(ErrorDomain::Io, "key.exists",
                  "the key file " + path.string() + " already exists; refusing to overwrite it");
    }
    return fail(ErrorDomain::Io, "key.unwritable",
                "cannot create the key file " + path.string() + ": " + errnoText());
  }
  ::fchmod(fd, 0600);  // the umask may have narrowed it already; never widen beyond 0600
  auto* hex = static_cast<char*>(lockedAlloc(2 * kSize + 2));
  sodium_bin2hex(hex, 2 * kSize + 1, m_bytes, kSize);
  hex[2 * kSize] = '\n';
  std::size_t written = 0;
  bool ok = true;
  while (written < 2 * kSize + 1) {
    const ssize_t n = ::write(fd, hex + written, 2 * kSize + 1 - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  sodium_free(hex);
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return fail(ErrorDomain::Io, "key.unwritable", "cannot write the key file " + path.string());
  }
  return {};
}

SecretKey::RawKeyText::RawKeyText(const SecretKey& key)
    : m_text(static_cast<char*>(lockedAlloc(kTextSize + 1))) {
  m_text[0] = 'x';
  m_text[1] = '\'';
  sodium_bin2hex(m_text + 2, 2 * kSize + 1, key.m_bytes, kSize);
  m_text[kTextSize - 1] = '\'';
  m_text[kTextSize] = '\0';
}

SecretKey::RawKeyText::~RawKeyText() { sodium_free(m_text); }

}  // namespace anteroom::store
