#include "providers/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace evalkeep::providers {

bool is_retryable(long http_status, ErrorClass error) {
  switch (error) {
  case ErrorClass::connection:
  case ErrorClass::timeout:
  case ErrorClass::rate_limited:
    return true;
  case ErrorClass::server:
    return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
  case ErrorClass::bad_request:
    return http_status == 409;
  default:
    return false;
  }
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<double> non_negative(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

} // namespace

std::optional<double> parse_retry_after(std::string_view value, std::time_t now) {
  value = trim(value);
  if (value.empty() || value.size() > 64)
    return std::nullopt;
  if (auto seconds = non_negative(value))
    return seconds;
  std::string text(value);
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0')
    return std::nullopt;
  std::time_t at = ::timegm(&tm);
  return std::max(0.0, std::difftime(at, now));
}

std::optional<double> parse_retry_after_ms(std::string_view value) {
  value = trim(value);
  if (value.empty() || value.size() > 32)
    return std::nullopt;
  return non_negative(value);
}

double backoff_ms(int n, double unit, double base_ms, double cap_ms) {
  double ceiling = std::min(cap_ms, base_ms * std::pow(2.0, std::clamp(n - 1, 0, 30)));
  return std::clamp(unit, 0.0, 1.0) * ceiling;
}

} // namespace evalkeep::providers
