// Reads anteroom-hub's TOML file and flags into one HubConfig, and the key files. Every
// refusal is one line naming where the bad value is.
#include "config.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <toml++/toml.h>

namespace anteroom::hub {

namespace {

std::unexpected<Error> configError(std::string where) {
  return fail(ErrorDomain::Validation, "hub.config", std::move(where));
}

// "HOST:PORT" or "[v6]:PORT". Port 0 asks the kernel for a free one.
std::optional<std::string> setListen(HubConfig& c, std::string_view v) {
  std::string host;
  std::string_view port;
  if (v.starts_with("[")) {
    const auto close = v.find("]:");
    if (close == std::string_view::npos) return "must be HOST:PORT, e.g. 127.0.0.1:8443";
    host = std::string(v.substr(1, close - 1));
    port = v.substr(close + 2);
  } else {
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return "must be HOST:PORT, e.g. 127.0.0.1:8443";
    host = std::string(v.substr(0, colon));
    port = v.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    return "the port must be a number from 0 to 65535";
  c.listenHost = host;
  c.listenPort = static_cast<std::uint16_t>(value);
  return std::nullopt;
}

std::optional<std::string> setInt(int& field, std::string_view v, int lo, int hi) {
  int value = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || value < lo || value > hi)
    return "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  field = value;
  return std::nullopt;
}

enum class Kind { Text, Path, Integer, Boolean };
struct Key {
  const char* name;
  Kind kind;
  bool required;
  // Sets the value (already known to be of the right TOML type); an error says why not.
  std::function<std::optional<std::string>(HubConfig&, std::string_view)> set;
};

std::function<std::optional<std::string>(HubConfig&, std::string_view)> text(std::string HubConfig::*field) {
  return [field](HubConfig& c, std::string_view v) -> std::optional<std::string> {
    if (v.empty()) return "must not be empty";
    c.*field = std::string(v);
    return std::nullopt;
  };
}

// One row per key: the file and the flags read the same table.
const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {"listen", Kind::Text, false, setListen},
      {"dsn", Kind::Text, true, text(&HubConfig::dsn)},
      {"listen_dsn", Kind::Text, false, text(&HubConfig::listenDsn)},
      {"tls_cert", Kind::Path, true, text(&HubConfig::tlsCert)},
      {"tls_key", Kind::Path, true, text(&HubConfig::tlsKey)},
      {"client_ca", Kind::Path, true, text(&HubConfig::clientCa)},
      {"pii_key_file", Kind::Path, true, text(&HubConfig::piiKeyFile)},
      {"hash_key_file", Kind::Path, true, text(&HubConfig::hashKeyFile)},
      {"workers", Kind::Integer, false,
       [](HubConfig& c, std::string_view v) { return setInt(c.workers, v, 1, 64); }},
      {"max_connections", Kind::Integer, false,
       [](HubConfig& c, std::string_view v) { return setInt(c.maxConnections, v, 1, 1000000); }},
      {"io_threads", Kind::Integer, false,
       [](HubConfig& c, std::string_view v) { return setInt(c.ioThreads, v, 1, 16); }},
      {"prepared_statements", Kind::Boolean, false,
       [](HubConfig& c, std::string_view v) -> std::optional<std::string> {
         if (v != "true" && v != "false") return "must be true or false";
         c.preparedStatements = v == "true";
         return std::nullopt;
       }},
  };
  return table;
}

const Key* findKey(std::string_view name) {
  for (const auto& k : keys())
    if (name == k.name) return &k;
  return nullptr;
}

// Applies the file's keys; records which were set.
Result<void> applyFile(HubConfig& c, const std::string& path, std::map<std::string, bool>& seen) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return configError(path + ": cannot read the configuration file (missing or not a file)");
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return configError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const auto base = std::filesystem::path(path).parent_path();
  for (const auto& [name, node] : doc) {
    const std::string key(name.str());
    const std::string where = path + ":" + std::to_string(node.source().begin.line) + ": " + key + ": ";
    const Key* k = findKey(key);
    if (!k) return configError(where + "unknown key (known: listen, dsn, listen_dsn, tls_cert, tls_key, client_ca, "
                                       "pii_key_file, hash_key_file, workers, max_connections, io_threads, "
                                       "prepared_statements)");
    std::string value;
    if (k->kind == Kind::Integer) {
      const auto* n = node.as_integer();
      if (!n) return configError(where + "must be a whole number");
      value = std::to_string(n->get());
    } else if (k->kind == Kind::Boolean) {
      const auto* b = node.as_boolean();
      if (!b) return configError(where + "must be true or false (no quotes)");
      value = b->get() ? "true" : "false";
    } else {
      const auto* s = node.as_string();
      if (!s) return configError(where + "must be a string in quotes");
      value = s->get();
      if (k->kind == Kind::Path && !value.empty() && std::filesystem::path(value).is_relative())
        value = (base / value).string();
    }
    if (auto why = k->set(c, value)) return configError(where + *why);
    seen[key] = true;
  }
  return {};
}

}  // namespace

const char* hubUsage() noexcept {
  return "usage: anteroom-hub --config FILE [--listen HOST:PORT] [--dsn DSN] [--listen_dsn DSN]\n"
         "       [--tls_cert FILE] [--tls_key FILE] [--client_ca FILE] [--pii_key_file FILE]\n"
         "       [--hash_key_file FILE] [--workers N] [--max_connections N] [--io_threads N]\n"
         "       [--prepared_statements true|false]\n"
         "The file is TOML with the same keys; flags override it. Keys come from files only.\n";
}

Result<HubConfig> parseHubConfig(const std::vector<std::string>& args) {
  HubConfig c;
  std::optional<std::string> configPath;
  std::vector<std::pair<const Key*, std::string>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return fail(ErrorDomain::Validation, "hub.help", hubUsage());
    if (!a.starts_with("--")) return configError(a + ": unexpected argument (flags are --key VALUE)");
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    std::ranges::replace(name, '-', '_');
    if (!value) {
      if (i + 1 >= args.size()) return configError("--" + name + ": needs a value");
      value = args[++i];
    }
    if (name == "config") {
      configPath = *value;
      continue;
    }
    const Key* k = findKey(name);
    if (!k) return configError("--" + name + ": unknown flag");
    flags.emplace_back(k, *value);
  }
  std::map<std::string, bool> seen;
  if (configPath)
    if (auto r = applyFile(c, *configPath, seen); !r) return std::unexpected(r.error());
  for (const auto& [k, value] : flags) {
    if (auto why = k->set(c, value)) return configError(std::string("--") + k->name + ": " + *why);
    seen[k->name] = true;
  }
  for (const auto& k : keys()) {
    if (!k.required || seen.contains(k.name)) continue;
    return configError((configPath ? *configPath + ": " : std::string("--")) + k.name +
                       (configPath ? ": missing (required; or pass --" + std::string(k.name) + ")" : ": missing (required)"));
  }
  if (c.listenDsn.empty()) c.listenDsn = c.dsn;
  return c;
}

namespace {

std::string modeText(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

}  // namespace

Result<void> requirePrivateFile(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(ErrorDomain::Io, "hub.key_file", "cannot read the " + what + " " + path + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return fail(ErrorDomain::Io, "hub.key_file",
                "the " + what + " " + path + " is open to other users (mode " + modeText(st.st_mode) +
                    "); refusing to use it: run chmod 600 " + path);
  return {};
}

Result<void> readHexKeyFile(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(ErrorDomain::Io, "hub.key_file", "cannot read the key file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return fail(ErrorDomain::Io, "hub.key_file",
                "the key file " + path + " is open to other users (mode " + modeText(st.st_mode) +
                    "); refusing to use it: run chmod 600 " + path + " (and consider making a new key)");
  }
  std::array<char, 70> buf{};
  std::size_t total = 0;
  bool readError = false;
  while (total < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + total, buf.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) readError = true;
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  ::close(fd);
  std::size_t len = total;
  if (len > 0 && buf[len - 1] == '\n') --len;
  if (len > 0 && buf[len - 1] == '\r') --len;
  bool ok = !readError && len == 64;
  for (std::size_t i = 0; ok && i < len; ++i) ok = std::isxdigit(static_cast<unsigned char>(buf[i])) != 0;
  if (ok) out.assign(buf.data(), len);
  OPENSSL_cleanse(buf.data(), buf.size());
  if (readError) return fail(ErrorDomain::Io, "hub.key_file", "cannot read the key file " + path);
  if (!ok) return fail(ErrorDomain::Io, "hub.key_file", "the key file " + path + " must hold exactly 64 hex characters");
  return {};
}

}  // namespace anteroom::hub
