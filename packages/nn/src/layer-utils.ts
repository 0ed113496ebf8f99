/**
 * Small helpers shared by the layer files: shape text, argument checks, and the parameter
 * and buffer sets several layers register the same way (with PyTorch's names and defaults).
 */
import { ones, zeros, type Generator, type IntPair, type Tensor } from '@tsgrad/core';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import type { Module } from './module.js';

/** `[2, 3]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless `v` is a positive integer. */
export function positiveInt(v: number, what: string, layer: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: ${what} must be a positive integer, got ${v}`);
}

/** PyTorch's default for Linear and Conv: kaiming_uniform(a=sqrt(5)) weight, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) bias. */
function resetLinearLike(weight: Tensor, bias: Tensor | null, generator: Generator): void {
  kaimingUniform_(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound, { generator });
  }
}

/**
 * Registers `weight` (of `weightShape`) and `bias` (`[biasSize]`, or null without one) on
 * `m` and gives them PyTorch's Linear/Conv default initialisation: the set Linear and every
 * convolution layer share.
 */
export function linearLikeParameters(m: Module, weightShape: readonly number[], biasSize: number, bias: boolean, generator: Generator): void {
  const w = m.registerParameter('weight', zeros([...weightShape]));
  const b = m.registerParameter('bias', bias ? zeros([biasSize]) : null);
  resetLinearLike(w, b, generator);
}

/** Registers the affine `weight` (ones) and `bias` (zeros) of a normalization layer, or null ones when `affine` is false. */
export function affineParameters(m: Module, shape: readonly number[], affine: boolean): void {
  m.registerParameter('weight', affine ? ones([...shape]) : null);
  m.registerParameter('bias', affine ? zeros([...shape]) : null);
}

/** An int or a pair as a pair. */
export function pairOf(v: IntPair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** The window settings of a convolution layer, one number per spatial dim. */
export interface ConvSettings {
  /** Kernel size per spatial dim. */
  readonly kernelSize: number[];
  /** Stride per spatial dim. */
  readonly stride: number[];
  /** Padding per spatial dim. */
  readonly padding: number[];
  /** Dilation per spatial dim. */
  readonly dilation: number[];
  /** Channel groups. */
  readonly groups: number;
}

/** A convolution layer's options before checking: one number (every spatial dim) or one per dim. */
export interface ConvSettingsInput {
  readonly stride?: number | readonly number[];
  readonly padding?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly groups?: number;
}

/**
 * Checks and expands the settings every convolution layer takes (channels, kernel, stride,
 * padding, dilation, groups) to `dims` numbers each, with errors naming `layer`.
 */
export function convSettings(layer: string, dims: number, inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvSettingsInput): ConvSettings {
  const perDim = (v: number | readonly number[] | undefined, dflt: number, what: string): number[] => {
    const out = v === undefined ? Array<number>(dims).fill(dflt) : typeof v === 'number' ? Array<number>(dims).fill(v) : [...v];
    if (out.length !== dims) throw new RangeError(`${layer}: ${what} must be one integer or ${dims}, got ${fmt(out)}`);
    return out;
  };
  const s: ConvSettings = {
    kernelSize: perDim(kernelSize, 1, 'kernelSize'),
    stride: perDim(opts.stride, 1, 'stride'),
    padding: perDim(opts.padding, 0, 'padding'),
    dilation: perDim(opts.dilation, 1, 'dilation'),
    groups: opts.groups ?? 1,
  };
  positiveInt(inChannels, 'inChannels', layer);
  positiveInt(outChannels, 'outChannels', layer);
  positiveInt(s.groups, 'groups', layer);
  for (const k of s.kernelSize) positiveInt(k, 'kernelSize', layer);
  for (const v of s.stride) positiveInt(v, 'stride', layer);
  for (const v of s.dilation) positiveInt(v, 'dilation', layer);
  for (const p of s.padding) if (!Number.isInteger(p) || p < 0) throw new RangeError(`${layer}: padding must be non-negative integers, got ${dims === 1 ? p : fmt(s.padding)}`);
  if (inChannels % s.groups || outChannels % s.groups) {
    throw new RangeError(`${layer}: inChannels ${inChannels} and outChannels ${outChannels} must both divide by groups ${s.groups}`);
  }
  return s;
}
