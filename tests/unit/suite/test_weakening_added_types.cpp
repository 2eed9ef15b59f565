#include "scoring/strictness.hpp"
#include "suite/records.hpp"
#include "suite/weakening.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;

namespace {

scoring::Assertion parsed(const std::string& spec) {
  auto a = scoring::parse_assertion(spec);
  INFO(spec);
  REQUIRE(a);
  return *a;
}

Case with(std::vector<scoring::Assertion> expect) {
  auto c = test::make_case("refund-window", "INC-7", "Can I get a refund after 45 days?",
                           {"icontains:30 days"});
  c.expect = std::move(expect);
  c.content_hash = content_hash(c);
  return c;
}

bool weakens(const scoring::Assertion& before, const scoring::Assertion& after) {
  return any_weakens(case_changes(with({before}), with({after})));
}

bool weakens(const std::string& before, const std::string& after) {
  return weakens(parsed(before), parsed(after));
}

scoring::Assertion transformed(std::string spec, std::string code) {
  auto a = parsed(spec);
  a.transforms.push_back({scoring::Language::javascript, std::move(code), "", ""});
  return a;
}

} // namespace

TEST_CASE("a changed assertion of an added type weakens a case unless provably stricter",
          "[suite][weakening]") {
  for (const auto& [before, after] : std::vector<std::pair<std::string, std::string>>{
           {"not-regex:\\d{3}", "not-regex:\\d{4}"},
           {"javascript:output.length > 2", "javascript:output.length > 3"},
           {"python@0.5:len(output) / 10", "python@0.8:len(output) / 10"},
           {"contains-any:[\"a\",\"b\"]", "contains-any:[\"a\",\"b\",\"c\"]"},
           {"not-contains-all:[\"a\"]", "not-contains-all:[\"a\",\"b\"]"},
           {"not-icontains:sorry", "not-icontains:sorry about that"},
           {"is-json:{\"required\":[\"a\"]}", "is-json:{\"required\":[\"b\"]}"},
           {"similar@0.8:Paris", "similar@0.7:Paris"},
           {"similar@0.8:Paris", "similar@0.9:Lyon"},
           {"is-json-strict", "is-json"}, // a fenced answer passes now
           {"not-is-json", "not-is-json-strict"},
           {"is-json-strict:{\"required\":[\"a\"]}", "is-json:{\"required\":[\"a\"]}"},
           // Another grader asks the judge another question: never provably stricter.
           {"judge@0.9:Paris", "judge/factuality:Paris"},
           {"judge/factuality:Paris", "judge@1:Paris"},
           {"judge/factuality:Paris", "judge/closedqa:Paris"},
           {"judge/closedqa:is brief", "judge/closedqa:is short"},
       }) {
    INFO(before << " -> " << after);
    CHECK(weakens(before, after));
  }
}

TEST_CASE("an assertion of an added type made provably stricter does not weaken a case",
          "[suite][weakening]") {
  for (const auto& [before, after] : std::vector<std::pair<std::string, std::string>>{
           {"not-icontains:sorry about that", "not-icontains:SORRY"},
           {"not-starts-with:No way", "not-starts-with:No"},
           {"contains-any:[\"a\",\"b\",\"c\"]", "contains-any:[\"a\",\"b\"]"},
           {"icontains-any:[\"A\",\"b\"]", "icontains-any:[\"a\"]"},
           {"not-contains-all:[\"a\",\"b\"]", "not-contains-all:[\"a\"]"},
           {"is-json", "is-json-strict"},
           {"not-is-json-strict", "not-is-json"},
           {"is-json", "is-json:{\"required\":[\"a\"]}"},
           {"contains-json", "contains-json:{\"required\":[\"a\"]}"},
           {"similar@0.7:Paris", "similar@0.9:Paris"},
           {"judge/factuality:Paris", "judge/factuality:Paris"},
       }) {
    INFO(before << " -> " << after);
    CHECK_FALSE(weakens(before, after));
  }
}

TEST_CASE("a check that gains a transform, or a schema replaced by a path, weakens a case",
          "[suite][weakening]") {
  // The transform may turn any answer into one that passes: the check no longer reads the answer.
  CHECK(weakens(parsed("contains:30 days"), transformed("contains:30 days", "'30 days'")));
  CHECK(weakens(parsed("contains:30"), transformed("contains:30 days", "output")));
  CHECK(weakens(transformed("contains:30", "output.trim()"),
                transformed("contains:30 days", "'30 days'")));
  // The same transform and check stay what they were.
  CHECK_FALSE(weakens(transformed("contains:30", "output.trim()"),
                      transformed("contains:30", "output.trim()")));
  // A JSON path reads valid JSON, but does not check the schema the old assertion did.
  CHECK(weakens("is-json:{\"required\":[\"status\"]}", "json-path:/status=\"shipped\""));
  CHECK_FALSE(weakens("is-json", "json-path:/status=\"shipped\""));
}

TEST_CASE("strictness of the original types is left to the suite's own rules", "[scoring]") {
  CHECK_FALSE(scoring::stricter_or_equal(parsed("contains:a"), parsed("contains:ab")));
  CHECK(scoring::stricter_or_equal(parsed("not-equals:a"), parsed("not-equals:a")) == true);
  CHECK(scoring::stricter_or_equal(parsed("equals:b"), parsed("not-equals:a")) == true);
  CHECK(scoring::stricter_or_equal(parsed("equals:a"), parsed("not-equals:a")) == false);
  CHECK(scoring::stricter_or_equal(parsed("contains:xaby"), parsed("contains-any:[\"ab\"]")) ==
        true);
}
