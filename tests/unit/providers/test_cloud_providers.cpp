// Azure OpenAI and Gemini: requests built as each API reference writes them, and responses and
// errors read from bodies in the shapes each API sends, then the same through the stand-in over
// real HTTP on 127.0.0.1.

#include "providers/provider.hpp"
#include "providers/retry.hpp"
#include "providers/transport.hpp"
#include "support/exchange.hpp"
#include "support/standin.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::providers;
using evalkeep::test::exchange;
using json = nlohmann::json;

namespace {

ProviderConfig azure(const std::string& base = "https://contoso.openai.azure.com/") {
  ProviderConfig c;
  c.name = "az";
  c.kind = Kind::azure;
  c.base_url = base;
  c.model = "gpt-4o";
  c.seed = 3;
  REQUIRE(finish_config(c));
  return c;
}

ProviderConfig gemini(const std::string& base = {}) {
  ProviderConfig c;
  c.name = "gem";
  c.kind = Kind::gemini;
  c.base_url = base;
  c.model = "gemini-2.0-flash";
  c.max_tokens = 256;
  c.seed = 5;
  REQUIRE(finish_config(c));
  return c;
}

bool has_header(const HttpRequest& r, const std::string& h) {
  return std::find(r.headers.begin(), r.headers.end(), h) != r.headers.end();
}

bool has_header_named(const HttpRequest& r, const std::string& prefix) {
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [&](const auto& h) { return h.starts_with(prefix); });
}

Reply call(const ProviderConfig& c, const ChatInput& in, const std::string& key = "k-test") {
  auto response = exchange(build_request(c, in, key, "idem"));
  REQUIRE(response.transport_error == ErrorClass::none);
  return parse_response(c.kind, response.status, response.body);
}

} // namespace

TEST_CASE("an Azure request goes to the deployment with the api-version and the api-key header",
          "[providers]") {
  auto c = azure();
  CHECK(c.deployment == "gpt-4o");
  CHECK(c.api_version == "2024-10-21");
  CHECK(c.api_key_env == "AZURE_OPENAI_API_KEY");
  auto r = build_request(c, {{{"system", "Be brief."}, {"user", "Hi"}}}, "az-key", "k");
  CHECK(r.url ==
        "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version="
        "2024-10-21");
  CHECK(has_header(r, "api-key: az-key"));
  CHECK_FALSE(has_header_named(r, "Authorization"));
  // The body is OpenAI's: the same bytes as an openai provider's for the same settings.
  auto openai = c;
  openai.kind = Kind::openai;
  CHECK(r.body == request_body(openai, {{{"system", "Be brief."}, {"user", "Hi"}}}));

  c.deployment = "prod-4o";
  c.api_version = "2025-01-01-preview";
  c.entra_id = true;
  auto bearer = build_request(c, {{{"user", "Hi"}}}, "eyJ0eXAi", "k");
  CHECK(bearer.url.ends_with("/openai/deployments/prod-4o/chat/completions?api-version="
                             "2025-01-01-preview"));
  CHECK(has_header(bearer, "Authorization: Bearer eyJ0eXAi"));
  CHECK_FALSE(has_header_named(bearer, "api-key"));
  // The deployment and version shape the answer: they are part of what a run records.
  CHECK(answer_params(c)["deployment"] == "prod-4o");
  CHECK(answer_params(c)["api_version"] == "2025-01-01-preview");
}

TEST_CASE("an Azure provider needs its endpoint and a deployment name that stays in its segment",
          "[providers]") {
  ProviderConfig c;
  c.name = "az";
  c.kind = Kind::azure;
  c.model = "gpt-4o";
  auto none = finish_config(c);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("base_url") != std::string::npos);
  c.base_url = "https://contoso.openai.azure.com/openai";
  CHECK_FALSE(finish_config(c));
  c.base_url = "https://contoso.openai.azure.com";
  c.deployment = "a/../../b?x=";
  CHECK_FALSE(finish_config(c));
  c.deployment.clear();
  c.entra_id = true;
  REQUIRE(finish_config(c));
  CHECK(c.api_key_env == "AZURE_OPENAI_AD_TOKEN");
}

TEST_CASE("Azure's errors read as clear messages of the right class", "[providers]") {
  auto not_found = parse_response(
      Kind::azure, 404,
      R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}})");
  CHECK(not_found.error == ErrorClass::bad_request);
  CHECK(not_found.error_message ==
        "HTTP 404: DeploymentNotFound: The API deployment for this resource does not exist.");

  auto denied = parse_response(
      Kind::azure, 401,
      R"({"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}})");
  CHECK(denied.error == ErrorClass::auth);
  CHECK(denied.error_message ==
        "HTTP 401: Access denied due to invalid subscription key or wrong API endpoint.");

  auto limited = parse_response(
      Kind::azure, 429,
      R"({"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit. Please retry after 6 seconds."}})");
  CHECK(limited.error == ErrorClass::rate_limited);

  auto filtered = parse_response(
      Kind::azure, 400,
      R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"medium"},"self_harm":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":true,"detected":true}}}}})");
  CHECK(filtered.error == ErrorClass::bad_request);
  CHECK(filtered.error_message.starts_with("HTTP 400: content_filter: The response was filtered"));
  CHECK(filtered.error_message.find("[ResponsibleAIPolicyViolation: filtered hate (medium), "
                                    "jailbreak]") != std::string::npos);
}

TEST_CASE("a completion Azure's filter stopped is an answer to score, with its reason",
          "[providers]") {
  auto r = parse_response(
      Kind::azure, 200,
      R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"finish_reason":"content_filter","message":{"role":"assistant"},"content_filter_results":{"violence":{"filtered":true,"severity":"high"}}}],"usage":{"prompt_tokens":9,"completion_tokens":0,"total_tokens":9}})");
  CHECK(r.error == ErrorClass::none);
  CHECK(r.text.empty());
  CHECK(r.finish_reason == "content_filter");
  CHECK(r.served_model == "gpt-4o-2024-08-06");
  CHECK(r.tokens_in == 9);

  auto cut = parse_response(
      Kind::azure, 200,
      R"({"model":"gpt-4o","choices":[{"index":0,"finish_reason":"content_filter","message":{"role":"assistant","content":"Here is how to"}}]})");
  CHECK(cut.error == ErrorClass::none);
  CHECK(cut.text == "Here is how to");
  CHECK(cut.finish_reason == "content_filter");
  // A normal stop leaves no reason.
  auto plain = parse_response(
      Kind::azure, 200,
      R"({"model":"gpt-4o","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"}}]})");
  CHECK(plain.finish_reason.empty());
}

TEST_CASE("a Gemini request is contents with parts, systemInstruction and generationConfig",
          "[providers]") {
  auto c = gemini();
  CHECK(c.base_url == "https://generativelanguage.googleapis.com");
  CHECK(c.api_key_env == "GEMINI_API_KEY");
  auto r = build_request(c,
                         {{{"system", "Be brief."},
                           {"user", "Hi"},
                           {"assistant", "Hello."},
                           {"user", "What is 2+2?"}}},
                         "g-key", "k");
  CHECK(r.url == "https://generativelanguage.googleapis.com/v1beta/models/"
                 "gemini-2.0-flash:generateContent");
  CHECK(has_header(r, "x-goog-api-key: g-key"));
  CHECK_FALSE(has_header_named(r, "Authorization"));
  auto body = json::parse(r.body);
  CHECK(body["systemInstruction"] == json{{"parts", {{{"text", "Be brief."}}}}});
  REQUIRE(body["contents"].size() == 3);
  CHECK(body["contents"][0] == json{{"role", "user"}, {"parts", {{{"text", "Hi"}}}}});
  CHECK(body["contents"][1]["role"] == "model");
  CHECK(body["contents"][2]["parts"][0]["text"] == "What is 2+2?");
  CHECK(body["generationConfig"] ==
        json{{"temperature", 0.0}, {"maxOutputTokens", 256}, {"seed", 5}});
  CHECK_FALSE(body.contains("model"));
  CHECK_FALSE(body.contains("messages"));

  c.model = "models/gemini-2.5-pro";
  c.temperature.reset();
  c.max_tokens.reset();
  c.seed.reset();
  auto bare = build_request(c, {{{"user", "Hi"}}}, "", "k");
  CHECK(bare.url.ends_with("/v1beta/models/gemini-2.5-pro:generateContent"));
  CHECK_FALSE(has_header_named(bare, "x-goog-api-key"));
  CHECK_FALSE(json::parse(bare.body).contains("generationConfig"));
}

TEST_CASE("Gemini tools are functionDeclarations, calls and results are parts", "[providers]") {
  auto c = gemini();
  ChatInput in;
  in.tools = json::parse(R"([{"type":"function","function":{"name":"issue_refund",
    "description":"Refund an order","parameters":{"type":"object","properties":{"order_id":
    {"type":"string"}},"required":["order_id"],"additionalProperties":false}}}])");
  in.tool_choice = json::parse(R"({"type":"function","function":{"name":"issue_refund"}})");
  in.messages = {{"user", "Refund A1"},
                 {"assistant", "", {{"call_1", "issue_refund", R"({"order_id":"A1"})"}}},
                 {"tool", R"({"status":"refunded"})", {}, "call_1"},
                 {"user", "Thanks"}};
  auto body = json::parse(request_body(c, in));
  auto decl = body["tools"][0]["functionDeclarations"][0];
  CHECK(decl["name"] == "issue_refund");
  CHECK(decl["description"] == "Refund an order");
  CHECK(decl["parametersJsonSchema"]["additionalProperties"] == false);
  CHECK_FALSE(decl.contains("parameters"));
  CHECK(body["toolConfig"] ==
        json::parse(
            R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["issue_refund"]}})"));
  auto contents = body["contents"];
  REQUIRE(contents.size() == 3); // the results and the next question: one user turn
  CHECK(contents[1] == json::parse(R"({"role":"model","parts":[{"functionCall":{"name":
    "issue_refund","args":{"order_id":"A1"},"id":"call_1"}}]})"));
  // The result names the function it answers, as the API requires; a non-object result is
  // wrapped as {"result": ...}.
  CHECK(contents[2] == json::parse(R"({"role":"user","parts":[{"functionResponse":{"name":
    "issue_refund","id":"call_1","response":{"status":"refunded"}}},{"text":"Thanks"}]})"));

  in.messages[2].content = "done";
  in.tool_choice = "none";
  body = json::parse(request_body(c, in));
  CHECK(body["contents"][2]["parts"][0]["functionResponse"]["response"] ==
        json{{"result", "done"}});
  CHECK(body["toolConfig"]["functionCallingConfig"]["mode"] == "NONE");

  auto reply = parse_response(
      Kind::gemini, 200,
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Refunding."},{"functionCall":{"name":"issue_refund","args":{"order_id":"A1"}}}]},"finishReason":"STOP"}],"modelVersion":"gemini-2.0-flash"})");
  REQUIRE(reply.error == ErrorClass::none);
  CHECK(reply.text == "Refunding.");
  REQUIRE(reply.tool_calls.size() == 1);
  CHECK(reply.tool_calls[0].name == "issue_refund");
  CHECK(json::parse(reply.tool_calls[0].arguments) == json{{"order_id", "A1"}});
}

TEST_CASE("a Gemini response gives its text, usage and model version", "[providers]") {
  auto r = parse_response(
      Kind::gemini, 200,
      R"({"candidates":[{"content":{"parts":[{"text":"Thinking...","thought":true},{"text":"Four"},{"text":"."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"thoughtsTokenCount":10,"totalTokenCount":20},"modelVersion":"gemini-2.5-flash","responseId":"abc"})");
  REQUIRE(r.error == ErrorClass::none);
  CHECK(r.text == "Four.");
  CHECK(r.served_model == "gemini-2.5-flash");
  CHECK(r.tokens_in == 8);
  CHECK(r.tokens_out == 12); // thoughts are billed as output
  CHECK(r.finish_reason.empty());
}

TEST_CASE("a Gemini safety block is an answer to score with its reason, not an error",
          "[providers]") {
  auto prompt = parse_response(
      Kind::gemini, 200,
      R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-2.0-flash"})");
  CHECK(prompt.error == ErrorClass::none);
  CHECK(prompt.text.empty());
  CHECK(prompt.finish_reason == "blockReason SAFETY");
  CHECK(prompt.tokens_in == 7);

  for (std::string reason : {"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"}) {
    auto r = parse_response(Kind::gemini, 200,
                            R"({"candidates":[{"finishReason":")" + reason +
                                R"(","index":0}],"modelVersion":"gemini-2.0-flash"})");
    CHECK(r.error == ErrorClass::none);
    CHECK(r.finish_reason == "finishReason " + reason);
  }
  // No candidates and no block reason is not an answer.
  auto empty = parse_response(Kind::gemini, 200, R"({"modelVersion":"gemini-2.0-flash"})");
  CHECK(empty.error == ErrorClass::bad_response);
  auto no_text = parse_response(
      Kind::gemini, 200, R"({"candidates":[{"content":{"role":"model"},"finishReason":"STOP"}]})");
  CHECK(no_text.error == ErrorClass::bad_response);
}

TEST_CASE("Google's error bodies read as clear messages of the right class", "[providers]") {
  auto body = [](int code, const char* status, const char* message) {
    return json{{"error", {{"code", code}, {"message", message}, {"status", status}}}}.dump();
  };
  auto limited = parse_response(Kind::gemini, 429,
                                body(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted."));
  CHECK(limited.error == ErrorClass::rate_limited);
  CHECK(limited.error_message == "HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted.");
  CHECK(parse_response(Kind::gemini, 403, body(403, "PERMISSION_DENIED", "denied")).error ==
        ErrorClass::auth);
  CHECK(parse_response(Kind::gemini, 400, body(400, "INVALID_ARGUMENT", "bad")).error ==
        ErrorClass::bad_request);
  CHECK(parse_response(Kind::gemini, 404, body(404, "NOT_FOUND", "models/x is not found")).error ==
        ErrorClass::bad_request);
  CHECK(parse_response(Kind::gemini, 500, body(500, "INTERNAL", "oops")).error ==
        ErrorClass::server);
  CHECK(parse_response(Kind::gemini, 503, body(503, "UNAVAILABLE", "overloaded")).error ==
        ErrorClass::server);
  // A wrong key is a 400 whose details say so.
  auto key = parse_response(
      Kind::gemini, 400,
      R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})");
  CHECK(key.error == ErrorClass::auth);
  CHECK(parse_response(Kind::gemini, 502, "<html>bad gateway</html>").error == ErrorClass::server);
  auto in_200 = parse_response(Kind::gemini, 200, body(500, "INTERNAL", "oops"));
  CHECK(in_200.error == ErrorClass::bad_response);
  CHECK(in_200.error_message == "HTTP 200 carrying an error: INTERNAL: oops");
}

TEST_CASE("local OpenAI-compatible servers' answers parse without OpenAI's extra fields",
          "[providers]") {
  // Ollama: no system_fingerprint when none is set, no logprobs, a model tag.
  auto ollama = parse_response(
      Kind::openai, 200,
      R"({"id":"chatcmpl-123","object":"chat.completion","created":1700000000,"model":"llama3.2:1b","system_fingerprint":"fp_ollama","choices":[{"index":0,"message":{"role":"assistant","content":"Four."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":3,"total_tokens":33}})");
  REQUIRE(ollama.error == ErrorClass::none);
  CHECK(ollama.text == "Four.");
  CHECK(ollama.served_model == "llama3.2:1b");
  // vLLM: extra fields (stop_reason, reasoning_content, prompt_logprobs), no system_fingerprint.
  auto vllm = parse_response(
      Kind::openai, 200,
      R"({"id":"chatcmpl-abc","object":"chat.completion","created":1,"model":"Qwen/Qwen2.5-1.5B-Instruct","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":null,"content":"Four.","tool_calls":[]},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":20,"total_tokens":22,"completion_tokens":2,"prompt_tokens_details":null},"prompt_logprobs":null})");
  REQUIRE(vllm.error == ErrorClass::none);
  CHECK(vllm.text == "Four.");
  CHECK(vllm.fingerprint.empty());
  CHECK(vllm.tokens_out == 2);
  // llama.cpp server: a "timings" object, usage may be absent.
  auto llama = parse_response(
      Kind::openai, 200,
      R"({"choices":[{"finish_reason":"stop","index":0,"message":{"content":"Four.","role":"assistant"}}],"created":1,"model":"gpt-3.5-turbo","object":"chat.completion","id":"chatcmpl-x","timings":{"prompt_n":12,"predicted_n":3}})");
  REQUIRE(llama.error == ErrorClass::none);
  CHECK(llama.text == "Four.");
  CHECK_FALSE(llama.tokens_in.has_value());
  CHECK_FALSE(llama.tokens_out.has_value());
}

TEST_CASE("the stand-in answers Azure and Gemini requests in their shapes", "[providers]") {
  test::StandIn s(R"({"rules": [
    {"match": "refund", "tool_calls": [{"name": "issue_refund", "arguments": {"order_id": "A1"}}]},
    {"match": "busy", "fault": "429"},
    {"match": "wrong key", "fault": "401"},
    {"match": "broken", "fault": "500"}
  ]})");
  auto az = azure(s.base());
  auto a = call(az, {{{"user", "Hello"}}});
  REQUIRE(a.error == ErrorClass::none);
  CHECK(a.text == "I can help with that.");
  CHECK(a.served_model == "gpt-4o-standin");
  auto filtered = call(az, {{{"user", "standin:content-filter please"}}});
  CHECK(filtered.error == ErrorClass::none);
  CHECK(filtered.finish_reason == "content_filter");
  auto prompt = call(az, {{{"user", "standin:filtered-prompt"}}});
  CHECK(prompt.error == ErrorClass::bad_request);
  CHECK(prompt.error_message.find("content_filter") != std::string::npos);
  auto busy = exchange(build_request(az, {{{"user", "busy"}}}, "k", "i"));
  CHECK(busy.status == 429);
  CHECK(parse_retry_after(busy.retry_after, 0) == 1.0);
  CHECK(parse_response(Kind::azure, busy.status, busy.body).error == ErrorClass::rate_limited);
  auto no_key = call(az, {{{"user", "Hello"}}}, "");
  CHECK(no_key.error == ErrorClass::auth);
  CHECK(no_key.error_message.find("Access denied") != std::string::npos);
  auto bearer = az;
  bearer.entra_id = true;
  CHECK(call(bearer, {{{"user", "Hello"}}}).error == ErrorClass::none);
  auto missing = az;
  missing.deployment = "missing-4o";
  auto gone = call(missing, {{{"user", "Hello"}}});
  CHECK(gone.error == ErrorClass::bad_request);
  CHECK(gone.error_message.find("DeploymentNotFound") != std::string::npos);
  auto old = az;
  old.api_version = "v1";
  CHECK(call(old, {{{"user", "Hello"}}}).error_message.find("API version not supported") !=
        std::string::npos);

  auto gem = gemini(s.base());
  auto g = call(gem, {{{"system", "Be brief."}, {"user", "Hello"}}});
  REQUIRE(g.error == ErrorClass::none);
  CHECK(g.text == "I can help with that.");
  CHECK(g.served_model == "gemini-2.0-flash-standin");
  CHECK(g.tokens_in == 3);
  CHECK(g.tokens_out == 5);
  auto calls = call(gem, {{{"user", "I want a refund"}}});
  REQUIRE(calls.tool_calls.size() == 1);
  CHECK(calls.tool_calls[0].name == "issue_refund");
  CHECK(call(gem, {{{"user", "standin:blocked"}}}).finish_reason == "blockReason SAFETY");
  CHECK(call(gem, {{{"user", "standin:unsafe"}}}).finish_reason == "finishReason SAFETY");
  CHECK(call(gem, {{{"user", "busy"}}}).error == ErrorClass::rate_limited);
  CHECK(call(gem, {{{"user", "wrong key"}}}).error == ErrorClass::auth);
  auto broken = call(gem, {{{"user", "broken"}}});
  CHECK(broken.error == ErrorClass::server);
  CHECK(broken.error_message.starts_with("HTTP 500 INTERNAL: "));
  auto keyless = call(gem, {{{"user", "Hello"}}}, "");
  CHECK(keyless.error == ErrorClass::auth);
  CHECK(keyless.error_message.find("PERMISSION_DENIED") != std::string::npos);

  // The stand-in counts the key headers without keeping their values.
  auto stats = s.stats();
  CHECK(stats["headers_seen"]["api-key"].get<int>() >= 1);
  CHECK(stats["headers_seen"]["x-goog-api-key"].get<int>() >= 1);
  CHECK(stats["by_path"].contains("/v1beta/models/gemini-2.0-flash:generateContent"));
  CHECK(stats["by_path"].contains("/openai/deployments/gpt-4o/chat/completions"));
}

TEST_CASE("the stand-in refuses a Gemini body in another API's shape as Google does",
          "[providers]") {
  test::StandIn s;
  auto gem = gemini(s.base());
  HttpRequest r = build_request(gem, {{{"user", "Hi"}}}, "k", "i");
  r.body = R"({"messages":[{"role":"user","content":"Hi"}]})";
  auto unknown = exchange(r);
  CHECK(unknown.status == 400);
  auto e = json::parse(unknown.body)["error"];
  CHECK(e["status"] == "INVALID_ARGUMENT");
  CHECK(e["message"].get<std::string>().find("Unknown name \"messages\"") != std::string::npos);
  r.body = R"({"contents":[{"role":"assistant","parts":[{"text":"Hi"}]}]})";
  CHECK(json::parse(exchange(r).body)["error"]["message"] ==
        "Please use a valid role: user, model.");
  r.body =
      R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"max_tokens":5}})";
  CHECK(exchange(r).status == 400);
}
