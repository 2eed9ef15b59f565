// The stand-in server's tool rules through real HTTP on 127.0.0.1, in the three APIs' shapes, read
// back by parse_response: what a run against the stand-in sees.

#include "providers/provider.hpp"
#include "providers/transport.hpp"
#include "support/exchange.hpp"
#include "support/standin.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::providers;
using evalkeep::test::exchange;
using json = nlohmann::json;

namespace {

// A tool call a rule makes, and two final answers: one for a result saying it worked, one for
// any other result. A new question after a tool result starts over.
constexpr const char* k_rules = R"({"rules": [
  {"match": "refund", "after_tool": true, "tool_result": "refunded",
   "answer": "Your refund for A1 is on its way."},
  {"match": "refund", "after_tool": true, "answer": "I could not refund that order."},
  {"match": "refund", "tool_calls": [{"name": "issue_refund", "arguments": {"order_id": "A1"}}],
   "answer": "Let me refund that."},
  {"match": "weather", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}},
                                      {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}]}
]})";

// One call to the stand-in through the project's transport.
Reply call(const ProviderConfig& c, const ChatInput& in) {
  auto response = exchange(build_request(c, in, "sk-test", "k"));
  REQUIRE(response.transport_error == ErrorClass::none);
  return parse_response(c.kind, response.status, response.body);
}

ProviderConfig provider(const test::StandIn& s, Kind kind) {
  ProviderConfig c;
  c.name = "local";
  c.kind = kind;
  c.base_url = kind == Kind::anthropic ? s.base() : s.openai_base();
  c.model = "stand-in";
  REQUIRE(finish_config(c));
  return c;
}

ChatInput ask(const std::string& question) {
  ChatInput in{{{"system", "You are a support agent."}, {"user", question}}};
  auto tools = core::normalize_tools(json::parse(R"([
    {"name": "issue_refund", "parameters": {"type": "object",
      "properties": {"order_id": {"type": "string"}}}},
    {"name": "get_weather"}, {"name": "get_time"}])"));
  REQUIRE(tools);
  in.tools = *tools;
  in.tool_choice = "auto";
  return in;
}

// The call id each API's shape gives the stand-in's first call.
std::string first_call_id(Kind kind) {
  return kind == Kind::anthropic ? "toolu_standin_1" : "call_standin_1";
}

} // namespace

TEST_CASE("a stand-in rule answers with tool calls in each API's shape", "[providers][standin]") {
  test::StandIn s(k_rules);
  for (Kind kind : {Kind::openai, Kind::anthropic, Kind::openai_responses}) {
    CAPTURE(to_string(kind));
    s.reset(); // call ids count from 1 again
    auto c = provider(s, kind);
    auto refund = call(c, ask("I want a refund for order A1"));
    REQUIRE(refund.error == ErrorClass::none);
    CHECK(refund.text == "Let me refund that.");
    REQUIRE(refund.tool_calls.size() == 1);
    CHECK(refund.tool_calls[0].id == first_call_id(kind));
    CHECK(refund.tool_calls[0].name == "issue_refund");
    CHECK(json::parse(refund.tool_calls[0].arguments) == json{{"order_id", "A1"}});
    CHECK(refund.served_model == "stand-in-standin");

    // Two calls and no text is an answer, not a bad response; ids go on counting.
    auto weather = call(c, ask("What's the weather in Paris?"));
    REQUIRE(weather.error == ErrorClass::none);
    CHECK(weather.text.empty());
    REQUIRE(weather.tool_calls.size() == 2);
    CHECK(weather.tool_calls[0].name == "get_weather");
    CHECK(weather.tool_calls[1].name == "get_time");
    CHECK(json::parse(weather.tool_calls[1].arguments) == json{{"tz", "CET"}});
    CHECK(weather.tool_calls[1].id ==
          (kind == Kind::anthropic ? "toolu_standin_3" : "call_standin_3"));
  }
  // Counted by path like the others (the last reset cleared the other two APIs' counts).
  CHECK(s.stats()["by_path"] == json{{"/v1/responses", 2}});
}

TEST_CASE("a stand-in rule gives the final answer once the tool result is sent back",
          "[providers][standin]") {
  test::StandIn s(k_rules);
  for (Kind kind : {Kind::openai, Kind::anthropic, Kind::openai_responses}) {
    CAPTURE(to_string(kind));
    auto c = provider(s, kind);
    auto in = ask("I want a refund for order A1");
    auto first = call(c, in);
    REQUIRE(first.tool_calls.size() == 1);

    // The client runs the function and hands its result back.
    in.messages.push_back({"assistant", first.text, first.tool_calls});
    in.messages.push_back(
        {"tool", R"({"status": "Refunded", "order_id": "A1"})", {}, first.tool_calls[0].id});
    auto done = call(c, in);
    REQUIRE(done.error == ErrorClass::none);
    CHECK(done.text == "Your refund for A1 is on its way.");
    CHECK(done.tool_calls.empty());

    // Another result takes the rule that waits for any result.
    in.messages.back().content = R"({"error": "order not found"})";
    CHECK(call(c, in).text == "I could not refund that order.");

    // A new question after the result is a new turn: the function is called again.
    in.messages.push_back({"assistant", "I could not refund that order."});
    in.messages.push_back({"user", "Please try the refund again"});
    auto again = call(c, in);
    CHECK(again.text == "Let me refund that.");
    CHECK(again.tool_calls.size() == 1);
  }
}

TEST_CASE("the stand-in's Responses endpoint refuses a request without input",
          "[providers][standin]") {
  test::StandIn s;
  auto c = provider(s, Kind::openai_responses);
  auto request = build_request(c, std::string(R"({"model":"stand-in"})"), "sk-test", "k");
  auto response = exchange(request);
  CHECK(response.status == 400);
  auto reply = parse_response(c.kind, response.status, response.body);
  CHECK(reply.error == ErrorClass::bad_request);
  CHECK(reply.error_message == "HTTP 400: Missing required parameter: 'input'.");
  CHECK(json::parse(response.body)["error"]["param"] == "input");

  // Plain text input is answered with the default answer.
  auto plain = exchange(build_request(c, std::string(R"({"model":"m","input":"Hi"})"), "", ""));
  auto answer = parse_response(c.kind, plain.status, plain.body);
  CHECK(answer.error == ErrorClass::none);
  CHECK(answer.text == "I can help with that.");
  CHECK(answer.tokens_in == 1);
  CHECK(answer.tokens_out == 5);
}
