import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  convertConvNeXtStateDict,
  decodePthStateDict,
  detectConvNeXtNaming,
  officialToTimmKey,
  parsePthStateDict,
  timmToOfficialKey,
  toOfficialConvNeXtStateDict,
} from '../src/checkpoint/index.js';
import type { CheckpointTensor } from '../src/checkpoint/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/pth/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

/** Official ↔ timm pairs from reference §5.3 (timm's checkpoint_filter_fn). */
const PAIRS: [string, string][] = [
  ['downsample_layers.0.0.weight', 'stem.0.weight'],
  ['downsample_layers.0.0.bias', 'stem.0.bias'],
  ['downsample_layers.0.1.weight', 'stem.1.weight'],
  ['downsample_layers.0.1.bias', 'stem.1.bias'],
  ['downsample_layers.1.0.weight', 'stages.1.downsample.0.weight'],
  ['downsample_layers.3.1.bias', 'stages.3.downsample.1.bias'],
  ['stages.0.0.gamma', 'stages.0.blocks.0.gamma'],
  ['stages.2.26.gamma', 'stages.2.blocks.26.gamma'],
  ['stages.2.5.dwconv.weight', 'stages.2.blocks.5.conv_dw.weight'],
  ['stages.2.5.dwconv.bias', 'stages.2.blocks.5.conv_dw.bias'],
  ['stages.1.2.norm.weight', 'stages.1.blocks.2.norm.weight'],
  ['stages.1.2.norm.bias', 'stages.1.blocks.2.norm.bias'],
  ['stages.3.0.pwconv1.weight', 'stages.3.blocks.0.mlp.fc1.weight'],
  ['stages.3.0.pwconv1.bias', 'stages.3.blocks.0.mlp.fc1.bias'],
  ['stages.3.2.pwconv2.weight', 'stages.3.blocks.2.mlp.fc2.weight'],
  ['stages.3.2.pwconv2.bias', 'stages.3.blocks.2.mlp.fc2.bias'],
  ['stages.0.1.grn.gamma', 'stages.0.blocks.1.mlp.grn.weight'],
  ['stages.0.1.grn.beta', 'stages.0.blocks.1.mlp.grn.bias'],
  ['norm.weight', 'head.norm.weight'],
  ['norm.bias', 'head.norm.bias'],
  ['head.weight', 'head.fc.weight'],
  ['head.bias', 'head.fc.bias'],
];

describe('timm key mapping', () => {
  it('maps every official key to timm and back (reference §5.3)', () => {
    for (const [official, timm] of PAIRS) {
      expect(officialToTimmKey(official), official).toBe(timm);
      expect(timmToOfficialKey(timm), timm).toBe(official);
    }
  });

  it('returns null for keys outside either naming', () => {
    for (const k of ['foo.weight', 'stages.0.0.unknown.weight', 'stages.0.0', 'downsample_layers.0.2.weight', 'headx.weight']) {
      expect(officialToTimmKey(k), k).toBeNull();
    }
    for (const k of ['foo.weight', 'stages.0.blocks.0.mlp.fc3.weight', 'head.pre_logits.fc.weight', 'norm_pre.weight', 'stem.2.weight']) {
      expect(timmToOfficialKey(k), k).toBeNull();
    }
  });

  it('a downsample in timm stage 0 has no official counterpart', () => {
    expect(() => timmToOfficialKey('stages.0.downsample.0.weight')).toThrow(CheckpointError);
    expect(() => timmToOfficialKey('stages.0.downsample.0.weight')).toThrow(/stage 0 has no official ConvNeXt counterpart/);
  });

  it('detects the naming, and refuses a mix', () => {
    expect(detectConvNeXtNaming(PAIRS.map(([o]) => o))).toBe('official');
    expect(detectConvNeXtNaming(PAIRS.map(([, t]) => t))).toBe('timm');
    expect(detectConvNeXtNaming(['head.weight'])).toBe('official');
    expect(detectConvNeXtNaming(['head.fc.weight'])).toBe('timm');
    expect(detectConvNeXtNaming(['fc.weight', 'conv1.weight'])).toBeNull();
    expect(detectConvNeXtNaming([])).toBeNull();
    expect(() => detectConvNeXtNaming(['stem.0.weight', 'stages.0.0.gamma'])).toThrow(/mixes official ConvNeXt names \('stages\.0\.0\.gamma'\) with timm names \('stem\.0\.weight'\)/);
  });
});

describe('timm checkpoints', () => {
  const rawReshape = (v: CheckpointTensor, shape: number[]): CheckpointTensor => {
    expect(shape.reduce((a, b) => a * b, 1)).toBe(v.data.length);
    return { ...v, shape };
  };

  it('a timm-named .pth (conv_mlp 4-D MLP weights) converts to exactly the official state dict', () => {
    const official = parsePthStateDict(fixture('convnext_mini_official.pth'));
    const timm = parsePthStateDict(fixture('convnext_mini_timm.pth'));
    expect(detectConvNeXtNaming(Object.keys(timm))).toBe('timm');
    expect(timm['stages.0.blocks.0.mlp.fc1.weight']!.shape).toEqual([16, 4, 1, 1]);
    const converted = toOfficialConvNeXtStateDict(timm, { reshape: rawReshape });
    expect(Object.keys(converted)).toEqual(Object.keys(official));
    for (const [k, v] of Object.entries(official)) {
      expect(converted[k]!.shape, k).toEqual(v.shape);
      expect(Array.from(converted[k]!.data), k).toEqual(Array.from(v.data));
    }
  });

  it('official → timm reproduces the timm file (with convMlp) and round-trips', () => {
    const official = parsePthStateDict(fixture('convnext_mini_official.pth'));
    const timm = parsePthStateDict(fixture('convnext_mini_timm.pth'));
    const toTimm = convertConvNeXtStateDict(official, 'timm', { reshape: rawReshape, convMlp: true });
    expect(Object.keys(toTimm)).toEqual(Object.keys(timm));
    for (const [k, v] of Object.entries(timm)) expect(toTimm[k]!.shape, k).toEqual(v.shape);
    const flat = convertConvNeXtStateDict(official, 'timm', { reshape: rawReshape });
    expect(flat['stages.0.blocks.0.mlp.fc1.weight']!.shape).toEqual([16, 4]);
    const back = toOfficialConvNeXtStateDict(flat, { reshape: rawReshape });
    expect(Object.keys(back)).toEqual(Object.keys(official));
    // Already official: returned unchanged (same values, same order).
    const same = toOfficialConvNeXtStateDict(official, { reshape: rawReshape });
    for (const k of Object.keys(official)) expect(same[k]).toBe(official[k]);
  });

  it('works on tensors with the core reshape by default', () => {
    const timm = decodePthStateDict(fixture('convnext_mini_timm.pth'));
    const official = decodePthStateDict(fixture('convnext_mini_official.pth'));
    const converted = toOfficialConvNeXtStateDict(timm);
    expect([...converted['stages.3.0.pwconv2.weight']!.shape]).toEqual([16, 64]);
    expect(Array.from(converted['stages.3.0.pwconv2.weight']!.dataSync())).toEqual(Array.from(official['stages.3.0.pwconv2.weight']!.dataSync()));
    expect(Object.keys(converted).sort()).toEqual(Object.keys(official).sort());
  });

  it('V2 GRN parameters are reshaped between [1,1,1,D] and [D]', () => {
    const mk = (shape: number[]): CheckpointTensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)), sourceDType: 'float32' });
    const timm = { 'stages.0.blocks.0.mlp.grn.weight': mk([16]), 'stages.0.blocks.0.mlp.grn.bias': mk([16]), 'head.fc.weight': mk([3, 4]) };
    const off = toOfficialConvNeXtStateDict(timm, { reshape: rawReshape });
    expect(off['stages.0.0.grn.gamma']!.shape).toEqual([1, 1, 1, 16]);
    expect(off['stages.0.0.grn.beta']!.shape).toEqual([1, 1, 1, 16]);
    expect(off['head.weight']!.shape).toEqual([3, 4]);
    const again = convertConvNeXtStateDict(off, 'timm', { reshape: rawReshape });
    expect(again['stages.0.blocks.0.mlp.grn.weight']!.shape).toEqual([16]);
  });

  it('keys outside the naming pass through unchanged (so a strict load names them); mixed namings are refused', () => {
    const mk = (): CheckpointTensor => ({ dtype: 'float32', shape: [1], data: new Float32Array(1), sourceDType: 'float32' });
    const out = toOfficialConvNeXtStateDict({ 'head.fc.weight': mk(), 'head.pre_logits.fc.weight': mk(), extra: mk() }, { reshape: rawReshape });
    expect(Object.keys(out)).toEqual(['head.weight', 'head.pre_logits.fc.weight', 'extra']);
    expect(() => toOfficialConvNeXtStateDict({ 'head.fc.weight': mk(), 'head.weight.x': mk(), 'stem.0.weight': mk(), 'downsample_layers.0.0.weight': mk() }, { reshape: rawReshape })).toThrow(
      /mixes official/,
    );
  });
});
