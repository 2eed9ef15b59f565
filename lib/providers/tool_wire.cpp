#include "providers/tool_wire.hpp"

namespace evalkeep::providers::tool_wire {

using json = nlohmann::json;

namespace {

// The {"name","description","parameters","strict"} of each normalized definition.
std::vector<json> functions_of(const json& tools) {
  std::vector<json> out;
  if (tools.is_array())
    for (const auto& t : tools)
      if (t.is_object() && t.contains("function") && t["function"].is_object())
        out.push_back(t["function"]);
  return out;
}

json parameters_of(const json& fn) {
  auto p = fn.find("parameters");
  return p != fn.end() && p->is_object() ? *p : json{{"type", "object"}};
}

std::string text_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The name a normalized choice forces, or an empty string.
std::string forced_name(const json& choice) {
  if (choice.is_object() && choice.contains("function") && choice["function"].is_object())
    return text_at(choice["function"], "name");
  return {};
}

// Arguments as the model wrote them: a string is kept as it is, an object (some compatible servers
// send one) is written out.
std::string arguments_at(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return "{}";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

} // namespace

json chat_tool_calls(const std::vector<core::ToolCall>& calls) {
  json out = json::array();
  for (const auto& c : calls)
    out.push_back({{"id", c.id},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return out;
}

json anthropic_tools(const json& tools) {
  json out = json::array();
  for (const auto& fn : functions_of(tools)) {
    json t{{"name", text_at(fn, "name")}, {"input_schema", parameters_of(fn)}};
    if (fn.contains("description"))
      t["description"] = fn["description"];
    out.push_back(std::move(t));
  }
  return out;
}

json anthropic_tool_choice(const json& choice) {
  if (auto name = forced_name(choice); !name.empty())
    return {{"type", "tool"}, {"name", name}};
  if (choice == "required")
    return {{"type", "any"}};
  if (choice == "none")
    return {{"type", "none"}};
  return {{"type", "auto"}};
}

json anthropic_tool_use(const core::ToolCall& call) {
  json input = json::parse(call.arguments, nullptr, false);
  if (!input.is_object())
    input = json::object();
  return {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}};
}

json responses_tools(const json& tools) {
  json out = json::array();
  for (const auto& fn : functions_of(tools)) {
    json t{
        {"type", "function"},
        {"name", text_at(fn, "name")},
        {"parameters", parameters_of(fn)},
        {"strict", fn.contains("strict") && fn["strict"].is_boolean() && fn["strict"].get<bool>()}};
    if (fn.contains("description"))
      t["description"] = fn["description"];
    out.push_back(std::move(t));
  }
  return out;
}

json responses_tool_choice(const json& choice) {
  if (auto name = forced_name(choice); !name.empty())
    return {{"type", "function"}, {"name", name}};
  return choice.is_string() ? choice : json("auto");
}

json responses_function_call(const core::ToolCall& call) {
  return {{"type", "function_call"},
          {"call_id", call.id},
          {"name", call.name},
          {"arguments", call.arguments}};
}

std::optional<core::ToolCall> from_chat(const json& call) {
  if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
    return std::nullopt;
  const json& fn = call["function"];
  core::ToolCall out{text_at(call, "id"), text_at(fn, "name"), arguments_at(fn, "arguments")};
  if (out.name.empty())
    return std::nullopt;
  return out;
}

std::optional<core::ToolCall> from_tool_use(const json& block) {
  if (!block.is_object())
    return std::nullopt;
  core::ToolCall out{text_at(block, "id"), text_at(block, "name"), arguments_at(block, "input")};
  if (out.name.empty())
    return std::nullopt;
  return out;
}

std::optional<core::ToolCall> from_function_call(const json& item) {
  if (!item.is_object())
    return std::nullopt;
  core::ToolCall out{text_at(item, "call_id"), text_at(item, "name"),
                     arguments_at(item, "arguments")};
  if (out.name.empty())
    return std::nullopt;
  return out;
}

} // namespace evalkeep::providers::tool_wire
