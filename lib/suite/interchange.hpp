#pragma once

#include "suite/ledger.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace evalkeep::suite {

/// The longest JSONL line import reads: 32 MB, room for a case at the input limit
/// (k_max_input_bytes) even with its text escaped.
inline constexpr std::size_t k_max_line_bytes = std::size_t{32} << 20;

struct ImportSummary {
  std::size_t incidents = 0;
  std::size_t cases = 0;
  std::size_t retirements = 0;
};

/// Imports JSONL records (incidents, cases, retirements) in one transaction: every record is
/// checked first and any error, reported as "SOURCE:LINE: field ...: problem", leaves the suite
/// untouched. Ids must be new to the suite. With `dry_run` nothing is written.
Result<ImportSummary> import_jsonl(Suite& s, std::string_view text, const std::string& source,
                                   const Policy& policy, const Origin& origin, bool dry_run);

/// Writes every incident, case (tombstones included) and current decision as JSONL, sorted by
/// id, so that export -> import into a new suite -> export gives the same bytes.
Status export_jsonl(Suite& s, std::ostream& out);

} // namespace evalkeep::suite
