#include "scoring/stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace evalkeep::scoring {

namespace {

Interval around(double mean, double se, std::size_t n, std::string method) {
  return {mean,
          std::max(0.0, mean - k_z95 * se),
          std::min(1.0, mean + k_z95 * se),
          std::move(method),
          n,
          0};
}

double mean_of(std::span<const CaseScore> scores) {
  double sum = 0;
  for (const auto& s : scores)
    sum += s.score;
  return scores.empty() ? 0 : sum / static_cast<double>(scores.size());
}

// log of n choose k.
double log_choose(double n, double k) {
  return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

// P(X <= k) for X ~ Binomial(n, 1/2).
double half_binomial_tail(std::size_t k, std::size_t n) {
  double nn = static_cast<double>(n), tail = 0;
  for (std::size_t i = 0; i <= k && i <= n; ++i)
    tail += std::exp(log_choose(nn, static_cast<double>(i)) - nn * std::log(2.0));
  return std::min(1.0, tail);
}

// The two-sided normal p-value of z.
double normal_p(double z) {
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

} // namespace

Interval wilson(double successes, std::size_t n) {
  if (n == 0)
    return {0, 0, 1, "wilson", 0, 0};
  double nn = static_cast<double>(n), p = successes / nn, z2 = k_z95 * k_z95;
  double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  double half = k_z95 * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {p, std::max(0.0, centre - half), std::min(1.0, centre + half), "wilson", n, 0};
}

Interval pass_rate(std::span<const CaseScore> scores) {
  double mean = mean_of(scores);
  bool binary = std::all_of(scores.begin(), scores.end(), [](auto& s) { return s.trials <= 1; });
  std::size_t n = scores.size();
  if (binary || n < 2)
    return wilson(mean * static_cast<double>(n), n);
  double ss = 0;
  for (const auto& s : scores)
    ss += (s.score - mean) * (s.score - mean);
  double se = std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n));
  if (se == 0)
    return wilson(mean * static_cast<double>(n), n);
  return around(mean, se, n, "clt");
}

Interval clustered_pass_rate(std::span<const CaseScore> scores) {
  double mean = mean_of(scores);
  std::size_t n = scores.size();
  std::map<std::string, double> by_incident;
  double sum_sq = 0; // over clusters of (sum of residuals)^2
  std::size_t own = 0;
  for (const auto& s : scores) {
    if (s.cluster) {
      by_incident[*s.cluster] += s.score - mean;
    } else {
      sum_sq += (s.score - mean) * (s.score - mean);
      ++own;
    }
  }
  for (const auto& [_, r] : by_incident)
    sum_sq += r * r;
  std::size_t clusters = by_incident.size() + own;
  Interval out;
  if (n < 2 || clusters < 2) {
    out = wilson(mean * static_cast<double>(n), n);
  } else {
    double nn = static_cast<double>(n), g = static_cast<double>(clusters);
    // The small-sample correction G/(G-1) of the cluster-robust variance.
    double se = std::sqrt(sum_sq * g / (g - 1)) / nn;
    out = se == 0 ? wilson(mean * nn, n) : around(mean, se, n, "");
  }
  out.method = "clustered by incident";
  out.clusters = clusters;
  return out;
}

double mcnemar_exact_p(std::size_t b, std::size_t c) {
  std::size_t n = b + c;
  if (n == 0)
    return 1;
  return std::min(1.0, 2 * half_binomial_tail(std::min(b, c), n));
}

double drop_p_value(int passes_a, int trials_a, int passes_b, int trials_b) {
  // Of all passes (K) over both runs' trials (N), B's trials hold passes_b or fewer:
  // hypergeometric lower tail.
  double n = trials_a + trials_b, k = passes_a + passes_b, nb = trials_b;
  double total = log_choose(n, nb), p = 0;
  for (int x = passes_b; x >= 0; --x) {
    double fx = x;
    if (fx > k || nb - fx > n - k)
      continue;
    p += std::exp(log_choose(k, fx) + log_choose(n - k, nb - fx) - total);
  }
  return std::min(1.0, p);
}

PairedDifference paired_difference(std::span<const std::pair<CaseScore, CaseScore>> pairs) {
  PairedDifference d;
  d.pairs = pairs.size();
  bool binary = true;
  double sum = 0;
  for (const auto& [a, b] : pairs) {
    sum += b.score - a.score;
    binary = binary && a.trials <= 1 && b.trials <= 1;
    d.pass_to_fail += a.score == 1 && b.score < 1;
    d.fail_to_pass += a.score < 1 && b.score == 1;
  }
  d.test = binary ? "mcnemar-exact" : "paired-z";
  if (pairs.empty())
    return d;
  double n = static_cast<double>(pairs.size());
  d.value = sum / n;
  double ss = 0;
  for (const auto& [a, b] : pairs) {
    double r = b.score - a.score - d.value;
    ss += r * r;
  }
  double se = pairs.size() > 1 ? std::sqrt(ss / (n - 1) / n) : 0;
  d.se = se;
  d.low = std::max(-1.0, d.value - k_z95 * se);
  d.high = std::min(1.0, d.value + k_z95 * se);
  if (binary)
    d.p_value = mcnemar_exact_p(d.pass_to_fail, d.fail_to_pass);
  else
    d.p_value = se > 0 ? normal_p(d.value / se) : (d.value == 0 ? 1.0 : 0.0);
  return d;
}

double drop_beyond_p(const PairedDifference& d, double max_drop) {
  if (d.pairs == 0)
    return 1;
  if (d.test == "mcnemar-exact" && max_drop == 0) {
    // As few fail -> pass pairs as seen, were both directions as likely.
    return half_binomial_tail(d.fail_to_pass, d.pass_to_fail + d.fail_to_pass);
  }
  double shifted = d.value + max_drop;
  if (d.se == 0)
    return shifted < 0 ? 0 : 1;
  return 0.5 * std::erfc(-shifted / d.se / std::sqrt(2.0)); // P(Z <= shifted / se)
}

double normal_quantile(double p) {
  // Bisection on the CDF: 200 halvings of [-40, 40] are exact to the last bit a double holds.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 0; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

TrialVariance trial_variance(std::span<const CaseScore> scores) {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& s : scores)
    if (s.trials >= 2) {
      double k = s.trials;
      sum += s.score * (1 - s.score) * k / (k - 1);
      ++n;
    }
  if (n > 0)
    return {sum / static_cast<double>(n), true, false};
  if (scores.empty())
    return {};
  double p = mean_of(scores);
  return {p * (1 - p), true, true};
}

namespace {

// The flips a drop must make before the exact test can see it at alpha: 0.5^m < alpha.
double fewest_flips(double alpha) {
  return std::ceil(std::log2(1 / alpha));
}

} // namespace

std::size_t cases_needed(double drop, double alpha, double power, double variance, int trials) {
  double z = normal_quantile(1 - alpha) + normal_quantile(power);
  double n = z * z * 2 * variance / (std::max(trials, 1) * drop * drop);
  return static_cast<std::size_t>(std::ceil(std::max(n, fewest_flips(alpha) / drop) - 1e-9));
}

double detectable_drop(std::size_t cases, double alpha, double power, double variance, int trials) {
  if (cases == 0)
    return 1;
  double z = normal_quantile(1 - alpha) + normal_quantile(power);
  double n = static_cast<double>(cases);
  double drop = z * std::sqrt(2 * variance / (std::max(trials, 1) * n));
  return std::min(1.0, std::max(drop, fewest_flips(alpha) / n));
}

} // namespace evalkeep::scoring
