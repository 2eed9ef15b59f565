// Cases whose input holds tools: definitions, a tool choice, an assistant's tool calls and the
// tools' results. Read, checked, hashed, stored in a real suite file and read back.

#include "suite/cases.hpp"
#include "suite/dump.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"
#include "support/suite_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace evalkeep;
using namespace evalkeep::suite;
using json = nlohmann::json;

namespace {

// An incident mid-conversation: the assistant looked the order up, and the case starts where
// the tool's result came back.
json refund_agent_case() {
  return json::parse(R"({"type":"case","id":"refund-needs-policy","incident":"INC-9",
    "messages":[
      {"role":"system","content":"You are a support agent."},
      {"role":"user","content":"Refund order A1 now."},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
        "function":{"name":"lookup_order","arguments":"{\"order_id\": \"A1\"}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"{\"delivered\":\"2026-01-02\"}"}],
    "tools":[
      {"type":"function","function":{"name":"lookup_order","description":"Find an order",
        "parameters":{"type":"object","properties":{"order_id":{"type":"string"}},
                      "required":["order_id"]}}},
      {"name":"issue_refund","input_schema":{"type":"object",
        "properties":{"order_id":{"type":"string"}}}}],
    "tool_choice":"auto",
    "expect":[{"type":"contains","value":"policy"}]})");
}

std::string error_of(const json& j) {
  auto r = parse_case(j);
  REQUIRE_FALSE(r);
  return r.error().message;
}

} // namespace

TEST_CASE("a case holds tools, a tool choice, tool calls and tool results", "[suite][tools]") {
  auto c = parse_case(refund_agent_case());
  REQUIRE(c);
  REQUIRE(c->messages.size() == 4);
  const auto& call = c->messages[2];
  CHECK(call.role == "assistant");
  CHECK(call.content.empty());
  REQUIRE(call.tool_calls.size() == 1);
  CHECK(call.tool_calls[0] == core::ToolCall{"call_1", "lookup_order", R"({"order_id":"A1"})"});
  CHECK(c->messages[3].tool_call_id == "call_1");
  // Both definitions in OpenAI's function format, Anthropic's input_schema as parameters.
  CHECK(core::tool_names(c->tools) == std::vector<std::string>{"lookup_order", "issue_refund"});
  CHECK(c->tools[1] == json::parse(R"({"type":"function","function":{"name":"issue_refund",
    "parameters":{"type":"object","properties":{"order_id":{"type":"string"}}}}})"));
  CHECK(c->tool_choice == "auto");
  CHECK(uses_tools(*c));

  // The record reads back to the same case and hash; the direct text is the record's dump.
  auto record = case_record(*c);
  CHECK(record["messages"][2]["tool_calls"][0] ==
        json::parse(R"({"id":"call_1","name":"lookup_order","arguments":{"order_id":"A1"}})"));
  auto again = parse_case(json::parse(record.dump()));
  REQUIRE(again);
  CHECK(again->content_hash == c->content_hash);
  CHECK(again->messages == c->messages);
  CHECK(again->tools == c->tools);
  CHECK(case_record_text(*c) == record.dump());
}

TEST_CASE("tools, the tool choice and the calls are part of the content hash", "[suite][tools]") {
  auto base = parse_case(refund_agent_case());
  REQUIRE(base);
  auto changed = [&](auto edit) {
    auto j = refund_agent_case();
    edit(j);
    auto c = parse_case(j);
    REQUIRE(c);
    return c->content_hash;
  };
  CHECK(changed([](json& j) { j["tool_choice"] = "required"; }) != base->content_hash);
  CHECK(changed([](json& j) { j["tools"].erase(1); }) != base->content_hash);
  CHECK(changed([](json& j) {
          j["messages"][2]["tool_calls"][0]["function"]["arguments"] = R"({"order_id":"B2"})";
        }) != base->content_hash);
  // The arguments' spacing is not content: they are kept as compact JSON.
  CHECK(changed([](json& j) {
          j["messages"][2]["tool_calls"][0]["function"]["arguments"] = R"({ "order_id" : "A1" })";
        }) == base->content_hash);
  // A case without tools hashes as its record always did: no tool keys appear in it.
  auto plain = parse_case(json::parse(R"({"id":"p","prompt":"hi","incident":"INC-9",
    "expect":[{"type":"contains","value":"x"}]})"));
  REQUIRE(plain);
  CHECK_FALSE(uses_tools(*plain));
  CHECK_FALSE(case_record(*plain).contains("tools"));
  CHECK(case_record_text(*plain) ==
        R"({"type":"case","id":"p","prompt":"hi","expect":[{"type":"contains","value":"x"}],)"
        R"("incident":"INC-9"})");
}

TEST_CASE("a conversation with tools is checked, each error naming the field", "[suite][tools]") {
  struct Bad {
    std::function<void(json&)> edit;
    std::string says;
  };
  std::vector<Bad> bad{
      {[](json& j) { j["messages"][3]["tool_call_id"] = "call_9"; },
       "field \"messages[3].tool_call_id\": 'call_9' is not a call"},
      {[](json& j) { j["messages"].erase(3); }, "tool call 'call_1' has no result"},
      {[](json& j) { j["messages"][2]["tool_calls"][0]["function"]["name"] = "wire_money"; },
       "field \"messages[2].tool_calls[0].name\": 'wire_money' is not one of the case's tools"},
      {[](json& j) { j["messages"][2]["tool_calls"][0]["function"]["arguments"] = "[1]"; },
       "field \"messages[2].tool_calls[0].arguments\": must be a JSON object"},
      {[](json& j) { j["messages"][2]["tool_calls"][0].erase("id"); },
       "field \"messages[2].tool_calls[0].id\": required"},
      {[](json& j) { j["messages"][1]["tool_call_id"] = "call_1"; },
       "field \"messages[1].tool_call_id\": only a tool message answers a call"},
      {[](json& j) { j["messages"][1]["tool_calls"] = j["messages"][2]["tool_calls"]; },
       "field \"messages[1].tool_calls\": only an assistant message calls tools"},
      {[](json& j) {
         j["messages"].push_back({{"role", "assistant"}, {"content", "Done."}});
       },
       "the last message must be from the user or a tool result"},
      {[](json& j) { j["tool_choice"] = "wire_money"; }, "field \"tool_choice\": 'wire_money'"},
      {[](json& j) {
         j["tool_choice"] = {{"type", "function"}, {"function", {{"name", "wire_money"}}}};
       },
       "names 'wire_money', which is not one of the case's tools"},
      {[](json& j) { j["tools"][1]["name"] = "issue refund"; },
       "field \"tools[1].name\": 'issue refund' is not a function name"},
      {[](json& j) { j["tools"][1]["name"] = "lookup_order"; },
       "a second tool named 'lookup_order'"},
      {[](json& j) {
         j["tools"][0]["function"]["parameters"] = {{"$ref", "https://example.com/s.json"}};
       },
       "field \"tools[0].function.parameters\""},
      {[](json& j) { j["tools"] = json::object(); }, "field \"tools\": must be an array"},
      {[](json& j) { j["tools"][0]["function"]["colour"] = "red"; },
       "field \"tools[0].function.colour\": unknown field"},
      {[](json& j) {
         j.erase("tools");
         j.erase("messages");
         j["prompt"] = "hi";
       },
       "field \"tool_choice\": goes with tools"},
  };
  for (const auto& b : bad) {
    auto j = refund_agent_case();
    b.edit(j);
    INFO(j.dump());
    CHECK_THAT(error_of(j), Catch::Contains(b.says));
  }
}

TEST_CASE("a tool case is stored in a suite file and read back whole", "[suite][tools]") {
  test::TempDir dir;
  auto s = test::empty_suite(dir);
  test::add_incident(s, "INC-9", "Refund issued without checking the policy");
  auto c = parse_case(refund_agent_case());
  REQUIRE(c);
  test::add_case(s, *c);
  auto back = rows::find_case(s.db(), "refund-needs-policy");
  REQUIRE(back);
  REQUIRE(*back);
  CHECK((*back)->messages == c->messages);
  CHECK((*back)->tools == c->tools);
  CHECK((*back)->tool_choice == c->tool_choice);
  CHECK(content_hash(**back) == c->content_hash);

  // git's diff view shows each tool on a line and each call under its message.
  auto text = dump(s);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains("  tool: {\"function\":{\"description\":\"Find an order\","
                                    "\"name\":\"lookup_order\""));
  CHECK_THAT(*text, Catch::Contains("  tool_choice: \"auto\"\n"));
  CHECK_THAT(*text, Catch::Contains("  [assistant]\n  call: call_1 lookup_order "
                                    "{\"order_id\":\"A1\"}\n"));
  CHECK_THAT(*text, Catch::Contains("  [tool call_1] {\"delivered\":\"2026-01-02\"}\n"));
}

TEST_CASE("a suite from before tools is read as it is, and gains the columns on its first write",
          "[suite][tools]") {
  test::TempDir dir;
  { auto s = test::suite_with_case(dir, "refund-window", "INC-7"); }
  test::set_schema_version(test::suite_path(dir), 3);
  {
    auto s = Suite::open(test::suite_path(dir), Suite::Access::read);
    REQUIRE(s);
    auto cases = list_cases(*s, {});
    REQUIRE(cases);
    REQUIRE(cases->size() == 1);
    CHECK((*cases)[0].tools.is_null());
    CHECK(content_hash((*cases)[0]) == (*cases)[0].content_hash);
    REQUIRE(s->schema_version() == 3);
  }
  auto s = Suite::open(test::suite_path(dir), Suite::Access::write);
  REQUIRE(s);
  auto c = parse_case(refund_agent_case());
  REQUIRE(c);
  test::add_incident(*s, "INC-9", "Refund issued without checking the policy");
  test::add_case(*s, *c);
  CHECK(s->schema_version() == Suite::latest_schema_version());
  auto back = rows::find_case(s->db(), "refund-needs-policy");
  REQUIRE(back);
  REQUIRE(*back);
  CHECK((*back)->tools == c->tools);
}

TEST_CASE("a captured case keeps the logged exchange as evidence, checked and hashed",
          "[suite][tools]") {
  auto j = refund_agent_case();
  j["evidence"] = json::parse(R"({"source":"logs/refund.jsonl","id":"chatcmpl-42",
    "answer":"","tool_calls":[{"id":"call_9","type":"function",
      "function":{"name":"issue_refund","arguments":"{\"order_id\":\"A1\"}"}}]})");
  auto c = parse_case(j);
  REQUIRE(c);
  CHECK(c->evidence["tool_calls"][0] ==
        json::parse(R"({"id":"call_9","name":"issue_refund","arguments":{"order_id":"A1"}})"));
  auto again = parse_case(json::parse(case_record(*c).dump()));
  REQUIRE(again);
  CHECK(again->evidence == c->evidence);
  CHECK(again->content_hash == c->content_hash);
  auto plain = parse_case(refund_agent_case());
  REQUIRE(plain);
  CHECK(plain->content_hash != c->content_hash);

  j["evidence"]["verdict"] = "bad";
  CHECK_THAT(error_of(j), Catch::Contains("field \"verdict\": unknown field"));
  j["evidence"].erase("verdict");
  j["evidence"]["answer"] = 7;
  CHECK_THAT(error_of(j), Catch::Contains("field \"answer\": must be a string"));
}
