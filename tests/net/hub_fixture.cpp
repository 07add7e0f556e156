// The hub server tests' world: PostgreSQL, certificates, the hub process and a curl client.
// Failures to set the world up throw (the tests report them); the tests assert the behaviour.
#include "hub_fixture.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "anteroom/model/time.hpp"
#include "central_migrations.hpp"

namespace fs = std::filesystem;
using namespace std::chrono;

namespace anteroom::nettest {

// [SECTION] Files and commands

int shell(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void writeFile(const fs::path& path, const std::string& text, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// [SECTION] Certificates

std::string fingerprintOf(const fs::path& certPem) {
  FILE* f = std::fopen(certPem.c_str(), "r");
  if (!f) throw std::runtime_error("cannot open " + certPem.string());
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) throw std::runtime_error("not a PEM certificate: " + certPem.string());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned size = 0;
  X509_digest(cert, EVP_sha256(), digest.data(), &size);
  X509_free(cert);
  std::string hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

namespace {

void run(const std::string& command, const fs::path& log) {
  if (shell(command + " >>" + log.string() + " 2>&1") != 0)
    throw std::runtime_error("command failed (see " + log.string() + "): " + command);
}

// A key and a certificate signed by `caCert`/`caKey`, with the given extensions.
CertPair issue(const fs::path& dir, const std::string& name, const fs::path& caCert, const fs::path& caKey,
               const std::string& extensions) {
  const fs::path log = dir / "openssl.log";
  CertPair out{dir / (name + ".crt"), dir / (name + ".key"), {}};
  const fs::path csr = dir / (name + ".csr"), ext = dir / (name + ".ext");
  writeFile(ext, extensions);
  run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + out.key.string() +
          " -subj /CN=" + name + " -out " + csr.string(),
      log);
  run("openssl x509 -req -in " + csr.string() + " -CA " + caCert.string() + " -CAkey " + caKey.string() +
          " -CAcreateserial -days 2 -sha256 -extfile " + ext.string() + " -out " + out.cert.string(),
      log);
  ::chmod(out.key.c_str(), 0600);
  out.fingerprint = fingerprintOf(out.cert);
  return out;
}

}  // namespace

TestPki::TestPki(fs::path dir) : m_dir(std::move(dir)) {
  fs::create_directories(m_dir);
  m_caCert = m_dir / "ca.crt";
  m_caKey = m_dir / "ca.key";
  const fs::path log = m_dir / "openssl.log";
  run("openssl ecparam -name prime256v1 -genkey -noout -out " + m_caKey.string(), log);
  run("openssl req -x509 -new -key " + m_caKey.string() + " -subj '/CN=Invented Practice CA' -days 2 -sha256" +
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out " +
          m_caCert.string(),
      log);
  m_hub = issue(m_dir, "hub", m_caCert, m_caKey,
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n");
}

CertPair TestPki::device(const std::string& name) {
  return issue(m_dir, name, m_caCert, m_caKey, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
}

// [SECTION] Central database

CentralDb::CentralDb() {
  if (!testing::postgresAvailable()) throw std::runtime_error("PostgreSQL 15 with pgaudit is not installed (scripts/deps)");
  auto pg = testing::TempPostgres::start();
  if (!pg) throw std::runtime_error("PostgreSQL: " + pg.error().message);
  m_pg = std::move(*pg);
  {
    pqxx::connection admin(m_pg->dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + m_db);
  }
  if (auto m = admin::central::centralMigrate(superDsn()); !m) throw std::runtime_error("migrate: " + m.error().message);
}

CentralDb::~CentralDb() = default;
std::string CentralDb::superDsn() const { return m_pg->dsn(m_db); }
std::string CentralDb::hubDsn() const { return m_pg->dsn(m_db, "anteroom_hub"); }

void CentralDb::exec(const std::string& sql) {
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec(sql);
  tx.commit();
}

namespace {
UuidGenerator& ids() {
  static UuidGenerator g(static_cast<std::uint64_t>(::getpid()) * 7919u + 17u);
  return g;
}
Uuid newId() { return ids().v7(system_clock::now()); }
}  // namespace

CentralDb::Practice CentralDb::seedPractice() {
  Practice p{newId(), newId(), newId(), newId(), newId()};
  const std::string tag = p.practice.toString().substr(24);
  const Instant now = nowUtc();
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", p.practice.toString());
  tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES ($1::uuid, 'Invented',"
                 " '{}', '+15415550100', $2, '{}')",
                 p.practice.toString(), "desk." + tag + "@practice.example");
  tx.exec_params("INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities,"
                 " availability, experience, telehealth) VALUES ($1::uuid, $2::uuid, 'Robin', 'Testcase', $3, '[]', '[]',"
                 " '{}', 3, false)",
                 p.provider.toString(), p.practice.toString(), "robin." + tag + "@practice.example");
  tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1::uuid, $2::uuid, 'General', '{}')",
                 p.waitlist.toString(), p.practice.toString());
  tx.exec_params(
      "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, preferences,"
      " email_hash) VALUES ($1::uuid, pii_encrypt('Avery', $3), pii_encrypt('Testwell', $3), pii_encrypt($2, $3),"
      " pii_encrypt('+15415550199', $3), pii_encrypt('1970-01-10', $3), '{\"payer\":\"Invented Mutual\"}',"
      " pii_encrypt('{\"mode\":\"either\"}', $3), pii_lookup_hash($2, $4))",
      p.patient.toString(), "avery." + tag + "@mail.example", std::string(kPiiKey), std::string(kHashKey));
  tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, type)"
                 " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamp, $5::timestamp, 'scheduled', 'in_person')",
                 p.appointment.toString(), p.provider.toString(), p.patient.toString(), formatInstant(now + hours{1}),
                 formatInstant(now + hours{2}));
  tx.commit();
  return p;
}

Uuid CentralDb::enrollDevice(const Uuid& practice, const std::string& fingerprint) {
  const Uuid device = newId();
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", practice.toString());
  tx.exec_params("INSERT INTO device (device_id, practice_id, name, cert_fingerprint) VALUES ($1::uuid, $2::uuid, 'kiosk', $3)",
                 device.toString(), practice.toString(), fingerprint);
  tx.commit();
  return device;
}

void CentralDb::revokeDevice(const Uuid& device) {
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("UPDATE device SET revoked_at = now() AT TIME ZONE 'UTC' WHERE device_id = $1::uuid", device.toString());
  tx.commit();
}

void CentralDb::touchProvider(const Uuid& practice, const Uuid& provider) {
  pqxx::connection c(superDsn());
  pqxx::work tx(c);
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", practice.toString());
  tx.exec_params("UPDATE provider SET experience = experience + 1 WHERE provider_id = $1::uuid", provider.toString());
  tx.commit();
}

// [SECTION] The hub process

std::string hubConfig(const TestPki& pki, const std::string& dsn, const fs::path& dir) {
  fs::create_directories(dir);
  writeFile(dir / "pii.key", std::string(kPiiKey) + "\n");
  writeFile(dir / "hash.key", std::string(kHashKey) + "\n");
  return "# anteroom-hub under test\nlisten = \"127.0.0.1:0\"\ndsn = \"" + dsn + "\"\ntls_cert = \"" + pki.hub().cert.string() +
         "\"\ntls_key = \"" + pki.hub().key.string() + "\"\nclient_ca = \"" + pki.caCert().string() +
         "\"\npii_key_file = \"" + (dir / "pii.key").string() + "\"\nhash_key_file = \"" + (dir / "hash.key").string() +
         "\"\nworkers = 2\n";
}

namespace {

pid_t spawn(const std::vector<std::string>& args, const fs::path& stderrPath) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A sanitizer build's hub: libpqxx 6.4's own leak on a broken connection is suppressed.
    ::setenv("LSAN_OPTIONS", "suppressions=" ANTEROOM_NET_LSAN_SUPP, 0);
    const int fd = ::open(stderrPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 2);
      ::dup2(fd, 1);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

HubProcess::HubProcess(const fs::path& dir, const std::string& configText, std::vector<std::string> flags) {
  fs::create_directories(dir);
  const fs::path config = dir / "hub.toml";
  writeFile(config, configText);
  m_logPath = dir / "hub.stderr";
  std::vector<std::string> args{ANTEROOM_HUB, "--config", config.string()};
  args.insert(args.end(), flags.begin(), flags.end());
  m_pid = spawn(args, m_logPath);
  const auto until = steady_clock::now() + seconds{60};
  const std::string marker = "anteroom-hub: listening on 127.0.0.1:";
  while (steady_clock::now() < until) {
    const std::string text = readFile(m_logPath);
    if (const auto at = text.find(marker); at != std::string::npos) {
      m_port = std::atoi(text.c_str() + at + marker.size());
      return;
    }
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("anteroom-hub exited before listening: " + text);
    }
    std::this_thread::sleep_for(milliseconds{20});
  }
  stop();
  throw std::runtime_error("anteroom-hub did not say it was listening within 60 s: " + readFile(m_logPath));
}

HubProcess::~HubProcess() { stop(); }

int HubProcess::stop() {
  if (m_pid <= 0) return -1;
  ::kill(m_pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(milliseconds{25});
  }
  ::kill(m_pid, SIGKILL);
  ::waitpid(m_pid, &status, 0);
  m_pid = -1;
  return -1;
}

bool HubProcess::running() {
  if (m_pid <= 0) return false;
  int status = 0;
  if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
    m_pid = -1;
    return false;
  }
  return true;
}

std::string HubProcess::log() const { return readFile(m_logPath); }

long HubProcess::rssKb() const {
  std::istringstream in(readFile("/proc/" + std::to_string(m_pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  return -1;
}

ExitResult runHubToExit(const std::vector<std::string>& args, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path err = dir / "exit.stderr";
  std::vector<std::string> full{ANTEROOM_HUB};
  full.insert(full.end(), args.begin(), args.end());
  const pid_t pid = spawn(full, err);
  int status = 0;
  // A hub that should have refused but serves instead is stopped after 30 s (code -1).
  const auto until = steady_clock::now() + seconds{30};
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {-1, readFile(err)};
    }
    std::this_thread::sleep_for(milliseconds{20});
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(err)};
}

// [SECTION] The client

namespace {
std::size_t onBody(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}
std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* user) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}
}  // namespace

Client::Client(int port, const fs::path& ca, const CertPair* cert) : m_port(port) {
  CURL* c = curl_easy_init();
  m_curl = c;
  curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  if (cert) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, cert->cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, cert->key.c_str());
  }
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(m_curl)); }

void Client::setTimeoutSeconds(long seconds) { curl_easy_setopt(static_cast<CURL*>(m_curl), CURLOPT_TIMEOUT, seconds); }

Response Client::get(const std::string& path, std::vector<std::string> headers) { return perform(path, nullptr, headers); }
Response Client::post(const std::string& path, const std::string& body, std::vector<std::string> headers) {
  return perform(path, &body, headers);
}

Response Client::perform(const std::string& path, const std::string* body, const std::vector<std::string>& headers) {
  CURL* c = static_cast<CURL*>(m_curl);
  Response r;
  const std::string url = "https://127.0.0.1:" + std::to_string(m_port) + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  const auto started = steady_clock::now();
  r.curlCode = static_cast<int>(curl_easy_perform(c));
  r.seconds = duration<double>(steady_clock::now() - started).count();
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  return r;
}

std::string gzipText(const std::string& plain) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace anteroom::nettest
