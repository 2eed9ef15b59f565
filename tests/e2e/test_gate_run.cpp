// The gate on a run (rule 4): an active case that fails in the run, or a case that passed in the
// baseline run and fails now, fails the pull request.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::must_fail;
using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

// refund-window and greeting pass against these answers; tone-apology fails.
const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "my order is late", "answer": "Unfortunately your order is late."}
  ]
})";

// Three cases committed on main, provider "local" answering from k_rules, on branch "change".
struct RunGate {
  StandIn server{k_rules};
  Repo repo;
  RunGate() {
    ok({"init", "-q"});
    ok({"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    ok({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?", "--expect",
        "icontains:30 days", "--incident", "INC-7"});
    ok({"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
        "not-contains:Unfortunately", "--provenance", "spec:style guide 2.1"});
    ok({"add", "--id", "greeting", "--prompt", "Hello there", "--expect", "contains:help",
        "--provenance", "spec:greets"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "change"});
  }
  // A command that must exit 0, or 1 (a failed run or gate).
  evalkeep::core::ProcessResult ok(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env = {}) const {
    auto r = repo.evalkeep(args, {}, env);
    INFO(evalkeep::test::command_line(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    return r;
  }
  json gate_json(std::vector<std::string> args) const {
    args.insert(args.begin(), {"gate", "--base", "main", "--json"});
    return evalkeep::test::parse_json(ok(args).out);
  }
  std::string xpath(const std::string& expr, const std::string& file) const {
    auto r = repo.run({"xmllint", "--xpath", expr, file});
    return r.out.substr(0, r.out.find('\n'));
  }
};

std::vector<std::string> rules_of(const json& report) {
  std::vector<std::string> out;
  for (const auto& v : report["violations"])
    out.push_back(v["rule"].get<std::string>() +
                  (v["case"].is_string() ? " " + v["case"].get<std::string>() : ""));
  return out;
}

} // namespace

TEST_CASE("gate --run latest fails on the active case that failed in the run", "[e2e][gate]") {
  RunGate g;
  CHECK(g.ok({"run", "--provider", "local"}).exit_code == 1);
  auto r = g.repo.evalkeep({"gate", "--base", "main", "--run", "latest", "--json"});
  CHECK(r.exit_code == 1);
  auto report = evalkeep::test::parse_json(r.out);
  CHECK(report["passed"] == false);
  REQUIRE(rules_of(report) == std::vector<std::string>{"case-failed tone-apology"});
  CHECK_THAT(report["violations"][0]["message"].get<std::string>(),
             Catch::StartsWith("case tone-apology failed in run 1: not-contains:Unfortunately"));
  CHECK(report["run"]["id"] == 1);
  CHECK(report["run"]["provider"] == "local");
  CHECK(report["run"]["model"] == "stand-in");
  CHECK(report["run"]["checked"] == 3);
  CHECK(report["run"]["passed"] == 2);
  CHECK(report["run"]["failed"] == 1);

  auto text = g.ok({"gate", "--base", "main", "--run", "latest"});
  CHECK_THAT(text.out, Catch::Contains("[case-failed] case tone-apology failed in run 1"));
  CHECK_THAT(text.out, Catch::Contains("run 1 (local, model stand-in, finished): 3 live cases "
                                       "checked, 2 passed, 1 failed, 0 not run\n  "
                                       "every answer was asked for: 3 requests made, none "
                                       "replayed\n  tone-apology  fail\n\nactive cases"));
}

TEST_CASE("gate --run passes when the only failing case is xfail at HEAD", "[e2e][gate]") {
  RunGate g;
  g.ok({"run", "--provider", "local"});
  // Marked xfail after the run failed it: the run still ran this case's content.
  g.ok({"edit", "tone-apology", "--status", "xfail", "--rationale", "style fix is scheduled",
        "--reason", "flaky-unfixable"});
  g.repo.git({"commit", "-q", "-am", "tone-apology is a known failure"});
  auto r = g.ok({"gate", "--base", "main", "--run", "latest"});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("gate: passed"));
  auto report = g.gate_json({"--run", "1"});
  CHECK(report["violations"].empty());
  CHECK(report["run"]["failed"] == 1);
}

TEST_CASE("gate --baseline-run catches a case that passed before and fails now", "[e2e][gate]") {
  RunGate g;
  g.ok({"run", "--provider", "local"});
  // Another model: the default answer for everything, so refund-window regresses. The gate
  // checks runs only of providers the base defines: it is added on main.
  StandIn plain;
  g.repo.git({"checkout", "-q", "main"});
  std::ofstream(g.repo.path() / "evalkeep.toml", std::ios::app) << provider_table(plain, "plain");
  g.repo.git({"commit", "-q", "-am", "another provider"});
  g.repo.git({"checkout", "-q", "change"});
  g.repo.git({"merge", "-q", "main"});
  g.ok({"run", "--provider", "plain"});

  auto report = g.gate_json({"--run", "2", "--baseline-run", "1"});
  CHECK(report["passed"] == false);
  REQUIRE(rules_of(report) == std::vector<std::string>{"regressed refund-window"});
  CHECK(report["violations"][0]["incident"] == "INC-7");
  CHECK_THAT(report["violations"][0]["message"].get<std::string>(),
             Catch::StartsWith("case refund-window (guarding INC-7) passed in run 1 and failed "
                               "in run 2: icontains:30 days"));
  CHECK(report["run"]["baseline"] == 1);
  // Without the baseline the same failure is an active case failing.
  CHECK(rules_of(g.gate_json({"--run", "2"})) ==
        std::vector<std::string>{"case-failed refund-window"});
}

TEST_CASE("gate --run-now --provider runs the suite and gates on that run", "[e2e][gate]") {
  RunGate g;
  auto report = g.gate_json({"--run-now", "--provider", "local", "-j", "4"});
  CHECK(rules_of(report) == std::vector<std::string>{"case-failed tone-apology"});
  CHECK(report["run"]["id"] == 1);
  CHECK(g.server.requests() == 3);
  auto runs = evalkeep::test::parse_json(g.ok({"runs", "list", "--json"}).out);
  CHECK(runs.size() == 1);
  // A second gate calls the model again: its verdict never rests on stored answers.
  auto again = g.gate_json({"--run-now", "--provider", "local"});
  CHECK(again["run"]["id"] == 2);
  CHECK(again["run"]["requests"] == 3);
  CHECK(again["run"]["replayed"] == 0);
  CHECK(g.server.requests() == 6);
}

TEST_CASE("gate refuses --run-now without --provider and --run with --run-now", "[e2e][gate]") {
  RunGate g;
  auto r = must_fail(g.repo, 2, {"gate", "--run-now"});
  CHECK_THAT(r.err, Catch::Contains("--run-now requires --provider"));
  r = must_fail(g.repo, 2, {"gate", "--run", "latest", "--run-now", "--provider", "local"});
  CHECK_THAT(r.err, Catch::Contains("--run excludes --run-now"));
  r = must_fail(g.repo, 2, {"gate", "--baseline-run", "1"});
  CHECK_THAT(r.err, Catch::Contains("--baseline-run needs --run or --run-now"));
  r = must_fail(g.repo, 2, {"gate", "--run-now", "--provider", "nowhere"});
  CHECK_THAT(r.err, Catch::Contains("nowhere"));
  CHECK(g.server.requests() == 0);
  CHECK_FALSE(std::filesystem::exists(g.repo.path() / ".evalkeep" / "runs.db"));
}

TEST_CASE("gate with a run that does not exist is an input error and writes nothing",
          "[e2e][gate]") {
  RunGate g;
  auto r = must_fail(g.repo, 2, {"gate", "--run", "latest"});
  CHECK_THAT(r.err, Catch::Contains("no runs store at"));
  g.ok({"run", "--provider", "local"});
  r = must_fail(g.repo, 2, {"gate", "--run", "42", "--junit", "gate.xml", "--markdown", "gate.md"});
  CHECK_THAT(r.err, Catch::Contains("--run: no run 42"));
  r = must_fail(g.repo, 2,
                {"gate", "--run", "latest", "--baseline-run", "42", "--junit", "gate.xml"});
  CHECK_THAT(r.err, Catch::Contains("--baseline-run: no run 42"));
  CHECK_FALSE(std::filesystem::exists(g.repo.path() / "gate.xml"));
  CHECK_FALSE(std::filesystem::exists(g.repo.path() / "gate.md"));
}

TEST_CASE("gate JUnit, Markdown and annotations carry the run's failures", "[e2e][gate]") {
  RunGate g;
  g.ok({"run", "--provider", "local"});
  auto r = g.ok(
      {"gate", "--base", "main", "--run", "latest", "--junit", "gate.xml", "--markdown", "gate.md"},
      {"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("::error file=evals/suite.db,title=evalkeep gate: "
                                    "case-failed::case tone-apology failed in run 1"));
  REQUIRE(g.repo.run({"xmllint", "--noout", "gate.xml"}).exit_code == 0);
  CHECK(g.xpath("count(//testcase[@classname='evalkeep.gate.run'])", "gate.xml") == "3");
  // The case fails under the run, and the rule it breaks fails with it.
  CHECK(g.xpath("string(//testcase[@classname='evalkeep.gate.run'][failure]/@name)", "gate.xml") ==
        "tone-apology");
  CHECK(g.xpath("string(//testcase[@classname='evalkeep.gate.rules'][failure]/@name)",
                "gate.xml") == "case-failed");
  CHECK(g.xpath("count(//testcase[failure])", "gate.xml") == "2");
  CHECK(g.xpath("string(//testsuites/@failures)", "gate.xml") == "2");
  auto md = evalkeep::test::read_file(g.repo.path() / "gate.md");
  CHECK_THAT(md, Catch::Contains("### Run"));
  CHECK_THAT(md, Catch::Contains("| case-failed | tone-apology |  | case tone-apology failed in "
                                 "run 1: not-contains:Unfortunately"));
  CHECK_THAT(md, Catch::Contains("### Run\n\nrun 1 (local, model stand-in, finished): 3 live "
                                 "cases checked, 2 passed, 1 failed, 0 not run.\n"));
  CHECK_THAT(md, Catch::Contains("| tone-apology | fail |  |\n"));
}

TEST_CASE("gate --run fails on active cases the run did not run as they are at HEAD",
          "[e2e][gate]") {
  RunGate g;
  g.ok({"run", "--provider", "local", "--case", "refund-window", "--case", "greeting"});
  g.ok({"edit", "greeting", "--add-expect", "max-length:200", "--rationale", "keep it short"});
  auto report = g.gate_json({"--run", "latest"});
  CHECK(rules_of(report) ==
        std::vector<std::string>{"case-not-run greeting", "case-not-run tone-apology"});
  CHECK_THAT(report["violations"][0]["message"].get<std::string>(),
             Catch::Contains("run 1 ran an older version of case greeting"));
  CHECK(report["run"]["not_run"] == 2);
}

TEST_CASE("gate --run on an unfinished run reports it incomplete", "[e2e][gate]") {
  RunGate g;
  g.ok({"run", "--provider", "local"});
  // What a run killed before greeting's answer leaves behind.
  auto del = g.repo.run({"sqlite3", ".evalkeep/runs.db",
                         "DELETE FROM results WHERE case_id = 'greeting'; UPDATE runs SET state = "
                         "'running', finished_at = NULL"});
  REQUIRE(del.exit_code == 0);
  auto report = g.gate_json({"--run", "latest"});
  // tone-apology failed; greeting has no result.
  REQUIRE(rules_of(report) ==
          std::vector<std::string>{"case-failed tone-apology", "run-incomplete"});
  CHECK(report["violations"][1]["message"] ==
        "run 1 (running) has no result for 1 active case: greeting; finish it with 'evalkeep run "
        "--resume 1'");
}

TEST_CASE("gate on a merge that lacks a shard names the shard instead of sending it to --resume",
          "[e2e][gate][shard]") {
  RunGate g;
  for (const char* shard : {"1/3", "2/3"})
    g.ok({"run", "--provider", "local", "--shard", shard, "--runs-db",
          fmt::format("shard-{}.db", shard[0]), "--quiet"});
  g.ok({"runs", "merge", "shard-1.db", "shard-2.db", "-o", "runs.db"});
  auto gated = g.repo.evalkeep(
      {"--runs-db", "runs.db", "gate", "--base", "main", "--run", "latest", "--json"});
  INFO(gated.out << gated.err);
  CHECK(gated.exit_code == 1);
  auto report = evalkeep::test::parse_json(gated.out);
  std::string incomplete;
  for (const auto& v : report["violations"])
    if (v["rule"] == "run-incomplete")
      incomplete = v["message"];
  CHECK_THAT(incomplete, Catch::StartsWith("run 1 (stopped) is a merge that lacks shard 3/3"));
  CHECK_THAT(incomplete, Catch::EndsWith("run the missing shard (run --shard I/N) and merge every "
                                         "shard again"));
  CHECK_THAT(incomplete, !Catch::Contains("--resume"));
}

TEST_CASE("gate on an exec run names the command that answered, not a model", "[e2e][gate]") {
  RunGate g;
  evalkeep::test::write_file(g.repo.path() / "agent.sh",
                             "#!/bin/sh\ncat >/dev/null\necho 'I can help: 30 days.'\n");
  std::filesystem::permissions(g.repo.path() / "agent.sh", std::filesystem::perms::owner_all);
  std::ofstream(g.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"./agent.sh\"]\n";
  g.repo.git({"add", "-A"});
  g.repo.git({"commit", "-q", "-m", "an exec provider"});
  g.ok({"run", "--provider", "agent", "--quiet"});
  auto gated = g.repo.evalkeep({"gate", "--base", "main", "--run", "latest"});
  INFO(gated.out << gated.err);
  CHECK_THAT(gated.out, Catch::Contains("run 1 (agent, exec: ./agent.sh, finished): 3 live cases"));
  CHECK_THAT(gated.out, !Catch::Contains("model ./agent.sh"));
  auto report = g.gate_json({"--run", "latest"});
  CHECK(report["run"]["model"] == "exec: ./agent.sh");
}

TEST_CASE("the CI recipe: shards run apart, runs merge joins them, the gate checks the merged run",
          "[e2e][gate][shard]") {
  // As docs/ci/github-actions.yml and docs/ci/gitlab-ci.yml do it, one job per shard.
  RunGate g;
  for (const char* shard : {"1/2", "2/2"})
    g.ok({"run", "--provider", "local", "--shard", shard, "--runs-db",
          fmt::format("shard-{}.db", shard[0]), "--quiet"});
  g.ok({"runs", "merge", "shard-1.db", "shard-2.db", "-o", "runs.db"});
  auto gated = g.repo.evalkeep({"--runs-db", "runs.db", "gate", "--base", "main", "--run", "latest",
                                "--junit", "gate.xml", "--json"});
  INFO(gated.out << gated.err);
  CHECK(gated.exit_code == 1);
  auto report = evalkeep::test::parse_json(gated.out);
  CHECK(rules_of(report) == std::vector<std::string>{"case-failed tone-apology"});
  CHECK(report["run"]["checked"] == 3);
  CHECK(report["run"]["passed"] == 2);
  CHECK(g.xpath("count(//testcase[@classname='evalkeep.gate.run'])", "gate.xml") == "3");
}
