#pragma once

#include "suite/ledger.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::gate {

/// How HEAD's ledger carries the base's history.
struct LedgerMatch {
  std::optional<std::string> problem;  // names the first base event missing or changed at HEAD
  std::vector<std::size_t> new_events; // indexes of HEAD's events that are not the base's
};

/// Checks that every event of the base's ledger is in HEAD's, in the same order and with the same
/// content; seq and hash may differ, since merging the base into a branch re-chains the base's
/// newer events after the branch's own. O(n), and O(1) comparisons when HEAD extends the base.
LedgerMatch match_ledgers(const std::vector<suite::LedgerEvent>& base,
                          const std::vector<suite::LedgerEvent>& head);

} // namespace evalkeep::gate
