#include "providers/gemini.hpp"

#include <charconv>

#include <fmt/format.h>

namespace evalkeep::providers::gemini {

using json = nlohmann::json;

namespace {

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    return std::nullopt;
  return it->get<std::int64_t>();
}

json text_part(const std::string& text) {
  return {{"text", text}};
}

// A call's arguments as the `args` object a functionCall part holds ({} when the text is not a
// JSON object, which the API cannot take).
json args_of(const core::ToolCall& call) {
  auto args = json::parse(call.arguments, nullptr, false);
  return args.is_object() ? args : json::object();
}

// A tool's result as the `response` object of a functionResponse part: the result itself when it
// is a JSON object, else {"result": <the text>}, the form Google's examples use.
json response_of(const std::string& content) {
  auto j = json::parse(content, nullptr, false);
  return j.is_object() ? j : json{{"result", content}};
}

// The name of the function whose call `id` answers: the call with that id among the latest
// assistant message's, else the call at the same position in it (a conversation written without
// ids).
std::string function_name(const std::vector<core::ToolCall>& calls, const std::string& id,
                          std::size_t position) {
  for (const auto& call : calls)
    if (!id.empty() && call.id == id)
      return call.name;
  return position < calls.size() ? calls[position].name : std::string();
}

json declarations(const json& tools) {
  json out = json::array();
  for (const auto& tool : tools) {
    const json& f = tool.contains("function") ? tool["function"] : tool;
    json d{{"name", f.value("name", "")}};
    if (f.contains("description") && f["description"].is_string())
      d["description"] = f["description"];
    // JSON Schema as it is: `parameters` takes only Google's OpenAPI subset.
    if (f.contains("parameters") && f["parameters"].is_object())
      d["parametersJsonSchema"] = f["parameters"];
    out.push_back(std::move(d));
  }
  return json::array({{{"functionDeclarations", std::move(out)}}});
}

// tool_choice (Chat Completions' form) as toolConfig.functionCallingConfig.
json tool_config(const json& choice) {
  json config;
  if (choice.is_string()) {
    auto c = choice.get<std::string>();
    config["mode"] = c == "none" ? "NONE" : c == "required" ? "ANY" : "AUTO";
  } else if (choice.is_object()) {
    config["mode"] = "ANY";
    auto name = choice.contains("function") ? choice["function"].value("name", "") : "";
    if (!name.empty())
      config["allowedFunctionNames"] = json::array({name});
  } else {
    config["mode"] = "AUTO";
  }
  return {{"functionCallingConfig", std::move(config)}};
}

// Appends parts to the conversation, into the last content when it has the same role: the API
// wants one content per turn, and a turn's tool results in one user content.
void add(json& contents, const std::string& role, json parts) {
  if (!contents.empty() && contents.back()["role"] == role) {
    for (auto& p : parts)
      contents.back()["parts"].push_back(std::move(p));
    return;
  }
  contents.push_back({{"role", role}, {"parts", std::move(parts)}});
}

} // namespace

std::string url(const ProviderConfig& c) {
  std::string model = c.model;
  if (model.starts_with("models/"))
    model.erase(0, 7);
  return fmt::format("{}/v1beta/models/{}:generateContent", c.base_url, model);
}

std::string request_body(const ProviderConfig& c, const ChatInput& input) {
  json contents = json::array();
  std::string system;
  const std::vector<core::ToolCall>* last_calls = nullptr;
  std::size_t result_index = 0;
  for (const auto& m : input.messages) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n\n") + m.content;
    } else if (m.role == "tool") {
      static const std::vector<core::ToolCall> k_none;
      const auto& calls = last_calls ? *last_calls : k_none;
      json response{{"name", function_name(calls, m.tool_call_id, result_index++)},
                    {"response", response_of(m.content)}};
      if (!m.tool_call_id.empty())
        response["id"] = m.tool_call_id;
      add(contents, "user", json::array({{{"functionResponse", std::move(response)}}}));
    } else if (m.role == "assistant") {
      json parts = json::array();
      if (!m.content.empty() || m.tool_calls.empty())
        parts.push_back(text_part(m.content));
      for (const auto& call : m.tool_calls) {
        json fc{{"name", call.name}, {"args", args_of(call)}};
        if (!call.id.empty())
          fc["id"] = call.id;
        parts.push_back({{"functionCall", std::move(fc)}});
      }
      if (!m.tool_calls.empty()) {
        last_calls = &m.tool_calls;
        result_index = 0;
      }
      add(contents, "model", std::move(parts));
    } else {
      add(contents, "user", json::array({text_part(m.content)}));
    }
  }
  json body{{"contents", std::move(contents)}};
  if (!system.empty())
    body["systemInstruction"] = {{"parts", json::array({text_part(system)})}};
  json generation = json::object();
  if (c.temperature)
    generation["temperature"] = *c.temperature;
  if (c.max_tokens)
    generation["maxOutputTokens"] = *c.max_tokens;
  if (c.seed)
    generation["seed"] = *c.seed;
  if (!generation.empty())
    body["generationConfig"] = std::move(generation);
  if (!input.tools.is_null() && input.tools.is_array() && !input.tools.empty())
    body["tools"] = declarations(input.tools);
  if (!input.tool_choice.is_null())
    body["toolConfig"] = tool_config(input.tool_choice);
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// A failure's class from Google's status name first (the same status code covers several), then
// the HTTP status.
ErrorClass class_of(long http_status, const std::string& status, const json& details) {
  if (details.is_array())
    for (const auto& d : details)
      if (d.is_object() && string_field(d, "reason") == "API_KEY_INVALID")
        return ErrorClass::auth;
  if (status == "RESOURCE_EXHAUSTED" || http_status == 429)
    return ErrorClass::rate_limited;
  if (status == "PERMISSION_DENIED" || status == "UNAUTHENTICATED" || http_status == 401 ||
      http_status == 403)
    return ErrorClass::auth;
  if (status == "DEADLINE_EXCEEDED" || http_status == 408)
    return ErrorClass::timeout;
  if (http_status >= 500)
    return ErrorClass::server;
  return ErrorClass::bad_request;
}

Reply error_reply(long http_status, const json& j) {
  Reply r;
  std::string message, status;
  json details;
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    message = string_field(e, "message");
    status = string_field(e, "status");
    if (e.contains("details"))
      details = e["details"];
  }
  r.error = class_of(http_status, status, details);
  std::string what = status.empty()    ? message
                     : message.empty() ? status
                                       : fmt::format("{}: {}", status, message);
  r.error_message =
      fmt::format("HTTP {}{}{}", http_status, what.empty() ? "" : " ", what.substr(0, 300));
  return r;
}

// The finish reasons that mean a filter stopped the answer, not the model.
bool blocked(const std::string& reason) {
  return reason == "SAFETY" || reason == "RECITATION" || reason == "PROHIBITED_CONTENT" ||
         reason == "BLOCKLIST" || reason == "SPII" || reason == "LANGUAGE" ||
         reason == "IMAGE_SAFETY" || reason == "OTHER";
}

void read_usage(const json& j, Reply& r) {
  auto u = j.find("usageMetadata");
  if (u == j.end() || !u->is_object())
    return;
  r.tokens_in = int_field(*u, "promptTokenCount"); // the cached content's tokens included
  r.tokens_cached = int_field(*u, "cachedContentTokenCount");
  // Thinking is billed as output: the answer's tokens and the thoughts' together.
  auto out = int_field(*u, "candidatesTokenCount");
  auto thoughts = int_field(*u, "thoughtsTokenCount");
  if (out || thoughts)
    r.tokens_out = out.value_or(0) + thoughts.value_or(0);
}

// Reads candidates[0]; returns why it is not an answer, or an empty string.
std::string read_candidate(const json& j, Reply& r) {
  auto candidates = j.find("candidates");
  bool none = candidates == j.end() || !candidates->is_array() || candidates->empty() ||
              !(*candidates)[0].is_object();
  if (none) {
    auto feedback = j.find("promptFeedback");
    std::string reason = feedback != j.end() && feedback->is_object()
                             ? string_field(*feedback, "blockReason")
                             : std::string();
    if (reason.empty())
      return "the response has no candidates";
    r.finish_reason = "blockReason " + reason; // the prompt was blocked: nothing was generated
    return {};
  }
  const json& first = (*candidates)[0];
  std::string finish = string_field(first, "finishReason");
  bool any_text = false;
  auto content = first.find("content");
  if (content != first.end() && content->is_object() && content->contains("parts") &&
      (*content)["parts"].is_array())
    for (const auto& part : (*content)["parts"]) {
      if (!part.is_object() || part.value("thought", false) == true)
        continue; // a thought summary is not the answer
      if (part.contains("text") && part["text"].is_string()) {
        r.text += part["text"].get<std::string>();
        any_text = true;
      } else if (part.contains("functionCall") && part["functionCall"].is_object()) {
        const json& fc = part["functionCall"];
        std::string name = string_field(fc, "name");
        if (name.empty())
          return "a functionCall part has no name";
        json args = fc.contains("args") ? fc["args"] : json::object();
        r.tool_calls.push_back({string_field(fc, "id"), name,
                                args.dump(-1, ' ', false, json::error_handler_t::replace)});
      }
    }
  if (blocked(finish)) {
    r.finish_reason = "finishReason " + finish;
    return {};
  }
  if (!any_text && r.tool_calls.empty())
    return finish.empty()
               ? "the first candidate has no text"
               : fmt::format("the first candidate has no text (finishReason {})", finish);
  return {};
}

} // namespace

Reply parse_response(long http_status, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (http_status < 200 || http_status >= 300)
    return error_reply(http_status, j.is_discarded() ? json() : j);
  Reply r;
  if (j.is_discarded() || !j.is_object()) {
    r.error = ErrorClass::bad_response;
    r.error_message = fmt::format("HTTP {} with a body that is not JSON", http_status);
    return r;
  }
  if (j.contains("error")) {
    auto e = error_reply(http_status, j);
    r.error = ErrorClass::bad_response;
    auto prefix = fmt::format("HTTP {} ", http_status);
    auto what = e.error_message.starts_with(prefix) ? e.error_message.substr(prefix.size())
                                                    : e.error_message;
    r.error_message = fmt::format("HTTP {} carrying an error: {}", http_status, what);
    return r;
  }
  r.served_model = string_field(j, "modelVersion");
  if (auto problem = read_candidate(j, r); !problem.empty()) {
    Reply bad;
    bad.error = ErrorClass::bad_response;
    bad.error_message = std::move(problem);
    return bad;
  }
  read_usage(j, r);
  return r;
}

std::optional<double> retry_delay_ms(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
    return std::nullopt;
  auto details = j["error"].find("details");
  if (details == j["error"].end() || !details->is_array())
    return std::nullopt;
  for (const auto& d : *details) {
    if (!d.is_object() || !d.value("@type", json()).is_string() ||
        !d["@type"].get<std::string>().ends_with("google.rpc.RetryInfo") ||
        !d.value("retryDelay", json()).is_string())
      continue;
    // A protobuf Duration in JSON: decimal seconds with an "s".
    std::string delay = d["retryDelay"].get<std::string>();
    if (!delay.ends_with('s'))
      return std::nullopt;
    double seconds = 0;
    auto [end, ec] = std::from_chars(delay.data(), delay.data() + delay.size() - 1, seconds);
    if (ec != std::errc{} || end != delay.data() + delay.size() - 1 || !(seconds >= 0))
      return std::nullopt;
    return seconds * 1000;
  }
  return std::nullopt;
}

} // namespace evalkeep::providers::gemini
