/**
 * ResNet (He et al. 2016) exactly as torchvision builds it (`torchvision/models/resnet.py`):
 * BasicBlock (18/34) and Bottleneck (50/101/152, stride on the 3x3 conv — "ResNet v1.5"),
 * BatchNorm with running statistics, ReLU, 7x7/2 stem and 3x3/2 max-pool, torchvision's
 * parameter names (`conv1.weight`, `layer2.0.downsample.1.running_var`, `fc.bias`, ...) and
 * initialisation, so a torchvision state dict loads strictly. The starting point of the
 * ConvNeXt paper's roadmap (see roadmap.ts).
 */
import { defaultGenerator, tidy, type Generator, type Tensor } from '@tsgrad/core';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, kaimingNormal_, ones_, zeros_ } from '@tsgrad/nn';

/** Names of the torchvision ResNets built here. */
export type ResNetVariant = 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'resnet152' | 'resnext50_32x4d' | 'wide_resnet50_2';

/** Block type and blocks per stage of each variant (torchvision's table). */
export const RESNET_VARIANTS: Readonly<Record<ResNetVariant, { readonly block: 'basic' | 'bottleneck'; readonly layers: readonly [number, number, number, number]; readonly groups?: number; readonly widthPerGroup?: number }>> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
  resnext50_32x4d: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 128 },
};

/** Options of {@link ResNet}; defaults are torchvision's. */
export interface ResNetOptions {
  /** A named variant (default `resnet50`); `block`/`layers`/`groups`/`widthPerGroup` override it. */
  readonly variant?: ResNetVariant;
  /** `basic` (two 3x3 convs, expansion 1) or `bottleneck` (1x1, 3x3, 1x1, expansion 4). */
  readonly block?: 'basic' | 'bottleneck';
  /** Blocks per stage. */
  readonly layers?: readonly number[];
  /** Groups of the bottleneck's 3x3 conv (default 1; 32 for ResNeXt-50 32x4d). */
  readonly groups?: number;
  /** Bottleneck width per group at stage 1 (default 64). */
  readonly widthPerGroup?: number;
  /** Input channels (default 3). */
  readonly inChans?: number;
  /** Classes of `fc` (default 1000). */
  readonly numClasses?: number;
  /** Start each residual branch's last BN at zero weight (torchvision's `zero_init_residual`, default false). */
  readonly zeroInitResidual?: boolean;
  /** Generator for the initialisation (default: core's default generator). */
  readonly generator?: Generator;
}

const conv3x3 = (cin: number, cout: number, stride: number, groups: number, g: Generator) => new Conv2d(cin, cout, 3, { stride, padding: 1, groups, bias: false, generator: g });
const conv1x1 = (cin: number, cout: number, stride: number, g: Generator) => new Conv2d(cin, cout, 1, { stride, bias: false, generator: g });

/** torchvision's BasicBlock: conv3x3 → BN → ReLU → conv3x3 → BN, plus the (projected) input, → ReLU. */
export class BasicBlock extends Module {
  /** Output channels per input plane (1). */
  static readonly expansion = 1;
  /** First 3x3 conv (carries the stride). */
  conv1: Conv2d;
  /** BN after conv1. */
  bn1: BatchNorm2d;
  /** Shared ReLU (no parameters). */
  relu: ReLU;
  /** Second 3x3 conv. */
  conv2: Conv2d;
  /** BN after conv2. */
  bn2: BatchNorm2d;
  /** 1x1 conv + BN on the shortcut when the shape changes, else null. */
  downsample: Sequential | null;

  /** A block from `inplanes` to `planes` channels. */
  constructor(inplanes: number, planes: number, stride: number, downsample: Sequential | null, g: Generator) {
    super();
    this.conv1 = conv3x3(inplanes, planes, stride, 1, g);
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU();
    this.conv2 = conv3x3(planes, planes, 1, 1, g);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(identity));
  }
}

/** torchvision's Bottleneck (v1.5): 1x1 → BN → ReLU → 3x3 (stride, groups) → BN → ReLU → 1x1 (×4) → BN, plus the shortcut, → ReLU. */
export class Bottleneck extends Module {
  /** Output channels per input plane (4). */
  static readonly expansion = 4;
  /** 1x1 reduction. */
  conv1: Conv2d;
  /** BN after conv1. */
  bn1: BatchNorm2d;
  /** 3x3 conv (carries the stride and the groups). */
  conv2: Conv2d;
  /** BN after conv2. */
  bn2: BatchNorm2d;
  /** 1x1 expansion to `planes * 4`. */
  conv3: Conv2d;
  /** BN after conv3. */
  bn3: BatchNorm2d;
  /** Shared ReLU (no parameters). */
  relu: ReLU;
  /** 1x1 conv + BN on the shortcut when the shape changes, else null. */
  downsample: Sequential | null;

  /** A block from `inplanes` to `planes * 4` channels. */
  constructor(inplanes: number, planes: number, stride: number, downsample: Sequential | null, groups: number, baseWidth: number, g: Generator) {
    super();
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inplanes, width, 1, g);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride, groups, g);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, planes * 4, 1, g);
    this.bn3 = new BatchNorm2d(planes * 4);
    this.relu = new ReLU();
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.relu.forward(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(identity));
  }
}

/**
 * torchvision's ResNet: `conv1` 7x7/2 → `bn1` → ReLU → `maxpool` 3x3/2 → `layer1`..`layer4`
 * (stride 2 in the first block of layers 2–4) → `avgpool` → `fc`. Initialised as torchvision:
 * kaiming-normal (fan_out, relu) conv weights, BN weight 1 / bias 0, PyTorch's default `fc`.
 */
export class ResNet extends Module {
  /** Stem conv 7x7/2. */
  conv1: Conv2d;
  /** Stem BN. */
  bn1: BatchNorm2d;
  /** Stem ReLU. */
  relu: ReLU;
  /** 3x3/2 max-pool, padding 1. */
  maxpool: MaxPool2d;
  /** Stage 1 (stride 1). */
  layer1: Sequential;
  /** Stage 2. */
  layer2: Sequential;
  /** Stage 3. */
  layer3: Sequential;
  /** Stage 4. */
  layer4: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Classifier. */
  fc: Linear;
  /** Block type. */
  readonly block: 'basic' | 'bottleneck';
  /** Blocks per stage. */
  readonly layers: readonly number[];
  /** Input channels. */
  readonly inChans: number;
  /** Classes. */
  readonly numClasses: number;
  /** The variant's name when built from one without overrides. */
  readonly variant: ResNetVariant | null;

  /** Builds and initialises the network (see {@link ResNetOptions}). */
  constructor(opts: ResNetOptions = {}) {
    super();
    const arch = RESNET_VARIANTS[opts.variant ?? 'resnet50'];
    if (!arch) throw new RangeError(`ResNet: unknown variant '${String(opts.variant)}' (have ${Object.keys(RESNET_VARIANTS).join(', ')})`);
    const overridden = opts.block !== undefined || opts.layers !== undefined || opts.groups !== undefined || opts.widthPerGroup !== undefined;
    this.variant = overridden ? null : (opts.variant ?? 'resnet50');
    this.block = opts.block ?? arch.block;
    if (this.block !== 'basic' && this.block !== 'bottleneck') throw new RangeError(`ResNet: block must be 'basic' or 'bottleneck', got '${String(this.block)}'`);
    this.layers = [...(opts.layers ?? arch.layers)];
    if (this.layers.length !== 4 || !this.layers.every((n) => Number.isInteger(n) && n >= 1)) throw new RangeError(`ResNet: layers needs 4 positive integers, got [${this.layers.join(', ')}]`);
    const groups = opts.groups ?? arch.groups ?? 1;
    const baseWidth = opts.widthPerGroup ?? arch.widthPerGroup ?? 64;
    if (this.block === 'basic' && (groups !== 1 || baseWidth !== 64)) throw new RangeError(`ResNet: BasicBlock only supports groups=1 and widthPerGroup=64, got ${groups} and ${baseWidth}`);
    this.inChans = opts.inChans ?? 3;
    this.numClasses = opts.numClasses ?? 1000;
    for (const [name, v] of [['inChans', this.inChans], ['numClasses', this.numClasses], ['groups', groups], ['widthPerGroup', baseWidth]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`ResNet: ${name} must be a positive integer, got ${v}`);
    }
    const g = opts.generator ?? defaultGenerator;
    const expansion = this.block === 'basic' ? 1 : 4;
    let inplanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      let ds: Sequential | null = null;
      if (stride !== 1 || inplanes !== planes * expansion) ds = new Sequential(conv1x1(inplanes, planes * expansion, stride, g), new BatchNorm2d(planes * expansion));
      const mk = (cin: number, s: number, d: Sequential | null) => (this.block === 'basic' ? new BasicBlock(cin, planes, s, d, g) : new Bottleneck(cin, planes, s, d, groups, baseWidth, g));
      const seq = new Sequential(mk(inplanes, stride, ds));
      inplanes = planes * expansion;
      for (let i = 1; i < blocks; i++) seq.append(mk(inplanes, 1, null));
      return seq;
    };
    // Parameters outlive this scope; the init's temporaries do not.
    const built = tidy(() => {
      const conv1 = new Conv2d(this.inChans, 64, 7, { stride: 2, padding: 3, bias: false, generator: g });
      const bn1 = new BatchNorm2d(64);
      const layer1 = makeLayer(64, this.layers[0]!, 1);
      const layer2 = makeLayer(128, this.layers[1]!, 2);
      const layer3 = makeLayer(256, this.layers[2]!, 2);
      const layer4 = makeLayer(512, this.layers[3]!, 2);
      const fc = new Linear(512 * expansion, this.numClasses, { generator: g });
      return { conv1, bn1, layer1, layer2, layer3, layer4, fc };
    });
    this.conv1 = built.conv1;
    this.bn1 = built.bn1;
    this.relu = new ReLU();
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = built.layer1;
    this.layer2 = built.layer2;
    this.layer3 = built.layer3;
    this.layer4 = built.layer4;
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = built.fc;
    tidy(() => {
      for (const m of this.modules()) {
        if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
        else if (m instanceof BatchNorm2d) {
          ones_(m.weight!);
          zeros_(m.bias!);
        }
      }
      if (opts.zeroInitResidual) {
        for (const m of this.modules()) {
          if (m instanceof Bottleneck) zeros_(m.bn3.weight!);
          else if (m instanceof BasicBlock) zeros_(m.bn2.weight!);
        }
      }
    });
  }

  /** Stage outputs `[N, C_i, H/2^(i+2), W/2^(i+2)]` (after layer1..layer4), for dense heads. */
  features(x: Tensor): Tensor[] {
    if (x.ndim !== 4 || x.shape[1] !== this.inChans) throw new RangeError(`ResNet: expected a 4-D NCHW input [N, ${this.inChans}, H, W], got shape [${x.shape.join(', ')}]`);
    let y = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x))));
    const out: Tensor[] = [];
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) {
      y = layer.forward(y);
      out.push(y);
    }
    return out;
  }

  /** Logits `[N, numClasses]`. */
  override forward(x: Tensor): Tensor {
    const last = this.features(x)[3]!;
    return this.fc.forward(this.avgpool.forward(last).flatten(1));
  }

  override extraRepr(): string {
    return `${this.variant ?? 'custom'}, ${this.block}, layers=[${this.layers.join(', ')}], numClasses=${this.numClasses}`;
  }
}

/** Options of the named factories: everything but the architecture. */
export type ResNetVariantOptions = Omit<ResNetOptions, 'variant' | 'block' | 'layers' | 'groups' | 'widthPerGroup'>;

/** Builds a torchvision ResNet by name: `resnet('resnet50', { numClasses: 10 })`. */
export function resnet(variant: ResNetVariant, opts: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...opts, variant });
}
/** torchvision's ResNet-18 (11.7M parameters). */
export const resnet18 = (opts: ResNetVariantOptions = {}): ResNet => resnet('resnet18', opts);
/** torchvision's ResNet-34 (21.8M). */
export const resnet34 = (opts: ResNetVariantOptions = {}): ResNet => resnet('resnet34', opts);
/** torchvision's ResNet-50 (25.6M). */
export const resnet50 = (opts: ResNetVariantOptions = {}): ResNet => resnet('resnet50', opts);
/** torchvision's ResNet-101 (44.5M). */
export const resnet101 = (opts: ResNetVariantOptions = {}): ResNet => resnet('resnet101', opts);
