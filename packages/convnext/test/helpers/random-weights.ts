/**
 * Seeded random weights for export checks: larger than the official init so that every
 * layer changes the logits (the init's gamma of 1e-6 would hide the blocks).
 */
import { manualSeed, noGrad, randn } from '@tsgrad/core';
import { ConvNeXt } from '../../src/model.js';

/** Overwrites every parameter of `model` with seeded normal values (norm weights around 1). */
export function randomizeWeights(model: ConvNeXt, seed: number): void {
  manualSeed(seed);
  noGrad(() => {
    for (const [name, p] of Object.entries(model.stateDict())) {
      const scale = name.endsWith('gamma') ? 0.5 : name.includes('norm') ? 0.3 : 0.2;
      const base = name.includes('norm') && name.endsWith('weight') ? 1 : 0;
      p.assign(randn(p.shape).mul(scale).add(base));
    }
  });
}

/** The mini ConvNeXt of the PyTorch fixtures: depths 1/1/1/1, dims 4/8/12/16, 5 classes, stem 4. */
export function exportFixtureModel(): ConvNeXt {
  const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 12, 16], numClasses: 5 });
  randomizeWeights(model, 2024);
  model.eval();
  return model;
}
