// The sync wire messages shared by the device and the hub (DESIGN.md 5.1-5.4), and their
// encoding as JSON. Encoding uses cereal privately; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anteroom/model/error.hpp"
#include "anteroom/model/json.hpp"
#include "anteroom/model/time.hpp"
#include "anteroom/model/uuid.hpp"

namespace anteroom::sync {

// The schema version a message is written under. The hub accepts this one and the previous.
inline constexpr int kSchemaVersion = 2;
inline constexpr int kOldestAcceptedSchemaVersion = kSchemaVersion - 1;
[[nodiscard]] constexpr bool isAcceptedSchemaVersion(int v) noexcept {
  return v == kSchemaVersion || v == kOldestAcceptedSchemaVersion;
}

// Ceilings on what either end accepts (CONVENTIONS: every buffer has one).
struct WireLimits {
  std::size_t maxBodyBytes = std::size_t{8} << 20;
  std::size_t maxMutationsPerPush = 500;
  std::size_t maxChangesPerPage = 2000;
  std::size_t maxDepth = 32;
};

enum class MutationKind { Insert, Update, Delete };
enum class ChangeOp { Upsert, Delete, Purge, Leave };
enum class ResultStatus { Applied, Merged, Rejected, Remapped, Held };

std::string_view toString(MutationKind v) noexcept;
std::string_view toString(ChangeOp v) noexcept;
std::string_view toString(ResultStatus v) noexcept;
std::optional<MutationKind> parseMutationKind(std::string_view s) noexcept;
std::optional<ChangeOp> parseChangeOp(std::string_view s) noexcept;
std::optional<ResultStatus> parseResultStatus(std::string_view s) noexcept;

// One outbox row as pushed. `changes` holds the new values of the changed columns, `prior` the
// values those columns had on the device before (absent key = unchanged; null = cleared).
struct Mutation {
  Uuid mutationId;
  std::int64_t deviceSeq = 0;
  std::string entity;  // table name
  Uuid id;
  MutationKind kind = MutationKind::Update;
  Json::Object changes;
  Json::Object prior;
  std::int64_t baseVersion = 0;
  std::string hlc;
  int schemaVersion = kSchemaVersion;
  bool operator==(const Mutation&) const = default;
};

struct PushRequest {
  int schemaVersion = kSchemaVersion;
  std::vector<Mutation> mutations;  // in device_seq order
  bool operator==(const PushRequest&) const = default;
};

// A row as the hub sends it: every column (row JSON of the model's field lists) for Upsert
// and Delete (a tombstone), nothing for Purge (retention removed it) and Leave (it moved out
// of this practice's sight).
struct Change {
  std::string entity;
  Uuid id;
  ChangeOp op = ChangeOp::Upsert;
  std::int64_t rowVersion = 0;
  Json::Object row;
  bool operator==(const Change&) const = default;
};

struct MutationResult {
  Uuid mutationId;
  std::int64_t deviceSeq = 0;
  ResultStatus status = ResultStatus::Applied;
  std::int64_t rowVersion = 0;        // Applied, Merged, Remapped
  std::string code;                   // Rejected, Held: stable dotted key
  std::string message;                // Rejected, Held: words a person can act on
  std::optional<Uuid> centralId;      // Remapped: replaces the local id
  std::optional<Change> row;          // the authoritative row, when there is one
  bool operator==(const MutationResult&) const = default;
};

struct PushResponse {
  std::vector<MutationResult> results;  // one per mutation, in request order
  std::string hlc;                      // the hub's clock, for the device to observe
  bool operator==(const PushResponse&) const = default;
};

// Where a device is in its practice's change feed: the last change seq it applied, and the
// last day its data window has been caught up through (DESIGN 5.4, window catch-up).
// During a device's first sync the hub sends its practice's rows table by table (a snapshot)
// before following the change log from `seq`, the last change at the snapshot's start.
struct SnapshotPosition {
  int entity = 0;             // index in the hub's parents-first list of entities
  std::optional<Uuid> after;  // last id sent of that entity
  bool operator==(const SnapshotPosition&) const = default;
};
struct Cursor {
  std::int64_t seq = 0;
  std::optional<Date> windowThrough;
  std::optional<SnapshotPosition> snapshot;
  bool operator==(const Cursor&) const = default;
};
std::string encodeCursor(const Cursor& cursor);
// "" is the start of the feed. Errors: Protocol "protocol.cursor".
Result<Cursor> decodeCursor(std::string_view text);

struct PullRequest {
  std::string after;  // an encoded Cursor
  int limit = 500;
  int waitSeconds = 0;
  int schemaVersion = kSchemaVersion;
  bool operator==(const PullRequest&) const = default;
};

struct PullResponse {
  std::vector<Change> changes;
  std::string cursor;  // pass as `after` next time; apply the page and store it in one transaction
  bool more = false;   // another page is ready now
  std::string hlc;
  bool operator==(const PullResponse&) const = default;
};

// The body of every refusal (HTTP 4xx/5xx in part 2): a code, words, and whether to retry.
// code "sync.resync" means: empty the outbox, reset the store, pull from the start.
struct ErrorBody {
  std::string code;
  std::string message;
  bool transient = false;
  bool operator==(const ErrorBody&) const = default;
};

// [SECTION] Encoding. Compact JSON; each message is one top-level object (no wrapper), enums
// are strings, absent optionals are absent keys. Decoding checks size, depth and shape first
// and answers a Protocol error naming what is wrong, never throws.
std::string encode(const PushRequest& m);
std::string encode(const PushResponse& m);
std::string encode(const PullRequest& m);
std::string encode(const PullResponse& m);
std::string encode(const ErrorBody& m);
Result<PushRequest> decodePushRequest(std::string_view body, const WireLimits& limits = {});
Result<PushResponse> decodePushResponse(std::string_view body, const WireLimits& limits = {});
Result<PullRequest> decodePullRequest(std::string_view body, const WireLimits& limits = {});
Result<PullResponse> decodePullResponse(std::string_view body, const WireLimits& limits = {});
Result<ErrorBody> decodeErrorBody(std::string_view body, const WireLimits& limits = {});

}  // namespace anteroom::sync
