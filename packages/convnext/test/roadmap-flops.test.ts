/** Table 10 recomputed: every step's GFLOPs against the paper's, the counts against built models, and `info --roadmap`. */
import { describe, expect, it, vi } from 'vitest';
import { ROADMAP_PAPER, ROADMAP_STEPS, convnextCost, convnextParameterCount, formatRoadmapTable, roadmap, roadmapConfig, roadmapCost, roadmapTable } from '@tsgrad/convnext';
import { main } from '../src/cli.js';

describe('the roadmap table at 224x224', () => {
  const rows = roadmapTable();

  it('has every step in the paper order with the paper figures', () => {
    expect(rows.map((r) => r.step)).toEqual([...ROADMAP_STEPS]);
    expect(rows.map((r) => r.paper.gflops)).toEqual([4.09, 4.53, 4.42, 2.35, 5.27, 4.64, 4.07, 4.1, 4.15, 4.21, 4.29, 4.15, 4.15, 4.15, 4.46, 4.49]);
    expect(ROADMAP_PAPER['separate-downsampling'].top1).toBe(81.97);
  });

  it('matches Table 10 to its printed precision on every step but bn-to-ln, and within 0.05 on ConvNeXt-T', () => {
    for (const r of rows) {
      const ours = r.flops / 1e9;
      if (r.step === 'bn-to-ln' || r.step === 'separate-downsampling') continue;
      expect(Math.abs(ours - r.paper.gflops), `${r.step}: ours ${ours.toFixed(4)} G, paper ${r.paper.gflops}`).toBeLessThanOrEqual(0.005);
    }
    const t = rows.find((r) => r.step === 'separate-downsampling')!;
    expect(Math.abs(t.flops / 1e9 - 4.49)).toBeLessThanOrEqual(0.05);
  });

  it('bn-to-ln is the one documented mismatch: a norm swap cannot add 0.3 G; ours rounds to Figure 2 (4.2)', () => {
    const ln = rows.find((r) => r.step === 'bn-to-ln')!;
    const prev = rows.find((r) => r.step === 'fewer-norms')!;
    expect((ln.flops / 1e9).toFixed(1)).toBe('4.2');
    // Everything the LayerNorms add (5 FLOPs per normalised element) is under 0.02 G.
    expect(ln.flops - prev.flops).toBeGreaterThan(0);
    expect(ln.flops - prev.flops).toBeLessThan(0.02e9);
  });

  it('the last step is ConvNeXt-T (the ConvNeXt cost and parameter count)', () => {
    const t = rows[rows.length - 1]!;
    expect(t.flops).toBe(convnextCost({ variant: 'tiny' }).flops);
    expect(t.params).toBe(convnextParameterCount('tiny'));
  });

  it('counts the parameters of the networks it describes (every step, scaled down and built)', () => {
    for (const step of ROADMAP_STEPS) {
      const changes = { width: 8, depths: [1, 2, 1, 1] as const };
      const m = roadmap(step, { changes, numClasses: 7 });
      try {
        expect(m.numParameters(), step).toBe(roadmapCost(roadmapConfig(step, changes), { numClasses: 7 }).params);
      } finally {
        m.dispose();
      }
    }
  });

  it('rejects bad sizes by name', () => {
    expect(() => roadmapCost(roadmapConfig('resnet50'), { inputSize: 0 })).toThrow(/inputSize must be a positive integer, got 0/);
    expect(() => roadmapCost(roadmapConfig('resnet50'), { numClasses: 1.5 })).toThrow(/numClasses must be a positive integer/);
  });
});

describe('tsgrad-convnext info --roadmap', () => {
  it('prints every step with ours and the paper figures', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    let code: number;
    try {
      code = await main(['info', '--roadmap']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(out).toBe(formatRoadmapTable());
    expect(out).toMatch(/^ 0 {2}resnet50 +25\.56M +4\.09 +4\.09 +0\.00 +78\.82$/m);
    expect(out).toMatch(/^14 {2}bn-to-ln +25\.83M +4\.16 +4\.46 +-0\.30 +81\.47$/m);
    expect(out).toMatch(/^15 {2}separate-downsampling +28\.59M +4\.47 +4\.49 +-0\.02 +81\.97$/m);
  });
});
