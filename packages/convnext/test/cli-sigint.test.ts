/**
 * Ctrl-C as a user presses it: `pnpm train` in its own process group gets SIGINT (the
 * terminal signals the whole group); the run saves a checkpoint within a step and says how
 * to resume; `--resume` then finishes the run with its saved configuration.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const root = mkdtempSync(join(tmpdir(), 'tsgrad-sigint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 1 epoch of 32 tiny steps on js: long enough to interrupt, a few seconds in all. */
const tiny = ['--depths', '1,1,1,1', '--dims', '8,16,16,24', '--image-size', '16', '--train-size', '512', '--val-size', '32', '--batch-size', '16', '--epochs', '1', '--backend', 'js', '--log-every', '1'];

describe('Ctrl-C during training', () => {
  it('under pnpm train: saves within a step or two, exits 130 with how to resume; --resume finishes the run', async () => {
    const out = join(root, 'run');
    const log = join(out, 'metrics.jsonl');
    const p = spawn('pnpm', ['train', ...tiny, '--out', out], { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let sentAfter = 0;
    const poll = setInterval(() => {
      // After the first step's metrics line: Ctrl-C, as a terminal sends it, to the whole group.
      if (sentAfter === 0 && existsSync(log) && readFileSync(log, 'utf8').length > 0) {
        sentAfter = readFileSync(log, 'utf8').trim().split('\n').length;
        process.kill(-p.pid!, 'SIGINT');
      }
    }, 10);
    await new Promise<void>((done) => p.on('close', () => done()));
    clearInterval(poll);
    expect(sentAfter).toBeGreaterThan(0);
    expect(stderr).toContain('stopping after this step and saving a checkpoint (Ctrl-C again to quit now)');
    const stopped = /stopped at step (\d+); resume with --resume\./.exec(stdout);
    expect(stopped, `stdout: ${stdout}\nstderr: ${stderr}`).not.toBeNull();
    const at = Number(stopped![1]);
    expect(at).toBeGreaterThanOrEqual(sentAfter);
    expect(at).toBeLessThanOrEqual(sentAfter + 2);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { step: number; evals: unknown[] };
    expect(metrics.step).toBe(at);
    expect(metrics.evals).toHaveLength(0);

    // Resume as the installed bin runs (node, no tsx parent): the saved 1-epoch configuration is kept.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', 'packages/convnext/src/cli.ts', 'train', '--resume', '--out', out, '--backend', 'js', '--log-every', '1'], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/error|warning/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`resuming at step ${at} of 32`);
    expect(r.stdout).toMatch(/epoch 1: validation loss \d+\.\d{4}, accuracy \d+\.\d%, top-5 \d+\.\d%/);
    const done = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { step: number; config: { epochs: number } };
    expect(done).toMatchObject({ step: 32, config: { epochs: 1 } });
    // metrics.jsonl: one step line per step (none doubled by the stop), then the epoch line.
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.step)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(lines.at(-1)).toMatchObject({ kind: 'epoch', step: 32 });
  }, 120_000);

  it('run by node as the installed bin is (no tsx parent): Ctrl-C saves within a step or two', async () => {
    const out = join(root, 'bin');
    const log = join(out, 'metrics.jsonl');
    const p = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'packages/convnext/src/cli.ts', 'train', ...tiny, '--out', out], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    let sentAfter = 0;
    const poll = setInterval(() => {
      if (sentAfter === 0 && existsSync(log) && readFileSync(log, 'utf8').length > 0) {
        sentAfter = readFileSync(log, 'utf8').trim().split('\n').length;
        p.kill('SIGINT');
      }
    }, 10);
    const code = await new Promise<number | null>((done) => p.on('close', (c) => done(c)));
    clearInterval(poll);
    expect(code).toBe(130);
    const at = Number(/stopped at step (\d+); resume with --resume\./.exec(stdout)?.[1]);
    expect(at).toBeGreaterThanOrEqual(sentAfter);
    expect(at).toBeLessThanOrEqual(sentAfter + 2);
    expect((JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { step: number }).step).toBe(at);
  }, 60_000);
});
