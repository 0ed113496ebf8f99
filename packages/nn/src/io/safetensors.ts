/**
 * safetensors reading and writing, implemented from the format description
 * (https://github.com/huggingface/safetensors, README and `tensor.rs`):
 *
 * - bytes 0–7: unsigned 64-bit little-endian header length N;
 * - bytes 8 … 8+N−1: a UTF-8 JSON object `{name: {dtype, shape, data_offsets: [begin, end]}}`
 *   with an optional `"__metadata__": {string: string}`;
 * - the rest: the data buffer, row-major little-endian, offsets relative to its start.
 *
 * The parser and serializer work on bytes only (they run in browsers too); the file
 * helpers `loadSafetensors` / `saveSafetensors` live in `@tsgrad/nn/node` (safetensors-node.ts).
 *
 * @module
 */
import { fromTypedArray } from '@tsgrad/core';
import type { Backend, DType, Tensor, TypedArray } from '@tsgrad/core';

/** Any problem with a safetensors file or with what is being written into one. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** dtype names of the safetensors format that this reader understands. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U16' | 'U8' | 'BOOL';

/** Bytes per element of each readable safetensors dtype. */
const ST_ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** dtypes the format defines that we recognise but cannot convert (named in errors). */
const KNOWN_UNSUPPORTED = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'U32', 'U64', 'C64']);

/** The safetensors dtype our writer uses for each tsgrad dtype. */
const WRITE_DTYPE: Record<DType, SafetensorsDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/** The reference implementation refuses headers larger than this (100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** A decoded tensor before it becomes a {@link Tensor}: tsgrad dtype, shape and row-major data. */
export interface RawTensor {
  /** tsgrad dtype the values were converted to. */
  dtype: DType;
  shape: number[];
  data: TypedArray;
  /** The dtype stored in the file (e.g. `F16` for a tensor decoded to `float32`). */
  fileDType?: SafetensorsDType;
}

/** One header entry as stored in the file (validated). */
export interface SafetensorsHeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) byte offsets inside the data buffer. */
  dataOffsets: [number, number];
}

/** The validated header of a safetensors file. */
export interface SafetensorsHeader {
  /** Entries in the order the JSON lists them. */
  entries: SafetensorsHeaderEntry[];
  metadata: Record<string, string>;
  /** Absolute byte offset of the data buffer in the file (8 + header length). */
  dataStart: number;
}

/** The result of reading a safetensors file. */
export interface SafetensorsContents<T> {
  /** Tensors by name, in header order. */
  tensors: Record<string, T>;
  /** The `__metadata__` map (empty when absent). */
  metadata: Record<string, string>;
}

/** Options for reading. */
export interface SafetensorsReadOptions {
  /** Backend for the created tensors (default: the current backend). */
  backend?: Backend;
}

function fail(message: string): never {
  throw new SafetensorsError(`safetensors: ${message}`);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  // defineProperty so that a name such as "__proto__" becomes an ordinary key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function describe(x: unknown): string {
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Reads and validates the header of a safetensors file without touching the data buffer.
 * Throws {@link SafetensorsError} for: a file shorter than 8 bytes, a header length beyond
 * the file or above 100 MB, invalid UTF-8 or JSON, a header that is not an object, bad
 * entries (unknown dtype, bad shape, bad offsets), offsets whose length does not match
 * shape × dtype size, and offsets that do not tile the data buffer exactly (gaps, overlaps,
 * out of range, trailing bytes).
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) fail(`file is truncated: ${bytes.length} bytes, but the 8-byte header length alone needs 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (n > SAFETENSORS_MAX_HEADER_BYTES) {
    fail(`header length ${hi > 0x1fffff ? `≥ 2^53` : n} bytes is larger than the 100 MB limit (file has ${bytes.length} bytes): corrupt header length or not a safetensors file`);
  }
  if (8 + n > bytes.length) fail(`header length ${n} bytes runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8}): truncated file or corrupt header length`);
  if (n < 2) fail(`header length ${n} is too small to hold a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`header does not start with '{' (starts with ${describe(text.slice(0, 20))})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('header JSON is not an object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const entries: SafetensorsHeaderEntry[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ must be an object of string values');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value for '${k}' must be a string, got ${describe(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`tensor '${name}': header entry is not an object`);
    const { dtype, shape, data_offsets: offs } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') fail(`tensor '${name}': missing or non-string dtype`);
    if (!Object.prototype.hasOwnProperty.call(ST_ITEM_SIZE, dtype)) {
      if (KNOWN_UNSUPPORTED.has(dtype)) fail(`tensor '${name}': dtype ${dtype} is not supported (readable: ${Object.keys(ST_ITEM_SIZE).join(', ')})`);
      fail(`tensor '${name}': unknown dtype ${describe(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) fail(`tensor '${name}': shape must be an array of non-negative integers, got ${describe(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) {
      fail(`tensor '${name}': data_offsets must be two non-negative integers, got ${describe(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    const sd = dtype as SafetensorsDType;
    let count = 1;
    for (const d of shape as number[]) count *= d;
    const expected = count * ST_ITEM_SIZE[sd];
    if (!Number.isSafeInteger(expected)) fail(`tensor '${name}': shape ${describe(shape)} is too large`);
    if (end - begin !== expected) {
      fail(`tensor '${name}': data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${describe(shape)} of ${sd} needs ${expected}`);
    }
    if (end > dataLength) {
      fail(`tensor '${name}': data_offsets [${begin}, ${end}] are out of range: the data buffer has ${dataLength} bytes (truncated file or offsets that lie)`);
    }
    entries.push({ name, dtype: sd, shape: [...(shape as number[])], dataOffsets: [begin, end] });
  }
  // The tensors must tile the data buffer exactly: no overlap, no gap, nothing after.
  const sorted = [...entries].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  let prev: string | undefined;
  for (const e of sorted) {
    const [b, en] = e.dataOffsets;
    if (b < pos) fail(`tensor '${e.name}': data_offsets [${b}, ${en}] overlap tensor '${prev}' (which ends at ${pos})`);
    if (b > pos) fail(`bytes [${pos}, ${b}) of the data buffer belong to no tensor (before '${e.name}'): offsets that lie, or a duplicate tensor name`);
    pos = en;
    prev = e.name;
  }
  if (pos !== dataLength) fail(`data buffer has ${dataLength} bytes but the tensors cover only ${pos}: trailing bytes or offsets that lie`);
  return { entries, metadata, dataStart };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Copies `n` bytes starting at `begin` into a fresh (aligned) buffer, in host order. */
function alignedCopy(bytes: Uint8Array, begin: number, n: number, item: number): ArrayBuffer {
  const out = new Uint8Array(n);
  out.set(bytes.subarray(begin, begin + n));
  if (!littleEndianHost && item > 1) {
    for (let i = 0; i < n; i += item) out.subarray(i, i + item).reverse();
  }
  return out.buffer;
}

/** Decodes one validated entry's data into a tsgrad dtype (F16/BF16 → float32; I64 → int32 with a range check; U8/I8/I16/U16 → int32). */
function decodeEntry(bytes: Uint8Array, dataStart: number, e: SafetensorsHeaderEntry): RawTensor {
  const begin = dataStart + e.dataOffsets[0];
  const nbytes = e.dataOffsets[1] - e.dataOffsets[0];
  const count = nbytes / ST_ITEM_SIZE[e.dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, nbytes);
  const base = { shape: e.shape, fileDType: e.dtype };
  switch (e.dtype) {
    case 'F32':
      return { ...base, dtype: 'float32', data: new Float32Array(alignedCopy(bytes, begin, nbytes, 4)) };
    case 'F64':
      return { ...base, dtype: 'float64', data: new Float64Array(alignedCopy(bytes, begin, nbytes, 8)) };
    case 'I32':
      return { ...base, dtype: 'int32', data: new Int32Array(alignedCopy(bytes, begin, nbytes, 4)) };
    case 'BOOL': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[begin + i]! !== 0 ? 1 : 0;
      return { ...base, dtype: 'bool', data: out };
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return { ...base, dtype: 'float32', data: out };
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return { ...base, dtype: 'float32', data: out };
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = dv.getInt32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        if (hi !== lo >> 31) {
          const v = dv.getBigInt64(8 * i, true);
          fail(`tensor '${e.name}': I64 value ${v} at flat index ${i} does not fit in int32 (tsgrad's integer dtype)`);
        }
        out[i] = lo;
      }
      return { ...base, dtype: 'int32', data: out };
    }
    case 'I16':
    case 'U16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = e.dtype === 'I16' ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true);
      return { ...base, dtype: 'int32', data: out };
    }
    case 'I8':
    case 'U8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = e.dtype === 'I8' ? dv.getInt8(i) : dv.getUint8(i);
      return { ...base, dtype: 'int32', data: out };
    }
  }
}

/**
 * Parses a safetensors file into typed arrays (no {@link Tensor}s are created).
 * All validation of {@link readSafetensorsHeader} applies; I64 values outside int32 throw.
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsContents<RawTensor> {
  const header = readSafetensorsHeader(bytes);
  const tensors: Record<string, RawTensor> = {};
  for (const e of header.entries) setOwn(tensors, e.name, decodeEntry(bytes, header.dataStart, e));
  return { tensors, metadata: header.metadata };
}

/** Parses a safetensors file into tensors (see {@link parseSafetensors}). */
export function decodeSafetensors(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsContents<Tensor> {
  const { tensors: raw, metadata } = parseSafetensors(bytes);
  const tensors: Record<string, Tensor> = {};
  for (const [name, r] of Object.entries(raw)) setOwn(tensors, name, fromTypedArray(r.data, r.shape, r.dtype, options.backend));
  return { tensors, metadata };
}

/** Something the writer can store: a tensor or raw `{dtype, shape, data}`. */
export type SafetensorsInput = Tensor | RawTensor;

function isRaw(x: SafetensorsInput): x is RawTensor {
  return !!x && typeof x === 'object' && 'data' in x && ArrayBuffer.isView((x as RawTensor).data);
}

const ALIGN: Record<SafetensorsDType, number> = ST_ITEM_SIZE;

/**
 * Serializes raw tensors into safetensors bytes. Layout follows the reference writer:
 * tensors ordered by descending dtype alignment, then by name; header JSON padded with
 * spaces to a multiple of 8 bytes. Deterministic: the same input gives the same bytes.
 */
export function serializeSafetensors(
  tensors: Record<string, RawTensor> | Map<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const items = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const seen = new Set<string>();
  const prepared = items.map(([name, t]) => {
    if (typeof name !== 'string' || name.length === 0) throw new SafetensorsError('safetensors: tensor names must be non-empty strings');
    if (name === '__metadata__') throw new SafetensorsError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    if (seen.has(name)) throw new SafetensorsError(`safetensors: duplicate tensor name '${name}'`);
    seen.add(name);
    const st = WRITE_DTYPE[t.dtype];
    if (!st) throw new SafetensorsError(`safetensors: tensor '${name}' has unsupported dtype ${describe(t.dtype)}`);
    let count = 1;
    for (const d of t.shape) {
      if (!isNonNegInt(d)) throw new SafetensorsError(`safetensors: tensor '${name}' has an invalid shape ${describe(t.shape)}`);
      count *= d;
    }
    if (t.data.length !== count) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has ${t.data.length} values but shape ${describe(t.shape)} needs ${count}`);
    }
    return { name, st, shape: [...t.shape], data: t.data, dtype: t.dtype };
  });
  prepared.sort((a, b) => ALIGN[b.st] - ALIGN[a.st] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata value for '${k}' must be a string, got ${describe(v)}`);
      setOwn(md, k, v);
    }
    setOwn(header, '__metadata__', md);
  }
  let offset = 0;
  for (const p of prepared) {
    const n = p.data.length * ST_ITEM_SIZE[p.st];
    setOwn(header, p.name, { dtype: p.st, shape: p.shape, data_offsets: [offset, offset + n] });
    offset += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, padded % 2 ** 32, true);
  dv.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  json = new Uint8Array(0);
  let pos = 8 + padded;
  for (const p of prepared) {
    if (p.st === 'BOOL') {
      for (let i = 0; i < p.data.length; i++) out[pos + i] = p.data[i] ? 1 : 0;
      pos += p.data.length;
      continue;
    }
    const item = ST_ITEM_SIZE[p.st];
    const src = new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.length * item);
    out.set(src, pos);
    if (!littleEndianHost) for (let i = 0; i < src.length; i += item) out.subarray(pos + i, pos + i + item).reverse();
    pos += src.length;
  }
  return out;
}

/**
 * Serializes tensors (any backend; values are read with `await t.data()`) or raw typed
 * arrays into safetensors bytes. See {@link serializeSafetensors}.
 */
export async function encodeSafetensors(
  tensors: Record<string, SafetensorsInput> | Map<string, SafetensorsInput>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const items = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of items) {
    if (raw.has(name)) throw new SafetensorsError(`safetensors: duplicate tensor name '${name}'`);
    if (isRaw(t)) {
      raw.set(name, t);
    } else {
      raw.set(name, { dtype: t.dtype, shape: [...t.shape], data: await t.data() });
    }
  }
  return serializeSafetensors(raw, metadata);
}

/** Bytes in any of the forms a browser hands out: a typed array, a buffer, a `Blob`/`File`, or a `fetch` response. */
export type BytesSource = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | Response;

/**
 * Collects the bytes of `source` (works in browsers and Node): `Uint8Array`s are used as they
 * are, `Blob`s/`File`s and `fetch` responses are read fully (a non-2xx response is an error).
 */
export async function readBytes(source: BytesSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`readBytes: the response for '${source.url}' has status ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  throw new TypeError(`readBytes: expected a Uint8Array, ArrayBuffer, typed array, Blob/File or Response, got ${Object.prototype.toString.call(source)}`);
}

/**
 * Reads a safetensors file from bytes, a `Blob`/`File` (a file the user picked or dropped) or
 * a `fetch` response. In Node, `loadSafetensors(path)` from `@tsgrad/nn/node` reads a path.
 */
export async function readSafetensors(source: BytesSource, options: SafetensorsReadOptions = {}): Promise<SafetensorsContents<Tensor>> {
  return decodeSafetensors(await readBytes(source), options);
}
