// Capturing a logged model exchange: the hand-written logs in tests/capture/, in the published
// shapes of OpenAI's Chat Completions and OpenTelemetry's GenAI conventions (OTLP JSON).

#include "interop/capture.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep;
using namespace evalkeep::interop;

namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(EVALKEEP_SOURCE_DIR) / "tests/capture" / name;
}

Result<Capture> capture(const std::string& name, CaptureSelector sel = {}) {
  return read_capture(test::read_file(fixture(name)), "logs/" + name, sel);
}

std::vector<std::string> specs(const Capture& c) {
  std::vector<std::string> out;
  for (const auto& p : c.proposals)
    out.push_back(p.spec);
  return out;
}

std::string error_of(const Result<Capture>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ExitCode::usage);
  return r.error().message;
}

} // namespace

TEST_CASE("an OpenAI pair whose answer called issue_refund proposes no-tool-call:issue_refund",
          "[capture]") {
  auto r = capture("openai_refund.json");
  REQUIRE(r);
  CHECK(r->format == "OpenAI chat completion");
  CHECK(r->exchange_id == "chatcmpl-refund-1");
  // One system and one user message: a plain prompt, as import reads it.
  const auto& c = r->draft;
  REQUIRE(c.prompt);
  CHECK(*c.prompt == "Refund order A1 now, it arrived 45 days ago.");
  CHECK(c.system.value_or("").starts_with("You are a support agent."));
  CHECK(core::tool_names(c.tools) == std::vector<std::string>{"check_policy", "issue_refund"});
  CHECK(c.tool_choice == "auto");
  CHECK(c.expect.empty());
  CHECK(r->evidence() == nlohmann::json::parse(R"({"source":"logs/openai_refund.json",
      "id":"chatcmpl-refund-1","answer":"",
      "tool_calls":[{"id":"call_9","name":"issue_refund","arguments":{"order_id":"A1"}}]})"));
  CHECK(specs(*r) == std::vector<std::string>{"no-tool-call:issue_refund"});
  CHECK(r->proposals[0].why.find("called issue_refund") != std::string::npos);
}

TEST_CASE("a JSONL of several exchanges needs --line or --id-match", "[capture]") {
  auto msg = error_of(capture("openai_many.jsonl"));
  CHECK(msg.find("holds 3 exchanges") != std::string::npos);
  CHECK(msg.find("--line N or --id-match ID") != std::string::npos);
  CHECK(capture("openai_many.jsonl").error().hint.find("line 4: chatcmpl-conv-3") !=
        std::string::npos);

  auto by_line = capture("openai_many.jsonl", {.line = 1, .id_match = {}});
  REQUIRE(by_line);
  CHECK(by_line->line == 1);
  CHECK(by_line->draft.prompt == "Can I get a refund after 45 days?");
  CHECK(by_line->evidence()["answer"] == "Sure, refunds are always possible!");
  CHECK_FALSE(by_line->evidence().contains("tool_calls"));
  CHECK(by_line->proposals.empty()); // a text answer: nothing proposed

  auto by_id = capture("openai_many.jsonl", {.line = {}, .id_match = "chatcmpl-conv-3"});
  REQUIRE(by_id);
  CHECK(by_id->line == 4); // the blank line 3 is counted
  const auto& m = by_id->draft.messages;
  REQUIRE(m.size() == 3);
  CHECK(m[1].tool_calls.at(0).name == "lookup_order");
  CHECK(m[2].tool_call_id == "call_1");
  CHECK(by_id->draft.tool_choice["function"]["name"] == "issue_refund");
  CHECK(by_id->evidence()["answer"] == "Refunding now.");

  auto none = capture("openai_many.jsonl", {.line = 2, .id_match = "chatcmpl-conv-3"});
  CHECK(error_of(none).find("no exchange at line 2 with id chatcmpl-conv-3") != std::string::npos);
}

TEST_CASE("a looping answer proposes max-tool-calls, not forbidding the tool", "[capture]") {
  auto r = capture("openai_many.jsonl", {.line = 2, .id_match = {}});
  REQUIRE(r);
  CHECK(specs(*r) == std::vector<std::string>{"max-tool-calls:1"});
  CHECK(r->proposals[0].why.find("lookup_order 3 times") != std::string::npos);
  // developer is read as system, and text parts as text
  CHECK(r->draft.system == "Look orders up once.");
  CHECK(r->draft.prompt == "Where is order A1?");
}

TEST_CASE("proposals: each tool called once or twice is forbidden, a loop is bounded",
          "[capture]") {
  std::vector<core::ToolCall> calls{{"1", "lookup_order", "{}"},
                                    {"2", "lookup_order", "{}"},
                                    {"3", "lookup_order", "{}"},
                                    {"4", "issue_refund", "{}"},
                                    {"5", "issue_refund", "{}"}};
  auto p = propose_assertions(calls);
  REQUIRE(p.size() == 2);
  CHECK(p[0].spec == "no-tool-call:issue_refund");
  CHECK(p[0].why.find("twice") != std::string::npos);
  CHECK(p[1].spec == "max-tool-calls:2");
  CHECK(propose_assertions({}).empty());
}

TEST_CASE("an OTel span of the current conventions becomes messages, tools and evidence",
          "[capture]") {
  auto r = capture("otel_current.json");
  REQUIRE(r); // the invoke_agent and execute_tool spans are not exchanges
  CHECK(r->format == "OpenTelemetry GenAI span");
  CHECK(r->exchange_id == "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7");
  const auto& m = r->draft.messages;
  REQUIRE(m.size() == 4);
  CHECK(m[0].role == "system");
  CHECK(m[0].content == "You are a support agent. Check the policy first.");
  CHECK(m[2].tool_calls.at(0).name == "check_policy");
  CHECK(m[2].tool_calls.at(0).arguments == R"({"order_id":"A1"})");
  CHECK(m[3].role == "tool");
  CHECK(m[3].tool_call_id == "call_1");
  CHECK(nlohmann::json::parse(m[3].content)["window_days"] == 30);
  CHECK(core::tool_names(r->draft.tools) ==
        std::vector<std::string>{"check_policy", "issue_refund"});
  CHECK(r->evidence()["answer"] == "Refund issued.");
  CHECK(r->evidence()["tool_calls"][0]["name"] == "issue_refund");
  CHECK(specs(*r) == std::vector<std::string>{"no-tool-call:issue_refund"});
  // Any id of the span selects it.
  for (std::string id : {"00f067aa0ba902b7", "4bf92f3577b34da6a3ce929d0e0e4736", "chatcmpl-otel-7"})
    CHECK(capture("otel_current.json", {.line = {}, .id_match = id}));
}

TEST_CASE("an OTel span of the older event form is read from bodies and attributes", "[capture]") {
  auto r = capture("otel_events.json");
  REQUIRE(r);
  CHECK(r->exchange_id == "0af7651916cd43dd8448eb211c80319c/b9c7c989f97918e1");
  const auto& m = r->draft.messages;
  REQUIRE(m.size() == 4);
  CHECK(m[0].role == "system");
  CHECK(m[0].content == "You are a support agent.");
  CHECK(m[1].content == "Refund order A1.");
  CHECK(m[2].tool_calls.at(0).name == "lookup_order");
  CHECK(m[3].tool_call_id == "call_1");
  CHECK(r->evidence()["tool_calls"][0]["arguments"] == nlohmann::json{{"order_id", "A1"}});
  CHECK(specs(*r) == std::vector<std::string>{"no-tool-call:issue_refund"});
}

TEST_CASE("an OTel span with the legacy gen_ai.prompt attributes is read", "[capture]") {
  auto r = capture("otel_legacy.json");
  REQUIRE(r);
  CHECK(r->draft.system == "Answer from the policy.");
  CHECK(r->draft.prompt == "Can I get a refund after 45 days?");
  CHECK(r->evidence()["answer"] == "Yes, any time!");
  CHECK(r->proposals.empty());
}

TEST_CASE("two chat spans need --id-match", "[capture]") {
  auto msg = error_of(capture("otel_two_chats.json"));
  CHECK(msg.find("holds 2 exchanges") != std::string::npos);
  auto r = capture("otel_two_chats.json", {.line = {}, .id_match = "1111111111111111"});
  REQUIRE(r);
  CHECK(r->exchange_id.ends_with("/1111111111111111"));
  // The trace id is shared: it does not pick one.
  CHECK(error_of(capture("otel_two_chats.json",
                         {.line = {}, .id_match = "4bf92f3577b34da6a3ce929d0e0e4736"}))
            .find("2 exchanges that match") != std::string::npos);
}

TEST_CASE("capture refuses what is neither format, naming the file and line", "[capture]") {
  auto msg = error_of(capture("not_a_log.json"));
  CHECK(msg == "logs/not_a_log.json: not an OpenAI request/response pair or an OTLP JSON "
               "trace: an object with completion, prompt");
  CHECK(read_capture("{\"request\":{}}\nnot json\n", "x.jsonl", {}).error().message ==
        "x.jsonl:2: not an OpenAI request/response pair or an OTLP JSON trace: not JSON");
  CHECK(read_capture("[1,2]", "a.json", {}).error().message.find("a JSON array") !=
        std::string::npos);
  CHECK(read_capture("\n\n", "e.json", {}).error().message == "e.json: empty");
  CHECK(read_capture(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"GET /"}]}]}]})",
                     "t.json", {})
            .error()
            .message.find("no span with GenAI content") != std::string::npos);
}

TEST_CASE("a broken field inside a recognized format is named", "[capture]") {
  CHECK(error_of(capture("broken_call.json")) ==
        "logs/broken_call.json: field \"response.choices[0].message.tool_calls[0].function.name\": "
        "must be the function's name, a string");
  CHECK(error_of(capture("otel_bad_part.json"))
            .find("gen_ai.input.messages[0].parts[0].type\": a 'blob' part cannot be captured") !=
        std::string::npos);
  auto no_choices = read_capture(R"({"request":{"messages":[{"role":"user","content":"hi"}]},
                                     "response":{"id":"x","choices":[]}})",
                                 "p.json", {});
  CHECK(error_of(no_choices).find("field \"response.choices\"") != std::string::npos);
  // The suite's own rules: a call without a result before the user speaks again.
  auto unanswered = read_capture(
      R"({"request":{"messages":[{"role":"user","content":"hi"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
           "function":{"name":"t","arguments":"{}"}}]},{"role":"user","content":"well?"}],
          "tools":[{"type":"function","function":{"name":"t"}}]},
         "response":{"choices":[{"message":{"role":"assistant","content":"ok"}}]}})",
      "u.json", {});
  CHECK(error_of(unanswered).find("messages[2]") != std::string::npos);
}

TEST_CASE("a logged conversation with calls but no tool definitions says what is missing",
          "[capture]") {
  nlohmann::json input = nlohmann::json::parse(R"([
    {"role":"user","parts":[{"type":"text","content":"Refund A1"}]},
    {"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"lookup_order",
                                  "arguments":{"order_id":"A1"}}]},
    {"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"ok"}]}])");
  nlohmann::json span{
      {"traceId", "t1"},
      {"spanId", "s1"},
      {"attributes",
       {{{"key", "gen_ai.operation.name"}, {"value", {{"stringValue", "chat"}}}},
        {{"key", "gen_ai.input.messages"}, {"value", {{"stringValue", input.dump()}}}}}}};
  nlohmann::json doc{{"resourceSpans", {{{"scopeSpans", {{{"spans", {span}}}}}}}}};
  auto r = read_capture(doc.dump(), "t.json", {});
  CHECK(error_of(r).find("'lookup_order' is not one of the case's tools") != std::string::npos);
  CHECK(r.error().hint.find("no tool definitions") != std::string::npos);
}
