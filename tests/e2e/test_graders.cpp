// The judge's factuality and closedqa graders, imported from promptfoo's factuality and
// model-graded-closedqa: the stand-in, as the judge provider, answers each grader's prompt by a
// rule matching the answer inside it, so that one case of each passes and one fails.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::assertions_of;
using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::run_results;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

// The graders' rules come first: a grader's prompt holds the question too.
const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "<submitted_answer>\nYou can return items within 30 days",
     "answer": "{\"category\": \"C\", \"reason\": \"Both give 30 days from delivery.\"}"},
    {"match": "<submitted_answer>\nGifts can be returned within 90 days",
     "answer": "```json\n{\"category\": \"D\", \"reason\": \"90 days is not 30 days.\"}\n```"},
    {"match": "<submitted_answer>\nYes, we ship to Canada",
     "answer": "The answer says yes plainly.\nY"},
    {"match": "<submitted_answer>\nIt may depend",
     "answer": "The answer hedges instead of saying yes or no.\nN"},
    {"match": "return an item", "answer": "You can return items within 30 days of delivery."},
    {"match": "return a gift", "answer": "Gifts can be returned within 90 days."},
    {"match": "ship to Canada", "answer": "Yes, we ship to Canada."},
    {"match": "ship to Mexico", "answer": "It may depend on the product."}
  ]
})";

} // namespace

TEST_CASE("promptfoo's factuality and model-graded-closedqa run as judges with their graders, "
          "passing and failing by the grader's answer",
          "[e2e][graders]") {
  StandIn server{k_rules};
  Repo repo;
  REQUIRE(repo.evalkeep({"init", "-q"}).exit_code == 0);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto config = (std::filesystem::path(EVALKEEP_SOURCE_DIR) /
                 "tests/promptfoo/model-graded/promptfooconfig.yaml")
                    .string();
  auto imported = repo.evalkeep({"import", "--from", "promptfoo", config, "--skip-unsupported"});
  INFO(imported.out << imported.err);
  REQUIRE(imported.exit_code == 0);

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
  for (const auto& f : summary["failures"])
    failed.insert(f["case"].get<std::string>());
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
