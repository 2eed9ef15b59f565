#pragma once

#include "http.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::standin {

/// The wire formats the stand-in speaks: OpenAI's Chat Completions, Anthropic's Messages,
/// OpenAI's Responses API, Azure OpenAI's Chat Completions on a deployment (azure.cpp) and
/// Google's Gemini generateContent (gemini.cpp). Errors of the Responses API are OpenAI's.
enum class Api { openai, anthropic, responses, azure, gemini };

/// What the stand-in needs from a chat request.
struct ChatRequest {
  std::string model;
  std::string key;              // the text of the last user message
  std::size_t prompt_words = 0; // words in the system prompt and every message
  std::string system;           // the system prompt (instructions, systemInstruction)
  std::size_t cached_words = 0; // of prompt_words, read from the prompt cache (--prompt-cache)
  // The text of the latest tool result after the last user message, in any of the three shapes
  // (a "tool" message, a tool_result block, a function_call_output item): the conversation is
  // handing the model what a function it called returned.
  std::optional<std::string> tool_result;
};

/// A function call a reply carries: the function's name and its arguments as JSON text.
struct ToolCall {
  std::string name;
  std::string arguments;
};

/// What a successful reply says: text, function calls (numbered from `first_call_id`: ids
/// call_standin_N, toolu_standin_N, fc_standin_N) or both. The text is left out when it is empty
/// and there are calls.
struct Completion {
  std::string text;
  std::vector<ToolCall> tool_calls;
  std::uint64_t first_call_id = 1;
};

/// An error as the API reports it. `code` and `param` are OpenAI-only; either may be null. Azure:
/// `code` is its code ("DeploymentNotFound", "429") and `extra` its innererror. Gemini: `type` is
/// Google's status name ("INVALID_ARGUMENT") and `extra` the details array.
struct ApiError {
  int status = 500;
  std::string type;
  std::string message;
  nlohmann::json code;
  nlohmann::json param;
  nlohmann::json extra{};
};

/// Reads and checks a request body the way the real API would; the error is a 400.
std::expected<ChatRequest, ApiError> parse_chat_request(Api api, std::string_view body);

/// The error each API returns for `status` (400, 401, 403, 404, 413, 429, 5xx, 529).
ApiError standard_error(Api api, int status, std::string_view model);

/// Out of credit: OpenAI's 429 insufficient_quota; Anthropic's 400 low credit balance.
ApiError quota_error(Api api);

/// `{"error": {...}}` (OpenAI) or `{"type": "error", "error": {...}}` (Anthropic).
std::string error_body(Api api, const ApiError& error, std::uint64_t seq);

/// A successful completion carrying `completion`; with `empty`, no choices (OpenAI), no content
/// blocks (Anthropic) or no output items (Responses).
std::string completion_body(Api api, std::uint64_t seq, const ChatRequest& request,
                            const Completion& completion, bool empty = false);

/// The request-id header each API sends.
Header request_id_header(Api api, std::uint64_t seq);

/// Whitespace-separated words: the stand-in's notion of a token.
std::size_t count_words(std::string_view text);

} // namespace evalkeep::standin
