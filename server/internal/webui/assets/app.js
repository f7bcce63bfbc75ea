// app.js: the page of apptuit serve. It lists the series the server holds
// (GET /apptuittest/series), runs queries in the Apptuit query language
// (GET /api/query) or PromQL (GET /api/v1/query_range) and charts them with
// chart.js, and shows the request log (GET /apptuittest/requests),
// refreshing all three while the tab is visible. Every request is a GET to
// the server it was loaded from; the token, when the server needs one, is
// kept in this tab's sessionStorage and sent in the Authorization header,
// never in a URL. Every text from the server is set with textContent: names
// and tags are the clients' data.
//
// The URL holds what is charted, so that a reload or a shared link shows
// it again and back and forward step through it:
//
//   /?q=<query>&lang=apptuit|promql&range=15m&refresh=5s[&step=30s]
//   /?q=<query>&from=2026-12-02T01:10:00Z&to=2026-12-02T01:20:00Z ...
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const F = window.ApptuitFormat;
  const TOKEN_KEY = 'apptuit.token';
  const CLIENT_HEADER = 'X-Apptuit-Client'; // marks the page's own requests in the log
  const SERIES_PAGE = 500;
  const REQUESTS_LIMIT = 200;
  const RANGES = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3, '6h': 21600e3, '24h': 86400e3, '7d': 604800e3 };
  const DEFAULT_RANGE = '15m';
  const REFRESH = { off: '0', '2s': '2', '5s': '5', '15s': '15', '1m': '60' }; // URL value -> select value
  const HELP = {
    apptuit: "Apptuit query language, e.g. fetch('order_count.count').series_sum().rate(). Ctrl+Enter runs it; Ctrl+Space suggests names.",
    promql: 'PromQL, e.g. sum by (city) (rate({__name__="order_count.count"}[1m])). Ctrl+Enter runs it; Ctrl+Space suggests names.',
  };
  const PLACEHOLDER = {
    apptuit: "fetch('metric.name', {'tag': 'value'})",
    promql: '{__name__="metric.name", tag="value"}',
  };
  const INITIAL = 'Run a query, or pick one of the metrics received, to chart it here.';

  const state = {
    seriesLimit: SERIES_PAGE,
    expanded: new Set(),
    query: null, // {lang, q, step} of the query charted
    range: { key: DEFAULT_RANGE }, // {key} of a preset, or {start, end} in ms
    zoomBase: null, // the preset a zoom started from, for the double-click
    timer: null,
    busy: false,
    queryBusy: false,
    rerun: false,
    authOK: false,
    note: '', // what the link held that the page could not read
  };
  let chart = null;
  let complete = null;

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

  // api GETs path from this server and returns its JSON answer.
  async function api(path) {
    const headers = new Headers({ Accept: 'application/json' });
    headers.set(CLIENT_HEADER, 'web-page');
    const token = memoryToken || getToken();
    if (token) headers.set('Authorization', 'Bearer ' + token);
    let resp;
    try {
      resp = await fetch(path, { headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
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

  // renderStats shows the server's totals that it reports (a field it does
  // not report is left out).
  function renderStats(body) {
    const s = $('stats');
    s.textContent = '';
    const live = document.createElement('span');
    live.id = 'live';
    live.className = 'live';
    s.appendChild(live);
    const parts = [[body.points, 'points'], [body.seriesTotal, 'series'], [body.metricsTotal, 'metrics']]
      .filter(([n]) => typeof n === 'number');
    parts.forEach(([n, what], i) => {
      if (i > 0) s.appendChild(document.createTextNode(' · '));
      const b = document.createElement('b');
      b.textContent = fmtInt(n);
      s.appendChild(b);
      s.appendChild(document.createTextNode(' ' + what));
    });
    const l = document.createElement('span');
    l.id = 'live-text';
    if (parts.length) s.appendChild(document.createTextNode(' · '));
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
      const m = info.get(metric) || { series: series.length, tags: {} };
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
      F.wrap(name, metric);
      name.title = 'Chart ' + metric;
      name.dataset.key = 'm:' + metric;
      name.addEventListener('click', () => chartSeries(metric, null));
      row.appendChild(name);
      if (m.series === 1) {
        const last = document.createElement('span');
        last.className = 'metric-last';
        last.textContent = F.si(series[0].lastValue);
        last.title = F.full(series[0].lastValue) + ', at ' + F.fullTime(series[0].last);
        row.appendChild(last);
      }
      li.appendChild(row);
      const meta = document.createElement('p');
      meta.className = 'metric-meta';
      const tagKeys = Object.keys(m.tags || {}).sort();
      const tagPart = tagKeys.map((k) => k + ': ' + m.tags[k].join(', ') + (m.tagsTruncated && m.tagsTruncated[k] ? ', …' : '')).join(' · ');
      const counts = [`${fmtInt(m.series)} series`];
      if (typeof m.points === 'number') counts.push(`${fmtInt(m.points)} points`);
      meta.textContent = counts.join(' · ') + (tagPart ? ' · ' + tagPart : '');
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
          v.textContent = F.si(s.lastValue);
          v.title = F.full(s.lastValue) + (typeof s.points === 'number' ? `; ${fmtInt(s.points)} points` : '') + '; last at ' + F.fullTime(s.last);
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

  // chartSeries puts a query for metric (and tags) in the box and runs it.
  function chartSeries(metric, tags) {
    const lang = $('lang').value;
    let q;
    if (lang === 'promql') {
      const parts = ['__name__=' + JSON.stringify(metric)];
      for (const k of Object.keys(tags || {}).sort()) parts.push((PROM_NAME.test(k) ? k : JSON.stringify(k)) + '=' + JSON.stringify(tags[k]));
      q = '{' + parts.join(', ') + '}';
    } else {
      const quote = (s) => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
      q = 'fetch(' + quote(metric);
      const keys = Object.keys(tags || {}).sort();
      if (keys.length) q += ', {' + keys.map((k) => quote(k) + ': ' + quote(tags[k])).join(', ') + '}';
      q += ')';
    }
    $('q').value = q;
    runQuery({ fresh: true, push: true });
  }

  // ---- The URL ----

  function isoTime(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }

  function parseTime(s) {
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * (Number(s) < 1e11 ? 1000 : 1); // Unix seconds (or ms)
    const t = Date.parse(s);
    return Number.isNaN(t) ? NaN : t;
  }

  // urlOf is the page's URL for the query charted, the time range and the
  // refresh.
  function urlOf() {
    const p = new URLSearchParams();
    if (state.query) {
      p.set('q', state.query.q);
      p.set('lang', state.query.lang);
      if (state.query.lang === 'promql' && state.query.step) p.set('step', state.query.step);
    }
    if (state.range.key) p.set('range', state.range.key);
    else {
      p.set('from', isoTime(state.range.start));
      p.set('to', isoTime(state.range.end));
    }
    const refresh = Object.keys(REFRESH).find((k) => REFRESH[k] === $('refresh').value) || '5s';
    p.set('refresh', refresh);
    return '?' + p.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
  }

  // saveURL records the page's state in the history: a new entry (push) or
  // the current one.
  function saveURL(push) {
    const url = urlOf();
    const st = { zoomBase: state.zoomBase };
    if (url === location.search) history.replaceState(st, '');
    else if (push) history.pushState(st, '', url);
    else history.replaceState(st, '', url);
  }

  // loadURL sets the controls from the URL; it returns what it ignored.
  function loadURL() {
    const p = new URLSearchParams(location.search);
    const ignored = [];
    const lang = p.get('lang') || 'apptuit';
    if (lang === 'apptuit' || lang === 'promql') $('lang').value = lang; else ignored.push('lang=' + lang);
    const q = p.get('q') || '';
    $('q').value = q;
    $('step').value = p.get('step') || '';
    state.range = { key: DEFAULT_RANGE };
    if (p.has('from') || p.has('to')) {
      const start = parseTime(p.get('from') || '');
      const end = parseTime(p.get('to') || '');
      if (start < end) state.range = { start, end };
      else ignored.push('from=' + p.get('from') + ' to=' + p.get('to'));
    } else if (p.has('range')) {
      if (RANGES[p.get('range')]) state.range = { key: p.get('range') }; else ignored.push('range=' + p.get('range'));
    }
    const refresh = p.get('refresh');
    if (refresh !== null) {
      if (REFRESH[refresh] !== undefined) $('refresh').value = REFRESH[refresh]; else ignored.push('refresh=' + refresh);
    }
    state.zoomBase = (history.state && history.state.zoomBase) || null;
    showRange();
    updateLang();
    state.query = q.trim() ? { lang: $('lang').value, q: q.trim(), step: $('step').value.trim() } : null;
    return ignored;
  }

  // ---- Query ----

  function localInput(ms) {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 19);
  }

  // showRange sets the range controls to state.range.
  function showRange() {
    const custom = !state.range.key;
    $('range').value = custom ? 'custom' : state.range.key;
    $('custom-range').hidden = !custom;
    if (custom) {
      $('from').value = localInput(state.range.start);
      $('to').value = localInput(state.range.end);
    }
  }

  function timeRange() {
    if (state.range.key) {
      const end = Date.now();
      return { start: end - RANGES[state.range.key], end, relative: true };
    }
    return { start: state.range.start, end: state.range.end, relative: false };
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
    outputs.forEach((out, group) => {
      for (const r of out.result || []) {
        const tags = tagText(r.tags);
        let name = r.metric + (tags ? '{' + tags + '}' : '');
        if (outputs.length > 1 || out.id !== r.metric) name = out.id + ': ' + name;
        const points = (r.dps || []).map((p) => [p[0] * 1000, p[1] === null ? null : Number(p[1])]);
        series.push({ name, metric: r.metric, labels: r.tags || {}, group, points });
      }
    });
    return { series, gaps: 'span' };
  }

  async function fetchPromQL(q, range, stepText) {
    const step = stepText ? parseStep(stepText) : autoStep(range.start, range.end);
    const params = new URLSearchParams({
      query: q,
      start: String(range.start / 1000),
      end: String(range.end / 1000),
      step: String(step),
    });
    const body = await api('/api/v1/query_range?' + params.toString());
    const data = (body && body.data) || {};
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      return { series: [{ name: 'scalar', metric: '', labels: {}, points: [[data.result[0] * 1000, Number(data.result[1])]] }], gaps: 'break', step };
    }
    const series = (data.result || []).map((r) => {
      const labels = Object.assign({}, r.metric || {});
      delete labels.__name__;
      return {
        name: promLabels(r.metric || {}),
        metric: (r.metric || {}).__name__ || '',
        labels,
        points: (r.values || (r.value ? [r.value] : [])).map((p) => {
          const v = Number(p[1]);
          return [Math.round(p[0] * 1000), Number.isFinite(v) ? v : null];
        }),
      };
    });
    return { series, gaps: 'break', step };
  }

  function setStatus(text, isError) {
    const s = $('query-status');
    s.textContent = text;
    s.className = 'status' + (isError ? ' error' : '');
  }

  // runQuery charts the query: the one in the box (fresh) or the one
  // charted (a refresh, a new range). A fresh query, a zoom and a new
  // range show the loading state; push records the state in the history.
  async function runQuery(opts) {
    opts = opts || {};
    if (opts.fresh) {
      const q = $('q').value.trim();
      if (!q) {
        setStatus('Type a query first.', true);
        $('q').focus();
        return;
      }
      state.query = { lang: $('lang').value, q, step: $('step').value.trim() };
      state.note = '';
    }
    if (opts.push !== undefined) saveURL(opts.push);
    const query = state.query;
    if (!query) return;
    if (state.queryBusy) {
      state.rerun = true; // the range or token changed while a query ran
      state.rerunLoud = state.rerunLoud || !!opts.loud || !!opts.fresh;
      return;
    }
    const range = timeRange();
    state.queryBusy = true;
    const began = performance.now();
    const loud = opts.fresh || opts.loud;
    if (loud) chart.setBusy(true);
    try {
      if (!(await checkAuth())) {
        setStatus('The server needs the API token: enter it at the top of the page.', true);
        return;
      }
      const res = query.lang === 'promql' ? await fetchPromQL(query.q, range, query.step) : await fetchApptuit(query.q, range);
      if (state.query !== query) return; // a newer query was started
      const points = res.series.reduce((n, s) => n + s.points.filter((p) => p[1] !== null).length, 0);
      const box = $('chart');
      box.dataset.lang = query.lang;
      box.dataset.start = String(range.start);
      box.dataset.end = String(range.end);
      box.dataset.step = query.lang === 'promql' ? String(res.step) : '';
      chart.render({
        start: range.start, end: range.end, series: res.series, gaps: res.gaps,
        emptyTitle: 'No series in this time range.',
        emptyDetail: `The query ran and matched no points from ${F.fullTime(range.start)} to ${F.fullTime(range.end)}. ` +
          'Check the metric name (the list of metrics received has what the server holds), or widen the time range.',
      });
      const span = range.relative ? 'the last ' + F.duration(range.end - range.start) : F.duration(range.end - range.start) + ' from ' + F.fullTime(range.start);
      setStatus(`${fmtInt(res.series.length)} series, ${fmtInt(points)} points over ${span}, in ${Math.round(performance.now() - began)} ms` +
        (range.relative && Number($('refresh').value) > 0 ? ' · refreshing' : '') + (state.note ? ' · ' + state.note : ''));
    } catch (e) {
      if (state.query !== query) return;
      const what = query.lang === 'promql' ? 'PromQL error' : 'Query error';
      if (e.status === 0) chart.setState('error', 'Could not reach the server', e.message);
      else chart.setState('error', what + (e.status ? ' (HTTP ' + e.status + ')' : ''), e.message);
      setStatus(`Failed after ${Math.round(performance.now() - began)} ms.`, true);
    } finally {
      state.queryBusy = false;
      if (state.rerun) {
        const again = { loud: state.rerunLoud };
        state.rerun = false;
        state.rerunLoud = false;
        runQuery(again);
      } else {
        chart.setBusy(false);
      }
    }
  }

  // zoom charts [start, end], from a drag across the chart.
  function zoom(start, end) {
    if (!(end > start)) return;
    if (state.range.key) state.zoomBase = state.range.key;
    state.range = { start, end };
    showRange();
    runQuery({ loud: true, push: true });
  }

  // unzoom goes back to the preset the zooms started from (or the
  // smallest preset around the range shown).
  function unzoom() {
    let key = state.zoomBase;
    if (!key) {
      const span = state.range.key ? RANGES[state.range.key] : state.range.end - state.range.start;
      key = Object.keys(RANGES).find((k) => RANGES[k] > span) || '7d';
      if (state.range.key === key) return;
    }
    state.zoomBase = null;
    state.range = { key };
    showRange();
    runQuery({ loud: true, push: true });
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

  // requestText is a request's path and its query parameters decoded:
  // /api/query?start=1700000000&q=fetch('a.b', {'k': 'v'}).
  function requestText(path, rawQuery) {
    if (!rawQuery) return path;
    const parts = [];
    for (const [k, v] of new URLSearchParams(rawQuery)) parts.push(v === '' && !rawQuery.includes(k + '=') ? k : k + '=' + v);
    return path + '?' + parts.join('&');
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
      cell(d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0'), '', F.fullTime(d.getTime()));
      cell(r.method);
      const text = requestText(r.path, r.query);
      const req = cell(text, 'mono request', text + (r.userAgent ? '\n\n' + r.userAgent : ''));
      req.dataset.text = text;
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
      if (state.query && state.range.key) tasks.push(runQuery({}));
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

  function updateLang() {
    const lang = $('lang').value;
    $('q-help').textContent = HELP[lang];
    $('q').placeholder = PLACEHOLDER[lang];
    $('step-label').hidden = lang !== 'promql';
  }

  // restore shows what the URL holds: at the start, and on back and forward.
  function restore() {
    const ignored = loadURL();
    if (state.query) runQuery({ loud: true });
    else {
      chart.setBusy(false);
      chart.setState('initial', INITIAL);
      setStatus('');
    }
    state.note = ignored.length ? 'the link’s ' + ignored.join(', ') + ' could not be read and was left out' : '';
    if (state.note) setStatus(state.note.charAt(0).toUpperCase() + state.note.slice(1) + '.', true);
  }

  function init() {
    chart = ApptuitChart.create($('chart'), { onZoom: zoom, onReset: unzoom });
    complete = ApptuitComplete.attach($('q'), $('q-complete'), { lang: () => $('lang').value, get: api });
    if (getToken()) $('token').placeholder = 'set for this tab';

    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      setToken(t);
      $('token').value = '';
      $('token').placeholder = t ? 'set for this tab' : 'not set';
      refresh();
      if (state.query) runQuery({});
    });
    $('token-forget').addEventListener('click', () => {
      setToken('');
      $('token').value = '';
      $('token').placeholder = 'not set';
      refresh();
    });
    $('query-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      complete.close();
      runQuery({ fresh: true, push: true });
    });
    $('q').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        complete.close();
        runQuery({ fresh: true, push: true });
      }
    });
    $('lang').addEventListener('change', () => {
      updateLang();
      complete.close();
    });
    $('range').addEventListener('change', () => {
      const v = $('range').value;
      if (v === 'custom') {
        const r = timeRange();
        state.range = { start: r.start, end: r.end };
      } else {
        state.range = { key: v };
      }
      state.zoomBase = null;
      showRange();
      if (state.query) runQuery({ loud: true, push: true });
      else saveURL(true);
    });
    for (const id of ['from', 'to']) {
      $(id).addEventListener('change', () => {
        const start = new Date($('from').value).getTime();
        const end = new Date($('to').value).getTime();
        if (!(start < end)) {
          setStatus('The custom range must start before it ends.', true);
          return;
        }
        state.range = { start, end };
        if (state.query) runQuery({ loud: true, push: true });
        else saveURL(true);
      });
    }
    $('refresh').addEventListener('change', () => {
      saveURL(false);
      schedule();
      refresh();
    });
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
    window.addEventListener('popstate', () => {
      restore();
      schedule();
    });
    restore();
    refresh();
  }

  init();
})();
