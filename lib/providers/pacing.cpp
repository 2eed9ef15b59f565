#include "providers/pacing.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace evalkeep::providers {
namespace {

std::optional<double> number(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

// Seconds from `now` to an RFC 3339 time ("2026-12-05T14:30:00Z", fractions and offsets
// allowed); never negative.
std::optional<double> seconds_until_time(std::string_view s, std::time_t now) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  char tail[8] = {};
  std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%7s", &y, &mo, &d, &h, &mi, &sec, tail) < 6)
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  double offset_s = 0;
  std::string_view zone(tail);
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = 0, om = 0;
    std::from_chars(zone.data() + 1, zone.data() + 3, oh);
    std::from_chars(zone.data() + 4, zone.data() + 6, om);
    offset_s = (zone[0] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  } else if (!zone.empty() && zone != "Z" && zone != "z") {
    return std::nullopt;
  }
  std::time_t at = timegm(&tm);
  if (at == static_cast<std::time_t>(-1))
    return std::nullopt;
  return std::max(0.0, static_cast<double>(at - now) + sec - offset_s);
}

} // namespace

std::optional<double> parse_reset_duration(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (text.empty())
    return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || v < 0)
      return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    double unit = 0;
    if (text.starts_with("ms"))
      unit = 0.001, text.remove_prefix(2);
    else if (text.starts_with("h"))
      unit = 3600, text.remove_prefix(1);
    else if (text.starts_with("m"))
      unit = 60, text.remove_prefix(1);
    else if (text.starts_with("s"))
      unit = 1, text.remove_prefix(1);
    else
      return std::nullopt;
    total += v * unit;
  }
  return total;
}

bool read_rate_limit_header(std::string_view name, std::string_view value, RateLimits& into,
                            std::time_t now) {
  std::string n(name);
  for (char& c : n)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view key = n;
  if (key.starts_with("x-ratelimit-")) {
    key.remove_prefix(12);
    std::optional<double>* field = key == "limit-requests"       ? &into.request_limit
                                   : key == "remaining-requests" ? &into.requests_remaining
                                   : key == "limit-tokens"       ? &into.token_limit
                                   : key == "remaining-tokens"   ? &into.tokens_remaining
                                   : key == "reset-requests"     ? &into.requests_reset_s
                                   : key == "reset-tokens"       ? &into.tokens_reset_s
                                                                 : nullptr;
    if (!field)
      return false;
    *field = key.starts_with("reset") ? parse_reset_duration(value) : number(value);
    return true;
  }
  if (!key.starts_with("anthropic-ratelimit-"))
    return false;
  key.remove_prefix(20);
  // The combined token limit is the one that binds; the input-token limit stands in for it
  // when it is the only one sent.
  bool input = key.starts_with("input-tokens-");
  if (input)
    key.remove_prefix(6);
  std::optional<double>* field = key == "requests-limit"       ? &into.request_limit
                                 : key == "requests-remaining" ? &into.requests_remaining
                                 : key == "requests-reset"     ? &into.requests_reset_s
                                 : key == "tokens-limit"       ? &into.token_limit
                                 : key == "tokens-remaining"   ? &into.tokens_remaining
                                 : key == "tokens-reset"       ? &into.tokens_reset_s
                                                               : nullptr;
  if (!field)
    return false;
  if (input && *field)
    return true;
  *field = key.ends_with("reset") ? seconds_until_time(value, now) : number(value);
  return true;
}

void Pacer::Bucket::refill(Clock::time_point now) {
  if (now <= at)
    return;
  level = std::min(capacity, level + per_second * std::chrono::duration<double>(now - at).count());
  at = now;
}

Pacer::Pacer(int ceiling) : m_ceiling(std::max(1, ceiling)), m_window(m_ceiling) {}

bool Pacer::window_full(std::size_t in_flight) const {
  double window = m_answers == 0 ? std::min(m_window, k_first_wave) : m_window;
  return static_cast<double>(in_flight) >= std::max(1.0, std::floor(window));
}

double Pacer::token_cost(std::size_t body_bytes) const {
  return m_input_per_byte * static_cast<double>(body_bytes) + m_output_each;
}

Pacer::Clock::time_point Pacer::ready_at(Clock::time_point now, std::size_t body_bytes,
                                         bool waited_own) {
  Clock::time_point at = waited_own ? now : std::max(now, m_hold_until);
  for (auto [b, cost] :
       {std::pair{&m_requests, 1.0}, std::pair{&m_tokens, token_cost(body_bytes)}}) {
    if (!b->known() || cost <= 0)
      continue;
    b->refill(now);
    // A tenth of a second of the rate kept in hand covers the time a request takes to reach
    // the provider, whose bucket counts it on arrival.
    double need = std::min(cost + 0.1 * b->per_second, std::max(cost, b->capacity));
    // A limit a minute refills within the minute: however an answer set the bucket, no request
    // waits longer for it.
    if (b->level < need) {
      double wait_s = std::min(60.0, (need - b->level) / b->per_second);
      at = std::max(at, now + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(wait_s)));
    }
  }
  return at;
}

Pacer::Ticket Pacer::sent(Clock::time_point now, std::size_t body_bytes) {
  Ticket t{now, m_sent, m_sent_tokens, token_cost(body_bytes), body_bytes};
  for (auto [b, cost] : {std::pair{&m_requests, 1.0}, std::pair{&m_tokens, t.tokens}})
    if (b->known()) {
      b->refill(now);
      b->level -= cost;
    }
  ++m_sent;
  m_sent_tokens += t.tokens;
  m_recent.push_back(now);
  pace(now); // drops the sends older than the window
  return t;
}

void Pacer::learn(Bucket& b, std::optional<double> limit, std::optional<double> remaining,
                  Clock::time_point now, const Ticket& ticket, double cost, double sent_after) {
  // Less than one a minute is not a limit a provider means: ignored rather than waited on.
  if (limit && *limit < 1)
    limit.reset();
  if (limit && !b.known()) {
    b.per_second = *limit / 60;
    b.capacity = std::max(1.0, b.per_second); // a second's worth, until reports say more
    b.level = b.capacity;
    b.at = now;
  } else if (limit) {
    b.per_second = *limit / 60;
  }
  if (!remaining || !b.known() || (b.synced && ticket.sequence < b.synced_sequence))
    return;
  // The provider's bucket held `remaining` once it had taken this request; since then it
  // refilled, and took what was sent after this one.
  double since = std::chrono::duration<double>(now - ticket.sent_at).count();
  b.capacity = std::max(b.capacity, *remaining + cost);
  b.level = std::min(b.capacity, *remaining + b.per_second * since) - sent_after;
  b.at = now;
  b.synced = true;
  b.synced_sequence = ticket.sequence;
}

void Pacer::answered(Clock::time_point now, const Ticket& ticket, const Answer& a) {
  ++m_answers;
  auto average = [](double& avg, double v) { avg = avg > 0 ? 0.8 * avg + 0.2 * v : v; };
  if (a.tokens_in && ticket.body_bytes > 0)
    average(m_input_per_byte, *a.tokens_in / static_cast<double>(ticket.body_bytes));
  if (a.tokens_out)
    average(m_output_each, *a.tokens_out);
  // The tokens it used, when reported; what it was expected to use otherwise.
  double used = a.tokens_in && a.tokens_out ? *a.tokens_in + *a.tokens_out : ticket.tokens;
  learn(m_requests, a.limits.request_limit, a.limits.requests_remaining, now, ticket, 1.0,
        static_cast<double>(m_sent - ticket.sequence - 1));
  learn(m_tokens, a.limits.token_limit, a.limits.tokens_remaining, now, ticket, used,
        m_sent_tokens - ticket.tokens_before - ticket.tokens);
  if (!a.rate_limited) {
    m_window = std::min<double>(m_ceiling, m_window + 1 / m_window);
    return;
  }
  ++m_429s;
  if (a.retry_after_ms)
    m_hold_until = std::max(
        m_hold_until, now + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double, std::milli>(*a.retry_after_ms)));
  // One cut per round trip: the 429s of requests already out when the window was cut say
  // nothing about the smaller window.
  if (!m_cut || ticket.sent_at > m_last_cut) {
    m_window = std::max(1.0, m_window / 2);
    m_last_cut = now;
    m_cut = true;
  }
}

std::optional<double> Pacer::request_limit() const {
  return m_requests.known() ? std::optional(m_requests.per_second * 60) : std::nullopt;
}

std::optional<double> Pacer::token_limit() const {
  return m_tokens.known() ? std::optional(m_tokens.per_second * 60) : std::nullopt;
}

double Pacer::pace(Clock::time_point now) {
  while (!m_recent.empty() && now - m_recent.front() > std::chrono::seconds(2))
    m_recent.pop_front();
  return static_cast<double>(m_recent.size()) / 2;
}

} // namespace evalkeep::providers
