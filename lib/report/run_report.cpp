#include "report/run_report.hpp"

#include "core/terminal.hpp"
#include "run/merge.hpp"

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

ojson interval_json(const scoring::Interval& i) {
  ojson j{{"value", i.value},
          {"low", i.low},
          {"high", i.high},
          {"method", i.method},
          {"cases", i.cases}};
  if (i.method == "clustered by incident")
    j["clusters"] = i.clusters;
  return j;
}

// "78.6% (95% CI 74.1–82.5%)"
std::string interval_text(const scoring::Interval& i) {
  return fmt::format("{:.1f}% (95% CI {:.1f}–{:.1f}%)", 100 * i.value, 100 * i.low, 100 * i.high);
}

// The run's pass rate with both intervals: "pass rate 78.6% (95% CI 74.1–82.5%, wilson);
// clustered by incident 73.0–84.1% (12 clusters)".
std::string pass_rate_line(const run::RunSummary& s) {
  auto scores = run::scores_of(s.cases);
  if (scores.empty())
    return "pass rate -";
  auto r = scoring::pass_rate(scores);
  auto c = scoring::clustered_pass_rate(scores);
  return fmt::format("pass rate {}, {}; clustered by incident {:.1f}–{:.1f}% ({} cluster{})",
                     interval_text(r), r.method, 100 * c.low, 100 * c.high, c.clusters,
                     c.clusters == 1 ? "" : "s");
}

const char* plural(std::size_t n) {
  return n == 1 ? "" : "s";
}

// What a request is for this run's provider and judge: an HTTP attempt or an exec invocation.
std::string request_kinds(const run::RunSummary& s) {
  bool exec = s.run.provider_kind == "exec";
  bool judge_exec = s.run.params.is_object() && s.run.params.contains("judge") &&
                    s.run.params["judge"].value("kind", "") == "exec";
  bool judged =
      s.judge_requests > 0 || (s.run.params.is_object() && s.run.params.contains("judge"));
  if (exec && (!judged || judge_exec))
    return "exec invocations";
  if (!exec && (!judged || !judge_exec))
    return "HTTP attempts";
  return "HTTP attempts and exec invocations";
}

ojson replayed_from_json(const run::RunSummary& s) {
  ojson arr = ojson::array();
  for (const auto& r : s.replayed_from)
    arr.push_back({{"label", r.label},
                   {"origin", std::string(run::to_string(r.origin))},
                   {"source", r.source.empty() ? ojson() : ojson(r.source)},
                   {"runs", r.runs},
                   {"answers", r.answers},
                   {"judge_verdicts", r.judge_verdicts}});
  return arr;
}

} // namespace

std::string difference_text(const scoring::PairedDifference& f) {
  return fmt::format("{:+.1f} points (95% CI {:+.1f} to {:+.1f}) over {} paired case{}; {} pass "
                     "→ fail, {} fail → pass; p = {:.3g} ({})",
                     100 * f.value, 100 * f.low, 100 * f.high, f.pairs, plural(f.pairs),
                     f.pass_to_fail, f.fail_to_pass, f.p_value, f.test);
}

std::string noise_text(const run::CaseChange& c) {
  if (!c.drop_p)
    return {};
  return c.within_noise() ? fmt::format("within noise (p = {:.2f})", *c.drop_p)
                          : fmt::format("regressed (p = {:.3f})", *c.drop_p);
}

std::string dollars(double d) {
  return d >= 1 ? fmt::format("${:.2f}", d) : fmt::format("${:.6f}", d);
}

// A batch run whose judge has a batch API (openai, anthropic) sent its judge calls in a batch too.
bool judge_batched(const run::RunSummary& s) {
  if (!s.batch() || !s.run.params.is_object())
    return false;
  auto judge = s.run.params.find("judge");
  if (judge == s.run.params.end() || !judge->is_object())
    return false;
  auto kind = judge->value("kind", std::string());
  return kind == "openai" || kind == "anthropic";
}

// What the run spent and on what, and what its answers cost with the replayed ones: empty when
// unpriced.
std::string cost_line(const run::RunSummary& s) {
  if (!s.cost)
    return {};
  std::string line = fmt::format("cost {}", dollars(*s.cost));
  if (s.judge_cost)
    line += fmt::format(" (answers {}, judge {})", dollars(*s.cost - *s.judge_cost),
                        dollars(*s.judge_cost));
  if (s.batch())
    line += judge_batched(s) ? ", answers and judge calls at the batch price"
                             : ", answers at the batch price";
  if (s.replayed_answers && s.answers_cost)
    line += fmt::format("; its answers, the {} replayed included, cost {} when made",
                        s.replayed_answers, dollars(*s.answers_cost));
  return line;
}

std::string requests_line(const run::RunSummary& s) {
  if (s.requests == 0)
    return "no requests made";
  std::string out =
      fmt::format("{} request{} made ({}, retries included): {} for answers", s.requests,
                  plural(s.requests), request_kinds(s), s.answer_requests);
  if (s.judge_requests || (s.run.params.is_object() && s.run.params.contains("judge")))
    out += fmt::format(", {} judge call{}", s.judge_requests, plural(s.judge_requests));
  return out;
}

std::string replayed_line(const run::RunSummary& s) {
  if (s.replayed == 0)
    return "nothing replayed from a cache";
  std::string out =
      fmt::format("replayed {} answer{}", s.replayed_answers, plural(s.replayed_answers));
  if (s.replayed_judge_verdicts)
    out += fmt::format(" and {} judge verdict{}", s.replayed_judge_verdicts,
                       plural(s.replayed_judge_verdicts));
  out += ":";
  for (std::size_t i = 0; i < s.replayed_from.size(); ++i)
    out +=
        fmt::format("{} {} {}", i ? "," : "", s.replayed_from[i].count(), s.replayed_from[i].label);
  return out;
}

ojson summary_json(const run::RunSummary& s) {
  ojson j;
  j["run"] = s.run.id;
  j["state"] = scoring::to_string(s.run.state);
  if (s.run.stop_reason)
    j["stop_reason"] = *s.run.stop_reason;
  j["provider"] = s.run.provider;
  j["model"] = s.run.model;
  if (s.run.provider_kind == "exec") { // what ran, and what identifies the program, if anything
    auto find = [](const nlohmann::json& o, const char* key) {
      return o.is_object() && o.contains(key) ? ojson::parse(o[key].dump()) : ojson();
    };
    j["command"] = find(s.run.params, "command");
    j["exec_program"] = find(s.run.settings, "exec_program");
  }
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
  j["answer_requests"] = s.answer_requests;
  j["judge_requests"] = s.judge_requests;
  j["replayed"] = s.replayed;
  j["replayed_answers"] = s.replayed_answers;
  j["replayed_judge_verdicts"] = s.replayed_judge_verdicts;
  j["replayed_from"] = replayed_from_json(s);
  j["cached"] = s.replayed; // the older name of "replayed"
  j["counts_estimated"] = s.counts_estimated;
  j["batch"] = s.batch();
  j["cost"] = s.cost ? ojson(*s.cost) : ojson();
  j["judge_cost"] = s.judge_cost ? ojson(*s.judge_cost) : ojson();
  j["answers_cost"] = s.answers_cost ? ojson(*s.answers_cost) : ojson();
  j["git_commit"] = s.run.git_commit ? ojson(*s.run.git_commit) : ojson();
  j["suite_hash"] = s.run.suite_hash;
  // A run made elsewhere and fetched from git (runs fetch): the ref and object it came from.
  auto from =
      s.run.settings.is_object() ? s.run.settings.find("fetched_from") : s.run.settings.end();
  j["fetched_from"] =
      from != s.run.settings.end() && from->is_string() ? ojson(from->get<std::string>()) : ojson();
  // The share of trials passed, averaged over the cases with a result, with 95% intervals.
  auto scores = run::scores_of(s.cases);
  j["pass_rate"] = scores.empty() ? ojson() : interval_json(scoring::pass_rate(scores));
  j["pass_rate_clustered"] =
      scores.empty() ? ojson() : interval_json(scoring::clustered_pass_rate(scores));
  ojson failures = ojson::array();
  for (const auto& c : s.cases) {
    if (scoring::as_expected(c.verdict))
      continue;
    ojson f;
    f["case"] = c.case_id;
    f["status"] = c.status;
    f["verdict"] = scoring::to_string(c.verdict);
    f["incident"] = c.incident ? ojson(*c.incident) : ojson();
    f["reason"] = c.first_failure;
    f["answer"] = c.answer;
    if (!c.tool_calls.empty())
      f["tool_calls"] = ojson::parse(core::tool_calls_text(c.tool_calls));
    f["passes"] = c.passes;
    f["trials"] = c.trials;
    f["flaky"] = c.flaky;
    failures.push_back(std::move(f));
  }
  j["failures"] = std::move(failures);
  j["exit_code"] = static_cast<int>(s.exit_code());
  return j;
}

std::string summary_text(const run::RunSummary& s) {
  std::string out = fmt::format(
      "run {}: {} case{} against {} ({})\n  passed {}   failed {}   errored {}   xfail {}   "
      "flaky {}\n",
      s.run.id, s.total, s.total == 1 ? "" : "s", s.run.provider, run::subject_of(s.run), s.passed,
      s.failed, s.errored, s.xfail, s.flaky);
  if (s.xpass)
    out +=
        fmt::format("  {} xfail case{} now pass: consider `evalkeep edit CASE --status active`\n",
                    s.xpass, s.xpass == 1 ? "" : "s");
  if (s.retired_passed + s.retired_failed)
    out +=
        fmt::format("  retired cases (reported, not gating): {} would still pass, {} would fail\n",
                    s.retired_passed, s.retired_failed);
  out += fmt::format("  {}\n  {}\n  {}\n", pass_rate_line(s), requests_line(s), replayed_line(s));
  if (s.batch())
    out += judge_batched(s) ? "  batch run: answers, then judge calls, through the batch APIs\n"
                            : "  batch run: answers through the provider's batch API\n";
  if (auto cost = cost_line(s); !cost.empty())
    out += "  " + cost + "\n";
  if (s.counts_estimated)
    out += "  (counted from what the run stored: it was made before requests were counted)\n";
  if (s.run.settings.is_object() && s.run.settings.contains("exec_program") &&
      s.run.settings["exec_program"].is_null())
    out += "  exec answers were not cached: outside a git repository nothing identifies the "
           "program\n";
  if (s.run.state == scoring::RunState::stopped && !run::missing_shards(s.run).empty())
    out += fmt::format("  {}\n  run the missing shards (run --shard I/N) and merge every shard "
                       "again\n",
                       s.run.stop_reason.value_or("incomplete"));
  else if (s.run.state == scoring::RunState::stopped)
    out += fmt::format("  stopped early: {}\n  finish it later with: evalkeep run --resume {}\n",
                       s.run.stop_reason.value_or("?"), s.run.id);
  // Each case not passing with its verdict: "fail", or over several trials "fail, 2 of 3
  // passed" (not "fail 2/3", which reads as two failures).
  auto label_of = [](const run::CaseOutcome& c) {
    std::string label = fmt::format("{}{}", c.status == "retired" ? "retired/" : "", c.verdict);
    if (c.trials > 1)
      label += fmt::format(", {} of {} passed", c.passes, c.trials);
    return label;
  };
  auto shown = [](const run::CaseOutcome& c) {
    return !scoring::as_expected(c.verdict) && c.verdict != scoring::Verdict::xpass;
  };
  std::size_t width = 12, label_width = 10;
  for (const auto& c : s.cases) {
    width = std::max(width, c.case_id.size());
    if (shown(c))
      label_width = std::max(label_width, label_of(c).size());
  }
  bool header = false;
  for (const auto& c : s.cases) {
    if (!shown(c))
      continue;
    if (!header) {
      out += "\nnot passing:\n";
      header = true;
    }
    out += fmt::format("  {:<{}}  {:<8}  {:<{}}  {}\n", c.case_id, width, c.incident.value_or("-"),
                       label_of(c), label_width, trim(c.first_failure, 72));
    if (!c.answer.empty())
      out += fmt::format("  {:<{}}  answer: {}\n", "", width, trim(c.answer, 72));
    for (const auto& call : c.tool_calls)
      out +=
          fmt::format("  {:<{}}  called: {}({})\n", "", width, call.name, trim(call.arguments, 60));
  }
  return out;
}

ojson run_detail_json(const run::RunSummary& s) {
  ojson j = summary_json(s);
  ojson cases = ojson::array();
  // Per incident and per tag: cases passed, and the pass rate with its interval.
  struct Group {
    run::Rate rate;
    std::vector<scoring::CaseScore> scores;
  };
  std::map<std::string, Group> incidents, tags;
  for (const auto& c : s.cases) {
    cases.push_back({{"case", c.case_id},
                     {"status", c.status},
                     {"verdict", scoring::to_string(c.verdict)},
                     {"incident", c.incident ? ojson(*c.incident) : ojson()},
                     {"tags", c.tags},
                     {"passes", c.passes},
                     {"trials", c.trials},
                     {"flaky", c.flaky},
                     {"reason", c.first_failure}});
    if (c.status == "retired")
      continue;
    auto score = run::score_of(c);
    auto count = [&](Group& g) {
      ++g.rate.total;
      g.rate.passed += scoring::held(c.verdict);
      if (score)
        g.scores.push_back(*score);
    };
    if (c.incident)
      count(incidents[*c.incident]);
    for (const auto& t : c.tags)
      count(tags[t]);
  }
  j["cases"] = std::move(cases);
  auto group_json = [](const Group& g) {
    ojson r = rate_json(g.rate);
    r["pass_rate"] = g.scores.empty() ? ojson() : interval_json(scoring::pass_rate(g.scores));
    return r;
  };
  ojson bi = ojson::object(), bt = ojson::object();
  for (const auto& [k, g] : incidents)
    bi[k] = group_json(g);
  for (const auto& [k, g] : tags)
    bt[k] = group_json(g);
  j["by_incident"] = std::move(bi);
  j["by_tag"] = std::move(bt);
  return j;
}

std::string run_detail_text(const run::RunSummary& s) {
  std::string out = summary_text(s);
  auto j = run_detail_json(s);
  auto group_line = [](const std::string& k, const ojson& v) {
    std::string line = fmt::format("  {:<14} {} of {}", k, v["passed"].get<std::size_t>(),
                                   v["total"].get<std::size_t>());
    if (const auto& r = v["pass_rate"]; r.is_object())
      line += fmt::format("   pass rate {:.1f}% (95% CI {:.1f}–{:.1f}%)",
                          100 * r["value"].get<double>(), 100 * r["low"].get<double>(),
                          100 * r["high"].get<double>());
    return line + "\n";
  };
  out += "\nby incident (cases passed):\n";
  for (const auto& [k, v] : j["by_incident"].items())
    out += group_line(k, v);
  out += "\nby tag (cases passed):\n";
  for (const auto& [k, v] : j["by_tag"].items())
    out += group_line(k, v);
  out += "\ncases:\n";
  for (const auto& c : s.cases)
    out += fmt::format("  {:<36} {:<8} {:<8} {} of {} trial{} passed{}\n", c.case_id, c.status,
                       c.verdict, c.passes, c.trials, c.trials == 1 ? "" : "s",
                       c.flaky ? " (flaky)" : "");
  return out;
}

ojson diff_json(const run::RunDiff& d) {
  auto verdict = [](const run::VerdictOf& v) {
    return ojson{{"verdict", run::diff_name(v.verdict)},
                 {"passes", v.passes},
                 {"trials", v.trials},
                 {"flaky", v.flaky},
                 {"text", run::to_text(v)}};
  };
  auto changes = [&](const std::vector<run::CaseChange>& v) {
    ojson arr = ojson::array();
    for (const auto& c : v)
      arr.push_back({{"case", c.case_id},
                     {"incident", c.incident ? ojson(*c.incident) : ojson()},
                     {"was", run::diff_name(c.was_in.verdict)},
                     {"now", run::diff_name(c.now_in.verdict)},
                     {"reason", c.reason},
                     {"was_trials", verdict(c.was_in)},
                     {"now_trials", verdict(c.now_in)},
                     {"drop_p_value", c.drop_p ? ojson(*c.drop_p) : ojson()},
                     {"within_noise", c.within_noise()}});
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
  j["flaky"] = changes(d.flaky);
  j["still_failing"] = changes(d.still_failing);
  j["added"] = changes(d.added);
  j["dropped"] = changes(d.dropped);
  j["by_incident"] = rates(d.by_incident);
  j["by_tag"] = rates(d.by_tag);
  const auto& f = d.difference;
  j["difference"] = {{"value", f.value},
                     {"low", f.low},
                     {"high", f.high},
                     {"p_value", f.p_value},
                     {"test", f.test},
                     {"pairs", f.pairs},
                     {"pass_to_fail", f.pass_to_fail},
                     {"fail_to_pass", f.fail_to_pass}};
  ojson settings = ojson::object();
  for (const auto& [k, v] : d.settings)
    settings[k] = {{"a", v.first}, {"b", v.second}};
  j["changed"] = std::move(settings);
  if (d.cost_a || d.cost_b)
    j["cost"] = {{"a", d.cost_a ? ojson(*d.cost_a) : ojson()},
                 {"b", d.cost_b ? ojson(*d.cost_b) : ojson()}};
  return j;
}

std::string diff_text(const run::RunDiff& d) {
  std::string out = fmt::format("run {} → run {}\n", d.a, d.b);
  for (const auto& [k, v] : d.settings)
    out += fmt::format("  {}: {} → {}\n", k, trim(v.first, 40), trim(v.second, 40));
  if (d.difference.pairs)
    out += "  pass rate B − A: " + difference_text(d.difference) + "\n";
  if (d.cost_a || d.cost_b) {
    auto side = [](std::optional<double> c) { return c ? dollars(*c) : std::string("unpriced"); };
    out += fmt::format("  answers' cost: {} → {}", side(d.cost_a), side(d.cost_b));
    if (d.cost_a && d.cost_b && *d.cost_a > 0)
      out += fmt::format(" ({:+.1f}%)", 100 * (*d.cost_b - *d.cost_a) / *d.cost_a);
    out += "\n";
  }
  auto section = [&](const char* title, const std::vector<run::CaseChange>& v) {
    out += fmt::format("\n{} ({}):\n", title, v.size());
    std::size_t width = 12;
    for (const auto& c : v)
      width = std::max(width, c.case_id.size());
    for (const auto& c : v)
      out += fmt::format("  {:<{}}  {:<8}  {} → {}{}  {}\n", c.case_id, width,
                         c.incident.value_or("-"), run::to_text(c.was_in), run::to_text(c.now_in),
                         c.drop_p ? "  " + noise_text(c) : "", trim(c.reason, 60));
  };
  section("regressions", d.regressions);
  if (!d.flaky.empty())
    section("flaky in B (passed in A)", d.flaky);
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
                   {"requests", r.answer_requests + r.judge_requests},
                   {"replayed", r.replayed},
                   {"started_at", r.started_at},
                   {"finished_at", r.finished_at ? ojson(*r.finished_at) : ojson()},
                   {"state", scoring::to_string(r.state)},
                   {"provider", r.provider},
                   {"model", r.model},
                   {"git_commit", r.git_commit ? ojson(*r.git_commit) : ojson()},
                   {"git_branch", r.git_branch ? ojson(*r.git_branch) : ojson()},
                   {"git_dirty", r.git_dirty ? ojson(*r.git_dirty) : ojson()},
                   {"suite_hash", r.suite_hash},
                   {"fetched", r.settings.is_object() && r.settings.contains("fetched_from")}});
  return arr;
}

std::string runs_text(const std::vector<run::RunRecord>& runs) {
  std::string out;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    bool fetched = it->settings.is_object() && it->settings.contains("fetched_from");
    out += fmt::format(
        "{:>5}  {}  {:<9} {:<20} {:<24} {:<16}  {} req, {} replayed{}\n", it->id, it->started_at,
        it->state, trim(it->provider, 20), trim(run::subject_of(*it), 24),
        (it->git_commit ? it->git_commit->substr(0, 10) : "-") +
            (it->git_dirty.value_or(false) ? "+dirty" : ""),
        it->answer_requests + it->judge_requests, it->replayed, fetched ? ", fetched" : "");
  }
  return out;
}

} // namespace evalkeep::report
