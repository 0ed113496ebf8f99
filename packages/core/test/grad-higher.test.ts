/** Gradients of gradients: the backward pass is itself differentiable (createGraph). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, leaf, positive, shapeArb } from './helpers/gradcheck.js';

/** `x -> <grad f(x), r>`: its gradient is the Hessian-vector product, checked by finite differences. */
function gradDot(f: (x: Tensor) => Tensor, r: Tensor): (x: Tensor) => Tensor {
  return (x) => T.sum(T.mul(T.grad((z) => T.sum(f(z)))(x)[0]!, r));
}

const ops: [string, (x: Tensor) => Tensor, ((v: number) => number)?][] = [
  ['tanh', T.tanh],
  ['exp * sin', (x) => T.mul(T.exp(x), T.sin(x))],
  ['log', T.log, positive],
  ['sigmoid', T.sigmoid],
  ['gelu', (x) => T.gelu(x)],
  ['softmax', (x) => T.mul(T.softmax(x, -1), T.arange(x.shape[x.ndim - 1]!, undefined, 1, { dtype: 'float64' }))],
  ['logsumexp', (x) => T.logsumexp(x, -1)],
  ['layerNorm', (x) => T.pow(T.layerNorm(x, [x.shape[x.ndim - 1]!]), 3)],
  ['matmul with itself', (x) => T.matmul(x, x.T)],
  ['x^3 via pow', (x) => T.pow(x, 3)],
];

describe('second derivatives match finite differences of the first', () => {
  for (const [name, f, map] of ops) {
    it(name, () => {
      fc.assert(
        fc.property(shapeArb(2, 2, 3), fc.integer(), (shape, seed) => {
          const x = leaf(shape, seed, map);
          const r = leaf(shape, seed + 1);
          checkGrad(gradDot(f, r), [x], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('conv2d (gradient of the input gradient with respect to the weight)', () => {
    const x = leaf([1, 2, 4, 4], 1);
    const r = leaf([1, 2, 4, 4], 2);
    const w = leaf([2, 1, 3, 3], 3);
    checkGrad((wi) => T.sum(T.mul(T.grad((xi) => T.sum(T.square(T.conv2d(xi, wi, null, { padding: 1, groups: 2 }))))(x)[0]!, r)), [w]);
  });

  it('d^2/dx^2 of x^3 is 6x; d^3/dx^3 is 6', () => {
    const f = (x: Tensor) => T.sum(T.pow(x, 3));
    const d1 = (x: Tensor) => T.sum(T.grad(f)(x)[0]!);
    const d2 = (x: Tensor) => T.sum(T.grad(d1)(x)[0]!);
    const x = T.tensor([1, -2, 0.5], { dtype: 'float64' });
    expect(T.grad(d1)(x)[0]!.toArray()).toEqual([6, -12, 3]);
    expect(T.grad(d2)(x)[0]!.toArray()).toEqual([6, 6, 6]);
  });

  it('backward with createGraph leaves a differentiable .grad', () => {
    const x = T.tensor([0.5, 1.5], { dtype: 'float64' }).requiresGrad_();
    T.sum(T.pow(x, 4)).backward(undefined, { createGraph: true });
    const g = x.grad!; // 4x^3, still in the graph
    x.grad = null;
    T.sum(g).backward();
    expect(x.grad!.toArray()).toEqual([12 * 0.25, 12 * 2.25]);
  });
});

describe('second derivatives without a final sum', () => {
  it('gradients(createGraph) of a scalar op chain can be differentiated again', () => {
    const x = T.tensor(3, { dtype: 'float64' }).requiresGrad_();
    const [d1] = T.gradients(T.pow(x, 3), [x], undefined, { createGraph: true });
    expect(d1!.item()).toBe(27);
    const [d2] = T.gradients(d1!, [x]);
    expect(d2!.item()).toBe(18);
    const y = T.mul(T.mul(x, x), x);
    y.backward(undefined, { createGraph: true });
    const g = x.grad!;
    x.grad = null;
    g.backward();
    expect(x.grad!.item()).toBe(18);
  });
});
