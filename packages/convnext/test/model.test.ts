/** ConvNeXt: variants and parameter counts, official names/shapes/order, init, options, backbone features, input errors, layer decay. */
import { describe, expect, it } from 'vitest';
import { Generator, memory, noGrad, randn, tidy } from '@tsgrad/core';
import { DropPath, Identity } from '@tsgrad/nn';
import { Block, CONVNEXT_VARIANTS, ConvNeXt, convnext, convnextLayerId, convnextParamGroups, convnextParameterCount, convnextTiny, overlapPadding, type ConvNeXtVariant } from '@tsgrad/convnext';

/** The reference table (§2), 1000 classes. */
const REFERENCE_COUNTS: Record<ConvNeXtVariant, number> = {
  atto: 3_695_520,
  femto: 5_217_784,
  pico: 9_045_672,
  nano: 15_593_560,
  tiny: 28_589_128,
  small: 50_223_688,
  base: 88_591_464,
  large: 197_767_336,
  xlarge: 350_196_968,
};

describe('ConvNeXt variants', () => {
  it('the closed form gives the reference count of all nine variants', () => {
    for (const v of Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]) expect([v, convnextParameterCount(v)]).toEqual([v, REFERENCE_COUNTS[v]]);
  });

  // Building allocates every weight; the three largest (88M-350M floats) are checked
  // through the closed form above, which these builds verify term by term.
  for (const v of ['atto', 'femto', 'pico', 'nano', 'tiny', 'small'] as const) {
    it(`builds ${v} with ${REFERENCE_COUNTS[v].toLocaleString('en')} parameters`, () => {
      const m = convnext(v);
      expect(m.numParameters()).toBe(REFERENCE_COUNTS[v]);
      const a = CONVNEXT_VARIANTS[v];
      expect(Object.keys(m.stateDict()).length).toBe(16 + 9 * a.depths.reduce((x, y) => x + y, 0) + 4);
      m.dispose();
    });
  }

  it('counts follow the options (stem stride, kernel, classes, channels, no gamma)', () => {
    const opts = { numClasses: 10, stemStride: 2, kernelSize: 5, inChans: 1, layerScaleInitValue: 0 };
    const m = convnext('atto', opts);
    expect(m.numParameters()).toBe(convnextParameterCount('atto', { numClasses: 10, stemStride: 2, kernelSize: 5, inChans: 1, layerScale: false }));
    expect(Object.keys(m.stateDict()).some((k) => k.endsWith('gamma'))).toBe(false);
    expect(m.stateDict()['downsample_layers.0.0.weight']!.shape).toEqual([40, 1, 2, 2]);
    expect(m.stateDict()['stages.0.0.dwconv.weight']!.shape).toEqual([40, 1, 5, 5]);
    m.dispose();
  });

  it('an overlapping stem (kernel > stride) is padded to keep H / stride, and counted', () => {
    expect([overlapPadding(2, 2), overlapPadding(4, 2), overlapPadding(3, 2), overlapPadding(7, 4), overlapPadding(3, 1)]).toEqual([0, 1, 1, 2, 1]);
    for (const [k, s, side] of [[4, 2, 32], [3, 2, 32], [7, 4, 64], [3, 1, 16], [2, 2, 28]] as const) {
      const opts = { depths: [1, 1, 1, 1], dims: [8, 8, 16, 16], inChans: 1, numClasses: 3, stemStride: s, stemKernel: k, generator: new Generator(k) };
      const m = new ConvNeXt(opts);
      expect(m.stemKernel).toBe(k);
      expect(m.stateDict()['downsample_layers.0.0.weight']!.shape).toEqual([8, 1, k, k]);
      expect(m.numParameters()).toBe(convnextParameterCount({ depths: [1, 1, 1, 1], dims: [8, 8, 16, 16] }, { inChans: 1, numClasses: 3, stemStride: s, stemKernel: k }));
      const f = tidy(() => noGrad(() => m.features(randn([2, 1, side, side]))).map((t) => t.shape));
      expect(f).toEqual([0, 1, 2, 3].map((i) => [2, i < 2 ? 8 : 16, Math.floor(side / s / 2 ** i), Math.floor(side / s / 2 ** i)]));
      m.dispose();
    }
    const plain = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 4, 4, 4], stemStride: 2 });
    expect(plain.stemKernel).toBe(2);
    plain.dispose();
    expect(() => new ConvNeXt({ stemStride: 4, stemKernel: 3 })).toThrow('ConvNeXt: stemKernel must be an integer >= stemStride (4), got 3');
    expect(() => new ConvNeXt({ stemStride: 1, stemKernel: 4 })).toThrow(/with stemStride 1 the stemKernel must be odd/);
    expect(() => new ConvNeXt({ stemStride: 2, stemKernel: 2.5 })).toThrow(/stemKernel must be an integer/);
  });

  it('overlapping downsampling convs (kernel > 2) halve even sides as before and round odd ones up', () => {
    for (const [dk, side, maps] of [[3, 32, [16, 8, 4, 2]], [4, 32, [16, 8, 4, 2]], [3, 28, [14, 7, 4, 2]], [2, 28, [14, 7, 3, 1]]] as const) {
      const m = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 8, 16, 16], inChans: 1, numClasses: 3, stemStride: 2, downsampleKernel: dk, generator: new Generator(dk) });
      expect(m.downsampleKernel).toBe(dk);
      expect(m.stateDict()['downsample_layers.2.1.weight']!.shape).toEqual([16, 8, dk, dk]);
      expect(m.numParameters()).toBe(convnextParameterCount({ depths: [1, 1, 1, 1], dims: [8, 8, 16, 16] }, { inChans: 1, numClasses: 3, stemStride: 2, downsampleKernel: dk }));
      const f = tidy(() => noGrad(() => m.features(randn([1, 1, side, side]))).map((t) => t.shape[2]));
      expect(f).toEqual([...maps]);
      m.dispose();
    }
    expect(() => new ConvNeXt({ downsampleKernel: 1 })).toThrow('ConvNeXt: downsampleKernel must be an integer >= 2 (the stride), got 1');
  });
});

describe('ConvNeXt-T state dict', () => {
  const m = convnextTiny({ generator: new Generator(0) });
  const sd = m.stateDict();
  const shapes = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.shape]));

  it('has the official keys, shapes and order (182 tensors, gamma first in a block)', () => {
    const keys = Object.keys(sd);
    expect(keys.length).toBe(182);
    expect(keys.slice(0, 4)).toEqual(['downsample_layers.0.0.weight', 'downsample_layers.0.0.bias', 'downsample_layers.0.1.weight', 'downsample_layers.0.1.bias']);
    expect(keys.slice(16, 25)).toEqual([
      'stages.0.0.gamma',
      'stages.0.0.dwconv.weight',
      'stages.0.0.dwconv.bias',
      'stages.0.0.norm.weight',
      'stages.0.0.norm.bias',
      'stages.0.0.pwconv1.weight',
      'stages.0.0.pwconv1.bias',
      'stages.0.0.pwconv2.weight',
      'stages.0.0.pwconv2.bias',
    ]);
    expect(keys.slice(-4)).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    expect(shapes['downsample_layers.0.0.weight']).toEqual([96, 3, 4, 4]);
    expect(shapes['downsample_layers.2.0.weight']).toEqual([192]);
    expect(shapes['downsample_layers.2.1.weight']).toEqual([384, 192, 2, 2]);
    expect(shapes['stages.2.5.dwconv.weight']).toEqual([384, 1, 7, 7]);
    expect(shapes['stages.3.2.pwconv1.weight']).toEqual([3072, 768]);
    expect(shapes['stages.3.2.pwconv2.weight']).toEqual([768, 3072]);
    expect(shapes['head.weight']).toEqual([1000, 768]);
  });

  it('is initialised as the official code: trunc normal std 0.02, zero biases, LN 1/0, gamma 1e-6', () => {
    const w = sd['stages.2.5.pwconv1.weight']!.dataSync();
    let s2 = 0;
    for (const v of w) s2 += v * v;
    expect(Math.sqrt(s2 / w.length)).toBeCloseTo(0.02, 3);
    expect(new Set(sd['stages.2.5.pwconv1.bias']!.dataSync()).size).toBe(1);
    expect(sd['stages.2.5.pwconv1.bias']!.dataSync()[0]).toBe(0);
    expect([...new Set(sd['downsample_layers.1.0.weight']!.dataSync())]).toEqual([1]);
    expect([...new Set(sd['stages.1.2.gamma']!.dataSync())]).toEqual([Math.fround(1e-6)]);
    m.dispose();
  });
});

describe('ConvNeXt options and use', () => {
  it('ramps drop path linearly over all blocks and scales the head', () => {
    const m = convnext('atto', { dropPathRate: 0.3, headInitScale: 0.001, generator: new Generator(1) });
    const blocks = [...m.modules()].filter((b): b is Block => b instanceof Block);
    expect(blocks.length).toBe(12);
    expect(blocks[0]!.drop_path).toBeInstanceOf(Identity);
    const rates = blocks.map((b) => (b.drop_path instanceof DropPath ? b.drop_path.p : 0));
    rates.forEach((r, k) => expect(r).toBeCloseTo((0.3 * k) / 11, 12));
    const ref = convnext('atto', { generator: new Generator(1) });
    const a = m.head.weight.dataSync();
    const b = ref.head.weight.dataSync();
    for (let i = 0; i < 50; i++) expect(a[i]).toBeCloseTo(Math.fround(b[i]! * 0.001), 9);
    m.dispose();
    ref.dispose();
  });

  it('gives backbone features, pooled features and logits; train-mode drop path is stochastic, eval deterministic', () => {
    const m = convnext('atto', { numClasses: 7, stemStride: 2, dropPathRate: 0.5, generator: new Generator(2) });
    const before = memory().tensors;
    tidy(() => {
      const x = randn([2, 3, 32, 32], { generator: new Generator(3) });
      const feats = noGrad(() => m.features(x));
      expect(feats.map((f) => f.shape)).toEqual([
        [2, 40, 16, 16],
        [2, 80, 8, 8],
        [2, 160, 4, 4],
        [2, 320, 2, 2],
      ]);
      m.eval();
      const e1 = noGrad(() => m.forward(x)).toArray();
      const e2 = noGrad(() => m.forward(x)).toArray();
      expect(e1).toEqual(e2);
      expect(noGrad(() => m.forwardFeatures(x)).shape).toEqual([2, 320]);
      m.train();
      const t1 = noGrad(() => m.forward(x)).toArray();
      expect(t1).not.toEqual(e1);
      const odd = noGrad(() => m.forward(randn([1, 3, 17, 23])));
      expect(odd.shape).toEqual([1, 7]);
    });
    expect(memory().tensors).toBe(before);
    m.dispose();
  });

  it('says what input it expects', () => {
    const m = convnext('atto', { generator: new Generator(4) });
    expect(() => m.forward(randn([1, 1, 64, 64]))).toThrow(
      'ConvNeXt-atto: expected 3 input channels (input [N, 3, H, W] with H, W >= 32), got 1 channels in shape [1, 1, 64, 64]',
    );
    expect(() => m.forward(randn([1, 3, 31, 64]))).toThrow(/input 31x64 is too small: with stem stride 4 and three 2x downsamplings the model needs H, W >= 32/);
    expect(() => m.forward(randn([3, 64, 64]))).toThrow(/expected a 4-D NCHW input/);
    const s2 = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 4, 4, 4], stemStride: 2 });
    expect(() => s2.forward(randn([1, 3, 15, 16]))).toThrow(/needs H, W >= 16/);
    expect(() => new ConvNeXt({ depths: [1, 1, 1], dims: [1, 2, 3, 4] })).toThrow(/4 entries/);
    expect(() => new ConvNeXt({ kernelSize: 4 })).toThrow(/odd/);
    m.dispose();
    s2.dispose();
  });
});

describe('ConvNeXt optimizer groups', () => {
  it('assigns the official layer ids', () => {
    expect(convnextLayerId('downsample_layers.0.0.weight')).toBe(0);
    expect(convnextLayerId('stages.0.2.gamma')).toBe(1);
    expect(convnextLayerId('downsample_layers.1.1.weight')).toBe(2);
    expect(convnextLayerId('stages.1.0.norm.bias')).toBe(2);
    expect(convnextLayerId('downsample_layers.2.0.bias')).toBe(3);
    expect(convnextLayerId('stages.2.0.dwconv.weight')).toBe(3);
    expect(convnextLayerId('stages.2.26.pwconv2.weight')).toBe(11);
    expect(convnextLayerId('downsample_layers.3.1.weight')).toBe(12);
    expect(convnextLayerId('stages.3.2.pwconv1.weight')).toBe(12);
    expect(convnextLayerId('norm.weight')).toBe(13);
    expect(convnextLayerId('head.bias')).toBe(13);
  });

  it('exempts 1-D parameters and biases from decay and scales lr per layer', () => {
    const m = convnext('atto', { generator: new Generator(5) });
    const groups = convnextParamGroups(m, { weightDecay: 0.05 });
    const decay = groups.find((g) => g.weightDecay === 0.05)!;
    const none = groups.find((g) => g.weightDecay === 0)!;
    expect(decay.params.every((p) => p.ndim >= 2)).toBe(true);
    expect(none.params.every((p) => p.ndim === 1)).toBe(true);
    expect(decay.paramNames.length).toBe(4 + 3 * 12 + 1); // stem + 3 downsample convs, dw/pw1/pw2 per block, head
    expect(none.paramNames).toContain('stages.1.1.gamma');
    expect(decay.params.length + none.params.length).toBe(m.parameters().length);
    const layered = convnextParamGroups(m, { weightDecay: 0.05, layerDecay: 0.8 });
    const head = layered.find((g) => g.paramNames.includes('head.weight'))!;
    const stem = layered.find((g) => g.paramNames.includes('downsample_layers.0.0.weight'))!;
    expect(head.lrScale).toBe(1);
    expect(stem.lrScale).toBeCloseTo(0.8 ** 13, 12);
    m.dispose();
  });
});
