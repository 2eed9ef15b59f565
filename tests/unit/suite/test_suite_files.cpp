// Suite files that are not what they seem, and how opening one for writing leaves the file alone
// until a change succeeds.

#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/suite.hpp"
#include "suite/verify.hpp"
#include "support/suite_fixture.hpp"

#include <chrono>
#include <filesystem>
#include <sys/stat.h>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
namespace fs = std::filesystem;

namespace {

std::vector<Result<Suite>> open_every_way(const fs::path& path) {
  std::vector<Result<Suite>> out;
  out.push_back(Suite::open(path, Suite::Access::read));
  out.push_back(Suite::open(path, Suite::Access::write));
  out.push_back(Suite::open_untrusted(path));
  return out;
}

bool has_companions(const fs::path& path) {
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    if (fs::exists(path.string() + suffix))
      return true;
  return false;
}

} // namespace

TEST_CASE("a suite path that is a FIFO, a device or a folder is refused at once", "[suite]") {
  test::TempDir dir;
  auto fifo = dir / "suite.db";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  struct Path {
    fs::path path;
    std::string says;
  };
  for (const auto& p : std::vector<Path>{{fifo, "is a FIFO (named pipe), not a suite file"},
                                         {"/dev/null", "is a character device"},
                                         {"/dev/zero", "is a character device"},
                                         {dir.path(), "is a directory"}}) {
    INFO(p.path);
    auto started = std::chrono::steady_clock::now();
    for (auto& r : open_every_way(p.path)) {
      REQUIRE_FALSE(r);
      CHECK(r.error().code == ExitCode::usage);
      CHECK_THAT(r.error().message, Catch::Contains(p.says));
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  }
}

TEST_CASE("an empty file is refused for writing as for reading, and stays empty", "[suite]") {
  test::TempDir dir;
  auto path = dir / "suite.db";
  test::write_file(path, "");
  for (auto& r : open_every_way(path)) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    CHECK_THAT(r.error().message, Catch::Contains("is an empty file (0 bytes), not a suite"));
    CHECK_THAT(r.error().hint, Catch::Contains("evalkeep init"));
  }
  CHECK(fs::file_size(path) == 0);
  CHECK_FALSE(has_companions(path));
}

TEST_CASE("a valid SQLite file with no schema is not a suite, for writers too", "[suite]") {
  test::TempDir dir;
  auto path = dir / "suite.db";
  {
    auto db = store::Database::open(path, store::OpenMode::create);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA page_size = 4096; VACUUM")); // a header, no objects
  }
  auto before = test::file_hash(path);
  for (auto& r : open_every_way(path)) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    CHECK_THAT(r.error().message, Catch::Contains("schema version 0"));
  }
  CHECK(test::file_hash(path) == before);
}

TEST_CASE("a truncated suite is refused for writing as for reading", "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  {
    auto s = test::suite_with_case(dir, "refund-window", "INC-7");
    for (int i = 0; i < 50; ++i)
      test::add_case(s, test::make_case("case-" + std::to_string(i), "INC-7"));
  }
  auto bytes = test::read_file(path);
  test::write_file(path, bytes.substr(0, bytes.size() / 2));
  auto before = test::file_hash(path);
  for (auto& r : open_every_way(path)) {
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    CHECK_THAT(r.error().message, Catch::Contains("is corrupt: it is truncated"));
  }
  CHECK(test::file_hash(path) == before);
}

TEST_CASE("opening an older suite for writing migrates it only with a change that commits",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  test::set_schema_version(path, 2);
  auto before = test::file_hash(path);
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    CHECK(*s->schema_version() == 2);
    // Refused: the case exists already. The migration rolled back with it.
    REQUIRE_FALSE(
        add_case(*s, test::make_case("refund-window", "INC-7"), Policy{}, test::origin()));
    REQUIRE_FALSE(add_incident(*s, {"INC-7", "Again", {}, {}, {}, {}}, test::origin()));
    CHECK(*s->schema_version() == 2);
  }
  CHECK(test::file_hash(path) == before);
  CHECK_FALSE(has_companions(path));
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    REQUIRE(add_case(*s, test::make_case("late-delivery", "INC-7"), Policy{}, test::origin()));
    CHECK(*s->schema_version() == Suite::latest_schema_version());
  }
  auto s = Suite::open(path, Suite::Access::read);
  REQUIRE(s);
  auto report = verify(*s);
  REQUIRE(report);
  CHECK(report->ok());
  CHECK(report->schema_version == Suite::latest_schema_version());
}

TEST_CASE("upgrade moves an older suite to the latest schema and does nothing to a current one",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  test::set_schema_version(path, 1);
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    auto u = s->upgrade();
    REQUIRE(u);
    CHECK(u->from == 1);
    CHECK(u->to == Suite::latest_schema_version());
    CHECK(u->changed());
  }
  auto before = test::file_hash(path);
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    auto u = s->upgrade();
    REQUIRE(u);
    CHECK_FALSE(u->changed());
  }
  CHECK(test::file_hash(path) == before);
  auto reader = Suite::open(path, Suite::Access::read);
  REQUIRE(reader);
  CHECK_FALSE(reader->upgrade());
}

TEST_CASE("a suite another tool switched to WAL is left as it was by a refused change and "
          "switched back by one that commits",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto db = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA journal_mode = WAL"));
  }
  auto before = test::file_hash(path);
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    REQUIRE_FALSE(
        add_case(*s, test::make_case("refund-window", "INC-7"), Policy{}, test::origin()));
  }
  CHECK(test::file_hash(path) == before);
  CHECK_FALSE(has_companions(path));
  {
    auto s = Suite::open(path, Suite::Access::read);
    REQUIRE(s);
    CHECK(list_cases(*s, {}));
  }
  CHECK(test::file_hash(path) == before);
  CHECK_FALSE(has_companions(path));
  {
    auto s = Suite::open(path, Suite::Access::write);
    REQUIRE(s);
    REQUIRE(add_case(*s, test::make_case("late-delivery", "INC-7"), Policy{}, test::origin()));
  }
  CHECK_FALSE(has_companions(path));
  auto db = store::Database::open(path, store::OpenMode::read_only);
  REQUIRE(db);
  auto mode = db->prepare("PRAGMA journal_mode");
  REQUIRE(mode);
  REQUIRE(*mode->step());
  CHECK(mode->text(0) == "delete");
}

TEST_CASE("open_untrusted refuses a suite whose tables are not evalkeep's before checking it",
          "[suite]") {
  test::TempDir dir;
  auto path = test::suite_path(dir);
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  {
    auto db = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(db);
    REQUIRE(db->exec("ALTER TABLE cases RENAME COLUMN title TO headline"));
  }
  auto r = Suite::open_untrusted(path);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("does not have evalkeep's schema"));
  CHECK_THAT(r.error().message, Catch::Contains("column title is missing"));
  CHECK_THAT(r.error().hint, Catch::Contains("verify"));

  // A trigger more or less leaves the tables readable: verify reports it.
  test::TempDir other;
  auto path2 = test::suite_path(other);
  { auto s = test::suite_with_case(other, "refund-window", "INC-7"); }
  {
    auto db = store::Database::open(path2, store::OpenMode::read_write);
    REQUIRE(db);
    REQUIRE(db->exec("DROP TRIGGER cases_delete_needs_decision"));
  }
  auto ok = Suite::open_untrusted(path2);
  REQUIRE(ok);
  auto report = verify(*ok);
  REQUIRE(report);
  REQUIRE(report->problems.size() == 1);
  CHECK(report->problems[0].kind == VerifyProblem::Kind::schema);
}

TEST_CASE("schema_differences lists nothing for a suite evalkeep made", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  auto d = schema_differences(s.db(), Suite::latest_schema_version());
  REQUIRE(d);
  CHECK(d->empty());
}

TEST_CASE("create makes an in-memory suite, at the latest schema", "[suite]") {
  auto s = Suite::create(":memory:");
  REQUIRE(s);
  CHECK(*s->schema_version() == Suite::latest_schema_version());
  auto d = schema_differences(s->db(), Suite::latest_schema_version());
  REQUIRE(d);
  CHECK(d->empty());
}
