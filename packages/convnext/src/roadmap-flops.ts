/**
 * The paper's Table 10, recomputed: parameters and FLOPs of every roadmap step, counted
 * analytically from the configuration (nothing is built) with fvcore's convention as in
 * flops.ts — a multiply-add is one FLOP; conv `Cout·Cin/groups·k²·Hout·Wout`, linear
 * `in·out`; LayerNorm 5 per element; adaptive average pooling 1 per input element;
 * activations, max-pool and residual adds free — beside the paper's GFLOPs and top-1.
 *
 * BatchNorm is not counted: Table 10's 4.09 G for ResNet-50 is its convs and fc alone (BN at
 * fvcore's eval-mode 2 per element would make it 4.11 and shift every BN step by +0.02).
 * With that, every step but `bn-to-ln` matches Table 10 to the printed 0.01 G.
 */
import { convnextCost } from './flops.js';
import { formatFlops } from './info.js';
import { ROADMAP_CONFIGS, ROADMAP_STEPS, checkRoadmapConfig, roadmapStageWidths, type RoadmapConfig, type RoadmapStep } from './roadmap.js';

/** The paper's figures for one step (Table 10; top-1 of ImageNet-1k at 224², 300 epochs). */
export interface PaperFigures {
  /** GFLOPs (Table 10). */
  readonly gflops: number;
  /** Top-1 accuracy in percent (mean of 3 seeds up to `bn-to-ln`). */
  readonly top1: number;
  /** Short description of the step. */
  readonly label: string;
}

/**
 * Table 10 of the paper, per step. `resnet50` lists the modern-recipe result (78.82; the
 * original torchvision recipe gives 76.13): every step here is trained with the new recipe.
 * `depthwise` is the paper's first half of "ResNeXt-ify" (depthwise conv at width 64),
 * `resnextify` its second (width 96).
 */
export const ROADMAP_PAPER: Readonly<Record<RoadmapStep, PaperFigures>> = {
  resnet50: { gflops: 4.09, top1: 78.82, label: 'ResNet-50 (modern recipe; 76.13 with the original)' },
  'stage-ratio': { gflops: 4.53, top1: 79.36, label: 'stage ratio (3,4,6,3) -> (3,3,9,3)' },
  patchify: { gflops: 4.42, top1: 79.51, label: 'patchify stem 4x4/4' },
  depthwise: { gflops: 2.35, top1: 78.28, label: 'depthwise 3x3 conv' },
  resnextify: { gflops: 5.27, top1: 80.5, label: 'width 64 -> 96' },
  'inverted-bottleneck': { gflops: 4.64, top1: 80.64, label: 'inverted bottleneck' },
  'move-up-dw': { gflops: 4.07, top1: 79.92, label: 'move depthwise conv up' },
  'kernel-5': { gflops: 4.1, top1: 80.35, label: 'kernel 5' },
  'kernel-7': { gflops: 4.15, top1: 80.57, label: 'kernel 7 (adopted)' },
  'kernel-9': { gflops: 4.21, top1: 80.57, label: 'kernel 9' },
  'kernel-11': { gflops: 4.29, top1: 80.47, label: 'kernel 11' },
  gelu: { gflops: 4.15, top1: 80.62, label: 'ReLU -> GELU' },
  'fewer-activations': { gflops: 4.15, top1: 81.27, label: 'fewer activations' },
  'fewer-norms': { gflops: 4.15, top1: 81.41, label: 'fewer norms' },
  'bn-to-ln': { gflops: 4.46, top1: 81.47, label: 'BN -> LN' },
  'separate-downsampling': { gflops: 4.49, top1: 81.97, label: 'separate downsampling = ConvNeXt-T' },
};

/** What to cost: input size, classes, input channels (defaults 224, 1000, 3). */
export interface RoadmapCostOptions {
  /** Input side (default 224). */
  readonly inputSize?: number;
  /** Classes (default 1000). */
  readonly numClasses?: number;
  /** Input channels (default 3). */
  readonly inChans?: number;
}

/** Parameters and FLOPs per image of one configuration. */
export interface RoadmapCost {
  /** Trainable parameters (BatchNorm running statistics are buffers, not counted). */
  readonly params: number;
  /** FLOPs per image (a multiply-add is one FLOP). */
  readonly flops: number;
}

/** PyTorch's conv output side. */
const outSide = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

/** Parameters and FLOPs of a configuration (see the module comment for the convention). */
export function roadmapCost(c: RoadmapConfig, opts: RoadmapCostOptions = {}): RoadmapCost {
  checkRoadmapConfig(c);
  const size = opts.inputSize ?? 224;
  const K = opts.numClasses ?? 1000;
  const inC0 = opts.inChans ?? 3;
  for (const [name, v] of [['inputSize', size], ['numClasses', K], ['inChans', inC0]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`roadmapCost: ${name} must be a positive integer, got ${v}`);
  }
  if (c.separateDownsampling) {
    const r = convnextCost({ depths: c.depths, dims: [0, 1, 2, 3].map((i) => c.width * 2 ** i), kernelSize: c.kernelSize, stemStride: c.stemStride, inputSize: size, numClasses: K, inChans: inC0 });
    return { params: r.params, flops: r.flops };
  }
  let params = 0;
  let flops = 0;
  const conv = (cin: number, cout: number, k: number, groups: number, bias: boolean, h: number) => {
    params += cout * (cin / groups) * k * k + (bias ? cout : 0);
    flops += cout * (cin / groups) * k * k * h * h;
  };
  const norm = (ch: number, h: number) => {
    params += 2 * ch;
    if (c.norm === 'ln') flops += 5 * ch * h * h; // BN: free (see the module comment)
  };
  let h: number;
  if (c.stem === 'resnet') {
    h = outSide(size, 7, 2, 3);
    conv(inC0, c.width, 7, 1, false, h);
    norm(c.width, h);
    h = outSide(h, 3, 2, 1);
  } else {
    h = outSide(size, c.stemStride, c.stemStride, 0);
    conv(inC0, c.width, c.stemStride, 1, false, h);
    norm(c.width, h);
  }
  if (h < 1) throw new RangeError(`roadmapCost: input ${size} is too small for the stem`);
  const k = c.kernelSize;
  const fn = c.fewerNorms;
  let inC = c.width;
  for (let i = 0; i < 4; i++) {
    const { out, mid } = roadmapStageWidths(c, i);
    for (let j = 0; j < c.depths[i]!; j++) {
      const stride = j === 0 && i > 0 ? 2 : 1;
      const ho = outSide(h, k, stride, Math.floor(k / 2));
      if (c.dwFirst) {
        conv(inC, inC, k, inC, false, ho);
        norm(inC, ho);
        conv(inC, mid, 1, 1, fn, ho);
      } else {
        conv(inC, mid, 1, 1, false, h);
        norm(mid, h);
        conv(mid, mid, k, c.depthwise ? mid : 1, fn, ho);
      }
      if (!fn) norm(mid, ho);
      conv(mid, out, 1, 1, fn, ho);
      if (!fn) norm(out, ho);
      if (stride !== 1 || inC !== out) {
        conv(inC, out, 1, 1, false, outSide(h, 1, stride, 0));
        norm(out, ho);
      }
      inC = out;
      h = ho;
    }
  }
  flops += inC * h * h; // adaptive average pool
  params += inC * K + K;
  flops += inC * K;
  return { params, flops };
}

/** One row of the roadmap table. */
export interface RoadmapRow {
  /** The step. */
  readonly step: RoadmapStep;
  /** Its configuration. */
  readonly config: RoadmapConfig;
  /** Our count at the requested input size. */
  readonly params: number;
  /** Our FLOPs per image. */
  readonly flops: number;
  /** The paper's figures. */
  readonly paper: PaperFigures;
}

/** Every step's parameters and FLOPs (default 224x224, 1000 classes) beside the paper's figures. */
export function roadmapTable(opts: RoadmapCostOptions = {}): RoadmapRow[] {
  return ROADMAP_STEPS.map((step) => {
    const config = ROADMAP_CONFIGS[step];
    const { params, flops } = roadmapCost(config, opts);
    return { step, config, params, flops, paper: ROADMAP_PAPER[step] };
  });
}

/** `+0.02`, `-0.30`, and `0.00` rather than `-0.00`. */
function signed(d: number): string {
  const t = d.toFixed(2);
  return t === '0.00' || t === '-0.00' ? '0.00' : d > 0 ? `+${t}` : t;
}

/** The table `tsgrad-convnext info --roadmap` prints. */
export function formatRoadmapTable(opts: RoadmapCostOptions = {}): string {
  const rows = roadmapTable(opts);
  const size = opts.inputSize ?? 224;
  const head = ['#', 'step', 'params', `GFLOPs (${size}²)`, 'paper GFLOPs', 'diff', 'paper top-1'];
  const body = rows.map((r, i) => [
    String(i),
    r.step,
    `${(r.params / 1e6).toFixed(2)}M`,
    (r.flops / 1e9).toFixed(2),
    r.paper.gflops.toFixed(2),
    size === 224 ? signed(r.flops / 1e9 - r.paper.gflops) : '-',
    r.paper.top1.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `The ConvNeXt roadmap (Liu et al. 2022, Table 10): ResNet-50 to ConvNeXt-T, ${size}x${size} input, ${opts.numClasses ?? 1000} classes`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    `FLOPs: one multiply-add = one FLOP (fvcore, as the paper); ours = ${formatFlops(rows[rows.length - 1]!.flops)}FLOPs for ConvNeXt-T. Paper top-1: ImageNet-1k, 300 epochs, modern recipe.`,
    'See docs/roadmap.md for the choices the paper leaves open and the steps whose FLOPs differ.',
    '',
  ].join('\n');
}
