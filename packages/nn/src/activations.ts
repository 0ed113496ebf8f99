/**
 * Activation layers with PyTorch's names, arguments and values: SiLU, Softplus, LeakyReLU,
 * ELU, Mish, Hardswish, Hardsigmoid, LogSigmoid, Tanh, Sigmoid. Each is composed from core
 * ops in a form that never evaluates an overflowing branch (so gradients stay finite), and
 * its gradient comes from those ops.
 */
import { sigmoid, tanh, where, type Tensor } from '@tsgrad/core';
import { Module } from './module.js';

/** `log(1 + exp(z))` computed as `max(z, 0) + log(1 + exp(-|z|))`: finite for every z, with a finite gradient. */
function softplusStable(z: Tensor): Tensor {
  return z.relu().add(z.abs().neg().exp().add(1).log());
}

/** `x * sigmoid(x)` (also called swish). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.mul(sigmoid(x));
  }
}

/**
 * `log(1 + exp(beta * x)) / beta`, and `x` where `beta * x > threshold` (PyTorch's defaults
 * `beta = 1`, `threshold = 20`).
 */
export class Softplus extends Module {
  /** Sharpness `beta` and the linear cut-over `threshold`. */
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
    if (!(beta > 0) || !Number.isFinite(beta)) throw new RangeError(`Softplus: beta must be a positive finite number, got ${beta}`);
  }
  override forward(x: Tensor): Tensor {
    const z = this.beta === 1 ? x : x.mul(this.beta);
    const soft = this.beta === 1 ? softplusStable(z) : softplusStable(z).div(this.beta);
    return where(z.gt(this.threshold), x, soft);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** `x` for `x > 0`, `negativeSlope * x` otherwise (default slope 0.01, as PyTorch). */
export class LeakyReLU extends Module {
  /** The slope for negative inputs. */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return where(x.gt(0), x, x.mul(this.negativeSlope));
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise (default alpha 1). */
export class ELU extends Module {
  /** The negative saturation value's magnitude. */
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    const pos = x.gt(0);
    // exp only of the non-positive part: no overflow in the branch `where` discards.
    const neg = where(pos, 0, x).exp().sub(1).mul(this.alpha);
    return where(pos, x, neg);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `x * tanh(softplus(x))`. */
export class Mish extends Module {
  override forward(x: Tensor): Tensor {
    return x.mul(tanh(where(x.gt(20), x, softplusStable(x))));
  }
}

/** `x * relu6(x + 3) / 6`. */
export class Hardswish extends Module {
  override forward(x: Tensor): Tensor {
    return x.mul(x.add(3).clamp(0, 6)).div(6);
  }
}

/** `relu6(x + 3) / 6`. */
export class Hardsigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.add(3).clamp(0, 6).div(6);
  }
}

/** `log(sigmoid(x))`, computed as `min(x, 0) - log(1 + exp(-|x|))` (no overflow, no log of 0). */
export class LogSigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return softplusStable(x.neg()).neg();
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Logistic sigmoid `1 / (1 + exp(-x))`. */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
