#pragma once

#include "providers/provider.hpp"

#include <string>
#include <string_view>

// Amazon Bedrock's Converse API: POST {base_url}/model/{modelId}/converse, signed with AWS
// Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4), never by hand.
namespace evalkeep::providers::bedrock {

/// The signing service and the variables the credentials come from.
inline constexpr std::string_view k_service = "bedrock";
inline constexpr std::string_view k_access_key_id_env = "AWS_ACCESS_KEY_ID";
inline constexpr std::string_view k_secret_access_key_env = "AWS_SECRET_ACCESS_KEY";
inline constexpr std::string_view k_session_token_env = "AWS_SESSION_TOKEN";

/// AWS credentials as the environment holds them. The secret key and the session token are
/// secrets: redacted from whatever a server sends back, never stored, logged or part of a key.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token{}; // temporary credentials only
};

/// The credentials of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; an error
/// naming the provider and the missing variable when the key id or the secret is not set.
Result<Credentials> credentials_from_environment(const ProviderConfig& c);

/// The region of AWS_REGION, else AWS_DEFAULT_REGION, else an empty string.
std::string region_from_environment();

/// The endpoint of a region: https://bedrock-runtime.{region}.amazonaws.com.
std::string default_base_url(std::string_view region);

/// The Converse request body: messages as {role, content: [blocks]} (text, toolUse and toolResult
/// blocks; consecutive tool results in one user message), the system prompt as `system` text
/// blocks, maxTokens and temperature in `inferenceConfig`, and the tools as `toolConfig`
/// (toolSpec definitions; toolChoice auto, any or tool). A choice of "none" sends no tools at all
/// (Converse has no such choice) unless the conversation already holds tool turns, which Converse
/// reads only beside the definitions; then they are sent without a choice.
std::string request_body(const ProviderConfig& c, const ChatInput& input);

/// The URL of a Converse call: {base_url}/model/{modelId}/converse, the model id percent-encoded
/// but for its ':' (a '/' of an ARN becomes %2F).
std::string url(const ProviderConfig& c);

/// The first libcurl whose SigV4 encodes the signed path as AWS does for every service but S3.
/// An older one (Debian 12 ships 7.88) signs a model id with any character but letters, digits
/// and "-._~" differently from AWS, which refuses the signature.
inline constexpr unsigned k_path_encoding_libcurl = 0x080900; // 8.9.0

/// Whether the libcurl loaded can sign the model id as AWS does; an error naming the version and
/// what to install when it cannot. Call before the first request of a run that makes any.
Status check_signable(const ProviderConfig& c);

/// Adds what signs a request: libcurl's SigV4 ("aws:amz:{region}:bedrock") with the key id and
/// secret, and the session token's x-amz-security-token header when there is one.
void sign(HttpRequest& request, const ProviderConfig& c, const Credentials& credentials);

/// The class of a Bedrock error: by its name (the x-amzn-ErrorType header, or `__type` in the
/// body), else by the HTTP status.
ErrorClass class_of_error(long http_status, std::string_view error_type);

/// Reads a Converse response: output.message.content's text blocks joined and toolUse blocks as
/// calls, usage {inputTokens, outputTokens}; an error's {"message"} classed by `error_type` (the
/// x-amzn-ErrorType header's value). A stopReason of guardrail_intervened or content_filtered is
/// an answer (maybe empty) to score, not an error.
Reply parse_response(long http_status, const std::string& body, std::string_view error_type);

} // namespace evalkeep::providers::bedrock
