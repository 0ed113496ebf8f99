/** Small helpers shared by the layer files: shape text, argument checks, PyTorch's default init. */
import type { Generator, IntPair, Tensor } from '@tsgrad/core';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';

/** `[2, 3]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless `v` is a positive integer. */
export function positiveInt(v: number, what: string, layer: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: ${what} must be a positive integer, got ${v}`);
}

/** PyTorch's default for Linear and Conv: kaiming_uniform(a=sqrt(5)) weight, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) bias. */
export function resetLinearLike(weight: Tensor, bias: Tensor | null, generator: Generator): void {
  kaimingUniform_(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, { generator });
  }
}

/** An int or a pair as a pair. */
export function pairOf(v: IntPair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
