#include "core/tools.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace evalkeep::core {

using json = nlohmann::json;

namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '_' && c != '-')
      return false;
  return true;
}

Result<std::string> name_at(const json& j, std::string_view key, const std::string& where) {
  auto field = fmt::format("{}.{}", where, key);
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return invalid_field(field, "must be the function's name, a string");
  auto name = it->get<std::string>();
  if (!valid_name(name))
    return invalid_field(field, "'{}' is not a function name: use 1 to 64 letters, digits, _ or -",
                         name);
  return name;
}

Status only_keys(const json& j, std::initializer_list<std::string_view> keys,
                 const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (auto k : keys)
      known = known || key == k;
    if (!known)
      return invalid_field(fmt::format("{}.{}", where, key), "unknown field");
  }
  return {};
}

// One definition, in any of the three forms, as OpenAI's function format.
Result<json> normalize_tool(const json& t, const std::string& where) {
  if (!t.is_object())
    return invalid_field(where, "must be a tool definition object");
  json fn;
  std::string fn_where;
  if (t.contains("function")) { // OpenAI: {"type":"function","function":{...}}
    TRY(only_keys(t, {"type", "function"}, where));
    if (t.contains("type") && t["type"] != "function")
      return invalid_field(where + ".type", "must be \"function\"");
    fn = t["function"];
    fn_where = where + ".function";
    if (!fn.is_object())
      return invalid_field(fn_where, "must be an object with name, description and parameters");
  } else {
    fn = t;
    fn_where = where;
  }
  TRY(only_keys(fn, {"name", "description", "parameters", "input_schema", "strict", "type"},
                fn_where));
  if (fn.contains("type") && fn["type"] != "function" && fn["type"] != "custom")
    return invalid_field(fn_where + ".type", "must be \"function\"");
  // TRY outside the braces: returning from inside them would leak what they had built.
  auto name = TRY(name_at(fn, "name", fn_where));
  json out{{"name", std::move(name)}};
  if (auto d = fn.find("description"); d != fn.end()) {
    if (!d->is_string())
      return invalid_field(fn_where + ".description", "must be a string");
    out["description"] = *d;
  }
  if (fn.contains("parameters") && fn.contains("input_schema"))
    return invalid_field(fn_where + ".input_schema", "give parameters or input_schema, not both");
  for (const char* key : {"parameters", "input_schema"})
    if (auto p = fn.find(key); p != fn.end()) {
      if (!p->is_object())
        return invalid_field(fmt::format("{}.{}", fn_where, key), "must be a JSON Schema object");
      out["parameters"] = *p;
    }
  if (auto s = fn.find("strict"); s != fn.end()) {
    if (!s->is_boolean())
      return invalid_field(fn_where + ".strict", "must be true or false");
    out["strict"] = *s;
  }
  return json{{"type", "function"}, {"function", std::move(out)}};
}

} // namespace

json to_json(const ToolCall& call) {
  json out{{"id", call.id}, {"name", call.name}};
  auto args = json::parse(call.arguments, nullptr, false);
  out["arguments"] = args.is_discarded() ? json(call.arguments) : std::move(args);
  return out;
}

Result<ToolCall> tool_call_from_json(const json& j, std::string_view where_) {
  std::string where(where_);
  if (!j.is_object())
    return invalid_field(where, "must be a tool call object {{\"id\",\"name\",\"arguments\"}}");
  ToolCall call;
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string())
      return invalid_field(where + ".id", "must be a string");
    call.id = id->get<std::string>();
  }
  const json* fn = &j;
  std::string fn_where = where;
  if (j.contains("function")) {
    TRY(only_keys(j, {"id", "type", "function"}, where));
    fn = &j["function"];
    fn_where = where + ".function";
    if (!fn->is_object())
      return invalid_field(fn_where, "must be an object with name and arguments");
    TRY(only_keys(*fn, {"name", "arguments"}, fn_where));
  } else {
    TRY(only_keys(j, {"id", "type", "name", "arguments"}, where));
  }
  call.name = TRY(name_at(*fn, "name", fn_where));
  auto args = fn->find("arguments");
  if (args == fn->end())
    call.arguments = "{}";
  else if (args->is_string())
    call.arguments = args->get<std::string>();
  else if (args->is_object())
    call.arguments = args->dump();
  else
    return invalid_field(fn_where + ".arguments", "must be a JSON object or its text");
  return call;
}

std::string tool_calls_text(const std::vector<ToolCall>& calls) {
  if (calls.empty())
    return {};
  json out = json::array();
  for (const auto& call : calls)
    out.push_back(to_json(call));
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<ToolCall> parse_tool_calls(std::string_view text) {
  std::vector<ToolCall> out;
  auto j = json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& e : j)
      if (auto call = tool_call_from_json(e, "tool_calls"))
        out.push_back(std::move(*call));
  return out;
}

Result<json> normalize_tools(const json& tools) {
  if (!tools.is_array())
    return invalid_field("tools", "must be an array of tool definitions");
  json out = json::array();
  std::set<std::string> names;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    auto where = fmt::format("tools[{}]", i);
    auto tool = TRY(normalize_tool(tools[i], where));
    auto name = tool["function"]["name"].get<std::string>();
    if (!names.insert(name).second)
      return invalid_field(where, "a second tool named '{}': tool names are unique", name);
    out.push_back(std::move(tool));
  }
  return out;
}

Result<json> normalize_tool_choice(const json& choice, const json& tools) {
  auto named = [&](const std::string& name) -> Result<json> {
    auto names = tool_names(tools);
    if (std::find(names.begin(), names.end(), name) == names.end())
      return invalid_field("tool_choice", "names '{}', which is not one of the case's tools", name);
    return json{{"type", "function"}, {"function", {{"name", name}}}};
  };
  if (choice.is_string()) {
    auto s = choice.get<std::string>();
    if (s == "auto" || s == "none" || s == "required")
      return choice;
    if (s == "any")
      return json("required");
    return invalid_field("tool_choice", "'{}' is not auto, none, required or a tool", s);
  }
  if (choice.is_object() && choice.contains("type") && choice["type"].is_string()) {
    auto type = choice["type"].get<std::string>();
    if (type == "function" && choice.contains("function") && choice["function"].is_object() &&
        choice["function"].contains("name") && choice["function"]["name"].is_string())
      return named(choice["function"]["name"].get<std::string>());
    if (type == "function" && choice.contains("name") && choice["name"].is_string())
      return named(choice["name"].get<std::string>()); // the Responses API's form
    if (type == "tool" && choice.contains("name") && choice["name"].is_string())
      return named(choice["name"].get<std::string>());
    if (type == "auto" || type == "none")
      return json(type);
    if (type == "any")
      return json("required");
  }
  return invalid_field("tool_choice", "must be \"auto\", \"none\", \"required\" or "
                                      "{{\"type\":\"function\",\"function\":{{\"name\":NAME}}}}");
}

std::vector<std::string> tool_names(const json& tools) {
  std::vector<std::string> out;
  if (tools.is_array())
    for (const auto& t : tools)
      if (t.is_object() && t.contains("function") && t["function"].is_object())
        out.push_back(t["function"].value("name", ""));
  return out;
}

json tool_parameters(const json& tools, std::string_view name) {
  if (tools.is_array())
    for (const auto& t : tools) {
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object())
        continue;
      const auto& fn = t["function"];
      if (fn.value("name", "") != name)
        continue;
      if (auto p = fn.find("parameters"); p != fn.end())
        return *p;
      return json{{"type", "object"}};
    }
  return nullptr;
}

} // namespace evalkeep::core
