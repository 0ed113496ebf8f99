/**
 * Activation layers with PyTorch's names, arguments and values: SiLU, Softplus, LeakyReLU,
 * ELU, Mish, Hardswish, Hardsigmoid, LogSigmoid, Tanh, Sigmoid. Each is a thin module over
 * core's function of the same meaning, which computes the value and PyTorch's gradient.
 */
import { elu, hardsigmoid, hardswish, leakyRelu, logsigmoid, mish, sigmoid, silu, softplus, tanh, type Tensor } from '@tsgrad/core';
import { Module } from './module.js';

/** `x * sigmoid(x)` (also called swish). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
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
    return softplus(x, { beta: this.beta, threshold: this.threshold });
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
    return leakyRelu(x, this.negativeSlope);
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
    return elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `x * tanh(softplus(x))`. */
export class Mish extends Module {
  override forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/** `x * relu6(x + 3) / 6`. */
export class Hardswish extends Module {
  override forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** `relu6(x + 3) / 6`. */
export class Hardsigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/** `log(sigmoid(x))`, computed as `min(x, 0) - log1p(exp(-|x|))` (no overflow, no log of 0). */
export class LogSigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return logsigmoid(x);
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
