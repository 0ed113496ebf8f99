/** End-to-end: the core-only example runs, learns, and writes its metrics. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'tsgrad-train-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function train(...args: string[]) {
  return spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', '--conditions=source', 'examples/small-convnet.ts', ...args], { cwd: root, encoding: 'utf8' });
}

describe('examples/small-convnet.ts', () => {
  it('trains, the loss falls, and it writes its metrics', () => {
    const r = train('--steps', '80', '--batch', '32', '--out', out);
    expect(r.stderr + r.stdout).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/accuracy before training/);
    expect(r.stdout).toMatch(/step 80\/80: loss/);
    const m = /loss: first 10 steps ([\d.]+) -> last 10 steps ([\d.]+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]) * 0.7);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { losses: unknown[]; accuracy: number };
    expect(metrics.losses).toHaveLength(80);
    expect(metrics.accuracy).toBeGreaterThan(0.4);
  });

  it('rejects bad arguments with a message naming the flag', () => {
    const r = train('--steps', 'many', '--out', out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--steps must be a positive integer, got 'many'/);
    const s = train('--size', '10', '--out', out);
    expect(s.stderr).toMatch(/--size must be a multiple of 4/);
  });
});
