// What a damaged store looks like from outside SQLite: a file cut short, a write-ahead log that
// would replay nothing, the marker left when damage was seen, and integrity_check's report in
// one line. Private to anteroom_store.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anteroom/model/error.hpp"

namespace anteroom::store::integrity {

inline constexpr std::uintmax_t kPageSize = 4096;

// A main file whose size is not a whole number of pages was truncated or overwritten.
Result<void> checkFileSize(const std::filesystem::path& path, std::uintmax_t size);

// A WAL larger than its header whose header fails its checksum, or whose first frame fails
// while a later commit of the same header verifies: SQLite would ignore every committed
// transaction in it, then overwrite it.
Result<void> checkWal(const std::filesystem::path& dbPath);

// integrity_check's rows (each may hold many lines) as one line: how many pages failed and
// what to do. SQLCipher 3 cannot read further pages after one fails its MAC ("unable to get the
// page"), and a lost subtree makes its pages "never used": those follow from the first failures
// and are not counted as pages that failed.
std::string summariseIntegrityReport(const std::vector<std::string>& rows);

// [SECTION] The damage marker: <store>-damaged, one line saying what was found (no row data).
// Written when damage is seen at run time so the next program to open the store is told too;
// removed when a full check passes.
std::filesystem::path damageMarkerPath(const std::filesystem::path& dbPath);
std::optional<std::string> readDamageMarker(const std::filesystem::path& dbPath);
void writeDamageMarker(const std::filesystem::path& dbPath, const std::string& what);
void clearDamageMarker(const std::filesystem::path& dbPath);
// The refusal every write (and a later open) gets once the store is known to be damaged.
Error damagedStoreError(const std::string& what);

}  // namespace anteroom::store::integrity
