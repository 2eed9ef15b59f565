#include "converse.hpp"

#include "service.hpp"
#include "sigv4.hpp"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace evalkeep::standin::converse {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

ApiError validation(std::string message) {
  return {.status = 400,
          .type = "ValidationException",
          .message = std::move(message),
          .code = nullptr,
          .param = nullptr};
}

// The text blocks of a content list, joined by newlines.
std::string text_of(const json& content) {
  std::string text;
  for (const json& block : content)
    if (block.is_object() && block.contains("text") && block["text"].is_string()) {
      if (!text.empty())
        text += '\n';
      text += block["text"].get<std::string>();
    }
  return text;
}

// The text of a toolResult block's content: its text blocks, or its json blocks dumped.
std::string tool_result_text(const json& result) {
  std::string text;
  auto content = result.find("content");
  if (content == result.end() || !content->is_array())
    return text;
  for (const json& block : *content) {
    if (!block.is_object())
      continue;
    if (block.contains("text") && block["text"].is_string())
      text += block["text"].get<std::string>();
    else if (block.contains("json"))
      text += block["json"].dump();
  }
  return text;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string error_type_header(std::string_view type) {
  return fmt::format("{}:http://internal.amazon.com/coral/com.amazon.bedrock/", type);
}

} // namespace

std::optional<std::string> model_of_path(std::string_view path) {
  constexpr std::string_view k_prefix = "/model/", k_suffix = "/converse";
  if (!path.starts_with(k_prefix) || !path.ends_with(k_suffix) ||
      path.size() <= k_prefix.size() + k_suffix.size())
    return std::nullopt;
  return percent_decode(
      path.substr(k_prefix.size(), path.size() - k_prefix.size() - k_suffix.size()));
}

std::expected<ChatRequest, ApiError> parse_request(std::string_view model, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::unexpected(validation("Malformed input request, please reformat your input and "
                                      "try again."));
  ChatRequest r;
  r.model = model;
  auto messages = j.find("messages");
  if (messages == j.end() || !messages->is_array() || messages->empty())
    return std::unexpected(validation("A conversation must start with a user message. Try again "
                                      "with a conversation that starts with a user message."));
  if (auto system = j.find("system"); system != j.end()) {
    if (!system->is_array())
      return std::unexpected(validation("system must be a list of content blocks"));
    r.prompt_words += count_words(text_of(*system));
  }
  if (auto config = j.find("inferenceConfig"); config != j.end()) {
    if (!config->is_object())
      return std::unexpected(validation("inferenceConfig must be an object"));
    auto max = config->find("maxTokens");
    if (max != config->end() && (!max->is_number_integer() || max->get<std::int64_t>() < 1))
      return std::unexpected(validation("maxTokens must be a positive integer"));
    auto temperature = config->find("temperature");
    if (temperature != config->end() && !temperature->is_number())
      return std::unexpected(validation("temperature must be a number"));
  }
  if (auto tools = j.find("toolConfig"); tools != j.end()) {
    auto list = tools->is_object() ? tools->find("tools") : tools->end();
    if (list == tools->end() || !list->is_array() || list->empty())
      return std::unexpected(validation("toolConfig.tools must be a non-empty list"));
    for (const json& t : *list)
      if (!t.is_object() || !t.contains("toolSpec") || !t["toolSpec"].is_object() ||
          !t["toolSpec"].contains("name") || !t["toolSpec"].contains("inputSchema"))
        return std::unexpected(validation("each tool needs a toolSpec with name and inputSchema"));
  }
  bool first = true;
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["content"].is_array())
      return std::unexpected(validation("each message needs a role and a list of content"));
    const json& role = m["role"];
    if (role != "user" && role != "assistant")
      return std::unexpected(validation("role must be user or assistant"));
    if (first && role != "user")
      return std::unexpected(validation("A conversation must start with a user message. Try "
                                        "again with a conversation that starts with a user "
                                        "message."));
    first = false;
    std::string text = text_of(m["content"]);
    r.prompt_words += count_words(text);
    if (role != "user")
      continue;
    std::optional<std::string> result;
    for (const json& block : m["content"])
      if (block.is_object() && block.contains("toolResult") && block["toolResult"].is_object()) {
        result = tool_result_text(block["toolResult"]);
        r.prompt_words += count_words(*result);
      }
    if (result && text.empty()) {
      r.tool_result = std::move(result);
    } else {
      r.key = std::move(text);
      r.tool_result.reset();
    }
  }
  return r;
}

std::string reply_body(const ChatRequest& request, const Completion& c, bool empty) {
  ordered_json content = ordered_json::array();
  if (!empty && (!c.text.empty() || c.tool_calls.empty()))
    content.push_back({{"text", c.text}});
  for (std::size_t i = 0; !empty && i < c.tool_calls.size(); ++i) {
    auto input = ordered_json::parse(c.tool_calls[i].arguments, nullptr, false);
    content.push_back({{"toolUse",
                        {{"toolUseId", fmt::format("tooluse_standin_{}", c.first_call_id + i)},
                         {"name", c.tool_calls[i].name},
                         {"input", input.is_object() ? input : ordered_json::object()}}}});
  }
  std::size_t out = count_words(c.text);
  ordered_json j = {
      {"output", {{"message", {{"role", "assistant"}, {"content", std::move(content)}}}}},
      {"stopReason", c.tool_calls.empty() ? "end_turn" : "tool_use"},
      {"usage",
       {{"inputTokens", request.prompt_words},
        {"outputTokens", out},
        {"totalTokens", request.prompt_words + out}}},
      {"metrics", {{"latencyMs", 0}}}};
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

ApiError standard_error(int status, std::string_view model) {
  auto error = [&](std::string type, std::string message) {
    return ApiError{.status = status,
                    .type = std::move(type),
                    .message = std::move(message),
                    .code = nullptr,
                    .param = nullptr};
  };
  switch (status) {
  case 400:
    return error("ValidationException", "The provided request is not valid");
  case 401:
    return error("UnrecognizedClientException",
                 "The security token included in the request is invalid.");
  case 403:
    return error("AccessDeniedException",
                 "You don't have access to the model with the specified model ID.");
  case 404:
    return error("ResourceNotFoundException", fmt::format("The model {} was not found.", model));
  case 408:
    return error("ModelTimeoutException", "Model has timed out in processing the request.");
  case 413:
    return error("ValidationException", "Input is too long for requested model.");
  case 424:
    return error("ModelErrorException", "The model returned an error.");
  case 429:
    return error("ThrottlingException", "Too many requests, please wait before trying again.");
  case 503:
  case 529:
    return error("ServiceUnavailableException", "Bedrock is unable to process your request.");
  default:
    return error("InternalServerException", "The server encountered an internal error.");
  }
}

Reply error_reply(const ApiError& error) {
  Reply r;
  r.response.status = error.status;
  r.response.body = ordered_json{{"message", error.message}}.dump(
      -1, ' ', false, ordered_json::error_handler_t::replace);
  r.response.headers.emplace_back("x-amzn-ErrorType", error_type_header(error.type));
  return r;
}

Reply fault_reply(const Fault& fault, const ChatRequest& request, const Completion& answer,
                  const Request& raw) {
  if (auto wire = wire_fault(fault, reply_body(request, answer)))
    return *wire;
  Reply r;
  switch (fault.kind) {
  case FaultKind::status_400:
  case FaultKind::status_401:
  case FaultKind::status_403:
  case FaultKind::status_404:
  case FaultKind::status_413:
  case FaultKind::status_500:
  case FaultKind::status_502:
  case FaultKind::status_503:
  case FaultKind::status_504:
  case FaultKind::status_529:
    return error_reply(standard_error(status_of(fault.kind), request.model));
  case FaultKind::status_429:
    r = error_reply(standard_error(429, request.model));
    if (!fault.retry_after.empty())
      r.response.headers.emplace_back("retry-after", fault.retry_after);
    if (fault.retry_after_ms)
      r.response.headers.emplace_back("retry-after-ms", std::to_string(*fault.retry_after_ms));
    return r;
  case FaultKind::quota_429: // Bedrock's daily token quota is a ThrottlingException too
    return error_reply({.status = 429,
                        .type = "ThrottlingException",
                        .message = "Too many tokens per day, please wait before trying again.",
                        .code = nullptr,
                        .param = nullptr});
  case FaultKind::status_401_echo: {
    // A refusal that echoes the request, its signature and security token included.
    std::string echoed =
        fmt::format("The security token included in the request is invalid. You sent: {} {}",
                    raw.method, raw.path);
    for (const auto& [name, value] : raw.headers)
      echoed += fmt::format("\n{}: {}", name, value);
    echoed += "\n\n" + raw.body;
    return error_reply({.status = 403,
                        .type = "UnrecognizedClientException",
                        .message = std::move(echoed),
                        .code = nullptr,
                        .param = nullptr});
  }
  case FaultKind::invalid_json:
    r.response.body = R"({"output": {)";
    return r;
  case FaultKind::error_200:
    r.response.body = R"({"message": "The server encountered an internal error."})";
    return r;
  case FaultKind::empty_choices:
    r.response.body = reply_body(request, answer, true);
    return r;
  default: // the wire's, above
    break;
  }
  return r;
}

} // namespace evalkeep::standin::converse

namespace evalkeep::standin {

// The Converse route: the signature first (a request AWS cannot authenticate is refused before
// anything else), then the body, then the rules, as for the other APIs.
Reply ModelService::converse(const Request& request, const std::string& model) {
  std::uint64_t seq = ++m_seq;
  Outcome out;
  if (auto refused = sigv4::verify(request, m_options.aws, "bedrock", std::time(nullptr))) {
    out.reply = converse::error_reply({.status = refused->status,
                                       .type = refused->type,
                                       .message = refused->message,
                                       .code = nullptr,
                                       .param = nullptr});
    out.reply.delay_ms = m_options.latency_ms;
  } else if (auto chat = converse::parse_request(model, request.body); !chat) {
    out.reply = converse::error_reply(chat.error());
    out.reply.delay_ms = m_options.latency_ms;
  } else {
    out.key = chat->key;
    Decision d = m_rules.decide(out.key, chat->tool_result);
    Completion completion{d.answer, d.tool_calls, m_call_seq + 1};
    m_call_seq += d.tool_calls.size();
    std::optional<Fault> fault = d.rule_has_fault ? d.fault : global_fault();
    if (fault) {
      out.fault = fault->kind;
      out.reply = converse::fault_reply(*fault, *chat, completion, request);
    } else {
      out.reply.response.body = converse::reply_body(*chat, completion);
    }
    out.reply.delay_ms = d.latency_ms.value_or(m_options.latency_ms);
  }
  out.reply.response.headers.emplace_back("x-amzn-RequestId",
                                          fmt::format("standin-request-{}", seq));
  int status = out.reply.delivery == Delivery::reset || out.reply.delivery == Delivery::hang
                   ? 0
                   : out.reply.response.status;
  m_stats.record_model(request, seq, out.key, status,
                       out.fault ? std::optional(to_string(*out.fault)) : std::nullopt);
  return std::move(out.reply);
}

} // namespace evalkeep::standin
