/** The `info` report: parameters, FLOPs, per-stage shapes and a per-layer table (like torchinfo). */
import { convnextCost, type ConvNeXtCostOptions } from './flops.js';

/** Options of {@link formatModelInfo}: the architecture and input, a title, and how deep the table goes. */
export interface ModelInfoOptions extends ConvNeXtCostOptions {
  /** Shown in the heading (default `ConvNeXt-<variant>` or `ConvNeXt (custom)`). */
  readonly title?: string;
  /** Table rows down to this nesting depth: 1 stages, 2 blocks (default), 3 layers inside blocks. */
  readonly maxDepth?: number;
}

const int = (n: number) => n.toLocaleString('en-US');
const shape = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A FLOP count with an SI prefix (`4.47 G`). */
export function formatFlops(f: number): string {
  for (const [p, v] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (f >= v) return `${(f / v).toFixed(2)} ${p}`;
  return `${f} `;
}

/** The text `tsgrad-convnext info` prints. */
export function formatModelInfo(opts: ModelInfoOptions = {}): string {
  const cost = convnextCost(opts);
  const maxDepth = opts.maxDepth ?? 2;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new RangeError(`info: depth must be a positive integer, got ${maxDepth}`);
  const custom = opts.depths !== undefined || opts.dims !== undefined;
  const title = opts.title ?? (custom ? 'ConvNeXt (custom)' : `ConvNeXt-${opts.variant ?? 'tiny'}`);
  const size = opts.inputSize ?? 224;
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const input = [opts.batch ?? 1, opts.inChans ?? 3, h, w];
  const rows = cost.layers.filter((r) => r.depth <= maxDepth).map((r) => [`${'  '.repeat(r.depth - 1)}${r.name} (${r.type})`, shape(r.outputShape), int(r.params), formatFlops(r.flops) + 'FLOPs']);
  const head = ['Layer (type)', 'Output shape', 'Params', 'FLOPs'];
  const widths = head.map((h0, i) => Math.max(h0.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  const rule = '='.repeat(widths.reduce((a, b) => a + b + 3, -3));
  return [
    `${title}: input ${shape(input)}, stem stride ${opts.stemStride ?? 4}${opts.stemKernel !== undefined && opts.stemKernel !== (opts.stemStride ?? 4) ? ` (kernel ${opts.stemKernel}, overlapping)` : ''}${(opts.downsampleKernel ?? 2) !== 2 ? `, downsampling kernel ${opts.downsampleKernel}` : ''}, ${opts.numClasses ?? 1000} classes`,
    rule,
    line(head),
    rule,
    ...rows.map(line),
    rule,
    `Parameters: ${int(cost.params)} (${(cost.params / 1e6).toFixed(2)}M)`,
    `FLOPs: ${int(cost.flops)} (${formatFlops(cost.flops)}FLOPs per image; one multiply-add = one FLOP, as fvcore and the ConvNeXt paper count)`,
    `Stage outputs: ${cost.stageShapes.map((s, i) => `${i}: ${shape(s)}`).join(', ')}`,
    '',
  ].join('\n');
}
