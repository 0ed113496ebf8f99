/** Building optimizer parameter groups from a module, as ConvNeXt's `optim_factory`. */
import type { Tensor } from '@tsgrad/core';
import type { Module } from './module.js';

/** Options of {@link parameterGroups}. */
export interface ParameterGroupsOptions {
  /** Weight decay for the decayed parameters. */
  readonly weightDecay: number;
  /** Names that get no weight decay besides 1-D parameters and biases. */
  readonly skip?: readonly string[];
  /** Layer id of a parameter name, for layer-wise lr decay (default: everything in layer 0). */
  readonly layerId?: (name: string) => number;
  /** lr multiplier of a layer id (default 1), e.g. `id => decay ** (numLayers - 1 - id)`. */
  readonly layerScale?: (id: number) => number;
}

/** One group from {@link parameterGroups}: pass the array to an optimizer. */
export interface NamedParamGroup {
  /** `layer_<id>_decay` or `layer_<id>_no_decay`. */
  name: string;
  /** The group's parameters. */
  params: Tensor[];
  /** Their parameter names, in order. */
  paramNames: string[];
  /** 0 for the no-decay group. */
  weightDecay: number;
  /** lr multiplier (layer-wise decay), read by `LRScheduler`. */
  lrScale: number;
}

/**
 * Splits a module's trainable parameters into weight-decay and no-decay groups, as
 * ConvNeXt's `get_parameter_groups`: a parameter gets no decay when it is 1-D, its name ends
 * in `.bias`, or it is in `skip` (so biases, every LayerNorm weight and bias, and every
 * layer-scale `gamma`). With `layerId`, groups are further split per layer with `lrScale`.
 */
export function parameterGroups(module: Module, opts: ParameterGroupsOptions): NamedParamGroup[] {
  const skip = new Set(opts.skip ?? []);
  const groups = new Map<string, NamedParamGroup>();
  for (const [name, p] of module.namedParameters()) {
    if (!p.requiresGrad) continue;
    const noDecay = p.ndim === 1 || name.endsWith('.bias') || skip.has(name);
    const id = opts.layerId ? opts.layerId(name) : 0;
    const key = `layer_${id}_${noDecay ? 'no_decay' : 'decay'}`;
    let g = groups.get(key);
    if (!g) {
      g = { name: key, params: [], paramNames: [], weightDecay: noDecay ? 0 : opts.weightDecay, lrScale: opts.layerScale ? opts.layerScale(id) : 1 };
      groups.set(key, g);
    }
    g.params.push(p);
    g.paramNames.push(name);
  }
  return [...groups.values()];
}
