#include "cloud.hpp"

#include <set>

#include <fmt/format.h>

namespace evalkeep::standin {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

constexpr std::string_view k_prefix = "/v1beta/models/";
constexpr std::string_view k_suffix = ":generateContent";

ApiError google(int status, std::string status_name, std::string message, json details = nullptr) {
  return {.status = status,
          .type = std::move(status_name),
          .message = std::move(message),
          .code = nullptr,
          .param = nullptr,
          .extra = std::move(details)};
}

ApiError invalid_argument(std::string message) {
  return google(400, "INVALID_ARGUMENT", std::move(message));
}

// Google's refusal of a field the message type does not have.
std::optional<ApiError> unknown_field(const json& object, const std::set<std::string>& known,
                                      std::string_view where) {
  for (const auto& [key, _] : object.items())
    if (!known.contains(key))
      return invalid_argument(
          fmt::format("Invalid JSON payload received. Unknown name \"{}\"{}: Cannot find field.",
                      key, where.empty() ? "" : fmt::format(" at '{}'", where)));
  return std::nullopt;
}

// A functionResponse's response as text: its "result" when that is all it holds, else its JSON.
std::string response_text(const json& response) {
  if (response.is_object() && response.size() == 1 && response.contains("result") &&
      response["result"].is_string())
    return response["result"].get<std::string>();
  return response.dump();
}

// One content: its words, and the key (the user's text) or the tool result it carries.
std::optional<ApiError> read_content(const json& content, std::size_t index, ChatRequest& r) {
  std::string where = fmt::format("contents[{}]", index);
  if (!content.is_object())
    return invalid_argument(fmt::format("Invalid value at '{}': expected an object.", where));
  if (auto e = unknown_field(content, {"role", "parts"}, where))
    return e;
  std::string role = content.value("role", "user");
  if (role != "user" && role != "model")
    return invalid_argument("Please use a valid role: user, model.");
  auto parts = content.find("parts");
  if (parts == content.end() || !parts->is_array() || parts->empty())
    return invalid_argument(
        "* GenerateContentRequest.contents.parts: contents.parts must not be empty.\n");
  std::string text;
  std::optional<std::string> result;
  for (std::size_t k = 0; k < parts->size(); ++k) {
    const json& part = (*parts)[k];
    if (!part.is_object() || part.empty())
      return invalid_argument(fmt::format("Invalid value at '{}.parts[{}]'.", where, k));
    if (auto e = unknown_field(part,
                               {"text", "functionCall", "functionResponse", "inlineData",
                                "fileData", "thought", "thoughtSignature"},
                               fmt::format("{}.parts[{}]", where, k)))
      return e;
    if (part.contains("text")) {
      if (!part["text"].is_string())
        return invalid_argument(fmt::format("Invalid value at '{}.parts[{}].text'.", where, k));
      text += (text.empty() ? "" : "\n") + part["text"].get<std::string>();
    }
    if (part.contains("functionResponse")) {
      const json& fr = part["functionResponse"];
      if (!fr.is_object() || !fr.contains("name") || !fr["name"].is_string() ||
          fr["name"].get<std::string>().empty())
        return invalid_argument(fmt::format(
            "* GenerateContentRequest.{}.parts[{}].function_response.name: Name cannot be empty.\n",
            where, k));
      result = fr.contains("response") ? response_text(fr["response"]) : std::string();
    }
    if (part.contains("functionCall") && role != "model")
      return invalid_argument("Please ensure that function call turn comes immediately after a "
                              "user turn or after a function response turn.");
  }
  r.prompt_words += count_words(text) + (result ? count_words(*result) : 0);
  if (role != "user")
    return std::nullopt;
  if (!result || !text.empty()) {
    r.key = std::move(text);
    r.tool_result.reset();
  }
  if (result)
    r.tool_result = std::move(result);
  return std::nullopt;
}

} // namespace

std::optional<std::string> gemini_model(std::string_view path) {
  if (!path.starts_with(k_prefix) || !path.ends_with(k_suffix) ||
      path.size() <= k_prefix.size() + k_suffix.size())
    return std::nullopt;
  auto model = path.substr(k_prefix.size(), path.size() - k_prefix.size() - k_suffix.size());
  if (model.find('/') != std::string_view::npos)
    return std::nullopt;
  return std::string(model);
}

std::optional<ApiError> gemini_refusal(const Request& request) {
  const std::string* key = request.header("x-goog-api-key");
  if (key && !key->empty())
    return std::nullopt;
  return google(403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.");
}

std::expected<ChatRequest, ApiError> parse_gemini_request(std::string_view body,
                                                          const std::string& model) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::unexpected(invalid_argument(
        "Invalid JSON payload received. Expected an object, or the body is not JSON."));
  if (auto e =
          unknown_field(j,
                        {"contents", "systemInstruction", "system_instruction", "generationConfig",
                         "tools", "toolConfig", "safetySettings", "cachedContent"},
                        ""))
    return std::unexpected(*e);
  if (auto g = j.find("generationConfig"); g != j.end()) {
    if (!g->is_object())
      return std::unexpected(invalid_argument("Invalid value at 'generation_config'."));
    if (auto e = unknown_field(*g,
                               {"temperature", "maxOutputTokens", "seed", "topP", "topK",
                                "candidateCount", "stopSequences", "responseMimeType",
                                "responseSchema", "responseJsonSchema", "thinkingConfig",
                                "presencePenalty", "frequencyPenalty"},
                               "generation_config"))
      return std::unexpected(*e);
  }
  ChatRequest r;
  r.model = model;
  if (auto s = j.find("systemInstruction"); s != j.end()) {
    if (!s->is_object() || !s->contains("parts") || !(*s)["parts"].is_array())
      return std::unexpected(invalid_argument("Invalid value at 'system_instruction'."));
    for (const json& part : (*s)["parts"])
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        r.system += part["text"].get<std::string>();
        r.prompt_words += count_words(part["text"].get<std::string>());
      }
  }
  auto contents = j.find("contents");
  if (contents == j.end() || !contents->is_array() || contents->empty())
    return std::unexpected(invalid_argument("* GenerateContentRequest.contents: contents is not "
                                            "specified\n"));
  for (std::size_t i = 0; i < contents->size(); ++i)
    if (auto e = read_content((*contents)[i], i, r))
      return std::unexpected(*e);
  return r;
}

ApiError gemini_error(int status, std::string_view model) {
  switch (status) {
  case 400:
    return invalid_argument("The input token count exceeds the maximum number of tokens allowed "
                            "1048576.");
  case 401: // Google answers a wrong key with a 400 naming it
    return google(
        400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
        json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                      {"reason", "API_KEY_INVALID"},
                      {"domain", "googleapis.com"},
                      {"metadata", {{"service", "generativelanguage.googleapis.com"}}}}}));
  case 403:
    return google(403, "PERMISSION_DENIED",
                  "Generative Language API has not been used in project 000000000000 before or "
                  "it is disabled.");
  case 404:
    return google(404, "NOT_FOUND",
                  fmt::format("models/{} is not found for API version v1beta, or is not supported "
                              "for generateContent. Call ListModels to see the list of available "
                              "models and their supported methods.",
                              model));
  case 413:
    return google(413, "INVALID_ARGUMENT", "Request payload size exceeds the limit.");
  case 429:
    return google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).");
  case 503:
    return google(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
  case 504:
    return google(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
  default:
    return google(status >= 500 ? status : 500, "INTERNAL",
                  "An internal error has occurred. Please retry or report in "
                  "https://developers.generativeai.google/guide/troubleshooting");
  }
}

ApiError gemini_quota_error() {
  return google(429, "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                json::array({{{"@type", "type.googleapis.com/google.rpc.RetryInfo"},
                              {"retryDelay", "34s"}}}));
}

std::string gemini_error_body(const ApiError& e) {
  ordered_json error = {{"code", e.status}, {"message", e.message}, {"status", e.type}};
  if (!e.extra.is_null())
    error["details"] = e.extra;
  return ordered_json{{"error", std::move(error)}}.dump();
}

std::string gemini_body(std::uint64_t seq, const ChatRequest& request, const Completion& c,
                        bool empty) {
  ordered_json usage = {{"promptTokenCount", request.prompt_words}};
  if (request.cached_words) // counted in promptTokenCount
    usage["cachedContentTokenCount"] = request.cached_words;
  ordered_json j = ordered_json::object();
  bool blocked = request.key.find("standin:blocked") != std::string::npos;
  bool unsafe = request.key.find("standin:unsafe") != std::string::npos;
  std::size_t out_words = 0;
  if (blocked) {
    j["promptFeedback"] = {
        {"blockReason", "SAFETY"},
        {"safetyRatings",
         {{{"category", "HARM_CATEGORY_DANGEROUS_CONTENT"}, {"probability", "HIGH"}}}}};
  } else if (unsafe) {
    j["candidates"] = {{{"finishReason", "SAFETY"},
                        {"index", 0},
                        {"safetyRatings",
                         {{{"category", "HARM_CATEGORY_DANGEROUS_CONTENT"},
                           {"probability", "HIGH"},
                           {"blocked", true}}}}}};
  } else if (!empty) {
    ordered_json parts = ordered_json::array();
    if (!c.text.empty() || c.tool_calls.empty())
      parts.push_back({{"text", c.text}});
    for (const auto& call : c.tool_calls) {
      auto args = ordered_json::parse(call.arguments, nullptr, false);
      parts.push_back(
          {{"functionCall",
            {{"name", call.name}, {"args", args.is_object() ? args : ordered_json::object()}}}});
    }
    out_words = count_words(c.text);
    j["candidates"] = {{{"content", {{"parts", std::move(parts)}, {"role", "model"}}},
                        {"finishReason", "STOP"},
                        {"avgLogprobs", -0.05},
                        {"index", 0}}};
    usage["candidatesTokenCount"] = out_words;
  }
  usage["totalTokenCount"] = request.prompt_words + out_words;
  ordered_json details = {{{"modality", "TEXT"}, {"tokenCount", request.prompt_words}}};
  usage["promptTokensDetails"] = std::move(details);
  j["usageMetadata"] = std::move(usage);
  j["modelVersion"] = request.model + "-standin";
  j["responseId"] = fmt::format("standin-{}", seq);
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

} // namespace evalkeep::standin
