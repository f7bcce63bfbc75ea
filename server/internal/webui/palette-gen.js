// palette-gen.js prints the series colours of the page's chart (PALETTES in
// assets/chart.js): node server/internal/webui/palette-gen.js
//
// For each theme it starts from six hand-picked colours and adds, one at a
// time, the sRGB colour farthest (CIE76 ΔE in CIELAB) from all chosen so
// far, among those with a chroma of 20 to 80 and a contrast of at least 3:1
// with the theme's panel colour (WCAG's bound for graphical objects). The
// browser test TestPageSeriesOrderAndColours checks the result: 64 colours,
// each pair at least ΔE 15 apart, each at least 3:1 against its panel.
'use strict';

function toLinear(c) {
  c /= 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

function fromLinear(c) {
  return Math.round((c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055) * 255);
}

function labToRGB(L, a, b) {
  const fy = (L + 16) / 116;
  const f = (t) => (t > 6 / 29 ? t * t * t : 3 * (6 / 29) * (6 / 29) * (t - 4 / 29));
  const X = 0.95047 * f(fy + a / 500);
  const Y = f(fy);
  const Z = 1.08883 * f(fy - b / 200);
  const lin = [3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z, -0.969266 * X + 1.8760108 * Y + 0.041556 * Z,
    0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z];
  return lin.some((v) => v < 0 || v > 1) ? null : lin.map(fromLinear);
}

function rgbToLab(rgb) {
  const [r, g, b] = rgb.map(toLinear);
  const X = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const Y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const Z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t) => (t > Math.pow(6 / 29, 3) ? Math.cbrt(t) : t / (3 * (6 / 29) * (6 / 29)) + 4 / 29);
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}

function luminance(rgb) {
  const [r, g, b] = rgb.map(toLinear);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const x = luminance(a);
  const y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

const hexToRGB = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const rgbToHex = (rgb) => '#' + rgb.map((v) => v.toString(16).padStart(2, '0')).join('');
const dist = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);

function palette(seeds, n, Lmin, Lmax, panel) {
  const bg = hexToRGB(panel);
  const cands = [];
  for (let L = Lmin; L <= Lmax; L += 2) {
    for (let a = -90; a <= 90; a += 3) {
      for (let b = -90; b <= 90; b += 3) {
        const c = Math.hypot(a, b);
        const rgb = c >= 20 && c <= 80 ? labToRGB(L, a, b) : null;
        if (rgb && contrast(rgb, bg) >= 3) cands.push({ lab: [L, a, b], rgb });
      }
    }
  }
  const chosen = seeds.map((h) => ({ lab: rgbToLab(hexToRGB(h)), rgb: hexToRGB(h) }));
  const near = cands.map((o) => Math.min(...chosen.map((c) => dist(o.lab, c.lab))));
  while (chosen.length < n) {
    let best = 0;
    near.forEach((d, i) => { if (d > near[best]) best = i; });
    const c = cands[best];
    chosen.push(c);
    cands.forEach((o, i) => { near[i] = Math.min(near[i], dist(o.lab, c.lab)); });
  }
  return chosen.map((c) => rgbToHex(c.rgb));
}

const light = palette(['#1f6feb', '#e8590c', '#2b8a3e', '#c2255c', '#6741d9', '#0b7285'], 64, 25, 62, '#ffffff');
const dark = palette(['#4c8df6', '#ff8a3d', '#51cf66', '#f06595', '#9775fa', '#22b8cf'], 64, 50, 88, '#161d26');
console.log('light: ' + JSON.stringify(light));
console.log('dark: ' + JSON.stringify(dark));
