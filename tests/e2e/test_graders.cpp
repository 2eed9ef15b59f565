// The judge's graders, imported from promptfoo's factuality, model-graded-closedqa, g-eval and
// answer-relevance: the stand-in, as the judge provider, answers each grader's prompt by a rule
// matching the answer (or g-eval's criteria) inside it, so that cases of each pass and fail.

#include "support/e2e.hpp"
#include "support/graders.hpp"
#include "support/standin.hpp"

#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::assertions_of;
using evalkeep::test::failed_cases;
using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::run_results;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

// The configuration imported against the stand-in as the provider and the judge.
struct Imported {
  StandIn server{evalkeep::test::k_grader_rules};
  Repo repo;
  Imported() {
    REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
    auto config = (std::filesystem::path(EVALKEEP_SOURCE_DIR) /
                   "tests/promptfoo/model-graded/promptfooconfig.yaml")
                      .string();
    auto imported = repo.evalkeep({"import", "--from", "promptfoo", config});
    INFO(imported.out << imported.err);
    REQUIRE(imported.exit_code == 0); // the whole configuration comes over
  }
};

} // namespace

TEST_CASE("promptfoo's factuality and model-graded-closedqa run as judges with their graders, "
          "passing and failing by the grader's answer",
          "[e2e][graders]") {
  Imported f;
  auto& repo = f.repo;

  // The reference is rendered with the test's vars; the grader is kept with the judge.
  auto shown = json::parse(repo.evalkeep({"show", "return-window-factual", "--json"}).out);
  CHECK(shown["expect"][0] == json::parse(R"({"type": "judge", "grader": "factuality",
      "rubric": "Items can be returned within 30 days of delivery"})"));
  auto shown_text = repo.evalkeep({"show", "ship-canada-clear"});
  CHECK_THAT(shown_text.out,
             Catch::Contains("judge/closedqa:Gives a clear yes or no without hedging"));

  auto run = repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--case",
                            "return-window-factual", "--case", "gift-window-factual", "--case",
                            "ship-canada-clear", "--case", "ship-mexico-clear", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  std::set<std::string> failed;
  for (const auto& failure : summary["failures"])
    failed.insert(failure["case"].get<std::string>());
  CHECK(failed == std::set<std::string>{"gift-window-factual", "ship-mexico-clear"});
  CHECK(summary["passed"] == 2);

  auto rows = run_results(repo);
  CHECK_THAT(assertions_of(rows, "return-window-factual"),
             Catch::Contains("factuality passed: category C"));
  CHECK_THAT(assertions_of(rows, "gift-window-factual"),
             Catch::Contains("factuality failed: category D"));
  CHECK_THAT(assertions_of(rows, "gift-window-factual"), Catch::Contains("90 days is not 30"));
  CHECK_THAT(assertions_of(rows, "ship-canada-clear"),
             Catch::Contains("closedqa passed: the answer meets the criterion"));
  CHECK_THAT(assertions_of(rows, "ship-mexico-clear"),
             Catch::Contains("closedqa failed: the answer does not meet the criterion"));
}

TEST_CASE("factuality and closedqa judges export as promptfoo's types and import back the same",
          "[e2e][graders][interop]") {
  Repo a;
  REQUIRE(a.evalkeep({"init", "-q"}).exit_code == 0);
  auto config = (std::filesystem::path(EVALKEEP_SOURCE_DIR) /
                 "tests/promptfoo/model-graded/promptfooconfig.yaml")
                    .string();
  REQUIRE(a.evalkeep({"import", "--from", "promptfoo", config, "--skip-unsupported"}).exit_code ==
          0);
  auto exported = a.evalkeep({"export", "--to", "promptfoo", "-o", "exported.yaml"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  std::ifstream in(a.path() / "exported.yaml");
  std::string yaml{std::istreambuf_iterator<char>(in), {}};
  CHECK_THAT(yaml, Catch::Contains("type: \"factuality\""));
  CHECK_THAT(yaml, Catch::Contains("type: \"model-graded-closedqa\""));
  CHECK_THAT(yaml, Catch::Contains("type: \"llm-rubric\""));

  auto original = a.evalkeep({"export"}).out;
  Repo b;
  REQUIRE(b.evalkeep({"init", "-q"}).exit_code == 0);
  auto again = b.evalkeep({"import", "--from", "promptfoo", (a.path() / "exported.yaml").string()});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(b.evalkeep({"export"}).out == original);
  CHECK_THAT(original, Catch::Contains("\"grader\":\"closedqa\""));
}

TEST_CASE("g-eval, answer-relevance and factuality's category scores grade by two judge calls and "
          "the test's options, and replay from the cache",
          "[e2e][graders]") {
  Imported f;
  auto& repo = f.repo;
  auto& server = f.server;

  auto shown = json::parse(repo.evalkeep({"show", "store-credit-clear", "--json"}).out);
  CHECK(shown["expect"][0] == json::parse(R"({"type": "judge", "grader": "g-eval",
      "rubric": "Explains the idea in plain words", "threshold": 0.7})"));
  shown = json::parse(repo.evalkeep({"show", "store-relevant", "--json"}).out);
  CHECK(shown["expect"][0] == json::parse(R"({"type": "judge", "grader": "answer-relevance",
      "rubric": "", "threshold": 0.5})"));
  shown = json::parse(repo.evalkeep({"show", "sunday-relevant", "--json"}).out);
  CHECK(shown["expect"][0]["rubric"] == "When do you open on Sundays?");
  shown = json::parse(repo.evalkeep({"show", "sale-window-factual", "--json"}).out);
  CHECK(shown["expect"][0]["categories"] == json::parse("[0, 1, 1, 0, 1]"));

  const std::vector<std::string> cases = {
      "--case", "sale-window-factual", "--case", "store-credit-clear", "--case", "chargeback-clear",
      "--case", "hours-relevant",      "--case", "store-relevant",     "--case", "sunday-relevant"};
  auto run_args =
      std::vector<std::string>{"run", "--provider", "local", "--judge", "local", "--json"};
  run_args.insert(run_args.end(), cases.begin(), cases.end());
  auto run = repo.evalkeep(run_args);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(failed_cases(summary) ==
        std::set<std::string>{"sale-window-factual", "chargeback-clear", "store-relevant"});
  CHECK(summary["passed"] == 3);

  auto rows = run_results(repo);
  CHECK_THAT(assertions_of(rows, "sale-window-factual"),
             Catch::Contains("factuality failed: category A"));
  CHECK_THAT(assertions_of(rows, "store-credit-clear"),
             Catch::Contains("g-eval scored 0.80 (needs 0.70): Plain words."));
  CHECK_THAT(assertions_of(rows, "chargeback-clear"),
             Catch::Contains("g-eval scored 0.30 (needs 0.70)"));
  CHECK_THAT(assertions_of(rows, "hours-relevant"),
             Catch::Contains("relevance 1.00 (needs 0.80): the judge read the answer as "
                             "answering \\\"What are your opening hours?\\\""));
  CHECK_THAT(assertions_of(rows, "store-relevant"), Catch::Contains("(needs 0.50)"));
  CHECK_THAT(assertions_of(rows, "sunday-relevant"), Catch::Contains("relevance 1.00"));

  // Each two-call grader's calls are logged apart: the first, then its score or embeddings.
  auto attempts = repo.run({"sqlite3", ".evalkeep/runs.db",
                            "SELECT purpose FROM attempts WHERE case_id = 'store-credit-clear' "
                            "ORDER BY purpose"});
  CHECK(attempts.out == "answer\njudge:0\njudge:0:first\n");
  attempts = repo.run({"sqlite3", ".evalkeep/runs.db",
                       "SELECT purpose FROM attempts WHERE case_id = 'hours-relevant' "
                       "ORDER BY purpose"});
  CHECK(attempts.out == "answer\nembedding:0\njudge:0:first\n");

  // A second run replays every call from the cache: the same verdicts, no request.
  auto before = server.requests();
  auto again = repo.evalkeep(run_args);
  INFO(again.out << again.err);
  CHECK(again.exit_code == 1);
  CHECK(server.requests() == before);
  auto replayed = json::parse(again.out);
  CHECK(replayed["passed"] == 3);
  CHECK(run_results(repo).size() == rows.size() * 2);
}

TEST_CASE("a g-eval whose steps are unreadable and an answer-relevance whose judge cannot embed "
          "fail, each saying why",
          "[e2e][graders]") {
  StandIn server{R"({"default": {"answer": "Store credit is money you can spend."},
    "rules": [{"match": "short evaluation steps", "answer": "1. Check the words"},
              {"match": "<answer>", "answer": "What is store credit?"}]})"};
  Repo repo;
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server) << provider_table(server, "claude", "anthropic");
  REQUIRE(repo.evalkeep({"add", "-q", "--id", "credit", "--prompt", "Explain store credit.",
                         "--expect", "judge/g-eval:Explains it plainly", "--provenance", "spec:x"})
              .exit_code == 0);
  REQUIRE(
      repo.evalkeep({"add", "-q", "--id", "credit-relevant", "--prompt", "Explain store credit.",
                     "--expect", "judge/answer-relevance", "--provenance", "spec:x"})
          .exit_code == 0);
  auto run = repo.evalkeep({"run", "--provider", "local", "--judge", "claude", "--json"}, {},
                           {"ANTHROPIC_API_KEY=sk-ant-test"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto rows = run_results(repo);
  CHECK_THAT(assertions_of(rows, "credit"),
             Catch::Contains("the judge's first reply was not JSON {\\\"steps\\\": [...]}: 1. "
                             "Check the words"));
  CHECK_THAT(assertions_of(rows, "credit-relevant"),
             Catch::Contains("answer-relevance needs embeddings from the judge provider, but"));
}
