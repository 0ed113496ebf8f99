/**
 * Builds a ConvNeXt that fits a state dict in official or timm naming: depths, dims, input
 * channels, classes, stem stride, kernel size and layer scale are read from the keys and
 * shapes, so official and timm ImageNet weights of any variant load with no flags.
 */
import type { Tensor } from '@tsgrad/core';
import { CheckpointError } from '../checkpoint/errors.js';
import { toOfficialConvNeXtStateDict } from '../checkpoint/timm.js';
import { CONVNEXT_VARIANTS, ConvNeXt, type ConvNeXtOptions, type ConvNeXtVariant } from '../model.js';

/** The architecture read from a state dict. */
export interface InferredArch {
  /** Blocks per stage. */
  readonly depths: [number, number, number, number];
  /** Channels per stage. */
  readonly dims: [number, number, number, number];
  /** Input channels. */
  readonly inChans: number;
  /** Head classes. */
  readonly numClasses: number;
  /** Stem stride: the kernel (the official patchify) unless the caller knows otherwise. */
  readonly stemStride: number;
  /** Stem kernel, from the weight's shape. */
  readonly stemKernel: number;
  /** Kernel of the downsampling convs (2 in official weights). */
  readonly downsampleKernel: number;
  /** Depthwise kernel. */
  readonly kernelSize: number;
  /** Whether blocks have layer scale (`gamma`). */
  readonly layerScale: boolean;
  /** The named variant with these depths and dims, or null. */
  readonly variant: ConvNeXtVariant | null;
}

function shapeOf(sd: Record<string, { shape: readonly number[] }>, key: string): readonly number[] {
  const t = sd[key];
  if (!t) throw new CheckpointError(`not ConvNeXt weights: no '${key}' (have ${Object.keys(sd).slice(0, 5).join(', ')}${Object.keys(sd).length > 5 ? ', ...' : ''})`);
  return t.shape;
}

/**
 * Reads the architecture from a state dict in official naming (see {@link InferredArch}).
 * Shapes do not say the stem's stride: it is the kernel (the official patchify) unless
 * `stemStride` is given (an overlapping stem's, e.g. from the `tsgrad.convnext` metadata
 * of a safetensors export).
 */
export function inferConvNeXtArch(sd: Record<string, { shape: readonly number[] }>, stemStride?: number): InferredArch {
  if (Object.keys(sd).some((k) => /\.grn\./.test(k))) throw new CheckpointError('these are ConvNeXt V2 weights (GRN layers); only ConvNeXt (V1) is supported');
  const stem = shapeOf(sd, 'downsample_layers.0.0.weight');
  const dims = [stem[0]!, 0, 0, 0] as [number, number, number, number];
  for (let i = 1; i < 4; i++) dims[i] = shapeOf(sd, `downsample_layers.${i}.1.weight`)[0]!;
  const downsampleKernel = shapeOf(sd, 'downsample_layers.1.1.weight')[2]!;
  const depths = [0, 0, 0, 0] as [number, number, number, number];
  let kernelSize = 7;
  let layerScale = false;
  for (const k of Object.keys(sd)) {
    const m = /^stages\.(\d)\.(\d+)\.(.+)$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    depths[i] = Math.max(depths[i]!, Number(m[2]) + 1);
    if (m[3] === 'dwconv.weight') kernelSize = sd[k]!.shape[2]!;
    if (m[3] === 'gamma') layerScale = true;
  }
  const head = shapeOf(sd, 'head.weight');
  const variant = (Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]).find((v) => CONVNEXT_VARIANTS[v].depths.join() === depths.join() && CONVNEXT_VARIANTS[v].dims.join() === dims.join()) ?? null;
  const stemKernel = stem[2]!;
  if (stemStride !== undefined && !(Number.isInteger(stemStride) && stemStride >= 1 && stemStride <= stemKernel)) {
    throw new CheckpointError(`stem stride ${stemStride} does not fit the weights' ${stemKernel}x${stemKernel} stem kernel (the stride must be an integer from 1 to the kernel)`);
  }
  return { depths, dims, inChans: stem[1]!, numClasses: head[0]!, stemStride: stemStride ?? stemKernel, stemKernel, downsampleKernel, kernelSize, layerScale, variant };
}

/**
 * A ConvNeXt holding the weights of `stateDict` (official or timm names, loaded strictly).
 * With `expect`, a variant whose depths/dims differ from the weights' is an error naming both;
 * `stemStride` is for an overlapping stem (see {@link inferConvNeXtArch}).
 */
export function convnextFromStateDict(stateDict: Record<string, Tensor>, expect?: ConvNeXtVariant, stemStride?: number): { model: ConvNeXt; arch: InferredArch } {
  const sd = toOfficialConvNeXtStateDict(stateDict);
  const arch = inferConvNeXtArch(sd, stemStride);
  if (expect !== undefined && arch.variant !== expect) {
    const want = CONVNEXT_VARIANTS[expect];
    if (!want) throw new RangeError(`unknown ConvNeXt variant '${expect}' (have ${Object.keys(CONVNEXT_VARIANTS).join(', ')})`);
    throw new CheckpointError(
      `the weights are ${arch.variant ? `ConvNeXt-${arch.variant}` : 'a custom ConvNeXt'} (depths [${arch.depths.join(', ')}], dims [${arch.dims.join(', ')}]), not ConvNeXt-${expect} (depths [${want.depths.join(', ')}], dims [${want.dims.join(', ')}])`,
    );
  }
  const opts: ConvNeXtOptions = {
    ...(arch.variant ? { variant: arch.variant } : { depths: arch.depths, dims: arch.dims }),
    inChans: arch.inChans,
    numClasses: arch.numClasses,
    stemStride: arch.stemStride,
    stemKernel: arch.stemKernel,
    downsampleKernel: arch.downsampleKernel,
    kernelSize: arch.kernelSize,
    ...(arch.layerScale ? {} : { layerScaleInitValue: 0 }),
  };
  const model = new ConvNeXt(opts);
  model.loadStateDict(sd, { strict: true });
  return { model, arch };
}
