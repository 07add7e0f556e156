// Fixture helpers for the central tests (see central_support.hpp).
#include "central_support.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <set>
#include <tuple>

#include "central_migrations.hpp"

namespace anteroom::testing {

namespace {

std::unique_ptr<TempPostgres>& clusterInstance() {
  static std::unique_ptr<TempPostgres> instance;
  return instance;
}

std::set<std::string>& recordedPatientValues() {
  static std::set<std::string> values;
  return values;
}

}  // namespace

TempPostgres& cluster() {
  auto& instance = clusterInstance();
  if (!instance) {
    auto started = TempPostgres::start();
    if (!started) FAIL(started.error().message);
    instance = std::move(*started);
  }
  return *instance;
}

TempPostgres* startedCluster() { return clusterInstance().get(); }
void stopCluster() { clusterInstance().reset(); }

const std::string& patientValue(std::string value) { return *recordedPatientValues().insert(std::move(value)).first; }

std::vector<std::string> patientValuesIn(const std::string& log) {
  std::vector<std::string> found;
  for (const auto& v : recordedPatientValues()) {
    if (log.find(v) != std::string::npos) found.push_back(v);
  }
  return found;
}

std::string freshEmptyDatabase(const std::string& name) {
  pqxx::connection admin(cluster().dsn());
  pqxx::nontransaction tx(admin);
  tx.exec("SET client_min_messages = warning");
  tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return cluster().dsn(name);
}

std::string freshMigratedDatabase(const std::string& name) {
  const std::string dsn = freshEmptyDatabase(name);
  auto migrated = admin::central::centralMigrate(dsn);
  if (!migrated) FAIL(migrated.error().message);
  return dsn;
}

void seedTwoPractices(const std::string& superDsn) {
  pqxx::connection c(superDsn);
  pqxx::work tx(c);
  for (const auto& [practice, provider, waitlist, tag] :
       {std::tuple{kPracticeA, kProviderA, kWaitlistA, "a"}, std::tuple{kPracticeB, kProviderB, kWaitlistB, "b"}}) {
    tx.exec_params(
        "INSERT INTO practice (practice_id, name, address, phone, email, settings) "
        "VALUES ($1, $2, '{\"city\":\"Springfield\"}', '+15415550100', $3, '{}')",
        practice, std::string("Invented Practice ") + tag, std::string("desk.") + tag + "@practice.example");
    tx.exec_params(
        "INSERT INTO provider (provider_id, practice_id, first_name, last_name, email, specialties, modalities, "
        "availability, experience, telehealth) VALUES ($1, $2, 'Robin', 'Testcase', $3, '[\"anxiety\"]', "
        "'[\"cbt\"]', '{}', 7, true)",
        provider, practice, std::string("robin.") + tag + "@practice.example");
    tx.exec_params("INSERT INTO waitlist (waitlist_id, practice_id, name, criteria) VALUES ($1, $2, 'General', '{}')",
                   waitlist, practice);
  }
  tx.commit();
}

void actFor(pqxx::transaction_base& tx, const std::string& practice) {
  tx.exec_params("SELECT set_config('app.practice_id', $1, true)", practice);
  tx.exec("SELECT set_config('app.actor', 'device:test-kiosk', true)");
}

void insertPatient(pqxx::transaction_base& tx, const std::string& patientId, const std::string& firstName,
                   const std::string& email) {
  insertPatient(tx, patientId, firstName, "Examplewright", email, "1988-04-02");
}

void insertPatient(pqxx::transaction_base& tx, const std::string& patientId, const std::string& firstName,
                   const std::string& lastName, const std::string& email, const std::string& dateOfBirth) {
  tx.exec_params(
      "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, "
      "preferences, email_hash) VALUES ($1, pii_encrypt($2, $4), pii_encrypt($6, $4), pii_encrypt($3, $4), "
      "pii_encrypt($7, $4), pii_encrypt($8, $4), $9::jsonb, pii_encrypt($10, $4), pii_lookup_hash($3, $5))",
      patientId, patientValue(firstName), patientValue(email), kPiiKey, kHashKey, patientValue(lastName),
      patientValue("+15415550199"), patientValue(dateOfBirth), std::string("{\"payer\":\"Invented Mutual\"}"),
      std::string("{\"mode\":\"either\",\"concerns\":[\"sentinel-concern\"]}"));
  patientValue("sentinel-concern");
}

std::string seededDatabase(const std::string& name) {
  const std::string dsn = freshMigratedDatabase(name);
  seedTwoPractices(dsn);
  pqxx::connection hub(cluster().dsn(name, "anteroom_hub"));
  for (const auto& [practice, provider, waitlist, patient, tag] :
       {std::tuple{kPracticeA, kProviderA, kWaitlistA, kPatientA, "a"},
        std::tuple{kPracticeB, kProviderB, kWaitlistB, kPatientB, "b"}}) {
    pqxx::work tx(hub);
    actFor(tx, practice);
    insertPatient(tx, patient, std::string("Invented") + tag, std::string("invented.") + tag + "@example.org");
    tx.exec_params("INSERT INTO appointment (appointment_id, provider_id, patient_id, start_time, end_time, status, "
                   "type) VALUES (gen_random_uuid(), $1, $2, '2030-05-01 09:00', '2030-05-01 09:50', 'scheduled', "
                   "'in_person')",
                   provider, patient);
    tx.exec_params("INSERT INTO waitlist_entry (entry_id, waitlist_id, patient_id, priority_score, status) "
                   "VALUES (gen_random_uuid(), $1, $2, 3.5, 'waiting')",
                   waitlist, patient);
    tx.exec_params("INSERT INTO notification (notification_id, recipient_id, recipient_type, type, content, status) "
                   "VALUES (gen_random_uuid(), $1, 'front_desk', 'patient_arrived', '{}', 'pending')",
                   practice);
    tx.commit();
  }
  return dsn;
}

long long countAs(pqxx::connection& c, const std::string& practice, const std::string& table, const std::string& role) {
  pqxx::work tx(c);
  if (!role.empty()) tx.exec("SET LOCAL ROLE " + role);
  if (!practice.empty()) actFor(tx, practice);
  return tx.exec("SELECT count(*) FROM " + table)[0][0].as<long long>();
}

std::string errorAs(pqxx::connection& c, const std::string& practice,
                    const std::function<void(pqxx::transaction_base&)>& statements) {
  try {
    pqxx::work tx(c);
    if (!practice.empty()) actFor(tx, practice);
    statements(tx);
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    return e.what();
  }
  return "";
}

std::string errorAs(pqxx::connection& c, const std::string& practice, const std::string& sql) {
  return errorAs(c, practice, [&](pqxx::transaction_base& tx) { tx.exec(sql); });
}

std::string errorOf(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  try {
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate() + " " + e.what();
  }
  return "";
}

CommandResult runCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe)) r.output += buffer.data();
  const int status = pclose(pipe);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace anteroom::testing
