#pragma once

#include "suite/suite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::suite {

struct VerifyProblem {
  std::optional<std::int64_t> seq; // the ledger event at fault, when there is one
  std::string message;
};

struct VerifyReport {
  std::int64_t events = 0;
  std::int64_t cases = 0;
  std::int64_t incidents = 0;
  int schema_version = 0;
  std::vector<VerifyProblem> problems; // first problem first; empty when the suite is intact
  bool ok() const { return problems.empty(); }
};

/// Checks a suite end to end: SQLite integrity, the schema (tables and protecting triggers exactly
/// as this evalkeep made them), the ledger's hash chain, and that every case, incident and
/// decision in the tables is the one the ledger's latest event for it describes.
Result<VerifyReport> verify(Suite& s);

} // namespace evalkeep::suite
