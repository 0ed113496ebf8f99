/**
 * The CLI runs itself again under Node 20's --experimental-wasm-relaxed-simd for commands
 * that compute on wasm (one line says so; TSGRAD_RELAXED_SIMD=0 opts out), and Ctrl-C still
 * saves within a step when it reaches the parent alone or the whole process group.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { engineHasRelaxedSimd, RELAXED_SIMD_FLAG, relaxedSimdReexecReason } from '../src/relaxed-simd-node.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const root = mkdtempSync(join(tmpdir(), 'tsgrad-relaxed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cli = ['--import', 'tsx', '--conditions=source', 'packages/convnext/src/cli.ts'];
const tiny = ['--depths', '1,1,1,1', '--dims', '8,16,16,24', '--image-size', '16', '--val-size', '32', '--batch-size', '16', '--epochs', '1', '--log-every', '1'];
const env = { ...process.env, TSGRAD_RELAXED_SIMD: '' };
/** Whether a fresh Node (as the CLI runs) validates relaxed SIMD without the flag (Node 21+). */
const childHasRelaxed =
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', "const m = await import('./packages/convnext/src/relaxed-simd-node.ts'); process.stdout.write(String(m.engineHasRelaxedSimd()));"], { cwd: repo, encoding: 'utf8' }).stdout === 'true';

function run(args: string[], opts: { env?: NodeJS.ProcessEnv; detached?: boolean; interrupt?: (p: ReturnType<typeof spawn>) => void; log?: string } = {}) {
  const p = spawn(process.execPath, [...cli, ...args], { cwd: repo, env: opts.env ?? env, detached: opts.detached ?? false, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let sentAfter = 0;
  const poll = setInterval(() => {
    if (opts.interrupt && opts.log && sentAfter === 0 && existsSync(opts.log) && readFileSync(opts.log, 'utf8').length > 0) {
      sentAfter = readFileSync(opts.log, 'utf8').trim().split('\n').length;
      opts.interrupt(p);
    }
  }, 10);
  return new Promise<{ code: number | null; stdout: string; stderr: string; sentAfter: number }>((done) =>
    p.on('close', (code) => {
      clearInterval(poll);
      done({ code, stdout, stderr, sentAfter });
    }),
  );
}

describe('relaxed SIMD re-exec', () => {
  const no = () => false;
  it('decides from the command, the backend, the opt-out and the engine', () => {
    expect(relaxedSimdReexecReason(['train'], {}, [], no)).toMatch(/restarting Node .* with --experimental-wasm-relaxed-simd .*TSGRAD_RELAXED_SIMD=0/);
    expect(relaxedSimdReexecReason(['train', '--backend', 'wasm'], {}, [], no)).not.toBeNull();
    expect(relaxedSimdReexecReason(['predict', '--backend=auto'], {}, [], no)).not.toBeNull();
    expect(relaxedSimdReexecReason(['train', '--backend', 'js'], {}, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['eval', '--backend=webgpu'], {}, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['info'], {}, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['export', 'run'], {}, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train', '--help'], {}, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train'], { TSGRAD_RELAXED_SIMD: '0' }, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train'], { TSGRAD_RELAXED_SIMD: 'off' }, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train'], { TSGRAD_RELAXED_SIMD_CHILD: '1' }, [], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train'], {}, [RELAXED_SIMD_FLAG], no)).toBeNull();
    expect(relaxedSimdReexecReason(['train'], {}, [], () => true)).toBeNull();
    // The probe agrees with the flag this process was started with (vitest: none on Node 20).
    if (process.execArgv.includes(RELAXED_SIMD_FLAG)) expect(engineHasRelaxedSimd()).toBe(true);
  });

  it('train on wasm restarts with the flag (where Node needs it), says so once, and the GEMM uses relaxed_madd', async () => {
    const r = await run(['train', ...tiny, '--train-size', '64', '--backend', 'wasm', '--profile', '1', '--out', join(root, 'p')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes(RELAXED_SIMD_FLAG))).toHaveLength(childHasRelaxed ? 0 : 1);
    expect(r.stdout).toContain('relaxed_madd peak');
    const off = await run(['train', ...tiny, '--train-size', '64', '--backend', 'wasm', '--profile', '1', '--out', join(root, 'q')], { env: { ...env, TSGRAD_RELAXED_SIMD: '0' } });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).not.toContain(RELAXED_SIMD_FLAG);
    // Opted out on Node 20: plain SIMD; a newer Node validates relaxed SIMD by itself.
    expect(off.stdout).toContain(childHasRelaxed ? 'relaxed_madd peak' : 'mul+add peak');
  }, 60_000);

  for (const target of ['the parent', 'the process group'] as const) {
    it(`Ctrl-C to ${target} of the restarted CLI saves within a step or two and exits 130`, async () => {
      const out = join(root, target.replace(/ /g, '-'));
      const log = join(out, 'metrics.jsonl');
      const r = await run(['train', ...tiny, '--train-size', '512', '--backend', 'wasm', '--out', out], {
        detached: target === 'the process group',
        log,
        interrupt: (p) => (target === 'the parent' ? p.kill('SIGINT') : process.kill(-p.pid!, 'SIGINT')),
      });
      expect(r.sentAfter).toBeGreaterThan(0);
      if (!childHasRelaxed) expect(r.stderr).toContain(RELAXED_SIMD_FLAG);
      expect(r.stderr).toContain('stopping after this step and saving a checkpoint');
      expect(r.stderr).not.toContain('quit without saving');
      expect(r.code).toBe(130);
      const at = Number(/stopped at step (\d+); resume with --resume\./.exec(r.stdout)?.[1]);
      expect(at).toBeGreaterThanOrEqual(r.sentAfter);
      expect(at).toBeLessThanOrEqual(r.sentAfter + 2);
      expect((JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { step: number }).step).toBe(at);
    }, 60_000);
  }
});
