/**
 * A small, pure ZIP reader (central directory, stored entries, zip64) for `torch.save`
 * archives. Deflated entries are supported only when an `inflateRaw` function is passed
 * (the Node file helpers pass `node:zlib`'s); `torch.save` writes stored entries.
 *
 * An entry never inflates past the uncompressed size its central directory declares (the
 * decompressor is given that size as its output limit), and callers can refuse a declared
 * size before anything is inflated (see {@link ZipArchive.read}), so a small "zip bomb"
 * costs bounded time and memory.
 *
 * @module
 */
import { CheckpointError } from './errors.js';

/** One file inside a ZIP archive. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** Offset of the entry's local file header. */
  localHeaderOffset: number;
}

/** Options for {@link readZip}. */
export interface ZipReadOptions {
  /** Verify each entry's CRC-32 when it is read (default true). */
  verifyCrc?: boolean;
  /**
   * Decompressor for deflated (method 8) entries; without it they are refused. It must stop
   * (throw) once the output would exceed `maxOutputLength`, the entry's declared size, e.g.
   * `(d, max) => zlib.inflateRawSync(d, { maxOutputLength: Math.max(1, max) })`.
   */
  inflateRaw?: (data: Uint8Array, maxOutputLength: number) => Uint8Array;
}

/** A parsed ZIP archive: entries by name, readable on demand. */
export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /**
   * The entry's uncompressed bytes (a view into the archive for stored entries). Throws if
   * absent, if it declares more than `maxBytes` (checked before inflating), or if it inflates
   * past its declared size.
   */
  read(name: string, maxBytes?: number): Uint8Array;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function fail(message: string): never {
  throw new CheckpointError(`zip: ${message}`);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as ZIP uses). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u64(dv: DataView, off: number, what: string): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1fffff) fail(`${what} ${hi} * 2^32 + ${lo} is too large`);
  return hi * 2 ** 32 + lo;
}

/** True when the bytes start like a ZIP local file header or an empty archive. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/**
 * Parses a ZIP archive's central directory. Throws {@link CheckpointError} for a file with
 * no end-of-central-directory record (not a zip, or truncated), records that point outside
 * the file, multi-disk archives, and malformed entries.
 */
export function readZip(bytes: Uint8Array, options: ZipReadOptions = {}): ZipArchive {
  const verifyCrc = options.verifyCrc ?? true;
  const len = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (len < 22) fail(`file is too short to be a zip archive (${len} bytes; truncated or not a zip)`);
  // The EOCD record is the last 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let p = len - 22; p >= Math.max(0, len - 22 - 0xffff); p--) {
    if (dv.getUint32(p, true) === SIG_EOCD && p + 22 + dv.getUint16(p + 20, true) === len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record found: the file is truncated or not a zip archive');
  const disk = dv.getUint16(eocd + 4, true);
  const cdDisk = dv.getUint16(eocd + 6, true);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || (eocd >= 20 && dv.getUint32(eocd - 20, true) === SIG_ZIP64_LOCATOR)) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) fail('zip64 end-of-central-directory locator missing');
    const z64 = u64(dv, loc + 8, 'zip64 record offset');
    if (z64 + 56 > loc) fail(`zip64 end-of-central-directory record offset ${z64} is out of range`);
    if (dv.getUint32(z64, true) !== SIG_ZIP64_EOCD) fail(`no zip64 end-of-central-directory record at offset ${z64}`);
    count = u64(dv, z64 + 32, 'entry count');
    cdSize = u64(dv, z64 + 40, 'central directory size');
    cdOffset = u64(dv, z64 + 48, 'central directory offset');
  } else if (disk !== 0 || cdDisk !== 0) {
    fail('multi-disk zip archives are not supported');
  }
  if (cdOffset + cdSize > eocd) fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) lies outside the file (truncated or corrupt)`);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8');
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end) fail(`central directory ends after ${i} of ${count} entries`);
    if (dv.getUint32(p, true) !== SIG_CENTRAL) fail(`bad central directory entry signature at offset ${p}`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressedSize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end) fail(`central directory entry ${i} runs past the directory's end`);
    if (flags & 1) fail('encrypted zip entries are not supported');
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: the fields that are 0xffffffff follow in a fixed order.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = dv.getUint16(q, true);
      const size = dv.getUint16(q + 2, true);
      if (q + 4 + size > extraEnd) fail(`entry '${name}': extra field runs past its end`);
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > q + 4 + size) fail(`entry '${name}': zip64 extra field too short for ${what}`);
          const v = u64(dv, r, what);
          r += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
      }
      q += 4 + size;
    }
    if (method !== 0 && method !== 8) fail(`entry '${name}': compression method ${method} is not supported (only stored and deflate)`);
    if (method === 0 && compressedSize !== uncompressedSize) fail(`entry '${name}': stored entry with compressed size ${compressedSize} ≠ uncompressed size ${uncompressedSize}`);
    if (localHeaderOffset + 30 > cdOffset) fail(`entry '${name}': local header offset ${localHeaderOffset} is out of range`);
    if (entries.has(name)) fail(`duplicate entry '${name}'`);
    entries.set(name, { name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset });
    p = next;
  }
  const cache = new Map<string, Uint8Array>();
  return {
    entries,
    read(name: string, maxBytes?: number): Uint8Array {
      const hit = cache.get(name);
      if (hit) return hit;
      const e = entries.get(name);
      if (!e) fail(`entry '${name}' is missing from the archive`);
      if (maxBytes !== undefined && e.uncompressedSize > maxBytes) {
        fail(`entry '${name}' declares ${e.uncompressedSize} bytes, more than the limit of ${maxBytes} bytes for it (corrupt or hostile file)`);
      }
      const h = e.localHeaderOffset;
      if (dv.getUint32(h, true) !== SIG_LOCAL) fail(`entry '${name}': no local file header at offset ${h}`);
      const start = h + 30 + dv.getUint16(h + 26, true) + dv.getUint16(h + 28, true);
      if (start + e.compressedSize > cdOffset) fail(`entry '${name}': data [${start}, ${start + e.compressedSize}) runs past the file data (truncated or corrupt)`);
      let data = bytes.subarray(start, start + e.compressedSize);
      if (e.method === 8) {
        if (!options.inflateRaw) fail(`entry '${name}' is deflate-compressed and no decompressor was given`);
        const tooBig = (): never => fail(`entry '${name}' inflates to more than its declared ${e.uncompressedSize} bytes (corrupt, or a decompression bomb)`);
        try {
          data = options.inflateRaw(data, e.uncompressedSize);
        } catch (err) {
          // node:zlib's error when maxOutputLength is reached.
          if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') tooBig();
          fail(`entry '${name}': cannot inflate: ${(err as Error).message}`);
        }
        if (data.length > e.uncompressedSize) tooBig();
        if (data.length !== e.uncompressedSize) fail(`entry '${name}': inflated to ${data.length} bytes, expected ${e.uncompressedSize}`);
      }
      if (verifyCrc) {
        const c = crc32(data);
        if (c !== e.crc32) fail(`entry '${name}': CRC-32 mismatch (stored ${e.crc32.toString(16)}, computed ${c.toString(16)}): the file is corrupt`);
      }
      cache.set(name, data);
      return data;
    },
  };
}
