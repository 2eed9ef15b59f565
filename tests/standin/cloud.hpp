#pragma once

#include "api.hpp"

#include <optional>
#include <string>
#include <string_view>

// The two cloud APIs served beside OpenAI's and Anthropic's: Azure OpenAI (azure.cpp) and Google's
// Gemini (gemini.cpp).
namespace evalkeep::standin {

/// The deployment of POST /openai/deployments/{deployment}/chat/completions, or nothing.
std::optional<std::string> azure_deployment(std::string_view path);
/// What Azure answers before reading the body: 404 without api-version, 400 for a version that
/// is not one, 401 without an api-key header or a bearer token, 404 DeploymentNotFound for a
/// deployment whose name starts with "missing".
std::optional<ApiError> azure_refusal(const Request& request, const std::string& deployment);
ApiError azure_error(int status);
/// The 400 of a prompt the content filter caught, with its innererror.
ApiError azure_prompt_filtered();
/// {"error": {"code", "message", ...}}, with innererror when the error has one.
std::string azure_error_body(const ApiError& e);
/// A completion cut by the content filter: finish_reason content_filter, no content.
std::string azure_filtered_body(std::uint64_t seq, const ChatRequest& request);

/// The model of POST /v1beta/models/{model}:generateContent, or nothing.
std::optional<std::string> gemini_model(std::string_view path);
/// 403 PERMISSION_DENIED without x-goog-api-key.
std::optional<ApiError> gemini_refusal(const Request& request);
/// Reads a generateContent body as Google does: unknown fields, a missing or empty `contents`, a
/// content without parts and a role other than user or model are 400 INVALID_ARGUMENT.
std::expected<ChatRequest, ApiError> parse_gemini_request(std::string_view body,
                                                          const std::string& model);
ApiError gemini_error(int status, std::string_view model);
ApiError gemini_quota_error();
/// {"error": {"code", "message", "status", "details"?}}
std::string gemini_error_body(const ApiError& e);
/// A response: candidates[0] with text and functionCall parts, usageMetadata, modelVersion. With
/// `empty`, no candidates. A key holding "standin:blocked" gets a prompt blocked for SAFETY (no
/// candidates, promptFeedback.blockReason), "standin:unsafe" a candidate stopped for SAFETY.
std::string gemini_body(std::uint64_t seq, const ChatRequest& request, const Completion& c,
                        bool empty);

} // namespace evalkeep::standin
