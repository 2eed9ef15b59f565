// similar: the embeddings come from the judge provider's POST /embeddings (the stand-in's
// hashed bag of words), compared by cosine similarity against the assertion's threshold.

#include "support/cli_runner.hpp"
#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using evalkeep::test::assertions_of;
using evalkeep::test::provider_table;
using evalkeep::test::Repo;
using evalkeep::test::run_results;
using evalkeep::test::StandIn;
using json = nlohmann::json;

namespace {

const char* k_rules = R"({
  "default": {"answer": "I can help with that."},
  "rules": [
    {"match": "capital of France", "answer": "The capital of France is Paris."},
    {"match": "say nothing", "answer": ""}
  ]
})";

struct Fixture {
  StandIn server{k_rules};
  Repo repo;
  Fixture() {
    run({"init", "-q"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(server) << provider_table(server, "claude", "anthropic");
  }
  evalkeep::core::ProcessResult run(const std::vector<std::string>& args) {
    auto r = repo.evalkeep(args);
    INFO("evalkeep " << args.at(0) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    return r;
  }
  json results() const { return run_results(repo); }
};

} // namespace

TEST_CASE("similar passes an answer close to its text and fails one far from it, by the judge's "
          "embeddings",
          "[e2e][similar]") {
  Fixture f;
  f.run({"add", "--id", "close", "--prompt", "What is the capital of France?", "--expect",
         "similar@0.8:Paris is the capital of France", "--provenance", "spec:similar"});
  f.run({"add", "--id", "far", "--prompt", "What is the capital of France?", "--expect",
         "similar@0.5:Bananas are yellow fruit", "--provenance", "spec:similar"});
  auto r = f.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  auto s = json::parse(r.out);
  CHECK(s["passed"] == 1);
  CHECK(s["failed"] == 1);
  CHECK(s["errored"] == 0);
  // Two answers and one embeddings request per trial (the assertion's text and the answer).
  CHECK(f.server.requests() == 4);
  auto log = f.server.log();
  int embeddings = 0;
  for (const auto& e : log)
    if (e["path"] == "/v1/embeddings")
      ++embeddings;
  CHECK(embeddings == 2);
  auto rows = f.results();
  CHECK_THAT(assertions_of(rows, "close"), Catch::Contains("similarity 1.000"));
  CHECK_THAT(assertions_of(rows, "far"), Catch::Contains("similarity 0.000"));
  CHECK_THAT(assertions_of(rows, "far"), Catch::Contains("needs 0.5"));

  // A second run replays the answers and the similarities: no request at all.
  auto again = f.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--json"});
  CHECK(json::parse(again.out)["passed"] == 1);
  CHECK(f.server.requests() == 4);
}

TEST_CASE("similar fails saying why when embeddings cannot be had", "[e2e][similar]") {
  Fixture f;
  f.run({"add", "--id", "close", "--prompt", "What is the capital of France?", "--expect",
         "similar:Paris is the capital of France", "--provenance", "spec:similar"});
  f.run({"add", "--id", "empty", "--prompt", "Please say nothing", "--expect",
         "similar:Paris is the capital of France", "--provenance", "spec:similar"});

  SECTION("without a judge provider") {
    auto r = f.repo.evalkeep({"run", "--provider", "local", "--case", "close", "--json"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("similar needs embeddings, fetched from the judge provider"));
    CHECK(f.server.requests() == 1);
  }
  SECTION("with a judge that has no embeddings endpoint") {
    auto r = f.repo.evalkeep(
        {"run", "--provider", "local", "--judge", "claude", "--case", "close", "--json"}, {},
        {"ANTHROPIC_API_KEY=sk-ant-test"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(f.results().dump(), Catch::Contains("is of type anthropic"));
    CHECK(f.server.requests() == 1);
  }
  SECTION("when the endpoint refuses the request (an empty answer)") {
    auto r = f.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--json"});
    CHECK(r.exit_code == 1);
    auto s = json::parse(r.out);
    CHECK(s["passed"] == 1);
    CHECK(s["failed"] == 1);
    CHECK(s["errored"] == 0); // the check fails; the trial is still scored
    auto failed = assertions_of(f.results(), "empty");
    CHECK_THAT(failed, Catch::Contains("fetching embeddings from provider local failed "
                                       "(bad-request): HTTP 400"));
    CHECK_THAT(failed, Catch::Contains("'$.input' is invalid"));
  }
}

TEST_CASE("promptfoo's similar assertions import whole, run against the judge's embeddings and "
          "export back identical",
          "[e2e][similar][interop]") {
  Fixture f;
  auto config = std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/similar" /
                "promptfooconfig.yaml";
  auto imported = f.run({"import", "--from", "promptfoo", config.string()});
  CHECK_THAT(imported.out, Catch::Contains("3 cases"));
  auto shown = json::parse(f.run({"show", "bananas", "--json"}).out);
  REQUIRE(shown["expect"].size() == 1);
  CHECK(shown["expect"][0]["type"] == "similar");
  CHECK(shown["expect"][0]["value"] == "Tell me about bananas. Bananas are a yellow fruit");
  CHECK(shown["expect"][0]["threshold"] == 0.5);
  CHECK(shown["expect"][0]["model"] == "text-embedding-3-small");

  auto r = f.repo.evalkeep({"run", "--provider", "local", "--judge", "local", "--json"});
  INFO(r.out << r.err);
  auto s = json::parse(r.out);
  // capital-france: the same words; capital-spain: no rule, "I can help with that." is far;
  // bananas: "I can help with that." shares no word with the reference either.
  CHECK(s["passed"] == 1);
  CHECK(s["failed"] == 2);
  auto rows = f.results();
  CHECK_THAT(assertions_of(rows, "capital-france"), Catch::Contains("similarity 1.000"));
  CHECK_THAT(assertions_of(rows, "capital-spain"), Catch::Contains("needs 0.75"));

  f.run({"export", "--to", "promptfoo", "-o", "exported.yaml"});
  auto original = f.run({"export"}).out;
  Repo b;
  auto init = b.evalkeep({"init", "-q"});
  REQUIRE(init.exit_code == 0);
  auto again =
      b.evalkeep({"import", "--from", "promptfoo", (f.repo.path() / "exported.yaml").string()});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(b.evalkeep({"export"}).out == original);
}

TEST_CASE("promptfoo's model-graded types come over whole, with the threshold of each",
          "[e2e][interop]") {
  Fixture f;
  auto config = (std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo/model-graded" /
                 "promptfooconfig.yaml")
                    .string();
  auto imported = f.repo.evalkeep({"import", "--from", "promptfoo", config});
  INFO(imported.out << imported.err);
  CHECK(imported.exit_code == 0);
  CHECK_THAT(imported.out, Catch::StartsWith("imported 0 incidents, 11 cases,"));
  auto shown = json::parse(f.run({"show", "refund-polite", "--json"}).out);
  CHECK(shown["expect"][0]["type"] == "judge");
  CHECK(shown["expect"][0]["threshold"] == 0.8);
  shown = json::parse(f.run({"show", "hours-relevant", "--json"}).out);
  CHECK(shown["expect"][0]["threshold"] == 0.8);
}
