#include "scoring/assertion.hpp"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep::scoring;

TEST_CASE("assertions parse from the command-line form", "[scoring]") {
  auto a = parse_assertion("icontains:30 days");
  REQUIRE(a);
  CHECK(a->type == AssertionType::icontains);
  CHECK(a->text == "30 days");

  auto colon = parse_assertion("contains:ratio 3:2");
  REQUIRE(colon);
  CHECK(colon->text == "ratio 3:2");

  auto close = parse_assertion("number-close:42.5,0.5");
  REQUIRE(close);
  CHECK(close->number == 42.5);
  CHECK(close->tolerance == 0.5);

  auto path = parse_assertion("json-path:/order/status=\"shipped\"");
  REQUIRE(path);
  CHECK(path->path == "/order/status");
  CHECK(path->value == "shipped");

  auto plain = parse_assertion("json-path:/count=3");
  REQUIRE(plain);
  CHECK(plain->value == 3);

  auto judge = parse_assertion("judge@0.8:declines politely");
  REQUIRE(judge);
  CHECK(judge->threshold == 0.8);
  CHECK(judge->rubric == "declines politely");

  CHECK(parse_assertion("is-json"));
}

TEST_CASE("bad assertions are refused with the reason", "[scoring]") {
  auto unknown = parse_assertion("containz:x");
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("unknown assertion type 'containz'"));
  CHECK_THAT(unknown.error().hint, Catch::Contains("icontains"));

  auto regex = parse_assertion("regex:(unclosed");
  REQUIRE_FALSE(regex);
  CHECK_THAT(regex.error().message, Catch::Contains("invalid regex"));

  CHECK_FALSE(parse_assertion("contains:"));
  CHECK_FALSE(parse_assertion("contains"));
  CHECK_FALSE(parse_assertion("min-length:-3"));
  CHECK_FALSE(parse_assertion("min-length:2.5"));
  CHECK_FALSE(parse_assertion("judge@1.5:rubric"));
  CHECK_FALSE(parse_assertion("judge/factuality@0.8:Paris"));
  CHECK_FALSE(parse_assertion("judge/gut-feeling:Paris"));
  CHECK_FALSE(parse_assertion("number-close:abc"));
  CHECK_FALSE(parse_assertion("json-path:status=1"));
  CHECK_FALSE(parse_assertion("is-json:yes"));

  auto bytes = parse_assertion("not-contains:unfortunatel\xd3\xd3y");
  REQUIRE_FALSE(bytes);
  CHECK_THAT(bytes.error().message, Catch::Contains("not valid UTF-8"));
}

TEST_CASE("the JSON form round-trips and refuses unknown fields", "[scoring]") {
  for (const char* spec : {"equals:Yes", "regex:^[0-9]{4}$", "is-json", "json-path:/a/b=[1,2]",
                           "min-length:20", "max-latency-ms:5000", "max-cost:0.01",
                           "number-close:3.14,0.01", "judge@0.7:answers the question",
                           "judge/factuality:Paris is the capital", "judge/closedqa:is brief"}) {
    auto a = parse_assertion(spec);
    REQUIRE(a);
    auto back = from_json(nlohmann::json(to_json(*a)));
    REQUIRE(back);
    CHECK(*back == *a);
  }
  auto graded = from_json({{"type", "judge"}, {"grader", "factuality"}, {"rubric", "Paris"}});
  REQUIRE(graded);
  CHECK(graded->grader == Grader::factuality);
  CHECK(to_json(*graded).dump() == R"({"type":"judge","grader":"factuality","rubric":"Paris"})");
  // An old suite's judge has no grader: a rubric's, written as before.
  auto plain = from_json({{"type", "judge"}, {"rubric", "polite"}, {"threshold", 0.8}});
  REQUIRE(plain);
  CHECK(plain->grader == Grader::rubric);
  CHECK(to_json(*plain).dump() == R"({"type":"judge","rubric":"polite","threshold":0.8})");
  auto thresholded = from_json(
      {{"type", "judge"}, {"grader", "closedqa"}, {"rubric", "brief"}, {"threshold", 0.5}});
  REQUIRE_FALSE(thresholded);
  CHECK_THAT(thresholded.error().message, Catch::Contains("takes no threshold"));
  auto unknown = from_json({{"type", "judge"}, {"grader", "geval"}, {"rubric", "x"}});
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("unknown grader 'geval'"));
  auto extra = from_json({{"type", "contains"}, {"value", "x"}, {"weight", 2}});
  REQUIRE_FALSE(extra);
  CHECK_THAT(extra.error().message, Catch::Contains("unknown field 'weight'"));
  auto wrong = from_json({{"type", "min-length"}, {"value", "ten"}});
  REQUIRE_FALSE(wrong);
  CHECK_THAT(wrong.error().message, Catch::Contains("must be a number"));
}

TEST_CASE("the new assertion types round-trip through their JSON form", "[scoring]") {
  for (const char* spec : {"not-icontains:sorry",
                           "not-equals:x",
                           "not-starts-with:No",
                           "not-regex:\\d+",
                           "contains-any:[\"a\",\"b\"]",
                           "icontains-any:[\"a\"]",
                           "not-contains-all:[\"a\",\"b\"]",
                           "not-icontains-all:[\"x\"]",
                           "contains-json",
                           "is-json:{\"type\":\"object\"}",
                           "contains-json:{\"required\":[\"a\"]}",
                           "not-contains-json",
                           "not-contains-json:{\"required\":[\"a\"]}",
                           "javascript:output.length > 2",
                           "python@0.5:len(output) / 10",
                           "similar@0.8:Paris is the capital",
                           "is-json-strict",
                           "is-json-strict:{\"type\":\"object\"}",
                           "not-is-json",
                           "not-is-json-strict"}) {
    INFO(spec);
    auto a = parse_assertion(spec);
    REQUIRE(a);
    auto back = from_json(nlohmann::json(to_json(*a)));
    REQUIRE(back);
    CHECK(*back == *a);
  }
  auto js = from_json(nlohmann::json::parse(
      R"J({"type":"javascript","value":"module.exports = (o) => o.length > 1;","file":"a.js",
          "threshold":0.5,"vars":{"q":"x"},"config":{"k":1},
          "transform":[{"language":"python","value":"output.strip()"}]})J"));
  REQUIRE(js);
  CHECK(js->script.file == "a.js");
  CHECK(js->pass_score == 0.5);
  CHECK(js->transforms.at(0).language == Language::python);
  CHECK(*from_json(nlohmann::json(to_json(*js))) == *js);
  // Its displayed form shows the transform's code, so that a reviewer sees it change.
  CHECK(to_spec(*js) == "javascript@0.5:file://a.js (after the python transform output.strip())");
  // Strictness is a field of is-json and not-is-json, shown in the command-line form.
  auto strict = parse_assertion("is-json-strict");
  REQUIRE(strict);
  CHECK(strict->type == AssertionType::is_json);
  CHECK(nlohmann::json(to_json(*strict)).dump() == R"({"strict":true,"type":"is-json"})");
  CHECK(to_spec(*strict) == "is-json-strict");
  CHECK(to_spec(*parse_assertion("not-is-json")) == "not-is-json");
  // An assertion without the new fields keeps its JSON form byte for byte.
  auto plain = parse_assertion("icontains:30 days");
  CHECK(to_json(*plain).dump() == R"({"type":"icontains","value":"30 days"})");
}

TEST_CASE("the new assertion types refuse what they cannot check", "[scoring]") {
  CHECK_FALSE(parse_assertion("contains-any:"));
  CHECK_FALSE(parse_assertion("contains-any:[]"));
  CHECK_FALSE(parse_assertion("is-json:{\"type\": 5}"));
  CHECK_FALSE(parse_assertion("is-json:not json"));
  CHECK_FALSE(parse_assertion("not-regex:(unclosed"));
  CHECK_FALSE(parse_assertion("javascript:"));
  CHECK_FALSE(parse_assertion("not-is-json:{}"));
  CHECK_FALSE(parse_assertion("contains-json-strict"));
  CHECK_FALSE(from_json(nlohmann::json::parse(R"({"type":"contains-json","strict":true})")));
  CHECK_FALSE(from_json(nlohmann::json::parse(R"({"type":"contains","value":"a","strict":true})")));
  auto not_bool = from_json(nlohmann::json::parse(R"({"type":"is-json","strict":"yes"})"));
  REQUIRE_FALSE(not_bool);
  CHECK_THAT(not_bool.error().message, Catch::Contains("must be true or false"));
  auto file = parse_assertion("python:file://check.py");
  REQUIRE_FALSE(file);
  CHECK_THAT(file.error().message, Catch::Contains("takes its code inline"));
  CHECK_FALSE(parse_assertion("contains@0.5:x"));
  CHECK_FALSE(parse_assertion("similar@2:x"));
  auto judged = from_json(nlohmann::json::parse(
      R"({"type":"judge","rubric":"polite","transform":[{"value":"output"}]})"));
  CHECK_FALSE(judged);
  auto vars = from_json(nlohmann::json::parse(R"({"type":"contains","value":"a","vars":{}})"));
  REQUIRE_FALSE(vars);
  CHECK_THAT(vars.error().message, Catch::Contains("only programs read vars"));
}

TEST_CASE("the g-eval, answer-relevance and factuality graders read and write their forms",
          "[scoring]") {
  for (std::string spec : std::vector<std::string>{
           "judge/g-eval@0.8:is clear", "judge/answer-relevance@0.5",
           "judge/answer-relevance@0.9:q?", "judge/factuality{A=0,B=0.5,C=1,D=0,E=1}:Paris",
           "judge/factuality:Paris"}) {
    INFO(spec);
    auto a = parse_assertion(spec);
    REQUIRE(a);
    CHECK(to_spec(*a) == spec);
    auto back = from_json(nlohmann::json::parse(to_json(*a).dump()));
    REQUIRE(back);
    CHECK(*back == *a);
  }
  CHECK(to_json(*parse_assertion("judge/g-eval:is clear")).dump() ==
        R"({"type":"judge","grader":"g-eval","rubric":"is clear","threshold":0.7})");
  CHECK(
      to_json(*parse_assertion("judge/factuality{A=0,B=1,C=1,D=0,E=1}:P")).dump() ==
      R"({"type":"judge","grader":"factuality","rubric":"P","categories":[0.0,1.0,1.0,0.0,1.0]})");
  for (auto [spec, why] : std::vector<std::pair<std::string, std::string>>{
           {"judge/closedqa@0.5:x", "takes no threshold"},
           {"judge/g-eval@2:x", "between 0 and 1"},
           {"judge/g-eval:", "needs a rubric"},
           {"judge/factuality{A=1,B=1}:x", "all 5 categories"},
           {"judge/factuality{A=1,B=1,C=1,D=0,E=1,F=1}:x", "more than the 5"},
           {"judge/factuality{B=1,A=1,C=1,D=0,E=1}:x", "in order"},
           {"judge/factuality{A=1,B=1,C=1,D=0,E=1:x", "closed by '}'"},
           {"judge/geval:x", "unknown judge grader"}}) {
    INFO(spec);
    auto r = parse_assertion(spec);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(why));
  }
  auto extra = from_json(
      {{"type", "judge"}, {"grader", "g-eval"}, {"rubric", "x"}, {"categories", {1, 1, 1, 0, 1}}});
  REQUIRE_FALSE(extra);
  CHECK_THAT(extra.error().message, Catch::Contains("takes no category scores"));
}

TEST_CASE("a script keeps the description and metadata of its test, and nothing else there",
          "[scoring]") {
  auto js = from_json(nlohmann::json::parse(
      R"({"type":"javascript","value":"context.test.metadata.k === 1",
          "test":{"description":null,"metadata":{"k":1}}})"));
  REQUIRE(js);
  CHECK(js->test == nlohmann::json::parse(R"({"description":null,"metadata":{"k":1}})"));
  CHECK(*from_json(nlohmann::json(to_json(*js))) == *js);
  for (const char* bad : {R"({"type":"javascript","value":"1","test":{"options":{}}})",
                          R"({"type":"javascript","value":"1","test":{"metadata":[1]}})",
                          R"({"type":"python","value":"1","test":{"description":3}})",
                          R"({"type":"javascript","value":"1","test":"x"})",
                          R"({"type":"contains","value":"a","test":{"metadata":{}}})"}) {
    INFO(bad);
    CHECK_FALSE(from_json(nlohmann::json::parse(bad)));
  }
}
