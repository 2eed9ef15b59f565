#pragma once

#include "api.hpp"
#include "reply.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace evalkeep::standin {

/// How the emulated batch APIs behave.
struct BatchOptions {
  int batch_ms = 200; // a batch is in progress this long after it is created, then it ends
  // The batch expires with only its first N requests processed (the rest: batch_expired /
  // "expired" results). nullopt: every batch completes.
  std::optional<std::size_t> expire_after;
};

/// OpenAI's Files and Batch APIs (POST /v1/files, GET /v1/files/ID/content, POST /v1/batches,
/// GET /v1/batches/ID, POST /v1/batches/ID/cancel) and Anthropic's Message Batches (POST
/// /v1/messages/batches, GET .../ID, GET .../ID/results, POST .../ID/cancel). Each request of a
/// batch is answered by `answer`, the synchronous endpoint's rules, once the batch ends.
class BatchApis {
public:
  /// The synchronous reply to one request of a batch: its status and body.
  using Answer = std::function<std::pair<int, std::string>(Api api, const Request& request)>;

  BatchApis(BatchOptions options, Answer answer);

  /// The reply to a batch API request, or nullopt when the path is not one of them.
  std::optional<Reply> handle(const Request& request);
  void reset();

private:
  struct File {
    std::string id, filename, purpose, content;
  };
  struct Line {
    std::string custom_id;
    std::string body; // the request body (OpenAI "body", Anthropic "params")
  };
  struct Batch {
    std::string id;
    Api api = Api::openai;
    std::string input_file_id, output_file_id, error_file_id;
    std::vector<Line> lines;
    std::vector<Header> auth; // authorization / x-api-key / anthropic-version of the create call
    std::chrono::steady_clock::time_point created;
    std::int64_t created_unix = 0;
    std::string status;  // OpenAI's status, or Anthropic's processing_status
    std::string failure; // validation failed: why (OpenAI errors.data)
    std::size_t completed = 0, failed = 0, expired = 0, canceled = 0;
    bool cancel_requested = false;
    std::string results; // Anthropic's results JSONL once ended
    std::string host;
  };

  Reply openai(const Request& request, const std::string& rest);
  Reply anthropic(const Request& request, const std::string& rest);
  Reply upload(const Request& request);
  Reply create_openai(const Request& request);
  Reply create_anthropic(const Request& request);
  void advance(Batch& b);
  void process(Batch& b);
  nlohmann::json openai_object(const Batch& b) const;
  nlohmann::json anthropic_object(const Batch& b) const;

  BatchOptions m_options;
  Answer m_answer;
  std::map<std::string, File> m_files;
  std::map<std::string, Batch> m_batches;
  std::uint64_t m_next = 0;
};

} // namespace evalkeep::standin
