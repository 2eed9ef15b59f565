#include "stats.hpp"

#include <chrono>

namespace evalkeep::standin {
namespace {

using json = nlohmann::json;

bool is_secret(std::string_view header) {
  return header == "authorization" || header == "x-api-key" || header == "api-key" ||
         header == "x-goog-api-key" || header == "x-amz-security-token";
}

nlohmann::ordered_json optional_string(const std::optional<std::string>& s) {
  return s ? nlohmann::ordered_json(*s) : nlohmann::ordered_json();
}

} // namespace

void Stats::count_path(const std::string& path) {
  ++m_requests;
  ++m_by_path[path];
}

void Stats::record_other(const Request& request) {
  count_path(request.path);
}

void Stats::record_model(const Request& request, std::uint64_t seq, const std::string& key,
                         int status, std::optional<std::string_view> fault) {
  count_path(request.path);
  if (!key.empty())
    ++m_by_case[key];
  m_last_headers.clear();
  for (const auto& [name, value] : request.headers) {
    ++m_headers_seen[name];
    m_last_headers.emplace_back(name, is_secret(name) ? "<redacted>" : value);
  }
  if (m_log.size() >= k_max_log) {
    ++m_log_dropped;
    return;
  }
  const std::string* idempotency_key = request.header("idempotency-key");
  m_log.push_back(
      {.seq = seq,
       .time_ms = std::chrono::duration<double, std::milli>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count(),
       .path = request.path,
       .key = key,
       .status = status,
       .idempotency_key = idempotency_key ? std::optional(*idempotency_key) : std::nullopt,
       .authorization_present = request.header("authorization") != nullptr,
       .api_key_present = request.header("x-api-key") != nullptr ||
                          request.header("api-key") != nullptr ||
                          request.header("x-goog-api-key") != nullptr,
       .fault = fault ? std::optional<std::string>(*fault) : std::nullopt});
}

json Stats::summary() const {
  json last_headers = json::object();
  for (const auto& [name, value] : m_last_headers)
    last_headers[name] = value;
  return {{"requests", m_requests},         {"by_path", m_by_path},
          {"by_case", m_by_case},           {"last_headers", std::move(last_headers)},
          {"headers_seen", m_headers_seen}, {"log_dropped", m_log_dropped}};
}

nlohmann::ordered_json Stats::log() const {
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const LogEntry& e : m_log)
    entries.push_back({{"seq", e.seq},
                       {"time_ms", e.time_ms},
                       {"path", e.path},
                       {"key", e.key},
                       {"status", e.status},
                       {"idempotency_key", optional_string(e.idempotency_key)},
                       {"authorization_present", e.authorization_present},
                       {"api_key_present", e.api_key_present},
                       {"fault", optional_string(e.fault)}});
  return entries;
}

void Stats::reset() {
  *this = Stats{};
}

} // namespace evalkeep::standin
