/**
 * Known answers from PyTorch 1.13 (float32, CPU) for the conv/pool/resampling ops of
 * issue 8: every case of `fixtures/convpool/cases.json` (written by
 * `scripts/gen_convpool_fixtures.py`) runs on the js backend with PyTorch's keyword
 * arguments mapped to ours; outputs, returned indices and the gradients of
 * `sum(output * cotangent)` must match. `grids.json` pins interpolate's source-index
 * formulas over many sizes and scale factors.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { mismatch, Params, type FixtureTensor } from './helpers/fixtures.js';

const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const DIR = new URL('./fixtures/convpool/', import.meta.url);
const js = await T.initBackend('js');

interface Case {
  readonly name: string;
  readonly op: string;
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, FixtureTensor>;
  readonly output: FixtureTensor;
  readonly indices?: FixtureTensor;
  readonly cotangent: FixtureTensor;
  readonly grads: Record<string, FixtureTensor>;
}

function load<J>(file: string): J {
  return JSON.parse(readFileSync(fileURLToPath(new URL(file, DIR)), 'utf8')) as J;
}

/** A fixture tensor (shortest float32 decimals) as an exact float32 (or int32) tensor. */
function toT(t: FixtureTensor): Tensor {
  if (t.dtype === 'int64') return T.fromTypedArray(Int32Array.from(t.data), t.shape, 'int32', js);
  return T.fromTypedArray(Float32Array.from(t.data, Math.fround), t.shape, 'float32', js);
}
/** The fixture tensor with its values rounded to float32, as `mismatch` compares. */
const f32 = (t: FixtureTensor): FixtureTensor => ({ ...t, data: t.data.map(Math.fround) });

/** Optional pair/int params that PyTorch lets be null. */
function maybeInt(p: Params, raw: Record<string, unknown>, key: string): number | undefined {
  if (raw[key] === null) {
    p.require(key, null);
    return undefined;
  }
  return p.int(key);
}
function intOrList(p: Params, raw: Record<string, unknown>, key: string): number | number[] {
  return typeof raw[key] === 'number' ? p.int(key) : p.ints(key);
}

/** Runs a case with our API: returns the output and, where the op returns them, the indices. */
function run(c: Case, x: Record<string, Tensor>): [Tensor, Tensor | null] {
  const p = new Params(c.params, c.name);
  const raw = c.params;
  const has = (k: string) => k in raw;
  const three = (k: string, d: number) => (has(k) ? (typeof raw[k] === 'number' ? p.int(k) : (p.ints(k) as [number, number, number])) : d);
  const two = (k: string, d: number): T.IntPair => (has(k) ? p.intPair(k) : d);
  const one = (k: string, d: number): number => (has(k) ? p.int(k) : d);
  let out: Tensor | [Tensor, Tensor];
  switch (c.op) {
    case 'conv1d':
      out = T.conv1d(x.x!, x.w!, x.b ?? null, { stride: one('stride', 1), padding: one('padding', 0), dilation: one('dilation', 1), groups: one('groups', 1) });
      break;
    case 'conv3d':
      out = T.conv3d(x.x!, x.w!, x.b ?? null, { stride: three('stride', 1), padding: three('padding', 0), dilation: three('dilation', 1), groups: one('groups', 1) });
      break;
    case 'conv_transpose2d':
      out = T.convTranspose2d(x.x!, x.w!, x.b ?? null, { stride: two('stride', 1), padding: two('padding', 0), outputPadding: two('output_padding', 0), dilation: two('dilation', 1), groups: one('groups', 1) });
      break;
    case 'conv_transpose1d':
      out = T.convTranspose1d(x.x!, x.w!, x.b ?? null, { stride: one('stride', 1), padding: one('padding', 0), outputPadding: one('output_padding', 0), dilation: one('dilation', 1), groups: one('groups', 1) });
      break;
    case 'unfold':
      out = T.unfold(x.x!, p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding'), dilation: p.intPair('dilation') });
      break;
    case 'fold':
      out = T.fold(x.x!, p.intPair('output_size'), p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding'), dilation: p.intPair('dilation') });
      break;
    case 'pad':
      out = T.pad(x.x!, p.ints('pad'), { mode: p.oneOf('mode', ['reflect', 'replicate', 'circular']) });
      break;
    case 'max_pool2d':
      out = T.maxPool2d(x.x!, p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding'), dilation: p.intPair('dilation'), ceilMode: p.bool('ceil_mode'), returnIndices: p.bool('return_indices') });
      break;
    case 'avg_pool2d':
      out = T.avgPool2d(x.x!, p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding'), ceilMode: p.bool('ceil_mode'), countIncludePad: p.bool('count_include_pad'), divisorOverride: maybeInt(p, raw, 'divisor_override') });
      break;
    case 'adaptive_max_pool2d':
      out = T.adaptiveMaxPool2d(x.x!, p.intPair('output_size'), { returnIndices: p.bool('return_indices') });
      break;
    case 'max_unpool2d':
      out = T.maxUnpool2d(x.x!, x.indices!, p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding'), outputSize: p.intPair('output_size') });
      break;
    case 'max_pool1d':
      out = T.maxPool1d(x.x!, p.int('kernel_size'), { stride: p.int('stride'), padding: p.int('padding'), dilation: p.int('dilation'), ceilMode: p.bool('ceil_mode'), returnIndices: p.bool('return_indices') });
      break;
    case 'avg_pool1d':
      out = T.avgPool1d(x.x!, p.int('kernel_size'), { stride: p.int('stride'), padding: p.int('padding'), ceilMode: p.bool('ceil_mode'), countIncludePad: p.bool('count_include_pad') });
      break;
    case 'adaptive_avg_pool1d':
      out = T.adaptiveAvgPool1d(x.x!, p.int('output_size'));
      break;
    case 'adaptive_max_pool1d':
      out = T.adaptiveMaxPool1d(x.x!, p.int('output_size'), { returnIndices: p.bool('return_indices') });
      break;
    case 'interpolate': {
      const size = raw.size === null ? (p.require('size', null), undefined) : intOrList(p, raw, 'size');
      let scaleFactor: number | number[] | undefined;
      if (raw.scale_factor === null) p.require('scale_factor', null);
      else scaleFactor = typeof raw.scale_factor === 'number' ? p.number('scale_factor') : (raw.scale_factor as number[]).map((v) => (p.require('scale_factor', raw.scale_factor), v));
      const mode = p.oneOf('mode', ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area']);
      const alignCorners = raw.align_corners === null ? (p.require('align_corners', null), undefined) : p.bool('align_corners');
      const recomputeScaleFactor = raw.recompute_scale_factor === null ? (p.require('recompute_scale_factor', null), undefined) : p.bool('recompute_scale_factor');
      out = T.interpolate(x.x!, { size, scaleFactor, mode, alignCorners, recomputeScaleFactor });
      break;
    }
    default:
      throw new Error(`${c.name}: no mapping for op ${c.op}`);
  }
  p.done();
  return Array.isArray(out) ? out : [out, null];
}

const cases = load<{ cases: Case[] }>('cases.json').cases;

describe('conv/pool/resampling match PyTorch (known answers)', () => {
  it('covers every op of the part', () => {
    const ops = new Set(cases.map((c) => c.op));
    for (const op of ['conv1d', 'conv3d', 'conv_transpose2d', 'conv_transpose1d', 'unfold', 'fold', 'pad', 'max_pool2d', 'avg_pool2d', 'adaptive_max_pool2d', 'max_unpool2d', 'max_pool1d', 'avg_pool1d', 'adaptive_avg_pool1d', 'adaptive_max_pool1d', 'interpolate']) {
      expect(ops.has(op), op).toBe(true);
    }
  });
  for (const c of cases) {
    it(c.name, () => {
      T.tidy(() => {
        const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => [k, toT(t)]));
        const wrt = Object.keys(c.grads);
        for (const k of wrt) inputs[k]!.requiresGrad = true;
        const [y, idx] = run(c, inputs);
        expect(mismatch(y, f32(c.output), FORWARD_TOL, `${c.name} output`)).toBeNull();
        if (c.indices) {
          expect(idx, 'indices returned').not.toBeNull();
          expect(idx!.dtype).toBe('int32');
          expect(idx!.shape).toEqual(c.indices.shape);
          expect(Array.from(idx!.dataSync())).toEqual(c.indices.data);
        }
        if (wrt.length) {
          const grads = T.gradients(T.sum(T.mul(y, toT(c.cotangent))), wrt.map((k) => inputs[k]!));
          wrt.forEach((k, i) => expect(mismatch(grads[i]!, f32(c.grads[k]!), GRAD_TOL, `${c.name} grad ${k}`)).toBeNull());
        }
      });
    });
  }
});

interface NearestRow {
  dtype: 'float32' | 'float64';
  mode: 'nearest' | 'nearest-exact';
  n: number;
  size?: number;
  scale?: number;
  idx: number[];
}
interface LinearRow {
  alignCorners: boolean;
  n: number;
  size?: number;
  scale?: number;
  y: number[];
}
const grids = load<{ nearest: NearestRow[]; linear: LinearRow[] }>('grids.json');

describe('interpolate: source indices as PyTorch over grids of sizes and scale factors', () => {
  it(`nearest and nearest-exact, float32 and float64 (${grids.nearest.length} resamplings)`, () => {
    const bad: string[] = [];
    for (const r of grids.nearest) {
      T.tidy(() => {
        const x = T.arange(r.n, undefined, 1, { dtype: r.dtype, backend: js }).reshape([1, 1, r.n]);
        const y = T.interpolate(x, r.size !== undefined ? { size: r.size, mode: r.mode } : { scaleFactor: r.scale!, mode: r.mode });
        const got = Array.from(y.dataSync());
        if (JSON.stringify(got) !== JSON.stringify(r.idx)) bad.push(`${r.dtype} ${r.mode} n=${r.n} ${r.size !== undefined ? `size=${r.size}` : `scale=${r.scale}`}: ours ${JSON.stringify(got)}, torch ${JSON.stringify(r.idx)}`);
      });
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
  it(`linear, alignCorners both ways, size or scale factor (${grids.linear.length} resamplings, float64)`, () => {
    for (const r of grids.linear) {
      T.tidy(() => {
        const x = T.arange(r.n, undefined, 1, { dtype: 'float64', backend: js }).square().reshape([1, 1, r.n]);
        const opts = { mode: 'linear' as const, alignCorners: r.alignCorners };
        const y = T.interpolate(x, r.size !== undefined ? { ...opts, size: r.size } : { ...opts, scaleFactor: r.scale! });
        const got = Array.from(y.dataSync());
        expect(got.length).toBe(r.y.length);
        got.forEach((v, i) => expect(Math.abs(v - r.y[i]!), `${JSON.stringify(r)} at ${i}: ours ${v}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(r.y[i]!))));
      });
    }
  });
});

describe('literal PyTorch answers', () => {
  it('max pooling sends a tied window gradient to its first maximum, and overlapping windows add up (torch.nn.functional.max_pool2d)', () => {
    T.tidy(() => {
      const x = T.tensor([[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]]).requiresGrad_();
      const [y, idx] = T.maxPool2d(x, 2, { stride: 1, returnIndices: true });
      expect(y.toArray()).toEqual([[[[1, 1], [1, 1]]]]);
      expect(idx.toArray()).toEqual([[[[0, 1], [3, 4]]]]);
      y.sum().backward();
      // torch: [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
      expect(x.grad!.toArray()).toEqual([[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]]);
      const z = T.tensor([[[[2, 2], [2, 2]]]]).requiresGrad_();
      T.maxPool2d(z, 2).sum().backward();
      expect(z.grad!.toArray()).toEqual([[[[1, 0], [0, 0]]]]);
    });
  });
  it('bilinear upsampling by 2, alignCorners false and true (torch.nn.functional.interpolate)', () => {
    T.tidy(() => {
      const x = T.tensor([[[[0, 1], [2, 3]]]]);
      // torch: [[0, .25, .75, 1], [.5, .75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]
      expect(T.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }).toArray()).toEqual([[[[0, 0.25, 0.75, 1], [0.5, 0.75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]]]);
      const ac = T.interpolate(x, { size: 3, mode: 'bilinear', alignCorners: true }).toArray();
      expect(ac).toEqual([[[[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]]]]);
    });
  });
});
