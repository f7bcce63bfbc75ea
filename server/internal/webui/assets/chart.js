// chart.js: the time-series chart of the page of apptuit serve, drawn by
// uPlot (vendor/uPlot.iife.min.js, on a canvas: see the package comment of
// webui for why) with the page's own legend, tooltip and states around it. ApptuitChart.create(container, handlers)
// returns a chart:
//
//   chart.render({start, end, gaps, series: [{name, metric, labels, group, points: [[ms, value|null], ...]}]})
//   chart.setState('initial' | 'empty' | 'error', title, detail)
//   chart.setBusy(true | false)          a loading overlay over what is shown
//
// render sorts the series (ApptuitFormat.compareSeries), gives each a
// colour (64 distinct ones per theme), draws a line per series — broken at
// a null value, and with gaps: 'break' (PromQL's steps) also where a
// series has no point at a time another has — and lists them in a legend:
// a click isolates a series (again: all), Ctrl/⌘-click shows or hides one.
// Hovering shows the values at the cursor's time; dragging across the
// plot calls handlers.onZoom(startMs, endMs), a double-click
// handlers.onReset(). Values are written as the value axis writes them
// (ApptuitFormat.si), the exact value on hover.
//
// The arrow keys, Home and End move the cursor when the chart has the
// focus, Escape hides it.
//
// The DOM says what is shown, for tests and tools: container.dataset.state
// ('initial', 'empty', 'error', 'chart'), aria-busy while loading,
// data-draw-ms the milliseconds from render() to the chart drawn,
// data-draws the number of times the canvas was drawn; each
// legend entry is a <button data-series data-color data-points
// aria-pressed>; the tooltip has data-time and rows with data-series and
// data-value.
'use strict';
(function (global) {
  const F = global.ApptuitFormat;
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
  const FEW_SERIES = 12; // up to which the points get dots
  const DARK = global.matchMedia ? global.matchMedia('(prefers-color-scheme: dark)') : null;

  function theme() { return DARK && DARK.matches ? 'dark' : 'light'; }

  function html(name, cls, parent, text) {
    const e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // align puts the series on one time axis (uPlot's data: seconds, then a
  // column per series). A missing point is undefined (the line spans it)
  // or, with gaps 'break', null (the line breaks), as a null value is.
  function align(series, gaps) {
    const times = new Set();
    for (const s of series) for (const p of s.points) times.add(p[0]);
    const ms = Float64Array.from(times).sort();
    const index = new Map();
    ms.forEach((t, i) => index.set(t, i));
    const fill = gaps === 'break' ? null : undefined;
    const cols = series.map((s) => {
      const col = new Array(ms.length).fill(fill);
      for (const p of s.points) col[index.get(p[0])] = p[1] === null || !Number.isFinite(p[1]) ? null : p[1];
      return col;
    });
    return { ms, data: [Array.from(ms, (t) => t / 1000)].concat(cols) };
  }

  // lonePoints are the indexes of col whose value has no value next to it
  // (a line cannot show it; a dot does).
  function lonePoints(col) {
    const out = [];
    let prev = null; // the value before, skipping undefined
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v === undefined) continue;
      if (v !== null && prev === null) {
        let j = i + 1;
        while (j < col.length && col[j] === undefined) j++;
        if (j >= col.length || col[j] === null) out.push(i);
      }
      prev = v;
    }
    return out.length ? out : null;
  }

  function create(container, handlers) {
    handlers = handlers || {};
    const chart = { render, setState, setBusy, data: null, hidden: new Set(), isolated: null };
    const stateBox = html('div', 'chart-state', container);
    const plotBox = html('div', 'chart-plot', container);
    const busy = html('div', 'chart-loading', container);
    busy.hidden = true;
    html('span', 'spinner', busy).setAttribute('aria-hidden', 'true');
    html('span', '', busy, 'Loading…');
    const legend = html('ul', 'legend', container);
    legend.setAttribute('aria-label', 'Series: click to show only one (again: all), Ctrl+click to show or hide one');
    const note = html('p', 'note', container);
    const tooltip = html('div', 'tooltip', plotBox);
    tooltip.hidden = true;
    let u = null;
    let shown = []; // the drawn series: {name, color, col, lone, count}
    let entries = []; // legend buttons, as shown
    let ms = null;

    function setState(kind, title, detail) {
      destroy();
      container.dataset.state = kind;
      stateBox.textContent = '';
      stateBox.hidden = false;
      stateBox.className = 'chart-state ' + kind;
      stateBox.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      html('p', 'title', stateBox, title);
      if (detail) html(kind === 'error' ? 'pre' : 'p', 'detail', stateBox, detail);
      legend.textContent = '';
      note.textContent = '';
      chart.data = null;
    }

    function setBusy(on) {
      busy.hidden = !on;
      container.setAttribute('aria-busy', String(!!on));
      // Over a chart the overlay dims it; over a message it replaces it.
      stateBox.classList.toggle('busy', !!on);
    }

    function destroy() {
      if (u) {
        u.destroy();
        u = null;
      }
      tooltip.hidden = true;
      plotBox.hidden = true;
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
      const drawn = all.slice(0, MAX_SERIES);
      const { ms: times, data: cols } = align(drawn, data.gaps);
      ms = times;
      const names = new Set(drawn.map((s) => s.name));
      if (chart.isolated !== null && !names.has(chart.isolated)) chart.isolated = null;
      shown = drawn.map((s, i) => ({
        name: s.name, color: palette[i % palette.length], col: cols[i + 1], lone: lonePoints(cols[i + 1]),
        count: s.points.reduce((n, p) => n + (p[1] === null || !Number.isFinite(p[1]) ? 0 : 1), 0),
      }));

      container.dataset.state = 'chart';
      container.dataset.theme = theme();
      stateBox.hidden = true;
      plotBox.hidden = false;
      const width = Math.max(plotBox.clientWidth || container.clientWidth || 800, 200);
      const height = width < 500 ? 240 : 340;
      const muted = cssVar('--muted') || '#5b6677';
      const line = cssVar('--line') || '#dde3ea';
      const font = '11px ' + (cssVar('--sans') || 'sans-serif');
      const opts = {
        width,
        height,
        legend: { show: false },
        scales: {
          x: { time: true, range: () => [data.start / 1000, data.end / 1000] },
        },
        axes: [
          {
            stroke: muted, font, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 }, space: 64,
            values: (self, secs, axis, space, incr) => F.timeTicks(secs, incr),
          },
          {
            stroke: muted, font, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 },
            values: (self, ticks) => F.ticks(ticks),
            size: (self, values) => (values ? Math.max(...values.map((v) => v.length)) * 7 + 16 : 40),
          },
        ],
        series: [{}].concat(shown.map((s) => ({
          label: s.name,
          stroke: s.color,
          width: 1.6,
          spanGaps: false,
          show: visible(s.name),
          // Dots where they fit, for a few series; a point alone always.
          points: Object.assign({ size: 5, fill: s.color, filter: (self, i, show) => (show ? null : s.lone) },
            shown.length > FEW_SERIES ? { show: false } : {}),
        }))),
        cursor: {
          y: false, // a vertical line only
          drag: { x: true, y: false, setScale: false },
          bind: { dblclick: () => () => { if (handlers.onReset) handlers.onReset(); return null; } },
          // Dimming the others redraws every series: only for a few.
          focus: { prox: shown.length > FEW_SERIES ? -1 : 24 },
          points: { size: 7 },
        },
        focus: { alpha: shown.length > FEW_SERIES ? 1 : 0.35 },
        hooks: {
          setSelect: [(self) => {
            const sel = self.select;
            if (sel.width >= 4 && handlers.onZoom) {
              const from = self.posToVal(sel.left, 'x') * 1000;
              const to = self.posToVal(sel.left + sel.width, 'x') * 1000;
              self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              handlers.onZoom(Math.round(from), Math.round(to));
            }
          }],
          setCursor: [() => showCursor()],
          draw: [() => {
            if (container.dataset.drawn !== 'true') container.dataset.drawMs = (performance.now() - began).toFixed(1);
            container.dataset.drawn = 'true';
            container.dataset.draws = String(Number(container.dataset.draws || 0) + 1);
          }],
          setSeries: [() => showCursor()],
        },
      };
      destroy();
      plotBox.hidden = false;
      container.dataset.drawn = 'false';
      u = new global.uPlot(opts, cols, plotBox);
      plotBox.appendChild(tooltip);
      // The keyboard's way to the values: the chart is focusable.
      container.tabIndex = 0;
      container.setAttribute('role', 'group');
      container.setAttribute('aria-label', `Chart of ${drawn.length} series; arrow keys move the cursor, Escape hides it`);
      renderLegend();
      note.textContent = all.length > drawn.length
        ? `Showing ${drawn.length} of ${all.length} series; narrow the query to see the others.` : '';
    }

    function visible(name) {
      return chart.isolated !== null ? chart.isolated === name : !chart.hidden.has(name);
    }

    // renderLegend lists the drawn series, each with its value at the
    // cursor, or its last value.
    function renderLegend() {
      legend.textContent = '';
      entries = shown.map((s, i) => {
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
        return { b, val, s, i };
      });
      showCursor();
    }

    // toggle isolates the series (or, if it is the one isolated, shows
    // all again); with alone false it shows or hides that one.
    function toggle(name, one) {
      if (one) {
        if (chart.isolated !== null) {
          for (const s of shown) if (s.name !== chart.isolated) chart.hidden.add(s.name);
          chart.hidden.delete(chart.isolated);
          chart.isolated = null;
        }
        if (chart.hidden.has(name)) chart.hidden.delete(name); else chart.hidden.add(name);
      } else {
        chart.isolated = chart.isolated === name ? null : name;
        if (chart.isolated === null) chart.hidden.clear();
      }
      u.batch(() => shown.forEach((s, i) => u.setSeries(i + 1, { show: visible(s.name) })));
      for (const e of entries) e.b.setAttribute('aria-pressed', String(visible(e.s.name)));
    }

    // valueAt is a series' value at the index i of the time axis, or its
    // last value when i is null.
    function valueAt(s, i) {
      if (i === null || i === undefined) {
        for (let j = s.col.length - 1; j >= 0; j--) if (s.col[j] !== null && s.col[j] !== undefined) return s.col[j];
        return null;
      }
      const v = s.col[i];
      return v === undefined ? null : v;
    }

    function setValue(el, v) {
      const full = v === null ? '' : F.full(v);
      if (el.dataset.value === full && el.textContent !== '') return;
      el.textContent = v === null ? '' : F.si(v);
      el.title = v === null ? '' : F.full(v);
      el.dataset.value = v === null ? '' : F.full(v);
    }

    // showCursor updates the legend's values and the tooltip to the
    // cursor's position.
    function showCursor() {
      if (!u) return;
      const idx = u.cursor.idx;
      const hovering = idx !== null && idx !== undefined && u.cursor.left >= 0;
      for (const e of entries) setValue(e.val, valueAt(e.s, hovering ? idx : null));
      if (!hovering) {
        tooltip.hidden = true;
        return;
      }
      const rows = [];
      shown.forEach((s, i) => {
        const v = s.col[idx];
        if (visible(s.name) && v !== null && v !== undefined) rows.push({ s, i, v });
      });
      if (rows.length === 0) {
        tooltip.hidden = true;
        return;
      }
      rows.sort((a, b) => b.v - a.v);
      // The series nearest to the cursor, as uPlot focuses it.
      const cy = u.cursor.top;
      let focus = rows[0];
      for (const r of rows) if (Math.abs(u.valToPos(r.v, 'y') - cy) < Math.abs(u.valToPos(focus.v, 'y') - cy)) focus = r;
      const at = ms[idx];
      tooltip.textContent = '';
      tooltip.dataset.time = String(at);
      html('div', 'when', tooltip, F.fullTime(at));
      const list = rows.slice(0, MAX_TOOLTIP_ROWS);
      if (!list.includes(focus)) list[list.length - 1] = focus;
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
      tooltip.hidden = false;
      // Beside the cursor, on the side with room; over the plot area.
      const over = u.over;
      const left = over.offsetLeft + u.cursor.left;
      const w = tooltip.offsetWidth;
      const room = plotBox.clientWidth;
      const tx = Math.max(0, left + 16 + w > room ? left - 16 - w : left + 16);
      tooltip.style.transform = `translate(${tx.toFixed(0)}px, ${over.offsetTop + 8}px)`;
    }

    // The keyboard moves the cursor from time to time of the data.
    container.addEventListener('keydown', (ev) => {
      if (!u || (ev.target.closest && ev.target.closest('.legend'))) return;
      if (ev.key === 'Escape') {
        u.setCursor({ left: -10, top: -10 });
        return;
      }
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) return;
      ev.preventDefault();
      const xs = u.data[0];
      const inRange = [];
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] * 1000 >= chart.data.start && xs[i] * 1000 <= chart.data.end && shown.some((s) => visible(s.name) && s.col[i] != null)) inRange.push(i);
      }
      if (inRange.length === 0) return;
      const cur = u.cursor.left >= 0 ? inRange.indexOf(u.cursor.idx) : -1;
      let k;
      if (ev.key === 'Home') k = 0;
      else if (ev.key === 'End') k = inRange.length - 1;
      else if (cur < 0) k = ev.key === 'ArrowLeft' ? inRange.length - 1 : 0;
      else k = Math.max(0, Math.min(inRange.length - 1, cur + (ev.key === 'ArrowLeft' ? -1 : 1)));
      u.setCursor({ left: u.valToPos(xs[inRange[k]], 'x'), top: u.over.clientHeight / 2 });
    });

    // Follow the container's width and the system's colour scheme.
    let resizeTimer = null;
    global.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (chart.data && u) render(chart.data); }, 150);
    });
    if (DARK) DARK.addEventListener('change', () => { if (chart.data && u) render(chart.data); });

    setBusy(false);
    return chart;
  }

  global.ApptuitChart = { create, PALETTES, MAX_SERIES };
})(window);
