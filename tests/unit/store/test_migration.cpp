#include "store/migration.hpp"
#include "support/temp_dir.hpp"

#include <array>

#include <catch2/catch.hpp>

using namespace evalkeep;
using store::Database;
using store::Migration;
using store::OpenMode;
using store::Schema;

namespace {

constexpr std::uint32_t k_test_app_id = 0x54455354; // "TEST"

constexpr std::array<Migration, 2> k_two_steps{{
    {1, "001_init", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"},
    {2, "002_tags", "CREATE TABLE tags (note INTEGER REFERENCES notes(id), tag TEXT);"},
}};

Schema first_step() {
  return {k_test_app_id, "test store", std::span<const Migration>(k_two_steps).first(1)};
}
Schema both_steps() {
  return {k_test_app_id, "test store", std::span<const Migration>(k_two_steps)};
}

std::int64_t scalar(Database& db, std::string_view sql) {
  auto v = db.scalar(sql);
  REQUIRE(v);
  return *v;
}

bool has_table(Database& db, const std::string& name) {
  return scalar(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '" + name +
                        "'") == 1;
}

} // namespace

TEST_CASE("prepare_schema creates an empty database's schema and stamps its identity", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  auto before = store::prepare_schema(*db, both_steps());
  REQUIRE(before);
  CHECK(*before == 0);
  CHECK(has_table(*db, "notes"));
  CHECK(has_table(*db, "tags"));
  CHECK(static_cast<std::uint32_t>(scalar(*db, "PRAGMA application_id")) == k_test_app_id);
  CHECK(scalar(*db, "PRAGMA user_version") == 2);

  // A second call finds the file current and changes nothing.
  auto again = store::prepare_schema(*db, both_steps());
  REQUIRE(again);
  CHECK(*again == 2);
}

TEST_CASE("prepare_schema creates the real suite schema", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  Schema suite{0x45564B53, "suite", store::suite_migrations()};
  REQUIRE(suite.latest() >= 1);
  REQUIRE(store::prepare_schema(*db, suite));
  for (const char* table : {"incidents", "cases", "retirements", "ledger"})
    CHECK(has_table(*db, table));
  CHECK(scalar(*db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'") >= 8);
  CHECK(static_cast<std::uint32_t>(scalar(*db, "PRAGMA application_id")) == 0x45564B53);
  CHECK(scalar(*db, "PRAGMA user_version") == suite.latest());
}

TEST_CASE("prepare_schema applies only the pending migrations of an older file", "[store]") {
  test::TempDir dir;
  auto path = dir / "notes.db";
  {
    auto db = Database::open(path, OpenMode::create);
    REQUIRE(db);
    REQUIRE(store::prepare_schema(*db, first_step()));
    REQUIRE(db->exec("INSERT INTO notes (body) VALUES ('kept')"));
  }
  auto db = Database::open(path, OpenMode::read_write);
  REQUIRE(db);
  auto before = store::prepare_schema(*db, both_steps());
  REQUIRE(before);
  CHECK(*before == 1);
  CHECK(has_table(*db, "tags"));
  CHECK(scalar(*db, "PRAGMA user_version") == 2);
  CHECK(scalar(*db, "SELECT count(*) FROM notes WHERE body = 'kept'") == 1);
}

TEST_CASE("prepare_schema refuses a database that belongs to another application", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(db->exec("PRAGMA application_id = 1234; CREATE TABLE other (x)"));
  auto r = store::prepare_schema(*db, both_steps());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("not an evalkeep test store"));
  CHECK_FALSE(has_table(*db, "notes"));
}

TEST_CASE("prepare_schema refuses a plain SQLite file that already has tables", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(db->exec("CREATE TABLE someone_elses (x)"));
  auto r = store::prepare_schema(*db, both_steps());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("not an evalkeep test store"));
  CHECK_FALSE(has_table(*db, "notes"));
}

TEST_CASE("prepare_schema refuses a file written by a newer evalkeep", "[store]") {
  auto db = Database::open_memory();
  REQUIRE(db);
  REQUIRE(db->exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = 3; "
                               "CREATE TABLE notes (x)",
                               static_cast<std::int32_t>(k_test_app_id))));
  auto r = store::prepare_schema(*db, both_steps());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("newer evalkeep"));
  CHECK_THAT(r.error().message, Catch::Contains("3"));
  CHECK_THAT(r.error().hint, Catch::Contains("upgrade"));
  CHECK(scalar(*db, "PRAGMA user_version") == 3);
}

TEST_CASE("a read-only connection takes an older file as it is, without migrating it", "[store]") {
  test::TempDir dir;
  auto path = dir / "notes.db";
  {
    auto db = Database::open(path, OpenMode::create);
    REQUIRE(db);
    REQUIRE(store::prepare_schema(*db, first_step()));
  }
  auto hash = test::file_hash(path);
  auto ro = Database::open(path, OpenMode::read_only);
  REQUIRE(ro);
  auto r = store::prepare_schema(*ro, both_steps());
  REQUIRE(r);
  CHECK(*r == 1);
  CHECK(scalar(*ro, "PRAGMA user_version") == 1);
  CHECK_FALSE(has_table(*ro, "tags"));
  CHECK(test::file_hash(path) == hash);

  // A writer migrates it.
  auto rw = Database::open(path, OpenMode::read_write);
  REQUIRE(rw);
  REQUIRE(store::prepare_schema(*rw, both_steps()));
  CHECK(scalar(*rw, "PRAGMA user_version") == 2);
}

TEST_CASE("a read-only connection refuses a file with no schema at all", "[store]") {
  test::TempDir dir;
  auto path = dir / "empty.db";
  test::write_file(path, "");
  auto ro = Database::open(path, OpenMode::read_only);
  REQUIRE(ro);
  auto r = store::prepare_schema(*ro, both_steps());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("schema version 0"));
}

TEST_CASE("a failing migration leaves the file at its previous version", "[store]") {
  test::TempDir dir;
  auto path = dir / "notes.db";
  {
    auto db = Database::open(path, OpenMode::create);
    REQUIRE(db);
    REQUIRE(store::prepare_schema(*db, first_step()));
  }
  constexpr std::array<Migration, 3> broken{{
      k_two_steps[0],
      k_two_steps[1],
      {3, "003_broken", "CREATE TABLE extra (x); THIS IS NOT SQL;"},
  }};
  auto db = Database::open(path, OpenMode::read_write);
  REQUIRE(db);
  auto r = store::prepare_schema(*db, {k_test_app_id, "test store", broken});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::StartsWith("schema migration 003_broken: "));
  CHECK(scalar(*db, "PRAGMA user_version") == 1);
  CHECK_FALSE(has_table(*db, "tags"));
  CHECK_FALSE(has_table(*db, "extra"));
}
