/**
 * The training data the page chose, as an `ImageDataset` with the normalisation and eval
 * crop a model trained on it uses: the built-in shapes, an MNIST / Fashion-MNIST IDX pair
 * (gzipped or not; `decodeIdx` inflates with `DecompressionStream`), or a folder of images
 * (one sub-folder per class, decoded here with `createImageBitmap`).
 */
import {
  FASHION_MNIST_CLASSES,
  IdxImageDataset,
  ImageFolderDataset,
  MNIST_CLASSES,
  ShapesDataset,
  datasetNormalization,
  decodeIdx,
  type ByteImage,
  type DatasetName,
  type ImageDataset,
  type Normalization,
} from '@tsgrad/convnext';
import { decodePicture } from '../picture.js';
import type { DataSource, FolderFile } from '../protocol.js';

/** A dataset ready to train on, and how its images are prepared for classification. */
export interface TrainingData {
  readonly dataset: ImageDataset;
  /** The dataset's name in the normalisation table. */
  readonly statsName: DatasetName;
  readonly normalize: Normalization;
  /** The share of the picture the eval crop keeps (1: the whole picture, resized). */
  readonly cropPct: number;
  /** A line for the page. */
  readonly description: string;
}

/** File name endings of the pictures a folder may hold. */
const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp)$/i;

/** Opens the data the page chose; `progress` reports decoding of folders. */
export async function openTrainingData(source: DataSource, seed: number, progress: (text: string) => void): Promise<TrainingData> {
  switch (source.kind) {
    case 'shapes': {
      const dataset = new ShapesDataset({ length: source.length, size: source.size, seed });
      return { dataset, statsName: 'shapes', normalize: datasetNormalization('shapes', 3), cropPct: 1, description: `shapes: ${source.length} images of ${source.size}x${source.size}, 10 classes` };
    }
    case 'idx':
      return openIdx(source.files, source.classes);
    case 'folder':
      return openFolder(source.files, source.size, progress);
  }
}

async function openIdx(files: readonly [File, File], kind: 'fashion-mnist' | 'mnist'): Promise<TrainingData> {
  const [a, b] = await Promise.all(files.map((f) => decodeIdx(f, f.name)));
  // Images are [count, rows, cols], labels [count]: whichever way round they were dropped.
  const [images, labels, names] = a!.dims.length === 1 ? [b!, a!, [files[1].name, files[0].name]] : [a!, b!, [files[0].name, files[1].name]];
  const classes = kind === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
  const dataset = new IdxImageDataset(images, labels, { classes, name: kind, inChans: 1, files: { images: names[0]!, labels: names[1]! } });
  const [, h, w] = dataset.shape;
  return { dataset, statsName: kind, normalize: datasetNormalization(kind, 1), cropPct: 1, description: `${kind}: ${dataset.length} images of ${h}x${w} from ${names[0]}` };
}

async function openFolder(files: readonly FolderFile[], size: number, progress: (text: string) => void): Promise<TrainingData> {
  // The class is the folder a picture sits in (`root/cat/1.jpg` → cat), as torchvision's ImageFolder.
  const pictures = files.filter((f) => IMAGE_FILE.test(f.path) && f.path.split('/').length >= 2);
  if (pictures.length === 0) throw new Error('the folder holds no images in sub-folders; put each class in its own sub-folder (cat/1.jpg, dog/2.png, ...)');
  const classOf = (p: string): string => p.split('/').slice(-2, -1)[0]!;
  const classes = [...new Set(pictures.map((f) => classOf(f.path)))].sort();
  if (classes.length < 2) throw new Error(`the folder has one class ('${classes[0]}'); it needs at least two sub-folders of images`);
  const decoded = new Map<string, ByteImage>();
  for (const [i, f] of pictures.entries()) {
    if (i % 16 === 0) progress(`decoding images: ${i} / ${pictures.length}`);
    const p = await decodePicture(f.file, f.path, 2 * size);
    decoded.set(f.path, { ...p, channels: 3 });
  }
  const dataset = new ImageFolderDataset({
    name: 'folder',
    entries: pictures.map((f) => ({ file: f.path, label: classes.indexOf(classOf(f.path)) })),
    classes,
    imageSize: size,
    decode: (file) => decoded.get(file)!,
  });
  return { dataset, statsName: 'folder', normalize: datasetNormalization('folder', 3), cropPct: 0.875, description: `folder: ${pictures.length} images, ${classes.length} classes (${classes.slice(0, 5).join(', ')}${classes.length > 5 ? ', ...' : ''}), ${size}x${size}` };
}
