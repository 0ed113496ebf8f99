/**
 * The allocator (size classes, reuse from free lists, growth, the 4 GiB limit) and the
 * backend's memory accounting, ending with a short training loop whose memory must stay
 * flat: no live buffers leak and linear memory stops growing after the first steps.
 */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { backendInfo, createWasmBackend, type WasmBuffer } from '@tsgrad/wasm';
import { Arena, sizeClass, WASM32_MAX_BYTES } from '@tsgrad/wasm/internals';

describe('size classes', () => {
  it('round up by at most 25% (above the 64-byte minimum), 64-byte aligned, monotonic', () => {
    let last = 0;
    for (let b = 1; b < 5_000_000; b = Math.ceil(b * 1.07) + 1) {
      const { size, cls } = sizeClass(b);
      expect(size).toBeGreaterThanOrEqual(b);
      expect(size % 64).toBe(0);
      if (b > 64) expect(size).toBeLessThanOrEqual(Math.ceil(b * 1.25 / 64) * 64 + 64);
      expect(cls).toBeGreaterThanOrEqual(last);
      last = cls;
      // Every request of a class fits the class size.
      expect(sizeClass(size).size).toBe(size);
    }
  });
});

describe('Arena', () => {
  it('reuses a freed block of the same class and keeps distinct live blocks apart', () => {
    const a = new Arena({ shared: false, initialBytes: 1 << 20 });
    const x = a.alloc(1000);
    const y = a.alloc(1000);
    expect(y.ptr).not.toBe(x.ptr);
    expect(Math.abs(y.ptr - x.ptr)).toBeGreaterThanOrEqual(1000);
    a.release(x);
    const z = a.alloc(990); // same class
    expect(z.ptr).toBe(x.ptr);
    const s = a.stats();
    expect(s.liveBlocks).toBe(2);
    expect(s.freeBlocks).toBe(0);
    a.release(y);
    a.release(z);
    expect(a.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0, freeBlocks: 2 });
  });

  it('grows the memory when the bump pointer passes its end, keeping contents', () => {
    const a = new Arena({ shared: false, initialBytes: 1 << 16 });
    let grew = 0;
    a.onGrow = () => grew++;
    const first = a.alloc(1000);
    new Uint8Array(a.memory.buffer, first.ptr, 4).set([1, 2, 3, 4]);
    const big = a.alloc(3 << 20);
    expect(grew).toBeGreaterThan(0);
    expect(a.stats().memoryBytes).toBeGreaterThanOrEqual(big.ptr + big.size);
    expect(Array.from(new Uint8Array(a.memory.buffer, first.ptr, 4))).toEqual([1, 2, 3, 4]);
  });

  it('throws a clear error before passing the 4 GiB wasm32 limit', () => {
    const a = new Arena({ shared: false, initialBytes: 1 << 16 });
    expect(a.maxBytes).toBe(WASM32_MAX_BYTES);
    expect(() => a.alloc(5 * 2 ** 30)).toThrow(/out of memory.*past its limit of 4\.00 GiB.*wasm32 addresses at most 4 GiB/);
    // Nothing was taken by the failed request.
    expect(a.stats().liveBlocks).toBe(0);
  });

  it('honours a lower limit and says what is live', async () => {
    const b = await createWasmBackend({ threads: 1, maxMemoryBytes: 8 << 20, initialMemoryBytes: 1 << 20 });
    const keep = T.zeros([1 << 20], { backend: b }); // 4 MiB
    expect(() => T.zeros([1 << 20], { backend: b })).toThrow(/out of memory.*past its limit of 8\.0 MiB.*4\.0 MiB are in live tensors/);
    keep.dispose();
    // After freeing, the same request fits again (from the free list).
    const again = T.zeros([1 << 20], { backend: b });
    expect(again.size).toBe(1 << 20);
    again.dispose();
  });
});

describe('beyond 2 GiB', () => {
  it('keeps whole-memory views and runs kernels on buffers past the 2 GiB mark (unsigned addresses)', async () => {
    const b = await createWasmBackend({ threads: 1, initialMemoryBytes: 1 << 20 });
    const filler = b.rt.arena.alloc(2.1 * 2 ** 30); // grows the memory; pages are never touched
    const bytes = b.rt.arena.byteLength;
    expect(bytes).toBeGreaterThan(2 ** 31);
    expect(b.rt.heap.f64.length).toBe(Math.floor(bytes / 8));
    expect(b.rt.heap.f32.length).toBe(bytes / 4);
    const x = T.fromTypedArray(new Float32Array([1, -2, 3, 4.5, 5, 6, 7, 8, 9]), [9], 'float32', b);
    expect((x.storage.buffer as WasmBuffer).ptr).toBeGreaterThan(2 ** 31);
    expect(Array.from(T.mul(T.add(x, x), 0.5).dataSync())).toEqual([1, -2, 3, 4.5, 5, 6, 7, 8, 9]);
    expect(T.sum(x).item()).toBe(41.5);
    x.dispose();
    b.rt.arena.release(filler);
  });
});

describe('backend memory', () => {
  it('memory() counts live buffers and bytes; dispose returns them', async () => {
    const b = await createWasmBackend({ threads: 1 });
    const before = b.memory();
    T.tidy(() => {
      const x = T.fromTypedArray(new Float32Array(100), [10, 10], 'float32', b);
      const y = T.add(x, x);
      expect(b.memory().buffers).toBe(before.buffers + 2);
      expect(b.memory().bytes).toBe(before.bytes + 800);
      expect(y.size).toBe(100);
    });
    expect(b.memory()).toMatchObject({ buffers: before.buffers, bytes: before.bytes });
    expect(b.memory().peakBytes).toBe(before.bytes + 800);
    b.resetPeak();
    expect(b.memory().peakBytes).toBe(before.bytes);
  });

  it('a short training loop holds a flat memory line', async () => {
    const b = await createWasmBackend({ threads: 1 });
    const g = new T.Generator(3);
    const p = (shape: number[], scale: number) => T.keep(T.mul(T.randn(shape, { generator: g, backend: b }), scale).requiresGrad_());
    // A tiny ConvNeXt-like block: depthwise 7x7, layer norm (channels-last), MLP with GELU, head.
    const dw = p([8, 1, 7, 7], 0.1);
    const w1 = p([8, 32], 0.2);
    const w2 = p([32, 8], 0.2);
    const head = p([8, 10], 0.2);
    const params = [dw, w1, w2, head];
    const x = T.keep(T.randn([4, 8, 12, 12], { generator: g, backend: b }));
    const labels = T.keep(T.randint(0, 10, [4], { generator: g, backend: b }));
    const step = (): number =>
      T.tidy(() => {
        const h = T.conv2d(x, dw, null, { padding: 3, groups: 8 }).permute([0, 2, 3, 1]);
        const n = T.layerNorm(h, [8], null, null, 1e-6);
        const m = T.matmul(T.gelu(T.matmul(n, w1)), w2);
        const logits = T.matmul(T.add(h, m).mean([1, 2]), head);
        const loss = T.crossEntropy(logits, labels);
        loss.backward();
        for (const q of params) {
          q.assign(T.noGrad(() => T.sub(q, T.mul(q.grad!, 0.05))));
          q.zeroGrad();
        }
        return loss.item();
      });
    const losses: number[] = [];
    losses.push(step());
    losses.push(step());
    const mem = b.memory();
    const top = backendInfo(b).arena.top;
    for (let i = 0; i < 15; i++) losses.push(step());
    expect(b.memory()).toEqual(mem);
    expect(backendInfo(b).arena.top).toBe(top);
    expect(losses.every(Number.isFinite)).toBe(true);
  });
});
