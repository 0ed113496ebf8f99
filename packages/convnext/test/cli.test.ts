/** The tsgrad-convnext command line end to end: usage, --help, train on a tiny Fashion-MNIST-format dataset, eval of that run, info. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEvalArgs, parseTrainArgs } from '../src/cli.js';
import { scoreLogits, type EvalResult } from '../src/eval.js';
import { loadRunForPredict } from '../src/predict/predict-node.js';
import { cli, MICRO } from './helpers/cli-run.js';
import { writeIdxDataset } from './helpers/idx-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = writeIdxDataset(join(root, 'fashion'), { train: 32, test: 20 });
// Smaller images for the second run: the readers take any IDX image size.
const small = writeIdxDataset(join(root, 'small'), { train: 32, test: 10, side: 16 });


const micro = MICRO;

describe('usage and --help', () => {
  it('prints usage and exits 0 with no arguments (the installed bin too)', async () => {
    const r = await cli();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: tsgrad-convnext <command> \[options\]/);
    for (const c of ['train', 'eval', 'info']) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    const here = fileURLToPath(new URL('.', import.meta.url));
    const tsx = resolve(here, '../../../node_modules/.bin/tsx');
    const p = spawnSync(tsx, ['--conditions=source', resolve(here, '../src/cli.ts')], { encoding: 'utf8', timeout: 60_000 });
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/^Usage: tsgrad-convnext <command>/);
  }, 60_000);

  it('--help on each command', async () => {
    expect((await cli('--help')).out).toMatch(/^Usage: tsgrad-convnext <command>/);
    const train = await cli('train', '--help');
    expect(train.code).toBe(0);
    expect(train.out).toMatch(/^Usage: tsgrad-convnext train \[options\]/);
    expect(train.out).toContain('--dataset NAME       shapes fashion-mnist mnist cifar10 cifar100');
    expect(train.out).toContain('apt-get install dataset-fashion-mnist');
    expect(train.out).toContain('--in-chans N');
    const ev = await cli('eval', '--help');
    expect(ev.code).toBe(0);
    expect(ev.out).toMatch(/^Usage: tsgrad-convnext eval RUN \[options\]/);
    expect(ev.out).toContain('confusion-<dataset>.svg');
    const info = await cli('info', '-h');
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^Usage: tsgrad-convnext info \[options\]/);
    expect(info.out).toContain('4.47 GFLOPs');
  });

  it('bad commands and flags exit 2 with the reason', async () => {
    const r = await cli('fit');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: unknown command 'fit'; the commands are train, eval, info/);
    expect((await cli('--epochs', '3')).err).toContain("did you mean 'tsgrad-convnext train --epochs 3'?");
    const bad = await cli('train', '--dataset', 'imagenet');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("error: --dataset must be one of shapes, fashion-mnist, mnist, cifar10, cifar100, folder, got 'imagenet'");
    expect(bad.err).toContain("Run 'tsgrad-convnext train --help' for the options.");
    expect((await cli('train', '--in-chans', '2')).err).toContain('--in-chans must be 1 or 3, got 2');
    expect((await cli('eval')).err).toContain('eval needs a run folder: tsgrad-convnext eval RUN_DIR');
    expect((await cli('eval', 'a', 'b')).err).toContain("eval takes one run folder, got 'a', 'b'");
    expect((await cli('info', '--model', 'giant')).err).toContain("--model must be one of atto, femto, pico, nano, tiny, small, base, large, xlarge, got 'giant'");
    expect(parseTrainArgs(['train', '--dataset', 'cifar100', '--cifar100-labels', 'coarse', '--data-dir', 'x']).config).toMatchObject({ dataset: 'cifar100', cifar100Labels: 'coarse', dataDir: 'x' });
    expect(parseEvalArgs(['runs/a', '--dataset', 'mnist', '--batch-size', '8'])).toMatchObject({ run: 'runs/a', dataset: 'mnist', batchSize: 8, backend: 'auto' });
  });

  it('--preset sets a recipe\'s defaults, flags beside it win, and a resumed run checks it', async () => {
    const fm = parseTrainArgs(['train', '--preset', 'fashion-mnist']);
    expect(fm.config).toMatchObject({ dataset: 'fashion-mnist', depths: [1, 2, 2, 2], dims: [32, 48, 96, 192], stemStride: 2, stemKernel: 6, downsampleKernel: 2, imageSize: 32, epochs: 17, batchSize: 128, lr: 0.004, warmupEpochs: 1, cropPadding: 2, flip: false, aa: 'none', reprob: 0, dropPath: 0, noAugEpochs: 5, valEvery: 2 });
    expect(fm.explicit).toMatchObject({ dataset: 'fashion-mnist', epochs: 17, imageSize: 32, stemKernel: 6, depths: [1, 2, 2, 2], valEvery: 2 });
    const mine = parseTrainArgs(['train', '--preset', 'fashion-mnist', '--epochs', '3', '--lr', '0.01', '--data-dir', 'x']);
    expect(mine.config).toMatchObject({ dataset: 'fashion-mnist', epochs: 3, lr: 0.01, dataDir: 'x', depths: [1, 2, 2, 2] });
    expect(parseTrainArgs(['--preset', 'mnist']).config).toMatchObject({ dataset: 'mnist', depths: [2, 2, 2, 2], dims: [24, 48, 96, 192], imageSize: null, stemKernel: null, cropPadding: 2, flip: false, epochs: 16, noAugEpochs: 0 });
    // Without a preset the defaults are the demo's.
    expect(parseTrainArgs([]).config).toMatchObject({ dataset: 'shapes', depths: null, imageSize: null, flip: true });
    const bad = await cli('train', '--preset', 'imagenet');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("error: --preset must be one of fashion-mnist, mnist, got 'imagenet'");
    expect((await cli('train', '--help')).out).toContain('--preset NAME');
    // As a user runs it, on tiny IDX files: the preset's schedule, a micro model and budget from the flags.
    const out = join(root, 'preset-run');
    const r = await cli('train', '--preset', 'fashion-mnist', '--data-dir', data, '--depths', '1,1,1,1', '--dims', '8,16,16,24', '--epochs', '1', '--batch-size', '16', '--backend', 'js', '--out', out);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ConvNeXt-custom \(0\.\d+M parameters, stem stride 2, kernel 6\) on fashion-mnist \(1x32x32 images\)/);
    expect(r.out).toContain('1 epochs x 2 steps, batch 16, AdamW lr 0.004 (cosine, warmup 1 epochs)');
    expect(r.out).toContain('; validating every 2 epochs and after the last');
    expect(r.out).toMatch(/epoch 1: validation loss/);
    // predict on the run resizes pictures to the size it trained at.
    const pm = await loadRunForPredict(out);
    expect([pm.imageSize, pm.cropPct]).toEqual([32, 1]);
    // Resuming with another preset names what differs.
    const other = await cli('train', '--resume', '--preset', 'mnist', '--out', out, '--backend', 'js');
    expect(other.code).toBe(1);
    expect(other.err).toContain('dataset (--dataset): saved "fashion-mnist", given "mnist"');
  }, 60_000);

  it('a missing dataset fails with what to install and where to put it', async () => {
    const r = await cli('train', '--dataset', 'mnist', '--data-dir', join(root, 'none'), ...micro, '--out', join(root, 'none-run'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('mnist: dataset not found: missing train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz');
    expect(r.err).toContain('pass it with --data-dir');
  });
});

describe('train, eval and info on a run', () => {
  const run = join(root, 'run');

  it('trains one short epoch on Fashion-MNIST-format IDX files (1 input channel)', async () => {
    const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', data, ...micro, '--out', run);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/on fashion-mnist \(1x28x28 images\), backend js/);
    expect(r.out).toMatch(/epoch 1: validation loss \d+\.\d+, accuracy \d+\.\d%/);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { config: { dataset: string; inChans: number | null }; step: number; evals: unknown[] };
    expect(metrics).toMatchObject({ step: 2, config: { dataset: 'fashion-mnist', inChans: null } });
    expect(metrics.evals).toHaveLength(1);
    expect(r.out).toMatch(/epoch 1: validation loss \d+\.\d+, accuracy \d+\.\d%, top-5 \d+\.\d%/);
    const jsonl = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(jsonl.map((l) => l.kind)).toEqual(['epoch']);
    // --resume keeps the saved configuration: a flag that changes what the run learns is refused by name.
    const conflict = await cli('train', '--resume', '--out', run, '--lr', '0.1', '--backend', 'js');
    expect(conflict.code).toBe(1);
    expect(conflict.err).toContain("error: resume keeps the run's saved configuration; these settings differ from it:\n  lr (--lr): saved 0.002, given 0.1\n");
    // Finished run, no flags: nothing to do, and the 1-epoch configuration is kept (not the default 3).
    const again = await cli('train', '--resume', '--out', run, '--backend', 'js');
    expect(again.code).toBe(0);
    expect(again.out).toContain('1 epochs x 2 steps');
  }, 60_000);

  it('eval writes the metrics JSON and the confusion matrix into the run folder', async () => {
    const r = await cli('eval', run, '--backend', 'js');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/on fashion-mnist validation, 20 images, backend js/);
    expect(r.out).toMatch(/^top-1 \d+\.\d\d%  top-5 \d+\.\d\d%  loss \d+\.\d{4}$/m);
    expect(r.out).toMatch(/^Ankle boot\s+\d+\.\d\d%\s+2$/m);
    const json = join(run, 'eval-fashion-mnist.json');
    const svg = join(run, 'confusion-fashion-mnist.svg');
    const m = JSON.parse(readFileSync(json, 'utf8')) as EvalResult;
    expect(m).toMatchObject({ dataset: 'fashion-mnist', split: 'val', examples: 20, weights: 'model' });
    expect(m.top1).toBeGreaterThanOrEqual(0);
    expect(m.top5).toBeGreaterThanOrEqual(m.top1);
    expect(m.top5).toBeLessThanOrEqual(1);
    expect(m.loss).toBeGreaterThan(0);
    expect(Number.isFinite(m.loss)).toBe(true);
    // The confusion matrix: 10x10, each row holds that class's 2 images, the diagonal is top-1.
    expect(m.confusion).toHaveLength(10);
    expect(m.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(new Array(10).fill(2));
    expect(m.confusion.reduce((a, row, i) => a + row[i]!, 0) / 20).toBeCloseTo(m.top1, 12);
    expect(m.perClass.map((c) => c.class)).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    m.perClass.forEach((c, i) => expect(c.accuracy).toBeCloseTo(m.confusion[i]![i]! / 2, 12));
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(text).toContain('Ankle boot');
    expect(text).toContain('T-shirt/top');
    expect(text.match(/<rect x=/g)).toHaveLength(100);
    expect(text.trimEnd().endsWith('</svg>')).toBe(true);
  }, 60_000);

  it('eval on another dataset, and errors for a run that does not fit it or does not exist', async () => {
    const r = await cli('eval', run, '--dataset', 'mnist', '--data-dir', data, '--backend', 'js');
    expect(r.code).toBe(0);
    expect(existsSync(join(run, 'eval-mnist.json'))).toBe(true);
    const misfit = await cli('eval', run, '--dataset', 'shapes', '--backend', 'js');
    expect(misfit.code).toBe(1);
    expect(misfit.err).toMatch(/eval: the run's model \(fashion-mnist, native input channels\) does not fit shapes \(10 classes, 3 channels\)/);
    const none = await cli('eval', join(root, 'nope'));
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/eval: '.*nope' does not exist; pass a run folder/);
  }, 60_000);

  it('trains with grey images repeated to 3 channels (--in-chans 3); eval uses the EMA weights of a run that kept them', async () => {
    const rgb = join(root, 'rgb');
    const r = await cli('train', '--dataset', 'mnist', '--data-dir', small, '--in-chans', '3', '--ema', '0.9', ...micro, '--out', rgb);
    expect(r.code).toBe(0);
    const ev = await cli('eval', rgb, '--backend', 'js');
    expect(ev.out).toContain('(EMA weights) on mnist validation, 10 images');
    expect(JSON.parse(readFileSync(join(rgb, 'eval-mnist.json'), 'utf8'))).toMatchObject({ weights: 'ema', examples: 10 });
    const info = await cli('info', '--run', rgb);
    expect(info.out).toMatch(/of run '.*rgb' \(mnist\): input \[1, 3, 16, 16\], stem stride 2, 10 classes/);
  }, 60_000);

  it('info prints the parameter count of atto and tiny, and of a run', async () => {
    const atto = await cli('info', '--model', 'atto');
    expect(atto.code).toBe(0);
    expect(atto.out).toContain('Parameters: 3,695,520 (3.70M)');
    const tiny = await cli('info', '--model', 'tiny', '--image-size', '224');
    expect(tiny.out).toContain('Parameters: 28,589,128 (28.59M)');
    expect(tiny.out).toContain('FLOPs: 4,470,399,744 (4.47 GFLOPs per image');
    expect(tiny.out).toContain('Stage outputs: 0: [1, 96, 56, 56], 1: [1, 192, 28, 28], 2: [1, 384, 14, 14], 3: [1, 768, 7, 7]');
    expect(tiny.out).toMatch(/^ {2}stages\.2\.8 \(Block\)\s+\[1, 384, 14, 14\]\s+1,201,920\s+/m);
    const fromRun = await cli('info', '--run', run);
    const params = (JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { parameters: number }).parameters;
    expect(fromRun.out).toContain(`Parameters: ${params.toLocaleString('en-US')}`);
    expect(fromRun.out).toMatch(/input \[1, 1, 28, 28\], stem stride 2, 10 classes/);
  });
});

describe('scoreLogits', () => {
  it('gives cross-entropy, argmax and top-5 membership per example (values from torch.nn.functional.cross_entropy)', () => {
    const logits = Float32Array.from([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /**/ 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const s = scoreLogits(logits, Int32Array.from([0, 2, 5]), 10);
    expect(s.loss[0]).toBeCloseTo(2.6161172067, 8); // F.cross_entropy(tensor([[1.,2,3,0,0,0,0,0,0,0]]), tensor([0]))
    expect(s.loss[1]).toBeCloseTo(Math.log(10), 10);
    expect(s.loss[2]).toBeCloseTo(5.4586297444, 8);
    expect(s.pred).toEqual([2, 0, 0]); // ties: the first maximum, as argmax
    expect(s.inTop5).toEqual([true, true, false]); // label 0 is third; all equal; label 5 is sixth
    expect(() => scoreLogits(logits, Int32Array.from([0]), 10)).toThrow(/scoreLogits: 30 logits for 1 examples of 10 classes/);
  });
});
