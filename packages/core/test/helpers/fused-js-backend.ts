/**
 * A js backend with every optional fused kernel, written as direct loops: it checks that
 * core dispatches to fused kernels correctly (the conformance suite compares it with the
 * composed ops of the plain js backend), and it is the reference for the fused kernels'
 * contracts that the wasm and webgpu backends implement.
 */
import { JsBackend, type BufferHandle, type Conv2dParams, type MatmulEpilogue, type MatmulEpilogueResult, type View } from '@tsgrad/core';

/** Mean and 1/sqrt(biased variance + eps) of one line. */
function meanRstd(v: Float64Array, at: (k: number) => number, len: number, eps: number): [number, number] {
  let m = 0;
  for (let k = 0; k < len; k++) m += v[at(k)]!;
  m /= len;
  let s = 0;
  for (let k = 0; k < len; k++) s += (v[at(k)]! - m) ** 2;
  return [m, 1 / Math.sqrt(s / len + eps)];
}

export class FusedJsBackend extends JsBackend {
  override readonly name = 'js-fused';

  /** The values of a view (any strides) in row-major order. */
  private host(v: View): Float64Array {
    const b = this.copy(v);
    const out = Float64Array.from(this.readSync(b, v.dtype, v.shape.reduce((a, c) => a * c, 1)));
    this.free(b);
    return out;
  }
  private out(dtype: View['dtype'], data: Float64Array): BufferHandle {
    return this.upload(data, dtype);
  }
  private erfOf(data: Float64Array): Float64Array {
    const b = this.upload(data, 'float64');
    const r = this.unary('erf', { buffer: b, dtype: 'float64', shape: [data.length], strides: [1], offset: 0 });
    const out = this.readSync(r, 'float64', data.length) as Float64Array;
    this.free(b);
    this.free(r);
    return out;
  }

  conv2d(x: View, w: View, p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
    const ow = Math.floor((wd + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
    const xs = this.host(x);
    const ws = this.host(w);
    const og = o / p.groups;
    const y = new Float64Array(n * o * oh * ow);
    this.taps(n, c, h, wd, o, cg, kh, kw, oh, ow, og, p, (yi, xi, wi) => (y[yi]! += xs[xi]! * ws[wi]!));
    return this.out(x.dtype, y);
  }

  conv2dBackwardInput(gy: View, w: View, xShape: readonly number[], p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = xShape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const [, , oh, ow] = gy.shape as [number, number, number, number];
    const gs = this.host(gy);
    const ws = this.host(w);
    const gx = new Float64Array(n * c * h * wd);
    this.taps(n, c, h, wd, o, cg, kh, kw, oh, ow, o / p.groups, p, (yi, xi, wi) => (gx[xi]! += gs[yi]! * ws[wi]!));
    return this.out(gy.dtype, gx);
  }

  conv2dBackwardWeight(x: View, gy: View, wShape: readonly number[], p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, cg, kh, kw] = wShape as [number, number, number, number];
    const [, , oh, ow] = gy.shape as [number, number, number, number];
    const xs = this.host(x);
    const gs = this.host(gy);
    const gw = new Float64Array(o * cg * kh * kw);
    this.taps(n, c, h, wd, o, cg, kh, kw, oh, ow, o / p.groups, p, (yi, xi, wi) => (gw[wi]! += gs[yi]! * xs[xi]!));
    return this.out(x.dtype, gw);
  }

  /** Calls `f(outputIndex, inputIndex, weightIndex)` for every in-bounds tap of the convolution. */
  private taps(n: number, c: number, h: number, wd: number, o: number, cg: number, kh: number, kw: number, oh: number, ow: number, og: number, p: Conv2dParams, f: (yi: number, xi: number, wi: number) => void): void {
    for (let b = 0; b < n; b++)
      for (let oc = 0; oc < o; oc++) {
        const g = Math.floor(oc / og);
        for (let ic = 0; ic < cg; ic++)
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++)
              for (let y = 0; y < oh; y++) {
                const iy = y * p.stride[0] - p.padding[0] + i * p.dilation[0];
                if (iy < 0 || iy >= h) continue;
                for (let x = 0; x < ow; x++) {
                  const ix = x * p.stride[1] - p.padding[1] + j * p.dilation[1];
                  if (ix < 0 || ix >= wd) continue;
                  f(((b * o + oc) * oh + y) * ow + x, ((b * c + g * cg + ic) * h + iy) * wd + ix, ((oc * cg + ic) * kh + i) * kw + j);
                }
              }
      }
  }

  /** The contract of the GEMM epilogue: `residual + scale * act(a b + bias)`, rows grouped `[G, P]`, laid out as asked. */
  matmulEpilogue(a: View, b: View, ep: MatmulEpilogue): MatmulEpilogueResult {
    const [m, k] = a.shape as [number, number];
    const n = b.shape[1]!;
    const av = this.host(a);
    const bv = this.host(b);
    const bias = ep.bias ? this.host(ep.bias) : null;
    const scale = ep.scale ? this.host(ep.scale) : null;
    const res = ep.residual ? this.host(ep.residual) : null; // [G, P, N] row-major = [M, N]
    const p = m / ep.groups;
    // Element (i, j) goes to (i, j) of [M, N], or to (g, j, i % P) of [G, N, P].
    const at = (i: number, j: number) => (ep.layout === 'rows' ? i * n + j : (Math.floor(i / p) * n + j) * p + (i % p));
    const out = new Float64Array(m * n);
    const pre = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let z = 0;
        for (let q = 0; q < k; q++) z += av[i * k + q]! * bv[q * n + j]!;
        if (bias) z += bias[j]!;
        pre[at(i, j)] = z;
      }
    let y: Float64Array = pre;
    if (ep.activation) {
      const src = this.upload(pre, a.dtype);
      const g = this.gelu({ buffer: src, dtype: a.dtype, shape: [m * n], strides: [1], offset: 0 }, ep.activation === 'gelu_tanh' ? 'tanh' : 'none');
      y = Float64Array.from(this.readSync(g, a.dtype, m * n));
      this.free(g);
      this.free(src);
    } else y = Float64Array.from(pre);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const o = at(i, j);
        let v = y[o]!;
        if (scale) v *= scale[j]!;
        if (res) v += res[i * n + j]!;
        out[o] = v;
      }
    return { out: this.out(a.dtype, out), pre: ep.keepPre ? this.out(a.dtype, pre) : null };
  }

  gelu(x: View, approximate: 'none' | 'tanh'): BufferHandle {
    const v = this.host(x);
    if (approximate === 'tanh') return this.out(x.dtype, v.map((t) => 0.5 * t * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (t + 0.044715 * t ** 3)))));
    const e = this.erfOf(v.map((t) => t * Math.SQRT1_2));
    return this.out(x.dtype, v.map((t, i) => 0.5 * t * (1 + e[i]!)));
  }

  geluBackward(x: View, g: View, approximate: 'none' | 'tanh'): BufferHandle {
    const v = this.host(x);
    const gs = this.host(g);
    if (approximate === 'tanh') {
      const k = Math.sqrt(2 / Math.PI);
      return this.out(x.dtype, v.map((t, i) => {
        const th = Math.tanh(k * (t + 0.044715 * t ** 3));
        return gs[i]! * (0.5 * (1 + th) + 0.5 * t * (1 - th * th) * k * (1 + 3 * 0.044715 * t * t));
      }));
    }
    const e = this.erfOf(v.map((t) => t * Math.SQRT1_2));
    return this.out(x.dtype, v.map((t, i) => gs[i]! * (0.5 * (1 + e[i]!) + (t * Math.exp(-0.5 * t * t)) / Math.sqrt(2 * Math.PI))));
  }

  /** Runs `f` over each line (`len` values `inner` apart) of `[outer, len, inner]`. */
  private lines(outer: number, len: number, inner: number, f: (idx: (k: number) => number) => void): void {
    for (let a = 0; a < outer; a++) for (let b = 0; b < inner; b++) f((k) => (a * len + k) * inner + b);
  }

  normalize(x: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    const v = this.host(x);
    const y = new Float64Array(v.length);
    this.lines(outer, len, inner, (at) => {
      const [m, r] = meanRstd(v, at, len, eps);
      for (let k = 0; k < len; k++) y[at(k)] = (v[at(k)]! - m) * r;
    });
    return this.out(x.dtype, y);
  }

  normalizeBackward(x: View, g: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    const v = this.host(x);
    const gs = this.host(g);
    const dx = new Float64Array(v.length);
    this.lines(outer, len, inner, (at) => {
      const [m, r] = meanRstd(v, at, len, eps);
      let gm = 0;
      let gx = 0;
      for (let k = 0; k < len; k++) {
        gm += gs[at(k)]!;
        gx += gs[at(k)]! * (v[at(k)]! - m) * r;
      }
      gm /= len;
      gx /= len;
      for (let k = 0; k < len; k++) dx[at(k)] = r * (gs[at(k)]! - gm - (v[at(k)]! - m) * r * gx);
    });
    return this.out(x.dtype, dx);
  }

  logSoftmax(x: View, outer: number, len: number, inner: number): BufferHandle {
    const v = this.host(x);
    const y = new Float64Array(v.length);
    this.lines(outer, len, inner, (at) => {
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, v[at(k)]!);
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(v[at(k)]! - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < len; k++) y[at(k)] = v[at(k)]! - lse;
    });
    return this.out(x.dtype, y);
  }

  logSoftmaxBackward(y: View, g: View, outer: number, len: number, inner: number): BufferHandle {
    const ys = this.host(y);
    const gs = this.host(g);
    const dx = new Float64Array(ys.length);
    this.lines(outer, len, inner, (at) => {
      let s = 0;
      for (let k = 0; k < len; k++) s += gs[at(k)]!;
      for (let k = 0; k < len; k++) dx[at(k)] = gs[at(k)]! - Math.exp(ys[at(k)]!) * s;
    });
    return this.out(y.dtype, dx);
  }
}
