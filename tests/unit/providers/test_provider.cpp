#include "providers/provider.hpp"
#include "providers/retry.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::providers;

namespace {

ProviderConfig openai() {
  ProviderConfig c;
  c.name = "local";
  c.kind = Kind::openai;
  c.base_url = "http://127.0.0.1:8089/v1/";
  c.model = "stand-in";
  c.seed = 7;
  REQUIRE(finish_config(c));
  return c;
}

bool has_header(const HttpRequest& r, const std::string& h) {
  return std::find(r.headers.begin(), r.headers.end(), h) != r.headers.end();
}

} // namespace

TEST_CASE("an OpenAI request carries the model, messages, pinned temperature and seed",
          "[providers]") {
  auto c = openai();
  auto r = build_request(c, {{{"system", "Be brief."}, {"user", "Hi"}}}, "sk-test", "k1");
  CHECK(r.url == "http://127.0.0.1:8089/v1/chat/completions");
  CHECK(has_header(r, "Authorization: Bearer sk-test"));
  CHECK_FALSE(has_header(r, "Idempotency-Key: k1"));
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["model"] == "stand-in");
  CHECK(body["temperature"] == 0.0);
  CHECK(body["seed"] == 7);
  CHECK(body["messages"].size() == 2);
  CHECK(body["messages"][0]["role"] == "system");

  c.idempotency_header = true;
  auto keyless = build_request(c, {{{"user", "Hi"}}}, "", "k1");
  CHECK(has_header(keyless, "Idempotency-Key: k1"));
  CHECK(std::none_of(keyless.headers.begin(), keyless.headers.end(),
                     [](const auto& h) { return h.starts_with("Authorization"); }));
}

TEST_CASE("an Anthropic request puts the system prompt apart and sends the version header",
          "[providers]") {
  ProviderConfig c;
  c.name = "claude";
  c.kind = Kind::anthropic;
  c.model = "claude-x";
  REQUIRE(finish_config(c));
  CHECK(c.base_url == "https://api.anthropic.com");
  CHECK(c.api_key_env == "ANTHROPIC_API_KEY");
  auto r = build_request(c, {{{"system", "Be brief."}, {"user", "Hi"}}}, "key", "k");
  CHECK(r.url == "https://api.anthropic.com/v1/messages");
  CHECK(has_header(r, "x-api-key: key"));
  CHECK(has_header(r, "anthropic-version: 2023-06-01"));
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["system"] == "Be brief.");
  CHECK(body["messages"].size() == 1);
  CHECK(body["max_tokens"] == 1024);
}

TEST_CASE("responses parse into answers, usage and the served model", "[providers]") {
  auto ok =
      parse_response(Kind::openai, 200,
                     R"({"model":"gpt-x-2026","system_fingerprint":"fp_1","choices":[{"index":0,
                           "message":{"role":"assistant","content":"Hello"}}],
                           "usage":{"prompt_tokens":5,"completion_tokens":1}})");
  CHECK(ok.error == ErrorClass::none);
  CHECK(ok.text == "Hello");
  CHECK(ok.served_model == "gpt-x-2026");
  CHECK(ok.fingerprint == "fp_1");
  CHECK(ok.tokens_in == 5);
  CHECK(ok.tokens_out == 1);

  auto claude = parse_response(Kind::anthropic, 200,
                               R"({"type":"message","model":"claude-x","content":[{"type":"text",
                               "text":"Hi "},{"type":"text","text":"there"}],
                               "usage":{"input_tokens":3,"output_tokens":2}})");
  CHECK(claude.error == ErrorClass::none);
  CHECK(claude.text == "Hi there");
  CHECK(claude.tokens_out == 2);
}

TEST_CASE("bad bodies and error statuses are provider errors, never answers", "[providers]") {
  CHECK(parse_response(Kind::openai, 200, R"({"choices": [)").error == ErrorClass::bad_response);
  CHECK(parse_response(Kind::openai, 200, "<html>oops</html>").error == ErrorClass::bad_response);
  CHECK(parse_response(Kind::openai, 200, R"({"choices": []})").error == ErrorClass::bad_response);
  CHECK(parse_response(Kind::openai, 200, R"({"error": {"message": "boom"}})").error ==
        ErrorClass::bad_response);
  CHECK(parse_response(Kind::anthropic, 200, R"({"content": []})").error ==
        ErrorClass::bad_response);
  CHECK(parse_response(Kind::openai, 429, R"({"error":{"type":"rate_limit_error"}})").error ==
        ErrorClass::rate_limited);
  auto quota = parse_response(
      Kind::openai, 429,
      R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})");
  CHECK(quota.error == ErrorClass::quota);
  CHECK_THAT(quota.error_message, Catch::Contains("exceeded your current quota"));
  // Anthropic's empty account is a 400 that only its message tells apart.
  CHECK(parse_response(Kind::anthropic, 400,
                       R"({"type":"error","error":{"type":"invalid_request_error","message":)"
                       R"("Your credit balance is too low to access the Anthropic API."}})")
            .error == ErrorClass::quota);
  CHECK(parse_response(Kind::anthropic, 529,
                       R"({"type":"error","error":{"type":"overloaded_error"}})")
            .error == ErrorClass::rate_limited);
  CHECK(parse_response(Kind::openai, 401, "{}").error == ErrorClass::auth);
  CHECK(parse_response(Kind::openai, 503, "<html></html>").error == ErrorClass::server);
  CHECK(parse_response(Kind::openai, 400, "{}").error == ErrorClass::bad_request);
}

TEST_CASE("only transient failures are retried", "[providers]") {
  for (long s : {500L, 502L, 503L, 504L})
    CHECK(is_retryable(s, ErrorClass::server));
  CHECK(is_retryable(429, ErrorClass::rate_limited));
  CHECK(is_retryable(529, ErrorClass::rate_limited));
  CHECK(is_retryable(409, ErrorClass::bad_request));
  CHECK(is_retryable(0, ErrorClass::connection));
  CHECK(is_retryable(0, ErrorClass::timeout));
  CHECK_FALSE(is_retryable(501, ErrorClass::server));
  for (long s : {400L, 404L, 413L})
    CHECK_FALSE(is_retryable(s, ErrorClass::bad_request));
  CHECK_FALSE(is_retryable(401, ErrorClass::auth));
  CHECK_FALSE(is_retryable(429, ErrorClass::quota));
  CHECK_FALSE(is_retryable(200, ErrorClass::bad_response));
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[providers]") {
  CHECK(parse_retry_after("1", 0) == 1.0);
  CHECK(parse_retry_after(" 2.5 ", 0) == 2.5);
  // Wed, 21 Oct 2026 07:28:00 GMT is 1792567680 seconds after 1970.
  CHECK(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", 1792567670) == 10.0);
  CHECK(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", 1792567690) == 0.0);
  CHECK_FALSE(parse_retry_after("soon", 0));
  CHECK_FALSE(parse_retry_after("-3", 0));
  CHECK_FALSE(parse_retry_after("", 0));
  CHECK(parse_retry_after_ms("250") == 250.0);
  CHECK_FALSE(parse_retry_after_ms("x"));
}

TEST_CASE("backoff grows exponentially, is capped and jittered", "[providers]") {
  CHECK(backoff_ms(1, 0.999, 500, 20000) <= 500);
  CHECK(backoff_ms(3, 0.999, 500, 20000) > 1900);
  CHECK(backoff_ms(30, 0.999, 500, 20000) <= 20000);
  CHECK(backoff_ms(3, 0.0, 500, 20000) == 0.0);
  CHECK(backoff_ms(3, 0.5, 500, 20000) == 1000.0);
}

TEST_CASE("request bodies are the bytes nlohmann::json dumps for the same request", "[providers]") {
  using json = nlohmann::json;
  // What build_request sent before it wrote bodies directly: cache keys and the benchmark's
  // client depend on these bytes.
  auto expected = [](const ProviderConfig& c, const ChatInput& in) {
    json body;
    body["model"] = c.model;
    json messages = json::array();
    std::string system;
    for (const auto& m : in.messages) {
      if (c.kind == Kind::anthropic && m.role == "system")
        system += (system.empty() ? "" : "\n\n") + m.content;
      else
        messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    if (!system.empty())
      body["system"] = system;
    if (c.kind == Kind::openai && c.seed)
      body["seed"] = *c.seed;
    body["messages"] = std::move(messages);
    if (c.temperature)
      body["temperature"] = *c.temperature;
    if (c.max_tokens)
      body["max_tokens"] = *c.max_tokens;
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  ChatInput in{{{"system", "Be \"brief\".\tNo \\ tricks\x01\x7f"},
                {"user", "Où est ma commande? 🙂 \xff\xfe broken"},
                {"assistant", "Line\nbreak\r\b\f"},
                {"user", ""}}};
  auto c = openai();
  CHECK(request_body(c, in) == expected(c, in));
  c.temperature = 0.7;
  c.max_tokens = 256;
  c.seed.reset();
  CHECK(request_body(c, in) == expected(c, in));
  c.temperature.reset();
  CHECK(request_body(c, {}) == expected(c, {}));

  ProviderConfig claude;
  claude.name = "claude";
  claude.kind = Kind::anthropic;
  claude.model = "claude-x";
  claude.seed = 3;
  REQUIRE(finish_config(claude));
  CHECK(request_body(claude, in) == expected(claude, in));
  CHECK(request_body(claude, {{{"system", "only"}}}) == expected(claude, {{{"system", "only"}}}));
}

TEST_CASE("redact removes every copy of the key and nothing else", "[providers]") {
  std::string body = "{\"error\":{\"message\":\"bad key: Bearer sk-123 (sk-123)\"}}";
  redact(body, "sk-123");
  CHECK(body == "{\"error\":{\"message\":\"bad key: Bearer [redacted] ([redacted])\"}}");
  std::string untouched = "no key here";
  redact(untouched, "");
  CHECK(untouched == "no key here");
  std::string repeated = "aaaa";
  redact(repeated, "aa");
  CHECK(repeated == "[redacted][redacted]");
}

TEST_CASE("a key is redacted from a reply in every form a server could echo it", "[providers]") {
  const std::string key = "sk-test-8f3Kq0ZtY7vW2mXp";
  // \u escapes hide the key from a search of the raw body; decoding brings it back.
  auto reply = parse_response(
      Kind::openai, 401,
      R"({"error":{"message":"Incorrect API key provided: \u0073k-test-8f3Kq0ZtY7vW2mXp"}})");
  REQUIRE(reply.error_message.find(key) != std::string::npos);
  redact(reply, key);
  CHECK(reply.error_message == "HTTP 401: Incorrect API key provided: [redacted]");

  auto contains = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  // Base64 of the Authorization header, of the key at each alignment in a longer text, and the
  // percent-encoded and hex forms.
  for (std::string text : {std::string("auth=QmVhcmVyIHNrLXRlc3QtOGYzS3EwWnRZN3ZXMm1YcA=="),
                           std::string("x:c2stdGVzdC04ZjNLcTBadFk3dlcybVhw"),
                           std::string("%73%6B%2D%74%65%73%74%2D%38%66%33%4B%71%30%5A%74%59%37%76"
                                       "%57%32%6D%58%70"),
                           std::string("736b2d746573742d3866334b71305a7459377657326d5870")}) {
    redact(text, key);
    CHECK(contains(text, "[redacted]"));
    CHECK_FALSE(contains(text, "c3QtOGYzS3EwWnRZN3ZXMm1Y"));
    CHECK_FALSE(contains(text, "%74%65%73%74%2D%38"));
    CHECK_FALSE(contains(text, "3866334b71305a"));
  }
  std::string other = "an answer with no key in it";
  redact(other, key);
  CHECK(other == "an answer with no key in it");
}
