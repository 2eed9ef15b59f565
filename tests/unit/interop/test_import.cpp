// Imports from promptfoo configurations, CSV and OpenAI Evals samples: real files on disk, a real
// suite file, through the same import path as evalkeep's own JSONL.

#include "interop/import.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/records.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::interop;

namespace {

Result<ImportReport> import_from(suite::Suite& s, Format format, const std::filesystem::path& file,
                                 bool skip_unsupported = false, const suite::Policy& policy = {}) {
  ImportRequest r;
  r.format = format;
  r.text = test::read_file(file);
  r.source = file.string();
  r.base_dir = file.parent_path();
  r.skip_unsupported = skip_unsupported;
  return import_file(s, r, policy, test::origin());
}

std::filesystem::path example_config() {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "examples/promptfoo/promptfooconfig.yaml";
}

// A promptfoo configuration with one prompt and the given tests, written to dir/NAME.
std::filesystem::path config(const test::TempDir& dir, const std::string& tests,
                             const std::string& prompts = "  - 'Q: {{q}}'\n",
                             const std::string& name = "promptfooconfig.yaml") {
  auto path = dir.path() / name;
  test::write_file(path, "prompts:\n" + prompts + "tests:\n" + tests);
  return path;
}

std::size_t case_count(suite::Suite& s) {
  return static_cast<std::size_t>(test::count(s.db(), "SELECT count(*) FROM cases"));
}

} // namespace

TEST_CASE("a promptfoo config with tests in YAML, CSV and JSONL files imports whole", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto report = import_from(s, Format::promptfoo, example_config());
  INFO((report ? "" : report.error().message));
  REQUIRE(report);
  CHECK(report->summary.cases == 7);
  CHECK(report->summary.incidents == 2);
  CHECK(report->summary.without_incident == 5);
  CHECK(report->skipped.empty());

  // The chat prompt file's system message and the rendered user message.
  auto refund = suite::get_case(s, "refund-window");
  REQUIRE(refund);
  CHECK(refund->prompt == "Can I get a refund after 45 days?");
  CHECK(refund->system == "You are the Northwind Outfitters support assistant.");
  CHECK(refund->title == "Refund after 45 days is refused");
  CHECK(refund->provenance.incident == "INC-7");
  CHECK(refund->tags == std::vector<std::string>{"billing"});
  // defaultTest's latency assertion comes first, then the test's own.
  std::vector<std::string> expect;
  for (const auto& a : refund->expect)
    expect.push_back(scoring::to_spec(a));
  CHECK(expect == std::vector<std::string>{"max-latency-ms:10000", "icontains:30 days",
                                           "judge@0.8:Politely declines and explains the 30-day "
                                           "return window"});
  auto inc = suite::get_incident(s, "INC-7");
  REQUIRE(inc);
  CHECK(inc->title == "Refund promised outside policy");
  CHECK(inc->severity == "high");

  // An array var gives one case per value; a var naming another var is resolved first.
  auto gift = suite::get_case(s, "returning-a-gift-v2");
  REQUIRE(gift);
  CHECK(gift->prompt == "I got hiking boots as a gift. Can I return it?");
  CHECK(gift->provenance.kind == suite::ProvenanceKind::imported);
  CHECK_THAT(gift->provenance.note,
             Catch::Contains("promptfoo ") && Catch::EndsWith("tests/refunds.yaml:18"));

  // The CSV file: __expected columns, __description, __metadata columns (tags[] as a list).
  auto tracking = suite::get_case(s, "late-order-tracking");
  REQUIRE(tracking);
  CHECK(tracking->prompt == "Where is order NW-57734? It was due Monday.");
  CHECK(tracking->provenance.incident == "INC-12");
  CHECK(tracking->tags == std::vector<std::string>{"shipping", "tracking"});
  CHECK(tracking->expect.size() == 3);
  // The JSONL file, with spec provenance from its metadata.
  auto tone = suite::get_case(s, "late-order-apology-without-the-banned-word");
  REQUIRE(tone);
  CHECK(tone->provenance.kind == suite::ProvenanceKind::spec);
  CHECK(tone->provenance.note == "style guide 2.1");
}

TEST_CASE("an unsupported promptfoo assertion refuses the import and is listed with its line",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = config(dir, "  - vars: {q: one}\n"
                          "    assert:\n"
                          "      - type: contains\n"
                          "        value: one\n"
                          "      - type: javascript\n"
                          "        value: output.length < context.logProbs.length\n"
                          "  - description: two\n"
                          "    vars: {q: two}\n"
                          "    assert:\n"
                          "      - type: levenshtein\n"
                          "        value: two\n");
  auto before = test::file_hash(test::suite_path(dir));
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("3 things evalkeep cannot import exactly"));
  CHECK_THAT(r.error().message,
             Catch::Contains("promptfooconfig.yaml:8: test 1: assert \"javascript\""));
  CHECK_THAT(r.error().message,
             Catch::Contains("promptfooconfig.yaml:13: test \"two\": assert \"levenshtein\""));
  CHECK_THAT(r.error().message, Catch::Contains("promptfooconfig.yaml:10: test \"two\": no "
                                                "assertion evalkeep can check"));
  CHECK_THAT(r.error().hint, Catch::Contains("--skip-unsupported"));
  CHECK(case_count(s) == 0);
  CHECK(test::file_hash(test::suite_path(dir)) == before);

  // With --skip-unsupported the rest comes in and the report says what was left out.
  auto skipped = import_from(s, Format::promptfoo, file, true);
  REQUIRE(skipped);
  CHECK(skipped->summary.cases == 1);
  CHECK(skipped->skipped.size() == 3);
  auto one = suite::get_case(s, "promptfooconfig-1");
  REQUIRE(one);
  CHECK(one->expect.size() == 1);
  CHECK(one->prompt == "Q: one");
}

TEST_CASE("promptfoo import errors name the file, the line and the field", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  SECTION("a file:// target that does not exist") {
    auto file = config(dir, "  - file://tests/missing.yaml\n");
    auto r = import_from(s, Format::promptfoo, file);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("promptfooconfig.yaml:4: cannot read") &&
                                      Catch::Contains("missing.yaml"));
  }
  SECTION("a glob that matches nothing") {
    auto file = config(dir, "  - file://tests/*.yaml\n");
    auto r = import_from(s, Format::promptfoo, file);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("no file matches"));
  }
  SECTION("bad YAML in a test file") {
    test::write_file(dir.path() / "t.yaml", "- vars: {q: hi}\n  assert:\n    - type: [contains\n");
    auto r = import_from(s, Format::promptfoo, config(dir, "  - file://t.yaml\n"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("t.yaml:") && Catch::Contains("invalid YAML"));
  }
  SECTION("a bad line in a JSONL test file") {
    test::write_file(dir.path() / "t.jsonl",
                     "{\"vars\":{\"q\":\"a\"},\"assert\":[{\"type\":\"equals\",\"value\":\"a\"}]}"
                     "\n{\"vars\":\n");
    auto r = import_from(s, Format::promptfoo, config(dir, "  - file://t.jsonl\n"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("t.jsonl:2: each line must be a JSON object"));
  }
  SECTION("an unknown incident without a title to create it") {
    auto r = import_from(s, Format::promptfoo,
                         config(dir, "  - vars: {q: a}\n    assert: [{type: equals, value: a}]\n"
                                     "    metadata: {incident: INC-404}\n"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message,
               Catch::Contains("promptfooconfig.yaml:4: field \"incident\": unknown incident "
                               "INC-404"));
  }
  SECTION("a prompt that is code") {
    test::write_file(dir.path() / "p.py", "def f(): pass\n");
    auto r = import_from(s, Format::promptfoo,
                         config(dir, "  - vars: {q: a}\n    assert: [{type: equals, value: a}]\n",
                                "  - file://p.py\n"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("a prompt written as code"));
  }
  SECTION("a prompt reading the environment") {
    auto r = import_from(s, Format::promptfoo,
                         config(dir, "  - vars: {q: a}\n    assert: [{type: equals, value: a}]\n",
                                "  - 'key {{ env.OPENAI_API_KEY }}'\n"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("reads the environment"));
  }
  CHECK(case_count(s) == 0);
}

TEST_CASE("a CSV test file with quoted commas, line breaks, a BOM and CRLF imports as written",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::write_file(dir.path() / "cases.csv",
                   "\xEF\xBB\xBFq,__expected,__description\r\n"
                   "\"Hello, world\",\"contains: Hello, world\",greeting\r\n"
                   "\"two\r\nlines\",icontains: LINES,multi-line\r\n");
  auto r = import_from(s, Format::promptfoo, config(dir, "  - file://cases.csv\n"));
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  auto greeting = suite::get_case(s, "greeting");
  REQUIRE(greeting);
  CHECK(greeting->prompt == "Q: Hello, world");
  CHECK(scoring::to_spec(greeting->expect.at(0)) == "contains:Hello, world");
  auto multi = suite::get_case(s, "multi-line");
  REQUIRE(multi);
  CHECK(multi->prompt == "Q: two\r\nlines");
  CHECK(multi->provenance.note == "promptfoo " + (dir.path() / "cases.csv").string() + ":3");
}

TEST_CASE("several prompts give one case per test and prompt", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto r = import_from(s, Format::promptfoo,
                       config(dir,
                              "  - description: Capital\n    vars: {q: France}\n"
                              "    assert: [{type: icontains, value: paris}]\n",
                              "  - 'Capital of {{q}}?'\n  - id: file://chat.json\n"
                              "    label: chat\n"));
  // The chat file does not exist yet: a missing prompt file is an error.
  REQUIRE_FALSE(r);
  test::write_file(dir.path() / "chat.json",
                   R"([{"role":"user","content":"Name the capital of {{q}}."},)"
                   R"({"role":"assistant","content":"Sure."},{"role":"user","content":"Go."}])");
  r = import_from(s, Format::promptfoo, dir.path() / "promptfooconfig.yaml");
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  CHECK(r->summary.cases == 2);
  CHECK(suite::get_case(s, "capital-p1")->prompt == "Capital of France?");
  auto chat = suite::get_case(s, "capital-chat");
  REQUIRE(chat);
  REQUIRE(chat->messages.size() == 3);
  CHECK(chat->messages[0].content == "Name the capital of France.");
}

TEST_CASE("imported cases without an incident follow the suite's policy", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = config(dir, "  - vars: {q: a}\n    assert: [{type: equals, value: a}]\n");
  suite::Policy policy;
  policy.require_incident = true;
  auto r = import_from(s, Format::promptfoo, file, false, policy);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("policy requires an incident link"));
  CHECK(case_count(s) == 0);
}

TEST_CASE("evalkeep's CSV layout imports one case per row", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = dir.path() / "cases.csv";
  test::write_file(file, "id,input,expect,expect2,incident,incident_title,tags,provenance\n"
                         "refund-window,\"Refund after 45 days, please\",icontains:30 days,"
                         "not-contains:sure,INC-7,Refund promised outside policy,billing vip,\n"
                         ",\"Say \"\"hi\"\"\",contains:hi,,,,,spec:style guide 1.2\n");
  auto r = import_from(s, Format::csv, file);
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  CHECK(r->summary.cases == 2);
  CHECK(r->summary.without_incident == 1);
  auto refund = suite::get_case(s, "refund-window");
  REQUIRE(refund);
  CHECK(refund->prompt == "Refund after 45 days, please");
  CHECK(refund->expect.size() == 2);
  CHECK(refund->tags == std::vector<std::string>{"billing", "vip"});
  auto second = suite::get_case(s, "cases-2");
  REQUIRE(second);
  CHECK(second->prompt == "Say \"hi\"");
  CHECK(second->provenance.note == "style guide 1.2");

  test::write_file(file, "id,input,weight\na,b,1\n");
  auto unknown = import_from(s, Format::csv, file);
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("cases.csv:1: unknown column 'weight'"));
  test::write_file(file, "id,input,expect\na,b,sounds-polite:yes\n");
  auto bad = import_from(s, Format::csv, file);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("cases.csv:2: column \"expect\"") &&
                                      Catch::Contains("unknown assertion type 'sounds-polite'"));
}

TEST_CASE("OpenAI Evals samples import with ideal answers as exact or any-of matches",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = dir.path() / "samples.jsonl";
  test::write_file(file,
                   R"({"input":"2+2?","ideal":"4"})"
                   "\n"
                   R"({"input":[{"role":"system","content":"Answer briefly."},)"
                   R"({"role":"user","content":"Capital of France?"}],"ideal":["Paris","Paris."],)"
                   R"("metadata":{"case_id":"capital","tags":["geo"]}})"
                   "\n");
  auto r = import_from(s, Format::openai_evals, file);
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  auto sum = suite::get_case(s, "samples-1");
  REQUIRE(sum);
  CHECK(scoring::to_spec(sum->expect.at(0)) == "equals:4");
  auto capital = suite::get_case(s, "capital");
  REQUIRE(capital);
  CHECK(capital->system == "Answer briefly.");
  CHECK(scoring::to_spec(capital->expect.at(0)) == "regex:^(?:Paris|Paris\\.)$");

  test::write_file(file, R"({"input":"x","ideal":"y","weight":2})"
                         "\n");
  auto bad = import_from(s, Format::openai_evals, file);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("samples.jsonl:1: field \"weight\""));
  test::write_file(file, R"({"input":"x"})"
                         "\n");
  auto no_ideal = import_from(s, Format::openai_evals, file);
  REQUIRE_FALSE(no_ideal);
  CHECK_THAT(no_ideal.error().message, Catch::Contains("samples.jsonl:1: field \"ideal\""));
}

TEST_CASE("thousands of refusals are counted by cause, the first of each with its line",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  std::string tests;
  for (int i = 0; i < 3000; ++i)
    tests += fmt::format("  - vars: {{q: q{}}}\n    assert:\n      - type: {}\n        value: x\n",
                         i, i % 3 == 2 ? "levenshtein" : "ruby");
  tests += "  - vars: {q: fine}\n    assert:\n      - type: contains\n        value: fine\n";
  auto file = config(dir, tests);
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  const auto& message = r.error().message;
  CHECK_THAT(message, Catch::Contains("6000 things evalkeep cannot import exactly"));
  CHECK_THAT(message, Catch::Contains("by cause (3 of them, the first of each shown)"));
  CHECK_THAT(message, Catch::Contains("\n  2000 x assert \"ruby\": first at " + file.string() +
                                      ":6: test 1: assert \"ruby\""));
  CHECK_THAT(message, Catch::Contains("\n  3000 x a test left with no assertion: first at " +
                                      file.string() + ":4: test 1: no assertion"));
  CHECK_THAT(message, Catch::Contains("\n  1000 x assert \"levenshtein\": first at " +
                                      file.string() + ":14: test 3: assert \"levenshtein\""));
  CHECK(std::count(message.begin(), message.end(), '\n') == 4);
  // A few are each listed, as before.
  std::vector<Skipped> few(3, Skipped{"f.yaml:1", "x", "c"});
  CHECK(describe_skipped(few) == "\n  f.yaml:1: x\n  f.yaml:1: x\n  f.yaml:1: x");

  auto skipped = import_from(s, Format::promptfoo, file, true);
  REQUIRE(skipped);
  CHECK(skipped->summary.cases == 1);
  CHECK(skipped->skipped.size() == 6000);
}

TEST_CASE("assertion templates given by $ref come over as the assertions they name", "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = config(dir, "  - vars: {q: one, word: refund}\n"
                          "    assert:\n"
                          "      - $ref: '#/assertionTemplates/mentions'\n"
                          "      - $ref: '#/assertionTemplates/polite'\n"
                          "  - vars: {q: two}\n"
                          "    assert:\n"
                          "      - type: contains\n"
                          "        value: two\n"
                          "      - $ref: '#/assertionTemplates/missing'\n"
                          "      - $ref: 'file://templates.yaml#/x'\n"
                          "assertionTemplates:\n"
                          "  mentions: {type: icontains, value: '{{word}}'}\n"
                          "  polite: {type: not-icontains, value: sorry}\n");
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("promptfooconfig.yaml:12: test 2: assert: $ref "
                                                "'#/assertionTemplates/missing': "
                                                "assertionTemplates has no template 'missing'"));
  CHECK_THAT(r.error().message,
             Catch::Contains("promptfooconfig.yaml:13: test 2: assert: $ref "
                             "'file://templates.yaml#/x' is not one of this configuration's"));
  auto skipped = import_from(s, Format::promptfoo, file, true);
  REQUIRE(skipped);
  CHECK(skipped->summary.cases == 2);
  auto one = suite::get_case(s, "promptfooconfig-1");
  REQUIRE(one);
  REQUIRE(one->expect.size() == 2);
  CHECK(scoring::to_spec(one->expect[0]) == "icontains:refund"); // rendered with the test's vars
  CHECK(scoring::to_spec(one->expect[1]) == "not-icontains:sorry");
}

TEST_CASE("vars given as a file, a glob or a list of files are read and merged in order",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  std::filesystem::create_directories(dir.path() / "vars");
  test::write_file(dir.path() / "vars/a.yaml", "q: from a\nword: alpha\n");
  test::write_file(dir.path() / "vars/b.json", R"({"word": "beta"})");
  test::write_file(dir.path() / "code.js", "module.exports = () => ({q: 'x'});\n");
  auto file = config(dir, "  - vars: file://vars/a.yaml\n"
                          "    assert: [{type: contains, value: '{{word}}'}]\n"
                          "  - vars: file://vars/*\n"
                          "    assert: [{type: contains, value: '{{word}}'}]\n"
                          "  - vars: [file://vars/b.json, file://vars/a.yaml]\n"
                          "    assert: [{type: contains, value: '{{word}}'}]\n"
                          "  - vars: file://code.js\n"
                          "    assert: [{type: contains, value: x}]\n");
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("promptfooconfig.yaml:10: test 4: vars from "));
  CHECK_THAT(r.error().message, Catch::Contains("are computed by code"));
  auto skipped = import_from(s, Format::promptfoo, file, true);
  REQUIRE(skipped);
  CHECK(skipped->summary.cases == 3);
  auto spec = [&](const char* id) {
    auto c = suite::get_case(s, id);
    REQUIRE(c);
    return *c->prompt + " / " + scoring::to_spec(c->expect.at(0));
  };
  CHECK(spec("promptfooconfig-1") == "Q: from a / contains:alpha");
  CHECK(spec("promptfooconfig-2") == "Q: from a / contains:beta"); // a.yaml, then b.json
  CHECK(spec("promptfooconfig-3") == "Q: from a / contains:alpha");

  auto bad = config(dir, "  - vars: vars.yaml\n    assert: [{type: contains, value: x}]\n",
                    "  - 'Q: {{q}}'\n", "bad.yaml");
  auto refused = import_from(s, Format::promptfoo, bad);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("vars must be a mapping, or files"));
}

TEST_CASE("test generators and datasets from the network are refused naming what they are",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::write_file(dir.path() / "gen.py", "def generate_tests(config):\n    return []\n");
  struct Case {
    std::string tests, says;
  };
  for (const auto& [tests, says] : std::vector<Case>{
           {"  - path: file://gen.py\n    config: {n: 3}\n",
            "test 1: a test generator ({path, config}) is code"},
           {"  - file://gen.py\n", "is code; tests generated by code are not imported"},
       }) {
    auto r = import_from(s, Format::promptfoo, config(dir, tests));
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK_THAT(r.error().message, Catch::Contains(says));
    CHECK_THAT(r.error().message, Catch::Contains("1 thing evalkeep cannot import"));
  }
  test::write_file(dir.path() / "hf.yaml",
                   "prompts: ['{{q}}']\ntests: huggingface://datasets/acme/support\n");
  auto hf = import_from(s, Format::promptfoo, dir.path() / "hf.yaml");
  REQUIRE_FALSE(hf);
  CHECK_THAT(hf.error().message, Catch::Contains("tests from 'huggingface://datasets/acme/support' "
                                                 "are a dataset fetched from the network"));
}

TEST_CASE("extensions that may change the tests are refused, and left out the tests come over as "
          "written",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto tests = std::string("  - vars: {q: hi}\n    assert: [{type: contains, value: hi}]\n");
  auto file = config(dir, tests,
                     "  - 'Q: {{q}}'\nextensions:\n  - file://hooks.js:afterAll\n"
                     "  - file://hooks.js:hook\n  - file://hooks.py:afterEach\n"
                     "  - file://hooks.js:beforeEach\n  - file://hooks.js\n");
  auto refused = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(refused);
  const auto& m = refused.error().message;
  INFO(m);
  // Called after each test or the eval only, a hook changes nothing imported; any other may.
  CHECK_THAT(m, Catch::Contains("3 things evalkeep cannot import"));
  CHECK_THAT(m, Catch::Contains("promptfooconfig.yaml:5: extension \"file://hooks.js:hook\": "
                                "promptfoo calls it before the eval and each test too") &&
                    Catch::Contains("may change the tests and their vars"));
  CHECK_THAT(m,
             Catch::Contains("promptfooconfig.yaml:7: extension \"file://hooks.js:beforeEach\""));
  CHECK_THAT(m, Catch::Contains("promptfooconfig.yaml:8: extension \"file://hooks.js\""));
  CHECK_THAT(m, !Catch::Contains("afterAll\"") && !Catch::Contains("afterEach\""));
  CHECK(case_count(s) == 0);
  auto skipped = import_from(s, Format::promptfoo, file, true);
  REQUIRE(skipped);
  CHECK(skipped->summary.cases == 1);
  REQUIRE(skipped->skipped.size() == 3);
  CHECK(skipped->skipped[0].cause == "extensions (hooks that may change the tests)");
  // No hook, or hooks that run after the tests, are nothing to refuse.
  test::TempDir other;
  auto fresh = test::empty_suite(other);
  auto none = import_from(
      fresh, Format::promptfoo,
      config(dir, tests,
             "  - 'Q: {{q}}'\nextensions: ['file://h.js:afterEach', 'file://h.py:afterAll']\n",
             "none.yaml"));
  REQUIRE(none);
  CHECK(none->skipped.empty());
}

TEST_CASE("prompts kept by a prompt service are refused, never imported as their reference",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto tests = std::string("  - vars: {q: hi}\n    assert: [{type: contains, value: hi}]\n");
  for (const char* ref : {"langfuse://support-prompt:3", "helicone://abc-123", "portkey://pp-7"}) {
    auto r = import_from(s, Format::promptfoo, config(dir, tests, fmt::format("  - '{}'\n", ref)));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(fmt::format("{}: a prompt kept by", ref)));
    auto by_id = import_from(s, Format::promptfoo,
                             config(dir, tests, fmt::format("  - {{id: '{}', label: a}}\n", ref)));
    REQUIRE_FALSE(by_id);
    CHECK_THAT(by_id.error().message, Catch::Contains("is fetched from it"));
  }
  // A web address, or text that mentions one, is a prompt like any other, as promptfoo sends it.
  auto web = import_from(s, Format::promptfoo,
                         config(dir, tests,
                                "  - 'https://example.com/{{q}}'\n"
                                "  - 'Summarize langfuse://x for me: {{q}}'\n"));
  REQUIRE(web);
  CHECK(web->summary.cases == 2);
}

TEST_CASE("a test refused for its fields also lists its assertions of a type evalkeep lacks",
          "[interop]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto file = config(dir, "  - vars: {q: one}\n"
                          "    threshold: 0.5\n"
                          "    options: {provider: x, seed: 3}\n"
                          "    assert:\n"
                          "      - type: contains\n"
                          "        value: one\n"
                          "      - type: not-g-eval\n"
                          "        value: one\n");
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  const auto& m = r.error().message;
  CHECK_THAT(m, Catch::Contains("3 things evalkeep cannot import exactly"));
  CHECK_THAT(m, Catch::Contains("promptfooconfig.yaml:5: test 1: a pass threshold"));
  CHECK_THAT(m, Catch::Contains("promptfooconfig.yaml:6: test 1: options.seed changes"));
  CHECK_THAT(m, Catch::Contains("promptfooconfig.yaml:10: test 1: assert \"not-g-eval\": "
                                "evalkeep has no assertion like promptfoo's \"not-g-eval\""));
}
