/**
 * Antialiased resizing exactly as PIL's `Image.resize` does it for 8-bit images (the
 * resample PyTorch's image pipelines use): separable convolution with the filter scaled
 * by the reduction factor (so downscaling averages instead of aliasing), coefficients in
 * 22-bit fixed point, horizontal pass first with an 8-bit intermediate. Matching PIL
 * byte for byte means a model trained here sees what timm/torchvision would feed it.
 */
import { checkByteImage, cropByteImage, type ByteImage } from './byte-image.js';

/** Resampling filters: PIL's BICUBIC (a = -0.5, support 2) and BILINEAR (triangle, support 1). */
export type ResizeFilter = 'bicubic' | 'bilinear';

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function bilinear(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

const FILTERS: Record<ResizeFilter, { fn: (x: number) => number; support: number }> = {
  bicubic: { fn: bicubic, support: 2 },
  bilinear: { fn: bilinear, support: 1 },
};

/** PIL's precompute_coeffs + normalize_coeffs_8bpc: per output index, first input index, count and fixed-point weights. */
function coeffs(inSize: number, outSize: number, filter: ResizeFilter): { ksize: number; bounds: Int32Array; kk: Int32Array } {
  const f = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = f.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // C's (int) truncates toward zero; center - support + 0.5 may be negative.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = f.fn((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const clip8 = (ss: number): number => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/**
 * Resizes `img` to `width x height` (PIL `img.resize((width, height), BICUBIC)`, or
 * bilinear). With `box` (`[left, top, w, h]`, integers) it resizes that crop instead:
 * the same as PIL's `img.crop(box).resize(...)`, which torchvision's resized crop does.
 */
export function resizeByteImage(img: ByteImage, width: number, height: number, opts: { filter?: ResizeFilter; box?: readonly [number, number, number, number] } = {}): ByteImage {
  checkByteImage(img, 'resize');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new RangeError(`resize: the output size must be positive integers, got ${width}x${height}`);
  const src = opts.box ? cropByteImage(img, ...opts.box) : img;
  const filter = opts.filter ?? 'bicubic';
  if (!(filter in FILTERS)) throw new RangeError(`resize: unknown filter '${String(filter)}' (have bicubic, bilinear)`);
  const c = src.channels;
  const needH = width !== src.width;
  const needV = height !== src.height;
  const v = coeffs(src.height, height, filter);
  // Only the rows the vertical pass reads go through the horizontal pass (as PIL).
  const yFirst = needV ? v.bounds[0]! : 0;
  const yLast = needV ? v.bounds[height * 2 - 2]! + v.bounds[height * 2 - 1]! : src.height;
  let cur: ByteImage = src;
  if (needH) {
    const h = coeffs(src.width, width, filter);
    const rows = yLast - yFirst;
    const out = new Uint8Array(width * rows * c);
    const inW = src.width;
    for (let y = 0; y < rows; y++) {
      const rowOff = (y + yFirst) * inW * c;
      for (let xx = 0; xx < width; xx++) {
        const xmin = h.bounds[xx * 2]!;
        const xmax = h.bounds[xx * 2 + 1]!;
        const kOff = xx * h.ksize;
        for (let ch = 0; ch < c; ch++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++) ss += src.data[rowOff + (x + xmin) * c + ch]! * h.kk[kOff + x]!;
          out[(y * width + xx) * c + ch] = clip8(ss);
        }
      }
    }
    cur = { data: out, width, height: rows, channels: c };
  } else if (needV && (yFirst !== 0 || yLast !== src.height)) {
    cur = cropByteImage(src, 0, yFirst, src.width, yLast - yFirst);
  }
  if (!needV) return cur === img ? { ...img, data: img.data.slice() } : cur;
  const out = new Uint8Array(width * height * c);
  const rowLen = width * c;
  for (let yy = 0; yy < height; yy++) {
    const ymin = v.bounds[yy * 2]! - yFirst;
    const ymax = v.bounds[yy * 2 + 1]!;
    const kOff = yy * v.ksize;
    for (let i = 0; i < rowLen; i++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < ymax; y++) ss += cur.data[(y + ymin) * rowLen + i]! * v.kk[kOff + y]!;
      out[yy * rowLen + i] = clip8(ss);
    }
  }
  return { data: out, width, height, channels: c };
}

/**
 * torchvision's `Resize(size)` with an int: the shorter side becomes `size`, the longer
 * keeps the aspect ratio (`int(size * long / short)`, truncated as torchvision does).
 */
export function resizeShorterSide(img: ByteImage, size: number, filter: ResizeFilter = 'bicubic'): ByteImage {
  const { width: w, height: h } = img;
  if (w <= h) return resizeByteImage(img, size, Math.trunc((size * h) / w), { filter });
  return resizeByteImage(img, Math.trunc((size * w) / h), size, { filter });
}
