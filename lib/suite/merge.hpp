#pragma once

#include "core/error.hpp"
#include "suite/ledger.hpp"
#include "suite/weakening.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// A record both sides changed, differently.
struct MergeConflict {
  std::string kind; // case or incident
  std::string id;
  std::string ours, theirs; // the record as `dump` shows it on each side
};

/// Which side's version of a conflicting record a merge keeps.
enum class Keep { ours, theirs };

std::string_view to_string(Keep k);

/// How to settle the records both sides changed differently: the side to keep for each record id
/// (a case's or an incident's; an id naming both settles both), and who settles them.
struct Resolutions {
  std::map<std::string, Keep> keep;
  Origin by;
};

/// A conflict settled by a resolution.
struct Resolved {
  std::string kind; // case or incident
  std::string id;
  Keep kept = Keep::ours;
  /// The changes that weaken the other side's version, when the kept version of a case was
  /// recorded as an edit from it: the gate asks for a decision for them, which this edit lacks.
  std::vector<CaseChange> weakens;
};

struct MergeOutcome {
  std::vector<MergeConflict> conflicts;     // unsettled; when there are any, nothing was written
  std::vector<std::string> not_in_conflict; // resolved ids no conflict has; any: nothing written
  std::vector<Resolved> resolved;           // conflicts settled as the resolutions said
  std::size_t cases_taken = 0;              // cases (with their decisions) brought in from theirs
  std::size_t incidents_taken = 0;          // incidents brought in from theirs
  std::size_t events_carried = 0;           // their new ledger events, chained after ours
  std::size_t events_recorded = 0;          // events that record a kept version (see Resolutions)
};

/// The three-way merge of suites that git's merge driver runs (`%O %A %B`): `base` is the common
/// ancestor (an empty file when there is none), `ours` the file to merge into, `theirs` the other
/// side. Cases (with their retirement decisions) and incidents merge by id: a change on one side
/// applies, the same change on both sides is fine, different changes are a conflict. A record
/// counts as changed on a side when its content differs from the base's or that side's new
/// ledger events touch it. The ledger becomes the common prefix, our new events, then their new
/// events chained anew. The result must pass `verify` before it replaces `ours`, in one rename,
/// synced to disk before and after it; on a conflict or any error `ours` is left exactly as it was.
///
/// With `resolutions`, each conflict on a record they name keeps that side's version (a side that
/// lacks the record cannot be kept: that would delete it, refused with exit 1), and where the
/// ledger's latest events about the record describe another version, one more event by
/// `resolutions->by` records the kept one (an edit, a retirement, a reinstatement or an incident
/// edit, as its status and decision require), so the merged suite verifies and its history says
/// what the merge chose. Ids that name no conflict are reported, and nothing is written.
Result<MergeOutcome> merge_suites(const std::filesystem::path& base,
                                  const std::filesystem::path& ours,
                                  const std::filesystem::path& theirs,
                                  const Resolutions* resolutions = nullptr);

/// Settles git's conflicted merge of the suite at `suite_path` (in the work tree of the repository
/// at `repo`): merges the three versions git keeps in the index (the common ancestor, ours and
/// theirs) with `resolutions` and writes the result to `suite_path`, for the caller to `git add`.
/// Refused (exit 2) when git has no conflicted merge of the file, or a side deleted it; refused
/// (exit 1) when the file is no longer ours as the merge left it, since that would lose what was
/// changed since. Conflicts the resolutions leave are in the outcome, with nothing written.
Result<MergeOutcome> resolve_conflicted_merge(const std::filesystem::path& repo,
                                              const std::filesystem::path& suite_path,
                                              const Resolutions& resolutions);

} // namespace evalkeep::suite
