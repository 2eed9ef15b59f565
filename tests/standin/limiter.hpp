#pragma once

#include "api.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace evalkeep::standin {

/// An account's rate limits: requests and tokens per minute (0: none), each a token bucket that
/// refills continuously and holds `burst_s` seconds of its rate (a full bucket at start).
struct LimiterOptions {
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
  double burst_s = 1;
};

/// The stand-in's rate limiter: admits a request when both buckets hold enough, and otherwise
/// answers 429 with the wait. Every answer of a limited account carries the API's rate-limit
/// headers: OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens} (resets as "1s",
/// "250ms", "1m0s"), Anthropic's anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}
/// (resets as RFC 3339 times), and on a 429 retry-after (whole seconds, rounded up) and, for
/// OpenAI, retry-after-ms.
class Limiter {
public:
  using Clock = std::chrono::steady_clock;
  explicit Limiter(LimiterOptions options);

  bool enabled() const {
    return m_options.requests_per_minute > 0 || m_options.tokens_per_minute > 0;
  }

  struct Decision {
    std::optional<ApiError> refused; // the 429, when the request is over a limit
    std::vector<Header> headers;     // to send with the reply either way
  };
  /// Charges a request of `tokens` tokens at `now`, or refuses it.
  Decision admit(Api api, double tokens, const std::string& model, Clock::time_point now);

  /// Refills both buckets (POST /__reset).
  void reset();

private:
  struct Bucket {
    double per_minute = 0;
    double capacity = 0;
    double level = 0;
    bool limited() const { return per_minute > 0; }
    double seconds_until(double amount) const; // until `level` reaches `amount`
  };
  void refill(Clock::time_point now);

  LimiterOptions m_options;
  Bucket m_requests, m_tokens;
  Clock::time_point m_at;
};

} // namespace evalkeep::standin
