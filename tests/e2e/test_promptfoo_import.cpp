// import --from promptfoo, csv and openai-evals with the real binary: a config whose tests come
// from YAML, CSV and JSONL files, a refusal that leaves the suite's bytes as they were, and the
// round trip through export --to promptfoo.

#include "support/e2e.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

std::filesystem::path example_config() {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "examples/promptfoo/promptfooconfig.yaml";
}

} // namespace

TEST_CASE("import --from promptfoo reads a config with YAML, CSV and JSONL test files",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  auto r = must_succeed(repo, {"import", "--from", "promptfoo", example_config().string()});
  CHECK_THAT(r.out, Catch::Contains("imported 2 incidents, 7 cases, 0 retirement decisions from") &&
                        Catch::EndsWith("(5 cases without an incident)\n"));
  CHECK(listed_cases(repo) == 7);
  auto shown = parse_json(must_succeed(repo, {"show", "late-order-tracking", "--json"}).out);
  CHECK(shown["incident"] == "INC-12");
  CHECK(shown["system"] == "You are the Northwind Outfitters support assistant.");
  auto log = parse_json(must_succeed(repo, {"log", "--json"}).out);
  CHECK(log.size() == 9); // an event per incident and per case
  CHECK_THAT(log[0]["rationale"].get<std::string>(), Catch::StartsWith("imported from "));
  must_succeed(repo, {"verify"});

  // Importing it again is refused whole: the ids exist.
  auto again = must_fail(repo, 2, {"import", "--from", "promptfoo", example_config().string()});
  CHECK_THAT(again.err, Catch::Contains("already exists in the suite"));
}

TEST_CASE("a promptfoo config evalkeep cannot import exactly leaves the suite's bytes as they were",
          "[e2e][interop]") {
  Repo repo;
  seed_suite(repo);
  write_file(repo.path() / "promptfooconfig.yaml", "prompts: ['{{q}}']\n"
                                                   "tests:\n"
                                                   "  - vars: {q: Hello}\n"
                                                   "    assert:\n"
                                                   "      - type: icontains\n"
                                                   "        value: hello\n"
                                                   "      - type: ruby\n"
                                                   "        value: output.include?('x')\n");
  auto r = must_fail(repo, 2, {"import", "--from", "promptfoo", "promptfooconfig.yaml"});
  CHECK_THAT(r.err, Catch::Contains("promptfooconfig.yaml:7: test 1: assert \"ruby\""));
  CHECK_THAT(r.err, Catch::Contains("hint: --skip-unsupported"));
  CHECK(listed_cases(repo) == 2);

  // --dry-run with --skip-unsupported says what would come in and what is left out.
  auto before = file_hash(repo.suite());
  auto dry = repo.evalkeep(
      {"import", "--from", "promptfoo", "promptfooconfig.yaml", "--skip-unsupported", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::StartsWith("would import 0 incidents, 1 case,"));
  CHECK_THAT(dry.err, Catch::StartsWith("evalkeep: warning: left out: promptfooconfig.yaml:7:"));
  CHECK(file_hash(repo.suite()) == before);

  auto skipped = repo.evalkeep(
      {"import", "--from", "promptfoo", "promptfooconfig.yaml", "--skip-unsupported"});
  CHECK(skipped.exit_code == 0);
  CHECK_THAT(skipped.out, Catch::StartsWith("imported 0 incidents, 1 case,"));
  CHECK(listed_cases(repo) == 3);
  auto shown = parse_json(must_succeed(repo, {"show", "promptfooconfig-1", "--json"}).out);
  CHECK(shown["provenance"]["kind"] == "imported");
  CHECK(shown["provenance"]["note"] == "promptfoo promptfooconfig.yaml:3");
}

TEST_CASE("export --to promptfoo, then import --from promptfoo, gives the same cases",
          "[e2e][interop]") {
  Repo a;
  seed_suite(a);
  must_succeed(a,
               {"add", "--id", "chat", "--messages-file", "-", "--expect", "judge@0.9:Stays calm",
                "--expect", "max-latency-ms:2000", "--incident", "INC-7", "--trials", "3",
                "--min-pass-rate", "0.66"},
               R"([{"role":"system","content":"Be kind."},{"role":"user","content":"Hi"},)"
               R"({"role":"assistant","content":"Hello!"},{"role":"user","content":"Refund?"}])");
  must_succeed(a, {"add", "--id", "braces", "--prompt", "{\"q\": \"{{ name }}\"}", "--system",
                   "Reply in JSON.", "--expect", "is-json-strict", "--expect", "regex:^\\{",
                   "--provenance", "red-team:template probe", "--tag", "json"});
  must_succeed(a, {"add", "--id", "titled", "--title", "Costs stay low", "--prompt", "Say ok",
                   "--expect", "max-cost:0.01", "--expect", "starts-with:ok", "--provenance",
                   "exploratory:cost"});
  must_succeed(a, {"export", "--to", "promptfoo", "-o", "promptfooconfig.yaml"});
  auto original = must_succeed(a, {"export"}).out;

  Repo b;
  must_succeed(b, {"init"});
  auto config = (a.path() / "promptfooconfig.yaml").string();
  auto r = must_succeed(b, {"import", "--from", "promptfoo", config});
  CHECK_THAT(r.out, Catch::Contains("imported 1 incident, 5 cases"));
  CHECK(must_succeed(b, {"export"}).out == original);
}

TEST_CASE("import --from csv and --from openai-evals read their layouts", "[e2e][interop]") {
  Repo repo;
  seed_suite(repo);
  write_file(repo.path() / "cases.csv",
             "id,input,expect,incident,tags\r\n"
             "late-refund,\"Refund after 60 days, maybe?\",icontains:30 days,INC-7,billing\r\n");
  auto csv = must_succeed(repo, {"import", "--from", "csv", "cases.csv"});
  CHECK_THAT(csv.out, Catch::StartsWith("imported 0 incidents, 1 case, 0 retirement decisions "
                                        "from cases.csv\n"));
  write_file(repo.path() / "samples.jsonl",
             R"({"input":[{"role":"user","content":"2+2?"}],"ideal":["4","four"]})"
             "\n");
  auto evals = must_succeed(repo, {"import", "--from", "openai-evals", "samples.jsonl"});
  CHECK_THAT(evals.out, Catch::Contains("(1 case without an incident)"));
  auto shown = parse_json(must_succeed(repo, {"show", "samples-1", "--json"}).out);
  CHECK(shown["prompt"] == "2+2?");
  CHECK(shown["expect"][0]["value"] == "^(?:4|four)$");

  auto bad = must_fail(repo, 2, {"import", "--from", "deepeval", "cases.csv"});
  CHECK_THAT(bad.err, Catch::Contains("--from 'deepeval' is not one of evalkeep, promptfoo, csv, "
                                      "openai-evals"));
}

TEST_CASE("import --skip-unsupported of many refusals warns with their count by cause",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  std::string config = "prompts: ['{{q}}']\ntests:\n";
  for (int i = 0; i < 30; ++i)
    config += "  - vars: {q: q" + std::to_string(i) + "}\n    assert: [{type: ruby, value: x}]\n";
  config += "  - vars: {q: fine}\n    assert: [{type: contains, value: fine}]\n";
  write_file(repo.path() / "promptfooconfig.yaml", config);
  auto r = repo.evalkeep(
      {"import", "--from", "promptfoo", "promptfooconfig.yaml", "--skip-unsupported"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::StartsWith("evalkeep: warning: left out 60 things evalkeep cannot "
                                      "import exactly:\n  by cause (2 of them"));
  CHECK_THAT(r.err, Catch::Contains("\n  30 x assert \"ruby\": first at promptfooconfig.yaml:4:"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 4);
  CHECK(listed_cases(repo) == 1);
}
