// The stand-in's SigV4 verifier against AWS's published Signature Version 4 test suite
// (credentials AKIDEXAMPLE, 2015-08-30 12:36:00 UTC, us-east-1, service "service"): the
// implementation that checks libcurl's signatures is itself checked against AWS's vectors.

#include "standin/sigv4.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::standin;

namespace {

constexpr const char* k_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* k_date = "20150830T123600Z";
constexpr std::time_t k_now = 1440938160; // 2015-08-30T12:36:00Z
constexpr const char* k_scope = "20150830/us-east-1/service/aws4_request";
constexpr const char* k_empty_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string sign(const char* method, const char* path, const char* query,
                 const std::vector<Header>& headers, const char* signed_headers,
                 const std::string& body) {
  auto creq = sigv4::canonical_request(method, path, query, headers, signed_headers,
                                       sigv4::hex_sha256(body));
  return sigv4::signature(k_secret, "20150830", "us-east-1", "service",
                          sigv4::string_to_sign(k_date, k_scope, creq));
}

const std::vector<Header> k_vanilla{{"host", "example.amazonaws.com"}, {"x-amz-date", k_date}};

// A request as the vectors send it, with the Authorization header the suite publishes.
Request vector_request(const std::string& method, const std::string& signature) {
  Request r;
  r.method = method;
  r.path = "/";
  r.headers = k_vanilla;
  r.headers.emplace_back("authorization",
                         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
                             signature);
  return r;
}

const sigv4::Credentials k_example{"AKIDEXAMPLE", k_secret};

} // namespace

TEST_CASE("the SigV4 verifier reproduces AWS's get-vanilla and post-vanilla signatures",
          "[standin][sigv4]") {
  CHECK(sigv4::hex_sha256("") == k_empty_hash);
  CHECK(sigv4::canonical_request("GET", "/", "", k_vanilla, "host;x-amz-date", k_empty_hash) ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
            std::string(k_empty_hash));
  CHECK(sign("GET", "/", "", k_vanilla, "host;x-amz-date", "") ==
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(sign("POST", "/", "", k_vanilla, "host;x-amz-date", "") ==
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST_CASE("the SigV4 verifier reproduces AWS's query-order and form-body signatures",
          "[standin][sigv4]") {
  // get-vanilla-query-order-key-case: the query is signed sorted by name.
  CHECK(sigv4::canonical_query("Param2=value2&Param1=value1") == "Param1=value1&Param2=value2");
  CHECK(sign("GET", "/", "Param2=value2&Param1=value1", k_vanilla, "host;x-amz-date", "") ==
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  // post-x-www-form-urlencoded: a signed content-type and the body's hash.
  std::vector<Header> form{{"content-type", "application/x-www-form-urlencoded"},
                           {"host", "example.amazonaws.com"},
                           {"x-amz-date", k_date}};
  CHECK(sign("POST", "/", "", form, "content-type;host;x-amz-date", "Param1=value1") ==
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST_CASE("the SigV4 verifier encodes each path segment once more, as every service but S3 does",
          "[standin][sigv4]") {
  CHECK(sigv4::canonical_uri("/model/anthropic.claude-v2%3A1/converse") ==
        "/model/anthropic.claude-v2%253A1/converse");
  CHECK(sigv4::canonical_uri("/model/anthropic.claude-v2:1/converse") ==
        "/model/anthropic.claude-v2%3A1/converse");
  CHECK(sigv4::canonical_uri("/") == "/");
}

TEST_CASE("the SigV4 verifier accepts AWS's signed vectors and refuses a wrong or missing one",
          "[standin][sigv4]") {
  auto get =
      vector_request("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK_FALSE(sigv4::verify(get, k_example, "service", k_now));
  auto post =
      vector_request("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  CHECK_FALSE(sigv4::verify(post, k_example, "service", k_now));

  SECTION("another secret gives another signature") {
    auto wrong = sigv4::verify(get, {"AKIDEXAMPLE", "not-the-secret"}, "service", k_now);
    REQUIRE(wrong);
    CHECK(wrong->status == 403);
    CHECK(wrong->type == "InvalidSignatureException");
    CHECK(wrong->message.find("The Canonical String for this request should have been") !=
          std::string::npos);
  }
  SECTION("a GET signature does not sign a POST") {
    auto swapped =
        vector_request("POST", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK(sigv4::verify(swapped, k_example, "service", k_now)->type == "InvalidSignatureException");
  }
  SECTION("an unknown access key id") {
    CHECK(sigv4::verify(get, {"AKIDOTHER", k_secret}, "service", k_now)->type ==
          "UnrecognizedClientException");
  }
  SECTION("no Authorization header") {
    Request bare = get;
    bare.headers.pop_back();
    auto missing = sigv4::verify(bare, k_example, "service", k_now);
    REQUIRE(missing);
    CHECK(missing->type == "MissingAuthenticationTokenException");
    CHECK(missing->message == "Missing Authentication Token");
  }
  SECTION("a signature more than 15 minutes old") {
    auto expired = sigv4::verify(get, k_example, "service", k_now + 16 * 60);
    REQUIRE(expired);
    CHECK(expired->type == "InvalidSignatureException");
    CHECK(expired->message.starts_with("Signature expired"));
  }
  SECTION("a session token the stand-in does not expect, or none when it expects one") {
    Request with_token = get;
    with_token.headers.emplace_back("x-amz-security-token", "token");
    CHECK(sigv4::verify(with_token, k_example, "service", k_now)->type ==
          "UnrecognizedClientException");
    CHECK(sigv4::verify(get, {"AKIDEXAMPLE", k_secret, "token"}, "service", k_now)->type ==
          "UnrecognizedClientException");
  }
  SECTION("a signature scoped to another service") {
    CHECK(sigv4::verify(get, k_example, "bedrock", k_now)->type == "InvalidSignatureException");
  }
}
