/**
 * Exports a ConvNeXt's weights as safetensors under the official names
 * (facebookresearch/ConvNeXt: `downsample_layers.0.0.weight`, `stages.1.2.pwconv1.weight`,
 * ...) or timm's (`stem.0.weight`, `stages.1.blocks.2.mlp.fc1.weight`, ...), so that
 * PyTorch's `model.load_state_dict(safetensors.torch.load_file(path))` loads it strictly
 * with no key mapping. Browser-safe: returns bytes; the CLI writes them to a file.
 */
import type { Tensor } from '@tsgrad/core';
import { encodeSafetensors } from '@tsgrad/nn';
import { convertConvNeXtStateDict, type ConvNeXtNaming } from '../checkpoint/timm.js';
import type { ConvNeXt } from '../model.js';

/** Options of {@link exportConvNeXtSafetensors}. */
export interface SafetensorsExportOptions {
  /** Key names: `official` (default; the official repo's `convnext.py`) or `timm`. */
  readonly naming?: ConvNeXtNaming;
  /** timm only: store `mlp.fc1/fc2.weight` as `[out, in, 1, 1]` for timm models built with `conv_mlp=True`. */
  readonly convMlp?: boolean;
  /** Extra string metadata for the header (`format: 'pt'` is always set, as PyTorch's writers do). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The model's state dict under the chosen naming (tensors are the model's own, not copies;
 * reshaped ones are new views).
 */
export function convnextExportStateDict(model: ConvNeXt, opts: Pick<SafetensorsExportOptions, 'naming' | 'convMlp'> = {}): Record<string, Tensor> {
  const naming = opts.naming ?? 'official';
  if (naming !== 'official' && naming !== 'timm') throw new RangeError(`exportConvNeXtSafetensors: naming must be 'official' or 'timm', got '${String(naming)}'`);
  if (opts.convMlp && naming !== 'timm') throw new RangeError("exportConvNeXtSafetensors: convMlp applies to timm naming only (the official layout stores MLP weights as [out, in])");
  const sd = model.stateDict();
  return naming === 'official' ? sd : convertConvNeXtStateDict(sd, 'timm', { convMlp: opts.convMlp ?? false });
}

/**
 * Serializes a ConvNeXt's weights to safetensors bytes with official (default) or timm key
 * names. The header's metadata says `format: pt` and records the architecture under
 * `tsgrad.convnext` (JSON) so that tools here can rebuild the model.
 */
export async function exportConvNeXtSafetensors(model: ConvNeXt, opts: SafetensorsExportOptions = {}): Promise<Uint8Array> {
  const sd = convnextExportStateDict(model, opts);
  const arch = { depths: model.depths, dims: model.dims, inChans: model.inChans, numClasses: model.numClasses, stemStride: model.stemStride, ...(model.stemKernel !== model.stemStride ? { stemKernel: model.stemKernel } : {}), ...(model.downsampleKernel !== 2 ? { downsampleKernel: model.downsampleKernel } : {}), kernelSize: model.kernelSize, naming: opts.naming ?? 'official' };
  return encodeSafetensors(sd, { ...(opts.metadata ?? {}), format: 'pt', 'tsgrad.convnext': JSON.stringify(arch) });
}
