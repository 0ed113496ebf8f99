/**
 * `pad` with PyTorch's modes: `'constant'` (the `embed` primitive, in views.ts),
 * `'reflect'`, `'replicate'` and `'circular'`. The non-constant modes pick, for each
 * padded dim, source positions with `indexSelect`, so their gradient adds each border
 * position's gradient back into the element it copied.
 */
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromTypedArray } from './creation.js';
import { indexSelect } from './indexing.js';
import { pad as constantPad } from './views.js';

/** The padding modes of {@link pad}, as `torch.nn.functional.pad`. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
/** The padding modes, for validation. */
export const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/** Options of {@link pad}. */
export interface PadOptions {
  /** How to fill the border (default `'constant'`). */
  readonly mode?: PadMode;
  /** The fill of `'constant'` mode (default 0). */
  readonly value?: number;
}

/** Source position along a dim of length `n` of padded position `i` (`i < 0` left of the input, `i >= n` right of it). */
function source(mode: Exclude<PadMode, 'constant'>, i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'reflect':
      return i < 0 ? -i : 2 * (n - 1) - i;
    case 'replicate':
      return i < 0 ? 0 : n - 1;
    case 'circular':
      return ((i % n) + n) % n;
  }
}

/**
 * Pads the last dims as `torch.nn.functional.pad`: `pads = [left, right, top, bottom, ...]`
 * (pairs from the last dim backwards, non-negative). The third argument is the constant
 * fill (the old signature `pad(x, pads, value)`) or `{ mode, value }`:
 * - `'constant'`: `value` (default 0) around the input;
 * - `'reflect'`: the input mirrored without repeating the edge (`[1, 2, 3]` padded by 2
 *   gives `[3, 2, 1, 2, 3, 2, 1]`); each pad must be smaller than its dim;
 * - `'replicate'`: the edge value repeated; each padded dim must be non-empty;
 * - `'circular'`: the input wrapped around; each pad must be at most its dim.
 * Unlike PyTorch, which pads 1 to 3 trailing dims of a 2-D to 5-D input in these modes,
 * any number of trailing dims of any input may be padded; negative pads (cropping) are
 * not supported in any mode.
 */
export function pad(x: Tensor, pads: readonly number[], opts: number | PadOptions = 0): Tensor {
  const { mode = 'constant', value = 0 } = typeof opts === 'number' ? { value: opts } : opts;
  if (!PAD_MODES.includes(mode)) throw new RangeError(`pad: mode must be one of ${PAD_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  if (mode === 'constant') return constantPad(x, pads, value);
  if (typeof opts !== 'number' && opts.value !== undefined && opts.value !== 0) {
    throw new RangeError(`pad: a fill value (${opts.value}) only applies to mode 'constant', not '${mode}'`);
  }
  x.assertLive('pad');
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new RangeError(`pad: pads must come in pairs for at most ${x.ndim} dims, got ${fmtShape(pads)}`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new RangeError(`pad: pads must be non-negative integers in mode '${mode}', got ${fmtShape(pads)}`);
  let y = x;
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const [left, right] = [pads[2 * i]!, pads[2 * i + 1]!];
    if (!left && !right) continue;
    const n = x.shape[d]!;
    if (mode === 'reflect' && (left >= n || right >= n)) {
      throw new RangeError(`pad: reflect padding (${left}, ${right}) of dimension ${d} must be smaller than its size ${n} (input ${fmtShape(x.shape)})`);
    }
    if (mode === 'replicate' && n === 0) throw new RangeError(`pad: replicate padding needs a non-empty dimension ${d} (input ${fmtShape(x.shape)})`);
    if (mode === 'circular' && (left > n || right > n)) {
      throw new RangeError(`pad: circular padding (${left}, ${right}) of dimension ${d} must be at most its size ${n}, so it wraps around once (input ${fmtShape(x.shape)})`);
    }
    const idx = Int32Array.from({ length: left + n + right }, (_, j) => source(mode, j - left, n));
    const index = fromTypedArray(idx, [idx.length], 'int32', x.backend);
    y = indexSelect(y, d, index);
  }
  return y;
}
