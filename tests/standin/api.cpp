#include "api.hpp"

#include "cloud.hpp"

#include <fmt/format.h>

namespace evalkeep::standin {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr std::int64_t k_created = 1700000000;

ApiError invalid(std::string message, json param = nullptr) {
  return {.status = 400,
          .type = "invalid_request_error",
          .message = std::move(message),
          .code = nullptr,
          .param = std::move(param)};
}

// Content is a string or an array of blocks; only text blocks count (Anthropic's and Chat
// Completions' "text", the Responses API's "input_text" and "output_text").
std::string text_of(const json& content) {
  if (content.is_string())
    return content.get<std::string>();
  std::string text;
  if (!content.is_array())
    return text;
  for (const json& block : content) {
    if (!block.is_object())
      continue;
    auto type = block.find("type");
    auto t = block.find("text");
    bool text_type =
        type != block.end() && (*type == "text" || *type == "input_text" || *type == "output_text");
    if (!text_type || t == block.end() || !t->is_string())
      continue;
    if (!text.empty())
      text += '\n';
    text += t->get<std::string>();
  }
  return text;
}

} // namespace

std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word)
      ++words;
    in_word = !space;
  }
  return words;
}

namespace {

bool is_openai(Api api) {
  return api != Api::anthropic;
}

// One message of Chat Completions or Anthropic: its words, and the key or the tool result it
// carries. A user message holding only tool_result blocks (Anthropic) is not a new question.
void read_message(const json& m, ChatRequest& r) {
  auto content = m.find("content");
  std::string text = content == m.end() ? std::string() : text_of(*content);
  r.prompt_words += count_words(text);
  if (m["role"] == "system" || m["role"] == "developer")
    r.system += text;
  if (m["role"] == "tool") { // Chat Completions: {"role":"tool","tool_call_id","content"}
    r.tool_result = std::move(text);
    return;
  }
  if (m["role"] != "user")
    return;
  std::optional<std::string> result;
  if (content != m.end() && content->is_array())
    for (const json& block : *content)
      if (block.is_object() && block.value("type", json()) == "tool_result") {
        auto inner = block.find("content");
        result = inner == block.end() ? std::string() : text_of(*inner);
        r.prompt_words += count_words(*result);
      }
  if (!result || !text.empty()) {
    r.key = std::move(text);
    r.tool_result.reset();
  }
  if (result)
    r.tool_result = std::move(result);
}

std::expected<ChatRequest, ApiError> parse_messages(Api api, const json& j, ChatRequest r) {
  auto messages = j.find("messages");
  if (messages == j.end() || !messages->is_array() || messages->empty())
    return std::unexpected(
        invalid(api == Api::openai ? "[] is too short - 'messages'" : "messages: Field required",
                "messages"));
  bool asked = false;
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return std::unexpected(invalid(api == Api::openai
                                         ? "Missing required parameter: 'messages[].role'."
                                         : "messages: each message needs a role",
                                     "messages"));
    asked = asked || m["role"] == "user";
    read_message(m, r);
  }
  if (!asked) // a prompt written as a system message alone (promptfoo's closed QA grader's)
    r.key = r.system;
  return r;
}

// The Responses API: `input` is text or a list of items: messages ({"role","content"}, with or
// without "type":"message"), function_call items and function_call_output items.
std::expected<ChatRequest, ApiError> parse_input(const json& j, ChatRequest r) {
  if (auto instructions = j.find("instructions"); instructions != j.end()) {
    r.system = text_of(*instructions);
    r.prompt_words += count_words(r.system);
  }
  auto input = j.find("input");
  if (input != j.end() && input->is_string()) {
    r.key = input->get<std::string>();
    r.prompt_words += count_words(r.key);
    return r;
  }
  if (input == j.end() || !input->is_array() || input->empty())
    return std::unexpected(invalid("Missing required parameter: 'input'.", "input"));
  for (const json& item : *input) {
    if (!item.is_object())
      return std::unexpected(invalid("Invalid type for 'input[]': expected an object.", "input"));
    auto type = item.value("type", json("message"));
    if (type == "function_call_output") {
      r.tool_result = item.contains("output") ? text_of(item["output"]) : std::string();
      r.prompt_words += count_words(*r.tool_result);
      continue;
    }
    if (type != "message")
      continue; // function_call and other items the model wrote
    if (!item.contains("role") || !item["role"].is_string())
      return std::unexpected(invalid("Missing required parameter: 'input[].role'.", "input"));
    read_message(item, r);
  }
  return r;
}

} // namespace

std::expected<ChatRequest, ApiError> parse_chat_request(Api api, std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::unexpected(invalid(is_openai(api)
                                       ? "We could not parse the JSON body of your request."
                                       : "The request body is not valid JSON."));
  ChatRequest r;
  auto model = j.find("model");
  if (api == Api::azure && model == j.end()) // the deployment names the model
    return parse_messages(Api::openai, j, std::move(r));
  if (model == j.end() || !model->is_string() || model->get<std::string>().empty())
    return std::unexpected(invalid(
        is_openai(api) ? "you must provide a model parameter" : "model: Field required", "model"));
  r.model = model->get<std::string>();
  if (api == Api::responses)
    return parse_input(j, std::move(r));
  if (api == Api::azure)
    return parse_messages(Api::openai, j, std::move(r));
  if (api == Api::anthropic) {
    auto max_tokens = j.find("max_tokens");
    if (max_tokens == j.end() || !max_tokens->is_number_integer())
      return std::unexpected(invalid("max_tokens: Field required"));
    if (auto system = j.find("system"); system != j.end()) {
      r.system = text_of(*system);
      r.prompt_words += count_words(r.system);
    }
  }
  return parse_messages(api, j, std::move(r));
}

ApiError standard_error(Api api, int status, std::string_view model) {
  if (api == Api::azure)
    return azure_error(status);
  if (api == Api::gemini)
    return gemini_error(status, model);
  if (api == Api::anthropic) {
    switch (status) {
    case 400:
      return invalid("prompt is too long: 210000 tokens > 200000 maximum");
    case 401:
      return {401, "authentication_error", "invalid x-api-key", nullptr, nullptr};
    case 403:
      return {403, "permission_error",
              "Your API key does not have permission to use the specified resource.", nullptr,
              nullptr};
    case 404:
      return {404, "not_found_error", fmt::format("model: {}", model), nullptr, nullptr};
    case 413:
      return {413, "request_too_large", "Request exceeds the maximum allowed number of bytes.",
              nullptr, nullptr};
    case 429:
      return {429, "rate_limit_error",
              "This request would exceed the rate limit for your organization of 50 requests "
              "per minute.",
              nullptr, nullptr};
    case 502:
      return {502, "api_error", "Bad gateway", nullptr, nullptr};
    case 503:
      return {503, "api_error", "Service unavailable", nullptr, nullptr};
    case 504:
      return {504, "api_error", "Gateway timeout", nullptr, nullptr};
    case 529:
      return {529, "overloaded_error", "Overloaded", nullptr, nullptr};
    default:
      return {status, "api_error", "Internal server error", nullptr, nullptr};
    }
  }
  switch (status) {
  case 400:
    return {400, "invalid_request_error",
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 130412 tokens. Please reduce the length of the messages.",
            "context_length_exceeded", "messages"};
  case 401:
    return {401, "invalid_request_error",
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_api_key", nullptr};
  case 403:
    return {403, "request_forbidden", "Country, region, or territory not supported",
            "unsupported_country_region_territory", nullptr};
  case 404:
    return {404, "invalid_request_error",
            fmt::format("The model `{}` does not exist or you do not have access to it.", model),
            "model_not_found", nullptr};
  case 413:
    return {413, "invalid_request_error", "Request too large.", nullptr, nullptr};
  case 429:
    return {429, "requests",
            fmt::format("Rate limit reached for {} in organization org-standin on requests per "
                        "min (RPM): Limit 60, Used 60, Requested 1.",
                        model),
            "rate_limit_exceeded", nullptr};
  case 502:
    return {502, "cf_bad_gateway", "Bad gateway.", 502, nullptr};
  case 503:
    return {503, "service_unavailable_error", "The server is overloaded or not ready yet.",
            "server_is_overloaded", nullptr};
  case 504:
    return {504, "cf_gateway_timeout", "Gateway timeout.", 504, nullptr};
  case 529:
    return {529, "server_error", "The engine is currently overloaded, please try again later.",
            nullptr, nullptr};
  default:
    return {status, "server_error",
            "The server had an error while processing your request. Sorry about that!", nullptr,
            nullptr};
  }
}

ApiError quota_error(Api api) {
  if (api == Api::azure) // Azure has one 429 for rates and quotas
    return azure_error(429);
  if (api == Api::gemini)
    return gemini_quota_error();
  if (api == Api::anthropic)
    return invalid("Your credit balance is too low to access the Anthropic API. Please go to "
                   "Plans & Billing to upgrade or purchase credits.");
  return {429, "insufficient_quota",
          "You exceeded your current quota, please check your plan and billing details.",
          "insufficient_quota", nullptr};
}

std::string error_body(Api api, const ApiError& e, std::uint64_t seq) {
  if (api == Api::azure)
    return azure_error_body(e);
  if (api == Api::gemini)
    return gemini_error_body(e);
  if (api == Api::anthropic) {
    ordered_json j = {{"type", "error"},
                      {"error", {{"type", e.type}, {"message", e.message}}},
                      {"request_id", fmt::format("req_standin_{}", seq)}};
    return j.dump();
  }
  ordered_json j = {
      {"error", {{"message", e.message}, {"type", e.type}, {"param", e.param}, {"code", e.code}}}};
  return j.dump();
}

namespace {

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// OpenAI's usage: the input's cached tokens (counted in it) in `details`.
ordered_json usage(const ChatRequest& request, std::size_t out, const char* in_key,
                   const char* out_key, const char* details) {
  ordered_json u = {{in_key, request.prompt_words}};
  u[details] = {{"cached_tokens", request.cached_words}};
  u[out_key] = out;
  u["total_tokens"] = request.prompt_words + out;
  return u;
}

// A call's arguments as Anthropic's `input`, always an object.
ordered_json input_object(const std::string& arguments) {
  auto input = ordered_json::parse(arguments, nullptr, false);
  return input.is_object() ? input : ordered_json::object();
}

std::string anthropic_body(std::uint64_t seq, const std::string& model, const ChatRequest& request,
                           const Completion& c, bool empty) {
  ordered_json content = ordered_json::array();
  if (!empty && (!c.text.empty() || c.tool_calls.empty()))
    content.push_back({{"type", "text"}, {"text", c.text}});
  for (std::size_t i = 0; !empty && i < c.tool_calls.size(); ++i)
    content.push_back({{"type", "tool_use"},
                       {"id", fmt::format("toolu_standin_{}", c.first_call_id + i)},
                       {"name", c.tool_calls[i].name},
                       {"input", input_object(c.tool_calls[i].arguments)}});
  ordered_json j = {{"id", fmt::format("msg_standin_{}", seq)},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", model},
                    {"content", std::move(content)},
                    {"stop_reason", c.tool_calls.empty() ? "end_turn" : "tool_use"},
                    {"stop_sequence", nullptr},
                    // input_tokens leaves out what was read from the cache.
                    {"usage",
                     {{"input_tokens", request.prompt_words - request.cached_words},
                      {"cache_creation_input_tokens", 0},
                      {"cache_read_input_tokens", request.cached_words},
                      {"output_tokens", empty ? 0 : count_words(c.text)}}}};
  return dump(j);
}

std::string responses_body(std::uint64_t seq, const std::string& model, const ChatRequest& request,
                           const Completion& c, bool empty) {
  ordered_json output = ordered_json::array();
  if (!empty && (!c.text.empty() || c.tool_calls.empty()))
    output.push_back(
        {{"type", "message"},
         {"id", fmt::format("msg_standin_{}", seq)},
         {"status", "completed"},
         {"role", "assistant"},
         {"content",
          {{{"type", "output_text"}, {"annotations", ordered_json::array()}, {"text", c.text}}}}});
  for (std::size_t i = 0; !empty && i < c.tool_calls.size(); ++i)
    output.push_back({{"type", "function_call"},
                      {"id", fmt::format("fc_standin_{}", c.first_call_id + i)},
                      {"call_id", fmt::format("call_standin_{}", c.first_call_id + i)},
                      {"name", c.tool_calls[i].name},
                      {"arguments", c.tool_calls[i].arguments},
                      {"status", "completed"}});
  ordered_json j = {{"id", fmt::format("resp_standin_{}", seq)},
                    {"object", "response"},
                    {"created_at", k_created},
                    {"status", "completed"},
                    {"error", nullptr},
                    {"incomplete_details", nullptr},
                    {"model", model},
                    {"output", std::move(output)},
                    {"parallel_tool_calls", true},
                    {"usage", usage(request, empty ? 0 : count_words(c.text), "input_tokens",
                                    "output_tokens", "input_tokens_details")}};
  return dump(j);
}

std::string chat_body(std::uint64_t seq, const std::string& model, const ChatRequest& request,
                      const Completion& c, bool empty) {
  ordered_json choices = ordered_json::array();
  if (!empty) {
    bool calls = !c.tool_calls.empty();
    ordered_json message = {
        {"role", "assistant"},
        {"content", c.text.empty() && calls ? ordered_json() : ordered_json(c.text)},
        {"refusal", nullptr}};
    if (calls) {
      ordered_json list = ordered_json::array();
      for (std::size_t i = 0; i < c.tool_calls.size(); ++i)
        list.push_back(
            {{"id", fmt::format("call_standin_{}", c.first_call_id + i)},
             {"type", "function"},
             {"function",
              {{"name", c.tool_calls[i].name}, {"arguments", c.tool_calls[i].arguments}}}});
      message["tool_calls"] = std::move(list);
    }
    choices.push_back({{"index", 0},
                       {"message", std::move(message)},
                       {"logprobs", nullptr},
                       {"finish_reason", calls ? "tool_calls" : "stop"}});
  }
  ordered_json j = {{"id", fmt::format("chatcmpl-standin-{}", seq)},
                    {"object", "chat.completion"},
                    {"created", k_created},
                    {"model", model},
                    {"choices", std::move(choices)},
                    {"usage", usage(request, empty ? 0 : count_words(c.text), "prompt_tokens",
                                    "completion_tokens", "prompt_tokens_details")},
                    {"system_fingerprint", "fp_standin"}};
  return dump(j);
}

} // namespace

std::string completion_body(Api api, std::uint64_t seq, const ChatRequest& request,
                            const Completion& completion, bool empty) {
  std::string model = request.model + "-standin";
  switch (api) {
  case Api::anthropic:
    return anthropic_body(seq, model, request, completion, empty);
  case Api::responses:
    return responses_body(seq, model, request, completion, empty);
  case Api::gemini:
    return gemini_body(seq, request, completion, empty);
  case Api::azure:
    if (!empty && request.key.find("standin:content-filter") != std::string::npos)
      return azure_filtered_body(seq, request);
    break;
  case Api::openai:
    break;
  }
  return chat_body(seq, model, request, completion, empty);
}

Header request_id_header(Api api, std::uint64_t seq) {
  if (api == Api::azure)
    return {"apim-request-id", fmt::format("standin-{}", seq)};
  if (api == Api::gemini)
    return {"server-timing", fmt::format("gfet4t7; dur={}", seq)};
  return {is_openai(api) ? "x-request-id" : "request-id", fmt::format("req_standin_{}", seq)};
}

} // namespace evalkeep::standin
