#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::core {

/// A function call a model made, or, in a case's conversation, had made before the case starts.
struct ToolCall {
  std::string id;        // the provider's call id ("call_abc", "toolu_01..."), or empty
  std::string name;      // the function's name
  std::string arguments; // JSON text of the arguments object, as the model wrote it (maybe invalid)

  bool operator==(const ToolCall&) const = default;
};

/// The neutral JSON form evalkeep stores and shows: {"id","name","arguments"}, the arguments as a
/// JSON value when they parse and as the text the model wrote when they do not.
nlohmann::json to_json(const ToolCall& call);

/// Reads a tool call in the neutral form or in OpenAI's Chat Completions form
/// ({"id","type":"function","function":{"name","arguments":"<JSON text>"}}); `where` names it in
/// errors ("messages[2].tool_calls[0]").
Result<ToolCall> tool_call_from_json(const nlohmann::json& j, std::string_view where);

/// Tool calls as stores keep them: a compact JSON array of to_json's form; "" for none.
std::string tool_calls_text(const std::vector<ToolCall>& calls);
/// Reads tool_calls_text's form back; what is not a tool call is skipped.
std::vector<ToolCall> parse_tool_calls(std::string_view text);

/// The tool definitions of a case, in OpenAI's function format
/// ([{"type":"function","function":{"name","description","parameters"}}]), from that format, the
/// bare {"name","description","parameters"} or Anthropic's {"name","description","input_schema"}.
/// Names are unique and match ^[a-zA-Z0-9_-]{1,64}$; parameters is an object. Errors name the
/// field ("tools[1].function.name").
Result<nlohmann::json> normalize_tools(const nlohmann::json& tools);

/// A case's tool_choice as OpenAI's Chat Completions takes it: "auto", "none", "required" or
/// {"type":"function","function":{"name":NAME}}; Anthropic's {"type":"auto"|"any"|"none"} and
/// {"type":"tool","name":NAME} are read too. A named function must be among `tools` (normalized).
Result<nlohmann::json> normalize_tool_choice(const nlohmann::json& choice,
                                             const nlohmann::json& tools);

/// The names of normalized tool definitions, in order.
std::vector<std::string> tool_names(const nlohmann::json& tools);

/// The JSON Schema of the parameters of the tool named `name` among normalized definitions, or
/// null when there is no such tool (a tool without parameters takes an empty object's schema).
nlohmann::json tool_parameters(const nlohmann::json& tools, std::string_view name);

} // namespace evalkeep::core
