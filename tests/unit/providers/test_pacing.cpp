// Pacing to a provider's rate limits: the headers that announce them, and the pacer driven in
// simulated time against an account's token bucket, so its figures do not depend on the machine.

#include "providers/pacing.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include <catch2/catch.hpp>

using namespace evalkeep::providers;
using Clock = Pacer::Clock;
using namespace std::chrono_literals;

TEST_CASE("OpenAI's reset durations are read in every unit it writes", "[providers][pacing]") {
  CHECK(parse_reset_duration("1s") == 1.0);
  CHECK(parse_reset_duration("250ms") == Approx(0.25));
  CHECK(parse_reset_duration("6m0s") == 360.0);
  CHECK(parse_reset_duration("1h2m3.5s") == Approx(3723.5));
  CHECK(parse_reset_duration("0.5s") == 0.5);
  CHECK(parse_reset_duration(" 0s ") == 0.0);
  for (const char* bad : {"", "s", "1", "1x", "-1s", "1s2", "ms"})
    CHECK_FALSE(parse_reset_duration(bad));
}

TEST_CASE("the rate-limit headers of OpenAI and Anthropic are read, in any case",
          "[providers][pacing]") {
  RateLimits openai;
  const std::time_t now = 1'780'000'000;
  CHECK(read_rate_limit_header("x-ratelimit-limit-requests", " 6000", openai, now));
  CHECK(read_rate_limit_header("X-RateLimit-Remaining-Requests", "5999", openai, now));
  CHECK(read_rate_limit_header("x-ratelimit-reset-requests", "10ms", openai, now));
  CHECK(read_rate_limit_header("x-ratelimit-limit-tokens", "150000", openai, now));
  CHECK(read_rate_limit_header("x-ratelimit-remaining-tokens", "149984", openai, now));
  CHECK(read_rate_limit_header("x-ratelimit-reset-tokens", "6m0s", openai, now));
  CHECK_FALSE(read_rate_limit_header("x-request-id", "req_1", openai, now));
  CHECK_FALSE(read_rate_limit_header("x-ratelimit-something-else", "1", openai, now));
  CHECK(openai.request_limit == 6000.0);
  CHECK(openai.requests_remaining == 5999.0);
  CHECK(openai.requests_reset_s == Approx(0.01));
  CHECK(openai.token_limit == 150000.0);
  CHECK(openai.tokens_remaining == 149984.0);
  CHECK(openai.tokens_reset_s == 360.0);
  CHECK(openai.any());

  // A value that is not a number is not a limit.
  RateLimits garbled;
  CHECK(read_rate_limit_header("x-ratelimit-limit-requests", "lots", garbled, now));
  CHECK_FALSE(garbled.request_limit);
  CHECK_FALSE(garbled.any());

  // Anthropic: resets are RFC 3339 times; the input-token limit stands in for the combined one
  // only when that is not sent.
  RateLimits anthropic;
  CHECK(read_rate_limit_header("anthropic-ratelimit-requests-limit", "50", anthropic, now));
  CHECK(read_rate_limit_header("anthropic-ratelimit-requests-remaining", "49", anthropic, now));
  CHECK(read_rate_limit_header("anthropic-ratelimit-requests-reset", "2026-05-28T20:26:42Z",
                               anthropic, 1'780'000'000));
  CHECK(read_rate_limit_header("anthropic-ratelimit-input-tokens-limit", "40000", anthropic, now));
  CHECK(anthropic.token_limit == 40000.0);
  CHECK(read_rate_limit_header("anthropic-ratelimit-tokens-limit", "80000", anthropic, now));
  CHECK(read_rate_limit_header("anthropic-ratelimit-input-tokens-limit", "40000", anthropic, now));
  CHECK(anthropic.request_limit == 50.0);
  CHECK(anthropic.requests_remaining == 49.0);
  CHECK(anthropic.token_limit == 80000.0);
  // 1780000000 is 2026-05-28T20:26:40Z: the reset is two seconds away.
  CHECK(anthropic.requests_reset_s == Approx(2.0));
  RateLimits offset;
  CHECK(read_rate_limit_header("anthropic-ratelimit-tokens-reset", "2026-05-28T21:26:41.5+01:00",
                               offset, now));
  CHECK(offset.tokens_reset_s == Approx(1.5));
  // A time already past is no wait at all.
  CHECK(read_rate_limit_header("anthropic-ratelimit-tokens-reset", "2020-01-01T00:00:00Z", offset,
                               now));
  CHECK(offset.tokens_reset_s == 0.0);
}

namespace {

// An account as a provider keeps it: token buckets for requests and tokens a minute, each holding
// `burst_s` seconds of its rate, full at the start; a request is taken whole or answered 429.
struct Account {
  double rpm, tpm, burst_s;
  double requests, tokens;
  double at = 0;
  Account(double rpm_, double tpm_, double burst = 1)
      : rpm(rpm_), tpm(tpm_), burst_s(burst), requests(cap(rpm_)), tokens(cap(tpm_)) {}
  double cap(double per_minute) const { return std::max(1.0, per_minute / 60 * burst_s); }
  void refill(double t) {
    requests = std::min(cap(rpm), requests + (t - at) * rpm / 60);
    if (tpm > 0)
      tokens = std::min(cap(tpm), tokens + (t - at) * tpm / 60);
    at = t;
  }
  // Takes a request of `cost` tokens at time t, or says how long until it could be taken.
  std::optional<double> take(double t, double cost, RateLimits& told) {
    refill(t);
    double wait = std::max(0.0, (1 - requests) / (rpm / 60));
    if (tpm > 0)
      wait = std::max(wait, (cost - tokens) / (tpm / 60));
    if (wait <= 0) {
      requests -= 1;
      tokens -= tpm > 0 ? cost : 0;
    }
    told.request_limit = rpm;
    told.requests_remaining = std::floor(std::max(0.0, requests));
    if (tpm > 0) {
      told.token_limit = tpm;
      told.tokens_remaining = std::floor(std::max(0.0, tokens));
    }
    return wait > 0 ? std::optional(wait) : std::nullopt;
  }
};

struct Outcome {
  double seconds = 0;
  int requests = 0, limited = 0;
  double max_in_flight = 0;
};

// Runs n requests of `bytes` bytes (a token per 4 bytes in, 20 out) through a pacer with ceiling
// j against an account, each taking `latency` s, in steps of 1 ms of simulated time.
Outcome simulate(Account account, int n, int j, double latency, std::size_t bytes = 400) {
  Pacer pacer(j);
  const Clock::time_point t0{};
  auto at = [&](double s) {
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  struct InFlight {
    double done_at;
    Pacer::Ticket ticket;
    RateLimits told;
    std::optional<double> wait;
  };
  std::deque<InFlight> flying;
  Outcome o;
  int finished = 0, queued = n;
  double t = 0;
  while (finished < n) {
    // Answers due by now, in order.
    std::sort(flying.begin(), flying.end(),
              [](const auto& a, const auto& b) { return a.done_at < b.done_at; });
    while (!flying.empty() && flying.front().done_at <= t) {
      auto f = flying.front();
      flying.pop_front();
      Pacer::Answer a;
      a.limits = f.told;
      if (f.wait) {
        a.rate_limited = true;
        a.retry_after_ms = *f.wait * 1000;
        ++queued; // retried
      } else {
        a.tokens_in = static_cast<double>(bytes) / 4;
        a.tokens_out = 20;
        ++finished;
      }
      pacer.answered(at(t), f.ticket, a);
    }
    while (queued > 0 && !pacer.window_full(flying.size()) &&
           pacer.ready_at(at(t), bytes) <= at(t)) {
      --queued;
      ++o.requests;
      InFlight f{t, pacer.sent(at(t), bytes), {}, {}};
      f.wait = account.take(t, static_cast<double>(bytes) / 4 + 20, f.told);
      f.done_at = t + (f.wait ? 0.001 : latency);
      o.limited += f.wait ? 1 : 0;
      flying.push_back(f);
      o.max_in_flight = std::max(o.max_in_flight, static_cast<double>(flying.size()));
    }
    t += 0.001;
  }
  o.seconds = t;
  return o;
}

} // namespace

TEST_CASE("a run paced to an account's requests a minute keeps to the rate without running into "
          "it",
          "[providers][pacing]") {
  // 2,000 requests at 6,000 a minute: the limit allows them in 20 s (19 s after a full second's
  // bucket). -j 256 leaves room for the 100 a second at a second's latency.
  for (double latency : {0.05, 0.2, 1.0}) {
    auto o = simulate(Account(6000, 0), 2000, 256, latency);
    INFO("latency " << latency << " s: " << o.seconds << " s, " << o.limited << " 429s");
    CHECK(o.seconds <= 1.15 * 20 + latency);
    CHECK(o.seconds >= 19);
    CHECK(o.limited <= 2000 * 5 / 100);
  }
  // A small account: 600 a minute, a bucket of 10, with -j 64: the first wave is held to 8.
  auto small = simulate(Account(600, 0), 200, 64, 0.05);
  INFO("600/min: " << small.seconds << " s, " << small.limited << " 429s");
  CHECK(small.limited == 0);
  CHECK(small.seconds <= 1.15 * 20);
}

TEST_CASE("a run paced to an account's tokens a minute estimates each request's tokens from its "
          "size",
          "[providers][pacing]") {
  // 120 tokens a request (400 bytes in, 20 out) against 60,000 tokens a minute: 1,000 a second,
  // so 500 requests take 60 s; the request limit is far away.
  auto o = simulate(Account(100000, 60000), 500, 32, 0.1);
  INFO(o.seconds << " s, " << o.limited << " 429s");
  CHECK(o.seconds <= 1.15 * 60);
  CHECK(o.seconds >= 55);
  CHECK(o.limited <= 500 * 5 / 100);
}

TEST_CASE("a 429 halves the window once a round trip and holds every request for its "
          "retry-after, answers grow it back to the ceiling",
          "[providers][pacing]") {
  Pacer p(32);
  const Clock::time_point t0{};
  // Before any answer, at most 8 in flight, whatever -j.
  CHECK_FALSE(p.window_full(7));
  CHECK(p.window_full(8));
  std::vector<Pacer::Ticket> first;
  for (int i = 0; i < 8; ++i)
    first.push_back(p.sent(t0, 100));
  p.answered(t0 + 10ms, first[0], {});
  CHECK(p.window() == Approx(32)); // no limits announced: the ceiling
  CHECK_FALSE(p.window_full(31));
  CHECK(p.window_full(32));
  CHECK_FALSE(p.request_limit());

  // Three 429s of requests sent before the first cut: one cut.
  Pacer::Answer limited;
  limited.rate_limited = true;
  limited.retry_after_ms = 500;
  p.answered(t0 + 20ms, first[1], limited);
  CHECK(p.window() == Approx(16));
  p.answered(t0 + 21ms, first[2], limited);
  p.answered(t0 + 22ms, first[3], limited);
  CHECK(p.window() == Approx(16));
  CHECK(p.rate_limited() == 3);
  // Held for the retry-after: 500 ms from the last 429.
  CHECK(p.ready_at(t0 + 30ms, 100) == t0 + 522ms);
  CHECK(p.ready_at(t0 + 600ms, 100) == t0 + 600ms);
  // A 429 of a request sent after the cut cuts again.
  auto later = p.sent(t0 + 600ms, 100);
  p.answered(t0 + 650ms, later, limited);
  CHECK(p.window() == Approx(8));
  // Additive increase: a window of answers adds one.
  for (int i = 0; i < 8; ++i)
    p.answered(t0 + 2s, p.sent(t0 + 2s, 100), {});
  CHECK(p.window() == Approx(9).epsilon(0.02));
  for (int i = 0; i < 2000; ++i)
    p.answered(t0 + 3s, p.sent(t0 + 3s, 100), {});
  CHECK(p.window() == Approx(32));        // never past the ceiling
  CHECK(p.pace(t0 + 3s) == Approx(1004)); // 2,008 sends in the last two seconds
  CHECK(p.pace(t0 + 10s) == 0);
}

TEST_CASE("the announced remaining count sets the pace: a full account lets a burst go, an empty "
          "one holds it",
          "[providers][pacing]") {
  const Clock::time_point t0{};
  Pacer p(64);
  auto first = p.sent(t0, 100);
  Pacer::Answer a;
  a.limits.request_limit = 600; // 10 a second
  a.limits.requests_remaining = 0;
  p.answered(t0 + 100ms, first, a);
  CHECK(p.request_limit() == 600.0);
  // Empty at 0 ms; 100 ms later one request has come back, and the pacer keeps a tenth of a
  // second's rate (one request) in hand: the next goes at 200 ms.
  auto at = p.ready_at(t0 + 100ms, 100);
  CHECK(at > t0 + 150ms);
  CHECK(at < t0 + 250ms);
  // An account that says 500 remain lets 498 go at once (a request's and the margin's worth
  // kept), even though its rate is 10 a second.
  Pacer q(1024);
  auto t = q.sent(t0, 100);
  a.limits.requests_remaining = 500;
  q.answered(t0 + 10ms, t, a);
  int sent = 0;
  while (q.ready_at(t0 + 10ms, 100) <= t0 + 10ms && sent < 1000) {
    q.sent(t0 + 10ms, 100);
    ++sent;
  }
  CHECK(sent >= 495);
  CHECK(sent <= 500);
}

TEST_CASE("absurd limits cannot stall a run: less than one a minute is ignored, and no request "
          "waits more than a minute for a bucket",
          "[providers][pacing]") {
  const Clock::time_point t0{};
  Pacer p(8);
  Pacer::Answer a;
  a.limits.request_limit = 0.0001;
  a.limits.requests_remaining = 0;
  p.answered(t0, p.sent(t0, 100), a);
  CHECK_FALSE(p.request_limit());
  CHECK(p.ready_at(t0, 100) == t0);

  // One token a minute against requests of 100: each would wait 100 minutes.
  Pacer q(8);
  Pacer::Answer b;
  b.limits.token_limit = 1;
  b.limits.tokens_remaining = 0;
  b.tokens_in = 80;
  b.tokens_out = 20;
  q.answered(t0, q.sent(t0, 400), b);
  CHECK(q.token_limit() == 1.0);
  auto at = q.ready_at(t0, 400);
  CHECK(at > t0 + 59s);
  CHECK(at <= t0 + 60s);
}

TEST_CASE("a retry that has waited what its own 429 told it is not held for another's longer wait",
          "[providers][pacing]") {
  const Clock::time_point t0{};
  Pacer p(8);
  auto a = p.sent(t0, 100), b = p.sent(t0, 100);
  Pacer::Answer two, four;
  two.rate_limited = four.rate_limited = true;
  two.retry_after_ms = 2000;
  four.retry_after_ms = 4000;
  p.answered(t0 + 10ms, a, two);
  p.answered(t0 + 10ms, b, four);
  CHECK(p.ready_at(t0 + 2010ms, 100) == t0 + 4010ms);       // a new request waits for the longest
  CHECK(p.ready_at(t0 + 2010ms, 100, true) == t0 + 2010ms); // the first retry goes at its time
}
