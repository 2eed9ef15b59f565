// export --to promptfoo: a promptfoo configuration for the active cases, with the provider from
// evalkeep.toml when asked, and what promptfoo cannot check listed on stderr.

#include "support/e2e.hpp"

#include <fstream>

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

// The README's suite, plus a case with a json-path check and a retired one.
void seed(const Repo& repo) {
  seed_suite(repo);
  must_succeed(repo, {"add", "--id", "widget-json", "--prompt", "[order widget] NW-1", "--expect",
                      "is-json", "--expect", "json-path:/order/id=\"NW-1\"", "--provenance",
                      "spec:widget contract"});
  must_succeed(repo, {"add", "--id", "only-length", "--prompt", "Say hi", "--expect",
                      "max-length:20", "--provenance", "exploratory:poking"});
  must_succeed(repo, {"add", "--id", "old-greeting", "--prompt", "Hi", "--expect", "contains:Hi",
                      "--provenance", "spec:style guide 1.0"});
  must_succeed(repo, {"retire", "old-greeting", "--reason", "superseded", "--superseded-by",
                      "tone-apology", "--rationale", "covered by the tone case"});
}

} // namespace

TEST_CASE("export --to promptfoo writes the active cases as promptfoo tests", "[e2e][interop]") {
  Repo repo;
  seed(repo);
  auto before = file_hash(repo.suite());
  auto r = repo.evalkeep({"export", "--to", "promptfoo"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(file_hash(repo.suite()) == before);
  const std::string& yaml = r.out;
  CHECK_THAT(yaml, Catch::Contains("prompts:\n  - \"{{prompt}}\"\n"));
  CHECK_THAT(yaml, Catch::Contains("description: \"evalkeep suite: 3 active cases\""));
  // The incident case carries its incident and the incident's details.
  CHECK_THAT(yaml, Catch::Contains("      prompt: \"Can I get a refund after 45 days?\"\n"
                                   "    assert:\n"
                                   "      - type: \"icontains\"\n"
                                   "        value: \"30 days\"\n"
                                   "    metadata:\n"
                                   "      case_id: \"refund-window\"\n"
                                   "      incident: \"INC-7\"\n"
                                   "      incident_title: \"Refund promised outside policy\"\n"
                                   "      incident_date: \"2026-03-02\"\n"
                                   "      incident_severity: \"high\"\n"
                                   "      tags:\n"
                                   "        - \"billing\"\n"));
  CHECK_THAT(yaml, Catch::Contains("      provenance: \"spec\"\n"
                                   "      provenance_note: \"style guide 2.1\"\n"));
  // A prompt that looks like JSON is sent as a one-message conversation, never misread.
  CHECK_THAT(yaml, Catch::Contains(
                       R"(prompt: "[{\"role\":\"user\",\"content\":\"[order widget] NW-1\"}]")"));
  // evalkeep's is-json reads inside a Markdown fence, promptfoo's does not: JavaScript says it.
  CHECK_THAT(yaml,
             Catch::Contains("- type: \"javascript\"\n        value: \"const s = String(output)"));
  // Retired cases and cases with nothing promptfoo can check stay out; no provider is invented.
  CHECK_THAT(yaml, !Catch::Contains("old-greeting"));
  CHECK_THAT(yaml, !Catch::Contains("only-length"));
  CHECK_THAT(yaml, !Catch::Contains("\nproviders:"));
  CHECK_THAT(yaml, Catch::Contains("# providers: name the model to run"));
  // What promptfoo cannot check is listed, never dropped in silence.
  CHECK_THAT(r.err, Catch::Contains("evalkeep: warning: widget-json: json-path:/order/id=\"NW-1\" "
                                    "has no promptfoo counterpart"));
  CHECK_THAT(r.err, Catch::Contains("evalkeep: warning: only-length: no assertion promptfoo can "
                                    "check; the case is left out"));
}

TEST_CASE("export --to promptfoo --provider writes the provider as an openai:chat provider",
          "[e2e][interop]") {
  Repo repo;
  seed_suite(repo);
  {
    std::ofstream toml(repo.path() / "evalkeep.toml", std::ios::app);
    toml << "\n[providers.local]\ntype = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n"
            "model = \"stand-in\"\nmax_tokens = 64\nseed = 7\napi_key_env = \"LOCAL_KEY\"\n"
            "\n[providers.agent]\ntype = \"exec\"\ncommand = [\"true\"]\n"
            "\n[providers.responses]\ntype = \"openai-responses\"\nmodel = \"gpt-4.1\"\n";
  }
  auto r = must_succeed(
      repo, {"export", "--to", "promptfoo", "--provider", "local", "-o", "promptfooconfig.yaml"});
  CHECK(r.out.empty());
  auto yaml = read_file(repo.path() / "promptfooconfig.yaml");
  CHECK_THAT(yaml, Catch::Contains("providers:\n"
                                   "  - id: \"openai:chat:stand-in\"\n"
                                   "    config:\n"
                                   "      apiBaseUrl: \"http://127.0.0.1:9/v1\"\n"
                                   "      apiKeyEnvar: \"LOCAL_KEY\"\n"
                                   "      temperature: 0.0\n"
                                   "      max_tokens: 64\n"
                                   "      seed: 7\n"));
  auto responses = must_succeed(repo, {"export", "--to", "promptfoo", "--provider", "responses"});
  CHECK_THAT(responses.out, Catch::Contains("  - id: \"openai:responses:gpt-4.1\"\n"
                                            "    config:\n"
                                            "      apiBaseUrl: \"https://api.openai.com/v1\"\n"
                                            "      apiKeyEnvar: \"OPENAI_API_KEY\"\n"));
  auto exec = must_fail(repo, 2, {"export", "--to", "promptfoo", "--provider", "agent"});
  CHECK_THAT(exec.err, Catch::Contains("runs a command"));
  auto unknown = must_fail(repo, 2, {"export", "--to", "promptfoo", "--provider", "nope"});
  CHECK_THAT(unknown.err, Catch::Contains("no provider 'nope'"));
  auto format = must_fail(repo, 2, {"export", "--to", "deepeval"});
  CHECK_THAT(format.err, Catch::Contains("--to 'deepeval' is not one of evalkeep, promptfoo"));
}

TEST_CASE("export --to promptfoo keeps template syntax in inputs and values literal",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init"});
  must_succeed(repo, {"add", "--id", "braces", "--prompt", "Keep {# this #} and {{ 'that' }}",
                      "--expect", "contains:{{ done }}", "--provenance", "spec:templates"});
  must_succeed(repo, {"add", "--id", "mustache", "--prompt", "What does {{ user }} mean?",
                      "--expect", "contains:placeholder", "--provenance", "spec:templates"});
  auto yaml = must_succeed(repo, {"export", "--to", "promptfoo"}).out;
  // promptfoo renders a var that names no missing variable: a raw block keeps it as it is.
  CHECK_THAT(yaml,
             Catch::Contains(R"(prompt: "{% raw %}Keep {# this #} and {{ 'that' }}{% endraw %}")"));
  // A var naming a variable promptfoo does not have is left alone by promptfoo, so it stays so.
  CHECK_THAT(yaml, Catch::Contains(R"(prompt: "What does {{ user }} mean?")"));
  // Assertion values are always rendered by promptfoo.
  CHECK_THAT(yaml, Catch::Contains(R"(value: "{% raw %}{{ done }}{% endraw %}")"));
}

TEST_CASE("export --to promptfoo of a prompt holding a 200 KB Nunjucks comment does not crash",
          "[e2e][interop]") {
  Repo repo;
  must_succeed(repo, {"init", "-q"});
  write_file(repo.path() / "prompt.txt", "{# " + std::string(200 << 10, 'n') + " #} Hello {{ x }}");
  must_succeed(repo, {"add", "--id", "long", "--prompt-file", "prompt.txt", "--expect",
                      "contains:Hi", "--provenance", "spec:long prompts"});
  auto r = repo.evalkeep({"export", "--to", "promptfoo"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("{# nnnnnnnn"));
}
