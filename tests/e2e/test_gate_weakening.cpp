// Weakening is a decision like retiring: a pull request that quietly marks failing guards xfail
// fails the gate, listing each case and the incident it guarded; the same change made with
// recorded decisions passes and shows the reviewer what the team gives up.

#include "support/e2e.hpp"

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::must_succeed;
using evalkeep::test::Repo;
using json = nlohmann::json;

namespace {

// Six active cases, two per incident INC-1..INC-3, on main; then branch "pr".
struct WeakRepo {
  Repo repo;
  WeakRepo() {
    must_succeed(repo, {"init", "-q"});
    for (int i = 1; i <= 3; ++i)
      must_succeed(repo, {"incident", "add", fmt::format("INC-{}", i), "--title",
                          fmt::format("Incident {}", i)});
    for (int i = 0; i < 6; ++i)
      must_succeed(repo,
                   {"add", "--id", fmt::format("guard-{}", i), "--prompt",
                    fmt::format("Question {}", i), "--expect", "icontains:30 days", "--expect",
                    "max-length:600", "--incident", fmt::format("INC-{}", 1 + i / 2)});
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "pr"});
  }
  json gate(int exit_code) const {
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "--allow-empty", "-m", "change"});
    auto r = repo.evalkeep({"gate", "--base", "main", "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == exit_code);
    return evalkeep::test::parse_json(r.out);
  }
};

std::set<std::string> weakened(const json& report) {
  std::set<std::string> out;
  for (const auto& v : report["violations"])
    if (v["rule"] == "case-weakened")
      out.insert(v["case"].get<std::string>() + " " + v["incident"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("guards quietly marked xfail with raw SQL fail the gate, each with its incident",
          "[e2e][gate][weakening]") {
  WeakRepo t;
  auto sql = t.repo.run({"sqlite3", "evals/suite.db",
                         "UPDATE cases SET status = 'xfail' WHERE id IN ('guard-0', 'guard-1', "
                         "'guard-2')"});
  REQUIRE(sql.exit_code == 0);
  auto report = t.gate(1);
  CHECK(weakened(report) ==
        std::set<std::string>{"guard-0 INC-1", "guard-1 INC-1", "guard-2 INC-2"});
  for (const auto& v : report["violations"])
    if (v["rule"] == "case-weakened")
      CHECK_THAT(v["message"].get<std::string>(), Catch::Contains("status: active -> xfail"));
  CHECK(report["active_after"] == 3);
  CHECK(report["xfail_after"] == 3);
  CHECK(report["unguarded_incidents"] == json::array({"INC-1"}));
}

TEST_CASE("the same change with recorded decisions passes and shows what the team gives up",
          "[e2e][gate][weakening]") {
  WeakRepo t;
  for (const char* id : {"guard-0", "guard-1", "guard-2"})
    must_succeed(t.repo, {"edit", id, "--status", "xfail", "--reason", "flaky-unfixable",
                          "--rationale", "the vendor model drifts; tracked in INC-99"});
  must_succeed(t.repo, {"edit", "guard-3", "--remove-expect", "max-length:600", "--add-expect",
                        "max-length:900", "--reason", "invalid-expectation", "--rationale",
                        "answers grew with the new template"});
  must_succeed(t.repo, {"edit", "guard-4", "--prompt", "Question four, reworded", "--reason",
                        "reworded", "--rationale", "plainer words"});
  auto report = t.gate(0);
  REQUIRE(report["edited"].size() == 5);
  for (const auto& e : report["edited"]) {
    CHECK(e["weakened"] == true);
    CHECK(e["decisions"].size() == 1);
  }
  auto text = t.repo.evalkeep({"gate", "--base", "main"}).out;
  CHECK_THAT(text, Catch::Contains("status: active -> xfail  (weakens)"));
  CHECK_THAT(text, Catch::Contains("decision: flaky-unfixable: the vendor model drifts"));
  CHECK_THAT(text, Catch::Contains("assertion: max-length:600 -> max-length:900  (weakens)"));
  CHECK_THAT(text, Catch::Contains("INC-1: 2 -> 0  (left with no active guard)"));
}

TEST_CASE("a retirement superseded by a case the same change weakens fails the gate",
          "[e2e][gate][weakening]") {
  WeakRepo t;
  must_succeed(t.repo, {"retire", "guard-0", "--reason", "superseded", "--superseded-by", "guard-1",
                        "--rationale", "guard-1 covers it"});
  must_succeed(t.repo, {"edit", "guard-1", "--remove-expect", "icontains:30 days", "--reason",
                        "invalid-expectation", "--rationale", "wording changed"});
  auto report = t.gate(1);
  REQUIRE(report["violations"].size() == 1);
  CHECK(report["violations"][0]["rule"] == "supersession-broken");
  CHECK_THAT(report["violations"][0]["message"].get<std::string>(),
             Catch::Contains("superseded by guard-1, which this change weakens"));
}
