// Writes the demo practice's rows centrally with the hub's entity specs (sync/hub/src/entity_sql):
// the same columns, casts and PII encryption as a row the hub writes for a device.
#include "central_seed.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "anteroom/model/time_zone.hpp"
#include "central_connection.hpp"
#include "central_migrations.hpp"
#include "entity_sql.hpp"

namespace anteroom::admin::central {

namespace {

struct Params {
  std::vector<std::optional<std::string>> values;
  int add(std::optional<std::string> v) {
    values.push_back(std::move(v));
    return static_cast<int>(values.size());
  }
};

// INSERT of one row JSON, as the hub's writeRow builds it for a new row.
void insertRow(pqxx::work& tx, std::string_view table, const Json::Object& row, const std::string& piiKey,
               const std::string& hashKey) {
  const sync::hub::EntitySpec* spec = sync::hub::entitySpec(table);
  if (spec == nullptr) throw std::logic_error("the demo made a row of " + std::string(table) + ", not a synced entity");
  Params p;
  const int key = spec->hasPii ? p.add(piiKey) : 0;
  std::string cols, exprs;
  auto assign = [&](const std::string& col, const std::string& expr) {
    cols += (cols.empty() ? "" : ", ") + col;
    exprs += (exprs.empty() ? "" : ", ") + expr;
  };
  for (const auto& [col, value] : row) {
    const sync::hub::ColumnSpec* c = spec->column(col);
    if (c == nullptr) continue;
    if (spec->hasPii && col == "insurance_info" && value.isObject()) {
      auto [plain, ids] = sync::hub::splitInsurance(value.asObject());
      assign("insurance_info", "$" + std::to_string(p.add(Json(plain).dump())) + "::jsonb");
      assign("insurance_ids", ids.empty() ? std::string("NULL")
                                          : "pii_encrypt($" + std::to_string(p.add(Json(ids).dump())) + ", $" +
                                                std::to_string(key) + ")");
      continue;
    }
    const int n = p.add(sync::hub::paramText(value));
    if (col == spec->idColumn) {
      assign(col, "$" + std::to_string(n) + "::uuid");
      continue;
    }
    assign(col, sync::hub::writeExpression(*spec, *c, n, key));
    if (spec->hasPii && col == "email") {
      const int h = p.add(hashKey);
      assign("email_hash", "pii_lookup_hash($" + std::to_string(n) + "::text, $" + std::to_string(h) + ")");
    }
  }
  std::vector<const char*> ptrs;
  ptrs.reserve(p.values.size());
  for (const auto& v : p.values) ptrs.push_back(v ? v->c_str() : nullptr);
  tx.exec_params("INSERT INTO " + spec->table + " (" + cols + ") VALUES (" + exprs + ")",
                 pqxx::prepare::make_dynamic_params(ptrs));
}

}  // namespace

Result<std::string> readHexKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(ErrorDomain::Io, "key.unreadable", "cannot read the key file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return fail(ErrorDomain::Validation, "key.mode",
                "the key file " + path + " is readable by group or others; chmod 600 it");
  }
  std::string text(70, '\0');
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return fail(ErrorDomain::Io, "key.unreadable", "cannot read the key file " + path);
  text.resize(static_cast<std::size_t>(n));
  if (text.ends_with('\n')) text.pop_back();
  bool ok = text.size() == 64;
  for (const char c : text) ok = ok && std::isxdigit(static_cast<unsigned char>(c)) != 0;
  if (!ok) {
    return fail(ErrorDomain::Validation, "key.format",
                "the key file " + path + " must hold 64 hex characters (anteroom-admin keygen makes one)");
  }
  return text;
}

Result<SeedSummary> seedCentralDemo(const CentralSeedOptions& options) {
  auto piiKey = readHexKeyFile(options.piiKeyFile);
  if (!piiKey) return std::unexpected(piiKey.error());
  auto hashKey = readHexKeyFile(options.hashKeyFile);
  if (!hashKey) return std::unexpected(hashKey.error());
  auto zone = PracticeZone::named(options.timeZone);
  if (!zone) return std::unexpected(zone.error());

  SeedOptions seed;
  seed.patients = options.patients;
  seed.seed = options.seed;
  seed.now = options.now;
  seed.localMidnight = zone->dayOf(options.now).first;
  seed.timeZone = options.timeZone;
  seed.emailTag = ".s" + std::to_string(options.seed);

  auto connected = connectCentral(options.dsn);
  if (!connected) return std::unexpected(connected.error());
  std::string table;
  try {
    pqxx::work tx(**connected);
    tx.exec("SELECT set_config('app.actor', 'admin:demo-seed', true)");
    auto summary = demoPracticeRows(seed, [&](std::string_view t, const Json::Object& row) -> Result<void> {
      table = std::string(t);
      if (t == "practice") {
        const auto id = row.find("practice_id");
        const std::string practiceId = id != row.end() && id->second.isString() ? id->second.asString() : "";
        tx.exec_params("SELECT set_config('app.practice_id', $1, true)", practiceId);
        if (!tx.exec_params("SELECT 1 FROM practice WHERE practice_id = $1::uuid", practiceId).empty()) {
          return fail(ErrorDomain::Conflict, "demo.practice_exists",
                      "the demo practice of seed " + std::to_string(options.seed) + " (" + practiceId +
                          ") is already in this database; use another --seed");
        }
      }
      insertRow(tx, t, row, *piiKey, *hashKey);
      return {};
    });
    if (!summary) return summary;
    tx.commit();
    return summary;
  } catch (const pqxx::broken_connection& e) {
    return connectFailed(e);
  } catch (const std::exception& e) {
    // libpq's first line names the constraint, never a value (the central log settings).
    return fail(ErrorDomain::Store, "demo.seed_central",
                "seeding the central database failed at a " + table + " row, nothing was written: " +
                    firstLine(e.what()));
  }
}

}  // namespace anteroom::admin::central
