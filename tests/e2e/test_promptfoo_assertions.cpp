// promptfoo's negated and list string checks and JSON Schemas through import, run, export and
// import again, with the real binary and the stand-in model server.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

std::filesystem::path config(const char* name) {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo" / name /
         "promptfooconfig.yaml";
}

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "order as JSON", "answer": "Here it is: {\"id\": 42, \"status\": \"shipped\"} done"},
    {"match": "profile", "answer": "```json\n{\"name\": \"Ada\", \"age\": \"old\"}\n```"}
  ]
})";

} // namespace

TEST_CASE("promptfoo's negated, list and JSON Schema checks import whole and score as written",
          "[e2e][interop][assertions]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("string-checks").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 1 incident, 3 cases"));
  auto shown = parse_json(must_succeed(repo, {"show", "refund-words", "--json"}).out);
  CHECK(shown["expect"].size() == 9); // not-contains-any is one not-contains per value

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 2);
  REQUIRE(summary["failures"].size() == 1);
  CHECK(summary["failures"][0]["case"] == "profile-json");
  // promptfoo's is-json parses the whole answer: a fenced one is not JSON, before any schema.
  CHECK_THAT(summary["failures"][0]["reason"].get<std::string>(),
             Catch::Contains("is-json-strict:") && Catch::Contains("is not valid JSON"));
}

TEST_CASE("the negated, list and JSON Schema checks go to promptfoo and come back identical",
          "[e2e][interop][assertions]") {
  Repo a;
  must_succeed(a, {"init"});
  must_succeed(a, {"import", "--from", "promptfoo", config("string-checks").string()});
  must_succeed(a, {"add", "--id", "braces", "--prompt", "Say {{ name }}", "--expect",
                   R"(icontains-any:["{{ name }}","x"])", "--expect", "not-equals:{% raw %}",
                   "--provenance", "red-team:template probe"});
  must_succeed(a, {"export", "--to", "promptfoo", "-o", "exported.yaml"});
  auto original = must_succeed(a, {"export"}).out;

  Repo b;
  must_succeed(b, {"init"});
  auto r =
      must_succeed(b, {"import", "--from", "promptfoo", (a.path() / "exported.yaml").string()});
  CHECK_THAT(r.out, Catch::Contains("imported 1 incident, 4 cases"));
  CHECK(must_succeed(b, {"export"}).out == original);
}

TEST_CASE("promptfoo's inline javascript and python assertions import and decide in node and "
          "python3",
          "[e2e][interop][assertions]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  // A script that reads the prompt, a text prompt, is given it as promptfoo gives it.
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("scripts").string()});
  CHECK_THAT(r.out, Catch::Contains("3 cases"));

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 2);
  REQUIRE(summary["failures"].size() == 1);
  CHECK(summary["failures"][0]["case"] == "profile-bare");
  CHECK_THAT(summary["failures"][0]["reason"].get<std::string>(),
             Catch::Contains("returned false"));
}

TEST_CASE("promptfoo's transforms run in front of the checks they precede",
          "[e2e][interop][assertions]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  must_succeed(repo, {"import", "--from", "promptfoo", config("transforms").string()});
  auto order = parse_json(must_succeed(repo, {"show", "order-id", "--json"}).out);
  REQUIRE(order["expect"].size() == 3);
  CHECK(order["expect"][1]["transform"].size() == 2); // the test's, then the assertion's own
  // options.postprocess is transform's older name; with both, transform runs.
  auto post = parse_json(must_succeed(repo, {"show", "order-postprocess", "--json"}).out);
  REQUIRE(post["expect"].size() == 1);
  CHECK_THAT(post["expect"][0]["transform"].dump(), Catch::Contains("output.slice("));
  auto both = parse_json(must_succeed(repo, {"show", "refund-transform-first", "--json"}).out);
  REQUIRE(both["expect"].size() == 1);
  CHECK_THAT(both["expect"][0]["transform"].dump(),
             Catch::Contains("toUpperCase") && !Catch::Contains("toLowerCase"));

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 3);
  REQUIRE(summary["failures"].size() == 1);
  // Upper-cased, the answer contains "30 DAYS"; as it came, it does not.
  CHECK(summary["failures"][0]["case"] == "refund-upper");
  CHECK_THAT(summary["failures"][0]["reason"].get<std::string>(),
             Catch::Contains("does not contain '30 DAYS'"));
}
