#pragma once

#include "api.hpp"
#include "reply.hpp"
#include "rules.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

// Amazon Bedrock's Converse API (POST /model/{modelId}/converse): its request, its reply and its
// errors, which are {"message": ...} bodies named by the x-amzn-ErrorType header.
namespace evalkeep::standin::converse {

/// The model id of a Converse path ("/model/{modelId}/converse", percent-decoded), or nothing
/// when the path is not one.
std::optional<std::string> model_of_path(std::string_view path);

/// Reads a Converse body: a non-empty `messages` list of {role, content: [blocks]}, an optional
/// `system` list of {text} blocks, `inferenceConfig` and `toolConfig`. The error is a 400
/// ValidationException.
std::expected<ChatRequest, ApiError> parse_request(std::string_view model, std::string_view body);

/// A Converse reply: output.message.content with a text block and toolUse blocks (ids
/// tooluse_standin_N), stopReason (end_turn or tool_use), usage in words and metrics; with
/// `empty`, a message without content blocks.
std::string reply_body(const ChatRequest& request, const Completion& completion,
                       bool empty = false);

/// Bedrock's error for a status: ValidationException (400, 413), UnrecognizedClientException
/// (401), AccessDeniedException (403), ResourceNotFoundException (404), ModelTimeoutException
/// (408), ModelErrorException (424), ThrottlingException (429), InternalServerException (500,
/// 502, 504), ServiceUnavailableException (503, 529). `type` holds the exception's name.
ApiError standard_error(int status, std::string_view model);

/// A reply carrying `error`: its message as {"message": ...} and its name in x-amzn-ErrorType.
Reply error_reply(const ApiError& error);

/// The reply for a fault on a request that was read: Bedrock's errors for the status faults, the
/// same broken deliveries as the other APIs for the rest.
Reply fault_reply(const Fault& fault, const ChatRequest& request, const Completion& answer,
                  const Request& raw);

} // namespace evalkeep::standin::converse
