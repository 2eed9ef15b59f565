#include "cloud.hpp"

#include <cctype>

#include <fmt/format.h>

namespace evalkeep::standin {

using ordered_json = nlohmann::ordered_json;

namespace {

constexpr std::string_view k_prefix = "/openai/deployments/";
constexpr std::string_view k_suffix = "/chat/completions";

// The value of `name` in a query string, or nothing.
std::optional<std::string> query_value(const std::string& query, std::string_view name) {
  std::size_t at = 0;
  while (at <= query.size()) {
    auto end = query.find('&', at);
    std::string_view pair(query.data() + at, (end == std::string::npos ? query.size() : end) - at);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (end == std::string::npos)
      break;
    at = end + 1;
  }
  return std::nullopt;
}

// YYYY-MM-DD, optionally followed by -preview.
bool is_version(std::string_view v) {
  if (v.ends_with("-preview"))
    v.remove_suffix(8);
  if (v.size() != 10 || v[4] != '-' || v[7] != '-')
    return false;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(v[i])))
      return false;
  return true;
}

ApiError azure(int status, std::string code, std::string message) {
  return {.status = status,
          .type = "",
          .message = std::move(message),
          .code = std::move(code),
          .param = nullptr};
}

} // namespace

std::optional<std::string> azure_deployment(std::string_view path) {
  if (!path.starts_with(k_prefix) || !path.ends_with(k_suffix) ||
      path.size() <= k_prefix.size() + k_suffix.size())
    return std::nullopt;
  auto name = path.substr(k_prefix.size(), path.size() - k_prefix.size() - k_suffix.size());
  if (name.find('/') != std::string_view::npos)
    return std::nullopt;
  return std::string(name);
}

std::optional<ApiError> azure_refusal(const Request& request, const std::string& deployment) {
  auto version = query_value(request.query, "api-version");
  if (!version || version->empty())
    return azure(404, "404", "Resource not found");
  if (!is_version(*version))
    return azure(400, "BadRequest", "API version not supported");
  const std::string* key = request.header("api-key");
  const std::string* auth = request.header("authorization");
  bool bearer = auth && auth->starts_with("Bearer ") && auth->size() > 7;
  if ((!key || key->empty()) && !bearer)
    return azure_error(401);
  if (deployment.starts_with("missing"))
    return azure_error(404);
  return std::nullopt;
}

ApiError azure_error(int status) {
  switch (status) {
  case 400:
    return azure_prompt_filtered();
  case 401:
    return azure(401, "401",
                 "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                 "to provide a valid key for an active subscription and use a correct regional API "
                 "endpoint for your resource.");
  case 403:
    return azure(403, "403", "Traffic is not from an approved private endpoint.");
  case 404:
    return azure(404, "DeploymentNotFound",
                 "The API deployment for this resource does not exist. If you created the "
                 "deployment within the last 5 minutes, please wait a moment and try again.");
  case 413:
    return azure(413, "413", "Request entity too large.");
  case 429:
    return azure(429, "429",
                 "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
                 "2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing "
                 "tier. Please retry after 1 second.");
  case 503:
    return azure(503, "ServiceUnavailable",
                 "The service is temporarily unable to process your "
                 "request. Please try again later.");
  default:
    return azure(status, "InternalServerError",
                 "The server had an error while processing your request. Sorry about that!");
  }
}

ApiError azure_prompt_filtered() {
  ApiError e = azure(400, "content_filter",
                     "The response was filtered due to the prompt triggering Azure OpenAI's "
                     "content management policy. Please modify your prompt and retry.");
  e.param = "prompt";
  e.extra = {{"code", "ResponsibleAIPolicyViolation"},
             {"content_filter_result",
              {{"hate", {{"filtered", false}, {"severity", "safe"}}},
               {"jailbreak", {{"filtered", true}, {"detected", true}}},
               {"self_harm", {{"filtered", false}, {"severity", "safe"}}},
               {"sexual", {{"filtered", false}, {"severity", "safe"}}},
               {"violence", {{"filtered", true}, {"severity", "medium"}}}}}};
  return e;
}

std::string azure_error_body(const ApiError& e) {
  ordered_json error = {{"code", e.code}, {"message", e.message}};
  if (!e.extra.is_null()) { // the content filter's shape: OpenAI's fields and innererror
    error = {{"message", e.message}, {"type", nullptr},    {"param", e.param},
             {"code", e.code},       {"status", e.status}, {"innererror", e.extra}};
  }
  return ordered_json{{"error", std::move(error)}}.dump();
}

std::string azure_filtered_body(std::uint64_t seq, const ChatRequest& request) {
  ordered_json j = {{"id", fmt::format("chatcmpl-standin-{}", seq)},
                    {"object", "chat.completion"},
                    {"created", 1700000000},
                    {"model", request.model + "-standin"},
                    {"choices",
                     {{{"index", 0},
                       {"finish_reason", "content_filter"},
                       {"message", {{"role", "assistant"}}},
                       {"content_filter_results",
                        {{"violence", {{"filtered", true}, {"severity", "high"}}},
                         {"hate", {{"filtered", false}, {"severity", "safe"}}}}}}}},
                    {"usage",
                     {{"prompt_tokens", request.prompt_words},
                      {"completion_tokens", 0},
                      {"total_tokens", request.prompt_words}}},
                    {"system_fingerprint", "fp_standin"}};
  return j.dump();
}

} // namespace evalkeep::standin
