// The embeddings request and response: build_embeddings_request sent to the stand-in's
// POST /v1/embeddings through the project's transport, read back by parse_embeddings.

#include "providers/embeddings.hpp"
#include "providers/transport.hpp"
#include "scoring/evaluate.hpp"
#include "support/standin.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::providers;
using json = nlohmann::json;

namespace {

HttpResponse exchange(HttpRequest request) {
  auto transport = Transport::make(1, 5, 10);
  REQUIRE(transport);
  (*transport)->start(1, std::move(request));
  for (int i = 0; i < 100; ++i)
    if (auto done = (*transport)->wait(100); !done.empty())
      return done[0];
  FAIL("the stand-in did not answer");
  return {};
}

ProviderConfig provider(const test::StandIn& s, Kind kind = Kind::openai) {
  ProviderConfig c;
  c.name = "local";
  c.kind = kind;
  c.base_url = kind == Kind::anthropic ? s.base() : s.openai_base();
  c.model = "stand-in";
  c.headers["X-Team"] = "evals";
  REQUIRE(finish_config(c));
  return c;
}

} // namespace

TEST_CASE("an embeddings request goes to {base_url}/embeddings with the model, the texts and the "
          "provider's key and headers",
          "[providers]") {
  test::StandIn s;
  auto c = provider(s);
  auto body = embeddings_body("text-embedding-3-large", {"Paris is the capital", "of France"});
  CHECK(body ==
        R"({"input":["Paris is the capital","of France"],"model":"text-embedding-3-large"})");
  auto request = build_embeddings_request(c, body, "sk-test", "idem-1");
  CHECK(request.url == s.openai_base() + "/embeddings");
  CHECK(std::ranges::find(request.headers, "Authorization: Bearer sk-test") !=
        request.headers.end());
  CHECK(std::ranges::find(request.headers, "X-Team: evals") != request.headers.end());

  auto response = exchange(request);
  REQUIRE(response.status == 200);
  auto e = parse_embeddings(response.status, response.body, 2);
  REQUIRE(e.error == ErrorClass::none);
  REQUIRE(e.vectors.size() == 2);
  CHECK(e.vectors[0].size() == 256);
  CHECK(e.tokens_in == 6);
  auto log = s.log();
  REQUIRE(log.size() == 1);
  CHECK(log[0]["path"] == "/v1/embeddings");
  CHECK(log[0]["authorization_present"] == true);
}

TEST_CASE("the stand-in's embeddings put texts with shared words close and unrelated texts far",
          "[providers]") {
  test::StandIn s;
  auto c = provider(s);
  auto body =
      embeddings_body("m", {"The capital of France is Paris.", "paris is the CAPITAL of france",
                            "Bananas are yellow", "The capital of Spain is Madrid."});
  auto response = exchange(build_embeddings_request(c, body, "", "k"));
  auto e = parse_embeddings(response.status, response.body, 4);
  REQUIRE(e.error == ErrorClass::none);
  CHECK(scoring::cosine_similarity(e.vectors[0], e.vectors[1]) == Approx(1.0));
  CHECK(scoring::cosine_similarity(e.vectors[0], e.vectors[2]) == Approx(0.0));
  double partial = *scoring::cosine_similarity(e.vectors[0], e.vectors[3]);
  CHECK(partial > 0.5);
  CHECK(partial < 0.9);
}

TEST_CASE("an embeddings error or a malformed response is classed, never read as vectors",
          "[providers]") {
  test::StandIn s;
  auto c = provider(s);
  auto response = exchange(build_embeddings_request(c, embeddings_body("m", {""}), "", "k"));
  CHECK(response.status == 400);
  auto refused = parse_embeddings(response.status, response.body, 1);
  CHECK(refused.error == ErrorClass::bad_request);
  CHECK_THAT(refused.error_message, Catch::Contains("'$.input' is invalid"));

  CHECK(parse_embeddings(200, "not json", 1).error == ErrorClass::bad_response);
  CHECK(parse_embeddings(200, R"({"data": []})", 1).error == ErrorClass::bad_response);
  auto repeated = parse_embeddings(
      200, R"({"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]})", 2);
  CHECK(repeated.error == ErrorClass::bad_response);
  CHECK_THAT(repeated.error_message, Catch::Contains("unexpected index 0"));
  CHECK(parse_embeddings(200, R"({"data": [{"index": 0, "embedding": "AAAA"}]})", 1).error ==
        ErrorClass::bad_response);
  // Out of order, placed by index.
  auto ordered = parse_embeddings(
      200, R"({"data": [{"index": 1, "embedding": [0, 1]}, {"index": 0, "embedding": [1, 0]}]})",
      2);
  REQUIRE(ordered.error == ErrorClass::none);
  CHECK(ordered.vectors[0] == std::vector<double>{1, 0});
  CHECK(parse_embeddings(429, R"({"error": {"message": "slow down", "type": "requests"}})", 1)
            .error == ErrorClass::rate_limited);
}

TEST_CASE("only OpenAI-compatible providers are asked for embeddings", "[providers]") {
  test::StandIn s;
  CHECK(embeddings_refusal(provider(s)).empty());
  CHECK(embeddings_refusal(provider(s, Kind::openai_responses)).empty());
  CHECK_THAT(embeddings_refusal(provider(s, Kind::anthropic)),
             Catch::Contains("provider local is of type anthropic"));
}
