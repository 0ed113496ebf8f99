/**
 * WGSL generated from TypeScript. Each function returns the source of one kernel
 * *shape-class*: the code depends on the op, the dtypes and the kernel variant, never on
 * the tensor shapes, which arrive at run time in a 256-byte uniform block (64 words, see
 * {@link PARAM_WORDS}). A new shape therefore never compiles a new pipeline.
 *
 * Every kernel has binding 0 = the parameter block and binding 1 = its output; inputs
 * follow from binding 2. Dispatch grids are 2-D (x, y) so that more than 65,535
 * workgroups fit: the linear workgroup index is `wid.y * nwg.x + wid.x`.
 */

/** WGSL storage type of each supported dtype (bool is stored as one u32 per element). */
export type WType = 'f32' | 'i32' | 'u32';

/** Words (u32) in one dispatch's parameter block. */
export const PARAM_WORDS = 64;
/** Highest rank the strided kernels take after adjacent dimensions are merged. */
export const MAX_RANK = 8;
/** Threads per workgroup of the 1-D kernels (SwiftShader and most GPUs allow 256). */
export const WG = 256;

/** What every kernel starts with: the parameter block at binding 0, its readers and NaN/Inf helpers. */
export const HEADER = /* wgsl */ `
struct Params { v: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> prm: Params;
fn pu(i: u32) -> u32 { return prm.v[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
// Infinity and NaN cannot be WGSL constants; build them from a run-time zero.
fn rtZero() -> u32 { return pu(${PARAM_WORDS - 1}u) & 0u; }
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | rtZero()); }
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | rtZero()); }
// By bits: compilers may fold x != x (and emit ordered compares), so NaN is tested on its encoding.
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn f2i(v: f32) -> i32 { return select(i32(v), 0, isnan_(v) || abs(v) >= 2147483648.0); }
fn maxf(a: f32, b: f32) -> f32 { return select(select(b, a, a > b), a + b, isnan_(a) || isnan_(b)); }
fn minf(a: f32, b: f32) -> f32 { return select(select(b, a, a < b), a + b, isnan_(a) || isnan_(b)); }
// WGSL leaves exp of values past f32's range (and of infinities) indeterminate: say them.
// exp(x) overflows to +Inf above ln(FLT_MAX), rounds to 0 below -103.98, and NaN stays NaN.
fn exp_(x: f32) -> f32 {
  return select(select(select(exp(x), 0.0, x < -103.98), inf_(), x > 88.72283172607422), x, isnan_(x));
}
// log of 0, of negatives and of +Inf are indeterminate in WGSL too (SwiftShader gives
// log(0) = -88): -Inf, NaN and +Inf as IEEE (and as PyTorch).
fn log_(x: f32) -> f32 {
  if (isnan_(x) || x < 0.0) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (x == inf_()) { return x; }
  return log(x);
}
fn erf_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  let ax = abs(x);
  if (ax < 0.5) {
    let s = x * x;
    return x * 1.1283791671 * (1.0 + s * (-0.3333333333 + s * (0.1 + s * (-0.0238095238 + s * (0.0046296296 - s * 0.0007575758)))));
  }
  // Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp_(-ax * ax);
  return select(-y, y, x >= 0.0);
}
fn tanh_(x: f32) -> f32 { return select(tanh(clamp(x, -15.0, 15.0)), x, isnan_(x)); }
// log1p and expm1 have no WGSL builtins, and log(1 + x), exp(x) - 1 cancel for small x.
// log1p: 2 atanh(s), s = x / (2 + x), by its series on [-0.5, 1] (|s| <= 1/3, 9 terms
// reach float32's precision); outside, 1 + x is exact enough for log.
fn log1p_(x: f32) -> f32 {
  if (x < -1.0) { return nan_(); }
  if (x == -1.0) { return -inf_(); }
  if (x >= -0.5 && x <= 1.0) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (0.33333333333 + z * (0.2 + z * (0.14285714286 + z * (0.11111111111 + z * (0.09090909091 + z * (0.07692307692 + z * (0.06666666667 + z * 0.05882352941))))))));
  }
  return log_(1.0 + x);
}
// expm1: Taylor series to x^11 on |x| < 1 (next term below 3e-9 relative), exp(x) - 1 beyond.
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 1.0) {
    return x * (1.0 + x * (0.5 + x * (0.16666666667 + x * (0.041666666667 + x * (0.0083333333333 + x * (0.0013888888889 + x * (1.9841269841e-4 + x * (2.4801587302e-5 + x * (2.7557319224e-6 + x * (2.7557319224e-7 + x * 2.5052108385e-8))))))))));
  }
  if (x == inf_()) { return x; }
  return exp_(x) - 1.0;
}
// atan with Cephes' range reduction and polynomial (about 2 ulp; WGSL's builtin allows 4096).
fn atan_(x: f32) -> f32 {
  let ax = abs(x);
  var y0 = 0.0;
  var z = ax;
  if (ax > 2.414213562373095) { y0 = 1.5707963267948966; z = -1.0 / ax; }
  else if (ax > 0.4142135623730950) { y0 = 0.7853981633974483; z = (ax - 1.0) / (ax + 1.0); }
  let zz = z * z;
  let r = y0 + ((((0.0805374449538 * zz - 0.138776856032) * zz + 0.199777106478) * zz - 0.333329491539) * zz * z + z);
  return select(r, -r, (bitcast<u32>(x) & 0x80000000u) != 0u);
}
// atan2 with C's signed zeros and infinities: atan of |y|/|x| (pi/4 where they are equal,
// which covers both infinite and both zero, then 0), mirrored by the signs of x and y.
fn atan2_(y: f32, x: f32) -> f32 {
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  let ax = abs(x);
  let ay = abs(y);
  var t: f32;
  if (ax == ay) { t = select(0.7853981633974483, 0.0, ax == 0.0); } else { t = atan_(ay / ax); }
  if ((bitcast<u32>(x) & 0x80000000u) != 0u) { t = 3.141592653589793 - t; }
  return select(t, -t, (bitcast<u32>(y) & 0x80000000u) != 0u);
}
fn geluTanhGrad(x: f32) -> f32 {
  let k = 0.7978845608028654;
  let th = tanh_(k * (x + 0.044715 * x * x * x));
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * k * (1.0 + 3.0 * 0.044715 * x * x);
}
fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let ab = abs(a);
  var r: f32;
  if (ab == 0.0) { r = select(inf_(), 0.0, b > 0.0); }
  else if (ab == 1.0 && abs(b) == inf_()) { r = 1.0; }
  else { r = exp2(b * log2(ab)); }
  if (a < 0.0 || (a == 0.0 && bitcast<u32>(a) != 0u)) {
    if (fract(b) != 0.0) { return select(nan_(), r, ab == 0.0); }
    if (fract(b * 0.5) != 0.0) { r = -r; }
  }
  return r;
}
fn idiv(a: i32, b: i32) -> i32 { return select(a / b, 0, b == 0); }
fn ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(-1, 1, (b & 1) == 0), a == -1), 1, a == 1); }
  var r = 1; var base = a; var e = u32(b);
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}
`;

/** The entry point of the 1-D kernels (workgroups of {@link WG} threads on a 2-D grid). */
export const MAIN_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;
/** The linear workgroup index `gi`. */
export const GROUP_INDEX = 'let gi = wid.y * nwg.x + wid.x;';
/** The linear thread index `i`. */
export const THREAD_INDEX = `let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** A strided view's parameter slot: [offset, contiguous flag, strides x MAX_RANK]. */
export const VIEW_SLOT = 2 + MAX_RANK;
/** Where the map kernel's view slots start (after n, rank and the shape). */
export const MAP_VIEWS_AT = 2 + MAX_RANK;

/**
 * The strided elementwise kernel ("map"): `out[view_o(i)] = expr(in0[view_0(i)], ...)` over
 * the n elements of one logical shape. It is unary, binary, compare, where, cast, copy,
 * cat (one dispatch per piece into a strided output), embed and the fused GELU kernels.
 * Params: [0] n, [1] rank, [2..] shape, then view slots for the output and each input.
 * `accumulate` makes the output store an atomic add (embed where positions repeat).
 */
export function mapKernel(outT: WType, inTs: readonly WType[], expr: string, accumulate = false): string {
  const ins = inTs.map((t, k) => `@group(0) @binding(${k + 2}) var<storage, read> in${k}: array<${t}>;`).join('\n');
  const loads = inTs.map((_, k) => `let a${k} = in${k}[voff(i, ${MAP_VIEWS_AT + VIEW_SLOT * (k + 1)}u)];`).join('\n  ');
  const outDecl = accumulate
    ? `@group(0) @binding(1) var<storage, read_write> out: array<atomic<${outT === 'f32' ? 'u32' : outT}>>;`
    : `@group(0) @binding(1) var<storage, read_write> out: array<${outT}>;`;
  const store = accumulate
    ? outT === 'f32'
      ? `let at = voff(i, ${MAP_VIEWS_AT}u);\n  var old = atomicLoad(&out[at]);\n  loop {\n    let r = atomicCompareExchangeWeak(&out[at], old, bitcast<u32>(bitcast<f32>(old) + v));\n    if (r.exchanged) { break; }\n    old = r.old_value;\n  }`
      : `atomicAdd(&out[voff(i, ${MAP_VIEWS_AT}u)], v);`
    : `out[voff(i, ${MAP_VIEWS_AT}u)] = v;`;
  return `${HEADER}
${outDecl}
${ins}
fn voff(i: u32, b: u32) -> u32 {
  if (pu(b + 1u) != 0u) { return u32(pi(b) + i32(i)); }
  var r = i;
  var o = pi(b);
  for (var d = pu(1u); d > 0u; d--) {
    let s = pu(1u + d);
    o += i32(r % s) * pi(b + 1u + d);
    r = r / s;
  }
  return u32(o);
}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  ${loads}
  let v: ${outT} = ${expr};
  ${store}
}`;
}

/** Fills the first n elements of the output with a constant (word 1 holds its bits). */
export function fillKernel(t: WType): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  out[i] = bitcast<${t}>(pu(1u));
}`;
}

/** Reduction op name of the reduce kernel. */
export type RedOp = 'sum' | 'prod' | 'max' | 'min';

function combine(op: RedOp, t: WType, a: string, b: string): string {
  if (op === 'sum') return `${a} + ${b}`;
  if (op === 'prod') return `${a} * ${b}`;
  if (t === 'f32') return op === 'max' ? `maxf(${a}, ${b})` : `minf(${a}, ${b})`;
  return op === 'max' ? `max(${a}, ${b})` : `min(${a}, ${b})`;
}

/**
 * Reduction parameter layout: [0] outputs, [1] kept rank, [2] reduced rank, [3] reduced
 * length, [4] input offset, then kept shape, kept strides, reduced shape, reduced strides
 * (MAX_RANK words each).
 */
export const RED = { keptShape: 5, keptStrides: 5 + MAX_RANK, redShape: 5 + 2 * MAX_RANK, redStrides: 5 + 3 * MAX_RANK } as const;

const RED_OFFSETS = `
fn keptOff(o: u32) -> i32 {
  var r = o;
  var off = pi(4u);
  for (var d = pu(1u); d > 0u; d--) {
    let s = pu(${RED.keptShape - 1}u + d);
    off += i32(r % s) * pi(${RED.keptStrides - 1}u + d);
    r = r / s;
  }
  return off;
}
fn redOff(j: u32) -> i32 {
  let rank = pu(2u);
  if (rank == 1u) { return i32(j) * pi(${RED.redStrides}u); }
  var r = j;
  var off = 0;
  for (var d = rank; d > 0u; d--) {
    let s = pu(${RED.redShape - 1}u + d);
    off += i32(r % s) * pi(${RED.redStrides - 1}u + d);
    r = r / s;
  }
  return off;
}`;

/**
 * Sum/prod/max/min over a set of axes. `tree`: one workgroup per output, threads stride
 * over the reduced elements and combine in a workgroup-memory tree; otherwise one thread
 * per output with a serial loop (short reductions).
 */
export function reduceKernel(op: RedOp, t: WType, tree: boolean): string {
  const ident = op === 'sum' ? `${t}(0)` : op === 'prod' ? `${t}(1)` : `x[u32(base + redOff(0u))]`;
  const body = tree
    ? `${GROUP_INDEX}
  if (gi >= pu(0u)) { return; }
  let base = keptOff(gi);
  let len = pu(3u);
  var acc: ${t} = ${ident};
  for (var j = lid; j < len; j += ${WG}u) { acc = ${combine(op, t, 'acc', 'x[u32(base + redOff(j))]')}; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] = ${combine(op, t, 'sh[lid]', 'sh[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[gi] = sh[0]; }`
    : `${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let base = keptOff(i);
  let len = pu(3u);
  var acc: ${t} = ${op === 'max' || op === 'min' ? `${t}(0)` : ident};
  if (len > 0u) {
    ${op === 'max' || op === 'min' ? `acc = ${ident};` : ''}
    for (var j = 0u; j < len; j++) { acc = ${combine(op, t, 'acc', 'x[u32(base + redOff(j))]')}; }
  }
  out[i] = acc;`;
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> x: array<${t}>;
${tree ? `var<workgroup> sh: array<${t}, ${WG}>;` : ''}
${RED_OFFSETS}
${MAIN_1D} {
  ${body}
}`;
}

/** Index (i32) of the first max/min along one axis; the reduce layout with one reduced dim. */
export function argReduceKernel(op: 'argmax' | 'argmin', t: WType): string {
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const nanCheck = t === 'f32' ? ' || isnan_(v)' : '';
  const alive = t === 'f32' ? '!isnan_(best)' : 'true';
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<${t}>;
${RED_OFFSETS}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let base = keptOff(i);
  let len = pu(3u);
  let st = pi(${RED.redStrides}u);
  var best = x[u32(base)];
  var at = 0;
  for (var j = 1u; j < len && ${alive}; j++) {
    let v = x[u32(base + i32(j) * st)];
    if (${better}${nanCheck}) { best = v; at = i32(j); }
  }
  out[i] = at;
}`;
}

/**
 * Gather / scatterAdd layout: [0] index elements, [1] rank, [2..] index shape, then slots
 * (offset + strides) for the index, the source/data view, and (scatter) the output's
 * contiguous strides; then axis and axis length.
 */
export const GS = {
  idx: 2 + MAX_RANK,
  data: 2 + MAX_RANK + (1 + MAX_RANK),
  outStrides: 2 + MAX_RANK + 2 * (1 + MAX_RANK),
  axis: 2 + MAX_RANK + 2 * (1 + MAX_RANK) + MAX_RANK,
  len: 3 + MAX_RANK + 2 * (1 + MAX_RANK) + MAX_RANK,
} as const;

const GS_COMMON = `
@group(0) @binding(3) var<storage, read> idx: array<i32>;
@group(0) @binding(4) var<storage, read_write> errFlag: array<atomic<u32>>;
// Coordinates of flat index i of the index shape, dotted with strides at word b (offset at b).
fn dot(i: u32, b: u32, skipAxis: bool) -> i32 {
  var r = i;
  var off = pi(b);
  let axis = pu(${GS.axis}u);
  for (var d = pu(1u); d > 0u; d--) {
    let s = pu(1u + d);
    let c = r % s;
    r = r / s;
    if (!(skipAxis && d - 1u == axis)) { off += i32(c) * pi(b + d); }
  }
  return off;
}
fn contigDot(i: u32) -> i32 {
  var r = i;
  var off = 0;
  let axis = pu(${GS.axis}u);
  for (var d = pu(1u); d > 0u; d--) {
    let s = pu(1u + d);
    let c = r % s;
    r = r / s;
    if (d - 1u != axis) { off += i32(c) * pi(${GS.outStrides - 1}u + d); }
  }
  return off;
}`;

/** `out[i] = x[..., index[i], ...]`; an out-of-range index writes 0 and raises flag bit 1. */
export function gatherKernel(t: WType): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> x: array<${t}>;
${GS_COMMON}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let k = idx[u32(dot(i, ${GS.idx}u, false))];
  let len = pi(${GS.len}u);
  if (k < 0 || k >= len) { atomicOr(&errFlag[0], 1u); out[i] = ${t}(0); return; }
  let axis = pu(${GS.axis}u);
  out[i] = x[u32(dot(i, ${GS.data}u, true) + k * pi(${GS.data + 1}u + axis))];
}`;
}

/** `out[..., index[j], ...] += src[j]` with atomics (the output is zero-filled first). */
export function scatterAddKernel(t: WType): string {
  const add =
    t === 'f32'
      ? `var old = atomicLoad(&out[at]);
  loop {
    let r = atomicCompareExchangeWeak(&out[at], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
      : `atomicAdd(&out[at], v);`;
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<atomic<${t === 'f32' ? 'u32' : t}>>;
@group(0) @binding(2) var<storage, read> src: array<${t}>;
${GS_COMMON}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let k = idx[u32(dot(i, ${GS.idx}u, false))];
  let len = pi(${GS.len}u);
  if (k < 0 || k >= len) { atomicOr(&errFlag[0], 2u); return; }
  let axis = pu(${GS.axis}u);
  let at = u32(contigDot(i) + k * pi(${GS.outStrides}u + axis));
  let v = src[u32(dot(i, ${GS.data}u, false))];
  ${add}
}`;
}

/** WGSL of the sort order on values: `before(a, b, desc)` (NaN last ascending, first descending). */
function sortBefore(t: WType): string {
  const nan = (v: string) => (t === 'f32' ? `isnan_(${v})` : 'false');
  return `fn before(a: ${t}, b: ${t}, desc: bool) -> bool {
  let na = ${nan('a')};
  let nb = ${nan('b')};
  if (na || nb) { return select(!na && nb, na && !nb, desc); }
  return select((a < b), (a > b), desc);
}`;
}

/** Rows up to this length sort by ranks (O(len) per element); longer rows by a bitonic network. */
export const RANK_SORT_MAX = 1024;

/**
 * Stable sort by ranks along contiguous rows: [0] elements, [1] row length, [2] descending.
 * Thread i counts the row's elements that come before x[i] (NaN last ascending, first
 * descending; ties by position) and writes its position in the row at that rank.
 */
export function sortRankKernel(t: WType): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<${t}>;
${sortBefore(t)}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let len = pu(1u);
  let desc = pu(2u) != 0u;
  let p = i % len;
  let base = i - p;
  let v = x[i];
  var rank = 0u;
  for (var j = 0u; j < len; j++) {
    let w = x[base + j];
    if (before(w, v, desc) || (j < p && !before(v, w, desc))) { rank++; }
  }
  out[base + rank] = i32(p);
}`;
}

/**
 * Bitonic sort, setup: rows padded to a power of two P. Layout: [0] rows*P, [1] row length,
 * [2] descending, [3] P. Copies the values and sets each key's position (padding gets
 * positions >= len, which sort after everything).
 */
export function sortBitonicInitKernel(t: WType): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> keys: array<${t}>;
@group(0) @binding(2) var<storage, read_write> pos: array<i32>;
@group(0) @binding(3) var<storage, read> x: array<${t}>;
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let len = pu(1u);
  let P = pu(3u);
  let p = i % P;
  let r = i / P;
  keys[i] = select(${t}(0), x[min(r * len + p, r * len + len - 1u)], p < len);
  pos[i] = i32(p);
}`;
}

/**
 * One compare-exchange pass (k, j) of the bitonic network over (value, position) keys,
 * a strict total order, so the result is stable. Layout as the setup, plus [4] k, [5] j.
 */
export function sortBitonicStepKernel(t: WType): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> keys: array<${t}>;
@group(0) @binding(2) var<storage, read_write> pos: array<i32>;
${sortBefore(t)}
fn keyBefore(a: ${t}, ia: i32, b: ${t}, ib: i32, len: i32, desc: bool) -> bool {
  let pa = ia >= len;
  let pb = ib >= len;
  if (pa || pb) { return (!pa && pb) || (pa && pb && ia < ib); }
  if (before(a, b, desc)) { return true; }
  if (before(b, a, desc)) { return false; }
  return ia < ib;
}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let len = pi(1u);
  let desc = pu(2u) != 0u;
  let P = pu(3u);
  let k = pu(4u);
  let j = pu(5u);
  let p = i % P;
  let l = p ^ j;
  if (l <= p) { return; }
  let a = i;
  let b = i - p + l;
  let va = keys[a];
  let vb = keys[b];
  let ia = pos[a];
  let ib = pos[b];
  let up = (p & k) == 0u;
  let swap = select(keyBefore(va, ia, vb, ib, len, desc), keyBefore(vb, ib, va, ia, len, desc), up);
  if (swap) {
    keys[a] = vb;
    keys[b] = va;
    pos[a] = ib;
    pos[b] = ia;
  }
}`;
}

/** Bitonic sort, finish: the first `len` positions of each padded row. Layout as the setup. */
export function sortBitonicCompactKernel(): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> pos: array<i32>;
${MAIN_1D} {
  ${THREAD_INDEX}
  let len = pu(1u);
  let P = pu(3u);
  if (i >= pu(0u) / P * len) { return; }
  let r = i / len;
  out[i] = pos[r * P + i % len];
}`;
}

// ---------------------------------------------------------------------------------------
// Tiled GEMM: matmul and convolution as implicit GEMM share one template.

/** Output tile per workgroup (rows x cols), K step, and the 16x16 thread grid's 4x4 register tiles. */
export const TILE = { M: 64, N: 64, K: 16 } as const;

/**
 * A GEMM variant: WGSL for the loaders `lA(b, m, k)` and `lB(b, k, n)` (called only in
 * range; vec4 variants `lA4`/`lB4` check their own bounds) and the store `st(b, split, m, n, v)`,
 * plus bindings. Grid: x = N tiles, y = M tiles, z = batch * splits + split.
 */
export interface GemmVariant {
  readonly bindings: string;
  readonly loaders: string;
  /** Load whole vec4s of A along K and of B along N (contiguous operands). */
  readonly vec4?: boolean;
}

/**
 * The tiled GEMM kernel: each 256-thread workgroup computes a 64x64 output tile with 4x4
 * register tiles per thread, staging 64x16 panels of A and 16x64 of B in workgroup memory.
 * Words: [0] M, [1] N, [2] K, [3] K per split (K when not split), [4] splits, [5] batches.
 * With splits > 1 the output is `[splits, batches*M*N]` partial sums (see splitSumKernel).
 */
export function gemmKernel(v: GemmVariant): string {
  const loadTiles = v.vec4
    ? `{
      // One vec4 of A (4 consecutive k of one row) and one of B (4 consecutive n of one k) per thread.
      let am = lid >> 2u; let ak = (lid & 3u) * 4u;
      let a4 = lA4(b, m0 + am, k0 + ak, kEnd);
      As[(ak + 0u) * ${TILE.M}u + am] = a4.x; As[(ak + 1u) * ${TILE.M}u + am] = a4.y;
      As[(ak + 2u) * ${TILE.M}u + am] = a4.z; As[(ak + 3u) * ${TILE.M}u + am] = a4.w;
      let bk = lid >> 4u; let bn = (lid & 15u) * 4u;
      let b4 = lB4(b, k0 + bk, n0 + bn, kEnd);
      Bs[bk * ${TILE.N}u + bn + 0u] = b4.x; Bs[bk * ${TILE.N}u + bn + 1u] = b4.y;
      Bs[bk * ${TILE.N}u + bn + 2u] = b4.z; Bs[bk * ${TILE.N}u + bn + 3u] = b4.w;
    }`
    : `for (var l = 0u; l < 4u; l++) {
      let e = lid + l * 256u;
      let am = e >> 4u; let ak = e & 15u;
      let kk = k0 + ak;
      var va = 0.0;
      if (kk < kEnd && m0 + am < M) { va = lA(b, m0 + am, kk); }
      As[ak * ${TILE.M}u + am] = va;
      let bk = e >> 6u; let bn = e & 63u;
      let kb = k0 + bk;
      var vb = 0.0;
      if (kb < kEnd && n0 + bn < N) { vb = lB(b, kb, n0 + bn); }
      Bs[bk * ${TILE.N}u + bn] = vb;
    }`;
  return `${HEADER}
${v.bindings}
var<workgroup> As: array<f32, ${TILE.M * TILE.K}>;
var<workgroup> Bs: array<f32, ${TILE.K * TILE.N}>;
${v.loaders}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let kChunk = pu(3u); let splits = pu(4u);
  let b = wid.z / splits;
  let split = wid.z % splits;
  let kBegin = split * kChunk;
  let kEnd = min(K, kBegin + kChunk);
  let m0 = wid.y * ${TILE.M}u;
  let n0 = wid.x * ${TILE.N}u;
  let tx = lid3.x; let ty = lid3.y;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${TILE.K}u) {
    ${loadTiles}
    workgroupBarrier();
    for (var k = 0u; k < ${TILE.K}u; k++) {
      var a: array<f32, 4>;
      var bb: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { a[r] = As[k * ${TILE.M}u + ty * 4u + r]; bb[r] = Bs[k * ${TILE.N}u + tx * 4u + r]; }
      for (var r = 0u; r < 4u; r++) { for (var c = 0u; c < 4u; c++) { acc[r][c] = fma(a[r], bb[c], acc[r][c]); } }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + ty * 4u + r;
    if (m >= M) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + tx * 4u + c;
      if (n < N) { st(b, split, m, n, acc[r][c]); }
    }
  }
}`;
}

/**
 * The small-output GEMM: a thread per output element looping over K with the same
 * loaders (no workgroup memory, no barriers). Used when one side of the output is thin
 * (matrix-vector-like products, few output channels per group), where 64x64 tiles would
 * mostly idle. Words as {@link gemmKernel}.
 */
export function gemmNaiveKernel(v: GemmVariant, t: 'f32' | 'i32' = 'f32'): string {
  return `${HEADER}
${v.bindings}
${v.loaders}
${MAIN_1D} {
  ${THREAD_INDEX}
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  if (i >= M * N * pu(5u)) { return; }
  let n = i % N; let m = (i / N) % M; let b = i / (M * N);
  var acc = ${t}(0);
  for (var k = 0u; k < K; k++) { acc = ${t === 'f32' ? 'fma(lA(b, m, k), lB(b, k, n), acc)' : 'acc + lA(b, m, k) * lB(b, k, n)'}; }
  st(b, 0u, m, n, acc);
}`;
}

/**
 * Matmul words after the GEMM ones: [6] batch rank, [7..10] batch shape, A offset, A batch
 * strides (4), A m/k strides, B offset, B batch strides (4), B k/n strides.
 */
export const MM = { rank: 6, shape: 7, a: 11, b: 18 } as const;

/**
 * `out` at binding 1 (read-write) and the inputs at bindings 2, 3, ... (read-only), each
 * `[name, element type]`: the binding block every GEMM variant and conv kernel starts with.
 */
function storageBindings(out: string, inputs: readonly (readonly [string, string])[]): string {
  return [`@group(0) @binding(1) var<storage, read_write> out: ${out};`, ...inputs.map(([name, type], k) => `@group(0) @binding(${k + 2}) var<storage, read> ${name}: ${type};`)].join('\n');
}

/** The matmul loaders over strided A `[..., M, K]` and B `[..., K, N]`; `vec4` needs contiguous rows. */
export function matmulVariant(vec4: boolean, t: 'f32' | 'i32' = 'f32'): GemmVariant {
  const batchOff = `fn batchOff(b: u32, w: u32) -> i32 {
  var r = b;
  var off = pi(w);
  for (var d = pu(${MM.rank}u); d > 0u; d--) {
    let s = pu(${MM.shape - 1}u + d);
    off += i32(r % s) * pi(w + d);
    r = r / s;
  }
  return off;
}`;
  // One loader per operand: `fn lA(b, m, k)` reads a[m, k], `fn lB(b, k, n)` reads bm[k, n]; the vec4
  // form reads 4 consecutive elements along the contiguous (second) index and checks its own bounds.
  const loader = (name: 'lA' | 'lB', buf: string, w: number, [i, j]: readonly [string, string], bound: string) => {
    const at = `batchOff(b, ${w}u) + i32(${i}) * pi(${w + 5}u) + i32(${j})`;
    return vec4
      ? `fn ${name}4(b: u32, ${i}: u32, ${j}: u32, kEnd: u32) -> vec4<f32> {
  if (${bound}) { return vec4<f32>(0.0); }
  return ${buf}[u32(${at}) / 4u];
}`
      : `fn ${name}(b: u32, ${i}: u32, ${j}: u32) -> ${t} { return ${buf}[u32(${at} * pi(${w + 6}u))]; }`;
  };
  const A = vec4 ? 'array<vec4<f32>>' : `array<${t}>`;
  return {
    vec4,
    bindings: storageBindings(`array<${t}>`, [
      ['a', A],
      ['bm', A],
    ]),
    loaders: `${batchOff}
${loader('lA', 'a', MM.a, ['m', 'k'], 'm >= pu(0u) || k >= kEnd')}
${loader('lB', 'bm', MM.b, ['k', 'n'], 'k >= kEnd || n >= pu(1u)')}
fn st(b: u32, split: u32, m: u32, n: u32, v: ${vec4 ? 'f32' : t}) { out[((split * pu(5u) + b) * pu(0u) + m) * pu(1u) + n] = v; }`,
  };
}

/**
 * Convolution words after the GEMM ones: [6] N, [7] C, [8] H, [9] W, [10] O, [11] Cg,
 * [12] Og, [13] KH, [14] KW, [15] OH, [16] OW, [17..18] stride, [19..20] padding,
 * [21..22] dilation, [23] groups, then x view (offset + 4 strides) at 24, weight view at
 * 29, output-gradient view at 34.
 */
export const CV = { n: 6, x: 24, w: 29, gy: 34 } as const;

/**
 * The conv words as functions, the view indexer `vAt`, and the two gathers the implicit
 * GEMMs share: `wTap(g, o, i, r)` reads weight[g*Og + o, i, tap r] and `xTap(n, g, ic, p, r)`
 * reads the input under output pixel p at tap r (0 in the padding), i.e. one im2col element.
 */
const CONV_COMMON = `
fn cN() -> u32 { return pu(6u); } fn cC() -> u32 { return pu(7u); } fn cH() -> u32 { return pu(8u); } fn cW() -> u32 { return pu(9u); }
fn cO() -> u32 { return pu(10u); } fn cCg() -> u32 { return pu(11u); } fn cOg() -> u32 { return pu(12u); }
fn cKH() -> u32 { return pu(13u); } fn cKW() -> u32 { return pu(14u); } fn cOH() -> u32 { return pu(15u); } fn cOW() -> u32 { return pu(16u); }
fn cSY() -> u32 { return pu(17u); } fn cSX() -> u32 { return pu(18u); } fn cPY() -> u32 { return pu(19u); } fn cPX() -> u32 { return pu(20u); }
fn cDY() -> u32 { return pu(21u); } fn cDX() -> u32 { return pu(22u); } fn cG() -> u32 { return pu(23u); }
fn vAt(w: u32, i0: u32, i1: u32, i2: i32, i3: i32) -> u32 {
  return u32(pi(w) + i32(i0) * pi(w + 1u) + i32(i1) * pi(w + 2u) + i2 * pi(w + 3u) + i3 * pi(w + 4u));
}`;
const WEIGHT_TAP = `
fn wTap(g: u32, o: u32, i: u32, r: u32) -> f32 { return w[vAt(${CV.w}u, g * cOg() + o, i, i32(r / cKW()), i32(r % cKW()))]; }`;
const INPUT_TAP = `
fn xTap(n: u32, g: u32, ic: u32, p: u32, r: u32) -> f32 {
  let iy = i32((p / cOW()) * cSY() + (r / cKW()) * cDY()) - i32(cPY());
  let ix = i32((p % cOW()) * cSX() + (r % cKW()) * cDX()) - i32(cPX());
  if (iy < 0 || ix < 0 || iy >= i32(cH()) || ix >= i32(cW())) { return 0.0; }
  return x[vAt(${CV.x}u, n, g * cCg() + ic, iy, ix)];
}`;

/** The operands of each convolution kernel, after `out` (all f32). */
const CONV_INPUTS = { fwd: ['x', 'w'], bwdInput: ['gy', 'w'], bwdWeight: ['x', 'gy'] } as const;
const convBindings = (kind: keyof typeof CONV_INPUTS) => storageBindings('array<f32>', CONV_INPUTS[kind].map((name) => [name, 'array<f32>'] as const));

/** The three convolutions as implicit GEMMs (no im2col buffer): forward, input gradient, weight gradient. */
export function convVariant(kind: 'fwd' | 'bwdInput' | 'bwdWeight'): GemmVariant {
  const bindings = convBindings(kind);
  if (kind === 'fwd') {
    // batch b = n*G + g; rows = out channel in group; cols = output pixel; depth = (ic, tap).
    return {
      bindings,
      loaders: `${CONV_COMMON}${WEIGHT_TAP}${INPUT_TAP}
fn lA(b: u32, m: u32, k: u32) -> f32 { let kk = cKH() * cKW(); return wTap(b % cG(), m, k / kk, k % kk); }
fn lB(b: u32, k: u32, p: u32) -> f32 { let kk = cKH() * cKW(); return xTap(b / cG(), b % cG(), k / kk, p, k % kk); }
fn st(b: u32, split: u32, m: u32, p: u32, v: f32) {
  let n = b / cG(); let g = b % cG();
  out[((split * cN() + n) * cO() + g * cOg() + m) * cOH() * cOW() + p] = v;
}`,
    };
  }
  if (kind === 'bwdInput') {
    // batch b = n*G + g; rows = input channel in group; cols = input pixel; depth = (oc, tap).
    return {
      bindings,
      loaders: `${CONV_COMMON}${WEIGHT_TAP}
fn lA(b: u32, m: u32, k: u32) -> f32 { let kk = cKH() * cKW(); return wTap(b % cG(), k / kk, m, k % kk); }
fn lB(b: u32, k: u32, p: u32) -> f32 {
  let n = b / cG(); let g = b % cG();
  let kk = cKH() * cKW();
  let oc = k / kk; let r = k % kk;
  let ty = i32(p / cW()) + i32(cPY()) - i32((r / cKW()) * cDY());
  let tx = i32(p % cW()) + i32(cPX()) - i32((r % cKW()) * cDX());
  if (ty < 0 || tx < 0) { return 0.0; }
  let sy = cSY(); let sx = cSX();
  if (u32(ty) % sy != 0u || u32(tx) % sx != 0u) { return 0.0; }
  let oy = u32(ty) / sy; let ox = u32(tx) / sx;
  if (oy >= cOH() || ox >= cOW()) { return 0.0; }
  return gy[vAt(${CV.gy}u, n, g * cOg() + oc, i32(oy), i32(ox))];
}
fn st(b: u32, split: u32, m: u32, p: u32, v: f32) {
  let n = b / cG(); let g = b % cG();
  out[((split * cN() + n) * cC() + g * cCg() + m) * cH() * cW() + p] = v;
}`,
    };
  }
  // batch b = g; rows = out channel in group; cols = (ic, tap); depth = (n, output pixel).
  return {
    bindings,
    loaders: `${CONV_COMMON}${INPUT_TAP}
fn lA(g: u32, m: u32, k: u32) -> f32 {
  let hw = cOH() * cOW();
  let n = k / hw; let p = k % hw;
  return gy[vAt(${CV.gy}u, n, g * cOg() + m, i32(p / cOW()), i32(p % cOW()))];
}
fn lB(g: u32, k: u32, q: u32) -> f32 { let hw = cOH() * cOW(); let kk = cKH() * cKW(); return xTap(k / hw, g, q / kk, k % hw, q % kk); }
fn st(g: u32, split: u32, m: u32, q: u32, v: f32) {
  out[(split * cO() + g * cOg() + m) * cCg() * cKH() * cKW() + q] = v;
}`,
  };
}

/**
 * A depthwise kernel with a thread per output element of `count` (word 0): the bindings of
 * `kind`'s operands, the conv words, and `body`, which sums into `acc` for element `i`.
 */
function depthwiseDirect(kind: keyof typeof CONV_INPUTS, body: string): string {
  return `${HEADER}
${convBindings(kind)}
${CONV_COMMON}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  var acc = 0.0;
${body}
  out[i] = acc;
}`;
}

/**
 * Depthwise convolution (one input channel per group, `Og` outputs per group): direct
 * kernels, never a loop over groups. Forward: a thread per output. Input gradient: a
 * thread per input element. Weight gradient: a workgroup per weight element, reducing
 * over batch and output pixels in a workgroup tree (a thread per weight element when
 * batch x output pixels is small). Words as {@link CV}; word 0 = count.
 */
export function depthwiseKernel(kind: 'fwd' | 'bwdInput' | 'bwdWeight' | 'bwdWeightSerial'): string {
  if (kind === 'bwdWeightSerial') {
    // A thread per weight element: for small batch x output-pixel counts.
    return depthwiseDirect(
      'bwdWeight',
      `  let kk = cKH() * cKW();
  let oc = i / kk; let r = i % kk;
  let ki = r / cKW(); let kj = r % cKW();
  let c = oc / cOg();
  for (var n = 0u; n < cN(); n++) {
    for (var oy = 0u; oy < cOH(); oy++) {
      let iy = i32(oy * cSY() + ki * cDY()) - i32(cPY());
      if (iy < 0 || iy >= i32(cH())) { continue; }
      for (var ox = 0u; ox < cOW(); ox++) {
        let ix = i32(ox * cSX() + kj * cDX()) - i32(cPX());
        if (ix < 0 || ix >= i32(cW())) { continue; }
        acc = fma(gy[vAt(${CV.gy}u, n, oc, i32(oy), i32(ox))], x[vAt(${CV.x}u, n, c, iy, ix)], acc);
      }
    }
  }`,
    );
  }
  if (kind === 'fwd') {
    return depthwiseDirect(
      'fwd',
      `  let hw = cOH() * cOW();
  let p = i % hw; let oc = (i / hw) % cO(); let n = i / (hw * cO());
  let c = oc / cOg();
  let by = i32((p / cOW()) * cSY()) - i32(cPY());
  let bx = i32((p % cOW()) * cSX()) - i32(cPX());
  for (var ki = 0u; ki < cKH(); ki++) {
    let iy = by + i32(ki * cDY());
    if (iy < 0 || iy >= i32(cH())) { continue; }
    for (var kj = 0u; kj < cKW(); kj++) {
      let ix = bx + i32(kj * cDX());
      if (ix < 0 || ix >= i32(cW())) { continue; }
      acc = fma(x[vAt(${CV.x}u, n, c, iy, ix)], w[vAt(${CV.w}u, oc, 0u, i32(ki), i32(kj))], acc);
    }
  }`,
    );
  }
  if (kind === 'bwdInput') {
    return depthwiseDirect(
      'bwdInput',
      `  let hw = cH() * cW();
  let p = i % hw; let c = (i / hw) % cC(); let n = i / (hw * cC());
  let iy = i32(p / cW()); let ix = i32(p % cW());
  let sy = cSY(); let sx = cSX();
  for (var ki = 0u; ki < cKH(); ki++) {
    let ty = iy + i32(cPY()) - i32(ki * cDY());
    if (ty < 0 || u32(ty) % sy != 0u || u32(ty) / sy >= cOH()) { continue; }
    for (var kj = 0u; kj < cKW(); kj++) {
      let tx = ix + i32(cPX()) - i32(kj * cDX());
      if (tx < 0 || u32(tx) % sx != 0u || u32(tx) / sx >= cOW()) { continue; }
      for (var o = 0u; o < cOg(); o++) {
        let oc = c * cOg() + o;
        acc = fma(gy[vAt(${CV.gy}u, n, oc, ty / i32(sy), tx / i32(sx))], w[vAt(${CV.w}u, oc, 0u, i32(ki), i32(kj))], acc);
      }
    }
  }`,
    );
  }
  return `${HEADER}
${convBindings('bwdWeight')}
var<workgroup> sh: array<f32, ${WG}>;
${CONV_COMMON}
${MAIN_1D} {
  ${GROUP_INDEX}
  if (gi >= pu(0u)) { return; }
  let kk = cKH() * cKW();
  let oc = gi / kk; let r = gi % kk;
  let ki = r / cKW(); let kj = r % cKW();
  let c = oc / cOg();
  let hw = cOH() * cOW();
  let total = cN() * hw;
  var acc = 0.0;
  for (var t = lid; t < total; t += ${WG}u) {
    let n = t / hw; let p = t % hw;
    let iy = i32((p / cOW()) * cSY() + ki * cDY()) - i32(cPY());
    let ix = i32((p % cOW()) * cSX() + kj * cDX()) - i32(cPX());
    if (iy < 0 || ix < 0 || iy >= i32(cH()) || ix >= i32(cW())) { continue; }
    acc = fma(gy[vAt(${CV.gy}u, n, oc, i32(p / cOW()), i32(p % cOW()))], x[vAt(${CV.x}u, n, c, iy, ix)], acc);
  }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[gi] = sh[0]; }
}`;
}

/** Sums `splits` partial results laid out `[splits, n]` (split-K). Words: [0] n, [1] splits. */
export function splitSumKernel(): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> part: array<f32>;
${MAIN_1D} {
  ${THREAD_INDEX}
  let n = pu(0u);
  if (i >= n) { return; }
  var acc = 0.0;
  for (var s = 0u; s < pu(1u); s++) { acc += part[s * n + i]; }
  out[i] = acc;
}`;
}

/** Fused along-axis kernels over `[outer, len, inner]`. */
export type LineOp = 'normalize' | 'normalizeBackward' | 'logSoftmax' | 'logSoftmaxBackward';

/**
 * Line kernels: words [0] lines (outer*inner), [1] len, [2] inner, [3] eps (f32 bits),
 * [4] offset of input 0, [5] offset of input 1. `tree`: a workgroup per line with
 * workgroup-memory reductions (long lines); otherwise a thread per line.
 */
export function lineKernel(op: LineOp, tree: boolean): string {
  const two = op === 'normalizeBackward' || op === 'logSoftmaxBackward';
  const red = (name: string, init: string, term: string, comb: (a: string, b: string) => string): string =>
    tree
      ? `var ${name}_p: f32 = ${init};
  for (var k = lid; k < len; k += ${WG}u) { ${name}_p = ${comb(`${name}_p`, term)}; }
  sh[lid] = ${name}_p;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] = ${comb('sh[lid]', 'sh[lid + s]')}; }
    workgroupBarrier();
  }
  let ${name} = sh[0];
  workgroupBarrier();`
      : `var ${name}: f32 = ${init};
  for (var k = 0u; k < len; k++) { ${name} = ${comb(name, term)}; }`;
  const each = (body: string) => (tree ? `for (var k = lid; k < len; k += ${WG}u) { ${body} }` : `for (var k = 0u; k < len; k++) { ${body} }`);
  const add = (a: string, b: string) => `${a} + ${b}`;
  const X = 'in0[at(k) + o0]';
  const G = 'in1[at(k) + o1]';
  let body: string;
  switch (op) {
    case 'normalize':
      body = `${red('sm', '0.0', X, add)}
  let m = sm / f32(len);
  ${red('sv', '0.0', `(${X} - m) * (${X} - m)`, add)}
  let r = 1.0 / sqrt(sv / f32(len) + pf(3u));
  ${each(`out[at(k)] = (${X} - m) * r;`)}`;
      break;
    case 'normalizeBackward':
      body = `${red('sm', '0.0', X, add)}
  let m = sm / f32(len);
  ${red('sv', '0.0', `(${X} - m) * (${X} - m)`, add)}
  let r = 1.0 / sqrt(sv / f32(len) + pf(3u));
  ${red('sg', '0.0', G, add)}
  ${red('sgx', '0.0', `${G} * (${X} - m) * r`, add)}
  let gm = sg / f32(len);
  let gx = sgx / f32(len);
  ${each(`out[at(k)] = r * (${G} - gm - (${X} - m) * r * gx);`)}`;
      break;
    case 'logSoftmax':
      body = `${red('mx', 'in0[at(0u) + o0]', X, (a, b) => `maxf(${a}, ${b})`)}
  ${red('se', '0.0', `exp_(${X} - mx)`, add)}
  let lse = mx + log_(se);
  ${each(`out[at(k)] = ${X} - lse;`)}`;
      break;
    case 'logSoftmaxBackward':
      body = `${red('sg', '0.0', G, add)}
  ${each(`out[at(k)] = ${G} - exp_(${X}) * sg;`)}`;
      break;
  }
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> in0: array<f32>;
${two ? '@group(0) @binding(3) var<storage, read> in1: array<f32>;' : ''}
${tree ? `var<workgroup> sh: array<f32, ${WG}>;` : ''}
var<private> lineBase: u32;
var<private> lineInner: u32;
fn at(k: u32) -> u32 { return lineBase + k * lineInner; }
${MAIN_1D} {
  ${tree ? GROUP_INDEX : THREAD_INDEX.replace('let i', 'let gi')}
  if (gi >= pu(0u)) { return; }
  let len = pu(1u);
  let inner = pu(2u);
  lineInner = inner;
  lineBase = (gi / inner) * len * inner + gi % inner;
  let o0 = pu(4u);
  ${two ? 'let o1 = pu(5u);' : ''}
  ${body}
}`;
}
