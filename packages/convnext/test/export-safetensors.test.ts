/**
 * safetensors export with official and timm names, checked against PyTorch without PyTorch:
 * the exports are byte-identical to the fixtures scripts/check_export_in_pytorch.py loaded
 * strictly into the official ConvNeXt (and timm's layout) and got our logits from; their
 * names equal those in checkpoints PyTorch wrote; and weights PyTorch trained further and
 * saved back (the docs/scaling.md round trip) load here with PyTorch's logits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { noGrad } from '@tsgrad/core';
import { decodeSafetensors } from '@tsgrad/nn';
import { describe, expect, it } from 'vitest';
import { decodePthStateDict, parsePthStateDict, toOfficialConvNeXtStateDict } from '../src/checkpoint/index.js';
import { convnextExportStateDict, exportConvNeXtSafetensors } from '../src/export/safetensors-export.js';
import { ConvNeXt } from '../src/model.js';
import { exportFixtureModel } from './helpers/random-weights.js';

const file = (dir: string, name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${dir}/${name}`, import.meta.url))));

function expectClose(got: Float32Array, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `logit ${i}`).toBeLessThanOrEqual(tol);
}

const shapes = (sd: Record<string, { shape: readonly number[] }>) => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, [...v.shape]]));

describe('exportConvNeXtSafetensors', () => {
  it('writes exactly the bytes that PyTorch loaded strictly (official and timm names)', async () => {
    const model = exportFixtureModel();
    expect(await exportConvNeXtSafetensors(model)).toEqual(file('export', 'tsgrad_official.safetensors'));
    expect(await exportConvNeXtSafetensors(model, { naming: 'timm' })).toEqual(file('export', 'tsgrad_timm.safetensors'));
  });

  it("PyTorch's logits from those files equal ours (recorded by check_export_in_pytorch.py)", () => {
    const check = JSON.parse(new TextDecoder().decode(file('export', 'pytorch_check.json'))) as { max_abs_diff_official: number; max_abs_diff_timm: number; logits_official: number[]; logits_timm: number[] };
    expect(check.max_abs_diff_official).toBeLessThan(1e-5);
    expect(check.max_abs_diff_timm).toBeLessThan(1e-5);
    const model = exportFixtureModel();
    const io = decodeSafetensors(file('export', 'tsgrad_io.safetensors')).tensors;
    const ours = noGrad(() => model.forward(io.input!)).dataSync() as Float32Array;
    expectClose(ours, check.logits_official, 1e-5);
    expectClose(ours, check.logits_timm, 1e-5);
  });

  it('names and shapes equal those of checkpoints written by PyTorch (official; timm with conv_mlp)', () => {
    const model = exportFixtureModel();
    const official = parsePthStateDict(file('pth', 'convnext_mini_official.pth'));
    expect(Object.keys(convnextExportStateDict(model))).toEqual(Object.keys(official));
    expect(shapes(convnextExportStateDict(model))).toEqual(shapes(official));
    const timm = parsePthStateDict(file('pth', 'convnext_mini_timm.pth'));
    expect(shapes(convnextExportStateDict(model, { naming: 'timm', convMlp: true }))).toEqual(shapes(timm));
  });

  it('records the architecture and format in the metadata and refuses bad options', async () => {
    const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 8, 8], numClasses: 3, stemStride: 2 });
    const { metadata } = decodeSafetensors(await exportConvNeXtSafetensors(model, { naming: 'timm' }));
    expect(metadata?.format).toBe('pt');
    expect(JSON.parse(metadata!['tsgrad.convnext']!)).toMatchObject({ depths: [1, 1, 1, 1], dims: [4, 8, 8, 8], stemStride: 2, numClasses: 3, naming: 'timm' });
    await expect(exportConvNeXtSafetensors(model, { naming: 'keras' as 'timm' })).rejects.toThrow(/naming must be 'official' or 'timm', got 'keras'/);
    await expect(exportConvNeXtSafetensors(model, { convMlp: true })).rejects.toThrow(/convMlp applies to timm naming only/);
  });
});

describe('round trip: weights PyTorch trained further load back here (docs/scaling.md)', () => {
  const io = decodePthStateDict(file('export', 'roundtrip_io.pth'));
  const build = () => new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 12, 16], numClasses: 5 });

  it("the official main.py checkpoint ({model, optimizer, epoch, args}) gives PyTorch's logits after its AdamW step", () => {
    const model = build();
    const bytes = file('export', 'roundtrip_official.pth');
    // Its `args` is an argparse.Namespace: refused by default, kept as an inert placeholder on request.
    expect(() => decodePthStateDict(bytes)).toThrow(/refusing to load global 'argparse.Namespace'/);
    model.loadStateDict(decodePthStateDict(bytes, { unknownGlobals: 'opaque' }), { strict: true });
    model.eval();
    const got = noGrad(() => model.forward(io.input!)).dataSync() as Float32Array;
    expectClose(got, io.logits_official!.dataSync() as Float32Array, 1e-5);
    // The step moved the weights: the logits are not those of the export any more.
    const before = noGrad(() => exportFixtureModel().forward(io.input!)).dataSync() as Float32Array;
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - before[i]!)))).toBeGreaterThan(1e-3);
  });

  it("timm's train.py checkpoint ({state_dict, arch, epoch}) in timm names gives PyTorch's logits", () => {
    const model = build();
    model.loadStateDict(toOfficialConvNeXtStateDict(decodePthStateDict(file('export', 'roundtrip_timm.pth'))), { strict: true });
    model.eval();
    expectClose(noGrad(() => model.forward(io.input!)).dataSync() as Float32Array, io.logits_timm!.dataSync() as Float32Array, 1e-5);
  });
});
