// anteroom-bench-sync-net: sync on the network, all on loopback with real TLS: a real
// anteroom-hub on a private PostgreSQL 15, devices enrolled through anteroom-admin, the
// daemon's own libcurl transport and real anteroom-syncd daemons. "name: value unit" lines:
//   push_mutations_per_s        16 devices pushing 100-mutation batches through one hub, beside
//                               the same work through the hub core in process (part 1) and the ratio
//   push_checkins_per_s         the same devices and batches, each mutation a real check-in (an
//                               appointment's status, and the hub's arrival notice)
//   propagation_p50_ms / p99_ms a walk-in on kiosk A visible in kiosk B's store, both daemons
//                               long-polling
//   wire_bytes_per_checkin      request bytes on the wire per check-in mutation, 100 a batch, gzip'd
//   parked_longpolls, hub_rss_mb, wake_all_ms
//                               2,000 long-polls parked in one hub, its RSS, and one commit waking all
//   initial_sync_rows_per_s     a new device's first sync of 50,000 rows over HTTPS
// --quick shrinks every part (scripts/test's benchmark pass); --push-only runs the two push
// parts alone. Figures only, no assertions; exits 0 with a note when PostgreSQL or the binaries are
// missing.
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "anteroom/model/records.hpp"
#include "anteroom/model/row_json.hpp"
#include "anteroom/store/store.hpp"
#include "anteroom/sync/client.hpp"
#include "anteroom/sync/curl_transport.hpp"
#include "anteroom/sync/hub_core.hpp"
#include "central.hpp"
#include "support/process.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

void metric(const char* name, double value, const char* unit) {
  std::printf("%s: %.3f %s\n", name, value, unit);
  std::fflush(stdout);
}
void note(const std::string& text) {
  std::printf("# %s\n", text.c_str());
  std::fflush(stdout);
}
[[noreturn]] void die(const std::string& text) {
  std::fprintf(stderr, "anteroom-bench-sync-net: %s\n", text.c_str());
  std::exit(1);
}
double secondsSince(SteadyClock::time_point t) { return duration<double>(SteadyClock::now() - t).count(); }

fs::path binary(std::string_view name) { return fs::path(ANTEROOM_BIN_DIR) / name; }

UuidGenerator& ids() {
  static UuidGenerator g;
  return g;
}

std::string hlcNow() {
  const auto ms = duration_cast<milliseconds>(nowUtc().time_since_epoch()).count();
  const std::string digits = std::to_string(ms);
  return std::string(16 - std::min<std::size_t>(16, digits.size()), '0') + digits + "-0000000000-bench";
}

// [SECTION] CPU time from /proc
// A process's user + system seconds (its waited-for children's too, when asked) from
// /proc/PID/stat; its parent's pid in `parent`. 0 for a process that is gone.
double cpuSeconds(pid_t pid, bool withChildren, pid_t* parent = nullptr) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  if (f.size() < 15) return 0;  // f[0] is field 3 (state): utime is field 14
  if (parent) *parent = static_cast<pid_t>(std::stol(f[1]));
  double ticks = std::stod(f[11]) + std::stod(f[12]);
  if (withChildren) ticks += std::stod(f[13]) + std::stod(f[14]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// PostgreSQL's CPU: the postmaster, the children it has reaped and those still running.
double postgresSeconds(pid_t postmaster) {
  double total = cpuSeconds(postmaster, true);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    pid_t parent = 0;
    const double own = cpuSeconds(static_cast<pid_t>(std::stol(name)), false, &parent);
    if (parent == postmaster) total += own;
  }
  return total;
}

struct CpuSplit {
  double client = 0, hub = 0, postgres = 0;  // seconds
};

// [SECTION] The practice: central rows, certificates, the hub

struct Device {
  Uuid id;
  fs::path dir;  // device.crt, device.key, ca.crt
};

struct BenchPractice {
  Uuid practice, provider, waitlist;
};

class Bench {
 public:
  Bench(sim::Central& central, const fs::path& dir) : m_central(central), m_dir(dir) {
    auto ca = run({binary("anteroom-admin").string(), "ca", "init", "--dir", (dir / "ca").string(), "--hub-host", "127.0.0.1"});
    if (ca.exitCode != 0) die("ca init: " + ca.err);
    m_pins.push_back(ca.lastLine());
    const auto at = ca.out.find("backup hub key pin: ");
    if (at != std::string::npos) m_pins.push_back(ca.out.substr(at + 20, ca.out.find('\n', at) - at - 20));
    writeFile(dir / "pii.key", std::string(sim::kPiiKey) + "\n");
    writeFile(dir / "hash.key", std::string(sim::kHashKey) + "\n");
  }

  BenchPractice practice(const std::string& tag) {
    BenchPractice p{ids().v7(nowUtc()), ids().v7(nowUtc()), ids().v7(nowUtc())};
    pqxx::connection c(m_central.superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
    tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, 'Bench',"
                   " '{}', '+15415550100', $2, '{\"data_window_days_ahead\":3}')",
                   p.practice.toString(), "desk." + tag + "@practice.example");
    tx.exec_params("INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
                   " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', 'Bench', $3, '[]', '[]',"
                   " '{}', 3, false)",
                   p.provider.toString(), p.practice.toString(), "robin." + tag + "@practice.example");
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'General', '{}')",
                   p.waitlist.toString(), p.practice.toString());
    tx.commit();
    return p;
  }

  Device enroll(const Uuid& practice) {
    Device d;
    d.dir = m_dir / ("device-" + std::to_string(++m_devices));
    auto r = run({binary("anteroom-admin").string(), "device", "enroll", "--ca-dir", (m_dir / "ca").string(), "--dsn",
                  m_central.superDsn(), "--practice-id", practice.toString(), "--out", d.dir.string()});
    if (r.exitCode != 0) die("device enroll: " + r.err);
    auto id = Uuid::parse(r.lastLine());
    if (!id) die("device enroll printed no device id");
    d.id = *id;
    return d;
  }

  void startHub() {
    m_hubPort = freeLoopbackPort();
    const fs::path config = m_dir / "hub.toml";
    writeFile(config, "listen = \"127.0.0.1:" + std::to_string(m_hubPort) + "\"\n" + "dsn = \"" + m_central.hubDsn() + "\"\n" +
                          "tls_cert = \"" + (m_dir / "ca" / "hub.crt").string() + "\"\n" + "tls_key = \"" +
                          (m_dir / "ca" / "hub.key").string() + "\"\n" + "client_ca = \"" + (m_dir / "ca" / "ca.crt").string() +
                          "\"\n" + "pii_key_file = \"" + (m_dir / "pii.key").string() + "\"\n" + "hash_key_file = \"" +
                          (m_dir / "hash.key").string() + "\"\n" + "max_connections = 5000\n");
    m_hub = Process::spawn({{binary("anteroom-hub").string(), "--config", config.string()}, {}, m_dir / "hub.log", {}, {}});
    if (!m_hub.waitForLine("anteroom-hub: listening on", seconds(30))) die("the hub did not start:\n" + m_hub.output());
  }

  std::unique_ptr<sync::CurlTransport> transport(const Device& d, int waitSeconds = 0) {
    sync::CurlOptions o;
    o.hubUrl = "https://127.0.0.1:" + std::to_string(m_hubPort);
    o.caFile = d.dir / "ca.crt";
    o.pins = m_pins;
    o.certFile = d.dir / "device.crt";
    o.keyFile = d.dir / "device.key";
    o.totalTimeout = seconds(120 + waitSeconds);
    auto t = sync::CurlTransport::create(o);
    if (!t) die("transport: " + t.error().message);
    return std::move(*t);
  }

  // syncd.toml from the enroll template, with the three lines to edit filled in.
  fs::path syncdConfig(const Device& d, const fs::path& db, const fs::path& key, int waitSeconds) {
    std::ifstream in(d.dir / "syncd.toml");
    std::string line, text;
    while (std::getline(in, line)) {
      if (line.starts_with("db ")) line = "db = \"" + db.string() + "\"";
      else if (line.starts_with("key_file ")) line = "key_file = \"" + key.string() + "\"";
      else if (line.starts_with("hub_url ")) line = "hub_url = \"https://127.0.0.1:" + std::to_string(m_hubPort) + "\"";
      text += line + "\n";
    }
    text += "wait_s = " + std::to_string(waitSeconds) + "\n";
    const fs::path out = d.dir / "syncd-bench.toml";
    writeFile(out, text);
    return out;
  }

  // CPU used so far by this process, the hub and PostgreSQL.
  CpuSplit cpu() {
    if (m_postmaster == 0) {
      pqxx::connection c(m_central.superDsn());
      pqxx::nontransaction tx(c);
      cpuSeconds(tx.exec1("SELECT pg_backend_pid()")[0].as<pid_t>(), false, &m_postmaster);
    }
    return {cpuSeconds(getpid(), false), cpuSeconds(m_hub.pid(), false), postgresSeconds(m_postmaster)};
  }

  sim::Central& central() { return m_central; }
  const fs::path& dir() const { return m_dir; }
  int hubPort() const { return m_hubPort; }
  Process& hub() { return m_hub; }

 private:
  sim::Central& m_central;
  fs::path m_dir;
  std::vector<std::string> m_pins;
  int m_devices = 0;
  int m_hubPort = 0;
  Process m_hub;
  pid_t m_postmaster = 0;
};

struct OpenedStore {
  fs::path path, keyPath;
  std::unique_ptr<store::SecretKey> key;
  std::unique_ptr<store::Store> store;
};

OpenedStore newStore(const fs::path& dir, const std::string& name) {
  OpenedStore s;
  s.path = dir / (name + ".db");
  s.keyPath = dir / (name + ".key");
  auto key = store::SecretKey::generate();
  if (!key || !key->writeNewFile(s.keyPath)) die("cannot make a store key");
  s.key = std::make_unique<store::SecretKey>(std::move(*key));
  store::OpenOptions o;
  o.path = s.path;
  o.create = true;
  auto opened = store::Store::open(o, *s.key);
  if (!opened) die("store: " + opened.error().message);
  s.store = std::make_unique<store::Store>(std::move(*opened));
  return s;
}

// A check-in's notification for the provider, as the kiosk writes it.
sync::Mutation arrivalMutation(const Uuid& provider, std::int64_t seq) {
  Notification n;
  n.notificationId = ids().v7(nowUtc());
  n.recipientId = provider;
  n.recipientType = RecipientType::Provider;
  n.type = NotificationType::PatientArrived;
  n.content.templateKey = "patient_arrived";
  n.content.params["appointment_id"] = ids().v7(nowUtc()).toString();
  n.createdAt = nowUtc();
  n.updatedAt = n.createdAt;
  sync::Mutation m;
  m.mutationId = ids().v7(nowUtc());
  m.deviceSeq = seq;
  m.entity = "notification";
  m.id = n.notificationId;
  m.kind = sync::MutationKind::Insert;
  m.changes = toRowJson(n);
  m.hlc = hlcNow();
  return m;
}

// [SECTION] push_mutations_per_s
// Each device's pushes over its own keep-alive HTTPS connection, a thread a device, all at once:
// the wall time, the CPU each side spent, and what did not go through.
struct NetworkRun {
  double seconds = 0;
  CpuSplit cpu;
  int failedPushes = 0;
  std::atomic<long> notApplied{0};  // results other than applied
};

void pushOverNetwork(Bench& bench, const std::vector<Device>& devices, const std::vector<std::vector<sync::PushRequest>>& work,
                     NetworkRun& run) {
  std::vector<std::unique_ptr<sync::CurlTransport>> transports;
  for (const auto& d : devices) transports.push_back(bench.transport(d));
  for (auto& t : transports) (void)t->health();  // connections made before the clock starts
  std::atomic<int> failed{0};
  const CpuSplit before = bench.cpu();
  const auto start = SteadyClock::now();
  {
    std::vector<std::thread> pool;
    for (std::size_t d = 0; d < devices.size(); ++d)
      pool.emplace_back([&, d] {
        for (const auto& req : work[d]) {
          auto r = transports[d]->push(req);
          if (!r) {
            ++failed;
            std::fprintf(stderr, "push failed: %s\n", r.error().message.c_str());
            continue;
          }
          for (const auto& result : r->results)
            if (result.status != sync::ResultStatus::Applied) ++run.notApplied;
        }
      });
    for (auto& th : pool) th.join();
  }
  run.seconds = secondsSince(start);
  const CpuSplit after = bench.cpu();
  run.cpu = {after.client - before.client, after.hub - before.hub, after.postgres - before.postgres};
  run.failedPushes = failed.load();
}

void noteCpu(const std::string& part, const CpuSplit& cpu, double mutations) {
  auto us = [&](double s) { return std::to_string(static_cast<long>(s * 1e6 / mutations)); };
  note(part + " CPU per mutation (from /proc): client " + us(cpu.client) + " us, hub " + us(cpu.hub) + " us, PostgreSQL " +
       us(cpu.postgres) + " us");
}

void benchPush(Bench& bench, bool quick) {
  constexpr int kPractices = 8, kDevicesEach = 2, kBatch = 100;
  // 16 pushes a device (25,600 mutations, a few seconds each way): with 4 the network part
  // lasted ~0.7 s, and a connection's first pushes (statements prepared, planned) weighed on it.
  const int pushes = quick ? 2 : 16;
  struct Dev {
    Device device;
    BenchPractice practice;
    std::int64_t seq = 0;
  };
  std::vector<Dev> devices;
  for (int p = 0; p < kPractices; ++p) {
    const BenchPractice bp = bench.practice("push" + std::to_string(p));
    for (int d = 0; d < kDevicesEach; ++d) devices.push_back({bench.enroll(bp.practice), bp, 0});
  }
  auto makeWork = [&] {
    std::vector<std::vector<sync::PushRequest>> work(devices.size());
    for (std::size_t d = 0; d < devices.size(); ++d)
      for (int k = 0; k < pushes; ++k) {
        sync::PushRequest req;
        for (int i = 0; i < kBatch; ++i) req.mutations.push_back(arrivalMutation(devices[d].practice.provider, ++devices[d].seq));
        work[d].push_back(std::move(req));
      }
    return work;
  };
  const double total = static_cast<double>(devices.size()) * pushes * kBatch;

  // Part 1's figure: the hub core in process, 2 threads (the machine's cores), same batches.
  auto inProcess = makeWork();
  auto start = SteadyClock::now();
  {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 2; ++t)
      pool.emplace_back([&, t] {
        auto hub = sync::HubCore::connect({bench.central().hubDsn(), sim::kPiiKey, sim::kHashKey, {}, [] { return nowUtc(); }, 100});
        if (!hub) die("hub core: " + hub.error().message);
        for (std::size_t d = t; d < devices.size(); d += 2)
          for (const auto& req : inProcess[d])
            if (auto r = (*hub)->applyPush({devices[d].device.id, devices[d].practice.practice}, req); !r)
              std::fprintf(stderr, "in-process push failed: %s\n", r.error().message.c_str());
      });
    for (auto& th : pool) th.join();
  }
  const double inProcessRate = total / secondsSince(start);

  // Through the real hub: one thread and one keep-alive HTTPS connection per device.
  auto network = makeWork();
  std::vector<Device> enrolled;
  for (const auto& d : devices) enrolled.push_back(d.device);
  NetworkRun run;
  pushOverNetwork(bench, enrolled, network, run);
  const int failed = run.failedPushes;
  const double netRate = total / run.seconds;
  note("push: " + std::to_string(static_cast<long>(total)) + " notification inserts from 16 devices of 8 practices, " +
       std::to_string(kBatch) + " a push, gzip'd, over mutual TLS through one hub (4 DB workers); target >= 10000/s" +
       (failed > 0 ? "; " + std::to_string(failed) + " pushes failed" : ""));
  noteCpu("push:", run.cpu, total);
  metric("push_mutations_per_s", netRate, "mutations/s");
  metric("push_in_process_mutations_per_s", inProcessRate, "mutations/s");
  metric("push_ratio_to_in_process", netRate / inProcessRate, "x");
}

// [SECTION] push_checkins_per_s
// A practice's day for the check-in figure: 20 providers (the practice's own first) with `each`
// appointments apiece, 4 minutes apart from half an hour from now, over 200 synthetic patients.
// The providers' ids.
std::vector<std::string> seedDay(Bench& bench, const BenchPractice& bp, const std::string& tag, int each) {
  constexpr int kProviders = 20, kPatients = 200;
  pqxx::connection c(bench.central().superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", bp.practice.toString());
  std::vector<std::string> providers{bp.provider.toString()};
  for (const auto& r : tx.exec_params(
           "INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
           " availability, experience, telehealth) SELECT gen_random_uuid(), $1::uuid, 'Robin', 'Bench' || g,"
           " 'robin.' || $2 || '.' || g || '@practice.example', '[]', '[]', '{}', 3, false FROM generate_series(2, $3) g"
           " RETURNING provider_id::text",
           bp.practice.toString(), tag, kProviders))
    providers.push_back(r[0].c_str());
  std::string patients = "{";
  for (const auto& r : tx.exec_params(
           "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, preferences,"
           " email_hash, insurance_ids) SELECT gen_random_uuid(), pii_encrypt('Avery', $1), pii_encrypt('Checkwell' || g, $1),"
           " pii_encrypt($3 || g || '@mail.example', $1), pii_encrypt('+15415550199', $1), pii_encrypt('1980-01-01', $1),"
           " '{\"self_pay\":true}', pii_encrypt('{}', $1), pii_lookup_hash($3 || g || '@mail.example', $2),"
           " pii_encrypt('{}', $1) FROM generate_series(1, $4) g RETURNING patient_id::text",
           std::string(sim::kPiiKey), std::string(sim::kHashKey), "checkin." + tag + ".", kPatients))
    patients += (patients.size() > 1 ? "," : "") + std::string(r[0].c_str());
  std::string providerArray = "{";
  for (const auto& p : providers) providerArray += (providerArray.size() > 1 ? "," : "") + p;
  tx.exec_params(
      "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
      " SELECT gen_random_uuid(), pr.id, pa.ids[1 + (pr.k * $3 + g) % array_length(pa.ids, 1)],"
      " $4::timestamp + g * interval '4 minutes', $4::timestamp + g * interval '4 minutes' + interval '3 minutes',"
      " 'scheduled', 'in_person'"
      " FROM unnest($1::uuid[]) WITH ORDINALITY AS pr(id, k), (SELECT $2::uuid[] AS ids) pa, generate_series(0, $3 - 1) g",
      providerArray + "}", patients + "}", each, formatInstant(floor<minutes>(nowUtc()) + minutes{30}));
  tx.commit();
  return providers;
}

// The check-ins of `count` of a store's appointments (every `stride`th from `first`), written
// as the kiosk writes them, then read back from the outbox as pushes of `batch`.
std::vector<sync::PushRequest> checkInsFromStore(store::Store& s, std::size_t first, std::size_t stride, int count,
                                                 int batch) {
  auto appts = s.appointmentsBetween(nowUtc() - hours{1}, nowUtc() + days{2});
  if (!appts) die("checkins: " + appts.error().message);
  // In id order, so the practice's two devices split the same list.
  std::ranges::sort(*appts, {}, [](const Appointment& a) { return a.appointmentId.toString(); });
  int checkedIn = 0;
  for (std::size_t i = first; i < appts->size() && checkedIn < count; i += stride)
    if (s.checkIn((*appts)[i].appointmentId, store::Actor::kiosk(), nowUtc())) ++checkedIn;
  if (checkedIn < count) die("checkins: the store had " + std::to_string(checkedIn) + " appointments to check in");
  auto rows = s.pendingOutbox(static_cast<std::size_t>(count));
  if (!rows) die("checkins: " + rows.error().message);
  std::vector<sync::PushRequest> pushes;
  for (const auto& row : *rows) {
    if (pushes.empty() || pushes.back().mutations.size() == static_cast<std::size_t>(batch)) pushes.emplace_back();
    auto m = sync::toMutation(row);
    if (!m) die("checkins: " + m.error().message);
    pushes.back().mutations.push_back(std::move(*m));
  }
  return pushes;
}

void benchCheckins(Bench& bench, bool quick) {
  constexpr int kPractices = 8, kDevicesEach = 2, kBatch = 100;
  const int pushes = quick ? 2 : 16;  // as push_mutations_per_s
  const int perDevice = pushes * kBatch;
  std::vector<Device> devices;
  std::vector<std::vector<sync::PushRequest>> work;
  std::string providers = "{";
  const auto setup = SteadyClock::now();
  for (int p = 0; p < kPractices; ++p) {
    const std::string tag = "checkin" + std::to_string(p);
    const BenchPractice bp = bench.practice(tag);
    for (const auto& id : seedDay(bench, bp, tag, kDevicesEach * perDevice / 20))
      providers += (providers.size() > 1 ? "," : "") + id;
    for (int d = 0; d < kDevicesEach; ++d) {
      // The device's store as its first sync fills it; then its half of the day's check-ins.
      devices.push_back(bench.enroll(bp.practice));
      OpenedStore s = newStore(bench.dir(), tag + "-" + std::to_string(d));
      auto t = bench.transport(devices.back());
      sync::SyncSession first(*s.store, *t);
      if (auto r = first.run(); !r) die("checkins: first sync: " + r.error().message);
      work.push_back(checkInsFromStore(*s.store, static_cast<std::size_t>(d), kDevicesEach, perDevice, kBatch));
    }
  }
  providers += "}";
  const double setupSeconds = secondsSince(setup);

  NetworkRun run;
  pushOverNetwork(bench, devices, work, run);
  const double total = static_cast<double>(devices.size()) * perDevice;

  // Every check-in applied centrally, with one arrival notice each.
  pqxx::connection c(bench.central().superDsn());
  pqxx::work tx(c);
  const auto applied = tx.exec_params1("SELECT count(*) FROM appointment WHERE provider_id = ANY($1::uuid[])"
                                       " AND status = 'checked_in'", providers)[0].as<long>();
  const auto notices = tx.exec_params1("SELECT count(*)::text || ' notices for ' ||"
                                       " count(DISTINCT content -> 'params' ->> 'appointment_id')::text || ' appointments'"
                                       " FROM notification WHERE recipient_id = ANY($1::uuid[]) AND type = 'patient_arrived'",
                                       providers)[0].as<std::string>();
  tx.commit();
  note("push_checkins: " + std::to_string(static_cast<long>(total)) + " check-ins (appointment status -> checked_in, as the"
       " kiosk's store writes them; the hub adds each arrival notice) from 16 devices of 8 practices, " +
       std::to_string(kBatch) + " a push, gzip'd, over mutual TLS through one hub; " + std::to_string(applied) +
       " checked in centrally, " + notices + ", " + std::to_string(run.notApplied.load()) + " results not applied" +
       (run.failedPushes > 0 ? ", " + std::to_string(run.failedPushes) + " pushes failed" : "") + " (setup " +
       std::to_string(static_cast<int>(setupSeconds)) + " s)");
  noteCpu("push_checkins:", run.cpu, total);
  metric("push_checkins_per_s", total / run.seconds, "mutations/s");
}

// [SECTION] wire_bytes_per_checkin
void benchWire(Bench& bench) {
  // 100 appointments today, each check-in one appointment update (the hub writes the arrival
  // notice): 100 mutations, one push.
  const BenchPractice bp = bench.practice("wire");
  {
    pqxx::connection c(bench.central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", bp.practice.toString());
    tx.exec_params(
        "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, preferences,"
        " email_hash, insurance_ids) SELECT gen_random_uuid(), pii_encrypt('Avery', $1), pii_encrypt('Benchwell' || g, $1),"
        " pii_encrypt('bench' || g || '@mail.example', $1), pii_encrypt('+15415550199', $1), pii_encrypt('1980-01-01', $1),"
        " '{\"self_pay\":true}', pii_encrypt('{}', $1), pii_lookup_hash('bench' || g || '@mail.example', $2),"
        " pii_encrypt('{}', $1) FROM generate_series(1, 100) g",
        std::string(sim::kPiiKey), std::string(sim::kHashKey));
    tx.exec_params(
        "INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
        " SELECT gen_random_uuid(), $1::uuid, patient_id, $2::timestamp + (k * interval '5 minutes'),"
        " $2::timestamp + (k * interval '5 minutes') + interval '4 minutes', 'scheduled', 'in_person'"
        " FROM (SELECT patient_id, row_number() OVER (ORDER BY patient_id) AS k FROM patient"
        "       WHERE pii_decrypt(last_name, $3) LIKE 'Benchwell%') p",
        bp.provider.toString(), formatInstant(floor<minutes>(nowUtc()) + minutes{30}), std::string(sim::kPiiKey));
    tx.commit();
  }
  const Device d = bench.enroll(bp.practice);
  OpenedStore s = newStore(bench.dir(), "wire");
  auto t = bench.transport(d);
  sync::SyncSession first(*s.store, *t);
  if (auto r = first.run(); !r) die("wire: first sync: " + r.error().message);
  auto appts = s.store->appointmentsBetween(nowUtc() - hours{1}, nowUtc() + days{2});
  if (!appts) die("wire: " + appts.error().message);
  int checkedIn = 0;
  for (const auto& a : *appts) {
    if (checkedIn == 100) break;
    if (s.store->checkIn(a.appointmentId, store::Actor::kiosk(), nowUtc())) ++checkedIn;
  }
  const auto pending = s.store->pendingOutboxCount().value_or(0);
  const auto before = t->stats();
  sync::SessionOptions so;
  so.pushBatch = 100;
  sync::SyncSession session(*s.store, *t, so);
  sync::SessionReport report;
  if (auto r = session.pushAll(report); !r) die("wire: push: " + r.error().message);
  const auto after = t->stats();
  const double body = static_cast<double>(after.requestBodyBytes - before.requestBodyBytes);
  const double answer = static_cast<double>(after.responseBytes - before.responseBytes);
  const double mutations = static_cast<double>(report.pushed);
  note("wire: " + std::to_string(checkedIn) + " check-ins, " + std::to_string(pending) + " mutations in " +
       std::to_string(after.requests - before.requests) + " push(es); request body after gzip per mutation; target <= 48");
  metric("wire_bytes_per_checkin", mutations > 0 ? body / mutations : 0, "bytes");
  metric("wire_response_bytes_per_checkin", mutations > 0 ? answer / mutations : 0, "bytes");
}

// [SECTION] propagation_p50_ms / p99_ms
void benchPropagation(Bench& bench, bool quick) {
  const BenchPractice bp = bench.practice("propagation");
  const Device da = bench.enroll(bp.practice), db = bench.enroll(bp.practice);
  OpenedStore a = newStore(bench.dir(), "kiosk-a"), b = newStore(bench.dir(), "kiosk-b");
  Process syncA = Process::spawn({{binary("anteroom-syncd").string(), "--config",
                                   bench.syncdConfig(da, a.path, a.keyPath, 25).string()},
                                  {}, bench.dir() / "syncd-a.log", {}, {}});
  Process syncB = Process::spawn({{binary("anteroom-syncd").string(), "--config",
                                   bench.syncdConfig(db, b.path, b.keyPath, 25).string()},
                                  {}, bench.dir() / "syncd-b.log", {}, {}});
  // Both daemons through their first sync and parked.
  const auto ready = SteadyClock::now() + seconds(30);
  while (SteadyClock::now() < ready && (!a.store->syncValue("last_success_at").value_or(std::nullopt) ||
                                        !b.store->syncValue("last_success_at").value_or(std::nullopt)))
    std::this_thread::sleep_for(milliseconds(50));
  std::this_thread::sleep_for(milliseconds(500));
  const int samples = quick ? 8 : 30;
  std::vector<double> ms, toCentral;
  pqxx::connection pg(bench.central().superDsn());
  std::mt19937_64 rng(7);
  for (int i = 0; i < samples; ++i) {
    Patient p;
    p.patientId = ids().v7(nowUtc());
    p.firstName = "Avery";
    p.lastName = "Propagatewell";
    p.dateOfBirth = year{1990} / January / 1;
    p.email = "prop" + std::to_string(i) + "." + p.patientId.toString().substr(24) + "@mail.example";
    p.phone = "+15415551234";
    p.insuranceInfo.selfPay = true;
    WaitlistEntry e;
    e.entryId = ids().v7(nowUtc());
    e.waitlistId = bp.waitlist;
    e.patientId = p.patientId;
    auto w = a.store->write(store::Actor::kiosk(), nowUtc(), [&](store::WriteTx& tx) -> Result<void> {
      if (auto r = tx.insert(p); !r) return r;
      return tx.insert(e);
    });
    if (!w) die("propagation: write: " + w.error().message);
    const auto t0 = SteadyClock::now();
    bool seen = false, central = false;
    while (!seen && secondsSince(t0) < 30) {
      auto got = b.store->get<Patient>(p.patientId);
      seen = got && got->has_value();
      // Where the time goes: until central has it (A's daemon), then until B has it.
      if (!central) {
        pqxx::work tx(pg);
        central = tx.exec_params1("SELECT count(*) FROM patient WHERE patient_id = $1::uuid", p.patientId.toString())[0]
                      .as<int>() == 1;
        tx.commit();
        if (central) toCentral.push_back(secondsSince(t0) * 1000);
      }
      if (!seen) std::this_thread::sleep_for(microseconds(500));
    }
    if (!seen) {
      note("propagation: a walk-in did not reach B within 30 s");
      break;
    }
    ms.push_back(secondsSince(t0) * 1000);
    std::this_thread::sleep_for(milliseconds(100 + static_cast<int>(rng() % 200)));
  }
  syncA.stop(seconds(10));
  syncB.stop(seconds(10));
  std::sort(ms.begin(), ms.end());
  note("propagation: " + std::to_string(ms.size()) + " walk-ins on A seen in B's store, both anteroom-syncd long-polling (wait 25 s);"
       " target p50 < 50 ms, p99 < 250 ms");
  if (ms.empty()) return;
  metric("propagation_p50_ms", ms[ms.size() / 2], "ms");
  metric("propagation_p99_ms", ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], "ms");
  std::sort(toCentral.begin(), toCentral.end());
  if (!toCentral.empty()) metric("propagation_to_central_p50_ms", toCentral[toCentral.size() / 2], "ms");
}

// [SECTION] parked_longpolls, hub_rss_mb, wake_all_ms
double rssMb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

void benchParked(Bench& bench, bool quick) {
  const int wanted = quick ? 500 : 2000;
  const BenchPractice bp = bench.practice("parked");
  const Device d = bench.enroll(bp.practice);
  // The cursor at the head of the practice's feed.
  auto t = bench.transport(d);
  std::string cursor;
  for (int i = 0; i < 100; ++i) {
    sync::PullRequest req;
    req.after = cursor;
    req.limit = 2000;
    auto page = t->pull(req);
    if (!page) die("parked: pull: " + page.error().message);
    cursor = page->cursor;
    if (!page->more) break;
  }
  const double rssBefore = rssMb(bench.hub().pid());
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  std::vector<CURL*> handles;
  curl_slist* headers = curl_slist_append(nullptr, ("Anteroom-Schema-Version: " + std::to_string(sync::kSchemaVersion)).c_str());
  char* escaped = curl_easy_escape(nullptr, cursor.c_str(), static_cast<int>(cursor.size()));
  const std::string url = "https://127.0.0.1:" + std::to_string(bench.hubPort()) + "/v1/pull?after=" + escaped + "&limit=500&wait=30";
  curl_free(escaped);
  const std::string ca = (d.dir / "ca.crt").string(), cert = (d.dir / "device.crt").string(), key = (d.dir / "device.key").string();
  auto discard = +[](char*, size_t size, size_t n, void*) -> size_t { return size * n; };
  for (int i = 0; i < wanted; ++i) {
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(h, CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, key.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 90L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, reinterpret_cast<char*>(static_cast<std::uintptr_t>(i)));
    handles.push_back(h);
  }
  // Drive until every request is out and parked (sent, unanswered), or 120 s pass.
  int running = 0, done = 0, ok = 0;
  std::vector<char> finished(handles.size(), 0);
  auto drain = [&](SteadyClock::time_point* lastDone) {
    CURLMsg* msg = nullptr;
    int left = 0;
    while ((msg = curl_multi_info_read(multi, &left)) != nullptr) {
      if (msg->msg != CURLMSG_DONE) continue;
      ++done;
      char* index = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &index);
      finished[reinterpret_cast<std::uintptr_t>(index)] = 1;
      long code = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      if (msg->data.result == CURLE_OK && code == 200) ++ok;
      if (lastDone) *lastDone = SteadyClock::now();
    }
  };
  auto parkedCount = [&] {
    int parked = 0;
    for (std::size_t i = 0; i < handles.size(); ++i) {
      if (finished[i]) continue;
      curl_off_t sent = 0;
      curl_easy_getinfo(handles[i], CURLINFO_PRETRANSFER_TIME_T, &sent);
      if (sent > 0) ++parked;
    }
    return parked;
  };
  const auto setupStart = SteadyClock::now();
  int parked = 0;
  std::size_t added = 0;
  while (secondsSince(setupStart) < 120) {
    // Connections ramp up, at most 64 handshakes at a time: the client is one thread on a
    // shared machine, and the hub times out handshakes that stall.
    parked = parkedCount();
    while (added < handles.size() && static_cast<int>(added) - parked - done < 64) curl_multi_add_handle(multi, handles[added++]);
    if (added == handles.size() && parked + done >= wanted) break;
    curl_multi_perform(multi, &running);
    drain(nullptr);
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  // A moment for the last requests to reach the hub and park there.
  const auto settle = SteadyClock::now();
  while (secondsSince(settle) < 1.0) {
    curl_multi_perform(multi, &running);
    drain(nullptr);
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  parked = parkedCount();
  const double setupSeconds = secondsSince(setupStart);
  const double rss = rssMb(bench.hub().pid());
  const int doneBeforeWake = done;
  // One commit in the practice: its NOTIFY wakes every parked pull.
  {
    pqxx::connection c(bench.central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", bp.practice.toString());
    tx.exec_params("UPDATE provider SET experience = experience + 1 WHERE provider_id = $1::uuid", bp.provider.toString());
    tx.commit();
  }
  const auto t0 = SteadyClock::now();
  auto lastDone = t0;
  while (done < wanted && secondsSince(t0) < 60) {
    curl_multi_perform(multi, &running);
    drain(&lastDone);
    curl_multi_poll(multi, nullptr, 0, 20, nullptr);
  }
  const double wakeMs = duration<double, std::milli>(lastDone - t0).count();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i < added) curl_multi_remove_handle(multi, handles[i]);
    curl_easy_cleanup(handles[i]);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  note("parked: " + std::to_string(wanted) + " long-polls (wait 30 s) on separate TLS connections of one device, set up in " +
       std::to_string(static_cast<int>(setupSeconds)) + " s; " + std::to_string(doneBeforeWake) + " answered before the commit, " +
       std::to_string(ok) + " answered 200 in all; hub RSS before " + std::to_string(static_cast<int>(rssBefore)) +
       " MB; targets: RSS < 500 MB, all woken within 1000 ms");
  metric("parked_longpolls", parked, "requests");
  metric("hub_rss_mb", rss, "MB");
  metric("wake_all_ms", done == wanted ? wakeMs : -1, "ms");
}

// [SECTION] initial_sync_rows_per_s
void benchInitialSync(Bench& bench, bool quick) {
  const int rows = quick ? 5000 : 50000;
  const BenchPractice bp = bench.practice("initial");
  {
    pqxx::connection c(bench.central().superDsn());
    pqxx::work tx(c);
    tx.exec_params("SELECT set_config('app.practice_id', $1, true)", bp.practice.toString());
    tx.exec_params(
        "INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status, created_at)"
        " SELECT gen_random_uuid(), $1::uuid, 'provider', 'patient_arrived',"
        " jsonb_build_object('appointment_id', gen_random_uuid()), 'pending', $2::timestamp FROM generate_series(1, $3)",
        bp.provider.toString(), formatInstant(nowUtc() - hours{1}), rows);
    tx.commit();
  }
  const Device d = bench.enroll(bp.practice);
  OpenedStore s = newStore(bench.dir(), "initial");
  auto t = bench.transport(d);
  sync::SessionOptions so;
  so.pullLimit = 2000;
  sync::SyncSession session(*s.store, *t, so);
  const auto start = SteadyClock::now();
  auto report = session.run();
  const double seconds = secondsSince(start);
  if (!report) die("initial sync: " + report.error().message);
  const auto st = t->stats();
  note("initial_sync: a new device's first sync of " + std::to_string(report->changes) + " rows in " +
       std::to_string(report->pages) + " pages of 2000 over HTTPS (gzip'd, " + std::to_string(st.responseBytes / 1024) +
       " KiB on the wire); part 1 in process: see anteroom-bench-sync initial_sync_rows_per_s");
  metric("initial_sync_rows_per_s", static_cast<double>(report->changes) / seconds, "rows/s");
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, pushOnly = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") quick = true;
    else if (arg == "--push-only") pushOnly = true;  // the first part alone, e.g. to profile the hub
  }
  for (const char* b : {"anteroom-hub", "anteroom-syncd", "anteroom-admin"}) {
    if (!fs::exists(binary(b))) {
      note(std::string("anteroom-bench-sync-net skipped: ") + binary(b).string() + " is not built");
      return 0;
    }
  }
  // 2,000 connections need 2,000 descriptors here and in the hub (which inherits the limit).
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto central = sim::Central::start();
  if (!central) {
    note("anteroom-bench-sync-net skipped: " + central.error().message);
    return 0;
  }
  TempDir dir("anteroom-bench-net-");
  Bench bench(**central, dir.path());
  bench.startHub();
  benchPush(bench, quick);
  benchCheckins(bench, quick);
  if (!pushOnly) {
    benchWire(bench);
    benchPropagation(bench, quick);
    benchParked(bench, quick);
    benchInitialSync(bench, quick);
  }
  if (!bench.hub().running()) note("the hub exited during the benchmark:\n" + bench.hub().output());
  bench.hub().stop(seconds(10));
  curl_global_cleanup();
  return 0;
}
