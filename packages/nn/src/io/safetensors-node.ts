/**
 * safetensors files on disk (Node only; exported from `@tsgrad/nn/node`): reading a path and
 * atomic writes. The format itself is in safetensors.ts, which runs in browsers too.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Tensor } from '@tsgrad/core';
import { decodeSafetensors, encodeSafetensors, type SafetensorsContents, type SafetensorsInput, type SafetensorsReadOptions } from './safetensors.js';

/** Reads a safetensors file from disk (Node only; in browsers use `readSafetensors` with bytes, a `Blob` or a `Response`). */
export async function loadSafetensors(path: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsContents<Tensor>> {
  const buf = await fs.readFile(path);
  return decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), options);
}

/**
 * Writes a safetensors file atomically (Node only): the bytes go to a temporary file in the
 * same directory, which is fsync'ed and then renamed over `path`; on any failure the
 * temporary file is removed and `path` is left as it was. In browsers, `encodeSafetensors`
 * gives the bytes to download.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, SafetensorsInput> | Map<string, SafetensorsInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = await encodeSafetensors(tensors, metadata);
  await writeFileAtomic(path, bytes);
}

/** Writes `bytes` to `path` via a temporary file + fsync + rename (Node only). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  let renamed = false;
  try {
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
    renamed = true;
    // Persist the rename itself where the platform allows fsync on a directory.
    try {
      const dh = await fs.open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      // Directory fsync is not supported everywhere (e.g. Windows); the data is already synced.
    }
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true });
  }
}
