// The suite in git: init sets up a textconv diff and a merge driver, so `git diff` and
// `git log -p` show the suite as text, and read-only commands never dirty the work tree.

#include "support/e2e.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

const std::string k_attributes_line = "evals/suite.db diff=evalkeep merge=evalkeep -text";

std::size_t count_lines(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);)
    n += l == line ? 1 : 0;
  return n;
}

std::string git_config(const Repo& repo, const std::string& key) {
  auto out = repo.git({"config", "--local", "--get", key});
  if (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

void commit_all(const Repo& repo, const std::string& message) {
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", message});
}

// A git repository cloned from `origin`'s folder, with an identity of its own.
struct Clone {
  Repo repo{false};
  explicit Clone(const Repo& origin) {
    auto r = repo.run({"git", "clone", "-q", origin.path().string(), "."});
    REQUIRE(r.exit_code == 0);
    repo.git({"config", "user.name", "Sam Lee"});
    repo.git({"config", "user.email", "sam@example.com"});
  }
};

} // namespace

TEST_CASE("init writes the .gitattributes line and registers the diff and merge drivers",
          "[e2e][git]") {
  Repo repo;
  auto r = must_succeed(repo, {"init"});
  CHECK_THAT(r.out, Catch::Contains("added to .gitattributes: " + k_attributes_line));
  CHECK(count_lines(read_file(repo.path() / ".gitattributes"), k_attributes_line) == 1);
  CHECK(count_lines(read_file(repo.path() / ".gitignore"), ".evalkeep/") == 1);

  auto textconv = git_config(repo, "diff.evalkeep.textconv");
  // The test binary is not on PATH, so git is told where this evalkeep is.
  CHECK(textconv == std::string(EVALKEEP_BIN) + " dump");
  CHECK(git_config(repo, "diff.evalkeep.cachetextconv") == "false");
  CHECK(git_config(repo, "merge.evalkeep.name") == "evalkeep three-way merge of the suite");
  CHECK(git_config(repo, "merge.evalkeep.driver") ==
        std::string(EVALKEEP_BIN) + " merge-driver %O %A %B %P");
  CHECK(repo.git({"check-attr", "diff", "merge", "text", "--", "evals/suite.db"}) ==
        "evals/suite.db: diff: evalkeep\nevals/suite.db: merge: evalkeep\n"
        "evals/suite.db: text: unset\n");
}

TEST_CASE("init registers a bare 'evalkeep' when PATH finds the same binary", "[e2e][git]") {
  Repo repo;
  auto bin_dir = fs::path(EVALKEEP_BIN).parent_path().string();
  const char* path = std::getenv("PATH");
  must_succeed(repo, {"init"}, {}, {"PATH=" + bin_dir + ":" + (path ? path : "/usr/bin:/bin")});
  CHECK(git_config(repo, "diff.evalkeep.textconv") == "evalkeep dump");
  CHECK(git_config(repo, "merge.evalkeep.driver") == "evalkeep merge-driver %O %A %B %P");
}

TEST_CASE("running init twice changes nothing and duplicates no line", "[e2e][git]") {
  Repo repo;
  write_file(repo.path() / ".gitignore", "node_modules"); // no final newline
  write_file(repo.path() / ".gitattributes", "*.png binary\n");
  must_succeed(repo, {"init"});
  auto attributes = read_file(repo.path() / ".gitattributes");
  auto ignore = read_file(repo.path() / ".gitignore");
  auto config = read_file(repo.path() / ".git" / "config");
  CHECK(attributes == "*.png binary\n" + k_attributes_line + "\n");
  CHECK(ignore == "node_modules\n.evalkeep/\n");

  auto again = must_succeed(repo, {"init"});
  CHECK_THAT(again.out, Catch::Contains("git is already set up for evals/suite.db"));
  auto git_only = must_succeed(repo, {"init", "--git-only"});
  CHECK(git_only.out == "git is already set up for evals/suite.db\n");
  CHECK(read_file(repo.path() / ".gitattributes") == attributes);
  CHECK(read_file(repo.path() / ".gitignore") == ignore);
  CHECK(read_file(repo.path() / ".git" / "config") == config);
  CHECK(repo.git({"config", "--local", "--get-all", "diff.evalkeep.textconv"}) ==
        std::string(EVALKEEP_BIN) + " dump\n");
}

TEST_CASE("git diff shows a new case and a changed prompt as text lines", "[e2e][git]") {
  Repo repo;
  seed_suite(repo);
  commit_all(repo, "suite");
  must_succeed(repo, {"add", "--id", "late-delivery", "--prompt",
                      "Where is my parcel?\nIt was due on Monday.", "--expect",
                      "icontains:tracking", "--incident", "INC-7"});
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "My order is very late.", "--rationale",
                      "sharper wording", "--reason", "reworded"});

  auto diff = repo.git({"diff"});
  INFO(diff);
  CHECK_THAT(diff, !Catch::Contains("Binary files"));
  CHECK_THAT(diff, Catch::Contains("\n+case late-delivery\n"));
  CHECK_THAT(diff,
             Catch::Contains("\n+  prompt: Where is my parcel?\n+  | It was due on Monday.\n"));
  CHECK_THAT(diff, Catch::Contains("\n+  expect: icontains:tracking\n"));
  CHECK_THAT(diff, Catch::Contains("\n-  prompt: My order is late.\n+  prompt: My order is very "
                                   "late.\n"));
  CHECK_THAT(diff, Catch::Contains("\n+  rationale: sharper wording\n"));
  // The unchanged case is at most context, never a changed line.
  CHECK_THAT(diff, !Catch::Contains("\n-case refund-window"));
  CHECK_THAT(diff, !Catch::Contains("\n+case refund-window"));
}

TEST_CASE("git log -p shows the suite's history as text", "[e2e][git]") {
  Repo repo;
  seed_suite(repo);
  commit_all(repo, "suite");
  must_succeed(repo, {"retire", "tone-apology", "--reason", "out-of-scope", "--rationale",
                      "tone is checked elsewhere"});
  commit_all(repo, "retire tone-apology");

  auto log = repo.git({"log", "-p", "--", "evals/suite.db"});
  INFO(log);
  CHECK_THAT(log, !Catch::Contains("Binary files"));
  CHECK_THAT(log, Catch::Contains("\n+case refund-window\n"));
  CHECK_THAT(log, Catch::Contains("\n+  prompt: Can I get a refund after 45 days?\n"));
  CHECK_THAT(log, Catch::Contains("\n+retirement tone-apology\n+  reason: out-of-scope\n"));
  CHECK_THAT(log, Catch::Contains("\n-  status: active\n+  status: retired\n"));
}

TEST_CASE("a suite at a path with a space diffs as text too", "[e2e][git]") {
  Repo repo;
  must_succeed(repo, {"init", "--suite-path", "qa/my evals.db"});
  CHECK(count_lines(read_file(repo.path() / ".gitattributes"),
                    "\"qa/my evals.db\" diff=evalkeep merge=evalkeep -text") == 1);
  commit_all(repo, "suite");
  must_succeed(repo, {"add", "--id", "spaced", "--prompt", "Hello?", "--expect", "contains:hi",
                      "--provenance", "exploratory:spaces"});
  auto diff = repo.git({"diff"});
  INFO(diff);
  CHECK_THAT(diff, Catch::Contains("\n+case spaced\n"));
}

TEST_CASE("init --git-only sets up git in a fresh clone", "[e2e][git]") {
  Repo origin;
  seed_suite(origin);
  commit_all(origin, "suite");

  Clone clone(origin);
  auto& repo = clone.repo;
  CHECK(repo.run({"git", "config", "--local", "--get", "diff.evalkeep.textconv"}).exit_code == 1);
  must_succeed(repo, {"add", "--id", "before-setup", "--prompt", "Hi", "--expect", "contains:hi",
                      "--provenance", "spec:greeting"});
  // Without the driver in this clone's config, git sees only a binary file.
  CHECK_THAT(repo.git({"diff"}), Catch::Contains("Binary files"));
  repo.git({"checkout", "--", "evals/suite.db"});

  auto r = must_succeed(repo, {"init", "--git-only"});
  CHECK_THAT(r.out, Catch::Contains("set git config diff.evalkeep.textconv = "));
  CHECK_THAT(r.out, !Catch::Contains("gitattributes")); // committed already
  CHECK(git_config(repo, "diff.evalkeep.textconv") == std::string(EVALKEEP_BIN) + " dump");
  CHECK(git_config(repo, "merge.evalkeep.driver") ==
        std::string(EVALKEEP_BIN) + " merge-driver %O %A %B %P");
  CHECK(repo.git({"status", "--porcelain"}).empty());

  must_succeed(repo, {"add", "--id", "after-setup", "--prompt", "Hi", "--expect", "contains:hi",
                      "--provenance", "spec:greeting"});
  auto diff = repo.git({"diff"});
  CHECK_THAT(diff, !Catch::Contains("Binary files"));
  CHECK_THAT(diff, Catch::Contains("\n+case after-setup\n"));
}

TEST_CASE("init --git-only refuses outside a git repository", "[e2e][git]") {
  Repo plain(false);
  auto r = plain.evalkeep({"init", "--git-only"});
  CHECK((r.exit_code == 2 || r.exit_code == 3));
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("evalkeep: error: "));
  CHECK_THAT(r.err, Catch::Contains("not inside a git repository"));
  CHECK_FALSE(fs::exists(plain.path() / ".gitattributes"));
  CHECK_FALSE(fs::exists(plain.path() / "evalkeep.toml"));
  CHECK_FALSE(fs::exists(plain.suite()));
}

TEST_CASE("init outside git still works and writes no git files", "[e2e][git]") {
  Repo plain(false);
  must_succeed(plain, {"init"});
  CHECK(fs::exists(plain.suite()));
  CHECK_FALSE(fs::exists(plain.path() / ".gitattributes"));
  CHECK_FALSE(fs::exists(plain.path() / ".gitignore"));
}

TEST_CASE("read-only commands leave git status clean", "[e2e][git]") {
  Repo repo;
  seed_suite(repo);
  commit_all(repo, "suite");
  REQUIRE(repo.git({"status", "--porcelain"}).empty());
  const std::vector<std::vector<std::string>> commands = {
      {"list"}, {"list", "--json"},   {"show", "refund-window"}, {"dump"}, {"verify"}, {"export"},
      {"log"},  {"incident", "list"}, {"dump", "evals/suite.db"}};
  for (const auto& args : commands) {
    must_succeed(repo, args);
    INFO(command_line(args));
    CHECK(repo.git({"status", "--porcelain"}).empty());
  }
  CHECK(repo.git({"diff", "HEAD"}).empty());
}

TEST_CASE("dump prints the suite as the text git diff shows", "[e2e][git]") {
  Repo repo;
  seed_suite(repo);
  auto r = must_succeed(repo, {"dump"});
  CHECK(r.out.starts_with("# evalkeep suite, schema version 4\n"));
  CHECK_THAT(r.out, Catch::Contains("\ncase tone-apology\n  status: active\n  provenance: "
                                    "spec:style guide 2.1\n  prompt: My order is late.\n"));
  CHECK(must_succeed(repo, {"dump", "evals/suite.db"}).out == r.out);
  // The file as committed, handed over by git, gives the same text.
  commit_all(repo, "suite");
  auto copy = repo.path() / "copy.db";
  write_file(copy, repo.git({"show", "HEAD:evals/suite.db"}));
  CHECK(must_succeed(repo, {"dump", copy.string()}).out == r.out);
}

TEST_CASE("git diff shows the control characters of a rationale, never sends them to the "
          "terminal",
          "[e2e][git]") {
  Repo repo;
  seed_suite(repo);
  commit_all(repo, "suite");
  // An ESC sequence that would clear a reviewer's screen, and a C1 CSI that some terminals obey.
  const std::string rationale = "obsolete\x1b[2J\x1b]0;owned\x07 \xc2\x9b"
                                "31m";
  must_succeed(repo,
               {"retire", "tone-apology", "--reason", "out-of-scope", "--rationale", rationale});

  for (const auto& view : {repo.git({"diff"}), must_succeed(repo, {"dump"}).out}) {
    INFO(view);
    CHECK_THAT(view, Catch::Contains("rationale: obsolete^[[2J^[]0;owned^G M-^[31m\n"));
    CHECK(view.find('\x1b') == std::string::npos);
    CHECK(view.find('\x07') == std::string::npos);
    CHECK(view.find("\xc2\x9b") == std::string::npos);
  }
  // For data, --exact writes the bytes the suite holds.
  CHECK_THAT(must_succeed(repo, {"dump", "--exact"}).out,
             Catch::Contains("rationale: " + rationale + "\n"));
}

TEST_CASE("a repository set up by an older init diffs safely without running init again",
          "[e2e][git]") {
  // Older inits registered plain `evalkeep dump` as the textconv: it is the safe form.
  Repo repo;
  seed_suite(repo);
  CHECK(git_config(repo, "diff.evalkeep.textconv") == std::string(EVALKEEP_BIN) + " dump");
  commit_all(repo, "suite");
  must_succeed(repo,
               {"edit", "tone-apology", "--title", "Tone\x1b[8m hidden", "--rationale", "title"});
  auto diff = repo.git({"diff"});
  INFO(diff);
  CHECK_THAT(diff, Catch::Contains("\n+  title: Tone^[[8m hidden\n"));
  CHECK(diff.find('\x1b') == std::string::npos);
}

TEST_CASE("dump of a file that is not a suite is an error, never a crash", "[e2e][git]") {
  Repo repo;
  must_succeed(repo, {"init"});
  write_file(repo.path() / "notes.txt", "just some text\n");
  write_file(repo.path() / "empty.db", "");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(std::string((repo.path() / "plain.db").string()).c_str(), &db) ==
            SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto garbage = read_file(repo.suite()).substr(0, 4096);
  std::replace(garbage.begin() + 200, garbage.end(), '\0', 'x');
  write_file(repo.path() / "mangled.db", garbage);

  for (const char* file :
       {"notes.txt", "empty.db", "plain.db", "mangled.db", "missing.db", "evals"}) {
    auto r = must_fail(repo, 2, {"dump", file});
    CHECK_THAT(r.err, Catch::Contains(file));
  }
  auto plain = repo.evalkeep({"dump", "plain.db"});
  CHECK_THAT(plain.err, Catch::Contains("not an evalkeep suite"));
}

TEST_CASE("dump and init --git-only explain themselves in --help", "[e2e][git]") {
  Repo repo;
  auto dump = must_succeed(repo, {"dump", "--help"});
  CHECK_THAT(dump.out, Catch::Contains("Example"));
  CHECK_THAT(dump.out, Catch::Contains("evalkeep dump"));
  auto init = must_succeed(repo, {"init", "--help"});
  CHECK_THAT(init.out, Catch::Contains("--git-only"));
  CHECK_THAT(init.out, Catch::Contains("evalkeep init --git-only"));
  CHECK_FALSE(fs::exists(repo.suite()));
}

TEST_CASE("a suite outside the repository gets no git drivers", "[e2e][git]") {
  Repo repo;
  TempDir elsewhere;
  auto suite = (elsewhere.path() / "suite.db").string();
  auto r = repo.evalkeep({"--suite", suite, "init"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("evalkeep: warning: "));
  CHECK_THAT(r.err, Catch::Contains("outside the git repository"));
  CHECK(fs::exists(suite));
  CHECK_FALSE(fs::exists(repo.path() / ".gitattributes"));
  CHECK(repo.run({"git", "config", "--local", "--get", "diff.evalkeep.textconv"}).exit_code == 1);

  auto only = repo.evalkeep({"--suite", suite, "init", "--git-only"});
  CHECK(only.exit_code == 2);
  CHECK_THAT(only.err, Catch::StartsWith("evalkeep: error: "));
  CHECK_THAT(only.err, Catch::Contains("outside the git repository"));
}
