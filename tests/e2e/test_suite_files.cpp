// Suite files that are not what they seem: a FIFO, a device or a folder is refused at once; an
// empty or truncated file is refused by every command, writing ones too; and a refused command
// leaves the file byte-for-byte as it was, even an older schema or a file switched to WAL.

#include "suite/suite.hpp"
#include "support/e2e.hpp"
#include "support/suite_fixture.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

// Commands that must be refused on the seeded suite, whatever its schema or journal mode.
const std::vector<std::vector<std::string>>& refused_commands() {
  static const std::vector<std::vector<std::string>> commands{
      {"rm", "refund-window"},                                      // no decision
      {"edit", "no-such-case", "--title", "x", "--rationale", "y"}, // unknown case
      {"add", "--id", "new-case", "--prompt", "p", "--expect", "contains:x", "--bogus"},
      {"add", "--id", "refund-window", "--prompt", "p", "--expect", "contains:x", "--provenance",
       "spec:s"}, // the id exists
      {"incident", "add", "INC-7", "--title", "again"},
      {"retire", "tone-apology", "--reason", "no-such-reason", "--rationale", "x"},
  };
  return commands;
}

// Read commands that must succeed and leave the file as it was.
const std::vector<std::vector<std::string>>& read_commands() {
  static const std::vector<std::vector<std::string>> commands{
      {"list"}, {"show", "refund-window"}, {"verify"}, {"log"}, {"export"}, {"incident", "list"}};
  return commands;
}

void no_companions(const fs::path& suite) {
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    INFO(suffix);
    CHECK_FALSE(fs::exists(suite.string() + suffix));
  }
}

evalkeep::core::ProcessResult evalkeep_with_timeout(const Repo& repo,
                                                    const std::vector<std::string>& args) {
  std::vector<std::string> argv{EVALKEEP_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = evalkeep::core::run_process(
      argv, {.cwd = repo.path(), .stdin_data = {}, .env = {}, .timeout_ms = 10000});
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("a suite path that is a FIFO, a device or a folder is refused at once with exit 2",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  auto fifo = repo.path() / "pipe.db";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_directories(repo.path() / "folder.db");
  struct Path {
    std::string path, says;
  };
  for (const auto& p : std::vector<Path>{{"pipe.db", "is a FIFO (named pipe)"},
                                         {"/dev/null", "is a character device"},
                                         {"/dev/zero", "is a character device"},
                                         {"folder.db", "is a directory"}}) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"list"},
                                               {"verify"},
                                               {"add", "--id", "x", "--prompt", "p", "--expect",
                                                "contains:x", "--provenance", "spec:s"},
                                               {"upgrade"},
                                               {"dump", p.path}}) {
      std::vector<std::string> full{"--suite", p.path};
      full.insert(full.end(), args.begin(), args.end());
      INFO(command_line(full));
      auto r = evalkeep_with_timeout(repo, full);
      INFO(r.err);
      CHECK_FALSE(r.timed_out);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK_THAT(r.err, Catch::Contains(p.says));
    }
  }
  CHECK(fs::is_fifo(fifo));
}

TEST_CASE("an empty or truncated suite file is refused by writing commands too, and left as it "
          "was",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  std::string jsonl;
  for (int i = 0; i < 200; ++i)
    jsonl += "{\"type\":\"case\",\"id\":\"c" + std::to_string(i) +
             "\",\"prompt\":\"p\",\"expect\":[{\"type\":\"contains\",\"value\":\"x\"}],"
             "\"provenance\":{\"kind\":\"spec\",\"note\":\"n\"}}\n";
  must_succeed(repo, {"-q", "import", "-"}, jsonl);
  auto whole = read_file(repo.suite());
  struct File {
    std::string what, bytes, says;
  };
  for (const auto& f :
       std::vector<File>{{"empty", "", "is an empty file (0 bytes), not a suite"},
                         {"truncated", whole.substr(0, whole.size() / 2), "it is truncated"}}) {
    INFO(f.what);
    write_file(repo.suite(), f.bytes);
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"incident", "add", "INC-9", "--title", "t"},
                                               {"add", "--id", "x", "--prompt", "p", "--expect",
                                                "contains:x", "--provenance", "spec:s"},
                                               {"import", example_suite().string()},
                                               {"upgrade"},
                                               {"list"},
                                               {"verify"}}) {
      auto r = must_fail(repo, 2, args);
      CHECK_THAT(r.err, Catch::Contains(f.says));
      no_companions(repo.suite());
    }
    CHECK(read_file(repo.suite()) == f.bytes);
  }
  // init does not overwrite it either.
  must_fail(repo, 2, {"init"});
}

TEST_CASE("refused commands leave an older suite byte-for-byte, one that succeeds upgrades it",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  set_schema_version(repo.suite(), 2);
  auto before = file_hash(repo.suite());
  for (const auto& args : refused_commands()) {
    INFO(command_line(args));
    auto r = repo.evalkeep(args);
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    CHECK(file_hash(repo.suite()) == before);
    no_companions(repo.suite());
  }
  for (const auto& args : read_commands()) {
    must_succeed(repo, args);
    CHECK(file_hash(repo.suite()) == before);
  }
  auto latest = std::to_string(evalkeep::suite::Suite::latest_schema_version());
  RawSqlite raw(repo.suite());
  CHECK(raw.integer("PRAGMA user_version") == 2);

  must_succeed(repo, {"incident", "add", "INC-8", "--title", "A second incident"});
  CHECK(std::to_string(raw.integer("PRAGMA user_version")) == latest);
  must_succeed(repo, {"verify"});
  no_companions(repo.suite());
}

TEST_CASE("evalkeep upgrade says which version it moved from and to, and a current suite is left "
          "alone",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  set_schema_version(repo.suite(), 2);
  auto latest = std::to_string(evalkeep::suite::Suite::latest_schema_version());
  auto r = must_succeed(repo, {"upgrade"});
  CHECK_THAT(r.out, Catch::Contains("from schema version 2 to " + latest));
  CHECK(std::to_string(RawSqlite(repo.suite()).integer("PRAGMA user_version")) == latest);
  must_succeed(repo, {"verify"});
  auto before = file_hash(repo.suite());
  auto again = must_succeed(repo, {"upgrade"});
  CHECK_THAT(again.out, Catch::Contains("already at schema version " + latest));
  CHECK_THAT(again.out, Catch::Contains("nothing to upgrade"));
  CHECK(file_hash(repo.suite()) == before);
  CHECK(must_succeed(repo, {"-q", "upgrade"}).out.empty());
  no_companions(repo.suite());
}

TEST_CASE("a suite another tool switched to WAL is left byte-for-byte by refused and read "
          "commands, and switched back by one that succeeds",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  RawSqlite(repo.suite()).exec("PRAGMA journal_mode = WAL");
  no_companions(repo.suite());
  auto before = file_hash(repo.suite());
  for (const auto& args : refused_commands()) {
    INFO(command_line(args));
    auto r = repo.evalkeep(args);
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    CHECK(file_hash(repo.suite()) == before);
    no_companions(repo.suite());
  }
  for (const auto& args : read_commands()) {
    INFO(command_line(args));
    must_succeed(repo, args);
    CHECK(file_hash(repo.suite()) == before);
    no_companions(repo.suite());
  }
  must_succeed(repo, {"edit", "tone-apology", "--title", "Late order", "--rationale", "a title"});
  no_companions(repo.suite());
  auto mode = repo.run({"sqlite3", repo.suite().string(), "PRAGMA journal_mode"});
  CHECK(mode.out == "delete\n");
  must_succeed(repo, {"verify"});
}

TEST_CASE("evalkeep upgrade puts a WAL-switched suite back in rollback-journal mode",
          "[e2e][files]") {
  Repo repo;
  seed_suite(repo);
  RawSqlite(repo.suite()).exec("PRAGMA journal_mode = WAL");
  auto r = must_succeed(repo, {"upgrade"});
  CHECK_THAT(r.out, Catch::Contains("back to a rollback journal"));
  no_companions(repo.suite());
  CHECK(repo.run({"sqlite3", repo.suite().string(), "PRAGMA journal_mode"}).out == "delete\n");
}
