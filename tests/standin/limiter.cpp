#include "limiter.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace evalkeep::standin {
namespace {

// A reset as OpenAI writes it: "1m0s", "1s", "250ms", "0s" (rounded up to the millisecond).
std::string openai_duration(double seconds) {
  auto ms = static_cast<long long>(std::ceil(std::max(0.0, seconds) * 1000));
  if (ms < 1000)
    return fmt::format("{}ms", ms);
  long long minutes = ms / 60000;
  double rest = static_cast<double>(ms % 60000) / 1000;
  return minutes > 0 ? fmt::format("{}m{}s", minutes, rest) : fmt::format("{}s", rest);
}

// A reset as Anthropic writes it: the RFC 3339 time of the reset, in whole seconds, rounded up.
std::string anthropic_time(double seconds) {
  std::time_t at = std::time(nullptr) + static_cast<std::time_t>(std::ceil(std::max(0.0, seconds)));
  std::tm tm{};
  gmtime_r(&at, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string whole(double v) {
  return fmt::format("{}", static_cast<long long>(std::floor(std::max(0.0, v))));
}

} // namespace

double Limiter::Bucket::seconds_until(double amount) const {
  if (!limited() || level >= amount)
    return 0;
  return (amount - level) / (per_minute / 60);
}

Limiter::Limiter(LimiterOptions options) : m_options(options) {
  for (auto [bucket, rate] : {std::pair{&m_requests, options.requests_per_minute},
                              std::pair{&m_tokens, options.tokens_per_minute}}) {
    bucket->per_minute = rate;
    bucket->capacity = std::max(1.0, rate / 60 * options.burst_s);
  }
  reset();
}

void Limiter::reset() {
  m_requests.level = m_requests.capacity;
  m_tokens.level = m_tokens.capacity;
  m_at = Clock::now();
}

void Limiter::refill(Clock::time_point now) {
  double elapsed = std::chrono::duration<double>(now - m_at).count();
  if (elapsed <= 0)
    return;
  m_at = now;
  for (Bucket* b : {&m_requests, &m_tokens})
    if (b->limited())
      b->level = std::min(b->capacity, b->level + elapsed * b->per_minute / 60);
}

Limiter::Decision Limiter::admit(Api api, double tokens, const std::string& model,
                                 Clock::time_point now) {
  Decision d;
  if (!enabled())
    return d;
  refill(now);
  // A request larger than the whole bucket waits for a full one rather than forever.
  double cost = m_tokens.limited() ? std::min(tokens, m_tokens.capacity) : 0;
  double wait_s = std::max(m_requests.seconds_until(1), m_tokens.seconds_until(cost));
  bool over_tokens = m_tokens.seconds_until(cost) > m_requests.seconds_until(1);
  if (wait_s <= 0) {
    if (m_requests.limited())
      m_requests.level -= 1;
    if (m_tokens.limited())
      m_tokens.level -= cost;
  }
  bool anthropic = api == Api::anthropic;
  // Google announces no limits in headers; Azure sends OpenAI's.
  bool announced = api != Api::gemini;
  for (auto [bucket, what] : {std::pair{&m_requests, "requests"}, std::pair{&m_tokens, "tokens"}}) {
    if (!bucket->limited() || !announced)
      continue;
    double reset_s = bucket->seconds_until(bucket->capacity);
    auto limit = whole(bucket->per_minute);
    auto remaining = whole(bucket->level);
    if (anthropic) {
      d.headers.emplace_back(fmt::format("anthropic-ratelimit-{}-limit", what), limit);
      d.headers.emplace_back(fmt::format("anthropic-ratelimit-{}-remaining", what), remaining);
      d.headers.emplace_back(fmt::format("anthropic-ratelimit-{}-reset", what),
                             anthropic_time(reset_s));
    } else {
      d.headers.emplace_back(fmt::format("x-ratelimit-limit-{}", what), limit);
      d.headers.emplace_back(fmt::format("x-ratelimit-remaining-{}", what), remaining);
      d.headers.emplace_back(fmt::format("x-ratelimit-reset-{}", what), openai_duration(reset_s));
    }
  }
  if (wait_s <= 0)
    return d;
  if (announced)
    d.headers.emplace_back("retry-after",
                           fmt::format("{}", static_cast<long long>(std::ceil(wait_s))));
  if (announced && !anthropic)
    d.headers.emplace_back("retry-after-ms",
                           fmt::format("{}", static_cast<long long>(std::ceil(wait_s * 1000))));
  const Bucket& b = over_tokens ? m_tokens : m_requests;
  if (api != Api::openai && api != Api::responses && api != Api::anthropic) {
    d.refused = standard_error(api, 429, model);
  } else if (anthropic) {
    d.refused = ApiError{429, "rate_limit_error",
                         fmt::format("This request would exceed the rate limit for your "
                                     "organization of {} {} per minute.",
                                     whole(b.per_minute), over_tokens ? "tokens" : "requests"),
                         nullptr, nullptr};
  } else {
    d.refused = ApiError{
        429, over_tokens ? "tokens" : "requests",
        fmt::format("Rate limit reached for {} in organization org-standin on {} per min ({}): "
                    "Limit {}, Used {}, Requested {}. Please try again in {}.",
                    model, over_tokens ? "tokens" : "requests", over_tokens ? "TPM" : "RPM",
                    whole(b.per_minute), whole(b.capacity - b.level),
                    over_tokens ? whole(cost) : "1", openai_duration(wait_s)),
        "rate_limit_exceeded", nullptr};
  }
  return d;
}

} // namespace evalkeep::standin
