// Symptoms of a damaged store that SQLite itself would pass over or report in a hundred lines.
#include "integrity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

namespace anteroom::store::integrity {

namespace fs = std::filesystem;

Result<void> checkFileSize(const fs::path& path, std::uintmax_t size) {
  if (size % kPageSize == 0) return {};
  return fail(ErrorDomain::Store, "store.truncated",
              "the store file " + path.string() + " is damaged or not an Anteroom store: its size (" +
                  std::to_string(size) + " bytes) is not a whole number of " + std::to_string(kPageSize) +
                  "-byte pages, so it was cut short or overwritten (the key is not the problem); "
                  "restore it from the server by re-provisioning the device");
}

// [SECTION] Write-ahead log (format: sqlite.org/fileformat2.html#walformat)

namespace {

constexpr std::size_t kWalHeaderSize = 32;
constexpr std::size_t kFrameHeaderSize = 24;
constexpr std::uint32_t kWalMagic = 0x377f0682;  // | 1: checksums use big-endian words
constexpr std::uint32_t kWalVersion = 3007000;

std::uint32_t bigEndian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t littleEndian(const unsigned char* p) {
  return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}

// SQLite's WAL checksum: two running sums over pairs of 32-bit words, continued from `sums`.
void walChecksum(bool bigEndianWords, const unsigned char* data, std::size_t size, std::array<std::uint32_t, 2>& sums) {
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint32_t a = bigEndianWords ? bigEndian(data + i) : littleEndian(data + i);
    const std::uint32_t b = bigEndianWords ? bigEndian(data + i + 4) : littleEndian(data + i + 4);
    sums[0] += a + sums[1];
    sums[1] += b + sums[0];
  }
}

bool validPageSize(std::uint32_t size) {
  if (size == 1) return true;  // 65536
  return size >= 512 && size <= 32768 && (size & (size - 1)) == 0;
}

// A frame of the log: its 24-byte header and its page.
struct Frame {
  std::vector<unsigned char> bytes;
  [[nodiscard]] bool belongsTo(const unsigned char* walHeader) const {
    return std::equal(bytes.begin() + 8, bytes.begin() + 16, walHeader + 16);
  }
  [[nodiscard]] bool isCommit() const { return bigEndian(bytes.data() + 4) != 0; }
  [[nodiscard]] std::array<std::uint32_t, 2> storedSums() const {
    return {bigEndian(bytes.data() + 16), bigEndian(bytes.data() + 20)};
  }
  // Continues the running checksum from `sums` (the previous frame's, or the header's).
  [[nodiscard]] bool verifies(bool bigEndianWords, std::array<std::uint32_t, 2> sums) const {
    walChecksum(bigEndianWords, bytes.data(), 8, sums);
    walChecksum(bigEndianWords, bytes.data() + kFrameHeaderSize, bytes.size() - kFrameHeaderSize, sums);
    return sums == storedSums();
  }
};

std::optional<Frame> readFrame(std::ifstream& in, std::size_t index, std::uint32_t pageSize) {
  Frame f{std::vector<unsigned char>(kFrameHeaderSize + pageSize)};
  in.clear();
  in.seekg(static_cast<std::streamoff>(kWalHeaderSize + index * f.bytes.size()));
  in.read(reinterpret_cast<char*>(f.bytes.data()), static_cast<std::streamsize>(f.bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(f.bytes.size())) return std::nullopt;
  return f;
}

// True when SQLite would replay nothing from this log although it holds committed changes.
// A fresh header over stale frames (a log restarted after a checkpoint) is fine; so is a first
// frame torn by a power cut, when no commit follows it (that transaction was never confirmed).
// A first frame that fails while a later commit frame of the same header verifies is damage.
bool walReplaysNothing(const fs::path& walPath, std::uintmax_t size) {
  std::ifstream in(walPath, std::ios::binary);
  std::array<unsigned char, kWalHeaderSize> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  if (in.gcount() != static_cast<std::streamsize>(header.size())) return true;
  const std::uint32_t magic = bigEndian(header.data());
  const std::uint32_t pageSize = bigEndian(header.data() + 8);
  if ((magic & ~1U) != kWalMagic || bigEndian(header.data() + 4) != kWalVersion || !validPageSize(pageSize))
    return true;
  const bool big = (magic & 1U) != 0;
  std::array<std::uint32_t, 2> sums{0, 0};
  walChecksum(big, header.data(), 24, sums);
  if (sums[0] != bigEndian(header.data() + 24) || sums[1] != bigEndian(header.data() + 28)) return true;
  const std::uint32_t realPageSize = pageSize == 1 ? 65536 : pageSize;
  const std::size_t frames = (size - kWalHeaderSize) / (kFrameHeaderSize + realPageSize);
  const auto first = readFrame(in, 0, realPageSize);
  if (!first || !first->belongsTo(header.data()) || first->verifies(big, sums)) return false;
  std::optional<Frame> previous = first;
  for (std::size_t i = 1; i < frames; ++i) {
    auto frame = readFrame(in, i, realPageSize);
    if (!frame || !frame->belongsTo(header.data())) return false;
    if (frame->isCommit() && frame->verifies(big, previous->storedSums())) return true;
    previous = std::move(frame);
  }
  return false;
}

}  // namespace

Result<void> checkWal(const fs::path& dbPath) {
  const fs::path walPath = dbPath.string() + "-wal";
  std::error_code ec;
  const auto size = fs::file_size(walPath, ec);
  if (ec || size <= kWalHeaderSize) return {};
  // A writer may be appending its first frame as we read; only a second look counts.
  if (!walReplaysNothing(walPath, size)) return {};
  ::usleep(50 * 1000);
  if (!walReplaysNothing(walPath, fs::file_size(walPath, ec))) return {};
  return fail(ErrorDomain::Store, "store.wal_damaged",
              "the store's write-ahead log " + walPath.string() + " is damaged: its " + std::to_string(size) +
                  " bytes of committed changes cannot be replayed, and opening the store would discard "
                  "them; nothing was changed. Keep the file and restore the device from the server "
                  "(re-provision it), or move the log aside to open the store without those changes");
}

// [SECTION] integrity_check in one line

std::string summariseIntegrityReport(const std::vector<std::string>& rows) {
  static const std::regex pageLine(R"(^(?:On tree page|Page) (\d+)[: ](.*)$)");
  std::set<long> failed;
  std::set<long> unreadable;
  std::size_t problems = 0;
  for (const auto& row : rows) {
    std::istringstream lines(row);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line.starts_with("*** in database")) continue;
      ++problems;
      std::smatch m;
      if (!std::regex_match(line, m, pageLine)) continue;
      const long page = std::stol(m[1].str());
      const std::string rest = m[2].str();
      if (rest.find("is never used") != std::string::npos) continue;
      if (rest.find("unable to get the page") != std::string::npos) {
        unreadable.insert(page);
      } else {
        failed.insert(page);
      }
    }
  }
  if (failed.empty()) failed = unreadable;
  std::string what;
  if (failed.empty()) {
    what = std::to_string(problems) + " problem(s) in the table structure";
  } else {
    what = std::to_string(failed.size()) + (failed.size() == 1 ? " page failed its check (page " : " pages failed their check (pages ");
    std::size_t shown = 0;
    for (const long page : failed) {
      if (shown == 5) break;
      what += (shown++ == 0 ? "" : ", ") + std::to_string(page);
    }
    if (failed.size() > shown) what += " and " + std::to_string(failed.size() - shown) + " more";
    what += ")";
  }
  return "the store is damaged: " + what + "; restore it from the server by re-provisioning the device";
}

// [SECTION] Damage marker

fs::path damageMarkerPath(const fs::path& dbPath) { return dbPath.string() + "-damaged"; }

std::optional<std::string> readDamageMarker(const fs::path& dbPath) {
  std::ifstream in(damageMarkerPath(dbPath));
  if (!in) return std::nullopt;
  std::string what;
  std::getline(in, what);
  return what.empty() ? std::string("damage was found earlier") : what;
}

void writeDamageMarker(const fs::path& dbPath, const std::string& what) {
  const fs::path marker = damageMarkerPath(dbPath);
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;  // the open store still refuses writes; the next open just is not told
  const std::string line = what + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  (void)written;
  ::fsync(fd);
  ::close(fd);
}

void clearDamageMarker(const fs::path& dbPath) {
  std::error_code ec;
  fs::remove(damageMarkerPath(dbPath), ec);
}

Error damagedStoreError(const std::string& what) {
  return Error{ErrorDomain::Store, "store.damaged",
               "the store is damaged and takes no more changes (" + what +
                   "); once it is restored, 'anteroom-admin store check' clears this",
               false};
}

}  // namespace anteroom::store::integrity
