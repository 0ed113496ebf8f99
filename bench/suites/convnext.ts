/**
 * ConvNeXt as users run it: ConvNeXt-T forward at 224 (batch 1 and 8) and one
 * ConvNeXt-atto AdamW training step (32x32, 2x2 stem, batch 64), on each backend present,
 * beside PyTorch CPU on the same number of threads (measured in this run by
 * bench/torch/convnext_bench.py through /usr/bin/python3). The training row also compares
 * the activation memory held for backward with what PyTorch's autograd saves.
 * tfjs has no ConvNeXt and tfjs-wasm no depthwise or conv gradient kernels, so it is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as T from '@tsgrad/core';
import { AdamW } from '@tsgrad/nn';
import { ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';
import type { Case, Suite } from './types.js';

interface TorchTimes {
  readonly threads: number;
  readonly tiny_fwd_b1_ms: number;
  readonly tiny_fwd_b8_ms: number;
  readonly atto_step_b64_ms: number;
  readonly atto_saved_activation_bytes: number;
}

function torchTimes(threads: number): TorchTimes | null {
  if (!existsSync('/usr/bin/python3')) return null;
  try {
    const out = execFileSync('/usr/bin/python3', [new URL('../torch/convnext_bench.py', import.meta.url).pathname, String(threads)], { encoding: 'utf8', timeout: 600_000 });
    return JSON.parse(out.trim().split('\n').at(-1)!) as TorchTimes;
  } catch (e) {
    console.warn(`convnext bench: PyTorch anchor unavailable (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

/** Bytes the graph holds for backward in one atto step: live bytes after forward minus before. */
function activationBytes(model: ConvNeXt, x: T.Tensor, y: T.Tensor): number {
  return T.tidy(() => {
    const before = T.memory().bytes;
    const loss = T.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
    const held = T.memory().bytes - before;
    loss.backward();
    model.zeroGrad();
    return held;
  });
}

export async function convnextSuite(): Promise<Suite> {
  const backends: string[] = [];
  try {
    await import('@tsgrad/wasm');
    backends.push('wasm');
  } catch {
    console.warn('convnext bench: @tsgrad/wasm not installed; js only');
  }
  backends.push('js');
  const torch = torchTimes(1);
  const cases: Case[] = [];
  const anchor = (ms: number | undefined) => ({ measuredMs: ms ?? NaN });
  for (const name of backends) {
    await T.setBackend(name);
    T.manualSeed(0);
    const tiny = new ConvNeXt({ variant: 'tiny' }).eval();
    const x1 = T.keep(T.randn([1, 3, 224, 224]));
    cases.push({ name: 'ConvNeXt-T forward 224, batch 1', oursLabel: `tsgrad ${name}`, anchorLabel: 'PyTorch CPU, 1 thread', iterations: 2, ours: () => T.tidy(() => T.noGrad(() => tiny.forward(x1).dataSync())), anchor: anchor(torch?.tiny_fwd_b1_ms) });
    if (name === 'js') continue; // the reference backend takes minutes for the larger cases
    const x8 = T.keep(T.randn([8, 3, 224, 224]));
    cases.push({ name: 'ConvNeXt-T forward 224, batch 8', oursLabel: `tsgrad ${name}`, anchorLabel: 'PyTorch CPU, 1 thread', iterations: 2, ours: () => T.tidy(() => T.noGrad(() => tiny.forward(x8).dataSync())), anchor: anchor(torch?.tiny_fwd_b8_ms) });
    const atto = new ConvNeXt({ variant: 'atto', numClasses: 10, stemStride: 2 });
    const opt = new AdamW(convnextParamGroups(atto, { weightDecay: 0.05 }), { lr: 1e-3 });
    const xa = T.keep(T.randn([64, 3, 32, 32]));
    const ya = T.keep(T.randint(0, 10, [64]));
    const held = activationBytes(atto, xa, ya);
    const ratio = torch ? held / torch.atto_saved_activation_bytes : NaN;
    cases.push({
      name: 'ConvNeXt-atto AdamW step, 32x32, batch 64',
      oursLabel: `tsgrad ${name}`,
      anchorLabel: 'PyTorch CPU, 1 thread',
      iterations: 3,
      note: `activations held for backward: ${(held / 2 ** 20).toFixed(1)} MiB${torch ? ` vs PyTorch ${(torch.atto_saved_activation_bytes / 2 ** 20).toFixed(1)} MiB (${ratio.toFixed(2)}x)` : ''}`,
      ours: () =>
        T.tidy(() => {
          const loss = T.crossEntropy(atto.forward(xa), ya, { labelSmoothing: 0.1 });
          loss.backward();
          opt.step();
          opt.zeroGrad();
          return loss.item();
        }),
      anchor: anchor(torch?.atto_step_b64_ms),
    });
  }
  return {
    cases,
    note: `PyTorch ${torch ? 'ran' : 'was not available'} (Debian python3-torch, ${torch ? 'timed by bench/torch/convnext_bench.py' : '-'}). Rows run on one configuration of each backend (wasm: its default thread count).`,
  };
}
