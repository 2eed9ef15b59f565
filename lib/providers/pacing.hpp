#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <optional>
#include <string_view>

namespace evalkeep::providers {

/// What a response said about the account's rate limits: OpenAI's (and Azure's)
/// x-ratelimit-{limit,remaining,reset}-{requests,tokens} and Anthropic's
/// anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}. Limits are per minute; resets are
/// seconds from when the response arrived.
struct RateLimits {
  std::optional<double> request_limit, requests_remaining, requests_reset_s;
  std::optional<double> token_limit, tokens_remaining, tokens_reset_s;
  bool any() const {
    return request_limit || requests_remaining || token_limit || tokens_remaining;
  }
};

/// Reads one response header into `into` if it is a rate-limit header (names in any case);
/// Anthropic's reset times are taken relative to `now`. Returns whether it was one.
bool read_rate_limit_header(std::string_view name, std::string_view value, RateLimits& into,
                            std::time_t now);

/// A duration as OpenAI writes its resets: "1s", "250ms", "6m0s", "1h2m3.5s", "0.5s".
std::optional<double> parse_reset_duration(std::string_view text);

/// Paces one provider's requests so that a run stays under the limits the provider announces,
/// and backs off when it is told it did not: `-j` is the ceiling, not the setting.
///
/// - Until the first answer tells it the limits, at most 8 requests in flight: an account whose
///   bucket holds less than -j requests would answer the rest of a first wave 429.
/// - A window of requests in flight, additive increase and multiplicative decrease: it starts at
///   the ceiling, halves on a 429 (once per round trip: the 429s of requests sent before the last
///   cut do not cut again) and grows by one per window of answers, back up to the ceiling.
/// - Once the provider names its limits, a bucket per limit (requests, tokens) that refills at
///   the limit's rate. Each response's `remaining` sets the bucket to what the provider's must
///   hold now: what it said was left, plus what has refilled since that request was sent, less
///   what was sent after it. A request goes when its bucket holds it with a small margin, so the
///   run keeps to the limit's rate without running into it.
/// - A 429's retry-after holds every request until it has passed.
///
/// Times are passed in, so tests can drive it without sleeping.
class Pacer {
public:
  using Clock = std::chrono::steady_clock;

  explicit Pacer(int ceiling);

  /// Whether `in_flight` requests fill the window: then the next waits for an answer.
  bool window_full(std::size_t in_flight) const;
  /// The earliest time the next request, of `body_bytes` bytes, may go out (`now` or earlier
  /// when it may go at once). A retry that has waited what its own 429 told it is not held for
  /// the waits other 429s told (`waited_own`).
  Clock::time_point ready_at(Clock::time_point now, std::size_t body_bytes,
                             bool waited_own = false);

  /// What a request carries from its start to its answer.
  struct Ticket {
    Clock::time_point sent_at{};
    std::uint64_t sequence = 0; // requests sent before it
    double tokens_before = 0;   // the tokens those were expected to use
    double tokens = 0;          // the tokens it is expected to use
    std::size_t body_bytes = 0;
  };
  Ticket sent(Clock::time_point now, std::size_t body_bytes);

  struct Answer {
    RateLimits limits{};
    bool rate_limited = false;                       // a 429 (or 529) that is not out of quota
    std::optional<double> retry_after_ms{};          // what the provider asked for
    std::optional<double> tokens_in{}, tokens_out{}; // the usage it reported
  };
  void answered(Clock::time_point now, const Ticket& ticket, const Answer& answer);

  /// For the progress line.
  double window() const { return m_window; }
  int ceiling() const { return m_ceiling; }
  std::optional<double> request_limit() const;
  std::optional<double> token_limit() const;
  /// Requests sent a second, over the last two seconds.
  double pace(Clock::time_point now);
  std::size_t rate_limited() const { return m_429s; }

private:
  struct Bucket {
    double per_second = 0; // 0: no limit known
    double capacity = 0;   // the most the provider's bucket was seen to hold
    double level = 0;
    Clock::time_point at{};
    std::uint64_t synced_sequence = 0; // the newest report applied
    bool synced = false;
    void refill(Clock::time_point now);
    bool known() const { return per_second > 0; }
  };
  void learn(Bucket& b, std::optional<double> limit, std::optional<double> remaining,
             Clock::time_point now, const Ticket& ticket, double cost, double sent_after);
  // The tokens a request of `body_bytes` is expected to use: its input at the ratio of tokens to
  // bytes seen so far, and the average output.
  double token_cost(std::size_t body_bytes) const;

  static constexpr double k_first_wave = 8;
  int m_ceiling;
  std::uint64_t m_answers = 0;
  double m_window;
  Clock::time_point m_hold_until{};
  Clock::time_point m_last_cut{};
  bool m_cut = false;
  Bucket m_requests, m_tokens;
  double m_input_per_byte = 0; // moving averages of what answers reported
  double m_output_each = 0;
  std::uint64_t m_sent = 0;
  double m_sent_tokens = 0; // the tokens the requests sent were expected to use
  std::size_t m_429s = 0;
  std::deque<Clock::time_point> m_recent; // send times of the last two seconds
};

} // namespace evalkeep::providers
