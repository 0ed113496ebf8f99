/** IDX files read from disk (Node only; exported from `@tsgrad/convnext/node`). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseIdx, type IdxArray } from './idx.js';

/** zlib's gunzip with an output limit, in the shape {@link parseIdx}'s `gunzip` option takes. */
export function nodeGunzip(bytes: Uint8Array, maxOutputLength: number): Uint8Array {
  return new Uint8Array(gunzipSync(bytes, { maxOutputLength }));
}

/** Reads and parses an IDX file (gzipped or not). */
export function readIdx(path: string): IdxArray {
  return parseIdx(new Uint8Array(readFileSync(path)), `'${path}'`, { gunzip: nodeGunzip });
}
