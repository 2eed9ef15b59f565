// `evalkeep capture`, end to end: a logged exchange from tests/capture/ previewed (nothing
// written), then written with the proposed or the given assertions, its evidence shown by show
// and why and carried by export; files that are not a logged exchange are refused.

#include "support/e2e.hpp"

#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

// The fixture copied into the repository, so the evidence names it as the user gave it.
std::string copy_fixture(const Repo& repo, const std::string& name) {
  std::filesystem::create_directories(repo.path() / "logs");
  std::filesystem::copy_file(std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/capture" / name,
                             repo.path() / "logs" / name);
  return "logs/" + name;
}

void seed(const Repo& repo) {
  must_succeed(repo, {"init", "-q"});
  must_succeed(repo, {"incident", "add", "INC-9", "--title", "Refund issued without the policy"});
}

} // namespace

TEST_CASE("capture without a confirmation writes nothing and prints the proposal and the command",
          "[e2e][capture]") {
  Repo repo;
  seed(repo);
  auto file = copy_fixture(repo, "openai_refund.json");
  auto before = hash_or_missing(repo.suite());
  auto r = must_succeed(repo, {"capture", file, "--incident", "INC-9", "--id", "refund-policy"});
  CHECK(hash_or_missing(repo.suite()) == before);
  CHECK_THAT(r.out, Catch::Contains("Proposed case refund-policy for INC-9 (nothing written)"));
  CHECK_THAT(r.out, Catch::Contains("[user] Refund order A1 now, it arrived 45 days ago."));
  CHECK_THAT(r.out, Catch::Contains("tools: check_policy, issue_refund"));
  CHECK_THAT(r.out, Catch::Contains("called issue_refund({\"order_id\":\"A1\"})"));
  CHECK_THAT(r.out, Catch::Contains("  no-tool-call:issue_refund\n"));
  CHECK_THAT(r.out, Catch::Contains("evalkeep capture logs/openai_refund.json --incident INC-9 "
                                    "--id refund-policy --accept\n"));
  CHECK_THAT(r.out, Catch::Contains("--id refund-policy --expect no-tool-call:issue_refund\n"));
  CHECK(parse_json(must_succeed(repo, {"list", "--json"}).out).empty());
}

TEST_CASE("capture --accept writes the case with its evidence, show, why and export carry it",
          "[e2e][capture]") {
  Repo repo;
  seed(repo);
  auto file = copy_fixture(repo, "openai_refund.json");
  auto r = must_succeed(repo, {"capture", file, "--incident", "INC-9", "--id", "refund-policy",
                               "--tag", "billing", "--accept"});
  CHECK(r.out == "refund-policy\n");

  auto shown = parse_json(must_succeed(repo, {"show", "refund-policy", "--json"}).out);
  CHECK(shown["incident"] == "INC-9");
  CHECK(shown["expect"] == json::parse(R"([{"type":"no-tool-call","name":"issue_refund"}])"));
  CHECK(shown["evidence"]["source"] == "logs/openai_refund.json");
  CHECK(shown["evidence"]["id"] == "chatcmpl-refund-1");
  CHECK(shown["evidence"]["tool_calls"][0]["name"] == "issue_refund");
  CHECK_THAT(must_succeed(repo, {"show", "refund-policy"}).out,
             Catch::Contains("chatcmpl-refund-1"));

  auto why = must_succeed(repo, {"why", "refund-policy"}).out;
  CHECK_THAT(
      why, Catch::Contains("evidence (as logged, logs/openai_refund.json chatcmpl-refund-1):\n"
                           "  answer: (no text)\n  called issue_refund({\"order_id\":\"A1\"})\n"));
  CHECK(parse_json(must_succeed(repo, {"why", "refund-policy", "--json"}).out)["evidence"]["id"] ==
        "chatcmpl-refund-1");

  auto exported = must_succeed(repo, {"export"}).out;
  CHECK_THAT(exported,
             Catch::Contains(R"("evidence":{"answer":"","id":"chatcmpl-refund-1","source":)"));
}

TEST_CASE("capture --expect writes exactly the given assertions", "[e2e][capture]") {
  Repo repo;
  seed(repo);
  auto file = copy_fixture(repo, "otel_current.json");
  auto id = must_succeed(repo, {"capture", file, "--incident", "INC-9", "--expect",
                                "tool-called:check_policy", "--expect", "no-tool-call:issue_refund",
                                "--title", "Refund after a no"})
                .out;
  id.pop_back();
  auto shown = parse_json(must_succeed(repo, {"show", id, "--json"}).out);
  CHECK(shown["title"] == "Refund after a no");
  CHECK(shown["expect"].size() == 2);
  CHECK(shown["expect"][0]["type"] == "tool-called");
  CHECK(shown["messages"].size() == 4);
  CHECK(shown["evidence"]["id"] == "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7");
}

TEST_CASE("capture refuses files that are not a logged exchange, the suite unchanged",
          "[e2e][capture]") {
  Repo repo;
  seed(repo);
  auto r = must_fail(
      repo, 2,
      {"capture", copy_fixture(repo, "not_a_log.json"), "--incident", "INC-9", "--accept"});
  CHECK_THAT(r.err, Catch::Contains("logs/not_a_log.json: not an OpenAI request/response pair or "
                                    "an OTLP JSON trace"));
  CHECK_THAT(r.err, Catch::Contains("hint: expected an OpenAI request/response pair"));

  auto many = copy_fixture(repo, "openai_many.jsonl");
  r = must_fail(repo, 2, {"capture", many, "--incident", "INC-9", "--accept"});
  CHECK_THAT(r.err, Catch::Contains("holds 3 exchanges: pick one with --line N or --id-match ID"));

  r = must_fail(
      repo, 2,
      {"capture", copy_fixture(repo, "broken_call.json"), "--incident", "INC-9", "--accept"});
  CHECK_THAT(r.err, Catch::Contains("tool_calls[0].function.name"));

  // A text answer has nothing to accept; an unknown incident is refused before the preview.
  r = must_fail(repo, 2, {"capture", many, "--line", "1", "--incident", "INC-9", "--accept"});
  CHECK_THAT(r.err, Catch::Contains("nothing to accept"));
  r = must_fail(repo, 2, {"capture", many, "--line", "1", "--incident", "INC-404"});
  CHECK_THAT(r.err, Catch::Contains("unknown incident INC-404"));
  must_fail(repo, 2,
            {"capture", many, "--line", "2", "--incident", "INC-9", "--accept", "--expect",
             "max-tool-calls:1"});
  CHECK(parse_json(must_succeed(repo, {"list", "--json"}).out).empty());
}
