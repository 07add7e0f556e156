// anteroom-syncd's configuration: one table of keys drives the file, the flags and the checks.
#include "syncd_config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace anteroom::sync {

namespace {

enum class Kind { Path, Url, Pins, Seconds };

struct Key {
  std::string_view name;
  Kind kind;
  bool required;
  int min = 0, max = 0;  // Seconds
};

// [SECTION] The keys (issue 10 contract)
constexpr Key kKeys[] = {
    {"db", Kind::Path, true},
    {"key_file", Kind::Path, true},
    {"hub_url", Kind::Url, true},
    {"ca", Kind::Path, true},
    {"pins", Kind::Pins, true},
    {"cert", Kind::Path, true},
    {"key", Kind::Path, true},
    {"connect_timeout_s", Kind::Seconds, false, 1, 120},
    {"total_timeout_s", Kind::Seconds, false, 5, 3600},
    {"low_speed_time_s", Kind::Seconds, false, 1, 600},
    {"wait_s", Kind::Seconds, false, 0, 30},
};

const Key* findKey(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// A value as read, before it is checked: text (or a list of texts for pins) and where it was.
struct Raw {
  std::vector<std::string> texts;
  std::optional<std::int64_t> number;
  std::string where;  // "FILE:LINE" or "--flag"
  bool fromFile = false;
};

std::string lineOf(const std::filesystem::path& file, const toml::node& node) {
  return file.string() + ":" + std::to_string(node.source().begin.line);
}

std::optional<std::int64_t> parseInt(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string> splitPins(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto cut = text.find_first_of(";,");
    std::string_view part = text.substr(0, cut);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (cut == std::string_view::npos) break;
    text.remove_prefix(cut + 1);
  }
  return out;
}

using Error1 = std::unexpected<std::string>;
Error1 refuse(const std::string& where, std::string_view key, const std::string& why) {
  return Error1(where + ": " + std::string(key) + ": " + why);
}

// [SECTION] The file
std::expected<void, std::string> readFile(const std::filesystem::path& file, std::map<std::string_view, Raw>& raw) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto line = e.source().begin.line;
    std::string what(e.description());
    if (line == 0) return Error1(file.string() + ": cannot read the configuration: " + what);
    return Error1(file.string() + ":" + std::to_string(line) + ": " + what);
  }
  for (const auto& [name, node] : table) {
    const std::string where = lineOf(file, node);
    const Key* key = findKey(name.str());
    if (key == nullptr) return refuse(where, name.str(), "unknown key (known: db, key_file, hub_url, ca, pins, cert, key, connect_timeout_s, total_timeout_s, low_speed_time_s, wait_s)");
    Raw r;
    r.where = where;
    r.fromFile = true;
    if (key->kind == Kind::Seconds) {
      auto v = node.value<std::int64_t>();
      if (!node.is_integer() || !v) return refuse(where, key->name, "must be a whole number of seconds");
      r.number = *v;
    } else if (key->kind == Kind::Pins) {
      const toml::array* list = node.as_array();
      if (list == nullptr) {
        if (!node.is_string()) return refuse(where, key->name, "must be a list of \"sha256//BASE64\" strings");
        r.texts = splitPins(*node.value<std::string>());
      } else {
        for (const auto& item : *list) {
          if (!item.is_string()) return refuse(lineOf(file, item), key->name, "every pin must be a \"sha256//BASE64\" string");
          r.texts.push_back(*item.value<std::string>());
        }
      }
    } else {
      if (!node.is_string()) return refuse(where, key->name, "must be a string");
      r.texts.push_back(*node.value<std::string>());
    }
    raw[key->name] = std::move(r);
  }
  return {};
}

// [SECTION] Checks, then the values into the config.
std::expected<void, std::string> apply(const Key& key, const Raw& raw, const std::filesystem::path& base,
                                       SyncdConfig& config) {
  if (key.kind == Kind::Seconds) {
    const auto v = *raw.number;
    if (v < key.min || v > key.max)
      return refuse(raw.where, key.name, "must be between " + std::to_string(key.min) + " and " + std::to_string(key.max));
    const std::chrono::seconds s{v};
    if (key.name == "connect_timeout_s") config.curl.connectTimeout = s;
    if (key.name == "total_timeout_s") config.curl.totalTimeout = s;
    if (key.name == "low_speed_time_s") config.curl.lowSpeedTime = s;
    if (key.name == "wait_s") config.waitSeconds = static_cast<int>(v);
    return {};
  }
  if (key.kind == Kind::Pins) {
    if (raw.texts.empty()) return refuse(raw.where, key.name, "needs at least one pin (the hub's current key)");
    for (const auto& pin : raw.texts) {
      if (!isValidPin(pin))
        return refuse(raw.where, key.name, "\"" + pin + "\" is not sha256// and 44 base64 characters (anteroom-admin ca init prints it)");
    }
    config.curl.pins = raw.texts;
    return {};
  }
  const std::string& text = raw.texts.front();
  if (text.empty()) return refuse(raw.where, key.name, "must not be empty");
  if (key.kind == Kind::Url) {
    if (!text.starts_with("https://") || text.size() <= 8)
      return refuse(raw.where, key.name, "must be an https:// URL such as https://127.0.0.1:8443");
    std::string url = text;
    while (url.size() > 8 && url.back() == '/') url.pop_back();
    if (url.find('/', 8) != std::string::npos) return refuse(raw.where, key.name, "must be scheme, host and port only (no path)");
    config.curl.hubUrl = url;
    return {};
  }
  std::filesystem::path path(text);
  if (raw.fromFile && path.is_relative()) path = base / path;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (key.name == "db") {
    // The store must exist: the kiosk (or anteroom-admin) creates it; syncd never makes one.
    if (ec || !std::filesystem::is_regular_file(status))
      return refuse(raw.where, key.name, path.string() +
                                                " is not an existing store (create it with anteroom-admin store init)");
    config.db = path;
    return {};
  }
  if (ec || !std::filesystem::is_regular_file(status)) return refuse(raw.where, key.name, path.string() + " does not exist or is not a file");
  const auto perms = status.permissions();
  const bool others = (perms & (std::filesystem::perms::group_read | std::filesystem::perms::others_read |
                                std::filesystem::perms::group_write | std::filesystem::perms::others_write)) !=
                      std::filesystem::perms::none;
  if ((key.name == "key" || key.name == "key_file") && others)
    return refuse(raw.where, key.name, path.string() + " is readable by others; chmod 600 it");
  if (key.name == "key_file") config.keyFile = path;
  if (key.name == "ca") config.curl.caFile = path;
  if (key.name == "cert") config.curl.certFile = path;
  if (key.name == "key") config.curl.keyFile = path;
  return {};
}

std::string flagName(std::string_view arg) {
  std::string name(arg.substr(2));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

}  // namespace

std::expected<SyncdConfig, std::string> parseSyncdConfig(int argc, const char* const* argv) {
  SyncdConfig config;
  std::map<std::string_view, Raw> flags;
  std::span<const char* const> args(argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0));
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      config.help = true;
      return config;
    }
    if (arg == "--once") {
      config.once = true;
      continue;
    }
    if (!arg.starts_with("--")) return Error1(std::string(arg) + ": unexpected argument (see --help)");
    std::optional<std::string> value;
    const auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    }
    const std::string name = flagName(arg);
    if (!value) {
      if (i + 1 >= args.size()) return Error1(std::string(arg) + ": needs a value");
      value = std::string(args[++i]);
    }
    if (name == "config") {
      config.configFile = *value;
      continue;
    }
    const Key* key = findKey(name);
    if (key == nullptr) return Error1(std::string(arg) + ": unknown option (see --help)");
    Raw r;
    r.where = std::string(arg);
    if (key->kind == Kind::Seconds) {
      r.number = parseInt(*value);
      if (!r.number) return Error1(std::string(arg) + ": must be a whole number of seconds");
    } else if (key->kind == Kind::Pins) {
      r.texts = splitPins(*value);
    } else {
      r.texts.push_back(*value);
    }
    flags[key->name] = std::move(r);
  }

  std::map<std::string_view, Raw> values;
  std::filesystem::path base;
  if (!config.configFile.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config.configFile, ec))
      return Error1(config.configFile.string() + ": the configuration file does not exist");
    if (auto r = readFile(config.configFile, values); !r) return std::unexpected(r.error());
    base = config.configFile.parent_path();
  }
  for (auto& [name, raw] : flags) values[name] = std::move(raw);  // flags override the file

  const std::string source = config.configFile.empty() ? std::string("anteroom-syncd") : config.configFile.string();
  for (const auto& key : kKeys) {
    auto it = values.find(key.name);
    if (it == values.end()) {
      if (key.required) return Error1(source + ": " + std::string(key.name) + ": is required (in the file or as --" + std::string(key.name) + ")");
      continue;
    }
    if (auto r = apply(key, it->second, base, config); !r) return std::unexpected(r.error());
  }
  return config;
}

}  // namespace anteroom::sync
