#pragma once

#include "core/error.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace evalkeep::suite {

/// Every case with only what tells what became of it: id, status, provenance, content hash and
/// whether it was purged (no title, input or assertions). The gate's view of a suite: reading
/// 100,000 cases whole took longer than the rest of the gate.
Result<std::vector<Case>> case_outlines(Suite& s);

/// The seq and hash of the suite's last ledger event; nothing when the ledger is empty.
struct LedgerTip {
  std::int64_t seq = 0;
  core::Digest hash{};
};
Result<std::optional<LedgerTip>> ledger_tip(Suite& s);

/// The hash of the suite's ledger event `seq`, if there is one.
Result<std::optional<core::Digest>> event_hash(Suite& s, std::int64_t seq);

} // namespace evalkeep::suite
