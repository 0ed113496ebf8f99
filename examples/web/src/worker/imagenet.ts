/**
 * Official ConvNeXt ImageNet weights dropped on the page: a `.pth` from the ConvNeXt
 * repository (`torch.save` zip; read by the package's own zip reader and restricted
 * unpickler) or timm's `model.safetensors`. The architecture is read from the weights.
 */
import { IMAGENET_CLASSES, convnextFromStateDict, datasetNormalization, decodePthStateDict, looksLikeZip } from '@tsgrad/convnext';
import { dispose } from '@tsgrad/core';
import { readBytes, readSafetensors } from '@tsgrad/nn';
import type { Classifier } from './classifier.js';
import { modelName } from './models.js';

/** A classifier from official weights (official or timm names, 1000 ImageNet classes). */
export async function loadImagenetWeights(file: File): Promise<Classifier> {
  const bytes = await readBytes(file);
  // torch.save writes a zip; safetensors starts with its header length.
  const tensors = looksLikeZip(bytes) ? decodePthStateDict(bytes) : (await readSafetensors(bytes)).tensors;
  const { model } = convnextFromStateDict(tensors);
  dispose(tensors); // loadStateDict copied them into the model
  if (model.numClasses !== IMAGENET_CLASSES.length) {
    throw new Error(`${file.name}: the head has ${model.numClasses} classes, not ImageNet-1k's ${IMAGENET_CLASSES.length}; use weights fine-tuned on ImageNet-1k (ImageNet-22k heads are not labelled here)`);
  }
  return { model, classes: IMAGENET_CLASSES, normalize: datasetNormalization('imagenet', 3), size: 224, cropPct: 0.875, description: `${modelName(model)} from ${file.name} (ImageNet-1k)` };
}
