/**
 * A small line chart on a canvas: the raw values faintly, their moving average boldly, the
 * y range and the last value as text. Redrawn from scratch on every point (a few hundred).
 * The values are also in the canvas's `aria-label` (the last one) and `data-values` (all, as
 * JSON), for screen readers and for the app's test.
 */

/** Options of {@link LineChart}. */
export interface LineChartOptions {
  readonly title: string;
  readonly color: string;
  /** Fixed y range (accuracy: [0, 1]); otherwise it follows the data. */
  readonly yRange?: readonly [number, number];
  /** Formats values for the labels. */
  readonly format?: (v: number) => string;
}

/** How many points the moving average spans. */
const SMOOTH = 10;

/** A growing series drawn on `canvas`. */
export class LineChart {
  private readonly values: number[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: LineChartOptions,
  ) {
    this.draw();
  }

  /** Adds the next value and redraws. */
  push(v: number): void {
    this.values.push(v);
    this.draw();
  }

  /** Forgets every value. */
  clear(): void {
    this.values.length = 0;
    this.draw();
  }

  private draw(): void {
    const last = this.values.at(-1);
    this.canvas.dataset['values'] = JSON.stringify(this.values);
    this.canvas.setAttribute('aria-label', `${this.opts.title} chart${last === undefined ? '' : `, last value ${last}`}`);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = this.canvas;
    const fmt = this.opts.format ?? ((v: number) => v.toFixed(3));
    const pad = { l: 48, r: 10, t: 22, b: 18 };
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#fbfcfe';
    ctx.fillRect(0, 0, w, h);
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#1d2330';
    ctx.fillText(`${this.opts.title}${last === undefined ? '' : `: ${fmt(last)}`}`, pad.l, 15);
    const vs = this.values;
    let [lo, hi] = this.opts.yRange ?? [Math.min(...vs), Math.max(...vs)];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
    if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
    const x = (i: number): number => pad.l + ((w - pad.l - pad.r) * i) / Math.max(1, vs.length - 1);
    const y = (v: number): number => pad.t + (h - pad.t - pad.b) * (1 - (v - lo) / (hi - lo));
    ctx.strokeStyle = '#c9cfdb';
    ctx.lineWidth = 1;
    ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
    ctx.fillStyle = '#5a6275';
    ctx.fillText(fmt(hi), 4, pad.t + 10);
    ctx.fillText(fmt(lo), 4, h - pad.b);
    ctx.fillText(`step ${vs.length}`, w - pad.r - 60, h - 4);
    if (vs.length === 0) return;
    this.line(ctx, vs, x, y, `${this.opts.color}55`, 1);
    const smooth = vs.map((_, i) => {
      const from = Math.max(0, i - SMOOTH + 1);
      return vs.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
    });
    this.line(ctx, smooth, x, y, this.opts.color, 2);
  }

  private line(ctx: CanvasRenderingContext2D, vs: readonly number[], x: (i: number) => number, y: (v: number) => number, color: string, width: number): void {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    vs.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    if (vs.length === 1) ctx.arc(x(0), y(vs[0]!), 2, 0, 2 * Math.PI);
    ctx.stroke();
  }
}
