// How many long-polls one anteroom-hub holds parked, its RSS meanwhile, and how long one
// central commit takes to wake them all. Prints `name: value unit` lines.
// Usage: anteroom-bench-hub-longpoll [--polls N] [--distinct]
// --distinct parks each pull at its own position (limit=1..N) so that no two share a page:
// the worst case for the wake-up, with one push sent just after the commit to show that the
// burst does not starve it (push_during_wake_ms).
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "anteroom/sync/messages.hpp"
#include "hub_fixture.hpp"

using namespace anteroom;
using namespace anteroom::nettest;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

long cpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) stime = std::atol(field.c_str());
  }
  return utime + stime;
}

std::string g_firstError;  // the first transfer that failed, in curl's words

// Drives the multi handle for up to `budget`; returns the number of transfers that finished.
int drive(CURLM* multi, milliseconds budget, int& running) {
  int finished = 0;
  const auto until = steady_clock::now() + budget;
  do {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left))
      if (m->msg == CURLMSG_DONE) {
        ++finished;
        if (m->data.result != CURLE_OK && g_firstError.empty()) g_firstError = curl_easy_strerror(m->data.result);
      }
    int numfds = 0;
    curl_multi_poll(multi, nullptr, 0, 20, &numfds);
  } while (steady_clock::now() < until && running > 0);
  return finished;
}

}  // namespace

int main(int argc, char** argv) {
  int polls = 2000;
  bool distinct = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--polls") == 0 && i + 1 < argc) polls = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--distinct") == 0) distinct = true;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    const fs::path dir = fs::temp_directory_path() / ("anteroom-bench-longpoll-" + std::to_string(::getpid()));
    CentralDb db;
    TestPki pki(dir / "pki");
    const auto practice = db.seedPractice();
    const CertPair cert = pki.device("kiosk-bench");
    db.enrollDevice(practice.practice, cert.fingerprint);
    std::string config = hubConfig(pki, db.hubDsn(), dir / "hub");
    config.replace(config.find("workers = 2"), 11, "workers = 4");
    HubProcess hub(dir / "hub", config);

    std::string cursor;
    {
      Client c(hub.port(), pki.caCert(), &cert);
      for (;;) {
        auto r = c.get("/v1/pull?limit=2000&after=" + cursor);
        auto page = sync::decodePullResponse(r.body);
        if (r.status != 200 || !page) throw std::runtime_error("first sync failed: " + r.body);
        cursor = page->cursor;
        if (!page->more) break;
      }
    }
    const long rssIdle = hub.rssKb();

    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    const std::string url = "https://127.0.0.1:" + std::to_string(hub.port()) + "/v1/pull?wait=30&after=" + cursor;
    std::vector<std::string> urls(static_cast<std::size_t>(polls), url);
    if (distinct)
      for (std::size_t i = 0; i < urls.size(); ++i) urls[i] += "&limit=" + std::to_string(1 + i % 2000);
    curl_slist* headers = curl_slist_append(nullptr, "Anteroom-Schema-Version: 2");
    std::vector<CURL*> handles(static_cast<std::size_t>(polls));
    std::vector<std::string> bodies(handles.size());
    for (std::size_t i = 0; i < handles.size(); ++i) {
      CURL* e = curl_easy_init();
      curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
      curl_easy_setopt(e, CURLOPT_CAINFO, pki.caCert().c_str());
      curl_easy_setopt(e, CURLOPT_SSLCERT, cert.cert.c_str());
      curl_easy_setopt(e, CURLOPT_SSLKEY, cert.key.c_str());
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
      curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &bodies[i]);
      curl_multi_add_handle(multi, e);
      handles[i] = e;
    }
    // Connect and send everything, then wait until the hub is idle (every pull parked).
    int running = 0;
    int early = 0;
    const auto parkStart = steady_clock::now();
    for (;;) {
      early += drive(multi, milliseconds{500}, running);
      bool allSent = true;
      for (CURL* e : handles) {
        curl_off_t pre = 0;
        curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pre);
        if (pre == 0) allSent = false;
      }
      if (allSent || steady_clock::now() - parkStart > seconds{25}) break;
    }
    for (long before = cpuTicks(hub.pid());;) {
      early += drive(multi, milliseconds{500}, running);
      const long now = cpuTicks(hub.pid());
      if (now - before <= 2 || steady_clock::now() - parkStart > seconds{28}) break;
      before = now;
    }
    const double parkSeconds = duration<double>(steady_clock::now() - parkStart).count();
    const long rssParked = hub.rssKb();
    const int parked = polls - early;

    const auto committed = steady_clock::now();
    db.touchProvider(practice.practice, practice.provider);
    // One push from another thread right after the commit, in the middle of the wake-up burst.
    double pushMs = -1;
    std::thread pusher([&] {
      std::this_thread::sleep_for(milliseconds{20});
      Client pc(hub.port(), pki.caCert(), &cert);
      sync::PushRequest empty;  // no mutations: the full route (device check, decode, commit path)
      auto r = pc.post("/v1/push", sync::encode(empty));
      if (r.status == 200) pushMs = r.seconds * 1000.0;
    });
    int woken = 0;
    while (woken < parked && steady_clock::now() - committed < seconds{40}) woken += drive(multi, milliseconds{50}, running);
    const double wakeMs = duration<double, std::milli>(steady_clock::now() - committed).count();
    pusher.join();

    int withChange = 0, ok = 0;
    for (std::size_t i = 0; i < handles.size(); ++i) {
      long status = 0;
      curl_easy_getinfo(handles[i], CURLINFO_RESPONSE_CODE, &status);
      if (status == 200) ++ok;
      auto page = sync::decodePullResponse(bodies[i]);
      if (page && !page->changes.empty()) ++withChange;
      curl_multi_remove_handle(multi, handles[i]);
      curl_easy_cleanup(handles[i]);
    }
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);

    std::printf("parked_longpolls: %d count\n", parked);
    std::printf("longpoll_park_s: %.1f s\n", parkSeconds);
    std::printf("hub_rss_idle_mb: %.1f MB\n", static_cast<double>(rssIdle) / 1024.0);
    std::printf("hub_rss_mb: %.1f MB\n", static_cast<double>(rssParked) / 1024.0);
    std::printf("wake_all_ms: %.0f ms\n", wakeMs);
    std::printf("push_during_wake_ms: %.0f ms\n", pushMs);
    std::printf("woken_with_change: %d count\n", withChange);
    std::printf("answered_200: %d count\n", ok);
    hub.stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
    // The 1,000 ms target is for one commit waking devices at the same position (the usual
    // case: a practice's devices follow the same feed); --distinct is the worst case, reported.
    // A pull that was not parked or not woken with the change is a fault (exit 1); a figure
    // below its target on a loaded machine is only said.
    if (rssParked >= 500 * 1024 || (!distinct && wakeMs >= 1000.0))
      std::printf("# below target: hub_rss_mb < 500 and wake_all_ms < 1000 with 2,000 parked\n");
    if (parked != polls || withChange != polls) {
      std::fprintf(stderr, "anteroom-bench-hub-longpoll: %d of %d pulls parked, %d woken with the change (first failure: %s)\n",
                   parked, polls, withChange, g_firstError.empty() ? "none" : g_firstError.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anteroom-bench-hub-longpoll: %s\n", e.what());
    return 2;
  }
}
