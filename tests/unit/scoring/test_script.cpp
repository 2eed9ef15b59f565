#include "scoring/evaluate.hpp"
#include "scoring/script.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

using namespace evalkeep::scoring;
using json = nlohmann::json;

namespace {

Assertion script(AssertionType type, std::string code, std::optional<double> threshold = {}) {
  Assertion a;
  a.type = type;
  a.script.language = type == AssertionType::python ? Language::python : Language::javascript;
  a.script.code = std::move(code);
  a.pass_score = threshold;
  return a;
}

Outcome run(const Assertion& a, const std::string& answer, EvaluationContext ctx = {}) {
  return evaluate(a, Answer{answer, 0, std::nullopt}, ctx);
}

// Sets an environment variable for one test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    ::setenv(name.c_str(), value, 1);
  }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

} // namespace

TEST_CASE("a javascript expression decides on the output", "[scoring][script]") {
  auto a = script(AssertionType::javascript, "output.includes('30 days')");
  CHECK(run(a, "Refunds within 30 days.").passed);
  auto no = run(a, "No refunds.");
  CHECK_FALSE(no.passed);
  CHECK_THAT(no.reason, Catch::Contains("returned false"));
}

TEST_CASE("a javascript function body, declarations and a score against a threshold",
          "[scoring][script]") {
  auto body = script(AssertionType::javascript,
                     "const words = output.split(' ');\nreturn {pass: words.length > 2, score: "
                     "0.5, reason: 'counted ' + words.length};\n");
  auto o = run(body, "one two three");
  CHECK(o.passed);
  CHECK(o.score == 0.5);
  CHECK(o.reason == "counted 3");
  CHECK(run(script(AssertionType::javascript, "const n = output.length; n > 3"), "long").passed);
  // The last statement starts after the last semicolon outside quotes.
  CHECK(run(script(AssertionType::javascript, "const s = output; s === 'a;b'"), "a;b").passed);
  // A number is a score: above 0 passes, or at the threshold when one is given.
  CHECK(run(script(AssertionType::javascript, "output.length / 10"), "abc").passed);
  CHECK_FALSE(run(script(AssertionType::javascript, "output.length / 10", 0.5), "abc").passed);
  CHECK(run(script(AssertionType::javascript, "output.length / 10", 0.3), "abc").passed);
  auto bad = run(script(AssertionType::javascript, "'yes'"), "x");
  CHECK_FALSE(bad.passed);
  CHECK_THAT(bad.reason, Catch::Contains("must return a boolean"));
}

TEST_CASE("a script reads the vars and the prompt of its context", "[scoring][script]") {
  auto a = script(AssertionType::python, "output == context['vars']['city'] and 'capital' in "
                                         "context['prompt']");
  a.vars = json{{"city", "Paris"}};
  EvaluationContext ctx;
  ctx.question = "What is the capital of France?";
  CHECK(run(a, "Paris", ctx).passed);
  CHECK_FALSE(run(a, "Lyon", ctx).passed);
}

TEST_CASE("a script reads the description and metadata its test kept, and no description when "
          "there was none",
          "[scoring][script]") {
  auto js = script(AssertionType::javascript,
                   "context.test.description === 'Refunds' && context.test.metadata.days === 30 && "
                   "context.test.vars.city === 'Paris'");
  js.vars = json{{"city", "Paris"}};
  js.test = json{{"description", "Refunds"}, {"metadata", {{"days", 30}}}};
  CHECK(run(js, "anything").passed);
  js.test["metadata"]["days"] = 60;
  CHECK_FALSE(run(js, "anything").passed);

  auto py = script(AssertionType::python, "'description' not in context['test']");
  py.test = json{{"description", nullptr}};
  CHECK(run(py, "anything").passed);
  py.test = json{{"description", "Refunds"}};
  CHECK_FALSE(run(py, "anything").passed);
}

TEST_CASE("python scripts follow promptfoo's rules for what they return", "[scoring][script]") {
  CHECK(run(script(AssertionType::python, "len(output) > 2"), "abcd").passed);
  auto body = script(AssertionType::python,
                     "  if 'sorry' in output.lower():\n    return {'pass': False, 'score': 0, "
                     "'reason': 'apologised'}\n  return {'pass': True, 'score': 0.4}\n");
  auto sorry = run(body, "Sorry!");
  CHECK_FALSE(sorry.passed);
  CHECK(sorry.reason == "apologised");
  CHECK(run(body, "Fine.").passed);
  // For Python, an object's score under the threshold fails it.
  body.pass_score = 0.5;
  auto low = run(body, "Fine.");
  CHECK_FALSE(low.passed);
  CHECK_THAT(low.reason, Catch::Contains("less than threshold 0.5"));
  CHECK(run(script(AssertionType::python, "'TRUE'"), "x").passed);
  CHECK_FALSE(run(script(AssertionType::python, "'0'"), "x").passed);
  auto threw = run(script(AssertionType::python, "1 / 0"), "x");
  CHECK_FALSE(threw.passed);
  CHECK_THAT(threw.reason, Catch::Contains("ZeroDivisionError"));
}

TEST_CASE("a script read from a file calls the function it names", "[scoring][script]") {
  auto js = script(AssertionType::javascript,
                   "module.exports.polite = (output, context) => !/stupid/i.test(output);\n"
                   "module.exports = Object.assign(module.exports, { other: () => false });\n");
  js.script.file = "checks/tone.js";
  js.script.function = "polite";
  CHECK(run(js, "Thank you").passed);
  CHECK_FALSE(run(js, "stupid question").passed);
  auto esm = script(AssertionType::javascript,
                    "export default function (output) { return output.startsWith('Hi'); }\n");
  esm.script.file = "checks/hi.mjs";
  CHECK(run(esm, "Hi there").passed);
  auto py = script(AssertionType::python,
                   "def get_assert(output, context):\n    return output.isupper()\n");
  py.script.file = "checks/upper.py";
  CHECK(run(py, "LOUD").passed);
  CHECK_FALSE(run(py, "quiet").passed);
  py.script.function = "missing";
  auto missing = run(py, "LOUD");
  CHECK_FALSE(missing.passed);
  CHECK_THAT(missing.reason, Catch::Contains("defines no function missing"));
}

TEST_CASE("a script never sees the keys withheld from it", "[scoring][script]") {
  ScopedEnv key("OPENAI_API_KEY", "sk-secret-123");
  ScopedEnv custom("CORP_LLM_TOKEN", "tok-456");
  auto a = script(AssertionType::javascript,
                  "!process.env.OPENAI_API_KEY && !process.env.CORP_LLM_TOKEN");
  // By default a script gets a minimal environment: no key of any name.
  CHECK(run(a, "x").passed);
  // Given the list exec programs are denied, exactly those are withheld.
  EvaluationContext ctx;
  ctx.limits.withheld = std::vector<std::string>{"OPENAI_API_KEY", "CORP_LLM_TOKEN"};
  CHECK(run(a, "x", ctx).passed);
  ctx.limits.withheld = std::vector<std::string>{"OPENAI_API_KEY"};
  CHECK_FALSE(run(a, "x", ctx).passed);
}

TEST_CASE("a script that runs too long is stopped and fails", "[scoring][script]") {
  EvaluationContext ctx;
  ctx.limits.timeout_ms = 300;
  auto o = run(script(AssertionType::javascript, "while (true) {}\nreturn true;\n"), "x", ctx);
  CHECK_FALSE(o.passed);
  CHECK_THAT(o.reason, Catch::Contains("longer than 300 ms"));
}

TEST_CASE("a missing interpreter fails with a clear message", "[scoring][script]") {
  evalkeep::test::TempDir empty;
  std::string old = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", empty.path().c_str(), 1);
  auto o = run(script(AssertionType::python, "True"), "x");
  ::setenv("PATH", old.c_str(), 1);
  CHECK_FALSE(o.passed);
  CHECK_THAT(o.reason, Catch::Contains("needs python3, which is not on PATH"));
}

TEST_CASE("transforms run in order before the check", "[scoring][script]") {
  Assertion a;
  a.type = AssertionType::equals;
  a.text = "HELLO";
  a.transforms.push_back({Language::javascript, "output.trim()", "", ""});
  a.transforms.push_back({Language::python, "output.upper()", "", ""});
  CHECK(run(a, "  hello \n").passed);
  // A transform that makes an object: text checks read it as JSON, scripts get the object.
  Assertion j;
  j.type = AssertionType::javascript;
  j.script.code = "output.answer === 42";
  j.transforms.push_back({Language::javascript, "JSON.parse(output)", "", ""});
  CHECK(run(j, R"({"answer": 42})").passed);
  Assertion broken = a;
  broken.transforms = {{Language::javascript, "output.nope()", "", ""}};
  auto o = run(broken, "x");
  CHECK_FALSE(o.passed);
  CHECK_THAT(o.reason, Catch::Contains("the transform failed"));
}
