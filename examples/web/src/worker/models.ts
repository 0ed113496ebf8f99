/**
 * The networks the app trains: ConvNeXt-atto and -femto as published, and "micro", a
 * one-block-per-stage ConvNeXt for quick checks (the app's test trains it on SwiftShader,
 * where atto would take minutes per step). Small pictures keep more resolution with a
 * stride-2 stem (the package's documented option for 32x32 images).
 */
import { Generator } from '@tsgrad/core';
import { ConvNeXt, convnext } from '@tsgrad/convnext';
import type { ModelChoice } from '../protocol.js';

/** Depths and dims of the micro model. */
const MICRO = { depths: [1, 1, 1, 1], dims: [8, 16, 24, 32] } as const;

/** A freshly initialised network for `classes` classes of `[channels, size, size]` pictures. */
export function createModel(choice: ModelChoice, numClasses: number, inChans: number, size: number, seed: number): ConvNeXt {
  const stemStride = size <= 64 ? 2 : 4;
  const opts = { numClasses, inChans, stemStride, generator: new Generator(seed) };
  if (choice === 'micro') return new ConvNeXt({ ...MICRO, ...opts });
  if (choice !== 'atto' && choice !== 'femto') throw new RangeError(`unknown model '${String(choice)}' (have atto, femto, micro)`);
  return convnext(choice, opts);
}

/** How the page names a network. */
export function modelName(m: ConvNeXt): string {
  if (m.variant) return `ConvNeXt-${m.variant}`;
  if (m.depths.join() === MICRO.depths.join() && m.dims.join() === MICRO.dims.join()) return 'ConvNeXt-micro';
  return `ConvNeXt (depths ${m.depths.join('/')}, dims ${m.dims.join('/')})`;
}
