/**
 * The cross-backend conformance suite: every case of {@link OP_CASES}, on random shapes,
 * layouts and values, computed on the backend under test and on the `js` reference, forward
 * and gradients, within stated tolerances. It also fails if any primitive of the Backend
 * interface was never exercised. Backend packages call {@link describeConformance}.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Backend, Tensor, TypedArray } from '@tsgrad/core';
import { OP_CASES } from './all-cases.js';
import type { InputSpec } from './cases.js';

/** Settings of one conformance run. */
export interface ConformanceOptions {
  /** Creates (or returns) the backend under test. */
  readonly backend: () => Backend | Promise<Backend>;
  /** Allowed |ours - ref| / max(1, max |ref|) for outputs (default 1e-4). */
  readonly forwardTol?: number;
  /** The same for gradients (default 5e-4). */
  readonly gradTol?: number;
  /** Random cases per op (default 12). */
  readonly numRuns?: number;
  /** Fail unless the backend implements every optional fused kernel (default false). */
  readonly requireFused?: boolean;
}

const UNARY = new Set<string>(T.UNARY_OPS);
const FUSED = new Set<string>(T.FUSED_KERNELS);
const FAMILY_METHODS = new Set(['unary', 'binary', 'compare', 'reduce', 'argReduce']);

/** Wraps a backend so that every primitive it runs is recorded in `seen` (by primitive name). */
export function recordingBackend(inner: Backend, seen: Set<string>): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const name = String(prop);
      return (...args: unknown[]) => {
        if (FAMILY_METHODS.has(name)) seen.add(String(args[0]));
        else if (T.PRIMITIVES.includes(name) || FUSED.has(name)) seen.add(name);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function hostValues(spec: InputSpec, n: number, seed: number): Float64Array {
  const g = new T.Generator(seed);
  const v = spec.values ?? 'normal';
  if (typeof v === 'object') return g.uniform(n).map((u) => Math.floor(u * v.intBelow));
  const normal = g.normal(n);
  return v === 'positive' ? normal.map((x) => Math.abs(x) + 0.5) : normal;
}

/** The leaf (what gradients are taken for) and the view of it that the op sees. */
function makeInput(spec: InputSpec, seed: number, backend: Backend): { leaf: Tensor; view: (t: Tensor) => Tensor } {
  const shape = [...spec.shape];
  const nd = shape.length;
  const dtype = spec.dtype ?? 'float32';
  const build = (s: number[]) => T.fromTypedArray(hostValues(spec, s.reduce((a, b) => a * b, 1), seed), s, dtype, backend);
  const layout = nd === 0 ? 'contiguous' : (spec.layout ?? 'contiguous');
  switch (layout) {
    case 'contiguous':
      return { leaf: build(shape), view: (t) => t };
    case 'transposed': {
      const perm = shape.map((_, i) => nd - 1 - i);
      return { leaf: build([...shape].reverse()), view: (t) => t.permute(perm) };
    }
    case 'flipped':
      return { leaf: build(shape), view: (t) => t.flip(shape.map((_, i) => i)) };
    case 'strided': {
      const wide = [...shape];
      wide[nd - 1] = shape[nd - 1]! * 2 + 1;
      return { leaf: build(wide), view: (t) => t.slice(-1, 1, undefined, 2) };
    }
    case 'broadcast':
      return { leaf: build([1, ...shape.slice(1)]), view: (t) => t.expand(shape) };
  }
}

function worst(ours: TypedArray, ref: TypedArray): { at: number; err: number; scale: number } {
  let scale = 1;
  for (const r of ref) if (Number.isFinite(r)) scale = Math.max(scale, Math.abs(r));
  let at = -1;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i]!;
    const b = ref[i]!;
    const e = Number.isNaN(a) && Number.isNaN(b) ? 0 : a === b ? 0 : Math.abs(a - b) / scale;
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { at, err, scale };
}

async function expectClose(what: string, ours: Tensor, ref: Tensor, tol: number): Promise<void> {
  expect(ours.shape, `${what}: shape`).toEqual(ref.shape);
  expect(ours.dtype, `${what}: dtype`).toBe(ref.dtype);
  const a = await ours.data();
  const b = await ref.data();
  const w = worst(a, b);
  const exact = ref.dtype !== 'float32' && ref.dtype !== 'float64';
  if (exact ? w.err > 0 : !(w.err <= tol)) {
    throw new Error(`${what}: flat index ${w.at}: backend ${a[w.at]} vs js ${b[w.at]} (error ${w.err.toExponential(2)} of scale ${w.scale.toPrecision(3)}, tolerance ${exact ? 0 : tol})`);
  }
}

/** Runs one drawn case on the reference and the target; compares outputs and gradients. */
async function compareCase(specs: readonly InputSpec[], f: (...xs: Tensor[]) => Tensor, seed: number, target: Backend, reference: Backend, o: Required<Omit<ConformanceOptions, 'backend'>>, differentiable: boolean): Promise<void> {
  await T.tidy(async () => {
    const made = (b: Backend) => specs.map((s, i) => makeInput(s, seed + i, b));
    const refIn = made(reference);
    const tgtIn = made(target);
    const apply = (ins: typeof refIn) => (...leaves: Tensor[]) => f(...leaves.map((l, i) => ins[i]!.view(l)));
    const refOut = apply(refIn)(...refIn.map((x) => x.leaf));
    const tgtOut = apply(tgtIn)(...tgtIn.map((x) => x.leaf));
    expect(tgtOut.backend.name, 'the output stays on the backend under test').toBe(target.name);
    await expectClose('forward', tgtOut, refOut, o.forwardTol);
    const gradIdx = specs.flatMap((s, i) => ((s.dtype ?? 'float32') === 'float32' && s.grad !== false ? [i] : []));
    if (!differentiable || gradIdx.length === 0 || refOut.dtype !== 'float32') return;
    const grads = (ins: typeof refIn, b: Backend) => {
      const fixed = ins.map((x) => x.leaf);
      const g = (...vs: Tensor[]) => {
        const all = [...fixed];
        gradIdx.forEach((k, j) => (all[k] = vs[j]!));
        return apply(ins)(...all);
      };
      const [y, back] = T.vjp(g, ...gradIdx.map((k) => fixed[k]!));
      const cot = T.fromTypedArray(new T.Generator(seed + 101).normal(y.size), y.shape, 'float32', b);
      return back(cot);
    };
    const refG = grads(refIn, reference);
    const tgtG = grads(tgtIn, target);
    for (let j = 0; j < gradIdx.length; j++) await expectClose(`gradient of input ${gradIdx[j]}`, tgtG[j]!, refG[j]!, o.gradTol);
  });
}

/**
 * Declares the conformance tests for a backend: one test per op family (random cases,
 * forward and gradients against `js`), then a test that every primitive was exercised.
 */
export function describeConformance(label: string, opts: ConformanceOptions): void {
  const o = { forwardTol: opts.forwardTol ?? 1e-4, gradTol: opts.gradTol ?? 5e-4, numRuns: opts.numRuns ?? 12, requireFused: opts.requireFused ?? false };
  describe(`${label}: every op matches the js reference`, () => {
    const seen = new Set<string>();
    let target: Backend;
    let reference: Backend;
    let initError: unknown = null;
    beforeAll(async () => {
      // A failure here must fail the tests, not skip them: keep it and rethrow in each.
      try {
        target = recordingBackend(await opts.backend(), seen);
        reference = await T.initBackend('js');
      } catch (e) {
        initError = e;
      }
    });
    it('the backend initialises', () => {
      if (initError) throw initError;
    });
    for (const c of OP_CASES) {
      it(c.name, async () => {
        if (initError) throw initError;
        await fc.assert(
          fc.asyncProperty(c.draw, fc.integer({ min: 0, max: 1e6 }), (d, seed) => compareCase(d.inputs, d.f, seed, target, reference, o, c.differentiable ?? true)),
          { numRuns: o.numRuns },
        );
      });
    }
    it('exercised every primitive of the Backend interface', () => {
      const missing = T.PRIMITIVES.filter((p) => !seen.has(p));
      expect(missing, `primitives never called: ${missing.join(', ')}`).toEqual([]);
      expect([...seen].filter((s) => !T.PRIMITIVES.includes(s) && !UNARY.has(s) && !FUSED.has(s))).toEqual([]);
    });
    it('exercised every fused kernel the backend has', () => {
      const has = T.FUSED_KERNELS.filter((k) => typeof target[k] === 'function');
      if (o.requireFused) expect(has, 'fused kernels implemented').toEqual([...T.FUSED_KERNELS]);
      const missing = has.filter((k) => !seen.has(k));
      expect(missing, `fused kernels never called: ${missing.join(', ')}`).toEqual([]);
    });
  });
}
