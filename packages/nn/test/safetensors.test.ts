import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fromTypedArray, transpose } from '@tsgrad/core';
import type { DType, TypedArray } from '@tsgrad/core';
import {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
} from '../src/io/safetensors.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '../src/io/safetensors-node.js';
import type { RawTensor } from '../src/io/safetensors.js';

const FIXTURES = fileURLToPath(new URL('../../convnext/test/fixtures/pth/', import.meta.url));
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  hand_written_safetensors: { metadata: Record<string, string>; tensors: Record<string, { st_dtype: string; shape: number[]; values: (number | string)[] }> };
  writer_input: { metadata: Record<string, string>; tensors: Record<string, { dtype: DType; shape: number[]; values: number[] }> };
};

const tmp = mkdtempSync(join(tmpdir(), 'tsgrad-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function num(v: number | string): number {
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : (v as number);
}

function arrayFor(dtype: DType, values: number[]): TypedArray {
  return dtype === 'float32' ? Float32Array.from(values) : dtype === 'float64' ? Float64Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
}

/** Builds a header + data file by hand (for bad-input cases). */
function handFile(header: unknown, data: Uint8Array | number = 0, opts: { rawHeader?: string; lengthOverride?: bigint } = {}): Uint8Array {
  const json = new TextEncoder().encode(opts.rawHeader ?? JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

function expectError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(pattern);
}

describe('safetensors round trips', () => {
  const shapes: number[][] = [[], [0], [1], [5], [2, 3], [3, 0, 2], [2, 1, 3, 2]];
  const dtypes: DType[] = ['float32', 'float64', 'int32', 'bool'];
  for (const dtype of dtypes) {
    for (const shape of shapes) {
      it(`${dtype} ${JSON.stringify(shape)}`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const vals = Array.from({ length: n }, (_, i) =>
          dtype === 'bool' ? (i * 7) % 3 === 0 ? 1 : 0 : dtype === 'int32' ? (i % 2 ? -1 : 1) * (i * 104729 + (i === 1 ? 2147483000 : 0)) : (i - 2.5) * 0.1 * (i % 3 ? 1 : -1e5),
        );
        const t = fromTypedArray(arrayFor(dtype, vals), shape, dtype);
        const bytes = serializeSafetensors({ x: { dtype, shape, data: t.dataSync() } });
        const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(hlen % 8).toBe(0);
        const back = decodeSafetensors(bytes).tensors.x!;
        expect(back.dtype).toBe(dtype);
        expect([...back.shape]).toEqual(shape);
        expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
      });
    }
  }

  it('keeps several tensors, metadata and special float values; layout is deterministic', async () => {
    const tensors = {
      'b.weight': fromTypedArray(Float32Array.from([NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38]), [2, 3], 'float32'),
      'a.bias': fromTypedArray(Float64Array.from([Math.PI, -Number.MIN_VALUE]), [2], 'float64'),
      count: fromTypedArray(Int32Array.from([-2147483648, 2147483647]), [2], 'int32'),
      flag: fromTypedArray(Uint8Array.from([1, 0, 1]), [3], 'bool'),
      __proto__name: fromTypedArray(Float32Array.from([1]), [1], 'float32'),
    };
    const bytes = await encodeSafetensors(tensors, { format: 'pt', 'ünïcode': 'välue' });
    const again = await encodeSafetensors(tensors, { format: 'pt', 'ünïcode': 'välue' });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    const header = readSafetensorsHeader(bytes);
    // Reference layout: descending alignment, then name.
    const byOffset = [...header.entries].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]).map((e) => e.name);
    expect(byOffset).toEqual(['a.bias', '__proto__name', 'b.weight', 'count', 'flag']);
    const { tensors: back, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', 'ünïcode': 'välue' });
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    const w = Array.from(back['b.weight']!.dataSync());
    expect(Number.isNaN(w[0])).toBe(true);
    expect(w.slice(1)).toEqual([Infinity, -Infinity, -0, Math.fround(1e-45), 3.4028234663852886e38]);
    expect(Object.is(w[3], -0)).toBe(true);
    expect(Array.from(back['a.bias']!.dataSync())).toEqual([Math.PI, -Number.MIN_VALUE]);
    expect(Array.from(back.count!.dataSync())).toEqual([-2147483648, 2147483647]);
    expect(Array.from(back.flag!.dataSync())).toEqual([1, 0, 1]);
  });

  it('writes a non-contiguous tensor (a transpose) in row-major order', async () => {
    const base = fromTypedArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], 'float32');
    const t = transpose(base, 0, 1);
    const back = parseSafetensors(await encodeSafetensors({ t }));
    expect(back.tensors.t!.shape).toEqual([3, 2]);
    expect(Array.from(back.tensors.t!.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('stores a tensor named "__proto__" as an ordinary key', () => {
    const raw = new Map<string, RawTensor>([['__proto__', { dtype: 'float32', shape: [1], data: Float32Array.from([7]) }]]);
    const back = parseSafetensors(serializeSafetensors(raw));
    expect(Object.keys(back.tensors)).toEqual(['__proto__']);
    expect(Array.from(Object.getOwnPropertyDescriptor(back.tensors, '__proto__')!.value.data as Float32Array)).toEqual([7]);
  });

  it('reads data at an unaligned offset inside a larger buffer', () => {
    const bytes = serializeSafetensors({ x: { dtype: 'float64', shape: [2], data: Float64Array.from([1.25, -3]) } });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const back = parseSafetensors(big.subarray(3));
    expect(Array.from(back.tensors.x!.data)).toEqual([1.25, -3]);
  });

  it('refuses bad input to the writer', async () => {
    const f = (o: Record<string, RawTensor>, md?: Record<string, string>) => () => serializeSafetensors(o, md);
    expectError(f({ __metadata__: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }), /reserved/);
    expectError(f({ '': { dtype: 'float32', shape: [1], data: new Float32Array(1) } }), /non-empty/);
    expectError(f({ x: { dtype: 'float32', shape: [2], data: new Float32Array(3) } }), /has 3 values but shape \[2\] needs 2/);
    expectError(f({ x: { dtype: 'float32', shape: [-1], data: new Float32Array(1) } }), /invalid shape/);
    expectError(f({ x: { dtype: 'complex' as DType, shape: [1], data: new Float32Array(1) } }), /unsupported dtype/);
    expectError(f({}, { a: 3 as unknown as string }), /metadata value for 'a' must be a string/);
  });
});

describe('safetensors files written elsewhere', () => {
  it('reads the file written by hand in Python (unaligned data start, data order ≠ header order)', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'hand_written.safetensors')));
    const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(hlen % 8).not.toBe(0);
    const { tensors, metadata } = parseSafetensors(bytes);
    const want = expected.hand_written_safetensors;
    expect(metadata).toEqual(want.metadata);
    expect(Object.keys(tensors)).toEqual(Object.keys(want.tensors));
    const ours: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool', F16: 'float32', BF16: 'float32', I64: 'int32' };
    for (const [name, w] of Object.entries(want.tensors)) {
      const t = tensors[name]!;
      expect(t.fileDType, name).toBe(w.st_dtype);
      expect(t.dtype, name).toBe(ours[w.st_dtype]);
      expect(t.shape, name).toEqual(w.shape);
      // Float32 values from Python are exact doubles of the stored float32 values.
      expect(Array.from(t.data), name).toEqual(w.values.map(num));
    }
  });

  it('writes exactly the bytes that Python read back and verified (tsgrad_written.safetensors)', () => {
    const w = expected.writer_input;
    const raw: Record<string, RawTensor> = {};
    for (const [name, t] of Object.entries(w.tensors)) raw[name] = { dtype: t.dtype, shape: t.shape, data: arrayFor(t.dtype, t.values) };
    const ours = serializeSafetensors(raw, w.metadata);
    const file = readFileSync(join(FIXTURES, 'tsgrad_written.safetensors'));
    expect(Buffer.from(ours).equals(file)).toBe(true);
  });
});

describe('safetensors bad input', () => {
  const good = serializeSafetensors(
    {
      w: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      b: { dtype: 'float64', shape: [2], data: Float64Array.from([7, 8]) },
      m: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    },
    { format: 'pt' },
  );

  it('every truncation of a valid file is refused with a clear error', () => {
    for (let cut = 0; cut < good.length; cut++) {
      expectError(() => parseSafetensors(good.subarray(0, cut)), /truncated|runs past the end|out of range|cover only|not valid|does not start|too small/);
    }
    expect(() => parseSafetensors(good)).not.toThrow();
  });

  it('a header length larger than the file', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, good.length, true);
    expectError(() => parseSafetensors(bad), /header length \d+ bytes runs past the end of the file/);
  });

  it('an absurd header length (beyond 100 MB, or 2^64 − 1)', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    expectError(() => parseSafetensors(bad), /larger than the 100 MB limit/);
    new DataView(bad.buffer).setBigUint64(0, 200_000_000n, true);
    expectError(() => parseSafetensors(bad), /larger than the 100 MB limit/);
  });

  it('a header length that is too small or points into the middle of the JSON', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(0, 10n, true);
    expectError(() => parseSafetensors(bad), /not valid JSON/);
    new DataView(bad.buffer).setBigUint64(0, 0n, true);
    expectError(() => parseSafetensors(bad), /too small/);
  });

  it('invalid JSON, invalid UTF-8, a non-object header', () => {
    expectError(() => parseSafetensors(handFile(null, 0, { rawHeader: '{"x": {"dtype": "F32",' })), /not valid JSON/);
    expectError(() => parseSafetensors(handFile(null, 0, { rawHeader: '[1, 2]' })), /does not start with '\{'/);
    const utf = handFile(null, 0, { rawHeader: '{"ab": 1}' });
    utf[10] = 0xff;
    expectError(() => parseSafetensors(utf), /not valid UTF-8/);
    expectError(() => parseSafetensors(handFile(null, 0, { rawHeader: '{"x": 3}' })), /tensor 'x': header entry is not an object/);
  });

  it('unknown and unsupported dtypes', () => {
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, 16)), /tensor 'x': unknown dtype "F128"/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1)), /dtype F8_E4M3 is not supported/);
    expectError(() => parseSafetensors(handFile({ x: { shape: [1], data_offsets: [0, 4] } }, 4)), /missing or non-string dtype/);
  });

  it('bad shapes and offsets', () => {
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)), /shape must be an array of non-negative integers/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4)), /shape must be/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4)), /data_offsets must be two non-negative integers/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4)), /end before they begin/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4)), /span 4 bytes but shape \[2\] of F32 needs 8/);
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [2 ** 40, 2 ** 20], data_offsets: [0, 4] } }, 4)), /too large/);
  });

  it('offsets that lie: out of range, overlapping, gaps, trailing bytes', () => {
    expectError(() => parseSafetensors(handFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4)), /out of range: the data buffer has 4 bytes/);
    expectError(
      () => parseSafetensors(handFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12)),
      /tensor 'b': data_offsets \[4, 12\] overlap tensor 'a'/,
    );
    expectError(
      () => parseSafetensors(handFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12)),
      /bytes \[4, 8\) of the data buffer belong to no tensor/,
    );
    expectError(() => parseSafetensors(handFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 9)), /has 9 bytes but the tensors cover only 4/);
    // A duplicated name leaves a gap (JSON keeps the last entry), which is refused.
    expectError(
      () => parseSafetensors(handFile(null, 8, { rawHeader: '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' })),
      /belong to no tensor.*duplicate tensor name/,
    );
  });

  it('bad metadata', () => {
    expectError(() => parseSafetensors(handFile({ __metadata__: { a: 1 } })), /__metadata__ value for 'a' must be a string/);
    expectError(() => parseSafetensors(handFile({ __metadata__: ['x'] })), /__metadata__ must be an object/);
  });

  it('I64 values outside int32 name the tensor and index; F16/BF16/I64 convert', () => {
    const data = new Uint8Array(24);
    const dv = new DataView(data.buffer);
    dv.setBigInt64(0, 5n, true);
    dv.setBigInt64(8, -(2n ** 31n), true);
    dv.setBigInt64(16, 2n ** 31n, true);
    expectError(() => parseSafetensors(handFile({ big: { dtype: 'I64', shape: [3], data_offsets: [0, 24] } }, data)), /tensor 'big': I64 value 2147483648 at flat index 2 does not fit in int32/);
    const ok = parseSafetensors(handFile({ small: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data.subarray(0, 16)));
    expect(Array.from(ok.tensors.small!.data)).toEqual([5, -(2 ** 31)]);
    const h = new Uint8Array(8);
    const hv = new DataView(h.buffer);
    [0x3c00, 0xc000, 0x7c00, 0x0001].forEach((v, i) => hv.setUint16(2 * i, v, true));
    expect(Array.from(parseSafetensors(handFile({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, h)).tensors.h!.data)).toEqual([1, -2, Infinity, 2 ** -24]);
    // BF16 is the top half of a float32: 0x3c00 → 0x3c000000 = 2^-7, 0x7c00 → 2^121, 0x0001 → subnormal 2^-133.
    expect(Array.from(parseSafetensors(handFile({ h: { dtype: 'BF16', shape: [4], data_offsets: [0, 8] } }, h)).tensors.h!.data)).toEqual([2 ** -7, -2, 2 ** 121, 2 ** -133]);
  });

  it('refuses random garbage without crashing', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 300; trial++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
      try {
        parseSafetensors(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
      }
    }
  });
});

describe('safetensors from browser-style sources', () => {
  it('readSafetensors takes bytes, an ArrayBuffer, a Blob and a fetch Response alike', async () => {
    const bytes = await encodeSafetensors({ w: fromTypedArray(Float32Array.from([1, 2, 3]), [3], 'float32') }, { k: 'v' });
    const copy = () => bytes.slice().buffer;
    for (const src of [bytes, copy(), new Blob([copy()]), new Response(copy()), new DataView(copy())]) {
      const back = await readSafetensors(src);
      expect(Array.from(back.tensors.w!.dataSync())).toEqual([1, 2, 3]);
      expect(back.metadata).toEqual({ k: 'v' });
    }
    await expect(readSafetensors(new Response('missing', { status: 404, statusText: 'Not Found' }))).rejects.toThrow(/readBytes: the response for '' has status 404 Not Found/);
    await expect(readSafetensors('model.safetensors' as unknown as Blob)).rejects.toThrow(/readBytes: expected a Uint8Array, ArrayBuffer, typed array, Blob\/File or Response, got \[object String\]/);
  });
});

describe('safetensors files on disk', () => {
  it('saves atomically and loads back', async () => {
    const path = join(tmp, 'model.safetensors');
    const w = fromTypedArray(Float32Array.from([1, 2, 3, 4]), [2, 2], 'float32');
    await saveSafetensors(path, { w }, { epoch: '3' });
    await saveSafetensors(path, { w, extra: fromTypedArray(Int32Array.from([9]), [1], 'int32') });
    const back = await loadSafetensors(path);
    expect(Object.keys(back.tensors).sort()).toEqual(['extra', 'w']);
    expect(back.metadata).toEqual({});
    expect(Array.from(back.tensors.w!.dataSync())).toEqual([1, 2, 3, 4]);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failed save leaves the old file untouched and no temp file behind', async () => {
    const path = join(tmp, 'keep.safetensors');
    writeFileSync(path, 'old contents');
    await expect(saveSafetensors(path, { bad: { dtype: 'float32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(SafetensorsError);
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    // Renaming onto a directory fails after the temp file was written: it must be cleaned up.
    const dirTarget = join(tmp, 'a-directory');
    mkdirSync(dirTarget);
    await expect(writeFileAtomic(dirTarget, new Uint8Array([1, 2, 3]))).rejects.toThrow();
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('loadSafetensors reports a truncated file on disk', async () => {
    const path = join(tmp, 'trunc.safetensors');
    const bytes = serializeSafetensors({ x: { dtype: 'float32', shape: [4], data: new Float32Array(4) } });
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    await expect(loadSafetensors(path)).rejects.toThrow(/out of range: the data buffer has 13 bytes/);
  });
});
