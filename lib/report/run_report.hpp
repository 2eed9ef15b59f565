#pragma once

#include "run/diff.hpp"
#include "run/runner.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evalkeep::report {

/// The machine-readable summary of a run: counts, settings, and every non-passing case.
nlohmann::ordered_json summary_json(const run::RunSummary& s);

/// The summary for people: counts, then a table of failures with the answer trimmed.
std::string summary_text(const run::RunSummary& s);

/// "85 requests made (HTTP attempts, retries included): 60 for answers, 25 judge calls".
std::string requests_line(const run::RunSummary& s);
/// "replayed 56 answers: 50 made here by runs 3-4, 6 imported from ci-cache.jsonl", or
/// "nothing replayed from a cache".
std::string replayed_line(const run::RunSummary& s);

/// A run's verdicts grouped per case, per incident and per tag.
nlohmann::ordered_json run_detail_json(const run::RunSummary& s);
std::string run_detail_text(const run::RunSummary& s);

nlohmann::ordered_json diff_json(const run::RunDiff& d);
std::string diff_text(const run::RunDiff& d);
/// The paired difference for people: "-4.8 points (95% CI -8.9 to -0.7) over 42 paired cases;
/// 3 pass → fail, 1 fail → pass; p = 0.625 (mcnemar-exact)".
std::string difference_text(const scoring::PairedDifference& f);
/// Whether chance explains a case's drop: "within noise (p = 0.50)", "regressed (p = 0.004)",
/// or "" when its trials did not drop.
std::string noise_text(const run::CaseChange& c);

nlohmann::ordered_json runs_json(const std::vector<run::RunRecord>& runs);
std::string runs_text(const std::vector<run::RunRecord>& runs);

} // namespace evalkeep::report
