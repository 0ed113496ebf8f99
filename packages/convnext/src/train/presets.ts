/**
 * Named training recipes (`tsgrad-convnext train --preset NAME`): a dataset with the
 * architecture and schedule chosen for it, so a documented result is one short command.
 * A preset only changes defaults: any flag given beside it wins.
 */
import type { TrainConfig } from './config.js';

/**
 * Fashion-MNIST and MNIST on two CPU cores (docs/training.md, "Fashion-MNIST and MNIST in
 * half an hour"): a narrow four-stage ConvNeXt (blocks 2,2,2,2, channels 24-192, 0.93M
 * parameters; Fashion-MNIST's preset rebalances the first stage) with a stride-2 stem,
 * chosen by throughput per accuracy (40% of the step time of 2,2,6,2 at 32-256, so 2.5
 * times the epochs in the same minutes). Batch 128, AdamW 4e-3
 * with one warmup epoch and cosine decay, label smoothing 0.1, pad-and-crop 2, no flips,
 * stochastic depth, mixup or RandAugment (they slow a short run down more than they help it).
 */
const SMALL_GREY: Partial<TrainConfig> = {
  depths: [2, 2, 2, 2],
  dims: [24, 48, 96, 192],
  stemStride: 2,
  epochs: 16,
  batchSize: 128,
  lr: 4e-3,
  warmupEpochs: 1,
  labelSmoothing: 0.1,
  dropPath: 0,
  cropPadding: 2,
  flip: false,
  aa: 'none',
  reprob: 0,
  mixup: 0,
  cutmix: 0,
};

/** The presets by name: each a set of {@link TrainConfig} defaults. */
export const TRAIN_PRESETS: Readonly<Record<string, Partial<TrainConfig>>> = {
  // Resized to 32x32 the stages see 16, 8, 4 and 2 pixels (at 28: 14, 7, 3 and 1, each 2x2
  // downsampling dropping a row and column): +1 point in a 4-epoch A/B for 1.26x the step
  // time. No flips: every shoe in Fashion-MNIST faces left, and crops and flips together cost
  // 3 points in the same A/B. A 4x4/2 stem (--stem-kernel 4: overlapping patches, padding 1)
  // instead of the 2x2/2 patchify: 92.41% against 91.75% in 15 epochs, for ~2% more FLOPs.
  // The last 5 epochs see the plain pictures (--no-aug-epochs): 92.54% against 92.41% with 3.
  // One block of 32 channels in the first stage instead of two of 24 (blocks 1,2,2,2,
  // channels 32-192, the same 0.93M parameters): a step 10-13% faster, so 16 epochs fit in
  // the half hour: 92.65% in 1716 s against 92.29% in 14 epochs (1565 s). A 6x6/2 stem
  // (padding 2) at the same step time: 92.78% in 1774 s, ahead at 14 of the 16 epochs.
  // With the step ~9% faster (the pointwise GEMM keeps GELU's derivative, the last
  // downsampling is one GEMM) 17 epochs fit: 93.02% in 1734 s, validating every epoch.
  // Validating every second epoch and the last (--val-every 2) changes nothing the run
  // learns and gives ~45 s of that half hour back as a margin.
  'fashion-mnist': { ...SMALL_GREY, dataset: 'fashion-mnist', imageSize: 32, depths: [1, 2, 2, 2], dims: [32, 48, 96, 192], stemKernel: 6, epochs: 17, noAugEpochs: 5, valEvery: 2 },
  // Digits are not mirror-symmetric: no flips (measured: 99.48% in 16 epochs at 28x28).
  mnist: { ...SMALL_GREY, dataset: 'mnist' },
};

/** The preset `name`'s settings; an unknown name is an error that lists the known ones. */
export function trainPreset(name: string): Partial<TrainConfig> {
  if (!Object.hasOwn(TRAIN_PRESETS, name)) throw new Error(`--preset must be one of ${Object.keys(TRAIN_PRESETS).join(', ')}, got '${name}'`);
  return TRAIN_PRESETS[name]!;
}
