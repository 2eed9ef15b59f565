#include "gate/run_rules.hpp"

#include "suite/records.hpp"

#include <fmt/format.h>

namespace evalkeep::gate {

namespace {

// xpass and xfail are pass and fail for a case that was xfail when the run started.
using scoring::broke;
using scoring::held;
using scoring::Verdict;

std::map<std::string, const RunCase*> by_case(const std::vector<RunCase>& cases) {
  std::map<std::string, const RunCase*> out;
  for (const auto& c : cases)
    out.emplace(c.case_id, &c);
  return out;
}

const RunCase* find(const std::map<std::string, const RunCase*>& cases, const std::string& id) {
  auto it = cases.find(id);
  return it == cases.end() ? nullptr : it->second;
}

// True when the run ran the case as it is at HEAD. Its status may have changed since (marked
// xfail after the run failed it), so the hash is recomputed with the status the run saw.
bool same_version(const suite::Case& c, const RunCase& r) {
  auto status = suite::parse_status(r.status);
  if (!status || *status == c.status)
    return c.content_hash == r.case_hash;
  suite::Case as_run = c;
  as_run.status = *status;
  return suite::content_hash(as_run) == r.case_hash;
}

std::string named(const suite::Case& c) {
  if (c.provenance.kind == suite::ProvenanceKind::incident)
    return fmt::format("case {} (guarding {})", c.id, c.provenance.incident);
  return "case " + c.id;
}

std::string outcome(const RunCase& r, std::int64_t run) {
  return fmt::format("{} in run {}{}{}", r.verdict == Verdict::error ? "errored" : "failed", run,
                     r.first_failure.empty() ? "" : ": ", r.first_failure);
}

// A case's result for the statistics: its share of trials passed (by the verdict when the
// trials are not known).
scoring::CaseScore score_of(const RunCase& r) {
  if (r.trials <= 0)
    return {held(r.verdict) ? 1.0 : 0.0, 1, {}};
  return {static_cast<double>(r.passes) / r.trials, r.trials, {}};
}

// How rule 4 judges a drop from the baseline: strictly (any flip), or by the statistics.
struct Judging {
  bool strict = true;
  double alpha = 0.05;
};

// Rule 4 for one live case: what the runs say of it, and the violation it makes, if any.
std::optional<Violation> check_case(const suite::Case& c, const RunCase* now, const RunCase* before,
                                    const RunInput& in, const Judging& judging, RunCheck& check) {
  bool active = c.status == suite::CaseStatus::active;
  std::int64_t run = in.run.run.id;
  std::optional<std::string> incident;
  if (c.provenance.kind == suite::ProvenanceKind::incident)
    incident = c.provenance.incident;
  if (!now || !same_version(c, *now)) {
    if (!active)
      return std::nullopt;
    check.problem =
        now ? fmt::format("run {} ran an older version of {}: it changed since", run, named(c))
            : fmt::format("{} is active at HEAD but run {} did not run it", named(c), run);
    return Violation{Rule::case_not_run, c.id, incident, check.problem};
  }
  check.verdict = now->verdict;
  if (now->verdict == Verdict::missing) {
    if (active)
      check.problem = fmt::format("no result in run {}", run);
    return std::nullopt; // reported once for the run, as run-incomplete
  }
  if (!broke(now->verdict))
    return std::nullopt;
  if (before && held(before->verdict)) {
    check.problem =
        fmt::format("{}{} passed in run {} and {}", named(c), active ? "" : ", xfail at HEAD,",
                    in.baseline->run.id, outcome(*now, run));
    if (judging.strict)
      return Violation{Rule::regressed, c.id, incident, check.problem};
    auto a = score_of(*before), b = score_of(*now);
    double p = scoring::drop_p_value(static_cast<int>(a.score * a.trials + 0.5), a.trials,
                                     static_cast<int>(b.score * b.trials + 0.5), b.trials);
    check.drop_p = p;
    if (p >= judging.alpha) {
      check.problem +=
          fmt::format(" — within noise (p = {:.2f}): the suite's paired test decides", p);
      return std::nullopt;
    }
    check.problem += fmt::format(" (p = {:.3g} < {})", p, judging.alpha);
    return Violation{Rule::regressed, c.id, incident, check.problem};
  }
  if (!active)
    return std::nullopt;
  check.problem = fmt::format("{} {}", named(c), outcome(*now, run));
  return Violation{Rule::case_failed, c.id, incident, check.problem};
}

// A run with active cases that have no result, or a merge of shard runs without all its shards.
Violation incomplete(const RunInfo& run, const std::vector<std::string>& missing) {
  std::string ids;
  for (std::size_t i = 0; i < missing.size() && i < 5; ++i)
    ids += (i ? ", " : "") + missing[i];
  if (missing.size() > 5)
    ids += fmt::format(" and {} more", missing.size() - 5);
  auto no_result = fmt::format("no result for {} active case{}: {}", missing.size(),
                               missing.size() == 1 ? "" : "s", ids);
  if (run.missing_shards.empty())
    return {Rule::run_incomplete,
            {},
            {},
            fmt::format("run {} ({}) has {}; finish it with 'evalkeep run --resume {}'", run.id,
                        run.state, no_result, run.id)};
  auto shards = run.missing_shards.size() == 1 ? "shard" : "shards";
  return {Rule::run_incomplete,
          {},
          {},
          fmt::format("run {} ({}) is a merge that lacks {} {}{}; run the missing {} (run --shard "
                      "I/N) and merge every shard again",
                      run.id, run.state, shards, fmt::join(run.missing_shards, ", "),
                      missing.empty() ? "" : " and has " + no_result, shards)};
}

} // namespace

namespace {

// The suite's paired pass rate against the baseline's, over the live cases both runs ran with a
// result in the same version.
SuiteDrop suite_drop(const std::map<std::string, suite::Case>& head, const RunInput& in,
                     const Judging& judging, double max_drop) {
  auto now = by_case(in.run.cases), before = by_case(in.baseline->cases);
  std::vector<std::pair<scoring::CaseScore, scoring::CaseScore>> pairs;
  for (const auto& [id, c] : head) {
    const RunCase *b = find(before, id), *n = find(now, id);
    if (suite::is_live(c.status) && b && n && b->case_hash == n->case_hash &&
        b->verdict != Verdict::missing && n->verdict != Verdict::missing)
      pairs.emplace_back(score_of(*b), score_of(*n));
  }
  SuiteDrop d;
  d.difference = scoring::paired_difference(pairs);
  d.max_drop = max_drop;
  d.alpha = judging.alpha;
  d.strict = judging.strict;
  d.p_value = scoring::drop_beyond_p(d.difference, max_drop);
  return d;
}

Violation suite_regressed(const SuiteDrop& d, const RunInput& in) {
  const auto& f = d.difference;
  return {Rule::suite_regressed,
          {},
          {},
          fmt::format(
              "the pass rate fell {:.1f} points from run {} to run {} over {} paired case{} "
              "(95% CI {:+.1f} to {:+.1f}): p = {:.3g} < {} ({}) that it fell by no more "
              "than the {:.1f} points allowed",
              -100 * f.value, in.baseline->run.id, in.run.run.id, f.pairs, f.pairs == 1 ? "" : "s",
              100 * f.low, 100 * f.high, d.p_value, d.alpha, f.test, 100 * d.max_drop)};
}

} // namespace

void check_run(const std::map<std::string, suite::Case>& head, const RunInput& in,
               const suite::Policy& policy, GateReport& report) {
  RunSection section;
  section.run = in.run.run;
  Judging judging{true, policy.alpha};
  if (in.baseline) {
    section.baseline = in.baseline->run;
    judging.strict =
        policy.strict_deterministic && in.run.run.deterministic && in.baseline->run.deterministic;
  }
  auto now = by_case(in.run.cases);
  auto before = in.baseline ? by_case(in.baseline->cases) : decltype(now){};
  std::vector<std::string> missing;
  for (const auto& [id, c] : head) {
    if (!suite::is_live(c.status))
      continue;
    RunCheck check{id, Verdict::not_run, std::nullopt, {}};
    const RunCase* b = find(before, id);
    if (b)
      check.baseline_verdict = b->verdict;
    if (auto v = check_case(c, find(now, id), b, in, judging, check)) {
      check.violation = true;
      report.violations.push_back(std::move(*v));
    }
    if (check.verdict == Verdict::missing && !check.problem.empty())
      missing.push_back(id);
    if (held(check.verdict))
      ++section.passed;
    else if (broke(check.verdict))
      ++section.failed;
    else
      ++section.not_run;
    section.cases.push_back(std::move(check));
  }
  if (!missing.empty() || !in.run.run.missing_shards.empty())
    report.violations.push_back(incomplete(in.run.run, missing));
  if (in.baseline) {
    section.drop = suite_drop(head, in, judging,
                              std::min(policy.max_drop, in.max_drop.value_or(policy.max_drop)));
    if (section.drop->failed())
      report.violations.push_back(suite_regressed(*section.drop, in));
  }
  report.run = std::move(section);
}

} // namespace evalkeep::gate
