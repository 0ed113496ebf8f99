/**
 * Writes the exports that scripts/check_export_in_pytorch.py loads into PyTorch:
 *
 *   node_modules/.bin/tsx --conditions=source packages/convnext/scripts/write-export-fixtures.ts
 *
 * test/fixtures/export/:
 * - tsgrad_official.safetensors  the mini ConvNeXt (helpers/random-weights.ts) exported with official names
 * - tsgrad_timm.safetensors      the same weights with timm names
 * - tsgrad_io.safetensors        {input [2,3,32,32], logits [2,5]}: a seeded input and tsgrad's logits
 *
 * The tests check that exporting the same model still gives these exact bytes, so what
 * PyTorch was shown is what the code writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manualSeed, noGrad, randn } from '@tsgrad/core';
import { encodeSafetensors } from '@tsgrad/nn';
import { exportConvNeXtSafetensors } from '../src/export/safetensors-export.js';
import { exportFixtureModel } from '../test/helpers/random-weights.js';

const out = (name: string) => fileURLToPath(new URL(`../test/fixtures/export/${name}`, import.meta.url));
const model = exportFixtureModel();
writeFileSync(out('tsgrad_official.safetensors'), await exportConvNeXtSafetensors(model));
writeFileSync(out('tsgrad_timm.safetensors'), await exportConvNeXtSafetensors(model, { naming: 'timm' }));
manualSeed(77);
const input = randn([2, 3, 32, 32]);
const logits = noGrad(() => model.forward(input));
writeFileSync(out('tsgrad_io.safetensors'), await encodeSafetensors({ input, logits }));
console.log('logits', Array.from(logits.dataSync() as Float32Array).map((v) => v.toFixed(6)).join(' '));
