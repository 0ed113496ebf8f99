/** Gradient clipping. */
import { keep, noGrad, stack, tidy, zeros, type Tensor } from '@tsgrad/core';

/**
 * Scales the gradients of `params` so that their global norm (the norm of all gradients
 * concatenated) is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`: each gradient is
 * multiplied by `min(1, maxNorm / (total + 1e-6))`. Runs on the device without reading back.
 * Returns the total norm before clipping (a scalar tensor in the caller's scope).
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm_: maxNorm must be non-negative, got ${maxNorm}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm_: normType must be positive (or Infinity), got ${normType}`);
  const withGrad = [...params].filter((p) => p.grad);
  if (!withGrad.length) return zeros([]);
  return noGrad(() => {
    const total = tidy(() => {
      const grads = withGrad.map((p) => p.grad!);
      if (normType === Infinity) return stack(grads.map((g) => g.abs().max())).max();
      const per = grads.map((g) => (normType === 2 ? g.square().sum().sqrt() : g.abs().pow(normType).sum().pow(1 / normType)));
      const s = stack(per);
      return normType === 2 ? s.square().sum().sqrt() : s.pow(normType).sum().pow(1 / normType);
    });
    tidy(() => {
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(undefined, 1);
      for (const p of withGrad) {
        const old = p.grad!;
        p.grad = keep(old.mul(coef));
        old.dispose();
      }
    });
    return total;
  });
}
