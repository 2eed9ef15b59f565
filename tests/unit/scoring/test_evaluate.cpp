#include "scoring/evaluate.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep::scoring;

namespace {

Outcome check(const char* spec, const std::string& text, double latency = 0,
              std::optional<double> cost = {}) {
  auto a = parse_assertion(spec);
  REQUIRE(a);
  return evaluate(*a, {text, latency, cost});
}

} // namespace

TEST_CASE("text assertions pass and fail with a reason", "[scoring]") {
  CHECK(check("contains:30 days", "Refunds within 30 days.").passed);
  CHECK_FALSE(check("contains:30 Days", "Refunds within 30 days.").passed);
  CHECK(check("icontains:30 DAYS", "Refunds within 30 days.").passed);
  auto no = check("not-contains:unfortunately", "Unfortunately, unfortunately late.");
  CHECK_FALSE(no.passed);
  CHECK_THAT(no.reason, Catch::Contains("contains 'unfortunately'"));
  CHECK(check("starts-with:Yes", "Yes, you can.").passed);
  CHECK(check("equals:Yes", "Yes").passed);
  CHECK_FALSE(check("equals:Yes", "Yes.").passed);
  CHECK(check("regex:(?i)30\\s+days", "within 30  DAYS").passed);
  CHECK_FALSE(check("regex:^\\d+$", "12a").passed);
}

TEST_CASE("a strict is-json reads the whole answer, as JSON.parse does", "[scoring]") {
  const std::string fenced = "```json\n{\"a\": 1}\n```";
  CHECK(check("is-json-strict", " \n{\"a\": 1}\t\n").passed); // whitespace around is JSON's own
  CHECK(check("is-json-strict", "[1, 2]").passed);
  CHECK_FALSE(check("is-json-strict", fenced).passed);
  CHECK_FALSE(check("is-json-strict", "Here it is: {\"a\": 1}").passed);
  CHECK_FALSE(check(R"(is-json-strict:{"required":["a"]})", fenced).passed);
  CHECK(check(R"(is-json-strict:{"required":["a"]})", R"({"a": 1})").passed);
  // not-is-json turns the verdict over, strict or reading the fence.
  CHECK(check("not-is-json-strict", fenced).passed);
  CHECK_FALSE(check("not-is-json", fenced).passed);
  CHECK_FALSE(check("not-is-json-strict", R"({"a": 1})").passed);
  CHECK(check("not-is-json", "status: shipped").passed);
  CHECK(check("not-is-json-strict", "").passed);
}

TEST_CASE("a catastrophic regex runs in linear time", "[scoring]") {
  std::string answer(100000, 'a');
  answer += "!";
  CHECK_FALSE(check("regex:(a+)+$b", answer).passed);
  CHECK(check("regex:(a+)+!$", answer).passed);
}

TEST_CASE("JSON assertions read the answer, inside a code fence too", "[scoring]") {
  CHECK(check("is-json", R"({"status": "shipped"})").passed);
  CHECK(check("is-json", "```json\n{\"a\": 1}\n```").passed);
  CHECK_FALSE(check("is-json", "status: shipped").passed);
  CHECK(check("json-path:/order/status=\"shipped\"", R"({"order":{"status":"shipped"}})").passed);
  auto wrong = check("json-path:/order/status=\"shipped\"", R"({"order":{"status":"late"}})");
  CHECK_FALSE(wrong.passed);
  CHECK_THAT(wrong.reason, Catch::Contains("\"late\""));
  CHECK_FALSE(check("json-path:/missing=1", R"({"a":1})").passed);
}

TEST_CASE("lengths count characters, not bytes", "[scoring]") {
  CHECK(check("max-length:5", "héllo").passed);
  CHECK_FALSE(check("max-length:4", "héllo").passed);
  CHECK(check("min-length:5", "héllo").passed);
}

TEST_CASE("number-close finds the number in the answer", "[scoring]") {
  CHECK(check("number-close:1234.5,0.01", "That is CA$1,234.50 in total.").passed);
  CHECK_FALSE(check("number-close:110.4,0.01", "About 111 euros").passed);
  CHECK_FALSE(check("number-close:3,1", "no digits here").passed);
  CHECK(check("number-close:-2,0.5", "It fell by -2.2 points").passed);
}

TEST_CASE("latency and cost bounds use what the call measured", "[scoring]") {
  CHECK(check("max-latency-ms:500", "x", 499).passed);
  CHECK_FALSE(check("max-latency-ms:500", "x", 501).passed);
  CHECK(check("max-cost:0.01", "x", 0, 0.005).passed);
  CHECK_FALSE(check("max-cost:0.01", "x", 0, 0.02).passed);
  CHECK_FALSE(check("max-cost:0.01", "x", 0, std::nullopt).passed);
}

TEST_CASE("a judge's reply is read and compared with the threshold", "[scoring]") {
  auto a = parse_assertion("judge@0.8:declines politely");
  REQUIRE(a);
  auto reply = parse_judge_reply("```json\n{\"score\": 0.9, \"rationale\": \"polite\"}\n```");
  REQUIRE(reply);
  CHECK(judge_outcome(*a, reply->first, reply->second).passed);
  CHECK_FALSE(judge_outcome(*a, 0.5, "rude").passed);
  CHECK_FALSE(parse_judge_reply("I think it is fine"));
  CHECK_FALSE(parse_judge_reply("{\"score\": 7}"));
  CHECK_THAT(judge_prompt(*a, "Q?", "A."), Catch::Contains("declines politely"));
  CHECK_FALSE(evaluate(*a, {"x", 0, {}}).passed);
}

TEST_CASE("a factuality judge passes every category but D, read from its JSON or a letter in "
          "parentheses",
          "[scoring]") {
  auto a = parse_assertion("judge/factuality:Refunds are accepted within 30 days.");
  REQUIRE(a);
  auto prompt = judge_prompt(*a, "How long do I have?", "You have a month.");
  CHECK_THAT(prompt, Catch::Contains("<expert_answer>\nRefunds are accepted within 30 days."));
  CHECK_THAT(prompt, Catch::Contains("<submitted_answer>\nYou have a month."));
  CHECK_THAT(prompt, Catch::Contains("<question>\nHow long do I have?"));
  CHECK_THAT(prompt, Catch::Contains("(D) The submitted answer and the expert answer disagree"));
  for (char c : std::string("ABCDE")) {
    auto reply = parse_judge_reply(
        *a, fmt::format("{{\"category\": \" {} \", \"reason\": \"because\"}}", c));
    INFO(c);
    REQUIRE(reply);
    auto o = judge_outcome(*a, reply->first, reply->second);
    CHECK(o.passed == (c != 'D'));
    CHECK(o.score == (c == 'D' ? 0.0 : 1.0));
    CHECK_THAT(o.reason, Catch::Contains(fmt::format("category {}", c)));
    CHECK_THAT(o.reason, Catch::Contains("because"));
  }
  auto legacy = parse_judge_reply(*a, "(b) The answer adds a detail.");
  REQUIRE(legacy);
  CHECK(legacy->first == 1.0);
  CHECK_THAT(legacy->second, Catch::Contains("superset"));
  auto lower = parse_judge_reply(*a, "```json\n{\"category\": \"d\"}\n```");
  REQUIRE(lower);
  CHECK_FALSE(judge_outcome(*a, lower->first, lower->second).passed);
  CHECK_FALSE(parse_judge_reply(*a, "{\"category\": \"F\"}"));
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 1}"));
  CHECK_FALSE(parse_judge_reply(*a, "they agree"));
  CHECK(judge_reply_asked(*a) == "a category from A to E");
}

TEST_CASE("a closedqa judge passes a reply ending in Y and fails one ending in N", "[scoring]") {
  auto a = parse_assertion("judge/closedqa:mentions the 30-day window");
  REQUIRE(a);
  auto prompt = judge_prompt(*a, "Q?", "Within 30 days.");
  CHECK_THAT(prompt, Catch::Contains("<criterion>\nmentions the 30-day window"));
  CHECK_THAT(prompt, Catch::Contains("<submitted_answer>\nWithin 30 days."));
  auto yes = parse_judge_reply(*a, "The answer names 30 days.\nY\n");
  REQUIRE(yes);
  auto o = judge_outcome(*a, yes->first, yes->second);
  CHECK(o.passed);
  CHECK_THAT(o.reason, Catch::Contains("names 30 days"));
  auto no = parse_judge_reply(*a, "No window is named.\nN");
  REQUIRE(no);
  CHECK_FALSE(judge_outcome(*a, no->first, no->second).passed);
  CHECK_FALSE(parse_judge_reply(*a, "Y, it does, I think"));
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 1}"));
  // A rubric judge is not read by these rules.
  auto rubric = parse_assertion("judge@0.5:polite");
  REQUIRE(rubric);
  CHECK_FALSE(parse_judge_reply(*rubric, "Y"));
}

TEST_CASE("a g-eval judge asks for steps from the criteria alone, then scores by them over 10",
          "[scoring]") {
  auto a = parse_assertion("judge/g-eval:Explains the idea in plain words");
  REQUIRE(a);
  CHECK(a->threshold == 0.7);
  auto first = judge_prompt(*a, "Explain store credit.", "Store credit is money.");
  CHECK_THAT(first, Catch::Contains("<criteria>\nExplains the idea in plain words"));
  CHECK_THAT(first, !Catch::Contains("Store credit is money")); // the steps see no answer
  auto steps = parse_first_stage(*a, "{\"steps\":[\"Check the words\",\"Check the idea\"]}");
  REQUIRE(steps);
  CHECK(*steps == "- Check the words\n- Check the idea");
  CHECK_FALSE(parse_first_stage(*a, "{\"steps\": []}"));
  CHECK_FALSE(parse_first_stage(*a, "{\"steps\": [\"ok\", \" \"]}"));
  CHECK_FALSE(parse_first_stage(*a, "1. Check the words"));
  auto second = geval_prompt(*a, *steps, "Explain store credit.", "Store credit is money.");
  CHECK_THAT(second, Catch::Contains("<evaluation_steps>\n- Check the words\n- Check the idea"));
  CHECK_THAT(second, Catch::Contains("<reply>\nStore credit is money."));
  auto scored = parse_judge_reply(*a, "{\"score\": 7, \"reason\": \"Plain.\"}");
  REQUIRE(scored);
  CHECK(scored->first == Approx(0.7));
  CHECK(judge_outcome(*a, scored->first, scored->second).passed);
  auto low = parse_judge_reply(*a, "```json\n{\"score\": \"6\", \"reason\": \"Jargon.\"}\n```");
  REQUIRE(low);
  auto o = judge_outcome(*a, low->first, low->second);
  CHECK_FALSE(o.passed);
  CHECK(o.reason == "g-eval scored 0.60 (needs 0.70): Jargon.");
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 11, \"reason\": \"x\"}"));
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 5}"));
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 5, \"reason\": \"\"}"));
}

TEST_CASE("an answer-relevance judge asks for the answer's question and passes on the similarity",
          "[scoring]") {
  auto a = parse_assertion("judge/answer-relevance");
  REQUIRE(a);
  CHECK(a->threshold == 0.5);
  CHECK(a->rubric.empty());
  CHECK_THAT(judge_prompt(*a, "Q?", "We open at 9."), Catch::Contains("<answer>\nWe open at 9."));
  auto q = parse_first_stage(*a, "  When do you open?\n");
  REQUIRE(q);
  CHECK(*q == "When do you open?");
  CHECK_FALSE(parse_first_stage(*a, " \n"));
  CHECK(relevance_outcome(*a, 0.5, *q).passed);
  auto o = relevance_outcome(*a, 0.2, *q);
  CHECK_FALSE(o.passed);
  CHECK(o.reason == "relevance 0.20 (needs 0.50): the judge read the answer as answering \"When "
                    "do you open?\"");
  CHECK_FALSE(parse_judge_reply(*a, "{\"score\": 1}"));
}

TEST_CASE("a factuality judge scores each category as its assertion says", "[scoring]") {
  auto a = parse_assertion("judge/factuality{A=0,B=0.5,C=1,D=0.2,E=-1}:Paris");
  REQUIRE(a);
  for (auto [c, score, passed] : std::vector<std::tuple<char, double, bool>>{{'A', 0.0, false},
                                                                             {'B', 0.5, true},
                                                                             {'C', 1.0, true},
                                                                             {'D', 0.2, true},
                                                                             {'E', -1.0, false}}) {
    INFO(c);
    auto r = parse_judge_reply(*a, fmt::format("{{\"category\": \"{}\"}}", c));
    REQUIRE(r);
    CHECK(r->first == score);
    CHECK(judge_outcome(*a, r->first, r->second).passed == passed);
  }
}

TEST_CASE("regex assertions evaluated from several threads at once all get the right verdict",
          "[scoring]") {
  // Exec programs and the network loop score answers on different threads; every thread compiles
  // patterns of its own and shares others, many more than any cache of them keeps.
  constexpr int k_threads = 8, k_patterns = 3000;
  std::vector<Assertion> shared, own;
  for (int i = 0; i < k_patterns; ++i) {
    auto a = parse_assertion("regex:^case-" + std::to_string(i) + "\\b");
    REQUIRE(a);
    shared.push_back(*a);
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_patterns; ++i) {
        int n = (i * 7 + t * 131) % k_patterns;
        auto answer = "case-" + std::to_string(n) + " done";
        if (!evaluate(shared[static_cast<std::size_t>(n)], {answer, 0, {}}).passed)
          ++wrong;
        Assertion mine = shared[static_cast<std::size_t>(n)];
        mine.text = "^t" + std::to_string(t) + "-" + std::to_string(i) + "$";
        if (evaluate(mine, {"t" + std::to_string(t) + "-" + std::to_string(i), 0, {}}).passed !=
            true)
          ++wrong;
        if (evaluate(mine, {answer, 0, {}}).passed)
          ++wrong;
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(wrong == 0);
}

TEST_CASE("negated string checks pass where the check would fail", "[scoring]") {
  CHECK(check("not-equals:Yes", "Yes.").passed);
  CHECK_FALSE(check("not-equals:Yes", "Yes").passed);
  CHECK(check("not-icontains:SORRY", "Happy to help").passed);
  auto sorry = check("not-icontains:SORRY", "I'm sorry");
  CHECK_FALSE(sorry.passed);
  CHECK_THAT(sorry.reason, Catch::Contains("contains 'SORRY' (ignoring case)"));
  CHECK(check("not-starts-with:No", "Yes, no problem").passed);
  CHECK_FALSE(check("not-starts-with:No", "No way").passed);
  CHECK(check("not-regex:\\d{3}-\\d{4}", "call us").passed);
  CHECK_FALSE(check("not-regex:\\d{3}-\\d{4}", "call 555-1234").passed);
}

TEST_CASE("list checks want any, or not all, of their values", "[scoring]") {
  CHECK(check("contains-any:[\"Paris\",\"Lyon\"]", "Lyon it is").passed);
  CHECK_FALSE(check("contains-any:Paris,Lyon", "lyon it is").passed);
  CHECK(check("icontains-any:Paris,Lyon", "lyon it is").passed);
  CHECK(check("not-contains-all:[\"a\",\"b\"]", "only a").passed);
  auto both = check("not-contains-all:[\"a\",\"b\"]", "a and b");
  CHECK_FALSE(both.passed);
  CHECK_THAT(both.reason, Catch::Contains("every one of"));
  CHECK_FALSE(check("not-icontains-all:A,B", "a and b").passed);
  CHECK(check("not-icontains-all:A,C", "a and b").passed);
}

TEST_CASE("JSON is checked against a schema", "[scoring][schema]") {
  const char* schema =
      R"(is-json:{"type":"object","required":["name"],"properties":{"age":{"type":"integer"}}})";
  CHECK(check(schema, R"({"name":"Ada","age":36})").passed);
  auto wrong = check(schema, R"({"name":"Ada","age":"old"})");
  CHECK_FALSE(wrong.passed);
  CHECK_THAT(wrong.reason, Catch::Contains("does not conform"));
  CHECK_FALSE(check(schema, "not json").passed);
  // contains-json finds JSON objects inside the text; one that conforms is enough.
  const char* contains = R"(contains-json:{"type":"object","required":["city"]})";
  CHECK(check(contains, R"(Here: {"x":1} and {"city":"Paris", "note":"a } in text"} done)").passed);
  CHECK_FALSE(check(contains, R"(Here: {"x":1})").passed);
  CHECK(check("contains-json", R"(text {"a":[1,2]} text)").passed);
  CHECK_FALSE(check("contains-json", "no braces here").passed);
  // not-contains-json is contains-json turned over: no object, or none that conforms.
  const char* none = R"(not-contains-json:{"type":"object","required":["city"]})";
  CHECK(check(none, R"(Here: {"x":1})").passed);
  CHECK(check(none, "no braces here").passed);
  auto found = check(none, R"(Here: {"x":1} and {"city":"Paris"})");
  CHECK_FALSE(found.passed);
  CHECK_THAT(found.reason, Catch::Contains("conforms to the schema"));
  CHECK(check("not-contains-json", "no braces { here").passed);
  CHECK_FALSE(check("not-contains-json", R"(text {"a":[1,2]} text)").passed);
}

TEST_CASE("similar compares embeddings by cosine similarity", "[scoring]") {
  auto a = parse_assertion("similar@0.9:The capital is Paris");
  REQUIRE(a);
  auto none = evaluate(*a, {"Paris", 0, std::nullopt});
  CHECK_FALSE(none.passed);
  CHECK_THAT(none.reason, Catch::Contains("needs embeddings"));
  EvaluationContext ctx;
  std::vector<std::string> models;
  ctx.embed = [&](const std::string& text,
                  const std::string& model) -> evalkeep::Result<std::vector<double>> {
    models.push_back(model);
    return text.find("Paris") != std::string::npos ? std::vector<double>{1, 0.1}
                                                   : std::vector<double>{0, 1};
  };
  auto close = evaluate(*a, {"It is Paris.", 0, std::nullopt}, ctx);
  CHECK(close.passed);
  REQUIRE(close.score);
  CHECK(*close.score == Approx(1.0));
  CHECK_FALSE(evaluate(*a, {"Lyon", 0, std::nullopt}, ctx).passed);
  CHECK(models.front() == "text-embedding-3-large");
  CHECK(cosine_similarity({1, 0}, {0, 1}) == Approx(0.0));
  CHECK_FALSE(cosine_similarity({0, 0}, {1, 1}));
}
