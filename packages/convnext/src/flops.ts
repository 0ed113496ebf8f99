/**
 * Analytic cost of a ConvNeXt: per-layer output shapes, parameters and FLOPs at a given input
 * size, computed from the architecture alone (no model is built, so xlarge costs nothing).
 *
 * FLOPs follow fvcore's convention, which the ConvNeXt paper and timm report: one
 * multiply-add is one FLOP; a convolution costs `Cout · Cin/groups · k² · Hout · Wout`, a
 * linear layer `in · out` per position (biases are free); a LayerNorm with affine
 * parameters costs 5 per element (channels-first LayerNorm2d too, as fvcore counts timm's);
 * GELU, the residual add, the layer scale and the global average pool are not counted.
 * ConvNeXt-T at 224x224 is 4.47 GFLOPs (the paper's 4.5G).
 */
import { CONVNEXT_VARIANTS, checkDownsampleKernel, checkStemKernel, overlapPadding, type ConvNeXtVariant } from './model.js';

/** The architecture and input to cost; every field has the official default. */
export interface ConvNeXtCostOptions {
  /** A named variant (default `tiny`); `depths`/`dims` override it. */
  readonly variant?: ConvNeXtVariant;
  /** Blocks per stage. */
  readonly depths?: readonly number[];
  /** Channels per stage. */
  readonly dims?: readonly number[];
  /** Input channels (default 3). */
  readonly inChans?: number;
  /** Classes (default 1000). */
  readonly numClasses?: number;
  /** Stem stride (default 4). */
  readonly stemStride?: number;
  /** Stem kernel (default: the stem stride; larger overlaps, see `ConvNeXtOptions.stemKernel`). */
  readonly stemKernel?: number;
  /** Kernel of the downsampling convs (default 2; larger overlaps, see `ConvNeXtOptions.downsampleKernel`). */
  readonly downsampleKernel?: number;
  /** Depthwise kernel (default 7). */
  readonly kernelSize?: number;
  /** Whether blocks have a layer-scale gamma (default true). */
  readonly layerScale?: boolean;
  /** Input height and width: one number for a square (default 224). */
  readonly inputSize?: number | readonly [number, number];
  /** Batch size in the output shapes (default 1; FLOPs are per image). */
  readonly batch?: number;
}

/** One row of the summary: a module, its output shape, parameters and FLOPs (children included). */
export interface LayerCost {
  /** The module's name in the state dict (`stages.1.0.pwconv1`), as the official model. */
  readonly name: string;
  /** Its class (`Conv2d`, `LayerNorm2d`, `Block`, ...). */
  readonly type: string;
  /** Nesting depth: 1 for the model's children (`downsample_layers.0`, `stages.0`, `norm`, `head`). */
  readonly depth: number;
  /** Output shape (channels-last `[N, H, W, C]` inside blocks, as the official code runs them). */
  readonly outputShape: readonly number[];
  /** Parameters, its children's included. */
  readonly params: number;
  /** FLOPs per image, its children's included. */
  readonly flops: number;
}

/** The totals and the per-stage output shapes. */
export interface ConvNeXtCost {
  /** Every module in forward order, containers before their children. */
  readonly layers: readonly LayerCost[];
  /** Total parameters. */
  readonly params: number;
  /** Total FLOPs per image. */
  readonly flops: number;
  /** Output shape of each of the 4 stages (`features()`). */
  readonly stageShapes: readonly (readonly number[])[];
}

/** Output side of a `k`x`k` conv with stride `s` padded by `overlapPadding(k, s)` (PyTorch's floor). */
const outSide = (n: number, k: number, s: number) => Math.floor((n + 2 * overlapPadding(k, s) - k) / s) + 1;

/** Per-layer shapes, parameters and FLOPs of a ConvNeXt (see the module comment for the FLOP convention). */
export function convnextCost(opts: ConvNeXtCostOptions = {}): ConvNeXtCost {
  const arch = CONVNEXT_VARIANTS[opts.variant ?? 'tiny'];
  if (!arch) throw new RangeError(`convnextCost: unknown variant '${String(opts.variant)}' (have ${Object.keys(CONVNEXT_VARIANTS).join(', ')})`);
  const depths = opts.depths ?? arch.depths;
  const dims = opts.dims ?? arch.dims;
  if (depths.length !== 4 || dims.length !== 4) throw new RangeError(`convnextCost: depths and dims need 4 entries each, got [${depths.join(', ')}] and [${dims.join(', ')}]`);
  const inC = opts.inChans ?? 3;
  const K = opts.numClasses ?? 1000;
  const s = opts.stemStride ?? 4;
  const sk = opts.stemKernel ?? s;
  const dk = opts.downsampleKernel ?? 2;
  const k = opts.kernelSize ?? 7;
  const ls = opts.layerScale ?? true;
  const N = opts.batch ?? 1;
  const [H, W] = typeof opts.inputSize === 'number' || opts.inputSize === undefined ? [opts.inputSize ?? 224, opts.inputSize ?? 224] : opts.inputSize;
  for (const [name, v] of [['inChans', inC], ['numClasses', K], ['stemStride', s], ['kernelSize', k], ['batch', N], ['input height', H], ['input width', W]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`convnextCost: ${name} must be a positive integer, got ${v}`);
  }
  checkStemKernel('convnextCost', sk, s);
  checkDownsampleKernel('convnextCost', dk);
  if (H < 8 * s || W < 8 * s) throw new RangeError(`convnextCost: input ${H}x${W} is too small: with stem stride ${s} and three 2x downsamplings the model needs H, W >= ${8 * s}`);

  const layers: LayerCost[] = [];
  const leaf = (name: string, type: string, depth: number, outputShape: number[], params: number, flops: number): LayerCost => {
    const row = { name, type, depth, outputShape, params, flops };
    layers.push(row);
    return row;
  };
  /** Adds a container row before its children, summing them (plus its own parameters). */
  const group = (name: string, type: string, depth: number, build: () => LayerCost[], ownParams = 0) => {
    const at = layers.length;
    const kids = build();
    const last = kids[kids.length - 1];
    const row = { name, type, depth, outputShape: last ? last.outputShape : [], params: ownParams + kids.reduce((a, r) => a + r.params, 0), flops: kids.reduce((a, r) => a + r.flops, 0) };
    layers.splice(at, 0, row);
    return row;
  };
  const conv = (name: string, depth: number, cin: number, cout: number, ks: number, groups: number, h: number, w: number) =>
    leaf(name, 'Conv2d', depth, [N, cout, h, w], cout * (cin / groups) * ks * ks + cout, cout * (cin / groups) * ks * ks * h * w);
  const norm = (name: string, type: string, depth: number, shape: number[], c: number) => leaf(name, type, depth, shape, 2 * c, (5 * shape.reduce((a, b) => a * b, 1)) / N);
  const linear = (name: string, depth: number, fin: number, fout: number, shape: number[]) =>
    leaf(name, 'Linear', depth, [...shape.slice(0, -1), fout], fin * fout + fout, (fin * fout * shape.slice(0, -1).reduce((a, b) => a * b, 1)) / N);

  let [h, w] = [outSide(H, sk, s), outSide(W, sk, s)];
  const stageShapes: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const c = dims[i]!;
    if (i === 0) {
      group('downsample_layers.0', 'Sequential', 1, () => [conv('downsample_layers.0.0', 2, inC, c, sk, 1, h, w), norm('downsample_layers.0.1', 'LayerNorm2d', 2, [N, c, h, w], c)]);
    } else {
      const p = dims[i - 1]!;
      const [ph, pw] = [h, w];
      [h, w] = [outSide(h, dk, 2), outSide(w, dk, 2)];
      group(`downsample_layers.${i}`, 'Sequential', 1, () => [norm(`downsample_layers.${i}.0`, 'LayerNorm2d', 2, [N, p, ph, pw], p), conv(`downsample_layers.${i}.1`, 2, p, c, dk, 1, h, w)]);
    }
    group(`stages.${i}`, 'Sequential', 1, () =>
      Array.from({ length: depths[i]! }, (_, j) => {
        const b = `stages.${i}.${j}`;
        return group(
          b,
          'Block',
          2,
          () => [
            conv(`${b}.dwconv`, 3, c, c, k, c, h, w),
            norm(`${b}.norm`, 'LayerNorm', 3, [N, h, w, c], c),
            linear(`${b}.pwconv1`, 3, c, 4 * c, [N, h, w, c]),
            leaf(`${b}.act`, 'GELU', 3, [N, h, w, 4 * c], 0, 0),
            linear(`${b}.pwconv2`, 3, 4 * c, c, [N, h, w, 4 * c]),
            leaf(`${b}.drop_path`, 'Identity', 3, [N, c, h, w], 0, 0),
          ],
          ls ? c : 0,
        );
      }),
    );
    // An empty stage passes its input through.
    const st = layers.find((r) => r.name === `stages.${i}`)!;
    if (depths[i] === 0) layers[layers.indexOf(st)] = { ...st, outputShape: [N, c, h, w] };
    stageShapes.push([N, c, h, w]);
  }
  const c3 = dims[3]!;
  norm('norm', 'LayerNorm', 1, [N, c3], c3);
  linear('head', 1, c3, K, [N, c3]);
  const top = layers.filter((r) => r.depth === 1);
  return { layers, params: top.reduce((a, r) => a + r.params, 0), flops: top.reduce((a, r) => a + r.flops, 0), stageShapes };
}

/** FLOPs of one image through a ConvNeXt (fvcore's convention: a multiply-add is one FLOP). */
export function convnextFlops(opts: ConvNeXtCostOptions = {}): number {
  return convnextCost(opts).flops;
}
