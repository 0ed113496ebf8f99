import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

const f32 = (n: number, shape: number[] = [n]) => T.fromTypedArray(Float32Array.from({ length: n }, (_, i) => (i % 7) - 3), shape, 'float32');
const row = (p: T.Profile, name: string, kind: T.SpanKind, phase: 'forward' | 'backward' = 'forward') => {
  const r = p.rows.find((x) => x.name === name && x.kind === kind && x.phase === phase);
  if (!r) throw new Error(`no row ${kind} ${name} ${phase} in:\n${p.table({ top: 100 })}`);
  return r;
};

describe('profile', () => {
  it('counts calls and bytes of simple primitives exactly', () => {
    const a = f32(1000);
    const b = f32(1000);
    const p = T.profile(() => {
      const s = T.add(a, b);
      const t = T.mul(s, b);
      return T.add(t, a);
    });
    expect(p.value.shape).toEqual([1000]);
    const add = row(p, 'add', 'prim');
    expect(add.calls).toBe(2);
    expect(add.bytesRead).toBe(2 * 8000);
    expect(add.bytesWritten).toBe(2 * 4000);
    expect(row(p, 'mul', 'prim').calls).toBe(1);
    expect(add.gbps).not.toBeNull();
    expect(add.gflops).toBeNull();
  });

  it('reads a broadcast operand once, and counts matmul flops', () => {
    const a = f32(12, [4, 3]);
    const b = f32(3, [3]);
    const m = f32(12, [3, 4]);
    const p = T.profile(() => [T.add(a, b), T.matmul(a, m)]);
    const add = row(p, 'add', 'prim');
    expect(add.bytesRead).toBe(48 + 12);
    expect(add.bytesWritten).toBe(48);
    const mm = row(p, 'matmul', 'prim');
    expect(mm.calls).toBe(1);
    expect(mm.flops).toBe(2 * 4 * 4 * 3);
    expect(mm.bytesWritten).toBe(4 * 4 * 4);
    expect(mm.gflops).toBeGreaterThan(0);
  });

  it('nests primitives inside composed ops, and keeps backward apart', () => {
    const x = f32(64).requiresGrad_();
    const p = T.profile(() => {
      const y = T.sum(T.sigmoid(x));
      y.backward();
      return y.item();
    });
    const op = p.events.findIndex((e) => e.kind === 'op' && e.name === 'sigmoid');
    expect(op).toBeGreaterThanOrEqual(0);
    const children = p.events.filter((e) => e.parent === op).map((e) => e.name);
    expect(children).toEqual(expect.arrayContaining(['neg', 'exp', 'reciprocal']));
    for (const e of p.events.filter((e) => e.parent === op)) expect(e.depth).toBe(p.events[op]!.depth + 1);
    // The op's self time excludes its children; its bytes include theirs.
    const opEv = p.events[op]!;
    const childDur = p.events.filter((e) => e.parent === op).reduce((a, e) => a + e.duration, 0);
    expect(opEv.self).toBeCloseTo(opEv.duration - childDur, 9);
    expect(opEv.bytesRead).toBe(p.events.filter((e) => e.parent === op).reduce((a, e) => a + e.bytesRead, 0));

    expect(row(p, 'sigmoid', 'op').calls).toBe(1);
    expect(row(p, 'exp', 'prim').calls).toBe(1);
    expect(row(p, 'autograd.backward', 'region', 'backward').calls).toBe(1);
    const g = row(p, 'sigmoid', 'grad', 'backward');
    expect(g.calls).toBe(1);
    expect(row(p, 'sum', 'grad', 'backward').calls).toBe(1);
    // sigmoid's VJP g * y * (1 - y): its primitives run in the backward phase.
    expect(row(p, 'mul', 'prim', 'backward').calls).toBeGreaterThanOrEqual(2);
    const back = p.events.find((e) => e.name === 'autograd.backward')!;
    const grads = p.events.filter((e) => e.kind === 'grad');
    for (const e of grads) expect(e.phase).toBe('backward');
    expect(grads.every((e) => e.start >= back.start && e.start + e.duration <= back.start + back.duration + 1e-9)).toBe(true);
    expect(p.table()).toContain('sigmoid');
  });

  it('labels ranges with recordFunction', () => {
    const a = f32(10);
    const p = T.profile(() => T.recordFunction('my.step', () => T.exp(T.neg(a))));
    const region = p.events.findIndex((e) => e.name === 'my.step');
    expect(p.events[region]!.kind).toBe('region');
    expect(p.events.filter((e) => e.parent === region).map((e) => e.name)).toEqual(['neg', 'exp']);
    expect(row(p, 'my.step', 'region').bytesWritten).toBe(80);
    // Outside a profile it only runs the function.
    expect(T.recordFunction('x', () => 7)).toBe(7);
    expect(() => T.recordFunction('', () => 1)).toThrow(/non-empty/);
  });

  it('profiles an async function, with async reads timed apart', async () => {
    const a = f32(100);
    const p = await T.profile(async () => {
      const y = T.add(a, a);
      const d = await y.data();
      return d.length;
    });
    expect(p.value).toBe(100);
    expect(row(p, 'add', 'prim').calls).toBe(1);
    const read = p.events.find((e) => e.name === 'read');
    expect(read?.async).toBe(true);
    expect(read?.bytesRead).toBe(400);
    expect(p.wallMs).toBeGreaterThanOrEqual(read!.duration);
  });

  it('exports a valid Chrome trace with children inside their parents', () => {
    const x = f32(32).requiresGrad_();
    const p = T.profile(() => T.sum(T.gelu(x)).backward());
    const trace = JSON.parse(JSON.stringify(p.chromeTrace())) as T.ChromeTrace;
    const xs = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(xs.length).toBe(p.events.length);
    for (const e of xs) {
      expect(typeof e.name).toBe('string');
      expect(e.ts).toBeGreaterThanOrEqual(0);
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect([1, 2]).toContain(e.tid);
    }
    let nested = 0;
    p.events.forEach((e, i) => {
      if (e.parent < 0) return;
      nested++;
      const [c, q] = [xs[i]!, xs[e.parent]!];
      // Rounded to the nanosecond: a child lies within its parent on the same thread.
      expect(c.ts!).toBeGreaterThanOrEqual(q.ts! - 0.002);
      expect(c.ts! + c.dur!).toBeLessThanOrEqual(q.ts! + q.dur! + 0.002);
      expect(c.tid).toBe(q.tid);
    });
    expect(nested).toBeGreaterThan(0);
    expect(trace.traceEvents.some((e) => e.cat === 'grad')).toBe(true);
  });

  it('states rates against a given peak, and the table names it', () => {
    const a = f32(64, [8, 8]);
    const p = T.profile(() => T.matmul(a, a), { peak: { gflops: 1e6, gbps: 1e6 } });
    const mm = row(p, 'matmul', 'prim');
    expect(mm.peakFraction).toBeCloseTo(mm.gflops! / 1e6, 12);
    expect(p.table()).toContain('against 1000000.0 GFLOP/s');
    expect(() => T.profile(() => 1, { peak: { gflops: -1 } })).toThrow(/peak.gflops must be a positive number/);
    expect(() => p.table({ top: 0 })).toThrow(/top must be a positive integer/);
  });

  it('leaves the backend untouched when it ends (no overhead path), even on errors', () => {
    const be = T.getBackend();
    const proto = Object.getPrototypeOf(be) as Record<string, unknown>;
    const a = f32(8);
    const p = T.profile(() => {
      expect(Object.hasOwn(be, 'binary')).toBe(true);
      return T.add(a, a);
    });
    for (const m of ['binary', 'unary', 'matmul', 'upload', 'read']) {
      expect(Object.hasOwn(be, m)).toBe(false);
      expect((be as unknown as Record<string, unknown>)[m]).toBe(proto[m]);
    }
    const n = p.events.length;
    T.sigmoid(a).sum().item();
    expect(p.events.length).toBe(n);
    expect(() =>
      T.profile(() => {
        T.add(a, a);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Object.hasOwn(be, 'binary')).toBe(false);
    expect(() => T.profile(() => T.profile(() => 1))).toThrow(/already running/);
    expect(Object.hasOwn(be, 'binary')).toBe(false);
  });
});

describe('startProfile', () => {
  it('records between start and stop, like profile', () => {
    const a = f32(16);
    const s = T.startProfile();
    T.exp(a);
    const p = s.stop();
    expect(p.value).toBeUndefined();
    expect(row(p, 'exp', 'prim').calls).toBe(1);
    expect(() => s.stop()).toThrow(/already stopped/);
    expect(Object.hasOwn(T.getBackend(), 'unary')).toBe(false);
  });
});

describe('primitives a backend calls from inside another', () => {
  it('nest in the trace but do not count their traffic twice', () => {
    /** A backend whose fused gelu calls two of its own primitives (as real backends do for staging). */
    class Nesting extends T.JsBackend {
      override readonly name = 'nesting';
      gelu(x: T.View): T.BufferHandle {
        this.free(this.unary('exp', x));
        return this.copy(x);
      }
    }
    const b = new Nesting();
    const x = T.fromTypedArray(new Float32Array(50), [50], 'float32', b);
    const p = T.profile(() => T.gelu(x), { backends: [b] });
    const outer = p.events.findIndex((e) => e.kind === 'prim' && e.name === 'gelu');
    expect(p.events.filter((e) => e.parent === outer).map((e) => e.name)).toEqual(['exp', 'free', 'copy']);
    expect(row(p, 'gelu', 'prim').bytesRead).toBe(200);
    expect(row(p, 'gelu', 'prim').bytesWritten).toBe(200);
    expect(row(p, 'exp', 'prim').bytesWritten).toBe(200);
    // The op holds the outer primitive's traffic only.
    expect(row(p, 'gelu', 'op').bytesRead).toBe(200);
    expect(row(p, 'gelu', 'op').bytesWritten).toBe(200);
  });
});
