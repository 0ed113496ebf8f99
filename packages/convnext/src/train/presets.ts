/**
 * Named training recipes (`tsgrad-convnext train --preset NAME`): a dataset with the
 * architecture and schedule chosen for it, so a documented result is one short command.
 * A preset only changes defaults: any flag given beside it wins.
 */
import type { TrainConfig } from './config.js';

/**
 * Fashion-MNIST and MNIST on two CPU cores (docs/training.md, "Fashion-MNIST and MNIST in
 * half an hour"): a narrow four-stage ConvNeXt (blocks 2,2,2,2, channels 24-192, 0.93M
 * parameters) with a stride-2 stem, so the stages see 14, 7, 3 and 1 pixels of the 28x28
 * picture; chosen by throughput per accuracy (40% of the step time of 2,2,6,2 at 32-256,
 * so 2.5 times the epochs in the same minutes). Batch 128, AdamW 4e-3 with one
 * warmup epoch and cosine decay over 16 epochs, label smoothing 0.1, pad-and-crop 2 and
 * flips, no stochastic depth, mixup or RandAugment (they slow a short run down).
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
  flip: true,
  aa: 'none',
  reprob: 0,
  mixup: 0,
  cutmix: 0,
};

/** The presets by name: each a set of {@link TrainConfig} defaults. */
export const TRAIN_PRESETS: Readonly<Record<string, Partial<TrainConfig>>> = {
  'fashion-mnist': { ...SMALL_GREY, dataset: 'fashion-mnist' },
  // Digits are not mirror-symmetric: no flips.
  mnist: { ...SMALL_GREY, dataset: 'mnist', flip: false },
};

/** The preset `name`'s settings; an unknown name is an error that lists the known ones. */
export function trainPreset(name: string): Partial<TrainConfig> {
  if (!Object.hasOwn(TRAIN_PRESETS, name)) throw new Error(`--preset must be one of ${Object.keys(TRAIN_PRESETS).join(', ')}, got '${name}'`);
  return TRAIN_PRESETS[name]!;
}
