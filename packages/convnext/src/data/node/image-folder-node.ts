/**
 * Node side of image folders: finds the images (`ROOT/train/<class>/*`, `ROOT/val/<class>/*`,
 * or `ROOT/<class>/*` split by a seeded draw) and decodes JPEG and PNG with pure-JS
 * libraries (jpeg-js, pngjs: no native binaries, see docs/training.md for the choice).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Generator } from '@tsgrad/core';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ByteImage } from '../byte-image.js';
import { ImageFolderDataset, type ImageFolderEntry } from '../image-folder.js';

/** File extensions read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** Pictures larger than this many megapixels are refused (a 100 MP RGBA decode needs 400 MB). */
const MAX_MEGAPIXELS = 100;

/**
 * Decodes a JPEG or PNG file to 8-bit RGB (grey is repeated, alpha dropped without
 * blending, as PIL's `convert('RGB')`; 16-bit PNG is scaled to 8 bits). Errors name the
 * file. Training's image folders and `predict` both read images through it.
 */
export function decodeImageFile(file: string): ByteImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the file (${(e as Error).message})`);
  }
  return decodeImageBytes(bytes, file);
}

/**
 * Decodes JPEG or PNG bytes (told apart by their signature, not the file name) to RGB;
 * `name` labels errors. Images over 100 megapixels are refused.
 */
export function decodeImageBytes(bytes: Uint8Array, name = 'image'): ByteImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${name}: not a JPEG or PNG image (it starts with bytes ${head || '(empty file)'}); supported: ${IMAGE_EXTENSIONS.join(', ')}`);
  }
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      [rgba, width, height] = [png.data, png.width, png.height];
      if (width * height > MAX_MEGAPIXELS * 1e6) throw new Error(`${width}x${height} is over ${MAX_MEGAPIXELS} megapixels`);
    } else {
      const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
      [rgba, width, height] = [jpg.data, jpg.width, jpg.height];
    }
  } catch (e) {
    throw new Error(`${name}: cannot decode the ${isPng ? 'PNG' : 'JPEG'} image: ${(e as Error).message}`);
  }
  if (!(width > 0 && height > 0) || rgba.length < width * height * 4) throw new Error(`${name}: cannot decode the ${isPng ? 'PNG' : 'JPEG'} image: it decoded to ${width}x${height} with ${rgba.length} bytes`);
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = rgba[p * 4]!;
    data[p * 3 + 1] = rgba[p * 4 + 1]!;
    data[p * 3 + 2] = rgba[p * 4 + 2]!;
  }
  return { data, width, height, channels: 3 };
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isImage = (f: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase());

/** The class folders of `dir` (sorted, as torchvision) and their image files (sorted). */
function scanClasses(dir: string): Map<string, string[]> {
  const names = readdirSync(dir).sort();
  const classes = names.filter((n) => !n.startsWith('.') && isDir(join(dir, n)));
  const loose = names.filter((n) => isImage(n) && !isDir(join(dir, n)));
  if (classes.length === 0) {
    throw new Error(`image folder '${dir}' has no class folders: put the images in one folder per class, '${dir}/<class>/*.jpg|png'${loose.length ? ` (found ${loose.length} images directly in it)` : ''}`);
  }
  if (loose.length) throw new Error(`image folder '${dir}': ${loose.length} images (e.g. '${loose[0]}') lie outside the class folders; move them into '${dir}/<class>/'`);
  const out = new Map<string, string[]>();
  for (const c of classes) {
    const all = readdirSync(join(dir, c)).filter((f) => !f.startsWith('.')).sort();
    const files = all.filter((f) => isImage(f) && !isDir(join(dir, c, f)));
    if (files.length === 0) {
      const other = all.length ? ` (it holds ${all.length} other files, e.g. '${all[0]}'; supported: ${IMAGE_EXTENSIONS.join(' ')})` : '';
      throw new Error(`image folder '${dir}': class folder '${c}' has no images${other}`);
    }
    out.set(c, files.map((f) => join(dir, c, f)));
  }
  return out;
}

/** Options of {@link openImageFolder}. */
export interface OpenImageFolderOptions {
  /** Side of the square images the model sees. */
  readonly imageSize: number;
  /** Without `train/` and `val/`: the fraction of each class held out for validation (default 0.1). */
  readonly valFraction?: number;
  /** Seed of that split (default 0). */
  readonly seed?: number;
  /** Shorter side images are reduced to before caching (default `2 * imageSize`). */
  readonly maxSide?: number;
  /** Memory for decoded images, per split (default 1 GiB). */
  readonly cacheBytes?: number;
}

/** The folder's layout: train/val entries and class names. */
export interface ImageFolderLayout {
  readonly classes: readonly string[];
  readonly train: readonly ImageFolderEntry[];
  readonly val: readonly ImageFolderEntry[];
  /** `split` when ROOT has train/ and val/, `seeded` when one folder was split. */
  readonly layout: 'split' | 'seeded';
}

/** Finds the images of an image folder and its split (throws a clear error for a missing, empty or inconsistent folder). */
export function scanImageFolder(root: string, opts: { valFraction?: number; seed?: number } = {}): ImageFolderLayout {
  if (!existsSync(root)) throw new Error(`image folder '${root}' does not exist`);
  if (!isDir(root)) throw new Error(`image folder '${root}' is not a folder`);
  const [trainDir, valDir] = [join(root, 'train'), join(root, 'val')];
  if (isDir(trainDir) || isDir(valDir)) {
    if (!isDir(trainDir)) throw new Error(`image folder '${root}' has val/ but no train/ folder`);
    if (!isDir(valDir)) throw new Error(`image folder '${root}' has train/ but no val/ folder (add val/<class>/..., or put the class folders directly in '${root}' for a seeded split)`);
    const tr = scanClasses(trainDir);
    const va = scanClasses(valDir);
    const classes = [...tr.keys()];
    const missing = classes.filter((c) => !va.has(c));
    const extra = [...va.keys()].filter((c) => !tr.has(c));
    if (missing.length || extra.length) {
      throw new Error(`image folder '${root}': train/ and val/ must have the same class folders${missing.length ? `; val/ lacks ${missing.map((c) => `'${c}'`).join(', ')}` : ''}${extra.length ? `; val/ has ${extra.map((c) => `'${c}'`).join(', ')} that train/ lacks` : ''}`);
    }
    const entries = (m: Map<string, string[]>) => classes.flatMap((c, label) => m.get(c)!.map((file) => ({ file, label })));
    return { classes, train: entries(tr), val: entries(va), layout: 'split' };
  }
  const frac = opts.valFraction ?? 0.1;
  if (!(frac > 0 && frac < 1)) throw new RangeError(`image folder: valFraction must be in (0, 1), got ${frac}`);
  const all = scanClasses(root);
  const classes = [...all.keys()];
  const train: ImageFolderEntry[] = [];
  const val: ImageFolderEntry[] = [];
  classes.forEach((c, label) => {
    const files = all.get(c)!;
    if (files.length < 2) throw new Error(`image folder '${root}': class folder '${c}' has ${files.length} image; a seeded train/validation split needs at least 2 per class`);
    // A seeded shuffle per class: the split depends only on the seed and the file names.
    const u = new Generator((opts.seed ?? 0) * 1009 + label + 1).uniform(files.length);
    const idx = files.map((_, i) => i).sort((a, b) => u[a]! - u[b]! || a - b);
    const nVal = Math.max(1, Math.round(files.length * frac));
    const valSet = new Set(idx.slice(0, nVal));
    files.forEach((file, i) => (valSet.has(i) ? val : train).push({ file, label }));
  });
  return { classes, train, val, layout: 'seeded' };
}

/**
 * Opens an image folder's train and validation splits (see {@link scanImageFolder}),
 * decoding lazily with {@link decodeImageFile} and caching decoded images in memory.
 */
export function openImageFolder(root: string, opts: OpenImageFolderOptions): { train: ImageFolderDataset; val: ImageFolderDataset; layout: ImageFolderLayout } {
  const layout = scanImageFolder(root, opts);
  const common = { classes: layout.classes, imageSize: opts.imageSize, decode: decodeImageFile, ...(opts.maxSide ? { maxSide: opts.maxSide } : {}), ...(opts.cacheBytes !== undefined ? { cacheBytes: opts.cacheBytes } : {}) };
  return {
    train: new ImageFolderDataset({ name: `${root} (train)`, entries: layout.train, ...common }),
    val: new ImageFolderDataset({ name: `${root} (val)`, entries: layout.val, ...common }),
    layout,
  };
}
