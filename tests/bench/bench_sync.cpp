// anteroom-bench-sync: the sync cores in process on a private PostgreSQL 15 and real SQLCipher
// stores. Prints "name: value unit" lines, each with the same run's baseline and the ratio:
//   hub_apply_mutations_per_s   check-in-sized mutations from 8 practices x 2 devices, batched,
//                               against plain inserts of the same rows with the same batching
//                               (one multi-row INSERT a batch; one INSERT a row printed too)
//   initial_sync_rows_per_s     a new device pulls 50,000 rows, against the store's own bulk insert
//   pull_page_p99_ms            a hub pull page at 1,000,000 change rows under RLS
// --quick shrinks the data; --pull-only skips hub_apply (the pull figures alone). Figures only,
// no assertions; exits 0 with a note without PostgreSQL.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "anteroom/model/row_json.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/client.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central.hpp"

using namespace anteroom;
using namespace std::chrono;
using SteadyClock = std::chrono::steady_clock;

namespace {

void metric(const char* name, double value, const char* unit) { std::printf("%s: %.3f %s\n", name, value, unit); }
void note(const std::string& text) { std::printf("# %s\n", text.c_str()); }
double secondsSince(SteadyClock::time_point t) { return duration<double>(SteadyClock::now() - t).count(); }
double threadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const Instant kNow = Instant{sys_days{2026y / March / 2}} + hours{15};

UuidGenerator& ids() {
  static UuidGenerator g(99);
  return g;
}

struct BenchPractice {
  Uuid practice, provider, device;
};

BenchPractice makePractice(const std::string& superDsn, int n) {
  BenchPractice p{ids().v7(kNow), ids().v7(kNow), ids().v7(kNow)};
  const std::string tag = std::to_string(n) + "." + p.practice.toString().substr(24);
  pqxx::connection c(superDsn);
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
  tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, 'Bench',"
                 " '{}', '+15415550100', $2, '{}')",
                 p.practice.toString(), "desk" + tag + "@practice.example");
  tx.exec_params("INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
                 " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', 'Bench', $3, '[]', '[]', '{}',"
                 " 3, false)",
                 p.provider.toString(), p.practice.toString(), "robin" + tag + "@practice.example");
  tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'kiosk',"
                 " md5($1::text) || md5($2::text))",
                 p.device.toString(), p.practice.toString());
  tx.commit();
  return p;
}

Uuid addDevice(const std::string& superDsn, const Uuid& practice) {
  const Uuid d = ids().v7(kNow);
  pqxx::connection c(superDsn);
  pqxx::work tx(c);
  tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'kiosk',"
                 " md5($1::text) || md5($2::text))",
                 d.toString(), practice.toString());
  tx.commit();
  return d;
}

// A check-in's notification for the provider, as the kiosk writes it: about 300 bytes of row.
Notification arrival(const Uuid& provider) {
  Notification n;
  n.notificationId = ids().v7(kNow);
  n.recipientId = provider;
  n.recipientType = RecipientType::Provider;
  n.type = NotificationType::PatientArrived;
  n.content.templateKey = "patient_arrived";
  n.content.params["appointment_id"] = ids().v7(kNow).toString();
  n.createdAt = kNow;
  n.updatedAt = kNow;
  return n;
}

std::unique_ptr<sync::HubCore> hubFor(const sim::Central& central, std::size_t batch) {
  auto h = sync::HubCore::connect({central.hubDsn(), sim::kPiiKey, sim::kHashKey, {}, [] { return kNow; }, batch});
  if (!h) {
    std::fprintf(stderr, "anteroom-bench-sync: %s\n", h.error().message.c_str());
    std::exit(1);
  }
  return std::move(*h);
}

// [SECTION] hub_apply_mutations_per_s
void benchApply(const sim::Central& central, bool quick) {
  constexpr int kPractices = 8, kDevicesEach = 2, kBatch = 100;
  const int pushes = quick ? 3 : 12;
  struct Dev {
    sync::DeviceContext ctx;
    Uuid provider;
  };
  std::vector<Dev> devices;
  for (int p = 0; p < kPractices; ++p) {
    const BenchPractice bp = makePractice(central.superDsn(), p);
    devices.push_back({{bp.device, bp.practice}, bp.provider});
    for (int d = 1; d < kDevicesEach; ++d) devices.push_back({{addDevice(central.superDsn(), bp.practice), bp.practice}, bp.provider});
  }
  // Every push prepared up front, so the timing is the hub's and PostgreSQL's only.
  std::vector<std::vector<sync::PushRequest>> work(devices.size());
  std::vector<std::vector<Notification>> rows(devices.size());
  for (std::size_t d = 0; d < devices.size(); ++d) {
    std::int64_t seq = 0;
    for (int k = 0; k < pushes; ++k) {
      sync::PushRequest req;
      for (int i = 0; i < kBatch; ++i) {
        Notification n = arrival(devices[d].provider);
        sync::Mutation m;
        m.mutationId = ids().v7(kNow);
        m.deviceSeq = ++seq;
        m.entity = "notification";
        m.id = n.notificationId;
        m.kind = sync::MutationKind::Insert;
        m.changes = toRowJson(n);
        m.hlc = "0001772463600000-0000000000-bench";
        req.mutations.push_back(std::move(m));
        n.notificationId = ids().v7(kNow);  // the baseline inserts its own copy
        rows[d].push_back(n);
      }
      work[d].push_back(std::move(req));
    }
  }
  const unsigned threads = 2;  // the machine's cores; PostgreSQL shares them
  auto runThreads = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back([&, t] { body(t); });
    for (auto& th : pool) th.join();
  };
  const double total = static_cast<double>(devices.size()) * pushes * kBatch;

  std::vector<double> hubCpu(threads, 0.0);
  auto start = SteadyClock::now();
  runThreads([&](unsigned t) {
    auto hub = hubFor(central, kBatch);
    const double cpu0 = threadCpuSeconds();
    for (std::size_t d = t; d < devices.size(); d += threads)
      for (const auto& req : work[d])
        if (auto r = hub->applyPush(devices[d].ctx, req); !r) std::fprintf(stderr, "push failed: %s\n", r.error().message.c_str());
    hubCpu[t] = threadCpuSeconds() - cpu0;
  });
  const double hubSeconds = secondsSince(start);
  const double hubRate = total / hubSeconds;

  // The same rows inserted as the hub role in the same batches, one INSERT a row, no sync logic.
  start = SteadyClock::now();
  runThreads([&](unsigned t) {
    pqxx::connection c(central.hubDsn());
    c.prepare("ins",
              "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status)"
              " VALUES ($1::uuid, $2::uuid, 'provider', 'patient_arrived', $3::jsonb, 'pending')");
    for (std::size_t d = t; d < devices.size(); d += threads) {
      for (std::size_t at = 0; at < rows[d].size(); at += kBatch) {
        pqxx::work tx(c);
        tx.exec_params("SELECT set_config('app.practice_id', $1, true)", devices[d].ctx.practiceId.toString());
        for (std::size_t i = at; i < at + kBatch && i < rows[d].size(); ++i)
          tx.exec_prepared("ins", rows[d][i].notificationId.toString(), rows[d][i].recipientId.toString(),
                           toJson(rows[d][i].content).dump());
        tx.commit();
      }
    }
  });
  const double perRowCeiling = total / secondsSince(start);

  // The ceiling: the same rows again (new ids), as the hub role in the same batches, one
  // multi-row INSERT a batch (what the hub sends for a run of plain inserts), no sync logic.
  for (auto& dev : rows)
    for (auto& n : dev) n.notificationId = ids().v7(kNow);
  start = SteadyClock::now();
  runThreads([&](unsigned t) {
    pqxx::connection c(central.hubDsn());
    for (std::size_t d = t; d < devices.size(); d += threads) {
      for (std::size_t at = 0; at < rows[d].size(); at += kBatch) {
        pqxx::work tx(c);
        tx.exec_params("SELECT set_config('app.practice_id', $1, true)", devices[d].ctx.practiceId.toString());
        std::string sql =
            "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) VALUES ";
        for (std::size_t i = at; i < at + kBatch && i < rows[d].size(); ++i)
          sql += std::string(i > at ? ", " : "") + "(" + tx.quote(rows[d][i].notificationId.toString()) + "::uuid, " +
                 tx.quote(rows[d][i].recipientId.toString()) + "::uuid, 'provider', 'patient_arrived', " +
                 tx.quote(toJson(rows[d][i].content).dump()) + "::jsonb, 'pending')";
        tx.exec(sql);
        tx.commit();
      }
    }
  });
  const double ceiling = total / secondsSince(start);
  note("hub_apply: " + std::to_string(static_cast<long>(total)) + " notification inserts from " +
       std::to_string(devices.size()) + " devices of " + std::to_string(kPractices) + " practices, " +
       std::to_string(kBatch) + " a push, 2 threads; target >= 10000/s");
  metric("hub_apply_mutations_per_s", hubRate, "mutations/s");
  metric("hub_apply_postgres_ceiling_per_s", ceiling, "rows/s");
  metric("hub_apply_ratio_to_ceiling", hubRate / ceiling, "x");
  metric("hub_apply_postgres_one_insert_a_row_per_s", perRowCeiling, "rows/s");
  // Where the hub's time goes: its own CPU (model rules, JSON) as a share of the run's wall time
  // on each thread; the rest is PostgreSQL (triggers, RLS, pgaudit) and waiting for a core.
  metric("hub_apply_hub_cpu_share", (hubCpu[0] + hubCpu[1]) / (threads * hubSeconds), "x");
}

// [SECTION] initial_sync_rows_per_s and pull_page_p99_ms
void benchPull(const sim::Central& central, bool quick) {
  const int rows = quick ? 5000 : 50000;
  const BenchPractice bp = makePractice(central.superDsn(), 100);
  {
    pqxx::connection c(central.superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", bp.practice.toString());
    tx.exec_params(
        "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status, created_at)"
        " SELECT gen_random_uuid(), $1::uuid, 'provider', 'patient_arrived',"
        " jsonb_build_object('appointment_id', gen_random_uuid()), 'pending', $2::timestamp FROM generate_series(1, $3)",
        bp.provider.toString(), formatInstant(kNow - hours{1}), rows);
    tx.commit();
  }
  const auto dir = std::filesystem::temp_directory_path() / ("anteroom-bench-sync-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto key = store::SecretKey::generate();
  store::OpenOptions o;
  o.path = dir / "device.db";
  o.create = true;
  o.pageCacheKiB = store::kSyncPageCacheKiB;  // as anteroom-syncd opens it (the bulk baseline too)
  auto s = store::Store::open(o, *key);
  if (!s) {
    std::fprintf(stderr, "anteroom-bench-sync: %s\n", s.error().message.c_str());
    std::exit(1);
  }
  auto hub = hubFor(central, 100);
  struct Direct : sync::Transport {
    sync::HubCore& hub;
    sync::DeviceContext ctx;
    Direct(sync::HubCore& h, sync::DeviceContext c) : hub(h), ctx(c) {}
    Result<sync::PushResponse> push(const sync::PushRequest& r) override {
      return sync::decodePushResponse(sync::encode(*hub.applyPush(ctx, *sync::decodePushRequest(sync::encode(r)))));
    }
    double hubSeconds = 0, wireSeconds = 0;  // where a first sync's time goes
    double hubCpu = 0, wireCpu = 0;          // the same on the fetch thread's CPU clock (load-proof)
    Result<sync::PullResponse> pull(const sync::PullRequest& r) override {
      const auto t0 = SteadyClock::now();
      const double c0 = threadCpuSeconds();
      auto page = hub.pull(ctx, *sync::decodePullRequest(sync::encode(r)));
      hubSeconds += secondsSince(t0);
      const double c1 = threadCpuSeconds();
      hubCpu += c1 - c0;
      if (!page) return std::unexpected(page.error());
      const auto t1 = SteadyClock::now();
      auto received = sync::decodePullResponse(sync::encode(*page));
      wireSeconds += secondsSince(t1);
      wireCpu += threadCpuSeconds() - c1;
      return received;
    }
  } transport(*hub, {bp.device, bp.practice});
  sync::SessionOptions so;
  so.pullLimit = 2000;
  so.overlapPages = true;  // as anteroom-syncd runs its sessions: the next page fetched during an apply
  so.clock = [] { return kNow; };
  sync::SyncSession session(*s, transport, so);
  auto start = SteadyClock::now();
  auto report = session.run();
  const double syncSeconds = secondsSince(start);
  if (!report) std::fprintf(stderr, "initial sync failed: %s\n", report.error().message.c_str());
  const double syncRate = report ? static_cast<double>(report->changes) / syncSeconds : 0;

  // The store's own bulk insert: the same number of notifications written locally, 2,000 a
  // transaction (outbox and audit rows included, as the kiosk writes them).
  o.path = dir / "bulk.db";
  auto bulk = store::Store::open(o, *key);
  std::vector<Notification> local;
  for (int i = 0; i < rows; ++i) local.push_back(arrival(bp.provider));
  start = SteadyClock::now();
  for (std::size_t at = 0; at < local.size(); at += 2000) {
    auto w = bulk->write(store::Actor::sync(), kNow, [&](store::WriteTx& tx) -> Result<void> {
      for (std::size_t i = at; i < at + 2000 && i < local.size(); ++i)
        if (auto r = tx.insert(local[i]); !r) return r;
      return {};
    });
    if (!w) {
      std::fprintf(stderr, "store bulk insert failed: %s\n", w.error().message.c_str());
      break;
    }
  }
  const double bulkRate = static_cast<double>(rows) / secondsSince(start);
  note("initial_sync: a new device's first sync of " + std::to_string(report ? report->changes : 0) +
       " rows, pages of 2000, through the wire encoding; target >= 50000 rows/s");
  note("initial_sync: hub_s and wire_s are spent on the session's fetch thread, beside the store's apply; device_s is"
       " the rest of the wall time (the apply the fetches did not hide)");
  metric("initial_sync_rows_per_s", syncRate, "rows/s");
  metric("initial_sync_hub_s", transport.hubSeconds, "s");
  metric("initial_sync_wire_s", transport.wireSeconds, "s");
  metric("initial_sync_device_s", syncSeconds - transport.hubSeconds - transport.wireSeconds, "s");
  // The hub's own CPU (its share of hub_s; the rest is PostgreSQL and waiting) and the wire's.
  metric("initial_sync_hub_cpu_s", transport.hubCpu, "s");
  metric("initial_sync_wire_cpu_s", transport.wireCpu, "s");
  metric("store_bulk_insert_rows_per_s", bulkRate, "rows/s");
  metric("initial_sync_ratio_to_store_bulk", syncRate / bulkRate, "x");

  // A change log of 1,000,000 rows for this practice (the notifications changed over and over).
  const int changes = quick ? 100000 : 1000000;
  {
    pqxx::connection c(central.superDsn());
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)"
        " SELECT $1::uuid, 1000000 + g, 'notification', n.notification_id, 'upsert', 1"
        " FROM generate_series(1, $2) g JOIN (SELECT notification_id, row_number() OVER () - 1 AS k FROM notification"
        " WHERE recipient_id = $3::uuid) n ON n.k = g % $4",
        bp.practice.toString(), changes, bp.provider.toString(), rows);
    tx.exec("ANALYZE change_log");
    tx.commit();
  }
  std::mt19937_64 rng(7);
  std::vector<double> ms, cpuMs;
  // The first pages prepare the hub's statements on its connection and bring the indexes into
  // PostgreSQL's buffers: a hub does that once, not a page. 1,000 pages measured after them, so
  // the p99 is the tenth slowest, not the second.
  const int warmup = 10;
  const int pages = quick ? 200 : 1000;
  for (int i = 0; i < warmup + pages; ++i) {
    sync::PullRequest req;
    req.after = sync::encodeCursor({1000000 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(changes - 600)),
                                    toDate(kNow + days{5}), std::nullopt});
    req.limit = 500;
    const auto t = SteadyClock::now();
    const double cpu0 = threadCpuSeconds();
    auto page = hub->pull({bp.device, bp.practice}, req);
    if (i >= warmup) {
      ms.push_back(secondsSince(t) * 1000);
      cpuMs.push_back((threadCpuSeconds() - cpu0) * 1000);
    }
    if (!page) std::fprintf(stderr, "pull failed: %s\n", page.error().message.c_str());
    else if (page->changes.empty()) std::fprintf(stderr, "pull: an empty page at a cursor inside the log\n");
  }
  std::sort(ms.begin(), ms.end());
  note("pull_page: 500 changes a page at random cursors in " + std::to_string(changes) +
       " change rows under RLS, the hub's pull (rows read and built, before the wire encoding), " + std::to_string(pages) +
       " pages after " + std::to_string(warmup) + " unmeasured; target p99 < 5 ms");
  metric("pull_page_p50_ms", ms[ms.size() / 2], "ms");
  metric("pull_page_p99_ms", ms[ms.size() * 99 / 100], "ms");
  // Where a page's time goes: the hub's own CPU (decoding rows into the model) against the
  // rest (PostgreSQL, and waiting for a core on a shared machine).
  std::sort(cpuMs.begin(), cpuMs.end());
  metric("pull_page_hub_cpu_p50_ms", cpuMs[cpuMs.size() / 2], "ms");
  metric("pull_page_hub_cpu_p99_ms", cpuMs[cpuMs.size() * 99 / 100], "ms");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, pullOnly = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    quick = quick || arg == "--quick";
    pullOnly = pullOnly || arg == "--pull-only";
  }
  auto central = sim::Central::start();
  if (!central) {
    note("anteroom-bench-sync skipped: " + central.error().message);
    return 0;
  }
  if (!pullOnly) benchApply(**central, quick);
  benchPull(**central, quick);
  return 0;
}
