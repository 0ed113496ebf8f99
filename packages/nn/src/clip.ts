/** Gradient clipping. */
import { clipScale, keep, noGrad, totalNorm, zeros, type Tensor } from '@tsgrad/core';

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /**
   * Throw when the total norm is NaN or infinite, leaving the gradients as they are
   * (PyTorch's `error_if_nonfinite`; default false). Reads the norm back, so it needs a
   * backend that reads synchronously (js, wasm); on webgpu check the returned norm yourself.
   */
  readonly errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `params` so that their global norm (the norm of all gradients
 * concatenated) is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`: the norm of
 * the per-gradient norms, then each gradient times `min(1, maxNorm / (total + 1e-6))`.
 * On backends with the fused kernels (js, wasm, webgpu) that is two calls for all the
 * gradients: one reduction pass over each, one scaling pass. Runs on the device without
 * reading back (unless `errorIfNonfinite`). Returns the total norm before clipping (a
 * scalar tensor in the caller's scope).
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType = 2, opts: ClipGradNormOptions = {}): Tensor {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm_: maxNorm must be non-negative, got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm_: normType must be positive (or Infinity), got ${normType}`);
  const withGrad = [...params].filter((p) => p.grad);
  if (!withGrad.length) return zeros([]);
  return noGrad(() => {
    const grads = withGrad.map((p) => p.grad!);
    const total = totalNorm(grads, normType);
    if (opts.errorIfNonfinite) {
      if (!total.backend.canReadSync) {
        total.dispose();
        throw new Error(`clipGradNorm_: errorIfNonfinite reads the norm synchronously, which backend '${total.backend.name}' cannot; leave it off and check the returned norm with await norm.data()`);
      }
      const t = total.item();
      if (!Number.isFinite(t)) {
        total.dispose();
        throw new Error(`clipGradNorm_: the total norm of order ${normType} of the gradients is ${t}, so they cannot be clipped; leave errorIfNonfinite off to clip anyway`);
      }
    }
    const scaled = clipScale(grads, maxNorm, total);
    withGrad.forEach((p, i) => {
      const old = p.grad!;
      p.grad = keep(scaled[i]!);
      old.dispose();
    });
    return total;
  });
}
