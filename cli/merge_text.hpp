#pragma once

#include "suite/merge.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace evalkeep::cli {

/// Writes text for people on stderr with its control characters shown (core::for_terminal), as
/// print_text does on stdout: what a merge prints holds what a suite's records say.
void print_diagnostic(std::string_view text);

/// "1 case", "3 incidents".
std::string counted(std::size_t n, std::string_view what);

/// What a merge of the suite at `path` took from theirs: "2 cases and 1 incident from theirs, 3
/// ledger events chained after ours".
std::string merge_summary(const suite::MergeOutcome& outcome);

/// The conflicts a merge left unsettled, each with both versions, and the merge-resolve command
/// that settles them, on stderr.
void print_conflicts(const suite::MergeOutcome& outcome, std::string_view path);

} // namespace evalkeep::cli
