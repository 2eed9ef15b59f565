#pragma once

#include "suite/ledger.hpp"
#include "suite/model.hpp"
#include "suite/suite.hpp"
#include "suite/workspace.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace evalkeep::suite {

/// Adds a new case (status active or xfail). Its provenance must be declared and, for an
/// incident, the incident must exist; policy may require an incident. Returns the case's id
/// (generated when empty).
Result<std::string> add_case(Suite& s, Case c, const Policy& policy, const Origin& origin);

/// Which cases to list. Removed cases (tombstones) are listed only when asked for by status.
struct CaseFilter {
  std::optional<std::string> tag;
  std::optional<std::string> incident;
  std::optional<CaseStatus> status;
  std::optional<ProvenanceKind> kind;
  bool include_removed = false;
};
Result<std::vector<Case>> list_cases(Suite& s, const CaseFilter& filter);
/// Calls `each` on the cases the filter selects, in id order, one at a time: a listing of any
/// size holds one case in memory. Stops at the first error `each` returns.
Status for_each_case(Suite& s, const CaseFilter& filter, const std::function<Status(Case&&)>& each);
/// The length of the longest id among the cases the filter selects; 0 when there are none.
Result<std::size_t> longest_case_id(Suite& s, const CaseFilter& filter);

/// The case, or an error naming the id when there is none.
Result<Case> get_case(Suite& s, std::string_view id);

/// Changes to a case; only what is set changes. Every edit needs a rationale; an edit that weakens
/// the case (see case_changes in suite/weakening.hpp) needs a decision too.
struct CaseChanges {
  std::optional<std::string> title, prompt, system;
  std::optional<std::vector<Message>> messages;
  std::optional<nlohmann::json> tools; // normalized definitions; null removes them
  std::optional<nlohmann::json>
      tool_choice; // as given (normalized against the tools); null removes
  std::optional<std::vector<scoring::Assertion>> expect; // replaces all assertions
  std::vector<scoring::Assertion> add_expect;
  std::vector<scoring::Assertion> remove_expect;
  std::vector<std::string> add_tags, remove_tags;
  std::optional<Provenance> provenance;
  std::optional<CaseStatus> status; // active or xfail
  std::optional<double> min_pass_rate;
  std::optional<int> trials;
  std::string rationale;
  // The decision a weakening needs, refused on an edit that weakens nothing: a reason from
  // weakening_reason_names() (`reworded` only when the input changes), who decided (default: the
  // acting identity) and who approved, checked with approval_problem.
  std::optional<std::string> reason;
  std::optional<std::string> decided_by, approved_by;
};
/// Applies the changes and records an edit event with the rationale, every change old -> new,
/// the decision, and `set`: the new value of each key of the case's canonical record that
/// changed, so that the version before and `set` rebuild the new version and its hash. Refuses a
/// weakening without a decision (exit 1), listing each weakening.
Status edit_case(Suite& s, const std::string& id, const CaseChanges& changes, const Policy& policy,
                 const Origin& origin);

} // namespace evalkeep::suite
