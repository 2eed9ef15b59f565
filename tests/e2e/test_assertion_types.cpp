// The negated and list string checks, JSON against a schema and script assertions, added with
// `evalkeep add` and scored by `evalkeep run` against the stand-in model server.

#include "support/cli_runner.hpp"
#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::must_fail;
using evalkeep::test::must_succeed;
using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "order as JSON", "answer": "Here it is: {\"id\": 42, \"status\": \"shipped\"} done"},
    {"match": "profile", "answer": "```json\n{\"name\": \"Ada\", \"age\": \"old\"}\n```"}
  ]
})";

std::vector<std::string> keys(const std::map<std::string, std::string>& m) {
  std::vector<std::string> out;
  for (const auto& [k, _] : m)
    out.push_back(k);
  return out;
}

struct Fixture {
  StandIn server{k_rules};
  Repo repo;
  Fixture() {
    must_succeed(repo, {"init", "-q"});
    must_succeed(repo, {"incident", "add", "INC-7", "--title", "Refund promised outside policy"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  }
  void add(const std::string& id, const std::string& prompt,
           const std::vector<std::string>& expect) {
    std::vector<std::string> args{"add", "--id", id, "--prompt", prompt, "--incident", "INC-7"};
    for (const auto& e : expect) {
      args.push_back("--expect");
      args.push_back(e);
    }
    must_succeed(repo, args);
  }
  // The cases of a run that did not pass, with the reason of their first failed assertion;
  // every other case passed.
  std::map<std::string, std::string> failed(const std::vector<std::string>& env = {}) {
    auto r = repo.evalkeep({"run", "--provider", "local", "--json"}, {}, env);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    auto summary = json::parse(r.out);
    CHECK(summary["errored"] == 0);
    std::map<std::string, std::string> out;
    for (const auto& c : summary["failures"]) {
      CHECK(c["verdict"] == "fail");
      out[c["case"]] = c["reason"];
    }
    CHECK(summary["passed"].get<std::size_t>() + out.size() == summary["total"].get<std::size_t>());
    return out;
  }
};

} // namespace

TEST_CASE("negated and list string checks pass and fail as written", "[e2e][run][assertions]") {
  Fixture f;
  f.add("not-forms-pass", "Can I get a refund?",
        {"not-icontains:SORRY", "not-equals:No.", "not-starts-with:No", "not-regex:\\d{3}-\\d{4}",
         "contains-any:[\"30 days\",\"thirty days\"]", "icontains-any:REFUNDS,returns",
         "not-contains-all:[\"30 days\",\"store credit\"]"});
  f.add("not-icontains-fails", "Can I get a refund?", {"not-icontains:REFUNDS"});
  f.add("contains-any-fails", "Can I get a refund?", {"contains-any:[\"60 days\",\"90 days\"]"});
  f.add("not-contains-all-fails", "Can I get a refund?",
        {"not-icontains-all:[\"refunds\",\"DELIVERY\"]"});
  auto failed = f.failed();
  CHECK(keys(failed) == std::vector<std::string>{"contains-any-fails", "not-contains-all-fails",
                                                 "not-icontains-fails"});
  CHECK_THAT(failed["contains-any-fails"], Catch::Contains("contains none of"));
  CHECK_THAT(failed["not-icontains-fails"], Catch::Contains("contains 'REFUNDS' (ignoring case)"));
}

TEST_CASE("JSON is checked against a schema, whole or inside the answer",
          "[e2e][run][assertions]") {
  Fixture f;
  f.add("order-contains", "Give me the order as JSON",
        {R"(contains-json:{"type":"object","required":["id","status"],)"
         R"("properties":{"id":{"type":"integer"}}})"});
  f.add("order-whole", "Give me the order as JSON", {"is-json"});
  f.add("profile-schema", "Show my profile",
        {R"(is-json:{"type":"object","properties":{"age":{"type":"integer"}}})"});
  f.add("profile-valid", "Show my profile", {"is-json:{\"required\":[\"name\"]}"});
  auto failed = f.failed();
  CHECK(keys(failed) == std::vector<std::string>{"order-whole", "profile-schema"});
  CHECK_THAT(failed["order-whole"], Catch::Contains("is not valid JSON"));
  CHECK_THAT(failed["profile-schema"], Catch::Contains("does not conform"));
  CHECK_THAT(failed["profile-schema"], Catch::Contains("age"));
}

TEST_CASE("javascript and python assertions decide, and never see the keys",
          "[e2e][run][assertions]") {
  Fixture f;
  f.add("js-expression", "Can I get a refund?", {"javascript:output.includes('30 days')"});
  f.add("js-body", "Can I get a refund?",
        {"javascript:const n = output.split(' ').length;\nreturn {pass: n < 5, score: n / 10, "
         "reason: n + ' words'};"});
  f.add("py-score", "Can I get a refund?", {"python@0.5:len(output) / 100"});
  f.add("py-startswith", "Can I get a refund?",
        {"python:output.startswith('Refunds') and "
         "'x' not in context['vars']"});
  f.add("js-prompt", "Can I get a refund?",
        {"javascript:context.prompt === 'Can I get a refund?'"});
  f.add("keys-withheld", "Can I get a refund?",
        {"javascript:process.env.OPENAI_API_KEY === undefined && "
         "process.env.EVALKEEP_TEST_TOKEN === undefined"});
  auto failed = f.failed({"OPENAI_API_KEY=sk-test-123", "EVALKEEP_TEST_TOKEN=secret"});
  CHECK(keys(failed) == std::vector<std::string>{"js-body", "py-score"});
  CHECK_THAT(failed["js-body"], Catch::Contains(": 8 words"));
  CHECK_THAT(failed["py-score"], Catch::Contains("(needs 0.5)"));
}

TEST_CASE("an assertion of an added type changed without a decision is refused as a weakening",
          "[e2e][decision][assertions]") {
  Fixture f;
  f.add("refund", "Can I get a refund?", {"contains-any:[\"30 days\",\"thirty days\"]"});
  auto looser =
      must_fail(f.repo, 1,
                {"edit", "refund", "--remove-expect", "contains-any:[\"30 days\",\"thirty days\"]",
                 "--add-expect", "contains-any:[\"30 days\",\"thirty days\",\"days\"]",
                 "--rationale", "any number of days"});
  CHECK_THAT(looser.err, Catch::Contains("this edit weakens case refund"));
  auto script = must_fail(f.repo, 1,
                          {"edit", "refund", "--add-expect", "javascript:output.length > 5",
                           "--remove-expect", "contains-any:[\"30 days\",\"thirty days\"]",
                           "--rationale", "a script instead"});
  CHECK_THAT(script.err, Catch::Contains("this edit weakens case refund"));
  // Provably stricter: fewer values, any of which must be there.
  must_succeed(f.repo, {"edit", "refund", "--remove-expect",
                        "contains-any:[\"30 days\",\"thirty days\"]", "--add-expect",
                        "contains-any:[\"30 days\"]", "--rationale", "the policy's own words"});
}
