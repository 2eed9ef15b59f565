// The batches a run records (run/batch.hpp): a store written before batch requests knew which
// call they stand for reads its requests as answers; mark_collected closes a run's batches.

#include "run/batch.hpp"
#include "run/runs_store.hpp"
#include "store/migration.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

using namespace evalkeep;
using run::RunsStore;

namespace {

// A runs store as schema version 5 left it (batches, but no slot), with one run and its batch.
void write_version5_store(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql;
  auto migrations = store::runs_migrations();
  REQUIRE(migrations.size() > 5);
  for (std::size_t i = 0; i < 5; ++i) {
    REQUIRE(migrations[i].version == static_cast<int>(i) + 1);
    sql += migrations[i].sql;
    sql += ";\n";
  }
  sql += fmt::format(
      "PRAGMA application_id = {}; PRAGMA user_version = 5;"
      "INSERT INTO runs (id, started_at, state, suite_path, suite_hash, provider, provider_kind, "
      "model, params, settings, evalkeep_version) VALUES (1, 't', 'running', 's', 'h', 'p', "
      "'openai', 'm', '{{}}', '{{}}', 'old');"
      "INSERT INTO batches (id, run_id, provider_kind, batch_id, state, created_at) VALUES "
      "(1, 1, 'openai', 'batch_old', 'in_progress', 't');"
      "INSERT INTO batch_requests (batch, custom_id, case_id, trial) VALUES (1, 'r0', 'a', 0), "
      "(1, 'r1', 'b', 0);",
      static_cast<std::int32_t>(run::k_runs_application_id));
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

} // namespace

TEST_CASE("a runs store's batches from before judge batches read as answers, and are collected "
          "when marked",
          "[run][store][batch]") {
  test::TempDir dir;
  write_version5_store(dir / "runs.db");
  auto store = RunsStore::open(dir / "runs.db", false);
  REQUIRE(store);
  auto batches = run::stored_batches(*store, 1);
  REQUIRE(batches);
  REQUIRE(batches->size() == 1);
  const auto& b = batches->front();
  CHECK(b.batch_id == "batch_old");
  CHECK_FALSE(b.collected);
  REQUIRE(b.requests.size() == 2);
  CHECK(b.requests[0].custom_id == "r0");
  CHECK(b.requests[0].case_id == "a");
  CHECK(b.requests[0].slot == 0);
  CHECK(b.requests[1].slot == 0);

  // A judge request recorded now keeps its slot.
  REQUIRE(store->db().exec(
      "INSERT INTO batches (id, run_id, provider_kind, batch_id, state, created_at) VALUES "
      "(2, 1, 'anthropic', 'msgbatch_new', 'in_progress', 't');"
      "INSERT INTO batch_requests (batch, custom_id, case_id, trial, slot) VALUES "
      "(2, 'r0', 'a', 0, 3)"));
  REQUIRE(run::mark_collected(*store, 1, {"batch_old"}));
  batches = run::stored_batches(*store, 1);
  REQUIRE(batches);
  REQUIRE(batches->size() == 2);
  CHECK((*batches)[0].collected);
  CHECK_FALSE((*batches)[1].collected);
  REQUIRE((*batches)[1].requests.size() == 1);
  CHECK((*batches)[1].requests[0].slot == 3);
  // Another run's batch of the same id is not this run's to mark.
  REQUIRE(run::mark_collected(*store, 2, {"msgbatch_new"}));
  batches = run::stored_batches(*store, 1);
  REQUIRE(batches);
  CHECK_FALSE((*batches)[1].collected);
}
