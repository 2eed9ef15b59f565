// A small suite run against Azure OpenAI and Gemini providers through the stand-in: each request
// in the API's own shape, a filtered or blocked answer scored as an answer, Azure's and Google's
// errors reported by name.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({"rules": [
  {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."}
]})";

const std::vector<std::string> k_keys{"AZURE_OPENAI_API_KEY=az-e2e-key",
                                      "GEMINI_API_KEY=gem-e2e-key"};

void seed(const Repo& repo, const StandIn& server) {
  must_succeed(repo, {"init", "-q"});
  must_succeed(repo,
               {"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
                "--expect", "icontains:30 days", "--provenance", "spec:refunds"});
  must_succeed(repo, {"add", "--id", "greeting", "--system", "Be brief.", "--prompt", "Hello there",
                      "--expect", "contains:help", "--provenance", "spec:greets"});
  // The stand-in's filter: Azure stops the completion (finish_reason content_filter), Gemini
  // blocks the prompt (promptFeedback.blockReason SAFETY). Either way nothing helpful comes back.
  must_succeed(repo, {"add", "--id", "filtered", "--prompt",
                      "standin:content-filter standin:blocked how do I pick a lock?", "--expect",
                      "contains:help", "--provenance", "spec:filters"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "az", "azure",
                        "deployment = \"prod-4o\"\napi_version = \"2024-10-21\"\n")
      << provider_table(server, "gem", "gemini");
}

} // namespace

TEST_CASE("a suite runs against azure and gemini, a filtered answer scored as a failure",
          "[e2e][providers]") {
  StandIn server(k_rules);
  Repo repo;
  seed(repo, server);
  for (const auto* provider : {"az", "gem"}) {
    INFO(provider);
    auto r = repo.evalkeep({"run", "--provider", provider, "--json"}, {}, k_keys);
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    auto s = json::parse(r.out);
    CHECK(s["passed"] == 2);
    CHECK(s["failed"] == 1);
    CHECK(s["errored"] == 0); // a filter's refusal is an answer, not a transport error
    REQUIRE(s["failures"].size() == 1);
    CHECK(s["failures"][0]["case"] == "filtered");
    CHECK_THAT(s["failures"][0]["reason"].get<std::string>(),
               Catch::Contains(std::string(provider) == "az"
                                   ? "(the provider's filter: content_filter)"
                                   : "(the provider's filter: blockReason SAFETY)"));
  }
  auto log = server.log();
  REQUIRE(log.size() == 6);
  std::set<std::string> paths;
  for (const auto& entry : log) {
    CHECK(entry["status"] == 200); // every request was one the API takes
    CHECK(entry["api_key_present"] == true);
    CHECK(entry["authorization_present"] == false);
    paths.insert(entry["path"].get<std::string>());
  }
  CHECK(paths == std::set<std::string>{"/openai/deployments/prod-4o/chat/completions",
                                       "/v1beta/models/stand-in:generateContent"});
  // A second run replays: the deployment is part of what the cache keys on.
  auto again = json::parse(repo.evalkeep({"run", "--provider", "az", "--json"}, {}, k_keys).out);
  CHECK(again["cached"] == 3);
  CHECK(server.log().size() == 6);
}

TEST_CASE("azure and gemini errors stop a run with the API's own message", "[e2e][providers]") {
  StandIn server(k_rules);
  Repo repo;
  seed(repo, server);
  // No key on this machine's endpoint: the stand-in answers as each API does.
  auto az = repo.evalkeep({"run", "--provider", "az"});
  CHECK(az.exit_code != 0);
  CHECK_THAT(az.err, Catch::Contains("Access denied due to invalid subscription key"));
  auto gem = repo.evalkeep({"run", "--provider", "gem"});
  CHECK(gem.exit_code != 0);
  CHECK_THAT(gem.err, Catch::Contains("PERMISSION_DENIED"));

  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "gone", "azure", "deployment = \"missing-4o\"\n");
  auto gone = repo.evalkeep({"run", "--provider", "gone", "--json"}, {}, k_keys);
  auto s = json::parse(gone.out);
  CHECK(s["errored"] == 3);
  auto why = json::parse(must_succeed(repo, {"why", "greeting", "--json"}).out);
  CHECK_THAT(why["last_results"][0]["error"].get<std::string>(),
             Catch::Contains("DeploymentNotFound"));
}

TEST_CASE("azure settings are checked where evalkeep.toml is read", "[e2e][providers]") {
  StandIn server;
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "az", "azure", "auth = \"password\"\n");
  auto r = must_fail(repo, 2, {"run", "--provider", "az"});
  CHECK_THAT(r.err, Catch::Contains("providers.az.auth"));
  CHECK_THAT(r.err, Catch::Contains("entra-id"));

  Repo other;
  must_succeed(other, {"init", "-q"});
  std::ofstream(other.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "plain", "openai", "deployment = \"x\"\n");
  auto o = must_fail(other, 2, {"run", "--provider", "plain"});
  CHECK_THAT(o.err, Catch::Contains("'providers.plain.deployment' is for azure providers"));
}

TEST_CASE("an azure provider with auth = entra-id sends its token as a bearer token",
          "[e2e][providers]") {
  StandIn server(k_rules);
  Repo repo;
  seed(repo, server);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "entra", "azure", "auth = \"entra-id\"\n");
  auto r = repo.evalkeep({"run", "--provider", "entra", "--json"}, {},
                         {"AZURE_OPENAI_AD_TOKEN=eyJ0eXAiOiJKV1Qi.e2e"});
  INFO(r.err);
  REQUIRE(r.exit_code == 1);
  CHECK(json::parse(r.out)["passed"] == 2);
  for (const auto& entry : server.log()) {
    CHECK(entry["authorization_present"] == true);
    CHECK(entry["api_key_present"] == false);
  }
}

TEST_CASE("run --model gemini:MODEL needs no table, and azure needs one for its endpoint",
          "[e2e][providers]") {
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  must_succeed(repo, {"add", "--id", "greeting", "--prompt", "Hello there", "--expect",
                      "contains:help", "--provenance", "spec:greets"});
  // No key and the real endpoint: the run fails before any request, naming the variable.
  auto gem = repo.evalkeep({"run", "--model", "gemini:gemini-2.0-flash"}, {}, {"GEMINI_API_KEY="});
  CHECK(gem.exit_code == 3);
  CHECK_THAT(gem.err, Catch::Contains("GEMINI_API_KEY is not set"));
  auto az = repo.evalkeep({"run", "--model", "azure:gpt-4o"});
  CHECK(az.exit_code != 0);
  CHECK_THAT(az.err, Catch::Contains("base_url"));
}

TEST_CASE("gemini's RetryInfo retryDelay is the wait a 429 asks for", "[e2e][providers]") {
  // Gemini puts no Retry-After header on a 429: its body's RetryInfo detail says when to retry.
  StandIn server(R"({"rules": [
    {"match": "slow down", "fault": "429", "retry_after": "2", "times": 1, "answer": "help"},
    {"match": "wait long", "fault": "429", "retry_after": "30"}
  ]})");
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  for (const char* id : {"slow", "long"})
    must_succeed(repo, {"add", "--id", id, "--prompt",
                        std::string(id) == "slow" ? "slow down" : "wait long", "--expect",
                        "contains:help", "--provenance", "spec:retry"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "gem", "gemini", "max_retry_wait_s = 5\n");
  auto r = repo.evalkeep({"run", "--provider", "gem", "--json"}, {}, k_keys);
  INFO(r.err);
  auto s = json::parse(r.out);
  // "slow": told 2 s, waited them (stamps are whole seconds: 2 apart at least; a backoff of its
  // own, at most 0.5 s, would leave them at most 1 apart) and passed on the second attempt.
  auto attempts = repo.run({"sqlite3", ".evalkeep/runs.db",
                            "SELECT group_concat(outcome, ' '), (julianday(max(started_at)) - "
                            "julianday(min(started_at))) * 86400 >= 1.99 FROM attempts WHERE "
                            "case_id = 'slow'"});
  CHECK(attempts.out == "retry answer|1\n");
  // "long": told 30 s, more than max_retry_wait_s: not retried, and the message says why.
  REQUIRE(s["failures"].size() == 1);
  CHECK(s["failures"][0]["case"] == "long");
  CHECK_THAT(s["failures"][0]["reason"].get<std::string>(),
             Catch::Contains("told to wait 30 s, more than max_retry_wait_s"));
}
