// chart.js: the time-series chart of the page of apptuit serve, drawn as SVG
// by this file (no library: see the package comment of webui for why).
// ApptuitChart.create(container, handlers) returns a chart:
//
//   chart.render({start, end, gaps, step, series: [{name, metric, labels, group, points: [[ms, value|null], ...]}]})
//   chart.setState('initial' | 'empty' | 'error', title, detail)
//   chart.setBusy(true | false)          a loading overlay over what is shown
//
// render sorts the series (ApptuitFormat.compareSeries), gives each a
// colour (64 distinct ones per theme) and draws a line per series, broken
// at a null value and, with gaps 'break' (PromQL), where a step has no
// point; a point alone between gaps is a dot. The legend lists the series:
// a click shows only that one (again: all), Ctrl/⌘-click shows or hides
// one. Hovering, or the arrow keys, show the values at a time; dragging
// across the plot calls handlers.onZoom(startMs, endMs), a double-click
// handlers.onReset(). Values are written as the value axis writes them
// (ApptuitFormat.si), the exact value on hover.
//
// The cursor, the selection and the tooltip are HTML over the SVG, on
// layers of their own, so that moving them repaints none of the lines.
//
// The DOM says what is shown, for tests and tools: container.dataset.state
// ('initial', 'empty', 'error', 'chart'), aria-busy while loading; each
// line is a <path class="series" data-series data-points data-vertices>;
// each legend entry a <button data-series data-color data-points
// aria-pressed>; the tooltip has data-time and rows with data-series and
// data-value.
'use strict';
(function (global) {
  const F = global.ApptuitFormat;
  const SVG = 'http://www.w3.org/2000/svg';
  // From palette-gen.js: the first six by hand, the rest each as far from
  // those before it as the theme's contrast allows.
  const PALETTES = {
    light: ['#1f6feb', '#e8590c', '#2b8a3e', '#c2255c', '#6741d9', '#0b7285', '#573304', '#512c60', '#a6940c', '#ef54cf', '#b9868f',
      '#7c91d3', '#1f4324', '#8a1107', '#8e9163', '#cd8149', '#7f1187', '#6d1e2f', '#b870b3', '#39a48d', '#fa434f', '#536202', '#70a213',
      '#252f8f', '#b876ee', '#154f87', '#e47071', '#860458', '#17aa2e', '#f22c96', '#98523f', '#876511', '#786384', '#c98504', '#179ed2',
      '#7063bc', '#e26c9a', '#055008', '#984d70', '#9e4701', '#2196fe', '#5e5835', '#477b50', '#db5c3d', '#869c46', '#b50b89', '#034056',
      '#b68b69', '#c11313', '#fa266e', '#0a6256', '#7141b5', '#6687a8', '#a6323d', '#6d4240', '#833a83', '#b243c7', '#619da2', '#373f01',
      '#1266ba', '#e167ba', '#c20539', '#e0772b', '#6a2513'],
    dark: ['#4c8df6', '#ff8a3d', '#51cf66', '#f06595', '#9775fa', '#22b8cf', '#f0e037', '#7d7948', '#f3d2f9', '#bee7c0', '#e42939',
      '#fdbe9a', '#94679b', '#058d66', '#ce30b0', '#7a9607', '#0af2ca', '#fca1ff', '#b45f50', '#bb9004', '#ded47b', '#407baf', '#b2ef55',
      '#c7939c', '#82b368', '#91c5fe', '#1f8a0b', '#aa6821', '#408180', '#f11567', '#afa1ec', '#fe776e', '#a657ba', '#71f0ed', '#fcba66',
      '#96f1a8', '#e31089', '#f9a0cd', '#e472f8', '#d44610', '#bfb68f', '#fca317', '#847814', '#7ba585', '#9b97bb', '#b35b78', '#2ffaa7',
      '#0f70f9', '#ee6cc2', '#bb9555', '#a4e1f3', '#16bd7e', '#10baaa', '#ea8f61', '#796ac4', '#15a8fc', '#c2ea7e', '#69b920', '#f9949c',
      '#bcb432', '#a07963', '#ffca47', '#d1445b', '#32873b'],
  };
  const MAX_SERIES = 200; // drawn; the rest are counted in a note
  const MAX_TOOLTIP_ROWS = 12;
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400, 172800, 604800, 1209600, 2592000].map((s) => s * 1000);
  const DARK = global.matchMedia ? global.matchMedia('(prefers-color-scheme: dark)') : null;

  function theme() { return DARK && DARK.matches ? 'dark' : 'light'; }

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
    if (!(raw > 0) || !Number.isFinite(raw)) return 1;
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
    return { lo: first, hi: last, ticks };
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

  // nearest is the index of the point of points (with a value) nearest to
  // t, or -1.
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

  function valid(v) { return v !== null && Number.isFinite(v); }

  function create(container, handlers) {
    handlers = handlers || {};
    const chart = { render, setState, setBusy, data: null, hidden: new Set(), isolated: null, hoverTime: null };
    const stateBox = html('div', 'chart-state', container);
    const plotBox = html('div', 'chart-plot', container);
    const busy = html('div', 'chart-loading', container);
    html('span', 'spinner', busy).setAttribute('aria-hidden', 'true');
    html('span', '', busy, 'Loading…');
    const legend = html('ul', 'legend', container);
    legend.setAttribute('aria-label', 'Series: click to show only one (again: all), Ctrl+click to show or hide one');
    const note = html('p', 'note', container);
    // Over the plot: what the mouse moves, each on a layer of its own.
    const overlay = html('div', 'plot-overlay');
    const select = html('div', 'select', overlay);
    const cursor = html('div', 'cursor-line', overlay);
    const dots = html('div', 'cursor-dots', overlay);
    const tooltip = html('div', 'tooltip');
    select.hidden = cursor.hidden = tooltip.hidden = true;
    tooltip.setAttribute('role', 'status');
    let layout = null; // of the last render
    let entries = []; // legend entries: {b, val, s}
    let drag = null; // {x0, x1} in overlay pixels while dragging

    function setState(kind, title, detail) {
      layout = null;
      container.dataset.state = kind;
      stateBox.textContent = '';
      stateBox.hidden = false;
      stateBox.className = 'chart-state ' + kind;
      stateBox.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      html('p', 'title', stateBox, title);
      if (detail) html(kind === 'error' ? 'pre' : 'p', 'detail', stateBox, detail);
      plotBox.textContent = '';
      plotBox.hidden = true;
      legend.textContent = '';
      note.textContent = '';
      entries = [];
      chart.data = null;
      container.removeAttribute('tabindex');
    }

    function setBusy(on) {
      busy.hidden = !on;
      container.setAttribute('aria-busy', String(!!on));
    }

    function visible(name) {
      return chart.isolated !== null ? chart.isolated === name : !chart.hidden.has(name);
    }

    function render(data) {
      const began = performance.now();
      chart.data = data;
      const all = (data.series || []).slice().sort(F.compareSeries);
      if (all.length === 0) {
        setState('empty', data.emptyTitle || 'No data in this time range.', data.emptyDetail || '');
        return;
      }
      const palette = PALETTES[theme()];
      const names = new Set(all.map((s) => s.name));
      if (chart.isolated !== null && !names.has(chart.isolated)) chart.isolated = null;
      const shown = all.slice(0, MAX_SERIES).map((s, i) => ({
        name: s.name, points: s.points, color: palette[i % palette.length],
        count: s.points.reduce((n, p) => n + (valid(p[1]) ? 1 : 0), 0),
      }));
      const drawn = shown.filter((s) => visible(s.name));

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
      for (const s of drawn) {
        for (const p of s.points) {
          if (valid(p[1]) && p[0] >= t0 && p[0] <= t1) {
            if (p[1] < lo) lo = p[1];
            if (p[1] > hi) hi = p[1];
          }
        }
      }
      if (lo === Infinity) { lo = 0; hi = 1; }

      container.dataset.state = 'chart';
      container.dataset.theme = theme();
      stateBox.hidden = true;
      plotBox.hidden = false;
      plotBox.textContent = '';
      const width = Math.max(plotBox.clientWidth || container.clientWidth || 800, 200);
      const height = width < 500 ? 240 : 340;
      const vt = valueTicks(lo, hi, height < 300 ? 4 : 5);
      const labels = F.ticks(vt.ticks);
      const m = { top: 12, right: 14, bottom: 40, left: Math.max(...labels.map((l) => l.length)) * 7 + 16 };
      const pw = width - m.left - m.right;
      const ph = height - m.top - m.bottom;
      const x = (t) => m.left + (t - t0) / (t1 - t0) * pw;
      const y = (v) => m.top + (vt.hi - v) / (vt.hi - vt.lo) * ph;
      layout = { m, pw, ph, x, y, t0, t1, width, height, shown, drawn };

      const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, 'aria-hidden': 'true' }, plotBox);
      root.style.height = height + 'px';
      const grid = svg('g', { class: 'grid' }, root);
      const axis = svg('g', { class: 'axis' }, root);
      vt.ticks.forEach((v, i) => {
        const yy = y(v).toFixed(1);
        svg('line', { x1: m.left, x2: m.left + pw, y1: yy, y2: yy }, grid);
        svg('text', { class: 'y', x: m.left - 8, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, axis).textContent = labels[i];
      });
      const tt = timeTicks(t0, t1, pw);
      const tlabels = F.timeTicks(tt.ticks.map((t) => t / 1000), tt.step / 1000);
      tt.ticks.forEach((t, i) => {
        const xx = x(t).toFixed(1);
        svg('line', { x1: xx, x2: xx, y1: m.top, y2: m.top + ph }, grid);
        tlabels[i].split('\n').forEach((line, j) => {
          svg('text', { class: 'x', x: xx, y: m.top + ph + 15 + j * 13, 'text-anchor': 'middle' }, axis).textContent = line;
        });
      });
      svg('line', { class: 'base', x1: m.left, x2: m.left + pw, y1: m.top + ph, y2: m.top + ph }, axis);
      const lines = svg('g', { class: 'lines' }, root);
      const stepMs = data.gaps === 'break' && data.step ? data.step * 1000 : 0;
      for (const s of drawn) drawSeries(lines, s, x, y, t0, t1, pw, stepMs);

      // The overlay over the plot area: hover, drag, double-click.
      Object.assign(overlay.style, { left: m.left + 'px', top: m.top + 'px', width: pw + 'px', height: ph + 'px' });
      plotBox.appendChild(overlay);
      plotBox.appendChild(tooltip);
      // The keyboard's way to the values: the chart is focusable.
      container.tabIndex = 0;
      container.setAttribute('role', 'group');
      container.setAttribute('aria-label', `Chart of ${shown.length} series; arrow keys move the cursor, Escape hides it`);
      renderLegend(shown);
      note.textContent = all.length > shown.length
        ? `Showing ${shown.length} of ${all.length} series; narrow the query to see the others.` : '';
      if (chart.hoverTime !== null) hover(chart.hoverTime, false); else showValues(null);
      container.dataset.drawMs = (performance.now() - began).toFixed(1);
    }

    function renderLegend(shown) {
      const key = document.activeElement && document.activeElement.closest && document.activeElement.closest('.legend')
        ? document.activeElement.dataset.series : null;
      legend.textContent = '';
      entries = shown.map((s) => {
        const li = html('li', '', legend);
        const b = html('button', '', li);
        b.type = 'button';
        b.dataset.series = s.name;
        b.dataset.color = s.color;
        b.dataset.points = String(s.count);
        b.setAttribute('aria-pressed', String(visible(s.name)));
        html('span', 'swatch', b).style.background = s.color;
        F.wrap(html('span', 'name', b), s.name);
        const val = html('span', 'val', b);
        b.addEventListener('click', (ev) => toggle(s.name, ev.ctrlKey || ev.metaKey));
        if (s.name === key) setTimeout(() => b.focus(), 0);
        return { b, val, s };
      });
    }

    // toggle isolates the series (or, if it is the one isolated, shows all
    // again); with one, it shows or hides that one alone.
    function toggle(name, one) {
      if (one) {
        if (chart.isolated !== null) {
          for (const e of entries) if (e.s.name !== chart.isolated) chart.hidden.add(e.s.name);
          chart.isolated = null;
        }
        if (chart.hidden.has(name)) chart.hidden.delete(name); else chart.hidden.add(name);
      } else {
        chart.isolated = chart.isolated === name ? null : name;
        chart.hidden.clear();
      }
      render(chart.data);
    }

    function setValue(el, v) {
      const full = valid(v) ? F.full(v) : '';
      if (el.dataset.value === full && el.textContent !== '') return;
      el.textContent = valid(v) ? F.si(v) : '';
      el.title = full;
      el.dataset.value = full;
    }

    // showValues writes each series' value at time t in the legend, or its
    // last value when t is null.
    function showValues(t) {
      for (const e of entries) {
        const pts = e.s.points;
        let v = null;
        if (t === null) {
          for (let i = pts.length - 1; i >= 0; i--) if (valid(pts[i][1])) { v = pts[i][1]; break; }
        } else {
          const i = lowerBound(pts, t);
          if (i < pts.length && pts[i][0] === t) v = pts[i][1];
        }
        setValue(e.val, v);
      }
    }

    // hover shows the values at the timestamp nearest to t (null hides
    // them); snap leaves them hidden when no point is near.
    function hover(t, snap) {
      const L = layout;
      dots.textContent = '';
      if (t === null || !L || L.drawn.length === 0) {
        tooltip.hidden = cursor.hidden = true;
        chart.hoverTime = null;
        showValues(null);
        return;
      }
      let at = null;
      let bestD = Infinity;
      for (const s of L.drawn) {
        const i = nearest(s.points, t);
        if (i >= 0 && Math.abs(s.points[i][0] - t) < bestD) { bestD = Math.abs(s.points[i][0] - t); at = s.points[i][0]; }
      }
      if (at === null || at < L.t0 || at > L.t1 || (snap && bestD > (L.t1 - L.t0) / 4 && bestD > 60000)) {
        tooltip.hidden = cursor.hidden = true;
        showValues(null);
        return;
      }
      chart.hoverTime = at;
      const xx = L.x(at) - L.m.left;
      cursor.hidden = false;
      cursor.style.transform = `translateX(${xx.toFixed(1)}px)`;
      const rows = [];
      for (const s of L.drawn) {
        const i = lowerBound(s.points, at);
        if (i < s.points.length && s.points[i][0] === at && valid(s.points[i][1])) rows.push({ s, v: s.points[i][1] });
      }
      rows.sort((a, b) => b.v - a.v);
      // The series nearest to the pointer gets its exact value too.
      let focus = rows[0];
      if (L.pointerY !== undefined) {
        for (const r of rows) if (Math.abs(L.y(r.v) - L.pointerY) < Math.abs(L.y(focus.v) - L.pointerY)) focus = r;
      }
      for (const r of rows.slice(0, 50)) {
        const d = html('span', 'dot', dots);
        d.style.background = r.s.color;
        d.style.transform = `translate(${xx.toFixed(1)}px, ${(L.y(r.v) - L.m.top).toFixed(1)}px)`;
      }
      tooltip.textContent = '';
      tooltip.dataset.time = String(at);
      html('div', 'when', tooltip, F.fullTime(at));
      const list = rows.slice(0, MAX_TOOLTIP_ROWS);
      if (focus && !list.includes(focus)) list[list.length - 1] = focus;
      for (const r of list) {
        const row = html('div', 'row' + (r === focus ? ' focus' : ''), tooltip);
        row.dataset.series = r.s.name;
        row.dataset.value = F.full(r.v);
        html('span', 'swatch', row).style.background = r.s.color;
        F.wrap(html('span', 'name', row), r.s.name);
        html('span', 'val', row, F.si(r.v));
        if (r === focus && F.full(r.v) !== F.si(r.v)) html('span', 'full', row, F.full(r.v));
      }
      if (rows.length > list.length) html('div', 'more', tooltip, `and ${rows.length - list.length} more`);
      tooltip.hidden = rows.length === 0;
      showValues(at);
      // Beside the cursor, on the side with room.
      const left = L.x(at);
      const w = tooltip.offsetWidth;
      const tx = left + 14 + w > L.width ? Math.max(0, left - 14 - w) : left + 14;
      tooltip.style.transform = `translate(${tx.toFixed(0)}px, ${L.m.top + 8}px)`;
    }

    // The mouse over the plot: hover, drag to zoom, double-click to reset.
    function timeAt(ev) {
      const r = overlay.getBoundingClientRect();
      const px = Math.max(0, Math.min(r.width, ev.clientX - r.left));
      return { px, t: layout.t0 + px / r.width * (layout.t1 - layout.t0), py: ev.clientY - r.top + layout.m.top };
    }
    overlay.addEventListener('mousemove', (ev) => {
      if (!layout) return;
      const p = timeAt(ev);
      layout.pointerY = p.py;
      if (drag) return;
      hover(p.t, true);
    });
    overlay.addEventListener('mouseleave', () => { if (!drag) hover(null); });
    overlay.addEventListener('mousedown', (ev) => {
      if (!layout || ev.button !== 0) return;
      ev.preventDefault();
      const p = timeAt(ev);
      drag = { x0: p.px, x1: p.px };
      const move = (e) => {
        drag.x1 = timeAt(e).px;
        const a = Math.min(drag.x0, drag.x1);
        select.hidden = false;
        select.style.transform = `translateX(${a.toFixed(1)}px)`;
        select.style.width = Math.abs(drag.x1 - drag.x0).toFixed(1) + 'px';
      };
      const up = (e) => {
        global.removeEventListener('mousemove', move);
        global.removeEventListener('mouseup', up);
        const d = drag;
        drag = null;
        select.hidden = true;
        d.x1 = timeAt(e).px;
        if (Math.abs(d.x1 - d.x0) >= 4 && handlers.onZoom && layout) {
          const w = overlay.getBoundingClientRect().width;
          const at = (px) => Math.round(layout.t0 + px / w * (layout.t1 - layout.t0));
          handlers.onZoom(at(Math.min(d.x0, d.x1)), at(Math.max(d.x0, d.x1)));
        }
      };
      global.addEventListener('mousemove', move);
      global.addEventListener('mouseup', up);
    });
    overlay.addEventListener('dblclick', (ev) => {
      ev.preventDefault();
      if (handlers.onReset) handlers.onReset();
    });

    // The keyboard moves the cursor from point to point.
    container.addEventListener('keydown', (ev) => {
      const L = layout;
      if (!L || L.drawn.length === 0 || (ev.target.closest && ev.target.closest('.legend'))) return;
      if (ev.key === 'Escape') { hover(null); return; }
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) return;
      ev.preventDefault();
      const times = new Set();
      for (const s of L.drawn) for (const p of s.points) if (valid(p[1]) && p[0] >= L.t0 && p[0] <= L.t1) times.add(p[0]);
      const sorted = [...times].sort((a, b) => a - b);
      if (sorted.length === 0) return;
      let i = chart.hoverTime === null ? -1 : sorted.indexOf(chart.hoverTime);
      if (ev.key === 'Home') i = 0;
      else if (ev.key === 'End') i = sorted.length - 1;
      else if (i < 0) i = ev.key === 'ArrowLeft' ? sorted.length - 1 : 0;
      else i = Math.max(0, Math.min(sorted.length - 1, i + (ev.key === 'ArrowLeft' ? -1 : 1)));
      L.pointerY = undefined;
      hover(sorted[i], false);
    });

    // Follow the container's width and the system's colour scheme.
    let resizeTimer = null;
    global.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (chart.data && layout) render(chart.data); }, 150);
    });
    if (DARK) DARK.addEventListener('change', () => { if (chart.data && layout) render(chart.data); });

    setBusy(false);
    return chart;
  }

  // drawSeries draws one series as a path, broken at null values and, with
  // stepMs, where consecutive points are more than 1.5 steps apart; when it
  // has many more points than pixels, each pixel column keeps its first,
  // lowest, highest and last point. A point alone between gaps is a dot.
  function drawSeries(g, s, x, y, t0, t1, pw, stepMs) {
    const pts = s.points;
    let d = '';
    let vertices = 0;
    let run = 0; // points in the current unbroken run
    let runStart = null;
    let prevT = null;
    const lone = [];
    const dense = pts.length > pw * 4;
    let col = null;
    let bucket = [];
    const emit = (p) => {
      d += (run === 0 ? 'M' : 'L') + x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1);
      if (run === 0) runStart = p;
      run++;
      vertices++;
    };
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
    const endRun = () => {
      flush();
      if (run === 1) lone.push(runStart);
      run = 0;
    };
    for (const p of pts) {
      if (p[0] < t0 || p[0] > t1) continue;
      if (!valid(p[1])) {
        endRun();
        prevT = null;
        continue;
      }
      if (stepMs && prevT !== null && p[0] - prevT > stepMs * 1.5) endRun();
      prevT = p[0];
      if (dense) {
        const c = Math.floor(x(p[0]));
        if (c !== col) { flush(); col = c; }
        bucket.push(p);
      } else {
        emit(p);
      }
    }
    endRun();
    const path = svg('path', { class: 'series', d: d || 'M0,0', stroke: s.color }, g);
    path.dataset.series = s.name;
    path.dataset.points = String(s.count);
    path.dataset.vertices = String(vertices);
    for (const p of lone) svg('circle', { class: 'dot', cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, fill: s.color }, g);
  }

  global.ApptuitChart = { create, PALETTES, MAX_SERIES };
})(window);
