// The sync tests' PostgreSQL: started once, migrated through anteroom-admin's own runner.
#include "central.hpp"

#include <pqxx/pqxx>

#include "central_migrations.hpp"
#include "pg_fixture.hpp"

namespace anteroom::sim {

// [SECTION] Central: one throw-away PostgreSQL

struct Central::Impl {
  std::unique_ptr<testing::TempPostgres> pg;
  std::string db = "anteroom_sim";
};

Result<std::unique_ptr<Central>> Central::start() {
  if (!testing::postgresAvailable())
    return fail(ErrorDomain::Io, "sim.no_postgres", "PostgreSQL 15 with pgaudit is not installed (scripts/deps)");
  auto pg = testing::TempPostgres::start();
  if (!pg) return std::unexpected(pg.error());
  auto c = std::unique_ptr<Central>(new Central());
  c->m_impl = std::make_unique<Impl>();
  c->m_impl->pg = std::move(*pg);
  try {
    pqxx::connection admin(c->m_impl->pg->dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + c->m_impl->db);
  } catch (const std::exception& e) {
    return fail(ErrorDomain::Io, "sim.create_db", std::string("cannot create the simulation database: ") + e.what());
  }
  if (auto m = admin::central::centralMigrate(c->superDsn()); !m) return std::unexpected(m.error());
  return c;
}

Central::~Central() = default;
std::string Central::superDsn() const { return m_impl->pg->dsn(m_impl->db); }
std::string Central::hubDsn() const { return m_impl->pg->dsn(m_impl->db, "anteroom_hub"); }
std::string Central::log() const { return m_impl->pg->readLog(); }

}  // namespace anteroom::sim
