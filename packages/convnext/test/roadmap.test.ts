/**
 * The roadmap networks: roadmap('resnet50') is torchvision's ResNet-50 (keys, shapes, a strict
 * load of our torchvision ResNet's state dict, same outputs), the last step is ConvNeXt-T
 * (names and count of convnext('tiny')), and every step, scaled down, builds, trains a step,
 * saves to safetensors and loads back strictly with the same outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromTypedArray, manualSeed, randn, tidy } from '@tsgrad/core';
import { AdamW, crossEntropy } from '@tsgrad/nn';
import { loadSafetensors, saveSafetensors } from '@tsgrad/nn/node';
import { ConvNeXt, ROADMAP_CONFIGS, ROADMAP_STEPS, RoadmapResNet, convnext, resnet50, roadmap, roadmapConfig } from '@tsgrad/convnext';

const torchvisionKeys = (JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/resnet/resnet50_64.json', import.meta.url)), 'utf8')) as { state_dict_keys: string[] }).state_dict_keys;
const dir = mkdtempSync(join(tmpdir(), 'tsgrad-roadmap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the roadmap steps', () => {
  it('each step adds its change to the previous one; kernel 7 is adopted', () => {
    expect(ROADMAP_CONFIGS['stage-ratio'].depths).toEqual([3, 3, 9, 3]);
    expect(ROADMAP_CONFIGS['kernel-11'].kernelSize).toBe(11);
    expect(ROADMAP_CONFIGS.gelu).toEqual({ ...ROADMAP_CONFIGS['kernel-7'], act: 'gelu' });
    expect(ROADMAP_CONFIGS['separate-downsampling']).toEqual({ ...ROADMAP_CONFIGS['bn-to-ln'], separateDownsampling: true });
  });

  it("roadmap('resnet50') is torchvision's ResNet-50: same keys and shapes, loads its state dict strictly, same outputs", async () => {
    const tv = resnet50();
    const r = roadmap('resnet50');
    try {
      expect(r).toBeInstanceOf(RoadmapResNet);
      const a = tv.stateDict();
      const b = r.stateDict();
      expect(Object.keys(b)).toEqual(Object.keys(a));
      // torchvision's own state_dict() keys, as the golden fixture's script recorded them.
      expect(Object.keys(b)).toEqual(torchvisionKeys);
      for (const k of Object.keys(a)) expect(b[k]!.shape, k).toEqual(a[k]!.shape);
      r.loadStateDict(a, { strict: true });
      tv.eval();
      r.eval();
      await tidy(async () => {
        const x = randn([1, 3, 64, 64]);
        expect(Array.from(await r.forward(x).data())).toEqual(Array.from(await tv.forward(x).data()));
      });
    } finally {
      tv.dispose();
      r.dispose();
    }
  }, 120_000);

  it("roadmap('separate-downsampling') is ConvNeXt-T: the same names, shapes and parameter count", () => {
    const t = convnext('tiny');
    const r = roadmap('separate-downsampling');
    try {
      expect(r).toBeInstanceOf(ConvNeXt);
      const a = t.stateDict();
      const b = r.stateDict();
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) expect(b[k]!.shape, k).toEqual(a[k]!.shape);
      expect(r.numParameters()).toBe(t.numParameters());
      expect(r.numParameters()).toBe(28_589_128);
    } finally {
      t.dispose();
      r.dispose();
    }
  }, 120_000);

  it.each([...ROADMAP_STEPS])('%s (scaled down) builds, trains a step, saves and loads back', async (step) => {
    manualSeed(0);
    const opts = { changes: { width: 8, depths: [1, 1, 2, 1] as const, stemStride: 2 }, numClasses: 5 };
    const m = roadmap(step, opts);
    const m2 = roadmap(step, opts);
    try {
      const before = new Map([...m.namedParameters()].map(([n, p]) => [n, Array.from(p.dataSync())]));
      const opt = new AdamW([...m.parameters()], { lr: 1e-2 });
      const x = randn([4, 3, 32, 32]);
      const y = fromTypedArray(Int32Array.of(0, 1, 2, 3), [4], 'int32');
      m.train();
      await tidy(async () => {
        const loss = crossEntropy(m.forward(x), y);
        const l = (await loss.data())[0]!;
        expect(Number.isFinite(l), `${step} loss ${l}`).toBe(true);
        loss.backward();
      });
      opt.step();
      opt.dispose();
      m.zeroGrad();
      const changed = [...m.namedParameters()].filter(([n, p]) => Array.from(p.dataSync()).some((v, i) => v !== before.get(n)![i]));
      expect(changed.length, `${step}: parameters updated`).toBe(m.numParameters() > 0 ? [...m.namedParameters()].length : 0);

      const file = join(dir, `${step}.safetensors`);
      await saveSafetensors(file, m.stateDict());
      const { tensors } = await loadSafetensors(file);
      m2.loadStateDict(tensors, { strict: true });
      for (const t of Object.values(tensors)) t.dispose();
      m.eval();
      m2.eval();
      await tidy(async () => {
        expect(Array.from(await m2.forward(x).data())).toEqual(Array.from(await m.forward(x).data()));
      });
      x.dispose();
      y.dispose();
    } finally {
      m.dispose();
      m2.dispose();
    }
  }, 120_000);

  it('rejects bad configurations by name', () => {
    expect(() => roadmapConfig('gelu', { kernelSize: 4 })).toThrow(/kernelSize must be a positive odd integer, got 4/);
    expect(() => roadmapConfig('resnet50', { dwFirst: true })).toThrow(/dwFirst needs depthwise/);
    expect(() => roadmapConfig('resnet50', { separateDownsampling: true })).toThrow(/separateDownsampling builds ConvNeXt and needs the ConvNeXt block: stem=patchify \(got resnet\)/);
    // @ts-expect-error: not a step
    expect(() => roadmap('kernel-13')).toThrow(/unknown step 'kernel-13'/);
    const m = roadmap('patchify', { changes: { width: 4, depths: [1, 1, 1, 1] } });
    try {
      expect(() => m.forward(randn([1, 1, 32, 32]))).toThrow(/expected a 4-D NCHW input \[N, 3, H, W\]/);
    } finally {
      m.dispose();
    }
  });
});
