// Amazon Bedrock's Converse API: the request evalkeep builds, the replies and errors it reads, and
// libcurl's SigV4 signatures checked by the stand-in's own verifier over real HTTP on 127.0.0.1.

#include "providers/bedrock.hpp"
#include "providers/provider.hpp"
#include "providers/transport.hpp"
#include "standin/sigv4.hpp"
#include "support/exchange.hpp"
#include "support/standin.hpp"

#include <algorithm>
#include <cstdlib>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace evalkeep;
using namespace evalkeep::providers;
using evalkeep::test::exchange;
using json = nlohmann::json;

namespace {

ProviderConfig bedrock_config(std::string base_url = {}) {
  ProviderConfig c;
  c.name = "aws";
  c.kind = Kind::bedrock;
  c.model = "anthropic.claude-3-haiku";
  c.region = "us-west-2";
  c.base_url = std::move(base_url);
  c.max_tokens = 200;
  REQUIRE(finish_config(c));
  return c;
}

const bedrock::Credentials k_test_credentials{
    std::string(standin::sigv4::k_test_access_key_id),
    std::string(standin::sigv4::k_test_secret_access_key)};

Reply call(const ProviderConfig& c, const ChatInput& in, const bedrock::Credentials& credentials) {
  auto request = build_request(c, in, credentials.secret_access_key, "k");
  bedrock::sign(request, c, credentials);
  auto response = exchange(std::move(request));
  REQUIRE(response.transport_error == ErrorClass::none);
  return bedrock::parse_response(response.status, response.body, response.error_type);
}

} // namespace

TEST_CASE("a bedrock request is a Converse body for /model/{id}/converse, signed by libcurl",
          "[providers][bedrock]") {
  auto c = bedrock_config();
  CHECK(c.base_url == "https://bedrock-runtime.us-west-2.amazonaws.com");
  CHECK(c.api_key_env == "AWS_SECRET_ACCESS_KEY");
  auto r = build_request(c, {{{"system", "Be brief."}, {"user", "Hi"}}}, "the-secret", "k1");
  CHECK(r.url == "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-haiku/"
                 "converse");
  // A ':' stays as it is; an ARN's '/' is encoded so the id stays one segment of the path.
  c.model = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3 v1:0";
  CHECK(evalkeep::providers::bedrock::url(c) ==
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn:aws:bedrock:us-east-1:"
        "123456789012:inference-profile%2Fus.meta.llama3%20v1:0/converse");
  auto body = json::parse(r.body);
  CHECK(body == json::parse(R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 200, "temperature": 0.0}})"));
  // The secret is never a header: libcurl signs with it.
  for (const auto& h : r.headers)
    CHECK(h.find("the-secret") == std::string::npos);
  CHECK(r.aws_sigv4.empty());

  bedrock::sign(r, c, {"AKIDEXAMPLE", "the-secret", "the-token"});
  CHECK(r.aws_sigv4 == "aws:amz:us-west-2:bedrock");
  CHECK(r.userpwd == "AKIDEXAMPLE:the-secret");
  CHECK(std::find(r.headers.begin(), r.headers.end(), "x-amz-security-token: the-token") !=
        r.headers.end());
}

TEST_CASE("a bedrock provider takes its region from the config, else AWS_REGION, else "
          "AWS_DEFAULT_REGION, and refuses to go without one",
          "[providers][bedrock]") {
  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_DEFAULT_REGION");
  ProviderConfig c;
  c.name = "aws";
  c.kind = Kind::bedrock;
  c.model = "m";
  auto missing = finish_config(c);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("provider aws: a bedrock provider needs a region") !=
        std::string::npos);
  ::setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
  ProviderConfig d = c;
  REQUIRE(finish_config(d));
  CHECK(d.region == "eu-west-1");
  ::setenv("AWS_REGION", "ap-south-1", 1);
  ProviderConfig e = c;
  REQUIRE(finish_config(e));
  CHECK(e.region == "ap-south-1");
  CHECK(e.base_url == "https://bedrock-runtime.ap-south-1.amazonaws.com");
  CHECK(answer_params(e)["region"] == "ap-south-1");
  ::unsetenv("AWS_REGION");
  ::unsetenv("AWS_DEFAULT_REGION");
}

TEST_CASE("a bedrock request carries tools as toolConfig and tool turns as toolUse and toolResult "
          "blocks",
          "[providers][bedrock]") {
  auto c = bedrock_config();
  ChatInput in;
  in.messages = {{"user", "Refund A1"},
                 {"assistant", "", {{"tooluse_1", "issue_refund", R"({"order_id":"A1"})"}}},
                 {"tool", "refunded", {}, "tooluse_1"}};
  auto tools = core::normalize_tools(json::parse(R"([{"name": "issue_refund",
    "description": "Refund an order",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}])"));
  REQUIRE(tools);
  in.tools = *tools;
  in.tool_choice = "required";
  auto body = json::parse(request_body(c, in));
  CHECK(body["toolConfig"] == json::parse(R"({"tools": [{"toolSpec": {"name": "issue_refund",
    "description": "Refund an order", "inputSchema": {"json": {"type": "object",
    "properties": {"order_id": {"type": "string"}}}}}}], "toolChoice": {"any": {}}})"));
  CHECK(body["messages"][1] == json::parse(R"({"role": "assistant", "content": [{"toolUse":
    {"toolUseId": "tooluse_1", "name": "issue_refund", "input": {"order_id": "A1"}}}]})"));
  CHECK(body["messages"][2] == json::parse(R"({"role": "user", "content": [{"toolResult":
    {"toolUseId": "tooluse_1", "content": [{"text": "refunded"}]}}]})"));

  SECTION("a named function is toolChoice.tool") {
    auto choice = core::normalize_tool_choice(
        json::parse(R"({"type": "function", "function": {"name": "issue_refund"}})"), *tools);
    REQUIRE(choice);
    in.tool_choice = *choice;
    CHECK(json::parse(request_body(c, in))["toolConfig"]["toolChoice"] ==
          json::parse(R"({"tool": {"name": "issue_refund"}})"));
  }
  SECTION("none sends no tools to a conversation without tool turns") {
    ChatInput plain{{{"user", "Hi"}}, *tools, "none"};
    CHECK_FALSE(json::parse(request_body(c, plain)).contains("toolConfig"));
    in.tool_choice = "none"; // tool turns need their definitions: sent, without a choice
    auto with_turns = json::parse(request_body(c, in));
    CHECK(with_turns["toolConfig"]["tools"].size() == 1);
    CHECK_FALSE(with_turns["toolConfig"].contains("toolChoice"));
  }
}

TEST_CASE("a Converse reply gives its text, its toolUse calls and its usage",
          "[providers][bedrock]") {
  auto r = bedrock::parse_response(200, R"({"output": {"message": {"role": "assistant",
    "content": [{"text": "Refunding."}, {"toolUse": {"toolUseId": "tooluse_9",
    "name": "issue_refund", "input": {"order_id": "A1"}}}]}}, "stopReason": "tool_use",
    "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15}})",
                                   "");
  CHECK(r.error == ErrorClass::none);
  CHECK(r.text == "Refunding.");
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0].id == "tooluse_9");
  CHECK(r.tool_calls[0].name == "issue_refund");
  CHECK(json::parse(r.tool_calls[0].arguments) == json{{"order_id", "A1"}});
  CHECK(r.tokens_in == 12);
  CHECK(r.tokens_out == 3);
  CHECK(parse_response(Kind::bedrock, 200,
                       R"({"output": {"message": {"content": [{"text": "ok"}]}}})")
            .text == "ok");
}

TEST_CASE("a guardrail or content filter that stopped the answer is an answer to score, not an "
          "error",
          "[providers][bedrock]") {
  auto guarded = bedrock::parse_response(200, R"({"output": {"message": {"role": "assistant",
    "content": [{"text": "Sorry, the model cannot answer this question."}]}},
    "stopReason": "guardrail_intervened", "usage": {"inputTokens": 5, "outputTokens": 0}})",
                                         "");
  CHECK(guarded.error == ErrorClass::none);
  CHECK(guarded.text == "Sorry, the model cannot answer this question.");
  auto filtered =
      bedrock::parse_response(200, R"({"output": {"message": {"role": "assistant", "content": []}},
    "stopReason": "content_filtered"})",
                              "");
  CHECK(filtered.error == ErrorClass::none);
  CHECK(filtered.text.empty());
  // Without such a reason, a reply with nothing in it is not an answer.
  auto empty = bedrock::parse_response(
      200, R"({"output": {"message": {"content": []}}, "stopReason": "end_turn"})", "");
  CHECK(empty.error == ErrorClass::bad_response);
  CHECK(bedrock::parse_response(200, R"({"message": "Internal failure"})", "").error ==
        ErrorClass::bad_response);
}

TEST_CASE("Bedrock's errors are classed by their x-amzn-ErrorType", "[providers][bedrock]") {
  struct Case {
    long status;
    const char* type;
    ErrorClass want;
  };
  for (auto [status, type, want] : {
           Case{429, "ThrottlingException", ErrorClass::rate_limited},
           Case{429, "ModelNotReadyException", ErrorClass::rate_limited},
           Case{403, "AccessDeniedException", ErrorClass::auth},
           Case{403, "UnrecognizedClientException", ErrorClass::auth},
           Case{403, "ExpiredTokenException", ErrorClass::auth},
           Case{403, "InvalidSignatureException", ErrorClass::auth},
           Case{400, "ValidationException", ErrorClass::bad_request},
           Case{404, "ResourceNotFoundException", ErrorClass::bad_request},
           Case{408, "ModelTimeoutException", ErrorClass::timeout},
           Case{424, "ModelErrorException", ErrorClass::server},
           Case{500, "InternalServerException", ErrorClass::server},
           Case{503, "ServiceUnavailableException", ErrorClass::server},
           Case{400, "ServiceQuotaExceededException", ErrorClass::quota},
       }) {
    CAPTURE(type);
    auto header = std::string(type) + ":http://internal.amazon.com/coral/com.amazon.bedrock/";
    auto r = bedrock::parse_response(status, R"({"message": "what went wrong"})", header);
    CHECK(r.error == want);
    CHECK(r.error_message == fmt::format("HTTP {} {}: what went wrong", status, std::string(type)));
  }
  // Without the header: the body's __type, then the status.
  CHECK(bedrock::parse_response(
            400, R"({"__type": "com.amazon.coral.service#ExpiredTokenException", "message": "x"})",
            "")
            .error == ErrorClass::auth);
  CHECK(bedrock::parse_response(429, "not json", "").error == ErrorClass::rate_limited);
}

TEST_CASE("libcurl's SigV4 signature passes the stand-in's independent verifier",
          "[providers][bedrock][standin]") {
  test::StandIn s;
  auto c = bedrock_config(s.base());
  ChatInput in{{{"system", "You are terse."}, {"user", "What is the refund window?"}}};
  auto r = call(c, in, k_test_credentials);
  CHECK(r.error == ErrorClass::none);
  CHECK(r.text == "I can help with that.");
  CHECK(r.tokens_in == 8); // the stand-in counts words: 3 of the system prompt, 5 asked
  CHECK(s.log()[0]["authorization_present"] == true);

  SECTION("signed with another secret, the request is refused as AWS refuses it") {
    auto wrong = call(c, in, {k_test_credentials.access_key_id, "not-the-secret"});
    CHECK(wrong.error == ErrorClass::auth);
    CHECK(wrong.error_message.starts_with("HTTP 403 InvalidSignatureException: The request "
                                          "signature we calculated does not match"));
  }
  SECTION("an unknown access key id") {
    auto unknown = call(c, in, {"AKIDUNKNOWN", k_test_credentials.secret_access_key});
    CHECK(unknown.error == ErrorClass::auth);
    CHECK(unknown.error_message.find("UnrecognizedClientException") != std::string::npos);
  }
  SECTION("unsigned") {
    auto response = exchange(build_request(c, in, "", "k"));
    auto unsigned_reply =
        bedrock::parse_response(response.status, response.body, response.error_type);
    CHECK(unsigned_reply.error == ErrorClass::auth);
    CHECK(unsigned_reply.error_message ==
          "HTTP 403 MissingAuthenticationTokenException: Missing Authentication Token");
  }
}

TEST_CASE("temporary credentials send their session token, which the stand-in checks",
          "[providers][bedrock][standin]") {
  test::StandIn s(R"({"aws": {"access_key_id": "AKIDSTANDINEXAMPLE",
    "secret_access_key": "standin/K7MDENG+bPxRfiCYSTANDINKEY",
    "session_token": "FwoGZXIvYXdzEXAMPLETOKEN"}})");
  auto c = bedrock_config(s.base());
  ChatInput in{{{"user", "Hi"}}};
  auto credentials = k_test_credentials;
  credentials.session_token = "FwoGZXIvYXdzEXAMPLETOKEN";
  CHECK(call(c, in, credentials).error == ErrorClass::none);
  auto without = call(c, in, k_test_credentials);
  CHECK(without.error == ErrorClass::auth);
  CHECK(without.error_message.find("The security token included in the request is invalid") !=
        std::string::npos);
  CHECK(s.stats()["last_headers"]["x-amz-security-token"] == nullptr); // the refused one had none
}

TEST_CASE("the stand-in's faults reach a bedrock client in Bedrock's error shape",
          "[providers][bedrock][standin]") {
  test::StandIn s(R"({"rules": [
    {"match": "busy", "fault": "429", "retry_after": "2"},
    {"match": "broken", "fault": "503"},
    {"match": "refund", "tool_calls": [{"name": "issue_refund", "arguments": {"order_id": "A1"}}]}
  ]})");
  auto c = bedrock_config(s.base());
  auto request = build_request(c, ChatInput{{{"user", "busy"}}}, "", "k");
  bedrock::sign(request, c, k_test_credentials);
  auto busy = exchange(std::move(request));
  CHECK(busy.status == 429);
  CHECK(busy.error_type.starts_with("ThrottlingException:"));
  CHECK_THAT(busy.retry_after, Catch::Contains("2"));
  CHECK(bedrock::parse_response(busy.status, busy.body, busy.error_type).error ==
        ErrorClass::rate_limited);
  auto broken = call(c, {{{"user", "broken"}}}, k_test_credentials);
  CHECK(broken.error == ErrorClass::server);
  CHECK(broken.error_message.starts_with("HTTP 503 ServiceUnavailableException"));
  auto refund = call(c, {{{"user", "refund please"}}}, k_test_credentials);
  REQUIRE(refund.tool_calls.size() == 1);
  CHECK(refund.tool_calls[0].name == "issue_refund");
  CHECK(refund.tool_calls[0].id == "tooluse_standin_1");
}
