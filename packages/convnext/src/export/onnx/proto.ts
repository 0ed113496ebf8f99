/**
 * The ONNX messages the exporter writes (field numbers from onnx/onnx.proto, IR version 8):
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto and ValueInfoProto, as
 * plain objects encoded with {@link ProtoWriter}.
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
/** TensorProto.DataType INT64. */
export const ONNX_INT64 = 7;

/** A node attribute: an int, a float, a list of ints, or a string. */
export type OnnxAttribute = { readonly name: string } & ({ readonly i: number } | { readonly f: number } | { readonly ints: readonly number[] } | { readonly s: string });

/** One operator application (NodeProto). */
export interface OnnxNode {
  /** Operator type, e.g. `Conv`. */
  readonly opType: string;
  /** Input value names. */
  readonly inputs: readonly string[];
  /** Output value names. */
  readonly outputs: readonly string[];
  /** Unique node name. */
  readonly name: string;
  /** Attributes. */
  readonly attributes?: readonly OnnxAttribute[];
}

/** A constant tensor (TensorProto with raw little-endian data). */
export interface OnnxTensor {
  /** Its value name. */
  readonly name: string;
  /** Shape. */
  readonly dims: readonly number[];
  /** Values (float32 or int64). */
  readonly data: Float32Array | BigInt64Array;
}

/** A graph input or output (ValueInfoProto): float32 with fixed or named (dynamic) dims. */
export interface OnnxValueInfo {
  /** Value name. */
  readonly name: string;
  /** Each dim: a size, or a symbolic name such as `batch` for a dynamic one. */
  readonly dims: readonly (number | string)[];
}

/** A whole model. */
export interface OnnxModel {
  /** Graph name. */
  readonly graphName: string;
  /** Nodes in topological order. */
  readonly nodes: readonly OnnxNode[];
  /** Weights. */
  readonly initializers: readonly OnnxTensor[];
  /** Graph inputs. */
  readonly inputs: readonly OnnxValueInfo[];
  /** Graph outputs. */
  readonly outputs: readonly OnnxValueInfo[];
  /** The default-domain opset version. */
  readonly opset: number;
  /** `producer_name`. */
  readonly producer: string;
  /** `producer_version`. */
  readonly producerVersion: string;
  /** `doc_string` of the graph. */
  readonly doc?: string;
}

function attribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  // AttributeProto: f=2, i=3, s=4, ints=8, type=20 (FLOAT 1, INT 2, STRING 3, INTS 7).
  if ('i' in a) return w.int(3, a.i).int(20, 2);
  if ('f' in a) return w.float(2, a.f).int(20, 1);
  if ('s' in a) return w.string(4, a.s).int(20, 3);
  return w.packedInts(8, a.ints).int(20, 7);
}

function node(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, attribute(a));
  return w;
}

function tensor(t: OnnxTensor): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new RangeError(`onnx: initializer '${t.name}' has ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  const isFloat = t.data instanceof Float32Array;
  // raw_data is little-endian; typed arrays are host-endian, so copy through a DataView.
  const raw = new Uint8Array(t.data.length * (isFloat ? 4 : 8));
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < t.data.length; i++) {
    if (isFloat) dv.setFloat32(i * 4, (t.data as Float32Array)[i]!, true);
    else dv.setBigInt64(i * 8, (t.data as BigInt64Array)[i]!, true);
  }
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9.
  return new ProtoWriter().packedInts(1, t.dims).int(2, isFloat ? ONNX_FLOAT : ONNX_INT64).string(8, t.name).bytes(9, raw);
}

function valueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    // TensorShapeProto.Dimension: dim_value=1, dim_param=2.
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  // TypeProto.tensor_type=1 { elem_type=1, shape=2 }; ValueInfoProto: name=1, type=2.
  const tensorType = new ProtoWriter().int(1, ONNX_FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Encodes a model as ONNX protobuf bytes (a `.onnx` file). */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const names = new Set<string>();
  for (const n of m.nodes) {
    if (names.has(n.name)) throw new RangeError(`onnx: two nodes are named '${n.name}'`);
    names.add(n.name);
  }
  // A protobuf message is limited to 2 GiB; bigger models need ONNX's external-data layout, which this writer does not produce.
  const weightBytes = m.initializers.reduce((a, t) => a + t.data.length * (t.data instanceof Float32Array ? 4 : 8), 0);
  if (weightBytes >= 2 ** 31 - 2 ** 24) throw new RangeError(`onnx: ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights do not fit a single ONNX file (protobuf's 2 GiB limit)`);
  // GraphProto: node=1, name=2, initializer=5, doc_string=10, input=11, output=12.
  const g = new ProtoWriter();
  for (const n of m.nodes) g.message(1, node(n));
  g.string(2, m.graphName);
  for (const t of m.initializers) g.message(5, tensor(t));
  if (m.doc) g.string(10, m.doc);
  for (const i of m.inputs) g.message(11, valueInfo(i));
  for (const o of m.outputs) g.message(12, valueInfo(o));
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, graph=7, opset_import=8 { domain=1, version=2 }.
  return new ProtoWriter()
    .int(1, 8)
    .string(2, m.producer)
    .string(3, m.producerVersion)
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').int(2, m.opset))
    .finish();
}
