// Fixture helpers for the central tests (see central_support.hpp).
#include "central_support.hpp"

#include <doctest/doctest.h>

#include <memory>

#include "central_migrations.hpp"

namespace anteroom::testing {

TempPostgres& cluster() {
  static std::unique_ptr<TempPostgres> instance;
  if (!instance) {
    auto started = TempPostgres::start();
    if (!started) FAIL(started.error().message);
    instance = std::move(*started);
  }
  return *instance;
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
  insertPatient(tx, patientId, firstName, "Example", email, "1988-04-02");
}

void insertPatient(pqxx::transaction_base& tx, const std::string& patientId, const std::string& firstName,
                   const std::string& lastName, const std::string& email, const std::string& dateOfBirth) {
  tx.exec_params(
      "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, "
      "preferences, email_hash) VALUES ($1, pii_encrypt($2, $4), pii_encrypt($6, $4), pii_encrypt($3, $4), "
      "pii_encrypt('+15415550199', $4), pii_encrypt($7, $4), '{\"payer\":\"Invented Mutual\"}', "
      "pii_encrypt('{\"mode\":\"either\"}', $4), pii_lookup_hash($3, $5))",
      patientId, firstName, email, kPiiKey, kHashKey, lastName, dateOfBirth);
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

}  // namespace anteroom::testing
