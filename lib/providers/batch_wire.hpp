#pragma once

#include "core/error.hpp"
#include "providers/provider.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::providers::batch_wire {

/// The batch APIs evalkeep speaks: OpenAI's Batch API (a JSONL file uploaded with purpose
/// "batch", then POST /batches) and Anthropic's Message Batches (POST /v1/messages/batches).
bool supports_batch(Kind kind);

/// One request of a batch: its custom_id and the body a synchronous call sends (request_body),
/// so that a batch answer has the cache key a synchronous one would.
struct BatchLine {
  std::string custom_id;
  std::string body;
};

/// What a batch is doing, read from the provider's batch object.
struct BatchStatus {
  std::string id;
  /// OpenAI: validating, failed, in_progress, finalizing, completed, expired, cancelling,
  /// cancelled. Anthropic: in_progress, canceling, ended.
  std::string status;
  bool ended = false; // nothing more will change: results (if any) can be collected
  std::int64_t total = 0, done = 0, failed = 0;
  std::string output_file_id, error_file_id; // OpenAI
  std::string results_url;                   // Anthropic
  std::string message;                       // a failed batch's errors, for people
};

/// One result line of a finished batch, as the synchronous API would have answered it: its HTTP
/// status and body (parse_response reads them), or `unfinished` for a request the batch never
/// ran (expired, cancelled), with why in `message`.
struct LineResult {
  std::string custom_id;
  long status = 0;
  std::string body;
  bool unfinished = false;
  std::string reason{}; // unfinished: "expired" or "cancelled"
  std::string message;
};

/// The multipart/form-data body that uploads `lines` as a JSONL file with purpose "batch"
/// (OpenAI POST /files), and its boundary.
struct Upload {
  std::string content_type; // multipart/form-data; boundary=...
  std::string body;
};
Upload openai_upload(const std::vector<BatchLine>& lines);

/// The requests of each step, with the provider's authentication headers.
HttpRequest upload_request(const ProviderConfig& c, const std::vector<BatchLine>& lines,
                           const std::string& api_key);
HttpRequest create_request(const ProviderConfig& c, const std::string& input_file_id,
                           const std::vector<BatchLine>& lines, const std::string& api_key);
HttpRequest status_request(const ProviderConfig& c, const std::string& batch_id,
                           const std::string& api_key);
/// The content of an OpenAI file, or an Anthropic batch's results (its results_url).
HttpRequest content_request(const ProviderConfig& c, const std::string& file_id_or_url,
                            const std::string& api_key);

/// The id of an uploaded file (OpenAI's file object).
Result<std::string> parse_file(const std::string& body);
/// The provider's batch object.
Result<BatchStatus> parse_status(Kind kind, const std::string& body);
/// The lines of an OpenAI output or error file, or of an Anthropic results file. A line that
/// cannot be read is an error naming it.
Result<std::vector<LineResult>> parse_results(Kind kind, const std::string& jsonl);

/// The message of an API error body (`{"error": {"message": ...}}`), or the start of the body.
std::string error_message(const std::string& body);

} // namespace evalkeep::providers::batch_wire
