// The assertions on what a model did with tools: their command-line and JSON forms, and their
// verdicts on an answer's tool calls, with the reasons a person reads.

#include "core/tools.hpp"
#include "scoring/assertion.hpp"
#include "scoring/evaluate.hpp"
#include "scoring/strictness.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::scoring;
using json = nlohmann::json;

namespace {

Assertion parsed(const std::string& spec) {
  INFO(spec);
  auto a = parse_assertion(spec);
  if (!a)
    FAIL(a.error().message);
  return *a;
}

std::string parse_error(const std::string& spec) {
  INFO(spec);
  auto a = parse_assertion(spec);
  REQUIRE_FALSE(a);
  return a.error().message;
}

std::string json_error(const char* text) {
  INFO(text);
  auto a = from_json(json::parse(text));
  REQUIRE_FALSE(a);
  return a.error().message;
}

core::ToolCall call(std::string name, std::string arguments = "{}") {
  return {"call_" + name, std::move(name), std::move(arguments)};
}

Answer answer(std::vector<core::ToolCall> calls, std::string text = "Done.") {
  Answer a{std::move(text), 0, std::nullopt};
  a.tool_calls = std::move(calls);
  return a;
}

// The tools of a support agent, normalized as a case keeps them.
json support_tools() {
  auto tools = core::normalize_tools(json::parse(R"([
    {"type":"function","function":{"name":"lookup_order","parameters":{"type":"object",
      "properties":{"order_id":{"type":"string"}},"required":["order_id"],
      "additionalProperties":false}}},
    {"type":"function","function":{"name":"refund","parameters":{"type":"object",
      "properties":{"amount":{"type":"number","maximum":100}},"required":["amount"]}}}
  ])"));
  REQUIRE(tools);
  return *tools;
}

Outcome check(const std::string& spec, const Answer& ans, const json& tools = {}) {
  EvaluationContext ctx;
  ctx.tools = tools;
  return evaluate(parsed(spec), ans, ctx);
}

} // namespace

TEST_CASE("each tool assertion reads its command-line form and shows it back", "[scoring]") {
  auto called = parsed("tool-called:lookup_order");
  CHECK(called.type == AssertionType::tool_called);
  CHECK(called.text == "lookup_order");
  CHECK(called.number == 1);
  CHECK(parsed("tool-called:lookup_order>=2").number == 2);
  CHECK(parsed("no-tool-call").text.empty());
  CHECK(parsed("no-tool-call:refund").text == "refund");
  auto args = parsed(R"(tool-args:lookup_order={"order_id":"A1"})");
  CHECK(args.text == "lookup_order");
  CHECK(args.value == json{{"order_id", "A1"}});
  CHECK(parsed("tool-args-valid").text.empty());
  CHECK(parsed("tool-args-valid:refund").text == "refund");
  auto seq = parsed("tool-sequence:lookup_order, refund");
  CHECK(seq.values == std::vector<std::string>{"lookup_order", "refund"});
  CHECK(seq.sequence == SequenceMode::in_order);
  CHECK(parsed("tool-sequence:exact:lookup_order").sequence == SequenceMode::exact);
  CHECK(parsed(R"(tool-sequence:["a","b"])").values == std::vector<std::string>{"a", "b"});
  auto f1 = parsed("tool-call-f1:a,b,c");
  CHECK(f1.values == std::vector<std::string>{"a", "b", "c"});
  CHECK(f1.threshold == 1.0); // promptfoo's default: the sets are equal
  CHECK(parsed("tool-call-f1@0.8:a,b").threshold == 0.8);
  CHECK(parsed("max-tool-calls:3").number == 3);

  for (const char* spec :
       {"tool-called:lookup_order", "tool-called:lookup_order>=2", "no-tool-call",
        "no-tool-call:refund", R"(tool-args:lookup_order={"n":[1,2],"order_id":"A1"})",
        "tool-args-valid", "tool-args-valid:refund", "tool-sequence:a,b,a",
        "tool-sequence:exact:a,b", "tool-call-f1@0.5:a,b", "tool-call-f1@1:a",
        "max-tool-calls:0"}) {
    INFO(spec);
    auto a = parsed(spec);
    CHECK(to_spec(a) == spec);
    CHECK(parsed(to_spec(a)) == a);
    auto back = from_json(json(to_json(a)));
    REQUIRE(back);
    CHECK(*back == a);
  }
}

TEST_CASE("each tool assertion has a JSON form with named fields", "[scoring]") {
  CHECK(json(to_json(parsed("tool-called:lookup_order>=2"))).dump() ==
        R"({"min":2,"name":"lookup_order","type":"tool-called"})");
  CHECK(json(to_json(parsed("no-tool-call"))).dump() == R"({"type":"no-tool-call"})");
  auto args = from_json(json::parse(R"({"type":"tool-args","name":"refund","args":{"amount":5}})"));
  REQUIRE(args);
  CHECK(to_spec(*args) == R"(tool-args:refund={"amount":5})");
  auto seq = from_json(json::parse(R"({"type":"tool-sequence","steps":["a","b"],"mode":"exact"})"));
  REQUIRE(seq);
  CHECK(to_spec(*seq) == "tool-sequence:exact:a,b");
  auto loose = from_json(json::parse(R"({"type":"tool-sequence","steps":["a"]})"));
  REQUIRE(loose);
  CHECK(loose->sequence == SequenceMode::in_order);
  auto f1 = from_json(json::parse(R"({"type":"tool-call-f1","values":["a","b"]})"));
  REQUIRE(f1);
  CHECK(f1->threshold == 1.0);
  auto max = from_json(json::parse(R"({"type":"max-tool-calls","value":2})"));
  REQUIRE(max);
  CHECK(to_spec(*max) == "max-tool-calls:2");
  auto called = from_json(json::parse(R"({"type":"tool-called","name":"a"})"));
  REQUIRE(called);
  CHECK(called->number == 1);
}

TEST_CASE("tool assertions refuse what they cannot check, saying why", "[scoring]") {
  CHECK_THAT(parse_error("tool-called"), Catch::Contains("needs a value"));
  CHECK_THAT(parse_error("tool-called:"), Catch::Contains("needs a tool name"));
  CHECK_THAT(parse_error("tool-called:look up"), Catch::Contains("got 'look up'"));
  CHECK_THAT(parse_error("tool-called:a>=0"), Catch::Contains("at least 1"));
  CHECK_THAT(parse_error("tool-called:a>=x"), Catch::Contains("NAME>=COUNT"));
  CHECK_THAT(parse_error("no-tool-call:"), Catch::Contains("takes a tool name after ':'"));
  CHECK_THAT(parse_error("tool-args:lookup_order"), Catch::Contains("NAME={JSON object}"));
  CHECK_THAT(parse_error("tool-args:lookup_order=[1]"), Catch::Contains("as a JSON object"));
  CHECK_THAT(parse_error("tool-args:={}"), Catch::Contains("needs a tool name"));
  CHECK_THAT(parse_error("tool-sequence:"), Catch::Contains("tool names"));
  CHECK_THAT(parse_error("tool-sequence:a,,b"), Catch::Contains("got ''"));
  CHECK_THAT(parse_error("tool-call-f1:a,a"), Catch::Contains("'a' is listed twice"));
  CHECK_THAT(parse_error("tool-call-f1@1.5:a"), Catch::Contains("between 0 and 1"));
  CHECK_THAT(parse_error("tool-called@0.5:a"), Catch::Contains("takes no threshold"));
  CHECK_THAT(parse_error("max-tool-calls:1.5"), Catch::Contains("whole number"));
  CHECK_THAT(parse_error("max-tool-calls:-1"), Catch::Contains("whole number"));

  CHECK_THAT(json_error(R"({"type":"tool-called","value":"a"})"),
             Catch::Contains("unknown field 'value'"));
  CHECK_THAT(json_error(R"({"type":"tool-called","name":"a","transform":[]})"),
             Catch::Contains("unknown field 'transform'"));
  CHECK_THAT(json_error(R"({"type":"tool-args","name":"a"})"), Catch::Contains("needs \"args\""));
  CHECK_THAT(json_error(R"({"type":"tool-args","name":"a","args":"x"})"),
             Catch::Contains("as a JSON object"));
  CHECK_THAT(json_error(R"({"type":"tool-sequence","steps":["a"],"mode":"any"})"),
             Catch::Contains("\"in_order\" or \"exact\""));
  CHECK_THAT(json_error(R"({"type":"tool-sequence","steps":"a"})"),
             Catch::Contains("list of tool names"));
  CHECK_THAT(json_error(R"({"type":"tool-call-f1","values":[]})"),
             Catch::Contains("at least one tool name"));
  CHECK_THAT(json_error(R"({"type":"no-tool-call","name":5})"), Catch::Contains("string"));
  CHECK_THAT(json_error(R"({"type":"no-tool-call","vars":{}})"),
             Catch::Contains("unknown field 'vars'"));
}

TEST_CASE("the type list names every tool assertion", "[scoring]") {
  for (const char* name : {"tool-called", "no-tool-call", "tool-args", "tool-args-valid",
                           "tool-sequence", "tool-call-f1", "max-tool-calls"}) {
    INFO(name);
    CHECK_THAT(type_names(), Catch::Contains(name));
    REQUIRE(parse_type(name));
    CHECK(is_tool_assertion(*parse_type(name)));
  }
  CHECK_FALSE(is_tool_assertion(AssertionType::contains));
}

TEST_CASE("tool-called and no-tool-call count the calls by name", "[scoring]") {
  auto calls = answer({call("lookup_order"), call("refund")});
  CHECK(check("tool-called:refund", calls).passed);
  auto missing = check("tool-called:escalate", calls);
  CHECK_FALSE(missing.passed);
  CHECK(missing.reason == "did not call escalate (calls: lookup_order, refund)");
  auto twice = check("tool-called:refund>=2", calls);
  CHECK_FALSE(twice.passed);
  CHECK_THAT(twice.reason, Catch::Contains("called refund 1 time (needs at least 2)"));
  CHECK(check("tool-called:refund>=2", answer({call("refund"), call("refund")})).passed);

  CHECK(check("no-tool-call", answer({})).passed);
  auto some = check("no-tool-call", calls);
  CHECK_FALSE(some.passed);
  CHECK(some.reason == "made 2 tool calls (calls: lookup_order, refund)");
  CHECK(check("no-tool-call:escalate", calls).passed);
  auto refunded = check("no-tool-call:refund", calls);
  CHECK_FALSE(refunded.passed);
  CHECK_THAT(refunded.reason, Catch::Contains("called refund 1 time"));
}

TEST_CASE("tool assertions read the calls, and text assertions the final text", "[scoring]") {
  auto ans = answer({call("refund", R"({"amount":5})")}, "Your refund is on its way.");
  CHECK(check("contains:refund is on its way", ans).passed);
  CHECK_FALSE(check("contains:amount", ans).passed);
  CHECK(check("tool-called:refund", ans).passed);
  // evaluate() without a context evaluates them too.
  CHECK(evaluate(parsed("tool-called:refund"), ans).passed);
  CHECK_FALSE(evaluate(parsed("no-tool-call"), ans).passed);
}

TEST_CASE("tool-args passes when a call's arguments hold the object", "[scoring]") {
  auto ans = answer({call("lookup_order", R"({"order_id":"B2"})"),
                     call("lookup_order", R"({"order_id":"A1","opts":{"full":true,"n":1}})")});
  CHECK(check(R"(tool-args:lookup_order={"order_id":"A1"})", ans).passed);
  CHECK(check(R"(tool-args:lookup_order={"opts":{"n":1.0}})", ans).passed);
  CHECK(check("tool-args:lookup_order={}", ans).passed);
  auto wrong = check(R"(tool-args:lookup_order={"order_id":"C3"})", ans);
  CHECK_FALSE(wrong.passed);
  CHECK_THAT(wrong.reason, Catch::Contains("no call to lookup_order has arguments holding "
                                           "{\"order_id\":\"C3\"}"));
  CHECK_THAT(wrong.reason, Catch::Contains("{\"order_id\":\"B2\"}"));
  // Arrays are compared whole: a part of a list is not the list.
  auto list = answer({call("tag", R"({"tags":["a","b"]})")});
  CHECK(check(R"(tool-args:tag={"tags":["a","b"]})", list).passed);
  CHECK_FALSE(check(R"(tool-args:tag={"tags":["a"]})", list).passed);
  // Arguments that are not JSON hold nothing.
  auto broken = check(R"(tool-args:tag={})", answer({call("tag", "{oops")}));
  CHECK_FALSE(broken.passed);
  CHECK_THAT(broken.reason, Catch::Contains("(not JSON) {oops"));
  auto none = check(R"(tool-args:refund={"amount":5})", answer({call("lookup_order")}));
  CHECK_FALSE(none.passed);
  CHECK_THAT(none.reason, Catch::Contains("did not call refund"));
}

TEST_CASE("json_subset is recursive for objects and exact for the rest", "[scoring]") {
  auto v = json::parse(R"({"a":{"b":1,"c":[1,{"d":2}]},"e":"x"})");
  CHECK(json_subset(json::object(), v));
  CHECK(json_subset(json::parse(R"({"a":{"c":[1,{"d":2}]}})"), v));
  CHECK_FALSE(json_subset(json::parse(R"({"a":{"c":[1,{}]}})"), v));
  CHECK_FALSE(json_subset(json::parse(R"({"e":"x","f":null})"), v));
  CHECK_FALSE(json_subset(json::parse(R"({"a":1})"), v));
  CHECK(json_subset(json(3), json(3.0)));
}

TEST_CASE("tool-args-valid checks the arguments against the tools' schemas", "[scoring]") {
  auto tools = support_tools();
  auto good =
      answer({call("lookup_order", R"({"order_id":"A1"})"), call("refund", R"({"amount":5})")});
  auto ok = check("tool-args-valid", good, tools);
  CHECK(ok.passed);
  CHECK(ok.reason == "the arguments of all 2 tool calls conform to their tools' schemas");

  auto extra =
      check("tool-args-valid", answer({call("lookup_order", R"({"order_id":"A1","x":1})")}), tools);
  CHECK_FALSE(extra.passed);
  CHECK_THAT(extra.reason, Catch::Contains("call 1 (lookup_order): its arguments do not conform"));

  auto too_much = check(
      "tool-args-valid",
      answer({call("lookup_order", R"({"order_id":"A1"})"), call("refund", R"({"amount":500})")}),
      tools);
  CHECK_FALSE(too_much.passed);
  CHECK_THAT(too_much.reason, Catch::Contains("call 2 (refund)"));

  auto not_json = check("tool-args-valid", answer({call("refund", "{amount: 5}")}), tools);
  CHECK_FALSE(not_json.passed);
  CHECK_THAT(not_json.reason, Catch::Contains("not valid JSON: {amount: 5}"));

  auto unknown = check("tool-args-valid", answer({call("delete_account")}), tools);
  CHECK_FALSE(unknown.passed);
  CHECK_THAT(unknown.reason, Catch::Contains("no tool named delete_account is defined (tools: "
                                             "lookup_order, refund)"));

  // As promptfoo's is-valid-openai-tools-call, no call at all is not a valid tools call.
  auto none = check("tool-args-valid", answer({}), tools);
  CHECK_FALSE(none.passed);
  CHECK(none.reason == "made no tool call to validate");
  auto no_tools = check("tool-args-valid", good, json());
  CHECK_FALSE(no_tools.passed);
  CHECK_THAT(no_tools.reason, Catch::Contains("defines no tools"));
}

TEST_CASE("tool-args-valid:NAME checks only that tool's calls, and needs one", "[scoring]") {
  auto tools = support_tools();
  auto mixed = answer({call("lookup_order", "{}"), call("refund", R"({"amount":5})")});
  CHECK_FALSE(check("tool-args-valid", mixed, tools).passed); // order_id is required
  auto refund = check("tool-args-valid:refund", mixed, tools);
  CHECK(refund.passed);
  CHECK(refund.reason == "the arguments of 1 call to refund conform to its schema");
  auto absent = check("tool-args-valid:refund", answer({call("lookup_order", "{}")}), tools);
  CHECK_FALSE(absent.passed);
  CHECK_THAT(absent.reason, Catch::Contains("did not call refund, so no arguments were validated"));
}

TEST_CASE("tool-sequence finds its steps in order, or exactly", "[scoring]") {
  auto ans = answer({call("lookup_order"), call("search"), call("refund"), call("notify")});
  CHECK(check("tool-sequence:lookup_order,refund", ans).passed);
  auto reversed = check("tool-sequence:refund,lookup_order", ans);
  CHECK_FALSE(reversed.passed);
  CHECK_THAT(reversed.reason, Catch::Contains("did not call lookup_order after refund"));
  auto absent = check("tool-sequence:escalate", ans);
  CHECK_FALSE(absent.passed);
  CHECK_THAT(absent.reason, Catch::Contains("did not call escalate, the first of escalate"));
  // A repeated step needs a repeated call.
  CHECK_FALSE(check("tool-sequence:refund,refund", ans).passed);

  CHECK(check("tool-sequence:exact:lookup_order,search,refund,notify", ans).passed);
  auto loose = check("tool-sequence:exact:lookup_order,refund", ans);
  CHECK_FALSE(loose.passed);
  CHECK(loose.reason == "expected exactly lookup_order, refund (calls: lookup_order, search, "
                        "refund, notify)");
}

TEST_CASE("tool-call-f1 scores the set of called names as promptfoo does", "[scoring]") {
  // Called {a, b, c} for expected {a, b}: precision 2/3, recall 1, F1 0.8.
  auto ans = answer({call("a"), call("b"), call("c"), call("a")});
  auto strict = check("tool-call-f1:a,b", ans);
  CHECK_FALSE(strict.passed);
  REQUIRE(strict.score);
  CHECK(*strict.score == Approx(0.8));
  CHECK(strict.reason == "tool call F1 0.800 (needs 1; precision 0.667, recall 1.000): expected "
                         "[a, b], called [a, b, c]");
  CHECK(check("tool-call-f1@0.8:a,b", ans).passed);
  CHECK(check("tool-call-f1:c,b,a", ans).passed); // order and repeats do not count
  auto none = check("tool-call-f1@0.1:a", answer({}));
  CHECK_FALSE(none.passed);
  CHECK(*none.score == 0);
  CHECK_THAT(none.reason, Catch::Contains("called [(none)]"));
}

TEST_CASE("max-tool-calls bounds the number of calls", "[scoring]") {
  CHECK(check("max-tool-calls:2", answer({call("a"), call("a")})).passed);
  auto over = check("max-tool-calls:2", answer({call("a"), call("b"), call("a")}));
  CHECK_FALSE(over.passed);
  CHECK(over.reason == "made 3 tool calls (at most 2)");
  CHECK(check("max-tool-calls:0", answer({})).passed);
}

TEST_CASE("max-steps bounds an agent's trajectory, a model's answer is one step", "[scoring]") {
  auto a = parsed("max-steps:4");
  CHECK(a.type == AssertionType::max_steps);
  CHECK(to_spec(a) == "max-steps:4");
  CHECK(to_json(a).dump() == R"({"type":"max-steps","value":4})");
  auto back = from_json(json::parse(R"({"type":"max-steps","value":4})"));
  REQUIRE(back);
  CHECK(*back == a);
  CHECK_THAT(parse_error("max-steps"), Catch::Contains("needs a value"));
  CHECK_THAT(parse_error("max-steps:-1"), Catch::Contains("max-steps"));

  Answer agent = answer({call("lookup_order")});
  agent.steps = 4;
  CHECK(check("max-steps:4", agent).passed);
  agent.steps = 5;
  auto over = check("max-steps:4", agent);
  CHECK_FALSE(over.passed);
  CHECK(over.reason == "took 5 steps (at most 4)");
  auto model = check("max-steps:1", answer({}));
  CHECK(model.passed);
  CHECK(model.reason == "took 1 step (at most 1)");
  CHECK_FALSE(check("max-steps:0", answer({})).passed);
}

TEST_CASE("a lower max-steps is stricter and a higher one is not", "[scoring]") {
  CHECK(stricter_or_equal(parsed("max-steps:3"), parsed("max-steps:5")) == true);
  CHECK(stricter_or_equal(parsed("max-steps:5"), parsed("max-steps:5")) == true);
  CHECK(stricter_or_equal(parsed("max-steps:6"), parsed("max-steps:5")) == false);
  CHECK(stricter_or_equal(parsed("max-tool-calls:1"), parsed("max-steps:5")) == false);
}

TEST_CASE("a two-call or scored judge is as strict only with the same grader and rubric and no "
          "lower bar",
          "[scoring]") {
  CHECK(stricter_or_equal(parsed("judge/g-eval@0.8:clear"), parsed("judge/g-eval@0.7:clear")) ==
        true);
  CHECK(stricter_or_equal(parsed("judge/g-eval@0.6:clear"), parsed("judge/g-eval@0.7:clear")) ==
        false);
  CHECK(stricter_or_equal(parsed("judge/g-eval@0.9:short"), parsed("judge/g-eval@0.7:clear")) ==
        false);
  CHECK(stricter_or_equal(parsed("judge/answer-relevance@0.4:"),
                          parsed("judge/answer-relevance@0.5:")) == false);
  // Fewer passing categories is stricter; a category that newly passes weakens it.
  CHECK(stricter_or_equal(parsed("judge/factuality{A=0,B=1,C=1,D=0,E=1}:P"),
                          parsed("judge/factuality:P")) == true);
  CHECK(stricter_or_equal(parsed("judge/factuality{A=1,B=1,C=1,D=0.5,E=1}:P"),
                          parsed("judge/factuality:P")) == false);
}
