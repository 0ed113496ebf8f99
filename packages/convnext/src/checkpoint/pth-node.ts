/** `.pth` files read from disk (Node only; exported from `@tsgrad/convnext/node`). */
import { promises as fs } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { Backend, Tensor } from '@tsgrad/core';
import { decodePthStateDict, type PthStateDictOptions } from './pth.js';

/** Reads a `.pth` file's state dict from disk as tensors (Node only; deflated entries supported). */
export async function loadPthFile(
  path: string,
  options: PthStateDictOptions & { backend?: Backend } = {},
): Promise<Record<string, Tensor>> {
  const buf = await fs.readFile(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return decodePthStateDict(bytes, { inflateRaw: (d) => new Uint8Array(inflateRawSync(d)), ...options });
}
