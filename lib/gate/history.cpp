#include "gate/history.hpp"

#include <fmt/format.h>

namespace evalkeep::gate {

namespace {

// The first field other than seq and hash in which two events differ, if any.
std::optional<std::string_view> differing_field(const suite::LedgerEvent& a,
                                                const suite::LedgerEvent& b) {
  if (a.at != b.at)
    return "time";
  if (a.action != b.action)
    return "action";
  if (a.subject != b.subject)
    return "subject";
  if (a.actor != b.actor)
    return "actor";
  if (a.rationale != b.rationale)
    return "rationale";
  if (a.before != b.before)
    return "content before";
  if (a.after != b.after)
    return "content after";
  if (a.git_head != b.git_head)
    return "git commit";
  if (a.detail != b.detail)
    return "detail";
  return std::nullopt;
}

// Why base event `e` has no match at HEAD after index `from`: changed when HEAD has an event
// about the same subject with the same action there, missing otherwise.
std::string lost(const suite::LedgerEvent& e, const std::vector<suite::LedgerEvent>& head,
                 std::size_t from) {
  std::string what = fmt::format("base ledger event {} ({} {})", e.seq, e.action, e.subject);
  for (std::size_t i = from; i < head.size(); ++i)
    if (head[i].action == e.action && head[i].subject == e.subject)
      return fmt::format("{} was changed at HEAD, where event {} differs in its {}: the suite's "
                         "history was rewritten",
                         what, head[i].seq, *differing_field(e, head[i]));
  return fmt::format("{} is missing at HEAD: the suite's history was rewritten or the file was "
                     "replaced",
                     what);
}

} // namespace

LedgerMatch match_ledgers(const std::vector<suite::LedgerEvent>& base,
                          const std::vector<suite::LedgerEvent>& head) {
  LedgerMatch m;
  // HEAD's chain is verified on its own, so its hash at the base's last event vouches for every
  // event before it: HEAD only appended.
  std::size_t n = base.size();
  if (n == 0 || (head.size() >= n && head[n - 1].seq == base.back().seq &&
                 head[n - 1].hash == base.back().hash)) {
    for (std::size_t i = n; i < head.size(); ++i)
      m.new_events.push_back(i);
    return m;
  }
  // Otherwise the base's events must be a subsequence of HEAD's; matching each to the first
  // equal event left is enough (greedy), one pass over each ledger.
  std::size_t j = 0;
  for (const auto& e : base) {
    std::size_t from = j;
    while (j < head.size() && differing_field(e, head[j]))
      m.new_events.push_back(j++);
    if (j == head.size()) {
      m.problem = lost(e, head, from);
      return m;
    }
    ++j;
  }
  for (; j < head.size(); ++j)
    m.new_events.push_back(j);
  return m;
}

} // namespace evalkeep::gate
