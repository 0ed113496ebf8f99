/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
 * a counter-based generator. Block `c` of a stream with key `k` is a pure function of
 * `(k, c)`, so any backend can compute any block independently and every backend draws
 * the same numbers for the same seed.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** Writes the 4 words of Philox4x32-10 block `(c0..c3)` under key `(k0, k1)` into `out[at..at+3]`. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at: number,
): void {
  for (let r = 0; r < 10; r++) {
    mul32(M0, c0);
    const hi0 = prod.hi;
    const lo0 = prod.lo;
    mul32(M1, c2);
    const n0 = (prod.hi ^ c1 ^ k0) >>> 0;
    const n1 = prod.lo;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    const n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

const prod = { hi: 0, lo: 0 };

/** Full 64-bit product of two uint32 values into `prod`, in 16-bit halves to stay exact in doubles. */
function mul32(a: number, b: number): void {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const hh = aHi * bHi;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  prod.lo = ((mid << 16) | (ll & 0xffff)) >>> 0;
  prod.hi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** A seeded stream: a key and a block counter that advances with every draw. */
export class Generator {
  private k0: number;
  private k1: number;
  private counter = 0;

  /** Creates a stream for `seed` (an integer; only its low 53 bits matter). */
  constructor(seed: number) {
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / 0x100000000) >>> 0;
  }

  /** Re-seeds the stream and resets its counter. */
  seed(seed: number): void {
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / 0x100000000) >>> 0;
    this.counter = 0;
  }

  /** `n` raw uint32 words; the counter advances by `ceil(n/4)` blocks. */
  words(n: number): Uint32Array {
    const blocks = Math.ceil(n / 4);
    const out = new Uint32Array(blocks * 4);
    for (let b = 0; b < blocks; b++) {
      const c = this.counter + b;
      philox4x32(c >>> 0, Math.floor(c / 0x100000000) >>> 0, 0, 0, this.k0, this.k1, out, b * 4);
    }
    this.counter += blocks;
    return n === out.length ? out : out.subarray(0, n);
  }

  /** `n` uniform doubles in [0, 1), 32 random bits each (exactly representable in float32 after rounding down). */
  uniform(n: number): Float64Array {
    const w = this.words(n);
    const out = new Float64Array(n);
    // 24 bits so that the float32 value is exact and strictly below 1.
    for (let i = 0; i < n; i++) out[i] = (w[i]! >>> 8) / 16777216;
    return out;
  }

  /** `n` standard normal doubles by the Box-Muller transform over pairs of uniforms. */
  normal(n: number): Float64Array {
    const m = n + (n & 1);
    const w = this.words(m);
    const out = new Float64Array(n);
    for (let i = 0; i < m; i += 2) {
      const u1 = ((w[i]! >>> 8) + 1) / 16777217; // in (0, 1]: log never sees 0
      const u2 = (w[i + 1]! >>> 8) / 16777216;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }
}

/** The default generator that `rand`, `randn`, `randint` and `dropout` draw from. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator: the same seed gives the same numbers on every backend. */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
