/** Analytic FLOPs, parameters and shapes of every ConvNeXt, against numbers measured on a PyTorch model. */
import { describe, expect, it } from 'vitest';
import { convnextCost, convnextFlops } from '../src/flops.js';
import { formatFlops, formatModelInfo } from '../src/info.js';
import { CONVNEXT_VARIANTS, ConvNeXt, convnextParameterCount, type ConvNeXtOptions, type ConvNeXtVariant } from '../src/model.js';

/** The parameters of the model `opts` builds, counted tensor by tensor (the model is freed). */
function builtParameters(opts: ConvNeXtOptions): number {
  const model = new ConvNeXt(opts);
  const n = [...model.parameters()].reduce((a, p) => a + p.size, 0);
  model.dispose();
  return n;
}

describe('convnextCost', () => {
  // Measured in PyTorch on an official-layout ConvNeXt: forward hooks on every Conv2d/Linear summing
  // out.numel() * in_channels/groups * k^2 (resp. in_features), plus 5 * input numel per
  // LayerNorm (channels-first ones included), as fvcore counts them.
  it('matches the MACs counted on a PyTorch ConvNeXt (ConvNeXt-T at 224: 4.47 GFLOPs, the paper\'s 4.5G)', () => {
    expect(convnextFlops({ variant: 'tiny' })).toBe(4_455_531_264 + 14_868_480);
    expect(formatFlops(convnextFlops({ variant: 'tiny' }))).toBe('4.47 G');
    expect(convnextFlops({ variant: 'atto' })).toBe(547_332_480 + 4_705_600);
    expect(convnextFlops({ variant: 'atto', inChans: 1, numClasses: 10, stemStride: 2, inputSize: 28 })).toBe(25_667_360 + 270_800);
  });

  it('counts the parameters of every variant as the closed form and the built model do', () => {
    for (const v of Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]) {
      expect(convnextCost({ variant: v }).params).toBe(convnextParameterCount(v));
    }
    expect(convnextCost({ variant: 'tiny' }).params).toBe(28_589_128);
    const opts = { depths: [1, 0, 2, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, stemStride: 2, kernelSize: 5 };
    expect(convnextCost({ ...opts, inputSize: 32 }).params).toBe(builtParameters(opts));
    expect(convnextCost({ variant: 'atto', layerScale: false }).params).toBe(convnextParameterCount('atto', { layerScale: false }));
  });

  it('costs an overlapping stem: k x k weights and FLOPs, the same map sizes', () => {
    const opts = { depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, stemStride: 2, stemKernel: 4 };
    const c = convnextCost({ ...opts, inputSize: 32 });
    expect(c.params).toBe(builtParameters(opts));
    const plain = convnextCost({ ...opts, stemKernel: 2, inputSize: 32 });
    expect(c.stageShapes).toEqual(plain.stageShapes);
    const stem = c.layers.find((r) => r.name === 'downsample_layers.0.0')!;
    expect(stem).toMatchObject({ outputShape: [1, 8, 16, 16], params: 16 * 8 + 8, flops: 16 * 8 * 16 * 16 });
    expect(c.flops - plain.flops).toBe((16 - 4) * 8 * 16 * 16);
    expect(() => convnextCost({ stemStride: 4, stemKernel: 2 })).toThrow('convnextCost: stemKernel must be an integer >= stemStride (4), got 2');
    expect(formatModelInfo({ ...opts, inputSize: 32 })).toMatch(/stem stride 2 \(kernel 4, overlapping\)/);
  });

  it('costs overlapping downsampling convs: d x d weights, odd sides rounded up as the model does', () => {
    const opts = { depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, stemStride: 2, downsampleKernel: 3 };
    const c = convnextCost({ ...opts, inputSize: 28 });
    expect(c.params).toBe(builtParameters(opts));
    expect(c.stageShapes.map((s) => s[2])).toEqual([14, 7, 4, 2]);
    expect(c.layers.find((r) => r.name === 'downsample_layers.2.1')).toMatchObject({ outputShape: [1, 24, 4, 4], params: 9 * 16 * 24 + 24, flops: 9 * 16 * 24 * 16 });
    expect(formatModelInfo({ ...opts, inputSize: 28 })).toMatch(/stem stride 2, downsampling kernel 3, 7 classes/);
    expect(() => convnextCost({ downsampleKernel: 0 })).toThrow(/downsampleKernel must be an integer >= 2/);
  });

  it('gives the stage shapes and a per-layer table with official module names', () => {
    const c = convnextCost({ variant: 'tiny', batch: 2, inputSize: [224, 160] });
    expect(c.stageShapes).toEqual([[2, 96, 56, 40], [2, 192, 28, 20], [2, 384, 14, 10], [2, 768, 7, 5]]);
    const row = (name: string) => c.layers.find((r) => r.name === name)!;
    expect(row('downsample_layers.0.0')).toMatchObject({ type: 'Conv2d', depth: 2, outputShape: [2, 96, 56, 40], params: 3 * 16 * 96 + 96 });
    expect(row('stages.2.8.pwconv1')).toMatchObject({ type: 'Linear', depth: 3, outputShape: [2, 14, 10, 1536], params: 384 * 1536 + 1536, flops: 384 * 1536 * 140 });
    expect(row('stages.2.8')).toMatchObject({ type: 'Block', depth: 2, outputShape: [2, 384, 14, 10], params: 8 * 384 * 384 + (49 + 9) * 384 });
    expect(row('head')).toMatchObject({ type: 'Linear', depth: 1, outputShape: [2, 1000] });
    // Top-level rows add up to the totals; FLOPs are per image whatever the batch.
    const top = c.layers.filter((r) => r.depth === 1);
    expect(top.map((r) => r.name)).toEqual(['downsample_layers.0', 'stages.0', 'downsample_layers.1', 'stages.1', 'downsample_layers.2', 'stages.2', 'downsample_layers.3', 'stages.3', 'norm', 'head']);
    expect(c.flops).toBe(convnextFlops({ variant: 'tiny', inputSize: [224, 160] }));
  });

  it('rejects inputs the model cannot take', () => {
    expect(() => convnextCost({ variant: 'tiny', inputSize: 31 })).toThrow(/convnextCost: input 31x31 is too small: with stem stride 4 and three 2x downsamplings the model needs H, W >= 32/);
    expect(() => convnextCost({ variant: 'huge' as 'tiny' })).toThrow(/convnextCost: unknown variant 'huge'/);
    expect(() => convnextCost({ inChans: 0 })).toThrow(/convnextCost: inChans must be a positive integer, got 0/);
  });

  it('formats the info report with the table depth asked for', () => {
    const text = formatModelInfo({ variant: 'atto', inputSize: 224 });
    expect(text).toMatch(/^ConvNeXt-atto: input \[1, 3, 224, 224\], stem stride 4, 1000 classes/);
    expect(text).toContain('Parameters: 3,695,520 (3.70M)');
    expect(text).toContain('FLOPs: 552,038,080 (552.04 MFLOPs per image');
    expect(text).toContain('Stage outputs: 0: [1, 40, 56, 56], 1: [1, 80, 28, 28], 2: [1, 160, 14, 14], 3: [1, 320, 7, 7]');
    expect(text).toMatch(/stages\.2\.5 \(Block\)\s+\[1, 160, 14, 14\]\s+214,080/);
    expect(text).not.toContain('pwconv1');
    expect(formatModelInfo({ variant: 'atto', maxDepth: 3 })).toMatch(/stages\.0\.1\.pwconv1 \(Linear\)\s+\[1, 56, 56, 160\]\s+6,560/);
    expect(formatModelInfo({ variant: 'atto', maxDepth: 1 }).split('\n').filter((l) => l.includes('(Block)'))).toEqual([]);
  });
});
