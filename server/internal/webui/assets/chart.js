// chart.js: the time-series chart of the page of apptuit serve, drawn as
// SVG by this file (no library). ApptuitChart.create(container) returns a
// chart whose render(data) draws
//
//   data = {start: ms, end: ms, series: [{name, points: [[ms, value|null], ...]}]}
//
// with a line per series (a null value breaks it), a time axis in local
// time, a value axis with round ticks, a legend that hides and shows series,
// and a cursor that shows the values at the nearest timestamp on hover or
// with the arrow keys. The DOM says what was drawn, for tests and tools:
// each line is a <path class="series" data-series=... data-points=N
// data-vertices=M>, the tooltip carries data-time.
'use strict';
(function (global) {
  const SVG = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#1f6feb', '#e8590c', '#2b8a3e', '#c2255c', '#6741d9', '#0b7285',
    '#d9480f', '#5c940d', '#862e9c', '#364fc7', '#a61e4d', '#087f5b'];
  const MAX_SERIES = 50; // drawn; the rest are listed as not shown
  const MAX_TOOLTIP_ROWS = 12;
  const HEIGHT = 340;
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function svg(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function html(name, cls, parent, text) {
    const e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // niceStep is a round step (1, 2 or 5 times a power of ten) near span/count.
  function niceStep(span, count) {
    const raw = span / Math.max(count, 1);
    if (!(raw > 0) || !isFinite(raw)) return 1;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  // valueTicks covers [lo, hi] with about count round ticks.
  function valueTicks(lo, hi, count) {
    if (lo === hi) {
      const d = Math.abs(lo) * 0.1 || 1;
      lo -= d;
      hi += d;
    }
    const step = niceStep(hi - lo, count);
    const first = Math.floor(lo / step) * step;
    const last = Math.ceil(hi / step) * step;
    const ticks = [];
    for (let i = 0; first + i * step <= last + step / 2 && i < 100; i++) {
      const v = first + i * step;
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return { lo: first, hi: last, step, ticks };
  }

  function decimals(step) {
    return Math.max(0, Math.min(9, -Math.floor(Math.log10(step) + 1e-9)));
  }

  const SI = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

  // formatTick writes a tick value with the decimals its step needs and an
  // SI prefix from a thousand up.
  function formatTick(v, step) {
    const a = Math.max(Math.abs(v), step);
    for (const [m, s] of SI) {
      if (a >= m) return (v / m).toFixed(decimals(step / m)) + s;
    }
    if (step < 1e-4) return v === 0 ? '0' : v.toExponential(1);
    return v.toFixed(decimals(step));
  }

  // formatValue writes a value with up to 10 significant digits.
  function formatValue(v) {
    if (v === null || v === undefined) return '–';
    if (!isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-6 || a >= 1e15)) return v.toExponential(6);
    return String(Number(v.toPrecision(10)));
  }

  // formatShort writes a value with up to 6 significant digits, for lists.
  function formatShort(v) {
    if (typeof v !== 'number') return String(v); // "NaN", "+Inf" from the server
    if (!isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e12)) return v.toExponential(3);
    return String(Number(v.toPrecision(6)));
  }

  function pad(n, w) { return String(n).padStart(w || 2, '0'); }

  function zoneName(ms) {
    const off = -new Date(ms).getTimezoneOffset();
    if (off === 0) return 'UTC';
    const a = Math.abs(off);
    return 'UTC' + (off < 0 ? '−' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }

  function dayLabel(d) { return MONTHS[d.getMonth()] + ' ' + d.getDate(); }

  function timeLabel(ms, step) {
    const d = new Date(ms);
    if (step >= 86400000) return dayLabel(d);
    const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
    return step < 60000 ? hm + ':' + pad(d.getSeconds()) : hm;
  }

  // fullTime is the tooltip's timestamp: date, time to the millisecond when
  // it has one, and zone.
  function fullTime(ms) {
    const d = new Date(ms);
    let s = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (ms % 1000 !== 0) s += '.' + pad(d.getMilliseconds(), 3);
    return s + ' ' + zoneName(ms);
  }

  // timeTicks places ticks at round local times, about one per 90 pixels.
  function timeTicks(t0, t1, width) {
    const want = (t1 - t0) / Math.max(2, Math.floor(width / 90));
    let step = TIME_STEPS[TIME_STEPS.length - 1];
    for (const s of TIME_STEPS) {
      if (s >= want) { step = s; break; }
    }
    const ticks = [];
    if (step >= 86400000) {
      const d = new Date(t0);
      d.setHours(0, 0, 0, 0);
      const days = step / 86400000;
      while (d.getTime() <= t1 && ticks.length < 200) {
        if (d.getTime() >= t0) ticks.push(d.getTime());
        d.setDate(d.getDate() + days);
      }
    } else {
      const off = -new Date(t0).getTimezoneOffset() * 60000;
      for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1 && ticks.length < 200; t += step) ticks.push(t);
    }
    return { step, ticks };
  }

  // lowerBound is the first index of points whose time is >= t.
  function lowerBound(points, t) {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid][0] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // nearest is the index of the point of points (with a value) nearest to t,
  // or -1.
  function nearest(points, t) {
    const i = lowerBound(points, t);
    let best = -1;
    let bestD = Infinity;
    for (let j = i - 1; j >= 0 && j >= i - 64; j--) {
      if (points[j][1] !== null) { best = j; bestD = t - points[j][0]; break; }
    }
    for (let j = i; j < points.length && j < i + 64; j++) {
      if (points[j][1] !== null) {
        if (points[j][0] - t < bestD) best = j;
        break;
      }
    }
    return best;
  }

  function create(container) {
    const chart = { hidden: new Set(), hoverTime: null, data: null, render, hover };
    const tooltip = html('div', 'tooltip');
    tooltip.hidden = true;
    tooltip.setAttribute('role', 'status');
    let layout = null; // of the last render

    function render(data) {
      chart.data = data;
      container.textContent = '';
      const all = data.series || [];
      if (all.length === 0) {
        html('p', 'empty', container, data.emptyText || 'The query returned no series in this time range.');
        layout = null;
        return;
      }
      const shown = all.slice(0, MAX_SERIES).map((s, i) => ({
        name: s.name, points: s.points, color: PALETTE[i % PALETTE.length],
        count: s.points.reduce((n, p) => n + (p[1] === null ? 0 : 1), 0),
      }));
      const visible = shown.filter((s) => !chart.hidden.has(s.name));

      let t0 = data.start;
      let t1 = data.end;
      if (!(t1 > t0)) {
        for (const s of shown) {
          if (s.points.length) {
            t0 = Math.min(t0 || Infinity, s.points[0][0]);
            t1 = Math.max(t1 || -Infinity, s.points[s.points.length - 1][0]);
          }
        }
        if (!(t1 > t0)) { t0 -= 30000; t1 += 30000; }
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of visible) {
        for (const p of s.points) {
          if (p[1] !== null && isFinite(p[1]) && p[0] >= t0 && p[0] <= t1) {
            if (p[1] < lo) lo = p[1];
            if (p[1] > hi) hi = p[1];
          }
        }
      }
      if (lo === Infinity) { lo = 0; hi = 1; }
      const width = Math.max(container.clientWidth || 800, 320);
      const vt = valueTicks(lo, hi, 5);
      const labels = vt.ticks.map((v) => formatTick(v, vt.step));
      const m = { top: 12, right: 18, bottom: 46, left: Math.max(...labels.map((l) => l.length)) * 7 + 20 };
      const pw = width - m.left - m.right;
      const ph = HEIGHT - m.top - m.bottom;
      const x = (t) => m.left + (t - t0) / (t1 - t0) * pw;
      const y = (v) => m.top + (vt.hi - v) / (vt.hi - vt.lo) * ph;
      layout = { m, pw, ph, x, y, t0, t1, width, visible };

      const root = svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, 'aria-hidden': 'true' }, container);
      root.style.height = HEIGHT + 'px';
      const grid = svg('g', { class: 'grid' }, root);
      const axis = svg('g', { class: 'axis' }, root);
      vt.ticks.forEach((v, i) => {
        const yy = y(v).toFixed(1);
        svg('line', { x1: m.left, x2: m.left + pw, y1: yy, y2: yy }, grid);
        const t = svg('text', { x: m.left - 8, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, axis);
        t.textContent = labels[i];
      });
      const tt = timeTicks(t0, t1, pw);
      let lastDay = '';
      for (const t of tt.ticks) {
        const xx = x(t).toFixed(1);
        svg('line', { x1: xx, x2: xx, y1: m.top, y2: m.top + ph }, grid);
        const label = svg('text', { x: xx, y: m.top + ph + 15, 'text-anchor': 'middle' }, axis);
        label.textContent = timeLabel(t, tt.step);
        const day = dayLabel(new Date(t));
        if (tt.step < 86400000 && day !== lastDay) {
          const dl = svg('text', { x: xx, y: m.top + ph + 28, 'text-anchor': 'middle' }, axis);
          dl.textContent = day;
        }
        lastDay = day;
      }
      svg('line', { class: 'base', x1: m.left, x2: m.left + pw, y1: m.top + ph, y2: m.top + ph }, axis);
      const xt = svg('text', { class: 'axis-title', x: m.left + pw, y: HEIGHT - 4, 'text-anchor': 'end' }, root);
      xt.textContent = 'time (' + zoneName(t1) + '), ' + stepName(tt.step) + ' per grid line';

      const lines = svg('g', { class: 'lines' }, root);
      for (const s of visible) drawSeries(lines, s, x, y, t0, t1, pw);

      const frame = svg('rect', { class: 'frame', x: m.left, y: m.top, width: pw, height: ph }, root);
      frame.setAttribute('rx', 2);
      chart.cursorLayer = svg('g', { class: 'cursor-layer' }, root);
      const plot = svg('rect', { class: 'plot', x: m.left, y: m.top, width: pw, height: ph, fill: 'transparent' }, root);
      plot.addEventListener('mousemove', (ev) => {
        const r = root.getBoundingClientRect();
        const px = (ev.clientX - r.left) * (width / r.width);
        hover(t0 + (px - m.left) / pw * (t1 - t0), true);
      });
      plot.addEventListener('mouseleave', () => hover(null));

      // The keyboard's way to the values: the chart is focusable.
      container.tabIndex = 0;
      container.setAttribute('role', 'group');
      container.setAttribute('aria-label', `Chart of ${shown.length} series; arrow keys move the cursor, Escape hides it`);
      container.onkeydown = onKey;
      container.appendChild(tooltip);

      const legend = html('ul', 'legend', container);
      legend.setAttribute('aria-label', 'Series (press to hide or show)');
      for (const s of shown) {
        const li = html('li', '', legend);
        const b = html('button', '', li);
        b.type = 'button';
        b.dataset.series = s.name;
        b.setAttribute('aria-pressed', String(!chart.hidden.has(s.name)));
        const sw = html('span', 'swatch', b);
        sw.style.background = s.color;
        html('span', '', b, s.name);
        const last = lastValue(s.points);
        html('span', 'val', b, last === null ? '' : formatValue(last));
        b.addEventListener('click', () => {
          if (chart.hidden.has(s.name)) chart.hidden.delete(s.name); else chart.hidden.add(s.name);
          render(chart.data);
          const again = container.querySelector(`.legend button[data-series="${CSS.escape(s.name)}"]`);
          if (again) again.focus();
        });
      }
      if (all.length > shown.length) {
        html('p', 'note', container, `Showing ${shown.length} of ${all.length} series; narrow the query to see the others.`);
      }
      if (chart.hoverTime !== null) hover(chart.hoverTime, false);
    }

    function stepName(step) {
      if (step >= 86400000) return step / 86400000 + ' d';
      if (step >= 3600000) return step / 3600000 + ' h';
      if (step >= 60000) return step / 60000 + ' min';
      return step / 1000 + ' s';
    }

    function lastValue(points) {
      for (let i = points.length - 1; i >= 0; i--) if (points[i][1] !== null) return points[i][1];
      return null;
    }

    // hover shows the values at the timestamp nearest to t (null hides it).
    function hover(t, snap) {
      const L = layout;
      const layer = chart.cursorLayer;
      if (layer) layer.textContent = '';
      if (t === null || !L || L.visible.length === 0) {
        tooltip.hidden = true;
        chart.hoverTime = null;
        return;
      }
      // Snap to the nearest point of any visible series.
      let at = null;
      let bestD = Infinity;
      for (const s of L.visible) {
        const i = nearest(s.points, t);
        if (i >= 0 && Math.abs(s.points[i][0] - t) < bestD) { bestD = Math.abs(s.points[i][0] - t); at = s.points[i][0]; }
      }
      if (at === null || (snap && bestD > (L.t1 - L.t0) / 4 && bestD > 60000)) {
        tooltip.hidden = true;
        return;
      }
      chart.hoverTime = at;
      const xx = L.x(at);
      svg('line', { class: 'cursor', x1: xx, x2: xx, y1: L.m.top, y2: L.m.top + L.ph }, layer);
      const rows = [];
      for (const s of L.visible) {
        const i = nearest(s.points, at);
        if (i < 0 || s.points[i][0] !== at) continue;
        const v = s.points[i][1];
        rows.push({ s, v });
        svg('circle', { class: 'hover-dot', cx: xx, cy: L.y(v).toFixed(1), r: 4, fill: s.color, stroke: '#fff', 'stroke-width': 1.5 }, layer);
      }
      rows.sort((a, b) => b.v - a.v);
      tooltip.textContent = '';
      tooltip.dataset.time = String(at);
      html('div', 'when', tooltip, fullTime(at));
      for (const r of rows.slice(0, MAX_TOOLTIP_ROWS)) {
        const row = html('div', 'row', tooltip);
        row.dataset.series = r.s.name;
        row.dataset.value = String(r.v);
        html('span', 'swatch', row).style.background = r.s.color;
        html('span', 'name', row, r.s.name);
        html('span', 'val', row, formatValue(r.v));
      }
      if (rows.length > MAX_TOOLTIP_ROWS) html('div', 'row', tooltip, `and ${rows.length - MAX_TOOLTIP_ROWS} more`);
      tooltip.hidden = false;
      const svgBox = container.querySelector('svg').getBoundingClientRect();
      const scale = svgBox.width / L.width;
      const left = xx * scale;
      const w = tooltip.offsetWidth;
      tooltip.style.left = (left + 14 + w > svgBox.width ? Math.max(0, left - 14 - w) : left + 14) + 'px';
      tooltip.style.top = (L.m.top + 8) + 'px';
    }

    // onKey moves the cursor from point to point of the visible series.
    function onKey(ev) {
      const L = layout;
      if (!L || L.visible.length === 0) return;
      if (ev.key === 'Escape') { hover(null); return; }
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) return;
      if (ev.target.closest && ev.target.closest('.legend')) return;
      ev.preventDefault();
      const times = new Set();
      for (const s of L.visible) for (const p of s.points) if (p[1] !== null) times.add(p[0]);
      const sorted = [...times].sort((a, b) => a - b);
      if (sorted.length === 0) return;
      let i = chart.hoverTime === null ? -1 : sorted.indexOf(chart.hoverTime);
      if (ev.key === 'Home') i = 0;
      else if (ev.key === 'End') i = sorted.length - 1;
      else if (i < 0) i = ev.key === 'ArrowLeft' ? sorted.length - 1 : 0;
      else i = Math.max(0, Math.min(sorted.length - 1, i + (ev.key === 'ArrowLeft' ? -1 : 1)));
      hover(sorted[i], false);
    }

    return chart;
  }

  // drawSeries draws one series as a path, broken at null values; when it
  // has many more points than pixels, each pixel column keeps its first,
  // lowest, highest and last point. Points alone between gaps get a dot.
  function drawSeries(g, s, x, y, t0, t1, pw) {
    const pts = s.points;
    let d = '';
    let vertices = 0;
    let run = 0; // points in the current unbroken run
    let runStart = null;
    const dots = [];
    const dense = pts.length > pw * 4;
    let col = null;
    let bucket = [];
    const flush = () => {
      if (bucket.length === 0) return;
      let lo = bucket[0];
      let hi = bucket[0];
      for (const p of bucket) { if (p[1] < lo[1]) lo = p; if (p[1] > hi[1]) hi = p; }
      const keep = [bucket[0], lo, hi, bucket[bucket.length - 1]]
        .filter((p, i, a) => a.indexOf(p) === i).sort((a, b) => a[0] - b[0]);
      for (const p of keep) emit(p);
      bucket = [];
    };
    const emit = (p) => {
      d += (run === 0 ? 'M' : 'L') + x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1);
      if (run === 0) runStart = p;
      run++;
      vertices++;
    };
    const endRun = () => {
      if (run === 1) dots.push(runStart);
      run = 0;
    };
    for (const p of pts) {
      if (p[0] < t0 || p[0] > t1) continue;
      if (p[1] === null || !isFinite(p[1])) {
        flush();
        endRun();
        continue;
      }
      if (dense) {
        const c = Math.floor(x(p[0]));
        if (c !== col) { flush(); col = c; }
        bucket.push(p);
      } else {
        emit(p);
      }
    }
    flush();
    endRun();
    const path = svg('path', { class: 'series', d: d || 'M0,0', stroke: s.color }, g);
    path.dataset.series = s.name;
    path.dataset.points = String(s.count);
    path.dataset.vertices = String(vertices);
    for (const p of dots) svg('circle', { class: 'dot', cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, fill: s.color }, g);
  }

  global.ApptuitChart = { create, niceStep, valueTicks, timeTicks, formatTick, formatValue, formatShort, fullTime };
})(window);
