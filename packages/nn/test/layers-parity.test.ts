/** The issue-8 layers against PyTorch: outputs, gradients, state-dict keys and running statistics. */
import { describe, expect, it } from 'vitest';
import { cat, fromTypedArray, noGrad, ones, tidy, type Tensor } from '@tsgrad/core';
import {
  BatchNorm1d,
  Conv1d,
  ConvTranspose2d,
  Dropout2d,
  ELU,
  Embedding,
  Hardsigmoid,
  Hardswish,
  InstanceNorm2d,
  LeakyReLU,
  LogSigmoid,
  Mish,
  Module,
  MultiheadAttention,
  SiLU,
  Sigmoid,
  Softplus,
  Tanh,
  Upsample,
} from '@tsgrad/nn';
import { loadFixture, mismatch, type FT } from './helpers.js';

interface XT extends FT {
  readonly dtype?: 'bool' | 'int32';
}
interface Case {
  name: string;
  state: Record<string, XT>;
  state_keys: string[];
  inputs: XT[];
  output: FT;
  cotangent: FT;
  grad_inputs: (FT | null)[];
  grad_params: Record<string, FT>;
  train2_input?: FT;
  eval_input?: FT;
  eval_output?: FT;
  running_mean?: FT;
  running_var?: FT;
  num_batches_tracked?: number;
}

const fx = loadFixture<{ cases: Case[] }>('layers.json');
const FWD = 1e-5;
const GRAD = 1e-4;

function toX(t: XT): Tensor {
  if (t.dtype === 'bool') return fromTypedArray(Uint8Array.from(t.data), t.shape, 'bool');
  if (t.dtype === 'int32') return fromTypedArray(Int32Array.from(t.data), t.shape, 'int32');
  return fromTypedArray(Float32Array.from(t.data), t.shape, 'float32');
}

type Run = (m: Module, ins: Tensor[]) => Tensor;
const plain: Run = (m, [x]) => m.forward(x!);
const flatCat = (ts: (Tensor | null)[]) => cat(ts.map((t) => t!.reshape([-1])), 0);

function makeLayer(name: string): [Module, Run] {
  switch (name) {
    case 'conv1d':
      return [new Conv1d(4, 6, 3, { stride: 2, padding: 1, dilation: 2, groups: 2 }), plain];
    case 'conv1d_unbatched':
      return [new Conv1d(3, 2, 4, { bias: false }), plain];
    case 'conv_transpose2d':
      return [new ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), plain];
    case 'conv_transpose2d_dil':
      return [new ConvTranspose2d(3, 2, [2, 3], { stride: [3, 2], padding: [1, 2], dilation: [1, 2], bias: false }), plain];
    case 'conv_transpose2d_crop':
      return [new ConvTranspose2d(2, 3, 2, { padding: [2, 1] }), plain];
    case 'upsample_nearest_x2':
      return [new Upsample({ scaleFactor: 2 }), plain];
    case 'upsample_nearest_size':
      return [new Upsample({ size: [5, 7] }), plain];
    case 'upsample_nearest_x1_5':
      return [new Upsample({ scaleFactor: 1.5 }), plain];
    case 'upsample_bilinear_x2':
      return [new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false }), plain];
    case 'upsample_bilinear_size_ac':
      return [new Upsample({ size: [5, 7], mode: 'bilinear', alignCorners: true }), plain];
    case 'upsample_bilinear_down':
      return [new Upsample({ scaleFactor: 0.5, mode: 'bilinear' }), plain];
    case 'upsample_bilinear_x1_7':
      return [new Upsample({ scaleFactor: 1.7, mode: 'bilinear' }), plain];
    case 'batch_norm1d_2d':
      return [new BatchNorm1d(3, { momentum: 0.2 }), plain];
    case 'batch_norm1d_3d_cumulative':
      return [new BatchNorm1d(3, { momentum: null }), plain];
    case 'instance_norm2d_affine_track':
      return [new InstanceNorm2d(3, { affine: true, trackRunningStats: true, momentum: 0.3 }), plain];
    case 'instance_norm2d':
      return [new InstanceNorm2d(3), plain];
    case 'instance_norm2d_unbatched':
      return [new InstanceNorm2d(2, { affine: true }), plain];
    case 'embedding_padding':
      return [new Embedding(5, 4, { paddingIdx: 0 }), plain];
    case 'mha_masks':
      return [
        new MultiheadAttention(8, 2),
        (m, [q, k, v, kpm, am]) => flatCat((m as MultiheadAttention).attend(q!, k!, v!, { keyPaddingMask: kpm!, attnMask: am! })),
      ];
    case 'mha_batch_first_boolmask_heads':
      return [
        new MultiheadAttention(6, 3, { batchFirst: true, bias: false }),
        (m, [x, bm]) => flatCat((m as MultiheadAttention).attend(x!, x!, x!, { attnMask: bm!, averageAttnWeights: false })),
      ];
    case 'mha_unbatched_causal':
      return [new MultiheadAttention(4, 1), (m, [x]) => flatCat((m as MultiheadAttention).attend(x!, x!, x!, { isCausal: true }))];
    case 'silu':
      return [new SiLU(), plain];
    case 'softplus':
      return [new Softplus(), plain];
    case 'softplus_beta':
      return [new Softplus(2, 5), plain];
    case 'leaky_relu':
      return [new LeakyReLU(0.2), plain];
    case 'elu':
      return [new ELU(1.5), plain];
    case 'mish':
      return [new Mish(), plain];
    case 'hardswish':
      return [new Hardswish(), plain];
    case 'hardsigmoid':
      return [new Hardsigmoid(), plain];
    case 'logsigmoid':
      return [new LogSigmoid(), plain];
    case 'tanh':
      return [new Tanh(), plain];
    case 'sigmoid':
      return [new Sigmoid(), plain];
    default:
      throw new Error(`no layer for fixture case ${name}`);
  }
}

const EVAL_MODE = new Set(['mha_masks', 'mha_batch_first_boolmask_heads', 'mha_unbatched_causal']);

describe('issue-8 layers vs PyTorch', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const [m, run] = makeLayer(c.name);
      if (EVAL_MODE.has(c.name)) m.eval();
      expect(Object.keys(m.stateDict())).toEqual(c.state_keys);
      const problems = tidy(() => {
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(c.state)) sd[k] = toX(v);
        m.loadStateDict(sd);
        const ins = c.inputs.map((t) => {
          const x = toX(t);
          return x.dtype === 'float32' ? x.requiresGrad_() : x;
        });
        const y = run(m, ins);
        const out: (string | null)[] = [mismatch(y, c.output, FWD, 'output')];
        y.mul(toX(c.cotangent)).sum().backward();
        c.grad_inputs.forEach((g, i) => {
          if (g) out.push(mismatch(ins[i]!.grad!, g, GRAD, `grad input ${i}`));
        });
        const params = Object.fromEntries(m.namedParameters());
        expect(Object.keys(c.grad_params).sort()).toEqual(Object.keys(params).filter((k) => params[k]!.grad).sort());
        for (const [k, g] of Object.entries(c.grad_params)) out.push(mismatch(params[k]!.grad!, g, GRAD, `grad ${k}`));
        if (c.running_mean) {
          const bn = m as BatchNorm1d;
          if (c.train2_input) noGrad(() => m.forward(toX(c.train2_input!)));
          out.push(mismatch(bn.running_mean!, c.running_mean, FWD, 'running_mean'));
          out.push(mismatch(bn.running_var!, c.running_var!, FWD, 'running_var'));
          if (c.num_batches_tracked !== undefined) expect(bn.num_batches_tracked!.item()).toBe(c.num_batches_tracked);
          m.eval();
          out.push(noGrad(() => mismatch(m.forward(toX(c.eval_input!)), c.eval_output!, FWD, 'eval output')));
        }
        return out.filter((p): p is string => p !== null);
      });
      m.dispose();
      expect(problems).toEqual([]);
    });
  }
});

describe('issue-8 layers: behaviour beyond the fixtures', () => {
  it('Dropout2d zeroes whole channels, scales the rest, and is identity in eval', () => {
    const d = new Dropout2d(0.5);
    const x = ones([4, 6, 3, 3]);
    const y = d.forward(x).toArray() as number[][][][];
    let dropped = 0;
    for (const sample of y) {
      for (const ch of sample) {
        const vals = new Set(ch.flat());
        expect(vals.size).toBe(1); // one draw per channel
        const v = [...vals][0]!;
        expect([0, 2]).toContain(v);
        if (v === 0) dropped++;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(24);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => d.forward(ones([2, 3]))).toThrow(/Dropout2d: expected input/);
  });

  it('Embedding gives no gradient to the padding row and asks for int32 ids', () => {
    const e = new Embedding(4, 2, { paddingIdx: 1 });
    expect(e.weight.toArray()).toContainEqual([0, 0]);
    const ids = fromTypedArray(Int32Array.from([1, 1, 2]), [3], 'int32');
    e.forward(ids).sum().backward();
    expect(e.weight.grad!.toArray()).toEqual([[0, 0], [0, 0], [1, 1], [0, 0]]);
    expect(() => e.forward(ones([2]))).toThrow(/ids must be an int32 tensor/);
    const frozen = Embedding.fromPretrained(ones([3, 2]));
    expect(frozen.parameters()[0]!.requiresGrad).toBe(false);
    e.dispose();
    frozen.dispose();
  });

  it('checks arguments with clear errors', () => {
    expect(() => new ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding \[2, 2\] must be non-negative and smaller than either stride/);
    expect(() => new MultiheadAttention(6, 4)).toThrow(/embedDim 6 must divide by numHeads 4/);
    expect(() => new Upsample({})).toThrow(/exactly one of size and scaleFactor/);
    expect(() => new Upsample({ size: 4, mode: 'bicubic' as 'nearest' })).toThrow(/mode must be 'nearest' or 'bilinear'/);
    expect(() => new BatchNorm1d(3).forward(ones([1, 3]))).toThrow(/more than 1 value per channel/);
    expect(() => new Conv1d(3, 2, 2).forward(ones([2, 4, 5]))).toThrow(/Conv1d: expected input \[N, 3, L\]/);
    const mha = new MultiheadAttention(4, 2);
    const x = ones([3, 1, 4]);
    expect(() => mha.attend(x, x, x, { keyPaddingMask: ones([1, 2]) })).toThrow(/keyPaddingMask must be \[1, 3\]/);
    expect(mha.forward(x).shape).toEqual([3, 1, 4]);
    mha.dispose();
  });

  it('MultiheadAttention: dropout on the weights in training only, weights optional', () => {
    const mha = new MultiheadAttention(4, 2, { dropout: 0.5, batchFirst: true });
    const x = ones([2, 6, 4]);
    const [out, w] = mha.attend(x, x, x, { averageAttnWeights: false });
    expect(out.shape).toEqual([2, 6, 4]);
    const rows = w!.sum(-1).toArray() as number[][][];
    // Dropped weights make rows sum to something other than 1 in training.
    expect(rows.flat(2).some((r) => Math.abs(r - 1) > 1e-3)).toBe(true);
    mha.eval();
    const [, w2] = mha.attend(x, x, x);
    for (const r of (w2!.sum(-1).toArray() as number[][]).flat()) expect(r).toBeCloseTo(1, 5);
    expect(mha.attend(x, x, x, { needWeights: false })[1]).toBeNull();
    expect(Object.keys(mha.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    mha.dispose();
  });
});
