/// <reference types="@webgpu/types" preserve="true" />
/**
 * The WebGPU backend: every primitive of core's Backend interface and every fused kernel,
 * as WGSL compute kernels generated in ./wgsl.ts.
 *
 * - Dispatch never stalls: commands go into one open compute pass of one command encoder
 *   and are submitted in batches ({@link BATCH} dispatches); only {@link WebGPUBackend.read}
 *   waits for the GPU.
 * - Shapes travel in a per-dispatch 256-byte slice of a uniform "arena" buffer, so one
 *   compiled pipeline serves every shape of its class.
 * - Buffers come from a pool of size buckets (see {@link WebGPUBackend.free}).
 */
import { adamConstants, contiguousStrides, numel, type AdamHyper, type AdamStepResult, type ArgReduceOp, type Backend, type BackendMemory, type BinaryOp, type BufferHandle, type CompareOp, type Conv2dParams, type DType, type MatmulEpilogue, type MatmulEpilogueResult, type ReduceOp, type SortResult, type TypedArray, type UnaryOp, type View } from '@tsgrad/core';
import { acquireDevice, type DeviceOptions } from './device.js';
import * as K from './wgsl.js';
import * as KO from './wgsl-optim.js';

/** Dispatches recorded before the command buffer is submitted. */
export const BATCH = 128;
const SLOT_BYTES = K.PARAM_WORDS * 4;

// WebGPU enum values (numeric, so that Node needs no globals from the webgpu package).
const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128 } as const;
const MAP_READ = 1;

/** A device buffer holding one tensor's storage (4 bytes per element for every dtype). */
class GpuBuffer {
  live = true;
  constructor(
    readonly buffer: GPUBuffer,
    /** Allocated bytes (the pool bucket). */
    readonly bytes: number,
    /** Index of the submission that last used it (pending index while unsubmitted). */
    public lastUse: number,
  ) {}
}

/** Options of {@link createWebGPUBackend}. */
export interface WebGPUBackendOptions extends DeviceOptions {
  /** Bytes of freed buffers kept for reuse before the oldest are destroyed (default 256 MiB). */
  readonly poolLimitBytes?: number;
  /**
   * GEMM kernel choice for matmul and dense conv: `'auto'` (default) takes the small-output
   * kernel for thin outputs and the tiled one otherwise; `'tiled'` always tiles (for tests).
   */
  readonly gemm?: 'auto' | 'tiled';
}

/** Counters beyond {@link Backend.memory}: the pool, pipelines, dispatches and submissions. */
export interface WebGPUStats {
  /** Buffers held by live tensors. */
  readonly liveBuffers: number;
  /** Bytes of those buffers. */
  readonly liveBytes: number;
  /** Freed buffers kept in the pool for reuse. */
  readonly pooledBuffers: number;
  /** Bytes of pooled buffers. */
  readonly pooledBytes: number;
  /** Buffers created on the device so far. */
  readonly created: number;
  /** Acquisitions served from the pool. */
  readonly reused: number;
  /** Compiled pipelines (kernel shape-classes). */
  readonly pipelines: number;
  /** Compute dispatches recorded. */
  readonly dispatches: number;
  /** Command buffers submitted. */
  readonly submits: number;
}

type WT = K.WType;

function wtype(d: DType, op: string): WT {
  switch (d) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    case 'float64':
      throw new TypeError(`webgpu: ${op}: float64 is not supported on the webgpu backend (WGSL has no 64-bit floats); use float32, or the js backend for float64`);
  }
}

const F32_UNARY: Record<UnaryOp, (x: string) => string> = {
  neg: (x) => `-${x}`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  exp: (x) => `exp_(${x})`,
  log: (x) => `log_(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  reciprocal: (x) => `1.0 / ${x}`,
  sin: (x) => `sin(${x})`,
  cos: (x) => `cos(${x})`,
  tanh: (x) => `tanh_(${x})`,
  erf: (x) => `erf_(${x})`,
  log1p: (x) => `log1p_(${x})`,
  expm1: (x) => `expm1_(${x})`,
  atan: (x) => `atan_(${x})`,
  floor: (x) => `floor(${x})`,
  ceil: (x) => `ceil(${x})`,
  round: (x) => `round(${x})`, // WGSL's round takes halves to even, as torch.round
  trunc: (x) => `trunc(${x})`,
};

/** Rounding an int32 is the identity (through f32 it would lose digits past 2^24). */
const INT_IDENTITY: ReadonlySet<UnaryOp> = new Set(['floor', 'ceil', 'round', 'trunc']);

function unaryExpr(op: UnaryOp, t: WT): string {
  if (t === 'f32') return F32_UNARY[op]('a0');
  if (t === 'i32') {
    if (op === 'neg') return '-a0';
    if (op === 'abs') return 'abs(a0)';
    if (op === 'sign') return 'sign(a0)';
    if (INT_IDENTITY.has(op)) return 'a0';
    return `f2i(${F32_UNARY[op]('f32(a0)')})`; // like storing into an Int32Array
  }
  return `u32(f2i(${F32_UNARY[op]('f32(a0)')})) & 255u`; // like storing into a Uint8Array
}

const F32_BINARY: Record<BinaryOp, string> = {
  add: 'a0 + a1',
  sub: 'a0 - a1',
  mul: 'a0 * a1',
  div: 'a0 / a1',
  pow: 'powf(a0, a1)',
  maximum: 'maxf(a0, a1)',
  minimum: 'minf(a0, a1)',
  atan2: 'atan2_(a0, a1)',
};
const I32_BINARY: Record<BinaryOp, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `idiv(${a}, ${b})`,
  pow: (a, b) => `ipow(${a}, ${b})`,
  maximum: (a, b) => `max(${a}, ${b})`,
  minimum: (a, b) => `min(${a}, ${b})`,
  atan2: (a, b) => `f2i(atan2_(f32(${a}), f32(${b})))`,
};

function binaryExpr(op: BinaryOp, t: WT): string {
  if (t === 'f32') return F32_BINARY[op];
  if (t === 'i32') return I32_BINARY[op]('a0', 'a1');
  return `u32(${I32_BINARY[op]('i32(a0)', 'i32(a1)')}) & 255u`;
}

// `ne` as `!(a == b)`: true when either side is NaN, as in JavaScript.
const COMPARE_EXPR: Record<CompareOp, string> = { eq: 'a0 == a1', ne: '!(a0 == a1)', lt: 'a0 < a1', le: 'a0 <= a1' };

function castExpr(from: WT, to: WT): string {
  if (from === to) return 'a0';
  if (to === 'u32') return `select(0u, 1u, !(a0 == ${from}(0)))`; // NaN is true, as in JavaScript
  if (to === 'i32') return from === 'f32' ? 'f2i(a0)' : 'i32(a0)';
  return 'f32(a0)';
}

/**
 * Drops length-1 dimensions and merges neighbours that every view steps through as one
 * (stride of the outer = stride of the inner * its length).
 */
function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Whether a strided placement of `shape` hits any position twice. */
function overlaps(shape: readonly number[], strides: readonly number[]): boolean {
  const dims = shape.map((n, i) => ({ n, s: Math.abs(strides[i]!) })).filter((d) => d.n > 1).sort((a, b) => a.s - b.s);
  let extent = 1; // positions spanned by the inner dims so far
  for (const d of dims) {
    if (d.s < extent) return true;
    extent = d.s * (d.n - 1) + extent;
  }
  return false;
}

function checkRank(rank: number, op: string): void {
  if (rank > K.MAX_RANK) {
    throw new RangeError(`webgpu: ${op}: a view with ${rank} dimensions that cannot be merged exceeds the kernels' limit of ${K.MAX_RANK}; make it contiguous first`);
  }
}

/** A parameter block under construction (64 words). */
class Params {
  readonly i32 = new Int32Array(K.PARAM_WORDS);
  private readonly f32 = new Float32Array(this.i32.buffer);
  set(at: number, ...vals: number[]): this {
    for (let k = 0; k < vals.length; k++) this.i32[at + k] = vals[k]!;
    return this;
  }
  setF(at: number, v: number): this {
    this.f32[at] = v;
    return this;
  }
}

/** The WebGPU backend. Create it with {@link createWebGPUBackend} or `setBackend('webgpu')`. */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly canReadSync = false;
  /** What the adapter reported about itself (vendor / architecture / device / description). */
  readonly adapterName: string;
  /** Whether the adapter is a software fallback such as SwiftShader. */
  readonly isFallbackAdapter: boolean;
  /** The largest buffer one kernel binding can see, in bytes: the largest tensor allowed. */
  readonly maxBindingBytes: number;

  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pool = new Map<number, GpuBuffer[]>();
  private readonly arena: Int32Array;
  private readonly arenaGpu: GPUBuffer;
  private readonly errFlag: GPUBuffer;
  private readonly poolLimit: number;
  private readonly gemmChoice: 'auto' | 'tiled';
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private slots = 0;
  private submitted = 0;
  private liveBuffers = 0;
  private liveBytes = 0;
  private pooledBuffers = 0;
  private pooledBytes = 0;
  private created = 0;
  private reused = 0;
  private dispatches = 0;
  private failure: Error | null = null;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly checks = new Set<Promise<void>>();

  /** Wraps a device; prefer {@link createWebGPUBackend}. */
  constructor(
    /** The device all work goes to. */
    readonly device: GPUDevice,
    info: { adapterName: string; isFallback: boolean; gpu: GPU | null },
    opts: WebGPUBackendOptions = {},
  ) {
    this.adapterName = info.adapterName;
    this.isFallbackAdapter = info.isFallback;
    // Held so that dawn.node's GPU object outlives every device made from it.
    (this as { gpuRef?: GPU | null }).gpuRef = info.gpu;
    this.maxBindingBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.poolLimit = opts.poolLimitBytes ?? 256 * 1024 * 1024;
    this.gemmChoice = opts.gemm ?? 'auto';
    this.arena = new Int32Array((BATCH * SLOT_BYTES) / 4);
    this.arenaGpu = device.createBuffer({ size: BATCH * SLOT_BYTES, usage: USAGE.UNIFORM | USAGE.COPY_DST, label: 'tsgrad params' });
    this.errFlag = device.createBuffer({ size: 16, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, label: 'tsgrad index errors' });
    device.lost.then((info) => {
      this.lostInfo = info;
    });
    const onError = (ev: GPUUncapturedErrorEvent) => this.fail(new Error(`webgpu: uncaptured device error: ${ev.error.message}`));
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', (ev) => onError(ev as GPUUncapturedErrorEvent));
    else device.onuncapturederror = onError;
  }

  private fail(e: Error): void {
    this.failure ??= e;
  }

  /** A kernel that did not build: reported before the errors it causes downstream. */
  private buildFailure: Error | null = null;

  private check(): void {
    if (this.lostInfo) {
      throw new Error(`webgpu: the GPU device was lost (${this.lostInfo.reason}): ${this.lostInfo.message || 'no message'}; create a new backend`);
    }
    if (this.buildFailure) throw this.buildFailure;
    if (this.failure) throw this.failure;
  }

  /** Index the next submission will get: what recorded commands are tagged with. */
  private get pending(): number {
    return this.submitted + 1;
  }

  // ---- buffers ----

  private bucket(bytes: number, what: string): number {
    if (bytes > this.maxBindingBytes) {
      throw new RangeError(
        `webgpu: ${what} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, more than this device's largest storage binding (maxStorageBufferBindingSize ${(this.maxBindingBytes / 2 ** 20).toFixed(1)} MiB); use a smaller batch`,
      );
    }
    if (bytes <= 256) return 256;
    const p = 2 ** Math.ceil(Math.log2(bytes));
    const step = p / 8;
    return Math.min(Math.ceil(bytes / step) * step, Math.floor(this.maxBindingBytes / 4) * 4);
  }

  private acquire(elems: number, what: string): GpuBuffer {
    this.check();
    const size = this.bucket(elems * 4, what);
    const free = this.pool.get(size);
    const reuse = free?.pop();
    if (reuse) {
      this.pooledBuffers--;
      this.pooledBytes -= size;
      this.reused++;
      reuse.live = true;
      this.liveBuffers++;
      this.liveBytes += size;
      return reuse;
    }
    const buffer = this.device.createBuffer({ size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    this.created++;
    this.liveBuffers++;
    this.liveBytes += size;
    return new GpuBuffer(buffer, size, 0);
  }

  /**
   * Returns a buffer to the pool. It may serve the next kernel output at once: WebGPU runs
   * commands in queue order, so a later dispatch that writes it runs after every earlier
   * one that read it. Uploads (`queue.writeBuffer`) jump ahead of commands not yet
   * submitted, so {@link upload} submits first when its buffer was used by such commands.
   * Past `poolLimitBytes`, pooled buffers whose last use was submitted are destroyed.
   */
  free(handle: BufferHandle): void {
    const b = handle as GpuBuffer;
    if (!b.live) return;
    b.live = false;
    this.liveBuffers--;
    this.liveBytes -= b.bytes;
    let list = this.pool.get(b.bytes);
    if (!list) this.pool.set(b.bytes, (list = []));
    list.push(b);
    this.pooledBuffers++;
    this.pooledBytes += b.bytes;
    if (this.pooledBytes > this.poolLimit) this.trim(this.poolLimit / 2);
  }

  private trim(target: number): void {
    for (const [size, list] of [...this.pool.entries()].sort((a, b) => b[0] - a[0])) {
      for (let i = 0; i < list.length && this.pooledBytes > target; ) {
        const b = list[i]!;
        if (b.lastUse >= this.pending) {
          i++;
          continue; // still referenced by unsubmitted commands
        }
        list.splice(i, 1);
        b.buffer.destroy();
        this.pooledBuffers--;
        this.pooledBytes -= size;
      }
    }
  }

  /** Destroys every pooled (freed) buffer now; live tensors are untouched. */
  emptyCache(): void {
    this.flush();
    this.trim(0);
  }

  /** Live buffers and their bytes (what live tensors hold; the pool is in {@link stats}). */
  memory(): BackendMemory {
    return { buffers: this.liveBuffers, bytes: this.liveBytes };
  }

  /** Pool, pipeline and dispatch counters. */
  stats(): WebGPUStats {
    return {
      liveBuffers: this.liveBuffers,
      liveBytes: this.liveBytes,
      pooledBuffers: this.pooledBuffers,
      pooledBytes: this.pooledBytes,
      created: this.created,
      reused: this.reused,
      pipelines: this.pipelines.size,
      dispatches: this.dispatches,
      submits: this.submitted,
    };
  }

  upload(data: TypedArray, dtype: DType): BufferHandle {
    wtype(dtype, 'upload');
    const out = this.acquire(data.length, `a tensor of ${data.length} elements`);
    if (data.length === 0) return out;
    if (out.lastUse >= this.pending) this.flush(); // writeBuffer must not overtake unsubmitted readers
    const arr = dtype === 'float32' ? (data instanceof Float32Array ? data : Float32Array.from(data)) : dtype === 'int32' ? (data instanceof Int32Array ? data : Int32Array.from(data)) : Uint32Array.from(data);
    this.device.queue.writeBuffer(out.buffer, 0, arr.buffer, arr.byteOffset, arr.length * 4);
    out.lastUse = this.pending;
    return out;
  }

  /** A buffer of `size` elements of `value`, filled by a kernel (no host staging array). */
  fill(value: number, dtype: DType, size: number): BufferHandle {
    const t = wtype(dtype, 'fill');
    const out = this.acquire(size, `a tensor of ${size} elements`);
    if (size > 0) this.fillBuffer(out, size, t, value);
    return out;
  }

  readSync(): TypedArray {
    throw new Error("webgpu: readSync is not available: GPU memory is read asynchronously; use 'await tensor.data()'");
  }

  async read(handle: BufferHandle, dtype: DType, size: number): Promise<TypedArray> {
    // The copy must be recorded now, before any await: the caller may free the buffer (and
    // a later op reuse it) as soon as this returns its promise.
    if (this.lostInfo) this.check();
    const b = handle as GpuBuffer;
    const bytes = size * 4;
    const staging = this.device.createBuffer({ size: Math.max(bytes, 16), usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const flagStaging = this.device.createBuffer({ size: 16, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const enc = this.openEncoder();
    if (bytes > 0) enc.copyBufferToBuffer(b.buffer, 0, staging, 0, bytes);
    enc.copyBufferToBuffer(this.errFlag, 0, flagStaging, 0, 16);
    b.lastUse = this.pending;
    this.flush();
    try {
      // Kernel builds still being validated are awaited too, so that their errors surface here.
      await Promise.all([staging.mapAsync(MAP_READ), flagStaging.mapAsync(MAP_READ), ...this.checks]);
    } catch (e) {
      this.check();
      throw e;
    }
    try {
      this.check();
    } catch (e) {
      staging.destroy();
      flagStaging.destroy();
      throw e;
    }
    const flag = new Uint32Array(flagStaging.getMappedRange())[0]!;
    flagStaging.unmap();
    flagStaging.destroy();
    let out: TypedArray;
    const raw = staging.getMappedRange(0, Math.max(bytes, 16));
    if (dtype === 'float32') out = new Float32Array(raw.slice(0, bytes));
    else if (dtype === 'int32') out = new Int32Array(raw.slice(0, bytes));
    else out = Uint8Array.from(new Uint32Array(raw, 0, size));
    staging.unmap();
    staging.destroy();
    if (flag !== 0) {
      this.device.queue.writeBuffer(this.errFlag, 0, new Uint32Array(4));
      const ops = [flag & 1 ? 'gather' : '', flag & 2 ? 'scatterAdd' : ''].filter(Boolean).join(' and ');
      throw new RangeError(`webgpu: ${ops}: an index was out of range (detected on the GPU; gather read 0 and scatterAdd skipped it there)`);
    }
    return out;
  }

  // ---- command recording ----

  private openEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Submits the recorded commands (done automatically every {@link BATCH} dispatches and on read). */
  flush(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (!this.encoder) return;
    if (this.slots > 0) this.device.queue.writeBuffer(this.arenaGpu, 0, this.arena.buffer, 0, this.slots * SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slots = 0;
    this.submitted++;
  }

  /** Submits pending work and resolves when the GPU has finished all of it. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all(this.checks);
    this.check();
  }

  /** Releases the device (the backend is unusable afterwards). */
  destroy(): void {
    this.flush();
    this.device.destroy();
  }

  private pipeline(key: string, source: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (p) return p;
    const code = source();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: key });
    p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    const done = this.device.popErrorScope().then((err) => {
      if (err) this.buildFailure ??= new Error(`webgpu: kernel '${key}' failed to build: ${err.message}\n${code}`);
      this.checks.delete(done);
    });
    this.checks.add(done);
    this.pipelines.set(key, p);
    return p;
  }

  /** Records one dispatch: params into the arena, a bind group, and the workgroup grid. */
  private dispatch(key: string, source: () => string, out: GpuBuffer, inputs: readonly GPUBuffer[], params: Params, grid: readonly [number, number, number]): void {
    this.check();
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const pipeline = this.pipeline(key, source);
    if (this.slots === BATCH) this.flush();
    const slot = this.slots++;
    this.arena.set(params.i32, (slot * SLOT_BYTES) / 4);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arenaGpu, offset: slot * SLOT_BYTES, size: SLOT_BYTES } },
      { binding: 1, resource: { buffer: out.buffer } },
      ...inputs.map((buffer, k) => ({ binding: k + 2, resource: { buffer } })),
    ];
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    out.lastUse = this.pending;
    this.dispatches++;
  }

  /** A 2-D grid of `groups` workgroups (x at most 65,535). */
  private grid(groups: number): [number, number, number] {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    if (y > max) throw new RangeError(`webgpu: ${groups} workgroups exceed the dispatch grid ${max} x ${max}`);
    return [Math.ceil(groups / y), y, 1];
  }

  private buf(v: View | BufferHandle): GpuBuffer {
    const b = ('buffer' in v && !(v instanceof GpuBuffer) ? (v as View).buffer : v) as GpuBuffer;
    b.lastUse = this.pending;
    return b;
  }

  // ---- elementwise ("map") ----

  /**
   * Runs the map kernel over `shape`: output element i goes to `outView` (contiguous from
   * 0 unless given) and reads each input view at i.
   */
  private map(op: string, outT: WT, inputs: readonly View[], expr: string, shape: readonly number[], o: { out?: GpuBuffer; outView?: { offset: number; strides: readonly number[] }; accumulate?: boolean } = {}): GpuBuffer {
    const n = numel(shape);
    const out = o.out ?? this.acquire(n, `the output of ${op}`);
    if (n === 0) return out;
    const outStrides = o.outView?.strides ?? contiguousStrides(shape);
    const c = coalesce(shape, [outStrides, ...inputs.map((v) => v.strides)]);
    checkRank(c.shape.length, op);
    const p = new Params().set(0, n, c.shape.length).set(2, ...c.shape);
    const views = [{ offset: o.outView?.offset ?? 0 }, ...inputs];
    views.forEach((v, k) => {
      const at = K.MAP_VIEWS_AT + K.VIEW_SLOT * k;
      const st = c.strides[k]!;
      const contiguous = st.length === 0 || (st.length === 1 && st[0] === 1);
      p.set(at, v.offset, contiguous ? 1 : 0).set(at + 2, ...st);
    });
    const inTs = inputs.map((v) => wtype(v.dtype, op));
    const key = `map|${outT}|${inTs.join(',')}|${o.accumulate ? 'acc|' : ''}${expr}`;
    this.dispatch(key, () => K.mapKernel(outT, inTs, expr, o.accumulate), out, inputs.map((v) => this.buf(v).buffer), p, this.grid(Math.ceil(n / K.WG)));
    return out;
  }

  private fillBuffer(out: GpuBuffer, n: number, t: WT, value: number): void {
    const p = new Params().set(0, n);
    if (t === 'f32') p.setF(1, value);
    else p.set(1, value);
    this.dispatch(`fill|${t}`, () => K.fillKernel(t), out, [], p, this.grid(Math.ceil(n / K.WG)));
  }

  unary(op: UnaryOp, x: View): BufferHandle {
    const t = wtype(x.dtype, op);
    return this.map(op, t, [x], unaryExpr(op, t), x.shape);
  }

  binary(op: BinaryOp, a: View, b: View): BufferHandle {
    const t = wtype(a.dtype, op);
    return this.map(op, t, [a, b], binaryExpr(op, t), a.shape);
  }

  compare(op: CompareOp, a: View, b: View): BufferHandle {
    wtype(a.dtype, op);
    return this.map(op, 'u32', [a, b], `select(0u, 1u, ${COMPARE_EXPR[op]})`, a.shape);
  }

  where(cond: View, a: View, b: View): BufferHandle {
    return this.map('where', wtype(a.dtype, 'where'), [cond, a, b], 'select(a2, a1, a0 != 0u)', a.shape);
  }

  cast(x: View, dtype: DType): BufferHandle {
    const from = wtype(x.dtype, 'cast');
    const to = wtype(dtype, 'cast');
    return this.map('cast', to, [x], castExpr(from, to), x.shape);
  }

  copy(x: View): BufferHandle {
    return this.map('copy', wtype(x.dtype, 'copy'), [x], 'a0', x.shape);
  }

  embed(x: View, size: number, offset: number, strides: readonly number[]): BufferHandle {
    const t = wtype(x.dtype, 'embed');
    const out = this.acquire(size, 'the output of embed');
    this.fillBuffer(out, size, t, 0);
    const accumulate = overlaps(x.shape, strides);
    return this.map('embed', t, [x], 'a0', x.shape, { out, outView: { offset, strides }, accumulate });
  }

  cat(xs: readonly View[], axis: number): BufferHandle {
    const first = xs[0]!;
    const t = wtype(first.dtype, 'cat');
    const total = xs.reduce((acc, x) => acc + x.shape[axis]!, 0);
    const outShape = [...first.shape];
    outShape[axis] = total;
    const out = this.acquire(numel(outShape), 'the output of cat');
    const strides = contiguousStrides(outShape);
    let at = 0;
    for (const x of xs) {
      this.map('cat', t, [x], 'a0', x.shape, { out, outView: { offset: at * strides[axis]!, strides } });
      at += x.shape[axis]!;
    }
    return out;
  }

  // ---- indexing ----

  private gatherParams(op: string, data: View, axis: number, index: View, outShape: readonly number[] | null): Params {
    const rank = index.shape.length;
    checkRank(rank, op);
    const p = new Params().set(0, numel(index.shape), rank).set(2, ...index.shape);
    p.set(K.GS.idx, index.offset, ...index.strides);
    p.set(K.GS.data, data.offset, ...data.strides);
    if (outShape) p.set(K.GS.outStrides, ...contiguousStrides(outShape));
    p.set(K.GS.axis, axis, (outShape ?? data.shape)[axis]!);
    return p;
  }

  gather(x: View, axis: number, index: View): BufferHandle {
    const t = wtype(x.dtype, 'gather');
    const n = numel(index.shape);
    const out = this.acquire(n, 'the output of gather');
    const p = this.gatherParams('gather', x, axis, index, null);
    this.dispatch(`gather|${t}`, () => K.gatherKernel(t), out, [this.buf(x).buffer, this.buf(index).buffer, this.errFlag], p, this.grid(Math.ceil(n / K.WG)));
    return out;
  }

  scatterAdd(src: View, axis: number, index: View, shape: readonly number[]): BufferHandle {
    const t = wtype(src.dtype, 'scatterAdd');
    const size = numel(shape);
    const out = this.acquire(size, 'the output of scatterAdd');
    this.fillBuffer(out, size, t, 0);
    const p = this.gatherParams('scatterAdd', src, axis, index, shape);
    const n = numel(index.shape);
    this.dispatch(`scatterAdd|${t}`, () => K.scatterAddKernel(t), out, [this.buf(src).buffer, this.buf(index).buffer, this.errFlag], p, this.grid(Math.ceil(n / K.WG)));
    return out;
  }

  // ---- sorting ----

  /**
   * A rank kernel: one thread per element counts the elements of its row that sort before
   * it (ties by position, so the sort is stable) and writes its position at that rank;
   * the values are then gathered. O(len) work per element: simple and exact on every
   * device, and fast enough for the rows sort is used on (top-k over classes, medians).
   */
  sort(x: View, descending: boolean): SortResult {
    const t = wtype(x.dtype, 'sort');
    const n = numel(x.shape);
    const len = x.shape.length ? x.shape[x.shape.length - 1]! : 1;
    const dense = this.copy(x) as GpuBuffer;
    const indices = this.acquire(n, 'the indices of sort');
    if (len <= K.RANK_SORT_MAX) {
      const p = new Params().set(0, n, len, descending ? 1 : 0);
      this.dispatch(`sortRank|${t}`, () => K.sortRankKernel(t), indices, [this.buf(dense).buffer], p, this.grid(Math.ceil(n / K.WG)));
    } else {
      this.bitonic(t, dense, indices, n / len, len, descending);
    }
    const shape = [len === 0 ? 0 : n / len, len]; // rows of the dense copy: any rank fits the gather
    const strides = contiguousStrides(shape);
    const values = this.gather({ buffer: dense, dtype: x.dtype, shape, strides, offset: 0 }, 1, { buffer: indices, dtype: 'int32', shape, strides, offset: 0 });
    this.free(dense);
    return { values, indices };
  }

  /** Long rows: a bitonic network over rows padded to a power of two, one dispatch per pass. */
  private bitonic(t: WT, dense: GpuBuffer, indices: GpuBuffer, rows: number, len: number, descending: boolean): void {
    let P = 1;
    while (P < len) P *= 2;
    const total = rows * P;
    const keys = this.acquire(total, 'the keys of sort');
    const pos = this.acquire(total, 'the positions of sort');
    const params = () => new Params().set(0, total, len, descending ? 1 : 0, P);
    const grid = this.grid(Math.ceil(total / K.WG));
    this.dispatch(`sortInit|${t}`, () => K.sortBitonicInitKernel(t), keys, [this.buf(pos).buffer, this.buf(dense).buffer], params(), grid);
    for (let k = 2; k <= P; k *= 2) {
      for (let j = k / 2; j > 0; j = Math.floor(j / 2)) {
        this.dispatch(`sortStep|${t}`, () => K.sortBitonicStepKernel(t), keys, [this.buf(pos).buffer], params().set(4, k, j), grid);
      }
    }
    this.dispatch('sortCompact', () => K.sortBitonicCompactKernel(), indices, [this.buf(pos).buffer], params(), this.grid(Math.ceil((rows * len) / K.WG)));
    this.free(keys);
    this.free(pos);
  }

  // ---- reductions ----

  private reduceParams(op: string, x: View, axes: readonly number[]): { p: Params; outCount: number; len: number } {
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const k = coalesce(kept.map((i) => x.shape[i]!), [kept.map((i) => x.strides[i]!)]);
    const r = coalesce(axes.map((i) => x.shape[i]!), [axes.map((i) => x.strides[i]!)]);
    checkRank(k.shape.length, op);
    checkRank(r.shape.length, op);
    const outCount = numel(k.shape);
    const len = numel(r.shape);
    const redShape = r.shape.length ? r.shape : [1];
    const redStrides = r.strides[0]!.length ? r.strides[0]! : [0];
    const p = new Params().set(0, outCount, k.shape.length, redShape.length, len, x.offset);
    p.set(K.RED.keptShape, ...k.shape).set(K.RED.keptStrides, ...k.strides[0]!).set(K.RED.redShape, ...redShape).set(K.RED.redStrides, ...redStrides);
    return { p, outCount, len };
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BufferHandle {
    const t = wtype(x.dtype, op);
    const { p, outCount, len } = this.reduceParams(op, x, axes);
    const out = this.acquire(outCount, `the output of ${op}`);
    const tree = len >= 128 || (outCount <= 256 && len >= 16);
    this.dispatch(`reduce|${op}|${t}|${tree}`, () => K.reduceKernel(op, t, tree), out, [this.buf(x).buffer], p, this.grid(tree ? outCount : Math.ceil(outCount / K.WG)));
    return out;
  }

  argReduce(op: ArgReduceOp, x: View, axis: number): BufferHandle {
    const t = wtype(x.dtype, op);
    const { p, outCount } = this.reduceParams(op, x, [axis]);
    // The kernel steps along the axis with its own stride (the reduced dim is never merged away).
    p.set(K.RED.redStrides, x.strides[axis]!).set(3, x.shape[axis]!);
    const out = this.acquire(outCount, `the output of ${op}`);
    this.dispatch(`arg|${op}|${t}`, () => K.argReduceKernel(op, t), out, [this.buf(x).buffer], p, this.grid(Math.ceil(outCount / K.WG)));
    return out;
  }

  // ---- GEMM family ----

  /** Splits K across workgroups when the output has few tiles but K is long. */
  private splitsFor(M: number, N: number, K_: number, batches: number): { splits: number; kChunk: number } {
    const tiles = Math.ceil(M / K.TILE.M) * Math.ceil(N / K.TILE.N) * batches;
    if (tiles >= 32 || K_ < 1024) return { splits: 1, kChunk: K_ };
    const maxZ = this.device.limits.maxComputeWorkgroupsPerDimension;
    let splits = Math.min(Math.ceil(K_ / 256), Math.ceil(64 / tiles), Math.floor(maxZ / batches));
    splits = Math.max(1, splits);
    const kChunk = Math.ceil(K_ / splits / K.TILE.K) * K.TILE.K;
    return { splits: Math.ceil(K_ / kChunk), kChunk };
  }

  /**
   * Runs a GEMM variant: the small-output kernel for thin outputs (M or N at most 8, K not
   * split), else the tiled kernel, summing split-K partials into the output when K was split.
   */
  private gemm(key: string, variant: (vec4: boolean) => K.GemmVariant, vec4: boolean, outElems: number, inputs: readonly GPUBuffer[], p: Params, M: number, N: number, K_: number, batches: number, allowSplit: boolean): GpuBuffer {
    const { splits, kChunk } = allowSplit ? this.splitsFor(M, N, K_, batches) : { splits: 1, kChunk: K_ };
    if (this.gemmChoice === 'auto' && splits === 1 && (M <= 8 || N <= 8)) {
      p.set(0, M, N, K_, K_, 1, batches);
      const out = this.acquire(outElems, `the output of ${key}`);
      this.dispatch(`${key}|naive`, () => K.gemmNaiveKernel(variant(false)), out, inputs, p, this.grid(Math.ceil(outElems / K.WG)));
      return out;
    }
    const maxZ = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (batches * splits > maxZ) throw new RangeError(`webgpu: ${key}: ${batches} batches exceed the dispatch grid's ${maxZ}`);
    p.set(0, M, N, K_, Math.max(kChunk, 1), splits, batches);
    const target = this.acquire(outElems * splits, `the output of ${key}`);
    const grid: [number, number, number] = [Math.ceil(N / K.TILE.N), Math.ceil(M / K.TILE.M), batches * splits];
    if (K_ === 0) {
      this.fillBuffer(target, outElems, 'f32', 0);
      return target;
    }
    this.dispatch(`${key}|${vec4 ? 'vec4' : 'tiled'}`, () => K.gemmKernel(variant(vec4)), target, inputs, p, grid);
    if (splits === 1) return target;
    const out = this.acquire(outElems, `the output of ${key}`);
    this.dispatch('splitSum', K.splitSumKernel, out, [target.buffer], new Params().set(0, outElems, splits), this.grid(Math.ceil(outElems / K.WG)));
    this.free(target);
    return out;
  }

  matmul(a: View, b: View): BufferHandle {
    const t = wtype(a.dtype, 'matmul');
    if (t === 'u32') throw new TypeError('webgpu: matmul of bool tensors is not supported; cast to int32 or float32 first');
    const nd = a.shape.length;
    const M = a.shape[nd - 2]!;
    const K_ = a.shape[nd - 1]!;
    const N = b.shape[nd - 1]!;
    const batch = coalesce(a.shape.slice(0, nd - 2), [a.strides.slice(0, nd - 2), b.strides.slice(0, nd - 2)]);
    if (batch.shape.length > 4) throw new RangeError(`webgpu: matmul: ${batch.shape.length} batch dimensions that cannot be merged exceed the limit of 4`);
    const batches = numel(batch.shape);
    const [am, ak] = [a.strides[nd - 2]!, a.strides[nd - 1]!];
    const [bk, bn] = [b.strides[nd - 2]!, b.strides[nd - 1]!];
    const p = new Params().set(K.MM.rank, batch.shape.length).set(K.MM.shape, ...batch.shape);
    p.set(K.MM.a, a.offset, ...pad4(batch.strides[0]!), am, ak);
    p.set(K.MM.b, b.offset, ...pad4(batch.strides[1]!), bk, bn);
    const m4 = (v: number) => v % 4 === 0;
    const vec4 = ak === 1 && bn === 1 && m4(K_) && m4(N) && m4(am) && m4(bk) && m4(a.offset) && m4(b.offset) && [...batch.strides[0]!, ...batch.strides[1]!].every(m4);
    if (t === 'i32') {
      // int32: exact wrapping sums, like js's float64 sums stored into an Int32Array; small-output kernel only.
      p.set(0, M, N, K_, K_, 1, batches);
      const out = this.acquire(batches * M * N, 'the output of matmul');
      this.dispatch('matmul|i32|naive', () => K.gemmNaiveKernel(K.matmulVariant(false, 'i32'), 'i32'), out, [this.buf(a).buffer, this.buf(b).buffer], p, this.grid(Math.ceil((batches * M * N) / K.WG)));
      return out;
    }
    return this.gemm('matmul', (v) => K.matmulVariant(v), vec4, batches * M * N, [this.buf(a).buffer, this.buf(b).buffer], p, M, N, K_, batches, true);
  }

  private convParams(x: readonly number[], w: readonly number[], oh: number, ow: number, c: Conv2dParams, views: { x?: View; w?: View; gy?: View }): Params {
    const [n, ch, h, wd] = x as [number, number, number, number];
    const [o, cg, kh, kw] = w as [number, number, number, number];
    const p = new Params().set(K.CV.n, n, ch, h, wd, o, cg, o / c.groups, kh, kw, oh, ow, c.stride[0], c.stride[1], c.padding[0], c.padding[1], c.dilation[0], c.dilation[1], c.groups);
    for (const [k, at] of [['x', K.CV.x], ['w', K.CV.w], ['gy', K.CV.gy]] as const) {
      const v = views[k];
      if (v) p.set(at, v.offset, ...v.strides);
    }
    return p;
  }

  private outHW(xShape: readonly number[], wShape: readonly number[], c: Conv2dParams): [number, number] {
    const oh = Math.floor((xShape[2]! + 2 * c.padding[0] - c.dilation[0] * (wShape[2]! - 1) - 1) / c.stride[0]) + 1;
    const ow = Math.floor((xShape[3]! + 2 * c.padding[1] - c.dilation[1] * (wShape[3]! - 1) - 1) / c.stride[1]) + 1;
    return [oh, ow];
  }

  private requireF32(op: string, ...vs: View[]): void {
    for (const v of vs) if (v.dtype !== 'float32') throw new TypeError(`webgpu: ${op} supports float32 only, got ${v.dtype}`);
  }

  conv2d(x: View, w: View, c: Conv2dParams): BufferHandle {
    this.requireF32('conv2d', x, w);
    const [oh, ow] = this.outHW(x.shape, w.shape, c);
    const [n] = x.shape as [number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const p = this.convParams(x.shape, w.shape, oh, ow, c, { x, w });
    const count = n * o * oh * ow;
    if (cg === 1) {
      const out = this.acquire(count, 'the output of conv2d');
      p.set(0, count);
      this.dispatch('dw|fwd', () => K.depthwiseKernel('fwd'), out, [this.buf(x).buffer, this.buf(w).buffer], p, this.grid(Math.ceil(count / K.WG)));
      return out;
    }
    return this.gemm('conv|fwd', () => K.convVariant('fwd'), false, count, [this.buf(x).buffer, this.buf(w).buffer], p, o / c.groups, oh * ow, cg * kh * kw, n * c.groups, false);
  }

  conv2dBackwardInput(gy: View, w: View, xShape: readonly number[], c: Conv2dParams): BufferHandle {
    this.requireF32('conv2dBackwardInput', gy, w);
    const [oh, ow] = [gy.shape[2]!, gy.shape[3]!];
    const [n, ch, h, wd] = xShape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const p = this.convParams(xShape, w.shape, oh, ow, c, { w, gy });
    const count = n * ch * h * wd;
    if (cg === 1) {
      const out = this.acquire(count, 'the input gradient of conv2d');
      p.set(0, count);
      this.dispatch('dw|bwdInput', () => K.depthwiseKernel('bwdInput'), out, [this.buf(gy).buffer, this.buf(w).buffer], p, this.grid(Math.ceil(count / K.WG)));
      return out;
    }
    return this.gemm('conv|bwdInput', () => K.convVariant('bwdInput'), false, count, [this.buf(gy).buffer, this.buf(w).buffer], p, cg, h * wd, (o / c.groups) * kh * kw, n * c.groups, false);
  }

  conv2dBackwardWeight(x: View, gy: View, wShape: readonly number[], c: Conv2dParams): BufferHandle {
    this.requireF32('conv2dBackwardWeight', x, gy);
    const [oh, ow] = [gy.shape[2]!, gy.shape[3]!];
    const [n] = x.shape as [number];
    const [o, cg, kh, kw] = wShape as [number, number, number, number];
    const p = this.convParams(x.shape, wShape, oh, ow, c, { x, gy });
    const count = o * cg * kh * kw;
    if (cg === 1) {
      const out = this.acquire(count, 'the weight gradient of conv2d');
      p.set(0, count);
      const serial = n * oh * ow < 4096;
      const kind = serial ? 'bwdWeightSerial' : 'bwdWeight';
      this.dispatch(`dw|${kind}`, () => K.depthwiseKernel(kind), out, [this.buf(x).buffer, this.buf(gy).buffer], p, this.grid(serial ? Math.ceil(count / K.WG) : count));
      return out;
    }
    return this.gemm('conv|bwdWeight', () => K.convVariant('bwdWeight'), false, count, [this.buf(x).buffer, this.buf(gy).buffer], p, o / c.groups, cg * kh * kw, n * oh * ow, c.groups, true);
  }

  /**
   * The GEMM, then the whole epilogue (`residual + scale * act(z + bias)`, and `pre = z + bias`
   * when asked) as one elementwise pass that writes the requested layout: two passes where
   * the composed ops take five.
   */
  matmulEpilogue(a: View, b: View, ep: MatmulEpilogue): MatmulEpilogueResult | null {
    if (a.dtype !== 'float32' || a.shape.length !== 2 || b.shape.length !== 2) return null;
    const [M, K_] = a.shape as [number, number];
    const N = b.shape[1]!;
    if (M === 0 || N === 0 || K_ === 0) return null;
    const G = ep.groups;
    if (!(Number.isInteger(G) && G >= 1 && M % G === 0)) throw new RangeError(`webgpu: matmulEpilogue: groups ${G} must divide the ${M} rows`);
    const P = M / G;
    const z = this.matmul(a, b) as GpuBuffer;
    const shape = [G, P, N];
    const outView = { offset: 0, strides: ep.layout === 'channelsFirst' ? [N * P, 1, P] : [P * N, N, 1] };
    const inputs: View[] = [{ buffer: z, dtype: 'float32', shape, strides: [P * N, N, 1], offset: 0 }];
    const operand = (v: View, perColumn: boolean): string => {
      inputs.push(perColumn ? { ...v, shape, strides: [0, 0, v.strides[0]!] } : v);
      return `a${inputs.length - 1}`;
    };
    try {
      let e = ep.bias ? `(a0 + ${operand(ep.bias, true)})` : 'a0';
      const pre = ep.keepPre ? this.map('matmulEpilogue', 'f32', inputs, e, shape, { outView }) : null;
      if (ep.activation === 'gelu') e = `(0.5 * ${e} * (1.0 + erf_(${e} * 0.7071067811865476)))`;
      else if (ep.activation === 'gelu_tanh') e = `(0.5 * ${e} * (1.0 + tanh_(0.7978845608028654 * (${e} + 0.044715 * ${e} * ${e} * ${e}))))`;
      if (ep.scale) e = `(${e} * ${operand(ep.scale, true)})`;
      if (ep.residual) e = `(${operand(ep.residual, false)} + ${e})`;
      return { out: this.map('matmulEpilogue', 'f32', inputs, e, shape, { outView }), pre };
    } finally {
      this.free(z);
    }
  }

  // ---- fused along-axis and GELU kernels ----

  gelu(x: View, approximate: 'none' | 'tanh'): BufferHandle {
    this.requireF32('gelu', x);
    const expr = approximate === 'tanh' ? '0.5 * a0 * (1.0 + tanh_(0.7978845608028654 * (a0 + 0.044715 * a0 * a0 * a0)))' : '0.5 * a0 * (1.0 + erf_(a0 * 0.7071067811865476))';
    return this.map('gelu', 'f32', [x], expr, x.shape);
  }

  geluBackward(x: View, g: View, approximate: 'none' | 'tanh'): BufferHandle {
    this.requireF32('geluBackward', x, g);
    const expr = approximate === 'tanh' ? 'a1 * geluTanhGrad(a0)' : 'a1 * (0.5 * (1.0 + erf_(a0 * 0.7071067811865476)) + a0 * exp_(-0.5 * a0 * a0) * 0.3989422804014327)';
    return this.map('geluBackward', 'f32', [x, g], expr, x.shape);
  }

  private line(op: K.LineOp, inputs: readonly View[], outer: number, len: number, inner: number, eps = 0): GpuBuffer {
    this.requireF32(op, ...inputs);
    const lines = outer * inner;
    const out = this.acquire(lines * len, `the output of ${op}`);
    if (lines === 0 || len === 0) return out;
    const tree = len >= 128 || (lines < 1024 && len >= 32);
    const p = new Params().set(0, lines, len, inner).setF(3, eps).set(4, inputs[0]!.offset, inputs[1]?.offset ?? 0);
    this.dispatch(`line|${op}|${tree}`, () => K.lineKernel(op, tree), out, inputs.map((v) => this.buf(v).buffer), p, this.grid(tree ? lines : Math.ceil(lines / K.WG)));
    return out;
  }

  normalize(x: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    return this.line('normalize', [x], outer, len, inner, eps);
  }

  normalizeBackward(x: View, g: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    return this.line('normalizeBackward', [x, g], outer, len, inner, eps);
  }

  logSoftmax(x: View, outer: number, len: number, inner: number): BufferHandle {
    return this.line('logSoftmax', [x], outer, len, inner);
  }

  logSoftmaxBackward(y: View, g: View, outer: number, len: number, inner: number): BufferHandle {
    return this.line('logSoftmaxBackward', [y, g], outer, len, inner);
  }

  // ---- fused optimizer kernels (dense float32 views from offset 0) ----

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): AdamStepResult {
    const ins = [param, grad, expAvg, expAvgSq, ...(maxExpAvgSq ? [maxExpAvgSq] : [])];
    this.requireF32('adamStep', ...ins);
    const n = numel(param.shape);
    const [po, mo, vo] = ['parameter', 'exp_avg', 'exp_avg_sq'].map((w) => this.acquire(n, `the new ${w} of adamStep`)) as [GpuBuffer, GpuBuffer, GpuBuffer];
    const vmo = maxExpAvgSq ? this.acquire(n, 'the new max_exp_avg_sq of adamStep') : null;
    const c = adamConstants(h);
    const variant: KO.AdamVariant = { l2: c.l2 !== 0, amsgrad: h.amsgrad, maximize: h.maximize };
    const p = new Params().set(0, n);
    [c.decay, c.l2, c.b1, c.omb1, c.b2, c.omb2, c.sbc2, c.eps, c.stepSize].forEach((v, k) => p.setF(1 + k, v));
    const outs = [mo, vo, ...(vmo ? [vmo] : [])];
    for (const o of outs) this.buf(o);
    const key = `adam|${+variant.l2}${+variant.amsgrad}${+variant.maximize}`;
    this.dispatch(key, () => KO.adamKernel(variant), po, [...ins.map((v) => this.buf(v).buffer), ...outs.map((o) => o.buffer)], p, this.grid(Math.ceil(n / K.WG)));
    return { param: po, expAvg: mo, expAvgSq: vo, maxExpAvgSq: vmo };
  }

  totalNorm(xs: readonly View[], normType: number): BufferHandle {
    this.requireF32('totalNorm', ...xs);
    const kind: KO.NormKind = normType === Infinity ? 'inf' : normType === 1 ? 1 : normType === 2 ? 2 : (() => {
      throw new RangeError(`webgpu: totalNorm supports norm types 1, 2 and Infinity, got ${normType}`);
    })();
    const key = `norm|${kind}`;
    const src = () => KO.normKernel(kind);
    const out = this.acquire(1, 'the total norm');
    const norms = this.acquire(Math.max(1, xs.length), 'the per-tensor norms');
    xs.forEach((x, k) => this.dispatch(key, src, norms, [this.buf(x).buffer], new Params().set(0, numel(x.shape), k), [1, 1, 1]));
    this.dispatch(key, src, out, [this.buf(norms).buffer], new Params().set(0, xs.length, 0), [1, 1, 1]);
    // Back to the pool: later commands that reuse it run after these (queue order).
    this.free(norms);
    return out;
  }

  clipScale(xs: readonly View[], total: View, maxNorm: number): BufferHandle[] {
    this.requireF32('clipScale', total, ...xs);
    return xs.map((x) => {
      const n = numel(x.shape);
      const out = this.acquire(n, 'the output of clipScale');
      const p = new Params().set(0, n).setF(1, maxNorm).setF(2, 1e-6);
      this.dispatch('clipScale', KO.clipScaleKernel, out, [this.buf(x).buffer, this.buf(total).buffer], p, this.grid(Math.ceil(n / K.WG)));
      return out;
    });
  }
}

function pad4(v: readonly number[]): number[] {
  return [...v, 0, 0, 0, 0].slice(0, 4);
}

/**
 * Creates a WebGPU backend: finds an adapter (`navigator.gpu`, or the `webgpu` package in
 * Node), requests its compute limits, and throws a clear error naming what was tried when
 * there is none.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const got = await acquireDevice(opts);
  return new WebGPUBackend(got.device, got, opts);
}
