#include "suite/cases.hpp"

#include "core/ids.hpp"
#include "core/text.hpp"
#include "suite/records.hpp"
#include "suite/rows.hpp"
#include "suite/weakening.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace evalkeep::suite {

namespace {

// The rules a new or edited case obeys against the rest of the suite.
Status check_provenance(Suite& s, const Case& c, const Policy& policy) {
  if (c.provenance.kind == ProvenanceKind::incident) {
    auto incident = TRY(rows::find_incident(s.db(), c.provenance.incident));
    if (!incident)
      return with_hint(invalid("unknown incident {}", c.provenance.incident),
                       fmt::format("record it first: evalkeep incident add {} --title \"...\"",
                                   c.provenance.incident));
  } else if (policy.require_incident) {
    return with_hint(
        refuse("policy requires an incident link for every case, and {} has {} provenance", c.id,
               to_string(c.provenance.kind)),
        "pass --incident INC-…, or set require_incident = false in evalkeep.toml");
  }
  return {};
}

Status insert_case(store::Database& db, const Case& c) {
  static const std::string sql = fmt::format("INSERT INTO cases ({}) VALUES ({})",
                                             rows::k_case_columns, rows::k_case_placeholders);
  auto insert = TRY(db.prepare(sql));
  rows::bind_case(insert, c);
  return insert.run();
}

// What add and edit check of the case they write.
Status check_written(Case& c) {
  TRY(validate_case(c));
  return check_limits(c);
}

} // namespace

Result<std::string> add_case(Suite& s, Case c, const Policy& policy, const Origin& origin) {
  if (c.id.empty())
    c.id = core::generate_case_id();
  if (c.status != CaseStatus::active && c.status != CaseStatus::xfail)
    return invalid("a new case is active or xfail, not {}", to_string(c.status));
  if (auto v = check_written(c); !v)
    return with_context(v.error(), fmt::format("case {}", c.id));
  c.content_hash = content_hash(c);

  auto tx = TRY(store::Transaction::begin(s.db()));
  auto existing = TRY(rows::find_case(s.db(), c.id));
  if (existing)
    return with_hint(invalid("a case with id {} already exists", c.id),
                     "pick another --id, or change the existing case with: evalkeep edit " + c.id);
  TRY(check_provenance(s, c, policy));
  TRY(insert_case(s.db(), c));
  auto ledger = TRY(LedgerWriter::open(s.db()));
  auto e = make_event(origin, "add", c.id);
  e.after = c.content_hash;
  TRY(ledger.append(e));
  TRY(tx.commit());
  return c.id;
}

namespace {

// SELECT `what` FROM the cases the filter selects, then `tail`, with the parameters bound.
Result<store::Statement> select_cases(Suite& s, const CaseFilter& filter, std::string_view what,
                                      std::string_view tail = {}) {
  std::string sql = fmt::format("SELECT {} FROM cases WHERE 1", what);
  if (filter.status)
    sql += " AND status = ?1";
  else if (!filter.include_removed)
    sql += " AND status <> 'removed'";
  if (filter.incident)
    sql += " AND incident = ?2";
  if (filter.kind)
    sql += " AND provenance_kind = ?3";
  if (filter.tag)
    sql += " AND EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE value = ?4)";
  sql += tail;
  auto stmt = TRY(s.db().prepare(sql));
  if (filter.status)
    stmt.bind(1, std::string(to_string(*filter.status)));
  if (filter.incident)
    stmt.bind(2, *filter.incident);
  if (filter.kind)
    stmt.bind(3, std::string(to_string(*filter.kind)));
  if (filter.tag)
    stmt.bind(4, *filter.tag);
  return stmt;
}

} // namespace

Status for_each_case(Suite& s, const CaseFilter& filter,
                     const std::function<Status(Case&&)>& each) {
  auto stmt = TRY(select_cases(s, filter, TRY(rows::case_columns(s.db())), " ORDER BY id"));
  return store::each_row(stmt,
                         [&](const store::Statement& row) { return each(rows::read_case(row)); });
}

Result<std::vector<Case>> list_cases(Suite& s, const CaseFilter& filter) {
  std::vector<Case> out;
  TRY(for_each_case(s, filter, [&](Case&& c) {
    out.push_back(std::move(c));
    return Status{};
  }));
  return out;
}

Result<std::size_t> longest_case_id(Suite& s, const CaseFilter& filter) {
  auto stmt = TRY(select_cases(s, filter, "coalesce(max(length(id)), 0)"));
  TRY(stmt.step());
  return static_cast<std::size_t>(stmt.integer(0));
}

Result<Case> get_case(Suite& s, std::string_view id) {
  auto found = TRY(rows::find_case(s.db(), id));
  if (!found)
    return with_hint(invalid("no case {}", id), "list cases with: evalkeep list");
  return *found;
}

namespace {

// The decision fields of an edit, checked before anything is read: a reason from the vocabulary,
// text that can be kept in the ledger, and no decider or approver without a reason.
Status check_decision_fields(const CaseChanges& changes) {
  TRY(text_field("rationale", changes.rationale));
  for (const auto& [flag, value] : {std::pair{"--decided-by", &changes.decided_by},
                                    std::pair{"--approved-by", &changes.approved_by}}) {
    if (!*value)
      continue;
    TRY(text_field(flag, **value));
    if (!changes.reason)
      return with_hint(invalid("{} records who made a decision to weaken a case, and this edit "
                               "gives no --reason",
                               flag),
                       "drop it, or add --reason REASON when the edit weakens the case");
  }
  if (changes.reason && !is_weakening_reason(*changes.reason))
    return with_hint(invalid("unknown reason '{}'", *changes.reason),
                     "reasons: " + weakening_reason_names());
  return {};
}

// True when `before` is the last active case guarding its incident and `after` is not.
Result<bool> leaves_incident_unguarded(Suite& s, const Case& before, const Case& after) {
  if (before.status != CaseStatus::active || before.provenance.kind != ProvenanceKind::incident)
    return false;
  if (after.status == CaseStatus::active && after.provenance.kind == ProvenanceKind::incident &&
      after.provenance.incident == before.provenance.incident)
    return false;
  auto others = TRY(s.db().prepare(
      "SELECT count(*) FROM cases WHERE incident = ?1 AND status = 'active' AND id <> ?2"));
  others.bind(1, before.provenance.incident).bind(2, before.id);
  TRY(others.step());
  return others.integer(0) == 0;
}

std::string listed(const std::vector<CaseChange>& changes, bool weakening) {
  std::string out;
  for (const auto& c : changes)
    if (c.weakens == weakening)
      out += "\n  " + describe(c);
  return out;
}

} // namespace

namespace {

// `before` with the changes applied; an assertion to remove that the case lacks is an error.
Result<Case> apply(const Case& before, const CaseChanges& changes) {
  Case after = before;
  if (changes.title)
    after.title = changes.title->empty() ? std::nullopt : changes.title;
  if (changes.prompt) {
    after.prompt = *changes.prompt;
    after.messages.clear();
  }
  if (changes.system)
    after.system = changes.system->empty() ? std::nullopt : changes.system;
  if (changes.messages) {
    after.messages = *changes.messages;
    after.prompt.reset();
    after.system.reset();
  }
  if (changes.tools)
    after.tools = *changes.tools;
  if (changes.tool_choice)
    after.tool_choice = changes.tool_choice->is_null()
                            ? nlohmann::json()
                            : TRY(core::normalize_tool_choice(*changes.tool_choice, after.tools));
  if (changes.expect || !changes.add_expect.empty() || !changes.remove_expect.empty()) {
    std::vector<scoring::Assertion> next = changes.expect.value_or(after.expect);
    for (const auto& r : changes.remove_expect) {
      auto it = std::find(next.begin(), next.end(), r);
      if (it == next.end())
        return invalid("case {} has no assertion {}", before.id, scoring::to_spec(r));
      next.erase(it);
    }
    next.insert(next.end(), changes.add_expect.begin(), changes.add_expect.end());
    after.expect = std::move(next);
  }
  for (const auto& t : changes.remove_tags)
    std::erase(after.tags, t);
  after.tags.insert(after.tags.end(), changes.add_tags.begin(), changes.add_tags.end());
  if (changes.provenance)
    after.provenance = *changes.provenance;
  if (changes.status)
    after.status = *changes.status;
  if (changes.min_pass_rate)
    after.min_pass_rate = *changes.min_pass_rate;
  if (changes.trials)
    after.trials = *changes.trials;
  return after;
}

// A weakening is recorded only as a decision, and a decision only for a weakening: the decision
// the edit records, if it weakens the case and its reason and approver are right.
Result<std::optional<WeakeningDecision>>
weakening_decision(Suite& s, const Case& before, const Case& after,
                   const std::vector<CaseChange>& diff, const CaseChanges& changes,
                   const Policy& policy, const Origin& origin) {
  const auto& id = before.id;
  if (!any_weakens(diff)) {
    if (changes.reason)
      return with_hint(invalid("--reason records a decision to weaken case {}, and this edit "
                               "weakens nothing:{}",
                               id, listed(diff, false)),
                       "drop --reason; the --rationale is kept with the edit");
    return std::optional<WeakeningDecision>();
  }
  if (!changes.reason)
    return with_hint(refuse("this edit weakens case {}, and a weakening needs a recorded "
                            "decision:{}",
                            id, listed(diff, true)),
                     fmt::format("if it is meant, record the decision: add --reason REASON "
                                 "({}); the --rationale is kept with it",
                                 weakening_reason_names()));
  bool input_changed = std::any_of(
      diff.begin(), diff.end(), [](const CaseChange& c) { return c.field == ChangeField::input; });
  if (*changes.reason == k_reworded && !input_changed)
    return with_hint(
        invalid("reason {} is for a changed input, and this edit keeps case {}'s input", k_reworded,
                id),
        "reasons: " + weakening_reason_names());
  WeakeningDecision decision{*changes.reason, changes.rationale,
                             changes.decided_by.value_or(origin.actor), changes.approved_by};
  bool last_guard = TRY(leaves_incident_unguarded(s, before, after));
  if (auto problem =
          approval_problem(policy, decision.decided_by, decision.approved_by, last_guard))
    return with_hint(refuse("weakening case {}: {}", id, *problem),
                     "add --approved-by \"Name <email>\" (someone other than the decider)");
  return std::optional(std::move(decision));
}

} // namespace

Status edit_case(Suite& s, const std::string& id, const CaseChanges& changes, const Policy& policy,
                 const Origin& origin) {
  if (core::blank(changes.rationale))
    return with_hint(invalid("an edit needs a rationale"),
                     "say why with --rationale \"...\"; it is kept in the ledger");
  if (changes.status && !is_live(*changes.status))
    return with_hint(
        invalid("edit sets status active or xfail, not {}", to_string(*changes.status)),
        "retire a case with: evalkeep retire " + id);
  TRY(check_decision_fields(changes));
  auto tx = TRY(store::Transaction::begin(s.db()));
  Case before = TRY(get_case(s, id));
  if (!is_live(before.status))
    return with_hint(refuse("case {} is {}; only active or xfail cases can be edited", id,
                            to_string(before.status)),
                     "bring it back first with: evalkeep reinstate " + id + " --rationale \"...\"");
  Case after = TRY(apply(before, changes));
  if (auto v = check_written(after); !v)
    return with_context(v.error(), fmt::format("case {}", id));
  after.content_hash = content_hash(after);
  if (after.content_hash == before.content_hash)
    return invalid("nothing to change for case {}", id);
  if (changes.provenance)
    TRY(check_provenance(s, after, policy));
  auto diff = case_changes(before, after);
  auto decision = TRY(weakening_decision(s, before, after, diff, changes, policy, origin));
  TRY(rows::update_case(s.db(), after));
  auto ledger = TRY(LedgerWriter::open(s.db()));
  auto e = make_event(origin, "edit", id);
  e.rationale = changes.rationale;
  e.before = before.content_hash;
  e.after = after.content_hash;
  e.detail = edit_detail(diff, record_set(before, after), decision);
  TRY(ledger.append(e));
  return tx.commit();
}

} // namespace evalkeep::suite
