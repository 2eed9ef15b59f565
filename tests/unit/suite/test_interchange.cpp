#include "suite/cases.hpp"
#include "suite/interchange.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"
#include "support/suite_fixture.hpp"

#include <sstream>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using test::origin;

namespace {

const std::string k_incident =
    R"({"type":"incident","id":"INC-7","title":"Refund promised outside policy","date":"2026-03-02","severity":"high"})";
const std::string k_retired_case =
    R"({"type":"case","id":"refund-window","prompt":"Can I get a refund after 45 days?","expect":[{"type":"icontains","value":"30 days"}],"incident":"INC-7","tags":["billing"],"status":"retired"})";
const std::string k_spec_case =
    R"({"type":"case","id":"tone-apology","prompt":"My order is late.","expect":[{"type":"not-contains","value":"unfortunately"}],"provenance":{"kind":"spec","note":"style guide 2.1"}})";
const std::string k_decision =
    R"({"type":"retirement","case":"refund-window","reason":"superseded","rationale":"covered by the tone case","decided_by":"Test <t@example.com>","decided_at":"2026-04-01T09:00:00Z","incidents":["INC-7"],"superseded_by":["tone-apology"]})";

std::string small_file() {
  return k_incident + "\n" + k_retired_case + "\n" + k_spec_case + "\n" + k_decision + "\n";
}

std::string export_text(Suite& s) {
  std::ostringstream out;
  REQUIRE(export_jsonl(s, out));
  return out.str();
}

Result<ImportSummary> import_text(Suite& s, const std::string& text, bool dry_run = false,
                                  const Policy& policy = {}) {
  return import_jsonl(s, text, "team.jsonl", policy, origin(), dry_run);
}

std::string replace_last_line(std::string text, const std::string& line) {
  text.pop_back();
  text.erase(text.rfind('\n') + 1);
  return text + line + "\n";
}

} // namespace

TEST_CASE("import reads incidents, cases and retirement decisions from JSONL", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto summary = import_text(s, small_file());
  REQUIRE(summary);
  CHECK(summary->incidents == 1);
  CHECK(summary->cases == 2);
  CHECK(summary->retirements == 1);

  auto refund = get_case(s, "refund-window");
  REQUIRE(refund);
  CHECK(refund->status == CaseStatus::retired);
  CHECK(refund->provenance.incident == "INC-7");
  auto decision = find_decision(s, "refund-window");
  REQUIRE(decision);
  REQUIRE(decision->has_value());
  CHECK((*decision)->superseded_by == std::vector<std::string>{"tone-apology"});
  CHECK((*decision)->decided_at == "2026-04-01T09:00:00Z");
  CHECK(get_case(s, "tone-apology")->provenance.note == "style guide 2.1");

  auto events = read_ledger(s.db());
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  CHECK(events->at(0).action == "incident-add");
  CHECK(events->at(1).action == "import");
  CHECK(events->at(1).rationale == "imported from team.jsonl");

  auto report = verify(s);
  REQUIRE(report);
  CHECK(report->ok());
}

TEST_CASE("import writes nothing when the last line has an error", "[suite]") {
  test::TempDir dir;
  auto s = test::suite_with_case(dir, "existing-case", "INC-1");
  const auto cases_before = test::count(s.db(), "SELECT count(*) FROM cases");
  const auto events_before = test::count(s.db(), "SELECT count(*) FROM ledger");
  const auto hash_before = test::file_hash(s.path());

  SECTION("a field error in the record") {
    auto text = replace_last_line(small_file(), R"({"type":"retirement","case":"refund-window",)"
                                                R"("reason":"superseded","ticket":"JIRA-1"})");
    auto r = import_text(s, text);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "team.jsonl:4: field \"ticket\": unknown field");
  }
  SECTION("a reference to a case that does not exist") {
    auto bad = k_decision;
    bad.replace(bad.find("\"tone-apology\""), 14, "\"no-such-case\"");
    auto r = import_text(s, replace_last_line(small_file(), bad));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message,
               Catch::StartsWith("team.jsonl:4: field \"superseded_by\": unknown case"));
  }
  SECTION("a line that is not JSON") {
    auto r = import_text(s, small_file() + "{\"type\":\"case\",\n");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::StartsWith("team.jsonl:5: invalid JSON"));
  }
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == cases_before);
  CHECK(test::count(s.db(), "SELECT count(*) FROM incidents") == 1);
  CHECK(test::count(s.db(), "SELECT count(*) FROM ledger") == events_before);
  CHECK(test::file_hash(s.path()) == hash_before);
}

TEST_CASE("import errors name the source, the line and the field", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  auto error_for = [&](const std::string& text) {
    auto r = import_text(s, text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ExitCode::usage);
    return r.error().message;
  };

  CHECK(error_for(k_incident + "\n" +
                  R"({"type":"case","id":"x","prompt":42,"expect":[],"incident":"INC-7"})") ==
        "team.jsonl:2: field \"prompt\": must be a string");
  const std::string bad_assertion =
      R"({"type":"case","id":"x","prompt":"p","expect":[{"type":"contains","value":"a"},)"
      R"({"type":"nope"}],"incident":"INC-7"})";
  CHECK_THAT(error_for("\n\n" + k_incident + "\n" + bad_assertion),
             Catch::StartsWith("team.jsonl:4: field \"expect[1]\": "));
  CHECK_THAT(error_for(k_spec_case + "\n" + R"({"type":"note","text":"hi"})"),
             Catch::StartsWith("team.jsonl:2: field \"type\""));
  CHECK_THAT(error_for(R"({"id":"INC-7"})"), Catch::StartsWith("team.jsonl:1: field \"type\""));
  CHECK_THAT(error_for(k_retired_case), Catch::StartsWith("team.jsonl:1: field \"incident\": "
                                                          "unknown incident INC-7"));
  CHECK_THAT(error_for(k_incident + "\n" + k_retired_case),
             Catch::StartsWith("team.jsonl:2: field \"status\""));
  CHECK_THAT(error_for(k_spec_case + "\n" + k_spec_case),
             Catch::StartsWith("team.jsonl:2: field \"id\": duplicate case id tone-apology"));
  CHECK_THAT(error_for(k_incident + "\r\n"), Catch::StartsWith("team.jsonl:1: Windows line"));
  CHECK_THAT(error_for("[1, 2]"), Catch::StartsWith("team.jsonl:1: "));
  CHECK(test::count(s.db(), "SELECT count(*) FROM ledger") == 0);
}

TEST_CASE("import refuses ids that already exist in the suite", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  REQUIRE(import_text(s, small_file()));
  auto again = import_text(s, small_file());
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::StartsWith("team.jsonl:1: field \"id\": incident INC-7 "
                                                      "already exists"));
  auto cases_only = import_text(s, k_spec_case + "\n");
  REQUIRE_FALSE(cases_only);
  CHECK_THAT(cases_only.error().message,
             Catch::Contains("case tone-apology already exists in the suite"));
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == 2);
}

TEST_CASE("import applies the suite's policy", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  Policy strict;
  strict.require_incident = true;
  auto r = import_text(s, k_spec_case + "\n", false, strict);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::StartsWith("team.jsonl:1: field \"provenance\""));

  Policy approver;
  approver.require_approver = true;
  auto d = import_text(s, small_file(), false, approver);
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error().message, Catch::StartsWith("team.jsonl:4: field \"approved_by\""));
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == 0);
}

TEST_CASE("a dry-run import checks everything and writes nothing", "[suite]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  const auto before = test::file_hash(s.path());
  auto summary = import_text(s, small_file(), true);
  REQUIRE(summary);
  CHECK(summary->incidents == 1);
  CHECK(summary->cases == 2);
  CHECK(summary->retirements == 1);
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == 0);
  CHECK(test::count(s.db(), "SELECT count(*) FROM incidents") == 0);
  CHECK(test::count(s.db(), "SELECT count(*) FROM retirements") == 0);
  CHECK(test::count(s.db(), "SELECT count(*) FROM ledger") == 0);
  CHECK(test::file_hash(s.path()) == before);

  auto broken = import_text(s, replace_last_line(small_file(), "{"), true);
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::StartsWith("team.jsonl:4: invalid JSON"));

  // The real import afterwards still works: the dry run left no transaction open.
  REQUIRE(import_text(s, small_file()));
  CHECK(test::count(s.db(), "SELECT count(*) FROM cases") == 2);
}

TEST_CASE("export, import into a new suite and export again gives the same bytes", "[suite]") {
  const auto example = test::read_file(EVALKEEP_SOURCE_DIR "/evals/example-suite.jsonl");
  REQUIRE_FALSE(example.empty());
  test::TempDir first_dir, second_dir;
  auto first = test::empty_suite(first_dir);
  auto imported = import_jsonl(first, example, "example-suite.jsonl", Policy{}, origin(), false);
  REQUIRE(imported);
  CHECK(imported->cases > 0);
  CHECK(imported->retirements > 0);

  const auto exported = export_text(first);
  CHECK(std::count(exported.begin(), exported.end(), '\n') ==
        static_cast<std::ptrdiff_t>(imported->incidents + imported->cases + imported->retirements));

  auto second = test::empty_suite(second_dir);
  REQUIRE(import_jsonl(second, exported, "export.jsonl", Policy{}, origin(), false));
  const auto again = export_text(second);
  CHECK(again == exported);

  auto report = verify(second);
  REQUIRE(report);
  CHECK(report->ok());
}

TEST_CASE("export keeps tombstones and decisions so a purged suite round-trips", "[suite]") {
  test::TempDir dir, copy_dir;
  auto s = test::suite_with_case(dir, "refund-window", "INC-7");
  test::add_case(s, test::make_case("tone-apology", "", "My order is late."));
  test::add_case(s, test::make_case("kept-removed", "INC-7", "Refund after 90 days?"));
  for (const char* id : {"refund-window", "kept-removed"}) {
    RetireRequest req;
    req.case_id = id;
    req.reason = "out-of-scope";
    req.rationale = "refunds moved to a human";
    REQUIRE(retire(s, req, Policy{}, origin()));
  }
  REQUIRE(remove_case(s, "refund-window", true, origin()));
  REQUIRE(remove_case(s, "kept-removed", false, origin()));
  const auto exported = export_text(s);
  CHECK_THAT(exported, Catch::Contains("\"content_hash\""));

  auto copy = test::empty_suite(copy_dir);
  REQUIRE(import_jsonl(copy, exported, "export.jsonl", Policy{}, origin(), false));
  CHECK(export_text(copy) == exported);
  auto tomb = get_case(copy, "refund-window");
  REQUIRE(tomb);
  CHECK(tomb->purged);
  CHECK(tomb->content_hash == get_case(s, "refund-window")->content_hash);
  auto report = verify(copy);
  REQUIRE(report);
  CHECK(report->ok());
}
