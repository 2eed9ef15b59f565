#include "report/run_report.hpp"

#include "core/terminal.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace evalkeep::report {

using ojson = nlohmann::ordered_json;

namespace {

// One line of a model's text for a terminal: line breaks and tabs become spaces, and any other
// control character is shown in caret notation ("^[" for ESC, core::for_terminal), so an answer
// can never move the cursor or colour the terminal it is printed on.
std::string trim(std::string_view text, std::size_t width) {
  std::string line(text);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  std::string s = core::for_terminal(line);
  if (s.size() <= width)
    return s;
  std::size_t cut = width - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  return s.substr(0, cut) + "…";
}

std::string percent(const run::Rate& r) {
  return r.total ? fmt::format("{:.0f}%", 100 * r.value()) : "-";
}

ojson rate_json(const run::Rate& r) {
  if (!r.total)
    return nullptr;
  return {{"passed", r.passed}, {"total", r.total}, {"rate", r.value()}};
}

} // namespace

ojson summary_json(const run::RunSummary& s) {
  ojson j;
  j["run"] = s.run.id;
  j["state"] = s.run.state;
  if (s.run.stop_reason)
    j["stop_reason"] = *s.run.stop_reason;
  j["provider"] = s.run.provider;
  j["model"] = s.run.model;
  j["total"] = s.total;
  j["passed"] = s.passed;
  j["failed"] = s.failed;
  j["errored"] = s.errored;
  j["xfail"] = s.xfail;
  j["xpass"] = s.xpass;
  j["flaky"] = s.flaky;
  j["missing"] = s.missing;
  j["retired"] = {{"passed", s.retired_passed}, {"failed", s.retired_failed}};
  j["requests"] = s.requests;
  j["cached"] = s.cached;
  j["git_commit"] = s.run.git_commit ? ojson(*s.run.git_commit) : ojson();
  j["suite_hash"] = s.run.suite_hash;
  ojson failures = ojson::array();
  for (const auto& c : s.cases) {
    if (c.verdict == "pass" || c.verdict == "xfail")
      continue;
    ojson f;
    f["case"] = c.case_id;
    f["status"] = c.status;
    f["verdict"] = c.verdict;
    f["incident"] = c.incident ? ojson(*c.incident) : ojson();
    f["reason"] = c.first_failure;
    f["answer"] = c.answer;
    f["passes"] = c.passes;
    f["trials"] = c.trials;
    f["flaky"] = c.flaky;
    failures.push_back(std::move(f));
  }
  j["failures"] = std::move(failures);
  j["exit_code"] = s.exit_code();
  return j;
}

std::string summary_text(const run::RunSummary& s) {
  std::string out = fmt::format(
      "run {}: {} case{} against {} ({})\n  passed {}   failed {}   errored {}   xfail {}   "
      "flaky {}\n",
      s.run.id, s.total, s.total == 1 ? "" : "s", s.run.provider, s.run.model, s.passed, s.failed,
      s.errored, s.xfail, s.flaky);
  if (s.xpass)
    out +=
        fmt::format("  {} xfail case{} now pass: consider `evalkeep edit CASE --status active`\n",
                    s.xpass, s.xpass == 1 ? "" : "s");
  if (s.retired_passed + s.retired_failed)
    out +=
        fmt::format("  retired cases (reported, not gating): {} would still pass, {} would fail\n",
                    s.retired_passed, s.retired_failed);
  out += fmt::format("  {} request{}, {} from cache\n", s.requests, s.requests == 1 ? "" : "s",
                     s.cached);
  if (s.run.state == "stopped")
    out += fmt::format("  stopped early: {}\n  finish it later with: evalkeep run --resume {}\n",
                       s.run.stop_reason.value_or("?"), s.run.id);
  bool header = false;
  std::size_t width = 12;
  for (const auto& c : s.cases)
    width = std::max(width, c.case_id.size());
  for (const auto& c : s.cases) {
    if (c.verdict == "pass" || c.verdict == "xfail" || c.verdict == "xpass")
      continue;
    if (!header) {
      out += "\nnot passing:\n";
      header = true;
    }
    std::string label = c.verdict;
    if (c.status == "retired")
      label = "retired/" + c.verdict;
    if (c.trials > 1)
      label += fmt::format(" {}/{}", c.passes, c.trials);
    out += fmt::format("  {:<{}}  {:<8}  {:<10}  {}\n", c.case_id, width, c.incident.value_or("-"),
                       label, trim(c.first_failure, 72));
    if (!c.answer.empty())
      out += fmt::format("  {:<{}}  answer: {}\n", "", width, trim(c.answer, 72));
  }
  return out;
}

ojson run_detail_json(const run::RunSummary& s) {
  ojson j = summary_json(s);
  ojson cases = ojson::array();
  std::map<std::string, run::Rate> incidents, tags;
  for (const auto& c : s.cases) {
    cases.push_back({{"case", c.case_id},
                     {"status", c.status},
                     {"verdict", c.verdict},
                     {"incident", c.incident ? ojson(*c.incident) : ojson()},
                     {"tags", c.tags},
                     {"passes", c.passes},
                     {"trials", c.trials},
                     {"flaky", c.flaky},
                     {"reason", c.first_failure}});
    if (c.status == "retired")
      continue;
    bool ok = c.verdict == "pass" || c.verdict == "xpass";
    if (c.incident) {
      ++incidents[*c.incident].total;
      incidents[*c.incident].passed += ok;
    }
    for (const auto& t : c.tags) {
      ++tags[t].total;
      tags[t].passed += ok;
    }
  }
  j["cases"] = std::move(cases);
  ojson bi = ojson::object(), bt = ojson::object();
  for (const auto& [k, r] : incidents)
    bi[k] = rate_json(r);
  for (const auto& [k, r] : tags)
    bt[k] = rate_json(r);
  j["by_incident"] = std::move(bi);
  j["by_tag"] = std::move(bt);
  return j;
}

std::string run_detail_text(const run::RunSummary& s) {
  std::string out = summary_text(s);
  auto j = run_detail_json(s);
  out += "\nby incident:\n";
  for (const auto& [k, v] : j["by_incident"].items())
    out += fmt::format("  {:<14} {}/{}\n", k, v["passed"].get<std::size_t>(),
                       v["total"].get<std::size_t>());
  out += "\nby tag:\n";
  for (const auto& [k, v] : j["by_tag"].items())
    out += fmt::format("  {:<14} {}/{}\n", k, v["passed"].get<std::size_t>(),
                       v["total"].get<std::size_t>());
  out += "\ncases:\n";
  for (const auto& c : s.cases)
    out += fmt::format("  {:<36} {:<8} {:<8} {}/{}\n", c.case_id, c.status, c.verdict, c.passes,
                       c.trials);
  return out;
}

ojson diff_json(const run::RunDiff& d) {
  auto changes = [](const std::vector<run::CaseChange>& v) {
    ojson arr = ojson::array();
    for (const auto& c : v)
      arr.push_back({{"case", c.case_id},
                     {"incident", c.incident ? ojson(*c.incident) : ojson()},
                     {"was", c.was},
                     {"now", c.now},
                     {"reason", c.reason}});
    return arr;
  };
  auto rates = [](const std::map<std::string, std::pair<run::Rate, run::Rate>>& m) {
    ojson o = ojson::object();
    for (const auto& [k, r] : m)
      o[k] = {{"a", rate_json(r.first)}, {"b", rate_json(r.second)}};
    return o;
  };
  ojson j;
  j["a"] = d.a;
  j["b"] = d.b;
  j["regressions"] = changes(d.regressions);
  j["fixes"] = changes(d.fixes);
  j["still_failing"] = changes(d.still_failing);
  j["added"] = changes(d.added);
  j["dropped"] = changes(d.dropped);
  j["by_incident"] = rates(d.by_incident);
  j["by_tag"] = rates(d.by_tag);
  ojson settings = ojson::object();
  for (const auto& [k, v] : d.settings)
    settings[k] = {{"a", v.first}, {"b", v.second}};
  j["changed"] = std::move(settings);
  return j;
}

std::string diff_text(const run::RunDiff& d) {
  std::string out = fmt::format("run {} → run {}\n", d.a, d.b);
  for (const auto& [k, v] : d.settings)
    out += fmt::format("  {}: {} → {}\n", k, trim(v.first, 40), trim(v.second, 40));
  auto section = [&](const char* title, const std::vector<run::CaseChange>& v) {
    out += fmt::format("\n{} ({}):\n", title, v.size());
    std::size_t width = 12;
    for (const auto& c : v)
      width = std::max(width, c.case_id.size());
    for (const auto& c : v)
      out += fmt::format("  {:<{}}  {:<8}  {} → {}  {}\n", c.case_id, width,
                         c.incident.value_or("-"), c.was, c.now, trim(c.reason, 60));
  };
  section("regressions", d.regressions);
  section("fixes", d.fixes);
  section("still failing", d.still_failing);
  if (!d.added.empty())
    section("new in B", d.added);
  if (!d.dropped.empty())
    section("not in B", d.dropped);
  out += "\npass rate by incident (A → B):\n";
  for (const auto& [k, r] : d.by_incident)
    out += fmt::format("  {:<14} {:>5} → {:<5}\n", k, percent(r.first), percent(r.second));
  out += "\npass rate by tag (A → B):\n";
  for (const auto& [k, r] : d.by_tag)
    out += fmt::format("  {:<14} {:>5} → {:<5}\n", k, percent(r.first), percent(r.second));
  return out;
}

ojson runs_json(const std::vector<run::RunRecord>& runs) {
  ojson arr = ojson::array();
  for (const auto& r : runs)
    arr.push_back({{"run", r.id},
                   {"started_at", r.started_at},
                   {"finished_at", r.finished_at ? ojson(*r.finished_at) : ojson()},
                   {"state", r.state},
                   {"provider", r.provider},
                   {"model", r.model},
                   {"git_commit", r.git_commit ? ojson(*r.git_commit) : ojson()},
                   {"git_branch", r.git_branch ? ojson(*r.git_branch) : ojson()},
                   {"git_dirty", r.git_dirty ? ojson(*r.git_dirty) : ojson()},
                   {"suite_hash", r.suite_hash}});
  return arr;
}

std::string runs_text(const std::vector<run::RunRecord>& runs) {
  std::string out;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    out += fmt::format("{:>5}  {}  {:<9} {:<20} {:<24} {}{}\n", it->id, it->started_at, it->state,
                       trim(it->provider, 20), trim(it->model, 24),
                       it->git_commit ? it->git_commit->substr(0, 10) : "-",
                       it->git_dirty.value_or(false) ? "+dirty" : "");
  return out;
}

} // namespace evalkeep::report
