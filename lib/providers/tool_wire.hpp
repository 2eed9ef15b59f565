#pragma once

#include "core/tools.hpp"

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

// Tools on the wire: definitions, choices and calls as each API writes them, from and to the
// neutral forms of core/tools.hpp (definitions and choices normalized to OpenAI's Chat Completions
// form, calls as core::ToolCall).
namespace evalkeep::providers::tool_wire {

/// Chat Completions: an assistant message's "tool_calls",
/// [{"function":{"arguments":"<JSON text>","name"},"id","type":"function"}].
nlohmann::json chat_tool_calls(const std::vector<core::ToolCall>& calls);

/// Anthropic Messages: [{"description","input_schema","name"}]; a tool without parameters takes
/// an empty object's schema {"type":"object"}.
nlohmann::json anthropic_tools(const nlohmann::json& tools);
/// Anthropic Messages: {"type":"auto"|"any"|"none"} or {"name","type":"tool"}.
nlohmann::json anthropic_tool_choice(const nlohmann::json& choice);
/// Anthropic Messages: an assistant's {"id","input","name","type":"tool_use"} block; `input` is
/// the parsed arguments object ({} when the text is not a JSON object, which the API cannot take).
nlohmann::json anthropic_tool_use(const core::ToolCall& call);

/// Responses API: [{"description","name","parameters","strict","type":"function"}]. `strict` is
/// false unless the definition says otherwise, as Chat Completions reads a definition without it.
nlohmann::json responses_tools(const nlohmann::json& tools);
/// Responses API: "auto", "none", "required" or {"name","type":"function"}.
nlohmann::json responses_tool_choice(const nlohmann::json& choice);
/// Responses API: the input item {"arguments","call_id","name","type":"function_call"}.
nlohmann::json responses_function_call(const core::ToolCall& call);

/// A call as a reply carries it: Chat Completions' {"id","type":"function","function":{"name",
/// "arguments"}}, Anthropic's tool_use block, the Responses API's function_call item. Nothing when
/// it has no function name.
std::optional<core::ToolCall> from_chat(const nlohmann::json& call);
std::optional<core::ToolCall> from_tool_use(const nlohmann::json& block);
std::optional<core::ToolCall> from_function_call(const nlohmann::json& item);

} // namespace evalkeep::providers::tool_wire
