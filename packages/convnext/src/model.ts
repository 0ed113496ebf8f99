/**
 * ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s") with the official module layout,
 * parameter names, shapes and initialisation (facebookresearch/ConvNeXt `models/convnext.py`),
 * every variant from atto to xlarge, and the options tsgrad adds (stem stride 2 for 32x32
 * images, an overlapping stem kernel, kernel size).
 */
import { defaultGenerator, full, fusedLinear, noGrad, tidy, type Generator, type Tensor } from '@tsgrad/core';
import { Conv2d, DropPath, GELU, Identity, LayerNorm, LayerNorm2d, Linear, Module, ModuleList, Sequential, truncNormal_, zeros_ } from '@tsgrad/nn';

/** Depths and widths of one ConvNeXt variant. */
export interface ConvNeXtArch {
  /** Blocks per stage (4 stages). */
  readonly depths: readonly [number, number, number, number];
  /** Channels per stage. */
  readonly dims: readonly [number, number, number, number];
}

/** Names of the ConvNeXt variants. */
export type ConvNeXtVariant = 'atto' | 'femto' | 'pico' | 'nano' | 'tiny' | 'small' | 'base' | 'large' | 'xlarge';

/** Every variant's depths and widths (atto–nano from timm; tiny–xlarge from the paper). */
export const CONVNEXT_VARIANTS: Readonly<Record<ConvNeXtVariant, ConvNeXtArch>> = {
  atto: { depths: [2, 2, 6, 2], dims: [40, 80, 160, 320] },
  femto: { depths: [2, 2, 6, 2], dims: [48, 96, 192, 384] },
  pico: { depths: [2, 2, 6, 2], dims: [64, 128, 256, 512] },
  nano: { depths: [2, 2, 8, 2], dims: [80, 160, 320, 640] },
  tiny: { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] },
  small: { depths: [3, 3, 27, 3], dims: [96, 192, 384, 768] },
  base: { depths: [3, 3, 27, 3], dims: [128, 256, 512, 1024] },
  large: { depths: [3, 3, 27, 3], dims: [192, 384, 768, 1536] },
  xlarge: { depths: [3, 3, 27, 3], dims: [256, 512, 1024, 2048] },
};

/** Options of {@link ConvNeXt}; every field has the official default. */
export interface ConvNeXtOptions {
  /** A named variant's depths and dims (default `tiny`); `depths`/`dims` override it. */
  readonly variant?: ConvNeXtVariant;
  /** Blocks per stage. */
  readonly depths?: readonly number[];
  /** Channels per stage. */
  readonly dims?: readonly number[];
  /** Input channels (default 3). */
  readonly inChans?: number;
  /** Classes of the head (default 1000). */
  readonly numClasses?: number;
  /** Maximum stochastic-depth rate, ramped linearly over all blocks from 0 (default 0). */
  readonly dropPathRate?: number;
  /** Initial value of the layer-scale `gamma`; `<= 0` creates no gamma (default 1e-6). */
  readonly layerScaleInitValue?: number;
  /** Multiplies the initial head weight and bias (default 1; 0.001 for fine-tuning). */
  readonly headInitScale?: number;
  /** Stem stride (default 4, official; 2 keeps more resolution for 32x32 images). Not official. */
  readonly stemStride?: number;
  /**
   * Stem kernel (default: the stride, the paper's non-overlapping patchify). A larger kernel
   * makes neighbouring patches overlap, zero-padded by {@link overlapPadding} on each side so the
   * stem still outputs `H / stemStride` (timm's `overlap` stems use 3x3/2, padding 1). Must be
   * `>= stemStride`, and odd when the stride is 1. Not official.
   */
  readonly stemKernel?: number;
  /**
   * Kernel of the three downsampling convs (default 2: the paper's 2x2/2). Larger overlaps
   * neighbouring cells, zero-padded by {@link overlapPadding}`(k, 2)`: an even side is halved as
   * before, an odd side may round up instead of down (7 → 4 with kernel 3, → 3 with 2). Not official.
   */
  readonly downsampleKernel?: number;
  /** Depthwise kernel size, odd (default 7). */
  readonly kernelSize?: number;
  /** LayerNorm epsilon (default 1e-6). */
  readonly eps?: number;
  /** Generator for the initialisation (default: core's default generator). */
  readonly generator?: Generator;
}

/** Options of a {@link Block}. */
export interface BlockOptions {
  /** Stochastic-depth rate of this block (default 0). */
  readonly dropPath?: number;
  /** Initial gamma; `<= 0` creates none (default 1e-6). */
  readonly layerScaleInitValue?: number;
  /** Depthwise kernel size (default 7). */
  readonly kernelSize?: number;
  /** LayerNorm epsilon (default 1e-6). */
  readonly eps?: number;
  /** Generator for the (PyTorch-default) initialisation of the layers. */
  readonly generator?: Generator;
}

/**
 * A ConvNeXt block: depthwise k×k conv → (channels-last) LayerNorm → Linear C→4C → GELU →
 * Linear 4C→C → layer scale `gamma` → drop path → residual add. Parameter names `gamma`,
 * `dwconv.*`, `norm.*`, `pwconv1.*`, `pwconv2.*` as the official checkpoints.
 */
export class Block extends Module {
  /**
   * Run the pointwise layers as fused linear ops (default true): the same values, fewer
   * passes over memory. False runs them as separate modules and ops (for comparisons).
   */
  static fusedPointwise = true;
  /** Layer scale `[C]`, or null when created with `layerScaleInitValue <= 0`. */
  declare readonly gamma: Tensor | null;
  /** Depthwise conv `[C, 1, k, k]`. */
  readonly dwconv: Conv2d;
  /** Channels-last LayerNorm over C. */
  readonly norm: LayerNorm;
  /** Linear C → 4C. */
  readonly pwconv1: Linear;
  /** GELU (exact). */
  readonly act: GELU;
  /** Linear 4C → C. */
  readonly pwconv2: Linear;
  /** Stochastic depth (or Identity when the rate is 0). */
  readonly drop_path: Module;

  /** A block of width `dim`. */
  constructor(
    /** Channels. */
    readonly dim: number,
    opts: BlockOptions = {},
  ) {
    super();
    const k = opts.kernelSize ?? 7;
    const ls = opts.layerScaleInitValue ?? 1e-6;
    const eps = opts.eps ?? 1e-6;
    const g = opts.generator ?? defaultGenerator;
    // Registered at once (a parameter replaced by a plain tensor later stays a parameter).
    this.registerParameter('gamma', ls > 0 ? full([dim], ls) : null);
    this.dwconv = new Conv2d(dim, dim, k, { padding: Math.floor(k / 2), groups: dim, generator: g });
    this.norm = new LayerNorm(dim, { eps });
    this.pwconv1 = new Linear(dim, 4 * dim, { generator: g });
    this.act = new GELU();
    this.pwconv2 = new Linear(4 * dim, dim, { generator: g });
    const dp = opts.dropPath ?? 0;
    this.drop_path = dp > 0 ? new DropPath(dp, { generator: g }) : new Identity();
  }

  override forward(x: Tensor): Tensor {
    let y = this.dwconv.forward(x).permute(0, 2, 3, 1); // (N, C, H, W) -> (N, H, W, C)
    y = this.norm.forward(y);
    if (!this.fusable()) {
      y = this.pwconv2.forward(this.act.forward(this.pwconv1.forward(y)));
      if (this.gamma) y = y.mul(this.gamma);
      y = y.permute(0, 3, 1, 2); // back to (N, C, H, W)
      return x.add(this.drop_path.forward(y));
    }
    // The same computation as two fused linear ops (see fusedLinear): pwconv1 with its GELU,
    // pwconv2 with the layer scale and, when drop path is the identity, the residual add,
    // whose result comes out laid out as x (NCHW) with no transposition.
    const act = this.act.approximate === 'tanh' ? 'gelu_tanh' : 'gelu';
    y = fusedLinear(y, this.pwconv1.weight, { bias: this.pwconv1.bias, activation: act });
    const dropIsIdentity = !(this.drop_path instanceof DropPath) || !this.drop_path.training || this.drop_path.p === 0;
    const residual = dropIsIdentity ? x.permute(0, 2, 3, 1) : null;
    y = fusedLinear(y, this.pwconv2.weight, { bias: this.pwconv2.bias, scale: this.gamma, residual }).permute(0, 3, 1, 2);
    return dropIsIdentity ? y : x.add(this.drop_path.forward(y));
  }

  /** Whether the pointwise layers are this block's own Linear/GELU/Linear (not replaced by other modules). */
  private fusable(): boolean {
    const dp = this.drop_path;
    return Block.fusedPointwise && this.pwconv1.constructor === Linear && this.pwconv2.constructor === Linear && this.act.constructor === GELU && (dp.constructor === Identity || dp.constructor === DropPath);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

function checkArch(depths: readonly number[], dims: readonly number[]): void {
  if (depths.length !== 4 || dims.length !== 4) throw new RangeError(`ConvNeXt: depths and dims need 4 entries each, got depths [${depths.join(', ')}], dims [${dims.join(', ')}]`);
  if (!depths.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`ConvNeXt: depths must be non-negative integers, got [${depths.join(', ')}]`);
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) throw new RangeError(`ConvNeXt: dims must be positive integers, got [${dims.join(', ')}]`);
}

/**
 * Zero padding on each side of a `kernel`x`kernel` conv with stride `stride` (the stem, or a
 * downsampling layer with stride 2): `ceil((kernel - stride) / 2)`, so that it maps `H` to
 * `H / stride` (for `H` a multiple of the stride), as the non-overlapping patchify
 * (kernel = stride, padding 0) does.
 */
export function overlapPadding(kernel: number, stride: number): number {
  return Math.ceil((kernel - stride) / 2);
}

/** Throws unless `kernel` is a valid stem kernel for `stride` (see {@link ConvNeXtOptions.stemKernel}). */
export function checkStemKernel(who: string, kernel: number, stride: number): void {
  if (!Number.isInteger(kernel) || kernel < stride) throw new RangeError(`${who}: stemKernel must be an integer >= stemStride (${stride}), got ${kernel}`);
  // With stride 1 an even kernel's padding cannot keep H: the output would be H + 1.
  if (stride === 1 && kernel % 2 === 0) throw new RangeError(`${who}: with stemStride 1 the stemKernel must be odd (an even kernel changes the map size), got ${kernel}`);
}

/** Throws unless `kernel` is a valid downsampling kernel (see {@link ConvNeXtOptions.downsampleKernel}). */
export function checkDownsampleKernel(who: string, kernel: number): void {
  if (!Number.isInteger(kernel) || kernel < 2) throw new RangeError(`${who}: downsampleKernel must be an integer >= 2 (the stride), got ${kernel}`);
}

/**
 * ConvNeXt: stem (k=s conv → channels-first LN; optionally an overlapping k>s conv), three downsampling layers (LN → 2×2/2 conv, or an overlapping k×k/2),
 * four stages of {@link Block}s, global average pool → LayerNorm → Linear head.
 * Parameter names equal the official checkpoints' (`downsample_layers.0.0.weight`,
 * `stages.2.5.dwconv.weight`, `stages.0.0.gamma`, `norm.weight`, `head.weight`, ...).
 *
 * Weights are initialised as the official code: truncated normal (std 0.02, bounds ±2) for
 * every conv and linear weight, zero biases, LayerNorm 1/0, gamma = `layerScaleInitValue`,
 * then the head scaled by `headInitScale`.
 */
export class ConvNeXt extends Module {
  /** Stem and the three downsampling layers. */
  downsample_layers!: ModuleList<Sequential>;
  /** The four stages of blocks. */
  stages!: ModuleList<Sequential>;
  /** Final LayerNorm over the pooled features. */
  norm!: LayerNorm;
  /** Classifier; assign a new `Linear` to fine-tune on other classes (`model.head = new Linear(C, K)`). */
  head!: Linear;
  /** Blocks per stage. */
  readonly depths: readonly number[];
  /** Channels per stage. */
  readonly dims: readonly number[];
  /** Input channels. */
  readonly inChans: number;
  /** Number of classes. */
  readonly numClasses: number;
  /** Stem stride. */
  readonly stemStride: number;
  /** Stem kernel (equal to the stride unless the stem overlaps). */
  readonly stemKernel: number;
  /** Kernel of the downsampling convs (2 unless they overlap). */
  readonly downsampleKernel: number;
  /** Depthwise kernel size. */
  readonly kernelSize: number;
  /** The variant's name, when built from one without overriding depths/dims. */
  readonly variant: ConvNeXtVariant | null;

  /** Builds and initialises the model (see {@link ConvNeXtOptions}). */
  constructor(opts: ConvNeXtOptions = {}) {
    super();
    const arch = CONVNEXT_VARIANTS[opts.variant ?? 'tiny'];
    if (!arch) throw new RangeError(`ConvNeXt: unknown variant '${String(opts.variant)}' (have ${Object.keys(CONVNEXT_VARIANTS).join(', ')})`);
    this.depths = [...(opts.depths ?? arch.depths)];
    this.dims = [...(opts.dims ?? arch.dims)];
    this.variant = opts.depths || opts.dims ? null : (opts.variant ?? 'tiny');
    checkArch(this.depths, this.dims);
    this.inChans = opts.inChans ?? 3;
    this.numClasses = opts.numClasses ?? 1000;
    this.stemStride = opts.stemStride ?? 4;
    this.stemKernel = opts.stemKernel ?? this.stemStride;
    this.downsampleKernel = opts.downsampleKernel ?? 2;
    this.kernelSize = opts.kernelSize ?? 7;
    const eps = opts.eps ?? 1e-6;
    const g = opts.generator ?? defaultGenerator;
    if (!Number.isInteger(this.inChans) || this.inChans < 1) throw new RangeError(`ConvNeXt: inChans must be a positive integer, got ${this.inChans}`);
    if (!Number.isInteger(this.numClasses) || this.numClasses < 1) throw new RangeError(`ConvNeXt: numClasses must be a positive integer, got ${this.numClasses}`);
    if (!Number.isInteger(this.stemStride) || this.stemStride < 1) throw new RangeError(`ConvNeXt: stemStride must be a positive integer, got ${this.stemStride}`);
    checkStemKernel('ConvNeXt', this.stemKernel, this.stemStride);
    checkDownsampleKernel('ConvNeXt', this.downsampleKernel);
    if (!Number.isInteger(this.kernelSize) || this.kernelSize < 1 || this.kernelSize % 2 === 0) throw new RangeError(`ConvNeXt: kernelSize must be a positive odd integer, got ${this.kernelSize}`);
    const dpr = opts.dropPathRate ?? 0;
    if (!(dpr >= 0 && dpr < 1)) throw new RangeError(`ConvNeXt: dropPathRate must be in [0, 1), got ${dpr}`);
    const [d0, d1, d2, d3] = this.dims as [number, number, number, number];
    const dims = [d0, d1, d2, d3];

    // Parameters are created outside any caller's scope; temporaries of the init are freed.
    tidy(() => {
      const ds = new ModuleList<Sequential>();
      const stem = new Conv2d(this.inChans, d0, this.stemKernel, { stride: this.stemStride, padding: overlapPadding(this.stemKernel, this.stemStride), generator: g });
      ds.append(new Sequential(stem, new LayerNorm2d(d0, { eps })));
      for (let i = 0; i < 3; i++) {
        const dk = this.downsampleKernel;
        ds.append(new Sequential(new LayerNorm2d(dims[i]!, { eps }), new Conv2d(dims[i]!, dims[i + 1]!, dk, { stride: 2, padding: overlapPadding(dk, 2), generator: g })));
      }
      this.downsample_layers = ds;

      const total = this.depths.reduce((a, b) => a + b, 0);
      // torch.linspace(0, drop_path_rate, total)
      const rates = Array.from({ length: total }, (_, k) => (total > 1 ? (dpr * k) / (total - 1) : 0));
      const stages = new ModuleList<Sequential>();
      let cur = 0;
      for (let i = 0; i < 4; i++) {
        const blocks: Block[] = [];
        for (let j = 0; j < this.depths[i]!; j++) {
          blocks.push(new Block(dims[i]!, { dropPath: rates[cur + j]!, layerScaleInitValue: opts.layerScaleInitValue ?? 1e-6, kernelSize: this.kernelSize, eps, generator: g }));
        }
        stages.append(new Sequential(...blocks));
        cur += this.depths[i]!;
      }
      this.stages = stages;
      this.norm = new LayerNorm(d3, { eps });
      this.head = new Linear(d3, this.numClasses, { generator: g });

      // Official init: trunc_normal_(std=.02) for Conv2d/Linear weights, zero biases.
      for (const m of this.modules()) {
        if (m instanceof Conv2d || m instanceof Linear) {
          truncNormal_(m.weight, { std: 0.02, a: -2, b: 2, generator: g });
          if (m.bias) zeros_(m.bias);
        }
      }
      const his = opts.headInitScale ?? 1;
      if (his !== 1) {
        noGrad(() => {
          this.head.weight.assign(this.head.weight.mul(his));
          this.head.bias!.assign(this.head.bias!.mul(his));
        });
      }
    });
  }

  /** The smallest input height/width the model accepts: the stem and three 2x downsamplings need `8 * stemStride`. */
  get minInputSize(): number {
    return 8 * this.stemStride;
  }

  private checkInput(x: Tensor): void {
    const want = `[N, ${this.inChans}, H, W] with H, W >= ${this.minInputSize}`;
    const name = this.variant ? `ConvNeXt-${this.variant}` : 'ConvNeXt';
    if (x.ndim !== 4) throw new RangeError(`${name}: expected a 4-D NCHW input ${want}, got shape [${x.shape.join(', ')}]`);
    if (x.shape[1] !== this.inChans) {
      throw new RangeError(`${name}: expected ${this.inChans} input channels (input ${want}), got ${x.shape[1]} channels in shape [${x.shape.join(', ')}]`);
    }
    const [h, w] = [x.shape[2]!, x.shape[3]!];
    if (h < this.minInputSize || w < this.minInputSize) {
      throw new RangeError(
        `${name}: input ${h}x${w} is too small: with stem stride ${this.stemStride} and three 2x downsamplings the model needs H, W >= ${this.minInputSize} (input ${want}), got shape [${x.shape.join(', ')}]`,
      );
    }
  }

  /**
   * Backbone features: the output of each of the 4 stages, `[N, dims[i], H/(s·2^i), W/(s·2^i)]`
   * (s = stem stride), for detection/segmentation heads.
   */
  features(x: Tensor): Tensor[] {
    this.checkInput(x);
    const out: Tensor[] = [];
    let y = x;
    for (let i = 0; i < 4; i++) {
      y = this.downsample_layers.at(i).forward(y);
      y = this.stages.at(i).forward(y);
      out.push(y);
    }
    return out;
  }

  /** Pooled, normalized features `[N, dims[3]]`: global average pool then the final LayerNorm (the official `forward_features`). */
  forwardFeatures(x: Tensor): Tensor {
    const last = this.features(x)[3]!;
    return this.norm.forward(last.mean([2, 3]));
  }

  /** The classifier on pooled features. */
  forwardHead(features: Tensor): Tensor {
    return this.head.forward(features);
  }

  /** Logits `[N, numClasses]`. */
  override forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  override extraRepr(): string {
    return `${this.variant ?? 'custom'}, depths=[${this.depths.join(', ')}], dims=[${this.dims.join(', ')}], numClasses=${this.numClasses}`;
  }
}

/** Options of the per-variant factories: everything but the architecture. */
export type ConvNeXtVariantOptions = Omit<ConvNeXtOptions, 'variant' | 'depths' | 'dims'>;

/** Builds a named variant: `convnext('tiny', { numClasses: 10 })`. */
export function convnext(variant: ConvNeXtVariant, opts: ConvNeXtVariantOptions = {}): ConvNeXt {
  return new ConvNeXt({ ...opts, variant });
}
/** ConvNeXt-atto (3.7M parameters). */
export const convnextAtto = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('atto', opts);
/** ConvNeXt-femto (5.2M). */
export const convnextFemto = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('femto', opts);
/** ConvNeXt-pico (9.0M). */
export const convnextPico = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('pico', opts);
/** ConvNeXt-nano (15.6M). */
export const convnextNano = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('nano', opts);
/** ConvNeXt-tiny (28.6M). */
export const convnextTiny = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('tiny', opts);
/** ConvNeXt-small (50.2M). */
export const convnextSmall = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('small', opts);
/** ConvNeXt-base (88.6M). */
export const convnextBase = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('base', opts);
/** ConvNeXt-large (197.8M). */
export const convnextLarge = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('large', opts);
/** ConvNeXt-xlarge (350.2M). */
export const convnextXlarge = (opts: ConvNeXtVariantOptions = {}): ConvNeXt => convnext('xlarge', opts);

/** Options of {@link convnextParameterCount}. */
export interface ParameterCountOptions {
  /** Input channels (default 3). */
  readonly inChans?: number;
  /** Classes (default 1000). */
  readonly numClasses?: number;
  /** Stem stride (default 4). */
  readonly stemStride?: number;
  /** Stem kernel (default: the stem stride). */
  readonly stemKernel?: number;
  /** Downsampling kernel (default 2). */
  readonly downsampleKernel?: number;
  /** Depthwise kernel (default 7). */
  readonly kernelSize?: number;
  /** Whether blocks have gamma (default true). */
  readonly layerScale?: boolean;
}

/**
 * The closed-form parameter count (reference §1.9), without building the model:
 * stem `(in·k² + 1)·C0 + 2·C0` (k = stem kernel, the stride unless it overlaps), downsample
 * `2·C_{i-1} + d²·C_{i-1}·C_i + C_i` (d = the downsampling kernel, 2 by default), block
 * `8C² + (k² + 9)·C` (minus C without gamma), final norm `2·C3`, head `C3·K + K`.
 */
export function convnextParameterCount(arch: ConvNeXtVariant | ConvNeXtArch, opts: ParameterCountOptions = {}): number {
  const { depths, dims } = typeof arch === 'string' ? CONVNEXT_VARIANTS[arch] : arch;
  const inC = opts.inChans ?? 3;
  const K = opts.numClasses ?? 1000;
  const sk = opts.stemKernel ?? opts.stemStride ?? 4;
  const k = opts.kernelSize ?? 7;
  const ls = (opts.layerScale ?? true) ? 1 : 0;
  let n = (inC * sk * sk + 1) * dims[0] + 2 * dims[0];
  const dk = opts.downsampleKernel ?? 2;
  for (let i = 1; i < 4; i++) n += 2 * dims[i - 1]! + dk * dk * dims[i - 1]! * dims[i]! + dims[i]!;
  for (let i = 0; i < 4; i++) n += depths[i]! * (8 * dims[i]! * dims[i]! + (k * k + 8 + ls) * dims[i]!);
  return n + 2 * dims[3] + dims[3] * K + K;
}
