// The checker of DESIGN.md 5.6 (moved here from world.cpp unchanged in substance, so the
// simulation and the end-to-end tests on real processes assert the same invariants).
#include "checker.hpp"

#include <sqlite3.h>

#include <map>
#include <pqxx/pqxx>

#include "anteroom/model/fields.hpp"
#include "anteroom/model/row_json.hpp"

namespace anteroom::sim {

namespace {

// Every (table, id) -> (row_version, deleted) in a store, read straight from the file.
std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, bool>> storeRows(const std::filesystem::path& path,
                                                                                        const store::SecretKey& key) {
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, bool>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  const store::SecretKey::RawKeyText text(key);
  sqlite3_key(db, text.data(), text.size());
  sqlite3_exec(db, "PRAGMA cipher_page_size = 4096;", nullptr, nullptr, nullptr);
  forEachRecordType([&](auto r) {
    using T = decltype(r);
    const std::string sql = "SELECT " + std::string(Fields<T>::idColumn) + ", row_version, deleted FROM " +
                            std::string(Fields<T>::table);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      rows[{std::string(Fields<T>::table), id ? id : ""}] = {sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2) != 0};
    }
    sqlite3_finalize(st);
  });
  sqlite3_close(db);
  return rows;
}

// Each row of `table` with `id` as the device holds it, as row JSON ("" when absent).
std::string rowText(store::Store& s, std::string_view table, const Uuid& id) {
  std::string out;
  forEachRecordType([&](auto r) {
    using T = decltype(r);
    if (Fields<T>::table != table) return;
    auto got = s.get<T>(id);
    if (got && *got) out = Json(toRowJson(**got)).dump();
  });
  return out;
}

// A value from central, as superuser ("" for NULL, nullopt for no row).
std::optional<std::string> centralValue(const std::string& dsn, const std::string& sql,
                                        const std::vector<std::optional<std::string>>& params) {
  pqxx::connection c(dsn);
  pqxx::work tx(c);
  std::vector<const char*> p;
  for (const auto& v : params) p.push_back(v ? v->c_str() : nullptr);
  auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p));
  tx.commit();
  if (r.empty()) return std::nullopt;
  return r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
}

}  // namespace

std::vector<std::string> checkInvariants(const CheckInput& in) {
  std::vector<std::string> failures;
  auto failIf = [&](bool bad, std::string what) {
    if (bad) failures.push_back(std::move(what));
  };
  if (in.probeStore == nullptr || in.probeKey == nullptr) return {"no probe store to compare with"};
  pqxx::connection c(in.superDsn);

  const auto expected = storeRows(in.probePath, *in.probeKey);

  for (const CheckedDevice& d : in.devices) {
    if (!d.store) {
      failures.push_back(d.name + ": the store does not open");
      continue;
    }
    // 1. Nothing acknowledged is lost, nothing is applied twice: every mutation the device
    //    made is recorded centrally exactly once (the primary key), and none is left unsent.
    auto pending = d.store->pendingOutboxCount();
    failIf(!pending || *pending != 0, d.name + ": " + std::to_string(pending.value_or(-1)) + " changes still unsent after healing");
    pqxx::work tx(c);
    auto recorded = tx.exec_params(
        "SELECT mutation_id::text, result->>'status', coalesce(result->>'code', '') FROM idempotency_record"
        " WHERE device_id = $1::uuid",
        d.deviceId.toString());
    tx.commit();
    std::set<std::string> centrally;
    std::size_t refused = 0;
    for (const auto& r : recorded) {
      centrally.insert(r[0].c_str());
      const std::string status = r[1].c_str();
      // A merge that kept a central value over the device's is in front of staff too.
      if (status == "rejected" || status == "held" || (status == "merged" && !std::string(r[2].c_str()).empty())) ++refused;
    }
    for (const auto& m : (*d.mutationsMade))
      failIf(!centrally.contains(m), d.name + ": mutation " + m + " was made but never reached central");
    for (const auto& m : centrally)
      failIf(!(*d.mutationsMade).contains(m), d.name + ": central recorded mutation " + m + " that the device never made");

    // 2. Every rejection is in front of a person: one open conflict per refused mutation.
    auto conflicts = d.store->openConflicts(1000000);
    failIf(!conflicts || conflicts->size() != refused,
           d.name + ": " + std::to_string(refused) + " refused mutations but " +
               std::to_string(conflicts ? conflicts->size() : 0) + " conflicts for staff");
    std::set<std::string> heldRows;
    if (conflicts)
      for (const auto& cf : *conflicts)
        if (cf.code == "sync.walkin_review") heldRows.insert(cf.entityId);

    // 3. The device equals central within its window.
    (void)d.store->purgeOutsideWindow(in.now, in.windowDaysAhead);
    const auto have = storeRows(d.path, *d.key);
    for (const auto& [key, version] : expected) {
      const auto it = have.find(key);
      if (it == have.end()) {
        failures.push_back(d.name + ": missing " + key.first + " " + key.second);
        continue;
      }
      if (it->second != version) {
        failures.push_back(d.name + ": " + key.first + " " + key.second + " at version " + std::to_string(it->second.first) +
                           ", central " + std::to_string(version.first));
        continue;
      }
      const auto id = *Uuid::parse(key.second);
      const std::string mine = rowText(*d.store, key.first, id), theirs = rowText(*in.probeStore, key.first, id);
      if (mine != theirs) {
        // Name the columns that differ (synthetic data only, so values may be shown).
        std::string cols;
        auto a = Json::parse(mine), b = Json::parse(theirs);
        if (a && b && a->isObject() && b->isObject())
          for (const auto& [col, v] : a->asObject())
            if (const Json* w = b->find(col); !w || *w != v) cols += " " + col + "=" + v.dump() + " vs " + (w ? w->dump() : "absent");
        failures.push_back(d.name + ": " + key.first + " " + key.second + " differs from central at the same version:" + cols);
      }
    }
    for (const auto& [key, version] : have) {
      if (expected.contains(key) || heldRows.contains(key.second)) continue;
      // Kept longer than the window needs is fine; a stale or invented row is not.
      const std::string idCol = [&] {
        std::string col;
        forEachRecordType([&](auto r) {
          using T = decltype(r);
          if (Fields<T>::table == key.first) col = std::string(Fields<T>::idColumn);
        });
        return col;
      }();
      auto central = centralValue(in.superDsn, "SELECT row_version || ':' || deleted FROM " + key.first + " WHERE " + idCol + " = $1::uuid",
                                  {key.second});
      const std::string mine = std::to_string(version.first) + ":" + (version.second ? "true" : "false");
      failIf(central != mine, d.name + ": holds " + key.first + " " + key.second + " at " + mine + ", central " +
                                  central.value_or("has no such row"));
    }

    // 4. No tombstone comes back, here or centrally.
    for (const auto& [table, id] : in.tombstones) {
      auto it = have.find({table, id.toString()});
      failIf(it != have.end() && !it->second.second, d.name + ": tombstoned " + table + " " + id.toString() + " is live again");
    }
  }
  for (const auto& [table, id] : in.tombstones) {
    const std::string idCol = table == "appointment_slot" ? "slot_id" : table + "_id";
    failIf(centralValue(in.superDsn, "SELECT deleted::text FROM " + table + " WHERE " + idCol + " = $1::uuid", {id.toString()}) != "true",
           "central: tombstoned " + table + " " + id.toString() + " is live again");
  }
  // 5. No slot is double-booked: one confirmed request at most, and a booked slot has it.
  auto doubled = centralValue(in.superDsn, 
      "SELECT count(*) FROM (SELECT appointment_slot_id FROM appointment_request r JOIN appointment_slot s"
      " ON s.slot_id = r.appointment_slot_id JOIN provider p ON p.provider_id = s.provider_id"
      " WHERE r.status = 'confirmed' AND p.practice_id = $1::uuid GROUP BY 1 HAVING count(*) > 1) x",
      {in.practice.toString()});
  failIf(doubled != "0", "central: " + doubled.value_or("?") + " slots have more than one confirmed request");
  auto overlapping = centralValue(in.superDsn, 
      "SELECT count(*) FROM appointment a JOIN appointment b ON a.provider_id = b.provider_id AND a.appointment_id < b.appointment_id"
      " AND tsrange(a.start_time, a.end_time) && tsrange(b.start_time, b.end_time) JOIN provider p ON p.provider_id = a.provider_id"
      " WHERE p.practice_id = $1::uuid AND NOT a.deleted AND NOT b.deleted"
      " AND a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')",
      {in.practice.toString()});
  failIf(overlapping != "0", "central: " + overlapping.value_or("?") + " pairs of appointments overlap for one provider");
  // 6. A check-in is applied once however often it arrives: at most one arrival notice per
  //    appointment (another system may check a patient in without one).
  auto twice = centralValue(in.superDsn,
      "SELECT count(*) FROM (SELECT n.content->'params'->>'appointment_id' FROM notification n"
      " JOIN provider p ON p.provider_id = n.recipient_id WHERE n.type = 'patient_arrived' AND p.practice_id = $1::uuid"
      " GROUP BY 1 HAVING count(*) > 1) x",
      {in.practice.toString()});
  failIf(twice != "0", "central: " + twice.value_or("?") + " appointments have more than one arrival notice");
  return failures;
}

}  // namespace anteroom::sim
