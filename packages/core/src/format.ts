/** Rendering tensors as text, in the style of PyTorch's repr. */
import type { Tensor } from './tensor.js';

const EDGE = 3; // items shown at each end of a long dimension
const SUMMARIZE_OVER = 1000;

function fmtNumber(v: number, isFloat: boolean, decimals: number): string {
  if (!isFloat) return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(decimals);
}

/** Formats a tensor as `tensor([[1.0000, 2.0000], ...], dtype=float32)`. */
export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return `tensor(<disposed>, shape=[${t.shape.join(', ')}], dtype=${t.dtype})`;
  const suffix = `${t.dtype === 'float32' ? '' : `, dtype=${t.dtype}`}${t.backend.name === 'js' ? '' : `, backend=${t.backend.name}`}${t.requiresGrad ? ', requiresGrad=true' : ''}`;
  if (!t.backend.canReadSync) return `tensor(shape=[${t.shape.join(', ')}], dtype=${t.dtype}, backend=${t.backend.name})`;
  const data = t.dataSync();
  const isFloat = t.dtype === 'float32' || t.dtype === 'float64';
  const isBool = t.dtype === 'bool';
  const summarize = data.length > SUMMARIZE_OVER;
  const render = (v: number) => (isBool ? (v ? 'true' : 'false') : fmtNumber(v, isFloat, 4));
  let width = 0;
  for (const v of data) width = Math.max(width, render(v).length);
  const strides: number[] = [];
  let s = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t.shape[i]!;
  }
  const indent = 'tensor('.length;
  const build = (dim: number, at: number): string => {
    if (dim === t.ndim) return render(data[at]!).padStart(width);
    const n = t.shape[dim]!;
    const idx = summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? '...' : build(dim + 1, at + i * strides[dim]!)));
    const sep = dim === t.ndim - 1 ? ', ' : ',' + '\n'.repeat(t.ndim - dim - 1) + ' '.repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  return `tensor(${build(0, 0)}${suffix})`;
}
