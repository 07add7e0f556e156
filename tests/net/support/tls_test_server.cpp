// The transport tests' HTTPS server and PKI (see tls_test_server.hpp).
#include "support/tls_test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace anteroom::nettest {

namespace {

using SteadyClock = std::chrono::steady_clock;

// [SECTION] The PKI, through the openssl CLI
bool sh(const std::string& command, std::string& error) {
  const std::string full = "/bin/sh -c '" + command + "' >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) {
    error = "openssl step failed: " + command;
    return false;
  }
  return true;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

CannedPki CannedPki::make(const std::filesystem::path& dir) {
  CannedPki p;
  const auto f = [&](const char* name) { return (dir / name).string(); };
  p.caCert = f("ca.crt");
  p.caKey = f("ca.key");
  p.hubCert = f("hub.crt");
  p.hubKey = f("hub.key");
  p.otherHubCert = f("other-hub.crt");
  p.otherHubKey = f("other-hub.key");
  p.foreignCaCert = f("foreign-ca.crt");
  p.foreignHubCert = f("foreign-hub.crt");
  p.foreignHubKey = f("foreign-hub.key");
  p.deviceCert = f("device.crt");
  p.deviceKey = f("device.key");
  const std::string serverExt = f("server.ext"), clientExt = f("client.ext");
  {
    std::ofstream(serverExt) << "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                                "basicConstraints=critical,CA:FALSE\n";
    std::ofstream(clientExt) << "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n";
  }
  auto key = [&](const std::string& path) {
    return sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path + " && chmod 600 " + path,
              p.error);
  };
  auto ca = [&](const std::string& keyPath, const std::string& certPath, const std::string& cn) {
    return key(keyPath) && sh("openssl req -x509 -new -key " + keyPath + " -subj \"/CN=" + cn + "\" -days 2 -out " +
                                  certPath + " -addext basicConstraints=critical,CA:TRUE" +
                                  " -addext keyUsage=critical,keyCertSign,cRLSign",
                              p.error);
  };
  auto leaf = [&](const std::string& keyPath, const std::string& certPath, const std::string& cn,
                  const std::string& caCertPath, const std::string& caKeyPath, const std::string& ext) {
    const std::string csr = certPath + ".csr";
    return key(keyPath) && sh("openssl req -new -key " + keyPath + " -subj \"/CN=" + cn + "\" -out " + csr, p.error) &&
           sh("openssl x509 -req -in " + csr + " -CA " + caCertPath + " -CAkey " + caKeyPath +
                  " -CAcreateserial -days 2 -out " + certPath + " -extfile " + ext,
              p.error);
  };
  auto pin = [&](const std::string& keyPath, std::string& out) {
    const std::string pinFile = keyPath + ".pin";
    if (!sh("openssl pkey -in " + keyPath + " -pubout -outform DER | openssl dgst -sha256 -binary | openssl base64 -A > " +
                pinFile,
            p.error))
      return false;
    out = "sha256//" + slurp(pinFile);
    return true;
  };
  const std::string foreignCaKey = f("foreign-ca.key");
  const bool made = ca(p.caKey.string(), p.caCert.string(), "Test Practice CA") &&
                    leaf(p.hubKey.string(), p.hubCert.string(), "127.0.0.1", p.caCert.string(), p.caKey.string(), serverExt) &&
                    leaf(p.otherHubKey.string(), p.otherHubCert.string(), "127.0.0.1", p.caCert.string(), p.caKey.string(),
                         serverExt) &&
                    ca(foreignCaKey, p.foreignCaCert.string(), "Some Other CA") &&
                    leaf(p.foreignHubKey.string(), p.foreignHubCert.string(), "127.0.0.1", p.foreignCaCert.string(),
                         foreignCaKey, serverExt) &&
                    leaf(p.deviceKey.string(), p.deviceCert.string(), "test-device", p.caCert.string(), p.caKey.string(),
                         clientExt) &&
                    pin(p.hubKey.string(), p.hubPin) && pin(p.otherHubKey.string(), p.otherHubPin) &&
                    pin(p.foreignHubKey.string(), p.foreignHubPin);
  if (!made && p.error.empty()) p.error = "the test PKI could not be made";
  return p;
}

// [SECTION] gzip
std::string cannedGzip(std::string_view text) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<std::string> cannedGunzip(std::string_view gz) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

std::string HttpRequest::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

// [SECTION] One connection: a non-blocking socket, OpenSSL on top, polls that watch m_stop.
struct TlsTestServer::Connection {
  int fd;
  SSL* ssl;
  const std::atomic<bool>& stop;
  std::string inbox;

  // Waits until the socket is ready for what OpenSSL asked; false on stop or after `until`.
  bool waitFor(int sslError, SteadyClock::time_point until) {
    pollfd p{fd, static_cast<short>(sslError == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
    while (!stop.load() && SteadyClock::now() < until) {
      const int n = ::poll(&p, 1, 50);
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
    return false;
  }

  bool handshake() {
    const auto until = SteadyClock::now() + std::chrono::seconds(10);
    for (;;) {
      const int rc = SSL_accept(ssl);
      if (rc == 1) return true;
      const int e = SSL_get_error(ssl, rc);
      if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || !waitFor(e, until)) return false;
    }
  }

  // More bytes into inbox; false when the peer closed, on error, on stop or at `until`.
  bool readMore(SteadyClock::time_point until) {
    char buffer[16384];
    for (;;) {
      const int rc = SSL_read(ssl, buffer, sizeof buffer);
      if (rc > 0) {
        inbox.append(buffer, static_cast<std::size_t>(rc));
        return true;
      }
      const int e = SSL_get_error(ssl, rc);
      if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || !waitFor(e, until)) return false;
    }
  }

  bool writeAll(std::string_view data) {
    const auto until = SteadyClock::now() + std::chrono::seconds(10);
    while (!data.empty()) {
      const int rc = SSL_write(ssl, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
      if (rc > 0) {
        data.remove_prefix(static_cast<std::size_t>(rc));
        continue;
      }
      const int e = SSL_get_error(ssl, rc);
      if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || !waitFor(e, until)) return false;
    }
    return true;
  }

  // Whether the client went away (closed or reset) while we hold its answer back.
  bool clientGone() {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if ((p.revents & (POLLHUP | POLLERR)) != 0) return true;
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  // Holds the connection open, sending nothing, until the client gives up or the server stops.
  void holdUntilClientGone(SteadyClock::time_point until) {
    while (!stop.load() && SteadyClock::now() < until && !clientGone()) ::usleep(20000);
  }

  std::optional<HttpRequest> readRequest() {
    const auto until = SteadyClock::now() + std::chrono::seconds(30);
    std::size_t end = std::string::npos;
    while ((end = inbox.find("\r\n\r\n")) == std::string::npos) {
      if (!readMore(until)) return std::nullopt;
    }
    HttpRequest r;
    std::istringstream head(inbox.substr(0, end));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    std::string version;
    first >> r.method >> r.target >> version;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(value.begin());
      r.headers[name] = value;
    }
    inbox.erase(0, end + 4);
    const std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (inbox.size() < length) {
      if (!readMore(until)) return std::nullopt;
    }
    r.body = inbox.substr(0, length);
    inbox.erase(0, length);
    if (r.header("content-encoding") == "gzip") r.decodedBody = cannedGunzip(r.body).value_or("");
    else r.decodedBody = r.body;
    return r;
  }
};

// [SECTION] The server
TlsTestServer::TlsTestServer(TlsServerOptions options) : m_options(std::move(options)) {
  // Writing to a client that went away (the point of several tests) must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  m_ctx = ctx;
  if (ctx == nullptr) {
    m_error = "SSL_CTX_new failed";
    return;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, m_options.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, m_options.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    m_error = "cannot load the test server's certificate or key";
    return;
  }
  if (!m_options.clientCa.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, m_options.clientCa.c_str(), nullptr) != 1) {
      m_error = "cannot load the client CA";
      return;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // Without a session id context OpenSSL refuses every resumption when it verifies peers.
    static const unsigned char kContext[] = "anteroom-tls-test";
    SSL_CTX_set_session_id_context(ctx, kContext, sizeof kContext - 1);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    m_error = "cannot listen on 127.0.0.1";
    if (fd >= 0) ::close(fd);
    return;
  }
  m_port = ntohs(addr.sin_port);
  m_listenFd = fd;
  m_acceptor = std::thread([this] { acceptLoop(); });
}

TlsTestServer::~TlsTestServer() {
  m_stop.store(true);
  if (m_acceptor.joinable()) m_acceptor.join();
  for (auto& t : m_threads) {
    if (t.joinable()) t.join();
  }
  if (m_listenFd >= 0) ::close(m_listenFd);
  SSL_CTX_free(static_cast<SSL_CTX*>(m_ctx));
}

std::vector<HttpRequest> TlsTestServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void TlsTestServer::setHandler(Handler handler) {
  std::lock_guard lock(m_mutex);
  m_options.handler = std::move(handler);
}

CannedReply TlsTestServer::answer(const HttpRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
    handler = m_options.handler;
  }
  if (!handler) {
    CannedReply none;
    none.status = 404;
    none.body = "{}";
    return none;
  }
  return handler(request);
}

void TlsTestServer::acceptLoop() {
  while (!m_stop.load()) {
    pollfd p{m_listenFd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(m_listenFd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    ++m_connections;
    std::lock_guard lock(m_mutex);
    m_threads.emplace_back([this, fd] { serve(fd); });
  }
}

void TlsTestServer::serve(int fd) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(m_ctx));
  SSL_set_fd(ssl, fd);
  Connection c{fd, ssl, m_stop, {}};
  bool reset = false;
  if (!c.handshake()) {
    ++m_handshakesFailed;
  } else {
    for (;;) {
      auto request = c.readRequest();
      if (!request) break;
      CannedReply reply = answer(*request);
      if (reply.delay.count() > 0) {
        const auto until = SteadyClock::now() + reply.delay;
        c.holdUntilClientGone(until);
        if (m_stop.load() || c.clientGone()) break;
      }
      std::string body = reply.body;
      bool gz = false;
      if (reply.gzipWhenAccepted && request->header("accept-encoding").find("gzip") != std::string::npos) {
        body = cannedGzip(body);
        gz = true;
      }
      std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " Canned\r\n";
      head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      bool typed = false;
      for (const auto& [name, value] : reply.headers) {
        head += name + ": " + value + "\r\n";
        if (name == "Content-Type") typed = true;
      }
      if (!typed) head += "Content-Type: application/json\r\n";
      if (gz) head += "Content-Encoding: gzip\r\n";
      head += "\r\n";
      if (reply.stallAfter || reply.resetAfter) {
        const std::size_t part = std::min(body.size(), reply.stallAfter ? *reply.stallAfter : *reply.resetAfter);
        (void)c.writeAll(head + body.substr(0, part));
        if (reply.stallAfter) {
          c.holdUntilClientGone(SteadyClock::now() + std::chrono::seconds(120));
        } else {
          reset = true;
        }
        break;
      }
      if (!c.writeAll(head + body)) break;
    }
  }
  if (reset) {
    // SO_LINGER 0: close() sends RST instead of FIN, and no TLS close_notify before it.
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  } else {
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ::close(fd);
}

}  // namespace anteroom::nettest
