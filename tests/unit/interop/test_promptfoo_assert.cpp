#include "interop/promptfoo_assert.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::interop;
using nlohmann::json;

namespace {

std::vector<std::string> specs(const json& promptfoo) {
  auto r = from_promptfoo(promptfoo);
  INFO(promptfoo.dump() << (r ? "" : " -> " + r.error().message));
  REQUIRE(r);
  std::vector<std::string> out;
  for (const auto& a : *r)
    out.push_back(scoring::to_spec(a));
  return out;
}

} // namespace

TEST_CASE("promptfoo assertions with an exact counterpart map one to one", "[interop]") {
  using V = std::vector<std::string>;
  CHECK(specs({{"type", "equals"}, {"value", "4"}}) == V{"equals:4"});
  CHECK(specs({{"type", "equals"}, {"value", 4}}) == V{"equals:4"});
  CHECK(specs({{"type", "contains"}, {"value", "Paris"}, {"metric", "geo"}}) ==
        V{"contains:Paris"});
  CHECK(specs({{"type", "icontains"}, {"value", "paris"}}) == V{"icontains:paris"});
  CHECK(specs({{"type", "not-contains"}, {"value", "sorry"}}) == V{"not-contains:sorry"});
  CHECK(specs({{"type", "starts-with"}, {"value", "Yes"}}) == V{"starts-with:Yes"});
  CHECK(specs({{"type", "regex"}, {"value", "\\d+"}}) == V{"regex:\\d+"});
  CHECK(specs({{"type", "is-json"}}) == V{"is-json"});
  CHECK(specs({{"type", "latency"}, {"threshold", 500}}) == V{"max-latency-ms:500"});
  CHECK(specs({{"type", "cost"}, {"threshold", 0.002}}) == V{"max-cost:0.002"});
  CHECK(specs({{"type", "llm-rubric"}, {"value", "Is polite"}, {"threshold", 0.8}}) ==
        V{"judge@0.8:Is polite"});
  CHECK(specs({{"type", "llm-rubric"}, {"value", "Is polite"}}) == V{"judge@0.7:Is polite"});
  CHECK(specs({{"type", "contains-all"}, {"value", {"a", "b"}}}) == V{"contains:a", "contains:b"});
  CHECK(specs({{"type", "icontains-all"}, {"value", "a, b"}}) == V{"icontains:a", "icontains:b"});
  CHECK(specs({{"type", "contains-any"}, {"value", {"a.b", "c"}}}) == V{"regex:(?:a\\.b|c)"});
  CHECK(specs({{"type", "icontains-any"}, {"value", {"x"}}}) == V{"regex:(?i)(?:x)"});
}

TEST_CASE("promptfoo assertions without an exact counterpart are refused with the reason",
          "[interop]") {
  struct Case {
    json assertion;
    std::string reason;
  };
  for (const auto& [a, reason] : std::vector<Case>{
           {{{"type", "javascript"}, {"value", "output.length < 10"}}, "no assertion like"},
           {{{"type", "not-icontains"}, {"value", "x"}}, "no assertion like"},
           {{{"type", "similar"}, {"value", "x"}, {"threshold", 0.8}}, "no assertion like"},
           {{{"type", "equals"}, {"value", {{"a", 1}}}}, "JSON value"},
           {{{"type", "is-json"}, {"value", {{"type", "object"}}}}, "JSON schema"},
           {{{"type", "contains"}, {"value", "x"}, {"transform", "output.trim()"}}, "transform"},
           {{{"type", "llm-rubric"}, {"value", "file://rubric.txt"}}, "read from a file"},
           {{{"type", "latency"}}, "needs a threshold"},
           {{{"type", "regex"}, {"value", "(?<=a)b"}}, "invalid regex"},
       }) {
    auto r = from_promptfoo(a);
    INFO(a.dump());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(reason));
  }
}

TEST_CASE("evalkeep assertions promptfoo can check are written in its terms", "[interop]") {
  auto pf = [](const std::string& spec) {
    auto a = scoring::parse_assertion(spec);
    REQUIRE(a);
    return to_promptfoo(*a);
  };
  CHECK(pf("icontains:30 days")->dump() == R"({"type":"icontains","value":"30 days"})");
  CHECK(pf("max-latency-ms:800")->dump() == R"({"type":"latency","threshold":800})");
  CHECK(pf("judge@0.9:Kind")->dump() == R"({"type":"llm-rubric","value":"Kind","threshold":0.9})");
  CHECK(pf("contains:{{x}}")->dump() ==
        R"({"type":"contains","value":"{% raw %}{{x}}{% endraw %}"})");
  // JavaScript's RegExp has no inline (?i): the flag goes to the constructor, and reads back.
  auto icase = pf("regex:(?i)refund\\s+\"window\"");
  REQUIRE(icase);
  CHECK((*icase)["type"] == "javascript");
  CHECK((*icase)["value"] == "new RegExp(\"refund\\\\s+\\\"window\\\"\", 'i').test(output)");
  CHECK(specs(json::parse(icase->dump())) ==
        std::vector<std::string>{"regex:(?i)refund\\s+\"window\""});
  CHECK((*pf("regex:(?i)(?:x)"))["value"] == "new RegExp(\"(?:x)\", 'i').test(output)");
  CHECK((*pf("regex:^a(?i)b"))["type"] == "regex"); // an inline flag elsewhere stays as it is
  CHECK_FALSE(pf("json-path:/a=1"));
  CHECK_FALSE(pf("min-length:3"));
  CHECK_FALSE(pf("number-close:3,0.1"));
}

TEST_CASE("CSV __expected cells are read as promptfoo reads them", "[interop]") {
  CHECK(assertion_from_cell("contains: Paris") == json({{"type", "contains"}, {"value", "Paris"}}));
  CHECK(assertion_from_cell("Paris") == json({{"type", "equals"}, {"value", "Paris"}}));
  CHECK(assertion_from_cell("not-icontains: x")["type"] == "not-icontains");
  CHECK(assertion_from_cell("contains-all: a, b") ==
        json({{"type", "contains-all"}, {"value", {"a", "b"}}}));
  CHECK(assertion_from_cell(R"(contains-any: "x, y",z)") ==
        json({{"type", "contains-any"}, {"value", {"x, y", "z"}}}));
  CHECK(assertion_from_cell("llm-rubric: is polite") ==
        json({{"type", "llm-rubric"}, {"value", "is polite"}}));
  CHECK(assertion_from_cell("grade: is kind")["type"] == "llm-rubric");
  CHECK(assertion_from_cell("javascript: output.length < 5")["type"] == "javascript");
  CHECK(assertion_from_cell("latency(500)") == json({{"type", "latency"}, {"threshold", 500.0}}));
  CHECK(assertion_from_cell("is-json") == json({{"type", "is-json"}}));
  // A word that is not a promptfoo type is a plain expected value.
  CHECK(assertion_from_cell("note: hi") == json({{"type", "equals"}, {"value", "note: hi"}}));
}
