#include "interop/export.hpp"
#include "interop/promptfoo_assert.hpp"
#include "support/suite_fixture.hpp"

#include <sstream>

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
  // promptfoo's is-json is JSON.parse of the whole answer: a fenced answer is not JSON.
  CHECK(specs({{"type", "is-json"}}) == V{"is-json-strict"});
  CHECK(specs({{"type", "not-is-json"}}) == V{"not-is-json-strict"});
  CHECK(specs({{"type", "latency"}, {"threshold", 500}}) == V{"max-latency-ms:500"});
  CHECK(specs({{"type", "cost"}, {"threshold", 0.002}}) == V{"max-cost:0.002"});
  CHECK(specs({{"type", "llm-rubric"}, {"value", "Is polite"}, {"threshold", 0.8}}) ==
        V{"judge@0.8:Is polite"});
  CHECK(specs({{"type", "llm-rubric"}, {"value", "Is polite"}}) == V{"judge@0.7:Is polite"});
  CHECK(specs({{"type", "contains-all"}, {"value", {"a", "b"}}}) == V{"contains:a", "contains:b"});
  CHECK(specs({{"type", "icontains-all"}, {"value", "a, b"}}) == V{"icontains:a", "icontains:b"});
  CHECK(specs({{"type", "contains-any"}, {"value", {"a.b", "c"}}}) ==
        V{R"(contains-any:["a.b","c"])"});
  CHECK(specs({{"type", "icontains-any"}, {"value", "x, y"}}) == V{R"(icontains-any:["x","y"])"});
}

TEST_CASE("promptfoo's negated and list string checks and JSON schemas come over exactly",
          "[interop]") {
  using V = std::vector<std::string>;
  CHECK(specs({{"type", "not-equals"}, {"value", "No"}}) == V{"not-equals:No"});
  CHECK(specs({{"type", "not-equals"}, {"value", 4}}) == V{"not-equals:4"});
  CHECK(specs({{"type", "not-icontains"}, {"value", "SORRY"}}) == V{"not-icontains:SORRY"});
  CHECK(specs({{"type", "not-starts-with"}, {"value", "No"}}) == V{"not-starts-with:No"});
  CHECK(specs({{"type", "not-regex"}, {"value", "\\d{3}"}}) == V{"not-regex:\\d{3}"});
  CHECK(specs({{"type", "not-contains-all"}, {"value", {"a", "b"}}}) ==
        V{R"(not-contains-all:["a","b"])"});
  CHECK(specs({{"type", "not-icontains-all"}, {"value", {"A"}}}) ==
        V{R"(not-icontains-all:["A"])"});
  // None of them: each one absent.
  CHECK(specs({{"type", "not-contains-any"}, {"value", {"a", "b"}}}) ==
        V{"not-contains:a", "not-contains:b"});
  CHECK(specs({{"type", "not-icontains-any"}, {"value", "x,y"}}) ==
        V{"not-icontains:x", "not-icontains:y"});
  CHECK(specs({{"type", "is-json"}, {"value", {{"type", "object"}, {"required", {"id"}}}}}) ==
        V{R"(is-json-strict:{"required":["id"],"type":"object"})"});
  CHECK(specs({{"type", "is-json"}, {"value", R"({"type": "array"})"}}) ==
        V{R"(is-json-strict:{"type":"array"})"});
  CHECK(specs({{"type", "contains-json"}}) == V{"contains-json"});
  CHECK(specs({{"type", "not-contains-json"}, {"value", {{"required", {"id"}}}}}) ==
        V{R"(not-contains-json:{"required":["id"]})"});
  CHECK(specs({{"type", "contains-json"}, {"value", {{"required", {"id"}}}}}) ==
        V{R"(contains-json:{"required":["id"]})"});
}

TEST_CASE("promptfoo assertions without an exact counterpart are refused with the reason",
          "[interop]") {
  struct Case {
    json assertion;
    std::string reason;
  };
  for (const auto& [a, reason] : std::vector<Case>{
           {{{"type", "python"}, {"value", "context['prompt'] in output"}}, "the prompt is a chat"},
           {{{"type", "javascript"}, {"value", "check(output, context)"}}, "context as a whole"},
           {{{"type", "javascript"}, {"value", "file://checks.js:refund"}}, "read from a file"},
           {{{"type", "javascript"}, {"value", 12}}, "needs its code as text"},
           {{{"type", "ruby"}, {"value", "true"}}, "no assertion like"},
           {{{"type", "not-is-json"}, {"value", {{"type", "object"}}}},
            "validates the schema against no value"},
           {{{"type", "is-json"}, {"value", "type: object"}}, "must be a JSON Schema"},
           {{{"type", "is-json"}, {"value", {{"type", 12}}}}, "invalid JSON Schema"},
           {{{"type", "contains-json"}, {"value", {{"$ref", "https://example.com/s.json"}}}},
            "fetches nothing"},
           {{{"type", "contains-any"}, {"value", json::array()}}, "at least one value"},
           {{{"type", "is-json"}, {"value", {{"properties", {{"a", {{"const", "{{x}}"}}}}}}}},
            "template syntax"},
           {{{"type", "similar"}, {"value", {"a", "b"}}}, "compares one text"},
           {{{"type", "equals"}, {"value", {{"a", 1}}}}, "JSON value"},
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

TEST_CASE("promptfoo's similar maps to similar with its threshold and embedding model",
          "[interop]") {
  using V = std::vector<std::string>;
  CHECK(specs({{"type", "similar"}, {"value", "Paris is the capital"}}) ==
        V{"similar@0.75:Paris is the capital"}); // promptfoo's default threshold
  CHECK(specs({{"type", "similar:cosine"}, {"value", "x"}, {"threshold", 0.9}}) ==
        V{"similar@0.9:x"});
  auto model = from_promptfoo({{"type", "similar"},
                               {"value", "x"},
                               {"provider", "openai:embedding:text-embedding-3-small"}});
  REQUIRE(model);
  CHECK(model->at(0).model == "text-embedding-3-small");
  auto by_id = from_promptfoo({{"type", "similar"},
                               {"value", "x"},
                               {"provider", {{"id", "openai:embeddings:text-embedding-ada-002"}}}});
  REQUIRE(by_id);
  CHECK(by_id->at(0).model == "text-embedding-ada-002");
  // Written back as promptfoo reads it, and read again as the same assertion.
  auto back = to_promptfoo(model->at(0));
  REQUIRE(back);
  CHECK(back->dump() == R"({"type":"similar","value":"x","threshold":0.75,)"
                        R"("provider":"openai:embedding:text-embedding-3-small"})");
  auto again = from_promptfoo(json::parse(back->dump()));
  REQUIRE(again);
  CHECK(again->at(0) == model->at(0));
  CHECK(to_promptfoo(*scoring::parse_assertion("similar@0.8:{{x}}"))->dump() ==
        R"({"type":"similar","value":"{% raw %}{{x}}{% endraw %}","threshold":0.8})");
}

TEST_CASE("similar forms and model-graded types without an exact counterpart are refused saying "
          "why",
          "[interop]") {
  struct Case {
    json a;
    std::string reason;
  };
  for (const auto& [a, reason] : std::vector<Case>{
           {{{"type", "similar:dot"}, {"value", "x"}}, "not their dot product"},
           {{{"type", "similar:euclidean"}, {"value", "x"}}, "not their distance"},
           {{{"type", "not-similar"}, {"value", "x"}}, "no negated similar"},
           {{{"type", "similar"},
             {"value", "x"},
             {"provider", "huggingface:sentence-similarity:m"}},
            "keeps only the model"},
           {{{"type", "similar"}, {"value", "x"}, {"transform", "output.trim()"}},
            "embeds the answer as it is"},
           {{{"type", "model-graded-closedqa"}, {"value", "is polite"}, {"config", {{"a", 1}}}},
            "\"config\" of an assertion"},
           {{{"type", "factuality"}, {"value", json::array({"Paris"})}},
            "reference answer as text"},
           {{{"type", "model-graded-closedqa"}}, "criterion as text"},
           {{{"type", "factuality"}, {"value", "Paris"}, {"transform", "output.trim()"}},
            "a factuality after a transform"},
           {{{"type", "not-factuality"}, {"value", "Paris"}}, "no negated judge"},
           {{{"type", "g-eval"}, {"value", json::array({"is clear", "is short"})}},
            "write one g-eval for each"},
           {{{"type", "not-g-eval"}, {"value", "is clear"}}, "no negated judge"},
           {{{"type", "answer-relevance"}}, "give the test a `query` var"},
           {{{"type", "g-eval"}, {"value", "is clear"}, {"threshold", 7}}, "between 0 and 1"},
       }) {
    auto r = from_promptfoo(a);
    INFO(a.dump());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(reason));
  }
}

TEST_CASE("promptfoo's factuality and model-graded-closedqa come over as judges with their "
          "graders, and go back as promptfoo's types",
          "[interop]") {
  using V = std::vector<std::string>;
  CHECK(specs({{"type", "factuality"}, {"value", "Paris is the capital"}}) ==
        V{"judge/factuality:Paris is the capital"});
  CHECK(specs({{"type", "model-graded-factuality"}, {"value", "Paris"}}) ==
        V{"judge/factuality:Paris"});
  // promptfoo reads no threshold of theirs: the grader's category or Y/N is the verdict.
  CHECK(specs({{"type", "model-graded-closedqa"}, {"value", "is polite"}, {"threshold", 0.9}}) ==
        V{"judge/closedqa:is polite"});
  for (const auto& [spec, type] : std::vector<std::pair<std::string, std::string>>{
           {"judge/factuality:Paris", "factuality"},
           {"judge/closedqa:is polite", "model-graded-closedqa"}}) {
    auto a = scoring::parse_assertion(spec);
    REQUIRE(a);
    auto j = to_promptfoo(*a);
    REQUIRE(j);
    CHECK((*j)["type"] == type);
    CHECK_FALSE(j->contains("threshold"));
    CHECK(specs(json::parse(j->dump())) == V{spec});
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
  CHECK_FALSE(pf("not-regex:(?i)x"));               // no flag to carry the (?i)
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

TEST_CASE("the negated, list, schema and tool checks go to promptfoo and come back identical",
          "[interop]") {
  for (const char* spec :
       {"not-equals:No", "not-icontains:sorry", "not-starts-with:No", "not-regex:\\d{3}",
        R"(contains-any:["a","b"])", R"(icontains-any:["a"])", R"(not-contains-all:["a"])",
        R"(not-icontains-all:["x","y"])", "is-json-strict", R"(is-json-strict:{"type":"object"})",
        "not-is-json-strict", "contains-json", R"(contains-json:{"required":["id"]})",
        "tool-args-valid", R"(not-contains-json:{"required":["id"]})", "tool-call-f1@1:search,book",
        "tool-call-f1@0.5:a"}) {
    INFO(spec);
    auto a = scoring::parse_assertion(spec);
    REQUIRE(a);
    auto pf = to_promptfoo(*a);
    REQUIRE(pf);
    auto back = from_promptfoo(json::parse(pf->dump()));
    REQUIRE(back);
    REQUIRE(back->size() == 1);
    CHECK(back->front() == *a);
  }
  // evalkeep's is-json reads inside a Markdown fence too, which promptfoo's does not: it goes as
  // JavaScript that does the same (with a schema it has no counterpart).
  for (const char* spec : {"is-json", "not-is-json"}) {
    INFO(spec);
    auto pf = to_promptfoo(*scoring::parse_assertion(spec));
    REQUIRE(pf);
    CHECK((*pf)["type"] == "javascript");
    CHECK_THAT((*pf)["value"].get<std::string>(), Catch::Contains("s.lastIndexOf('```')"));
  }
  CHECK_FALSE(to_promptfoo(*scoring::parse_assertion(R"(is-json:{"type":"object"})")));
  // Texts that look like templates are kept literal, as for the other checks.
  auto braces = scoring::parse_assertion(R"(icontains-any:["{{a}}","b"])");
  REQUIRE(braces);
  CHECK(to_promptfoo(*braces)->dump() ==
        R"({"type":"icontains-any","value":["{% raw %}{{a}}{% endraw %}","b"]})");
  // A schema promptfoo would read as a template, and an assertion behind an inline Python
  // transform (promptfoo's inline transforms are JavaScript) or two of them, stay here.
  auto templated = scoring::parse_assertion(R"(is-json-strict:{"description":"{{x}}"})");
  REQUIRE(templated);
  CHECK_FALSE(to_promptfoo(*templated));
  auto transformed = scoring::parse_assertion("contains:a");
  REQUIRE(transformed);
  transformed->transforms.push_back({scoring::Language::javascript, "output.trim()", "", ""});
  CHECK(to_promptfoo(*transformed)->dump() ==
        R"x({"type":"contains","value":"a","transform":"output.trim()"})x");
  transformed->transforms.push_back({scoring::Language::javascript, "output + 'x'", "", ""});
  CHECK_FALSE(to_promptfoo(*transformed));
  transformed->transforms = {{scoring::Language::python, "output.strip()", "", ""}};
  CHECK_FALSE(to_promptfoo(*transformed));
}

TEST_CASE("promptfoo's inline javascript and python assertions come over with what they read",
          "[interop]") {
  using V = std::vector<std::string>;
  CHECK(specs({{"type", "javascript"}, {"value", "output.length < 10"}}) ==
        V{"javascript:output.length < 10"});
  CHECK(specs({{"type", "python"}, {"value", "len(output) / 10"}, {"threshold", 0.5}}) ==
        V{"python@0.5:len(output) / 10"});
  // Code that reads context.vars keeps the test's vars; context.config is the assertion's config.
  json vars{{"days", 30}};
  auto reads = from_promptfoo({{"type", "javascript"},
                               {"value", "output.includes(context.vars.days + ' days')"},
                               {"config", {{"strict", true}}}},
                              vars);
  REQUIRE(reads);
  CHECK(reads->front().vars == vars);
  CHECK(reads->front().config == json{{"strict", true}});
  auto plain = from_promptfoo({{"type", "python"}, {"value", "'30' in output"}}, vars);
  REQUIRE(plain);
  CHECK(plain->front().vars.is_null());
  CHECK(from_promptfoo({{"type", "python"}, {"value", "context.get('vars')['x'] in output"}}));
  CHECK(from_promptfoo({{"type", "javascript"}, {"value", "mycontext.prompt === output"}}));
  // The CSV shorthand for a script file keeps the reference, which is refused, not run as code.
  auto file = from_promptfoo(assertion_from_cell("file://checks/refund.py"));
  REQUIRE_FALSE(file);
  CHECK_THAT(file.error().message, Catch::Contains("read from a file"));
}

TEST_CASE("inline scripts that read no context go to promptfoo and come back identical",
          "[interop]") {
  for (const char* spec : {"javascript:output.length > 2", "python@0.5:len(output) / 10",
                           "javascript:const n = output.length;\nreturn n > 2;\n"}) {
    INFO(spec);
    auto a = scoring::parse_assertion(spec);
    REQUIRE(a);
    auto pf = to_promptfoo(*a);
    REQUIRE(pf);
    auto back = from_promptfoo(json::parse(pf->dump()));
    REQUIRE(back);
    CHECK(back->front() == *a);
  }
  // promptfoo would give such code the exported test's vars, not the ones it had here.
  auto reads = scoring::parse_assertion("javascript:context.vars.x === output");
  REQUIRE(reads);
  CHECK_FALSE(to_promptfoo(*reads));
}

TEST_CASE(
    "scripts reading context.prompt or context.test.vars come over, and the rest of the context "
    "is refused by name",
    "[interop]") {
  json vars{{"days", 30}};
  json a{{"type", "javascript"},
         {"value", "context.prompt.includes('refund') && output.includes(context.test.vars.days)"}};
  // context.prompt is the case's input only when the prompt is text.
  auto text = from_promptfoo(a, vars, {}, ScriptSources{nullptr, true});
  REQUIRE(text);
  CHECK(text->front().vars == vars);
  auto chat = from_promptfoo(a, vars, {}, ScriptSources{nullptr, false});
  REQUIRE_FALSE(chat);
  CHECK_THAT(chat.error().message, Catch::Contains("the prompt is a chat"));
  // What evalkeep does not give is named.
  for (auto [code, named] : std::vector<std::pair<std::string, std::string>>{
           {"context.logProbs.length > 0", "context.logProbs.length"},
           {"context.provider.id() === 'x'", "context.provider.id"},
           {"context.test.options.x === 1", "context.test.options.x"},
           {"JSON.stringify(context).length > 0", "context as a whole"}}) {
    auto r = from_promptfoo({{"type", "javascript"}, {"value", code}}, vars, {},
                            ScriptSources{nullptr, true});
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("reads " + named));
  }
  // Exported, code reading the prompt of a text prompt stays as it is.
  auto reads_prompt = scoring::parse_assertion("python:'refund' in context['prompt']");
  REQUIRE(reads_prompt);
  CHECK(to_promptfoo(*reads_prompt, true));
  CHECK_FALSE(to_promptfoo(*reads_prompt, false));
}

TEST_CASE("scripts reading the test's description or metadata keep them, less the case's own "
          "metadata keys",
          "[interop]") {
  ScriptSources sources{nullptr, true, "Refund window",
                        json{{"topic", "refunds"}, {"case_id", "refund-window"}, {"tags", "a"}}};
  auto both = from_promptfoo(
      {{"type", "javascript"},
       {"value", "context.test.description === 'x' && context.test.metadata.topic === 'y'"}},
      {}, {}, sources);
  REQUIRE(both);
  CHECK(both->front().test ==
        json{{"description", "Refund window"}, {"metadata", {{"topic", "refunds"}}}});
  // Only what the code reads; a test without a description gives null.
  auto python =
      from_promptfoo({{"type", "python"}, {"value", "context['test']['description'] is None"}}, {},
                     {}, ScriptSources{nullptr, true, {}, json::object()});
  REQUIRE(python);
  CHECK(python->front().test == json{{"description", nullptr}});
  auto plain =
      from_promptfoo({{"type", "javascript"}, {"value", "output.length > 0"}}, {}, {}, sources);
  REQUIRE(plain);
  CHECK(plain->front().test.is_null());
  // The case's own keys are not given: code naming one the metadata holds is refused.
  auto tags =
      from_promptfoo({{"type", "javascript"}, {"value", "context.test.metadata.tags.length > 0"}},
                     {}, {}, sources);
  REQUIRE_FALSE(tags);
  CHECK_THAT(tags.error().message, Catch::Contains("names \"tags\""));
  // A transform is given neither.
  auto transform = from_promptfoo({{"type", "contains"}, {"value", "x"}}, {},
                                  json("output + context.test.metadata.topic"), sources);
  REQUIRE_FALSE(transform);
  CHECK_THAT(transform.error().message, Catch::Contains("context.test.metadata"));
  // Exported, the program goes with what it kept; without it, promptfoo would give others.
  CHECK(to_promptfoo(both->front(), true));
  auto unkept = both->front();
  unkept.test = json();
  CHECK_FALSE(to_promptfoo(unkept, true));
}

TEST_CASE("a model-graded assertion's provider is accepted and not kept, similar's still maps its "
          "model",
          "[interop]") {
  for (const char* type :
       {"llm-rubric", "factuality", "model-graded-factuality", "model-graded-closedqa"}) {
    INFO(type);
    CHECK(graded_by_model(type));
    for (const json& provider :
         {json("openai:chat:gpt-4o"),
          json{{"id", "openai:chat:gpt-4o"}, {"config", {{"temperature", 0}}}}}) {
      auto with = from_promptfoo({{"type", type}, {"value", "polite"}, {"provider", provider}});
      auto without = from_promptfoo({{"type", type}, {"value", "polite"}});
      REQUIRE(with);
      REQUIRE(without);
      CHECK(*with == *without);
      CHECK(grading_provider_name(provider) == "openai:chat:gpt-4o");
    }
  }
  CHECK_FALSE(graded_by_model("similar"));
  auto similar = from_promptfoo({{"type", "similar"},
                                 {"value", "Paris"},
                                 {"provider", "openai:embedding:text-embedding-3-small"}});
  REQUIRE(similar);
  CHECK(similar->front().model == "text-embedding-3-small");
  CHECK(grading_provider_name(json{{"text", "x"}}) == R"({"text":"x"})");
}

TEST_CASE("a test's options.transform and an assertion's transform run in front of its check",
          "[interop]") {
  json test_transform = "output.trim()";
  auto both = from_promptfoo(
      {{"type", "equals"}, {"value", "HELLO"}, {"transform", "output.toUpperCase()"}}, {},
      test_transform);
  REQUIRE(both);
  REQUIRE(both->front().transforms.size() == 2);
  CHECK(both->front().transforms[0].code == "output.trim()");
  CHECK(both->front().transforms[1].code == "output.toUpperCase()");
  CHECK(both->front().vars.is_null());
  // A transform that reads the test's vars keeps them.
  json vars{{"suffix", "!"}};
  auto reads = from_promptfoo({{"type", "contains"}, {"value", "x!"}}, vars,
                              json("output + context.vars.suffix"));
  REQUIRE(reads);
  CHECK(reads->front().vars == vars);

  struct Case {
    json assertion, test_transform;
    std::string reason;
  };
  for (const auto& [a, tt, reason] : std::vector<Case>{
           {{{"type", "llm-rubric"}, {"value", "polite"}}, "output.trim()", "judge grades"},
           {{{"type", "contains"}, {"value", "x"}, {"transform", "file://t.js"}},
            {},
            "from a file"},
           {{{"type", "contains"}, {"value", "x"}}, "context.prompt + output", "context.prompt"},
           {{{"type", "contains"}, {"value", "x"}}, 12, "written as text"},
       }) {
    INFO(a.dump() << " after " << tt.dump());
    auto r = from_promptfoo(a, {}, tt);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(reason));
  }
}

TEST_CASE("has_counterpart names exactly the promptfoo types from_promptfoo maps", "[interop]") {
  for (const char* type : {"equals",
                           "contains",
                           "icontains",
                           "not-contains",
                           "starts-with",
                           "regex",
                           "not-equals",
                           "not-icontains",
                           "not-starts-with",
                           "not-regex",
                           "contains-all",
                           "icontains-all",
                           "contains-any",
                           "icontains-any",
                           "not-contains-all",
                           "not-icontains-all",
                           "not-contains-any",
                           "not-icontains-any",
                           "is-json",
                           "contains-json",
                           "not-contains-json",
                           "latency",
                           "cost",
                           "llm-rubric",
                           "javascript",
                           "python",
                           "similar",
                           "ruby",
                           "factuality",
                           "g-eval",
                           "not-is-json",
                           "levenshtein",
                           "webhook",
                           "select-best"}) {
    INFO(type);
    auto r = from_promptfoo({{"type", type}, {"value", "x"}, {"threshold", 1}});
    bool unknown = !r && r.error().message.find("no assertion like") != std::string::npos;
    CHECK(has_counterpart(type) == !unknown);
  }
}

// ---- assertions on tool calls ----

TEST_CASE("promptfoo's tool call assertions come over to their evalkeep counterparts",
          "[interop]") {
  using V = std::vector<std::string>;
  // is-valid-openai-tools-call checks every call against the tools; it takes no value.
  CHECK(specs({{"type", "is-valid-openai-tools-call"}}) == V{"tool-args-valid"});
  // tool-call-f1: a list or a comma-separated text, trimmed, each name once; threshold 1 unless
  // given, as promptfoo's default.
  CHECK(specs({{"type", "tool-call-f1"}, {"value", {"search", "book"}}}) ==
        V{"tool-call-f1@1:search,book"});
  CHECK(specs({{"type", "tool-call-f1"}, {"value", " search, book,,search"}, {"threshold", 0.5}}) ==
        V{"tool-call-f1@0.5:search,book"});
  CHECK(specs({{"type", "trajectory:tool-used"}, {"value", "search"}}) == V{"tool-called:search"});
  CHECK(specs({{"type", "trajectory:tool-used"}, {"value", {"search", "book"}}}) ==
        V{"tool-called:search", "tool-called:book"});
  CHECK(specs({{"type", "trajectory:tool-used"}, {"value", {{"name", "search"}, {"min", 2}}}}) ==
        V{"tool-called:search>=2"});
  CHECK(specs({{"type", "trajectory:tool-used"}, {"value", {{"name", "refund"}, {"max", 0}}}}) ==
        V{"no-tool-call:refund"});
  CHECK(specs({{"type", "not-trajectory:tool-used"}, {"value", {"send_email", "delete"}}}) ==
        V{"no-tool-call:send_email", "no-tool-call:delete"});
  // trajectory:tool-sequence is in order unless its mode says exact.
  CHECK(specs({{"type", "trajectory:tool-sequence"}, {"value", {"search", "book"}}}) ==
        V{"tool-sequence:search,book"});
  CHECK(specs({{"type", "trajectory:tool-sequence"},
               {"value", {{"mode", "exact"}, {"steps", {"get_weather"}}}}}) ==
        V{"tool-sequence:exact:get_weather"});
  CHECK(specs(json::parse(R"({"type":"trajectory:tool-args-match",
      "value":{"name":"lookup_order","args":{"order_id":"A1","opts":{"full":true}}}})")) ==
        V{R"(tool-args:lookup_order={"opts":{"full":true},"order_id":"A1"})"});
  CHECK(specs(json::parse(R"({"type":"trajectory:tool-args-match",
      "value":{"name":"tag","arguments":{"tags":["a","b"]},"mode":"partial"}})")) ==
        V{R"(tool-args:tag={"tags":["a","b"]})"});
  CHECK(specs(json::parse(R"({"type":"trajectory:step-count","value":{"type":"tool","max":3}})")) ==
        V{"max-tool-calls:3"});
  for (const char* type : {"is-valid-openai-tools-call", "tool-call-f1", "trajectory:tool-used",
                           "not-trajectory:tool-used", "trajectory:tool-sequence",
                           "trajectory:tool-args-match", "trajectory:step-count"})
    CHECK(has_counterpart(type));
}

TEST_CASE("promptfoo tool call assertions without an exact counterpart are refused", "[interop]") {
  using Case = std::pair<json, std::string>;
  for (const auto& [a, reason] : std::vector<Case>{
           {json::parse(R"({"type":"tool-call-f1","value":" , "})"), "at least one tool name"},
           {json::parse(R"({"type":"tool-call-f1","value":{"a":1}})"), "tool name"},
           {json::parse(R"({"type":"trajectory:tool-used","value":"search_*"})"), "search_*"},
           {json::parse(R"({"type":"trajectory:tool-used","value":{"pattern":"a*"}})"),
            "\"pattern\""},
           {json::parse(R"({"type":"trajectory:tool-used","value":{"name":"a","max":2}})"),
            "\"max\" other than 0"},
           {json::parse(R"({"type":"not-trajectory:tool-used","value":{"name":"a","min":1}})"),
            "with a count"},
           {json::parse(R"({"type":"trajectory:tool-sequence","value":[{"name":"a"}]})"),
            "tool names"},
           {json::parse(
                R"({"type":"trajectory:tool-sequence","value":{"mode":"any","steps":["a"]}})"),
            "exact or in_order"},
           {json::parse(R"({"type":"trajectory:tool-args-match","value":{"name":"a","args":{},
                "mode":"exact"}})"),
            "in mode \"exact\""},
           {json::parse(R"({"type":"trajectory:tool-args-match","value":{"name":"a",
                "args":{"items":[{"id":1}]}}})"),
            "object inside a list"},
           {json::parse(R"({"type":"trajectory:tool-args-match","value":{"name":"a","args":{},
                "ignore":"*_id"}})"),
            "\"ignore\""},
           {json::parse(R"({"type":"trajectory:step-count","value":{"max":3}})"), "max-tool-calls"},
           {json::parse(
                R"({"type":"trajectory:step-count","value":{"type":"tool","min":1,"max":3}})"),
            "max-tool-calls"},
       }) {
    INFO(a.dump());
    auto r = from_promptfoo(a);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains(reason));
  }
}

TEST_CASE("tool-args-valid and tool-call-f1 take promptfoo's own types", "[interop]") {
  CHECK(to_promptfoo(*scoring::parse_assertion("tool-args-valid"))->dump() ==
        R"({"type":"is-valid-openai-tools-call"})");
  CHECK(to_promptfoo(*scoring::parse_assertion("tool-call-f1@0.5:a,b"))->dump() ==
        R"({"type":"tool-call-f1","value":["a","b"],"threshold":0.5})");
}

TEST_CASE("the tool assertions promptfoo checks only on traces stay out of an export",
          "[interop]") {
  // promptfoo's trajectory assertions read OpenTelemetry traces, which an exported openai or
  // anthropic provider does not make: written out, they would fail for want of a trace.
  for (const char* spec : {"tool-called:search", "no-tool-call", "no-tool-call:refund",
                           R"(tool-args:search={"q":"x"})", "tool-args-valid:search",
                           "tool-sequence:a,b", "max-tool-calls:2"}) {
    INFO(spec);
    auto a = scoring::parse_assertion(spec);
    REQUIRE(a);
    CHECK_FALSE(to_promptfoo(*a));
  }
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-9", "Refund issued without a lookup");
  test::add_case(s, test::make_case(
                        "lookup-first", "INC-9", "Refund order A1",
                        {"tool-sequence:lookup_order,refund", "tool-call-f1:lookup_order,refund"}));
  std::ostringstream out;
  auto report = interop::export_promptfoo(s, out, std::nullopt);
  REQUIRE(report);
  CHECK(report->cases == 1);
  REQUIRE(report->left_out.size() == 1);
  CHECK(report->left_out[0] == "lookup-first: tool-sequence:lookup_order,refund has no promptfoo "
                               "counterpart; the test goes without it");
  CHECK_THAT(out.str(), Catch::Contains("type: \"tool-call-f1\""));
  CHECK(out.str().find("tool-sequence") == std::string::npos);
}
