#pragma once

#include "gate/gate.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace evalkeep::report {

/// {"passed", "base", "violations": [{"rule","case","incident","message"}], "added", "edited",
///  "retired", "active_before", "active_after", "unguarded_incidents", "run"}; "run" is null
///  unless a run was checked: {"id","provider","model","state","baseline","checked","passed",
///  "failed","not_run"}
nlohmann::ordered_json gate_json(const gate::GateReport& r);

/// The reviewer's view for a terminal: violations first, then what the change does.
std::string gate_text(const gate::GateReport& r);

/// The same for a pull request page or $GITHUB_STEP_SUMMARY.
std::string gate_markdown(const gate::GateReport& r);

/// JUnit XML: one testcase per rule checked, one per case the change touches, and one per case
/// checked in the run.
std::string gate_junit(const gate::GateReport& r);

/// Text as the data of a GitHub Actions workflow command: control characters shown
/// (core::for_terminal), then % and line breaks escaped, or GitHub cuts it at the first line.
std::string annotation_text(std::string_view text);

/// GitHub Actions workflow commands (::error ...) for each violation.
std::string gate_annotations(const gate::GateReport& r, const std::string& suite_path);

} // namespace evalkeep::report
