// Scripts that read their test's description and metadata (context.test.description,
// context.test.metadata), imported from promptfoo with what they read, run in node and python3
// against the stand-in, and exported and imported again to the same cases; and the grading
// provider a configuration names for its model-graded assertions, reported, never kept.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path context_config() {
  return fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/script-context/promptfooconfig.yaml";
}

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."}
  ]
})";

} // namespace

TEST_CASE("scripts reading their test's description and metadata import with them and decide as "
          "promptfoo's would",
          "[e2e][interop][scripts]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", context_config().string()});
  CHECK_THAT(r.out, Catch::Contains("3 cases"));
  CHECK(r.err.empty());

  // The description is the test's own; the metadata defaultTest's with the test's over it.
  auto refund = parse_json(must_succeed(repo, {"show", "refund-window", "--json"}).out);
  REQUIRE(refund["expect"].size() == 4);
  CHECK(refund["expect"][0]["test"] == json::parse(R"({"description": "Refund window",
                        "metadata": {"team": "support", "topic": "refunds", "days": 30}})"));
  CHECK(refund["expect"][1]["test"] ==
        json::parse(R"({"metadata": {"team": "support", "topic": "refunds", "days": 30}})"));
  CHECK(refund["expect"][2]["file"] == "checks/by_metadata.js");
  CHECK(refund["expect"][2]["test"].contains("metadata"));
  CHECK(refund["expect"][3]["test"] == json::parse(R"({"description": "Refund window"})"));

  auto list = parse_json(must_succeed(repo, {"list", "--json"}).out);
  std::string untitled;
  for (const auto& c : list)
    if (c["id"] != "refund-window" && c["id"] != "order-status")
      untitled = c["id"].get<std::string>();
  REQUIRE_FALSE(untitled.empty());
  auto third = parse_json(must_succeed(repo, {"show", untitled, "--json"}).out);
  CHECK(third["expect"][0]["test"] ==
        json::parse(R"({"description": null, "metadata": {"team": "support"}})"));

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 2);
  CHECK(failed_cases(summary) == std::set<std::string>{"order-status"});
}

TEST_CASE("scripts reading their test's description and metadata go to promptfoo and come back "
          "identical",
          "[e2e][interop][scripts]") {
  Repo a;
  must_succeed(a, {"init"});
  must_succeed(a, {"import", "--from", "promptfoo", context_config().string()});
  auto original = must_succeed(a, {"export"}).out;
  auto out = a.path() / "exported" / "promptfooconfig.yaml";
  fs::create_directories(out.parent_path());
  auto e = must_succeed(a, {"export", "--to", "promptfoo", "-o", out.string()});
  INFO(e.err);
  CHECK(e.err.empty());
  std::string yaml = read_file(out);
  CHECK_THAT(yaml, Catch::Contains("topic: \"refunds\"") || Catch::Contains("topic: refunds"));
  CHECK(fs::exists(out.parent_path() / "checks/by_description.py"));

  Repo b;
  must_succeed(b, {"init"});
  auto r = must_succeed(b, {"import", "--from", "promptfoo", out.string()});
  CHECK(r.err.empty());
  CHECK(must_succeed(b, {"export"}).out == original);

  // A retitled case's program would be given another description by promptfoo: it is left out.
  must_succeed(a, {"edit", "refund-window", "--title", "Refund period", "--rationale",
                   "the policy calls it a period"});
  auto retitled = a.evalkeep({"export", "--to", "promptfoo", "-o", out.string()});
  CHECK(retitled.exit_code == 0);
  CHECK_THAT(retitled.err, Catch::Contains("refund-window") &&
                               Catch::Contains("reads the test's description, \"Refund window\""));
}

TEST_CASE("scripts reading what evalkeep does not give stay refused, naming what they read",
          "[e2e][interop][scripts]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto dir = repo.path() / "pf";
  write_file(dir / "options.js", "module.exports = (output, ctx) => ctx.test.options.x === 1;\n");
  write_file(dir / "promptfooconfig.yaml", "prompts: ['{{q}}']\n"
                                           "tests:\n"
                                           "  - vars: {q: hi}\n"
                                           "    metadata: {tags: [billing], topic: refunds}\n"
                                           "    assert:\n"
                                           "      - type: javascript\n"
                                           "        value: file://options.js\n"
                                           "      - type: javascript\n"
                                           "        value: context.test.options.x === 1\n"
                                           "      - type: javascript\n"
                                           "        value: context.test.metadata.tags.length > 0\n"
                                           "      - type: python\n"
                                           "        value: context['test']['provider'] is None\n"
                                           "      - type: contains\n"
                                           "        value: hi\n"
                                           "        transform: context.test.metadata.topic\n");
  auto r = must_fail(repo, 2,
                     {"import", "--from", "promptfoo", (dir / "promptfooconfig.yaml").string()});
  CHECK_THAT(r.err, Catch::Contains("yaml:6") && Catch::Contains("reads 'options'"));
  CHECK_THAT(r.err, Catch::Contains("yaml:8") && Catch::Contains("reads context.test.options"));
  CHECK_THAT(r.err, Catch::Contains("yaml:10") && Catch::Contains("names \"tags\""));
  CHECK_THAT(r.err, Catch::Contains("yaml:12") && Catch::Contains("reads context['test']"));
  CHECK_THAT(r.err, Catch::Contains("yaml:14") && Catch::Contains("context.test.metadata"));
}

namespace {

// The judge answers the rubric's grading prompt; the model the question.
const char* k_judge_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "Refunds are accepted within 30 days",
     "answer": "{\"pass\": true, \"score\": 0.9, \"reason\": \"states it\", \"category\": \"C\"}"},
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."}
  ]
})";

} // namespace

TEST_CASE("a model-graded assertion's grading provider is reported once and the run grades with "
          "the judge provider of evalkeep.toml",
          "[e2e][interop][graders]") {
  StandIn model{k_judge_rules};
  StandIn judge{k_judge_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  // The judge is named at the top of evalkeep.toml, before its tables.
  auto toml = repo.path() / "evalkeep.toml";
  write_file(toml, "judge = \"grader\"\n" + read_file(toml) + provider_table(model) +
                       provider_table(judge, "grader"));
  auto dir = repo.path() / "pf";
  write_file(dir / "promptfooconfig.yaml",
             "prompts: ['{{q}}']\n"
             "defaultTest:\n"
             "  options:\n"
             "    provider: openai:chat:gpt-4o\n"
             "tests:\n"
             "  - description: Refund rubric\n"
             "    vars: {q: Can I get a refund?}\n"
             "    assert:\n"
             "      - type: llm-rubric\n"
             "        value: States the refund window\n"
             "        provider: anthropic:messages:claude-sonnet-4-5\n"
             "      - type: factuality\n"
             "        value: Refunds are accepted within 30 days\n"
             "        provider: {id: openai:chat:gpt-4o-mini, config: {temperature: 0}}\n"
             "  - description: Refund rubric again\n"
             "    vars: {q: What about a refund?}\n"
             "    options:\n"
             "      provider: {id: anthropic:messages:claude-sonnet-4-5}\n"
             "    assert:\n"
             "      - type: model-graded-closedqa\n"
             "        value: Names a number of days\n"
             "        provider: anthropic:messages:claude-sonnet-4-5\n");
  auto r =
      repo.evalkeep({"import", "--from", "promptfoo", (dir / "promptfooconfig.yaml").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("2 cases"));
  // Each provider once, where it is first named, with the judge that grades instead.
  CHECK_THAT(r.err, Catch::Contains("yaml:4: grading provider openai:chat:gpt-4o is not kept") &&
                        Catch::Contains("yaml:11: grading provider "
                                        "anthropic:messages:claude-sonnet-4-5 is not kept") &&
                        Catch::Contains("yaml:14: grading provider openai:chat:gpt-4o-mini") &&
                        Catch::Contains("judge = \"NAME\" in evalkeep.toml, or --judge"));
  std::size_t sonnet = 0;
  for (auto at = r.err.find("grading provider anthropic"); at != std::string::npos;
       at = r.err.find("grading provider anthropic", at + 1))
    ++sonnet;
  CHECK(sonnet == 1);
  auto shown = parse_json(must_succeed(repo, {"show", "refund-rubric", "--json"}).out);
  REQUIRE(shown["expect"].size() == 2);
  CHECK(shown["expect"][0]["rubric"] == "States the refund window");
  CHECK(shown["expect"][1]["grader"] == "factuality");
  CHECK_FALSE(shown.dump().find("provider") != std::string::npos);

  auto run = repo.evalkeep({"run", "--provider", "local", "--case", "refund-rubric", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  // The model answered once; the judge of evalkeep.toml graded both assertions.
  CHECK(model.requests() == 1);
  CHECK(judge.requests() == 2);
}
