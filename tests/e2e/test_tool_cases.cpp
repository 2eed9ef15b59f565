// Cases that hold tools, end to end: added from a messages file, shown, exported and imported,
// run against the stand-in through each provider kind that speaks tools, and guarded by the gate.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

const char* k_tools = R"([
  {"type":"function","function":{"name":"lookup_order","description":"Find an order",
    "parameters":{"type":"object","properties":{"order_id":{"type":"string"}},
                  "required":["order_id"]}}},
  {"type":"function","function":{"name":"issue_refund","description":"Refund an order",
    "parameters":{"type":"object","properties":{"order_id":{"type":"string"}},
                  "required":["order_id"]}}}])";

void write(const Repo& repo, const std::string& name, const std::string& text) {
  std::ofstream(repo.path() / name) << text;
}

// INC-9 and two cases with the same tools: one where the model must not refund, one where it
// must look the order up with the right id.
void seed_tool_suite(const Repo& repo) {
  must_succeed(repo, {"init", "-q"});
  must_succeed(repo, {"incident", "add", "INC-9", "--title", "Refund issued without the policy"});
  write(repo, "refund.json",
        std::string(R"({"messages":[{"role":"system","content":"You are a support agent."},
          {"role":"user","content":"Refund order A1 now."}],"tool_choice":"auto","tools":)") +
            k_tools + "}");
  must_succeed(repo, {"add", "--id", "refund-guard", "--messages-file", "refund.json", "--expect",
                      "no-tool-call:issue_refund", "--incident", "INC-9"});
  // A mid-conversation case: the assistant looked A1 up, and the case starts at the result.
  write(repo, "mid.json",
        std::string(R"({"messages":[
      {"role":"user","content":"Refund order A1 now."},
      {"role":"assistant","content":"","tool_calls":[{"id":"call_1","name":"lookup_order",
        "arguments":{"order_id":"A1"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"delivered 60 days ago"}],"tools":)") +
            k_tools + "}");
  must_succeed(repo, {"add", "--id", "mid-refund", "--messages-file", "mid.json", "--expect",
                      "no-tool-call:issue_refund", "--expect", "icontains:cannot", "--incident",
                      "INC-9"});
  write(repo, "tools.json", k_tools);
  must_succeed(repo, {"add", "--id", "lookup-first", "--prompt", "Where is order B2?",
                      "--tools-file", "tools.json", "--expect", "tool-called:lookup_order",
                      "--expect", R"(tool-args:lookup_order={"order_id":"B2"})", "--expect",
                      "max-tool-calls:1", "--incident", "INC-9"});
}

} // namespace

TEST_CASE("a case with tools is added from a messages file, shown, and kept through export and "
          "import",
          "[e2e][tools]") {
  Repo repo;
  seed_tool_suite(repo);
  auto shown = must_succeed(repo, {"show", "refund-guard"}).out;
  CHECK_THAT(shown, Catch::Contains("Tools:\n  lookup_order\n  issue_refund\n"));
  CHECK_THAT(shown, Catch::Contains("Tool choice: \"auto\""));
  auto j = parse_json(must_succeed(repo, {"show", "lookup-first", "--json"}).out);
  CHECK(j["tools"].size() == 2);
  CHECK(j["tools"][1]["function"]["name"] == "issue_refund");

  CHECK_THAT(must_succeed(repo, {"show", "mid-refund"}).out,
             Catch::Contains("    calls lookup_order({\"order_id\":\"A1\"}) [call_1]\n"
                             "  [tool call_1] delivered 60 days ago\n"));

  auto exported = must_succeed(repo, {"export"}).out;
  Repo other;
  must_succeed(other, {"init", "-q"});
  must_succeed(other, {"-q", "import", "-"}, exported);
  for (const auto* id : {"refund-guard", "lookup-first", "mid-refund"}) {
    INFO(id);
    auto a = parse_json(must_succeed(repo, {"show", id, "--json"}).out);
    auto b = parse_json(must_succeed(other, {"show", id, "--json"}).out);
    CHECK(a["tools"] == b["tools"]);
    CHECK(a["messages"] == b["messages"]);
    CHECK(a["expect"] == b["expect"]);
  }
  must_succeed(other, {"verify"});
}

TEST_CASE("a messages file with a broken conversation is refused, naming the file and the field",
          "[e2e][tools]") {
  Repo repo;
  seed_tool_suite(repo);
  write(repo, "bad.json",
        std::string(R"({"messages":[
      {"role":"user","content":"Refund order A1 now."},
      {"role":"tool","tool_call_id":"call_7","content":"ok"}],"tools":)") +
            k_tools + "}");
  auto r = must_fail(repo, 2,
                     {"add", "--id", "bad", "--messages-file", "bad.json", "--expect",
                      "no-tool-call", "--incident", "INC-9"});
  CHECK_THAT(r.err, Catch::Contains("messages[1].tool_call_id"));
  CHECK_THAT(r.err, Catch::Contains("'call_7'"));
  write(repo, "badtools.json", R"([{"name":"issue refund"}])");
  auto t = must_fail(repo, 2,
                     {"add", "--id", "bad", "--prompt", "hi", "--tools-file", "badtools.json",
                      "--expect", "no-tool-call", "--incident", "INC-9"});
  CHECK_THAT(t.err, Catch::Contains("--tools-file badtools.json"));
  CHECK_THAT(t.err, Catch::Contains("tools[0].name"));
  auto c =
      must_fail(repo, 2,
                {"add", "--id", "bad", "--prompt", "hi", "--tools-file", "tools.json",
                 "--tool-choice", "wire_money", "--expect", "no-tool-call", "--incident", "INC-9"});
  CHECK_THAT(c.err, Catch::Contains("--tool-choice"));
  CHECK_THAT(c.err, Catch::Contains("wire_money"));
}

TEST_CASE("tool cases run against the stand-in through chat completions, responses, anthropic, "
          "azure and gemini, and a replay brings the calls back",
          "[e2e][tools]") {
  StandIn server(R"({"rules":[
      {"match":"refund order a1","after_tool":true,
        "answer":"Order A1 was delivered 60 days ago: I cannot refund it."},
      {"match":"refund order a1","tool_calls":[{"name":"issue_refund",
        "arguments":{"order_id":"A1"}}]},
      {"match":"where is order b2","tool_calls":[{"name":"lookup_order",
        "arguments":{"order_id":"B2"}}]}]})");
  Repo repo;
  seed_tool_suite(repo);
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
      << provider_table(server, "chat", "openai")
      << provider_table(server, "responses", "openai-responses")
      << provider_table(server, "claude", "anthropic") << provider_table(server, "az", "azure")
      << provider_table(server, "gem", "gemini");
  for (const auto* provider : {"chat", "responses", "claude", "az", "gem"}) {
    INFO(provider);
    for (bool replay : {false, true}) {
      INFO("replay " << replay);
      auto r = repo.evalkeep({"run", "--provider", provider, "--json"}, {},
                             {"ANTHROPIC_API_KEY=sk-ant-test", "AZURE_OPENAI_API_KEY=az-test",
                              "GEMINI_API_KEY=gem-test"});
      INFO(r.err);
      REQUIRE(r.exit_code == 1); // the refund guard catches the refund
      auto s = parse_json(r.out);
      CHECK(s["passed"] == 2); // the mid-conversation case went on from the tool's result
      REQUIRE(s["failures"].size() == 1);
      const auto& f = s["failures"][0];
      CHECK(f["case"] == "refund-guard");
      CHECK(f["incident"] == "INC-9");
      CHECK_THAT(f["reason"].get<std::string>(), Catch::Contains("issue_refund"));
      REQUIRE(f["tool_calls"].size() == 1);
      CHECK(f["tool_calls"][0]["name"] == "issue_refund");
      CHECK(f["tool_calls"][0]["arguments"] == json{{"order_id", "A1"}});
    }
  }
  // Three requests per provider: the second run of each replayed every answer.
  CHECK(server.requests() == 15);
  // Each request was a well-formed one of its API: none was refused.
  for (const auto& entry : server.log())
    CHECK(entry["status"] == 200);
}

TEST_CASE("a pull request that takes a tool away from a guard, even with raw SQL, fails the gate",
          "[e2e][tools][gate]") {
  Repo repo;
  seed_tool_suite(repo);
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "suite"});
  repo.git({"checkout", "-q", "-b", "pr"});
  // Without issue_refund among the tools, no-tool-call:issue_refund can never fail.
  auto sql = repo.run({"sqlite3", "evals/suite.db",
                       "UPDATE cases SET tools = json_remove(tools, '$[1]') WHERE id = "
                       "'refund-guard'"});
  REQUIRE(sql.exit_code == 0);
  repo.git({"commit", "-q", "-am", "tidy tools"});
  auto r = repo.evalkeep({"gate", "--base", "main"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("refund-guard"));

  // Through evalkeep, the same change is a weakening that needs a recorded decision.
  repo.git({"reset", "-q", "--hard", "main"});
  auto lookup_only = json::parse(k_tools);
  lookup_only.erase(1);
  write(repo, "lookup_only.json", lookup_only.dump());
  auto refused = must_fail(repo, 1,
                           {"edit", "refund-guard", "--tools-file", "lookup_only.json",
                            "--rationale", "the refund tool is gone"});
  CHECK_THAT(refused.err, Catch::Contains("this edit weakens case refund-guard"));
  CHECK_THAT(refused.err, Catch::Contains("  input: "));
  CHECK_THAT(refused.err, Catch::Contains("issue_refund"));
  must_succeed(repo, {"-q", "edit", "refund-guard", "--tools-file", "lookup_only.json",
                      "--rationale", "the refund tool is gone", "--reason", "feature-removed"});
  auto j = parse_json(must_succeed(repo, {"show", "refund-guard", "--json"}).out);
  CHECK(j["tools"].size() == 1);
}

TEST_CASE("git merges branches that changed tool cases, through the driver", "[e2e][tools][git]") {
  Repo repo;
  seed_tool_suite(repo);
  repo.git({"add", "-A"});
  repo.git({"commit", "-q", "-m", "suite"});
  repo.git({"checkout", "-q", "-b", "feature"});
  must_succeed(repo, {"-q", "edit", "lookup-first", "--add-expect", "tool-args-valid",
                      "--rationale", "the arguments must fit the schema"});
  repo.git({"commit", "-q", "-am", "stricter lookup"});
  repo.git({"checkout", "-q", "main"});
  must_succeed(repo, {"-q", "edit", "refund-guard", "--tool-choice", "required", "--rationale",
                      "the model must act", "--reason", "reworded"});
  repo.git({"commit", "-q", "-am", "refund guard must act"});
  auto merged = repo.run({"git", "merge", "--no-edit", "feature"});
  INFO(merged.out << merged.err);
  REQUIRE(merged.exit_code == 0);
  must_succeed(repo, {"verify"});
  auto guard = parse_json(must_succeed(repo, {"show", "refund-guard", "--json"}).out);
  CHECK(guard["tool_choice"] == "required");
  CHECK(guard["tools"].size() == 2);
  CHECK(guard["messages"][0]["role"] == "system");
  auto lookup = parse_json(must_succeed(repo, {"show", "lookup-first", "--json"}).out);
  CHECK(lookup["expect"].size() == 4);
  CHECK(lookup["tools"] == guard["tools"]);
}
