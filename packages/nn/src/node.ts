/**
 * @tsgrad/nn/node: the Node-only part of @tsgrad/nn — safetensors files read from and written
 * to paths (atomically). Everything else, including the byte-level `encodeSafetensors` /
 * `decodeSafetensors` / `readSafetensors`, is in the main entry, which runs in browsers.
 *
 * @packageDocumentation
 */
export { loadSafetensors, saveSafetensors, writeFileAtomic } from './io/safetensors-node.js';
