// One sync session: push the outbox, then pull the practice's changes (DESIGN.md 5.2, 5.4).
#include "anteroom/sync/client.hpp"

#include <future>
#include <utility>
#include <vector>

#include "anteroom/store/sync_store.hpp"

namespace anteroom::sync {

namespace {

store::ChangeOp toStoreOp(ChangeOp op) {
  switch (op) {
    case ChangeOp::Upsert: return store::ChangeOp::Upsert;
    case ChangeOp::Delete: return store::ChangeOp::Delete;
    case ChangeOp::Purge: return store::ChangeOp::Purge;
    case ChangeOp::Leave: return store::ChangeOp::Leave;
  }
  return store::ChangeOp::Upsert;
}

store::AckStatus toStoreStatus(ResultStatus s) {
  switch (s) {
    case ResultStatus::Applied: return store::AckStatus::Applied;
    case ResultStatus::Merged: return store::AckStatus::Merged;
    case ResultStatus::Rejected: return store::AckStatus::Rejected;
    case ResultStatus::Remapped: return store::AckStatus::Remapped;
    case ResultStatus::Held: return store::AckStatus::Held;
  }
  return store::AckStatus::Applied;
}

Result<Json::Object> objectOf(const std::string& text, std::string_view what) {
  if (text.empty()) return Json::Object{};
  auto parsed = Json::parse(text);
  if (!parsed || !parsed->isObject())
    return fail(ErrorDomain::Store, "sync.bad_outbox", "a queued change has unreadable " + std::string(what));
  return std::move(parsed->asObject());
}

}  // namespace

store::RemoteChange toRemoteChange(Change change) {
  store::RemoteChange c;
  c.entity = std::move(change.entity);
  c.id = change.id;
  c.op = toStoreOp(change.op);
  c.rowVersion = change.rowVersion;
  c.row = std::move(change.row);
  if (change.op == ChangeOp::Delete) c.row["deleted"] = Json(true);
  return c;
}

Result<Mutation> toMutation(const store::OutboxMutation& row) {
  Mutation m;
  auto id = Uuid::parse(row.mutationId);
  auto rowId = Uuid::parse(row.entityId);
  auto kind = parseMutationKind(row.kind);
  if (!id || !rowId || !kind)
    return fail(ErrorDomain::Store, "sync.bad_outbox", "a queued change has an unreadable id or kind");
  m.mutationId = *id;
  m.deviceSeq = row.deviceSeq;
  m.entity = row.entity;
  m.id = *rowId;
  m.kind = *kind;
  auto changes = objectOf(row.changes, "changes");
  if (!changes) return std::unexpected(changes.error());
  auto prior = objectOf(row.prior, "prior values");
  if (!prior) return std::unexpected(prior.error());
  m.changes = std::move(*changes);
  m.prior = std::move(*prior);
  m.baseVersion = row.baseVersion;
  m.hlc = row.hlc;
  // Written under the store's schema; the wire carries the protocol's version of it.
  m.schemaVersion = kSchemaVersion;
  return m;
}

store::MutationAck toAck(const MutationResult& result) {
  store::MutationAck a;
  a.mutationId = result.mutationId.toString();
  a.status = toStoreStatus(result.status);
  a.code = result.code;
  a.message = result.message;
  a.centralId = result.centralId;
  if (result.row) a.row = toRemoteChange(*result.row);
  return a;
}

SyncSession::SyncSession(store::Store& store, Transport& transport, SessionOptions options)
    : m_store(store), m_transport(transport), m_options(std::move(options)) {
  if (m_options.pushBatch == 0) m_options.pushBatch = 1;
}

Instant SyncSession::now() const { return m_options.clock ? m_options.clock() : std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

Result<void> SyncSession::recordError(const Error& error) {
  // Best effort: the error is also returned, and the store may be the thing that failed.
  (void)m_store.setSyncValue(kLastErrorKey, error.message);
  return {};
}

Result<void> SyncSession::pushAll(SessionReport& report) {
  for (std::size_t round = 0; round < m_options.maxRounds; ++round) {
    auto rows = m_store.pendingOutbox(m_options.pushBatch);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return {};
    PushRequest request;
    request.mutations.reserve(rows->size());
    for (const auto& row : *rows) {
      auto m = toMutation(row);
      if (!m) return std::unexpected(m.error());
      request.mutations.push_back(std::move(*m));
    }
    auto response = m_transport.push(request);
    if (!response) return std::unexpected(response.error());
    report.pushed += request.mutations.size();
    if (response->results.size() != request.mutations.size())
      return fail(ErrorDomain::Protocol, "sync.bad_response", "the hub answered a push with the wrong number of results");
    std::vector<store::MutationAck> acks;
    acks.reserve(response->results.size());
    for (std::size_t i = 0; i < response->results.size(); ++i) {
      if (response->results[i].mutationId != request.mutations[i].mutationId)
        return fail(ErrorDomain::Protocol, "sync.bad_response", "the hub answered a push out of order");
      acks.push_back(toAck(response->results[i]));
      const auto status = response->results[i].status;
      if (status == ResultStatus::Rejected || status == ResultStatus::Held) ++report.rejected;
    }
    const Instant at = now();
    auto acked = m_store.syncWrite(at, [&](store::SyncTx& tx) -> Result<void> {
      if (auto a = tx.acknowledge(acks); !a) return a;
      if (!response->hlc.empty()) {
        if (auto c = tx.observeClock(response->hlc); !c) return c;
      }
      return tx.setValue(kLastPushKey, formatInstant(at));
    });
    if (!acked) return std::unexpected(acked.error());
    report.acknowledged += acks.size();
  }
  return fail(ErrorDomain::Internal, "sync.too_many_rounds", "the outbox did not empty within one session");
}

Result<PullResponse> SyncSession::pullAfter(std::string cursor) {
  PullRequest request;
  request.after = std::move(cursor);
  request.limit = m_options.pullLimit;
  request.waitSeconds = m_options.pullWaitSeconds;
  return m_transport.pull(request);
}

void SyncSession::askAboutHeld(SessionReport& report) {
  auto open = m_store.openConflicts(m_options.maxHeldAsks);
  if (!open) return;
  PushRequest request;
  for (const auto& c : *open) {
    auto id = Uuid::parse(c.mutationId);
    auto rowId = Uuid::parse(c.entityId);
    if (c.code != store::kWalkinReviewCode || !id || !rowId) continue;
    // The hub answers a mutation it has a result for by its id, before any sequence check;
    // its outbox row (with its device_seq and values) went when the hold was acknowledged.
    Mutation m;
    m.mutationId = *id;
    m.deviceSeq = 1;
    m.entity = c.entity;
    m.id = *rowId;
    m.kind = MutationKind::Update;
    m.schemaVersion = kSchemaVersion;
    request.mutations.push_back(std::move(m));
  }
  if (request.mutations.empty()) return;
  auto response = m_transport.push(request);
  if (!response || response->results.size() != request.mutations.size()) return;
  std::vector<store::MutationAck> acks;
  for (std::size_t i = 0; i < response->results.size(); ++i) {
    if (response->results[i].mutationId != request.mutations[i].mutationId) return;
    acks.push_back(toAck(response->results[i]));
  }
  auto acked = m_store.syncWrite(now(), [&](store::SyncTx& tx) { return tx.acknowledge(acks); });
  if (acked) report.acknowledged += acks.size();
}

Result<void> SyncSession::pullAll(SessionReport& report) {
  // overlapPages: the page after the one being applied, on its way. Leaving this function
  // waits for it (the future's destructor), so the transport is never used after the session.
  std::future<Result<PullResponse>> ahead;
  for (std::size_t round = 0; round < m_options.maxRounds; ++round) {
    Result<PullResponse> page = std::unexpected(Error{});
    if (ahead.valid()) {
      page = ahead.get();
    } else {
      auto cursor = m_store.syncValue(kPullCursorKey);
      if (!cursor) return std::unexpected(cursor.error());
      page = pullAfter(cursor->value_or(""));
    }
    if (!page) {
      if (page.error().code != "sync.resync" || report.resynced) return std::unexpected(page.error());
      // The hub no longer has every change since our cursor: start again from nothing. The
      // store refuses while local changes wait, so nothing unsent is lost.
      if (auto reset = m_store.resetForResync(); !reset) return std::unexpected(reset.error());
      report.resynced = true;
      continue;
    }
    // The cursor sent next is the one this page's transaction stores.
    if (m_options.overlapPages && page->more)
      ahead = std::async(std::launch::async, &SyncSession::pullAfter, this, page->cursor);
    const Instant at = now();
    auto applied = m_store.syncWrite(at, [&](store::SyncTx& tx) -> Result<void> {
      for (auto& change : page->changes) {
        auto r = tx.apply(toRemoteChange(std::move(change)));
        if (!r) return std::unexpected(r.error());
      }
      if (!page->hlc.empty()) {
        if (auto c = tx.observeClock(page->hlc); !c) return c;
      }
      if (auto c = tx.setValue(kPullCursorKey, page->cursor); !c) return c;
      if (auto c = tx.setValue(kLastPullKey, formatInstant(at)); !c) return c;
      return tx.recordPage(page->changes.size());
    });
    if (!applied) return std::unexpected(applied.error());
    ++report.pages;
    report.changes += page->changes.size();
    if (!page->more) return {};
  }
  return fail(ErrorDomain::Internal, "sync.too_many_rounds", "the change feed did not end within one session");
}

Result<SessionReport> SyncSession::run() {
  SessionReport report;
  auto finish = [&](Result<void> r) -> Result<SessionReport> {
    if (!r) {
      (void)recordError(r.error());
      return std::unexpected(r.error());
    }
    return report;
  };
  if (auto p = pushAll(report); !p) return finish(p);
  askAboutHeld(report);
  if (auto p = pullAll(report); !p) return finish(p);
  // A pull can bring rejections of nothing we hold; it never adds outbox rows. Clear the error.
  (void)m_store.setSyncValue(kLastErrorKey, "");
  return report;
}

}  // namespace anteroom::sync
