/** Opens any dataset by name in Node, image folders included (they decode files, so they live here). */
import { datasetImageSize, type DatasetSpec, type DatasetSplits } from '../datasets.js';
import { openDataset } from '../open-node.js';
import type { ImageDataset } from '../dataset.js';
import { openImageFolder } from './image-folder-node.js';

/** What {@link openDatasetsNode} needs: a {@link DatasetSpec} plus the image-folder options. */
export interface NodeDatasetSpec extends DatasetSpec {
  /** Image folder without train/ and val/: the fraction held out for validation (default 0.1). */
  readonly valFraction?: number;
  /** Image folder: memory for decoded images per split, in MiB (default 1024). */
  readonly cacheMb?: number;
}

/** The train and validation splits of a named dataset or an image folder (`dataset: 'folder'`, `dataDir` its root). */
export function openDatasetsNode(s: NodeDatasetSpec): DatasetSplits {
  if (s.dataset !== 'folder') return { train: openDataset(s, 'train'), val: openDataset(s, 'val') };
  if (!s.dataDir) throw new Error('folder: needs --data-dir, a folder of class folders (or with train/ and val/ inside)');
  if (s.inChans !== undefined && s.inChans !== null && s.inChans !== 3) throw new RangeError(`folder: --in-chans ${s.inChans} is not possible: images are decoded to RGB (3)`);
  const { train, val } = openImageFolder(s.dataDir, { imageSize: datasetImageSize('folder', s.imageSize), valFraction: s.valFraction ?? 0.1, seed: s.seed, cacheBytes: (s.cacheMb ?? 1024) * 2 ** 20 });
  return { train, val };
}

/** One split of a named dataset or an image folder. */
export function openDatasetNode(s: NodeDatasetSpec, split: 'train' | 'val'): ImageDataset {
  return s.dataset === 'folder' ? openDatasetsNode(s)[split] : openDataset(s, split);
}
