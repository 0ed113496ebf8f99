import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePthStateDict, toOfficialConvNeXtStateDict } from '../src/checkpoint/index.js';
import { ConvNeXt } from '../src/model.js';
import { decodeSafetensors, encodeSafetensors } from '../../nn/src/io/safetensors.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/pth/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

/** The replica in gen_pth_fixtures.py: dims 4/8/12/16, depths 1/1/1/1, 5 classes, stem 4. */
const build = () => new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 12, 16], numClasses: 5 });

function expectLogits(got: Float32Array, want: Float32Array): void {
  const scale = Math.max(...Array.from(want, Math.abs));
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `logit ${i}`).toBeLessThanOrEqual(1e-5 * scale);
}

describe('PyTorch-written .pth into the ConvNeXt model', () => {
  const io = decodePthStateDict(fixture('convnext_mini_io.pth'));
  const want = io.logits!.dataSync() as Float32Array;

  it("official key names load strictly and give PyTorch's logits", () => {
    const model = build();
    model.loadStateDict(decodePthStateDict(fixture('convnext_mini_official.pth')), { strict: true });
    model.eval();
    expectLogits(model.forward(io.input!).dataSync() as Float32Array, want);
  });

  it('timm key names (conv_mlp 4-D MLP weights) load after conversion and give the same logits', () => {
    const model = build();
    model.loadStateDict(toOfficialConvNeXtStateDict(decodePthStateDict(fixture('convnext_mini_timm.pth'))), { strict: true });
    model.eval();
    expectLogits(model.forward(io.input!).dataSync() as Float32Array, want);
  });

  it("the model's own names equal the checkpoint's, in the same order", () => {
    const keys = Object.keys(decodePthStateDict(fixture('convnext_mini_official.pth')));
    expect(Object.keys(build().stateDict())).toEqual(keys);
  });

  it('a model loaded from .pth saves to safetensors and loads back into a fresh model with the same logits', async () => {
    const model = build();
    model.loadStateDict(decodePthStateDict(fixture('convnext_mini_official.pth')), { strict: true });
    const bytes = await encodeSafetensors(model.stateDict(), { format: 'pt' });
    const fresh = build();
    fresh.loadStateDict(decodeSafetensors(bytes).tensors, { strict: true });
    fresh.eval();
    expectLogits(fresh.forward(io.input!).dataSync() as Float32Array, want);
  });
});
