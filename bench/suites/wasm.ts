/**
 * The wasm suite: tsgrad's `wasm` backend beside `@tensorflow/tfjs-backend-wasm` (XNNPACK,
 * SIMD128, one thread in Node) and `@tensorflow/tfjs-backend-cpu`, all in this process and
 * run; PyTorch CPU (`/usr/bin/python3`, Debian's python3-torch, with OpenBLAS on the right
 * core: bench/torch/blas_core.py) in a subprocess measured during setup, reported in the note
 * beside our times from the same run. It also measures the SIMD128 peak with a trivial
 * kernel so GEMM can be stated as a fraction of it.
 *
 * Kernel rows do not read their outputs back: every backend here computes synchronously
 * inside the op call, so the work is done when it returns, and a read-back would only add
 * the same output copy to both sides. Whole-model rows read the logits or the loss.
 *
 *   pnpm bench wasm
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import * as T from '@tsgrad/core';
// By path: @tsgrad/wasm is not a dependency of the workspace root.
import { backendInfo, createWasmBackend, disposeWasmBackend, measureSimdPeak, probeRelaxedSimd } from '../../packages/wasm/src/index.js';
import { attoStep } from '../browser/atto-step.js';
import { tfjsConvNeXtTiny } from './tfjs-convnext.js';
import type { Case, Suite } from './types.js';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof TF;
// tfjs-backend-wasm is a dev dependency of @tsgrad/wasm; it loads its .wasm from its own dist folder (no network).
const wasmRequire = createRequire(new URL('../../packages/wasm/package.json', import.meta.url));
wasmRequire('@tensorflow/tfjs-backend-wasm');

/** Mean ms per call of each of our cases, recorded by the wrapped case functions. */
const ourTimes = new Map<string, { total: number; n: number }>();
function recorded(name: string, f: () => unknown): () => unknown {
  return () => {
    const t0 = performance.now();
    const r = f();
    const s = ourTimes.get(name) ?? { total: 0, n: 0 };
    s.total += performance.now() - t0;
    s.n++;
    ourTimes.set(name, s);
    return r;
  };
}
/** A row name without its thread-comparison suffix (for the PyTorch tables). */
const label = (name: string) => name.replace(/, 2 threads vs our 1 thread/, '').replace(/ #1T$/, '');
const meanMs = (name: string) => {
  const s = ourTimes.get(name);
  return s && s.n ? s.total / s.n : NaN;
};

/** Runs `f` on the named tfjs backend, switching (once) if another is active. */
function onTf(name: 'wasm' | 'cpu', f: () => unknown): () => unknown {
  return async () => {
    if (tf.getBackend() !== name) await tf.setBackend(name);
    // Return nothing from tidy: it walks a returned object for tensors, element by element for a typed array.
    tf.tidy(() => {
      f();
    });
  };
}

// Run from a file beside blas_core.py (which may re-execute it: OpenBLAS from bench/.openblas, OPENBLAS_CORETYPE).
const PY = String.raw`
import json, os, sys, time
sys.path.insert(0, os.environ['TSGRAD_BENCH_TORCH_DIR'])
import blas_core
blas_core.use_local_openblas()
import torch, torch.nn as nn, torch.nn.functional as F
blas_core.fix_core()
torch.set_num_threads(int(sys.argv[1]))
kernels = sys.argv[2] == '1'
def t(f, reps=5):
    f()
    best = 1e9
    for _ in range(reps):
        s = time.perf_counter(); f(); best = min(best, time.perf_counter() - s)
    return best * 1e3
class LN2d(nn.Module):
    def __init__(s, c): super().__init__(); s.ln = nn.LayerNorm(c, eps=1e-6)
    def forward(s, x): return s.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
class Block(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.dw = nn.Conv2d(c, c, 7, padding=3, groups=c); s.ln = nn.LayerNorm(c, eps=1e-6)
        s.l1 = nn.Linear(c, 4 * c); s.l2 = nn.Linear(4 * c, c); s.gamma = nn.Parameter(torch.full((c,), 1e-6))
    def forward(s, x):
        y = s.ln(s.dw(x).permute(0, 2, 3, 1))
        return x + (s.l2(F.gelu(s.l1(y))) * s.gamma).permute(0, 3, 1, 2)
class ConvNeXt(nn.Module):
    def __init__(s, depths, dims, stem, classes):
        super().__init__()
        s.ds = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], stem, stride=stem), LN2d(dims[0]))] +
            [nn.Sequential(LN2d(dims[i]), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)) for i in range(3)])
        s.st = nn.ModuleList([nn.Sequential(*[Block(dims[i]) for _ in range(depths[i])]) for i in range(4)])
        s.norm = nn.LayerNorm(dims[3], eps=1e-6); s.head = nn.Linear(dims[3], classes)
    def forward(s, x):
        for i in range(4): x = s.st[i](s.ds[i](x))
        return s.head(s.norm(x.mean((2, 3))))
out = {}
tiny = ConvNeXt([3, 3, 9, 3], [96, 192, 384, 768], 4, 1000).eval()
xt = torch.randn(1, 3, 224, 224)
with torch.no_grad():
    out['convnext-t fwd'] = t(lambda: tiny(xt))
atto = ConvNeXt([2, 2, 6, 2], [40, 80, 160, 320], 2, 10)
opt = torch.optim.AdamW(atto.parameters(), lr=1e-3)
xa = torch.randn(64, 3, 32, 32); ya = torch.randint(0, 10, (64,))
def step():
    loss = F.cross_entropy(atto(xa), ya); opt.zero_grad(); loss.backward(); opt.step()
out['atto step'] = t(step, 3)
if not kernels:
    print(json.dumps({'torch': torch.__version__, 'blas': [blas_core.describe(blas_core.blas_info())], 'ms': out}))
    sys.exit(0)
for n in (256, 512, 1024, 2048):
    a = torch.randn(n, n); b = torch.randn(n, n)
    out['sgemm %d' % n] = t(lambda: a @ b, 3 if n == 2048 else 5)
x = torch.randn(8, 96, 56, 56); w = torch.randn(96, 1, 7, 7)
out['dw fwd'] = t(lambda: F.conv2d(x, w, padding=3, groups=96))
xg = x.clone().requires_grad_(); wg = w.clone().requires_grad_()
def dwb():
    y = F.conv2d(xg, wg, padding=3, groups=96); y.backward(torch.ones_like(y))
out['dw fwd+grads'] = t(dwb)
pw = torch.randn(384, 96, 1, 1)
out['pointwise'] = t(lambda: F.conv2d(x, pw))
xl = torch.randn(8, 56, 56, 96); lw = torch.randn(96); lb = torch.randn(96)
out['ln+gelu fwd'] = t(lambda: F.gelu(F.layer_norm(xl, (96,), lw, lb, 1e-6)))
xlg = xl.clone().requires_grad_()
def lnb():
    y = F.gelu(F.layer_norm(xlg, (96,), lw, lb, 1e-6)); y.backward(torch.ones_like(y))
out['ln+gelu fwd+bwd'] = t(lnb)
print(json.dumps({'torch': torch.__version__, 'blas': [blas_core.describe(blas_core.blas_info())], 'ms': out}))
`;

interface TorchResult {
  readonly torch: string;
  readonly blas: string[];
  readonly ms: Record<string, number>;
}

function runTorch(threads: number, kernels: boolean): TorchResult | string {
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  // torch.set_num_threads covers PyTorch's own (OpenMP) pools; OpenBLAS (pthreads build) reads its own variable.
  const n = String(threads);
  const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  const dir = mkdtempSync(join(tmpdir(), 'tsgrad-bench-'));
  const script = join(dir, 'wasm_anchor.py');
  writeFileSync(script, PY);
  const torchDir = new URL('../torch/', import.meta.url).pathname;
  const r = spawnSync('/usr/bin/python3', [script, n, kernels ? '1' : '0'], { encoding: 'utf8', timeout: 600_000, env: { ...env, TSGRAD_BENCH_TORCH_DIR: torchDir } });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) return `PyTorch run failed: ${(r.stderr || '').split('\n').slice(-3).join(' ')}`;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
  } catch {
    return 'PyTorch printed no result';
  }
}

export async function wasmSuite(): Promise<Suite> {
  const relaxedAvailable = probeRelaxedSimd();
  const peak = measureSimdPeak({ relaxed: false });
  const peakRelaxed = relaxedAvailable ? measureSimdPeak({ relaxed: true }) : NaN;
  const one = await createWasmBackend({ threads: 1, name: 'wasm-1t' });
  const two = await createWasmBackend({ threads: 2, name: 'wasm-2t' });
  const torch = runTorch(1, true);
  const torch2 = runTorch(2, false);

  await tf.setBackend('wasm');
  await tf.ready();
  const g = new T.Generator(0);
  const ours = (shape: number[], b: T.Backend = one) => T.keep(T.randn(shape, { generator: g, backend: b }));
  const theirs = (t: T.Tensor, perm?: number[]) => {
    const v = tf.tensor(t.dataSync() as Float32Array, t.shape as number[]);
    return tf.keep(perm ? tf.transpose(v, perm) : v);
  };
  const cases: Case[] = [];
  const add = (name: string, oursLabel: string, anchorLabel: string, o: () => unknown, a: () => unknown) =>
    cases.push({
      name,
      oursLabel,
      anchorLabel,
      // Nothing escapes the scope (tidy keeps a returned tensor alive).
      ours: recorded(name, () =>
        T.tidy(() => {
          o();
        }),
      ),
      anchor: a,
    });

  // SGEMM, one thread, beside tfjs-wasm.
  const mats = new Map<number, [T.Tensor, T.Tensor]>();
  for (const n of [256, 512, 1024, 2048]) {
    const a = ours([n, n]);
    const b = ours([n, n]);
    mats.set(n, [a, b]);
    const ta = theirs(a);
    const tb = theirs(b);
    add(`sgemm ${n}`, 'tsgrad-wasm 1T', 'tfjs-wasm', () => T.matmul(a, b), onTf('wasm', () => tf.matMul(ta, tb)));
  }
  {
    const [a, b] = mats.get(1024)!;
    const [ta, tb] = [tf.tensor(a.dataSync() as Float32Array, [1024, 1024]), tf.tensor(b.dataSync() as Float32Array, [1024, 1024])];
    tf.keep(ta);
    tf.keep(tb);
    add('sgemm 1024 (vs tfjs-cpu)', 'tsgrad-wasm 1T', 'tfjs-cpu', () => T.matmul(a, b), onTf('cpu', () => tf.matMul(ta, tb)));
    const a2 = T.keep(T.fromTypedArray(a.dataSync(), [1024, 1024], 'float32', two));
    const b2 = T.keep(T.fromTypedArray(b.dataSync(), [1024, 1024], 'float32', two));
    add('sgemm 1024, 2 threads vs our 1 thread', 'tsgrad-wasm 2T', 'tsgrad-wasm 1T', () => T.matmul(a2, b2), () => T.tidy(() => void T.matmul(a, b)));
  }

  // Depthwise 7x7, 96 channels, 56x56, batch 8 (NCHW for us, NHWC for tfjs: its native layout).
  const x = ours([8, 96, 56, 56]);
  const dw = ours([96, 1, 7, 7]);
  const tx = theirs(x, [0, 2, 3, 1]);
  const tdw = theirs(dw, [2, 3, 0, 1]);
  add('depthwise 7x7 96ch 8x56x56 fwd', 'tsgrad-wasm 1T', 'tfjs-wasm', () => T.conv2d(x, dw, null, { padding: 3, groups: 96 }), onTf('wasm', () => tf.depthwiseConv2d(tx as TF.Tensor4D, tdw as TF.Tensor4D, 1, 'same')));
  const xg = ours([8, 96, 56, 56]).requiresGrad_();
  const dwg = ours([96, 1, 7, 7]).requiresGrad_();
  // tfjs-wasm has no depthwise gradient kernels, and tfjs-cpu needs minutes per call here, so
  // the anchor is our own forward (the ratio is the cost of the two gradients); PyTorch below.
  add(
    'depthwise 7x7 fwd + both grads',
    'tsgrad-wasm 1T',
    'tsgrad-wasm 1T fwd only',
    () => {
      T.conv2d(xg, dwg, null, { padding: 3, groups: 96 }).sum().backward();
      xg.zeroGrad();
      dwg.zeroGrad();
    },
    () => T.tidy(() => void T.conv2d(x, dw, null, { padding: 3, groups: 96 })),
  );

  // Pointwise 96 -> 384 on 8x56x56: a GEMM of 25088 x 96 x 384.
  const pw = ours([384, 96, 1, 1]);
  const tpw = theirs(pw, [2, 3, 1, 0]);
  add('pointwise 96->384 on 8x56x56', 'tsgrad-wasm 1T', 'tfjs-wasm', () => T.conv2d(x, pw), onTf('wasm', () => tf.conv2d(tx as TF.Tensor4D, tpw as TF.Tensor4D, 1, 'valid')));

  // LayerNorm(96) + GELU (exact erf form) on channels-last activations, forward and forward + backward.
  const xl = ours([8, 56, 56, 96]);
  const lw = ours([96]);
  const lb = ours([96]);
  const txl = theirs(xl);
  const tlw = theirs(lw);
  const tlb = theirs(lb);
  const tfLnGelu = (v: TF.Tensor) => {
    const { mean, variance } = tf.moments(v, -1, true);
    const y = tf.add(tf.mul(tf.mul(tf.sub(v, mean), tf.rsqrt(tf.add(variance, 1e-6))), tlw), tlb);
    return tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
  };
  add('LayerNorm(96)+GELU fwd, 8x56x56x96', 'tsgrad-wasm 1T', 'tfjs-wasm', () => T.gelu(T.layerNorm(xl, [96], lw, lb, 1e-6)), onTf('wasm', () => tfLnGelu(txl)));
  const xlg = ours([8, 56, 56, 96]).requiresGrad_();
  const txlg = theirs(xlg);
  add(
    'LayerNorm(96)+GELU fwd+bwd',
    'tsgrad-wasm 1T',
    'tfjs-wasm',
    () => {
      T.gelu(T.layerNorm(xlg, [96], lw, lb, 1e-6)).sum().backward();
      xlg.zeroGrad();
    },
    onTf('wasm', () => tf.grad((v: TF.Tensor) => tf.sum(tfLnGelu(v)))(txlg)),
  );

  // Whole models (ConvNeXt from @tsgrad/convnext; tfjs-wasm gets the same ConvNeXt-T forward written with tf ops, NHWC).
  const models = await convnextCases(one, two, add);

  const torchRows: [string, string][] = [
    ['sgemm 256', 'sgemm 256'],
    ['sgemm 512', 'sgemm 512'],
    ['sgemm 1024', 'sgemm 1024'],
    ['sgemm 2048', 'sgemm 2048'],
    ['depthwise 7x7 96ch 8x56x56 fwd', 'dw fwd'],
    ['depthwise 7x7 fwd + both grads', 'dw fwd+grads'],
    ['pointwise 96->384 on 8x56x56', 'pointwise'],
    ['LayerNorm(96)+GELU fwd, 8x56x56x96', 'ln+gelu fwd'],
    ['LayerNorm(96)+GELU fwd+bwd', 'ln+gelu fwd+bwd'],
    ...models.torchRows,
  ];
  const info = backendInfo(one);
  return {
    cases,
    get note(): string {
      const gemm = (n: number) => (2 * n ** 3) / meanMs(`sgemm ${n}`) / 1e6;
      const lines = [
        `SIMD128 peak on one thread (trivial register-only kernels, best of 12 dependent f32x4 mul+add chains and of 12 products added into 12 chains): ${peak.toFixed(1)} GFLOP/s` +
          (relaxedAvailable ? `; with relaxed FMA ${peakRelaxed.toFixed(1)} GFLOP/s.` : '; relaxed SIMD unavailable in this engine (Node 20: --experimental-wasm-relaxed-simd).'),
        `Our GEMM (one thread, ${info.relaxedSimd ? 'relaxed madd' : 'plain mul+add'}): ` +
          [256, 512, 1024, 2048].map((n) => `${n}: ${gemm(n).toFixed(1)} GFLOP/s = ${((100 * gemm(n)) / (info.relaxedSimd ? peakRelaxed : peak)).toFixed(0)}% of peak`).join('; ') +
          '.',
        '',
      ];
      if (typeof torch === 'string') lines.push(`PyTorch: not measured (${torch}).`);
      else {
        lines.push(
          `PyTorch ${torch.torch} CPU, one thread (torch.set_num_threads(1), OMP/OPENBLAS_NUM_THREADS=1), BLAS: ${torch.blas.join(', ') || 'unknown'}; best of 3-5 runs, measured in a subprocess during this run's setup:`,
          '',
          '| case | tsgrad-wasm 1T ms | PyTorch ms | speedup |',
          '|---|---:|---:|---:|',
          ...torchRows.map(([ours, key]) => {
            const o = meanMs(ours);
            const p = torch.ms[key]!;
            return `| ${label(ours)} | ${o.toFixed(3)} | ${p.toFixed(3)} | ${(p / o).toFixed(2)}x |`;
          }),
        );
      }
      if (typeof torch2 !== 'string') {
        lines.push(
          '',
          'Whole models on two threads (ours with 2 threads, PyTorch torch.set_num_threads(2)):',
          '',
          '| case | tsgrad-wasm 2T ms | PyTorch 2T ms | speedup |',
          '|---|---:|---:|---:|',
          ...models.torch2Rows.map(([ours, key]) => {
            const o = meanMs(ours);
            const p = torch2.ms[key]!;
            return `| ${label(ours)} | ${o.toFixed(3)} | ${p.toFixed(3)} | ${(p / o).toFixed(2)}x |`;
          }),
        );
      }
      return lines.join('\n');
    },
    dispose: () => {
      tf.disposeVariables();
      void disposeWasmBackend(two);
    },
  };
}

type Add = (name: string, oursLabel: string, anchorLabel: string, o: () => unknown, a: () => unknown) => void;

/** ConvNeXt-T forward (224, batch 1) and a ConvNeXt-atto AdamW training step (32x32, 2x2 stem, batch 64). */
async function convnextCases(one: T.Backend, two: T.Backend, add: Add): Promise<{ torchRows: [string, string][]; torch2Rows: [string, string][] }> {
  const { convnext } = await import('../../packages/convnext/src/index.js');
  const onBackend = async <R>(b: T.Backend, f: () => R): Promise<R> => {
    const name = `bench-${b.name}`;
    T.registerBackend(name, () => b);
    await T.setBackend(name);
    try {
      return f();
    } finally {
      await T.setBackend('js');
    }
  };
  const tinyOn = (b: T.Backend) => onBackend(b, () => {
    const model = convnext('tiny', { generator: new T.Generator(0) });
    const x = T.keep(T.randn([1, 3, 224, 224], { generator: new T.Generator(1) }));
    return { model, x };
  });
  const t1 = await tinyOn(one);
  const t2 = await tinyOn(two);
  const fwd = (m: { model: { forward(x: T.Tensor): T.Tensor }; x: T.Tensor }) => () => T.tidy(() => T.noGrad(() => m.model.forward(m.x).dataSync()[0]));

  // The same ConvNeXt-T forward with tf ops on tfjs-wasm (NHWC; random weights of the same shapes).
  await tf.setBackend('wasm');
  const tfTiny = tfjsConvNeXtTiny(tf, t1.x.dataSync() as Float32Array);
  add('ConvNeXt-T fwd 224, batch 1', 'tsgrad-wasm 1T', 'tfjs-wasm', fwd(t1), onTf('wasm', tfTiny));
  add('ConvNeXt-T fwd, 2 threads vs our 1 thread', 'tsgrad-wasm 2T', 'tsgrad-wasm 1T', fwd(t2), fwd(t1));

  const attoOn = (b: T.Backend) => onBackend(b, attoStep);
  const a1 = await attoOn(one);
  const a2 = await attoOn(two);
  const atto = 'ConvNeXt-atto train step (AdamW), 32x32, batch 64, 2 threads vs our 1 thread';
  // The 1-thread anchor is timed too, for the PyTorch one-thread table.
  add(atto, 'tsgrad-wasm 2T', 'tsgrad-wasm 1T', a2, recorded(`${atto} #1T`, a1));
  return {
    torchRows: [
      ['ConvNeXt-T fwd 224, batch 1', 'convnext-t fwd'],
      [`${atto} #1T`, 'atto step'],
    ],
    torch2Rows: [
      ['ConvNeXt-T fwd, 2 threads vs our 1 thread', 'convnext-t fwd'],
      [atto, 'atto step'],
    ],
  };
}
