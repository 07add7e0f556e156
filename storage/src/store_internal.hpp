// Private to anteroom_store: the parts of the store's internals (Store::Impl, owned by
// store.cpp) that sync_store.cpp uses, so the sync code lives in its own file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "anteroom/model/hlc.hpp"
#include "anteroom/store/store.hpp"
#include "sqlite.hpp"

namespace anteroom::store::internal {

sql::Connection& connection(Store::Impl& impl);
// Steps a statement once; an SQLite error becomes the store's Error.
Result<void> step(Store::Impl& impl, sql::Stmt& stmt, std::string_view what);
// BEGIN IMMEDIATE; the persisted clock adopted; fn; the clock persisted; COMMIT. Rolled back
// unless everything succeeds.
Result<void> transact(Store::Impl& impl, Instant now, const std::function<Result<void>()>& fn);
Result<std::optional<std::string>> getState(Store::Impl& impl, std::string_view key);
Result<void> putState(Store::Impl& impl, std::string_view key, std::string_view value, Instant now);
// An audit row by the sync actor, stamped with this process's clock.
Result<void> appendAudit(Store::Impl& impl, std::string_view action, std::string_view entity, std::string_view entityId,
                         std::string_view fields, Instant now);
Result<bool> hasPendingMutation(Store::Impl& impl, std::string_view entity, const Uuid& id);
Result<std::int64_t> countOutbox(Store::Impl& impl);
// Outbox rows were removed: the cached count is recounted on the next write.
void outboxChanged(Store::Impl& impl);
void observeClock(Store::Impl& impl, const HlcTimestamp& remote, Instant now);
// Every column of a server row with its row_version and tombstone flag (an insert when the
// device does not hold it yet, else an update of every column); no outbox or audit row.
// Instantiated in store.cpp for every record type.
template <class T>
Result<void> writeServerRow(Store::Impl& impl, const T& record, bool exists);

}  // namespace anteroom::store::internal
