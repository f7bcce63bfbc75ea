// bench.js: the page of chartbench. window.bench(which, runs) draws the
// same N series of P points (N, P from the URL) runs times, with the page's
// chart ('page'), with uPlot alone ('uplot') or with the SVG chart the page
// had before ('svg'), one at a time at the same place on the page, each
// time until two animation frames later (so that the time includes style,
// layout and paint); then it moves the mouse over the plot runs times. It
// returns medians and 90th percentiles in milliseconds.
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
const boxes = { page: document.getElementById('page'), uplot: document.getElementById('uplot'), svg: document.getElementById('svg') };
for (const b of Object.values(boxes)) b.style.width = '1000px';
const charts = { page: ApptuitChart.create(boxes.page, {}), svg: window.SVGChart ? SVGChart.create(boxes.svg, {}) : null };
let u = null;
function draw(which) {
  if (which !== 'uplot') { charts[which].render(data); return; }
  if (u) u.destroy();
  u = new uPlot({ width: 1000, height: 340, legend: { show: false },
    series: [{}].concat(series.map((s, i) => ({ label: s.name, stroke: ApptuitChart.PALETTES.light[i % 64], width: 1.6 }))) }, columns, boxes.uplot);
}
const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
const q = (a, p) => { a = a.slice().sort((x, y) => x - y); return +a[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(1); };
window.bench = async (which, runs) => {
  for (const k in boxes) boxes[k].hidden = k !== which;
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
  const over = boxes[which].querySelector('.u-over, .plot-overlay');
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
