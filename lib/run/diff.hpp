#pragma once

#include "run/runner.hpp"

#include <map>
#include <string>
#include <vector>

namespace evalkeep::run {

/// A case whose verdict differs (or stays failing) between two runs.
struct CaseChange {
  std::string case_id;
  std::optional<std::string> incident;
  std::string was, now; // verdicts in A and B ("absent" when the case was not in that run)
  std::string reason;   // B's first failure, for regressions and still-failing cases
};

struct Rate {
  std::size_t passed = 0, total = 0;
  double value() const {
    return total ? static_cast<double>(passed) / static_cast<double>(total) : 0;
  }
};

/// What changed from run A to run B.
struct RunDiff {
  std::int64_t a = 0, b = 0;
  std::vector<CaseChange> regressions, fixes, still_failing, added, dropped;
  std::map<std::string, std::pair<Rate, Rate>> by_incident, by_tag;
  std::map<std::string, std::pair<std::string, std::string>> settings; // what differs: A, B
};

/// Compares two summarized runs case by case; retired cases are left out of the rates.
RunDiff diff_runs(const RunSummary& a, const RunSummary& b);

} // namespace evalkeep::run
