/**
 * Key mapping between the official ConvNeXt state-dict names (facebookresearch/ConvNeXt,
 * which tsgrad's model uses) and timm's names, following timm's `checkpoint_filter_fn`
 * (reference §5.3):
 *
 * | official | timm |
 * |---|---|
 * | `downsample_layers.0.{0,1}.*` | `stem.{0,1}.*` |
 * | `downsample_layers.{i}.{0,1}.*`, i ≥ 1 | `stages.{i}.downsample.{0,1}.*` |
 * | `stages.{i}.{j}.dwconv.*` | `stages.{i}.blocks.{j}.conv_dw.*` |
 * | `stages.{i}.{j}.norm.*` | `stages.{i}.blocks.{j}.norm.*` |
 * | `stages.{i}.{j}.pwconv1.*` / `pwconv2.*` | `stages.{i}.blocks.{j}.mlp.fc1.*` / `mlp.fc2.*` |
 * | `stages.{i}.{j}.gamma` | `stages.{i}.blocks.{j}.gamma` |
 * | `stages.{i}.{j}.grn.gamma` / `grn.beta` (V2, [1,1,1,D]) | `stages.{i}.blocks.{j}.mlp.grn.weight` / `.bias` ([D]) |
 * | `norm.*` | `head.norm.*` |
 * | `head.*` | `head.fc.*` |
 *
 * timm models with `conv_mlp=True` store `mlp.fc1/fc2.weight` as `[out, in, 1, 1]`; the
 * state-dict converters squeeze them to the official `[out, in]`.
 *
 * @module
 */
import { reshape } from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { CheckpointError } from './errors.js';

/** Which naming a ConvNeXt state dict uses. */
export type ConvNeXtNaming = 'official' | 'timm';

const BLOCK_OFFICIAL_TO_TIMM: Record<string, string> = {
  dwconv: 'conv_dw',
  norm: 'norm',
  pwconv1: 'mlp.fc1',
  pwconv2: 'mlp.fc2',
  'grn.gamma': 'mlp.grn.weight',
  'grn.beta': 'mlp.grn.bias',
};

/**
 * Maps an official ConvNeXt key to timm's name, or returns `null` when the key is not a
 * ConvNeXt key in official naming.
 */
export function officialToTimmKey(key: string): string | null {
  let m = /^downsample_layers\.(\d+)\.([01])\.(.+)$/.exec(key);
  if (m) return m[1] === '0' ? `stem.${m[2]}.${m[3]}` : `stages.${m[1]}.downsample.${m[2]}.${m[3]}`;
  m = /^stages\.(\d+)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const [, i, j, rest] = m as unknown as [string, string, string, string];
    if (rest === 'gamma') return `stages.${i}.blocks.${j}.gamma`;
    if (rest === 'grn.gamma' || rest === 'grn.beta') return `stages.${i}.blocks.${j}.${BLOCK_OFFICIAL_TO_TIMM[rest]}`;
    const dot = rest.indexOf('.');
    const mod = dot < 0 ? rest : rest.slice(0, dot);
    // Own keys only: `mod` comes from the file and may be `constructor` or `__proto__`.
    const mapped = Object.prototype.hasOwnProperty.call(BLOCK_OFFICIAL_TO_TIMM, mod) ? BLOCK_OFFICIAL_TO_TIMM[mod] : undefined;
    if (mapped === undefined || dot < 0) return null;
    return `stages.${i}.blocks.${j}.${mapped}${rest.slice(dot)}`;
  }
  m = /^norm\.(.+)$/.exec(key);
  if (m) return `head.norm.${m[1]}`;
  m = /^head\.(.+)$/.exec(key);
  if (m) return `head.fc.${m[1]}`;
  return null;
}

/**
 * Maps a timm ConvNeXt key to the official name, or returns `null` when the key is not a
 * ConvNeXt key in timm naming. A downsample in timm's stage 0 has no official counterpart
 * (the official stage 0 is entered through the stem) and throws.
 */
export function timmToOfficialKey(key: string): string | null {
  let m = /^stem\.([01])\.(.+)$/.exec(key);
  if (m) return `downsample_layers.0.${m[1]}.${m[2]}`;
  m = /^stages\.(\d+)\.downsample\.([01])\.(.+)$/.exec(key);
  if (m) {
    if (m[1] === '0') throw new CheckpointError(`timm key '${key}': a downsample in stage 0 has no official ConvNeXt counterpart`);
    return `downsample_layers.${m[1]}.${m[2]}.${m[3]}`;
  }
  m = /^stages\.(\d+)\.blocks\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const [, i, j, rest] = m as unknown as [string, string, string, string];
    if (rest === 'gamma') return `stages.${i}.${j}.gamma`;
    if (rest === 'mlp.grn.weight') return `stages.${i}.${j}.grn.gamma`;
    if (rest === 'mlp.grn.bias') return `stages.${i}.${j}.grn.beta`;
    for (const [off, timm] of Object.entries(BLOCK_OFFICIAL_TO_TIMM)) {
      if (off.startsWith('grn.')) continue;
      if (rest.startsWith(`${timm}.`)) return `stages.${i}.${j}.${off}${rest.slice(timm.length)}`;
    }
    return null;
  }
  m = /^head\.norm\.(.+)$/.exec(key);
  if (m) return `norm.${m[1]}`;
  m = /^head\.fc\.(.+)$/.exec(key);
  if (m) return `head.${m[1]}`;
  return null;
}

/**
 * Tells which naming a ConvNeXt state dict uses from its keys: `'timm'` when any key has a
 * timm-only form (`stem.*`, `stages.*.blocks.*`, `stages.*.downsample.*`, `head.fc.*`,
 * `head.norm.*`), `'official'` when any has an official-only form (`downsample_layers.*`,
 * `stages.{i}.{j}.*`, `norm.*`, `head.weight`/`head.bias`), `null` when neither.
 * Throws if the keys mix both.
 */
export function detectConvNeXtNaming(keys: Iterable<string>): ConvNeXtNaming | null {
  let timm: string | undefined;
  let official: string | undefined;
  for (const k of keys) {
    if (/^(stem\.[01]\.|stages\.\d+\.(blocks|downsample)\.|head\.(fc|norm)\.)/.test(k)) timm ??= k;
    else if (/^(downsample_layers\.\d+\.|stages\.\d+\.\d+\.|norm\.|head\.(weight|bias)$)/.test(k)) official ??= k;
  }
  if (timm !== undefined && official !== undefined) {
    throw new CheckpointError(`state dict mixes official ConvNeXt names ('${official}') with timm names ('${timm}')`);
  }
  return timm !== undefined ? 'timm' : official !== undefined ? 'official' : null;
}

/** Something with a shape, so that the converters work on tensors and on raw records alike. */
export interface Shaped {
  readonly shape: readonly number[];
}

function defineOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (Object.prototype.hasOwnProperty.call(obj, key)) throw new CheckpointError(`two keys map to '${key}'`);
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** How a value's shape must change for the target naming, or null to keep it. */
function targetShape(officialKey: string, shape: readonly number[], toTimm: boolean, convMlp: boolean): number[] | null {
  if (/\.pwconv[12]\.weight$/.test(officialKey)) {
    if (!toTimm && shape.length === 4 && shape[2] === 1 && shape[3] === 1) return [shape[0]!, shape[1]!];
    if (toTimm && convMlp && shape.length === 2) return [shape[0]!, shape[1]!, 1, 1];
  }
  if (/\.grn\.(gamma|beta)$/.test(officialKey)) {
    const d = shape[shape.length - 1] ?? 1;
    if (!toTimm && shape.length === 1) return [1, 1, 1, d];
    if (toTimm && shape.length === 4) return [d];
  }
  return null;
}

/** Options for {@link convertConvNeXtStateDict}. */
export interface ConvertOptions<T> {
  /** Reshapes a value; defaults to `@tsgrad/core`'s `reshape` (for {@link Tensor}s). */
  reshape?: (value: T, shape: number[]) => T;
  /** Official → timm only: store `mlp.fc1/fc2.weight` as `[out, in, 1, 1]` (timm's `conv_mlp=True` models). */
  convMlp?: boolean;
}

/**
 * Converts a ConvNeXt state dict to the `to` naming (auto-detecting the source naming).
 * Keys that are not ConvNeXt keys of the detected naming are kept unchanged, so that a
 * strict `loadStateDict` names them as unexpected. Values are reshaped where the namings
 * differ in shape (timm `conv_mlp` 4-D MLP weights, V2 GRN parameters).
 */
export function convertConvNeXtStateDict<T extends Shaped = Tensor>(
  stateDict: Record<string, T>,
  to: ConvNeXtNaming,
  options: ConvertOptions<T> = {},
): Record<string, T> {
  const keys = Object.keys(stateDict);
  const from = detectConvNeXtNaming(keys);
  const doReshape = options.reshape ?? ((v: T, shape: number[]) => reshape(v as unknown as Tensor, shape) as unknown as T);
  const out: Record<string, T> = {};
  for (const k of keys) {
    const v = stateDict[k]!;
    if (from === null || from === to) {
      defineOwn(out, k, v);
      continue;
    }
    const mapped = from === 'timm' ? timmToOfficialKey(k) : officialToTimmKey(k);
    if (mapped === null) {
      defineOwn(out, k, v);
      continue;
    }
    const officialKey = from === 'official' ? k : mapped;
    const shape = targetShape(officialKey, v.shape, to === 'timm', options.convMlp ?? false);
    defineOwn(out, mapped, shape ? doReshape(v, shape) : v);
  }
  return out;
}

/** Converts a ConvNeXt state dict in either naming to the official naming (tsgrad's). */
export function toOfficialConvNeXtStateDict<T extends Shaped = Tensor>(stateDict: Record<string, T>, options: ConvertOptions<T> = {}): Record<string, T> {
  return convertConvNeXtStateDict(stateDict, 'official', options);
}
