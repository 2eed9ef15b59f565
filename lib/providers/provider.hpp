#pragma once

#include "core/error.hpp"
#include "core/tools.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::providers {

/// The APIs a provider speaks: OpenAI's Chat Completions (and compatible servers), Anthropic's
/// Messages, OpenAI's Responses ("openai-responses"), a local program, Azure OpenAI's Chat
/// Completions on a deployment ("azure"), Google's Gemini API ("gemini") or Amazon Bedrock's
/// Converse API (providers/bedrock.hpp).
enum class Kind { openai, anthropic, exec, openai_responses, azure, gemini, bedrock };

std::string_view to_string(Kind k);
std::optional<Kind> parse_kind(std::string_view s);

/// A model endpoint as configured in evalkeep.toml ([providers.NAME]) or given ad hoc
/// (--model openai:gpt-4o-mini).
struct ProviderConfig {
  std::string name;
  Kind kind = Kind::openai;
  std::string base_url;
  std::string model;
  std::optional<double> temperature = 0.0; // pinned by default: evals should not wander
  std::optional<int> max_tokens;
  std::optional<std::int64_t> seed;
  std::map<std::string, std::string> headers; // extra request headers
  std::string api_key_env;                    // the variable holding the key, never the key
  int max_concurrency = 8;
  int max_attempts = 4;
  double connect_timeout_s = 10;
  double timeout_s = 120;
  double max_retry_wait_s = 60; // a longer Retry-After ends the attempt as rate limited
  bool idempotency_header = false;
  std::optional<double> input_price_per_mtok;  // dollars per million input tokens
  std::optional<double> output_price_per_mtok; // dollars per million output tokens
  // Input tokens read from the provider's prompt cache, and written to it (Anthropic, Bedrock);
  // unset: the input price.
  std::optional<double> cached_input_price_per_mtok;
  std::optional<double> cache_write_price_per_mtok;
  double batch_price_factor = 0.5;  // what a batch answer costs of the synchronous price
  std::vector<std::string> command; // exec: the program and its arguments
  bool agent_output = false; // exec: stdout is the agent protocol's JSON (providers/agent.hpp)
  // exec: key variables the program may have. Otherwise it runs without any *_API_KEY variable,
  // any provider's api_key_env and the AWS secrets: it is code a pull request can change.
  std::vector<std::string> pass_env;
  std::string anthropic_version = "2023-06-01";
  // azure: the deployment (default: the model), the api-version query parameter, and whether the
  // key variable holds a Microsoft Entra ID token sent as a bearer token instead of an api-key.
  std::string deployment{};
  std::string api_version{};
  bool entra_id = false;
  std::string
      region{}; // bedrock: the AWS region signed for (default AWS_REGION, AWS_DEFAULT_REGION)
};

/// The variables an exec program of `p` runs without: the names in `environment` ("NAME=value"
/// entries) that hold keys (*_API_KEY, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, and each of
/// `key_variables`), except those `p.pass_env` lets through.
std::vector<std::string> withheld_from_exec(const ProviderConfig& p, char** environment,
                                            const std::vector<std::string>& key_variables);

/// Fills in defaults by kind (base URL, key variable) and checks the settings.
Status finish_config(ProviderConfig& c);

/// The settings that shape an answer, as canonical JSON: part of the cache key and the run record.
nlohmann::json answer_params(const ProviderConfig& c);

/// True for a base URL on this machine (127.0.0.1, localhost, [::1]), where a key is optional.
bool is_local(const std::string& base_url);

/// One turn of a conversation. An assistant turn may carry the function calls it made; a "tool"
/// turn is the result of the call `tool_call_id` names, its text in `content`.
struct Message {
  std::string role;
  std::string content;
  std::vector<core::ToolCall> tool_calls{};
  std::string tool_call_id{};
};

/// What is sent to a model: a conversation, with the system prompt as its first message, and the
/// tools it may call: definitions as core::normalize_tools gives them and a choice as
/// core::normalize_tool_choice gives it, each null when there is none.
struct ChatInput {
  std::vector<Message> messages;
  nlohmann::json tools = nullptr;
  nlohmann::json tool_choice = nullptr;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;
  std::string aws_sigv4{}; // libcurl signs the request with SigV4 for this "aws:amz:REGION:SERVICE"
  std::string userpwd{};   // ... with these "KEY_ID:SECRET" credentials: a secret, never logged
  std::string method = "POST"; // or "GET" (no body)
};

/// The JSON body of a call to the provider's API: the bytes nlohmann::json would dump for the
/// request object (keys sorted), written directly. A conversation without tools or tool turns
/// gives the bytes it gave before tools existed (cache keys depend on them).
std::string request_body(const ProviderConfig& c, const ChatInput& input);

/// The request for one call with its body (request_body). `api_key` may be empty for a local
/// endpoint; `idempotency_key` is sent when the provider enables it.
HttpRequest build_request(const ProviderConfig& c, std::string body, const std::string& api_key,
                          const std::string& idempotency_key);
inline HttpRequest build_request(const ProviderConfig& c, const ChatInput& input,
                                 const std::string& api_key, const std::string& idempotency_key) {
  return build_request(c, request_body(c, input), api_key, idempotency_key);
}

/// Why a call did not produce an answer.
enum class ErrorClass {
  none,
  connection,   // refused, reset, DNS
  timeout,      // connect or total timeout
  rate_limited, // 429 (and 529 overloaded)
  quota,        // 429 insufficient_quota, Anthropic's 400 low credit: retrying cannot help
  auth,         // 401, 403
  bad_request,  // 400, 404, 413 and other 4xx
  server,       // 5xx
  bad_response, // unparseable body, error object in a 200, no choices
  exec_failed,  // exec provider: non-zero exit, timeout
};
std::string_view to_string(ErrorClass e);

/// A model's reply, or why there is none.
struct Reply {
  ErrorClass error = ErrorClass::none;
  std::string error_message; // from the API's error object; never contains request headers
  std::string text;
  std::vector<core::ToolCall> tool_calls{}; // the functions the model called, in order
  std::string steps{}; // an exec agent's trajectory: a JSON array (providers/agent.hpp), or empty
  std::string served_model;
  std::string fingerprint;
  // Every input token billed (read from the prompt cache and written to it included), and of
  // those, the ones read from and written to the cache.
  std::optional<std::int64_t> tokens_in, tokens_out;
  std::optional<std::int64_t> tokens_cached{}, tokens_cache_write{};
  // Why a provider's filter stopped or blocked the answer (Azure's finish_reason content_filter,
  // Gemini's finishReason SAFETY or blockReason), or empty: the answer is still scored.
  std::string finish_reason{};
};

/// Reads an HTTP response of the provider's API: a 2xx body with an answer (text, function calls
/// or both), or an error.
Reply parse_response(Kind kind, long http_status, const std::string& body);

/// Replaces every occurrence of `secret` in `text` with "[redacted]", in every form a server
/// could write it (raw, percent-encoded, hex, base64 at any alignment, an encoded Authorization
/// header): an API that echoes the request back (a 401 quoting its Authorization header) must
/// not carry the key into a store, a log or a report.
void redact(std::string& text, std::string_view secret);
/// The same over a parsed reply's texts: JSON's \u escapes hide a key from the raw body, and
/// decoding brings it back.
void redact(Reply& reply, std::string_view secret);

/// The dollars an answer cost, when both prices are configured and usage was reported: input
/// read from the prompt cache at its own price, and input written to it at its own (each, when
/// not configured, at the input price).
std::optional<double> cost_of(const ProviderConfig& c, const Reply& r);

} // namespace evalkeep::providers
