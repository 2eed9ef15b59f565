#include "store/database.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

using namespace evalkeep;
using store::Database;
using store::OpenMode;
using store::Transaction;
using namespace std::chrono_literals;

namespace {

Database memory_db() {
  auto db = Database::open_memory();
  REQUIRE(db);
  return std::move(*db);
}

// A query that would count for hours.
constexpr const char* k_runaway =
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";

} // namespace

TEST_CASE("a work limit stops a runaway query with a clear input error", "[store]") {
  auto db = memory_db();
  db.limit_work(200ms);
  CHECK(db.limits_work());
  auto started = std::chrono::steady_clock::now();
  auto r = db.scalar(k_runaway);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK(r.error().message == "stopped after 200 ms: the file makes SQLite work too long");
  CHECK_THAT(r.error().hint, Catch::Contains("EVALKEEP_WORK_LIMIT"));
  CHECK(db.work_limit_reached());
  CHECK(took < 5s);

  // Lifting the limit lets ordinary work go on.
  db.limit_work(0ms);
  CHECK_FALSE(db.limits_work());
  CHECK_FALSE(db.work_limit_reached());
  auto ok = db.scalar("SELECT 41 + 1");
  REQUIRE(ok);
  CHECK(*ok == 42);
}

TEST_CASE("a work limit leaves work within it alone", "[store]") {
  auto db = memory_db();
  db.limit_work(10s);
  auto r = db.scalar("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < "
                     "100000) SELECT count(*) FROM r");
  REQUIRE(r);
  CHECK(*r == 100000);
  CHECK_FALSE(db.work_limit_reached());
}

TEST_CASE("the work limit grows with the file and EVALKEEP_WORK_LIMIT overrides it", "[store]") {
  ::unsetenv("EVALKEEP_WORK_LIMIT");
  CHECK(store::work_limit_for(0) == 10s);
  CHECK(store::work_limit_for(60u << 20) == 22s);
  ::setenv("EVALKEEP_WORK_LIMIT", "2.5", 1);
  CHECK(store::work_limit_for(60u << 20) == 2500ms);
  ::setenv("EVALKEEP_WORK_LIMIT", "soon", 1);
  CHECK(store::work_limit_for(0) == 10s);
  ::unsetenv("EVALKEEP_WORK_LIMIT");
}

TEST_CASE("a write hook runs inside each write transaction and rolls back with it", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x); CREATE TABLE hooked (n)"));
  int commits = 0;
  db.on_write_begin([](Database& d) { return d.exec("INSERT INTO hooked VALUES (1)"); });
  db.on_commit([&commits](Database&) { ++commits; });
  {
    auto tx = Transaction::begin(db);
    REQUIRE(tx);
    REQUIRE(db.exec("INSERT INTO t VALUES (1)"));
    // dropped without commit: the hook's row goes with the caller's
  }
  CHECK(*db.scalar("SELECT count(*) FROM hooked") == 0);
  CHECK(commits == 0);
  {
    auto tx = Transaction::begin(db);
    REQUIRE(tx);
    REQUIRE(tx->commit());
  }
  CHECK(*db.scalar("SELECT count(*) FROM hooked") == 1);
  CHECK(commits == 1);
  // A reader's transaction runs no hook.
  {
    auto tx = Transaction::begin(db, Transaction::Kind::deferred);
    REQUIRE(tx);
  }
  CHECK(*db.scalar("SELECT count(*) FROM hooked") == 1);
}

TEST_CASE("a failing write hook fails begin and leaves nothing written", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x)"));
  db.on_write_begin([](Database& d) -> Status {
    TRY(d.exec("INSERT INTO t VALUES (1)"));
    return invalid("the hook refuses");
  });
  auto tx = Transaction::begin(db);
  REQUIRE_FALSE(tx);
  CHECK(tx.error().message == "the hook refuses");
  CHECK(*db.scalar("SELECT count(*) FROM t") == 0);
  // The failed begin did not leave a transaction open.
  CHECK(db.exec("BEGIN; COMMIT"));
}

TEST_CASE("reading a file another tool put in WAL mode leaves no -wal or -shm and the same bytes",
          "[store]") {
  test::TempDir dir;
  auto path = dir / "w.db";
  {
    auto db = Database::open(path, OpenMode::create);
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t (x); INSERT INTO t VALUES (1); PRAGMA journal_mode = WAL"));
  }
  REQUIRE_FALSE(std::filesystem::exists(path.string() + "-wal"));
  auto before = test::file_hash(path);
  {
    auto db = Database::open(path, OpenMode::read_only);
    REQUIRE(db);
    CHECK(db->read_only());
    CHECK(*db->scalar("SELECT count(*) FROM t") == 1);
    auto w = db->exec("INSERT INTO t VALUES (2)");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == ExitCode::environment);
  }
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path.string() + "-shm"));
  CHECK(test::file_hash(path) == before);
}
