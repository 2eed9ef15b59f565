#include "gate/run_rules.hpp"

#include "suite/records.hpp"

#include <fmt/format.h>

namespace evalkeep::gate {

namespace {

// xpass and xfail are pass and fail for a case that was xfail when the run started.
bool passed(std::string_view verdict) {
  return verdict == "pass" || verdict == "xpass";
}
bool failed(std::string_view verdict) {
  return verdict == "fail" || verdict == "error" || verdict == "xfail";
}

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
  return fmt::format("{} in run {}{}{}", r.verdict == "error" ? "errored" : "failed", run,
                     r.first_failure.empty() ? "" : ": ", r.first_failure);
}

// Rule 4 for one live case: what the runs say of it, and the violation it makes, if any.
std::optional<Violation> check_case(const suite::Case& c, const RunCase* now, const RunCase* before,
                                    const RunInput& in, RunCheck& check) {
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
    return Violation{"case-not-run", c.id, incident, check.problem};
  }
  check.verdict = now->verdict;
  if (now->verdict == "missing") {
    if (active)
      check.problem = fmt::format("no result in run {}", run);
    return std::nullopt; // reported once for the run, as run-incomplete
  }
  if (!failed(now->verdict))
    return std::nullopt;
  if (before && passed(before->verdict)) {
    check.problem =
        fmt::format("{}{} passed in run {} and {}", named(c), active ? "" : ", xfail at HEAD,",
                    in.baseline->run.id, outcome(*now, run));
    return Violation{"regressed", c.id, incident, check.problem};
  }
  if (!active)
    return std::nullopt;
  check.problem = fmt::format("{} {}", named(c), outcome(*now, run));
  return Violation{"case-failed", c.id, incident, check.problem};
}

Violation incomplete(const RunInfo& run, const std::vector<std::string>& missing) {
  std::string ids;
  for (std::size_t i = 0; i < missing.size() && i < 5; ++i)
    ids += (i ? ", " : "") + missing[i];
  if (missing.size() > 5)
    ids += fmt::format(" and {} more", missing.size() - 5);
  return {"run-incomplete",
          {},
          {},
          fmt::format("run {} ({}) has no result for {} active case{}: {}; finish it with "
                      "'evalkeep run --resume {}'",
                      run.id, run.state, missing.size(), missing.size() == 1 ? "" : "s", ids,
                      run.id)};
}

} // namespace

void check_run(const std::map<std::string, suite::Case>& head, const RunInput& in,
               GateReport& report) {
  RunSection section;
  section.run = in.run.run;
  if (in.baseline)
    section.baseline = in.baseline->run;
  auto now = by_case(in.run.cases);
  auto before = in.baseline ? by_case(in.baseline->cases) : decltype(now){};
  std::vector<std::string> missing;
  for (const auto& [id, c] : head) {
    if (!suite::is_live(c.status))
      continue;
    RunCheck check{id, "not-run", std::nullopt, {}};
    const RunCase* b = find(before, id);
    if (b)
      check.baseline_verdict = b->verdict;
    if (auto v = check_case(c, find(now, id), b, in, check))
      report.violations.push_back(std::move(*v));
    if (check.verdict == "missing" && !check.problem.empty())
      missing.push_back(id);
    if (passed(check.verdict))
      ++section.passed;
    else if (failed(check.verdict))
      ++section.failed;
    else
      ++section.not_run;
    section.cases.push_back(std::move(check));
  }
  if (!missing.empty())
    report.violations.push_back(incomplete(in.run.run, missing));
  report.run = std::move(section);
}

} // namespace evalkeep::gate
