#include "report/audit.hpp"

#include "core/time.hpp"
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
  auto commit = git::resolve(ws.root, rev);
  if (!commit)
    return std::unexpected(commit.error());
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-audit-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return fail(ExitCode::environment, "cannot create a temporary folder");
  fs::path dir = tmpl;
  std::error_code ec;
  auto relative = fs::relative(ws.suite_path, ws.root, ec).generic_string();
  std::set<std::string> out;
  auto found = git::read_file_at(ws.root, *commit, relative, dir / "suite.db");
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

} // namespace

Result<Audit> audit(suite::Suite& s, const suite::Workspace& ws, run::RunsStore* runs,
                    const std::string& since, const std::string& today) {
  Audit a;
  suite::CaseFilter all;
  all.include_removed = true;
  auto cases = suite::list_cases(s, all);
  if (!cases)
    return std::unexpected(cases.error());
  std::map<std::string, const suite::Case*> by_id;
  for (const auto& c : *cases)
    by_id[c.id] = &c;
  auto incidents = suite::list_incidents(s);
  if (!incidents)
    return std::unexpected(incidents.error());
  std::map<std::string, const suite::Incident*> incident_by_id;
  for (const auto& i : *incidents)
    incident_by_id[i.id] = &i;
  auto decisions = suite::list_decisions(s);
  if (!decisions)
    return std::unexpected(decisions.error());

  std::optional<std::set<std::string>> earlier;
  if (!since.empty() && !core::is_date(since)) {
    auto known = decided_at_revision(ws, since);
    if (!known)
      return with_context(known.error(), "--since");
    earlier = std::move(*known);
  }

  // The latest run's verdicts, for supersessions and retired cases run with --include-retired.
  std::map<std::string, std::string> latest_verdict;
  if (runs) {
    auto list = runs->list_runs();
    if (!list)
      return std::unexpected(list.error());
    if (!list->empty()) {
      auto summary = run::summarize(*runs, list->back().id);
      if (!summary)
        return std::unexpected(summary.error());
      for (const auto& o : summary->cases)
        latest_verdict[o.case_id] = o.verdict;
    }
    for (auto it = list->rbegin(); it != list->rend() && !a.retired_run; ++it) {
      if (!it->settings.value("include_retired", false))
        continue;
      auto summary = run::summarize(*runs, it->id);
      if (!summary)
        return std::unexpected(summary.error());
      a.retired_run = it->id;
      for (const auto& o : summary->cases)
        if (o.status == "retired")
          a.retired_results.emplace_back(o.case_id, o.verdict);
    }
  }

  for (const auto& d : *decisions) {
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
    for (const auto& target : d.superseded_by) {
      auto t = by_id.find(target);
      if (t == by_id.end())
        a.weak_supersessions.push_back(
            fmt::format("{} -> {}: the case does not exist", d.case_id, target));
      else if (!suite::is_live(t->second->status))
        a.weak_supersessions.push_back(fmt::format("{} -> {}: {} itself is {}", d.case_id, target,
                                                   target, suite::to_string(t->second->status)));
      else if (auto v = latest_verdict.find(target);
               v != latest_verdict.end() && (v->second == "fail" || v->second == "error"))
        a.weak_supersessions.push_back(fmt::format("{} -> {}: {} {} in the latest run", d.case_id,
                                                   target, target,
                                                   v->second == "fail" ? "fails" : "errors"));
    }
    if (d.revisit && *d.revisit <= today)
      a.overdue.push_back(fmt::format("{}: revisit {}", d.case_id, *d.revisit));
    a.retirements.push_back(std::move(r));
  }

  std::set<std::string> guarded;
  for (const auto& c : *cases)
    if (suite::is_live(c.status) && c.provenance.kind == suite::ProvenanceKind::incident)
      guarded.insert(c.provenance.incident);
  for (const auto& i : *incidents)
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
      out +=
          fmt::format("  {}: {}\n", id, verdict == "pass" ? "would still pass" : "now " + verdict);
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
  return out + "\n";
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
    results[id] = verdict;
  j["retired_results"] = std::move(results);
  return j;
}

} // namespace evalkeep::report
