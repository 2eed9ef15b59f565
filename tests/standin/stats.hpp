#pragma once

#include "http.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::standin {

/// What the stand-in has seen since it started or since the last reset: counters for
/// `GET /__stats` and one log entry per model request for `GET /__log`. Header values of
/// authorization and x-api-key are never kept.
class Stats {
public:
  /// A request to a path that is neither a model endpoint nor a control endpoint.
  void record_other(const Request& request);

  /// A model request: `key` is its last user message, `status` what it got (0 for none),
  /// `fault` the fault injected, if any.
  void record_model(const Request& request, std::uint64_t seq, const std::string& key, int status,
                    std::optional<std::string_view> fault);

  nlohmann::json summary() const;
  nlohmann::ordered_json log() const;
  void reset();

  /// Log entries kept at most; later ones are counted in `log_dropped`.
  static constexpr std::size_t k_max_log = 100'000;

private:
  struct LogEntry {
    std::uint64_t seq;
    double time_ms; // when the request had arrived whole: Unix time in milliseconds
    std::string path;
    std::string key;
    int status;
    std::optional<std::string> idempotency_key;
    bool authorization_present;
    bool api_key_present;
    std::optional<std::string> fault;
  };

  void count_path(const std::string& path);

  std::uint64_t m_requests = 0;
  std::map<std::string, std::uint64_t> m_by_path;
  std::unordered_map<std::string, std::uint64_t> m_by_case;
  std::unordered_map<std::string, std::uint64_t> m_headers_seen;
  std::vector<Header> m_last_headers;
  std::vector<LogEntry> m_log;
  std::uint64_t m_log_dropped = 0;
};

} // namespace evalkeep::standin
