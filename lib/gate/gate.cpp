#include "gate/gate.hpp"

#include "gate/history.hpp"
#include "gate/run_rules.hpp"
#include "git/repo.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/ledger.hpp"
#include "suite/retirement.hpp"
#include "suite/verify.hpp"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <unistd.h>

namespace evalkeep::gate {

namespace fs = std::filesystem;

namespace {

struct Snapshot {
  std::map<std::string, suite::Case> cases;
  std::map<std::string, suite::RetirementDecision> decisions;
};

// Every case of the suite with only the fields that tell what happened to it: id, status,
// provenance and content hash. Reading 100,000 cases whole (their input and assertions) took
// longer than the rest of the gate; a case is loaded whole only when an edit is described.
Result<Snapshot> snapshot(suite::Suite& s) {
  Snapshot snap;
  auto r = store::each_row(
      s.db(),
      "SELECT id, status, provenance_kind, incident, provenance_note, content_hash FROM cases",
      [&](const store::Statement& st) {
        suite::Case c;
        c.id = st.str(0);
        c.status = suite::parse_status(st.text(1)).value_or(suite::CaseStatus::active);
        c.provenance.kind =
            suite::parse_provenance_kind(st.text(2)).value_or(suite::ProvenanceKind::spec);
        c.provenance.incident = st.opt_str(3).value_or("");
        c.provenance.note = st.opt_str(4).value_or("");
        auto hash = st.blob(5);
        std::copy_n(hash.begin(), std::min(hash.size(), c.content_hash.size()),
                    c.content_hash.begin());
        snap.cases.emplace(c.id, std::move(c));
      });
  if (!r)
    return std::unexpected(r.error());
  auto decisions = suite::list_decisions(s);
  if (!decisions)
    return std::unexpected(decisions.error());
  for (auto& d : *decisions)
    snap.decisions.emplace(d.case_id, std::move(d));
  return snap;
}

// HEAD's events that are not the base's, and what rule 1 says of the base's history.
struct History {
  std::optional<std::string> problem;
  std::vector<suite::LedgerEvent> new_events;
};

// The seq and hash of a suite's last ledger event; seq 0 when it has none.
Result<std::pair<std::int64_t, std::string>> last_event(suite::Suite& s) {
  std::pair<std::int64_t, std::string> last{0, {}};
  auto r = store::each_row(s.db(), "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
                           [&](const store::Statement& st) {
                             auto hash = st.blob(1);
                             last = {st.integer(0), std::string(hash.begin(), hash.end())};
                           });
  if (!r)
    return std::unexpected(r.error());
  return last;
}

Result<History> history(suite::Suite* base, suite::Suite& head) {
  History h;
  std::int64_t prefix = 0;
  if (base) {
    auto last = last_event(*base);
    if (!last)
      return std::unexpected(last.error());
    std::string at_head;
    auto r = store::each_row(head.db(),
                             fmt::format("SELECT hash FROM ledger WHERE seq = {}", last->first),
                             [&](const store::Statement& st) {
                               auto hash = st.blob(0);
                               at_head.assign(hash.begin(), hash.end());
                             });
    if (!r)
      return std::unexpected(r.error());
    prefix = last->first;
    // The chain makes HEAD's event with the base's last hash the end of a shared prefix (HEAD's
    // chain itself is verify's concern). Otherwise, as after a merge of the base into the branch,
    // the base's events must all be at HEAD in order.
    if (at_head != last->second) {
      auto before = suite::read_ledger(base->db());
      auto now = suite::read_ledger(head.db());
      if (!before || !now)
        return std::unexpected(!before ? before.error() : now.error());
      auto match = match_ledgers(*before, *now);
      h.problem = std::move(match.problem);
      for (std::size_t i : match.new_events)
        h.new_events.push_back(std::move((*now)[i]));
      return h;
    }
  }
  auto newer = suite::read_ledger(head.db(), {}, prefix);
  if (!newer)
    return std::unexpected(newer.error());
  h.new_events = std::move(*newer);
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

// An assertion that still exists but accepts more answers than before.
std::optional<std::string> loosened(const scoring::Assertion& before,
                                    const std::vector<scoring::Assertion>& after) {
  using T = scoring::AssertionType;
  for (const auto& a : after) {
    if (a.type != before.type)
      continue;
    bool same_target = a.text == before.text && a.path == before.path && a.rubric == before.rubric;
    bool looser = false;
    switch (a.type) {
    case T::max_length:
    case T::max_latency_ms:
    case T::max_cost:
      looser = a.number > before.number;
      break;
    case T::min_length:
      looser = a.number < before.number;
      break;
    case T::number_close:
      looser = a.number == before.number && a.tolerance > before.tolerance;
      break;
    case T::judge:
      looser = a.rubric == before.rubric && a.threshold < before.threshold;
      break;
    default:
      break;
    }
    if (looser && (same_target || a.type != T::judge))
      return fmt::format("{} -> {}", scoring::to_spec(before), scoring::to_spec(a));
  }
  // contains -> icontains on the same text is a weakening too.
  if (before.type == T::contains)
    for (const auto& a : after)
      if (a.type == T::icontains && a.text == before.text)
        return fmt::format("{} -> {}", scoring::to_spec(before), scoring::to_spec(a));
  return std::nullopt;
}

} // namespace

Result<GateReport> compare(suite::Suite* base, suite::Suite& head, const suite::Policy& policy,
                           const RunInput* runs) {
  GateReport report;
  report.base_has_suite = base != nullptr;

  // verify is much of the gate's work on a large suite: it runs on a connection of its own while
  // this thread reads both suites.
  auto verifying =
      std::async(std::launch::async, [path = head.path()]() -> Result<suite::VerifyReport> {
        auto s = suite::Suite::open(path, suite::Suite::Access::read);
        if (!s)
          return std::unexpected(s.error());
        return suite::verify(*s);
      });
  auto now = snapshot(head);
  if (!now)
    return std::unexpected(now.error());
  Snapshot before;
  if (base) {
    auto b = snapshot(*base);
    if (!b)
      return std::unexpected(b.error());
    before = std::move(*b);
  }

  auto verified = verifying.get();
  if (!verified)
    return std::unexpected(verified.error());
  for (const auto& p : verified->problems)
    report.violations.push_back({"verify", {}, {}, p.message});
  // An older copy of the suite put back over a newer one brings back whatever the newer schema
  // closed.
  if (base) {
    auto was = base->schema_version();
    if (!was)
      return std::unexpected(was.error());
    if (*was > verified->schema_version)
      report.violations.push_back(
          {"schema-downgraded",
           {},
           {},
           fmt::format("the suite at HEAD has schema version {}, older than the base's {}: an "
                       "older copy of the suite replaced the newer one",
                       verified->schema_version, *was)});
  }

  // Rule 1: the base's history is kept at HEAD (HEAD's own chain is verify's concern, above).
  auto changes = history(base, head);
  if (!changes)
    return std::unexpected(changes.error());
  if (changes->problem)
    report.violations.push_back({"history-rewritten", {}, {}, *changes->problem});

  // Rule 2: no case present and live at the base disappears or retires without a decision.
  std::map<std::string, std::size_t> live_guards_before, live_guards_after;
  for (const auto& [id, c] : before.cases) {
    if (!suite::is_live(c.status))
      continue;
    ++report.active_before;
    if (auto inc = incident_of(c))
      ++live_guards_before[*inc];
    auto it = now->cases.find(id);
    if (it == now->cases.end()) {
      report.violations.push_back(
          {"case-deleted", id, incident_of(c),
           fmt::format("case {}{} was deleted without a retirement decision", id,
                       incident_of(c) ? " (guarding " + *incident_of(c) + ")" : "")});
      continue;
    }
    const auto& h = it->second;
    if (!suite::is_live(h.status)) {
      auto d = now->decisions.find(id);
      if (d == now->decisions.end())
        report.violations.push_back({"retired-without-decision", id, incident_of(c),
                                     fmt::format("case {} is {} without a retirement decision", id,
                                                 suite::to_string(h.status))});
      else if (policy.require_approver &&
               (!d->second.approved_by || *d->second.approved_by == d->second.decided_by))
        report.violations.push_back(
            {"decision-needs-approver", id, incident_of(c),
             fmt::format("the retirement of {} has no approver other than its decider, and the "
                         "policy requires one",
                         id)});
      report.retired.push_back(
          {id, incident_of(c), std::string(suite::to_string(h.status)),
           d == now->decisions.end() ? std::nullopt : std::optional(d->second)});
    }
  }
  for (const auto& [id, c] : before.cases)
    if (!suite::is_live(c.status) && !now->cases.contains(id))
      report.violations.push_back(
          {"case-deleted", id, incident_of(c),
           fmt::format("the tombstone of retired case {} was deleted", id)});

  // Edits, additions and rule 3.
  for (const auto& [id, h] : now->cases) {
    if (suite::is_live(h.status)) {
      ++report.active_after;
      if (auto inc = incident_of(h))
        ++live_guards_after[*inc];
    }
    auto it = before.cases.find(id);
    if (it == before.cases.end()) {
      report.added.push_back({id, incident_of(h), provenance_text(h)});
      if (policy.require_incident && h.provenance.kind != suite::ProvenanceKind::incident)
        report.violations.push_back(
            {"needs-incident",
             id,
             {},
             fmt::format("case {} was added with {} provenance, and the policy requires an "
                         "incident link",
                         id, suite::to_string(h.provenance.kind))});
      continue;
    }
    if (!suite::is_live(it->second.status) || !suite::is_live(h.status) ||
        it->second.content_hash == h.content_hash)
      continue;
    auto b = suite::get_case(*base, id);
    if (!b)
      return std::unexpected(b.error());
    auto full = suite::get_case(head, id);
    if (!full)
      return std::unexpected(full.error());
    const auto& expect = full->expect;
    Edited e{id, incident_of(h), {}, {}, {}};
    for (const auto& a : b->expect) {
      if (std::find(expect.begin(), expect.end(), a) != expect.end())
        continue;
      if (auto l = loosened(a, expect))
        e.assertions_loosened.push_back(*l);
      else
        e.assertions_removed.push_back(scoring::to_spec(a));
    }
    for (const auto& ev : changes->new_events) {
      if (ev.subject == id && ev.action == "edit" && ev.rationale)
        e.rationales.push_back(*ev.rationale);
    }
    report.edited.push_back(std::move(e));
  }
  // A deleted case is reported once, as case-deleted, not again as verify's missing row.
  std::set<std::string> deleted;
  for (const auto& v : report.violations)
    if (v.rule == "case-deleted")
      deleted.insert(fmt::format("case {} is in the ledger but missing", v.case_id));
  std::erase_if(report.violations, [&](const Violation& v) {
    return v.rule == "verify" && std::any_of(deleted.begin(), deleted.end(), [&](const auto& p) {
             return v.message.starts_with(p);
           });
  });
  for (const auto& [incident, n] : live_guards_before)
    if (n > 0 && live_guards_after[incident] == 0)
      report.unguarded_incidents.push_back(incident);
  if (runs) {
    // Rule 4 recomputes the hash of a case whose status changed since the run: it needs it whole.
    for (const auto& r : runs->run.cases)
      if (auto it = now->cases.find(r.case_id);
          it != now->cases.end() && r.status != suite::to_string(it->second.status)) {
        auto full = suite::get_case(head, r.case_id);
        if (!full)
          return std::unexpected(full.error());
        it->second = std::move(*full);
      }
    check_run(now->cases, *runs, report);
  }
  return report;
}

Result<GateReport> gate(const suite::Workspace& ws, const std::string& base_ref,
                        const RunInput* runs) {
  if (!ws.in_git)
    return with_hint(invalid("the gate compares git revisions, and this is not a git repository"),
                     "run it in the repository's working tree");
  auto base = git::merge_base(ws.root, base_ref, "HEAD");
  if (!base)
    return std::unexpected(base.error());
  std::error_code ec;
  auto relative = fs::relative(ws.suite_path, ws.root, ec);
  if (ec || relative.empty() || relative.string().starts_with(".."))
    return invalid("the suite '{}' is outside the repository", ws.suite_path.string());

  // The base's suite goes to a private temporary folder, removed on every path out.
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-gate-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return fail(ExitCode::environment, "cannot create a temporary folder");
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{tmpl};
  fs::path base_file = cleanup.dir / "base-suite.db";
  auto found = git::read_file_at(ws.root, *base, relative.generic_string(), base_file);
  if (!found)
    return std::unexpected(found.error());

  auto head = suite::Suite::open_untrusted(ws.suite_path);
  if (!head)
    return with_context(head.error(), "the suite at HEAD");
  std::optional<suite::Suite> base_suite;
  if (*found) {
    auto b = suite::Suite::open_untrusted(base_file);
    if (!b)
      return with_context(b.error(), fmt::format("the suite at the base {}", base->substr(0, 12)));
    base_suite = std::move(*b);
  }
  auto report = compare(base_suite ? &*base_suite : nullptr, *head, ws.config.policy, runs);
  if (!report)
    return std::unexpected(report.error());
  report->base = *base;
  return report;
}

} // namespace evalkeep::gate
