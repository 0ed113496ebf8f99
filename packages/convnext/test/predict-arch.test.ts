/** Reading a ConvNeXt's architecture from its weights (official or timm names), for predict/export --weights. */
import { describe, expect, it } from 'vitest';
import { convertConvNeXtStateDict } from '../src/checkpoint/timm.js';
import { CONVNEXT_VARIANTS, convnextParameterCount, type ConvNeXtVariant } from '../src/model.js';
import { convnextFromStateDict, inferConvNeXtArch } from '../src/predict/from-state-dict.js';
import { ConvNeXt } from '../src/model.js';

/** The state dict's shapes for a variant, without building the model (keys as the model names them). */
function shapesOf(variant: ConvNeXtVariant, numClasses = 1000): Record<string, { shape: number[] }> {
  const { depths, dims } = CONVNEXT_VARIANTS[variant];
  const sd: Record<string, { shape: number[] }> = {};
  sd['downsample_layers.0.0.weight'] = { shape: [dims[0], 3, 4, 4] };
  for (let i = 1; i < 4; i++) sd[`downsample_layers.${i}.1.weight`] = { shape: [dims[i]!, dims[i - 1]!, 2, 2] };
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < depths[i]!; j++) {
      sd[`stages.${i}.${j}.gamma`] = { shape: [dims[i]!] };
      sd[`stages.${i}.${j}.dwconv.weight`] = { shape: [dims[i]!, 1, 7, 7] };
    }
  sd['head.weight'] = { shape: [numClasses, dims[3]] };
  return sd;
}

describe('inferConvNeXtArch', () => {
  for (const v of Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]) {
    it(`recognises ${v}`, () => {
      const a = inferConvNeXtArch(shapesOf(v));
      expect(a).toMatchObject({ variant: v, inChans: 3, numClasses: 1000, stemStride: 4, kernelSize: 7, layerScale: true });
      expect(convnextParameterCount({ depths: a.depths, dims: a.dims })).toBe(convnextParameterCount(v));
    });
  }

  it('builds a custom model from timm-named weights (1 channel, stem 2, kernel 5, no gamma) and loads them strictly', () => {
    const src = new ConvNeXt({ depths: [1, 2, 1, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, stemStride: 2, kernelSize: 5, layerScaleInitValue: 0 });
    const { model, arch } = convnextFromStateDict(convertConvNeXtStateDict(src.stateDict(), 'timm'));
    expect(arch).toMatchObject({ variant: null, depths: [1, 2, 1, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, stemStride: 2, kernelSize: 5, layerScale: false });
    expect(model.stateDict()['stages.1.1.pwconv2.weight']!.dataSync()).toEqual(src.stateDict()['stages.1.1.pwconv2.weight']!.dataSync());
  });

  it('an overlapping stem: the kernel from the weights, the stride from the caller (default: the kernel)', () => {
    const src = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 8, 16, 16], inChans: 1, numClasses: 3, stemStride: 2, stemKernel: 4, downsampleKernel: 3 });
    expect(inferConvNeXtArch(src.stateDict())).toMatchObject({ stemStride: 4, stemKernel: 4, downsampleKernel: 3 });
    const { model, arch } = convnextFromStateDict(src.stateDict(), undefined, 2);
    expect(arch).toMatchObject({ stemStride: 2, stemKernel: 4, downsampleKernel: 3 });
    expect([model.stemStride, model.stemKernel, model.downsampleKernel]).toEqual([2, 4, 3]);
    expect(() => inferConvNeXtArch(src.stateDict(), 5)).toThrow('stem stride 5 does not fit the weights\' 4x4 stem kernel (the stride must be an integer from 1 to the kernel)');
  });

  it('names what is wrong: not ConvNeXt, ConvNeXt V2, another variant', () => {
    expect(() => inferConvNeXtArch({ 'fc.weight': { shape: [2, 2] } })).toThrow(/not ConvNeXt weights: no 'downsample_layers.0.0.weight' \(have fc.weight\)/);
    expect(() => inferConvNeXtArch({ ...shapesOf('atto'), 'stages.0.0.grn.gamma': { shape: [1, 1, 1, 40] } })).toThrow(/ConvNeXt V2 weights \(GRN layers\)/);
    const atto = new ConvNeXt({ variant: 'atto', numClasses: 3 });
    expect(() => convnextFromStateDict(atto.stateDict(), 'tiny')).toThrow(/the weights are ConvNeXt-atto \(depths \[2, 2, 6, 2\], dims \[40, 80, 160, 320\]\), not ConvNeXt-tiny/);
  });
});
