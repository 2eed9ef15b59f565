#include "suite/retirement.hpp"

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "suite/cases.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/ranges.h>

namespace evalkeep::suite {

namespace {

// Appends the ledger event for a status change of `c` (now carrying its new hash).
Status record(store::Database& db, const Origin& origin, const char* action, const Case& c,
              const core::Digest& before, std::optional<std::string> rationale,
              std::optional<std::string> detail) {
  auto ledger = TRY(LedgerWriter::open(db));
  auto e = make_event(origin, action, c.id);
  e.rationale = std::move(rationale);
  e.before = before;
  e.after = c.content_hash;
  e.detail = std::move(detail);
  return ledger.append(e);
}

} // namespace

Result<RetirementDecision> retire(Suite& s, const RetireRequest& request, const Policy& policy,
                                  const Origin& origin) {
  auto batch = TRY(retire_cases(s, {}, request, policy, origin));
  return std::move(batch.decisions.front());
}

Result<std::vector<std::string>> parse_case_ids(std::string_view text, std::string_view source) {
  std::vector<std::string> ids;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty())
      continue;
    if (!core::is_valid_id(line))
      return with_hint(invalid("{}:{}: '{}' is not a case id", source, line_no, line),
                       "write one case id a line; '#' starts a comment");
    ids.emplace_back(line);
  }
  return ids;
}

namespace {

// The request's own rules, checked before the suite is read.
Result<RetirementReason> check_request(const RetireRequest& request, const Origin& origin) {
  auto reason = parse_reason(request.reason);
  if (!reason)
    return with_hint(invalid("unknown reason '{}'", request.reason), "reasons: " + reason_names());
  TRY(text_field("rationale", request.rationale));
  if (core::blank(request.rationale))
    return with_hint(invalid("a retirement needs a rationale"),
                     "say why the guarantee is no longer needed with --rationale \"...\"");
  for (const auto& [flag, value] : {std::pair{"--decided-by", &request.decided_by},
                                    std::pair{"--approved-by", &request.approved_by}})
    if (*value)
      TRY(text_field(flag, **value));
  if (request.revisit) {
    if (!core::is_date(*request.revisit))
      return invalid("--revisit '{}' is not a date (YYYY-MM-DD)", *request.revisit);
    auto today = origin.at.substr(0, 10);
    if (core::is_date(today) && *request.revisit < today)
      return with_hint(
          invalid("--revisit {} is in the past (today is {})", *request.revisit, today),
          "give the date when the decision should be looked at again");
  }
  if (*reason == RetirementReason::superseded && request.superseded_by.empty())
    return with_hint(invalid("reason superseded needs the case(s) that take over the guarantee"),
                     "add --superseded-by CASE");
  return *reason;
}

std::string filter_text(const CaseSelection& select) {
  if (select.tag && select.incident)
    return fmt::format("has tag {} and guards incident {}", *select.tag, *select.incident);
  if (select.tag)
    return fmt::format("has tag {}", *select.tag);
  return fmt::format("guards incident {}", select.incident.value_or(""));
}

// The live cases the selection names, by id; refuses the whole selection when any id is unknown
// or not live, naming every one.
Result<std::map<std::string, Case>> select_cases(Suite& s, const CaseSelection& select) {
  std::map<std::string, Case> chosen;
  std::vector<std::string> unknown, not_live;
  for (const auto& id : select.ids) {
    if (chosen.contains(id))
      continue;
    auto found = TRY(rows::find_case(s.db(), id));
    if (!found)
      unknown.push_back(id);
    else if (!is_live(found->status))
      not_live.push_back(fmt::format("case {} is already {}", id, to_string(found->status)));
    else
      chosen.emplace(id, std::move(*found));
  }
  if (!unknown.empty())
    return with_hint(invalid("no case {}", fmt::join(unknown, ", ")),
                     "nothing was retired; list cases with: evalkeep list");
  if (!not_live.empty())
    return with_hint(refuse("{}", fmt::join(not_live, "; ")), "nothing was retired");
  if (select.tag || select.incident) {
    CaseFilter filter;
    filter.tag = select.tag;
    filter.incident = select.incident;
    std::size_t matched = 0;
    TRY(for_each_case(s, filter, [&](Case&& c) {
      if (is_live(c.status)) {
        ++matched;
        chosen.try_emplace(c.id, std::move(c));
      }
      return Status{};
    }));
    if (matched == 0)
      return with_hint(invalid("no live case {}", filter_text(select)),
                       "list them with: evalkeep list" +
                           (select.tag ? " --tag " + *select.tag : std::string()) +
                           (select.incident ? " --incident " + *select.incident : std::string()));
  }
  return chosen;
}

// The incidents guarded by a chosen case that no active case outside the batch guards.
Result<std::vector<std::string>> left_unguarded(Suite& s,
                                                const std::map<std::string, Case>& chosen) {
  std::set<std::string> incidents;
  for (const auto& [_, c] : chosen)
    if (c.provenance.kind == ProvenanceKind::incident)
      incidents.insert(c.provenance.incident);
  auto guards =
      TRY(s.db().prepare("SELECT id FROM cases WHERE incident = ? AND status = 'active'"));
  std::vector<std::string> out;
  for (const auto& incident : incidents) {
    guards.bind(1, incident);
    bool guarded = false;
    while (!guarded && TRY(guards.step()))
      guarded = !chosen.contains(guards.str(0));
    guards.reset();
    if (!guarded)
      out.push_back(incident);
  }
  return out;
}

// Each case that takes over the retired cases' guarantee is another case, and active.
Status check_successors(Suite& s, const std::map<std::string, Case>& chosen,
                        const std::vector<std::string>& superseded_by) {
  for (const auto& other : superseded_by) {
    if (chosen.contains(other)) {
      if (chosen.size() == 1)
        return invalid("case {} cannot supersede itself", other);
      return with_hint(
          invalid("--superseded-by {}: the case is retired by this same decision", other),
          "a guarantee moves to a case that stays active");
    }
    auto target = TRY(rows::find_case(s.db(), other));
    if (!target)
      return invalid("--superseded-by {}: no such case", other);
    if (target->status != CaseStatus::active)
      return refuse("--superseded-by {}: the case is {}, and only an active case can take over a "
                    "guarantee",
                    other, to_string(target->status));
  }
  return {};
}

// The decision recorded for one case of the request.
RetirementDecision decision_for(const Case& c, RetirementReason reason,
                                const RetireRequest& request, const std::string& decided_by,
                                const Origin& origin) {
  RetirementDecision d;
  d.case_id = c.id;
  d.reason = reason;
  d.rationale = request.rationale;
  d.decided_by = decided_by;
  d.approved_by = request.approved_by;
  d.decided_at = origin.at;
  d.git_head = origin.git_head;
  d.superseded_by = request.superseded_by;
  d.revisit = request.revisit;
  if (c.provenance.kind == ProvenanceKind::incident)
    d.incidents = {c.provenance.incident};
  return d;
}

// Writes the batch's decisions, retires their cases and appends a ledger event for each, inside
// the caller's transaction.
Status record_retirements(Suite& s, const RetirementBatch& batch,
                          const std::map<std::string, Case>& chosen, const Origin& origin) {
  auto insert = TRY(s.db().prepare(
      fmt::format("INSERT INTO retirements ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  rows::k_decision_columns)));
  auto update = TRY(rows::prepare_case_update(s.db()));
  auto ledger = TRY(LedgerWriter::open(s.db()));
  for (const auto& d : batch.decisions) {
    rows::bind_decision(insert, d);
    TRY(insert.run());
    Case c = chosen.at(d.case_id);
    auto before = c.content_hash;
    c.status = CaseStatus::retired;
    c.content_hash = content_hash(c);
    TRY(rows::update_case(update, c));
    auto e = make_event(origin, "retire", c.id);
    e.rationale = d.rationale;
    e.before = before;
    e.after = c.content_hash;
    e.detail = rows::canonical(retirement_record(d));
    TRY(ledger.append(e));
  }
  return {};
}

} // namespace

Result<RetirementBatch> retire_cases(Suite& s, const CaseSelection& select,
                                     const RetireRequest& request, const Policy& policy,
                                     const Origin& origin, bool dry_run) {
  auto reason = TRY(check_request(request, origin));
  CaseSelection selection = select;
  if (!request.case_id.empty())
    selection.ids.insert(selection.ids.begin(), request.case_id);
  if (selection.ids.empty() && !selection.tag && !selection.incident)
    return with_hint(invalid("name the cases to retire"),
                     "give case ids, --tag TAG, --incident INC-… or --from FILE");

  auto tx = TRY(store::Transaction::begin(s.db(), dry_run ? store::Transaction::Kind::deferred
                                                          : store::Transaction::Kind::immediate));
  auto chosen = TRY(select_cases(s, selection));
  TRY(check_successors(s, chosen, request.superseded_by));

  RetirementBatch batch;
  batch.dry_run = dry_run;
  batch.unguarded = TRY(left_unguarded(s, chosen));
  auto decided_by = request.decided_by.value_or(origin.actor);
  if (auto problem =
          approval_problem(policy, decided_by, request.approved_by, !batch.unguarded.empty())) {
    std::string left;
    if (!batch.unguarded.empty())
      left =
          fmt::format(" ({} left with no active guarding case)", fmt::join(batch.unguarded, ", "));
    return with_hint(refuse("{}{}", *problem, left),
                     "add --approved-by \"Name <email>\" (someone other than the decider)");
  }
  for (const auto& [id, c] : chosen)
    batch.decisions.push_back(decision_for(c, reason, request, decided_by, origin));
  if (dry_run)
    return batch; // the read transaction ends, changing nothing
  TRY(record_retirements(s, batch, chosen, origin));
  TRY(tx.commit());
  return batch;
}

Status remove_case(Suite& s, const std::string& id, bool purge, const Origin& origin) {
  auto tx = TRY(store::Transaction::begin(s.db()));
  auto found = TRY(get_case(s, id));
  Case c = found;
  if (c.status == CaseStatus::removed && (c.purged || !purge))
    return refuse("case {} is already removed", id);
  if (is_live(c.status)) {
    std::string guards = "its guarantee";
    if (c.provenance.kind == ProvenanceKind::incident) {
      auto incident = rows::find_incident(s.db(), c.provenance.incident);
      guards = fmt::format("incident {}", c.provenance.incident);
      if (incident && *incident)
        guards += fmt::format(" ({})", (*incident)->title);
    } else {
      guards = fmt::format("a {} guarantee ({})", to_string(c.provenance.kind), c.provenance.note);
    }
    return with_hint(
        refuse("refusing to remove case {}: it guards {} and has no retirement decision", id,
               guards),
        fmt::format("record the decision first: evalkeep retire {} --reason REASON --rationale "
                    "\"why this guarantee is no longer needed\" (reasons: {})",
                    id, reason_names()));
  }
  auto before = c.content_hash;
  c.status = CaseStatus::removed;
  if (purge) {
    c.content_hash = content_hash(c); // the hash of the removed case, kept by the tombstone
    drop_content(c);
  } else {
    c.content_hash = content_hash(c);
  }
  TRY(rows::update_case(s.db(), c));
  nlohmann::json detail{{"purged", purge}};
  TRY(record(s.db(), origin, "delete", c, before, std::nullopt, detail.dump()));
  return tx.commit();
}

Status reinstate(Suite& s, const std::string& id, const std::string& rationale,
                 const Origin& origin) {
  TRY(text_field("rationale", rationale));
  if (core::blank(rationale))
    return with_hint(invalid("reinstating needs a rationale"),
                     "say why the guarantee is needed again with --rationale \"...\"");
  auto tx = TRY(store::Transaction::begin(s.db()));
  auto found = TRY(get_case(s, id));
  Case c = found;
  if (is_live(c.status))
    return refuse("case {} is {}, not retired", id, to_string(c.status));
  if (c.purged)
    return refuse("case {} was purged: its input and assertions are gone; add a new case", id);
  auto decision = TRY(rows::find_decision(s.db(), id));
  auto before = c.content_hash;
  c.status = CaseStatus::active;
  c.content_hash = content_hash(c);
  TRY(rows::update_case(s.db(), c));
  auto del = TRY(s.db().prepare("DELETE FROM retirements WHERE case_id = ?"));
  del.bind(1, id);
  TRY(del.run());
  std::optional<std::string> detail;
  if (decision)
    detail = rows::canonical(retirement_record(*decision));
  TRY(record(s.db(), origin, "reinstate", c, before, rationale, detail));
  return tx.commit();
}

Result<std::optional<RetirementDecision>> find_decision(Suite& s, std::string_view id) {
  return rows::find_decision(s.db(), id);
}

Result<std::vector<RetirementDecision>> list_decisions(Suite& s) {
  std::vector<RetirementDecision> out;
  TRY(store::each_row(
      s.db(), fmt::format("SELECT {} FROM retirements ORDER BY case_id", rows::k_decision_columns),
      [&](const store::Statement& row) { out.push_back(rows::read_decision(row)); }));
  return out;
}

} // namespace evalkeep::suite
