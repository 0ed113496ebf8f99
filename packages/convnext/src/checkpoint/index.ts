/**
 * Checkpoint import for ConvNeXt: `torch.save` (.pth) files read with our own zip reader
 * and restricted unpickler, and the mapping between official and timm key names.
 *
 * @module
 */
export { CheckpointError } from './errors.js';
export { readZip, crc32, looksLikeZip, type ZipArchive, type ZipEntry, type ZipReadOptions } from './zip.js';
export { unpickle, opcodeName, PyDict, PyGlobal, PyObject, type UnpickleOptions } from './pickle.js';
export {
  readPth,
  findStateDict,
  parsePthStateDict,
  decodePthStateDict,
  TorchTensorRef,
  type TorchDType,
  type TorchStorageRef,
  type CheckpointTensor,
  type PthCheckpoint,
  type PthReadOptions,
  type PthStateDictOptions,
} from './pth.js';
export {
  officialToTimmKey,
  timmToOfficialKey,
  detectConvNeXtNaming,
  convertConvNeXtStateDict,
  toOfficialConvNeXtStateDict,
  type ConvNeXtNaming,
  type ConvertOptions,
  type Shaped,
} from './timm.js';
