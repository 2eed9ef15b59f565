#include "suite/cases.hpp"
#include "suite/suite.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;

TEST_CASE("create makes a suite file with evalkeep's identity and folders", "[suite]") {
  test::TempDir dir;
  auto path = dir / "deep/nested/suite.db";
  auto s = Suite::create(path);
  REQUIRE(s);
  CHECK(std::filesystem::exists(path));
  CHECK(s->path() == path);
  CHECK(static_cast<std::uint32_t>(test::count(s->db(), "PRAGMA application_id")) ==
        k_suite_application_id);
  CHECK(test::count(s->db(), "PRAGMA user_version") >= 1);
  CHECK(test::count(s->db(), "SELECT count(*) FROM cases") == 0);
}

TEST_CASE("create refuses to overwrite an existing file", "[suite]") {
  test::TempDir dir;
  auto path = dir / "suite.db";
  test::write_file(path, "precious notes");
  auto s = Suite::create(path);
  REQUIRE_FALSE(s);
  CHECK_THAT(s.error().message, Catch::Contains("already exists"));
  CHECK(test::read_file(path) == "precious notes");
}

TEST_CASE("a suite keeps no -wal or -journal files next to it after a write", "[suite]") {
  test::TempDir dir;
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == 1);
  }
  auto path = test::suite_path(dir);
  CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path.string() + "-shm"));
  CHECK_FALSE(std::filesystem::exists(path.string() + "-journal"));
}

TEST_CASE("open finds the cases written earlier", "[suite]") {
  test::TempDir dir;
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  for (auto access : {Suite::Access::read, Suite::Access::write}) {
    auto s = Suite::open(test::suite_path(dir), access);
    REQUIRE(s);
    auto c = get_case(*s, "refund-window");
    REQUIRE(c);
    CHECK(c->provenance.incident == "INC-7");
  }
}

TEST_CASE("opening for reading leaves the file's bytes unchanged and refuses writes", "[suite]") {
  test::TempDir dir;
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  auto path = test::suite_path(dir);
  auto before = test::file_hash(path);
  {
    auto s = Suite::open(path, Suite::Access::read);
    REQUIRE(s);
    CHECK(list_cases(*s, {}));
    auto w = add_case(*s, test::make_case("another", "INC-7"), Policy{}, test::origin());
    REQUIRE_FALSE(w);
    CHECK(w.error().code == ExitCode::environment);
  }
  CHECK(test::file_hash(path) == before);
}

TEST_CASE("open explains a missing suite and suggests init", "[suite]") {
  test::TempDir dir;
  auto s = Suite::open(dir / "evals/suite.db", Suite::Access::read);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ExitCode::usage);
  CHECK_THAT(s.error().message, Catch::Contains("no suite at"));
  CHECK_THAT(s.error().hint, Catch::Contains("evalkeep init"));
  CHECK_FALSE(std::filesystem::exists(dir / "evals/suite.db"));

  auto folder = Suite::open(dir.path(), Suite::Access::read);
  REQUIRE_FALSE(folder);
  CHECK_THAT(folder.error().message, Catch::Contains("is a directory"));
}

TEST_CASE("open refuses an SQLite file that is not an evalkeep suite", "[suite]") {
  test::TempDir dir;
  auto path = dir / "other.db";
  {
    auto db = store::Database::open(path, store::OpenMode::create);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA application_id = 42; CREATE TABLE notes (x)"));
  }
  auto before = test::file_hash(path);
  for (auto access : {Suite::Access::read, Suite::Access::write}) {
    auto s = Suite::open(path, access);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ExitCode::usage);
    CHECK_THAT(s.error().message, Catch::Contains("not an evalkeep suite"));
    CHECK_THAT(s.error().message, Catch::Contains("other.db"));
  }
  CHECK(test::file_hash(path) == before);

  auto text = dir / "notes.txt";
  test::write_file(text, std::string(2048, 'n'));
  auto t = Suite::open(text, Suite::Access::read);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == ExitCode::usage);
}

TEST_CASE("open refuses a suite written by a newer evalkeep", "[suite]") {
  test::TempDir dir;
  { auto s = test::empty_suite(dir); }
  auto path = test::suite_path(dir);
  {
    auto db = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version = 999"));
  }
  auto s = Suite::open(path, Suite::Access::write);
  REQUIRE_FALSE(s);
  CHECK_THAT(s.error().message, Catch::Contains("newer evalkeep"));
  CHECK_THAT(s.error().hint, Catch::Contains("upgrade"));
}
