/**
 * The IDX file format of MNIST and Fashion-MNIST (LeCun's `train-images-idx3-ubyte` ...):
 * a 4-byte magic (two zero bytes, a type code, the number of dimensions), one big-endian
 * uint32 per dimension, then the values. Only unsigned bytes (type 0x08) are read, which is
 * what both datasets use. Files may be gzipped (`.gz`, detected by content, not by name):
 * {@link decodeIdx} inflates them anywhere (`DecompressionStream`); the synchronous
 * {@link parseIdx} needs a `gunzip` function for them (Node's `readIdx` in
 * `@tsgrad/convnext/node` passes zlib's).
 */
import { readBytes, type BytesSource } from '@tsgrad/nn';

/** A parsed IDX array: its dimensions and its bytes (row-major). */
export interface IdxArray {
  /** The dimensions from the header (`[count, rows, cols]` for images, `[count]` for labels). */
  readonly dims: readonly number[];
  /** The values, row-major (a view into the file's bytes). */
  readonly data: Uint8Array;
}

// The largest IDX file we accept after inflating: MNIST's train images are 47 MB; this leaves room
// for bigger IDX datasets (EMNIST, KMNIST) while a gzip bomb stops with an error instead of eating memory.
const MAX_INFLATED = 1 << 30;

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** The most bytes a gzipped file may inflate to (default 1 GiB). */
  readonly maxInflated?: number;
  /**
   * Inflates gzipped bytes synchronously, stopping past `maxOutputLength` bytes with an
   * error whose `code` is `ERR_BUFFER_TOO_LARGE` (Node's `zlib.gunzipSync` does exactly
   * that). Without it gzipped input is refused: use {@link decodeIdx}, which inflates itself.
   */
  readonly gunzip?: (bytes: Uint8Array, maxOutputLength: number) => Uint8Array;
}

/** True when `b` starts with the gzip magic bytes. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Parses IDX bytes (gzipped or not). `what` names the file in errors. Throws a clear error
 * for a bad magic, an unsupported type, or a size that does not match the header
 * (truncated downloads are the usual cause).
 */
export function parseIdx(bytes: Uint8Array, what: string, opts: ParseIdxOptions = {}): IdxArray {
  let b = bytes;
  if (isGzip(b)) {
    const max = opts.maxInflated ?? MAX_INFLATED;
    if (!opts.gunzip) throw new Error(`${what}: the data is gzipped; parseIdx needs a gunzip function for that (decodeIdx inflates by itself, in browsers too)`);
    try {
      b = opts.gunzip(b, max);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`${what}: the gzip data inflates to more than ${max} bytes, far more than an IDX dataset file; refusing it`);
      throw new Error(`${what}: the gzip data is truncated or corrupt (${(e as Error).message}); download the file again`);
    }
  }
  if (b.length < 4) throw new Error(`${what}: ${b.length} bytes is too short for an IDX file (it needs a 4-byte magic number); the file is truncated`);
  if (b[0] !== 0 || b[1] !== 0) {
    throw new Error(`${what}: not an IDX file (its magic number starts with 0x${hex(b[0]!)}${hex(b[1]!)}, IDX files start with 0x0000)`);
  }
  if (b[2] !== 0x08) throw new Error(`${what}: IDX value type 0x${hex(b[2]!)} is not supported; only unsigned bytes (0x08) are read`);
  const nd = b[3]!;
  if (nd < 1 || nd > 4) throw new Error(`${what}: an IDX file with ${nd} dimensions is not an image or label file (expected 1 to 4)`);
  const head = 4 + 4 * nd;
  if (b.length < head) throw new Error(`${what}: the file is truncated inside its header (${b.length} bytes, the header of a ${nd}-D IDX file has ${head})`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, d) => a * d, 1);
  if (b.length - head < count) {
    throw new Error(`${what}: truncated: the header declares dims [${dims.join(', ')}] (${count} values) but only ${b.length - head} follow; download the file again`);
  }
  if (b.length - head > count) {
    throw new Error(`${what}: ${b.length - head - count} bytes follow the ${count} values its header declares (dims [${dims.join(', ')}]); the file is corrupt or not IDX`);
  }
  return { dims, data: b.subarray(head) };
}

/**
 * Parses IDX data from bytes, a `Blob`/`File` (a file the user dropped) or a `fetch` response,
 * inflating gzipped data with `DecompressionStream` (browsers, Node 18+). `what` names the
 * data in errors. In Node, `readIdx(path)` from `@tsgrad/convnext/node` reads a file.
 */
export async function decodeIdx(source: BytesSource, what: string, opts: Omit<ParseIdxOptions, 'gunzip'> = {}): Promise<IdxArray> {
  const bytes = await readBytes(source);
  if (!isGzip(bytes)) return parseIdx(bytes, what, opts);
  const max = opts.maxInflated ?? MAX_INFLATED;
  const inflated = await gunzipStream(bytes, max, what);
  return parseIdx(inflated, what, opts);
}

/** Inflates gzip bytes with the web-standard DecompressionStream, refusing more than `max` bytes of output. */
async function gunzipStream(bytes: Uint8Array, max: number, what: string): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (format: 'gzip') => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new Error(`${what}: the data is gzipped and this engine has no DecompressionStream; decompress it first`);
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel();
        throw new Error(`${what}: the gzip data inflates to more than ${max} bytes, far more than an IDX dataset file; refusing it`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if ((e as Error).message.includes('refusing it')) throw e;
    throw new Error(`${what}: the gzip data is truncated or corrupt (${(e as Error).message}); download the file again`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Encodes bytes as an IDX file (for tests and for writing small datasets). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, d) => a * d, 1);
  if (count !== data.length) throw new RangeError(`encodeIdx: dims [${dims.join(', ')}] hold ${count} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 0x08, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
