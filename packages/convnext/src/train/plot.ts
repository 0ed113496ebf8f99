/** Line charts as standalone SVG files (no dependencies; any browser opens them). */

/** One line of a chart. */
export interface Series {
  /** Legend text. */
  readonly name: string;
  /** `[x, y]` points; non-finite y values are skipped. */
  readonly points: readonly (readonly [number, number])[];
  /** SVG colour. */
  readonly color: string;
}

/** One chart: a title, axis labels and its lines. */
export interface Chart {
  /** Shown above the chart. */
  readonly title: string;
  /** X axis label. */
  readonly xLabel: string;
  /** Y axis label. */
  readonly yLabel: string;
  /** The lines. */
  readonly series: readonly Series[];
  /** Fixed y range (default: from 0 or the data minimum to the data maximum). */
  readonly yRange?: readonly [number, number];
}

const W = 720;
const H = 360;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** One chart as an SVG group of size W x H at vertical offset `top`. */
function chartGroup(c: Chart, top: number): string {
  const m = { l: 70, r: 20, t: 40, b: 50 };
  const pts = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [y0, y1] = c.yRange ?? (ys.length ? [Math.min(0, ...ys), Math.max(...ys)] : [0, 1]);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => top + H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const parts = [`<text x="${W / 2}" y="${top + 22}" text-anchor="middle" font-size="15">${esc(c.title)}</text>`];
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(x0, x1)) parts.push(`<text x="${sx(t)}" y="${top + H - m.b + 18}" text-anchor="middle">${t}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${top + H - m.b}" y2="${top + H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${top + m.t}" y2="${top + H - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${top + H - 10}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${top + (m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const finite = s.points.filter((p) => Number.isFinite(p[1]));
    const d = finite.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    if (finite.length === 1) parts.push(`<circle cx="${sx(finite[0]![0])}" cy="${sy(finite[0]![1])}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${W - m.r - 170}" y="${top + m.t + 8 + i * 18}" width="14" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${W - m.r - 150}" y="${top + m.t + 13 + i * 18}">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Renders charts stacked vertically into one SVG document. */
export function chartsSvg(charts: readonly Chart[]): string {
  if (charts.length === 0) throw new Error('chartsSvg: nothing to plot');
  const height = H * charts.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    ...charts.map((c, i) => chartGroup(c, i * H)),
    '</svg>',
  ].join('\n');
}

/** An exponential moving average of a series' y values, for smoothing noisy losses. */
export function smooth(points: readonly (readonly [number, number])[], beta = 0.9): [number, number][] {
  let v = NaN;
  return points.map(([x, y]) => {
    v = Number.isNaN(v) ? y : beta * v + (1 - beta) * y;
    return [x, v];
  });
}
