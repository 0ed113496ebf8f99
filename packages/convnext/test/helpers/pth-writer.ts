/**
 * Writes float32 state dicts in the layout `torch.save` uses (a zip archive of
 * `archive/data.pkl`, a protocol-2 pickle that rebuilds each tensor with
 * `torch._utils._rebuild_tensor_v2` from a persistent storage id, and one
 * `archive/data/<key>` entry per storage). Tests use it to make checkpoint files of any
 * size without PyTorch, e.g. a stand-in for an official release.
 */
import { deflateRawSync } from 'node:zlib';
import { contiguousStrides } from '@tsgrad/core';
import { crc32 } from '../../src/checkpoint/zip.js';

const enc = new TextEncoder();

/** Protocol-2 pickle opcodes the writer emits. */
class Pickler {
  private readonly parts: number[] = [];
  byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  str(s: string): this {
    const b = enc.encode(s);
    this.byte(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24); // BINUNICODE
    for (const x of b) this.parts.push(x);
    return this;
  }
  int(n: number): this {
    return this.byte(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff); // BININT (int32)
  }
  global(module: string, name: string): this {
    this.byte(0x63); // GLOBAL
    for (const x of enc.encode(`${module}\n${name}\n`)) this.parts.push(x);
    return this;
  }
  tuple(items: readonly number[]): this {
    this.byte(0x28); // MARK
    for (const v of items) this.int(v);
    return this.byte(0x74); // TUPLE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A float32 tensor to write: its shape and row-major values. */
export interface PthTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The pickle of `{wrapKey: {name: tensor, ...}}` (or of the bare dict without `wrapKey`). */
function pickleStateDict(names: readonly string[], tensors: Record<string, PthTensor>, wrapKey?: string): Uint8Array {
  const p = new Pickler().byte(0x80, 0x02); // PROTO 2
  if (wrapKey !== undefined) p.byte(0x7d).str(wrapKey); // EMPTY_DICT, key
  p.byte(0x7d, 0x28); // EMPTY_DICT, MARK
  names.forEach((name, key) => {
    const t = tensors[name]!;
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').byte(0x28); // args MARK
    p.byte(0x28).str('storage').global('torch', 'FloatStorage').str(String(key)).str('cpu').int(t.data.length).byte(0x74, 0x51); // pid tuple, BINPERSID
    p.int(0).tuple(t.shape).tuple(contiguousStrides(t.shape)).byte(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').byte(0x29, 0x52); // OrderedDict() backward hooks
    p.byte(0x74, 0x52); // TUPLE, REDUCE
  });
  p.byte(0x75); // SETITEMS
  if (wrapKey !== undefined) p.byte(0x73); // SETITEM
  return p.byte(0x2e).bytes(); // STOP
}

/** One entry of {@link zipArchive}. */
export interface ZipEntryInput {
  name: string;
  data: Uint8Array;
  /** Deflate the entry. */
  deflate?: boolean;
  /** Uncompressed size to declare instead of the true one. */
  declared?: number;
}

/** A zip archive of the given entries (stored or deflated, sizes declared as asked). */
export function zipArchive(entries: readonly ZipEntryInput[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const size = e.declared ?? e.data.length;
    const crc = crc32(e.data);
    const lh = new DataView(new ArrayBuffer(30));
    lh.setUint32(0, 0x04034b50, true);
    lh.setUint16(4, 20, true);
    lh.setUint16(8, e.deflate ? 8 : 0, true);
    lh.setUint32(14, crc, true);
    lh.setUint32(18, body.length, true);
    lh.setUint32(22, size, true);
    lh.setUint16(26, name.length, true);
    chunks.push(new Uint8Array(lh.buffer), name, body);
    const ch = new DataView(new ArrayBuffer(46));
    ch.setUint32(0, 0x02014b50, true);
    ch.setUint16(4, 20, true);
    ch.setUint16(6, 20, true);
    ch.setUint16(10, e.deflate ? 8 : 0, true);
    ch.setUint32(16, crc, true);
    ch.setUint32(20, body.length, true);
    ch.setUint32(24, size, true);
    ch.setUint16(28, name.length, true);
    ch.setUint32(42, offset, true);
    central.push(new Uint8Array(ch.buffer), name);
    offset += 30 + name.length + body.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, entries.length, true);
  eocd.setUint16(10, entries.length, true);
  eocd.setUint32(12, cdSize, true);
  eocd.setUint32(16, offset, true);
  const parts = [...chunks, ...central, new Uint8Array(eocd.buffer)];
  const out = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}


/**
 * The bytes of a `torch.save` file holding `tensors` (float32), wrapped as
 * `{wrapKey: state_dict}` when `wrapKey` is given (the official ConvNeXt releases use `'model'`).
 */
export function encodePth(tensors: Record<string, PthTensor>, wrapKey?: string): Uint8Array {
  const names = Object.keys(tensors);
  const entries: [string, Uint8Array][] = [['archive/data.pkl', pickleStateDict(names, tensors, wrapKey)]];
  names.forEach((name, key) => {
    const d = tensors[name]!.data;
    entries.push([`archive/data/${key}`, new Uint8Array(d.buffer, d.byteOffset, d.byteLength)]);
  });
  entries.push(['archive/byteorder', enc.encode('little')], ['archive/version', enc.encode('3\n')]);
  return zipArchive(entries.map(([name, data]) => ({ name, data })));
}
