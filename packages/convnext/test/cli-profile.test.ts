/** `tsgrad-convnext train --profile N` end to end: a tiny run profiles N steps after a warm-up step, prints the top ops and writes a Chrome trace. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTrainArgs } from '../src/cli.js';
import { cli } from './helpers/cli-run.js';
import { writeIdxDataset } from './helpers/idx-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-cli-profile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = writeIdxDataset(join(root, 'fashion'), { train: 32, test: 10, side: 16 });


const micro = ['--depths', '1,1,1,1', '--dims', '8,16,16,24', '--epochs', '1', '--batch-size', '8', '--backend', 'js', '--warmup-epochs', '0'];

describe('train --profile', () => {
  it('profiles N steps after one warm-up step, prints the top ops and writes the trace', async () => {
    const out = join(root, 'run');
    const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', data, ...micro, '--profile', '2', '--out', out);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/profile of 2 training steps \(after 1 warm-up step\), \d+ ms a step; the step's parts:/);
    expect(r.out).toContain('top ops by self time:');
    expect(r.out).toMatch(/^Name\s+Kind\s+Phase\s+Calls\s+Self ms/m);
    // The engine's labels and the backward pass show as rows.
    expect(r.out).toMatch(/^model\.forward\s+region\s+fwd\s+2\s/m);
    expect(r.out).toMatch(/^autograd\.backward\s+region\s+bwd\s+2\s/m);
    expect(r.out).toMatch(/^optimizer\.step\s+region\s+fwd\s+2\s/m);
    const trace = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8')) as { traceEvents: { name: string; ph: string; ts?: number; dur?: number; cat?: string }[] };
    const steps = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'autograd.backward');
    expect(steps.length).toBe(2);
    expect(trace.traceEvents.some((e) => e.cat === 'prim' && e.name === 'matmul')).toBe(true);
    // It stopped after 3 steps and saved the run there (no evaluation ran).
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { step: number; evals: unknown[] };
    expect(metrics.step).toBe(3);
    expect(metrics.evals).toEqual([]);
    expect(existsSync(join(out, 'last.safetensors'))).toBe(true);
  }, 120_000);

  it('rejects a bad step count by name', async () => {
    expect(parseTrainArgs(['--profile', '3']).profile).toBe(3);
    expect(parseTrainArgs([]).profile).toBeNull();
    const r = await cli('train', '--profile', '0');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--profile must be a positive number of steps, got 0');
    expect((await cli('train', '--profile', 'x')).err).toContain("--profile must be an integer, got 'x'");
  });
});
