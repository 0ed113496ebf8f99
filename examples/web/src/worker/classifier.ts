/**
 * A model ready to classify pictures: the network, its class names and how a picture is
 * prepared for it (timm's eval transform: resize, centre crop, normalise).
 */
import { fromTypedArray, noGrad, tidy } from '@tsgrad/core';
import { ConvNeXt, evalTransform, topK, type Normalization } from '@tsgrad/convnext';
import type { ClassifyTarget, ModelReport, Picture, PredictionReport } from '../protocol.js';

/** A network with what classification needs to know about it. */
export interface Classifier {
  readonly model: ConvNeXt;
  readonly classes: readonly string[];
  readonly normalize: Normalization;
  /** Input side in pixels. */
  readonly size: number;
  readonly cropPct: number;
  readonly description: string;
}

/** The page's view of a classifier. */
export function modelReport(c: Classifier): ModelReport {
  const parameters = c.model.parameters().reduce((n, p) => n + p.size, 0);
  return { description: c.description, classes: c.classes, parameters };
}

/** Classifies one picture: the top five classes and all logits. */
export async function classify(c: Classifier, picture: Picture, id: number, target: ClassifyTarget): Promise<PredictionReport> {
  const channels = c.model.inChans === 1 ? 1 : 3;
  const input = evalTransform({ ...picture, channels: 3 }, { size: c.size, cropPct: c.cropPct, mean: c.normalize.mean, std: c.normalize.std, channels });
  const wasTraining = c.model.training;
  c.model.eval();
  const out = tidy(() => noGrad(() => c.model.forward(fromTypedArray(input, [1, channels, c.size, c.size], 'float32'))));
  c.model.train(wasTraining);
  const logits = Array.from(await out.data());
  out.dispose();
  const top = topK(logits, 5, c.classes).map((p) => ({ label: p.label, probability: p.probability }));
  return { id, target, top, logits };
}
