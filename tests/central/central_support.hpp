// Shared by the central tests: one private PostgreSQL per test program, fresh migrated
// databases, sessions as each role, and invented fixture data (no real names anywhere).
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "pg_fixture.hpp"

namespace anteroom::testing {

// Test keys: 64 hex characters like production keys, obviously not secret.
inline constexpr const char* kPiiKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
inline constexpr const char* kHashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

inline constexpr const char* kPracticeA = "00000000-0000-4000-8000-00000000000a";
inline constexpr const char* kPracticeB = "00000000-0000-4000-8000-00000000000b";
inline constexpr const char* kProviderA = "00000000-0000-4000-8000-0000000000a1";
inline constexpr const char* kProviderB = "00000000-0000-4000-8000-0000000000b1";
inline constexpr const char* kWaitlistA = "00000000-0000-4000-8000-0000000000a2";
inline constexpr const char* kWaitlistB = "00000000-0000-4000-8000-0000000000b2";

// The cluster for this test program, started on first use and stopped at exit. Fails the
// calling test (doctest REQUIRE) when PostgreSQL cannot be started.
TempPostgres& cluster();
// The cluster if a test started it (for checks after the suite), else nullptr; and stopping it.
TempPostgres* startedCluster();
void stopCluster();

// Creates database `name` (dropping an old one) and applies the bundled central migrations
// through the same code as 'anteroom-admin central migrate'. Returns its superuser DSN.
std::string freshMigratedDatabase(const std::string& name);
std::string freshEmptyDatabase(const std::string& name);

// Two practices, each with a provider and a waitlist (as superuser, which bypasses RLS).
void seedTwoPractices(const std::string& superDsn);

inline constexpr const char* kPatientA = "20000000-0000-4000-8000-00000000000a";
inline constexpr const char* kPatientB = "20000000-0000-4000-8000-00000000000b";

// A fresh migrated database `name` with two practices, each with a patient, an appointment, a
// waitlist entry and a front-desk notification, written through the hub role. Returns its
// superuser DSN.
std::string seededDatabase(const std::string& name);

// count(*) of `table` on `c`, working for `practice` (none when empty), optionally as `role`.
long long countAs(pqxx::connection& c, const std::string& practice, const std::string& table,
                  const std::string& role = "");

// [SECTION] Patient values and the server log
// Every patient value a fixture writes is recorded here and returned, so that after the suite
// the server log can be searched for each (tests/central/central_main.cpp): values travel as
// bind parameters and never reach the log.
const std::string& patientValue(std::string value);
// The recorded patient values that occur in `log`.
std::vector<std::string> patientValuesIn(const std::string& log);

// Inserts an invented patient as the hub for `practice`; every value is encrypted with kPiiKey
// through bind parameters only, and recorded with patientValue().
void insertPatient(pqxx::transaction_base& tx, const std::string& patientId, const std::string& firstName,
                   const std::string& email);
// The same with every identity field chosen (last name "Examplewright" and 1988-04-02 above).
void insertPatient(pqxx::transaction_base& tx, const std::string& patientId, const std::string& firstName,
                   const std::string& lastName, const std::string& email, const std::string& dateOfBirth);

// Starts a hub transaction working for `practice` (empty = no practice set).
void actFor(pqxx::transaction_base& tx, const std::string& practice);

// Runs the statements in a transaction of their own on `c`, working for `practice` (none when
// empty), and returns the error message ("" when they succeed and commit).
std::string errorAs(pqxx::connection& c, const std::string& practice,
                    const std::function<void(pqxx::transaction_base&)>& statements);
std::string errorAs(pqxx::connection& c, const std::string& practice, const std::string& sql);

// Runs `sql` and returns the SQLSTATE + message of the error it raises ("" when it succeeds).
std::string errorOf(const std::string& dsn, const std::string& sql);

// A shell command run the way an operator would, stdout and stderr together.
struct CommandResult {
  int exitCode = -1;
  std::string output;
};
CommandResult runCommand(const std::string& command);
std::string shellQuote(const std::string& s);

}  // namespace anteroom::testing
