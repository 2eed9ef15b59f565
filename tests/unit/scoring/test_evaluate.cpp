#include "scoring/evaluate.hpp"

#include <catch2/catch.hpp>

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
