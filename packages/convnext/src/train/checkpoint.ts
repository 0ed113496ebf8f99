/**
 * Training checkpoints: one safetensors file holding the model, the optimizer state and
 * (optionally) the EMA weights, with the run's progress and config as JSON metadata.
 * Written atomically (temp file + fsync + rename), so a crash never leaves a half file;
 * the temp file a killed save leaves behind is removed by the next save of the same path.
 */
import type { Tensor } from '@tsgrad/core';
import type { Module, Optimizer, BaseGroup, ParamState } from '@tsgrad/nn';
import { loadSafetensors, saveSafetensors } from '@tsgrad/nn/node';
import type { TrainConfig } from './config.js';

/** One epoch's validation result. */
export interface EpochEval {
  /** The epoch just finished (1-based). */
  readonly epoch: number;
  /** Optimizer steps done by then. */
  readonly step: number;
  /** Mean validation cross-entropy. */
  readonly loss: number;
  /** Validation top-1 accuracy. */
  readonly accuracy: number;
  /** Validation top-5 accuracy (absent in checkpoints written before it was measured). */
  readonly top5?: number;
}

/** Where a run is: the next step to run and what it has measured so far. */
export interface TrainProgress {
  /** Completed optimizer steps. */
  readonly step: number;
  /** Epoch of the next step (0-based). */
  readonly epoch: number;
  /** Batch of the next step within its epoch. */
  readonly batch: number;
  /** Training loss per step. */
  readonly losses: readonly [number, number][];
  /** Validation results per finished epoch. */
  readonly evals: readonly EpochEval[];
}

/** What a checkpoint's metadata holds. */
interface CheckpointMeta {
  readonly format: 'tsgrad-train-checkpoint';
  /** 2 since `imageSize` resizes MNIST/Fashion-MNIST; version 1 configs are read as 2 by {@link configOfVersion}. */
  readonly version: 1 | 2;
  readonly config: TrainConfig;
  readonly progress: TrainProgress;
  /** Optimizer hyper-parameters per group, and the numeric (non-tensor) state per parameter index. */
  readonly optimizer: { readonly paramGroups: readonly Record<string, unknown>[]; readonly scalars: Record<string, Record<string, number>>; readonly stepCount: number };
}

const META_KEY = 'tsgrad.train';

/** Saves of each path in flight in this process, so that cleanup never removes a live temp file. */
const inFlight = new Map<string, number>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files that earlier saves of `path` left behind when killed mid-write
 * (`writeFileAtomic` names them `.<name>.<pid>.<time>.<random>.tmp`). A temp file whose
 * process is still running (another save in progress) is kept. Returns the removed paths.
 * Node only (imports `node:fs` lazily).
 */
export async function removeStaleCheckpointTemps(path: string): Promise<string[]> {
  const fs = await import('node:fs');
  const nodePath = await import('node:path');
  const dir = nodePath.dirname(path);
  const base = nodePath.basename(path);
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const prefix = `.${base}.`;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.[a-z0-9]*\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    // Our own pid: stale unless this process is saving `path` right now.
    const live = pid === process.pid ? (inFlight.get(path) ?? 0) > 0 : processAlive(pid);
    if (live) continue;
    const full = nodePath.join(dir, name);
    await fs.promises.rm(full, { force: true });
    removed.push(full);
  }
  return removed;
}

/** Saves model, optimizer (and EMA) state and progress to `path` atomically. */
export async function saveCheckpoint(path: string, model: Module, optimizer: Optimizer<BaseGroup>, ema: Module | null, config: TrainConfig, progress: TrainProgress): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[`model.${k}`] = v;
  if (ema) for (const [k, v] of Object.entries(ema.stateDict())) tensors[`ema.${k}`] = v;
  const sd = optimizer.stateDict();
  const scalars: Record<string, Record<string, number>> = {};
  for (const [i, st] of Object.entries(sd.state)) {
    for (const [name, v] of Object.entries(st)) {
      if (typeof v === 'number') (scalars[i] ??= {})[name] = v;
      else tensors[`optim.${i}.${name}`] = v;
    }
  }
  const meta: CheckpointMeta = {
    format: 'tsgrad-train-checkpoint',
    version: 2,
    config,
    progress,
    optimizer: { paramGroups: sd.paramGroups, scalars, stepCount: optimizer.stepCount },
  };
  await removeStaleCheckpointTemps(path);
  inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
  try {
    await saveSafetensors(path, tensors, { [META_KEY]: JSON.stringify(meta) });
  } finally {
    const left = (inFlight.get(path) ?? 1) - 1;
    if (left > 0) inFlight.set(path, left);
    else inFlight.delete(path);
  }
}

/** A loaded checkpoint, before it is applied. */
export interface LoadedCheckpoint {
  /** The run's configuration as saved. */
  readonly config: TrainConfig;
  /** Where the run stopped. */
  readonly progress: TrainProgress;
  /** Puts the saved weights and optimizer state into `model`, `optimizer` (and `ema`). */
  apply(model: Module, optimizer: Optimizer<BaseGroup>, ema: Module | null): void;
  /**
   * Puts only the weights into `model` for evaluation: the EMA weights when the run kept an
   * EMA (what its validation measured), else the model's. Returns which were loaded.
   */
  applyWeights(model: Module): 'ema' | 'model';
}

/**
 * A saved configuration as this version reads it. Before version 2, `imageSize` (saved as 32
 * by default) applied only to the built-in shapes and image folders: MNIST, Fashion-MNIST
 * and CIFAR runs were trained at their stored size, which is what null now says.
 */
export function configOfVersion(config: TrainConfig, version: 1 | 2): TrainConfig {
  if (version === 1 && config.dataset !== 'shapes' && config.dataset !== 'folder') return { ...config, imageSize: null };
  return config;
}

/** Reads a checkpoint written by {@link saveCheckpoint}, with clear errors for anything else. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await loadSafetensors(path);
  const raw = metadata?.[META_KEY];
  if (raw === undefined) throw new Error(`checkpoint '${path}': not a tsgrad training checkpoint (no '${META_KEY}' metadata); to start from plain weights, load them into the model instead`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(raw) as CheckpointMeta;
  } catch (e) {
    throw new Error(`checkpoint '${path}': its '${META_KEY}' metadata is not valid JSON (${(e as Error).message})`);
  }
  if (meta.format !== 'tsgrad-train-checkpoint' || (meta.version !== 1 && meta.version !== 2)) throw new Error(`checkpoint '${path}': unsupported format ${meta.format} version ${meta.version}`);
  const part = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  return {
    config: configOfVersion(meta.config, meta.version),
    progress: meta.progress,
    apply(model, optimizer, ema) {
      model.loadStateDict(part('model.'));
      if (ema) {
        const e = part('ema.');
        if (Object.keys(e).length === 0) throw new Error(`checkpoint '${path}': the run uses an EMA but the checkpoint has none`);
        ema.loadStateDict(e);
      }
      const state: Record<number, ParamState> = {};
      for (const [k, v] of Object.entries(part('optim.'))) {
        const dot = k.indexOf('.');
        (state[Number(k.slice(0, dot))] ??= {})[k.slice(dot + 1)] = v;
      }
      for (const [i, sc] of Object.entries(meta.optimizer.scalars)) Object.assign((state[Number(i)] ??= {}), sc);
      optimizer.loadStateDict({ state, paramGroups: meta.optimizer.paramGroups as (Record<string, unknown> & { params: number[] })[] });
      optimizer.stepCount = meta.optimizer.stepCount;
      // The loaded copies are the optimizer's own now; free ours.
      for (const t of Object.values(tensors)) t.dispose();
    },
    applyWeights(model) {
      const e = part('ema.');
      const which = Object.keys(e).length > 0 ? 'ema' : 'model';
      model.loadStateDict(which === 'ema' ? e : part('model.'));
      for (const t of Object.values(tensors)) t.dispose();
      return which;
    },
  };
}
