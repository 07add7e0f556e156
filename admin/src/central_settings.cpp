// Reads the log settings of a central PostgreSQL session and of the Anteroom roles, and judges
// each against one table of rules.
#include "central_settings.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <pqxx/pqxx>

#include "central_connection.hpp"
#include "central_migrations.hpp"

namespace anteroom::admin::central {

namespace {

struct Rule {
  const char* name;
  std::vector<std::string> accepted;
  const char* required;
  const char* why;
};

// One row per setting. Values are compared in pg_settings' form (lower case, no units).
const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = {
      {"pgaudit.log_parameter", {"off"}, "off", "pgaudit would copy bound values (keys, PHI) into the log"},
      {"log_min_messages", {"log", "fatal", "panic"}, "log, fatal or panic",
       "an error message can quote the value that failed"},
      {"log_error_verbosity", {"terse"}, "terse", "DETAIL lines hold whole failing rows"},
      {"log_parameter_max_length", {"0"}, "0", "logged statements would carry their bound values"},
      {"log_parameter_max_length_on_error", {"0"}, "0", "errors would carry their bound values"},
      {"log_statement", {"none", "ddl"}, "none or ddl", "statement logging outside pgaudit"},
      {"debug_print_parse", {"off"}, "off", "query trees hold constants"},
      {"debug_print_rewritten", {"off"}, "off", "query trees hold constants"},
      {"debug_print_plan", {"off"}, "off", "plans hold bound values"},
  };
  return table;
}

// The logins whose own settings are checked too (ALTER ROLE ... SET).
constexpr const char* kRoles[] = {"anteroom_hub", "anteroom_reporting", "anteroom_auditor"};

std::string normalise(std::string value) {
  std::ranges::transform(value, value.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
  if (value == "true" || value == "yes" || value == "on") return "on";
  if (value == "false" || value == "no" || value == "off") return "off";
  if (value.ends_with("b") && value.size() > 1 && std::isdigit(static_cast<unsigned char>(value[value.size() - 2])))
    value.pop_back();  // "0B"
  return value;
}

LogSetting judge(const Rule& rule, const std::string& value, std::string scope) {
  const std::string v = normalise(value);
  const bool safe = std::ranges::find(rule.accepted, v) != rule.accepted.end();
  return LogSetting{rule.name, value, rule.required, std::move(scope), safe};
}

}  // namespace

Result<std::vector<LogSetting>> checkLogSettings(const std::string& dsn) {
  auto connected = connectCentral(dsn);
  if (!connected) return std::unexpected(connected.error());
  auto& conn = *connected;
  try {
    pqxx::read_transaction tx(*conn);
    std::map<std::string, std::string> session;
    for (const auto& row : tx.exec("SELECT name, setting FROM pg_settings")) {
      session[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    // A role's own settings: the one for this database wins over the one for every database.
    std::map<std::pair<std::string, std::string>, std::pair<bool, std::string>> roleSettings;
    const auto rows = tx.exec(
        "SELECT r.rolname, split_part(c, '=', 1), substr(c, strpos(c, '=') + 1), s.setdatabase <> 0 "
        "FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c "
        "WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))");
    for (const auto& row : rows) {
      const auto key = std::pair{row[0].as<std::string>(), row[1].as<std::string>()};
      const bool thisDatabase = row[3].as<bool>();
      auto it = roleSettings.find(key);
      if (it == roleSettings.end() || (thisDatabase && !it->second.first))
        roleSettings[key] = {thisDatabase, row[2].as<std::string>()};
    }
    std::vector<LogSetting> out;
    for (const auto& rule : rules()) {
      const auto it = session.find(rule.name);
      out.push_back(judge(rule, it == session.end() ? std::string("(not set)") : it->second, ""));
      for (const char* role : kRoles) {
        const auto own = roleSettings.find({role, rule.name});
        if (own == roleSettings.end()) continue;
        auto judged = judge(rule, own->second.second, std::string("role ") + role);
        if (!judged.safe) out.push_back(std::move(judged));
      }
    }
    return out;
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Migration, "central.log_settings", "cannot read the server's settings: " + firstLine(e.what()));
  }
}

Result<void> requireSafeLogSettings(const std::string& dsn) {
  auto settings = checkLogSettings(dsn);
  if (!settings) return std::unexpected(settings.error());
  for (const auto& s : *settings) {
    if (s.safe) continue;
    const auto rule = std::ranges::find_if(rules(), [&](const Rule& r) { return s.name == r.name; });
    return fail(ErrorDomain::Migration, "central.log_settings_unsafe",
                "refusing to serve: " + s.name + " = " + s.value + (s.scope.empty() ? "" : " for " + s.scope) +
                    " lets PHI into the PostgreSQL log (" + rule->why + "); it must be " + s.required +
                    " (see migrations/central/README.md)");
  }
  return {};
}

}  // namespace anteroom::admin::central
