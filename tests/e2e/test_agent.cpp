// An agent through the exec provider's agent protocol: the example agent (examples/agent) calls
// the stand-in with the case's tools, runs the tools, and reports its steps; evalkeep stores
// them with the trial, checks the tool assertions against them, and shows them in the report.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;

namespace {

std::filesystem::path agent_dir() {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "examples" / "agent";
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct AgentRepo {
  StandIn server{read_text(agent_dir() / "rules.json")};
  Repo repo;
  std::vector<std::string> env{"AGENT_BASE_URL=" + server.openai_base()};
  AgentRepo() {
    must_succeed(repo, {"init", "-q"});
    must_succeed(repo, {"incident", "add", "INC-21", "--title", "Refunded without the policy"});
    auto tools = (agent_dir() / "tools.json").string();
    must_succeed(repo,
                 {"add", "--id", "refund-checks-policy", "--prompt", "Please refund order A1.",
                  "--tools-file", tools, "--expect", "no-tool-call:issue_refund", "--expect",
                  "tool-sequence:lookup_order,check_refund_policy", "--expect", "icontains:30 days",
                  "--expect", "max-steps:5", "--incident", "INC-21"});
    must_succeed(repo,
                 {"add", "--id", "where-is-b2", "--prompt", "Where is order B2?", "--tools-file",
                  tools, "--expect", R"(tool-args:lookup_order={"order_id":"B2"})", "--expect",
                  "max-tool-calls:1", "--expect", "contains:DHL", "--incident", "INC-21"});
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << "\n[providers.agent]\ntype = \"exec\"\noutput = \"agent\"\nmodel = \"support-agent\"\n"
           "command = [\"python3\", \""
        << (agent_dir() / "support_agent.py").string() << "\"]\n";
  }
};

} // namespace

TEST_CASE("the example agent runs through the agent protocol, its steps are kept and checked",
          "[e2e][agent]") {
  AgentRepo t;
  auto r = t.repo.evalkeep({"run", "--provider", "agent", "--json"}, {}, t.env);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto s = parse_json(r.out);
  CHECK(s["passed"] == 2);
  // Three model calls and two tool calls for the refund, two and one for the lookup.
  CHECK(t.server.requests() == 5);

  auto report = t.repo.evalkeep({"report", "-o", "-"}, {}, t.env);
  REQUIRE(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains(R"("type":"tool")"));
  CHECK_THAT(report.out, Catch::Contains(R"("name":"check_refund_policy")"));
  CHECK_THAT(report.out, Catch::Contains("trajectory: "));
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = report.out.find(what); at != std::string::npos;
         at = report.out.find(what, at + 1))
      ++n;
    return n;
  };
  // The refund took 3 model calls and 2 tool calls, the lookup 2 and 1: every step is kept.
  CHECK(count(R"("type":"model")") == 5);
  CHECK(count(R"("type":"tool")") == 3);

  // The steps are cached with the answer: a second run replays them, and the checks still hold.
  auto again = t.repo.evalkeep({"run", "--provider", "agent", "--json"}, {}, t.env);
  REQUIRE(again.exit_code == 0);
  CHECK(parse_json(again.out)["passed"] == 2);
  CHECK(t.server.requests() == 5);
}

TEST_CASE("an agent that breaks a guard fails it, and bad agent output is an error naming the "
          "field",
          "[e2e][agent]") {
  AgentRepo t;
  // An agent that refunds at once, and one whose output is not the protocol's.
  std::ofstream(t.repo.path() / "rogue.py")
      << "import json, sys\njson.load(sys.stdin)\n"
         "print(json.dumps({'answer': 'Refunded.', 'steps': [{'type': 'tool', 'id': 'c1', "
         "'name': 'issue_refund', 'arguments': {'order_id': 'A1'}, 'result': 'ok'}]}))\n";
  std::ofstream(t.repo.path() / "broken.py")
      << "import json, sys\njson.load(sys.stdin)\n"
         "print(json.dumps({'answer': 'x', 'steps': [{'type': 'tool'}]}))\n";
  std::ofstream(t.repo.path() / "evalkeep.toml", std::ios::app)
      << "\n[providers.rogue]\ntype = \"exec\"\noutput = \"agent\"\n"
         "command = [\"python3\", \"rogue.py\"]\n"
         "\n[providers.broken]\ntype = \"exec\"\noutput = \"agent\"\n"
         "command = [\"python3\", \"broken.py\"]\n";
  auto rogue =
      t.repo.evalkeep({"run", "--provider", "rogue", "--case", "refund-checks-policy", "--json"});
  REQUIRE(rogue.exit_code == 1);
  auto f = parse_json(rogue.out)["failures"][0];
  CHECK(f["case"] == "refund-checks-policy");
  CHECK_THAT(f["reason"].get<std::string>(), Catch::Contains("issue_refund"));
  CHECK(f["tool_calls"][0]["name"] == "issue_refund");

  auto broken = t.repo.evalkeep({"run", "--provider", "broken", "--case", "where-is-b2", "--json"});
  CHECK(broken.exit_code != 0);
  auto b = parse_json(broken.out)["failures"][0];
  CHECK(b["verdict"] == "error");
  CHECK_THAT(b["reason"].get<std::string>(),
             Catch::Contains("the agent's output: field \"steps[0].name\""));
}
