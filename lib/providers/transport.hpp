#pragma once

#include "providers/pacing.hpp"
#include "providers/provider.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace evalkeep::providers {

/// The largest response body read: 16 MB, far past any model's longest answer. A larger one is
/// cut off as it arrives and recorded as a bad response, so memory stays bounded.
inline constexpr std::size_t k_max_response_bytes = std::size_t{16} << 20;

/// One finished HTTP exchange, or the transport error that ended it.
struct HttpResponse {
  std::uint64_t token = 0; // what the caller passed to start()
  long status = 0;         // 0 when no response arrived
  std::string body;
  std::string retry_after;                       // the Retry-After header, if any
  std::string retry_after_ms;                    // the retry-after-ms header, if any
  RateLimits rate{};                             // the x-ratelimit-* or anthropic-ratelimit-* ones
  std::string error_type{};                      // the x-amzn-ErrorType header (Bedrock), if any
  ErrorClass transport_error = ErrorClass::none; // connection, timeout, or a body too large
  std::string transport_message;
  double latency_ms = 0;
};

struct CurlApi;

/// Loads libcurl and runs its global init now, on the calling thread (the main thread, before
/// others start); Transport::make then finds it loaded. Commands that never use HTTP never call it.
Status preload();

/// Many concurrent HTTP requests on one thread: libcurl's multi interface, with connection
/// reuse. Make it on the main thread before other threads start (libcurl's global init).
class Transport {
public:
  /// Fails when libcurl cannot be loaded.
  static Result<std::unique_ptr<Transport>> make(int max_host_connections, double connect_timeout_s,
                                                 double timeout_s);
  Transport(const CurlApi& api, int max_host_connections, double connect_timeout_s,
            double timeout_s);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void start(std::uint64_t token, HttpRequest request);
  /// Drives transfers until at least one finishes, `timeout_ms` passes, or wakeup() is called;
  /// returns those that finished.
  std::vector<HttpResponse> wait(int timeout_ms);
  /// Sends what start() queued, without waiting; finished transfers are left for wait().
  void send();
  /// Wakes a wait() from another thread.
  void wakeup();
  std::size_t active() const { return m_active; }

private:
  struct Impl;
  const CurlApi* m_api;
  std::unique_ptr<Impl> m_impl;
  std::size_t m_active = 0;
};

} // namespace evalkeep::providers
