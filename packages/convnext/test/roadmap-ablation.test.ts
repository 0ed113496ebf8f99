/** `tsgrad-convnext roadmap-ablation` as a user runs it: two steps for a few iterations, its files, and its errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { scaledRoadmapConfig, type AblationRow } from '../src/roadmap-ablation-node.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-ablation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true)),
  ];
  try {
    return { code: await main(args), out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

describe('tsgrad-convnext roadmap-ablation', () => {
  it('scales each step: the width (x1.5 from resnextify on) and the two depth regimes', () => {
    expect(scaledRoadmapConfig('resnet50', 16, [1, 2, 2, 1], [1, 1, 3, 1])).toMatchObject({ width: 16, depths: [1, 2, 2, 1], stem: 'resnet' });
    expect(scaledRoadmapConfig('stage-ratio', 16, [1, 2, 2, 1], [1, 1, 3, 1]).depths).toEqual([1, 1, 3, 1]);
    expect(scaledRoadmapConfig('resnextify', 16, [1, 2, 2, 1], [1, 1, 3, 1]).width).toBe(24);
  });

  it('runs two steps for a few iterations and writes run folders, the summary table and the plot', async () => {
    const out = join(root, 'sweep');
    const r = await cli('roadmap-ablation', '--steps', 'resnet50,separate-downsampling', '--iterations', '3', '--batch-size', '8', '--train-size', '48', '--val-size', '20', '--width', '8', '--backend', 'js', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^resnet50: top-1 \d+\.\d%, top-5 \d+\.\d%/m);
    for (const d of ['00-resnet50', '01-separate-downsampling']) {
      expect(existsSync(join(out, d, 'model.safetensors')), d).toBe(true);
      const m = JSON.parse(readFileSync(join(out, d, 'metrics.json'), 'utf8')) as AblationRow & { losses: number[] };
      expect(m.losses).toHaveLength(3);
    }
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { rows: AblationRow[]; iterations: number };
    expect(s.iterations).toBe(3);
    expect(s.rows.map((x) => x.step)).toEqual(['resnet50', 'separate-downsampling']);
    for (const x of s.rows) {
      expect(x.top1).toBeGreaterThanOrEqual(0);
      expect(x.top5).toBeGreaterThanOrEqual(x.top1);
      expect(x.top5).toBeLessThanOrEqual(1);
      expect(x.imagesPerSec).toBeGreaterThan(0);
      expect(Number.isFinite(x.valLoss)).toBe(true);
    }
    expect(s.rows[1]!.paperTop1).toBe(81.97);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\| 1 \| separate-downsampling \| [\d,]+ \|/);
    expect(readFileSync(join(out, 'summary.svg'), 'utf8')).toMatch(/^<svg /);
  }, 300_000);

  it('rejects bad flags by name with exit code 2', async () => {
    const a = await cli('roadmap-ablation', '--steps', 'resnet50,kernel-13');
    expect(a.code).toBe(2);
    expect(a.err).toContain("--steps: unknown step 'kernel-13'");
    const b = await cli('roadmap-ablation', '--iterations', '0');
    expect(b.err).toContain("--iterations must be a positive integer, got '0'");
    const c = await cli('roadmap-ablation', '--depths', '1,2,3');
    expect(c.err).toContain("--depths needs 4 comma-separated integers, got '1,2,3'");
    const h = await cli('roadmap-ablation', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^Usage: tsgrad-convnext roadmap-ablation \[options\]/);
  });
});
