// A suite run against Amazon Bedrock's Converse API through the stand-in, which checks libcurl's
// SigV4 signatures with its own verifier: plain and temporary credentials, a wrong secret, a
// missing one, throttling.

#include "providers/bedrock.hpp"
#include "support/cli_runner.hpp"
#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "refund after 45 days", "answer": "Refunds are accepted within 30 days of delivery."},
    {"match": "my order is late", "answer": "Unfortunately your order is late."},
    {"match": "busy", "fault": "429", "retry_after": "1", "times": 1, "answer": "Sorry for the wait."}
  ]
})";

const std::string k_key_id = "AKIDE2EEXAMPLE";
const std::string k_secret = "e2e/K7MDENG+bPxRfiCYE2EKEY";
const std::string k_token = "FwoGZXIvYXdzE2ESESSIONTOKEN";

// The rules with the credentials the stand-in accepts, and a session token when one is given.
std::string rules_for(const std::string& token) {
  auto rules = json::parse(k_rules);
  rules["aws"] = {{"access_key_id", k_key_id}, {"secret_access_key", k_secret}};
  if (!token.empty())
    rules["aws"]["session_token"] = token;
  return rules.dump();
}

// A suite of three cases, with stand-ins for plain and temporary credentials as providers
// "aws" and "aws-temp".
struct Fixture {
  StandIn plain{rules_for("")};
  StandIn temporary{rules_for(k_token)};
  Repo repo;
  Fixture() {
    must({"init", "-q"});
    must({"add", "--id", "refund-window", "--prompt", "Can I get a refund after 45 days?",
          "--expect", "icontains:30 days", "--provenance", "spec:refunds"});
    must({"add", "--id", "tone-apology", "--prompt", "My order is late.", "--expect",
          "not-contains:Unfortunately", "--provenance", "spec:style guide 2.1"});
    must({"add", "--id", "greeting", "--prompt", "Hello there", "--expect", "contains:help",
          "--provenance", "spec:greets"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(plain, "aws", "bedrock", "region = \"us-east-1\"\n")
        << provider_table(temporary, "aws-temp", "bedrock", "region = \"eu-west-1\"\n");
  }
  void must(const std::vector<std::string>& args) { evalkeep::test::must_succeed(repo, args); }
  evalkeep::core::ProcessResult run(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env) {
    return repo.evalkeep(args, {}, env);
  }
};

const std::vector<std::string> k_env{"AWS_ACCESS_KEY_ID=" + k_key_id,
                                     "AWS_SECRET_ACCESS_KEY=" + k_secret};

} // namespace

TEST_CASE("a suite runs against bedrock with requests signed by libcurl", "[e2e][bedrock]") {
  Fixture f;
  auto r = f.run({"run", "--provider", "aws", "--json"}, k_env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1); // tone-apology fails on purpose
  auto s = json::parse(r.out);
  CHECK(s["total"] == 3);
  CHECK(s["passed"] == 2);
  CHECK(s["failed"] == 1);
  CHECK(s["errored"] == 0);
  CHECK(f.plain.requests() == 3);
  for (const auto& entry : f.plain.log())
    CHECK(entry["status"] == 200);
  CHECK(f.plain.stats()["by_path"]["/model/stand-in/converse"] == 3);
  // Usage counted: the stand-in's words in and out.
  auto tokens = f.repo.run({"sqlite3", ".evalkeep/runs.db",
                            "SELECT count(*) FROM results WHERE tokens_in > 0 AND tokens_out > 0"});
  CHECK(tokens.out == "3\n");
  // Replayed from the cache: no request, no credentials needed.
  auto again = f.run({"run", "--provider", "aws", "--json", "--offline"}, {});
  INFO(again.err);
  CHECK(json::parse(again.out)["cached"] == 3);
  CHECK(f.plain.requests() == 3);
}

TEST_CASE("temporary credentials run with their session token", "[e2e][bedrock]") {
  Fixture f;
  auto env = k_env;
  env.push_back("AWS_SESSION_TOKEN=" + k_token);
  auto r = f.run({"run", "--provider", "aws-temp", "--json"}, env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(json::parse(r.out)["passed"] == 2);
  CHECK(f.temporary.stats()["headers_seen"]["x-amz-security-token"] == 3);
  // Without the token the same credentials are refused, and the run stops.
  auto without = f.run({"run", "--provider", "aws-temp", "--no-cache", "--json"}, k_env);
  CHECK(without.exit_code == 3);
  CHECK_THAT(without.out + without.err, Catch::Contains("UnrecognizedClientException"));
}

TEST_CASE("a wrong secret key is an auth error that stops the run", "[e2e][bedrock][secrets]") {
  Fixture f;
  for (int i = 0; i < 5; ++i)
    f.must({"add", "--id", "extra-" + std::to_string(i), "--prompt",
            "Question " + std::to_string(i), "--expect", "contains:help", "--provenance",
            "spec:more"});
  auto r = f.run({"run", "--provider", "aws", "-j", "1", "--json"},
                 {"AWS_ACCESS_KEY_ID=" + k_key_id, "AWS_SECRET_ACCESS_KEY=wrong-secret-key"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out + r.err, Catch::Contains("InvalidSignatureException"));
  CHECK(f.plain.requests() < 8); // it stopped: not every case was tried
  for (const auto& entry : f.plain.log())
    CHECK(entry["status"] == 403);
  CHECK(r.out.find("wrong-secret-key") == std::string::npos);
  CHECK(r.err.find("wrong-secret-key") == std::string::npos);
}

TEST_CASE("missing AWS credentials or region are environment errors naming what to set",
          "[e2e][bedrock]") {
  Fixture f;
  auto no_secret = f.run({"run", "--provider", "aws"}, {"AWS_ACCESS_KEY_ID=" + k_key_id});
  CHECK(no_secret.exit_code != 0);
  CHECK_THAT(no_secret.err, Catch::Contains("AWS_SECRET_ACCESS_KEY is not set (provider aws)"));
  CHECK(f.plain.requests() == 0);
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(f.plain, "no-region", "bedrock");
  auto no_region = f.run({"run", "--provider", "no-region"}, k_env);
  CHECK(no_region.exit_code != 0);
  CHECK_THAT(no_region.err, Catch::Contains("a bedrock provider needs a region"));
}

TEST_CASE("a ThrottlingException is retried after its Retry-After", "[e2e][bedrock]") {
  Fixture f;
  f.must({"add", "--id", "busy-case", "--prompt", "Are you busy?", "--expect", "contains:Sorry",
          "--provenance", "spec:retry"});
  auto r = f.run({"run", "--provider", "aws", "--case", "busy-case", "--json"}, k_env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto rows = f.repo.run({"sqlite3", ".evalkeep/runs.db",
                          "SELECT attempt, http_status, outcome FROM attempts ORDER BY attempt"});
  CHECK(rows.out == "1|429|retry\n2|200|answer\n");
}

TEST_CASE("a model id with ':' or an ARN is signed as AWS signs it, or refused before any request",
          "[e2e][bedrock]") {
  // Most Bedrock model ids hold a ':', and an inference profile's ARN a '/' too. libcurl 8.9 and
  // newer sign them as AWS does; an older one cannot, and the run says so before it calls.
  Fixture f;
  const std::string id = GENERATE(as<std::string>{}, "anthropic.claude-3-haiku-20240307-v1:0",
                                  "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
                                  "us.anthropic.claude-3-haiku-20240307-v1:0");
  std::ofstream(f.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.profile]\ntype = \"bedrock\"\nregion = \"us-east-1\"\nbase_url = \"" +
             f.plain.base() + "\"\nmodel = \"" + id + "\"\n";
  auto config = evalkeep::providers::ProviderConfig{};
  config.name = "profile";
  config.kind = evalkeep::providers::Kind::bedrock;
  config.model = id;
  auto signable = evalkeep::providers::bedrock::check_signable(config);
  auto r = f.run({"run", "--provider", "profile", "--json"}, k_env);
  INFO(r.out << r.err);
  if (signable) {
    CHECK(r.exit_code == 1); // tone-apology fails on purpose, as with any model id
    CHECK(json::parse(r.out)["errored"] == 0);
    CHECK(f.plain.requests() == 3);
    for (const auto& entry : f.plain.log())
      CHECK(entry["status"] == 200);
    auto path = id;
    for (auto at = path.find('/'); at != std::string::npos; at = path.find('/'))
      path.replace(at, 1, "%2F"); // the ARN stays one segment of the path
    CHECK(f.plain.stats()["by_path"]["/model/" + path + "/converse"] == 3);
  } else {
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("cannot sign the model id"));
    CHECK_THAT(r.err, Catch::Contains("bookworm-backports"));
    CHECK(f.plain.requests() == 0);
  }
  // Replaying the cache signs nothing, so it is never refused for the id.
  auto offline = f.run({"run", "--provider", "profile", "--offline", "--json"}, {});
  CHECK(offline.err.find("cannot sign") == std::string::npos);
  CHECK(json::parse(offline.out)["total"] == 3);
}
