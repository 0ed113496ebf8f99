/**
 * ConvNeXt → ONNX (opset 17) in eval mode: the graph is written op by op from the model's
 * structure (no tracing), with the weights as initializers and a dynamic batch dimension.
 *
 * Op mapping (each matches the model's forward in eval mode):
 * - stem / downsampling conv → `Conv` (kernel = stride, or an overlapping kernel with its pads); depthwise conv → `Conv` with `group = C`
 * - channels-first LayerNorm (`LayerNorm2d`) → `Transpose` NCHW→NHWC, `LayerNormalization`
 *   (axis -1), `Transpose` back; the block's channels-last LayerNorm → `LayerNormalization`
 * - `pwconv1`/`pwconv2` on NHWC → `MatMul` with the transposed weight, then `Add` bias
 * - exact GELU → `x * 0.5 * (1 + Erf(x / sqrt(2)))` (opset 17 has no `Gelu`; it came in 20)
 * - layer scale → `Mul` by gamma; residual → `Add`; drop path is the identity in eval mode
 * - head: `ReduceMean` over H, W (axes as an attribute, as opset 17 has it) → `LayerNormalization` → `Gemm` (transB)
 */
import type { Tensor } from '@tsgrad/core';
import type { Conv2d, LayerNorm, LayerNorm2d, Linear, Sequential } from '@tsgrad/nn';
import { Block, type ConvNeXt } from '../../model.js';
import { encodeOnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

/** Options of {@link exportConvNeXtOnnx}. */
export interface OnnxExportOptions {
  /** Input height and width written into the graph's input type (default 224). */
  readonly imageSize?: number;
  /** Leave height and width symbolic (`height`, `width`) as well as the batch (default false). */
  readonly dynamicImageSize?: boolean;
  /** Graph input name (default `input`). */
  readonly inputName?: string;
  /** Graph output name (default `logits`). */
  readonly outputName?: string;
}

/** The opset the exporter targets. */
export const ONNX_OPSET = 17;

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private count = 0;
  private consts = new Map<number, string>();

  op(opType: string, inputs: readonly string[], attributes: OnnxNode['attributes'] = [], name?: string): string {
    const id = `${name ?? opType}_${this.count++}`;
    const out = `${id}_out`;
    this.nodes.push({ opType, inputs, outputs: [out], name: id, attributes });
    return out;
  }

  init(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** A shared float scalar constant. */
  scalar(v: number): string {
    const have = this.consts.get(v);
    if (have) return have;
    const name = `const_${this.consts.size}`;
    this.consts.set(v, name);
    return this.init(name, [], Float32Array.of(v));
  }
}

async function values(t: Tensor): Promise<Float32Array> {
  if (t.dtype !== 'float32') throw new TypeError(`exportConvNeXtOnnx: parameters must be float32, got ${t.dtype}`);
  return Float32Array.from((await t.data()) as Float32Array);
}

/** `[out, in]` → `[in, out]`, for MatMul on channels-last activations. */
function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

async function conv(g: GraphBuilder, x: string, m: Conv2d, name: string): Promise<string> {
  const w = g.init(`${name}.weight`, m.weight.shape, await values(m.weight));
  const inputs = m.bias ? [x, w, g.init(`${name}.bias`, m.bias.shape, await values(m.bias))] : [x, w];
  const [ph, pw] = m.padding;
  return g.op(
    'Conv',
    inputs,
    [
      { name: 'kernel_shape', ints: m.kernelSize },
      { name: 'strides', ints: m.stride },
      { name: 'pads', ints: [ph, pw, ph, pw] },
      { name: 'dilations', ints: m.dilation },
      { name: 'group', i: m.groups },
    ],
    name,
  );
}

/** LayerNormalization over the last axis (channels-last input). */
async function layerNorm(g: GraphBuilder, x: string, m: LayerNorm | LayerNorm2d, name: string, channels: number): Promise<string> {
  const scale = m.weight ? g.init(`${name}.weight`, [channels], await values(m.weight)) : g.init(`${name}.weight`, [channels], new Float32Array(channels).fill(1));
  const bias = m.bias ? g.init(`${name}.bias`, [channels], await values(m.bias)) : g.init(`${name}.bias`, [channels], new Float32Array(channels));
  return g.op('LayerNormalization', [x, scale, bias], [{ name: 'axis', i: -1 }, { name: 'epsilon', f: m.eps }], name);
}

async function layerNorm2d(g: GraphBuilder, x: string, m: LayerNorm2d, name: string): Promise<string> {
  const nhwc = g.op('Transpose', [x], [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  const y = await layerNorm(g, nhwc, m, name, m.numChannels);
  return g.op('Transpose', [y], [{ name: 'perm', ints: [0, 3, 1, 2] }]);
}

async function linearLast(g: GraphBuilder, x: string, m: Linear, name: string): Promise<string> {
  const w = g.init(`${name}.weight_t`, [m.inFeatures, m.outFeatures], transpose2d(await values(m.weight), m.outFeatures, m.inFeatures));
  const y = g.op('MatMul', [x, w], [], `${name}.matmul`);
  return m.bias ? g.op('Add', [y, g.init(`${name}.bias`, [m.outFeatures], await values(m.bias))], [], `${name}.add`) : y;
}

/** Exact GELU from Erf: x * 0.5 * (1 + erf(x / sqrt 2)). */
function gelu(g: GraphBuilder, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.scalar(1)])]), g.scalar(0.5)], [], 'Gelu');
}

async function block(g: GraphBuilder, x: string, b: Block, name: string): Promise<string> {
  if (b.act.approximate !== 'none') throw new RangeError(`exportConvNeXtOnnx: ${name} uses GELU '${b.act.approximate}'; only the exact GELU is exported`);
  let y = await conv(g, x, b.dwconv, `${name}.dwconv`);
  y = g.op('Transpose', [y], [{ name: 'perm', ints: [0, 2, 3, 1] }]);
  y = await layerNorm(g, y, b.norm, `${name}.norm`, b.dim);
  y = await linearLast(g, y, b.pwconv1, `${name}.pwconv1`);
  y = gelu(g, y);
  y = await linearLast(g, y, b.pwconv2, `${name}.pwconv2`);
  if (b.gamma) y = g.op('Mul', [y, g.init(`${name}.gamma`, [b.dim], await values(b.gamma))], [], `${name}.gamma`);
  y = g.op('Transpose', [y], [{ name: 'perm', ints: [0, 3, 1, 2] }]);
  return g.op('Add', [x, y], [], `${name}.residual`);
}

/**
 * Writes a ConvNeXt as an ONNX model (opset 17, IR 8): input `[batch, inChans, H, W]`
 * float32 (batch dynamic), output `[batch, numClasses]` logits. The model is exported as in
 * eval mode (drop path off). Any variant, depths/dims, stem stride and kernel size.
 */
export async function exportConvNeXtOnnx(model: ConvNeXt, opts: OnnxExportOptions = {}): Promise<Uint8Array> {
  const size = opts.imageSize ?? 224;
  if (!Number.isInteger(size) || size < model.minInputSize) throw new RangeError(`exportConvNeXtOnnx: imageSize must be an integer >= ${model.minInputSize} (8 x stem stride ${model.stemStride}), got ${size}`);
  const input = opts.inputName ?? 'input';
  const output = opts.outputName ?? 'logits';
  if (input === output) throw new RangeError(`exportConvNeXtOnnx: input and output need different names, got '${input}' for both`);
  const g = new GraphBuilder();
  let x = input;
  for (let i = 0; i < 4; i++) {
    const ds = model.downsample_layers.at(i);
    const name = `downsample_layers.${i}`;
    if (i === 0) {
      x = await conv(g, x, ds.at(0) as Conv2d, `${name}.0`);
      x = await layerNorm2d(g, x, ds.at(1) as LayerNorm2d, `${name}.1`);
    } else {
      x = await layerNorm2d(g, x, ds.at(0) as LayerNorm2d, `${name}.0`);
      x = await conv(g, x, ds.at(1) as Conv2d, `${name}.1`);
    }
    const stage = model.stages.at(i) as Sequential;
    for (let j = 0; j < stage.length; j++) {
      const b = stage.at(j);
      if (!(b instanceof Block)) throw new TypeError(`exportConvNeXtOnnx: stages.${i}.${j} is a ${b.constructor.name}, not a ConvNeXt Block`);
      x = await block(g, x, b, `stages.${i}.${j}`);
    }
  }
  x = g.op('ReduceMean', [x], [{ name: 'axes', ints: [2, 3] }, { name: 'keepdims', i: 0 }], 'pool');
  x = await layerNorm(g, x, model.norm, 'norm', model.dims[3]!);
  const head = model.head;
  const w = g.init('head.weight', head.weight.shape, await values(head.weight));
  const gemmIn = head.bias ? [x, w, g.init('head.bias', head.bias.shape, await values(head.bias))] : [x, w];
  const last = g.op('Gemm', gemmIn, [{ name: 'transB', i: 1 }], 'head');
  // Rename the head's output to the graph output name.
  const lastNode = g.nodes[g.nodes.length - 1]!;
  g.nodes[g.nodes.length - 1] = { ...lastNode, outputs: [output] };
  void last;
  const hw: (number | string)[] = opts.dynamicImageSize ? ['height', 'width'] : [size, size];
  return encodeOnnxModel({
    graphName: model.variant ? `convnext_${model.variant}` : 'convnext',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: input, dims: ['batch', model.inChans, ...hw] }],
    outputs: [{ name: output, dims: ['batch', head.outFeatures] }],
    opset: ONNX_OPSET,
    producer: 'tsgrad',
    producerVersion: '0.1.0',
    doc: `ConvNeXt (depths [${model.depths.join(', ')}], dims [${model.dims.join(', ')}], stem stride ${model.stemStride}), eval mode, exported by @tsgrad/convnext`,
  });
}
