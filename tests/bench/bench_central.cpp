// anteroom-bench-central: the central PostgreSQL schema's costs on a private PostgreSQL 15 —
// PII encryption on 5,000 patient inserts, and a practice's change-feed page at 1M change rows.
// Prints "name: value unit" lines; --quick shrinks the data. Figures only, no assertions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "central_migrations.hpp"
#include "pg_fixture.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kPiiKey = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
constexpr const char* kHashKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kPractice = "00000000-0000-4000-8000-00000000000a";
// Patient values go as bind parameters like every other ($9, $10): pgaudit logs statement text.
constexpr const char* kInsurance = "{\"payer\":\"Invented Mutual\",\"plan_name\":\"Silver\"}";
constexpr const char* kPreferences = "{\"mode\":\"either\"}";

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void line(const char* name, double value, const char* unit) { std::printf("%s: %.3f %s\n", name, value, unit); }

// Two tables of the seed's patient shape, without triggers or row-level security, so the only
// difference between them is the encryption: plain seed types against pgcrypto ciphertext and
// the keyed email hash.
void createPiiTables(pqxx::connection& c) {
  pqxx::work tx(c);
  tx.exec("CREATE TABLE bench_patient_plain (patient_id uuid PRIMARY KEY, first_name varchar(100) NOT NULL, "
          "last_name varchar(100) NOT NULL, email varchar(255) NOT NULL UNIQUE, phone varchar(20) NOT NULL, "
          "date_of_birth date NOT NULL, insurance_info jsonb NOT NULL, preferences jsonb NOT NULL)");
  tx.exec("CREATE TABLE bench_patient_encrypted (patient_id uuid PRIMARY KEY, first_name bytea NOT NULL, "
          "last_name bytea NOT NULL, email bytea NOT NULL, phone bytea NOT NULL, date_of_birth bytea NOT NULL, "
          "insurance_info jsonb NOT NULL, preferences bytea NOT NULL, email_hash bytea NOT NULL UNIQUE)");
  tx.exec("CREATE INDEX ON bench_patient_plain USING gin (insurance_info)");
  tx.exec("CREATE INDEX ON bench_patient_encrypted USING gin (insurance_info)");
  tx.commit();
}

// Inserts n invented patients one statement at a time (as the hub would), in one transaction.
double timeInserts(pqxx::connection& c, const std::string& statement, int n, bool asHub) {
  c.prepare("ins", statement);
  const auto start = Clock::now();
  pqxx::work tx(c);
  if (asHub) tx.exec_params("SELECT set_config('app.practice_id', $1, true)", kPractice);
  for (int i = 0; i < n; ++i) {
    const std::string id = "10000000-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
    tx.exec_prepared("ins", id, "Firstname" + std::to_string(i), "Lastname", "person" + std::to_string(i) + "@example.org",
                     "+1541555" + std::to_string(1000 + i % 9000), "1980-01-01", kPiiKey, kHashKey, kInsurance,
                     kPreferences);
  }
  tx.commit();
  const double s = secondsSince(start);
  c.unprepare("ins");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (!anteroom::testing::postgresAvailable()) {
    std::printf("# anteroom-bench-central: PostgreSQL 15 with pgaudit is not installed; skipped (run scripts/deps)\n");
    return 0;
  }
  auto started = anteroom::testing::TempPostgres::start();
  if (!started) {
    std::fprintf(stderr, "anteroom-bench-central: %s\n", started.error().message.c_str());
    return 1;
  }
  auto& pg = **started;
  try {
    {
      pqxx::connection admin(pg.dsn());
      pqxx::nontransaction tx(admin);
      tx.exec("CREATE DATABASE bench");
    }
    const std::string dsn = pg.dsn("bench");
    if (auto m = anteroom::admin::central::centralMigrate(dsn); !m) {
      std::fprintf(stderr, "anteroom-bench-central: %s\n", m.error().message.c_str());
      return 1;
    }
    pqxx::connection super(dsn);
    {
      pqxx::work tx(super);
      tx.exec_params("INSERT INTO practice (practice_id, name, address, phone, email, settings) VALUES "
                     "($1, 'Bench Practice', '{}', '+15415550100', 'desk@bench.example', '{}')",
                     kPractice);
      tx.commit();
    }

    // [SECTION] PII encryption cost
    const int patients = 5000;  // the figure the target is set for; small enough for --quick too
    createPiiTables(super);
    const double plain = timeInserts(
        super,
        "INSERT INTO bench_patient_plain VALUES ($1, $2, $3, $4, $5, $6::date, $9::jsonb, "
        "$10::jsonb || jsonb_build_object('k', length($7) + length($8)))",
        patients, false);
    const double encrypted = timeInserts(
        super,
        "INSERT INTO bench_patient_encrypted VALUES ($1, pii_encrypt($2, $7), pii_encrypt($3, $7), "
        "pii_encrypt($4, $7), pii_encrypt($5, $7), pii_encrypt($6, $7), $9::jsonb, pii_encrypt($10, $7), "
        "pii_lookup_hash($4, $8))",
        patients, false);
    pqxx::connection hub(pg.dsn("bench", "anteroom_hub"));
    const double fullPath = timeInserts(
        hub,
        "INSERT INTO patient (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, "
        "preferences, email_hash) VALUES ($1, pii_encrypt($2, $7), pii_encrypt($3, $7), pii_encrypt($4, $7), "
        "pii_encrypt($5, $7), pii_encrypt($6, $7), $9::jsonb, pii_encrypt($10, $7), pii_lookup_hash($4, $8))",
        patients, true);
    line("pii_plain_5000_inserts", plain, "s");
    line("pii_encrypted_5000_inserts", encrypted, "s");
    line("pii_encryption_ratio", encrypted / plain, "x");
    line("pii_encryption_added", encrypted - plain, "s (target <= 1)");
    line("patient_insert_hub_path_5000", fullPath, "s (RLS, link, change log, audit, pgaudit)");

    // [SECTION] change feed
    const long long changeRows = quick ? 100000 : 1000000;
    const int practices = 10;  // the feed's practice holds a tenth of the rows
    {
      const auto start = Clock::now();
      pqxx::work tx(super);
      tx.exec_params(
          "INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version, changed_at) "
          "SELECT CASE WHEN g % $2 = 0 THEN $3::uuid ELSE md5('practice' || (g % $2))::uuid END, "
          "       g / $2 + 1000000, "  // above the seqs the inserts above already took
          "       (ARRAY['appointment','patient','waitlist_entry','appointment_slot'])[1 + g % 4], "
          "       gen_random_uuid(), CASE WHEN g % 50 = 0 THEN 'delete' ELSE 'upsert' END, 1 + g % 7, "
          "       (now() AT TIME ZONE 'UTC') - interval '1 second' * ($1 - g) "
          "FROM generate_series(1, $1) g",
          changeRows, practices, kPractice);
      tx.exec("ANALYZE change_log");
      tx.commit();
      line(quick ? "change_log_load_100k" : "change_log_load_1m", secondsSince(start), "s");
    }
    long long minSeq = 0;
    long long maxSeq = 0;
    {
      pqxx::work tx(super);
      const auto r = tx.exec_params1("SELECT min(seq), max(seq) FROM change_log WHERE practice_id = $1", kPractice);
      minSeq = r[0].as<long long>();
      maxSeq = r[1].as<long long>();
    }
    hub.prepare("feed",
                "SELECT seq, entity, entity_id, op, row_version FROM change_log "
                "WHERE practice_id = current_practice_id() AND seq > $1 ORDER BY seq LIMIT 500");
    std::mt19937_64 rng(42);
    // Cursors anywhere in the practice's history, as devices at every stage of catching up.
    std::uniform_int_distribution<long long> cursor(minSeq - 1, maxSeq);
    const int queries = quick ? 200 : 1000;
    std::vector<double> ms;
    long long rowsSeen = 0;
    for (int i = 0; i < queries + 20; ++i) {
      const auto start = Clock::now();
      pqxx::work tx(hub);
      tx.exec_params("SELECT set_config('app.practice_id', $1, true)", kPractice);
      const auto page = tx.exec_prepared("feed", cursor(rng));
      tx.commit();
      if (i < 20) continue;  // warm-up
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      rowsSeen += static_cast<long long>(page.size());
    }
    std::ranges::sort(ms);
    const auto pct = [&](double p) { return ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))]; };
    std::printf("change_feed_rows_total: %lld rows\n", changeRows);
    line("change_feed_page_p50", pct(0.50), "ms (500-row page, one pull transaction under RLS)");
    line("change_feed_page_p99", pct(0.99), "ms (target < 20)");
    line("change_feed_rows_per_page", static_cast<double>(rowsSeen) / queries, "rows");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anteroom-bench-central: %s\n", e.what());
    return 1;
  }
  return 0;
}
