#include "report/why.hpp"

#include "core/text.hpp"
#include "git/repo.hpp"
#include "suite/cases.hpp"
#include "suite/incidents.hpp"
#include "suite/retirement.hpp"

#include <cstdlib>
#include <unistd.h>

#include <fmt/format.h>

namespace evalkeep::report {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::optional<git::Commit> first_commit_where(const suite::Workspace& ws,
                                              const std::function<bool(suite::Suite&)>& holds) {
  if (!ws.in_git)
    return std::nullopt;
  std::error_code ec;
  auto relative = fs::relative(ws.suite_path, ws.root, ec).generic_string();
  auto history = git::file_history(ws.root, relative);
  if (!history || history->empty())
    return std::nullopt;
  std::string tmpl = (fs::temp_directory_path() / "evalkeep-history-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    return std::nullopt;
  fs::path dir = tmpl;
  auto test = [&](const git::Commit& c) {
    fs::path file = dir / (c.id + ".db");
    auto found = git::read_file_at(ws.root, c.id, relative, file);
    if (!found || !*found)
      return false;
    auto s = suite::Suite::open_untrusted(file);
    return s && holds(*s);
  };
  std::size_t lo = 0, hi = history->size();
  while (lo < hi) {
    std::size_t mid = (lo + hi) / 2;
    if (test((*history)[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  fs::remove_all(dir, ec);
  if (lo == history->size())
    return std::nullopt; // not committed yet
  return (*history)[lo];
}

Result<CaseStory> why(suite::Suite& s, const suite::Workspace& ws, run::RunsStore* runs,
                      const std::string& case_id) {
  CaseStory story;
  auto c = TRY(suite::get_case(s, case_id));
  story.c = c;
  if (c.provenance.kind == suite::ProvenanceKind::incident)
    if (auto i = suite::get_incident(s, c.provenance.incident))
      story.incident = *i;
  auto events = TRY(suite::read_ledger(s.db(), case_id));
  story.events = std::move(events);
  auto decision = TRY(suite::find_decision(s, case_id));
  story.decision = decision;
  // Cases never leave the suite (a removed one keeps its tombstone), so presence only grows.
  if (auto commit = first_commit_where(
          ws, [&](suite::Suite& at) { return suite::get_case(at, case_id).has_value(); }))
    story.added_in =
        fmt::format("{} {} {}", commit->id.substr(0, 12), commit->date, commit->subject);
  if (runs) {
    auto list = TRY(runs->list_runs());
    for (auto it = list.rbegin(); it != list.rend() && !story.last_run; ++it) {
      auto results = TRY(runs->results(it->id));
      for (auto& r : results)
        if (r.case_id == case_id)
          story.last_results.push_back(std::move(r));
      if (!story.last_results.empty())
        story.last_run = it->id;
    }
  }
  return story;
}

CaseStory::Branch branch_facts(const gate::GateReport& report, const std::string& id,
                               bool at_head) {
  CaseStory::Branch b{report.base, at_head, {}, {}};
  for (const auto& v : report.violations)
    if (v.case_id == id)
      b.problems.push_back(fmt::format("[{}] {}", gate::to_string(v.rule), v.message));
  for (const auto& a : report.added)
    if (a.case_id == id)
      b.changes.push_back("added on this branch");
  for (const auto& e : report.edited) {
    if (e.case_id != id)
      continue;
    for (const auto& c : e.changes)
      b.changes.push_back(suite::describe(c) + (c.weakens ? " (weakens)" : ""));
    for (const auto& d : e.decisions)
      b.changes.push_back(fmt::format("weakening decided: {} — {}", d.reason, d.rationale));
  }
  for (const auto& r : report.retired)
    if (r.case_id == id)
      b.changes.push_back(r.decision ? fmt::format("{} with a decision ({})", r.status,
                                                   suite::to_string(r.decision->reason))
                                     : r.status + " without a decision");
  for (const auto& r : report.reinstated)
    if (r.case_id == id)
      b.changes.push_back("reinstated");
  return b;
}

namespace {

// What the case's evidence holds, as `why` shows it: the logged answer, trimmed to one line, and
// the calls it made.
std::string evidence_text(const nlohmann::json& e) {
  if (!e.is_object())
    return {};
  std::vector<std::string> from;
  for (const char* key : {"source", "id"})
    if (e.contains(key) && e[key].is_string())
      from.push_back(e[key].get<std::string>());
  std::string out =
      fmt::format("\nevidence (as logged{}{}):\n", from.empty() ? "" : ", ", fmt::join(from, " "));
  std::string answer = e.value("answer", "");
  std::string line(core::utf8_prefix(answer, 200));
  for (auto& ch : line)
    if (ch == '\n' || ch == '\r')
      ch = ' ';
  out += fmt::format("  answer: {}{}\n", line.empty() ? "(no text)" : line,
                     line.size() < answer.size() ? "…" : "");
  for (const auto& call : e.value("tool_calls", nlohmann::json::array())) {
    const auto& args = call.value("arguments", nlohmann::json::object());
    out += fmt::format("  called {}({})\n", call.value("name", ""),
                       args.is_string() ? args.get<std::string>() : args.dump());
  }
  return out;
}

} // namespace

std::string why_text(const CaseStory& st) {
  const auto& c = st.c;
  std::string out = fmt::format("case {} ({})\n", c.id, suite::to_string(c.status));
  if (st.incident)
    out += fmt::format("guards {} — {}{}{}\n", st.incident->id, st.incident->title,
                       st.incident->date ? ", " + *st.incident->date : "",
                       st.incident->severity ? ", " + *st.incident->severity : "");
  else
    out +=
        fmt::format("comes from {}: {}\n", suite::to_string(c.provenance.kind), c.provenance.note);
  if (!st.events.empty())
    out += fmt::format("added {} by {}\n", st.events.front().at, st.events.front().actor);
  out += fmt::format("committed in {}\n", st.added_in.value_or("(not committed yet)"));
  out += evidence_text(c.evidence);
  out += "\nhistory:\n";
  for (const auto& e : st.events) {
    out += fmt::format("  {}  {:<9} {}", e.at, e.action, e.actor);
    if (e.rationale)
      out += fmt::format(" — {}", *e.rationale);
    out += "\n";
  }
  if (st.decision) {
    const auto& d = *st.decision;
    out += fmt::format("\nretired: {} — {}\n  decided by {} at {}{}\n", suite::to_string(d.reason),
                       d.rationale, d.decided_by, d.decided_at,
                       d.approved_by ? ", approved by " + *d.approved_by : "");
    if (!d.superseded_by.empty())
      out += fmt::format("  superseded by {}\n", fmt::join(d.superseded_by, ", "));
  }
  if (st.last_run) {
    out += fmt::format("\nlast results (run {}):\n", *st.last_run);
    for (const auto& r : st.last_results)
      out += fmt::format("  trial {}: {}{}\n", r.trial, r.verdict, r.error ? " — " + *r.error : "");
  } else {
    out += "\nno results yet (evalkeep run)\n";
  }
  if (st.branch) {
    const auto& b = *st.branch;
    out += fmt::format("\non this branch (against {}){}:\n", b.base.substr(0, 12),
                       b.at_head ? "" : ", where the case no longer exists; its story at the base");
    if (b.problems.empty() && b.changes.empty())
      out += "  unchanged\n";
    for (const auto& p : b.problems)
      out += "  " + p + "\n";
    for (const auto& change : b.changes)
      out += "  " + change + "\n";
  }
  return out;
}

ojson why_json(const CaseStory& st) {
  ojson j;
  j["case"] = st.c.id;
  j["status"] = suite::to_string(st.c.status);
  j["incident"] = st.incident ? ojson(st.incident->id) : ojson();
  j["incident_title"] = st.incident ? ojson(st.incident->title) : ojson();
  j["provenance"] = {{"kind", suite::to_string(st.c.provenance.kind)},
                     {"note", st.c.provenance.note}};
  j["author"] = st.events.empty() ? ojson() : ojson(st.events.front().actor);
  j["added_at"] = st.events.empty() ? ojson() : ojson(st.events.front().at);
  j["added_in_commit"] = st.added_in ? ojson(*st.added_in) : ojson();
  j["evidence"] = st.c.evidence.is_null() ? ojson() : ojson::parse(st.c.evidence.dump());
  ojson events = ojson::array();
  for (const auto& e : st.events)
    events.push_back({{"seq", e.seq},
                      {"at", e.at},
                      {"actor", e.actor},
                      {"action", e.action},
                      {"rationale", e.rationale ? ojson(*e.rationale) : ojson()}});
  j["history"] = std::move(events);
  if (st.decision) {
    const auto& d = *st.decision;
    j["retirement"] = {{"reason", suite::to_string(d.reason)},
                       {"rationale", d.rationale},
                       {"decided_by", d.decided_by},
                       {"approved_by", d.approved_by ? ojson(*d.approved_by) : ojson()},
                       {"decided_at", d.decided_at},
                       {"superseded_by", d.superseded_by}};
  } else {
    j["retirement"] = nullptr;
  }
  j["last_run"] = st.last_run ? ojson(*st.last_run) : ojson();
  ojson results = ojson::array();
  for (const auto& r : st.last_results)
    results.push_back({{"trial", r.trial},
                       {"verdict", scoring::to_string(r.verdict)},
                       {"error", r.error ? ojson(*r.error) : ojson()}});
  j["last_results"] = std::move(results);
  j["branch"] = st.branch ? ojson{{"base", st.branch->base},
                                  {"at_head", st.branch->at_head},
                                  {"problems", st.branch->problems},
                                  {"changes", st.branch->changes}}
                          : ojson();
  return j;
}

} // namespace evalkeep::report
