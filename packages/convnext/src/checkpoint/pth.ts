/**
 * Reads PyTorch `.pth` / `.pt` files written by `torch.save` (PyTorch ≥ 1.6 zip format):
 * a ZIP archive with `<prefix>/data.pkl` (a protocol-2 pickle of the saved object) and one
 * entry `<prefix>/data/<key>` per tensor storage (raw little-endian bytes).
 *
 * The parsers work on `Uint8Array`s (browser-safe); `loadPthFile` (pth-node.ts, in `@tsgrad/convnext/node`) is the Node helper.
 * Nothing in the file is ever executed: see {@link unpickle}.
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

const STORAGE_TYPES: Record<string, TorchDType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const TORCH_ITEM_SIZE: Record<TorchDType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** torch names we recognise but cannot load, with the reason given in the error. */
const UNSUPPORTED_TORCH: Record<string, string> = {
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
};

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
  /** Decompressor for deflated entries (the Node helper passes `zlib.inflateRawSync`). */
  inflateRaw?: (data: Uint8Array) => Uint8Array;
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
  for (const name of Object.keys(STORAGE_TYPES)) add('torch', name);
  return (module, name) => {
    const q = `${module}.${name}`;
    const g = known.get(q);
    if (g) return g;
    const why = UNSUPPORTED_TORCH[q];
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

/** Copies a (possibly strided) tensor out of its storage bytes into a row-major typed array. */
function gather(bytes: Uint8Array, ref: TorchTensorRef, name: string): CheckpointTensor {
  const { dtype: src } = ref.storage;
  const item = TORCH_ITEM_SIZE[src];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = [...ref.shape];
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) fail(`tensor '${name}': shape [${shape.join(', ')}] is too large`);
  const target = TARGET[src];
  const out = alloc(target, n);
  if (n === 0) return { dtype: target, shape, data: out, sourceDType: src };
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
    const order = new TextDecoder().decode(zip.read(byteorderEntry)).trim();
    if (order !== 'little') fail(`archive byte order is '${order}'; only little-endian archives are supported`);
  }
  const storages = new Map<string, TorchStorageRef>();
  const persistentLoad = (pid: unknown): TorchStorageRef => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      throw new CheckpointError(`unsupported persistent id (expected ('storage', type, key, location, numel))`);
    }
    const [, type, key, location, numel] = pid as [string, unknown, unknown, unknown, unknown];
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_TYPES)) {
      throw new CheckpointError('persistent id does not name a known torch storage type');
    }
    if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw new CheckpointError('malformed storage persistent id');
    }
    const dtype = STORAGE_TYPES[type.name]!;
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
    object = unpickle(zip.read(pklName), {
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
  return {
    object,
    prefix,
    readTensor(ref: TorchTensorRef, name: string): CheckpointTensor {
      const key = ref.storage.key;
      let data = storageBytes.get(key);
      if (!data) {
        const entry = `${prefix}/data/${key}`;
        if (!zip.entries.has(entry)) fail(`tensor '${name}': its storage entry '${entry}' is missing from the archive`);
        try {
          data = zip.read(entry);
        } catch (e) {
          if (e instanceof CheckpointError) fail(`tensor '${name}': ${e.message}`);
          throw e;
        }
        const need = ref.storage.numel * TORCH_ITEM_SIZE[ref.storage.dtype];
        if (data.length < need) {
          fail(`tensor '${name}': storage entry '${entry}' has ${data.length} bytes but the pickle records ${ref.storage.numel} ${ref.storage.dtype} elements (${need} bytes)`);
        }
        storageBytes.set(key, data);
      }
      return gather(data, ref, name);
    },
  };
}

function describeValue(x: unknown): string {
  if (x === null) return 'None';
  if (x instanceof PyDict) return `a ${x.className} with keys [${[...x.map.keys()].slice(0, 8).map(String).join(', ')}]`;
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
    if (!object.map.has(key)) fail(`the checkpoint has no key '${key}' (top-level keys: ${[...object.map.keys()].map(String).join(', ')})`);
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
    if (typeof k !== 'string') fail(`${where} has a non-string key ${String(k)}`);
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
