// A training checkpoint save that was killed mid-write leaves its temp file behind; the next
// save of the same path removes it (but never a temp file of a save still running).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Linear, SGD } from '@tsgrad/nn';
import { defaultTrainConfig } from '../src/train/config.js';
import { loadCheckpoint, removeStaleCheckpointTemps, saveCheckpoint } from '../src/train/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '@tsgrad/nn/node';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-tmp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const progress = { step: 3, epoch: 1, batch: 0, losses: [[1, 2.5]] as [number, number][], evals: [] };

/** The pid of a process that has exited (a save killed mid-write). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('stale checkpoint temp files', () => {
  it('the next save removes the temp file a killed save left, keeps other files', async () => {
    const path = join(dir, 'checkpoint.safetensors');
    const dead = deadPid();
    const stale = join(dir, `.checkpoint.safetensors.${dead}.1764550000000.k3x9q.tmp`);
    const ownOld = join(dir, `.checkpoint.safetensors.${process.pid}.1764550000001.abc.tmp`);
    const otherRun = join(dir, `.other.safetensors.${dead}.1764550000000.k3x9q.tmp`);
    const alive = join(dir, `.checkpoint.safetensors.${process.ppid}.1764550000002.zz.tmp`);
    for (const f of [stale, ownOld, otherRun, alive]) writeFileSync(f, new Uint8Array(100));
    const model = new Linear(3, 2);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    await saveCheckpoint(path, model, opt, null, defaultTrainConfig, progress);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(ownOld)).toBe(false);
    // Another file's temp, and the temp of a process still running, are not ours to remove.
    expect(existsSync(otherRun)).toBe(true);
    expect(existsSync(alive)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.checkpoint.safetensors.' + process.ppid + '.1764550000002.zz.tmp', '.other.safetensors.' + dead + '.1764550000000.k3x9q.tmp', 'checkpoint.safetensors'].sort());
    const back = await loadCheckpoint(path);
    expect(back.progress.step).toBe(3);
  });

  it('a temp file of a save in flight in this process is kept', async () => {
    const path = join(dir, 'ck2.safetensors');
    // Big enough (16 MB) that the write and fsync take a while; retried if it still wins the race.
    const model = new Linear(2048, 2048);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    let checked = false;
    for (let attempt = 0; attempt < 5 && !checked; attempt++) {
      let done = false;
      const saving = saveCheckpoint(path, model, opt, null, defaultTrainConfig, progress).then(() => {
        done = true;
      });
      while (!done) {
        const tmp = readdirSync(dir).filter((n) => n.startsWith('.ck2.safetensors.') && n.endsWith('.tmp'));
        if (tmp.length > 0) {
          expect(await removeStaleCheckpointTemps(path)).toEqual([]);
          expect(existsSync(join(dir, tmp[0]!))).toBe(true);
          checked = true;
          break;
        }
        await new Promise((r) => setImmediate(r));
      }
      await saving;
    }
    expect(checked, 'the save was never caught in flight').toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('.ck2.'))).toEqual([]);
    expect((await loadCheckpoint(path)).progress.step).toBe(3);
  });
});

describe('checkpoint versions', () => {
  it('a version-1 MNIST-family or CIFAR run keeps its stored image size; shapes and folders keep imageSize', async () => {
    const model = new Linear(3, 2);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    // Version 1 saved imageSize 32 by default, and MNIST ignored it: such a run trained at 28.
    const v1 = async (dataset: string) => {
      const path = join(dir, `v1-${dataset}.safetensors`);
      await saveCheckpoint(path, model, opt, null, { ...defaultTrainConfig, dataset: dataset as 'shapes', imageSize: 32 }, progress);
      const { tensors, metadata } = await loadSafetensors(path);
      const meta = JSON.parse(metadata!['tsgrad.train']!) as { version: number };
      expect(meta.version).toBe(2);
      meta.version = 1;
      await saveSafetensors(path, tensors, { 'tsgrad.train': JSON.stringify(meta) });
      return (await loadCheckpoint(path)).config.imageSize;
    };
    expect(await v1('fashion-mnist')).toBeNull();
    expect(await v1('cifar10')).toBeNull();
    expect(await v1('shapes')).toBe(32);
    expect(await v1('folder')).toBe(32);
    // Version 2 means what it says.
    const path = join(dir, 'v2.safetensors');
    await saveCheckpoint(path, model, opt, null, { ...defaultTrainConfig, dataset: 'fashion-mnist', imageSize: 32 }, progress);
    expect((await loadCheckpoint(path)).config.imageSize).toBe(32);
  });
});
