#pragma once

#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::suite {

/// The longest JSONL line import reads: 32 MB, room for a case at the input limit
/// (k_max_input_bytes) even with its text escaped.
inline constexpr std::size_t k_max_line_bytes = std::size_t{32} << 20;

struct ImportSummary {
  std::size_t incidents = 0;
  std::size_t cases = 0;
  std::size_t retirements = 0;
  std::size_t without_incident = 0; // cases whose provenance is not an incident
};

/// A record to import and where it was read ("FILE:LINE"), the prefix of its errors.
template <typename T> struct Sourced {
  T value;
  std::string where;
};

/// Records read from any file format, each already checked on its own (parse_case and friends,
/// or validate_case and content_hash for cases built in code).
struct ImportBatch {
  std::vector<Sourced<Incident>> incidents;
  std::vector<Sourced<Case>> cases;
  std::vector<Sourced<RetirementDecision>> retirements;
};

/// Imports a batch in one transaction after the rules that need the whole batch and the suite
/// (new and unique ids, references that resolve, policy, a decision for every retired case); any
/// error, prefixed with the record's `where`, leaves the suite untouched. Ledger events say
/// "imported from SOURCE". With `dry_run` nothing is written.
Result<ImportSummary> import_batch(Suite& s, const ImportBatch& batch, const std::string& source,
                                   const Policy& policy, const Origin& origin, bool dry_run);

/// Imports JSONL records (incidents, cases, retirements) in one transaction: every record is
/// checked first and any error, reported as "SOURCE:LINE: field ...: problem", leaves the suite
/// untouched. Ids must be new to the suite. With `dry_run` nothing is written.
Result<ImportSummary> import_jsonl(Suite& s, std::string_view text, const std::string& source,
                                   const Policy& policy, const Origin& origin, bool dry_run);

/// Writes every incident, case (tombstones included) and current decision as JSONL, sorted by
/// id, so that export -> import into a new suite -> export gives the same bytes.
Status export_jsonl(Suite& s, std::ostream& out);

} // namespace evalkeep::suite
