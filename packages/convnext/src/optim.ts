/** ConvNeXt's optimizer parameter groups (official `optim_factory`): no decay for 1-D params and biases, layer-wise lr decay. */
import { parameterGroups, type Module, type NamedParamGroup } from '@tsgrad/nn';

/**
 * The layer id of a ConvNeXt parameter for layer-wise lr decay (official
 * `get_num_layer_for_convnext`, 12 groups of three blocks): stem 0; `stages.0` 1;
 * `downsample_layers.1`/`stages.1` 2; `downsample_layers.2` 3; `stages.2.j` 3 + ⌊j/3⌋;
 * `downsample_layers.3`/`stages.3` 12; everything else (`norm`, `head`) 13.
 */
export function convnextLayerId(name: string, numMaxLayer = 12): number {
  const parts = name.split('.');
  if (name.startsWith('downsample_layers')) {
    const stage = Number(parts[1]);
    if (stage === 0) return 0;
    if (stage === 1 || stage === 2) return stage + 1;
    return numMaxLayer;
  }
  if (name.startsWith('stages')) {
    const stage = Number(parts[1]);
    const block = Number(parts[2]);
    if (stage === 0 || stage === 1) return stage + 1;
    if (stage === 2) return 3 + Math.floor(block / 3);
    return numMaxLayer;
  }
  return numMaxLayer + 1;
}

/** Options of {@link convnextParamGroups}. */
export interface ConvNeXtParamGroupsOptions {
  /** Weight decay of conv and linear weights (official default 0.05). */
  readonly weightDecay: number;
  /** Layer-wise lr decay factor (official fine-tuning: 0.7 or 0.8); omitted or 1: none. */
  readonly layerDecay?: number;
  /** Extra parameter names without weight decay. */
  readonly skip?: readonly string[];
}

/**
 * Parameter groups for ConvNeXt training as the official code builds them: weight decay on
 * conv/linear weights only (not on 1-D parameters: biases, LayerNorms, `gamma`), and with
 * `layerDecay` an lr scale `layerDecay^(13 - layerId)` per group (read by `LRScheduler`).
 */
export function convnextParamGroups(model: Module, opts: ConvNeXtParamGroupsOptions): NamedParamGroup[] {
  const decay = opts.layerDecay;
  if (decay === undefined || decay === 1) return parameterGroups(model, { weightDecay: opts.weightDecay, skip: opts.skip ?? [] });
  const numLayers = 14;
  return parameterGroups(model, {
    weightDecay: opts.weightDecay,
    skip: opts.skip ?? [],
    layerId: (n) => convnextLayerId(n),
    layerScale: (id) => decay ** (numLayers - 1 - id),
  });
}
