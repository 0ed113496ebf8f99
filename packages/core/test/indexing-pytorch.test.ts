/**
 * Known answers from PyTorch (float64) for the indexing and linear-algebra ops: outputs and
 * gradients of `sum(output * cotangent)` from `fixtures/indexing/known.json` (made by
 * `fixtures/indexing/gen.py`, which documents the inputs), plus the errors on bad input.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';

interface Known {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}
interface KnownCase {
  readonly shapes: readonly (readonly number[])[];
  readonly output: Known;
  readonly grads: readonly Known[];
}
const file = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/indexing/known.json', import.meta.url)), 'utf8')) as { cases: Record<string, KnownCase> };

const B = (rows: T.NestedArray): Tensor => T.tensor(rows, { dtype: 'bool' });
const I = (rows: T.NestedArray): Tensor => T.tensor(rows, { dtype: 'int32' });
const { sl, ellipsis } = T;

/** The same cases as gen.py, by name, in tsgrad. */
const CASES: Record<string, (...xs: Tensor[]) => Tensor> = {
  select: (x) => T.select(x, 1, -2),
  'narrow negative start': (x) => T.narrow(x, 1, -3, 2),
  'maskedFill tensor value': (x, v) => x.maskedFill(B([true, false, true]), v!),
  'maskedFill broadcast output': (x) => T.maskedFill(x, B([[true, false, false], [false, true, true]]), 1.5),
  'maskedSelect broadcast': (x) => T.maskedSelect(x, B([[true, false, true], [false, true, true]])),
  'roll flattened': (x) => T.roll(x, 4),
  'roll dims': (x) => T.roll(x, [1, -5], [0, 2]),
  repeat: (x) => x.repeat(2, 1, 3),
  tile: (x) => T.tile(x, [2]),
  'tril batched offset 1': (x) => T.tril(x, 1),
  'triu offset -1': (x) => T.triu(x, -1),
  'diag 1-D offset -1': (x) => T.diag(x, -1),
  'diag 2-D offset 1': (x) => T.diag(x, 1),
  'diagonal offset 1 dims (2, 0)': (x) => T.diagonal(x, 1, 2, 0),
  'diagEmbed offset 1 dims (0, 2)': (x) => T.diagEmbed(x, 1, 0, 2),
  unflatten: (x) => T.unflatten(x, 1, [3, -1]),
  movedim: (x) => T.movedim(x, [0, 1], [2, 0]),
  chunk: (x) => T.cat(T.chunk(x, 3).map((p, i) => T.mul(p, i + 1))),
  unbind: (x) => T.stack(T.unbind(x, 1).map((p, i) => T.mul(p, i + 1))),
  'index [:, 3, None, ..., 1:-1:2]': (x) => T.index(x, [sl(), 3, null, ellipsis, sl(1, -1, 2)]),
  'index [::-1, 4:0:-2]': (x) => T.index(x, '::-1, 4:0:-2'),
  'index [1:3, None, -1]': (x) => x.index(['1:3', null, -1]),
  'index [[0, 2], :, [1, -1]]': (x) => T.index(x, [[0, 2], ':', [1, -1]]),
  'index [:, [[0, 1], [2, 0]], [1, 3]]': (x) => T.index(x, [sl(), I([[0, 1], [2, 0]]), I([1, 3])]),
  'index [0, :, [1, 2]]': (x) => T.index(x, [0, sl(), [1, 2]]),
  'index [mask]': (x) => T.index(x, [B([[true, false, true, false], [false, false, true, true], [true, true, false, false]])]),
  'index [..., [1, 0, 1]]': (x) => T.index(x, ['...', I([1, 0, 1])]),
  'index [1, mask]': (x) => T.index(x, [1, [true, false, true]]),
  'einsum ij,jk->ik': (a, b) => T.einsum('ij,jk->ik', a, b!),
  'einsum ii (trace)': (a) => T.einsum('ii', a),
  'einsum ii->i': (a) => T.einsum('ii->i', a),
  'einsum bij,bjk->bik': (a, b) => T.einsum('bij,bjk->bik', a, b!),
  'einsum ...ij,...jk broadcast': (a, b) => T.einsum('...ij,...jk', a, b!),
  'einsum i,j->ij': (a, b) => T.einsum('i,j->ij', a, b!),
  'einsum implicit order Bai': (a) => T.einsum('Bai', a),
  'einsum bn,anm,bm->ba': (a, b, c) => T.einsum('bn,anm,bm->ba', a, b!, c!),
  'einsum ij,ij,ij->': (a, b, c) => T.einsum('ij,ij,ij->', a, b!, c!),
  'einsum ij,jk size-1 broadcast': (a, b) => T.einsum('ij,jk', a, b!),
  'einsum i...->...': (a) => T.einsum('i...->...', a),
  'einsum iij->ji': (a) => T.einsum('iij->ji', a),
  'einsum ij...,jk->ik (ellipsis summed)': (a, b) => T.einsum('ij...,jk->ik', a, b!),
  dot: (a, b) => a.dot(b!),
  outer: (a, b) => T.outer(a, b!),
  mv: (a, b) => a.mv(b!),
  bmm: (a, b) => T.bmm(a, b!),
  'addmm beta 0.5 alpha 2': (i, a, b) => T.addmm(i, a!, b!, { beta: 0.5, alpha: 2 }),
  'baddbmm beta 0 alpha -1': (i, a, b) => i.baddbmm(a!, b!, { beta: 0, alpha: -1 }),
  trace: (a) => a.trace(),
  'kron 1-D by 2-D': (a, b) => T.kron(a, b!),
  'kron 2-D by 2-D': (a, b) => a.kron(b!),
};

function input(shape: readonly number[], k: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return T.fromTypedArray(Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.7 * k + 0.1)), shape, 'float64');
}

function expectKnown(what: string, t: Tensor, want: Known): void {
  expect(t.shape, `${what}: shape`).toEqual(want.shape);
  const got = t.dataSync();
  want.data.forEach((w, i) => {
    if (!(Math.abs(got[i]! - w) <= 1e-12 * Math.max(1, Math.abs(w)))) throw new Error(`${what}: flat index ${i}: ours ${got[i]}, torch ${w}`);
  });
}

describe('indexing and linear algebra: known answers from PyTorch (float64)', () => {
  it('covers every fixture case', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(file.cases).sort());
  });
  for (const [name, c] of Object.entries(file.cases)) {
    it(name, () => {
      T.tidy(() => {
        const f = CASES[name]!;
        const xs = c.shapes.map((s, k) => input(s, k));
        const [y, back] = T.vjp(f, ...xs);
        expectKnown('output', y, c.output);
        const cot = T.fromTypedArray(Float64Array.from({ length: y.size }, (_, i) => Math.cos(0.37 * i + 0.2)), y.shape, 'float64');
        back(cot).forEach((g, k) => expectKnown(`gradient of input ${k}`, g, c.grads[k]!));
      });
    });
  }
});

describe('indexing: semantics beside the known answers', () => {
  const x = T.arange(24).reshape(2, 3, 4);
  const arr = (t: Tensor) => t.toArray();

  it('views stay views: select, diagonal, index with basic entries share storage', () => {
    expect(T.select(x, 1, 0).storage).toBe(x.storage);
    expect(T.diagonal(x, 0, 1, 2).storage).toBe(x.storage);
    expect(T.index(x, [sl(), -1, sl(null, null, 2)]).storage).toBe(x.storage);
    expect(arr(T.index(x, [sl(), -1, sl(null, null, 2)]))).toEqual([[8, 10], [20, 22]]);
  });
  it('index follows Python slices: clamped bounds, empty ranges, negative steps', () => {
    const v = T.arange(6);
    expect(arr(T.index(v, ['-100:100']))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(arr(T.index(v, ['4:2']))).toEqual([]);
    expect(arr(T.index(v, ['::-2']))).toEqual([5, 3, 1]);
    expect(arr(T.index(v, ['-2::-1']))).toEqual([4, 3, 2, 1, 0]);
    expect(arr(T.index(v, ['10:-10:-3']))).toEqual([5, 2]);
    expect(arr(T.index(v, [sl(1, null, 2)]))).toEqual([1, 3, 5]);
    expect(T.index(x, '..., None').shape).toEqual([2, 3, 4, 1]);
    expect(T.index(x, [null, ellipsis, null, 0]).shape).toEqual([1, 2, 3, 1]);
    expect(T.index(x, []).shape).toEqual([2, 3, 4]);
  });
  it('index with int tensors, negative positions and empty index lists', () => {
    expect(arr(T.index(x, [I([-1, 0]), 2, 3]))).toEqual([23, 11]);
    expect(T.index(x, [I([]), sl()]).shape).toEqual([0, 3, 4]);
    expect(arr(T.index(T.arange(5), [B([false, false, false, false, false])]))).toEqual([]);
  });
  it('chunk sizes follow ceil(len / chunks), possibly fewer pieces', () => {
    expect(T.chunk(T.arange(5), 4).map((t) => t.shape[0])).toEqual([2, 2, 1]);
    expect(T.chunk(T.arange(6), 4).map((t) => t.shape[0])).toEqual([2, 2, 2]);
    expect(T.chunk(T.zeros([0]), 3).map((t) => t.shape[0])).toEqual([0, 0, 0]);
  });
  it('repeat and tile of int and bool tensors, and zero repeats', () => {
    expect(arr(T.arange(3).repeat(2))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(T.ones([2, 3]).repeat(0, 1).shape).toEqual([0, 3]);
    expect(arr(T.tile(B([true, false]), [2, 2]))).toEqual([[true, false, true, false], [true, false, true, false]]);
  });
  it('tril / triu keep int and bool dtypes, and mask NaN above the diagonal', () => {
    expect(arr(T.triu(T.ones([2, 2], { dtype: 'bool' }), 1))).toEqual([[false, true], [false, false]]);
    expect(arr(T.tril(T.tensor([[1, NaN], [2, 3]])))).toEqual([[1, 0], [2, 3]]);
  });
  it('maskedFill fills with NaN and infinities as asked, and keeps the dtype', () => {
    expect(arr(T.maskedFill(T.tensor([1, 2]), B([false, true]), -Infinity))).toEqual([1, -Infinity]);
    expect(T.maskedFill(T.arange(3), B([true, false, true]), 7).dtype).toBe('int32');
  });
  it('maskedSelectAsync gives what maskedSelect gives', async () => {
    const m = T.gt(T.sin(T.arange(0, 24, 1, { dtype: 'float32' })), 0).reshape(2, 3, 4);
    const a = await T.maskedSelectAsync(x, m);
    expect(arr(a)).toEqual(arr(T.maskedSelect(x, m)));
  });
  it('roll by the length (and by 0) is the identity; roll of an empty dim too', () => {
    expect(arr(T.roll(x, [4, 0, -3], [2, 0, 1]))).toEqual(arr(x));
    expect(T.roll(T.zeros([0, 2]), 3, 0).shape).toEqual([0, 2]);
  });
  it('einsum is matmul where it should be, and takes spaces', () => {
    const a = T.randn([2, 3]);
    const b = T.randn([3, 4]);
    const d = T.sub(T.einsum(' ij , jk -> ik ', a, b), T.matmul(a, b)).abs().max().item();
    expect(d).toBeLessThan(1e-6);
  });
  it('index places advanced-index dims as PyTorch (integers are basic indexing)', () => {
    const y = T.zeros([3, 4, 5, 6]);
    expect(T.index(y, [[0, 2], 1, ':', [1, 2]]).shape).toEqual([2, 5]);
    expect(T.index(y, [':', [0, 1], 0, [1, 2]]).shape).toEqual([3, 2]);
    expect(T.index(y, [[0, 1], 0, [1, 2]]).shape).toEqual([2, 6]);
    expect(T.index(y, [0, [0, 1], ':', [1, 2]]).shape).toEqual([2, 5]);
  });
  it('narrow and flatten follow torch: negative start, empty ends, 0-d flatten', () => {
    const v = T.arange(6).reshape(2, 3);
    expect(arr(T.narrow(v, 1, -2, 2))).toEqual([[1, 2], [4, 5]]);
    expect(T.narrow(v, 1, 3, 0).shape).toEqual([2, 0]);
    expect(() => T.narrow(v, 1, 4, 0)).toThrow(/narrow: start 4 and length 0 do not fit dimension 1 of length 3/);
    expect(() => T.narrow(v, 1, 1, 3)).toThrow(/narrow: start 1 and length 3 do not fit/);
    expect(T.flatten(T.tensor(2)).shape).toEqual([1]);
    expect(T.unflatten(T.flatten(x, 1), 1, [3, 4]).shape).toEqual([2, 3, 4]);
  });
  it('on a backend without synchronous reads: maskedSelect and mask indexing point to the async way; positions still work', async () => {
    const inner = new T.JsBackend();
    const noSync = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'canReadSync') return false;
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const v = T.fromTypedArray(Float32Array.of(1, 2, 3, 4), [2, 2], 'float32', noSync);
    const m = T.fromTypedArray(Uint8Array.of(1, 0, 0, 1), [2, 2], 'bool', noSync);
    expect(() => T.maskedSelect(v, m)).toThrow(/maskedSelect: the output's length depends on the mask's values, and backend 'js' cannot read them synchronously; use await maskedSelectAsync\(x, mask\)/);
    expect(() => T.index(v, [m])).toThrow(/index: a bool mask index needs its values, and backend 'js' cannot read synchronously/);
    expect([...(await (await T.maskedSelectAsync(v, m)).data())]).toEqual([1, 4]);
    const rows = T.fromTypedArray(Int32Array.of(-1, 0), [2], 'int32', noSync);
    expect([...(await T.index(v, [rows, 1]).data())]).toEqual([4, 2]);
  });
  it('leaves no tensor or buffer behind after a tidy with forward and backward', () => {
    const before = T.memory().backends['js']!;
    T.tidy(() => {
      const w = T.randn([3, 4, 5]).requiresGrad_();
      const v = T.tensor(2).requiresGrad_();
      const ys = [
        T.index(w, [[0, 2], ':', [1, -1]]),
        T.index(w, [T.gt(w.detach(), 0)]),
        T.index(w, '::-1, None, 1:3'),
        T.maskedSelect(w, T.lt(w.detach(), 0)),
        T.maskedFill(w, T.gt(w.detach(), 1), v),
        T.tril(w, 1),
        T.roll(w, [1, 2], [0, 2]),
        w.repeat(2, 1, 1, 2),
        T.diagEmbed(T.diagonal(w, 1, 1, 2)),
        T.einsum('ijk,ilk->jl', w, w),
        T.baddbmm(T.bmm(w, T.movedim(w, 1, 2)), w, T.movedim(w, 1, 2), { beta: 0.5 }),
      ];
      T.stack(ys.map((y) => y.sum())).sum().backward();
      expect(v.grad!.item()).toBe(T.gt(w.detach(), 1).sum().item());
      w.zeroGrad(); // gradients outlive the scope, by design
      v.zeroGrad();
    });
    const after = T.memory().backends['js']!;
    expect([after.tensors, after.buffers, after.bytes]).toEqual([before.tensors, before.buffers, before.bytes]);
  });
  it('diagonal and diagEmbed are adjoint: diagonal(diagEmbed(v)) is v', () => {
    const v = T.arange(6).reshape(2, 3);
    expect(arr(T.diagonal(T.diagEmbed(v, -1, 2, 0), -1, 2, 0))).toEqual(arr(v));
    expect(T.diagonal(T.zeros([2, 3]), 5).shape).toEqual([0]);
  });
});

describe('indexing and linear algebra: errors name the op and the problem', () => {
  const f = (...s: number[]) => T.zeros(s);
  it('indexing ops', () => {
    expect(() => T.select(f(2, 3), 1, 3)).toThrow(/select: index 3 is out of range for dimension 1 of size 3/);
    expect(() => T.select(f(2, 3), 2, 0)).toThrow(/select: axis 2 is out of range/);
    expect(() => T.narrow(f(2, 3), 1, -4, 1)).toThrow(/narrow: start -4 and length 1 do not fit/);
    expect(() => T.maskedFill(f(3), f(3), 1)).toThrow(/maskedFill: mask must be a bool tensor, got float32/);
    expect(() => T.maskedFill(f(3), B([true, false, true]), f(2))).toThrow(/maskedFill: value must be a number or a 0-d tensor, got a tensor of shape \[2\]/);
    expect(() => T.maskedFill(f(3), B([true, false]), 1)).toThrow(/maskedFill: shapes \[3\] and \[2\] cannot be broadcast/);
    expect(() => T.maskedSelect(f(3), I([1, 0, 1]))).toThrow(/maskedSelect: mask must be a bool tensor, got int32/);
    expect(() => T.roll(f(2, 3), [1, 2], [0])).toThrow(/roll: shifts and dims must align: 2 shifts \[1, 2\] for 1 dims \[0\]/);
    expect(() => T.roll(f(2, 3), [1, 2])).toThrow(/roll: without dims, shifts must be a single number/);
    expect(() => f(2, 3).repeat(2)).toThrow(/repeat: the number of repeat sizes \(1, \[2\]\) cannot be smaller than the number of dimensions of the tensor \(2/);
    expect(() => f(2, 3).repeat(2, -1)).toThrow(/repeat: sizes must be non-negative integers/);
    expect(() => T.tril(f(3))).toThrow(/tril: input must have at least 2 dimensions, got shape \[3\]/);
    expect(() => T.triu(f(3, 3), 0.5)).toThrow(/triu: diagonal must be an integer/);
    expect(() => T.diag(f(2, 2, 2))).toThrow(/diag: expected a 1-D or 2-D tensor, got shape \[2, 2, 2\]/);
    expect(() => T.diagonal(f(2, 2), 0, 1, -1)).toThrow(/diagonal: dim1 and dim2 must be different dims, both are 1/);
    expect(() => T.unflatten(f(2, 6), 1, [4, -1])).toThrow(/unflatten: sizes \[4, -1\] don't multiply up to the size of dim 1 \(6\)/);
    expect(() => T.unflatten(f(2, 6), 1, [-1, -1])).toThrow(/unflatten: only one size can be -1/);
    expect(() => T.movedim(f(2, 3, 4), [0, 0], [1, 2])).toThrow(/movedim: repeated dim in source \[0, 0\]/);
    expect(() => T.movedim(f(2, 3, 4), [0, 1], [2])).toThrow(/movedim: source \[0, 1\] and destination \[2\] must name the same number of dims/);
    expect(() => T.chunk(f(6), 0)).toThrow(/chunk: chunks must be a positive integer, got 0/);
    expect(() => T.unbind(T.zeros([]))).toThrow(/unbind: cannot unbind a 0-d tensor/);
  });
  it('index', () => {
    const x = f(3, 4, 5);
    expect(() => T.index(x, [3])).toThrow(/index: index 3 is out of bounds for dimension 0 with size 3/);
    expect(() => T.index(x, [sl(), I([0, 4])])).toThrow(/index: index 4 is out of bounds for dimension 1 with size 4/);
    expect(() => T.index(x, [0, 0, 0, 0])).toThrow(/index: too many indices for a tensor of 3 dimensions \(shape \[3, 4, 5\]\): the spec names 4/);
    expect(() => T.index(x, ['...', 0, '...'])).toThrow(/index: an index can only have a single ellipsis/);
    expect(() => T.index(x, ['::0'])).toThrow(/index: slice step cannot be zero/);
    expect(() => T.index(x, ['1:x'])).toThrow(/index: 'x' in slice '1:x' is not an integer/);
    expect(() => T.index(x, ['foo'])).toThrow(/index: cannot read 'foo' as an index/);
    expect(() => T.index(x, [f(2)])).toThrow(/index: a tensor index must be int32 \(positions\) or bool \(a mask\), got float32/);
    expect(() => T.index(x, [I([0, 1]), I([0, 1, 2])])).toThrow(/index \(index tensors\): shapes \[2\] and \[3\] cannot be broadcast/);
    expect(() => T.index(x, [B([true, false, true, true])])).toThrow(/index: the shape of the mask \[4\] at index 0 does not match the shape of the indexed tensor \[3, 4, 5\] at index 0/);
    expect(() => T.index(x, [0.5])).toThrow(/index: an integer index must be an integer, got 0.5/);
    expect(() => T.index(x, 3 as unknown as T.IndexSpec)).toThrow(/index: the spec must be an array of entries \(wrap a single entry/);
  });
  it('einsum', () => {
    expect(() => T.einsum('ij,jk', f(2, 3), f(4, 5))).toThrow(/einsum: subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3/);
    expect(() => T.einsum('ii', f(2, 3))).toThrow(/einsum: subscript i is repeated for operand 0 but the sizes don't match, 2 != 3/);
    expect(() => T.einsum('ij,jk->ii', f(2, 3), f(3, 5))).toThrow(/einsum: output subscript i appears more than once in the output/);
    expect(() => T.einsum('ij,jk->iz', f(2, 3), f(3, 5))).toThrow(/einsum: output subscript z does not appear in the equation for any input operand/);
    expect(() => T.einsum('ijk', f(2, 3))).toThrow(/einsum: operand 0 \('ijk'\) has 3 subscripts but the tensor has 2 dimensions \(shape \[2, 3\]\) and no ellipsis was given/);
    expect(() => T.einsum('ij,jk', f(2, 3))).toThrow(/einsum: the equation 'ij,jk' has 2 operands but 1 tensor was given/);
    expect(() => T.einsum('i1', f(2, 3))).toThrow(/einsum: invalid subscript '1'/);
    expect(() => T.einsum('...i,...i', f(2, 3), f(4, 3))).toThrow(/einsum: ellipsis dimension -1 of operand 1 has size 4/);
  });
  it('linear algebra', () => {
    expect(() => T.bmm(f(2, 3), f(2, 3, 4))).toThrow(/bmm: batch1 must be a 3-D tensor, got shape \[2, 3\]/);
    expect(() => T.bmm(f(2, 3, 4), f(2, 5, 4))).toThrow(/bmm: expected batch2 of shape \[2, 4, \*\] for batch1 \[2, 3, 4\], got \[2, 5, 4\]/);
    expect(() => T.bmm(f(2, 3, 4), f(1, 4, 4))).toThrow(/bmm: expected batch2 of shape \[2, 4, \*\]/);
    expect(() => T.dot(f(2, 3), f(3))).toThrow(/dot: 1-D tensors expected, got shapes \[2, 3\] and \[3\]/);
    expect(() => T.dot(f(2), f(3))).toThrow(/dot: the tensors must have the same number of elements, got 2 and 3/);
    expect(() => T.mv(f(2, 3), f(4))).toThrow(/mv: size mismatch: matrix \[2, 3\] and vector \[4\]/);
    expect(() => T.addmm(f(3), f(2, 3), f(4, 3))).toThrow(/addmm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)/);
    expect(() => T.addmm(f(4), f(2, 3), f(3, 3))).toThrow(/addmm: shapes \[4\] and \[2, 3\] cannot be broadcast/);
    expect(() => T.addmm(f(2, 2, 3), f(2, 3), f(3, 3))).toThrow(/addmm: input of shape \[2, 2, 3\] does not broadcast to the product's shape \[2, 3\]/);
    expect(() => T.trace(f(2, 3, 3))).toThrow(/trace: the input must be a 2-D tensor, got shape \[2, 3, 3\]/);
    expect(() => T.outer(f(2, 2), f(2))).toThrow(/outer: 1-D tensors expected/);
  });
});
