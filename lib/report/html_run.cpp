// The run report page: what `evalkeep report RUN [--vs RUN]` writes.

#include "report/html.hpp"
#include "run/diff.hpp"
#include "scoring/assertion.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

namespace evalkeep::report {

using json = nlohmann::json;

Result<RunReport> load_run_report(run::RunsStore& store, std::int64_t id,
                                  std::optional<std::int64_t> vs, std::size_t trend_runs) {
  RunReport r;
  auto s = run::summarize(store, id);
  if (!s)
    return std::unexpected(s.error());
  r.summary = std::move(*s);
  auto planned = store.planned(id);
  if (!planned)
    return std::unexpected(planned.error());
  r.planned = std::move(*planned);
  auto results = store.results(id);
  if (!results)
    return std::unexpected(results.error());
  r.results = std::move(*results);
  auto attempts = store.attempts(id);
  if (!attempts)
    return std::unexpected(attempts.error());
  r.attempts = std::move(*attempts);
  if (vs) {
    auto v = run::summarize(store, *vs);
    if (!v)
      return with_context(v.error(), "--vs");
    r.vs = std::move(*v);
  }
  // The trend: earlier runs of the same suite file, by run number.
  auto runs = store.list_runs();
  if (!runs)
    return std::unexpected(runs.error());
  std::vector<run::RunRecord> same;
  for (auto& rec : *runs)
    if (rec.suite_path == r.summary.run.suite_path && rec.id <= id)
      same.push_back(std::move(rec));
  std::sort(same.begin(), same.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (same.size() > trend_runs)
    same.erase(same.begin(), same.end() - static_cast<std::ptrdiff_t>(trend_runs));
  auto rate = [](const run::RunSummary& x) {
    return x.total ? static_cast<double>(x.passed + x.xpass) / static_cast<double>(x.total) : 0.0;
  };
  for (auto& rec : same) {
    if (rec.id == id) {
      r.trend.emplace_back(r.summary.run, rate(r.summary));
      continue;
    }
    auto other = run::summarize(store, rec.id);
    if (!other)
      return with_context(other.error(), fmt::format("run {}", rec.id));
    r.trend.emplace_back(std::move(rec), rate(*other));
  }
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
  return c.verdict == "pass" || c.verdict == "xpass";
}

// Pass rates per incident or tag, worst first, at most `limit` bars.
std::string rates_chart(const std::string& name, const std::map<std::string, run::Rate>& rates,
                        std::size_t limit) {
  std::vector<Bar> bars;
  for (const auto& [k, r] : rates)
    bars.push_back({k, r.value(), fmt::format("{}/{}", r.passed, r.total)});
  std::stable_sort(bars.begin(), bars.end(),
                   [](const Bar& a, const Bar& b) { return a.value < b.value; });
  std::string note;
  if (bars.size() > limit) {
    note = fmt::format("<p class=\"note\">The {} lowest of {}.</p>", limit, bars.size());
    bars.resize(limit);
  }
  return bar_chart_svg(name, bars, 1, true) + note;
}

std::string settings_list(const run::RunRecord& run) {
  std::string out = "<dl class=\"kv\">";
  out += kv("provider", fmt::format("{} ({})", run.provider, run.provider_kind));
  out += kv("model", run.model);
  if (run.base_url)
    out += kv("base URL", *run.base_url);
  // Only the parameters that are set: null and empty ones say nothing.
  std::string params;
  if (run.params.is_object()) {
    for (const auto& [k, v] : run.params.items()) {
      if (v.is_null() || (v.is_structured() && v.empty()))
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
  out += kv("state", run.state + (run.stop_reason ? ": " + *run.stop_reason : ""));
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
    out += fmt::format("<tr><td>{}</td><td>{}</td><td><span class=\"v v-{}\">{}</span></td>"
                       "<td><span class=\"v v-{}\">{}</span></td><td>{}</td></tr>",
                       html_escape(c.case_id), html_escape(c.incident.value_or("")),
                       html_escape(c.was), html_escape(c.was), html_escape(c.now),
                       html_escape(c.now), html_escape(c.reason));
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
  out += card(std::to_string(d.fixes.size()), "fixes");
  out += card(std::to_string(d.still_failing.size()), "still failing");
  out += card(std::to_string(d.added.size()), "new cases");
  out += card(std::to_string(d.dropped.size()), "dropped cases");
  out += "</div>";
  out += "<h2>Regressions</h2>" + changes_table("regressions", d.regressions);
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

// The input the model was given, from the case record the run stored.
json case_input(const run::PlannedCase* p) {
  json in = json::object();
  if (!p)
    return in;
  auto rec = json::parse(p->case_json, nullptr, false);
  if (!rec.is_object())
    return in;
  for (const char* key : {"title", "system", "prompt", "messages"})
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

json attempt_json(const run::Attempt& a) {
  json j{{"attempt", a.attempt},       {"purpose", a.purpose}, {"started_at", a.started_at},
         {"latency_ms", a.latency_ms}, {"outcome", a.outcome}, {"key", a.idempotency_key}};
  if (a.http_status)
    j["status"] = *a.http_status;
  if (a.error_class)
    j["error_class"] = *a.error_class;
  return j;
}

// A trial as the expanded row shows it; `attempts` are this trial's, in order.
json trial_json(const run::TrialResult& t, std::span<const run::Attempt> attempts) {
  json j{{"trial", t.trial},
         {"verdict", t.verdict},
         {"latency_ms", t.latency_ms},
         {"cached", t.cached}};
  if (t.answer)
    j["answer"] = *t.answer;
  if (t.error)
    j["error"] = t.error_class ? *t.error_class + ": " + *t.error : *t.error;
  if (t.served_model)
    j["served_model"] = *t.served_model;
  if (t.tokens_in)
    j["tokens_in"] = *t.tokens_in;
  if (t.tokens_out)
    j["tokens_out"] = *t.tokens_out;
  if (t.cost)
    j["cost"] = *t.cost;
  auto assertions = json::parse(t.assertions, nullptr, false);
  j["assertions"] = assertions.is_array() ? assertions : json::array();
  json as = json::array();
  for (const auto& a : attempts)
    as.push_back(attempt_json(a));
  j["attempts"] = std::move(as);
  return j;
}

// The page's script: renders the case table from the JSON blocks, filters and sorts it, and
// reads the filter from the URL's fragment (report.html#status=fail&q=refund).
constexpr const char* k_table_script = R"js((function () {
  'use strict';
  var t0 = performance.now();
  var cases = JSON.parse(document.getElementById('cases-data').textContent);
  var details = null;
  function detail(i) {
    if (!details) details = JSON.parse(document.getElementById('details-data').textContent);
    return details[i];
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  var rank = {fail: 0, error: 1, missing: 2, xpass: 3, xfail: 4, pass: 5};
  var keys = ['status', 'incident', 'tag', 'q', 'sort', 'dir', 'open'];
  var state = {status: '', incident: '', tag: '', q: '', sort: 'verdict', dir: '1', open: ''};
  var h = new URLSearchParams(location.hash.slice(1));
  keys.forEach(function (k) { if (h.has(k)) state[k] = h.get(k); });
  var hasVs = cases.length > 0 && cases[0].length > 9;
  var ui = {};
  ['status', 'incident', 'tag', 'q'].forEach(function (k) { ui[k] = document.getElementById('f-' + k); });
  function fill(select, values) {
    values.forEach(function (v) { var o = el('option', null, v); o.value = v; select.appendChild(o); });
  }
  var incidents = {}, tags = {};
  cases.forEach(function (c) { if (c[3]) incidents[c[3]] = 1; c[4].forEach(function (t) { tags[t] = 1; }); });
  fill(ui.incident, Object.keys(incidents).sort());
  fill(ui.tag, Object.keys(tags).sort());
  if (!hasVs) ['regression', 'fix'].forEach(function (v) {
    var o = ui.status.querySelector('option[value="' + v + '"]'); if (o) o.remove();
  });
  ['status', 'incident', 'tag', 'q'].forEach(function (k) { ui[k].value = state[k]; });
  // A case row: [id, verdict, status, incident, tags, passes, trials, flaky, reason, was?]
  function matches(c, q) {
    var s = state.status;
    if (s === 'not-pass' ? (c[1] === 'pass' || c[1] === 'xfail')
        : s === 'flaky' ? !c[7]
        : s === 'retired' ? c[2] !== 'retired'
        : s === 'regression' ? !(c[9] === 'pass' && (c[1] === 'fail' || c[1] === 'error'))
        : s === 'fix' ? !((c[9] === 'fail' || c[9] === 'error') && c[1] === 'pass')
        : s && c[1] !== s) return false;
    if (state.incident && c[3] !== state.incident) return false;
    if (state.tag && c[4].indexOf(state.tag) < 0) return false;
    if (q && (c[0] + ' ' + c[8] + ' ' + (c[3] || '') + ' ' + c[4].join(' ')).toLowerCase().indexOf(q) < 0) return false;
    return true;
  }
  var cmp = {
    id: function (a, b) { return cases[a][0] < cases[b][0] ? -1 : cases[a][0] > cases[b][0] ? 1 : 0; },
    verdict: function (a, b) { return (rank[cases[a][1]] - rank[cases[b][1]]) || cmp.id(a, b); },
    incident: function (a, b) { var x = cases[a][3] || '\uffff', y = cases[b][3] || '\uffff'; return x < y ? -1 : x > y ? 1 : cmp.id(a, b); },
    trials: function (a, b) { return (cases[a][5] / (cases[a][6] || 1)) - (cases[b][5] / (cases[b][6] || 1)) || cmp.id(a, b); }
  };
  var tbody = document.getElementById('case-rows');
  function badge(v) { return el('span', 'v v-' + v, v); }
  function renderDetail(i) {
    var c = cases[i], d = detail(i), td = el('td');
    td.colSpan = hasVs ? 8 : 7;
    var inp = d.input || {};
    if (inp.title) td.appendChild(el('h3', null, inp.title));
    td.appendChild(el('h4', null, 'Input'));
    if (inp.system) { td.appendChild(el('div', 'note', 'system')); td.appendChild(el('pre', 'input', inp.system)); }
    if (inp.prompt) td.appendChild(el('pre', 'input', inp.prompt));
    (inp.messages || []).forEach(function (m) { td.appendChild(el('div', 'note', m.role)); td.appendChild(el('pre', 'input', m.content)); });
    if (inp.expect && inp.expect.length) td.appendChild(el('div', 'note', 'expects: ' + inp.expect.join(' · ')));
    (d.trials || []).forEach(function (t) {
      var head = el('h4', null, 'Trial ' + t.trial + ' ');
      head.appendChild(badge(t.verdict));
      var facts = [Math.round(t.latency_ms) + ' ms'];
      if (t.cached) facts.push('cached');
      if (t.served_model) facts.push(t.served_model);
      if (t.tokens_in !== undefined) facts.push(t.tokens_in + ' in / ' + (t.tokens_out || 0) + ' out tokens');
      if (t.cost !== undefined) facts.push('$' + t.cost.toFixed(6));
      head.appendChild(el('span', 'note', ' ' + facts.join(' · ')));
      td.appendChild(head);
      if (t.error) td.appendChild(el('pre', 'error', t.error));
      if (t.answer !== undefined) td.appendChild(el('pre', 'answer', t.answer));
      var ul = el('ul', 'assertions');
      t.assertions.forEach(function (a) {
        var li = el('li', null, (a.passed ? '\u2713 ' : '\u2717 ') + a.assertion + (a.score !== undefined ? ' (score ' + a.score + ')' : '') + (a.reason ? ': ' + a.reason : ''));
        li.className = a.passed ? 'ok' : 'bad';
        ul.appendChild(li);
      });
      td.appendChild(ul);
      if (t.attempts && t.attempts.length) {
        var at = el('table', 'attempts');
        var hr = el('tr');
        ['attempt', 'for', 'started', 'HTTP', 'error', 'ms', 'outcome'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
        at.appendChild(hr);
        t.attempts.forEach(function (a) {
          var row = el('tr');
          [a.attempt, a.purpose, a.started_at, a.status !== undefined ? a.status : '-', a.error_class || '', Math.round(a.latency_ms), a.outcome].forEach(function (v) { row.appendChild(el('td', null, String(v))); });
          row.title = 'idempotency key ' + a.key;
          at.appendChild(row);
        });
        td.appendChild(at);
      } else if (t.cached) td.appendChild(el('div', 'note', 'answer replayed from the cache: no HTTP attempt in this run'));
    });
    if (!d.trials || !d.trials.length) td.appendChild(el('p', 'muted', 'No result stored for this case.'));
    var tr = el('tr', 'detail'); tr.appendChild(td);
    return tr;
  }
  function toggle(tr) {
    var next = tr.nextSibling;
    if (next && next.className === 'detail') { next.remove(); state.open = ''; }
    else { tbody.insertBefore(renderDetail(+tr.dataset.i), tr.nextSibling); state.open = cases[+tr.dataset.i][0]; }
    writeHash();
  }
  function writeHash() {
    var p = new URLSearchParams();
    keys.forEach(function (k) { if (state[k] && !(k === 'sort' && state[k] === 'verdict') && !(k === 'dir' && state[k] === '1')) p.set(k, state[k]); });
    try { history.replaceState(null, '', '#' + p.toString()); } catch (e) { /* file:// in some browsers */ }
  }
  function render() {
    var q = state.q.toLowerCase(), idx = [];
    for (var i = 0; i < cases.length; i++) if (matches(cases[i], q)) idx.push(i);
    var f = cmp[state.sort] || cmp.verdict, dir = state.dir === '-1' ? -1 : 1;
    idx.sort(function (a, b) { return dir * f(a, b); });
    var frag = document.createDocumentFragment(), openRow = null;
    idx.forEach(function (i) {
      var c = cases[i], tr = el('tr', 'case');
      tr.dataset.i = i;
      tr.appendChild(el('td', 'id', c[0]));
      var v = el('td'); v.appendChild(badge(c[1])); if (c[7]) v.appendChild(el('span', 'note', ' flaky')); tr.appendChild(v);
      if (hasVs) { var w = el('td'); if (c[9]) w.appendChild(badge(c[9])); tr.appendChild(w); }
      tr.appendChild(el('td', null, c[2]));
      tr.appendChild(el('td', null, c[3] || ''));
      tr.appendChild(el('td', null, c[4].join(', ')));
      tr.appendChild(el('td', null, c[5] + '/' + c[6]));
      tr.appendChild(el('td', 'reason', c[8].length > 200 ? c[8].slice(0, 199) + '\u2026' : c[8]));
      frag.appendChild(tr);
      if (state.open && c[0] === state.open) openRow = tr;
    });
    tbody.textContent = '';
    tbody.appendChild(frag);
    if (openRow) tbody.insertBefore(renderDetail(+openRow.dataset.i), openRow.nextSibling);
    document.getElementById('shown').textContent = idx.length + ' of ' + cases.length + ' cases';
  }
  tbody.addEventListener('click', function (e) {
    var tr = e.target.closest('tr.case'); if (tr) toggle(tr);
  });
  ['status', 'incident', 'tag'].forEach(function (k) {
    ui[k].addEventListener('change', function () { state[k] = ui[k].value; writeHash(); render(); });
  });
  var timer = 0;
  ui.q.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = ui.q.value; writeHash(); render(); }, 120);
  });
  document.querySelectorAll('th[data-sort]').forEach(function (th) {
    th.addEventListener('click', function () {
      var k = th.dataset.sort;
      state.dir = state.sort === k && state.dir === '1' ? '-1' : '1';
      state.sort = k; writeHash(); render();
    });
  });
  render();
  var done = performance.now();
  document.body.dataset.renderMs = (done - t0).toFixed(1);
  document.body.dataset.readyMs = done.toFixed(1);
  document.getElementById('render-ms').textContent = 'table ready ' + Math.round(done) + ' ms after the page started loading';
})();)js";

} // namespace

std::string run_report_html(const RunReport& r) {
  const auto& s = r.summary;
  const auto& run = s.run;
  std::unordered_map<std::string, const run::PlannedCase*> planned;
  for (const auto& p : r.planned)
    planned.emplace(p.case_id, &p);
  std::unordered_map<std::string, std::vector<const run::TrialResult*>> trials;
  std::vector<double> latencies;
  double cost = 0;
  bool priced = false;
  std::int64_t tokens_in = 0, tokens_out = 0;
  for (const auto& t : r.results) {
    trials[t.case_id].push_back(&t);
    latencies.push_back(t.latency_ms);
    if (t.cost) {
      cost += *t.cost;
      priced = true;
    }
    tokens_in += t.tokens_in.value_or(0);
    tokens_out += t.tokens_out.value_or(0);
  }
  std::sort(latencies.begin(), latencies.end());
  // The attempts come sorted by case and trial: each trial's are one contiguous range.
  std::map<std::pair<std::string_view, int>, std::span<const run::Attempt>> attempts;
  for (auto it = r.attempts.begin(); it != r.attempts.end();) {
    auto end = std::find_if(it, r.attempts.end(), [&](const run::Attempt& a) {
      return a.case_id != it->case_id || a.trial != it->trial;
    });
    attempts.emplace(std::pair<std::string_view, int>(it->case_id, it->trial),
                     std::span<const run::Attempt>(it, end));
    it = end;
  }
  auto attempts_of = [&](const run::TrialResult& t) {
    auto it = attempts.find({t.case_id, t.trial});
    return it == attempts.end() ? std::span<const run::Attempt>() : it->second;
  };

  std::map<std::string, run::Rate> incidents, tags;
  for (const auto& c : s.cases) {
    if (c.status == "retired")
      continue;
    if (c.incident) {
      ++incidents[*c.incident].total;
      incidents[*c.incident].passed += passed(c);
    }
    for (const auto& t : c.tags) {
      ++tags[t].total;
      tags[t].passed += passed(c);
    }
  }
  double rate =
      s.total ? static_cast<double>(s.passed + s.xpass) / static_cast<double>(s.total) : 0.0;

  std::string body = fmt::format(
      "<header><h1>evalkeep report: run {}</h1><div class=\"muted\">{} · {} · commit {} · suite "
      "{}</div></header><main>",
      run.id, html_escape(run.provider), html_escape(run.model),
      html_escape(short_commit(run.git_commit)), html_escape(run.suite_hash.substr(0, 12)));
  body += "<section id=\"headline\"><div class=\"cards\">";
  body += card(fmt::format("{:.1f}%", 100 * rate), "pass rate (live cases)");
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
  body += card(priced ? fmt::format("${:.4f}", cost) : "-", "cost");
  body += card(fmt::format("{} / {}", tokens_in, tokens_out), "tokens in / out");
  body += card(fmt::format("{:.0f} / {:.0f} / {:.0f} ms", percentile(latencies, 50),
                           percentile(latencies, 90), percentile(latencies, 99)),
               "latency p50 / p90 / p99");
  body += "</div>";
  // With --vs the comparison comes first; the settings of the run follow it.
  if (r.vs)
    body += "</section>" + comparison(r) + "<section id=\"settings\"><h2>This run</h2>" +
            settings_list(run) + "</section>";
  else
    body += settings_list(run) + "</section>";

  body += "<section id=\"charts\"><div class=\"grid\">";
  body += "<div><h2>Pass rate by incident</h2>" + rates_chart("incident", incidents, 40) + "</div>";
  body += "<div><h2>Pass rate by tag</h2>" + rates_chart("tag", tags, 40) + "</div>";
  // The latency histogram: twelve equal bins from 0 to the slowest trial.
  std::vector<Bar> bins;
  if (!latencies.empty()) {
    constexpr int k_bins = 12;
    double top = std::max(1.0, latencies.back());
    double width = std::ceil(top / k_bins);
    std::vector<std::size_t> counts(k_bins, 0);
    for (double l : latencies)
      ++counts[std::min<std::size_t>(k_bins - 1, static_cast<std::size_t>(l / width))];
    for (int i = 0; i < k_bins; ++i)
      bins.push_back({fmt::format("{:.0f}", width * i), static_cast<double>(counts[i]),
                      fmt::format("{:.0f}–{:.0f} ms", width * i, width * (i + 1))});
  }
  body +=
      "<div><h2>Latency (ms, trials)</h2>" + column_chart_svg("latency", bins, false) + "</div>";
  std::vector<Bar> trend;
  for (const auto& [rec, value] : r.trend)
    trend.push_back({fmt::format("#{} {}", rec.id, short_commit(rec.git_commit).substr(0, 7)),
                     value, rec.model});
  body += "<div><h2>Pass rate over the last runs of this suite</h2>" +
          column_chart_svg("trend", trend, true) + "</div>";
  body += "</div></section>";

  // The case table, rendered by the script from compact rows; details are parsed on demand.
  std::unordered_map<std::string, std::string> was;
  if (r.vs)
    for (const auto& c : r.vs->cases)
      was.emplace(c.case_id, c.verdict);
  json rows = json::array(), details = json::array();
  for (const auto& c : s.cases) {
    json row = {c.case_id,      c.verdict, c.status, c.incident ? json(*c.incident) : json(),
                c.tags,         c.passes,  c.trials, c.flaky,
                c.first_failure};
    if (r.vs) {
      auto it = was.find(c.case_id);
      row.push_back(it == was.end() ? json() : json(it->second));
    }
    rows.push_back(std::move(row));
    auto p = planned.find(c.case_id);
    json d{{"input", case_input(p == planned.end() ? nullptr : p->second)}};
    json ts = json::array();
    if (auto t = trials.find(c.case_id); t != trials.end())
      for (const auto* tr : t->second)
        ts.push_back(trial_json(*tr, attempts_of(*tr)));
    d["trials"] = std::move(ts);
    details.push_back(std::move(d));
  }
  body += "<section id=\"cases\"><h2>Cases</h2><div class=\"filters\">"
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
          "<span id=\"shown\" class=\"muted\"></span> <span id=\"render-ms\" class=\"note\">"
          "</span></div><table><thead><tr><th data-sort=\"id\">case</th>"
          "<th data-sort=\"verdict\">verdict</th>";
  if (r.vs)
    body += fmt::format("<th>in run {}</th>", r.vs->run.id);
  body += "<th>status</th><th data-sort=\"incident\">incident</th><th>tags</th>"
          "<th data-sort=\"trials\">passes</th><th>first failure</th></tr></thead>"
          "<tbody id=\"case-rows\"></tbody></table>"
          "<noscript><p>The case table needs JavaScript.</p></noscript></section>";
  body += "<script type=\"application/json\" id=\"cases-data\">" + json_for_script(rows) +
          "</script>\n";
  body += "<script type=\"application/json\" id=\"details-data\">" + json_for_script(details) +
          "</script>\n";
  body += "<p class=\"note\">Written by evalkeep " + html_escape(run.evalkeep_version) +
          ". Click a row for the input, every trial's answer and every assertion's reason.</p>";
  body += "</main>";
  return html_page(fmt::format("evalkeep report: run {}", run.id), body, k_table_script);
}

} // namespace evalkeep::report
