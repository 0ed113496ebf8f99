// Hostile `.pth` files: each case was found to cost unbounded time or memory, or to escape as
// something other than a CheckpointError. Every file is built here from a valid archive.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, officialToTimmKey, parsePthStateDict, readPth, readZip, unpickle } from '../src/checkpoint/index.js';
import { loadPthFile } from '../src/checkpoint/pth-node.js';
import { encodePth, zipArchive as zip, type ZipEntryInput as Entry } from './helpers/pth-writer.js';

const enc = new TextEncoder();
const dir = mkdtempSync(join(tmpdir(), 'pth-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectCheckpointError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError matching ${pattern}`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(pattern);
}

async function expectCheckpointErrorAsync(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError matching ${pattern}`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(pattern);
}

/** The entries of a valid `torch.save` archive holding `{w: [1, 2, 3, 4]}`. */
function validEntries(): Entry[] {
  const z = readZip(encodePth({ w: { shape: [4], data: Float32Array.from([1, 2, 3, 4]) } }));
  return [...z.entries.keys()].map((name) => ({ name, data: z.read(name).slice() }));
}

/** Replaces or adds entries by name. */
function withEntries(base: Entry[], changes: Entry[]): Entry[] {
  const out = base.filter((e) => !changes.some((c) => c.name === e.name));
  return [...out, ...changes];
}

/** A protocol-2 pickle of `{'w': tensor}` with the given storage and view (opcodes by hand). */
class P {
  readonly b: number[] = [0x80, 2];
  op(...x: number[]): this {
    for (const v of x) this.b.push(v);
    return this;
  }
  str(s: string): this {
    const u = enc.encode(s);
    return this.op(0x58, u.length & 0xff, (u.length >> 8) & 0xff, (u.length >> 16) & 0xff, u.length >>> 24, ...u);
  }
  int(v: number): this {
    return this.op(0x4a, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  }
  global(m: string, n: string): this {
    return this.op(0x63, ...enc.encode(`${m}\n${n}\n`));
  }
  ints(xs: number[]): this {
    this.op(0x28);
    for (const x of xs) this.int(x);
    return this.op(0x74);
  }
  tensor(storageType: string, numel: number, shape: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    this.op(0x28).str('storage').global('torch', storageType).str('0').str('cpu').int(numel).op(0x74, 0x51);
    this.int(0).ints(shape).ints(stride).op(0x89);
    this.global('collections', 'OrderedDict').op(0x29, 0x52);
    return this.op(0x74, 0x52);
  }
  done(): Uint8Array {
    return Uint8Array.from([...this.b, 0x2e]);
  }
}

const stateDictPickle = (storageType: string, numel: number, shape: number[], stride: number[]): Uint8Array =>
  new P().op(0x7d).str('w').tensor(storageType, numel, shape, stride).op(0x73).done();

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('zip entries that inflate beyond their declared size', () => {
  it('a deflate bomb in a storage entry is stopped at the declared size (Node helper)', async () => {
    // 64 MiB of zeros deflate to ~64 kB; the entry declares the 16 bytes its tensor needs.
    const bomb = new Uint8Array(64 << 20);
    const entries = withEntries(validEntries(), [{ name: 'archive/data/0', data: bomb, deflate: true, declared: 16 }]);
    const path = join(dir, 'bomb.pth');
    writeFileSync(path, zip(entries));
    await expectCheckpointErrorAsync(loadPthFile(path), /entry 'archive\/data\/0'.*inflates to more than its declared 16 bytes/);
  });

  it('every inflate is given the declared size as its output limit', () => {
    const limits: number[] = [];
    const inflateRaw = (d: Uint8Array, maxOutputLength: number): Uint8Array => {
      limits.push(maxOutputLength);
      return new Uint8Array(inflateRawSync(d, { maxOutputLength: Math.max(1, maxOutputLength) }));
    };
    const entries = validEntries().map((e) => ({ ...e, deflate: true }));
    const sd = parsePthStateDict(zip(entries), { inflateRaw });
    expect(Array.from(sd.w!.data)).toEqual([1, 2, 3, 4]);
    const sizes = entries.map((e) => e.data.length);
    expect(limits.length).toBeGreaterThan(0);
    for (const l of limits) expect(sizes).toContain(l);
  });

  it('a storage entry declaring far more than its tensors need is refused before inflating', () => {
    let calls = 0;
    const inflateRaw = (d: Uint8Array, max: number): Uint8Array => {
      calls++;
      return new Uint8Array(inflateRawSync(d, { maxOutputLength: Math.max(1, max) }));
    };
    const entries = withEntries(validEntries(), [{ name: 'archive/data/0', data: f32(1, 2, 3, 4), deflate: true, declared: 2 ** 31 }]);
    const bytes = zip(entries);
    const ck = readPth(bytes, { inflateRaw });
    const before = calls;
    const ref = (ck.object as { get(k: string): unknown }).get('w');
    expectCheckpointError(() => ck.readTensor(ref as never, 'w'), /storage entry 'archive\/data\/0' declares 2147483648 bytes but the pickle records 4 float32 elements \(16 bytes\)/);
    expect(calls).toBe(before);
  });

  it('a data.pkl declaring an absurd size is refused before inflating', () => {
    let calls = 0;
    const inflateRaw = (d: Uint8Array): Uint8Array => {
      calls++;
      return new Uint8Array(inflateRawSync(d));
    };
    const pkl = validEntries().find((e) => e.name === 'archive/data.pkl')!;
    const entries = withEntries(validEntries(), [{ ...pkl, deflate: true, declared: 0xfffffff0 }]);
    expectCheckpointError(() => readPth(zip(entries), { inflateRaw }), /archive\/data\.pkl.*declares 4294967280 bytes.*limit/);
    expect(calls).toBe(0);
  });
});

describe('pickle integers', () => {
  it('a 400 kB LONG4 integer is refused at once', () => {
    const n = 400_000;
    const b = new Uint8Array(2 + 5 + n + 1);
    b.set([0x80, 2, 0x8b, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0]);
    b.fill(0x7f, 7, 7 + n);
    b[b.length - 1] = 0x2e;
    const t0 = performance.now();
    expectCheckpointError(() => unpickle(b, { findGlobal: () => undefined }), /LONG4 integer of 400000 bytes is larger than the 1024 bytes/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('long integers up to the limit decode exactly (positive and negative)', () => {
    for (const len of [1, 8, 9, 255, 1024]) {
      for (const top of [0x12, 0xf3]) {
        const body = new Uint8Array(len).map((_, i) => (i * 37 + 11) & 0xff);
        body[len - 1] = top;
        let want = 0n;
        for (let i = len - 1; i >= 0; i--) want = (want << 8n) | BigInt(body[i]!);
        if (top & 0x80) want -= 1n << BigInt(8 * len);
        const op = len < 256 ? [0x8a, len] : [0x8b, len & 0xff, len >> 8, 0, 0];
        const v = unpickle(Uint8Array.from([0x80, 2, ...op, ...body, 0x2e]), { findGlobal: () => undefined });
        expect(BigInt(v as number | bigint)).toBe(want);
        expect(typeof v).toBe(want >= BigInt(Number.MIN_SAFE_INTEGER) && want <= BigInt(Number.MAX_SAFE_INTEGER) ? 'number' : 'bigint');
      }
    }
  });
});

describe('expanded (stride-0) tensors', () => {
  it('a huge expansion of a one-element storage is refused before anything is allocated', () => {
    const pkl = stateDictPickle('FloatStorage', 1, [100_000, 100_000], [0, 0]);
    const bytes = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: f32(7) }]));
    expectCheckpointError(() => parsePthStateDict(bytes), /tensor 'w'.*\[100000, 100000\].*10000000000 elements from a storage of 1.*expanded/);
    const pkl2 = stateDictPickle('FloatStorage', 1, [1 << 28], [0]);
    const bytes2 = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl2 }, { name: 'archive/data/0', data: f32(7) }]));
    const t0 = performance.now();
    expectCheckpointError(() => parsePthStateDict(bytes2), /268435456 elements from a storage of 1 element.*clone\(\)/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('many modest expansions of one tiny storage add up to a refusal, not gigabytes', () => {
    // 40 tensors of 2^20 elements each (160 MB), all views of one float.
    const p = new P().op(0x7d, 0x28);
    for (let i = 0; i < 40; i++) p.str(`w${i}`).tensor('FloatStorage', 1, [1 << 20], [0]);
    const bytes = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: p.op(0x75).done() }, { name: 'archive/data/0', data: f32(7) }]));
    expectCheckpointError(() => parsePthStateDict(bytes), /tensor 'w16': the checkpoint's tensors would materialise 17825792 elements in all from 1 storage elements.*clone\(\)/);
  });

  it('modest expansions (a broadcast row, a scalar filled to a buffer) still load', () => {
    const pkl = stateDictPickle('FloatStorage', 3, [1000, 3], [0, 1]);
    const sd = parsePthStateDict(zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: f32(1, 2, 3) }])));
    expect(sd.w!.shape).toEqual([1000, 3]);
    expect(Array.from(sd.w!.data.subarray(2997))).toEqual([1, 2, 3]);
    const pkl2 = stateDictPickle('FloatStorage', 1, [1 << 20], [0]);
    const sd2 = parsePthStateDict(zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl2 }, { name: 'archive/data/0', data: f32(5) }])));
    expect(sd2.w!.data.length).toBe(1 << 20);
    expect(sd2.w!.data[12345]).toBe(5);
  });
});

describe('names from the file never reach the prototype chain', () => {
  for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
    it(`storage type torch.${name} is refused`, () => {
      const pkl = stateDictPickle(name, 4, [4], [1]);
      const bytes = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl }]));
      expectCheckpointError(() => parsePthStateDict(bytes, { unknownGlobals: 'opaque' }), new RegExp(`torch\\.${name}.*not a known torch storage type`));
      expectCheckpointError(() => parsePthStateDict(bytes), new RegExp(`refusing to load global 'torch\\.${name}'`));
    });
  }
});

describe('key names never reach the prototype chain', () => {
  it('official-to-timm mapping ignores inherited names', () => {
    for (const mod of ['constructor', '__proto__', 'toString']) expect(officialToTimmKey(`stages.0.0.${mod}.weight`)).toBeNull();
    expect(officialToTimmKey('stages.0.0.pwconv1.weight')).toBe('stages.0.blocks.0.mlp.fc1.weight');
  });
});

describe('deep nesting', () => {
  const deepKey = (depth: number): number[] => {
    // {((((...),),),): 1} — a key nested `depth` tuples deep.
    const b = [0x80, 2, 0x7d, 0x29];
    for (let i = 0; i < depth; i++) b.push(0x85);
    b.push(0x4b, 1, 0x73, 0x2e);
    return b;
  };

  it('a 100k-deep tuple is refused with a clear error, not a stack overflow', () => {
    const bytes = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: Uint8Array.from(deepKey(100_000)) }]));
    expectCheckpointError(() => parsePthStateDict(bytes), /nested more than 1000 levels deep/);
  });

  it('a 100k-deep list built through the memo (outer lists filled first) is refused too', () => {
    // Make 100k memoised empty lists, then append list i+1 into list i from the outside in,
    // so that no list looks deep at the moment it is inserted.
    const n = 100_000;
    const b: number[] = [0x80, 2];
    for (let i = 0; i < n; i++) b.push(0x5d, 0x94, 0x30); // EMPTY_LIST, MEMOIZE, POP
    const get = (i: number) => b.push(0x6a, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0); // LONG_BINGET
    for (let i = 0; i < n - 1; i++) {
      get(i);
      get(i + 1);
      b.push(0x61, 0x30); // APPEND, POP
    }
    get(0);
    b.push(0x2e);
    expectCheckpointError(() => unpickle(Uint8Array.from(b), { findGlobal: () => undefined }), /nested more than 1000 levels deep/);
  });

  it('a list that contains itself is refused', () => {
    // l = []; l.append(l)
    const b = [0x80, 2, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e];
    expectCheckpointError(() => unpickle(Uint8Array.from(b), { findGlobal: () => undefined }), /contains itself/);
  });

  it('nesting within the limit is fine', () => {
    const v = unpickle(Uint8Array.from(deepKey(900)), { findGlobal: () => undefined });
    expect(v).toBeTruthy();
  });
});

describe('pickle protocols 0 and 1', () => {
  // data.pkl of torch.save({'w': torch.ones(2)}, f, pickle_protocol=p), as PyTorch 2 writes it.
  const proto0 = enc.encode(
    "(dp0\nVw\np1\nctorch._utils\n_rebuild_tensor_v2\np2\n(P('storage', <class 'torch.FloatStorage'>, '0', 'cpu', 2)\nI0\n(I2\ntp3\n(I1\ntp4\nI00\nccollections\nOrderedDict\np5\n(tRp6\ntp7\nRp8\ns.",
  );
  const proto1 = Uint8Array.from(
    [...'}q\x00X\x01\x00\x00\x00wq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06K\x02tq\x07QK\x00(K\x02tq\x08(K\x01tq\tI00\nccollections\nOrderedDict\nq\n)Rq\x0btq\x0cRq\rs.'].map((c) => c.charCodeAt(0)),
  );
  for (const [p, pkl] of [
    [0, proto0],
    [1, proto1],
  ] as const) {
    it(`a torch.save file with pickle protocol ${p} is refused naming the protocol`, () => {
      const bytes = zip(withEntries(validEntries(), [{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/data/0', data: f32(1, 1) }]));
      expectCheckpointError(() => parsePthStateDict(bytes), new RegExp(`pickle protocol ${p}\\b.*not supported.*protocol 2`));
    });
  }
});
