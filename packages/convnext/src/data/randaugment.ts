/**
 * RandAugment as timm implements it (`timm/data/auto_augment.py`), for the ConvNeXt
 * recipe's `rand-m9-mstd0.5-inc1`: per image, 2 ops drawn uniformly with replacement
 * from 15; each applied with probability 0.5 at a magnitude drawn from N(9, 0.5) clamped
 * to [0, 10]. Every op reproduces PIL 9's byte-level semantics (LUTs, histograms,
 * `Image.blend`'s float32 truncation, `Image.transform`'s bicubic affine sampling with a
 * fill colour), checked against PIL on fixed inputs by `scripts/gen_augment_fixtures.py`.
 */
import { checkByteImage, Rng, type ByteImage } from './byte-image.js';

/** The ops of timm's RandAugment (`_RAND_TRANSFORMS` and the `inc1` `_RAND_INCREASING_TRANSFORMS`). */
export type RandAugmentOpName =
  | 'AutoContrast'
  | 'Equalize'
  | 'Invert'
  | 'Rotate'
  | 'Posterize'
  | 'PosterizeIncreasing'
  | 'Solarize'
  | 'SolarizeIncreasing'
  | 'SolarizeAdd'
  | 'Color'
  | 'ColorIncreasing'
  | 'Contrast'
  | 'ContrastIncreasing'
  | 'Brightness'
  | 'BrightnessIncreasing'
  | 'Sharpness'
  | 'SharpnessIncreasing'
  | 'ShearX'
  | 'ShearY'
  | 'TranslateXRel'
  | 'TranslateYRel';

/** timm's `_RAND_TRANSFORMS` (`inc0`). */
export const RAND_TRANSFORMS: readonly RandAugmentOpName[] = ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'];
/** timm's `_RAND_INCREASING_TRANSFORMS` (`inc1`: every op gets stronger with the magnitude). */
export const RAND_INCREASING_TRANSFORMS: readonly RandAugmentOpName[] = ['AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd', 'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'];

/** A parsed RandAugment configuration (timm's config string fields). */
export interface RandAugmentConfig {
  /** Magnitude `m` on timm's 0-10 scale (default 10). */
  readonly magnitude: number;
  /** Ops per image `n` (default 2). */
  readonly numLayers: number;
  /** Probability of applying each chosen op `p` (default 0.5). */
  readonly prob: number;
  /** Std of the magnitude noise `mstd` (0: fixed; Infinity: uniform in [0, m], as timm for mstd > 100). */
  readonly magnitudeStd: number;
  /** Upper clamp of the sampled magnitude `mmax` (default 10). */
  readonly magnitudeMax: number;
  /** The op list (`inc1` picks the increasing variants). */
  readonly ops: readonly RandAugmentOpName[];
  /** Fill colour of the geometric ops, one byte per channel (timm: the dataset mean, `round(255 * mean)`). */
  readonly fill: readonly number[];
  /** Fraction of the image size the relative translations reach at magnitude 10 (timm: 0.45). */
  readonly translatePct: number;
}

/**
 * Parses a timm RandAugment string such as `rand-m9-mstd0.5-inc1`: sections `m` (int
 * magnitude), `n` (ops per image), `p` (op probability), `mstd`, `mmax`, `inc`. `fill`
 * is the dataset mean in [0, 1] per channel (converted as timm: `min(255, round(255 * x))`).
 * One deliberate difference: timm reads `inc0` as on (`bool('0')`); here `inc0` is off.
 */
export function parseRandAugment(spec: string, mean: readonly number[] = [0.485, 0.456, 0.406]): RandAugmentConfig {
  const parts = spec.split('-');
  if (parts[0] !== 'rand') throw new Error(`RandAugment: '${spec}' must start with 'rand' (e.g. rand-m9-mstd0.5-inc1)`);
  let magnitude = 10;
  let numLayers = 2;
  let prob = 0.5;
  let magnitudeStd = 0;
  let magnitudeMax = 10;
  let increasing = false;
  for (const sec of parts.slice(1)) {
    const m = /^([a-z]+)(\d.*)$/.exec(sec);
    if (!m) throw new Error(`RandAugment: cannot read section '${sec}' of '${spec}' (have m, n, p, mstd, mmax, inc followed by a number)`);
    const [, key, val] = m as unknown as [string, string, string];
    const n = Number(val);
    if (!Number.isFinite(n)) throw new Error(`RandAugment: section '${sec}' of '${spec}' needs a number`);
    if (key === 'm') magnitude = Math.trunc(n);
    else if (key === 'n') numLayers = Math.trunc(n);
    else if (key === 'p') prob = n;
    else if (key === 'mstd') magnitudeStd = n > 100 ? Infinity : n;
    else if (key === 'mmax') magnitudeMax = Math.trunc(n);
    else if (key === 'inc') increasing = n !== 0;
    else throw new Error(`RandAugment: unknown section '${sec}' in '${spec}' (have m, n, p, mstd, mmax, inc)`);
  }
  if (!(numLayers >= 0)) throw new RangeError(`RandAugment: n must be >= 0, got ${numLayers}`);
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`RandAugment: p must be in [0, 1], got ${prob}`);
  if (!(magnitudeStd >= 0)) throw new RangeError(`RandAugment: mstd must be >= 0, got ${magnitudeStd}`);
  const fill = mean.map((x) => Math.min(255, roundHalfEvenLocal(255 * x)));
  return { magnitude, numLayers, prob, magnitudeStd, magnitudeMax, ops: increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS, fill, translatePct: 0.45 };
}

function roundHalfEvenLocal(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Applies RandAugment to `img` (not modified), drawing every choice from `rng`. */
export function randAugment(img: ByteImage, cfg: RandAugmentConfig, rng: Rng): ByteImage {
  checkByteImage(img, 'RandAugment');
  if (cfg.fill.length !== img.channels) throw new RangeError(`RandAugment: fill has ${cfg.fill.length} values for a ${img.channels}-channel image`);
  let out = img;
  for (let l = 0; l < cfg.numLayers; l++) {
    const name = cfg.ops[Math.floor(rng.random() * cfg.ops.length)]!;
    out = randAugmentOp(out, name, cfg, rng);
  }
  return out;
}

/** timm's `AugmentOp.__call__`: the probability gate, the magnitude draw, the level-to-argument mapping, the op. */
export function randAugmentOp(img: ByteImage, name: RandAugmentOpName, cfg: RandAugmentConfig, rng: Rng): ByteImage {
  if (cfg.prob < 1 && rng.random() > cfg.prob) return img;
  let mag = cfg.magnitude;
  if (cfg.magnitudeStd === Infinity) mag = rng.uniform(0, mag);
  else if (cfg.magnitudeStd > 0) mag = rng.gauss(mag, cfg.magnitudeStd);
  mag = Math.max(0, Math.min(mag, cfg.magnitudeMax));
  const negate = (v: number) => (rng.random() > 0.5 ? -v : v);
  return applyOp(img, name, levelToArg(name, mag, cfg, negate), cfg.fill);
}

/** timm's LEVEL_TO_ARG for `level` on the 0-10 scale (`negate` flips the sign with probability 0.5). */
export function levelToArg(name: RandAugmentOpName, level: number, cfg: Pick<RandAugmentConfig, 'translatePct'>, negate: (v: number) => number = (v) => v): number {
  const l = level / 10;
  switch (name) {
    case 'AutoContrast':
    case 'Equalize':
    case 'Invert':
      return 0;
    case 'Rotate':
      return negate(l * 30);
    case 'Posterize':
      return Math.trunc(l * 4);
    case 'PosterizeIncreasing':
      return 4 - Math.trunc(l * 4);
    case 'Solarize':
      return Math.min(256, Math.trunc(l * 256));
    case 'SolarizeIncreasing':
      return 256 - Math.min(256, Math.trunc(l * 256));
    case 'SolarizeAdd':
      return Math.min(128, Math.trunc(l * 110));
    case 'Color':
    case 'Contrast':
    case 'Brightness':
    case 'Sharpness':
      return l * 1.8 + 0.1;
    case 'ColorIncreasing':
    case 'ContrastIncreasing':
    case 'BrightnessIncreasing':
    case 'SharpnessIncreasing':
      return Math.max(0.1, 1 + negate(l * 0.9));
    case 'ShearX':
    case 'ShearY':
      return negate(l * 0.3);
    case 'TranslateXRel':
    case 'TranslateYRel':
      return negate(l * cfg.translatePct);
  }
}

/** One op with its argument, as timm's op functions call PIL. */
export function applyOp(img: ByteImage, name: RandAugmentOpName, arg: number, fill: readonly number[]): ByteImage {
  switch (name) {
    case 'AutoContrast':
      return autoContrast(img);
    case 'Equalize':
      return equalize(img);
    case 'Invert':
      return applyLut(img, () => Uint8Array.from({ length: 256 }, (_, i) => 255 - i));
    case 'Rotate':
      return rotate(img, arg, fill);
    case 'Posterize':
    case 'PosterizeIncreasing':
      return posterize(img, arg);
    case 'Solarize':
    case 'SolarizeIncreasing':
      return solarize(img, arg);
    case 'SolarizeAdd':
      return applyLut(img, () => Uint8Array.from({ length: 256 }, (_, i) => (i < 128 ? Math.min(255, i + arg) : i)));
    case 'Color':
    case 'ColorIncreasing':
      return blend(grey(img), img, arg);
    case 'Contrast':
    case 'ContrastIncreasing':
      return blend(contrastDegenerate(img), img, arg);
    case 'Brightness':
    case 'BrightnessIncreasing':
      return blend({ ...img, data: new Uint8Array(img.data.length) }, img, arg);
    case 'Sharpness':
    case 'SharpnessIncreasing':
      return blend(smooth(img), img, arg);
    case 'ShearX':
      return affine(img, [1, arg, 0, 0, 1, 0], fill);
    case 'ShearY':
      return affine(img, [1, 0, 0, arg, 1, 0], fill);
    case 'TranslateXRel':
      return affine(img, [1, 0, arg * img.width, 0, 1, 0], fill);
    case 'TranslateYRel':
      return affine(img, [1, 0, 0, 0, 1, arg * img.height], fill);
  }
}

/** A per-channel lookup table (`lut(channel)` gives its 256 entries). */
function applyLut(img: ByteImage, lut: (ch: number) => Uint8Array): ByteImage {
  const c = img.channels;
  const luts = Array.from({ length: c }, (_, ch) => lut(ch));
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = luts[i % c]![img.data[i]!]!;
  return { ...img, data: out };
}

function histograms(img: ByteImage): Float64Array[] {
  const c = img.channels;
  const h = Array.from({ length: c }, () => new Float64Array(256));
  for (let i = 0; i < img.data.length; i++) h[i % c]![img.data[i]!]!++;
  return h;
}

/** PIL `ImageOps.autocontrast(img)` (cutoff 0): each channel's [lo, hi] stretched to [0, 255], `int()` truncation. */
export function autoContrast(img: ByteImage): ByteImage {
  const hs = histograms(img);
  return applyLut(img, (ch) => {
    const h = hs[ch]!;
    let lo = 0;
    while (lo < 256 && !h[lo]) lo++;
    let hi = 255;
    while (hi >= 0 && !h[hi]) hi--;
    if (hi <= lo) return Uint8Array.from({ length: 256 }, (_, i) => i);
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return Uint8Array.from({ length: 256 }, (_, i) => Math.max(0, Math.min(255, Math.trunc(i * scale + offset))));
  });
}

/** PIL `ImageOps.equalize(img)`: per channel, the cumulative histogram in steps of `(total - last) // 255`. */
export function equalize(img: ByteImage): ByteImage {
  const hs = histograms(img);
  return applyLut(img, (ch) => {
    const h = hs[ch]!;
    const nz: number[] = [];
    for (let i = 0; i < 256; i++) if (h[i]) nz.push(h[i]!);
    if (nz.length <= 1) return Uint8Array.from({ length: 256 }, (_, i) => i);
    const step = Math.floor((nz.reduce((a, b) => a + b, 0) - nz[nz.length - 1]!) / 255);
    if (!step) return Uint8Array.from({ length: 256 }, (_, i) => i);
    const lut = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut[i] = Math.min(255, Math.floor(n / step));
      n += h[i]!;
    }
    return lut;
  });
}

/** PIL `ImageOps.posterize(img, bits)`: keep the top `bits` bits (timm skips it for bits >= 8). */
export function posterize(img: ByteImage, bits: number): ByteImage {
  if (bits >= 8) return img;
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return applyLut(img, () => Uint8Array.from({ length: 256 }, (_, i) => i & mask));
}

/** PIL `ImageOps.solarize(img, threshold)`: values at or above the threshold are inverted. */
export function solarize(img: ByteImage, threshold: number): ByteImage {
  return applyLut(img, () => Uint8Array.from({ length: 256 }, (_, i) => (i < threshold ? i : 255 - i)));
}

/** PIL `convert('L').convert(mode)`: ITU-R 601-2 luma in 16-bit fixed point, repeated to every channel. */
export function grey(img: ByteImage): ByteImage {
  if (img.channels === 1) return { ...img, data: img.data.slice() };
  const out = new Uint8Array(img.data.length);
  for (let p = 0; p < img.data.length; p += 3) {
    const l = (img.data[p]! * 19595 + img.data[p + 1]! * 38470 + img.data[p + 2]! * 7471 + 0x8000) >> 16;
    out[p] = out[p + 1] = out[p + 2] = l;
  }
  return { ...img, data: out };
}

/** PIL `ImageEnhance.Contrast`'s degenerate image: the mean luma, rounded, everywhere. */
function contrastDegenerate(img: ByteImage): ByteImage {
  const l = grey(img);
  let s = 0;
  for (let p = 0; p < l.data.length; p += img.channels) s += l.data[p]!;
  const mean = Math.trunc(s / (l.data.length / img.channels) + 0.5);
  return { ...img, data: new Uint8Array(img.data.length).fill(mean) };
}

/** PIL `ImageFilter.SMOOTH` (3x3, weights 1 and a centre of 5, over 13), float32 sums, the border copied. */
export function smooth(img: ByteImage): ByteImage {
  const { width: w, height: h, channels: c, data } = img;
  const out = data.slice();
  const f = Math.fround;
  const k1 = f(1 / 13);
  const k5 = f(5 / 13);
  const stride = w * c;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++)
      for (let ch = 0; ch < c; ch++) {
        const i = y * stride + x * c + ch;
        // float32 at every step, in PIL's order: rows y+1, y, y-1, each left + centre + right.
        const below = f(f(f(data[i + stride - c]! * k1) + f(data[i + stride]! * k1)) + f(data[i + stride + c]! * k1));
        const mid = f(f(f(data[i - c]! * k1) + f(data[i]! * k5)) + f(data[i + c]! * k1));
        const above = f(f(f(data[i - stride - c]! * k1) + f(data[i - stride]! * k1)) + f(data[i - stride + c]! * k1));
        const ss = f(f(f(f(0.5) + below) + mid) + above);
        out[i] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
  return { ...img, data: out };
}

/** PIL `Image.blend(a, b, alpha)`: `a + alpha * (b - a)` in float32, truncated (clamped when extrapolating). */
export function blend(a: ByteImage, b: ByteImage, alpha: number): ByteImage {
  if (alpha === 0) return { ...a, data: a.data.slice() };
  if (alpha === 1) return { ...b, data: b.data.slice() };
  const f = Math.fround;
  const al = f(alpha);
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const t = f(a.data[i]! + f(al * (b.data[i]! - a.data[i]!)));
    out[i] = t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
  }
  return { ...b, data: out };
}

/**
 * PIL `img.transform(size, AFFINE, m, BICUBIC, fillcolor=fill)`: output pixel (x, y)
 * samples the input at `(m0 x + m1 y + m2, m3 x + m4 y + m5)` (pixel centres at +0.5)
 * with PIL's a = -1 cubic convolution, truncated to bytes; outside the input the fill
 * colour stays.
 */
export function affine(img: ByteImage, m: readonly number[], fill: readonly number[]): ByteImage {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Uint8Array(data.length);
  for (let p = 0; p < w * h; p++) for (let ch = 0; ch < c; ch++) out[p * c + ch] = fill[ch]!;
  const [m0, m1, m2, m3, m4, m5] = m as [number, number, number, number, number, number];
  const clipX = (x: number) => (x < 0 ? 0 : x < w ? x : w - 1);
  const rows = new Float64Array(4);
  for (let oy = 0; oy < h; oy++)
    for (let ox = 0; ox < w; ox++) {
      let xin = m0 * (ox + 0.5) + m1 * (oy + 0.5) + m2;
      let yin = m3 * (ox + 0.5) + m4 * (oy + 0.5) + m5;
      if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
      xin -= 0.5;
      yin -= 0.5;
      const xf = Math.floor(xin);
      const yf = Math.floor(yin);
      const dx = xin - xf;
      const dy = yin - yf;
      const x0 = clipX(xf - 1) * c;
      const x1 = clipX(xf) * c;
      const x2 = clipX(xf + 1) * c;
      const x3 = clipX(xf + 2) * c;
      const y = yf - 1;
      for (let ch = 0; ch < c; ch++) {
        // Rows outside the image repeat the previous row's value (PIL's BICUBIC_BODY).
        for (let r = 0; r < 4; r++) {
          const yy = y + r;
          if (r === 0 || (yy >= 0 && yy < h)) {
            const base = (r === 0 ? (yy < 0 ? 0 : yy < h ? yy : h - 1) : yy) * w * c + ch;
            const v1 = data[base + x0]!;
            const v2 = data[base + x1]!;
            const v3 = data[base + x2]!;
            const v4 = data[base + x3]!;
            rows[r] = v2 + dx * (-v1 + v3 + dx * (2 * (v1 - v2) + v3 - v4 + dx * (-v1 + v2 - v3 + v4)));
          } else rows[r] = rows[r - 1]!;
        }
        const [v1, v2, v3, v4] = [rows[0]!, rows[1]!, rows[2]!, rows[3]!];
        const v = v2 + dy * (-v1 + v3 + dy * (2 * (v1 - v2) + v3 - v4 + dy * (-v1 + v2 - v3 + v4)));
        out[(oy * w + ox) * c + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
    }
  return { ...img, data: out };
}

/** PIL `img.rotate(degrees, BICUBIC, fillcolor=fill)` about the centre, same size (timm's rotate). */
export function rotate(img: ByteImage, degrees: number, fill: readonly number[]): ByteImage {
  const angle = ((degrees % 360) + 360) % 360;
  if (angle === 0) return { ...img, data: img.data.slice() };
  const r15 = (x: number) => Math.round(x * 1e15) / 1e15; // Python's round(x, 15)
  const a = (-angle * Math.PI) / 180;
  const m = [r15(Math.cos(a)), r15(Math.sin(a)), 0, r15(-Math.sin(a)), r15(Math.cos(a)), 0];
  const [cx, cy] = [img.width / 2, img.height / 2];
  m[2] = m[0]! * -cx + m[1]! * -cy + cx;
  m[5] = m[3]! * -cx + m[4]! * -cy + cy;
  return affine(img, m, fill);
}
