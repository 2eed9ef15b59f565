#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evalkeep::scoring {

/// The normal quantile for a two-sided 95% interval.
inline constexpr double k_z95 = 1.959963984540054;

/// One case's result as the statistics read it: the share of its trials that passed (0 or 1
/// with one trial), and the incident it guards (cases guarding one incident are related).
struct CaseScore {
  double score = 0;
  int trials = 1;
  std::optional<std::string> cluster;
};

/// A pass rate with its 95% interval, and how the interval was made: "wilson" (cases of one
/// trial each: Wilson's score interval, which behaves with few cases and near 0 or 1), "clt"
/// (fractional scores from trials: the mean's standard error, Miller 2024 §2.1), or "clustered
/// by incident" (the standard error clustered by incident, Miller §2.2; a case without an
/// incident is a cluster of its own).
struct Interval {
  double value = 0, low = 0, high = 0;
  std::string method;
  std::size_t cases = 0, clusters = 0; // clusters: for "clustered by incident"
};

/// Wilson's score interval for `successes` of `n` (fractional successes allowed).
Interval wilson(double successes, std::size_t n);
/// The pass rate of the scores: Wilson's interval when every case had one trial, else the mean
/// with its standard error (Wilson's when the scores do not vary, where that error is 0).
Interval pass_rate(std::span<const CaseScore> scores);
/// The same mean with the standard error clustered by incident.
Interval clustered_pass_rate(std::span<const CaseScore> scores);

/// Run B against run A on the cases both ran, each case paired with itself (Miller §4).
struct PairedDifference {
  double value = 0, low = 0, high = 0; // B's pass rate minus A's, with its 95% interval
  double se = 0;                       // the standard error of the mean paired difference
  double p_value = 1;                  // two-sided: did the pass rate change at all?
  std::size_t pairs = 0, pass_to_fail = 0, fail_to_pass = 0;
  /// "mcnemar-exact" (every case one trial in both runs) or "paired-z" (fractional scores).
  std::string test;
};

/// The paired difference of (A, B) scores; pass_to_fail and fail_to_pass count the pairs whose
/// score went from 1 to below 1 and from below 1 to 1.
PairedDifference paired_difference(std::span<const std::pair<CaseScore, CaseScore>> pairs);

/// The one-sided p-value that B's pass rate is at least A's minus `max_drop`: small when the
/// suite fell by more than max_drop beyond what chance explains. With one trial per case and no
/// drop allowed, McNemar's exact test on the discordant pairs; otherwise the normal test on the
/// paired differences.
double drop_beyond_p(const PairedDifference& d, double max_drop);

/// McNemar's exact test: the two-sided p-value of b pairs one way and c the other, were either
/// way as likely.
double mcnemar_exact_p(std::size_t b, std::size_t c);

/// The probability that a case passing `passes_b` of `trials_b` trials after `passes_a` of
/// `trials_a` dropped this far or further by chance, its true rate unchanged: Fisher's exact
/// test, one-sided.
double drop_p_value(int passes_a, int trials_a, int passes_b, int trials_b);

/// The normal quantile: the z with P(Z <= z) = p, for 0 < p < 1.
double normal_quantile(double p);

/// How noisy one trial of a case is, as a plan assumes it: the variance of a pass/fail outcome
/// around the case's own pass probability, and where the figure came from.
struct TrialVariance {
  double value = 0.25;
  bool observed = false;    // from a run's scores, else the largest a pass/fail can have (0.25)
  bool upper_bound = false; // one trial per case: cases' differences count as noise too
};

/// The per-trial variance a run's scores show: within the cases that ran several trials, the
/// unbiased variance of their outcomes; with one trial per case, p(1-p) of the pass rate, which
/// bounds it from above (it also holds how much the cases differ from each other).
TrialVariance trial_variance(std::span<const CaseScore> scores);

/// What an experiment needs to see a drop in pass rate the way the gate tests one (paired, one
/// case against itself, one-sided at `alpha`), Miller 2024 §5: n = (z(1-alpha) + z(power))^2 *
/// 2 variance / (trials * drop^2) cases, both runs equally noisy and the drop spread evenly over
/// the cases. It is never fewer than the cases whose flips alone reach significance: a drop must
/// move at least log2(1/alpha) of them.
std::size_t cases_needed(double drop, double alpha, double power, double variance, int trials);

/// The smallest drop `cases` cases of `trials` trials each detect with that power.
double detectable_drop(std::size_t cases, double alpha, double power, double variance, int trials);

} // namespace evalkeep::scoring
