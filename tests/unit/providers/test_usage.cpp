// Usage as each provider reports it, read into the same counts (every input token billed, and of
// those the ones read from and written to the prompt cache), and priced.

#include "providers/bedrock.hpp"
#include "providers/gemini.hpp"
#include "providers/provider.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::providers;

namespace {

ProviderConfig priced(std::optional<double> cached = {}, std::optional<double> write = {}) {
  ProviderConfig c;
  c.input_price_per_mtok = 2.0;
  c.output_price_per_mtok = 8.0;
  c.cached_input_price_per_mtok = cached;
  c.cache_write_price_per_mtok = write;
  return c;
}

} // namespace

TEST_CASE("OpenAI's cached tokens are part of its input tokens", "[providers][cost]") {
  auto chat = parse_response(Kind::openai, 200, R"({"choices": [{"message": {"content": "hi"}}],
      "usage": {"prompt_tokens": 2000, "completion_tokens": 100, "total_tokens": 2100,
                "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0}}})");
  REQUIRE(chat.error == ErrorClass::none);
  CHECK(chat.tokens_in == 2000);
  CHECK(chat.tokens_cached == 1536);
  CHECK_FALSE(chat.tokens_cache_write);

  auto responses = parse_response(Kind::openai_responses, 200, R"({"output": [{"type": "message",
      "content": [{"type": "output_text", "text": "hi"}]}],
      "usage": {"input_tokens": 2000, "input_tokens_details": {"cached_tokens": 1024},
                "output_tokens": 100, "total_tokens": 2100}})");
  REQUIRE(responses.error == ErrorClass::none);
  CHECK(responses.tokens_in == 2000);
  CHECK(responses.tokens_cached == 1024);

  // No details: nothing is known to be cached, and it is priced at the input price.
  auto plain = parse_response(Kind::openai, 200, R"({"choices": [{"message": {"content": "hi"}}],
      "usage": {"prompt_tokens": 2000, "completion_tokens": 100}})");
  CHECK_FALSE(plain.tokens_cached);
  CHECK(*cost_of(priced(0.5), plain) == Approx((2000 * 2.0 + 100 * 8.0) / 1e6));
}

TEST_CASE("Anthropic's and Bedrock's input tokens leave out the cache's, which are added",
          "[providers][cost]") {
  auto anthropic = parse_response(Kind::anthropic, 200, R"({"content": [{"type": "text",
      "text": "hi"}], "usage": {"input_tokens": 50, "cache_creation_input_tokens": 200,
      "cache_read_input_tokens": 1800, "output_tokens": 100}})");
  REQUIRE(anthropic.error == ErrorClass::none);
  CHECK(anthropic.tokens_in == 2050);
  CHECK(anthropic.tokens_cached == 1800);
  CHECK(anthropic.tokens_cache_write == 200);

  auto bedrock = bedrock::parse_response(200, R"({"output": {"message": {"role": "assistant",
      "content": [{"text": "hi"}]}}, "stopReason": "end_turn", "usage": {"inputTokens": 50,
      "outputTokens": 100, "totalTokens": 2150, "cacheReadInputTokens": 1800,
      "cacheWriteInputTokens": 200}})",
                                         "");
  REQUIRE(bedrock.error == ErrorClass::none);
  CHECK(bedrock.tokens_in == 2050);
  CHECK(bedrock.tokens_cached == 1800);
  CHECK(bedrock.tokens_cache_write == 200);

  // Fresh input at $2, cached at $0.2, written at $2.5 a million, output at $8.
  double expected = (50 * 2.0 + 1800 * 0.2 + 200 * 2.5 + 100 * 8.0) / 1e6;
  CHECK(*cost_of(priced(0.2, 2.5), anthropic) == Approx(expected));
  CHECK(*cost_of(priced(0.2, 2.5), bedrock) == Approx(expected));
  // Without cache prices every input token is at the input price.
  CHECK(*cost_of(priced(), anthropic) == Approx((2050 * 2.0 + 100 * 8.0) / 1e6));
}

TEST_CASE("Gemini's cached content is part of its prompt tokens", "[providers][cost]") {
  auto r = gemini::parse_response(200, R"({"candidates": [{"content": {"parts": [{"text": "hi"}],
      "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 2000,
      "cachedContentTokenCount": 1500, "candidatesTokenCount": 100, "totalTokenCount": 2100}})");
  REQUIRE(r.error == ErrorClass::none);
  CHECK(r.tokens_in == 2000);
  CHECK(r.tokens_cached == 1500);
  CHECK(*cost_of(priced(0.5), r) == Approx((500 * 2.0 + 1500 * 0.5 + 100 * 8.0) / 1e6));
}

TEST_CASE("a cost needs both prices and the usage", "[providers][cost]") {
  Reply r;
  r.tokens_in = 10;
  r.tokens_out = 5;
  ProviderConfig half;
  half.input_price_per_mtok = 1.0;
  CHECK_FALSE(cost_of(half, r));
  CHECK_FALSE(cost_of(priced(), Reply{}));
  // A provider that reports more cached tokens than input tokens is not charged below nothing.
  r.tokens_cached = 50;
  CHECK(*cost_of(priced(0.5), r) == Approx((50 * 0.5 + 5 * 8.0) / 1e6));
}

TEST_CASE("gemini's retryDelay is read from the RetryInfo detail of an error body",
          "[providers][gemini]") {
  auto body = [](const std::string& delay) {
    return R"({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "slow down",
      "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ")" +
           delay + R"("}]}})";
  };
  CHECK(gemini::retry_delay_ms(body("17s")) == 17000.0);
  CHECK(gemini::retry_delay_ms(body("0.25s")) == 250.0);
  CHECK_FALSE(gemini::retry_delay_ms(body("17")));
  CHECK_FALSE(gemini::retry_delay_ms(body("-1s")));
  CHECK_FALSE(gemini::retry_delay_ms(body("soons")));
  CHECK_FALSE(gemini::retry_delay_ms(R"({"error": {"code": 429, "details": "none"}})"));
  CHECK_FALSE(gemini::retry_delay_ms("not json"));
}
