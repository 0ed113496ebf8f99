/**
 * Trained weights as a safetensors file and back. The state dict keeps ConvNeXt's official
 * names; the metadata holds what the weights alone do not say (class names, normalisation,
 * input size, eval crop), so a reloaded file classifies exactly as the model it came from.
 */
import { dispose } from '@tsgrad/core';
import { encodeSafetensors, readSafetensors } from '@tsgrad/nn';
import { convnextFromStateDict, type Normalization } from '@tsgrad/convnext';
import type { Classifier } from './classifier.js';
import { modelName } from './models.js';

/** The metadata key the app writes its settings under. */
const META_KEY = 'tsgrad-web-app';

interface Meta {
  readonly classes: readonly string[];
  readonly normalize: Normalization;
  readonly size: number;
  readonly cropPct: number;
  readonly dataset: string;
}

/** The classifier's weights as safetensors bytes. */
export async function exportWeights(c: Classifier, dataset: string): Promise<Uint8Array> {
  const meta: Meta = { classes: c.classes, normalize: c.normalize, size: c.size, cropPct: c.cropPct, dataset };
  return encodeSafetensors(c.model.stateDict(), { format: 'pt', [META_KEY]: JSON.stringify(meta) });
}

/** A classifier from a safetensors file this app wrote, and the name of the data it was trained on. */
export async function importWeights(file: Blob): Promise<{ classifier: Classifier; dataset: string }> {
  const { tensors, metadata } = await readSafetensors(file);
  const raw = metadata?.[META_KEY];
  if (raw === undefined) throw new Error(`these safetensors were not written by this app (no '${META_KEY}' metadata with the class names); drop official ImageNet weights under "Classify a photo" instead`);
  const meta = JSON.parse(raw) as Meta;
  const { model } = convnextFromStateDict(tensors);
  dispose(tensors); // loadStateDict copied them into the model
  if (meta.classes.length !== model.numClasses) throw new Error(`the weights have ${model.numClasses} outputs but their metadata names ${meta.classes.length} classes`);
  const classifier = { model, classes: meta.classes, normalize: meta.normalize, size: meta.size, cropPct: meta.cropPct, description: `${modelName(model)} trained on ${meta.dataset} (reloaded)` };
  return { classifier, dataset: meta.dataset };
}
