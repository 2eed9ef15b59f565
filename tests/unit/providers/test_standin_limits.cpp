// The stand-in's rate limiter through real HTTP on 127.0.0.1, read by the project's transport:
// the headers each API announces its limits with, and the 429 past them.

#include "providers/provider.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "support/exchange.hpp"
#include "support/standin.hpp"

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::providers;
using evalkeep::test::exchange;

namespace {

ProviderConfig provider(const test::StandIn& s, Kind kind) {
  ProviderConfig c;
  c.name = "local";
  c.kind = kind;
  c.base_url = kind == Kind::anthropic ? s.base() : s.openai_base();
  c.model = "stand-in";
  REQUIRE(finish_config(c));
  return c;
}

HttpResponse ask(const ProviderConfig& c, const std::string& question) {
  return exchange(build_request(c, ChatInput{{{"user", question}}}, "sk-test", "k"));
}

} // namespace

TEST_CASE("the stand-in announces OpenAI's x-ratelimit headers and answers 429 with the wait once "
          "the bucket is empty",
          "[providers][standin][pacing]") {
  // 120 a minute with a bucket of one second: two requests, then a 429.
  test::StandIn s({}, 0, 1, {"--rpm", "120", "--tpm", "6000", "--burst-s", "1"});
  auto c = provider(s, Kind::openai);
  auto first = ask(c, "one two three");
  REQUIRE(first.status == 200);
  CHECK(first.rate.request_limit == 120.0);
  CHECK(first.rate.requests_remaining == 1.0);
  CHECK(first.rate.token_limit == 6000.0);
  // The bucket holds a second of 6,000 a minute: 100 tokens, less this request's words in and
  // out ("I can help with that." is five).
  CHECK(first.rate.tokens_remaining == 100.0 - 3 - 5);
  REQUIRE(first.rate.requests_reset_s);
  CHECK(*first.rate.requests_reset_s > 0);
  CHECK(*first.rate.requests_reset_s <= 0.5);
  auto reply = parse_response(Kind::openai, first.status, first.body);
  CHECK(reply.tokens_in == 3);
  CHECK(reply.tokens_out == 5);

  REQUIRE(ask(c, "again").status == 200);
  auto limited = ask(c, "and again");
  REQUIRE(limited.status == 429);
  CHECK(limited.rate.requests_remaining == 0.0);
  auto wait_ms = parse_retry_after_ms(limited.retry_after_ms);
  REQUIRE(wait_ms);
  CHECK(*wait_ms > 0);
  CHECK(*wait_ms <= 500);
  CHECK(parse_retry_after(limited.retry_after, 0) == 1.0);
  auto error = parse_response(Kind::openai, limited.status, limited.body);
  CHECK(error.error == ErrorClass::rate_limited);
  CHECK_THAT(error.error_message, Catch::Contains("on requests per min (RPM): Limit 120") &&
                                      Catch::Contains("Please try again in"));
  // The refused request was not answered and not charged: after the wait, one more goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(*wait_ms) + 20));
  CHECK(ask(c, "now").status == 200);
  auto log = s.log();
  REQUIRE(log.size() == 4);
  CHECK(log[2]["status"] == 429);
  CHECK(log[3]["status"] == 200);
}

TEST_CASE("the stand-in limits tokens a minute too, and a reset refills both buckets",
          "[providers][standin][pacing]") {
  // 600 tokens a minute, a bucket of 10: a 12-word question and its 5-word answer do not fit.
  test::StandIn s({}, 0, 1, {"--tpm", "600"});
  auto c = provider(s, Kind::openai);
  auto big = ask(c, "one two three four five six seven eight nine ten eleven twelve");
  REQUIRE(big.status == 200); // larger than the bucket: it waits for a full one, which it is
  CHECK_FALSE(big.rate.request_limit);
  CHECK(big.rate.token_limit == 600.0);
  CHECK(big.rate.tokens_remaining == 0.0);
  auto over = ask(c, "small");
  REQUIRE(over.status == 429);
  CHECK_THAT(parse_response(Kind::openai, over.status, over.body).error_message,
             Catch::Contains("on tokens per min (TPM): Limit 600"));
  s.reset();
  CHECK(ask(c, "small").status == 200);
}

TEST_CASE("the stand-in announces Anthropic's anthropic-ratelimit headers, with reset times",
          "[providers][standin][pacing]") {
  test::StandIn s({}, 0, 1, {"--rpm", "60"});
  auto c = provider(s, Kind::anthropic);
  auto first = ask(c, "hello there");
  REQUIRE(first.status == 200);
  CHECK(first.rate.request_limit == 60.0);
  CHECK(first.rate.requests_remaining == 0.0);
  REQUIRE(first.rate.requests_reset_s);
  CHECK(*first.rate.requests_reset_s <= 2.0); // whole seconds, rounded up
  auto limited = ask(c, "hello again");
  REQUIRE(limited.status == 429);
  CHECK(parse_retry_after(limited.retry_after, 0) == 1.0);
  CHECK(limited.retry_after_ms.empty()); // Anthropic sends whole seconds only
  auto error = parse_response(Kind::anthropic, limited.status, limited.body);
  CHECK(error.error == ErrorClass::rate_limited);
  CHECK_THAT(error.error_message, Catch::Contains("rate limit for your organization of 60 requests "
                                                  "per minute"));
}
