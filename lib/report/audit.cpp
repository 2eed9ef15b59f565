#include "report/audit.hpp"

#include "core/time.hpp"
#include "report/gate_report.hpp"
#include "report/why.hpp"
#include "run/runner.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/retirement.hpp"

#include <map>
#include <set>
#include <unistd.h>

#include <fmt/format.h>

namespace evalkeep::report {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// Decision case ids present in the suite at `rev`; nothing when it had no suite.
Result<std::set<std::string>> decided_at_revision(const suite::Workspace& ws,
                                                  const std::string& rev) {
  auto commit = TRY(git::resolve(ws.root, rev));
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-audit-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return fail(ExitCode::environment, "cannot create a temporary folder");
  fs::path dir = tmpl;
  std::error_code ec;
  auto relative = fs::relative(ws.suite_path, ws.root, ec).generic_string();
  std::set<std::string> out;
  auto found = git::read_file_at(ws.root, commit, relative, dir / "suite.db");
  if (found && *found) {
    auto s = suite::Suite::open_untrusted(dir / "suite.db");
    if (s)
      if (auto decisions = suite::list_decisions(*s))
        for (const auto& d : *decisions)
          out.insert(d.case_id);
  }
  fs::remove_all(dir, ec);
  if (!found)
    return std::unexpected(found.error());
  return out;
}

using Verdicts = std::map<std::string, scoring::Verdict>;

// The latest run's verdicts, for supersessions; and the retired cases of the latest run made
// with --include-retired, into the audit.
Result<Verdicts> read_runs(run::RunsStore* runs, Audit& a) {
  Verdicts latest;
  if (!runs)
    return latest;
  auto list = TRY(runs->list_runs());
  if (!list.empty()) {
    auto summary = TRY(run::summarize(*runs, list.back().id));
    for (const auto& o : summary.cases)
      latest[o.case_id] = o.verdict;
  }
  for (auto it = list.rbegin(); it != list.rend() && !a.retired_run; ++it) {
    if (!it->settings.value("include_retired", false))
      continue;
    auto summary = TRY(run::summarize(*runs, it->id));
    a.retired_run = it->id;
    for (const auto& o : summary.cases)
      if (o.status == "retired")
        a.retired_results.emplace_back(o.case_id, o.verdict);
  }
  return latest;
}

// A decision's supersessions that do not carry its guarantee: to a case that does not exist, is
// not live, or fails in the latest run.
void weak_supersessions(const suite::RetirementDecision& d,
                        const std::map<std::string, const suite::Case*>& by_id,
                        const Verdicts& latest, std::vector<std::string>& out) {
  for (const auto& target : d.superseded_by) {
    auto t = by_id.find(target);
    if (t == by_id.end())
      out.push_back(fmt::format("{} -> {}: the case does not exist", d.case_id, target));
    else if (!suite::is_live(t->second->status))
      out.push_back(fmt::format("{} -> {}: {} itself is {}", d.case_id, target, target,
                                suite::to_string(t->second->status)));
    else if (auto v = latest.find(target);
             v != latest.end() &&
             (v->second == scoring::Verdict::fail || v->second == scoring::Verdict::error))
      out.push_back(fmt::format("{} -> {}: {} {} in the latest run", d.case_id, target, target,
                                v->second == scoring::Verdict::fail ? "fails" : "errors"));
  }
}

} // namespace

Result<Audit> audit(suite::Suite& s, const suite::Workspace& ws, run::RunsStore* runs,
                    const std::string& since, const std::string& today) {
  Audit a;
  suite::CaseFilter all;
  all.include_removed = true;
  auto cases = TRY(suite::list_cases(s, all));
  std::map<std::string, const suite::Case*> by_id;
  for (const auto& c : cases)
    by_id[c.id] = &c;
  auto incidents = TRY(suite::list_incidents(s));
  std::map<std::string, const suite::Incident*> incident_by_id;
  for (const auto& i : incidents)
    incident_by_id[i.id] = &i;
  auto decisions = TRY(suite::list_decisions(s));

  std::optional<std::set<std::string>> earlier;
  if (!since.empty() && !core::is_date(since)) {
    auto known = decided_at_revision(ws, since);
    if (!known)
      return with_context(known.error(), "--since");
    earlier = std::move(*known);
  }

  auto latest_verdict = TRY(read_runs(runs, a));

  for (const auto& d : decisions) {
    if (!since.empty() && (earlier ? earlier->contains(d.case_id) : d.decided_at < since))
      continue;
    AuditedRetirement r;
    r.decision = d;
    auto c = by_id.find(d.case_id);
    r.status = c == by_id.end() ? "?" : std::string(suite::to_string(c->second->status));
    if (!d.incidents.empty())
      if (auto i = incident_by_id.find(d.incidents.front()); i != incident_by_id.end())
        r.incident_title = i->second->title;
    // A decision stays in the suite from the commit that brought it until HEAD.
    r.landed_in = first_commit_where(ws, [&](suite::Suite& at) {
      auto found = suite::find_decision(at, d.case_id);
      return found && *found && (*found)->decided_at == d.decided_at;
    });
    weak_supersessions(d, by_id, latest_verdict, a.weak_supersessions);
    if (d.revisit && *d.revisit <= today)
      a.overdue.push_back(fmt::format("{}: revisit {}", d.case_id, *d.revisit));
    a.retirements.push_back(std::move(r));
  }

  std::set<std::string> guarded;
  for (const auto& c : cases)
    if (suite::is_live(c.status) && c.provenance.kind == suite::ProvenanceKind::incident)
      guarded.insert(c.provenance.incident);
  for (const auto& i : incidents)
    if (!guarded.contains(i.id))
      a.unguarded.push_back(i);
  return a;
}

std::string audit_text(const Audit& a) {
  std::string out =
      fmt::format("{} retirement{}\n", a.retirements.size(), a.retirements.size() == 1 ? "" : "s");
  for (const auto& r : a.retirements) {
    const auto& d = r.decision;
    out += fmt::format("\n{} ({}){}\n", d.case_id, r.status,
                       d.incidents.empty()
                           ? std::string()
                           : fmt::format(" — guarded {}{}", fmt::join(d.incidents, ", "),
                                         r.incident_title ? ": " + *r.incident_title : ""));
    out += fmt::format("  reason:    {}\n  rationale: {}\n  decided:   {} by {}\n",
                       suite::to_string(d.reason), d.rationale, d.decided_at, d.decided_by);
    out += fmt::format("  approved:  {}\n", d.approved_by.value_or("(nobody)"));
    if (!d.superseded_by.empty())
      out += fmt::format("  moved to:  {}\n", fmt::join(d.superseded_by, ", "));
    out += fmt::format("  commit:    {}\n",
                       r.landed_in ? r.landed_in->id.substr(0, 12) + " " + r.landed_in->subject
                                   : std::string("(not committed yet)"));
  }
  out += "\nincidents with no active guarding case:";
  if (a.unguarded.empty())
    out += " none\n";
  else
    for (const auto& i : a.unguarded)
      out += fmt::format("\n  {} — {}", i.id, i.title);
  out += a.unguarded.empty() ? "" : "\n";
  if (!a.weak_supersessions.empty())
    out += fmt::format("\nguarantees moved to a weak case:\n  {}\n",
                       fmt::join(a.weak_supersessions, "\n  "));
  if (!a.overdue.empty())
    out += fmt::format("\nrevisits due:\n  {}\n", fmt::join(a.overdue, "\n  "));
  if (a.retired_run) {
    out += fmt::format("\nretired cases in run {} (--include-retired):\n", *a.retired_run);
    for (const auto& [id, verdict] : a.retired_results)
      out += verdict == scoring::Verdict::pass ? fmt::format("  {}: would still pass\n", id)
                                               : fmt::format("  {}: now {}\n", id, verdict);
  }
  if (a.against_base) {
    out += "\nthis branch against its base, as the gate sees it:\n";
    auto gate = gate_text(*a.against_base);
    for (std::size_t pos = 0; pos < gate.size();) {
      auto end = gate.find('\n', pos);
      auto line = gate.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      out += line.empty() ? "\n" : "  " + line + "\n";
      pos = end == std::string::npos ? gate.size() : end + 1;
    }
  }
  return out;
}

std::string audit_markdown(const Audit& a) {
  std::string out = "## evalkeep audit\n\n| case | incident | reason | rationale | decided | "
                    "approved by | commit |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  auto cell = [](std::string s) {
    for (auto& c : s)
      if (c == '|' || c == '\n')
        c = ' ';
    return s;
  };
  for (const auto& r : a.retirements) {
    const auto& d = r.decision;
    out += fmt::format("| {} | {} | {} | {} | {} by {} | {} | {} |\n", cell(d.case_id),
                       cell(fmt::format("{}", fmt::join(d.incidents, ", "))),
                       suite::to_string(d.reason), cell(d.rationale), d.decided_at,
                       cell(d.decided_by), cell(d.approved_by.value_or("")),
                       r.landed_in ? r.landed_in->id.substr(0, 12) : "");
  }
  if (!a.unguarded.empty()) {
    out += "\n**Incidents with no active guarding case:**\n\n";
    for (const auto& i : a.unguarded)
      out += fmt::format("- {} — {}\n", cell(i.id), cell(i.title));
  }
  for (const auto& w : a.weak_supersessions)
    out += fmt::format("\n- weak supersession: {}", cell(w));
  for (const auto& o : a.overdue)
    out += fmt::format("\n- revisit due: {}", cell(o));
  out += "\n";
  if (a.against_base) {
    // The gate's summary, one heading level down.
    auto gate = gate_markdown(*a.against_base);
    out += "\n#" + gate;
  }
  return out;
}

ojson audit_json(const Audit& a) {
  ojson j;
  ojson retirements = ojson::array();
  for (const auto& r : a.retirements) {
    const auto& d = r.decision;
    retirements.push_back({{"case", d.case_id},
                           {"status", r.status},
                           {"incidents", d.incidents},
                           {"reason", suite::to_string(d.reason)},
                           {"rationale", d.rationale},
                           {"decided_by", d.decided_by},
                           {"approved_by", d.approved_by ? ojson(*d.approved_by) : ojson()},
                           {"decided_at", d.decided_at},
                           {"superseded_by", d.superseded_by},
                           {"revisit", d.revisit ? ojson(*d.revisit) : ojson()},
                           {"commit", r.landed_in ? ojson(r.landed_in->id) : ojson()}});
  }
  j["retirements"] = std::move(retirements);
  ojson unguarded = ojson::array();
  for (const auto& i : a.unguarded)
    unguarded.push_back({{"id", i.id}, {"title", i.title}});
  j["unguarded_incidents"] = std::move(unguarded);
  j["weak_supersessions"] = a.weak_supersessions;
  j["overdue_revisits"] = a.overdue;
  j["retired_run"] = a.retired_run ? ojson(*a.retired_run) : ojson();
  ojson results = ojson::object();
  for (const auto& [id, verdict] : a.retired_results)
    results[id] = scoring::to_string(verdict);
  j["retired_results"] = std::move(results);
  j["against_base"] = a.against_base ? gate_json(*a.against_base) : ojson();
  return j;
}

} // namespace evalkeep::report
