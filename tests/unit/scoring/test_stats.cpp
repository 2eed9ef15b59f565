#include "scoring/stats.hpp"

#include <random>

#include <catch2/catch.hpp>

using namespace evalkeep::scoring;

namespace {

std::vector<CaseScore> binary(int passed, int failed) {
  std::vector<CaseScore> out(passed, CaseScore{1, 1, {}});
  out.insert(out.end(), failed, CaseScore{0, 1, {}});
  return out;
}

} // namespace

TEST_CASE("Wilson's interval matches published values and stays inside 0..1 at the edges",
          "[stats]") {
  auto none = wilson(0, 10);
  CHECK(none.value == 0);
  CHECK(none.low == 0);
  CHECK(none.high == Approx(0.2775).margin(1e-4));
  auto half = wilson(5, 10);
  CHECK(half.low == Approx(0.2366).margin(1e-4));
  CHECK(half.high == Approx(0.7634).margin(1e-4));
  auto all = wilson(20, 20);
  CHECK(all.high == 1);
  CHECK(all.low == Approx(0.8389).margin(1e-4));
}

TEST_CASE("a pass rate from one trial per case is Wilson's, from trials, the mean's standard "
          "error",
          "[stats]") {
  auto r = pass_rate(binary(33, 9));
  CHECK(r.method == "wilson");
  CHECK(r.value == Approx(33.0 / 42));
  CHECK(r.cases == 42);
  // Three trials each: scores 1, 2/3, 1/3, 0, twice over.
  std::vector<CaseScore> trials;
  for (double s : {1.0, 2.0 / 3, 1.0 / 3, 0.0, 1.0, 2.0 / 3, 1.0 / 3, 0.0})
    trials.push_back({s, 3, {}});
  auto t = pass_rate(trials);
  CHECK(t.method == "clt");
  CHECK(t.value == Approx(0.5));
  // sd of the scores 0.3984, over sqrt(8): se 0.1409.
  CHECK(t.low == Approx(0.5 - 1.96 * 0.1409).margin(1e-3));
  CHECK(t.high == Approx(0.5 + 1.96 * 0.1409).margin(1e-3));
  // Every case the same: no spread to measure, Wilson's interval instead of a zero-width one.
  std::vector<CaseScore> same(5, CaseScore{1, 3, {}});
  CHECK(pass_rate(same).method == "wilson");
  CHECK(pass_rate(same).low < 1);
}

TEST_CASE("clustering by incident widens the interval when an incident's cases agree", "[stats]") {
  std::vector<CaseScore> s;
  for (int i = 0; i < 10; ++i)
    s.push_back({1, 1, std::string("INC-1")});
  for (int i = 0; i < 10; ++i)
    s.push_back({0, 1, std::string("INC-2")});
  for (int i = 0; i < 10; ++i)
    s.push_back({i % 2 ? 1.0 : 0.0, 1, std::nullopt}); // ten clusters of their own
  auto plain = pass_rate(s);
  auto clustered = clustered_pass_rate(s);
  CHECK(clustered.method == "clustered by incident");
  CHECK(clustered.clusters == 12);
  CHECK(clustered.value == Approx(plain.value));
  CHECK(clustered.high - clustered.low > plain.high - plain.low);
}

TEST_CASE("McNemar's exact test and the one-sided drop test give the textbook p-values",
          "[stats]") {
  CHECK(mcnemar_exact_p(0, 0) == 1);
  CHECK(mcnemar_exact_p(0, 5) == Approx(0.0625));
  CHECK(mcnemar_exact_p(9, 1) == Approx(22.0 / 1024));
  CHECK(mcnemar_exact_p(4, 4) == 1);
  CHECK(drop_p_value(5, 5, 0, 5) == Approx(1.0 / 252));
  CHECK(drop_p_value(5, 5, 3, 5) == Approx(56.0 / 252));
  CHECK(drop_p_value(1, 1, 0, 1) == Approx(0.5));         // one flip is never significant alone
  CHECK(drop_p_value(3, 5, 3, 5) == Approx(186.0 / 252)); // no drop: the observed tail
}

TEST_CASE("a paired difference counts discordant pairs and tests them", "[stats]") {
  std::vector<std::pair<CaseScore, CaseScore>> pairs;
  for (int i = 0; i < 7; ++i)
    pairs.push_back({{1, 1, {}}, {1, 1, {}}});
  for (int i = 0; i < 3; ++i)
    pairs.push_back({{1, 1, {}}, {0, 1, {}}});
  auto d = paired_difference(pairs);
  CHECK(d.test == "mcnemar-exact");
  CHECK(d.pairs == 10);
  CHECK(d.pass_to_fail == 3);
  CHECK(d.fail_to_pass == 0);
  CHECK(d.value == Approx(-0.3));
  CHECK(d.p_value == Approx(0.25));
  CHECK(d.low < d.value);
  CHECK(d.high > d.value);
  // With trials the scores are fractional: the paired z-test.
  pairs.push_back({{1, 3, {}}, {2.0 / 3, 3, {}}});
  CHECK(paired_difference(pairs).test == "paired-z");
}

TEST_CASE("over many simulated runs the 95% intervals cover the true pass rate at least 93% of "
          "the time",
          "[stats][simulation]") {
  std::mt19937_64 rng(20261205);
  for (double truth : {0.5, 0.8, 0.95}) {
    for (int trials : {1, 3}) {
      int covered = 0, runs = 2000;
      for (int r = 0; r < runs; ++r) {
        std::vector<CaseScore> scores;
        // 100 cases, each with its own true rate spread around `truth`.
        for (int c = 0; c < 100; ++c) {
          double p = std::clamp(truth + (c % 5 - 2) * 0.02, 0.0, 1.0);
          std::bernoulli_distribution pass(p);
          int passes = 0;
          for (int t = 0; t < trials; ++t)
            passes += pass(rng);
          scores.push_back({static_cast<double>(passes) / trials, trials, {}});
        }
        auto i = pass_rate(scores);
        covered += i.low <= truth && truth <= i.high;
      }
      INFO("true rate " << truth << ", " << trials << " trial(s)");
      CHECK(covered >= runs * 93 / 100);
    }
  }
}

TEST_CASE("the normal quantile inverts the normal distribution", "[stats]") {
  CHECK(normal_quantile(0.5) == Approx(0).margin(1e-12));
  CHECK(normal_quantile(0.975) == Approx(k_z95).epsilon(1e-12));
  CHECK(normal_quantile(0.95) == Approx(1.6448536269514722).epsilon(1e-12));
  CHECK(normal_quantile(0.8) == Approx(0.8416212335729143).epsilon(1e-12));
  CHECK(normal_quantile(0.05) == Approx(-1.6448536269514722).epsilon(1e-12));
}

TEST_CASE("a plan's case count follows Miller's formula and never goes below the flips the "
          "exact test needs",
          "[stats]") {
  // (1.6449 + 0.8416)^2 * 2 * 0.25 / 0.05^2 = 1236.5: 1,237 cases of one trial.
  CHECK(cases_needed(0.05, 0.05, 0.8, 0.25, 1) == 1237);
  // Trials divide the noise of each case: 3 trials need a third of the cases.
  CHECK(cases_needed(0.05, 0.05, 0.8, 0.25, 3) == 413);
  // No noise at all: a drop of 10 points shows once 5 cases flip (0.5^5 < 0.05), 50 cases.
  CHECK(cases_needed(0.10, 0.05, 0.8, 0.0, 1) == 50);
  // The smallest drop a number of cases sees is the inverse.
  CHECK(detectable_drop(1237, 0.05, 0.8, 0.25, 1) == Approx(0.05).epsilon(1e-3));
  CHECK(detectable_drop(50, 0.05, 0.8, 0.0, 1) == Approx(0.10));
  CHECK(detectable_drop(0, 0.05, 0.8, 0.25, 1) == 1);
}

TEST_CASE("a run's trial variance comes from its trials, or bounds it with one trial a case",
          "[stats]") {
  // Two cases of 4 trials passing 2 and 4: (0.25 * 4/3 + 0) / 2.
  std::vector<CaseScore> trials{{0.5, 4, {}}, {1.0, 4, {}}};
  auto v = trial_variance(trials);
  CHECK(v.observed);
  CHECK_FALSE(v.upper_bound);
  CHECK(v.value == Approx(1.0 / 6));
  auto single = trial_variance(binary(8, 2));
  CHECK(single.upper_bound);
  CHECK(single.value == Approx(0.16));
  auto none = trial_variance({});
  CHECK_FALSE(none.observed);
  CHECK(none.value == 0.25);
}

TEST_CASE("the cases a plan asks for detect the drop about as often as the power it was given",
          "[stats]") {
  // Each case passes with 55% before and 45% after (variance 0.2475 both times); the plan's
  // cases are run through the gate's own test, one trial each, 1,000 times. The exact test is a
  // little conservative: a plan for 80% is seen about 78% of the time.
  const double before = 0.55, after = 0.45, alpha = 0.05;
  std::size_t n = cases_needed(before - after, alpha, 0.8, 0.2475, 1);
  CHECK(n == 307);
  std::mt19937_64 rng(7);
  std::bernoulli_distribution a(before), b(after);
  int caught = 0;
  const int experiments = 1000;
  for (int e = 0; e < experiments; ++e) {
    std::vector<std::pair<CaseScore, CaseScore>> pairs(n);
    for (auto& [x, y] : pairs) {
      x.score = a(rng) ? 1.0 : 0.0;
      y.score = b(rng) ? 1.0 : 0.0;
    }
    caught += drop_beyond_p(paired_difference(pairs), 0) < alpha;
  }
  double power = static_cast<double>(caught) / experiments;
  CHECK(power > 0.73);
  CHECK(power < 0.87);
}
