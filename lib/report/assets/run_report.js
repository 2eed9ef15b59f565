(function () {
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
  // A function call as one line: name({"arg": ...}), its id after it.
  function callText(c) {
    var args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
    return '\u2192 ' + c.name + '(' + args + ')' + (c.id ? '  [' + c.id + ']' : '');
  }
  // An agent's steps, one at a time: Previous/Next (or the arrow keys) move through them, and
  // "all" lists every step at once.
  function timeline(steps) {
    var box = el('div', 'timeline'), nav = el('div', 'note'), body = el('div');
    var prev = el('button', null, '\u2190 previous'), next = el('button', null, 'next \u2192');
    var all = el('button', null, 'all'), label = el('span', null), at = 0, every = false;
    function describe(s, i) {
      var d = el('div', 'step');
      var facts = ['step ' + (i + 1) + ' of ' + steps.length, s.type === 'tool' ? 'tool ' + s.name : 'model' + (s.model ? ' ' + s.model : '')];
      if (s.latency_ms !== undefined) facts.push(Math.round(s.latency_ms) + ' ms');
      if (s.tokens_in !== undefined || s.tokens_out !== undefined) facts.push((s.tokens_in || 0) + ' in / ' + (s.tokens_out || 0) + ' out tokens');
      d.appendChild(el('h5', null, facts.join(' \u00b7 ')));
      if (s.text) d.appendChild(el('pre', 'answer', s.text));
      (s.tool_calls || []).forEach(function (c) { d.appendChild(el('pre', 'answer', callText(c))); });
      if (s.type === 'tool') d.appendChild(el('pre', 'input', callText(s)));
      if (s.result !== undefined) { d.appendChild(el('div', 'note', 'result')); d.appendChild(el('pre', 'answer', s.result)); }
      if (s.error) d.appendChild(el('pre', 'error', s.error));
      return d;
    }
    function show() {
      body.textContent = '';
      if (every) steps.forEach(function (s, i) { body.appendChild(describe(s, i)); });
      else body.appendChild(describe(steps[at], at));
      label.textContent = every ? ' all ' + steps.length + ' steps ' : ' step ' + (at + 1) + ' of ' + steps.length + ' ';
      prev.disabled = every || at === 0; next.disabled = every || at === steps.length - 1;
    }
    prev.onclick = function () { if (at > 0) { at--; show(); } };
    next.onclick = function () { if (at < steps.length - 1) { at++; show(); } };
    all.onclick = function () { every = !every; show(); };
    box.tabIndex = 0;
    box.onkeydown = function (e) { if (e.key === 'ArrowLeft') prev.onclick(); if (e.key === 'ArrowRight') next.onclick(); };
    nav.appendChild(el('span', null, 'trajectory: '));
    [prev, label, next, all].forEach(function (x) { nav.appendChild(x); });
    box.appendChild(nav); box.appendChild(body); show();
    return box;
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
        : s === 'regression' ? !(c[9] === 'pass' && (c[1] === 'fail' || c[1] === 'error') && !c[7])
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
    (inp.messages || []).forEach(function (m) {
      td.appendChild(el('div', 'note', m.tool_call_id ? 'tool result for ' + m.tool_call_id : m.role));
      if (m.content) td.appendChild(el('pre', 'input', m.content));
      (m.tool_calls || []).forEach(function (c) { td.appendChild(el('pre', 'input', callText(c))); });
    });
    if (inp.tools) td.appendChild(el('div', 'note', 'tools: ' + inp.tools.map(function (t) { return t['function'].name; }).join(', ') + (inp.tool_choice ? ' · tool choice ' + JSON.stringify(inp.tool_choice) : '')));
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
      if (t.answer !== undefined && (t.answer || !t.tool_calls)) td.appendChild(el('pre', 'answer', t.answer));
      if (t.steps && t.steps.length) td.appendChild(timeline(t.steps));
      else (t.tool_calls || []).forEach(function (c) { td.appendChild(el('pre', 'answer', callText(c))); });
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
        // The HTTP column only for HTTP calls: an exec program's have no status.
        var http = t.attempts.some(function (a) { return a.status !== undefined; });
        ['attempt', 'for', 'started'].concat(http ? ['HTTP'] : [], ['error', 'ms', 'outcome']).forEach(function (h) { hr.appendChild(el('th', null, h)); });
        at.appendChild(hr);
        t.attempts.forEach(function (a) {
          var row = el('tr');
          [a.attempt, a.purpose, a.started_at].concat(http ? [a.status !== undefined ? a.status : '-'] : [], [a.error_class || '', Math.round(a.latency_ms), a.outcome]).forEach(function (v) { row.appendChild(el('td', null, String(v))); });
          row.title = 'idempotency key ' + a.key;
          at.appendChild(row);
        });
        td.appendChild(at);
      } else if (t.cached) td.appendChild(el('div', 'note', 'answer replayed from a cache: no request made for it in this run'));
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
      tr.appendChild(el('td', null, c[5] + ' of ' + c[6]));
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
  document.body.dataset.readyMs = done.toFixed(1); // for tests; nothing shows it
})();
