// app.js: the page of apptuit serve. It lists the series the server holds
// (GET /apptuittest/series), runs queries in the Apptuit query language
// (GET /api/query) or PromQL (POST /api/v1/query_range) and charts them
// with chart.js, and shows the request log (GET /apptuittest/requests),
// refreshing all three while the tab is visible. It talks to the server
// it was loaded from and nothing else; the token, when the server needs
// one, is kept in this tab's sessionStorage and sent in the Authorization
// header, never in a URL. Every text from the server is set with
// textContent: names and tags are the clients' data.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'apptuit.token';
  const CLIENT_HEADER = 'X-Apptuit-Client'; // marks the page's own requests in the log
  const SERIES_PAGE = 500;
  const REQUESTS_LIMIT = 200;
  const RANGES = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3, '6h': 21600e3, '24h': 86400e3, '7d': 604800e3 };
  const HELP = {
    apptuit: "Apptuit query language, e.g. fetch('order_count.count').series_sum().rate(). Ctrl+Enter runs it.",
    promql: 'PromQL, e.g. sum by (city) (rate({__name__="order_count.count"}[1m])). Ctrl+Enter runs it.',
  };
  const PLACEHOLDER = {
    apptuit: "fetch('metric.name', {'tag': 'value'})",
    promql: '{__name__="metric.name", tag="value"}',
  };

  const state = {
    seriesLimit: SERIES_PAGE,
    expanded: new Set(),
    query: null, // {lang, q, step} of the last query run
    timer: null,
    busy: false,
    queryBusy: false,
    rerun: false,
    authOK: false,
    lastError: '',
  };
  let chart = null;

  class APIError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function setToken(t) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lasts until the page reloads */ }
    memoryToken = t;
    state.authOK = false;
  }
  let memoryToken = getToken();

  // messageOf finds the error message in an answer of either API.
  function messageOf(body, text, status) {
    if (body && typeof body === 'object') {
      if (body.error && typeof body.error === 'object') {
        return body.error.message + (body.error.details ? ' (' + body.error.details + ')' : '');
      }
      if (typeof body.error === 'string') return (body.errorType ? body.errorType + ': ' : '') + body.error;
    }
    return text ? text.slice(0, 500) : 'HTTP ' + status;
  }

  async function api(path, init) {
    init = init || {};
    const headers = new Headers(init.headers || {});
    headers.set('Accept', 'application/json');
    headers.set(CLIENT_HEADER, 'web-page');
    const token = memoryToken || getToken();
    if (token) headers.set('Authorization', 'Bearer ' + token);
    let resp;
    try {
      resp = await fetch(path, Object.assign({}, init, {
        headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
      }));
    } catch (e) {
      throw new APIError(0, 'the server did not answer (' + e.message + '); is apptuit still running?');
    }
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (resp.status === 401) {
      state.authOK = false;
      showAuth(true);
      throw new APIError(401, messageOf(body, text, 401));
    }
    if (!resp.ok) throw new APIError(resp.status, messageOf(body, text, resp.status));
    showAuth(false);
    return body;
  }

  function showAuth(needed) {
    const banner = $('auth-banner');
    if (banner.hidden === !needed) return;
    banner.hidden = !needed;
    $('token').setAttribute('aria-invalid', String(needed));
    if (needed) $('token').focus();
  }

  function fmtInt(n) { return Number(n).toLocaleString('en-US'); }

  function tagText(tags) {
    return Object.keys(tags || {}).sort().map((k) => k + '=' + tags[k]).join(', ');
  }

  // ---- Metrics ----

  async function loadMetrics() {
    const params = new URLSearchParams({ limit: String(state.seriesLimit) });
    const filter = $('filter').value.trim();
    if (filter) params.set('q', filter);
    let body;
    try {
      body = await api('/apptuittest/series?' + params.toString());
    } catch (e) {
      $('metrics-summary').textContent = e.status === 401 ? 'Needs the API token.' : 'Could not list the series: ' + e.message;
      setLive('error');
      throw e;
    }
    renderStats(body);
    renderMetrics(body, filter);
    return body;
  }

  function renderStats(body) {
    const s = $('stats');
    s.textContent = '';
    const live = document.createElement('span');
    live.id = 'live';
    live.className = 'live';
    s.appendChild(live);
    const parts = [[body.points, 'points'], [body.seriesTotal, 'series'], [body.metricsTotal, 'metrics']];
    parts.forEach(([n, what], i) => {
      if (i > 0) s.appendChild(document.createTextNode(' · '));
      const b = document.createElement('b');
      b.textContent = fmtInt(n);
      s.appendChild(b);
      s.appendChild(document.createTextNode(' ' + what));
    });
    const l = document.createElement('span');
    l.id = 'live-text';
    s.appendChild(document.createTextNode(' · '));
    s.appendChild(l);
    setLive();
  }

  function setLive(kind) {
    const dot = $('live');
    const text = $('live-text');
    if (!dot || !text) return;
    const every = Number($('refresh').value);
    let label = every > 0 ? 'live, every ' + $('refresh').selectedOptions[0].textContent : 'refresh off';
    dot.className = 'live';
    if (document.hidden) { label = 'paused while the tab is hidden'; dot.className = 'live paused'; }
    else if (every === 0) dot.className = 'live paused';
    if (kind === 'error') { dot.className = 'live error'; label = 'server not answering'; }
    text.textContent = label;
  }

  // focusKey remembers the focused control across a re-render.
  function focusKey() {
    const a = document.activeElement;
    return a && a.dataset && a.dataset.key ? a.dataset.key : null;
  }

  function restoreFocus(key, root) {
    if (!key) return;
    const e = root.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (e) e.focus();
  }

  function renderMetrics(body, filter) {
    const list = $('metrics');
    const key = focusKey();
    const scroll = list.scrollTop;
    list.textContent = '';
    const matched = body.matched || { series: 0, metrics: 0 };
    $('metrics-summary').textContent = filter
      ? `${fmtInt(matched.metrics)} metrics, ${fmtInt(matched.series)} series match “${filter}”`
      : `${fmtInt(matched.metrics)} metrics, ${fmtInt(matched.series)} series`;
    if ((body.series || []).length === 0) {
      const li = document.createElement('li');
      li.className = 'metric muted';
      li.textContent = filter ? 'No series match the filter.' : 'No points received yet. Send some with apptuit send, the reporter or any OpenTSDB client.';
      list.appendChild(li);
    }
    const byMetric = new Map();
    for (const s of body.series || []) {
      if (!byMetric.has(s.metric)) byMetric.set(s.metric, []);
      byMetric.get(s.metric).push(s);
    }
    const info = new Map((body.metrics || []).map((m) => [m.metric, m]));
    for (const [metric, series] of byMetric) {
      const m = info.get(metric) || { series: series.length, points: 0, tags: {} };
      const li = document.createElement('li');
      li.className = 'metric';
      li.dataset.metric = metric;
      const row = document.createElement('div');
      row.className = 'metric-row';
      const exp = document.createElement('button');
      exp.type = 'button';
      exp.className = 'expand';
      exp.textContent = '▸';
      exp.dataset.key = 'x:' + metric;
      const open = state.expanded.has(metric);
      exp.setAttribute('aria-expanded', String(open));
      exp.setAttribute('aria-label', (open ? 'Hide' : 'Show') + ' the series of ' + metric);
      exp.addEventListener('click', () => {
        if (state.expanded.has(metric)) state.expanded.delete(metric); else state.expanded.add(metric);
        renderMetrics(body, filter);
      });
      row.appendChild(exp);
      const name = document.createElement('button');
      name.type = 'button';
      name.className = 'metric-name';
      name.textContent = metric;
      name.title = 'Chart ' + metric;
      name.dataset.key = 'm:' + metric;
      name.addEventListener('click', () => chartSeries(metric, null));
      row.appendChild(name);
      if (m.series === 1) {
        const last = document.createElement('span');
        last.className = 'metric-last';
        last.textContent = ApptuitChart.formatShort(series[0].lastValue);
        last.title = 'last value, at ' + ApptuitChart.fullTime(series[0].last);
        row.appendChild(last);
      }
      li.appendChild(row);
      const meta = document.createElement('p');
      meta.className = 'metric-meta';
      const tagKeys = Object.keys(m.tags || {}).sort();
      const tagPart = tagKeys.map((k) => k + ': ' + m.tags[k].join(', ') + (m.tagsTruncated && m.tagsTruncated[k] ? ', …' : '')).join(' · ');
      meta.textContent = `${fmtInt(m.series)} series · ${fmtInt(m.points)} points` + (tagPart ? ' · ' + tagPart : '');
      li.appendChild(meta);
      if (open) {
        const ul = document.createElement('ul');
        ul.className = 'series-list';
        for (const s of series) {
          const sli = document.createElement('li');
          const tags = document.createElement('span');
          tags.className = 'tags';
          for (const k of Object.keys(s.tags || {}).sort()) {
            const t = document.createElement('span');
            t.className = 'tag';
            t.textContent = k + '=' + s.tags[k];
            tags.appendChild(t);
          }
          sli.appendChild(tags);
          const v = document.createElement('span');
          v.className = 'metric-last';
          v.textContent = ApptuitChart.formatShort(s.lastValue);
          v.title = `${fmtInt(s.points)} points; last at ${ApptuitChart.fullTime(s.last)}`;
          sli.appendChild(v);
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = 'Chart';
          b.dataset.key = 's:' + metric + '{' + tagText(s.tags) + '}';
          b.setAttribute('aria-label', 'Chart ' + metric + ' ' + tagText(s.tags));
          b.addEventListener('click', () => chartSeries(metric, s.tags));
          sli.appendChild(b);
          ul.appendChild(sli);
        }
        li.appendChild(ul);
      }
      list.appendChild(li);
    }
    $('more-series').hidden = (body.series || []).length >= matched.series || state.seriesLimit >= 5000;
    list.scrollTop = scroll;
    restoreFocus(key, list);
  }

  const PROM_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

  function promString(s) { return JSON.stringify(s); }

  // chartSeries puts a query for metric (and tags) in the box and runs it.
  function chartSeries(metric, tags) {
    const lang = $('lang').value;
    let q;
    if (lang === 'promql') {
      const parts = ['__name__=' + promString(metric)];
      for (const k of Object.keys(tags || {}).sort()) parts.push((PROM_NAME.test(k) ? k : promString(k)) + '=' + promString(tags[k]));
      q = '{' + parts.join(', ') + '}';
    } else {
      const quote = (s) => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
      q = 'fetch(' + quote(metric);
      const keys = Object.keys(tags || {}).sort();
      if (keys.length) q += ', {' + keys.map((k) => quote(k) + ': ' + quote(tags[k])).join(', ') + '}';
      q += ')';
    }
    $('q').value = q;
    runQuery(true);
  }

  // ---- Query ----

  function timeRange() {
    const r = $('range').value;
    if (r !== 'custom') {
      const end = Date.now();
      return { start: end - RANGES[r], end, relative: true };
    }
    const from = $('from').value;
    const to = $('to').value;
    const start = from ? new Date(from).getTime() : NaN;
    const end = to ? new Date(to).getTime() : NaN;
    if (isNaN(start) || isNaN(end)) throw new Error('Choose both the start and the end of the custom range.');
    if (start >= end) throw new Error('The custom range must start before it ends.');
    return { start, end, relative: false };
  }

  const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

  // autoStep picks a round PromQL step giving about one point per 2 pixels.
  function autoStep(start, end) {
    const width = ($('chart').clientWidth || 800) / 2;
    const want = (end - start) / 1000 / Math.max(width, 50);
    for (const s of STEPS) if (s >= want) return s;
    return Math.ceil(want);
  }

  function parseStep(text) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
    if (!m) throw new Error('Bad step “' + text + '”: write a number of seconds or a duration like 15s, 1m, 1h.');
    const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'];
    const v = Number(m[1]) * mult;
    if (!(v > 0)) throw new Error('Bad step “' + text + '”: it must be more than 0.');
    return v;
  }

  function promLabels(metric) {
    const name = metric.__name__ || '';
    const rest = Object.keys(metric).filter((k) => k !== '__name__').sort().map((k) => k + '=' + JSON.stringify(metric[k]));
    return rest.length ? name + '{' + rest.join(', ') + '}' : (name || '{}');
  }

  async function fetchApptuit(q, range) {
    const params = new URLSearchParams({
      start: String(Math.floor(range.start / 1000)),
      end: String(Math.ceil(range.end / 1000)),
      q,
    });
    const body = await api('/api/query?' + params.toString());
    const outputs = (body && body.outputs) || [];
    const series = [];
    for (const out of outputs) {
      for (const r of out.result || []) {
        const tags = tagText(r.tags);
        let name = r.metric + (tags ? '{' + tags + '}' : '');
        if (outputs.length > 1 || out.id !== r.metric) name = out.id + ': ' + name;
        const points = (r.dps || []).map((p) => [p[0] * 1000, p[1] === null ? null : Number(p[1])]);
        series.push({ name, points });
      }
    }
    return series;
  }

  async function fetchPromQL(q, range, stepText) {
    const step = stepText ? parseStep(stepText) : autoStep(range.start, range.end);
    const form = new URLSearchParams({
      query: q,
      start: String(range.start / 1000),
      end: String(range.end / 1000),
      step: String(step),
    });
    const body = await api('/api/v1/query_range', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const data = (body && body.data) || {};
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      const one = [{ name: 'scalar', points: [[data.result[0] * 1000, Number(data.result[1])]] }];
      one.step = step;
      return one;
    }
    const series = (data.result || []).map((r) => ({
      name: promLabels(r.metric || {}),
      points: (r.values || (r.value ? [r.value] : [])).map((p) => {
        const v = Number(p[1]);
        return [Math.round(p[0] * 1000), isFinite(v) ? v : null];
      }),
    }));
    series.step = step;
    return series;
  }

  function setStatus(text, isError) {
    const s = $('query-status');
    s.textContent = text;
    s.className = 'status' + (isError ? ' error' : '');
    s.setAttribute('role', isError ? 'alert' : 'status');
  }

  // runQuery runs the query in the box (fresh) or the last one again.
  async function runQuery(fresh) {
    if (fresh) {
      const q = $('q').value.trim();
      if (!q) {
        setStatus('Type a query first.', true);
        $('q').focus();
        return;
      }
      state.query = { lang: $('lang').value, q, step: $('step').value.trim() };
    }
    const query = state.query;
    if (!query) return;
    if (state.queryBusy) {
      state.rerun = true; // the range or token changed while a query ran
      return;
    }
    let range;
    try {
      range = timeRange();
    } catch (e) {
      setStatus(e.message, true);
      return;
    }
    state.queryBusy = true;
    const began = performance.now();
    try {
      if (!(await checkAuth())) {
        state.queryBusy = false;
        state.rerun = false;
        setStatus('The server needs the API token: enter it at the top of the page.', true);
        return;
      }
    } catch (e) {
      state.queryBusy = false;
      state.rerun = false;
      setStatus('Could not reach the server: ' + e.message, true);
      return;
    }
    if (fresh) setStatus('Running…');
    try {
      const series = query.lang === 'promql' ? await fetchPromQL(query.q, range, query.step) : await fetchApptuit(query.q, range);
      if (state.query !== query) return; // a newer query was started
      const points = series.reduce((n, s) => n + s.points.filter((p) => p[1] !== null).length, 0);
      const box = $('chart');
      box.dataset.lang = query.lang;
      box.dataset.start = String(range.start);
      box.dataset.end = String(range.end);
      box.dataset.step = query.lang === 'promql' ? String(series.step) : '';
      chart.render({ start: range.start, end: range.end, series });
      setStatus(`${fmtInt(series.length)} series, ${fmtInt(points)} points, in ${Math.round(performance.now() - began)} ms` +
        (range.relative && Number($('refresh').value) > 0 ? ' · refreshing' : ''));
    } catch (e) {
      if (state.query !== query) return;
      setStatus((query.lang === 'promql' ? 'PromQL' : 'Query') + ' error' + (e.status ? ' (HTTP ' + e.status + ')' : '') + ': ' + e.message, true);
    } finally {
      state.queryBusy = false;
      if (state.rerun) {
        state.rerun = false;
        runQuery(false);
      }
    }
  }

  // ---- Requests ----

  async function loadRequests() {
    const params = new URLSearchParams({ limit: String(REQUESTS_LIMIT) });
    if ($('only-failures').checked) params.set('failures', '1');
    if ($('hide-page').checked) params.set('exclude_page', '1');
    let body;
    try {
      body = await api('/apptuittest/requests?' + params.toString());
    } catch (e) {
      $('requests-summary').textContent = e.status === 401 ? 'Needs the API token.' : 'Could not read the request log: ' + e.message;
      throw e;
    }
    renderRequests(body);
  }

  function renderRequests(body) {
    const tbody = $('requests').tBodies[0];
    tbody.textContent = '';
    const reqs = body.requests || [];
    $('requests-summary').textContent = `${fmtInt(reqs.length)} shown (newest first) of ${fmtInt(body.total)} received; the server keeps the newest ${fmtInt(body.capacity)}`;
    if (reqs.length === 0) {
      const tr = tbody.insertRow();
      tr.className = 'empty';
      const td = tr.insertCell();
      td.colSpan = 8;
      td.textContent = $('only-failures').checked ? 'No failed requests.' : 'No requests yet.';
      return;
    }
    for (const r of reqs) {
      const tr = tbody.insertRow();
      const failed = r.status === 0 || r.status >= 400 || r.failed > 0;
      if (failed) tr.className = 'failed';
      const cell = (text, cls, title) => {
        const td = tr.insertCell();
        td.textContent = text;
        if (cls) td.className = cls;
        if (title) td.title = title;
        return td;
      };
      const d = new Date(r.time);
      cell(d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0'), '', ApptuitChart.fullTime(d.getTime()));
      cell(r.method);
      const path = r.path + (r.query ? '?' + r.query : '');
      cell(path.length > 56 ? path.slice(0, 55) + '…' : path, 'mono', path + (r.userAgent ? '\n' + r.userAgent : ''));
      cell(r.status === 0 ? 'dropped' : String(r.status), 'status-' + String(r.status).charAt(0));
      cell(fmtInt(r.accepted), 'num');
      cell(fmtInt(r.failed), 'num');
      cell(fmtInt(r.evicted || 0), 'num');
      cell(r.durationMs < 10 ? r.durationMs.toFixed(1) + ' ms' : fmtInt(Math.round(r.durationMs)) + ' ms', 'num');
      const errs = (r.errors || []).slice();
      if (r.fault) errs.unshift('injected fault: ' + r.fault);
      if (r.failed > (r.errors || []).length && (r.errors || []).length > 0) errs.push(`… and ${fmtInt(r.failed - r.errors.length)} more rejected points`);
      if (errs.length) {
        tr.classList.add('has-errors');
        const er = tbody.insertRow();
        er.className = 'errors-row';
        const td = er.insertCell();
        td.colSpan = 8;
        td.textContent = errs.join('\n');
      }
    }
  }

  // ---- Refresh ----

  function schedule() {
    clearTimeout(state.timer);
    state.timer = null;
    const every = Number($('refresh').value);
    if (every > 0 && !document.hidden) state.timer = setTimeout(refresh, every * 1000);
    setLive();
  }

  // checkAuth asks the server whether it needs a token and whether the one
  // this tab holds is it, without a 401 (which a browser reports in the
  // console as a failed load). It remembers a good answer until the token
  // changes or a request is refused.
  async function checkAuth() {
    if (state.authOK) return true;
    const a = await api('/apptuittest/auth');
    state.authOK = !a.required || a.valid;
    showAuth(!state.authOK);
    if (!state.authOK) {
      const why = getToken() ? 'The token of this tab is not the server’s.' : 'Needs the API token.';
      $('metrics-summary').textContent = why;
      $('requests-summary').textContent = why;
    }
    return state.authOK;
  }

  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      try {
        if (!(await checkAuth())) return;
      } catch (e) {
        setLive('error');
        $('metrics-summary').textContent = 'Could not reach the server: ' + e.message;
        return;
      }
      const tasks = [loadMetrics(), loadRequests()];
      if (state.query && $('range').value !== 'custom') tasks.push(runQuery(false));
      const results = await Promise.allSettled(tasks);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed && failed.reason && failed.reason.status !== 401) setLive('error');
    } finally {
      state.busy = false;
      schedule();
    }
  }

  // ---- Wiring ----

  function debounce(f, ms) {
    let t = null;
    return () => { clearTimeout(t); t = setTimeout(f, ms); };
  }

  function localInput(ms) {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 19);
  }

  function updateLang() {
    const lang = $('lang').value;
    $('q-help').textContent = HELP[lang];
    $('q').placeholder = PLACEHOLDER[lang];
    $('step-label').hidden = lang !== 'promql';
  }

  function init() {
    chart = ApptuitChart.create($('chart'));
    chart.render({ start: 0, end: 0, series: [], emptyText: 'Run a query, or pick a metric on the left, to chart it here.' });
    updateLang();
    if (getToken()) $('token').placeholder = 'set for this tab';

    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      setToken(t);
      $('token').value = '';
      $('token').placeholder = t ? 'set for this tab' : 'not set';
      refresh();
      if (state.query) runQuery(false);
    });
    $('token-forget').addEventListener('click', () => {
      setToken('');
      $('token').value = '';
      $('token').placeholder = 'not set';
      refresh();
    });
    $('query-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      runQuery(true);
    });
    $('q').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        runQuery(true);
      }
    });
    $('lang').addEventListener('change', updateLang);
    $('range').addEventListener('change', () => {
      const custom = $('range').value === 'custom';
      $('custom-range').hidden = !custom;
      if (custom && !$('from').value) {
        const end = Date.now();
        $('from').value = localInput(end - 3600e3);
        $('to').value = localInput(end);
      }
      if (state.query) runQuery(false);
    });
    for (const id of ['from', 'to']) $(id).addEventListener('change', () => { if (state.query) runQuery(false); });
    $('refresh').addEventListener('change', () => { schedule(); refresh(); });
    $('filter').addEventListener('input', debounce(() => {
      state.seriesLimit = SERIES_PAGE;
      loadMetrics().catch(() => {});
    }, 200));
    $('more-series').addEventListener('click', () => {
      state.seriesLimit = Math.min(state.seriesLimit * 2, 5000);
      loadMetrics().catch(() => {});
    });
    for (const id of ['only-failures', 'hide-page']) $(id).addEventListener('change', () => loadRequests().catch(() => {}));
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        clearTimeout(state.timer);
        state.timer = null;
        setLive();
      } else {
        refresh();
      }
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (chart.data) chart.render(chart.data); }, 150);
    });
    refresh();
  }

  init();
})();
