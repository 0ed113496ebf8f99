/**
 * Reads PyTorch `.pth` / `.pt` files written by `torch.save` (PyTorch ≥ 1.6 zip format):
 * a ZIP archive with `<prefix>/data.pkl` (a protocol-2 pickle of the saved object) and one
 * entry `<prefix>/data/<key>` per tensor storage (raw little-endian bytes).
 *
 * The parsers work on `Uint8Array`s (browser-safe); `loadPthFile` (pth-node.ts, in `@tsgrad/convnext/node`) is the Node helper.
 * Nothing in the file is ever executed: see {@link unpickle}.
 *
 * Hostile files cost bounded time and memory: `data.pkl` may declare at most
 * `MAX_PTH_PICKLE_BYTES`; a storage entry may declare no more bytes than its tensors'
 * storage needs (checked before anything is inflated, and inflating stops at the declared
 * size); names from the file are looked up only among our own keys (never the prototype
 * chain); and an expanded view (stride 0 or other overlap, legitimate but rare in state
 * dicts) may materialise at most `MAX_EXPANDED_ELEMENTS` elements or
 * `MAX_EXPANSION_RATIO` times its storage, whichever is larger, and all views of a
 * checkpoint together at most `MAX_TOTAL_EXPANDED_ELEMENTS` or that ratio of all
 * storage read.
 *
 * @module
 */
import { fromTypedArray } from '@tsgrad/core';
import type { Backend, DType, Tensor, TypedArray } from '@tsgrad/core';
import { CheckpointError } from './errors.js';
import { PyDict, PyGlobal, PyObject, unpickle } from './pickle.js';
import { looksLikeZip, readZip } from './zip.js';
import type { ZipArchive } from './zip.js';

/** Element types a torch storage may have that this reader can convert. */
export type TorchDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** The largest `data.pkl` accepted, in bytes (a state dict's pickle is ~100 bytes per tensor). */
export const MAX_PTH_PICKLE_BYTES = 256 * 2 ** 20;

/** Expanded views may always materialise this many elements (4 MiB of float32)... */
export const MAX_EXPANDED_ELEMENTS = 2 ** 20;

/** ...or this many times the elements of their storage, whichever is larger. */
export const MAX_EXPANSION_RATIO = 64;

/**
 * All tensors read from one checkpoint together may materialise at most this many elements
 * or `MAX_EXPANSION_RATIO` times the storage elements read, whichever is larger (many
 * views of one small storage would otherwise add up without bound).
 */
export const MAX_TOTAL_EXPANDED_ELEMENTS = 2 ** 24;

// Maps, not object literals: storage names come from the file and must never reach
// Object.prototype (`toString`, `__proto__`).
const STORAGE_TYPES = new Map<string, TorchDType>([
  ['FloatStorage', 'float32'],
  ['DoubleStorage', 'float64'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
]);

const TORCH_ITEM_SIZE: Record<TorchDType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** torch names we recognise but cannot load, with the reason given in the error. */
const UNSUPPORTED_TORCH = new Map<string, string>(Object.entries({
  'torch._utils._rebuild_qtensor': 'quantized tensors are not supported',
  'torch._utils._rebuild_sparse_tensor': 'sparse tensors are not supported',
  'torch._utils._rebuild_sparse_csr_tensor': 'sparse tensors are not supported',
  'torch._utils._rebuild_meta_tensor_no_storage': 'meta tensors (no data) are not supported',
  'torch._utils._rebuild_wrapper_subclass': 'tensor subclasses are not supported',
  'torch._utils._rebuild_device_tensor_from_numpy': 'numpy-backed device tensors are not supported',
  'torch.ComplexFloatStorage': 'complex tensors are not supported',
  'torch.ComplexDoubleStorage': 'complex tensors are not supported',
  'torch.QInt8Storage': 'quantized tensors are not supported',
  'torch.QUInt8Storage': 'quantized tensors are not supported',
  'torch.QInt32Storage': 'quantized tensors are not supported',
  'torch.storage.UntypedStorage': 'untyped storages are not supported (save tensors, not storages)',
  'torch.UntypedStorage': 'untyped storages are not supported (save tensors, not storages)',
}));

/** A storage referenced by the pickle (persistent id), resolved against the archive lazily. */
export interface TorchStorageRef {
  /** Storage key: its data lives in `<prefix>/data/<key>`. */
  key: string;
  dtype: TorchDType;
  /** Element count recorded in the persistent id. */
  numel: number;
  /** Device the tensor was saved from, e.g. `cpu` or `cuda:0` (data is always in the file). */
  location: string;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it (data not read yet). */
export class TorchTensorRef {
  buildState: unknown = undefined;
  constructor(
    readonly storage: TorchStorageRef,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {}
}

/** A tensor read from a checkpoint, converted to a tsgrad dtype, row-major. */
export interface CheckpointTensor {
  /** tsgrad dtype (float16/bfloat16 → float32; int64/int16/int8/uint8 → int32). */
  dtype: DType;
  shape: number[];
  data: TypedArray;
  /** The dtype stored in the file. */
  sourceDType: TorchDType;
}

/** Options shared by the `.pth` readers. */
export interface PthReadOptions {
  /** Verify each archive entry's CRC-32 (default true). */
  verifyCrc?: boolean;
  /**
   * Decompressor for deflated entries; it must stop at `maxOutputLength` bytes (the Node
   * helper passes `zlib.inflateRawSync` with that limit). See {@link readZip}.
   */
  inflateRaw?: (data: Uint8Array, maxOutputLength: number) => Uint8Array;
  /** Unknown pickle globals: `'error'` (default) or inert `'opaque'` placeholders. */
  unknownGlobals?: 'error' | 'opaque';
}

/** Options for picking and converting the state dict. */
export interface PthStateDictOptions extends PthReadOptions {
  /**
   * Top-level key holding the state dict (e.g. `'model'`, `'model_ema'`, `'state_dict'`).
   * Default: the top-level dict itself when all its values are tensors, else the first of
   * `model`, `state_dict`, `model_ema`, `module`, `net` that is present.
   */
  key?: string;
  /**
   * Prefix removed from every key. Default `'module.'` when every key has it (DataParallel
   * checkpoints); `false` keeps keys as they are.
   */
  stripPrefix?: string | false;
}

/** The result of {@link readPth}: the unpickled object plus the means to read its tensors. */
export interface PthCheckpoint {
  /** The saved object: {@link PyDict}s, arrays, scalars and {@link TorchTensorRef}s. */
  object: unknown;
  /** The archive's top-level folder (e.g. `archive` or the file's stem). */
  prefix: string;
  /** Reads a tensor's data, converting it to a tsgrad dtype; `name` is used in errors. */
  readTensor(ref: TorchTensorRef, name: string): CheckpointTensor;
}

function fail(message: string): never {
  throw new CheckpointError(`pth: ${message}`);
}

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

function describeStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Refuses inputs that are clearly not a zip-format torch.save file, with a specific reason. */
function checkContainer(bytes: Uint8Array): void {
  if (bytes.length === 0) fail('the file is empty');
  if (LEGACY_MAGIC.every((b, i) => bytes[i] === b)) {
    fail(
      'this is a legacy (PyTorch < 1.6, non-zip) torch.save file, which is not supported; ' +
        're-save it with PyTorch ≥ 1.6: torch.save(torch.load(path), new_path)',
    );
  }
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    fail('this is a tar archive (the oldest torch.save format), which is not supported; re-save it with PyTorch ≥ 1.6');
  }
  if (!looksLikeZip(bytes)) {
    if (bytes[0] === 0x80) fail('this is a bare pickle, not a torch.save zip archive; only the zip format (PyTorch ≥ 1.6) is supported');
    fail(`not a zip archive (starts with ${describeStart(bytes)}); expected a PyTorch ≥ 1.6 torch.save file`);
  }
}

function isIntArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

function makeGlobals(): (module: string, name: string) => PyGlobal | undefined {
  const known = new Map<string, PyGlobal>();
  const add = (module: string, name: string, call?: (args: unknown[]) => unknown): void => {
    known.set(`${module}.${name}`, new PyGlobal(module, name, call));
  };
  add('collections', 'OrderedDict', (args) => {
    const d = new PyDict('OrderedDict');
    if (args.length === 0) return d;
    const items = args[0];
    if (args.length !== 1 || !Array.isArray(items)) throw new CheckpointError('OrderedDict() takes no arguments or one list of pairs');
    for (const kv of items) {
      if (!Array.isArray(kv) || kv.length !== 2) throw new CheckpointError('OrderedDict item is not a pair');
      d.map.set(kv[0], kv[1]);
    }
    return d;
  });
  const rebuild = (args: unknown[], fn: string): TorchTensorRef => {
    const [storage, offset, size, stride] = args;
    if (!storage || typeof storage !== 'object' || !('key' in storage) || !('dtype' in storage)) {
      throw new CheckpointError(`${fn}: first argument is not a storage (got ${typeof storage})`);
    }
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new CheckpointError(`${fn}: bad storage offset ${String(offset)}`);
    if (!isIntArray(size)) throw new CheckpointError(`${fn}: size must be a tuple of non-negative integers`);
    if (!isIntArray(stride)) throw new CheckpointError(`${fn}: stride must be a tuple of non-negative integers`);
    if (size.length !== stride.length) throw new CheckpointError(`${fn}: size has ${size.length} dims but stride has ${stride.length}`);
    return new TorchTensorRef(storage as TorchStorageRef, offset, [...size], [...stride], args[4] === true);
  };
  add('torch._utils', '_rebuild_tensor_v2', (args) => {
    if (args.length < 4) throw new CheckpointError(`_rebuild_tensor_v2 takes at least 4 arguments, got ${args.length}`);
    return rebuild(args, '_rebuild_tensor_v2');
  });
  add('torch._utils', '_rebuild_tensor', (args) => {
    if (args.length !== 4) throw new CheckpointError(`_rebuild_tensor takes 4 arguments, got ${args.length}`);
    return rebuild(args, '_rebuild_tensor');
  });
  const param = (args: unknown[]): unknown => {
    if (!(args[0] instanceof TorchTensorRef)) throw new CheckpointError('_rebuild_parameter: first argument is not a tensor');
    return args[0];
  };
  add('torch._utils', '_rebuild_parameter', param);
  add('torch._utils', '_rebuild_parameter_with_state', param);
  add('_codecs', 'encode', (args) => {
    const [s, enc] = args;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new CheckpointError('_codecs.encode: only (str, "latin1") is supported');
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
    return out;
  });
  for (const name of STORAGE_TYPES.keys()) add('torch', name);
  return (module, name) => {
    const q = `${module}.${name}`;
    const g = known.get(q);
    if (g) return g;
    const why = UNSUPPORTED_TORCH.get(q);
    if (why) throw new CheckpointError(`global '${q}': ${why}`);
    return undefined;
  };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const TARGET: Record<TorchDType, DType> = {
  float32: 'float32', float64: 'float64', float16: 'float32', bfloat16: 'float32',
  int64: 'int32', int32: 'int32', int16: 'int32', int8: 'int32', uint8: 'int32', bool: 'bool',
};

function alloc(dtype: DType, n: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether strides are row-major for this shape (dimensions of length 1 may have any stride). */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

/**
 * Checks a view against its storage bytes (reach, and the expansion limit) before anything
 * is allocated; returns its element count.
 */
function checkView(bytes: Uint8Array, ref: TorchTensorRef, name: string): number {
  const { dtype: src } = ref.storage;
  const item = TORCH_ITEM_SIZE[src];
  const shape = ref.shape;
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) fail(`tensor '${name}': shape [${shape.join(', ')}] is too large`);
  if (n === 0) return 0;
  // Highest element index touched, checked against the storage's length.
  let maxIndex = ref.storageOffset;
  for (let d = 0; d < shape.length; d++) maxIndex += (shape[d]! - 1) * ref.stride[d]!;
  const storageElems = Math.floor(bytes.length / item);
  if (maxIndex >= storageElems) {
    fail(
      `tensor '${name}': offset ${ref.storageOffset}, shape [${shape.join(', ')}] and stride [${ref.stride.join(', ')}] reach element ${maxIndex}, ` +
        `but its storage '${ref.storage.key}' holds only ${storageElems} ${src} elements (corrupt or truncated data)`,
    );
  }
  // A view can hold more elements than its storage only when strides overlap (expand()).
  // Those are legitimate but rare in state dicts; bound what a tiny file can make us allocate.
  const expandLimit = Math.max(MAX_EXPANDED_ELEMENTS, MAX_EXPANSION_RATIO * storageElems);
  if (n > storageElems && n > expandLimit) {
    fail(
      `tensor '${name}': shape [${shape.join(', ')}] with stride [${ref.stride.join(', ')}] would materialise ${n} elements from a storage of ` +
        `${storageElems} element${storageElems === 1 ? '' : 's'} (an expanded or overlapping view); this reader materialises at most ` +
        `${MAX_EXPANDED_ELEMENTS} elements or ${MAX_EXPANSION_RATIO}× the storage for such views. Re-save the tensor with .clone() to store it in full`,
    );
  }
  return n;
}

/** Copies a (possibly strided) tensor out of its storage bytes into a row-major typed array. */
function gather(bytes: Uint8Array, ref: TorchTensorRef, name: string): CheckpointTensor {
  const { dtype: src } = ref.storage;
  const item = TORCH_ITEM_SIZE[src];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = [...ref.shape];
  const n = checkView(bytes, ref, name);
  const target = TARGET[src];
  if (n === 0) return { dtype: target, shape, data: alloc(target, 0), sourceDType: src };
  const out = alloc(target, n);
  // Fast path: a row-major view whose storage type is also the output type (float32,
  // float64, int32) is one byte copy on a little-endian host.
  if ((src === 'float32' || src === 'float64' || src === 'int32') && LITTLE_ENDIAN_HOST && isRowMajor(shape, ref.stride)) {
    new Uint8Array(out.buffer).set(bytes.subarray(ref.storageOffset * item, (ref.storageOffset + n) * item));
    return { dtype: target, shape, data: out, sourceDType: src };
  }
  const bf = new Float32Array(1);
  const bfu = new Uint32Array(bf.buffer);
  const read: (e: number, i: number) => number = (() => {
    switch (src) {
      case 'float32': return (e) => dv.getFloat32(e * 4, true);
      case 'float64': return (e) => dv.getFloat64(e * 8, true);
      case 'float16': return (e) => halfToFloat(dv.getUint16(e * 2, true));
      case 'bfloat16': return (e) => {
        bfu[0] = dv.getUint16(e * 2, true) << 16;
        return bf[0]!;
      };
      case 'int64': return (e, i) => {
        const lo = dv.getInt32(e * 8, true);
        const hi = dv.getInt32(e * 8 + 4, true);
        if (hi !== lo >> 31) {
          fail(`tensor '${name}': int64 value ${dv.getBigInt64(e * 8, true)} at flat index ${i} does not fit in int32 (tsgrad's integer dtype)`);
        }
        return lo;
      };
      case 'int32': return (e) => dv.getInt32(e * 4, true);
      case 'int16': return (e) => dv.getInt16(e * 2, true);
      case 'int8': return (e) => dv.getInt8(e);
      case 'uint8': return (e) => dv.getUint8(e);
      case 'bool': return (e) => (dv.getUint8(e) !== 0 ? 1 : 0);
    }
  })();
  // Walk the indices in row-major order with an odometer over the strides.
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let e = ref.storageOffset;
  for (let i = 0; i < n; i++) {
    out[i] = read(e, i);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      e += ref.stride[d]!;
      if (idx[d]! < shape[d]!) break;
      e -= idx[d]! * ref.stride[d]!;
      idx[d] = 0;
    }
  }
  return { dtype: target, shape, data: out, sourceDType: src };
}

/**
 * Opens a `torch.save` zip archive and unpickles `data.pkl` with the restricted unpickler.
 * Tensor data is read only by {@link PthCheckpoint.readTensor}. Throws {@link CheckpointError}
 * for legacy (non-zip) files, non-zip or truncated input, a missing `data.pkl`, big-endian
 * archives, and anything the unpickler refuses.
 */
export function readPth(bytes: Uint8Array, options: PthReadOptions = {}): PthCheckpoint {
  checkContainer(bytes);
  let zip: ZipArchive;
  try {
    zip = readZip(bytes, { verifyCrc: options.verifyCrc ?? true, inflateRaw: options.inflateRaw });
  } catch (e) {
    if (e instanceof CheckpointError) fail(`cannot read the zip archive: ${e.message}`);
    throw e;
  }
  const pkls = [...zip.entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length === 0) {
    const names = [...zip.entries.keys()].slice(0, 8).join(', ');
    fail(`zip archive has no '<folder>/data.pkl' entry, so it is not a torch.save file (entries: ${names || 'none'})`);
  }
  if (pkls.length > 1) fail(`zip archive has several data.pkl entries (${pkls.join(', ')})`);
  const prefix = pkls[0]!.slice(0, -'/data.pkl'.length);
  const byteorderEntry = `${prefix}/byteorder`;
  if (zip.entries.has(byteorderEntry)) {
    let raw: Uint8Array;
    try {
      raw = zip.read(byteorderEntry, 64);
    } catch (e) {
      if (e instanceof CheckpointError) fail(e.message);
      throw e;
    }
    const order = new TextDecoder().decode(raw).trim();
    if (order !== 'little') fail(`archive byte order is '${order}'; only little-endian archives are supported`);
  }
  const storages = new Map<string, TorchStorageRef>();
  const persistentLoad = (pid: unknown): TorchStorageRef => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      throw new CheckpointError(`unsupported persistent id (expected ('storage', type, key, location, numel))`);
    }
    const [, type, key, location, numel] = pid as [string, unknown, unknown, unknown, unknown];
    const dtype = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_TYPES.get(type.name) : undefined;
    if (dtype === undefined) {
      const what = type instanceof PyGlobal ? `'${type.qualifiedName}'` : 'no global';
      throw new CheckpointError(`persistent id names ${what}, which is not a known torch storage type`);
    }
    if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw new CheckpointError('malformed storage persistent id');
    }
    const prev = storages.get(key);
    if (prev) {
      if (prev.dtype !== dtype) throw new CheckpointError(`storage '${key}' is used with two dtypes (${prev.dtype}, ${dtype})`);
      return prev;
    }
    const ref: TorchStorageRef = { key, dtype, numel, location };
    storages.set(key, ref);
    return ref;
  };
  const pklName = `${prefix}/data.pkl`;
  let object: unknown;
  try {
    object = unpickle(zip.read(pklName, MAX_PTH_PICKLE_BYTES), {
      findGlobal: makeGlobals(),
      persistentLoad,
      unknownGlobals: options.unknownGlobals ?? 'error',
      source: pklName,
    });
  } catch (e) {
    if (e instanceof CheckpointError && e.message.startsWith('zip:')) fail(e.message);
    throw e;
  }
  const storageBytes = new Map<string, Uint8Array>();
  // The memory budget across tensors: storage elements read and tensor elements made so far.
  let storageElemsRead = 0;
  let materialised = 0;
  const counted = new WeakSet<TorchTensorRef>();
  return {
    object,
    prefix,
    readTensor(ref: TorchTensorRef, name: string): CheckpointTensor {
      const key = ref.storage.key;
      let data = storageBytes.get(key);
      if (!data) {
        const entry = `${prefix}/data/${key}`;
        const info = zip.entries.get(entry);
        if (!info) fail(`tensor '${name}': its storage entry '${entry}' is missing from the archive`);
        const need = ref.storage.numel * TORCH_ITEM_SIZE[ref.storage.dtype];
        // torch.save writes exactly the storage's bytes; refuse a larger claim before inflating it.
        if (info.uncompressedSize > need) {
          fail(`tensor '${name}': storage entry '${entry}' declares ${info.uncompressedSize} bytes but the pickle records ${ref.storage.numel} ${ref.storage.dtype} elements (${need} bytes)`);
        }
        try {
          data = zip.read(entry);
        } catch (e) {
          if (e instanceof CheckpointError) fail(`tensor '${name}': ${e.message}`);
          throw e;
        }
        if (data.length < need) {
          fail(`tensor '${name}': storage entry '${entry}' has ${data.length} bytes but the pickle records ${ref.storage.numel} ${ref.storage.dtype} elements (${need} bytes)`);
        }
        storageBytes.set(key, data);
        storageElemsRead += Math.floor(data.length / TORCH_ITEM_SIZE[ref.storage.dtype]);
      }
      if (!counted.has(ref)) {
        const n = checkView(data, ref, name);
        const budget = Math.max(MAX_TOTAL_EXPANDED_ELEMENTS, MAX_EXPANSION_RATIO * storageElemsRead);
        if (materialised + n > budget) {
          fail(
            `tensor '${name}': the checkpoint's tensors would materialise ${materialised + n} elements in all from ${storageElemsRead} storage elements ` +
              `(many views sharing storage); this reader materialises at most ${MAX_TOTAL_EXPANDED_ELEMENTS} elements or ${MAX_EXPANSION_RATIO}× the storage read. ` +
              `Re-save the tensors with .clone() to store them in full`,
          );
        }
        materialised += n;
        counted.add(ref);
      }
      return gather(data, ref, name);
    },
  };
}

/** A dict key for messages, never recursing into (or spelling out all of) what the file holds. */
function keyText(k: unknown): string {
  if (typeof k === 'string') return k.length > 80 ? `${k.slice(0, 80)}…` : k;
  if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint') return String(k);
  if (k === null) return 'None';
  if (Array.isArray(k)) return `(a tuple of ${k.length})`;
  if (k instanceof PyDict) return `(a ${k.className})`;
  return `(${describeValue(k)})`;
}

/** The first keys of a dict for messages. */
function keyList(d: PyDict): string {
  const keys = [...d.map.keys()];
  return keys.slice(0, 8).map(keyText).join(', ') + (keys.length > 8 ? `, … (${keys.length} keys)` : '');
}

function describeValue(x: unknown): string {
  if (x === null) return 'None';
  if (x instanceof PyDict) return `a ${x.className} with keys [${keyList(x)}]`;
  if (x instanceof PyObject) return `an object of ${x.cls}`;
  if (x instanceof TorchTensorRef) return 'a tensor';
  if (Array.isArray(x)) return 'a list/tuple';
  return `a ${typeof x}`;
}

const DEFAULT_KEYS = ['model', 'state_dict', 'model_ema', 'module', 'net'];

/** Picks the state dict out of an unpickled checkpoint (see {@link PthStateDictOptions.key}). */
export function findStateDict(object: unknown, key?: string): { dict: PyDict; key: string | null } {
  if (!(object instanceof PyDict)) fail(`the checkpoint holds ${describeValue(object)}, not a dict`);
  if (key !== undefined) {
    if (!object.map.has(key)) fail(`the checkpoint has no key '${key}' (top-level keys: ${keyList(object)})`);
    const v = object.map.get(key);
    if (!(v instanceof PyDict)) fail(`checkpoint['${key}'] is ${describeValue(v)}, not a state dict`);
    return { dict: v, key };
  }
  const values = [...object.map.values()];
  if (values.length > 0 && values.every((v) => v instanceof TorchTensorRef)) return { dict: object, key: null };
  for (const k of DEFAULT_KEYS) {
    const v = object.map.get(k);
    if (v instanceof PyDict) return { dict: v, key: k };
  }
  if (values.length === 0) fail('the checkpoint is an empty dict');
  fail(`cannot find a state dict: the checkpoint is ${describeValue(object)}; pass { key } to choose one`);
}

/**
 * Reads the state dict of a `torch.save` file into row-major typed arrays (pure; no
 * tensors are created). Keys are in file order. Every value must be a tensor.
 */
export function parsePthStateDict(bytes: Uint8Array, options: PthStateDictOptions = {}): Record<string, CheckpointTensor> {
  const ckpt = readPth(bytes, options);
  const { dict, key } = findStateDict(ckpt.object, options.key);
  const where = key === null ? 'the state dict' : `checkpoint['${key}']`;
  const entries: [string, TorchTensorRef][] = [];
  for (const [k, v] of dict.map) {
    if (typeof k !== 'string') fail(`${where} has a non-string key ${keyText(k)}`);
    if (!(v instanceof TorchTensorRef)) fail(`${where}['${k}'] is ${describeValue(v)}, not a tensor`);
    entries.push([k, v]);
  }
  let strip = options.stripPrefix;
  if (strip === undefined) strip = entries.length > 0 && entries.every(([k]) => k.startsWith('module.')) ? 'module.' : false;
  const out: Record<string, CheckpointTensor> = {};
  for (const [k, ref] of entries) {
    const name = strip && k.startsWith(strip) ? k.slice(strip.length) : k;
    if (Object.prototype.hasOwnProperty.call(out, name)) fail(`key '${name}' appears twice after removing the prefix '${String(strip)}'`);
    Object.defineProperty(out, name, { value: ckpt.readTensor(ref, k), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Reads the state dict of a `torch.save` file as tensors (see {@link parsePthStateDict}). */
export function decodePthStateDict(
  bytes: Uint8Array,
  options: PthStateDictOptions & { backend?: Backend } = {},
): Record<string, Tensor> {
  const raw = parsePthStateDict(bytes, options);
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(raw)) {
    Object.defineProperty(out, k, { value: fromTypedArray(t.data, t.shape, t.dtype, options.backend), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
