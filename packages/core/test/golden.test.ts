/**
 * Golden tests against PyTorch 1.13 (float32, CPU): for every case of every fixture file in
 * `fixtures/torch/`, run our op on the js backend with the case's params mapped to our API,
 * compare the forward output, then the gradients of `sum(output * cotangent)` for every
 * input the case lists under `grads`.
 */
import { describe, expect, it } from 'vitest';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  crossEntropy,
  gelu,
  gradients,
  initBackend,
  layerNorm,
  logSoftmax,
  logsumexp,
  matmul,
  maxPool2d,
  permute,
  softmax,
  std,
  tidy,
  variance,
  type Backend,
  type Tensor,
} from '@tsgrad/core';
import { listFixtureFiles, loadFixtureFile, mismatch, Params, toTensor, type FixtureCase } from './helpers/fixtures.js';

// Tolerances, as a bound on max|ours - torch| relative to max(1, max|torch|) over a tensor.
// float32 carries ~6e-8 relative precision; our ops round differently from PyTorch's kernels
// (other summation orders, composed vs fused formulas), so allow ~100 ulps of the tensor's
// scale forward and ~1000 for gradients, which chain several rounded ops more.
/** Forward outputs. */
const FORWARD_TOL = 1e-5;
/** Gradients. */
const GRAD_TOL = 1e-4;

const FIXTURE_DIR = new URL('./fixtures/torch/', import.meta.url);

/** The fixture files the README documents; the folder must hold exactly these. */
const EXPECTED_FILES = [
  'conv2d.json',
  'cross_entropy.json',
  'gelu.json',
  'layer_norm.json',
  'matmul.json',
  'pooling.json',
  'softmax.json',
  'var_std.json',
];

const js: Backend = await initBackend('js');

/**
 * A case's inputs as float32 (or, for int64 class indices, int32) tensors on the js backend;
 * those listed in `grads` require gradients. {@link CaseInputs.done} throws if an input was
 * never passed to the op.
 */
class CaseInputs {
  readonly tensors: ReadonlyMap<string, Tensor>;
  private readonly used = new Set<string>();

  constructor(
    c: FixtureCase,
    private readonly where: string,
  ) {
    this.tensors = new Map(Object.entries(c.inputs).map(([k, t]) => [k, toTensor(t, js, `${where} input '${k}'`)]));
    for (const k of Object.keys(c.grads)) this.get(k).requiresGrad_();
    this.used.clear();
  }

  /** A required input. */
  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.where}: no input '${name}' (has ${[...this.tensors.keys()].join(', ')})`);
    this.used.add(name);
    return t;
  }

  /** An optional input (null when the case leaves it out, e.g. no bias). */
  opt(name: string): Tensor | null {
    return this.tensors.has(name) ? this.get(name) : null;
  }

  /** Throws if an input was never read. */
  done(): void {
    const unused = [...this.tensors.keys()].filter((k) => !this.used.has(k));
    if (unused.length) throw new Error(`${this.where}: inputs ${unused.join(', ')} were not passed to the op`);
  }
}

type OpMapping = (p: Params, t: CaseInputs) => Tensor;

/** Each fixture `op` (PyTorch's name) as a call of our API. */
const OPS: Readonly<Record<string, OpMapping>> = {
  conv2d: (p, t) =>
    conv2d(t.get('x'), t.get('weight'), t.opt('bias'), {
      stride: p.intPair('stride'),
      padding: p.intPair('padding'),
      dilation: p.intPair('dilation'),
      groups: p.int('groups'),
    }),

  layer_norm: (p, t) => layerNorm(t.get('x'), p.ints('normalized_shape'), t.opt('weight'), t.opt('bias'), p.number('eps')),

  // ConvNeXt's channels-first LayerNorm: NCHW -> NHWC, normalize over C, back to NCHW.
  layer_norm_channels_first: (p, t) => {
    const x = t.get('x');
    if (x.ndim !== 4) throw new Error(`layer_norm_channels_first: input must be NCHW, got [${x.shape.join(', ')}]`);
    const y = layerNorm(permute(x, [0, 2, 3, 1]), [x.shape[1]!], t.opt('weight'), t.opt('bias'), p.number('eps'));
    return permute(y, [0, 3, 1, 2]);
  },

  gelu: (p, t) => gelu(t.get('x'), p.oneOf('approximate', ['none', 'tanh'])),

  matmul: (_p, t) => matmul(t.get('a'), t.get('b')),

  cross_entropy: (p, t) =>
    crossEntropy(t.get('input'), t.get('target'), {
      reduction: p.oneOf('reduction', ['mean', 'sum', 'none']),
      labelSmoothing: p.number('label_smoothing'),
    }),

  softmax: (p, t) => softmax(t.get('x'), p.int('dim')),
  log_softmax: (p, t) => logSoftmax(t.get('x'), p.int('dim')),
  logsumexp: (p, t) => logsumexp(t.get('x'), p.ints('dim'), p.bool('keepdim')),

  avg_pool2d: (p, t) => {
    p.require('ceil_mode', false);
    return avgPool2d(t.get('x'), p.intPair('kernel_size'), {
      stride: p.intPair('stride'),
      padding: p.intPair('padding'),
      countIncludePad: p.bool('count_include_pad'),
    });
  },
  max_pool2d: (p, t) => {
    p.require('ceil_mode', false);
    p.require('dilation', [1, 1]);
    return maxPool2d(t.get('x'), p.intPair('kernel_size'), { stride: p.intPair('stride'), padding: p.intPair('padding') });
  },
  adaptive_avg_pool2d: (p, t) => adaptiveAvgPool2d(t.get('x'), p.intPair('output_size')),

  var: (p, t) => variance(t.get('x'), p.ints('dim'), varOptions(p)),
  std: (p, t) => std(t.get('x'), p.ints('dim'), varOptions(p)),
};

/** torch's `correction` and `keepdim`, checking that the legacy `unbiased` flag agrees. */
function varOptions(p: Params): { correction: number; keepdim: boolean } {
  const correction = p.int('correction');
  const unbiased = p.bool('unbiased');
  if (unbiased !== (correction === 1)) throw new Error(`var/std: unbiased=${unbiased} contradicts correction=${correction}`);
  return { correction, keepdim: p.bool('keepdim') };
}

/** Runs one case: forward against `output`, then every gradient in `grads`. */
function runCase(file: string, c: FixtureCase): void {
  const label = `${file} > ${c.name}`;
  const op = OPS[c.op];
  if (!op) throw new Error(`${label}: fixture op '${c.op}' has no mapping to tsgrad's API`);
  tidy(() => {
    const inputs = new CaseInputs(c, label);
    const params = new Params(c.params, label);
    const out = op(params, inputs);
    params.done();
    inputs.done();
    expect(out.backend.name, `${label}: output backend`).toBe('js');

    expect.soft(mismatch(out, c.output, FORWARD_TOL, `${label} > output`)).toBeNull();

    const names = Object.keys(c.grads);
    if (names.length === 0) return;
    expect(out.requiresGrad, `${label}: output is not recorded for autodiff`).toBe(true);
    const cot = toTensor(c.cotangent, js, `${label} cotangent`);
    const grads = gradients(out, names.map((n) => inputs.get(n)), cot);
    names.forEach((n, i) => {
      expect.soft(mismatch(grads[i]!, c.grads[n]!, GRAD_TOL, `${label} > grad[${n}]`)).toBeNull();
    });
  });
}

const files = listFixtureFiles(FIXTURE_DIR);
const loaded = files.map((f) => loadFixtureFile(FIXTURE_DIR, f));

describe('PyTorch golden fixtures: coverage', () => {
  it('the fixture folder holds exactly the documented files, and each is tested', () => {
    expect(files).toEqual([...EXPECTED_FILES].sort());
  });
  it('every file has cases, and every case op has a mapping', () => {
    for (const fx of loaded) {
      expect(fx.cases.length, `${fx.file} has no cases`).toBeGreaterThan(0);
      const unmapped = fx.cases.filter((c) => !(c.op in OPS)).map((c) => `${c.name} (op '${c.op}')`);
      expect(unmapped.join(', '), `${fx.file}: cases whose op has no mapping`).toBe('');
    }
  });
});

for (const fx of loaded) {
  describe(`PyTorch golden: ${fx.file} (torch ${fx.torchVersion})`, () => {
    for (const c of fx.cases) it(c.name, () => runCase(fx.file, c));
  });
}
