#pragma once

#include "providers/provider.hpp"

#include <string>

// Google's Gemini API (generateContent): the request body and the reading of its responses and
// errors, apart from the OpenAI-shaped APIs in provider.cpp.
namespace evalkeep::providers::gemini {

/// The body of POST {base_url}/v1beta/models/{model}:generateContent: `contents` (roles user and
/// model, a tool's result as a functionResponse part), `systemInstruction`, `generationConfig`
/// (temperature, maxOutputTokens, seed where set) and tools as functionDeclarations.
std::string request_body(const ProviderConfig& c, const ChatInput& input);

/// The URL of the model's generateContent method; a model named "models/x" is "x".
std::string url(const ProviderConfig& c);

/// Reads a response: candidates[0]'s text and functionCall parts, usageMetadata, modelVersion. A
/// blocked prompt (promptFeedback.blockReason) or a candidate stopped by a filter (finishReason
/// SAFETY, RECITATION, PROHIBITED_CONTENT, ...) is an answer with the text it has (maybe none)
/// and the reason in Reply::finish_reason. An error body ({"error":{"code","message","status"}})
/// becomes the error class of its status: RESOURCE_EXHAUSTED rate limited, PERMISSION_DENIED and
/// an invalid key auth.
Reply parse_response(long http_status, const std::string& body);

/// The wait an error body asks for in its google.rpc.RetryInfo detail ("retryDelay": "17s",
/// "0.5s"), in milliseconds: Gemini says when to retry there, not in a Retry-After header.
std::optional<double> retry_delay_ms(const std::string& body);

} // namespace evalkeep::providers::gemini
