#include "report/gate_report.hpp"

#include "core/terminal.hpp"
#include "report/html.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace evalkeep::report {

using ojson = nlohmann::ordered_json;

namespace {

ojson opt(const std::optional<std::string>& v) {
  return v ? ojson(*v) : ojson();
}

// Text for Markdown outside code: every character Markdown or HTML would read as syntax is
// written as an HTML entity, which GitHub shows as the character itself (a backslash escape
// would show as a backslash inside code and in some renderers). Lines become one.
std::string md_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\`*_<>[]|&~#!").find(c) != std::string_view::npos)
      out += fmt::format("&#{};", static_cast<int>(c));
    else
      out += c == '\n' || c == '\r' ? ' ' : c;
  }
  return out;
}

// A code span: fenced with one more backtick than the longest run inside, so the text shows as
// it is. Only outside tables, where a '|' would end the cell.
std::string md_code(std::string_view s) {
  std::size_t longest = 0, run = 0;
  std::string text;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    text += c == '\n' || c == '\r' ? ' ' : c;
  }
  std::string fence(longest + 1, '`');
  bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  return fence + (pad ? " " : "") + text + (pad ? " " : "") + fence;
}

// Text for XML: escaped, with control characters shown in caret notation (XML 1.0 forbids
// most of them, even as character references).
std::string xml_text(std::string_view s) {
  return html_escape(core::for_terminal(s));
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string decision_line(const gate::Retired& r) {
  if (!r.decision)
    return "no decision";
  const auto& d = *r.decision;
  return fmt::format("{}: {} (decided by {}{}){}", suite::to_string(d.reason), d.rationale,
                     d.decided_by, d.approved_by ? ", approved by " + *d.approved_by : "",
                     d.superseded_by.empty()
                         ? ""
                         : fmt::format("; superseded by {}", fmt::join(d.superseded_by, ", ")));
}

std::string run_line(const gate::RunSection& r) {
  return fmt::format("run {} ({}, {}{}, {}): {} live case{} checked, {} passed, {} failed, {} "
                     "not run",
                     r.run.id, r.run.provider, r.run.exec ? "" : "model ", r.run.model, r.run.state,
                     r.cases.size(), r.cases.size() == 1 ? "" : "s", r.passed, r.failed, r.not_run);
}

// Whether the verdict rests on answers the run did not ask for: "the verdict rests on 12
// replayed answers and judge verdicts (12 made here by run 3); 28 requests made".
std::string replay_line(const gate::RunInfo& run) {
  auto replayed = run.replayed_count();
  if (replayed == 0)
    return fmt::format("every answer was asked for: {} request{} made, none replayed", run.requests,
                       run.requests == 1 ? "" : "s");
  std::vector<std::string> from;
  for (const auto& r : run.replayed)
    from.push_back(fmt::format("{} {}", r.answers + r.judge_verdicts, r.from));
  return fmt::format("the verdict rests on {} replayed answer{} and judge verdicts ({}); {} "
                     "request{} made",
                     replayed, replayed == 1 ? "" : "s", fmt::join(from, "; "), run.requests,
                     run.requests == 1 ? "" : "s");
}

std::string counts_line(const gate::GateReport& r) {
  return fmt::format("active cases: {} -> {} ({:+}); xfail: {} -> {} ({:+})", r.before.active,
                     r.after.active, r.after.active - r.before.active, r.before.xfail,
                     r.after.xfail, r.after.xfail - r.before.xfail);
}

std::string provider_change_text(const gate::ProviderChange& c) {
  return c.field.empty() ? fmt::format("{}: {} -> {}", c.provider, c.before, c.after)
                         : fmt::format("{}: {} {} -> {}", c.provider, c.field, c.before, c.after);
}

std::string policy_change_text(const suite::PolicyChange& c) {
  return fmt::format("{}: {} -> {} ({})", c.rule, c.before, c.after,
                     c.loosened ? "loosened; the base's value applies" : "tightened");
}

ojson replayed_json(const gate::RunInfo& run) {
  ojson out = ojson::array();
  for (const auto& r : run.replayed)
    out.push_back({{"from", r.from}, {"answers", r.answers}, {"judge_verdicts", r.judge_verdicts}});
  return out;
}

// The suite's pass rate against the baseline's: "-6.0 points (95% CI -9.1 to -2.9) from run 3
// over 300 paired cases: p = 0.001 that it fell by more than 0.0 points (paired-z; alpha 0.05)".
std::string drop_text(const gate::SuiteDrop& d, std::int64_t baseline) {
  const auto& f = d.difference;
  return fmt::format("pass rate {:+.1f} points (95% CI {:+.1f} to {:+.1f}) from run {} over {} "
                     "paired case{}: p = {:.3g} that it fell by more than {:.1f} points ({}; "
                     "alpha {}){}{}",
                     100 * f.value, 100 * f.low, 100 * f.high, baseline, f.pairs,
                     f.pairs == 1 ? "" : "s", d.p_value, 100 * d.max_drop, f.test, d.alpha,
                     d.failed() ? ": fails" : ": within what chance explains",
                     d.strict ? "; both runs deterministic: any case that passed there and fails "
                                "now is regressed"
                              : "");
}

ojson drop_json(const std::optional<gate::SuiteDrop>& d) {
  if (!d)
    return ojson();
  const auto& f = d->difference;
  return {{"value", f.value},
          {"low", f.low},
          {"high", f.high},
          {"pairs", f.pairs},
          {"pass_to_fail", f.pass_to_fail},
          {"fail_to_pass", f.fail_to_pass},
          {"test", f.test},
          {"p_value", f.p_value},
          {"p_value_drop", d->p_value},
          {"max_drop", d->max_drop},
          {"alpha", d->alpha},
          {"strict", d->strict},
          {"failed", d->failed()}};
}

ojson run_json(const std::optional<gate::RunSection>& r) {
  if (!r)
    return ojson();
  return {{"id", r->run.id},
          {"provider", r->run.provider},
          {"model", r->run.model},
          {"state", scoring::to_string(r->run.state)},
          {"baseline", r->baseline ? ojson(r->baseline->id) : ojson()},
          {"checked", r->cases.size()},
          {"passed", r->passed},
          {"failed", r->failed},
          {"not_run", r->not_run},
          {"requests", r->run.requests},
          {"replayed", r->run.replayed_count()},
          {"replayed_from", replayed_json(r->run)},
          {"difference", drop_json(r->drop)}};
}

ojson retired_json(const gate::Retired& x) {
  ojson rj{{"case", x.case_id}, {"incident", opt(x.incident)}, {"status", x.status}};
  if (x.decision) {
    rj["reason"] = suite::to_string(x.decision->reason);
    rj["rationale"] = x.decision->rationale;
    rj["decided_by"] = x.decision->decided_by;
    rj["approved_by"] = opt(x.decision->approved_by);
    rj["decided_at"] = x.decision->decided_at;
    rj["superseded_by"] = x.decision->superseded_by;
  }
  return rj;
}

ojson decision_json(const suite::WeakeningDecision& d) {
  return {{"reason", d.reason},
          {"rationale", d.rationale},
          {"decided_by", d.decided_by},
          {"approved_by", opt(d.approved_by)}};
}

ojson edited_json(const gate::Edited& e) {
  ojson changes = ojson::array();
  for (const auto& c : e.changes)
    changes.push_back(suite::to_json(c));
  ojson decisions = ojson::array();
  for (const auto& d : e.decisions)
    decisions.push_back(decision_json(d));
  return {{"case", e.case_id},  {"incident", opt(e.incident)}, {"weakened", e.weakened()},
          {"changes", changes}, {"decisions", decisions},      {"rationales", e.rationales}};
}

std::string decision_text(const suite::WeakeningDecision& d) {
  return fmt::format("{}: {} (decided by {}{})", d.reason, d.rationale, d.decided_by,
                     d.approved_by ? ", approved by " + *d.approved_by : "");
}

// What changed in the configuration and where the suite is, for the JSON report.
void config_json(const gate::GateReport& r, ojson& j) {
  j["suite_moved"] = r.suite_moved
                         ? ojson{{"from", r.suite_moved->first}, {"to", r.suite_moved->second}}
                         : ojson();
  ojson policy = ojson::array();
  for (const auto& c : r.policy_changes)
    policy.push_back(
        {{"rule", c.rule}, {"before", c.before}, {"after", c.after}, {"loosened", c.loosened}});
  j["policy_changes"] = std::move(policy);
  ojson providers = ojson::array();
  for (const auto& c : r.provider_changes)
    providers.push_back({{"provider", c.provider},
                         {"field", c.field.empty() ? ojson() : ojson(c.field)},
                         {"before", c.before},
                         {"after", c.after}});
  j["provider_changes"] = std::move(providers);
}

} // namespace

ojson gate_json(const gate::GateReport& r) {
  ojson j;
  j["passed"] = r.passed();
  j["base"] = r.base;
  j["base_has_suite"] = r.base_has_suite;
  j["trusted_config"] = r.trusted_config;
  ojson v = ojson::array();
  for (const auto& x : r.violations)
    v.push_back({{"rule", gate::to_string(x.rule)},
                 {"case", x.case_id.empty() ? ojson() : ojson(x.case_id)},
                 {"incident", opt(x.incident)},
                 {"message", x.message}});
  j["violations"] = std::move(v);
  config_json(r, j);
  ojson added = ojson::array();
  for (const auto& a : r.added)
    added.push_back(
        {{"case", a.case_id}, {"incident", opt(a.incident)}, {"provenance", a.provenance}});
  j["added"] = std::move(added);
  ojson edited = ojson::array();
  for (const auto& e : r.edited)
    edited.push_back(edited_json(e));
  j["edited"] = std::move(edited);
  ojson retired = ojson::array();
  for (const auto& x : r.retired)
    retired.push_back(retired_json(x));
  j["retired"] = std::move(retired);
  ojson reinstated = ojson::array();
  for (const auto& x : r.reinstated)
    reinstated.push_back(
        {{"case", x.case_id}, {"incident", opt(x.incident)}, {"rationales", x.rationales}});
  j["reinstated"] = std::move(reinstated);
  j["purged"] = r.purged;
  j["active_before"] = r.before.active;
  j["active_after"] = r.after.active;
  j["xfail_before"] = r.before.xfail;
  j["xfail_after"] = r.after.xfail;
  ojson coverage = ojson::array();
  for (const auto& c : r.coverage)
    coverage.push_back({{"incident", c.incident}, {"before", c.before}, {"after", c.after}});
  j["coverage"] = std::move(coverage);
  j["unguarded_incidents"] = r.unguarded_incidents;
  j["run"] = run_json(r.run);
  return j;
}

namespace {

std::string run_text(const gate::RunSection& run) {
  std::string out = fmt::format("\n{}\n  {}\n", run_line(run), replay_line(run.run));
  if (run.baseline)
    out += fmt::format("  baseline: run {} ({}, model {})\n", run.baseline->id,
                       run.baseline->provider, run.baseline->model);
  if (run.drop && run.baseline)
    out += fmt::format("  {}\n", drop_text(*run.drop, run.baseline->id));
  std::size_t width = 0;
  for (const auto& c : run.cases)
    width = c.problem.empty() ? width : std::max(width, c.case_id.size());
  for (const auto& c : run.cases)
    if (!c.problem.empty())
      out +=
          fmt::format("  {:<{}}  {}{}{}\n", c.case_id, width, c.verdict,
                      c.baseline_verdict ? fmt::format(" (baseline: {})", *c.baseline_verdict) : "",
                      c.drop_p ? fmt::format(" {} (p = {:.2g})",
                                             c.violation ? "regressed" : "within noise", *c.drop_p)
                               : "");
  return out;
}

std::string changes_text(const gate::GateReport& r) {
  std::string out;
  if (!r.added.empty()) {
    out += fmt::format("\nadded ({}):\n", r.added.size());
    for (const auto& a : r.added)
      out += fmt::format("  {}  ({})\n", a.case_id, a.provenance);
  }
  if (!r.edited.empty()) {
    out += fmt::format("\nedited ({}):\n", r.edited.size());
    for (const auto& e : r.edited) {
      out += fmt::format("  {}{}{}\n", e.case_id, e.incident ? "  (" + *e.incident + ")" : "",
                         e.weakened() ? "  weakened" : "");
      for (const auto& c : e.changes)
        out += fmt::format("    {}{}\n", suite::describe(c), c.weakens ? "  (weakens)" : "");
      for (const auto& d : e.decisions)
        out += fmt::format("    decision: {}\n", decision_text(d));
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
  if (!r.reinstated.empty()) {
    out += fmt::format("\nreinstated ({}):\n", r.reinstated.size());
    for (const auto& x : r.reinstated) {
      out += fmt::format("  {}{}\n", x.case_id, x.incident ? "  (" + *x.incident + ")" : "");
      for (const auto& why : x.rationales)
        out += fmt::format("    why: {}\n", why);
    }
  }
  if (!r.purged.empty())
    out += fmt::format("\npurged (input and assertions dropped): {}\n", fmt::join(r.purged, ", "));
  return out;
}

} // namespace

std::string gate_text(const gate::GateReport& r) {
  std::string out = fmt::format("gate: {} (base {}{}; judged by {})\n",
                                r.passed() ? "passed" : "FAILED", r.base.substr(0, 12),
                                r.base_has_suite ? "" : ", no suite there", r.trusted_config);
  if (!r.violations.empty()) {
    out += fmt::format("\n{}:\n", plural(r.violations.size(), "violation", "violations"));
    for (const auto& v : r.violations)
      out += fmt::format("  [{}] {}\n", gate::to_string(v.rule), v.message);
  }
  if (r.suite_moved)
    out += fmt::format("\nsuite moved from {} to {}, with its whole history\n",
                       r.suite_moved->first, r.suite_moved->second);
  if (!r.policy_changes.empty()) {
    out += "\npolicy changes:\n";
    for (const auto& c : r.policy_changes)
      out += fmt::format("  {}\n", policy_change_text(c));
  }
  if (!r.provider_changes.empty()) {
    out += "\nprovider changes:\n";
    for (const auto& c : r.provider_changes)
      out += fmt::format("  {}\n", provider_change_text(c));
  }
  if (r.run)
    out += run_text(*r.run);
  out += fmt::format("\n{}\n", counts_line(r));
  out += changes_text(r);
  if (!r.coverage.empty()) {
    out += "\nactive guards by incident:\n";
    for (const auto& c : r.coverage)
      out += fmt::format("  {}: {} -> {}{}\n", c.incident, c.before, c.after,
                         c.after == 0 ? "  (left with no active guard)" : "");
  }
  if (!r.unguarded_incidents.empty())
    out += fmt::format("\nincidents left with no active guarding case: {}\n",
                       fmt::join(r.unguarded_incidents, ", "));
  return out;
}

namespace {

std::string md_table_row(std::initializer_list<std::string> cells) {
  std::string out = "|";
  for (const auto& c : cells)
    out += " " + c + " |";
  return out + "\n";
}

std::string md_run(const gate::RunSection& run) {
  std::string out = fmt::format("\n### Run\n\n{}", md_text(run_line(run)));
  if (run.baseline)
    out += fmt::format("; baseline: run {}", run.baseline->id);
  out += fmt::format(".\n\n{}{}.\n", run.run.replayed_count() ? "**Replayed:** " : "",
                     md_text(replay_line(run.run)));
  if (run.drop && run.baseline)
    out += fmt::format("\n{}{}.\n", run.drop->failed() ? "**Suite regressed:** " : "",
                       md_text(drop_text(*run.drop, run.baseline->id)));
  bool header = false;
  for (const auto& c : run.cases) {
    if (c.problem.empty())
      continue;
    if (!std::exchange(header, true))
      out += "\n| case | verdict | baseline verdict |\n| --- | --- | --- |\n";
    out += md_table_row(
        {md_text(c.case_id), std::string(scoring::to_string(c.verdict)),
         c.baseline_verdict ? std::string(scoring::to_string(*c.baseline_verdict)) : ""});
  }
  return out;
}

std::string md_retired(const gate::GateReport& r) {
  std::string out =
      "\n### Retired: guarantees the team gives up\n\n| case | incident | reason | rationale | "
      "superseded by | decided by | approved by |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& x : r.retired) {
    const auto* d = x.decision ? &*x.decision : nullptr;
    out += md_table_row(
        {md_text(x.case_id), md_text(x.incident.value_or("")),
         d ? std::string(suite::to_string(d->reason)) : "**none**", d ? md_text(d->rationale) : "",
         d ? md_text(fmt::format("{}", fmt::join(d->superseded_by, ", "))) : "",
         d ? md_text(d->decided_by) : "", d && d->approved_by ? md_text(*d->approved_by) : ""});
  }
  return out;
}

std::string md_changes(const gate::GateReport& r) {
  std::string out;
  if (!r.edited.empty()) {
    out += "\n### Edited\n\n";
    for (const auto& e : r.edited) {
      out += fmt::format("- {}{}\n", md_code(e.case_id), e.weakened() ? " **weakened**" : "");
      for (const auto& c : e.changes)
        out +=
            fmt::format("  - {}{}\n", md_code(suite::describe(c)), c.weakens ? " (weakens)" : "");
      for (const auto& d : e.decisions)
        out += fmt::format("  - decision: {}\n", md_text(decision_text(d)));
      for (const auto& why : e.rationales)
        out += fmt::format("  - why: {}\n", md_text(why));
    }
  }
  if (!r.reinstated.empty()) {
    out += "\n### Reinstated\n\n";
    for (const auto& x : r.reinstated) {
      out += fmt::format("- {}", md_code(x.case_id));
      for (const auto& why : x.rationales)
        out += fmt::format(" — why: {}", md_text(why));
      out += "\n";
    }
  }
  if (!r.purged.empty()) {
    out += "\n### Purged (input and assertions dropped)\n\n";
    for (const auto& id : r.purged)
      out += fmt::format("- {}\n", md_code(id));
  }
  if (!r.added.empty()) {
    out += "\n### Added\n\n";
    for (const auto& a : r.added)
      out += fmt::format("- {} ({})\n", md_code(a.case_id), md_text(a.provenance));
  }
  return out;
}

std::string md_config(const gate::GateReport& r) {
  std::string out;
  if (r.suite_moved)
    out += fmt::format("\nThe suite moved from {} to {}, with its whole history.\n",
                       md_code(r.suite_moved->first), md_code(r.suite_moved->second));
  if (!r.policy_changes.empty()) {
    out += "\n### Policy changes\n\n";
    for (const auto& c : r.policy_changes)
      out += fmt::format("- {}\n", md_text(policy_change_text(c)));
  }
  if (!r.provider_changes.empty()) {
    out += "\n### Provider changes\n\n";
    for (const auto& c : r.provider_changes)
      out += fmt::format("- {}\n", md_text(provider_change_text(c)));
  }
  return out;
}

} // namespace

std::string gate_markdown(const gate::GateReport& r) {
  std::string out = fmt::format("## evalkeep gate: {}\n\n", r.passed() ? "✅ passed" : "❌ failed");
  out += fmt::format("Compared with {}, judged by {}. {}.\n", md_code(r.base.substr(0, 12)),
                     md_text(r.trusted_config), md_text(counts_line(r)));
  if (!r.violations.empty()) {
    out += "\n### Violations\n\n| rule | case | incident | problem |\n| --- | --- | --- | --- |\n";
    for (const auto& v : r.violations)
      out += md_table_row({std::string(gate::to_string(v.rule)), md_text(v.case_id),
                           md_text(v.incident.value_or("")), md_text(v.message)});
  }
  out += md_config(r);
  if (r.run)
    out += md_run(*r.run);
  if (!r.retired.empty())
    out += md_retired(r);
  out += md_changes(r);
  if (!r.coverage.empty()) {
    out +=
        "\n### Active guards by incident\n\n| incident | before | after |\n| --- | --- | --- |\n";
    for (const auto& c : r.coverage)
      out += md_table_row({md_text(c.incident), std::to_string(c.before),
                           c.after == 0 ? "**0**" : std::to_string(c.after)});
  }
  if (!r.unguarded_incidents.empty())
    out += fmt::format("\n**Incidents left with no active guarding case:** {}\n",
                       md_text(fmt::format("{}", fmt::join(r.unguarded_incidents, ", "))));
  return out;
}

std::string gate_junit(const gate::GateReport& r) {
  struct Case {
    std::string name, classname, failure;
  };
  std::vector<Case> cases;
  // One testcase per rule, failing when any violation of it does, whether about the suite or
  // one case; the per-case testcases follow.
  for (auto rule : gate::k_rules) {
    if (gate::is_run_rule(rule) && !r.run)
      continue;
    std::string failure;
    for (const auto& v : r.violations)
      if (v.rule == rule)
        failure += v.message + "\n";
    cases.push_back({std::string(gate::to_string(rule)), "evalkeep.gate.rules", failure});
  }
  if (r.run)
    for (const auto& c : r.run->cases)
      cases.push_back(
          {c.case_id, "evalkeep.gate.run", c.drop_p && !c.violation ? std::string() : c.problem});
  for (const auto& v : r.violations)
    if (!v.case_id.empty() && !(r.run && gate::is_run_rule(v.rule)))
      cases.push_back(
          {v.case_id, fmt::format("evalkeep.gate.{}", gate::to_string(v.rule)), v.message});
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
  if (r.run) {
    auto property = [](std::string_view name, const std::string& value) {
      return fmt::format("      <property name=\"evalkeep.{}\" value=\"{}\"/>\n", name,
                         xml_text(value));
    };
    out += "    <properties>\n" + property("requests", std::to_string(r.run->run.requests)) +
           property("replayed", std::to_string(r.run->run.replayed_count())) +
           property("replay", replay_line(r.run->run));
    if (r.run->drop && r.run->baseline)
      out += property("difference", drop_text(*r.run->drop, r.run->baseline->id));
    out += "    </properties>\n";
  }
  for (const auto& c : cases) {
    out += fmt::format("    <testcase name=\"{}\" classname=\"{}\"", xml_text(c.name),
                       xml_text(c.classname));
    if (c.failure.empty())
      out += "/>\n";
    else
      out += fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         xml_text(c.failure.substr(0, c.failure.find('\n'))), xml_text(c.failure));
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
                       annotation_text(gate::to_string(v.rule)), annotation_text(v.message));
  return out;
}

} // namespace evalkeep::report
