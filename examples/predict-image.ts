/**
 * Classifies one photo with the official ImageNet-1k ConvNeXt weights and prints the top-5
 * ImageNet classes: the `.pth` from facebookresearch/ConvNeXt (e.g. convnext_tiny_1k_224_ema.pth,
 * https://dl.fbaipublicfiles.com/convnext/convnext_tiny_1k_224_ema.pth) or timm's
 * `model.safetensors` (huggingface.co/timm/convnext_tiny.fb_in1k). The variant is read from
 * the weights. Each step is spelled out; `tsgrad-convnext predict --weights FILE IMAGE` does
 * the same for many images.
 *
 *   node --import tsx --conditions=source examples/predict-image.ts --weights convnext_tiny_1k_224_ema.pth cat.jpg [--top-k 5] [--image-size 224] [--crop-pct 0.875] [--backend auto]
 */
import { parseArgs } from 'node:util';
import { fromTypedArray, noGrad, tidy } from '@tsgrad/core';
import { DATASET_STATS, IMAGENET_CLASSES, convnextFromStateDict, evalTransform, topK } from '@tsgrad/convnext';
import { chooseBackend, decodeImageFile, loadWeightsFile } from '@tsgrad/convnext/node';
import { oneOf, positiveInt } from './lib/args.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    weights: { type: 'string' },
    'top-k': { type: 'string', default: '5' },
    'image-size': { type: 'string', default: '224' },
    'crop-pct': { type: 'string', default: '0.875' },
    backend: { type: 'string', default: 'auto' },
  },
});
if (!values.weights || positionals.length !== 1) throw new Error('usage: predict-image.ts --weights WEIGHTS(.pth|.safetensors) IMAGE(.jpg|.png)');
const k = positiveInt('top-k', values['top-k']);
const size = positiveInt('image-size', values['image-size']);
const cropPct = Number(values['crop-pct']);
if (!(cropPct > 0 && cropPct <= 1)) throw new Error(`--crop-pct must be in (0, 1], got '${values['crop-pct']}'`);
const backend = await chooseBackend(oneOf('backend', values.backend, ['auto', 'js', 'wasm', 'webgpu'] as const));

// 1. The weights (official or timm names; .pth read by our own zip reader and restricted unpickler).
const { tensors } = await loadWeightsFile(values.weights);
const { model, arch } = convnextFromStateDict(tensors);
for (const t of Object.values(tensors)) t.dispose();
model.eval();
if (arch.inChans !== 3) throw new Error(`the weights take ${arch.inChans} input channels; ImageNet weights take RGB (3)`);
if (arch.numClasses !== IMAGENET_CLASSES.length) throw new Error(`the weights' head has ${arch.numClasses} classes, not ImageNet-1k's 1000; use 'tsgrad-convnext predict --weights FILE --classes names.txt'`);
console.log(`ConvNeXt-${arch.variant ?? `custom (depths [${arch.depths.join(', ')}], dims [${arch.dims.join(', ')}])`} from ${values.weights}; backend ${backend}`);

// 2. The picture as timm evaluates ConvNeXt: shorter side to size / crop-pct (bicubic, antialiased), centre crop, ImageNet mean/std.
const image = decodeImageFile(positionals[0]!);
const { mean, std } = DATASET_STATS.imagenet;
const pixels = evalTransform(image, { size, cropPct, mean, std });

// 3. One forward pass, then softmax and the k most probable classes.
const out = tidy(() => noGrad(() => model.forward(fromTypedArray(pixels, [1, 3, size, size], 'float32'))));
const logits = await out.data(); // await: works on the GPU too
out.dispose();
console.log(`${positionals[0]} (${image.width}x${image.height}):`);
for (const p of topK(logits, k, IMAGENET_CLASSES)) console.log(`  ${(100 * p.probability).toFixed(2).padStart(6)}%  ${p.label}`);
model.dispose();
