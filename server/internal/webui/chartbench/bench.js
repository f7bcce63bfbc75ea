// bench.js: the page of chartbench. window.bench(which, runs) draws the same
// N series of P points (N, P from the URL) runs times with the page's chart
// ('svg'), with uPlot alone ('uplot') or with the wrapper of -wrapper
// ('wrapped'), one at a time at the same place on the page, each time until two animation
// frames later (so the time includes style, layout and paint), then moves
// the mouse over the plot runs times; it returns the medians and the 90th
// percentiles in milliseconds.
'use strict';
const params = new URLSearchParams(location.search);
const N = +(params.get('n') || 50), P = +(params.get('p') || 1000), T0 = 1700000000000, STEP = 15000;
const series = [];
for (let s = 0; s < N; s++) {
  const pts = []; let v = 100 + s * 10;
  for (let i = 0; i < P; i++) { v += Math.sin(i / 7 + s) * 3 + (((i * 7919 + s * 104729) % 13) - 6); pts.push([T0 + i * STEP, v]); }
  series.push({ name: 'metric.name{le="' + s + '"}', metric: 'metric.name', labels: { le: String(s) }, points: pts });
}
const data = { start: T0, end: T0 + (P - 1) * STEP, series, gaps: 'span' };
const columns = [series[0].points.map((p) => p[0] / 1000)].concat(series.map((s) => s.points.map((p) => p[1])));
const svgBox = document.getElementById('svg'), uBox = document.getElementById('uplot'), wBox = document.getElementById('wrapped');
svgBox.style.width = uBox.style.width = wBox.style.width = '1000px';
const chart = ApptuitChart.create(svgBox, {});
const wrapped = window.UPlotChart ? UPlotChart.create(wBox, {}) : null;
let u = null;
function show(which) { // one chart at a time, at the same place
  svgBox.hidden = which !== 'svg';
  uBox.hidden = which !== 'uplot';
  wBox.hidden = which !== 'wrapped';
}
function draw(which) {
  if (which === 'svg') { chart.render(data); return; }
  if (which === 'wrapped') { wrapped.render(data); return; }
  if (u) u.destroy();
  u = new uPlot({ width: 1000, height: 340, legend: { show: false },
    series: [{}].concat(series.map((s, i) => ({ label: s.name, stroke: ApptuitChart.PALETTES.light[i % 64], width: 1.6 }))) }, columns, uBox);
}
const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
const q = (a, p) => { a = a.slice().sort((x, y) => x - y); return +a[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(1); };
window.bench = async (which, runs) => {
  show(which);
  const render = [], hover = [], idle = [];
  for (let i = 0; i < runs; i++) {
    await frame();
    let a = performance.now();
    await frame();
    idle.push(performance.now() - a);
    a = performance.now();
    draw(which);
    await frame();
    render.push(performance.now() - a);
  }
  const over = which === 'svg' ? svgBox.querySelector('.plot-overlay') : (which === 'uplot' ? uBox : wBox).querySelector('.u-over');
  const r = over.getBoundingClientRect();
  for (let i = 0; i < runs; i++) {
    await frame();
    const a = performance.now();
    over.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + r.width * (i + 1) / (runs + 2), clientY: r.top + 50, bubbles: true }));
    await frame();
    hover.push(performance.now() - a);
  }
  return { idle: q(idle, 0.5), render: q(render, 0.5), render90: q(render, 0.9), hover: q(hover, 0.5), hover90: q(hover, 0.9) };
};
window.benchReady = true;
