#pragma once

#include "providers/provider.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::providers {

/// Why a provider cannot embed text through OpenAI's embeddings endpoint (`POST
/// {base_url}/embeddings`), or empty when it can: only OpenAI-compatible providers (`openai`,
/// `openai-responses`) speak it.
std::string embeddings_refusal(const ProviderConfig& c);

/// The body of an embeddings request: {"input": [texts...], "model": MODEL}, keys sorted as
/// nlohmann::json dumps them.
std::string embeddings_body(const std::string& model, const std::vector<std::string>& texts);

/// The request to `POST {base_url}/embeddings` with the provider's key, configured headers and
/// idempotency key, as build_request sends them for an answer.
HttpRequest build_embeddings_request(const ProviderConfig& c, std::string body,
                                     const std::string& api_key,
                                     const std::string& idempotency_key);

/// What an embeddings response held: one vector per input, in the order of the inputs, or the
/// error (classed as an answer's would be).
struct EmbeddingsReply {
  ErrorClass error = ErrorClass::none;
  std::string error_message;
  std::vector<std::vector<double>> vectors;
  std::optional<std::int64_t> tokens_in; // usage.prompt_tokens
};

/// Reads a response of `POST /embeddings` that was sent `inputs` texts: `data[i].embedding`
/// placed by `data[i].index`. A missing, repeated or non-numeric entry is a bad response.
EmbeddingsReply parse_embeddings(long http_status, const std::string& body, std::size_t inputs);

} // namespace evalkeep::providers
