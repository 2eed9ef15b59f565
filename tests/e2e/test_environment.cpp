// Files and environment: the wrong kind of file, a newer schema, a read-only or locked suite, a
// missing git identity, configuration errors, and where evalkeep looks for the suite.

#include "support/e2e.hpp"

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

// HOME and git's global and system configuration out of the way: no identity anywhere.
std::vector<std::string> no_identity(const TempDir& home) {
  return {"HOME=" + home.path().string(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
          "EVALKEEP_ACTOR="};
}

std::vector<std::string> add_spec_case(const std::string& id) {
  return {"add",
          "--id",
          id,
          "--prompt",
          "Hello there",
          "--expect",
          "icontains:hello",
          "--provenance",
          "spec:greeting policy"};
}

} // namespace

TEST_CASE("a plain SQLite file is not taken for a suite", "[e2e][environment]") {
  Repo repo;
  auto made = repo.run({"sqlite3", "x.db", "create table t(a)"});
  REQUIRE(made.exit_code == 0);
  auto file = repo.path() / "x.db";
  auto before = file_hash(file);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--suite", "x.db", "list"},
           {"--suite", "x.db", "verify"},
           {"--suite", "x.db", "incident", "add", "INC-1", "--title", "t"},
           {"--suite", "x.db", "import", example_suite().string()}}) {
    auto r = must_fail(repo, 2, args);
    CHECK_THAT(r.err, Catch::Contains("not an evalkeep suite"));
    CHECK(file_hash(file) == before);
  }
}

TEST_CASE("a text file given as the suite is refused with a clear error", "[e2e][environment]") {
  Repo repo;
  auto file = repo.path() / "notes.txt";
  write_file(file, "These are my notes about the eval suite, not a database at all.\n"
                   "Line two of the notes, to make the file a little longer than a header.\n");
  auto before = file_hash(file);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--suite", "notes.txt", "list"},
           {"--suite", "notes.txt", "add", "--id", "x", "--prompt", "p", "--expect", "contains:x",
            "--provenance", "spec:s"}}) {
    auto r = must_fail(repo, 2, args);
    CHECK_THAT(r.err, Catch::Contains("not an SQLite database"));
    CHECK_THAT(r.err, Catch::Contains("notes.txt"));
    CHECK(file_hash(file) == before);
  }
}

TEST_CASE("a missing suite or a folder given as the suite is an input error",
          "[e2e][environment]") {
  Repo repo;
  auto missing = must_fail(repo, 2, {"list"});
  CHECK_THAT(missing.err, Catch::Contains("no suite at"));
  CHECK_THAT(missing.err, Catch::Contains("evalkeep init"));
  CHECK_FALSE(fs::exists(repo.suite()));
  fs::create_directories(repo.path() / "adir");
  CHECK_THAT(must_fail(repo, 2, {"--suite", "adir", "list"}).err,
             Catch::Contains("is a directory"));
}

TEST_CASE("a suite written by a newer evalkeep is refused", "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  {
    RawSqlite db(repo.suite());
    db.exec("PRAGMA user_version = 99");
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"list"}, {"verify"}, add_spec_case("new-case"), {"rm", "tone-apology"}}) {
    auto r = must_fail(repo, 2, args);
    CHECK_THAT(r.err, Catch::Contains("newer evalkeep"));
    CHECK_THAT(r.err, Catch::Contains("99"));
    CHECK_THAT(r.err, Catch::Contains("hint: upgrade evalkeep"));
  }
}

TEST_CASE("a suite the user may not write is an environment error", "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto evals = repo.path() / "evals";
  fs::permissions(repo.suite(),
                  fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(evals, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                             fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec);
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    // Root writes through file permissions, so a chmod alone would prove nothing: run evalkeep
    // as nobody, who may read the repository but not write the suite or its folder.
    if (repo.run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"})
            .exit_code != 0) {
      WARN("cannot drop privileges with setpriv; the read-only check is skipped");
      return;
    }
    fs::permissions(repo.path(),
                    fs::perms::others_read | fs::perms::others_exec | fs::perms::group_read |
                        fs::perms::group_exec,
                    fs::perm_options::add);
    prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = prefix;
    argv.push_back(EVALKEEP_BIN);
    argv.insert(argv.end(), args.begin(), args.end());
    return repo.run(argv, {"EVALKEEP_ACTOR=Dana Kim <dana@example.com>"});
  };
  auto before = file_hash(repo.suite());

  // Reading works.
  auto list = run({"list", "--json"});
  INFO("list stderr: " << list.err);
  CHECK(list.exit_code == 0);
  CHECK(parse_json(list.out).size() == 2);

  // Writing is an environment error, and the file is untouched.
  for (const auto& args : std::vector<std::vector<std::string>>{
           add_spec_case("new-case"),
           {"retire", "tone-apology", "--reason", "duplicate", "--rationale", "dup"}}) {
    auto r = run(args);
    INFO(command_line(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
    CHECK_THAT(r.err, Catch::Contains("read-only"));
    CHECK_THAT(r.err, Catch::Contains("hint: check the file's permissions"));
    CHECK(file_hash(repo.suite()) == before);
  }
  fs::permissions(evals, fs::perms::owner_all, fs::perm_options::add);
}

TEST_CASE("a suite locked by another connection makes a write give up with exit 3",
          "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto before = file_hash(repo.suite());
  RawSqlite holder(repo.suite());
  holder.exec("BEGIN EXCLUSIVE");
  auto start = std::chrono::steady_clock::now();
  auto r = repo.evalkeep(add_spec_case("blocked"));
  auto waited = std::chrono::steady_clock::now() - start;
  holder.exec("ROLLBACK");
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
  CHECK_THAT(r.err, Catch::Contains("locked"));
  CHECK_THAT(r.err, Catch::Contains("hint: "));
  // It waits for the busy timeout (10 s), not forever.
  CHECK(waited >= std::chrono::seconds(5));
  CHECK(waited < std::chrono::seconds(30));
  CHECK(file_hash(repo.suite()) == before);
  // Once the lock is gone, the same command works.
  must_succeed(repo, add_spec_case("blocked"));
}

TEST_CASE("a missing git identity inside a repository stops writes with a hint",
          "[e2e][environment]") {
  TempDir home;
  Repo repo(false);
  repo.git({"init", "-q", "-b", "main"});
  auto env = no_identity(home);
  must_succeed(repo, {"init"}, {}, env); // creating the suite records no event
  CHECK(fs::exists(repo.suite()));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"incident", "add", "INC-1", "--title", "Something broke"}, add_spec_case("c1")}) {
    auto r = must_fail(repo, 3, args, {}, env);
    CHECK_THAT(r.err, Catch::Contains("git does not know who you are"));
    CHECK_THAT(r.err, Catch::Contains("hint: "));
    CHECK_THAT(r.err, Catch::Contains("git config user.name"));
    CHECK_THAT(r.err, Catch::Contains("EVALKEEP_ACTOR"));
  }
  // Reads need no identity.
  CHECK(parse_json(must_succeed(repo, {"list", "--json"}, {}, env).out).empty());

  // EVALKEEP_ACTOR stands in for the identity.
  auto actor = env;
  actor.back() = "EVALKEEP_ACTOR=CI Bot <ci@example.com>";
  must_succeed(repo, add_spec_case("c1"), {}, actor);
  auto log = parse_json(must_succeed(repo, {"log", "--json"}, {}, env).out);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["actor"] == "CI Bot <ci@example.com>");
}

TEST_CASE("outside a git repository evalkeep works and records who it can", "[e2e][environment]") {
  TempDir home;
  Repo plain(false);
  auto env = no_identity(home);
  auto fixed = env;
  fixed.push_back("EVALKEEP_NOW=2026-05-01T10:00:00Z");

  must_succeed(plain, {"init"}, {}, fixed);
  CHECK(fs::exists(plain.suite()));
  CHECK(fs::exists(plain.path() / "evalkeep.toml"));
  CHECK_FALSE(fs::exists(plain.path() / ".gitignore")); // no git, nothing to ignore
  must_succeed(plain, add_spec_case("anonymous"), {}, fixed);

  // A global identity is used even outside a repository.
  auto global = plain.path() / "global.gitconfig";
  write_file(global, "[user]\n\tname = Lee Okafor\n\temail = lee@example.com\n");
  auto with_global = fixed;
  with_global[1] = "GIT_CONFIG_GLOBAL=" + global.string();
  must_succeed(plain, add_spec_case("from-global"), {}, with_global);

  auto from_env = fixed;
  from_env[3] = "EVALKEEP_ACTOR=CI Bot <ci@example.com>";
  must_succeed(plain, add_spec_case("from-env"), {}, from_env);

  auto listed = parse_json(must_succeed(plain, {"list", "--json"}, {}, env).out);
  CHECK(listed.size() == 3);
  auto log = parse_json(must_succeed(plain, {"log", "--json"}, {}, env).out);
  REQUIRE(log.size() == 3);
  CHECK(log[2]["subject"] == "anonymous");
  CHECK(log[2]["actor"] == "unknown");
  CHECK(log[2]["at"] == "2026-05-01T10:00:00Z");
  CHECK(log[2]["git_head"].is_null());
  CHECK(log[1]["actor"] == "Lee Okafor <lee@example.com>");
  CHECK(log[0]["actor"] == "CI Bot <ci@example.com>");
  must_succeed(plain, {"verify"}, {}, env);
}

TEST_CASE("an unknown key in evalkeep.toml is refused, naming the key and its line",
          "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto config = repo.path() / "evalkeep.toml";

  write_file(config, "suite = \"evals/suite.db\"\n\n[policy]\nrequire_incident = false\n"
                     "require_reviewer = true\n");
  auto r = must_fail(repo, 2, {"list"});
  CHECK_THAT(r.err, Catch::Contains("evalkeep.toml:5:"));
  CHECK_THAT(r.err, Catch::Contains("unknown key 'policy.require_reviewer'"));
  CHECK_THAT(r.err, Catch::Contains("require_approver")); // the hint lists the known keys
  must_fail(repo, 2, add_spec_case("x"));

  write_file(config, "# settings\nsuites = \"evals/suite.db\"\n");
  r = must_fail(repo, 2, {"list"});
  CHECK_THAT(r.err, Catch::Contains("evalkeep.toml:2:"));
  CHECK_THAT(r.err, Catch::Contains("unknown key 'suites'"));

  write_file(config, "[policy]\nrequire_incident = \"yes\"\n");
  r = must_fail(repo, 2, {"list"});
  CHECK_THAT(r.err, Catch::Contains("evalkeep.toml:2:"));
  CHECK_THAT(r.err, Catch::Contains("true or false"));

  write_file(config, "suite = \"evals/suite.db\"\n[policy\n");
  r = must_fail(repo, 2, {"list"});
  CHECK_THAT(r.err, Catch::Contains("evalkeep.toml:2:"));
}

TEST_CASE("the --suite flag and EVALKEEP_SUITE select another suite file", "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto main_before = file_hash(repo.suite());

  must_succeed(repo, {"--suite", "other.db", "init"});
  CHECK(fs::exists(repo.path() / "other.db"));
  must_succeed(repo, {"--suite", "other.db", "add", "--id", "only-here", "--prompt", "Hi",
                      "--expect", "contains:Hi", "--provenance", "exploratory:testing"});
  must_succeed(repo, add_spec_case("via-env"), {}, {"EVALKEEP_SUITE=other.db"});

  auto other = parse_json(must_succeed(repo, {"--suite", "other.db", "list", "--json"}).out);
  REQUIRE(other.size() == 2);
  CHECK(other[0]["id"] == "only-here");
  CHECK(other[1]["id"] == "via-env");
  auto via_env =
      parse_json(must_succeed(repo, {"list", "--json"}, {}, {"EVALKEEP_SUITE=other.db"}).out);
  CHECK(via_env == other);
  // --suite wins over the environment.
  auto both = parse_json(must_succeed(repo, {"--suite", "evals/suite.db", "list", "--json"}, {},
                                      {"EVALKEEP_SUITE=other.db"})
                             .out);
  CHECK(both.size() == 2);
  CHECK(both[0]["id"] == "refund-window");

  CHECK(file_hash(repo.suite()) == main_before);
  CHECK(listed_cases(repo) == 2);
  CHECK_THAT(must_fail(repo, 2, {"--suite", "nowhere.db", "list"}).err,
             Catch::Contains("nowhere.db"));
}

TEST_CASE("the suite path in evalkeep.toml is used", "[e2e][environment]") {
  Repo repo;
  must_succeed(repo, {"init", "--suite-path", "qa/evals.db"});
  CHECK(fs::exists(repo.path() / "qa" / "evals.db"));
  CHECK_FALSE(fs::exists(repo.suite()));
  CHECK_THAT(read_file(repo.path() / "evalkeep.toml"), Catch::Contains("suite = \"qa/evals.db\""));
  CHECK_THAT(read_file(repo.path() / ".gitignore"), Catch::Contains(".evalkeep/"));
  must_succeed(repo, add_spec_case("in-qa"));
  auto listed = parse_json(must_succeed(repo, {"--suite", "qa/evals.db", "list", "--json"}).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == "in-qa");
}

TEST_CASE("init twice keeps the existing suite and configuration", "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto suite_before = file_hash(repo.suite());
  auto config_before = read_file(repo.path() / "evalkeep.toml");
  auto ignore_before = read_file(repo.path() / ".gitignore");
  auto r = must_succeed(repo, {"init"});
  CHECK_THAT(r.out, Catch::Contains("suite already exists"));
  CHECK(file_hash(repo.suite()) == suite_before);
  CHECK(read_file(repo.path() / "evalkeep.toml") == config_before);
  CHECK(read_file(repo.path() / ".gitignore") == ignore_before);
}

TEST_CASE("evalkeep run from a subdirectory finds the suite at the repository root",
          "[e2e][environment]") {
  Repo repo;
  seed_suite(repo);
  auto deep = repo.path() / "src" / "prompts" / "billing";
  fs::create_directories(deep);

  auto listed = evalkeep_in(deep, {"list", "--json"});
  INFO("stderr: " << listed.err);
  REQUIRE(listed.exit_code == 0);
  CHECK(parse_json(listed.out).size() == 2);

  auto added = evalkeep_in(deep, add_spec_case("from-deep"));
  INFO("stderr: " << added.err);
  REQUIRE(added.exit_code == 0);
  CHECK(added.out == "from-deep\n");
  CHECK_FALSE(fs::exists(deep / "evals"));
  CHECK(listed_cases(repo) == 3);

  // --suite is relative to where evalkeep runs.
  auto relative = evalkeep_in(deep, {"--suite", "../../../evals/suite.db", "list", "--json"});
  REQUIRE(relative.exit_code == 0);
  CHECK(parse_json(relative.out).size() == 3);
}
