// The run report page: what `evalkeep report RUN [--vs RUN]` writes.

#include "report/assets/assets.hpp"
#include "report/html.hpp"
#include "report/run_report.hpp"
#include "run/diff.hpp"
#include "scoring/assertion.hpp"
#include "scoring/stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

namespace evalkeep::report {

using json = nlohmann::json;

Result<RunReport> load_run_report(run::RunsStore& store, std::int64_t id,
                                  std::optional<std::int64_t> vs, std::size_t trend_runs,
                                  std::size_t trend_series) {
  RunReport r;
  auto s = TRY(run::summarize(store, id));
  r.summary = std::move(s);
  auto planned = TRY(store.planned(id));
  r.planned = std::move(planned);
  auto results = TRY(store.results(id));
  r.results = std::move(results);
  auto attempts = TRY(store.attempts(id));
  r.attempts = std::move(attempts);
  if (vs) {
    auto v = run::summarize(store, *vs);
    if (!v)
      return with_context(v.error(), "--vs");
    r.vs = std::move(*v);
  }
  // The trend: earlier runs of the same suite file, by run number, one series per provider and
  // model.
  auto runs = TRY(store.list_runs());
  std::map<std::pair<std::string, std::string>, std::vector<run::RunRecord>> by_series;
  for (auto& rec : runs)
    if (rec.suite_path == r.summary.run.suite_path && rec.id <= id)
      by_series[{rec.provider, run::subject_of(rec)}].push_back(std::move(rec));
  std::vector<TrendSeries> series;
  for (auto& [key, recs] : by_series) {
    std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (recs.size() > trend_runs)
      recs.erase(recs.begin(), recs.end() - static_cast<std::ptrdiff_t>(trend_runs));
    series.push_back({key.first, key.second, {}});
    for (auto& rec : recs)
      series.back().runs.emplace_back(std::move(rec), 0.0);
  }
  // This run's series first, then the others, the most recently run first.
  auto latest = [](const TrendSeries& t) { return t.runs.back().first.id; };
  std::sort(series.begin(), series.end(), [&](const TrendSeries& a, const TrendSeries& b) {
    bool a_here = latest(a) == id, b_here = latest(b) == id;
    return a_here != b_here ? a_here : latest(a) > latest(b);
  });
  if (series.size() > trend_series)
    series.resize(trend_series);
  auto rate = [](const run::RunSummary& x) {
    return x.total ? static_cast<double>(x.passed + x.xpass) / static_cast<double>(x.total) : 0.0;
  };
  for (auto& t : series)
    for (auto& [rec, value] : t.runs) {
      if (rec.id == id) {
        value = rate(r.summary);
        continue;
      }
      auto other = run::summarize(store, rec.id);
      if (!other)
        return with_context(other.error(), fmt::format("run {}", rec.id));
      value = rate(*other);
    }
  r.trend = std::move(series);
  return r;
}

namespace {

std::string card(const std::string& value, const std::string& label) {
  return fmt::format("<div class=\"card\"><b>{}</b><span>{}</span></div>", html_escape(value),
                     html_escape(label));
}

std::string kv(const std::string& key, const std::string& value) {
  return fmt::format("<dt>{}</dt><dd>{}</dd>", html_escape(key), html_escape(value));
}

std::string short_commit(const std::optional<std::string>& c) {
  return c ? c->substr(0, 10) : "no commit";
}

// The nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

bool passed(const run::CaseOutcome& c) {
  return scoring::held(c.verdict);
}

// Pass rates per incident or tag, worst first, at most `limit` bars.
// Each group's pass rate as a bar with its 95% interval (the one runs show --json gives).
std::string rates_chart(const std::string& name, const std::map<std::string, run::Rate>& rates,
                        const std::map<std::string, std::vector<scoring::CaseScore>>& scores,
                        std::size_t limit) {
  std::vector<Bar> bars;
  for (const auto& [k, r] : rates) {
    Bar b{k, r.value(), fmt::format("{}/{}", r.passed, r.total), std::nullopt};
    if (auto it = scores.find(k); it != scores.end() && !it->second.empty()) {
      auto i = scoring::pass_rate(it->second);
      b.interval = {i.low, i.high};
    }
    bars.push_back(std::move(b));
  }
  std::stable_sort(bars.begin(), bars.end(),
                   [](const Bar& a, const Bar& b) { return a.value < b.value; });
  std::string note;
  if (bars.size() > limit) {
    note = fmt::format("<p class=\"note\">The {} lowest of {}.</p>", limit, bars.size());
    bars.resize(limit);
  }
  return bar_chart_svg(name, bars, 1, true) + note;
}

// Whether a stored provider setting says something about a run of this kind of provider: an
// exec program has no HTTP settings (headers, base URL, key variable, connect timeout, Retry-After
// wait, idempotency header, prices per token), and only Anthropic has an API version. The kind,
// name, model and command have lines of their own.
bool shows_param(const std::string& kind, const std::string& key) {
  static const std::set<std::string> k_own_line{"kind", "name", "model", "command", "base_url"};
  static const std::set<std::string> k_http_only{"headers",
                                                 "api_key_env",
                                                 "connect_timeout_s",
                                                 "max_retry_wait_s",
                                                 "idempotency_header",
                                                 "input_price_per_mtok",
                                                 "output_price_per_mtok",
                                                 "cached_input_price_per_mtok",
                                                 "cache_write_price_per_mtok"};
  if (k_own_line.contains(key))
    return false;
  if (key == "anthropic_version")
    return kind == "anthropic";
  return kind != "exec" || !k_http_only.contains(key);
}

// What identifies an exec run's program (the cache key's part for it), as the run stored it.
std::string program_of(const run::RunRecord& run) {
  auto p = run.settings.is_object() ? run.settings.find("exec_program") : run.settings.end();
  if (p != run.settings.end() && p->is_string())
    return p->get<std::string>() + " (the repository's files as the run found them)";
  return "not identified (outside a git repository): answers neither cached nor replayed";
}

std::string settings_list(const run::RunRecord& run) {
  std::string out = "<dl class=\"kv\">";
  out += kv("provider", fmt::format("{} ({})", run.provider, run.provider_kind));
  if (run.provider_kind == "exec") {
    out += kv("ran", run::subject_of(run));
    out += kv("program", program_of(run));
  } else {
    out += kv("model", run.model);
  }
  if (run.base_url)
    out += kv("base URL", *run.base_url);
  if (run.settings.is_object() && run.settings.contains("batch"))
    out += kv("sent", "as a batch: the provider's batch API, answers at its batch price");
  // Only the parameters that are set: null and empty ones say nothing.
  std::string params;
  if (run.params.is_object()) {
    for (const auto& [k, v] : run.params.items()) {
      if (v.is_null() || (v.is_structured() && v.empty()) || !shows_param(run.provider_kind, k))
        continue;
      params += (params.empty() ? "" : " · ") + k + "=" +
                (v.is_string() ? v.get<std::string>()
                               : v.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  out += kv("parameters", params);
  out += kv("settings", run.settings.dump(-1, ' ', false, json::error_handler_t::replace));
  out += kv("git commit", run.git_commit.value_or("unknown"));
  if (run.git_branch)
    out += kv("branch", *run.git_branch + (run.git_dirty.value_or(false) ? " (dirty)" : ""));
  out += kv("suite", run.suite_path);
  out += kv("suite hash", run.suite_hash);
  out += kv("started", run.started_at);
  out += kv("finished", run.finished_at.value_or("-"));
  out +=
      kv("state", fmt::format("{}{}", run.state, run.stop_reason ? ": " + *run.stop_reason : ""));
  out += kv("evalkeep", run.evalkeep_version);
  return out + "</dl>";
}

std::string changes_table(const std::string& id, const std::vector<run::CaseChange>& changes) {
  if (changes.empty())
    return "<p class=\"muted\">none</p>";
  std::string out = fmt::format("<table id=\"{}\"><thead><tr><th>case</th><th>incident</th>"
                                "<th>was</th><th>now</th><th>reason</th></tr></thead><tbody>",
                                id);
  for (const auto& c : changes)
    out +=
        fmt::format("<tr><td>{}</td><td>{}</td><td><span class=\"v v-{}\">{}</span></td>"
                    "<td><span class=\"v v-{}\">{}</span></td><td>{}</td></tr>",
                    html_escape(c.case_id), html_escape(c.incident.value_or("")),
                    run::diff_name(c.was_in.verdict), html_escape(run::to_text(c.was_in)),
                    run::diff_name(c.now_in.verdict), html_escape(run::to_text(c.now_in)),
                    html_escape(c.drop_p ? noise_text(c) + (c.reason.empty() ? "" : "; ") + c.reason
                                         : c.reason));
  return out + "</tbody></table>";
}

std::string deltas_table(const std::string& id, const std::string& what,
                         const std::map<std::string, std::pair<run::Rate, run::Rate>>& rates) {
  if (rates.empty())
    return "<p class=\"muted\">none</p>";
  std::vector<std::pair<std::string, std::pair<run::Rate, run::Rate>>> rows(rates.begin(),
                                                                            rates.end());
  auto delta = [](const auto& p) { return p.second.value() - p.first.value(); };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const auto& a, const auto& b) { return delta(a.second) < delta(b.second); });
  std::string out = fmt::format("<table id=\"{}\"><thead><tr><th>{}</th><th>before</th>"
                                "<th>now</th><th>change</th></tr></thead><tbody>",
                                id, html_escape(what));
  auto cell = [](const run::Rate& r) {
    return r.total ? fmt::format("{:.0f}% ({}/{})", 100 * r.value(), r.passed, r.total)
                   : std::string("-");
  };
  for (const auto& [k, p] : rows) {
    double d = delta(p);
    out +=
        fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{:+.0f} pts</td></tr>",
                    html_escape(k), cell(p.first), cell(p.second),
                    d > 0 ? "delta-up" : (d < 0 ? "delta-down" : ""), 100 * d);
  }
  return out + "</tbody></table>";
}

std::string comparison(const RunReport& r) {
  const auto& vs = *r.vs;
  auto d = run::diff_runs(vs, r.summary);
  std::string out = fmt::format("<section id=\"comparison\"><h2>Compared with run {} ({})</h2>",
                                vs.run.id, html_escape(short_commit(vs.run.git_commit)));
  out += "<div class=\"cards\">";
  out += card(std::to_string(d.regressions.size()), "regressions");
  if (!d.flaky.empty())
    out += card(std::to_string(d.flaky.size()), "passed before, flaky now");
  out += card(std::to_string(d.fixes.size()), "fixes");
  out += card(std::to_string(d.still_failing.size()), "still failing");
  out += card(std::to_string(d.added.size()), "new cases");
  out += card(std::to_string(d.dropped.size()), "dropped cases");
  out += "</div>";
  if (d.difference.pairs)
    out += "<p class=\"note\" id=\"difference\">Pass rate now − before: " +
           html_escape(difference_text(d.difference)) + "</p>";
  out += "<h2>Regressions</h2>" + changes_table("regressions", d.regressions);
  // A case that passed and now passes only some trials: not a regression, not to be hidden.
  if (!d.flaky.empty())
    out += "<h2>Passed before, flaky now</h2>" + changes_table("flaky-now", d.flaky);
  out += "<h2>Fixes</h2>" + changes_table("fixes", d.fixes);
  out += "<h2>What changed between the runs</h2>";
  if (d.settings.empty()) {
    out += "<p class=\"muted\">Same model, parameters, suite and commit.</p>";
  } else {
    out += "<table id=\"changed\"><thead><tr><th>setting</th><th>before</th><th>now</th></tr>"
           "</thead><tbody>";
    for (const auto& [k, v] : d.settings)
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", html_escape(k),
                         html_escape(v.first), html_escape(v.second));
    out += "</tbody></table>";
  }
  out += "<div class=\"grid\"><div><h2>Per incident</h2>" +
         deltas_table("by-incident", "incident", d.by_incident);
  out += "</div><div><h2>Per tag</h2>" + deltas_table("by-tag", "tag", d.by_tag) + "</div></div>";
  return out + "</section>";
}

// The pass rate over the last runs of this suite, one chart per provider and model: this run's
// ("trend"), then the others ("trend-2", ...), each titled with its provider and model.
std::string trend_charts(const std::vector<TrendSeries>& series) {
  std::string out = "<div class=\"trends\"><h2>Pass rate over the last runs of this suite</h2>";
  if (series.size() > 1)
    out += "<p class=\"note\">One chart per provider and model: a pass rate of one model is no "
           "trend of another.</p>";
  out += "<div class=\"grid\">";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& t = series[i];
    std::vector<Bar> bars;
    for (const auto& [rec, value] : t.runs)
      bars.push_back({fmt::format("#{} {}", rec.id, short_commit(rec.git_commit).substr(0, 7)),
                      value, rec.started_at});
    out += fmt::format("<div><h3>{} · {}</h3>", html_escape(t.provider), html_escape(t.model)) +
           column_chart_svg(i == 0 ? std::string("trend") : fmt::format("trend-{}", i + 1), bars,
                            true) +
           "</div>";
  }
  return out + "</div></div>";
}

// The input the model was given, from the case record the run stored.
json case_input(const run::PlannedCase* p) {
  json in = json::object();
  if (!p)
    return in;
  auto rec = json::parse(p->case_json, nullptr, false);
  if (!rec.is_object())
    return in;
  for (const char* key : {"title", "system", "prompt", "messages", "tools", "tool_choice"})
    if (rec.contains(key))
      in[key] = rec[key];
  // Each assertion as it is written on the command line (judge@0.8:RUBRIC, json-path:P=V), so
  // every type shows all it checks; one the scorer cannot read shows as its JSON.
  if (auto e = rec.find("expect"); e != rec.end() && e->is_array()) {
    json specs = json::array();
    for (const auto& a : *e) {
      auto parsed = scoring::from_json(a, scoring::Check::structure);
      specs.push_back(parsed ? scoring::to_spec(*parsed)
                             : a.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    in["expect"] = std::move(specs);
  }
  return in;
}

// An attempt as the expanded row lists it. An exec call has no HTTP status (runs stored before
// this said 200 for each).
json attempt_json(const run::Attempt& a, bool exec) {
  json j{{"attempt", a.attempt},       {"purpose", a.purpose}, {"started_at", a.started_at},
         {"latency_ms", a.latency_ms}, {"outcome", a.outcome}, {"key", a.idempotency_key}};
  if (a.http_status && !exec)
    j["status"] = *a.http_status;
  if (a.error_class)
    j["error_class"] = *a.error_class;
  return j;
}

// Which of a run's calls went to an exec program: its answers (purpose "answer") and its judge
// calls.
struct ExecCalls {
  bool answers = false, judge = false;
  explicit ExecCalls(const run::RunRecord& run) {
    answers = run.provider_kind == "exec";
    judge = run.params.is_object() && run.params.contains("judge") &&
            run.params["judge"].is_object() && run.params["judge"].value("kind", "") == "exec";
  }
  bool operator()(const run::Attempt& a) const { return a.purpose == "answer" ? answers : judge; }
};

// A trial as the expanded row shows it; `attempts` are this trial's, in order.
json trial_json(const run::TrialResult& t, std::span<const run::Attempt> attempts,
                const ExecCalls& exec) {
  json j{{"trial", t.trial},
         {"verdict", scoring::to_string(t.verdict)},
         {"latency_ms", t.latency_ms},
         {"cached", t.cached}};
  if (t.answer)
    j["answer"] = *t.answer;
  if (!t.tool_calls.empty())
    j["tool_calls"] = json::parse(core::tool_calls_text(t.tool_calls));
  if (!t.steps.empty())
    if (auto steps = json::parse(t.steps, nullptr, false); steps.is_array())
      j["steps"] = std::move(steps);
  if (t.error)
    j["error"] = t.error_class ? *t.error_class + ": " + *t.error : *t.error;
  if (t.served_model)
    j["served_model"] = *t.served_model;
  if (t.tokens_in)
    j["tokens_in"] = *t.tokens_in;
  if (t.tokens_out)
    j["tokens_out"] = *t.tokens_out;
  if (t.tokens_cached)
    j["tokens_cached"] = *t.tokens_cached;
  if (t.cost)
    j["cost"] = *t.cost;
  if (t.judge_cost)
    j["judge_cost"] = *t.judge_cost;
  auto assertions = json::parse(t.assertions, nullptr, false);
  j["assertions"] = assertions.is_array() ? assertions : json::array();
  json as = json::array();
  for (const auto& a : attempts)
    as.push_back(attempt_json(a, exec(a)));
  j["attempts"] = std::move(as);
  return j;
}

// A run's trials looked up by case, their attempts by case and trial, and the totals the
// headline shows.
struct TrialIndex {
  std::unordered_map<std::string, const run::PlannedCase*> planned;
  std::unordered_map<std::string, std::vector<const run::TrialResult*>> trials;
  std::map<std::pair<std::string_view, int>, std::span<const run::Attempt>> attempts;
  std::vector<double> latencies; // sorted
  double cost = 0;
  bool priced = false;
  std::int64_t tokens_in = 0, tokens_out = 0;

  explicit TrialIndex(const RunReport& r) {
    for (const auto& p : r.planned)
      planned.emplace(p.case_id, &p);
    for (const auto& t : r.results) {
      trials[t.case_id].push_back(&t);
      latencies.push_back(t.latency_ms);
      // What the run spent: its fresh answers and its judge calls, not what it replayed.
      for (auto c : {t.cached ? std::nullopt : t.cost, t.judge_cost})
        if (c) {
          cost += *c;
          priced = true;
        }
      tokens_in += t.tokens_in.value_or(0);
      tokens_out += t.tokens_out.value_or(0);
    }
    std::sort(latencies.begin(), latencies.end());
    // The attempts come sorted by case and trial: each trial's are one contiguous range.
    for (auto it = r.attempts.begin(); it != r.attempts.end();) {
      auto end = std::find_if(it, r.attempts.end(), [&](const run::Attempt& a) {
        return a.case_id != it->case_id || a.trial != it->trial;
      });
      attempts.emplace(std::pair<std::string_view, int>(it->case_id, it->trial),
                       std::span<const run::Attempt>(it, end));
      it = end;
    }
  }

  std::span<const run::Attempt> attempts_of(const run::TrialResult& t) const {
    auto it = attempts.find({t.case_id, t.trial});
    return it == attempts.end() ? std::span<const run::Attempt>() : it->second;
  }
};

// The page's header and the headline: the cards, where the calls' answers came from, and the
// run's settings (after the comparison with --vs).
std::string headline_section(const RunReport& r, const TrialIndex& ix) {
  const auto& s = r.summary;
  const auto& run = s.run;
  double rate =
      s.total ? static_cast<double>(s.passed + s.xpass) / static_cast<double>(s.total) : 0.0;
  std::string body = fmt::format(
      "<header><h1>evalkeep report: run {}</h1><div class=\"muted\">{} · {} · commit {} · suite "
      "{}</div></header><main>",
      run.id, html_escape(run.provider), html_escape(run::subject_of(run)),
      html_escape(short_commit(run.git_commit)), html_escape(run.suite_hash.substr(0, 12)));
  body += "<section id=\"headline\"><div class=\"cards\">";
  body += card(fmt::format("{:.1f}%", 100 * rate), "pass rate (live cases)");
  if (auto scores = run::scores_of(s.cases); !scores.empty()) {
    auto i = scoring::pass_rate(scores);
    body += card(fmt::format("{:.1f}–{:.1f}%", 100 * i.low, 100 * i.high),
                 fmt::format("95% CI of the pass rate ({})", i.method));
  }
  body += card(std::to_string(s.total), "live cases");
  body += card(std::to_string(s.passed), "passed");
  body += card(std::to_string(s.failed), "failed");
  body += card(std::to_string(s.errored), "errors");
  body += card(fmt::format("{} / {}", s.xfail, s.xpass), "xfail / xpass");
  body += card(std::to_string(s.flaky), "flaky");
  if (s.missing)
    body += card(std::to_string(s.missing), "missing results");
  if (s.retired_passed + s.retired_failed)
    body +=
        card(fmt::format("{} / {}", s.retired_passed, s.retired_failed), "retired: pass / fail");
  body += card(ix.priced ? fmt::format("${:.4f}", ix.cost) : "-", "cost");
  body += card(fmt::format("{} / {}", ix.tokens_in, ix.tokens_out), "tokens in / out");
  body += card(fmt::format("{:.0f} / {:.0f} / {:.0f} ms", percentile(ix.latencies, 50),
                           percentile(ix.latencies, 90), percentile(ix.latencies, 99)),
               "latency p50 / p90 / p99");
  body += card(fmt::format("{} / {}", s.answer_requests, s.judge_requests),
               "requests made: answers / judge");
  body += card(std::to_string(s.replayed), "replayed from a cache");
  body += "</div>";
  // Where the replayed answers came from: a verdict that rests on them says so.
  body += fmt::format("<p class=\"note\" id=\"calls\">{}; {}</p>", html_escape(requests_line(s)),
                      html_escape(replayed_line(s)));
  // With --vs the comparison comes first; the settings of the run follow it.
  if (r.vs)
    return body + "</section>" + comparison(r) + "<section id=\"settings\"><h2>This run</h2>" +
           settings_list(run) + "</section>";
  return body + settings_list(run) + "</section>";
}

// The latency histogram: twelve equal bins from 0 to the slowest trial.
std::vector<Bar> latency_bins(const std::vector<double>& sorted) {
  std::vector<Bar> bins;
  if (sorted.empty())
    return bins;
  constexpr int k_bins = 12;
  double top = std::max(1.0, sorted.back());
  double width = std::ceil(top / k_bins);
  std::vector<std::size_t> counts(k_bins, 0);
  for (double l : sorted)
    ++counts[std::min<std::size_t>(k_bins - 1, static_cast<std::size_t>(l / width))];
  for (int i = 0; i < k_bins; ++i)
    bins.push_back({fmt::format("{:.0f}", width * i), static_cast<double>(counts[i]),
                    fmt::format("{:.0f}–{:.0f} ms", width * i, width * (i + 1))});
  return bins;
}

// The charts: pass rates of the live cases by incident and by tag, latency, and the trend.
std::string charts_section(const RunReport& r, const TrialIndex& ix) {
  std::map<std::string, run::Rate> incidents, tags;
  std::map<std::string, std::vector<scoring::CaseScore>> incident_scores, tag_scores;
  for (const auto& c : r.summary.cases) {
    if (c.status == "retired")
      continue;
    auto score = run::score_of(c);
    if (c.incident) {
      ++incidents[*c.incident].total;
      incidents[*c.incident].passed += passed(c);
      if (score)
        incident_scores[*c.incident].push_back(*score);
    }
    for (const auto& t : c.tags) {
      ++tags[t].total;
      tags[t].passed += passed(c);
      if (score)
        tag_scores[t].push_back(*score);
    }
  }
  std::string out = "<section id=\"charts\"><div class=\"grid\">";
  out += "<div><h2>Pass rate by incident</h2>" +
         rates_chart("incident", incidents, incident_scores, 40) + "</div>";
  out += "<div><h2>Pass rate by tag</h2>" + rates_chart("tag", tags, tag_scores, 40) + "</div>";
  out += "<p class=\"note\">Error bars: the 95% interval of each pass rate.</p>";
  out += "<div><h2>Latency (ms, trials)</h2>" +
         column_chart_svg("latency", latency_bins(ix.latencies), false) + "</div>";
  return out + "</div>" + trend_charts(r.trend) + "</section>";
}

// The case table's data, which the script renders: one compact row per case, and each case's
// details (input, trials, attempts), parsed only when a row is opened.
std::pair<json, json> case_data(const RunReport& r, const TrialIndex& ix) {
  std::unordered_map<std::string, scoring::Verdict> was;
  if (r.vs)
    for (const auto& c : r.vs->cases)
      was.emplace(c.case_id, c.verdict);
  json rows = json::array(), details = json::array();
  ExecCalls exec_calls(r.summary.run);
  for (const auto& c : r.summary.cases) {
    json row = {c.case_id,      scoring::to_string(c.verdict),
                c.status,       c.incident ? json(*c.incident) : json(),
                c.tags,         c.passes,
                c.trials,       c.flaky,
                c.first_failure};
    if (r.vs) {
      auto it = was.find(c.case_id);
      row.push_back(it == was.end() ? json() : json(scoring::to_string(it->second)));
    }
    rows.push_back(std::move(row));
    auto p = ix.planned.find(c.case_id);
    json d{{"input", case_input(p == ix.planned.end() ? nullptr : p->second)}};
    json ts = json::array();
    if (auto t = ix.trials.find(c.case_id); t != ix.trials.end())
      for (const auto* tr : t->second)
        ts.push_back(trial_json(*tr, ix.attempts_of(*tr), exec_calls));
    d["trials"] = std::move(ts);
    details.push_back(std::move(d));
  }
  return {std::move(rows), std::move(details)};
}

// The case table's filters and head; the script fills its body.
std::string cases_section(const RunReport& r) {
  std::string out =
      "<section id=\"cases\"><h2>Cases</h2><div class=\"filters\">"
      "<select id=\"f-status\" aria-label=\"status\"><option value=\"\">every verdict</option>"
      "<option value=\"not-pass\">not passing</option><option value=\"pass\">pass</option>"
      "<option value=\"fail\">fail</option><option value=\"error\">error</option>"
      "<option value=\"xfail\">xfail</option><option value=\"xpass\">xpass</option>"
      "<option value=\"missing\">missing</option><option value=\"flaky\">flaky</option>"
      "<option value=\"retired\">retired</option><option value=\"regression\">regressions"
      "</option><option value=\"fix\">fixes</option></select>"
      "<select id=\"f-incident\" aria-label=\"incident\"><option value=\"\">every "
      "incident</option></select>"
      "<select id=\"f-tag\" aria-label=\"tag\"><option value=\"\">every tag</option></select>"
      "<input id=\"f-q\" type=\"search\" placeholder=\"search case, reason, incident, tag\">"
      "<span id=\"shown\" class=\"muted\"></span></div><table><thead><tr><th "
      "data-sort=\"id\">case</th>"
      "<th data-sort=\"verdict\">verdict</th>";
  if (r.vs)
    out += fmt::format("<th>in run {}</th>", r.vs->run.id);
  return out + "<th>status</th><th data-sort=\"incident\">incident</th><th>tags</th>"
               "<th data-sort=\"trials\">passes</th><th>first failure</th></tr></thead>"
               "<tbody id=\"case-rows\"></tbody></table>"
               "<noscript><p>The case table needs JavaScript.</p></noscript></section>";
}

} // namespace

std::string run_report_html(const RunReport& r) {
  const auto& run = r.summary.run;
  TrialIndex ix(r);
  std::string body = headline_section(r, ix) + charts_section(r, ix) + cases_section(r);
  auto [rows, details] = case_data(r, ix);
  body += "<script type=\"application/json\" id=\"cases-data\">" + json_for_script(rows) +
          "</script>\n";
  body += "<script type=\"application/json\" id=\"details-data\">" + json_for_script(details) +
          "</script>\n";
  body += "<p class=\"note\">Written by evalkeep " + html_escape(run.evalkeep_version) +
          ". Click a row for the input, every trial's answer and every assertion's reason.</p>";
  body += "</main>";
  // The script renders the case table from the JSON blocks, filters and sorts it, and reads the
  // filter from the URL's fragment (report.html#status=fail&q=refund).
  return html_page(fmt::format("evalkeep report: run {}", run.id), body,
                   std::string(assets::run_report_js()));
}

} // namespace evalkeep::report
