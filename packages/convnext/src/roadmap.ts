/**
 * The ConvNeXt paper's roadmap ("A ConvNet for the 2020s" §2, Table 10), runnable: one
 * configurable network ({@link roadmapNetwork}) and every step from torchvision's ResNet-50 to
 * ConvNeXt-T as a named configuration ({@link roadmap}). Each step includes every adopted
 * change before it (kernel 7 is the adopted kernel size).
 *
 * Steps 0–12 keep torchvision's ResNet layout and names (`conv1`, `bn1`, `layer1.0.conv2`,
 * `layer2.0.downsample.0`, `fc`), so `roadmap('resnet50')` is exactly torchvision's ResNet-50
 * and checkpoints of neighbouring steps share most keys. The last step, separate
 * downsampling layers, is ConvNeXt-T itself (the {@link ConvNeXt} class: same parameters
 * and names as `convnext('tiny')`). The choices the paper leaves open are documented on
 * {@link RoadmapConfig} and in docs/roadmap.md.
 */
import { defaultGenerator, tidy, type Generator, type Tensor } from '@tsgrad/core';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, GELU, Identity, LayerNorm2d, Linear, MaxPool2d, Module, ReLU, Sequential, kaimingNormal_, ones_, zeros_ } from '@tsgrad/nn';
import { ConvNeXt } from './model.js';

/** The roadmap's steps, in the paper's order. */
export const ROADMAP_STEPS = [
  'resnet50',
  'stage-ratio',
  'patchify',
  'depthwise',
  'resnextify',
  'inverted-bottleneck',
  'move-up-dw',
  'kernel-5',
  'kernel-7',
  'kernel-9',
  'kernel-11',
  'gelu',
  'fewer-activations',
  'fewer-norms',
  'bn-to-ln',
  'separate-downsampling',
] as const;

/** A step's name. */
export type RoadmapStep = (typeof ROADMAP_STEPS)[number];

/** The architecture of one roadmap network. */
export interface RoadmapConfig {
  /** Blocks per stage: (3,4,6,3) ResNet-50, (3,3,9,3) from `stage-ratio` on. */
  readonly depths: readonly [number, number, number, number];
  /** `resnet`: 7x7/2 conv → norm → act → 3x3/2 max-pool; `patchify`: k=s conv (`stemStride`) → norm → act. */
  readonly stem: 'resnet' | 'patchify';
  /** Patchify kernel = stride (4 as the paper; 1 or 2 for 32x32 images). */
  readonly stemStride: number;
  /**
   * Base width: the stem's channels and stage 1's inner width (64 ResNet, 96 from
   * `resnextify`). Stage i's inner width is `width · 2^i`.
   */
  readonly width: number;
  /** The bottleneck's spatial conv is depthwise (groups = channels). */
  readonly depthwise: boolean;
  /** Inverted bottleneck: the residual stream is `width · 2^i` and the hidden layer 4x that; else the stream is 4x the inner width (ResNet). */
  readonly inverted: boolean;
  /** The depthwise conv comes first (d k×k → 1x1 expand → 1x1 reduce); it then carries the stride. */
  readonly dwFirst: boolean;
  /** Kernel of the spatial conv (3 until the `kernel-*` steps). */
  readonly kernelSize: number;
  /** Activation everywhere one is kept. */
  readonly act: 'relu' | 'gelu';
  /**
   * Only one activation per block, after the block's second conv (between the two 1x1 convs
   * once `dwFirst`), none after the residual add. The stem keeps its activation (a free choice).
   */
  readonly fewerActivations: boolean;
  /**
   * Only one norm per block, after its first conv (the depthwise conv once `dwFirst`); convs
   * without a norm after them get a bias. The stem's and the shortcut projection's norms stay.
   */
  readonly fewerNorms: boolean;
  /** BatchNorm or channels-first LayerNorm (eps 1e-6) for every norm. */
  readonly norm: 'bn' | 'ln';
  /**
   * ConvNeXt's separate downsampling layers (LN → 2x2/2 conv), LN after the stem and after
   * pooling, no stride in blocks; builds a {@link ConvNeXt} and needs the ConvNeXt block
   * (patchify, inverted, dwFirst, depthwise, GELU, fewer activations and norms, LN).
   */
  readonly separateDownsampling: boolean;
}

/** Options of {@link roadmapNetwork} and {@link roadmap} besides the architecture. */
export interface RoadmapBuildOptions {
  /** Input channels (default 3). */
  readonly inChans?: number;
  /** Classes (default 1000). */
  readonly numClasses?: number;
  /** Generator for the initialisation (default: core's default generator). */
  readonly generator?: Generator;
}

const R50: RoadmapConfig = {
  depths: [3, 4, 6, 3],
  stem: 'resnet',
  stemStride: 4,
  width: 64,
  depthwise: false,
  inverted: false,
  dwFirst: false,
  kernelSize: 3,
  act: 'relu',
  fewerActivations: false,
  fewerNorms: false,
  norm: 'bn',
  separateDownsampling: false,
};

function buildConfigs(): Record<RoadmapStep, RoadmapConfig> {
  const out = {} as Record<RoadmapStep, RoadmapConfig>;
  const changes: [RoadmapStep, Partial<RoadmapConfig>][] = [
    ['resnet50', {}],
    ['stage-ratio', { depths: [3, 3, 9, 3] }],
    ['patchify', { stem: 'patchify' }],
    ['depthwise', { depthwise: true }],
    ['resnextify', { width: 96 }],
    ['inverted-bottleneck', { inverted: true }],
    ['move-up-dw', { dwFirst: true }],
  ];
  let cur = R50;
  for (const [step, change] of changes) out[step] = cur = { ...cur, ...change };
  for (const k of [5, 7, 9, 11] as const) out[`kernel-${k}`] = { ...cur, kernelSize: k };
  cur = out['kernel-7']; // the adopted kernel size
  const later: [RoadmapStep, Partial<RoadmapConfig>][] = [
    ['gelu', { act: 'gelu' }],
    ['fewer-activations', { fewerActivations: true }],
    ['fewer-norms', { fewerNorms: true }],
    ['bn-to-ln', { norm: 'ln' }],
    ['separate-downsampling', { separateDownsampling: true }],
  ];
  for (const [step, change] of later) out[step] = cur = { ...cur, ...change };
  return out;
}

/** Every step's architecture (each includes the adopted changes before it). */
export const ROADMAP_CONFIGS: Readonly<Record<RoadmapStep, RoadmapConfig>> = buildConfigs();

/** Checks a configuration; throws a RangeError naming the first problem. */
export function checkRoadmapConfig(c: RoadmapConfig): void {
  const bad = (msg: string) => {
    throw new RangeError(`roadmap: ${msg}`);
  };
  if (c.depths.length !== 4 || !c.depths.every((d) => Number.isInteger(d) && d >= 1)) bad(`depths needs 4 positive integers, got [${c.depths.join(', ')}]`);
  if (!Number.isInteger(c.width) || c.width < 1) bad(`width must be a positive integer, got ${c.width}`);
  if (!Number.isInteger(c.stemStride) || c.stemStride < 1) bad(`stemStride must be a positive integer, got ${c.stemStride}`);
  if (!Number.isInteger(c.kernelSize) || c.kernelSize < 1 || c.kernelSize % 2 === 0) bad(`kernelSize must be a positive odd integer, got ${c.kernelSize}`);
  if (c.stem !== 'resnet' && c.stem !== 'patchify') bad(`stem must be 'resnet' or 'patchify', got '${String(c.stem)}'`);
  if (c.act !== 'relu' && c.act !== 'gelu') bad(`act must be 'relu' or 'gelu', got '${String(c.act)}'`);
  if (c.norm !== 'bn' && c.norm !== 'ln') bad(`norm must be 'bn' or 'ln', got '${String(c.norm)}'`);
  if (c.dwFirst && !c.depthwise) bad('dwFirst needs depthwise (only a depthwise conv can move up)');
  if (c.separateDownsampling) {
    const need: [keyof RoadmapConfig, unknown][] = [
      ['stem', 'patchify'],
      ['depthwise', true],
      ['inverted', true],
      ['dwFirst', true],
      ['act', 'gelu'],
      ['fewerActivations', true],
      ['fewerNorms', true],
      ['norm', 'ln'],
    ];
    const off = need.filter(([k, v]) => c[k] !== v).map(([k, v]) => `${k}=${String(v)} (got ${String(c[k])})`);
    if (off.length) bad(`separateDownsampling builds ConvNeXt and needs the ConvNeXt block: ${off.join(', ')}`);
  }
}

/** Channels of stage i: the block's residual-stream width and its hidden width. */
export function roadmapStageWidths(c: RoadmapConfig, i: number): { out: number; mid: number } {
  const w = c.width * 2 ** i;
  return c.inverted ? { out: w, mid: 4 * w } : { out: 4 * w, mid: w };
}

function makeNorm(c: RoadmapConfig, ch: number): Module {
  return c.norm === 'bn' ? new BatchNorm2d(ch) : new LayerNorm2d(ch, { eps: 1e-6 });
}
const makeAct = (c: RoadmapConfig): Module => (c.act === 'relu' ? new ReLU() : new GELU());

/**
 * One residual block of steps 0–12: `conv1` → `bn1` → `conv2` → `bn2` → `conv3` → `bn3`,
 * activations per {@link RoadmapConfig}, plus the (projected) shortcut. Which conv is the
 * spatial one: conv2 (ResNet order), or conv1 once `dwFirst`. The spatial conv carries the
 * stride. Missing norms and activations are absent (no keys), as in the paper's ablation.
 */
export class RoadmapBlock extends Module {
  /** First conv: 1x1 (ResNet order) or the depthwise k×k (`dwFirst`). */
  conv1: Conv2d;
  /** Norm after conv1 (always present). */
  bn1: Module;
  /** Second conv: the spatial k×k (ResNet order) or the 1x1 expansion (`dwFirst`). */
  conv2: Conv2d;
  /** Norm after conv2, or null (`fewerNorms`). */
  bn2: Module | null;
  /** Third conv: 1x1 to the residual stream. */
  conv3: Conv2d;
  /** Norm after conv3, or null (`fewerNorms`). */
  bn3: Module | null;
  /** The activation module (shared; no parameters). */
  act: Module;
  /** 1x1 (strided) conv + norm on the shortcut when the shape changes, else null. */
  downsample: Sequential | null;
  readonly #fewerActs: boolean;

  /** A block from `inC` to `out` channels with hidden width `mid`. */
  constructor(c: RoadmapConfig, inC: number, mid: number, out: number, stride: number, g: Generator) {
    super();
    const k = c.kernelSize;
    const pad = Math.floor(k / 2);
    const fn = c.fewerNorms;
    if (c.dwFirst) {
      this.conv1 = new Conv2d(inC, inC, k, { stride, padding: pad, groups: inC, bias: false, generator: g });
      this.bn1 = makeNorm(c, inC);
      this.conv2 = new Conv2d(inC, mid, 1, { bias: fn, generator: g });
    } else {
      this.conv1 = new Conv2d(inC, mid, 1, { bias: false, generator: g });
      this.bn1 = makeNorm(c, mid);
      this.conv2 = new Conv2d(mid, mid, k, { stride, padding: pad, groups: c.depthwise ? mid : 1, bias: fn, generator: g });
    }
    this.bn2 = fn ? null : makeNorm(c, mid);
    this.conv3 = new Conv2d(mid, out, 1, { bias: fn, generator: g });
    this.bn3 = fn ? null : makeNorm(c, out);
    this.act = makeAct(c);
    this.downsample = stride !== 1 || inC !== out ? new Sequential(new Conv2d(inC, out, 1, { stride, bias: false, generator: g }), makeNorm(c, out)) : null;
    this.#fewerActs = c.fewerActivations;
  }

  override forward(x: Tensor): Tensor {
    const all = !this.#fewerActs;
    let y = this.bn1.forward(this.conv1.forward(x));
    if (all) y = this.act.forward(y);
    y = this.conv2.forward(y);
    if (this.bn2) y = this.bn2.forward(y);
    y = this.act.forward(y); // the one activation that always stays
    y = this.conv3.forward(y);
    if (this.bn3) y = this.bn3.forward(y);
    y = y.add(this.downsample ? this.downsample.forward(x) : x);
    return all ? this.act.forward(y) : y;
  }
}

/**
 * Steps 0–12 of the roadmap: torchvision's ResNet layout (`conv1`, `bn1`, `relu`/act,
 * `maxpool` for the ResNet stem, `layer1`..`layer4`, `avgpool`, `fc`) with
 * {@link RoadmapBlock}s. With {@link ROADMAP_CONFIGS}`.resnet50` its state dict has exactly
 * torchvision ResNet-50's keys and shapes. Initialised as torchvision (kaiming-normal fan_out
 * convs, norms 1/0, conv biases 0, PyTorch's default `fc`).
 */
export class RoadmapResNet extends Module {
  /** Stem conv (7x7/2 or the patchify k=s conv). */
  conv1: Conv2d;
  /** Stem norm. */
  bn1: Module;
  /** Stem activation. */
  relu: Module;
  /** 3x3/2 max-pool (ResNet stem) or Identity (patchify). */
  maxpool: Module;
  /** Stage 1. */
  layer1: Sequential;
  /** Stage 2 (first block strided). */
  layer2: Sequential;
  /** Stage 3. */
  layer3: Sequential;
  /** Stage 4. */
  layer4: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Classifier. */
  fc: Linear;
  /** The architecture. */
  readonly config: RoadmapConfig;
  /** Input channels. */
  readonly inChans: number;

  /** Builds and initialises the network. */
  constructor(config: RoadmapConfig, opts: RoadmapBuildOptions = {}) {
    super();
    checkRoadmapConfig(config);
    if (config.separateDownsampling) throw new RangeError('RoadmapResNet: separateDownsampling is ConvNeXt: build it with roadmapNetwork()');
    this.config = config;
    const c = config;
    this.inChans = opts.inChans ?? 3;
    const numClasses = opts.numClasses ?? 1000;
    if (!Number.isInteger(this.inChans) || this.inChans < 1) throw new RangeError(`roadmap: inChans must be a positive integer, got ${this.inChans}`);
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`roadmap: numClasses must be a positive integer, got ${numClasses}`);
    const g = opts.generator ?? defaultGenerator;
    const built = tidy(() => {
      const conv1 =
        c.stem === 'resnet'
          ? new Conv2d(this.inChans, c.width, 7, { stride: 2, padding: 3, bias: false, generator: g })
          : new Conv2d(this.inChans, c.width, c.stemStride, { stride: c.stemStride, bias: false, generator: g });
      const bn1 = makeNorm(c, c.width);
      let inC = c.width;
      const layers: Sequential[] = [];
      for (let i = 0; i < 4; i++) {
        const { out, mid } = roadmapStageWidths(c, i);
        const seq = new Sequential();
        for (let j = 0; j < c.depths[i]!; j++) {
          seq.append(new RoadmapBlock(c, inC, mid, out, j === 0 && i > 0 ? 2 : 1, g));
          inC = out;
        }
        layers.push(seq);
      }
      const fc = new Linear(inC, numClasses, { generator: g });
      for (const m of [conv1, ...layers.flatMap((l) => [...l.modules()])]) {
        if (m instanceof Conv2d) {
          kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof BatchNorm2d || m instanceof LayerNorm2d) {
          ones_(m.weight!);
          zeros_(m.bias!);
        }
      }
      return { conv1, bn1, layers, fc };
    });
    this.conv1 = built.conv1;
    this.bn1 = built.bn1;
    this.relu = makeAct(c);
    this.maxpool = c.stem === 'resnet' ? new MaxPool2d(3, { stride: 2, padding: 1 }) : new Identity();
    [this.layer1, this.layer2, this.layer3, this.layer4] = built.layers as [Sequential, Sequential, Sequential, Sequential];
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = built.fc;
  }

  /** Stage outputs (after layer1..layer4). */
  features(x: Tensor): Tensor[] {
    if (x.ndim !== 4 || x.shape[1] !== this.inChans) throw new RangeError(`roadmap: expected a 4-D NCHW input [N, ${this.inChans}, H, W], got shape [${x.shape.join(', ')}]`);
    let y = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    const out: Tensor[] = [];
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) out.push((y = layer.forward(y)));
    return out;
  }

  /** Logits `[N, numClasses]`. */
  override forward(x: Tensor): Tensor {
    return this.fc.forward(this.avgpool.forward(this.features(x)[3]!).flatten(1));
  }
}

/** ConvNeXt stage widths of a configuration: `width · 2^i`. */
const convnextDims = (c: RoadmapConfig) => [0, 1, 2, 3].map((i) => c.width * 2 ** i);

/**
 * Builds the network of any configuration: a {@link RoadmapResNet} for steps 0–12, a
 * {@link ConvNeXt} once `separateDownsampling` (dims `width · 2^i`, the config's depths,
 * kernel and stem stride; layer scale as ConvNeXt's default).
 */
export function roadmapNetwork(config: RoadmapConfig, opts: RoadmapBuildOptions = {}): RoadmapResNet | ConvNeXt {
  checkRoadmapConfig(config);
  if (!config.separateDownsampling) return new RoadmapResNet(config, opts);
  return new ConvNeXt({
    depths: config.depths,
    dims: convnextDims(config),
    kernelSize: config.kernelSize,
    stemStride: config.stemStride,
    ...(opts.inChans !== undefined ? { inChans: opts.inChans } : {}),
    ...(opts.numClasses !== undefined ? { numClasses: opts.numClasses } : {}),
    ...(opts.generator ? { generator: opts.generator } : {}),
  });
}

/** A step's configuration with changes (for scaled-down runs: `{ width: 16, depths: [1, 1, 2, 1] }`). */
export function roadmapConfig(step: RoadmapStep, changes: Partial<RoadmapConfig> = {}): RoadmapConfig {
  const base = ROADMAP_CONFIGS[step];
  if (!base) throw new RangeError(`roadmap: unknown step '${String(step)}' (have ${ROADMAP_STEPS.join(', ')})`);
  const c = { ...base, ...changes };
  checkRoadmapConfig(c);
  return c;
}

/** Options of {@link roadmap}: build options plus changes to the step's architecture. */
export interface RoadmapOptions extends RoadmapBuildOptions {
  /** Changes to the step's configuration (e.g. a smaller width and depth for small runs). */
  readonly changes?: Partial<RoadmapConfig>;
}

/** The network of one roadmap step: `roadmap('resnet50')` … `roadmap('separate-downsampling')` (= ConvNeXt-T). */
export function roadmap(step: RoadmapStep, opts: RoadmapOptions = {}): RoadmapResNet | ConvNeXt {
  return roadmapNetwork(roadmapConfig(step, opts.changes), opts);
}
