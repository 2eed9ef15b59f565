#include "report/gate_report.hpp"

#include "core/terminal.hpp"
#include "report/html.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace evalkeep::report {

using ojson = nlohmann::ordered_json;

namespace {

ojson opt(const std::optional<std::string>& v) {
  return v ? ojson(*v) : ojson();
}

std::string md_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>' || c == '[' ||
        c == ']')
      out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string decision_line(const gate::Retired& r) {
  if (!r.decision)
    return "no decision";
  const auto& d = *r.decision;
  return fmt::format("{}: {} (decided by {}{})", suite::to_string(d.reason), d.rationale,
                     d.decided_by, d.approved_by ? ", approved by " + *d.approved_by : "");
}

std::string run_line(const gate::RunSection& r) {
  return fmt::format("run {} ({}, model {}, {}): {} live case{} checked, {} passed, {} failed, {} "
                     "not run",
                     r.run.id, r.run.provider, r.run.model, r.run.state, r.cases.size(),
                     r.cases.size() == 1 ? "" : "s", r.passed, r.failed, r.not_run);
}

// The rules rule 4 applies case by case: JUnit shows each checked case once, under the run.
bool is_run_rule(std::string_view rule) {
  return rule == "case-failed" || rule == "regressed" || rule == "case-not-run";
}

ojson run_json(const std::optional<gate::RunSection>& r) {
  if (!r)
    return ojson();
  return {{"id", r->run.id},
          {"provider", r->run.provider},
          {"model", r->run.model},
          {"state", r->run.state},
          {"baseline", r->baseline ? ojson(r->baseline->id) : ojson()},
          {"checked", r->cases.size()},
          {"passed", r->passed},
          {"failed", r->failed},
          {"not_run", r->not_run}};
}

} // namespace

ojson gate_json(const gate::GateReport& r) {
  ojson j;
  j["passed"] = r.passed();
  j["base"] = r.base;
  j["base_has_suite"] = r.base_has_suite;
  ojson v = ojson::array();
  for (const auto& x : r.violations)
    v.push_back({{"rule", x.rule},
                 {"case", x.case_id.empty() ? ojson() : ojson(x.case_id)},
                 {"incident", opt(x.incident)},
                 {"message", x.message}});
  j["violations"] = std::move(v);
  ojson added = ojson::array();
  for (const auto& a : r.added)
    added.push_back(
        {{"case", a.case_id}, {"incident", opt(a.incident)}, {"provenance", a.provenance}});
  j["added"] = std::move(added);
  ojson edited = ojson::array();
  for (const auto& e : r.edited)
    edited.push_back({{"case", e.case_id},
                      {"incident", opt(e.incident)},
                      {"assertions_removed", e.assertions_removed},
                      {"assertions_loosened", e.assertions_loosened},
                      {"rationales", e.rationales}});
  j["edited"] = std::move(edited);
  ojson retired = ojson::array();
  for (const auto& x : r.retired) {
    ojson rj{{"case", x.case_id}, {"incident", opt(x.incident)}, {"status", x.status}};
    if (x.decision) {
      rj["reason"] = suite::to_string(x.decision->reason);
      rj["rationale"] = x.decision->rationale;
      rj["decided_by"] = x.decision->decided_by;
      rj["approved_by"] = opt(x.decision->approved_by);
      rj["decided_at"] = x.decision->decided_at;
      rj["superseded_by"] = x.decision->superseded_by;
    }
    retired.push_back(std::move(rj));
  }
  j["retired"] = std::move(retired);
  j["active_before"] = r.active_before;
  j["active_after"] = r.active_after;
  j["unguarded_incidents"] = r.unguarded_incidents;
  j["run"] = run_json(r.run);
  return j;
}

std::string gate_text(const gate::GateReport& r) {
  std::string out = fmt::format("gate: {} (base {}{})\n", r.passed() ? "passed" : "FAILED",
                                r.base.substr(0, 12), r.base_has_suite ? "" : ", no suite there");
  if (!r.violations.empty()) {
    out += fmt::format("\n{} violation{}:\n", r.violations.size(),
                       r.violations.size() == 1 ? "" : "s");
    for (const auto& v : r.violations)
      out += fmt::format("  [{}] {}\n", v.rule, v.message);
  }
  if (r.run) {
    out += fmt::format("\n{}\n", run_line(*r.run));
    if (r.run->baseline)
      out += fmt::format("  baseline: run {} ({}, model {})\n", r.run->baseline->id,
                         r.run->baseline->provider, r.run->baseline->model);
    std::size_t width = 0;
    for (const auto& c : r.run->cases)
      width = c.problem.empty() ? width : std::max(width, c.case_id.size());
    for (const auto& c : r.run->cases)
      if (!c.problem.empty())
        out += fmt::format("  {:<{}}  {}{}\n", c.case_id, width, c.verdict,
                           c.baseline_verdict ? " (baseline: " + *c.baseline_verdict + ")" : "");
  }
  out += fmt::format("\nactive cases: {} -> {} ({:+})\n", r.active_before, r.active_after,
                     r.active_after - r.active_before);
  if (!r.added.empty()) {
    out += fmt::format("\nadded ({}):\n", r.added.size());
    for (const auto& a : r.added)
      out += fmt::format("  {}  ({})\n", a.case_id, a.provenance);
  }
  if (!r.edited.empty()) {
    out += fmt::format("\nedited ({}):\n", r.edited.size());
    for (const auto& e : r.edited) {
      out += fmt::format("  {}{}\n", e.case_id, e.incident ? "  (" + *e.incident + ")" : "");
      for (const auto& a : e.assertions_removed)
        out += fmt::format("    assertion removed: {}\n", a);
      for (const auto& a : e.assertions_loosened)
        out += fmt::format("    assertion loosened: {}\n", a);
      for (const auto& why : e.rationales)
        out += fmt::format("    why: {}\n", why);
    }
  }
  if (!r.retired.empty()) {
    out += fmt::format("\nretired ({}) — guarantees the team gives up:\n", r.retired.size());
    for (const auto& x : r.retired)
      out += fmt::format("  {}{}  {}\n", x.case_id, x.incident ? "  (" + *x.incident + ")" : "",
                         decision_line(x));
  }
  if (!r.unguarded_incidents.empty())
    out += fmt::format("\nincidents left with no active guarding case: {}\n",
                       fmt::join(r.unguarded_incidents, ", "));
  return out;
}

std::string gate_markdown(const gate::GateReport& r) {
  std::string out = fmt::format("## evalkeep gate: {}\n\n", r.passed() ? "✅ passed" : "❌ failed");
  out += fmt::format("Compared with `{}`. Active cases: {} → {} ({:+}).\n", r.base.substr(0, 12),
                     r.active_before, r.active_after, r.active_after - r.active_before);
  if (!r.violations.empty()) {
    out += "\n### Violations\n\n| rule | case | incident | problem |\n| --- | --- | --- | --- |\n";
    for (const auto& v : r.violations)
      out += fmt::format("| {} | {} | {} | {} |\n", v.rule, md_escape(v.case_id),
                         md_escape(v.incident.value_or("")), md_escape(v.message));
  }
  if (r.run) {
    out += fmt::format("\n### Run\n\n{}", md_escape(run_line(*r.run)));
    if (r.run->baseline)
      out += fmt::format("; baseline: run {}", r.run->baseline->id);
    out += ".\n";
    bool header = false;
    for (const auto& c : r.run->cases) {
      if (c.problem.empty())
        continue;
      if (!std::exchange(header, true))
        out += "\n| case | verdict | baseline verdict |\n| --- | --- | --- |\n";
      out += fmt::format("| {} | {} | {} |\n", md_escape(c.case_id), c.verdict,
                         c.baseline_verdict.value_or(""));
    }
  }
  if (!r.retired.empty()) {
    out +=
        "\n### Retired: guarantees the team gives up\n\n| case | incident | reason | rationale | "
        "decided by | approved by |\n| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& x : r.retired) {
      const auto* d = x.decision ? &*x.decision : nullptr;
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", md_escape(x.case_id),
                         md_escape(x.incident.value_or("")),
                         d ? std::string(suite::to_string(d->reason)) : "**none**",
                         d ? md_escape(d->rationale) : "", d ? md_escape(d->decided_by) : "",
                         d && d->approved_by ? md_escape(*d->approved_by) : "");
    }
  }
  if (!r.edited.empty()) {
    out += "\n### Edited\n\n";
    for (const auto& e : r.edited) {
      out += fmt::format("- `{}`", e.case_id);
      for (const auto& a : e.assertions_removed)
        out += fmt::format(" — removed `{}`", md_escape(a));
      for (const auto& a : e.assertions_loosened)
        out += fmt::format(" — loosened `{}`", md_escape(a));
      out += "\n";
    }
  }
  if (!r.added.empty()) {
    out += "\n### Added\n\n";
    for (const auto& a : r.added)
      out += fmt::format("- `{}` ({})\n", md_escape(a.case_id), md_escape(a.provenance));
  }
  if (!r.unguarded_incidents.empty())
    out += fmt::format("\n**Incidents left with no active guarding case:** {}\n",
                       fmt::join(r.unguarded_incidents, ", "));
  return out;
}

std::string gate_junit(const gate::GateReport& r) {
  struct Case {
    std::string name, classname, failure;
  };
  std::vector<Case> cases;
  for (const char* rule :
       {"verify", "schema-downgraded", "history-rewritten", "case-deleted",
        "retired-without-decision", "needs-incident", "decision-needs-approver"}) {
    std::string failure;
    for (const auto& v : r.violations)
      if (v.rule == rule && v.case_id.empty())
        failure += v.message + "\n";
    cases.push_back({rule, "evalkeep.gate.rules", failure});
  }
  if (r.run) {
    std::string failure;
    for (const auto& v : r.violations)
      if (v.rule == "run-incomplete")
        failure += v.message + "\n";
    cases.push_back({"run-incomplete", "evalkeep.gate.rules", failure});
    for (const auto& c : r.run->cases)
      cases.push_back({c.case_id, "evalkeep.gate.run", c.problem});
  }
  for (const auto& v : r.violations)
    if (!v.case_id.empty() && !(r.run && is_run_rule(v.rule)))
      cases.push_back({v.case_id, "evalkeep.gate." + v.rule, v.message});
  for (const auto& a : r.added)
    cases.push_back({a.case_id, "evalkeep.gate.added", ""});
  for (const auto& x : r.retired)
    if (x.decision)
      cases.push_back({x.case_id, "evalkeep.gate.retired", ""});
  for (const auto& e : r.edited)
    cases.push_back({e.case_id, "evalkeep.gate.edited", ""});
  std::size_t failures = 0;
  for (const auto& c : cases)
    failures += c.failure.empty() ? 0 : 1;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"evalkeep gate\" tests=\"{}\" failures=\"{}\">\n",
                     cases.size(), failures);
  out += fmt::format("  <testsuite name=\"evalkeep gate\" tests=\"{}\" failures=\"{}\">\n",
                     cases.size(), failures);
  for (const auto& c : cases) {
    out += fmt::format("    <testcase name=\"{}\" classname=\"{}\"", html_escape(c.name),
                       html_escape(c.classname));
    if (c.failure.empty())
      out += "/>\n";
    else
      out += fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         html_escape(c.failure.substr(0, c.failure.find('\n'))),
                         html_escape(c.failure));
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string annotation_text(std::string_view text) {
  std::string out;
  for (char c : core::for_terminal(text))
    out += c == '%' ? "%25" : c == '\n' ? "%0A" : std::string(1, c);
  return out;
}

std::string gate_annotations(const gate::GateReport& r, const std::string& suite_path) {
  std::string out;
  for (const auto& v : r.violations)
    out += fmt::format("::error file={},title=evalkeep gate: {}::{}\n", annotation_text(suite_path),
                       annotation_text(v.rule), annotation_text(v.message));
  return out;
}

} // namespace evalkeep::report
