#include "store/database.hpp"
#include "support/temp_dir.hpp"

#include <array>
#include <cstdint>

#include <catch2/catch.hpp>

using namespace evalkeep;
using store::Database;
using store::OpenMode;
using store::Transaction;

namespace {

Database memory_db() {
  auto db = Database::open_memory();
  REQUIRE(db);
  return std::move(*db);
}

} // namespace

TEST_CASE("a statement binds and reads back text, integers, reals, NULL and blobs", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (s TEXT, i INTEGER, r REAL, n TEXT, b BLOB, o TEXT)"));
  auto insert = db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)");
  REQUIRE(insert);
  const std::array<std::uint8_t, 4> bytes{0x00, 0xff, 0x10, 0x00};
  std::optional<std::string> none;
  insert->bind_all(std::string("caf\xC3\xA9 \"quoted\""), std::int64_t{1} << 40, 0.25, nullptr,
                   std::span<const std::uint8_t>(bytes), none);
  REQUIRE(insert->run());

  auto select = db.prepare("SELECT s, i, r, n, b, o FROM t");
  REQUIRE(select);
  auto row = select->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(select->str(0) == "caf\xC3\xA9 \"quoted\"");
  CHECK(select->integer(1) == (std::int64_t{1} << 40));
  CHECK(select->real(2) == 0.25);
  CHECK(select->is_null(3));
  CHECK_FALSE(select->opt_str(3).has_value());
  auto blob = select->blob(4);
  CHECK(std::vector<std::uint8_t>(blob.begin(), blob.end()) ==
        std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  CHECK(select->is_null(5));
  CHECK_FALSE(select->is_null(0));
  CHECK(select->opt_str(0) == std::optional<std::string>("caf\xC3\xA9 \"quoted\""));
  auto done = select->step();
  REQUIRE(done);
  CHECK_FALSE(*done);
}

TEST_CASE("a statement keeps text with embedded NUL bytes intact", "[store]") {
  auto db = memory_db();
  auto stmt = db.prepare("SELECT length(CAST(?1 AS BLOB)), ?1");
  REQUIRE(stmt);
  using namespace std::string_view_literals;
  stmt->bind(1, "a\0b"sv);
  auto row = stmt->step();
  REQUIRE(row);
  REQUIRE(*row);
  CHECK(stmt->integer(0) == 3);
  CHECK(stmt->text(1) == "a\0b"sv);
}

TEST_CASE("a statement can run again after run() with new bindings", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER)"));
  auto insert = db.prepare("INSERT INTO t VALUES (?)");
  REQUIRE(insert);
  for (int i = 1; i <= 3; ++i) {
    insert->bind(1, i);
    REQUIRE(insert->run());
  }
  auto sum = db.scalar("SELECT sum(x) FROM t");
  REQUIRE(sum);
  CHECK(*sum == 6);
}

TEST_CASE("a bind error is reported by step, naming the parameter", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x TEXT)"));
  auto stmt = db.prepare("INSERT INTO t VALUES (?)");
  REQUIRE(stmt);
  stmt->bind(1, "fine").bind(5, "out of range").bind(7, "also out of range");
  auto r = stmt->step();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::StartsWith("bind parameter 5:"));
  auto rows = db.scalar("SELECT count(*) FROM t");
  REQUIRE(rows);
  CHECK(*rows == 0); // the statement never ran

  auto again = stmt->run();
  REQUIRE_FALSE(again);
  stmt->reset(); // clears the kept error
  stmt->bind(1, "second try");
  REQUIRE(stmt->run());
  CHECK(*db.scalar("SELECT count(*) FROM t") == 1);
}

TEST_CASE("each_row visits every row a query gives, with its parameters bound", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (k TEXT, v INTEGER); INSERT INTO t VALUES ('a', 1), ('b', 2), "
                  "('a', 3), ('c', 4)"));
  std::vector<std::int64_t> seen;
  auto collect = [&](const store::Statement& row) { seen.push_back(row.integer(0)); };
  REQUIRE(store::each_row(db, "SELECT v FROM t ORDER BY v", collect));
  CHECK(seen == std::vector<std::int64_t>{1, 2, 3, 4});
  seen.clear();
  REQUIRE(store::each_row(db, "SELECT v FROM t WHERE k = ?1 AND v > ?2 ORDER BY v", collect,
                          std::string("a"), std::int64_t{0}));
  CHECK(seen == std::vector<std::int64_t>{1, 3});
  seen.clear();
  REQUIRE(store::each_row(db, "SELECT v FROM t WHERE k = ?1", collect, "none"));
  CHECK(seen.empty());
  // A bad query is an error, and no row is visited.
  CHECK_FALSE(store::each_row(db, "SELECT nope FROM t", collect));
  CHECK(seen.empty());
}

TEST_CASE("each_row stops at the first row whose callback fails, and returns that error",
          "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3)"));
  auto stmt = db.prepare("SELECT v FROM t ORDER BY v");
  REQUIRE(stmt);
  std::vector<std::int64_t> seen;
  auto r = store::each_row(*stmt, [&](const store::Statement& row) -> Status {
    seen.push_back(row.integer(0));
    if (row.integer(0) == 2)
      return refuse("stop at {}", row.integer(0));
    return {};
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "stop at 2");
  CHECK(seen == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("bad SQL is an error from prepare, not a crash", "[store]") {
  auto db = memory_db();
  auto stmt = db.prepare("SELEC 1");
  REQUIRE_FALSE(stmt);
  CHECK_THAT(stmt.error().message, Catch::Contains("syntax error"));
  auto exec = db.exec("CREATE TABLE");
  REQUIRE_FALSE(exec);
}

TEST_CASE("scalar returns the first column of the first row, or 0 without rows", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER)"));
  CHECK(*db.scalar("SELECT x FROM t") == 0);
  REQUIRE(db.exec("INSERT INTO t VALUES (41), (42)"));
  CHECK(*db.scalar("SELECT max(x) FROM t") == 42);
}

TEST_CASE("a transaction dropped without commit rolls its writes back", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER)"));
  {
    auto tx = Transaction::begin(db);
    REQUIRE(tx);
    REQUIRE(db.exec("INSERT INTO t VALUES (1), (2)"));
    CHECK(*db.scalar("SELECT count(*) FROM t") == 2);
  }
  CHECK(*db.scalar("SELECT count(*) FROM t") == 0);

  // The connection is usable again: a new transaction can begin.
  auto tx = Transaction::begin(db);
  REQUIRE(tx);
}

TEST_CASE("a committed transaction keeps its writes", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER)"));
  {
    auto tx = Transaction::begin(db);
    REQUIRE(tx);
    REQUIRE(db.exec("INSERT INTO t VALUES (1)"));
    REQUIRE(tx->commit());
  }
  CHECK(*db.scalar("SELECT count(*) FROM t") == 1);
}

TEST_CASE("a moved-from transaction does not roll back the moved-to one", "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER)"));
  {
    auto tx = Transaction::begin(db);
    REQUIRE(tx);
    Transaction moved(std::move(*tx));
    REQUIRE(db.exec("INSERT INTO t VALUES (1)"));
    REQUIRE(moved.commit());
  }
  CHECK(*db.scalar("SELECT count(*) FROM t") == 1);
}

TEST_CASE("errors raised by evalkeep triggers are refusals without the evalkeep prefix",
          "[store]") {
  auto db = memory_db();
  REQUIRE(db.exec("CREATE TABLE t (x INTEGER NOT NULL)"));
  REQUIRE(db.exec("CREATE TRIGGER t_guard BEFORE DELETE ON t BEGIN "
                  "SELECT RAISE(ABORT, 'evalkeep: refusing to delete x'); END"));
  REQUIRE(db.exec("INSERT INTO t VALUES (1)"));

  auto del = db.exec("DELETE FROM t");
  REQUIRE_FALSE(del);
  CHECK(del.error().code == ExitCode::refused);
  CHECK(del.error().message == "refusing to delete x");

  auto stmt = db.prepare("DELETE FROM t WHERE x = ?");
  REQUIRE(stmt);
  stmt->bind(1, 1);
  auto step = stmt->step();
  REQUIRE_FALSE(step);
  CHECK(step.error().code == ExitCode::refused);
  CHECK(step.error().message == "refusing to delete x");

  auto not_null = db.exec("INSERT INTO t VALUES (NULL)");
  REQUIRE_FALSE(not_null);
  CHECK(not_null.error().code == ExitCode::refused);
  CHECK_THAT(not_null.error().message, Catch::Contains("NOT NULL"));
  CHECK(*db.scalar("SELECT count(*) FROM t") == 1);
}

TEST_CASE("a database locked by another connection is an environment error", "[store]") {
  test::TempDir dir;
  auto path = dir / "locked.db";
  auto holder = Database::open(path, OpenMode::create);
  REQUIRE(holder);
  REQUIRE(holder->exec("CREATE TABLE t (x INTEGER)"));
  auto other = Database::open(path, OpenMode::read_write);
  REQUIRE(other);
  REQUIRE(other->exec("PRAGMA busy_timeout = 0")); // fail at once instead of waiting 10 s

  auto held = Transaction::begin(*holder);
  REQUIRE(held);
  auto blocked = Transaction::begin(*other);
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().code == ExitCode::environment);
  CHECK_THAT(blocked.error().message, Catch::Contains("locked"));
  CHECK_FALSE(blocked.error().hint.empty());

  REQUIRE(held->commit());
  auto now_free = Transaction::begin(*other);
  CHECK(now_free);
}

TEST_CASE("opening a missing file without create is an environment error", "[store]") {
  test::TempDir dir;
  auto db = Database::open(dir / "absent.db", OpenMode::read_write);
  REQUIRE_FALSE(db);
  CHECK(db.error().code == ExitCode::environment);
  CHECK_FALSE(std::filesystem::exists(dir / "absent.db"));
}

TEST_CASE("a file that is not SQLite is reported as such", "[store]") {
  test::TempDir dir;
  auto path = dir / "notes.txt";
  test::write_file(path, std::string(4096, 'x'));
  auto db = Database::open(path, OpenMode::read_only);
  Error e;
  if (db) {
    auto r = db->scalar("SELECT count(*) FROM sqlite_schema");
    REQUIRE_FALSE(r);
    e = r.error();
  } else {
    e = db.error();
  }
  CHECK(e.code == ExitCode::usage);
  CHECK_THAT(e.message, Catch::Contains("not an SQLite database"));
}

TEST_CASE("writing through a read-only connection is an environment error", "[store]") {
  test::TempDir dir;
  auto path = dir / "ro.db";
  {
    auto db = Database::open(path, OpenMode::create);
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t (x INTEGER)"));
  }
  auto before = test::file_hash(path);
  auto ro = Database::open(path, OpenMode::read_only);
  REQUIRE(ro);
  CHECK(ro->read_only());
  auto w = ro->exec("INSERT INTO t VALUES (1)");
  REQUIRE_FALSE(w);
  CHECK(w.error().code == ExitCode::environment);
  CHECK_THAT(w.error().message, Catch::Contains("read-only"));
  CHECK(test::file_hash(path) == before);
}
