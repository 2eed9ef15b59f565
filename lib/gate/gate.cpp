#include "gate/gate.hpp"

#include "gate/history.hpp"
#include "gate/run_rules.hpp"
#include "git/repo.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/outline.hpp"
#include "suite/records.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <map>
#include <set>

#include <fmt/ranges.h>

namespace evalkeep::gate {

namespace fs = std::filesystem;

std::string_view to_string(Rule r) {
  switch (r) {
  case Rule::verify:
    return "verify";
  case Rule::schema_downgraded:
    return "schema-downgraded";
  case Rule::history_rewritten:
    return "history-rewritten";
  case Rule::config_invalid:
    return "config-invalid";
  case Rule::policy_loosened:
    return "policy-loosened";
  case Rule::provider_changed:
    return "provider-changed";
  case Rule::suite_refused:
    return "suite-refused";
  case Rule::suite_removed:
    return "suite-removed";
  case Rule::case_deleted:
    return "case-deleted";
  case Rule::retired_without_decision:
    return "retired-without-decision";
  case Rule::decision_needs_approver:
    return "decision-needs-approver";
  case Rule::needs_incident:
    return "needs-incident";
  case Rule::case_weakened:
    return "case-weakened";
  case Rule::supersession_broken:
    return "supersession-broken";
  case Rule::run_incomplete:
    return "run-incomplete";
  case Rule::case_failed:
    return "case-failed";
  case Rule::suite_regressed:
    return "suite-regressed";
  case Rule::regressed:
    return "regressed";
  case Rule::case_not_run:
    return "case-not-run";
  }
  return "unknown";
}

std::size_t RunInfo::replayed_count() const {
  std::size_t n = 0;
  for (const auto& r : replayed)
    n += r.answers + r.judge_verdicts;
  return n;
}

bool is_run_rule(Rule r) {
  return r == Rule::case_failed || r == Rule::suite_regressed || r == Rule::regressed ||
         r == Rule::case_not_run;
}

namespace {

struct Snapshot {
  std::map<std::string, suite::Case> cases;
  std::map<std::string, suite::RetirementDecision> decisions;
};

Result<Snapshot> snapshot(suite::Suite& s) {
  Snapshot snap;
  for (auto& c : TRY(suite::case_outlines(s)))
    snap.cases.emplace(c.id, std::move(c));
  for (auto& d : TRY(suite::list_decisions(s)))
    snap.decisions.emplace(d.case_id, std::move(d));
  return snap;
}

// HEAD's events that are not the base's, and what rule 1 says of the base's history.
struct History {
  std::optional<std::string> problem;
  std::vector<suite::LedgerEvent> new_events;
};

Result<History> history(suite::Suite* base, suite::Suite& head) {
  History h;
  std::int64_t prefix = 0;
  if (base) {
    auto last = TRY(suite::ledger_tip(*base));
    if (last) {
      prefix = last->seq;
      // The chain makes HEAD's event with the base's last hash the end of a shared prefix
      // (HEAD's chain itself is verify's concern). Otherwise, as after a merge of the base into
      // the branch, the base's events must all be at HEAD in order.
      if (TRY(suite::event_hash(head, last->seq)) != last->hash) {
        auto before = TRY(suite::read_ledger(base->db()));
        auto now = TRY(suite::read_ledger(head.db()));
        auto match = match_ledgers(before, now);
        h.problem = std::move(match.problem);
        for (std::size_t i : match.new_events)
          h.new_events.push_back(std::move(now[i]));
        return h;
      }
    }
  }
  h.new_events = TRY(suite::read_ledger(head.db(), {}, prefix));
  return h;
}

std::optional<std::string> incident_of(const suite::Case& c) {
  if (c.provenance.kind == suite::ProvenanceKind::incident)
    return c.provenance.incident;
  return std::nullopt;
}

std::string provenance_text(const suite::Case& c) {
  if (c.provenance.kind == suite::ProvenanceKind::incident)
    return c.provenance.incident;
  return fmt::format("{}: {}", suite::to_string(c.provenance.kind), c.provenance.note);
}

std::string guarding(const suite::Case& c) {
  auto incident = incident_of(c);
  return incident ? " (guarding " + *incident + ")" : "";
}

// The rationales of the change's events of `action` about case `id`.
std::vector<std::string> rationales(const History& h, const std::string& id,
                                    std::string_view action) {
  std::vector<std::string> out;
  for (const auto& e : h.new_events)
    if (e.subject == id && e.action == action && e.rationale)
      out.push_back(*e.rationale);
  return out;
}

// Rule 2 for a case live at the base: it is still there, live or retired with a decision that
// the policy accepts.
void check_live_case(const suite::Case& c, const Snapshot& now, GateReport& report) {
  const auto& id = c.id;
  auto it = now.cases.find(id);
  if (it == now.cases.end()) {
    report.violations.push_back(
        {Rule::case_deleted, id, incident_of(c),
         fmt::format("case {}{} was deleted without a retirement decision", id, guarding(c))});
    return;
  }
  if (suite::is_live(it->second.status))
    return;
  auto d = now.decisions.find(id);
  if (d == now.decisions.end())
    report.violations.push_back({Rule::retired_without_decision, id, incident_of(c),
                                 fmt::format("case {}{} is {} without a retirement decision", id,
                                             guarding(c), suite::to_string(it->second.status))});
  report.retired.push_back({id, incident_of(c), std::string(suite::to_string(it->second.status)),
                            d == now.decisions.end() ? std::nullopt : std::optional(d->second)});
}

// Rule 2: no case present and live at the base disappears or retires without a decision; a
// retired one keeps its tombstone. Also what the change brings back and purges.
void check_removals(const Snapshot& before, const Snapshot& now, const History& changes,
                    GateReport& report) {
  for (const auto& [id, c] : before.cases) {
    if (suite::is_live(c.status)) {
      check_live_case(c, now, report);
      continue;
    }
    auto it = now.cases.find(id);
    if (it == now.cases.end())
      report.violations.push_back(
          {Rule::case_deleted, id, incident_of(c),
           fmt::format("the tombstone of retired case {}{} was deleted", id, guarding(c))});
    else if (suite::is_live(it->second.status))
      report.reinstated.push_back({id, incident_of(c), rationales(changes, id, "reinstate")});
    else if (it->second.purged && !c.purged)
      report.purged.push_back(id);
  }
}

// What the change did to a case live on both sides, old -> new, and whether its ledger vouches
// for every weakening: the case's events are replayed from the base's version, each version
// rebuilt and checked against its hash, so a forged event's claim counts for nothing.
Result<Edited> describe_edit(suite::Suite& base, suite::Suite& head, const suite::Case& c,
                             const History& changes, GateReport& report) {
  auto before = TRY(suite::get_case(base, c.id));
  auto after = TRY(suite::get_case(head, c.id));
  Edited e{c.id,
           incident_of(c),
           suite::case_changes(before, after),
           {},
           rationales(changes, c.id, "edit")};
  std::vector<suite::LedgerEvent> events;
  for (const auto& ev : changes.new_events)
    if (ev.subject == c.id)
      events.push_back(ev);
  auto replay = suite::replay_case(before, events);
  bool undecided = false;
  for (const auto& step : replay.steps) {
    if (step.decision)
      e.decisions.push_back(*step.decision);
    else if (suite::any_weakens(step.changes))
      undecided = true;
  }
  // Against the version HEAD holds, hashed anew: the row's hash column is the change's to write.
  if (!replay.unverifiable && replay.last.content_hash != suite::content_hash(after))
    replay.unverifiable = "its ledger events do not lead to the version at HEAD";
  if (e.weakened() && (undecided || replay.unverifiable)) {
    std::vector<std::string> what;
    for (const auto& change : e.changes)
      if (change.weakens)
        what.push_back(suite::describe(change));
    report.violations.push_back(
        {Rule::case_weakened, c.id, incident_of(c),
         fmt::format("case {}{} was weakened without a recorded decision{}: {}", c.id, guarding(c),
                     replay.unverifiable ? " (" + *replay.unverifiable + ")" : std::string(),
                     fmt::join(what, "; "))});
  }
  return e;
}

// Additions (rule 3: the policy's incident link) and edits of cases live on both sides.
Status check_changes(suite::Suite* base, suite::Suite& head, const Snapshot& before,
                     const Snapshot& now, const History& changes, const suite::Policy& policy,
                     GateReport& report) {
  for (const auto& [id, h] : now.cases) {
    auto it = before.cases.find(id);
    if (it == before.cases.end()) {
      report.added.push_back({id, incident_of(h), provenance_text(h)});
      if (policy.require_incident && h.provenance.kind != suite::ProvenanceKind::incident)
        report.violations.push_back(
            {Rule::needs_incident,
             id,
             {},
             fmt::format("case {} was added with {} provenance, and the policy requires an "
                         "incident link",
                         id, suite::to_string(h.provenance.kind))});
      continue;
    }
    // The status is a column of its own: a raw UPDATE can change it and leave the hash (which
    // verify then reports); any other change the hash column hides is verify's to report.
    if (base && suite::is_live(it->second.status) && suite::is_live(h.status) &&
        (it->second.content_hash != h.content_hash || it->second.status != h.status))
      report.edited.push_back(TRY(describe_edit(*base, head, h, changes, report)));
  }
  return {};
}

// Active and xfail counts, and the active guards of each incident.
Counts tally(const Snapshot& s, std::map<std::string, std::int64_t>& guards) {
  Counts n;
  for (const auto& [id, c] : s.cases) {
    if (c.status == suite::CaseStatus::xfail)
      ++n.xfail;
    if (c.status != suite::CaseStatus::active)
      continue;
    ++n.active;
    if (auto incident = incident_of(c))
      ++guards[*incident];
  }
  return n;
}

void coverage(const Snapshot& before, const Snapshot& now, GateReport& report) {
  std::map<std::string, std::int64_t> was, is;
  report.before = tally(before, was);
  report.after = tally(now, is);
  std::set<std::string> incidents;
  for (const auto& [incident, _] : was)
    incidents.insert(incident);
  for (const auto& [incident, _] : is)
    incidents.insert(incident);
  for (const auto& incident : incidents) {
    auto b = was.contains(incident) ? was[incident] : 0;
    auto a = is.contains(incident) ? is[incident] : 0;
    if (b == a)
      continue;
    report.coverage.push_back({incident, b, a});
    if (b > 0 && a == 0)
      report.unguarded_incidents.push_back(incident);
  }
}

// A guarantee that moves to another case holds only if that case is active and not weakened.
void check_supersession(const Snapshot& now, GateReport& report) {
  std::set<std::string> weakened;
  for (const auto& e : report.edited)
    if (e.weakened())
      weakened.insert(e.case_id);
  for (const auto& r : report.retired) {
    if (!r.decision)
      continue;
    for (const auto& target : r.decision->superseded_by) {
      auto it = now.cases.find(target);
      std::string problem;
      if (it == now.cases.end())
        problem = "which is not in the suite";
      else if (it->second.status != suite::CaseStatus::active)
        problem = fmt::format("which is {}", suite::to_string(it->second.status));
      else if (weakened.contains(target))
        problem = "which this change weakens";
      if (!problem.empty())
        report.violations.push_back(
            {Rule::supersession_broken, r.case_id, r.incident,
             fmt::format("{} retires as superseded by {}, {}: the guarantee moves nowhere",
                         r.case_id, target, problem)});
    }
  }
}

// Every decision the change records, retirements and weakenings, meets the policy; one that
// leaves an incident with no active guard meets its last-guard rule too.
void check_approvals(const suite::Policy& policy, GateReport& report) {
  std::set<std::string> unguarded(report.unguarded_incidents.begin(),
                                  report.unguarded_incidents.end());
  auto check = [&](const std::string& id, const std::optional<std::string>& incident,
                   std::string_view what, const std::string& decided_by,
                   const std::optional<std::string>& approved_by) {
    bool last_guard = incident && unguarded.contains(*incident);
    if (auto problem = suite::approval_problem(policy, decided_by, approved_by, last_guard))
      report.violations.push_back({Rule::decision_needs_approver, id, incident,
                                   fmt::format("the {} of {}: {}", what, id, *problem)});
  };
  for (const auto& r : report.retired)
    if (r.decision)
      check(r.case_id, r.incident, "retirement", r.decision->decided_by, r.decision->approved_by);
  for (const auto& e : report.edited)
    for (const auto& d : e.decisions)
      check(e.case_id, e.incident, "weakening", d.decided_by, d.approved_by);
}

// verify's findings on the suite at HEAD, and a schema older than the base's. A case missing
// from the table is left to rule 2, which names it case-deleted with its incident.
Status check_verify(suite::Suite* base, const Snapshot& before, suite::VerifyReport verified,
                    GateReport& report) {
  for (auto& p : verified.problems)
    if (p.kind != suite::VerifyProblem::Kind::case_missing || !p.subject ||
        !before.cases.contains(*p.subject))
      report.violations.push_back({Rule::verify, p.subject.value_or(""), {}, std::move(p.message)});
  // An older copy of the suite put back over a newer one brings back whatever the newer schema
  // closed.
  if (!base)
    return {};
  auto was = TRY(base->schema_version());
  if (was > verified.schema_version)
    report.violations.push_back(
        {Rule::schema_downgraded,
         {},
         {},
         fmt::format("the suite at HEAD has schema version {}, older than the base's {}: an "
                     "older copy of the suite replaced the newer one",
                     verified.schema_version, was)});
  return {};
}

} // namespace

Result<GateReport> compare(suite::Suite* base, suite::Suite* head, const suite::Policy& policy,
                           const RunInput* runs) {
  GateReport report;
  report.base_has_suite = base != nullptr;
  // verify is much of the gate's work on a large suite: it runs on a connection of its own while
  // this thread reads both suites.
  std::future<Result<suite::VerifyReport>> verifying;
  if (head)
    verifying =
        std::async(std::launch::async, [path = head->path()]() -> Result<suite::VerifyReport> {
          auto s = TRY(suite::Suite::open(path, suite::Suite::Access::read));
          return suite::verify(s);
        });
  Snapshot before, now;
  if (head)
    now = TRY(snapshot(*head));
  if (base)
    before = TRY(snapshot(*base));
  History changes;
  if (head) {
    TRY(check_verify(base, before, TRY(verifying.get()), report));
    changes = TRY(history(base, *head));
  }
  // Rule 1: the base's history is kept at HEAD (HEAD's own chain is verify's concern, above).
  if (changes.problem)
    report.violations.push_back({Rule::history_rewritten, {}, {}, *changes.problem});
  check_removals(before, now, changes, report);
  if (head)
    TRY(check_changes(base, *head, before, now, changes, policy, report));
  coverage(before, now, report);
  check_approvals(policy, report);
  check_supersession(now, report);
  if (runs) {
    // Rule 4 recomputes the hash of a case whose status changed since the run: it needs it whole.
    for (const auto& r : runs->run.cases)
      if (auto it = now.cases.find(r.case_id);
          head && it != now.cases.end() && r.status != suite::to_string(it->second.status))
        it->second = TRY(suite::get_case(*head, r.case_id));
    check_run(now.cases, *runs, policy, report);
  }
  return report;
}

namespace {

// What the change does to the configuration it is judged by: reported, and failing where it
// loosens the base's policy or, unless the base's policy allows it, changes a provider.
void check_config(const suite::Workspace& ws, const Base& base, GateReport& report) {
  if (ws.config_error) {
    report.violations.push_back(
        {Rule::config_invalid,
         {},
         {},
         fmt::format("evalkeep.toml at HEAD cannot be read ({}); the gate judges by {}",
                     ws.config_error->message, base.describe())});
    return;
  }
  report.policy_changes = suite::policy_changes(base.config.policy, ws.config.policy);
  for (const auto& c : report.policy_changes)
    if (c.loosened)
      report.violations.push_back(
          {Rule::policy_loosened,
           {},
           {},
           fmt::format("the change loosens the policy: {} {} -> {}; the base's value still applies",
                       c.rule, c.before, c.after)});
  report.provider_changes = provider_changes(base.config, ws.config);
  if (base.config.policy.allow_provider_changes)
    return;
  std::map<std::string, std::vector<std::string>> by_provider;
  for (const auto& c : report.provider_changes)
    by_provider[c.provider].push_back(
        c.field.empty() ? c.after : fmt::format("{} {} -> {}", c.field, c.before, c.after));
  for (const auto& [name, what] : by_provider)
    report.violations.push_back(
        {Rule::provider_changed,
         {},
         {},
         fmt::format("provider {} changed: {} (the base's policy does not allow provider changes: "
                     "allow_provider_changes = false)",
                     name, fmt::join(what, "; "))});
}

// A checked run (or baseline) must have used the providers the base defines, as it defines them.
void check_run_providers(const Base& base, const RunInfo& run, std::string_view role,
                         GateReport& report) {
  auto def = base.config.providers.find(run.provider);
  auto changes = run_provider_changes(
      run.provider, def == base.config.providers.end() ? nullptr : &def->second, run.params);
  if (run.params.is_object() && run.params.contains("judge")) {
    const auto& judge = run.params["judge"];
    auto name = judge.is_object() && judge.contains("name") && judge["name"].is_string()
                    ? judge["name"].get<std::string>()
                    : std::string("(unnamed)");
    auto jdef = base.config.providers.find(name);
    if (name != base.config.judge)
      changes.push_back(
          {"judge", "", base.config.judge.empty() ? "(none)" : base.config.judge, name});
    else
      for (auto& c : run_provider_changes(
               name, jdef == base.config.providers.end() ? nullptr : &jdef->second, judge))
        changes.push_back(std::move(c));
  }
  if (changes.empty())
    return;
  std::vector<std::string> what;
  for (const auto& c : changes)
    what.push_back(c.field.empty()
                       ? fmt::format("{}: {} -> {}", c.provider, c.before, c.after)
                       : fmt::format("{}: {} {} -> {}", c.provider, c.field, c.before, c.after));
  report.violations.push_back({Rule::provider_changed,
                               {},
                               {},
                               fmt::format("{} run {} did not use the providers {} defines: {}",
                                           role, run.id, base.describe(), fmt::join(what, "; "))});
}

} // namespace

Result<GateReport> gate(const suite::Workspace& ws, const Base& base, const RunInput* runs) {
  // Where HEAD's suite is comes from HEAD's config, which the change controls: it is only ever
  // compared with the base's suite, and opened only as a regular file inside the working tree.
  auto at_head = locate_head_suite(ws, base);
  const auto& head_path = at_head.path;
  auto base_file = TRY(BaseSuite::read(base));
  auto* base_suite = base_file.get();
  std::optional<suite::Suite> head_suite;
  if (at_head.file) {
    auto h = suite::Suite::open_untrusted(*at_head.file);
    // A file that is not a suite, or not evalkeep's schema, is the change's doing: refused and
    // compared as no suite, so the reviewer still gets the whole report. A locked or unreadable
    // file is the machine's problem, an error.
    if (!h && h.error().code != ExitCode::usage)
      return with_context(h.error(), "the suite at HEAD");
    if (h)
      head_suite = std::move(*h);
    else
      at_head.refused = h.error().message;
  }
  auto policy =
      ws.config_error ? base.config.policy : suite::strictest(base.config.policy, ws.config.policy);
  auto report = TRY(compare(base_suite, head_suite ? &*head_suite : nullptr, policy, runs));
  report.base = base.commit;
  report.trusted_config = base.describe();
  GateReport config;
  check_config(ws, base, config);
  if (at_head.refused)
    config.violations.push_back(
        {Rule::suite_refused,
         {},
         {},
         fmt::format("the suite at HEAD is refused: {}", *at_head.refused)});
  else if (!at_head.file && base_suite)
    config.violations.push_back(
        {Rule::suite_removed,
         {},
         {},
         fmt::format("there is no suite at '{}' at HEAD; the base has its suite at '{}'", head_path,
                     base.suite_path)});
  if (runs) {
    check_run_providers(base, runs->run.run, "the checked", config);
    if (runs->baseline)
      check_run_providers(base, runs->baseline->run, "the baseline", config);
  }
  report.violations.insert(report.violations.begin(), config.violations.begin(),
                           config.violations.end());
  report.policy_changes = std::move(config.policy_changes);
  report.provider_changes = std::move(config.provider_changes);
  bool rewritten = std::any_of(report.violations.begin(), report.violations.end(),
                               [](const auto& v) { return v.rule == Rule::history_rewritten; });
  if (head_path != base.suite_path && base_suite && head_suite && !rewritten)
    report.suite_moved = {base.suite_path, head_path};
  return report;
}

} // namespace evalkeep::gate
