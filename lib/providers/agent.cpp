#include "providers/agent.hpp"

#include <fmt/format.h>

namespace evalkeep::providers {

using json = nlohmann::json;

namespace {

Status only(const json& j, std::initializer_list<std::string_view> keys, const std::string& where) {
  for (const auto& [key, _] : j.items())
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return invalid_field(fmt::format("{}.{}", where, key), "unknown field");
  return {};
}

Status text_at(const json& step, const char* key, const std::string& where, json& out) {
  if (auto v = step.find(key); v != step.end()) {
    if (!v->is_string())
      return invalid_field(fmt::format("{}.{}", where, key), "must be a string");
    out[key] = *v;
  }
  return {};
}

Status number_at(const json& step, const char* key, const std::string& where, json& out,
                 bool whole) {
  if (auto v = step.find(key); v != step.end()) {
    if (!(whole ? v->is_number_integer() : v->is_number()) || v->get<double>() < 0)
      return invalid_field(fmt::format("{}.{}", where, key), "must be a {}number, 0 or more",
                           whole ? "whole " : "");
    out[key] = *v;
  }
  return {};
}

// One step, checked and in its stored form; its calls appended to `model_calls`/`tool_calls`.
Result<json> read_step(const json& s, const std::string& where,
                       std::vector<core::ToolCall>& model_calls,
                       std::vector<core::ToolCall>& tool_calls) {
  if (!s.is_object() || !s.contains("type") || !s["type"].is_string())
    return invalid_field(where, "must be an object with a \"type\": \"model\" or \"tool\"");
  auto type = s["type"].get<std::string>();
  json out{{"type", type}};
  TRY(number_at(s, "latency_ms", where, out, false));
  TRY(text_at(s, "error", where, out));
  if (type == "model") {
    TRY(only(
        s,
        {"type", "model", "text", "tool_calls", "latency_ms", "tokens_in", "tokens_out", "error"},
        where));
    TRY(text_at(s, "model", where, out));
    TRY(text_at(s, "text", where, out));
    TRY(number_at(s, "tokens_in", where, out, true));
    TRY(number_at(s, "tokens_out", where, out, true));
    if (auto calls = s.find("tool_calls"); calls != s.end()) {
      if (!calls->is_array())
        return invalid_field(where + ".tool_calls", "must be an array of tool calls");
      json list = json::array();
      for (std::size_t k = 0; k < calls->size(); ++k) {
        auto call =
            TRY(core::tool_call_from_json((*calls)[k], fmt::format("{}.tool_calls[{}]", where, k)));
        list.push_back(core::to_json(call));
        model_calls.push_back(std::move(call));
      }
      out["tool_calls"] = std::move(list);
    }
    return out;
  }
  if (type != "tool")
    return invalid_field(where + ".type", "'{}' is not model or tool", type);
  TRY(only(s, {"type", "id", "name", "arguments", "result", "latency_ms", "error"}, where));
  json call_json{{"name", s.value("name", json())}};
  for (const char* key : {"id", "arguments"})
    if (s.contains(key))
      call_json[key] = s[key];
  auto call = TRY(core::tool_call_from_json(call_json, where));
  auto as_json = core::to_json(call);
  out["id"] = as_json["id"];
  out["name"] = as_json["name"];
  out["arguments"] = as_json["arguments"];
  if (auto r = s.find("result"); r != s.end())
    out["result"] = r->is_string() ? r->get<std::string>() : r->dump();
  tool_calls.push_back(std::move(call));
  return out;
}

Status read_output(const json& j, Reply& reply) {
  if (!j.is_object())
    return invalid("must be a JSON object {{\"answer\", \"steps\"}}");
  TRY(only(j, {"answer", "steps"}, "output"));
  auto answer = j.find("answer");
  if (answer == j.end() || !answer->is_string())
    return invalid_field("answer", "required: the agent's final answer, a string");
  reply.text = answer->get<std::string>();
  auto steps = j.find("steps");
  if (steps == j.end())
    return {};
  if (!steps->is_array())
    return invalid_field("steps", "must be an array of model and tool steps");
  std::vector<core::ToolCall> model_calls;
  json out = json::array();
  std::int64_t in = 0, out_tokens = 0;
  bool counted = false;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    auto step =
        TRY(read_step((*steps)[i], fmt::format("steps[{}]", i), model_calls, reply.tool_calls));
    if (step.contains("tokens_in") || step.contains("tokens_out")) {
      counted = true;
      in += step.value("tokens_in", std::int64_t{0});
      out_tokens += step.value("tokens_out", std::int64_t{0});
    }
    out.push_back(std::move(step));
  }
  if (reply.tool_calls.empty())
    reply.tool_calls = std::move(model_calls);
  if (counted) {
    reply.tokens_in = in;
    reply.tokens_out = out_tokens;
  }
  reply.steps = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return {};
}

} // namespace

Reply parse_agent_output(const std::string& stdout_text) {
  Reply reply;
  auto j = json::parse(stdout_text, nullptr, false);
  Status read = j.is_discarded() ? Status(invalid("not JSON")) : read_output(j, reply);
  if (!read) {
    Reply bad;
    bad.error = ErrorClass::bad_response;
    bad.error_message = "the agent's output: " + read.error().message;
    return bad;
  }
  return reply;
}

} // namespace evalkeep::providers
