#pragma once

#include "providers/provider.hpp"

#include <ctime>
#include <optional>
#include <string_view>

namespace evalkeep::providers {

/// Whether a failed attempt is worth another: connection errors, timeouts, 408, 409, 429 (not
/// quota), 500, 502, 503, 504 and 529. Never 400, 401, 403, 404, 413 or a bad response body.
bool is_retryable(long http_status, ErrorClass error);

/// Seconds to wait from a Retry-After value: delay-seconds or an HTTP date (relative to `now`).
std::optional<double> parse_retry_after(std::string_view value, std::time_t now);

/// Milliseconds from a retry-after-ms value.
std::optional<double> parse_retry_after_ms(std::string_view value);

/// Capped exponential backoff with full jitter for attempt n (1 = the first retry):
/// uniform in [0, min(cap, base * 2^(n-1))], with `unit` a random number in [0, 1).
double backoff_ms(int n, double unit, double base_ms = 500, double cap_ms = 20000);

} // namespace evalkeep::providers
