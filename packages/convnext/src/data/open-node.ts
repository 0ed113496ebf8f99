/**
 * Opening the datasets the CLI and the training engine know by name, from their files
 * (Node only; exported from `@tsgrad/convnext/node`).
 */
import { Cifar100Dataset, Cifar10Dataset } from './cifar.js';
import type { ImageDataset } from './dataset.js';
import { DATASET_NAMES, datasetImageSize, type DatasetSpec, type DatasetSplits } from './datasets.js';
import { MnistDataset } from './mnist.js';
import { ShapesDataset } from './shapes.js';

/** Opens the train and validation (test) splits of a dataset by name, with clear errors for missing files. */
export function openDatasets(s: DatasetSpec): DatasetSplits {
  return { train: openDataset(s, 'train'), val: openDataset(s, 'val') };
}

/** Opens one split of a dataset by name (`val` is the test split of the file datasets). */
export function openDataset(s: DatasetSpec, split: 'train' | 'val'): ImageDataset {
  const inChans = s.inChans ?? null;
  const grey = s.dataset === 'mnist' || s.dataset === 'fashion-mnist';
  if (inChans !== null && !(grey ? inChans === 1 || inChans === 3 : inChans === 3)) {
    throw new RangeError(`${s.dataset}: --in-chans ${inChans} is not possible: ${grey ? 'grey images take 1 (as they are) or 3 (repeated)' : 'its images have 3 channels'}`);
  }
  const fileSplit = split === 'train' ? 'train' : 'test';
  switch (s.dataset) {
    case 'shapes':
      return new ShapesDataset({ length: split === 'train' ? s.trainSize : s.valSize, size: datasetImageSize('shapes', s.imageSize), seed: s.seed * 2 + (split === 'train' ? 1 : 2) });
    case 'mnist':
    case 'fashion-mnist':
      return new MnistDataset({ kind: s.dataset, split: fileSplit, dataDir: s.dataDir, inChans: (inChans ?? 1) as 1 | 3, ...(s.imageSize != null ? { imageSize: s.imageSize } : {}) });
    case 'cifar10':
    case 'cifar100': {
      if (s.imageSize != null && s.imageSize !== 32) throw new RangeError(`${s.dataset}: --image-size ${s.imageSize} is not supported: CIFAR images are used at their stored 32x32`);
      if (!s.dataDir) {
        const folder = s.dataset === 'cifar10' ? 'cifar-10-batches-bin' : 'cifar-100-binary';
        throw new Error(`${s.dataset}: needs --data-dir, the extracted ${folder} folder (the binary version from https://www.cs.toronto.edu/~kriz/cifar.html)`);
      }
      if (s.dataset === 'cifar10') return new Cifar10Dataset(s.dataDir, fileSplit);
      return new Cifar100Dataset(s.dataDir, fileSplit, { labels: s.cifar100Labels ?? 'fine' });
    }
    case 'folder':
      // Image folders decode files with their own options: openDatasetNode (data/node/open-datasets-node.ts).
      throw new Error(`folder: image folders are opened by openDatasetNode or openImageFolder (data/node), not by openDataset`);
    default:
      throw new RangeError(`unknown dataset '${String(s.dataset)}' (have ${DATASET_NAMES.join(', ')})`);
  }
}
