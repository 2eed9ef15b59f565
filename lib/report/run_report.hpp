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

/// A run's verdicts grouped per case, per incident and per tag.
nlohmann::ordered_json run_detail_json(const run::RunSummary& s);
std::string run_detail_text(const run::RunSummary& s);

nlohmann::ordered_json diff_json(const run::RunDiff& d);
std::string diff_text(const run::RunDiff& d);

nlohmann::ordered_json runs_json(const std::vector<run::RunRecord>& runs);
std::string runs_text(const std::vector<run::RunRecord>& runs);

} // namespace evalkeep::report
