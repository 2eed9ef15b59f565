#include "suite/policy.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace evalkeep::suite {

namespace {

// The address inside "Name <address>", or the whole text; lowercased.
std::string address_of(std::string_view name) {
  auto open = name.rfind('<');
  auto close = name.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    name = name.substr(open + 1, close - open - 1);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front())))
    name.remove_prefix(1);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
    name.remove_suffix(1);
  return core::ascii_lower(name);
}

std::string yes_no(bool b) {
  return b ? "true" : "false";
}

std::string list_text(const std::optional<std::vector<std::string>>& list) {
  return list ? fmt::format("[{}]", fmt::join(*list, ", ")) : "(anyone)";
}

} // namespace

bool on_list(const std::vector<std::string>& approvers, std::string_view name) {
  auto address = address_of(name);
  return !address.empty() && std::any_of(approvers.begin(), approvers.end(), [&](const auto& a) {
    return a == name || address_of(a) == address;
  });
}

std::optional<std::string> approval_problem(const Policy& p, std::string_view decided_by,
                                            const std::optional<std::string>& approved_by,
                                            bool last_guard) {
  bool needed = p.require_approver || (last_guard && p.require_approver_for_last_guard);
  bool given = approved_by && !core::blank(*approved_by);
  if (needed && !given)
    return last_guard && !p.require_approver
               ? std::string("the policy requires an approver to retire the last live case "
                             "guarding an incident")
               : std::string("the policy requires an approver for every decision");
  if (needed && address_of(*approved_by) == address_of(decided_by))
    return fmt::format("the policy requires the approver to differ from the decider ({})",
                       decided_by);
  if (given && p.approvers && !on_list(*p.approvers, *approved_by))
    return fmt::format("{} is not on the policy's list of approvers ({})", *approved_by,
                       fmt::join(*p.approvers, ", "));
  return std::nullopt;
}

std::vector<PolicyChange> policy_changes(const Policy& before, const Policy& after) {
  std::vector<PolicyChange> out;
  // A rule that refuses when true: switching it off loosens the policy.
  auto flag = [&](const char* rule, bool Policy::*field) {
    if (before.*field != after.*field)
      out.push_back({rule, yes_no(before.*field), yes_no(after.*field), !(after.*field)});
  };
  flag("require_incident", &Policy::require_incident);
  flag("require_approver", &Policy::require_approver);
  flag("require_approver_for_last_guard", &Policy::require_approver_for_last_guard);
  if (before.approvers != after.approvers) {
    // Dropping the list, or adding a name to it, lets someone approve who could not before.
    bool loosened = !after.approvers;
    if (before.approvers && after.approvers)
      for (const auto& name : *after.approvers)
        loosened = loosened || !on_list(*before.approvers, name);
    out.push_back({"approvers", list_text(before.approvers), list_text(after.approvers),
                   before.approvers && loosened});
  }
  flag("strict_deterministic", &Policy::strict_deterministic);
  // A larger drop allowed, or a smaller alpha (stronger evidence needed to fail), loosens it.
  if (before.max_drop != after.max_drop)
    out.push_back({"max_drop", fmt::format("{}", before.max_drop),
                   fmt::format("{}", after.max_drop), after.max_drop > before.max_drop});
  if (before.alpha != after.alpha)
    out.push_back({"alpha", fmt::format("{}", before.alpha), fmt::format("{}", after.alpha),
                   after.alpha < before.alpha});
  // A rule that allows when true: switching it on loosens the policy.
  for (auto [rule, field] : {std::pair{"allow_provider_changes", &Policy::allow_provider_changes},
                             std::pair{"allow_gate_replay", &Policy::allow_gate_replay}})
    if (before.*field != after.*field)
      out.push_back({rule, yes_no(before.*field), yes_no(after.*field), after.*field});
  return out;
}

Policy strictest(const Policy& a, const Policy& b) {
  Policy p;
  p.require_incident = a.require_incident || b.require_incident;
  p.require_approver = a.require_approver || b.require_approver;
  p.require_approver_for_last_guard =
      a.require_approver_for_last_guard || b.require_approver_for_last_guard;
  p.allow_provider_changes = a.allow_provider_changes && b.allow_provider_changes;
  p.allow_gate_replay = a.allow_gate_replay && b.allow_gate_replay;
  p.max_drop = std::min(a.max_drop, b.max_drop);
  p.alpha = std::max(a.alpha, b.alpha);
  p.strict_deterministic = a.strict_deterministic || b.strict_deterministic;
  if (a.approvers && b.approvers) {
    std::vector<std::string> both;
    for (const auto& name : *a.approvers)
      if (on_list(*b.approvers, name))
        both.push_back(name);
    p.approvers = std::move(both);
  } else {
    p.approvers = a.approvers ? a.approvers : b.approvers;
  }
  return p;
}

} // namespace evalkeep::suite
