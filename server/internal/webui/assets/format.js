// format.js: how the page of apptuit serve writes numbers, times and names,
// and in which order it lists series. Pure functions, no DOM but wrap().
//
//   si(v)            2356541274 -> "2.357G": 4 significant digits and an SI
//                    prefix, as the value axis writes its ticks
//   ticks(values)    the value axis's labels: one prefix and as many
//                    decimals as the step between ticks needs
//   full(v)          the exact value: the shortest text that reads back as v
//   compareSeries    user metrics before the server's own (apptuit.*), then
//                    by name, then tag by tag, values in natural order
//                    (le="0.5" before le="10" before le="+Inf")
//   wrap(el, text)   appends text with break opportunities after . _ , { = /
'use strict';
(function (global) {
  const BIG = [[1e18, 'E'], [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  const SMALL = [[1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p']];

  // prefix is the SI prefix [multiplier, symbol] for a magnitude a: k and up
  // from a thousand, µ and down below a thousandth, none between.
  function prefix(a) {
    if (a >= 1e3) {
      for (const p of BIG) if (a >= p[0]) return p;
    }
    if (a > 0 && a < 1e-3) {
      for (const p of SMALL) if (a >= p[0]) return p;
      return SMALL[SMALL.length - 1];
    }
    return [1, ''];
  }

  // special writes the values that are not finite numbers as Prometheus
  // does, or returns null.
  function special(v) {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'string') return v; // "NaN", "+Inf" from the server
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return '+Inf';
    if (v === -Infinity) return '-Inf';
    return null;
  }

  function trimZeros(s) {
    return s.indexOf('.') < 0 ? s : s.replace(/\.?0+$/, '');
  }

  // si writes v with digits significant digits (4 by default) and an SI
  // prefix: 2356541274 -> "2.357G", 43 -> "43", 0.00042 -> "420µ".
  function si(v, digits) {
    const s = special(v);
    if (s !== null) return s;
    if (v === 0) return '0';
    digits = digits || 4;
    const a = Math.abs(v);
    if (a >= 1e21 || a < 1e-12) return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
    let [m, sym] = prefix(a);
    let text = trimZeros((v / m).toPrecision(digits));
    // Rounding up may reach the next prefix: 999.96 -> "1000" -> "1k".
    if (Math.abs(Number(text)) >= 1000 && m * 1000 <= 1e18) {
      [m, sym] = prefix(m * 1000);
      text = trimZeros((v / m).toPrecision(digits));
    }
    return text + sym;
  }

  // ticks writes the value axis's tick values: one prefix for the axis (the
  // one of its largest magnitude), decimals as the step needs.
  function ticks(values) {
    const finite = values.filter((v) => Number.isFinite(v));
    if (finite.length === 0) return values.map(String);
    let step = Infinity;
    for (let i = 1; i < finite.length; i++) step = Math.min(step, Math.abs(finite[i] - finite[i - 1]) || Infinity);
    const maxAbs = Math.max(...finite.map(Math.abs));
    if (!Number.isFinite(step)) step = maxAbs || 1;
    if (maxAbs >= 1e21 || (maxAbs > 0 && maxAbs < 1e-12)) return values.map((v) => (v === 0 ? '0' : v.toExponential(1)));
    const [m, sym] = prefix(maxAbs);
    // As many decimals as write the step exactly (0.25 needs 2, 0.2 one).
    const s = step / m;
    let decimals = Math.max(0, -Math.floor(Math.log10(s) + 1e-9));
    while (decimals < 12 && Math.abs(Math.round(s * 10 ** decimals) - s * 10 ** decimals) > 1e-6 * s * 10 ** decimals) decimals++;
    return values.map((v) => {
      const s = special(v);
      if (s !== null) return s;
      if (Math.abs(v) < step * 1e-9) return '0';
      return (v / m).toFixed(decimals) + sym;
    });
  }

  // full is the exact value: the shortest decimal that reads back as v.
  function full(v) {
    const s = special(v);
    return s !== null ? s : String(v);
  }

  function pad(n, w) { return String(n).padStart(w || 2, '0'); }

  function zoneName(ms) {
    const off = -new Date(ms).getTimezoneOffset();
    if (off === 0) return 'UTC';
    const a = Math.abs(off);
    return 'UTC' + (off < 0 ? '−' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }

  // fullTime is a timestamp with its date, to the millisecond when it has
  // one, and the zone: "2026-12-02 01:18:07 UTC".
  function fullTime(ms) {
    const d = new Date(ms);
    let s = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (ms % 1000 !== 0) s += '.' + pad(d.getMilliseconds(), 3);
    return s + ' ' + zoneName(ms);
  }

  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  // timeTicks writes the time axis's labels for ticks at Unix seconds,
  // incr seconds apart: local 24-hour times, with seconds (and
  // milliseconds) when the step needs them, and the date under the first
  // tick of each day; dates alone from a day apart.
  function timeTicks(secs, incr) {
    let lastDay = '';
    return secs.map((s) => {
      const d = new Date(s * 1000);
      const day = MONTHS[d.getMonth()] + ' ' + d.getDate();
      if (incr >= 86400) return day;
      let t = pad(d.getHours()) + ':' + pad(d.getMinutes());
      if (incr < 60) t += ':' + pad(d.getSeconds());
      if (incr < 1) t += '.' + pad(d.getMilliseconds(), 3);
      if (day !== lastDay) t += '\n' + day;
      lastDay = day;
      return t;
    });
  }

  // duration writes a span of milliseconds briefly: "15 min", "2 h 30 min".
  function duration(ms) {
    const s = Math.round(ms / 1000);
    if (s < 60) return s + ' s';
    const parts = [];
    let left = s;
    for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']]) {
      if (left >= n) {
        parts.push(Math.floor(left / n) + ' ' + u);
        left %= n;
      }
      if (parts.length === 2) break;
    }
    return parts.join(' ');
  }

  // numeric is the number a label value stands for (le and quantile
  // values: "0.5", "+Inf", "1e3"), or null.
  const NUMBER = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN)$/;
  function numeric(s) {
    if (!NUMBER.test(s)) return null;
    if (/inf$/i.test(s)) return s[0] === '-' ? -Infinity : Infinity;
    return Number(s);
  }

  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  // naturalCompare orders strings as people count: numbers by value (all
  // of it when both are numbers: "0.05" < "0.5" < "10" < "+Inf"; else each
  // run of digits: "host2" < "host10"), the rest by code point.
  function naturalCompare(a, b) {
    a = String(a);
    b = String(b);
    if (a === b) return 0;
    const x = numeric(a);
    const y = numeric(b);
    if (x !== null && y !== null) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
      return cmp(x, y) || cmp(a, b);
    }
    const re = /(\d+)|(\D+)/g;
    const ca = a.match(re) || [];
    const cb = b.match(re) || [];
    for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
      const p = ca[i];
      const q = cb[i];
      if (p === q) continue;
      const pd = p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;
      const qd = q.charCodeAt(0) >= 48 && q.charCodeAt(0) <= 57;
      if (pd && qd) {
        const ps = p.replace(/^0+(?=\d)/, '');
        const qs = q.replace(/^0+(?=\d)/, '');
        return cmp(ps.length, qs.length) || cmp(ps, qs) || cmp(p.length, q.length);
      }
      return cmp(p, q);
    }
    return cmp(ca.length, cb.length) || cmp(a, b);
  }

  // isMeta reports whether metric is one of the server's or the library's
  // own (apptuit.reporter.send.total, ...), listed after the user's.
  function isMeta(metric) {
    return /^apptuit[._]/.test(metric || '');
  }

  // compareSeries orders {group, metric, labels} (group: the output of the
  // query it came from, kept in the query's order): the user's metrics
  // before the meta metrics, then by metric name, then label by label in
  // the order of their names, each value in natural order.
  function compareSeries(a, b) {
    const g = (a.group || 0) - (b.group || 0);
    if (g) return g;
    const m = (isMeta(a.metric) ? 1 : 0) - (isMeta(b.metric) ? 1 : 0);
    if (m) return m;
    const n = naturalCompare(a.metric || '', b.metric || '');
    if (n) return n;
    const ka = Object.keys(a.labels || {}).sort();
    const kb = Object.keys(b.labels || {}).sort();
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return cmp(ka[i], kb[i]);
      const v = naturalCompare(a.labels[ka[i]], b.labels[kb[i]]);
      if (v) return v;
    }
    return ka.length - kb.length;
  }

  // wrap appends text to el with a <wbr> after every . _ , { = / so that
  // a long name wraps between its words rather than inside one.
  function wrap(el, text) {
    const parts = String(text).split(/(?<=[._,{=/])/);
    parts.forEach((p, i) => {
      if (i > 0) el.appendChild(document.createElement('wbr'));
      el.appendChild(document.createTextNode(p));
    });
    return el;
  }

  global.ApptuitFormat = { si, ticks, full, fullTime, zoneName, timeTicks, duration, naturalCompare, compareSeries, isMeta, wrap };
})(window);
