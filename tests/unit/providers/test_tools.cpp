// Tools on the wire: request bodies and replies of the three APIs, checked against the shapes of
// the published references (OpenAI's Chat Completions and Responses API references and function
// calling guide, Anthropic's Messages API reference and tool use guide).

#include "core/tools.hpp"
#include "providers/provider.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::providers;
using json = nlohmann::json;

namespace {

ProviderConfig config(Kind kind, const std::string& model) {
  ProviderConfig c;
  c.name = "p";
  c.kind = kind;
  c.model = model;
  REQUIRE(finish_config(c));
  return c;
}

json tools(const json& definitions) {
  auto normalized = core::normalize_tools(definitions);
  REQUIRE(normalized);
  return *normalized;
}

json choice(const json& c, const json& normalized_tools) {
  auto normalized = core::normalize_tool_choice(c, normalized_tools);
  REQUIRE(normalized);
  return *normalized;
}

// The OpenAI function calling guide's refund-style definition, strict.
const json k_refund_tool = json::parse(R"([{"type": "function", "function": {
    "name": "issue_refund", "description": "Refund an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                   "required": ["order_id"], "additionalProperties": false},
    "strict": true}}])");

// A conversation that called a function and holds its result.
ChatInput refund_conversation() {
  ChatInput in;
  in.messages = {{"system", "You are a support agent."},
                 {"user", "Refund order A1, please."},
                 {"assistant", "", {{"call_abc123", "issue_refund", R"({"order_id":"A1"})"}}},
                 {"tool", R"({"status":"refunded"})", {}, "call_abc123"}};
  in.tools = tools(k_refund_tool);
  return in;
}

// The body is what nlohmann::json dumps for it: sorted keys, no spaces.
void check_canonical(const std::string& body) {
  CHECK(body == json::parse(body).dump());
}

} // namespace

TEST_CASE("a Chat Completions request carries tools, tool calls and tool results as the API "
          "reference shows",
          "[providers]") {
  auto c = config(Kind::openai, "gpt-x");
  c.seed = 7;
  auto in = refund_conversation();
  in.tool_choice = choice("auto", in.tools);
  auto body = request_body(c, in);
  check_canonical(body);
  auto expected = json::parse(R"({
    "model": "gpt-x", "seed": 7, "temperature": 0.0,
    "messages": [
      {"role": "system", "content": "You are a support agent."},
      {"role": "user", "content": "Refund order A1, please."},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_abc123", "type": "function",
         "function": {"name": "issue_refund", "arguments": "{\"order_id\":\"A1\"}"}}]},
      {"role": "tool", "tool_call_id": "call_abc123", "content": "{\"status\":\"refunded\"}"}],
    "tool_choice": "auto"})");
  expected["tools"] = k_refund_tool;
  CHECK(json::parse(body) == expected);

  // An assistant that spoke as it called keeps its words; a named choice is sent as normalized.
  in.messages[2].content = "Refunding now.";
  in.tool_choice = choice(json{{"type", "tool"}, {"name", "issue_refund"}}, in.tools);
  auto named = json::parse(request_body(c, in));
  CHECK(named["messages"][2]["content"] == "Refunding now.");
  CHECK(named["tool_choice"] ==
        json::parse(R"({"type": "function", "function": {"name": "issue_refund"}})"));
}

TEST_CASE("an Anthropic request carries tools, tool_use blocks and one user turn of tool results",
          "[providers]") {
  auto c = config(Kind::anthropic, "claude-x");
  // The Anthropic tool use guide's get_weather, and a tool without parameters.
  ChatInput in;
  in.tools = tools(json::parse(R"([
    {"name": "get_weather", "description": "Get the current weather in a given location",
     "input_schema": {"type": "object",
                      "properties": {"location": {"type": "string",
                                                  "description": "The city and state"}},
                      "required": ["location"]}},
    {"name": "get_time", "description": "The time now"}])"));
  in.tool_choice = choice("required", in.tools);
  in.messages = {
      {"system", "Be brief."},
      {"user", "What's the weather and the time in San Francisco?"},
      {"assistant",
       "I'll check both.",
       {{"toolu_01A09q90qw90lq917835lq9", "get_weather", R"({"location": "San Francisco, CA"})"},
        {"toolu_02", "get_time", "{}"}}},
      {"tool", "15 degrees", {}, "toolu_01A09q90qw90lq917835lq9"},
      {"tool", "14:05", {}, "toolu_02"}};
  auto body = request_body(c, in);
  check_canonical(body);
  CHECK(json::parse(body) == json::parse(R"({
    "max_tokens": 1024, "model": "claude-x", "system": "Be brief.", "temperature": 0.0,
    "messages": [
      {"role": "user", "content": "What's the weather and the time in San Francisco?"},
      {"role": "assistant", "content": [
        {"type": "text", "text": "I'll check both."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
         "input": {"location": "San Francisco, CA"}},
        {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
         "content": "15 degrees"},
        {"type": "tool_result", "tool_use_id": "toolu_02", "content": "14:05"}]}],
    "tool_choice": {"type": "any"},
    "tools": [
      {"name": "get_weather", "description": "Get the current weather in a given location",
       "input_schema": {"type": "object",
                        "properties": {"location": {"type": "string",
                                                    "description": "The city and state"}},
                        "required": ["location"]}},
      {"name": "get_time", "description": "The time now", "input_schema": {"type": "object"}}]})"));

  for (auto [given, sent] : {std::pair{json("auto"), json::parse(R"({"type": "auto"})")},
                             std::pair{json("none"), json::parse(R"({"type": "none"})")},
                             std::pair{json::parse(R"({"type":"tool","name":"get_time"})"),
                                       json::parse(R"({"type": "tool", "name": "get_time"})")}}) {
    in.tool_choice = choice(given, in.tools);
    CHECK(json::parse(request_body(c, in))["tool_choice"] == sent);
  }
}

TEST_CASE("an Anthropic tool call whose arguments are not an object is sent with empty input",
          "[providers]") {
  auto c = config(Kind::anthropic, "claude-x");
  ChatInput in;
  in.messages = {{"user", "Hi"},
                 {"assistant", "", {{"toolu_1", "lookup", "{not json"}}},
                 {"tool", "", {}, "toolu_1"}};
  auto body = json::parse(request_body(c, in));
  CHECK(body["messages"][1]["content"] ==
        json::parse(R"([{"type":"tool_use","id":"toolu_1","name":"lookup","input":{}}])"));
  // An empty result leaves out content, which is optional, rather than send an empty text.
  CHECK(
      body["messages"][2] ==
      json::parse(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1"}]})"));
  CHECK_FALSE(body.contains("tools"));
  CHECK_FALSE(body.contains("tool_choice"));
}

TEST_CASE("a Responses API request has instructions, input items and flat tools", "[providers]") {
  auto c = config(Kind::openai_responses, "gpt-x");
  CHECK(parse_kind("openai-responses") == Kind::openai_responses);
  CHECK(to_string(Kind::openai_responses) == "openai-responses");
  CHECK(c.base_url == "https://api.openai.com/v1");
  CHECK(c.api_key_env == "OPENAI_API_KEY");
  c.max_tokens = 256;
  c.seed = 7; // the Responses API has no seed
  auto in = refund_conversation();
  // The Responses API's own form of a forced function, read like the others.
  in.tool_choice = choice(json::parse(R"({"type": "function", "name": "issue_refund"})"), in.tools);
  auto r = build_request(c, in, "sk-test", "k");
  CHECK(r.url == "https://api.openai.com/v1/responses");
  CHECK(std::find(r.headers.begin(), r.headers.end(), "Authorization: Bearer sk-test") !=
        r.headers.end());
  check_canonical(r.body);
  CHECK(json::parse(r.body) == json::parse(R"({
    "model": "gpt-x", "instructions": "You are a support agent.", "max_output_tokens": 256,
    "temperature": 0.0, "store": false,
    "input": [
      {"role": "user", "content": "Refund order A1, please."},
      {"type": "function_call", "call_id": "call_abc123", "name": "issue_refund",
       "arguments": "{\"order_id\":\"A1\"}"},
      {"type": "function_call_output", "call_id": "call_abc123",
       "output": "{\"status\":\"refunded\"}"}],
    "tool_choice": {"type": "function", "name": "issue_refund"},
    "tools": [{"type": "function", "name": "issue_refund", "description": "Refund an order.",
               "parameters": {"type": "object",
                              "properties": {"order_id": {"type": "string"}},
                              "required": ["order_id"], "additionalProperties": false},
               "strict": true}]})"));

  // Without tools: messages as input items; a definition without strict stays non-strict.
  ChatInput plain{{{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}}};
  auto body = json::parse(request_body(c, plain));
  CHECK(body == json::parse(R"({"model": "gpt-x", "max_output_tokens": 256, "temperature": 0.0,
    "store": false, "input": [{"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]})"));
  plain.tools = tools(json::parse(R"([{"name": "get_time"}])"));
  plain.tool_choice = choice("required", plain.tools);
  body = json::parse(request_body(c, plain));
  CHECK(body["tools"] == json::parse(R"([{"type": "function", "name": "get_time",
                                          "parameters": {"type": "object"}, "strict": false}])"));
  CHECK(body["tool_choice"] == "required");
}

TEST_CASE("a conversation without tools gives the bytes it gave before tools existed",
          "[providers]") {
  ChatInput in{{{"system", "Be brief."}, {"user", "Hi"}}};
  auto openai = config(Kind::openai, "gpt-x");
  openai.seed = 7;
  CHECK(request_body(openai, in) == R"({"messages":[{"content":"Be brief.","role":"system"},)"
                                    R"({"content":"Hi","role":"user"}],"model":"gpt-x",)"
                                    R"("seed":7,"temperature":0.0})");
  auto claude = config(Kind::anthropic, "claude-x");
  CHECK(request_body(claude, in) == R"({"max_tokens":1024,"messages":[{"content":"Hi",)"
                                    R"("role":"user"}],"model":"claude-x",)"
                                    R"("system":"Be brief.","temperature":0.0})");
}

TEST_CASE("Chat Completions tool calls are read from the first choice, content null",
          "[providers]") {
  // The API reference's function calling example.
  auto r = parse_response(Kind::openai, 200, R"({
    "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1699896916,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
      "tool_calls": [{"id": "call_abc123", "type": "function", "function": {
        "name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}}]},
      "logprobs": null, "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}})");
  CHECK(r.error == ErrorClass::none);
  CHECK(r.text.empty());
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0] ==
        core::ToolCall{"call_abc123", "get_current_weather", "{\n\"location\": \"Boston, MA\"\n}"});
  CHECK(r.tokens_in == 82);
  CHECK(r.tokens_out == 17);

  auto both = parse_response(Kind::openai, 200, R"({"choices": [{"message": {"role": "assistant",
    "content": "Checking.", "tool_calls": [{"id": "call_1", "type": "function",
    "function": {"name": "a", "arguments": "{}"}}, {"id": "call_2", "type": "function",
    "function": {"name": "b", "arguments": "{\"x\":1}"}}]}, "finish_reason": "tool_calls"}]})");
  CHECK(both.text == "Checking.");
  CHECK(both.tool_calls ==
        std::vector<core::ToolCall>{{"call_1", "a", "{}"}, {"call_2", "b", R"({"x":1})"}});

  CHECK(parse_response(Kind::openai, 200,
                       R"({"choices": [{"message": {"role": "assistant", "content": null}}]})")
            .error == ErrorClass::bad_response);
  auto nameless = parse_response(Kind::openai, 200, R"({"choices": [{"message": {"content": null,
    "tool_calls": [{"id": "call_1", "type": "function", "function": {"arguments": "{}"}}]}}]})");
  CHECK(nameless.error == ErrorClass::bad_response);
  CHECK(nameless.tool_calls.empty());
}

TEST_CASE("Anthropic tool_use blocks are read as calls with their input as JSON text",
          "[providers]") {
  // The tool use guide's example response.
  auto r = parse_response(Kind::anthropic, 200, R"({
    "id": "msg_01Aq9w938a90dw8q", "model": "claude-opus-4-1-20250805", "stop_reason": "tool_use",
    "role": "assistant", "type": "message",
    "content": [
      {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
      {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
       "input": {"location": "San Francisco, CA", "unit": "celsius"}}],
    "usage": {"input_tokens": 472, "output_tokens": 91}})");
  CHECK(r.error == ErrorClass::none);
  CHECK(r.text == "I'll check the current weather in San Francisco for you.");
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0].id == "toolu_01A09q90qw90lq917835lq9");
  CHECK(r.tool_calls[0].name == "get_weather");
  CHECK(json::parse(r.tool_calls[0].arguments) ==
        json::parse(R"({"location": "San Francisco, CA", "unit": "celsius"})"));
  CHECK(r.served_model == "claude-opus-4-1-20250805");
  CHECK(r.tokens_out == 91);

  auto calls_only = parse_response(Kind::anthropic, 200, R"({"content": [{"type": "tool_use",
    "id": "toolu_1", "name": "get_time", "input": {}}], "stop_reason": "tool_use"})");
  CHECK(calls_only.error == ErrorClass::none);
  CHECK(calls_only.text.empty());
  CHECK(calls_only.tool_calls == std::vector<core::ToolCall>{{"toolu_1", "get_time", "{}"}});
}

TEST_CASE("Responses API output items are read as text, calls, usage and model", "[providers]") {
  // A response as the API reference shows it (error and incomplete_details null).
  auto text = parse_response(Kind::openai_responses, 200, R"({
    "id": "resp_67cb", "object": "response", "created_at": 1741476542, "status": "completed",
    "error": null, "incomplete_details": null, "model": "gpt-4.1-2025-04-14",
    "output": [{"type": "message", "id": "msg_67cb", "status": "completed", "role": "assistant",
      "content": [{"type": "output_text", "text": "In a peaceful grove ", "annotations": []},
                  {"type": "output_text", "text": "a unicorn slept.", "annotations": []}]}],
    "usage": {"input_tokens": 36, "output_tokens": 87, "total_tokens": 123}})");
  CHECK(text.error == ErrorClass::none);
  CHECK(text.text == "In a peaceful grove a unicorn slept.");
  CHECK(text.tool_calls.empty());
  CHECK(text.served_model == "gpt-4.1-2025-04-14");
  CHECK(text.tokens_in == 36);
  CHECK(text.tokens_out == 87);

  // The function calling guide: a reasoning item, then function_call items.
  auto calls = parse_response(Kind::openai_responses, 200, R"({
    "object": "response", "status": "completed", "error": null, "model": "gpt-x",
    "output": [{"type": "reasoning", "id": "rs_1", "summary": []},
      {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz",
       "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}",
       "status": "completed"},
      {"type": "function_call", "id": "fc_2", "call_id": "call_2", "name": "get_time",
       "arguments": "{}", "status": "completed"}],
    "usage": {"input_tokens": 20, "output_tokens": 15, "total_tokens": 35}})");
  CHECK(calls.error == ErrorClass::none);
  CHECK(calls.text.empty());
  CHECK(calls.tool_calls == std::vector<core::ToolCall>{
                                {"call_12345xyz", "get_weather", R"({"location":"Paris, France"})"},
                                {"call_2", "get_time", "{}"}});
}

TEST_CASE("Responses API errors are provider errors, never answers", "[providers]") {
  auto failed = parse_response(Kind::openai_responses, 200, R"({"object": "response",
    "status": "failed", "error": {"code": "server_error", "message": "The model failed."},
    "output": []})");
  CHECK(failed.error == ErrorClass::bad_response);
  CHECK_THAT(failed.error_message, Catch::Contains("The model failed."));
  auto incomplete = parse_response(Kind::openai_responses, 200, R"({"object": "response",
    "status": "incomplete", "error": null,
    "incomplete_details": {"reason": "max_output_tokens"}, "output": []})");
  CHECK(incomplete.error == ErrorClass::bad_response);
  CHECK_THAT(incomplete.error_message, Catch::Contains("incomplete: max_output_tokens"));
  CHECK(parse_response(Kind::openai_responses, 200, R"({"object": "response", "output": [
    {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}]})")
            .error == ErrorClass::bad_response);
  auto missing = parse_response(Kind::openai_responses, 400, R"({"error": {
    "message": "Missing required parameter: 'input'.", "type": "invalid_request_error",
    "param": "input", "code": "missing_required_parameter"}})");
  CHECK(missing.error == ErrorClass::bad_request);
  CHECK(missing.error_message == "HTTP 400: Missing required parameter: 'input'.");
  CHECK(parse_response(Kind::openai_responses, 429,
                       R"({"error": {"message": "quota", "type": "insufficient_quota",
                       "code": "insufficient_quota"}})")
            .error == ErrorClass::quota);
  CHECK(parse_response(Kind::openai_responses, 503, "<html></html>").error == ErrorClass::server);
}

TEST_CASE("a key echoed into a tool call is redacted", "[providers]") {
  auto r = parse_response(Kind::openai, 200, R"({"choices": [{"message": {"content": null,
    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "log",
    "arguments": "{\"token\":\"sk-secret-123456\"}"}}]}}]})");
  redact(r, "sk-secret-123456");
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0].arguments == R"({"token":"[redacted]"})");
}
