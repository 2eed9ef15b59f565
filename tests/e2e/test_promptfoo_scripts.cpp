// promptfoo's script assertions and transforms read from files, code reading context.prompt and
// context.test.vars, and scenarios: imported whole, run in node and python3 against the stand-in,
// exported and imported again to the same cases.

#include "support/e2e.hpp"
#include "support/standin.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path config(const char* name) {
  return fs::path(EVALKEEP_SOURCE_DIR) / "tests/promptfoo" / name / "promptfooconfig.yaml";
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

TEST_CASE("javascript and python assertions and transforms from files import with their code and "
          "decide as promptfoo's would",
          "[e2e][interop][scripts]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("script-files").string()});
  CHECK_THAT(r.out, Catch::Contains("3 cases"));
  CHECK(r.err.empty());

  // The case keeps the file's code, its name and the function to call.
  auto refund = parse_json(must_succeed(repo, {"show", "refund-files", "--json"}).out);
  REQUIRE(refund["expect"].size() == 4);
  CHECK(refund["expect"][0]["file"] == "checks/window.js");
  CHECK_THAT(refund["expect"][0]["value"].get<std::string>(),
             Catch::Contains("context.test.vars.days"));
  CHECK(refund["expect"][0]["vars"]["days"] == 30); // it reads the test's vars
  CHECK(refund["expect"][2]["function"] == "word_score");
  CHECK(refund["expect"][2]["threshold"] == 0.5);
  auto order = parse_json(must_succeed(repo, {"show", "order-files", "--json"}).out);
  REQUIRE(order["expect"].size() == 3);
  CHECK(order["expect"][0]["transform"].size() == 2); // the test's, then the assertion's own
  CHECK(order["expect"][0]["transform"][1]["language"] == "python");

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 2);
  CHECK(failed_cases(summary) == std::set<std::string>{"profile-file"});
  CHECK_THAT(summary["failures"][0]["reason"].get<std::string>(),
             Catch::Contains("returned false"));
}

TEST_CASE("a script file that is missing, or lacks its function, is an error naming the "
          "configuration's line",
          "[e2e][interop][scripts]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto dir = repo.path() / "pf";
  write_file(dir / "checks.py", "def get_assert(output, context):\n    return True\n");
  write_file(dir / "promptfooconfig.yaml", "prompts: ['{{q}}']\n"
                                           "tests:\n"
                                           "  - vars: {q: hi}\n"
                                           "    assert:\n"
                                           "      - type: python\n"
                                           "        value: file://checks.py:missing_fn\n");
  auto r = must_fail(repo, 2,
                     {"import", "--from", "promptfoo", (dir / "promptfooconfig.yaml").string()});
  CHECK_THAT(r.err, Catch::Contains("promptfooconfig.yaml:5") &&
                        Catch::Contains("defines no function missing_fn"));

  write_file(dir / "promptfooconfig.yaml", "prompts: ['{{q}}']\n"
                                           "tests:\n"
                                           "  - vars: {q: hi}\n"
                                           "    options:\n"
                                           "      transform: file://nowhere.js\n"
                                           "    assert:\n"
                                           "      - type: contains\n"
                                           "        value: hi\n");
  r = must_fail(repo, 2,
                {"import", "--from", "promptfoo", (dir / "promptfooconfig.yaml").string()});
  CHECK_THAT(r.err, Catch::Contains("promptfooconfig.yaml:3") && Catch::Contains("nowhere.js") &&
                        Catch::Contains("no such file"));
  CHECK(must_succeed(repo, {"list", "--json"}).out.find("\"id\"") == std::string::npos);
}

TEST_CASE("script files that need what a case cannot keep or evalkeep does not give are refused "
          "precisely",
          "[e2e][interop][scripts]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto dir = repo.path() / "pf";
  write_file(dir / "helper.js", "module.exports = { x: 1 };\n");
  write_file(dir / "uses-helper.js",
             "const h = require('./helper');\nmodule.exports = (output) => output.length > h.x;\n");
  write_file(dir / "provider.js", "module.exports = (output, ctx) => ctx.provider.id() !== '';\n");
  write_file(dir / "check.ts", "export default (output: string) => output.length > 0;\n");
  write_file(dir / "chat.json", R"([{"role": "system", "content": "Be brief."},)"
                                R"( {"role": "user", "content": "{{q}}"}])");
  write_file(dir / "promptfooconfig.yaml", "prompts: [file://chat.json]\n"
                                           "tests:\n"
                                           "  - vars: {q: hi}\n"
                                           "    assert:\n"
                                           "      - type: javascript\n"
                                           "        value: file://uses-helper.js\n"
                                           "      - type: javascript\n"
                                           "        value: file://provider.js\n"
                                           "      - type: javascript\n"
                                           "        value: file://check.ts\n"
                                           "      - type: javascript\n"
                                           "        value: context.prompt.includes('hi')\n"
                                           "      - type: javascript\n"
                                           "        value: context.logProbs.length > 0\n");
  auto r = must_fail(repo, 2,
                     {"import", "--from", "promptfoo", (dir / "promptfooconfig.yaml").string()});
  CHECK_THAT(r.err, Catch::Contains("yaml:5") &&
                        Catch::Contains("loads another file beside it (require('./helper')"));
  CHECK_THAT(r.err, Catch::Contains("yaml:7") && Catch::Contains("reads 'provider'"));
  CHECK_THAT(r.err, Catch::Contains("yaml:9") && Catch::Contains("only JavaScript"));
  CHECK_THAT(r.err, Catch::Contains("yaml:11") && Catch::Contains("the prompt is a chat"));
  CHECK_THAT(r.err, Catch::Contains("yaml:13") && Catch::Contains("reads context.logProbs"));
}

TEST_CASE("scenarios import as each config entry crossed with each test, with distinct ids",
          "[e2e][interop][scenarios]") {
  StandIn server{k_rules};
  Repo repo;
  must_succeed(repo, {"init"});
  std::ofstream(repo.path() / "evalkeep.toml", std::ios::app) << provider_table(server);
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", config("scenarios").string()});
  CHECK_THAT(r.out, Catch::Contains("6 cases"));
  auto list = parse_json(must_succeed(repo, {"list", "--json"}).out);
  std::set<std::string> ids;
  for (const auto& c : list)
    ids.insert(c["id"].get<std::string>());
  CHECK(ids == std::set<std::string>{"a-plain-test-comes-first", "refund-window-english",
                                     "refund-window-shouting", "refund-month-english",
                                     "refund-month-shouting", "order-as-json"});
  // The entry's vars under the test's, its assertions after defaultTest's and before the test's.
  auto shouting = parse_json(must_succeed(repo, {"show", "refund-window-shouting", "--json"}).out);
  CHECK(shouting["prompt"] == "Can I get a refund? Answer in CAPITALS.");
  REQUIRE(shouting["expect"].size() == 3);
  CHECK(shouting["expect"][0]["type"] == "not-contains");
  CHECK(shouting["expect"][1]["type"] == "javascript");
  CHECK(shouting["expect"][2]["value"] == "30 DAYS");
  // A test without a description takes its config entry's.
  auto month = parse_json(must_succeed(repo, {"show", "refund-month-english", "--json"}).out);
  CHECK(month["title"] == "English");

  auto run = repo.evalkeep({"run", "--provider", "local", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  auto summary = json::parse(run.out);
  CHECK(summary["passed"] == 4);
  CHECK(failed_cases(summary) ==
        std::set<std::string>{"refund-window-shouting", "refund-month-shouting"});

  // The same configuration imported again elsewhere gives the same ids: they are deterministic.
  Repo again;
  must_succeed(again, {"init"});
  must_succeed(again, {"import", "--from", "promptfoo", config("scenarios").string()});
  CHECK(must_succeed(again, {"export"}).out.size() == must_succeed(repo, {"export"}).out.size());
}

TEST_CASE("script files, transforms, scripts reading the prompt and scenarios go to promptfoo "
          "and come back identical",
          "[e2e][interop][scripts]") {
  Repo a;
  must_succeed(a, {"init"});
  auto files = config("script-files").parent_path();
  must_succeed(a, {"import", "--from", "promptfoo", (files / "exportable.yaml").string()});
  must_succeed(a, {"import", "--from", "promptfoo", config("transforms").string()});
  must_succeed(a, {"import", "--from", "promptfoo", config("scenarios").string()});
  auto original = must_succeed(a, {"export"}).out;
  auto out = a.path() / "exported" / "promptfooconfig.yaml";
  fs::create_directories(out.parent_path());
  auto e = must_succeed(a, {"export", "--to", "promptfoo", "-o", out.string()});
  INFO(e.err);
  CHECK(e.err.empty());
  // The programs' files are written beside it, under the names they were read from.
  std::ifstream in(out.parent_path() / "checks/esm.mjs");
  std::string esm((std::istreambuf_iterator<char>(in)), {});
  CHECK_THAT(esm, Catch::Contains("export function isShipped"));
  CHECK(fs::exists(out.parent_path() / "checks/extract.py"));

  Repo b;
  must_succeed(b, {"init"});
  must_succeed(b, {"import", "--from", "promptfoo", out.string()});
  CHECK(must_succeed(b, {"export"}).out == original);

  // To stdout, the files have nowhere to go: their assertions are listed, not written.
  auto to_stdout = a.evalkeep({"export", "--to", "promptfoo"});
  CHECK(to_stdout.exit_code == 0);
  CHECK_THAT(to_stdout.err, Catch::Contains("checks/esm.mjs is a file"));
}

TEST_CASE("the export leaves out code reading the test's vars and never overwrites other code",
          "[e2e][interop][scripts]") {
  Repo a;
  must_succeed(a, {"init"});
  must_succeed(a, {"import", "--from", "promptfoo", config("script-files").string()});
  auto out = a.path() / "exported" / "promptfooconfig.yaml";
  write_file(out.parent_path() / "checks/named.js",
             "module.exports = { mentionsDays: () => true };\n");
  auto e = a.evalkeep({"export", "--to", "promptfoo", "-o", out.string()});
  CHECK(e.exit_code == 0);
  // promptfoo would give them the exported test's vars, which hold the prompt instead.
  CHECK_THAT(e.err,
             Catch::Contains("refund-files: javascript:") && Catch::Contains("checks/window.js"));
  CHECK_THAT(e.err, Catch::Contains("is there with other code"));
  std::ifstream in(out.parent_path() / "checks/named.js");
  std::string named((std::istreambuf_iterator<char>(in)), {});
  CHECK_THAT(named, Catch::Contains("() => true")); // left as it was
}
