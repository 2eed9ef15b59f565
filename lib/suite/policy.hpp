#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::suite {

/// Rules a team sets in evalkeep.toml under [policy]. The gate reads them from the pull request's
/// base: a pull request cannot loosen the rules it is judged by.
struct Policy {
  bool require_incident = false; // every new case must link an incident
  bool require_approver = false; // every decision needs an approver other than the decider
  // Retiring the last live case that guards an incident needs an approver other than the decider.
  bool require_approver_for_last_guard = false;
  // When set, an approver must be one of these ("Name <email>" or an email address).
  std::optional<std::vector<std::string>> approvers;
  // A change to [providers.*] or judge is reported; unless this is true it also fails the gate.
  bool allow_provider_changes = false;
  // `gate --run-now --replay-from FILE` may replay answers from a cache file the workflow names;
  // otherwise a gate run calls the model for every trial.
  bool allow_gate_replay = false;
  // With a baseline run, the gate fails when the suite's pass rate fell by more than max_drop
  // (a share: 0.02 is two points) at significance alpha; a case fails as regressed only when
  // its own drop is significant at alpha.
  double max_drop = 0;
  double alpha = 0.05;
  // Runs at temperature 0 with one trial per case keep the strict rule: any case that passed in
  // the baseline and fails now is regressed. False: they are judged by the statistics too.
  bool strict_deterministic = true;
  bool operator==(const Policy&) const = default;
};

/// True when `name` is on the list: the same text, or the same email address, so that
/// "Alice <alice@example.com>" and "alice@example.com" match each other (case-insensitively).
bool on_list(const std::vector<std::string>& approvers, std::string_view name);

/// What is wrong with a decision's approver under the policy, if anything; `last_guard` when the
/// decision retires the last live case guarding an incident.
std::optional<std::string> approval_problem(const Policy& p, std::string_view decided_by,
                                            const std::optional<std::string>& approved_by,
                                            bool last_guard = false);

/// One rule whose value a change moved, shown as before -> after.
struct PolicyChange {
  std::string rule; // require_approver, approvers, ...
  std::string before, after;
  bool loosened = false; // true when the change lets through something the old rule refused
};

/// Every rule that differs between two policies, loosened or tightened.
std::vector<PolicyChange> policy_changes(const Policy& before, const Policy& after);

/// For each rule the stricter of the two: the base's policy with a pull request's tightenings.
Policy strictest(const Policy& a, const Policy& b);

} // namespace evalkeep::suite
