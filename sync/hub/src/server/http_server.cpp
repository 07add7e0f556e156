// The hub's connections: TLS handshake, HTTP/1.1 keep-alive, routes posted to the database
// workers and answered on the connection's strand, and long-polls parked until a NOTIFY.
#include "http_server.hpp"

#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "gzip.hpp"
#include "routes.hpp"
#include "tls.hpp"

namespace anteroom::hub {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono;

// [SECTION] Shared state

// Members are destroyed in reverse: the io_context last, after the parked pulls (which hold
// its strands) and with the connection count still there for the sessions it destroys.
struct HubServer::Shared {
  HubConfig config;
  sync::WireLimits wire;
  ServerLimits limits;
  std::atomic<int> open{0};
  asio::io_context ioc;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::optional<tcp::acceptor> acceptor;
  ParkRegistry parks;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<ChangeListener> listener;
  std::atomic<std::uint64_t> nextToken{1};
  std::vector<std::thread> ioThreads;
  std::mutex logMutex;

  void log(const char* priority, const std::string& line) {
    std::lock_guard lock(logMutex);
    std::fprintf(stderr, "%santeroom-hub: %s\n", priority, line.c_str());
    std::fflush(stderr);
  }
};

namespace {

constexpr std::size_t kMaxQueuedPerLane = 20000;

std::string_view routeName(std::string_view target) {
  const auto q = target.find('?');
  return target.substr(0, q);
}

// [SECTION] Session: one TLS connection

class Session : public std::enable_shared_from_this<Session> {
  // The body is shared: one woken page goes to every connection parked at the same position.
  using Response = http::response<http::span_body<const char>>;

 public:
  Session(tcp::socket socket, HubServer::Shared& shared)
      : m_shared(shared), m_stream(std::move(socket), shared.tls), m_timer(m_stream.get_executor()) {
    ++m_shared.open;
  }
  ~Session() { --m_shared.open; }

  void start() {
    asio::dispatch(m_stream.get_executor(), [self = shared_from_this()] {
      beast::get_lowest_layer(self->m_stream).expires_after(self->m_shared.limits.handshake);
      self->m_stream.async_handshake(asio::ssl::stream_base::server,
                                     [self](beast::error_code ec) { self->onHandshake(ec); });
    });
  }

 private:
  void onHandshake(beast::error_code ec) {
    if (ec) {
      // No certificate, an unknown CA, TLS below 1.2 or a weak cipher: refused in the handshake.
      std::string peer = "?";
      beast::error_code ignored;
      const auto ep = beast::get_lowest_layer(m_stream).socket().remote_endpoint(ignored);
      if (!ignored) peer = ep.address().to_string();
      m_shared.log("<4>", "TLS handshake refused from " + peer + ": " + ec.message());
      return;
    }
    m_fingerprint = peerFingerprint(m_stream.native_handle());
    readRequest(m_shared.limits.firstHeader);
  }

  void readRequest(steady_clock::duration headerTimeout) {
    m_parser.emplace();
    m_parser->body_limit(m_shared.wire.maxBodyBytes);
    m_parser->header_limit(static_cast<std::uint32_t>(m_shared.limits.headerBytes));
    beast::get_lowest_layer(m_stream).expires_after(headerTimeout);
    http::async_read_header(m_stream, m_buffer, *m_parser,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec) return onReadError(ec);
    const auto& req = m_parser->get();
    if (m_parser->is_done()) return onRequest();
    if (const auto expect = req[http::field::expect]; beast::iequals(expect, "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      beast::get_lowest_layer(m_stream).expires_after(m_shared.limits.write);
      http::async_write(m_stream, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->readBody();
      });
      return;
    }
    readBody();
  }

  void readBody() {
    beast::get_lowest_layer(m_stream).expires_after(m_shared.limits.body);
    http::async_read(m_stream, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->onReadError(ec);
      self->onRequest();
    });
  }

  void onReadError(beast::error_code ec) {
    if (ec == beast::error::timeout || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return close();
    // Garbage on the wire: answer, then close; the hub goes on serving everyone else.
    m_keepAlive = false;
    m_acceptGzip = false;
    m_version = 11;
    m_route = "?";
    Outcome out;
    if (ec == http::error::body_limit)
      out = errorOutcome(413, "protocol.too_large",
                         "the body is larger than " + std::to_string(m_shared.wire.maxBodyBytes) + " bytes");
    else if (ec == http::error::header_limit)
      out = errorOutcome(400, "protocol.headers", "the request headers are too large");
    else
      out = errorOutcome(400, "protocol.http", "the request is not valid HTTP/1.1: " + ec.message());
    out.close = true;
    write(std::move(out));
  }

  // [SECTION] Routing
  void onRequest() {
    beast::get_lowest_layer(m_stream).expires_never();  // a parked pull has its own timer
    // After a large push the read buffer would keep its megabytes for the connection's life.
    if (m_buffer.size() == 0 && m_buffer.capacity() > 64 * 1024) m_buffer.shrink_to_fit();
    auto& req = m_parser->get();
    m_keepAlive = req.keep_alive();
    m_version = req.version();
    m_acceptGzip = req[http::field::accept_encoding].find("gzip") != beast::string_view::npos;
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = routeName(target);
    m_route = std::string(path);
    const bool isPush = path == "/v1/push", isPull = path == "/v1/pull", isHealth = path == "/v1/health";
    if (!isPush && !isPull && !isHealth)
      return write(errorOutcome(404, "http.not_found", "no such route: the hub serves /v1/health, /v1/push and /v1/pull"));
    const auto method = req.method();
    if ((isPush && method != http::verb::post) || (!isPush && method != http::verb::get)) {
      Outcome out = errorOutcome(405, "http.method", std::string(path) + (isPush ? " takes POST" : " takes GET"));
      out.allow = isPush ? "POST" : "GET";
      return write(std::move(out));
    }
    const auto schemaField = req.find("Anteroom-Schema-Version");
    auto schema = parseSchemaHeader(schemaField == req.end() ? std::string_view{}
                                                             : std::string_view(schemaField->value().data(),
                                                                                schemaField->value().size()),
                                    schemaField != req.end());
    if (!schema) return write(errorOutcome(schema.error()));

    auto self = shared_from_this();
    const std::string fingerprint = m_fingerprint;
    WorkerPool::Job job;
    if (isHealth) {
      job = [self, fingerprint](Worker& w) { self->answer(runHealth(w, fingerprint)); };
    } else if (isPush) {
      if (!*schema)
        return write(errorOutcome(400, "protocol.schema_header", "a push must carry the Anteroom-Schema-Version header"));
      const auto enc = req[http::field::content_encoding];
      const bool gzipped = beast::iequals(enc, "gzip");
      if (!gzipped && !enc.empty() && !beast::iequals(enc, "identity"))
        return write(errorOutcome(400, "protocol.encoding", "the body must be plain or gzip'd (Content-Encoding: gzip)"));
      auto body = std::make_shared<std::string>(std::move(req.body()));
      const auto limits = m_shared.wire;
      job = [self, fingerprint, body, gzipped, limits](Worker& w) {
        self->answer(runPush(w, fingerprint, std::move(*body), gzipped, limits));
      };
    } else {
      const auto q = target.find('?');
      auto pull = parsePullQuery(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1), *schema,
                                 m_shared.wire);
      if (!pull) return write(errorOutcome(pull.error()));
      m_deadline = steady_clock::now() + seconds{pull->waitSeconds};
      m_deadlinePassed = false;
      auto* parks = &m_shared.parks;
      job = [self, fingerprint, request = *pull, parks](Worker& w) {
        self->answer(runPull(w, fingerprint, request, [parks](const std::string& p) { return parks->generation(p); }));
      };
    }
    if (!m_shared.pool->submit(WorkerPool::Lane::Request, std::move(job)))
      write(errorOutcome(503, "hub.busy", "the hub is busy; try again shortly", true));
  }

  // From a worker thread: back to this connection's strand.
  void answer(Outcome out) {
    if (m_acceptGzip && !out.park && !out.body.empty()) {
      out.body = gzip(out.body);
      out.gzipped = true;
    }
    asio::post(m_stream.get_executor(),
               [self = shared_from_this(), out = std::move(out)]() mutable { self->onOutcome(std::move(out)); });
  }

  void onOutcome(Outcome out) {
    m_inFlight = false;
    if (!out.park) return write(std::move(out));
    m_parked = std::move(out.park);
    m_parkedDevice = out.deviceId.empty() ? m_parkedDevice : out.deviceId;
    if (m_deadlinePassed || steady_clock::now() >= m_deadline) return answerParked();
    if (!m_timerArmed) {
      m_timerArmed = true;
      m_timer.expires_at(m_deadline);
      const auto armed = ++m_timerGeneration;
      m_timer.async_wait([self = shared_from_this(), armed](beast::error_code ec) { self->onDeadline(ec, armed); });
    }
    park();
  }

  // [SECTION] Long-poll
  void park() {
    m_token = m_shared.nextToken++;
    const std::string practice = m_parked->device.practiceId.toString();
    std::weak_ptr<Session> weak = shared_from_this();
    auto executor = m_stream.get_executor();
    ParkedPull pull{m_token, *m_parked, m_acceptGzip, [weak, executor](std::uint64_t token, WokenPage page) {
                      asio::post(executor, [weak, token, page = std::move(page)]() mutable {
                        if (auto s = weak.lock()) s->onWoken(token, std::move(page));
                      });
                    }};
    const bool parked = m_shared.parks.park(practice, m_parked->generation, std::move(pull));
    m_isParked = parked;
    if (!parked) return rerun();  // a change came while the pull ran: run it again now
    watchPeer();
  }

  // While parked nothing reads the connection; wait for it to become readable so that a
  // device that went away (a FIN: killed, or closed after its own timeout) frees its
  // connection now rather than when the wait ends. Nothing is read: a pipelined request's
  // bytes stay for the parser.
  void watchPeer() {
    if (m_watching) return;
    m_watching = true;
    beast::get_lowest_layer(m_stream).socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) { self->onPeerReadable(ec); });
  }

  void onPeerReadable(beast::error_code ec) {
    m_watching = false;
    if (ec || !m_isParked) return;
    if (peerHungUp()) return dropParked();
    // Bytes but no hang-up yet: a TLS close_notify comes just before the FIN. Look once more
    // shortly; still no hang-up means a pipelined request, left for the parser.
    auto recheck = std::make_shared<asio::steady_timer>(m_stream.get_executor(), milliseconds{200});
    recheck->async_wait([self = shared_from_this(), recheck](beast::error_code tec) {
      if (!tec && self->m_isParked && self->peerHungUp()) self->dropParked();
    });
  }

  bool peerHungUp() {
    pollfd p{beast::get_lowest_layer(m_stream).socket().native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  // The device went away while parked: leave the registry, drop the wait and the connection.
  void dropParked() {
    m_shared.parks.unpark(m_parked->device.practiceId.toString(), m_token);
    m_isParked = false;
    if (m_timerArmed) {
      m_timer.cancel();
      ++m_timerGeneration;
      m_timerArmed = false;
    }
    m_parked.reset();
    close();
  }

  // The pull of this connection's group ran after a NOTIFY (wakeGroups).
  void onWoken(std::uint64_t token, WokenPage page) {
    if (!m_isParked || token != m_token) return;  // answered meanwhile (the wait ended)
    m_isParked = false;
    if (!page.outcome) return answerParked();
    const Outcome& o = *page.outcome;
    if (o.park) {  // still nothing for this position (e.g. a change outside the window)
      m_parked->page = o.park->page;
      m_parked->generation = o.park->generation;
      if (m_deadlinePassed || steady_clock::now() >= m_deadline) return answerParked();
      return park();
    }
    Outcome meta;
    meta.status = o.status;
    meta.code = o.code;
    meta.retryAfter = o.retryAfter;
    meta.deviceId = m_parkedDevice;
    const bool gz = m_acceptGzip && page.gzipBody;
    meta.gzipped = gz;
    writeShared(std::move(meta), gz ? page.gzipBody : page.plainBody);
  }

  void rerun() {
    m_inFlight = true;
    auto* parks = &m_shared.parks;
    auto self = shared_from_this();
    ParkInfo info = *m_parked;
    const bool queued = m_shared.pool->submit(WorkerPool::Lane::Wake, [self, info = std::move(info), parks](Worker& w) {
      const auto generation = parks->generation(info.device.practiceId.toString());
      self->answer(rerunPull(w, info, generation));
    });
    if (!queued) {
      m_inFlight = false;
      answerParked();  // the device asks again at once
    }
  }

  void onDeadline(beast::error_code ec, std::uint64_t armed) {
    if (armed != m_timerGeneration) return;  // a cancelled wait of an earlier request
    m_timerArmed = false;
    if (ec == asio::error::operation_aborted) return;
    m_deadlinePassed = true;
    if (m_inFlight || !m_parked) return;  // the running pull answers when it comes back
    if (m_isParked) m_shared.parks.unpark(m_parked->device.practiceId.toString(), m_token);
    m_isParked = false;
    answerParked();
  }

  // The wait is over (or cannot go on): answer the empty page.
  void answerParked() {
    Outcome out;
    out.deviceId = m_parkedDevice;
    out.body = encode(m_parked->page);
    write(std::move(out));
  }

  // [SECTION] Answering
  void write(Outcome out) {
    if (!out.gzipped && m_acceptGzip && !out.body.empty()) {
      out.body = gzip(out.body);
      out.gzipped = true;
    }
    auto body = std::make_shared<const std::string>(std::move(out.body));
    out.body.clear();
    writeShared(std::move(out), std::move(body));
  }

  void writeShared(Outcome out, std::shared_ptr<const std::string> body) {
    if (m_watching) {  // only the readability wait is outstanding here: cancel it before writing
      beast::error_code ignored;
      beast::get_lowest_layer(m_stream).socket().cancel(ignored);
    }
    if (m_timerArmed) {
      m_timer.cancel();
      ++m_timerGeneration;
      m_timerArmed = false;
    }
    if (m_isParked && m_parked) m_shared.parks.unpark(m_parked->device.practiceId.toString(), m_token);
    m_isParked = false;
    m_parked.reset();
    if (out.status >= 400) {
      m_shared.log(out.status >= 500 ? "<3>" : "<4>",
                   "device=" + (out.deviceId.empty() ? std::string("-") : out.deviceId) + " route=" + m_route +
                       " status=" + std::to_string(out.status) + " code=" + out.code);
    }
    auto res = std::make_shared<Response>(static_cast<http::status>(out.status), m_version);
    res->set(http::field::server, "anteroom-hub");
    res->set(http::field::content_type, "application/json");
    res->set(http::field::cache_control, "no-store");
    res->set("Anteroom-Schema-Version", std::to_string(sync::kSchemaVersion));
    if (out.gzipped) res->set(http::field::content_encoding, "gzip");
    if (out.retryAfter > 0) res->set(http::field::retry_after, std::to_string(out.retryAfter));
    if (!out.allow.empty()) res->set(http::field::allow, out.allow);
    res->body() = Response::body_type::value_type(body->data(), body->size());
    const bool keepAlive = m_keepAlive && !out.close;
    res->keep_alive(keepAlive);
    res->prepare_payload();
    beast::get_lowest_layer(m_stream).expires_after(m_shared.limits.write);
    http::async_write(m_stream, *res, [self = shared_from_this(), res, body, keepAlive](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!keepAlive) return self->shutdown();
      self->readRequest(self->m_shared.limits.idle);
    });
  }

  void shutdown() {
    beast::get_lowest_layer(m_stream).expires_after(seconds{5});
    m_stream.async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
  }

  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(m_stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(m_stream).close();
  }

  HubServer::Shared& m_shared;
  beast::ssl_stream<beast::tcp_stream> m_stream;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  std::string m_fingerprint;
  std::string m_route = "?";
  unsigned m_version = 11;
  bool m_keepAlive = false;
  bool m_acceptGzip = false;
  // Long-poll state (strand only)
  asio::steady_timer m_timer;
  steady_clock::time_point m_deadline{};
  std::optional<ParkInfo> m_parked;
  std::string m_parkedDevice;
  std::uint64_t m_token = 0;
  bool m_isParked = false;
  bool m_inFlight = false;
  bool m_timerArmed = false;
  std::uint64_t m_timerGeneration = 0;
  bool m_watching = false;  // a readability wait on the socket is outstanding (parked only)
  bool m_deadlinePassed = false;
};

// [SECTION] Waking parked pulls

// One NOTIFY wakes a practice's parked pulls; those at the same position (cursor, limit,
// schema) get the same page, so each distinct pull runs once and its answer is shared.
// HubCore's pull depends on the practice (the RLS scope), the request and the clock, not on
// which of the practice's devices asks; grouping never crosses a practice.
void wakeGroups(HubServer::Shared& shared, std::vector<ParkedPull>&& woken) {
  std::map<std::string, std::vector<ParkedPull>> groups;
  for (auto& pull : woken) {
    const auto& r = pull.info.request;
    std::string key = pull.info.device.practiceId.toString() + '|' + r.after + '|' + std::to_string(r.limit) + '|' +
                      std::to_string(r.schemaVersion);
    groups[std::move(key)].push_back(std::move(pull));
  }
  for (auto& [key, group] : groups) {
    auto members = std::make_shared<std::vector<ParkedPull>>(std::move(group));
    const bool queued = shared.pool->submit(WorkerPool::Lane::Wake, [members, &shared](Worker& w) {
      const ParkInfo& first = members->front().info;
      Outcome out = rerunPull(w, first, shared.parks.generation(first.device.practiceId.toString()));
      WokenPage page;
      if (!out.park) {
        page.plainBody = std::make_shared<const std::string>(std::move(out.body));
        out.body.clear();
        if (std::any_of(members->begin(), members->end(), [](const ParkedPull& m) { return m.acceptGzip; }))
          page.gzipBody = std::make_shared<const std::string>(gzip(*page.plainBody));
      }
      page.outcome = std::make_shared<const Outcome>(std::move(out));
      for (auto& m : *members) m.deliver(m.token, page);
    });
    if (!queued)
      for (auto& m : *members) m.deliver(m.token, WokenPage{});  // the devices ask again at once
  }
}

// [SECTION] Accepting

void accept(HubServer::Shared& shared) {
  shared.acceptor->async_accept(asio::make_strand(shared.ioc), [&shared](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (shared.open.load() >= shared.config.maxConnections) {
        shared.log("<4>", "refusing a connection: " + std::to_string(shared.config.maxConnections) +
                              " are open (max_connections)");
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), shared)->start();
      }
    } else if (ec == asio::error::no_descriptors) {
      shared.log("<3>", "out of file descriptors; not accepting for a moment");
      auto timer = std::make_shared<asio::steady_timer>(shared.ioc, milliseconds{100});
      timer->async_wait([&shared, timer](beast::error_code) { accept(shared); });
      return;
    }
    accept(shared);
  });
}

}  // namespace

// [SECTION] HubServer

Result<std::unique_ptr<HubServer>> HubServer::create(const HubConfig& config, sync::HubOptions options) {
  auto server = std::unique_ptr<HubServer>(new HubServer());
  auto s = std::make_unique<Shared>();
  s->config = config;
  s->wire = options.limits;
  if (auto r = configureServerTls(s->tls, config); !r) return std::unexpected(r.error());
  try {
    const tcp::endpoint ep(asio::ip::make_address(config.listenHost), config.listenPort);
    s->acceptor.emplace(s->ioc);
    s->acceptor->open(ep.protocol());
    s->acceptor->set_option(asio::socket_base::reuse_address(true));
    s->acceptor->bind(ep);
    s->acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Io, "hub.listen", "cannot listen on " + config.listenHost + ":" +
                                                   std::to_string(config.listenPort) + ": " + e.what());
  }
  s->pool = std::make_unique<WorkerPool>(std::move(options), config.workers, kMaxQueuedPerLane);
  auto* parks = &s->parks;
  s->parks.setWakeHandler([shared = s.get()](std::vector<ParkedPull>&& woken) { wakeGroups(*shared, std::move(woken)); });
  s->listener = std::make_unique<ChangeListener>(
      config.listenDsn, [parks](const std::string& practice) { parks->notify(practice); },
      [parks] { parks->notifyAll(); });
  server->m_shared = std::move(s);
  return server;
}

HubServer::~HubServer() {
  if (!m_shared) return;
  m_shared->listener->stop();
  m_shared->pool->stop();
  m_shared->ioc.stop();
  for (auto& t : m_shared->ioThreads)
    if (t.joinable()) t.join();
}

std::string HubServer::boundAddress() const {
  const auto ep = m_shared->acceptor->local_endpoint();
  const auto host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

void HubServer::run() {
  Shared& s = *m_shared;
  s.listener->start();
  asio::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([&s](beast::error_code ec, int) {
    if (ec) return;
    s.log("<6>", "stopping");
    beast::error_code ignored;
    s.acceptor->close(ignored);
    s.ioc.stop();
  });
  accept(s);
  s.log("<6>", "listening on " + boundAddress());
  for (int i = 1; i < s.config.ioThreads; ++i) s.ioThreads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : s.ioThreads)
    if (t.joinable()) t.join();
  s.ioThreads.clear();
  s.listener->stop();
  s.pool->stop();
}

}  // namespace anteroom::hub
