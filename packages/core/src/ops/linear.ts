/**
 * Linear layers as one op: `linear` (PyTorch's `F.linear`) and `fusedLinear`, which also
 * folds an activation, a per-feature scale and a residual add into the product, as
 * ConvNeXt's pointwise convolutions need (`pwconv1` = linear + GELU; `pwconv2` = linear,
 * layer scale `gamma`, residual). A backend with the fused kernel
 * ({@link Backend.matmulEpilogue}) applies them as the GEMM stores its result; otherwise the
 * op is composed from matmul, add, gelu and mul. Either way the values are those of the
 * composed ops (to float32 rounding), and the gradients are exact.
 */
import { activeSink } from '../profile-span.js';
import { isGradEnabled, noGrad, withGrad } from '../autograd.js';
import { tidy } from '../memory.js';
import type { MatmulEpilogue, View } from '../backend.js';
import { fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, gelu, geluBackward, mul } from './elementwise.js';
import { matmul } from './linalg.js';
import { requireFloat, sameBackend, sameDtype } from './prim.js';
import { sum } from './reduce.js';
import { permute, reshape } from './views.js';

/** The steps {@link fusedLinear} applies after the product, in this order. */
export interface FusedLinearOptions {
  /** Added per output feature (`[out]`), as `F.linear`'s bias. */
  readonly bias?: Tensor | null;
  /** GELU after the bias: `'gelu'` (exact erf form, `nn.GELU()`) or `'gelu_tanh'` (`approximate='tanh'`). */
  readonly activation?: 'gelu' | 'gelu_tanh' | null;
  /** Multiplies each output feature after the activation (`[out]`; ConvNeXt's layer scale). */
  readonly scale?: Tensor | null;
  /** Added last, of the output's shape `[..., out]` (no broadcasting). */
  readonly residual?: Tensor | null;
}

/**
 * `x @ weight^T + bias`, as `torch.nn.functional.linear`: `x` `[..., in]`, `weight`
 * `[out, in]`, optional `bias` `[out]`; the result is `[..., out]`.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return fusedLinear(x, weight, { bias });
}

function vectorOf(op: string, name: string, t: Tensor, n: number): void {
  if (t.ndim !== 1 || t.shape[0] !== n) throw new RangeError(`${op}: ${name} must have shape [${n}] (one per output feature), got ${fmtShape(t.shape)}`);
}

/** The strides of a `[..., N]` view whose memory is the contiguous `[G, N, P]` (P = the trailing lead dims from `split` on). */
function channelsFirstStrides(lead: readonly number[], split: number, n: number): number[] {
  const p = lead.slice(split).reduce((a, b) => a * b, 1);
  const st = new Array<number>(lead.length + 1);
  let acc = 1;
  for (let d = lead.length - 1; d >= split; d--) {
    st[d] = acc;
    acc *= lead[d]!;
  }
  st[lead.length] = p;
  acc = n * p;
  for (let d = split - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= lead[d]!;
  }
  return st;
}

/**
 * Whether `r` (`[...lead, N]`) is laid out channels-first: the memory of a `[G, N, P]` array
 * seen with its channels last (as `nchw.permute(0, 2, 3, 1)`). Returns the split of the
 * lead dims into G and P, or -1. Dims of size 1 may have any stride.
 */
function channelsFirstSplit(r: Tensor): number {
  const lead = r.shape.slice(0, -1);
  const n = r.shape[r.ndim - 1]!;
  if (n === 1 || lead.length === 0) return -1;
  for (let split = 0; split < lead.length; split++) {
    const want = channelsFirstStrides(lead, split, n);
    if (r.shape.every((d, i) => d === 1 || r.strides[i] === want[i])) return split;
  }
  return -1;
}

/** What the forward pass of {@link fusedLinear} hands to its backward. */
interface Kept {
  readonly out: Tensor;
  /** `x @ weight^T + bias` (null when no gradient is recorded, or `geluGrad` replaces it). */
  readonly pre: Tensor | null;
  /** `gelu'(x @ weight^T + bias)`, from a backend that computed it in the GEMM's epilogue. */
  readonly geluGrad: Tensor | null;
}

/**
 * `residual + scale * act(x @ weight^T + bias)` in one op: `x` `[..., in]`, `weight`
 * `[out, in]`, `bias` and `scale` `[out]`, `residual` `[..., out]`; each step optional
 * (see {@link FusedLinearOptions}). Values and gradients are those of the composed ops
 * (`F.linear`, `F.gelu`, `*`, `+`).
 *
 * The result is laid out as the residual when the residual is a channels-last view of
 * channels-first memory (`nchw.permute(0, 2, 3, 1)`): then `result.permute(0, 3, 1, 2)`
 * is a contiguous NCHW tensor with no copy; otherwise it is contiguous. For the backward
 * pass it keeps `x @ weight^T + bias` (as the composed ops keep the GELU's input or the
 * layer scale's), or the GELU's derivative where the backend computes it as it stores the
 * result, only when a gradient is being recorded.
 */
export function fusedLinear(x: Tensor, weight: Tensor, opts: FusedLinearOptions = {}): Tensor {
  const op = 'fusedLinear';
  const bias = opts.bias ?? null;
  const scale = opts.scale ?? null;
  const residual = opts.residual ?? null;
  const act = opts.activation ?? null;
  const inputs = [x, weight, ...[bias, scale, residual].filter((t): t is Tensor => t !== null)];
  const b = sameBackend(op, ...inputs);
  for (const t of inputs) sameDtype(op, x, t);
  requireFloat(op, x);
  if (act !== null && act !== 'gelu' && act !== 'gelu_tanh') throw new RangeError(`${op}: activation must be 'gelu' or 'gelu_tanh', got '${String(act)}'`);
  if (weight.ndim !== 2) throw new RangeError(`${op}: weight must be 2-D [out, in], got ${fmtShape(weight.shape)}`);
  const [n, k] = weight.shape as [number, number];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== k) throw new RangeError(`${op}: input ${fmtShape(x.shape)} does not match weight ${fmtShape(weight.shape)}: expected [..., ${k}]`);
  if (bias) vectorOf(op, 'bias', bias, n);
  if (scale) vectorOf(op, 'scale', scale, n);
  const lead = x.shape.slice(0, -1);
  const outShape = [...lead, n];
  if (residual && (residual.ndim !== outShape.length || residual.shape.some((d, i) => d !== outShape[i]))) {
    throw new RangeError(`${op}: residual must have the output's shape ${fmtShape(outShape)}, got ${fmtShape(residual.shape)}`);
  }
  const m = lead.reduce((a, c) => a * c, 1);
  const grad = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // The backward uses the GELU's input only through its derivative, unless the scale needs
  // a gradient (that one needs the GELU's output): otherwise the derivative is all it keeps.
  const wantGeluGrad = grad && act !== null && !scale?.requiresGrad;

  // Intermediates die with the scope; the result (and what the backward keeps) move out of it.
  const run = (): Kept => noGrad(() => tidy(() => {
    const x2 = reshape(x, [m, k]);
    const wt = weight.T;
    const split = residual ? channelsFirstSplit(residual) : -1;
    const fused = b.matmulEpilogue && m > 0 && k > 0 && n > 0 ? fusedKernel(x2, wt, split) : null;
    if (fused) return fused;
    // Composed: the same steps, in the same order.
    let z = matmul(x2, wt);
    if (bias) z = add(z, bias);
    let y = act ? gelu(z, act === 'gelu_tanh' ? 'tanh' : 'none') : z;
    if (scale) y = mul(y, scale);
    let out = reshape(y, outShape);
    if (residual && split >= 0) {
      // Added in the residual's memory order [G, N, P], so the result has its layout too.
      const g = lead.slice(0, split).reduce((a, c) => a * c, 1);
      const p = m / g;
      const rT = Tensor.viewOf(residual, [g, n, p], [g > 1 ? n * p : 0, residual.strides[residual.ndim - 1]!, p > 1 ? 1 : 0], residual.offset);
      const sum = add(rT, permute(reshape(y, [g, p, n]), [0, 2, 1]));
      out = Tensor.viewOf(sum, outShape, channelsFirstStrides(lead, split, n), 0);
    } else if (residual) out = add(residual, out);
    return { out: out === z ? reshape(z, outShape) : out, pre: grad ? reshape(z, outShape) : null, geluGrad: null };
  }));

  function fusedKernel(x2: Tensor, wt: Tensor, split: number): Kept | null {
    const g = split >= 0 ? lead.slice(0, split).reduce((a, c) => a * c, 1) : 1;
    const p = m / g;
    let rv: View | undefined;
    if (residual) {
      if (split >= 0) {
        const st = residual.strides;
        // [G, P, N] strides of the channels-first residual (size-1 dims contribute nothing).
        rv = { ...residual.asView(op), shape: [g, p, n], strides: [g > 1 ? n * p : 0, p > 1 ? 1 : 0, st[st.length - 1]!] };
      } else {
        const r2 = reshape(residual, [m, n]);
        rv = { ...r2.asView(op), shape: [1, m, n], strides: [0, r2.strides[0]!, r2.strides[1]!] };
      }
    }
    const ep: MatmulEpilogue = {
      ...(bias ? { bias: bias.asView(op) } : {}),
      ...(act ? { activation: act } : {}),
      ...(scale ? { scale: scale.asView(op) } : {}),
      ...(rv ? { residual: rv } : {}),
      groups: g,
      layout: split >= 0 ? 'channelsFirst' : 'rows',
      keepPre: grad,
      keepGeluGrad: wantGeluGrad,
    };
    const res = b.matmulEpilogue!(x2.asView(op), wt.asView(op), ep);
    if (!res) return null;
    const wrap = (buf: NonNullable<typeof res.pre>): Tensor => {
      if (split < 0) return Tensor.fromBuffer(b, buf, outShape, x.dtype);
      const base = Tensor.fromBuffer(b, buf, [g, n, p], x.dtype);
      const v = Tensor.viewOf(base, outShape, channelsFirstStrides(lead, split, n), 0);
      base.dispose();
      return v;
    };
    return { out: wrap(res.out), pre: res.pre ? wrap(res.pre) : null, geluGrad: res.geluGrad ? wrap(res.geluGrad) : null };
  }

  const sink = activeSink();
  const { out, pre, geluGrad } = sink ? sink.span(op, 'op', run) : run();
  if (!grad) return out;
  return withGrad(out, op, inputs, (g) => {
    // A recorded backward (createGraph) recomputes the pre-activation with recording, so that
    // its own gradient is exact; otherwise the kept one is used (and the fused GELU backward),
    // or the kept GELU derivative, which the GELU backward would multiply by (same values).
    // Elementwise steps run on the output's shape (and layout), then flatten to [M, N].
    const recorded = isGradEnabled();
    const useGeluGrad = !recorded && geluGrad !== null && !scale?.requiresGrad;
    const z = useGeluGrad ? null : recorded || !pre ? reshape(add(matmul(reshape(x, [m, k]), weight.T), bias ?? 0), outShape) : pre;
    const approx = act === 'gelu_tanh' ? 'tanh' : 'none';
    const leadAxes = lead.map((_, i) => i);
    const grads: (Tensor | null)[] = [];
    let gy = g;
    let gScale: Tensor | null = null;
    if (scale) {
      if (scale.requiresGrad) gScale = leadAxes.length ? sum(mul(g, act ? gelu(z!, approx) : z!), leadAxes) : mul(g, act ? gelu(z!, approx) : z!);
      gy = mul(g, scale);
    }
    const gz = reshape(!act ? gy : useGeluGrad ? mul(gy, geluGrad) : geluBackward(z!, gy, approx), [m, n]);
    grads.push(x.requiresGrad ? reshape(matmul(gz, weight), x.shape) : null);
    grads.push(weight.requiresGrad ? matmul(gz.T, reshape(x, [m, k])) : null);
    if (bias) grads.push(bias.requiresGrad ? sum(gz, 0) : null);
    if (scale) grads.push(gScale);
    if (residual) grads.push(g);
    return grads;
  });
}
