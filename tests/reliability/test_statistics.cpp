// The statistics checked against models whose truth is known. The stand-in answers each of 300
// cases right with a probability of its own (seeded), so the suite's true pass rate is the mean
// of those probabilities. Over many runs, each through the real binary:
// - the 95% interval of `runs show` covers the true pass rate (at least 93% of the time);
// - with no change between baseline and candidate, the gate's rules that judge noise (the suite's
//   drop and a case's drop) fail it at most about alpha = 5% of the time;
// - with a true 10-point drop, the gate catches it (at least 80% of the time).
// The short mode runs 30 comparisons of each kind; `make stress` runs 400, for
// docs/STATISTICS.md.

#include "reliability/reliability.hpp"
#include "support/standin.hpp"

#include <cstdio>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

using namespace evalkeep::test;

namespace {

constexpr int k_cases = 300;

// Each case's id and its true probability of a right answer: spread over 0.5-1, mean 0.75.
std::vector<double> true_probabilities() {
  std::mt19937_64 random(2026);
  std::uniform_real_distribution<double> spread(0.5, 1.0);
  std::vector<double> p(k_cases);
  for (double& x : p)
    x = spread(random);
  return p;
}

std::string case_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "c-%03d", i);
  return id;
}

// The stand-in's rules: case i is answered RIGHT with probability p[i] - drop.
std::string rules(const std::vector<double>& p, double drop) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < k_cases; ++i)
    list.push_back({{"match", "[" + case_id(i) + "]"},
                    {"answer", "RIGHT"},
                    {"wrong_answer", "WRONG"},
                    {"probability", std::max(0.0, p[static_cast<std::size_t>(i)] - drop)}});
  return nlohmann::json{{"rules", list}}.dump();
}

double mean(const std::vector<double>& p, double drop) {
  double sum = 0;
  for (double x : p)
    sum += std::max(0.0, x - drop);
  return sum / static_cast<double>(p.size());
}

struct Counts {
  int runs = 0, covered = 0;
  int comparisons = 0, failed = 0;
};

// A suite of k_cases cases on main with three providers, on branch "change".
struct World {
  std::vector<double> p = true_probabilities();
  StandIn base{rules(p, 0), 0, 11};
  StandIn same{rules(p, 0), 0, 22};
  StandIn dropped{rules(p, 0.10), 0, 33};
  Repo repo;
  int runs = 0;

  World() {
    must_succeed(repo, {"init", "-q"});
    std::string jsonl;
    for (int i = 0; i < k_cases; ++i)
      jsonl += nlohmann::json{{"type", "case"},
                              {"id", case_id(i)},
                              {"prompt", "[" + case_id(i) + "] Is it right?"},
                              {"expect", {{{"type", "contains"}, {"value", "RIGHT"}}}},
                              {"provenance", {{"kind", "spec"}, {"note", "simulation"}}}}
                   .dump() +
               "\n";
    write_file(repo.path() / "cases.jsonl", jsonl);
    must_succeed(repo, {"import", "-q", "cases.jsonl"});
    // Sampled at temperature 1: the gate judges a drop by the statistics, not flip by flip.
    const std::string sampled = "temperature = 1.0\n";
    std::ofstream(repo.path() / "evalkeep.toml", std::ios::app)
        << provider_table(base, "base", "openai", sampled)
        << provider_table(same, "same", "openai", sampled)
        << provider_table(dropped, "dropped", "openai", sampled);
    repo.git({"add", "-A"});
    repo.git({"commit", "-q", "-m", "suite"});
    repo.git({"checkout", "-q", "-b", "change"});
  }

  // Runs the suite once against PROVIDER (never from the cache) and counts whether the run's
  // 95% interval covers `truth`. Returns the run's id.
  int run(const std::string& provider, double truth, Counts& counts) {
    auto r = repo.evalkeep({"run", "--provider", provider, "--no-cache", "--trials", "1", "-q"});
    INFO("run --provider " << provider << "\nstderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    int id = ++runs;
    auto shown = parse_json(must_succeed(repo, {"runs", "show", std::to_string(id), "--json"}).out);
    const auto& rate = shown["pass_rate"];
    ++counts.runs;
    counts.covered += rate["low"].get<double>() <= truth && truth <= rate["high"].get<double>();
    return id;
  }

  // The gate on the candidate against the baseline: did a rule that judges noise fail it?
  bool gate_fails_on_drop(int candidate, int baseline) const {
    auto r = repo.evalkeep({"gate", "--base", "main", "--json", "--run", std::to_string(candidate),
                            "--baseline-run", std::to_string(baseline)});
    INFO("gate stderr: " << r.err);
    REQUIRE(r.exit_code <= 1);
    auto report = parse_json(r.out);
    for (const auto& v : report["violations"])
      if (v["rule"] == "suite-regressed" || v["rule"] == "regressed")
        return true;
    return false;
  }
};

} // namespace

TEST_CASE("seeded models: intervals cover the true rate, the gate holds alpha with no change and "
          "catches a 10-point drop",
          "[reliability][statistics]") {
  const int comparisons = rounds(30, 400);
  World w;
  const double truth = mean(w.p, 0), truth_dropped = mean(w.p, 0.10);
  Counts coverage, unchanged, dropped;
  for (int i = 0; i < comparisons; ++i) {
    int baseline = w.run("base", truth, coverage);
    int candidate = w.run("same", truth, coverage);
    unchanged.failed += w.gate_fails_on_drop(candidate, baseline);
    ++unchanged.comparisons;
    baseline = w.run("base", truth, coverage);
    candidate = w.run("dropped", truth_dropped, coverage);
    dropped.failed += w.gate_fails_on_drop(candidate, baseline);
    ++dropped.comparisons;
  }
  double covered = static_cast<double>(coverage.covered) / coverage.runs;
  double false_fails = static_cast<double>(unchanged.failed) / unchanged.comparisons;
  double power = static_cast<double>(dropped.failed) / dropped.comparisons;
  FIGURE("statistics: " << k_cases << " cases, true pass rate " << 100 * truth << "% ("
                        << 100 * truth_dropped << "% after the drop)");
  FIGURE("statistics: the 95% interval covered the true rate in " << coverage.covered << " of "
                                                                  << coverage.runs << " runs");
  FIGURE("statistics: no change: the gate failed " << unchanged.failed << " of "
                                                   << unchanged.comparisons << " comparisons");
  FIGURE("statistics: a 10-point drop: the gate failed " << dropped.failed << " of "
                                                         << dropped.comparisons << " comparisons");
  CHECK(covered >= 0.93);
  // alpha is 5%. At a true 5%, 5 or more of 30 happen 1.6% of the time, 30 or more of 400 1.9%:
  // more than that says the test fails more often than alpha.
  CHECK(false_fails <= (comparisons < 100 ? 4.0 / 30 : 29.0 / 400));
  CHECK(power >= 0.80);
}
