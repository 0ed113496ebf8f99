import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  PyDict,
  PyObject,
  crc32,
  decodePthStateDict,
  opcodeName,
  parsePthStateDict,
  readPth,
  readZip,
  unpickle,
} from '../src/checkpoint/index.js';
import { loadPthFile } from '../src/checkpoint/pth-node.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/pth/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

interface Described {
  dtype: string;
  shape: number[];
  stride: number[];
  storage_offset: number;
  contiguous: boolean;
  values: (number | string)[];
}
interface Summary {
  shape: number[];
  sum: number;
  abs_sum: number;
  first: number[];
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  small_state_dict: Record<string, Described>;
  convnext_mini_official: Record<string, Summary>;
  convnext_mini_logits: number[];
};

const num = (v: number | string): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : (v as number));

function expectCheckpointError(fn: () => unknown, pattern: RegExp): CheckpointError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError matching ${pattern}`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(pattern);
  return err as CheckpointError;
}

// ---------------------------------------------------------------------------------------
// A ZIP writer for tests (stored or deflated entries, optional zip64 records).

interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

function buildZip(files: ZipInput[], opts: { zip64?: boolean } = {}): Uint8Array {
  const z64 = opts.zip64 ?? false;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const central: Uint8Array[] = [];
  const push = (b: Uint8Array) => {
    chunks.push(b);
    offset += b.length;
  };
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const body = f.deflate ? new Uint8Array(deflateRawSync(f.data)) : f.data;
    const crc = crc32(f.data);
    const localOffset = offset;
    const lextra = z64 ? 20 : 0;
    const lh = new Uint8Array(30 + name.length + lextra);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, z64 ? 45 : 20, true);
    lv.setUint16(8, f.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, z64 ? 0xffffffff : body.length, true);
    lv.setUint32(22, z64 ? 0xffffffff : f.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, lextra, true);
    lh.set(name, 30);
    if (z64) {
      lv.setUint16(30 + name.length, 1, true);
      lv.setUint16(32 + name.length, 16, true);
      lv.setBigUint64(34 + name.length, BigInt(f.data.length), true);
      lv.setBigUint64(42 + name.length, BigInt(body.length), true);
    }
    push(lh);
    push(body);
    const cextra = z64 ? 28 : 0;
    const ch = new Uint8Array(46 + name.length + cextra);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint16(10, f.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cextra, true);
    cv.setUint32(42, z64 ? 0xffffffff : localOffset, true);
    ch.set(name, 46);
    if (z64) {
      cv.setUint16(46 + name.length, 1, true);
      cv.setUint16(48 + name.length, 24, true);
      cv.setBigUint64(50 + name.length, BigInt(f.data.length), true);
      cv.setBigUint64(58 + name.length, BigInt(body.length), true);
      cv.setBigUint64(66 + name.length, BigInt(localOffset), true);
    }
    central.push(ch);
  }
  const cdOffset = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdOffset;
  if (z64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(files.length), true);
    rv.setBigUint64(32, BigInt(files.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    const recOffset = offset;
    push(rec);
    const loc = new Uint8Array(20);
    const locv = new DataView(loc.buffer);
    locv.setUint32(0, 0x07064b50, true);
    locv.setBigUint64(8, BigInt(recOffset), true);
    locv.setUint32(16, 1, true);
    push(loc);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, z64 ? 0xffff : files.length, true);
  ev.setUint16(10, z64 ? 0xffff : files.length, true);
  ev.setUint32(12, z64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, z64 ? 0xffffffff : cdOffset, true);
  push(eocd);
  const out = new Uint8Array(offset);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** All entries of an archive, for rebuilding it with changes. */
function entriesOf(bytes: Uint8Array): ZipInput[] {
  const z = readZip(bytes);
  return [...z.entries.keys()].map((name) => ({ name, data: z.read(name).slice() }));
}

// ---------------------------------------------------------------------------------------
// A pickle writer for tests (just the opcodes the tests need).

class Pickler {
  private bytes: number[] = [0x80, 2];
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    const n = b.length;
    return this.op(0x58, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, ...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return this.op(0x4a, ...b);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  tuple(items: ((p: this) => void)[]): this {
    this.op(0x28);
    for (const it of items) it(this);
    return this.op(0x74);
  }
  /** _rebuild_tensor_v2(('storage', <type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
  tensor(key: string, numel: number, offset: number, size: number[], stride: number[], storageType = 'FloatStorage'): this {
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28);
    this.tuple([(p) => p.str('storage'), (p) => p.global('torch', storageType), (p) => p.str(key), (p) => p.str('cpu'), (p) => p.int(numel)]);
    this.op(0x51);
    this.int(offset);
    this.tuple(size.map((s) => (p: this) => p.int(s)));
    this.tuple(stride.map((s) => (p: this) => p.int(s)));
    this.op(0x89);
    this.global('collections', 'OrderedDict').op(0x29, 0x52);
    return this.op(0x74, 0x52);
  }
  done(): Uint8Array {
    return Uint8Array.from([...this.bytes, 0x2e]);
  }
  raw(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

/** A minimal torch-style archive {'model': {name: tensor}} with the given storages. */
function tinyArchive(pickle: Uint8Array, storages: Record<string, Uint8Array>, prefix = 'archive', extra: ZipInput[] = []): ZipInput[] {
  return [
    { name: `${prefix}/data.pkl`, data: pickle },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${prefix}/data/${k}`, data })),
    { name: `${prefix}/version`, data: new TextEncoder().encode('3\n') },
    ...extra,
  ];
}

function modelPickle(tensors: [string, (p: Pickler) => void][]): Uint8Array {
  const p = new Pickler().op(0x7d).str('model').op(0x7d, 0x28);
  for (const [name, t] of tensors) {
    p.str(name);
    t(p);
  }
  return p.op(0x75, 0x73).done();
}

// ---------------------------------------------------------------------------------------

describe('.pth files written by PyTorch', () => {
  it('small_state_dict.pth: every dtype, scalar, empty, non-contiguous, offset and stride-0 tensors', () => {
    const sd = parsePthStateDict(fixture('small_state_dict.pth'));
    const want = expected.small_state_dict;
    expect(Object.keys(sd)).toEqual(Object.keys(want));
    const ours: Record<string, string> = {
      float32: 'float32', float64: 'float64', float16: 'float32', bfloat16: 'float32', int64: 'int32', int32: 'int32',
      int16: 'int32', int8: 'int32', uint8: 'int32', bool: 'bool',
    };
    for (const [name, w] of Object.entries(want)) {
      const t = sd[name]!;
      expect(t.sourceDType, name).toBe(w.dtype);
      expect(t.dtype, name).toBe(ours[w.dtype]);
      expect(t.shape, name).toEqual(w.shape);
      expect(Array.from(t.data), name).toEqual(w.values.map(num));
    }
    // The fixture really exercises the strided paths.
    expect(want['stages.0.0.pwconv1.weight']!.contiguous).toBe(false);
    expect(want.sliced!.storage_offset).toBe(6);
    expect(want.expanded!.stride).toEqual([0, 1]);
    expect(Array.from(sd.sliced!.data)).toEqual([6, 8, 10, 12, 14, 16]);
  });

  it('decodePthStateDict gives tensors; loadPthFile reads from disk', async () => {
    const sd = decodePthStateDict(fixture('small_state_dict.pth'));
    expect(sd.half!.dtype).toBe('float32');
    expect([...sd.half!.shape]).toEqual([2, 3]);
    expect(Array.from(sd.mask!.dataSync())).toEqual([1, 0, 0, 1]);
    expect(sd.scalar!.shape).toEqual([]);
    expect(Array.from(sd.scalar!.dataSync())).toEqual([2.5]);
    expect(sd.empty!.shape).toEqual([0, 3]);
    const fromDisk = await loadPthFile(join(FIXTURES, 'small_state_dict.pth'));
    expect(Object.keys(fromDisk)).toEqual(Object.keys(sd));
    expect(Array.from(fromDisk.i64!.dataSync())).toEqual([0, -1, 2 ** 31 - 1, -(2 ** 31), 123456789]);
  });

  it('convnext_mini_official.pth: the official key layout and values, in registration order', () => {
    const sd = parsePthStateDict(fixture('convnext_mini_official.pth'));
    const want = expected.convnext_mini_official;
    expect(Object.keys(sd)).toEqual(Object.keys(want));
    for (const [k, w] of Object.entries(want)) {
      const t = sd[k]!;
      expect(t.dtype).toBe('float32');
      expect(t.shape, k).toEqual(w.shape);
      let s = 0;
      let a = 0;
      for (const v of t.data) {
        s += v;
        a += Math.abs(v);
      }
      expect(s, k).toBeCloseTo(w.sum, 9);
      expect(a, k).toBeCloseTo(w.abs_sum, 9);
      expect(Array.from(t.data.subarray(0, 3)), k).toEqual(w.first);
    }
    // Keys as the official model names them, gamma first inside a block.
    const keys = Object.keys(sd);
    expect(sd['downsample_layers.0.0.weight']!.shape).toEqual([4, 3, 4, 4]);
    expect(sd['downsample_layers.1.1.weight']!.shape).toEqual([8, 4, 2, 2]);
    expect(sd['stages.2.0.dwconv.weight']!.shape).toEqual([12, 1, 7, 7]);
    expect(sd['stages.3.0.pwconv1.weight']!.shape).toEqual([64, 16]);
    expect(sd['head.weight']!.shape).toEqual([5, 16]);
    expect(keys.indexOf('stages.0.0.gamma')).toBeLessThan(keys.indexOf('stages.0.0.dwconv.weight'));
    expect(keys.slice(-4)).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    // The state dict's _metadata arrives through BUILD and is kept aside, not as keys.
    const ckpt = readPth(fixture('convnext_mini_official.pth'));
    const model = (ckpt.object as PyDict).get('model') as PyDict;
    expect(model.className).toBe('OrderedDict');
    expect((model.state as PyDict).get('_metadata')).toBeInstanceOf(PyDict);
    expect(ckpt.prefix).toBe('convnext_mini_official');
  });

  it('convnext_mini_io.pth: a top-level dict of tensors is its own state dict', () => {
    const sd = parsePthStateDict(fixture('convnext_mini_io.pth'));
    expect(Object.keys(sd)).toEqual(['input', 'logits']);
    expect(sd.input!.shape).toEqual([1, 3, 32, 32]);
    expect(Array.from(sd.logits!.data)).toEqual(expected.convnext_mini_logits.map((v) => Math.fround(v)));
  });

  it("strips a DataParallel 'module.' prefix (unless told not to)", () => {
    expect(Object.keys(parsePthStateDict(fixture('dp_prefixed.pth')))).toEqual(['head.weight', 'head.bias']);
    expect(Object.keys(parsePthStateDict(fixture('dp_prefixed.pth'), { stripPrefix: false }))).toEqual(['module.head.weight', 'module.head.bias']);
  });

  it('a training checkpoint: unknown globals are refused by default, inert placeholders on request', () => {
    expectCheckpointError(() => parsePthStateDict(fixture('training_checkpoint.pth')), /refusing to load global 'argparse\.Namespace'.*at byte \d+ in training_checkpoint\/data\.pkl/);
    const sd = parsePthStateDict(fixture('training_checkpoint.pth'), { unknownGlobals: 'opaque' });
    expect(Object.keys(sd)).toEqual(['head.weight', 'head.bias']);
    expect(Array.from(sd['head.weight']!.data)).toEqual([1, -1]);
    const ckpt = readPth(fixture('training_checkpoint.pth'), { unknownGlobals: 'opaque' });
    const args = (ckpt.object as PyDict).get('args') as PyObject;
    expect(args).toBeInstanceOf(PyObject);
    expect(args.cls).toBe('argparse.Namespace');
    expect((args.state as PyDict).get('model')).toBe('convnext_tiny');
    expect((ckpt.object as PyDict).get('epoch')).toBe(3);
    expectCheckpointError(() => parsePthStateDict(fixture('training_checkpoint.pth'), { unknownGlobals: 'opaque', key: 'optimizer' }), /checkpoint\['optimizer'\]\['state'\] is a dict.*not a tensor/);
    expectCheckpointError(() => parsePthStateDict(fixture('training_checkpoint.pth'), { unknownGlobals: 'opaque', key: 'nope' }), /no key 'nope' \(top-level keys: model, optimizer, epoch, args\)/);
    expectCheckpointError(() => parsePthStateDict(fixture('training_checkpoint.pth'), { unknownGlobals: 'opaque', key: 'epoch' }), /checkpoint\['epoch'\] is a number, not a state dict/);
  });

  it('a forbidden GLOBAL (os.system) is named and refused; nothing is executed', () => {
    expectCheckpointError(() => parsePthStateDict(fixture('forbidden_global.pth')), /refusing to load global 'posix\.system'.*opcode 0x63 \(GLOBAL\) at byte \d+/);
    // Even as an opaque placeholder it is never called: the model still loads.
    const sd = parsePthStateDict(fixture('forbidden_global.pth'), { unknownGlobals: 'opaque' });
    expect(Array.from(sd.w!.data)).toEqual([1, 1]);
  });

  it('int64 values beyond int32 name the tensor, value and index', () => {
    expectCheckpointError(() => parsePthStateDict(fixture('int64_overflow.pth')), /tensor 'ids': int64 value 1099511627776 at flat index 1 does not fit in int32/);
  });

  it('the legacy (non-zip) torch.save format is detected and explained', () => {
    expectCheckpointError(() => parsePthStateDict(fixture('legacy_format.pth')), /legacy \(PyTorch < 1\.6, non-zip\) torch\.save file/);
  });
});

describe('.pth bad input', () => {
  it('non-zip input: empty, text, a bare pickle, a tar archive, a safetensors file', () => {
    expectCheckpointError(() => readPth(new Uint8Array(0)), /file is empty/);
    expectCheckpointError(() => readPth(new TextEncoder().encode('hello, I am not a checkpoint')), /not a zip archive \(starts with 68 65 6c 6c/);
    expectCheckpointError(() => readPth(new Pickler().op(0x7d).done()), /bare pickle/);
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expectCheckpointError(() => readPth(tar), /tar archive/);
    expectCheckpointError(() => readPth(fixture('hand_written.safetensors')), /not a zip archive/);
  });

  it('every truncation of a .pth file is refused with a clear error', () => {
    const good = fixture('small_state_dict.pth');
    for (let cut = 0; cut < good.length; cut++) {
      expectCheckpointError(() => parsePthStateDict(good.subarray(0, cut)), /empty|truncated|not a zip|too short|no end-of-central-directory/);
    }
  });

  it('every truncation of data.pkl inside a valid archive is refused with a clear error', () => {
    const entries = entriesOf(fixture('small_state_dict.pth'));
    const pkl = entries.find((e) => e.name.endsWith('data.pkl'))!;
    for (let cut = 0; cut < pkl.data.length; cut++) {
      const zip = buildZip(entries.map((e) => (e === pkl ? { name: e.name, data: pkl.data.subarray(0, cut) } : e)));
      expectCheckpointError(() => parsePthStateDict(zip), /pickle: data is truncated|pickle: data ended at byte \d+ without a STOP/);
    }
  });

  it('corrupt bytes are caught by the CRC; without the CRC the unpickler still fails cleanly or succeeds, never crashes', () => {
    const good = fixture('small_state_dict.pth');
    const entries = entriesOf(good);
    const pkl = entries.find((e) => e.name.endsWith('data.pkl'))!;
    const z = readZip(good);
    const start = z.entries.get(pkl.name)!.localHeaderOffset + 30 + pkl.name.length;
    const flipped = good.slice();
    flipped[start + 200] = flipped[start + 200]! ^ 0x55;
    expectCheckpointError(() => parsePthStateDict(flipped), /CRC-32 mismatch/);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let failures = 0;
    for (let trial = 0; trial < 400; trial++) {
      const data = pkl.data.slice();
      for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++) data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
      const zip = buildZip(entries.map((e) => (e === pkl ? { name: e.name, data } : e)));
      try {
        parsePthStateDict(zip, { verifyCrc: false });
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(100);
  });

  it('corrupt zip structure (central directory, end record, zip64 records) fails only with CheckpointError', () => {
    const plain = fixture('small_state_dict.pth');
    const entries = entriesOf(plain);
    const z64 = buildZip(entries, { zip64: true });
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let failures = 0;
    for (const good of [plain, z64]) {
      // The central directory starts at the first central-header signature after the last entry's data.
      const last = [...readZip(good).entries.values()].reduce((a, e) => Math.max(a, e.localHeaderOffset + 30 + e.compressedSize), 0);
      let firstCentral = last;
      while (firstCentral < good.length && !(good[firstCentral] === 0x50 && good[firstCentral + 1] === 0x4b && good[firstCentral + 2] === 1 && good[firstCentral + 3] === 2)) firstCentral++;
      expect(good.length - firstCentral).toBeGreaterThan(21 * 46);
      for (let trial = 0; trial < 400; trial++) {
        const bad = good.slice();
        // Flip bytes in the central directory / end records, or in a local header.
        const region = rnd() < 0.8 ? [firstCentral, bad.length] : [0, 64];
        for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++) bad[region[0]! + Math.floor(rnd() * (region[1]! - region[0]!))] = Math.floor(rnd() * 256);
        for (const verifyCrc of [true, false]) {
          try {
            parsePthStateDict(bad, { verifyCrc });
          } catch (e) {
            expect(e).toBeInstanceOf(CheckpointError);
            failures++;
          }
        }
      }
    }
    expect(failures).toBeGreaterThan(400);
  });

  it('a missing data entry is named', () => {
    const entries = entriesOf(fixture('small_state_dict.pth')).filter((e) => e.name !== 'small_state_dict/data/3');
    expectCheckpointError(() => parsePthStateDict(buildZip(entries)), /tensor '[^']+': its storage entry 'small_state_dict\/data\/3' is missing from the archive/);
  });

  it('an archive without data.pkl, or with two', () => {
    expectCheckpointError(() => readPth(buildZip([{ name: 'a/b.txt', data: new Uint8Array(3) }])), /no '<folder>\/data\.pkl' entry.*entries: a\/b\.txt/);
    const p = modelPickle([]);
    expectCheckpointError(() => readPth(buildZip([...tinyArchive(p, {}), ...tinyArchive(p, {}, 'other')])), /several data\.pkl entries/);
  });

  it('a storage entry shorter than the pickle says, or strides that reach past the storage', () => {
    const short = modelPickle([['w', (p) => p.tensor('0', 4, 0, [4], [1])]]);
    expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(short, { '0': f32(1, 2, 3) }))), /storage entry 'archive\/data\/0' has 12 bytes but the pickle records 4 float32 elements/);
    const far = modelPickle([['w', (p) => p.tensor('0', 3, 1, [2, 2], [2, 1])]]);
    expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(far, { '0': f32(1, 2, 3) }))), /tensor 'w': offset 1, shape \[2, 2\] and stride \[2, 1\] reach element 4, but its storage '0' holds only 3/);
  });

  it('unsupported pickle opcodes are named with their byte and position', () => {
    // EMPTY_SET (protocol 4) where the state dict would be.
    const p = new Pickler().op(0x7d).str('model').op(0x8f).op(0x73).done();
    const err = expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(p, {}))), /unsupported opcode.*opcode 0x8f \(EMPTY_SET\) at byte 13 in archive\/data\.pkl/);
    expect(err.message).toContain('pickle:');
    const q = new Pickler().op(0xff).done();
    expectCheckpointError(() => unpickle(q, { findGlobal: () => undefined }), /opcode 0xff \(not a pickle opcode\) at byte 2/);
    // Text-mode opcodes of protocol 0 (INT) are not part of the subset either.
    expectCheckpointError(() => unpickle(new Pickler().op(0x49, 0x31, 0x0a).done(), { findGlobal: () => undefined }), /opcode 0x49 \(INT\) at byte 2/);
    expect(opcodeName(0x95)).toBe('0x95 (FRAME)');
  });

  it('malformed pickles: stack underflow, dangling MARK, unknown memo, extra values, bad protocol', () => {
    const opts = { findGlobal: () => undefined };
    expectCheckpointError(() => unpickle(new Pickler().op(0x73).done(), opts), /stack underflow.*SETITEM/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x28, 0x7d).done(), opts), /STOP with an unclosed MARK/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x68, 9).done(), opts), /memo key 9 was never stored/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x7d, 0x7d).done(), opts), /STOP with 2 values on the stack/);
    expectCheckpointError(() => unpickle(Uint8Array.from([0x80, 9, 0x2e]), opts), /pickle protocol 9 is not supported/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x74).done(), opts), /no MARK on the stack/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x5d, 0x4b, 1, 0x4b, 2, 0x73).done(), opts), /cannot set items on list/);
    // A MARK hides what is below it: POP cannot reach past it.
    expectCheckpointError(() => unpickle(new Pickler().op(0x7d, 0x28, 0x30).done(), opts), /stack underflow/);
    expectCheckpointError(() => unpickle(new Pickler().str('x').op(0x29, 0x52).done(), opts), /REDUCE needs a callable global, got string/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x58, 0xff, 0xff, 0xff, 0x7f).done(), opts), /data is truncated.*BINUNICODE.*needs 2147483647 more bytes/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x8a, 8, 1, 2).done(), opts), /data is truncated.*LONG1/);
    expectCheckpointError(() => unpickle(new Pickler().op(0x63, 0x6f, 0x73).done(), opts), /newline-terminated name/);
  });

  it('random byte strings never escape as anything but CheckpointError', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    // Bias towards bytes that are opcodes of the subset so that runs get deep.
    const common = [0x28, 0x29, 0x5d, 0x7d, 0x74, 0x85, 0x86, 0x87, 0x61, 0x65, 0x73, 0x75, 0x4b, 0x4e, 0x88, 0x71, 0x68, 0x94, 0x30, 0x32, 0x52, 0x62, 0x51];
    const kinds = new Set<string>();
    for (let trial = 0; trial < 3000; trial++) {
      const n = Math.floor(rnd() * 40);
      // Start with values (and a MARK) on the stack so that more of the machine is reached.
      const b = [0x80, 2, 0x7d, 0x5d, 0x4b, 1, 0x4e, 0x7d, 0x5d, 0x4b, 2, 0x28, 0x4b, 3, 0x4b, 4];
      for (let i = 0; i < n; i++) b.push(rnd() < 0.7 ? common[Math.floor(rnd() * common.length)]! : Math.floor(rnd() * 256));
      b.push(0x2e);
      try {
        unpickle(Uint8Array.from(b), { findGlobal: () => undefined, persistentLoad: (pid) => ({ pid }) });
        kinds.add('returned');
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        kinds.add((e as Error).message.replace(/\d+/g, 'N'));
      }
    }
    // Many different failure paths were reached, not just one early check.
    expect(kinds.size).toBeGreaterThan(20);
  });

  it('values the subset decodes: ints of every width, floats, strings, bytes, lists, dicts, memo', () => {
    const p = new Pickler()
      .op(0x5d, 0x94, 0x28)
      .int(7)
      .int(-5)
      .op(0x4d, 0x34, 0x12)
      .op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80) // LONG1: -2^71 (bigint)
      .op(0x8a, 2, 0xff, 0x7f)
      .op(0x47, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18) // BINFLOAT pi (big-endian)
      .op(0x8c, 2, 0xc3, 0xa9) // SHORT_BINUNICODE 'é'
      .op(0x43, 2, 1, 2) // SHORT_BINBYTES
      .op(0x88, 0x89, 0x4e)
      .op(0x7d, 0x94, 0x4b, 1, 0x55, 1, 0x61, 0x73) // {1: 'a'} memoised as 1
      .op(0x68, 1) // the same dict again
      .op(0x29, 0x4b, 1, 0x85, 0x4b, 1, 0x4b, 2, 0x86, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x87)
      .op(0x65)
      .done();
    const v = unpickle(p, { findGlobal: () => undefined }) as unknown[];
    expect(v.slice(0, 5)).toEqual([7, -5, 0x1234, -(2n ** 71n), 0x7fff]);
    expect(v[5]).toBe(Math.PI);
    expect(v[6]).toBe('é');
    expect(v[7]).toEqual(Uint8Array.from([1, 2]));
    expect(v.slice(8, 11)).toEqual([true, false, null]);
    expect(v[11]).toBeInstanceOf(PyDict);
    expect((v[11] as PyDict).get(1)).toBe('a');
    expect(v[12]).toBe(v[11]);
    expect(v.slice(13)).toEqual([[], [1], [1, 2], [1, 2, 3]]);
  });

  it('refused torch features are named: quantized and complex tensors', () => {
    const q = new Pickler().op(0x7d).str('model').global('torch._utils', '_rebuild_qtensor').op(0x73).done();
    expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(q, {}))), /global 'torch\._utils\._rebuild_qtensor': quantized tensors are not supported/);
    const c = modelPickle([['w', (p) => p.tensor('0', 1, 0, [1], [1], 'ComplexFloatStorage')]]);
    expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(c, { '0': f32(1, 2) }))), /complex tensors are not supported/);
    // A storage type used as a function, and a persistent id of the wrong shape.
    const bad = new Pickler().op(0x7d).str('model').tuple([(p) => p.str('storage')]).op(0x51, 0x73).done();
    expectCheckpointError(() => parsePthStateDict(buildZip(tinyArchive(bad, {}))), /unsupported persistent id/);
  });

  it('a big-endian archive is refused', () => {
    const p = modelPickle([['w', (q) => q.tensor('0', 1, 0, [1], [1])]]);
    const zip = buildZip(tinyArchive(p, { '0': f32(1) }, 'archive', [{ name: 'archive/byteorder', data: new TextEncoder().encode('big') }]));
    expectCheckpointError(() => parsePthStateDict(zip), /byte order is 'big'/);
    const little = buildZip(tinyArchive(p, { '0': f32(1) }, 'archive', [{ name: 'archive/byteorder', data: new TextEncoder().encode('little') }]));
    expect(Array.from(parsePthStateDict(little).w!.data)).toEqual([1]);
  });

  it('zip structure errors: central directory out of range, bad local header', () => {
    const p = modelPickle([['w', (q) => q.tensor('0', 2, 0, [2], [1])]]);
    const zip = buildZip(tinyArchive(p, { '0': f32(1, 2) }));
    const eocd = zip.length - 22;
    const badCd = zip.slice();
    new DataView(badCd.buffer).setUint32(eocd + 16, zip.length, true);
    expectCheckpointError(() => readPth(badCd), /central directory .* lies outside the file/);
    const badLocal = zip.slice();
    badLocal[0] = 0x51; // first local header signature (data.pkl); starts with "Q" now, so the container check fires
    expectCheckpointError(() => readPth(badLocal), /not a zip archive/);
    const z = readZip(zip);
    const dataEntry = z.entries.get('archive/data/0')!;
    const badSecond = zip.slice();
    badSecond[dataEntry.localHeaderOffset] = 0;
    expectCheckpointError(() => parsePthStateDict(badSecond), /no local file header at offset/);
  });
});

describe('.pth archive variants', () => {
  const pickle = modelPickle([
    ['a', (p) => p.tensor('0', 6, 0, [2, 3], [3, 1])],
    ['at', (p) => p.tensor('0', 6, 0, [3, 2], [1, 3])],
    ['b', (p) => p.tensor('1', 2, 0, [2], [1], 'LongStorage')],
    ['rows', (p) => p.tensor('0', 6, 2, [2, 2], [2, 1])],
    ['col', (p) => p.tensor('0', 6, 1, [3, 1], [2, 7])],
  ]);
  const i64 = new Uint8Array(BigInt64Array.from([5n, -7n]).buffer);
  const storages = { '0': f32(1, 2, 3, 4, 5, 6), '1': i64 };

  it('zip64 records', () => {
    const sd = parsePthStateDict(buildZip(tinyArchive(pickle, storages, 'some_other_name'), { zip64: true }));
    expect(Array.from(sd.a!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(sd.at!.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(sd.b!.data)).toEqual([5, -7]);
    // Row-major views at an offset (the second with a size-1 dim of arbitrary stride).
    expect(Array.from(sd.rows!.data)).toEqual([3, 4, 5, 6]);
    expect(Array.from(sd.col!.data)).toEqual([2, 4, 6]);
  });

  it('deflated entries need a decompressor (the file helper brings node:zlib)', () => {
    const files = tinyArchive(pickle, storages).map((f) => ({ ...f, deflate: true }));
    const zip = buildZip(files);
    expectCheckpointError(() => parsePthStateDict(zip), /deflate-compressed and no decompressor was given/);
    const sd = parsePthStateDict(zip, { inflateRaw: (d) => new Uint8Array(inflateRawSync(d)) });
    expect(Array.from(sd.at!.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('a shared storage is read once and used by every view', () => {
    const ckpt = readPth(buildZip(tinyArchive(pickle, storages)));
    const model = (ckpt.object as PyDict).get('model') as PyDict;
    const a = model.get('a') as { storage: unknown };
    const at = model.get('at') as { storage: unknown };
    expect(a.storage).toBe(at.storage);
  });
});
