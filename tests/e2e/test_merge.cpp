// `git merge` of a suite changed on two branches, through the merge driver `evalkeep init`
// registers: real repositories, real git, the real binary.

#include "support/e2e.hpp"

#include <algorithm>

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
                      "sharper"});
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
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Feature's words.", "--rationale", "f"});
  commit_all(repo, "feature edit");
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"edit", "tone-apology", "--prompt", "Main's words.", "--rationale", "m"});
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
