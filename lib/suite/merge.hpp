#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// A record both sides changed, differently.
struct MergeConflict {
  std::string kind; // case or incident
  std::string id;
  std::string ours, theirs; // the record as `dump` shows it on each side
};

struct MergeOutcome {
  std::vector<MergeConflict> conflicts; // when there are any, nothing was written
  std::size_t cases_taken = 0;          // cases (with their decisions) brought in from theirs
  std::size_t incidents_taken = 0;      // incidents brought in from theirs
  std::size_t events_carried = 0;       // their new ledger events, chained after ours
};

/// The three-way merge of suites that git's merge driver runs (`%O %A %B`): `base` is the common
/// ancestor (an empty file when there is none), `ours` the file to merge into, `theirs` the other
/// side. Cases (with their retirement decisions) and incidents merge by id: a change on one side
/// applies, the same change on both sides is fine, different changes are a conflict. A record
/// counts as changed on a side when its content differs from the base's or that side's new
/// ledger events touch it. The ledger becomes the common prefix, our new events, then their new
/// events chained anew. The result must pass `verify` before it replaces `ours`, in one rename;
/// on a conflict or any error `ours` is left exactly as it was.
Result<MergeOutcome> merge_suites(const std::filesystem::path& base,
                                  const std::filesystem::path& ours,
                                  const std::filesystem::path& theirs);

} // namespace evalkeep::suite
