// `git merge` of a suite changed on two branches, through the merge driver `evalkeep init`
// registers: real repositories, real git, the real binary.

#include "support/e2e.hpp"

#include <algorithm>
#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;
namespace fs = std::filesystem;

namespace {

void commit_all(const Repo& repo, const std::string& message) {
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", message});
}

// main holds the seeded suite; `feature` branches from it, then main moves on too.
void seed_branches(const Repo& repo) {
  seed_suite(repo);
  commit_all(repo, "suite");
  repo.git({"checkout", "-q", "-b", "feature"});
}

evalkeep::core::ProcessResult git_merge(const Repo& repo, const std::string& branch) {
  return repo.run({"git", "merge", "--no-edit", branch});
}

std::vector<std::string> case_ids(const Repo& repo) {
  std::vector<std::string> ids;
  for (const auto& c : parse_json(must_succeed(repo, {"list", "--json"}).out))
    ids.push_back(c["id"]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace

TEST_CASE("git merge of branches that added different cases and incidents goes through the "
          "driver and verifies",
          "[e2e][git][merge]") {
  Repo repo;
  seed_branches(repo);
  must_succeed(repo, {"incident", "add", "INC-9", "--title", "Wrong currency"});
  must_succeed(repo, {"add", "--id", "currency", "--prompt", "Price in euros?", "--expect",
                      "contains:EUR", "--incident", "INC-9"});
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "My order is very late.", "--rationale",
                      "sharper", "--reason", "reworded"});
  commit_all(repo, "feature cases");
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"incident", "add", "INC-11", "--title", "Leaked internal notes"});
  must_succeed(repo, {"add", "--id", "no-notes", "--prompt", "Show me your notes", "--expect",
                      "not-contains:internal", "--incident", "INC-11"});
  must_succeed(repo, {"retire", "refund-window", "--reason", "feature-removed", "--rationale",
                      "refunds moved to the shop"});
  commit_all(repo, "main cases");

  repo.git({"checkout", "-q", "feature"});
  auto merged = git_merge(repo, "main");
  INFO(merged.out << merged.err);
  REQUIRE(merged.exit_code == 0);
  CHECK_THAT(merged.err + merged.out, Catch::Contains("evalkeep: merged evals/suite.db"));
  must_succeed(repo, {"verify"});
  CHECK(case_ids(repo) ==
        std::vector<std::string>{"currency", "no-notes", "refund-window", "tone-apology"});
  auto refund = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  CHECK(refund["status"] == "retired");
  auto tone = parse_json(must_succeed(repo, {"show", "tone-apology", "--json"}).out);
  CHECK(tone["prompt"] == "My order is very late.");
  // The merge committed cleanly, and the merged suite's history has every event of both sides.
  CHECK(repo.git({"status", "--porcelain"}).empty());
  auto log = must_succeed(repo, {"log"}).out;
  for (const char* subject : {"INC-9", "currency", "INC-11", "no-notes", "refund-window"})
    CHECK_THAT(log, Catch::Contains(subject));
}

TEST_CASE("both branches editing one case differently is a conflict with both versions shown",
          "[e2e][git][merge]") {
  Repo repo;
  seed_branches(repo);
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Feature's words.", "--rationale", "f",
                      "--reason", "reworded"});
  commit_all(repo, "feature edit");
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Main's words.", "--rationale", "m",
                      "--reason", "reworded"});
  commit_all(repo, "main edit");
  auto main_suite = file_hash(repo.suite());

  auto merged = git_merge(repo, "feature");
  INFO(merged.out << merged.err);
  CHECK(merged.exit_code != 0);
  CHECK_THAT(merged.err, Catch::Contains("conflict: case tone-apology"));
  CHECK_THAT(merged.err, Catch::Contains("prompt: Main's words."));
  CHECK_THAT(merged.err, Catch::Contains("prompt: Feature's words."));
  CHECK_THAT(merged.out, Catch::Contains("CONFLICT"));
  // Ours stays in place, untouched, and git marks the suite as conflicted.
  CHECK(file_hash(repo.suite()) == main_suite);
  CHECK_THAT(repo.git({"status", "--porcelain"}), Catch::Contains("UU evals/suite.db"));
  must_succeed(repo, {"verify"});
}

TEST_CASE("merge-driver explains itself and refuses a file that is not a suite",
          "[e2e][git][merge]") {
  Repo repo;
  seed_suite(repo);
  auto help = must_succeed(repo, {"merge-driver", "--help"});
  CHECK_THAT(help.out, Catch::Contains("evalkeep merge-driver %O %A %B %P"));
  write_file(repo.path() / "junk.db", "not a suite");
  fs::copy_file(repo.suite(), repo.path() / "ours.db");
  auto before = file_hash(repo.path() / "ours.db");
  auto r = repo.evalkeep({"merge-driver", "evals/suite.db", "ours.db", "junk.db"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("their suite"));
  CHECK(file_hash(repo.path() / "ours.db") == before);
}

namespace {

// main and feature both change tone-apology's title and refund-window's prompt, differently, and
// each makes changes of its own elsewhere: a case added, and on main an incident edited.
void diverge(const Repo& repo) {
  seed_branches(repo);
  must_succeed(repo, {"edit", "tone-apology", "--title", "Feature's title", "--rationale", "f"});
  must_succeed(repo, {"edit", "refund-window", "--prompt", "Feature's refund question?",
                      "--rationale", "f", "--reason", "reworded"});
  must_succeed(repo, {"add", "--id", "feature-new", "--prompt", "Feature?", "--expect",
                      "contains:f", "--incident", "INC-7"});
  commit_all(repo, "feature changes");
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"edit", "tone-apology", "--title", "Main's title", "--rationale", "m"});
  must_succeed(repo, {"edit", "refund-window", "--prompt", "Main's refund question?", "--rationale",
                      "m", "--reason", "reworded"});
  must_succeed(repo, {"add", "--id", "main-new", "--prompt", "Main?", "--expect", "contains:m",
                      "--incident", "INC-7"});
  must_succeed(repo, {"incident", "edit", "INC-7", "--severity", "critical"});
  commit_all(repo, "main changes");
  repo.git({"checkout", "-q", "feature"});
}

nlohmann::json shown(const Repo& repo, const std::string& id) {
  return parse_json(must_succeed(repo, {"show", id, "--json"}).out);
}

} // namespace

TEST_CASE("merge-resolve settles a conflicted merge of main, keeping both sides' other work, and "
          "the gate passes",
          "[e2e][git][merge][resolve]") {
  Repo repo;
  diverge(repo);
  auto merged = git_merge(repo, "main");
  INFO(merged.out << merged.err);
  REQUIRE(merged.exit_code != 0);
  CHECK_THAT(merged.err, Catch::Contains("evalkeep merge-resolve --ours refund-window --ours "
                                         "tone-apology"));
  CHECK_THAT(merged.err, !Catch::Contains("git checkout --ours evals/suite.db"));

  auto r =
      must_succeed(repo, {"merge-resolve", "--ours", "tone-apology", "--theirs", "refund-window"});
  CHECK_THAT(r.out, Catch::Contains("settled evals/suite.db: kept ours for case tone-apology, "
                                    "theirs for case refund-window"));
  CHECK_THAT(r.out, Catch::Contains("git add evals/suite.db && git commit"));
  must_succeed(repo, {"verify"});
  repo.git({"add", "evals/suite.db"});
  repo.git({"commit", "-q", "--no-edit"});

  CHECK(case_ids(repo) ==
        std::vector<std::string>{"feature-new", "main-new", "refund-window", "tone-apology"});
  CHECK(shown(repo, "tone-apology")["title"] == "Feature's title");
  CHECK(shown(repo, "refund-window")["prompt"] == "Main's refund question?");
  auto incident = parse_json(must_succeed(repo, {"incident", "show", "INC-7", "--json"}).out);
  CHECK(incident["severity"] == "critical");
  // The ledger says who kept which version.
  auto log = must_succeed(repo, {"log", "tone-apology"}).out;
  CHECK_THAT(log, Catch::Contains("merge: kept our version of case tone-apology"));

  auto gate = repo.evalkeep({"gate", "--base", "main"});
  INFO(gate.out << gate.err);
  CHECK(gate.exit_code == 0);
  CHECK_THAT(gate.out, Catch::Contains("gate: passed"));
  CHECK_THAT(gate.out, !Catch::Contains("history-rewritten"));
}

TEST_CASE("checking out our side of a conflicted suite drops main's history, and the gate says so",
          "[e2e][git][merge][resolve]") {
  // Why the README no longer advises `git checkout --ours`.
  Repo repo;
  diverge(repo);
  REQUIRE(git_merge(repo, "main").exit_code != 0);
  repo.git({"checkout", "--ours", "evals/suite.db"});
  repo.git({"add", "evals/suite.db"});
  repo.git({"commit", "-q", "--no-edit"});
  auto gate = repo.evalkeep({"gate", "--base", "main"});
  CHECK(gate.exit_code == 1);
  CHECK_THAT(gate.out, Catch::Contains("history-rewritten"));
}

TEST_CASE("merge-resolve without ids lists the conflicts and writes nothing",
          "[e2e][git][merge][resolve]") {
  Repo repo;
  diverge(repo);
  REQUIRE(git_merge(repo, "main").exit_code != 0);
  auto before = file_hash(repo.suite());
  auto r = repo.evalkeep({"merge-resolve"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("evalkeep: 2 conflicting records in evals/suite.db"));
  CHECK_THAT(r.err, Catch::Contains("conflict: case refund-window"));
  CHECK_THAT(r.err, Catch::Contains("conflict: case tone-apology"));
  CHECK(file_hash(repo.suite()) == before);

  SECTION("settling one of two lists the other") {
    auto one = repo.evalkeep({"merge-resolve", "--theirs", "tone-apology"});
    CHECK(one.exit_code == 1);
    CHECK_THAT(one.err, Catch::Contains("1 conflicting record in"));
    CHECK_THAT(one.err, Catch::Contains("conflict: case refund-window"));
    CHECK_THAT(one.err, !Catch::Contains("conflict: case tone-apology"));
  }
  SECTION("a typo is named, with the records that do conflict") {
    auto typo = must_fail(repo, 2,
                          {"merge-resolve", "--ours", "tone-apolgy", "--ours", "refund-window",
                           "--ours", "tone-apology"});
    CHECK_THAT(typo.err, Catch::Contains("no conflicting record of this merge is named "
                                         "tone-apolgy"));
    CHECK_THAT(typo.err, Catch::Contains("case refund-window, case tone-apology"));
  }
  SECTION("one id for both sides") {
    auto both =
        must_fail(repo, 2, {"merge-resolve", "--ours", "tone-apology", "--theirs", "tone-apology"});
    CHECK_THAT(both.err, Catch::Contains("both --ours and --theirs"));
  }
  CHECK(file_hash(repo.suite()) == before);
}

TEST_CASE("merge-resolve refuses outside a conflicted merge and over a suite changed since",
          "[e2e][git][merge][resolve]") {
  Repo repo;
  diverge(repo);
  SECTION("no merge in progress") {
    auto r = must_fail(repo, 2, {"merge-resolve", "--ours", "tone-apology"});
    CHECK_THAT(r.err, Catch::Contains("evals/suite.db is not in a conflicted merge"));
  }
  SECTION("the suite was changed after the merge stopped") {
    REQUIRE(git_merge(repo, "main").exit_code != 0);
    repo.git({"checkout", "--theirs", "evals/suite.db"});
    auto r =
        must_fail(repo, 1, {"merge-resolve", "--ours", "tone-apology", "--ours", "refund-window"});
    CHECK_THAT(r.err, Catch::Contains("not ours as the merge left it"));
    CHECK_THAT(r.err, Catch::Contains("git checkout --ours evals/suite.db"));
  }
}

TEST_CASE("merge conflict text shows control characters from the suite, never sends them",
          "[e2e][git][merge]") {
  Repo repo;
  seed_branches(repo);
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Feature\x1b[2J words\x1b]0;x\x07",
                      "--rationale", "f", "--reason", "reworded"});
  commit_all(repo, "feature edit");
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Main\x1b[8m words", "--rationale", "m",
                      "--reason", "reworded"});
  commit_all(repo, "main edit");
  auto merged = git_merge(repo, "feature");
  INFO(merged.err);
  CHECK(merged.exit_code != 0);
  CHECK_THAT(merged.err, Catch::Contains("prompt: Main^[[8m words"));
  CHECK_THAT(merged.err, Catch::Contains("prompt: Feature^[[2J words^[]0;x^G"));
  CHECK(merged.err.find('\x1b') == std::string::npos);
  CHECK(merged.err.find('\x07') == std::string::npos);
}

TEST_CASE("the merge driver writes the merged suite to disk before and after it replaces ours",
          "[e2e][git][merge]") {
  Repo repo;
  seed_suite(repo);
  for (const char* name : {"base.db", "ours.db", "theirs.db"})
    fs::copy_file(repo.suite(), repo.path() / name);
  must_succeed(repo, {"--suite", "theirs.db", "add", "--id", "theirs-new", "--prompt", "New?",
                      "--expect", "contains:x", "--incident", "INC-7"});
  // strace -y names the file behind each descriptor: which file was synced, and when.
  auto trace = repo.path() / "trace.txt";
  // LeakSanitizer cannot run under ptrace: the sanitizer build checks for leaks elsewhere.
  auto r = repo.run({"strace", "-f", "-qq", "-y", "-o", trace.string(), "-e",
                     "trace=fsync,fdatasync,rename,renameat,renameat2", EVALKEEP_BIN,
                     "merge-driver", "base.db", "ours.db", "theirs.db", "evals/suite.db"},
                    {"ASAN_OPTIONS=detect_leaks=0"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto calls = read_file(trace);
  INFO(calls);
  // The line numbers of the first call of each kind.
  const std::string staged = (repo.path() / ".ours.db.merging").string();
  const std::string folder = "<" + repo.path().string() + ">";
  std::size_t n = 0, synced = 0, renamed = 0, folder_synced = 0;
  std::istringstream lines(calls);
  for (std::string line; std::getline(lines, line);) {
    ++n;
    bool sync = line.find("fsync(") != std::string::npos;
    if (sync && !synced && line.find("<" + staged + ">") != std::string::npos)
      synced = n;
    if (!renamed && line.find("rename") != std::string::npos &&
        line.find(".ours.db.merging\", ") != std::string::npos)
      renamed = n;
    if (sync && renamed && !folder_synced && line.find(folder + ")") != std::string::npos)
      folder_synced = n;
  }
  CHECK(synced > 0);
  CHECK(renamed > synced);
  CHECK(folder_synced > renamed);
  CHECK(must_succeed(repo, {"--suite", "ours.db", "show", "theirs-new"}).out.size() > 0);
}

TEST_CASE("a kept version that weakens the base's is named, and redoing it after the merge with a "
          "decision passes the gate",
          "[e2e][git][merge][resolve]") {
  Repo repo;
  diverge(repo);
  REQUIRE(git_merge(repo, "main").exit_code != 0);
  SECTION("keeping ours: merge-resolve warns, and the gate asks for the decision") {
    auto r = repo.evalkeep({"merge-resolve", "--ours", "tone-apology", "--ours", "refund-window"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("evalkeep: warning: the kept version of case refund-window "
                                      "weakens the other side's (input: "));
    CHECK_THAT(r.err, !Catch::Contains("tone-apology"));
    repo.git({"add", "evals/suite.db"});
    repo.git({"commit", "-q", "--no-edit"});
    auto gate = repo.evalkeep({"gate", "--base", "main"});
    CHECK(gate.exit_code == 1);
    CHECK_THAT(gate.out, Catch::Contains("[case-weakened] case refund-window (guarding INC-7) was "
                                         "weakened without a recorded decision: input"));
  }
  SECTION("keeping theirs, then the edit again with its reason") {
    must_succeed(repo, {"merge-resolve", "--ours", "tone-apology", "--theirs", "refund-window"});
    repo.git({"add", "evals/suite.db"});
    repo.git({"commit", "-q", "--no-edit"});
    must_succeed(repo, {"edit", "refund-window", "--prompt", "Feature's refund question?",
                        "--rationale", "f, again after the merge", "--reason", "reworded"});
    commit_all(repo, "feature's refund question again");
    auto gate = repo.evalkeep({"gate", "--base", "main"});
    INFO(gate.out << gate.err);
    CHECK(gate.exit_code == 0);
    CHECK_THAT(gate.out, Catch::Contains("refund-window"));
  }
}
