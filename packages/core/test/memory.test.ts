/** Deterministic memory: scopes, dispose, and a training loop whose memory stays flat. */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

const live = () => T.memory().backends['js']!;

describe('memory', () => {
  it('1,000 training steps of a small convnet hold live tensors and bytes flat', () => {
    const g = new T.Generator(3);
    const params = [
      T.mul(T.randn([4, 1, 3, 3], { generator: g }), 0.3),
      T.zeros([4]),
      T.mul(T.randn([4, 4 * 4 * 4], { generator: g }), 0.1),
      T.zeros([4]),
    ].map((p) => p.requiresGrad_());
    const [cw, cb, fw, fb] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor];
    const x = T.randn([8, 1, 8, 8], { generator: g });
    const y = T.randint(0, 4, [8], { generator: g });
    const step = () =>
      T.tidy(() => {
        const h = T.maxPool2d(T.gelu(T.conv2d(x, cw, cb, { padding: 1 })), 2);
        const logits = T.add(T.matmul(h.flatten(1), fw.T), fb);
        const loss = T.crossEntropy(logits, y, { labelSmoothing: 0.1 });
        loss.backward();
        T.noGrad(() => {
          for (const p of params) {
            p.assign(T.sub(p, T.mul(p.grad!, 0.05)));
            p.zeroGrad();
          }
        });
        return loss.item();
      });
    const first = step();
    for (let i = 0; i < 9; i++) step();
    const after10 = live();
    let last = first;
    for (let i = 0; i < 990; i++) last = step();
    const after1000 = live();
    expect(after1000.tensors).toBe(after10.tensors);
    expect(after1000.bytes).toBe(after10.bytes);
    expect(after1000.buffers).toBe(after10.buffers);
    expect(last).toBeLessThan(first); // it did learn
  });

  it('tidy disposes what it does not return, and returned tensors survive', () => {
    const before = live();
    const kept = T.tidy(() => {
      const a = T.ones([10]);
      const b = T.mul(a, 2);
      T.add(b, 1);
      return { out: [T.sum(b)] };
    });
    expect(kept.out[0]!.item()).toBe(20);
    expect(live().tensors).toBe(before.tensors + 1);
    kept.out[0]!.dispose();
    expect(live()).toEqual(before);
  });

  it('async tidy keeps ownership across await, and concurrent scopes do not mix', async () => {
    const before = live();
    const run = (n: number) =>
      T.tidy(async () => {
        const a = T.full([n], n);
        await new Promise((r) => setTimeout(r, 5));
        const b = T.mul(a, 2);
        await Promise.resolve();
        T.add(b, 1); // garbage
        return T.sum(b);
      });
    const [x, y] = await Promise.all([run(3), run(5)]);
    expect(x.item()).toBe(18);
    expect(y.item()).toBe(50);
    expect(live().tensors).toBe(before.tensors + 2);
    T.dispose([x, y]);
    expect(live()).toEqual(before);
  });

  it('keep() takes a tensor out of its scope; dispose() frees storage with the last view', () => {
    const before = live();
    const k = T.tidy(() => {
      const a = T.ones([4]);
      T.keep(a);
      return undefined;
    });
    expect(k).toBeUndefined();
    expect(live().tensors).toBe(before.tensors + 1);
    const base = T.ones([100]);
    const view = base.reshape([10, 10]);
    base.dispose();
    expect(T.tidy(() => view.sum().item())).toBe(100); // storage lives while a view does
    view.dispose();
    const left = live();
    expect(left.tensors).toBe(before.tensors + 1);
    expect(left.bytes).toBe(before.bytes + 16);
  });

  it('using / Symbol.dispose frees a tensor at the end of its block', () => {
    const before = live();
    {
      const t = T.ones([8]);
      t[Symbol.dispose]();
      expect(t.isDisposed).toBe(true);
    }
    expect(live()).toEqual(before);
  });

  it('backward frees intermediate gradients as soon as they are used', () => {
    T.tidy(() => {
      const x = T.randn([16, 16]).requiresGrad_();
      let h = x;
      for (let i = 0; i < 20; i++) h = T.tanh(T.mul(h, 1.01));
      const loss = T.sum(h);
      const beforeBackward = live().tensors;
      loss.backward();
      // Only x.grad is new: every other gradient made on the way was freed.
      expect(live().tensors).toBe(beforeBackward + 1);
      return undefined;
    });
  });

  it('memory() reports tensors and bytes per backend', () => {
    const before = live();
    const t = T.zeros([256], { dtype: 'float64' });
    const m = T.memory();
    expect(m.backends['js']!.bytes).toBe(before.bytes + 2048);
    expect(m.backends['js']!.tensors).toBe(before.tensors + 1);
    expect(m.tensors).toBeGreaterThanOrEqual(m.backends['js']!.tensors);
    t.dispose();
  });
});

describe('peak memory', () => {
  it('tracks the most bytes held at once since resetPeakMemory()', () => {
    T.resetPeakMemory();
    const base = live().bytes;
    T.tidy(() => {
      T.zeros([1000]); // 4,000 bytes
      T.zeros([500]); // 2,000 more
      return undefined;
    });
    const m = live();
    expect(m.bytes).toBe(base);
    expect(m.peakBytes).toBe(base + 6000);
    T.resetPeakMemory();
    expect(live().peakBytes).toBe(base);
  });
});
