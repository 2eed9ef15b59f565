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
                          "        value: output.length < 10\n"
                          "  - description: two\n"
                          "    vars: {q: two}\n"
                          "    assert:\n"
                          "      - type: similar\n"
                          "        value: two\n");
  auto before = test::file_hash(test::suite_path(dir));
  auto r = import_from(s, Format::promptfoo, file);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  CHECK_THAT(r.error().message, Catch::Contains("3 things evalkeep cannot import exactly"));
  CHECK_THAT(r.error().message,
             Catch::Contains("promptfooconfig.yaml:8: test 1: assert \"javascript\""));
  CHECK_THAT(r.error().message,
             Catch::Contains("promptfooconfig.yaml:13: test \"two\": assert \"similar\""));
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
  auto r = import_from(s, Format::promptfoo, file, false, suite::Policy{true, false});
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
