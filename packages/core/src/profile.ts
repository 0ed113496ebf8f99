/**
 * The profiler: `profile(fn)` times every backend primitive and every composed op that `fn`
 * runs, forward and backward apart, and returns a per-op table (like PyTorch's
 * `key_averages()`) and a Chrome trace (Perfetto). While it runs, the methods of every
 * initialised backend are shadowed by timing wrappers on the instance; when it ends they
 * are removed, so code that is not profiled runs exactly as before.
 */
import type { Backend, BackendPeak, Conv2dParams, MatmulEpilogue, View } from './backend.js';
import { itemSize, type DType } from './dtype.js';
import { activeSink, setSink, type SpanKind, type SpanSink } from './profile-span.js';
import { getBackend, initialisedBackends } from './registry.js';

export { recordFunction, type SpanKind } from './profile-span.js';

/** Options of {@link profile}. */
export interface ProfileOptions {
  /** Peaks to rate against (default: the current backend's own `peakRates()` report, when it has one). */
  readonly peak?: BackendPeak;
  /**
   * Backends to time besides the registry's initialised ones (a backend made directly,
   * e.g. by `createWebGPUBackend()`, and never passed to `registerBackend`).
   */
  readonly backends?: readonly Backend[];
}

/** One recorded span. Times are milliseconds from the start of the profile. */
export interface ProfileEvent {
  /** Op, primitive or region name (`add`, `matmul`, `gelu`, `autograd.backward`...). */
  readonly name: string;
  /** `prim`: a backend call; `op`: a composed op; `grad`: one op's backward (its VJP); `region`: a labelled range. */
  readonly kind: SpanKind;
  /** Whether it ran inside autograd's backward pass. */
  readonly phase: 'forward' | 'backward';
  /** The backend of a primitive (`''` for spans of the op layer). */
  readonly backend: string;
  /** Start (ms since the profile began). */
  readonly start: number;
  /** Duration (ms), children included. */
  duration: number;
  /** Duration less the direct children's. */
  self: number;
  /** Index of the enclosing event, or -1. */
  readonly parent: number;
  /** Nesting depth (0: top level). */
  readonly depth: number;
  /** Bytes the primitive read (for spans: of every primitive inside). */
  bytesRead: number;
  /** Bytes the primitive wrote. */
  bytesWritten: number;
  /** Floating-point operations (counted for matmul and convolutions only). */
  flops: number;
  /** Input shapes of a primitive. */
  readonly shapes?: readonly (readonly number[])[];
  /** True for async calls (`read`): timed to completion, outside the nesting. */
  readonly async?: boolean;
}

/** One row of {@link Profile.rows}: every event with the same name, kind and phase. */
export interface ProfileRow {
  /** Op or primitive name. */
  readonly name: string;
  /** See {@link ProfileEvent.kind}. */
  readonly kind: SpanKind;
  /** Forward or backward work. */
  readonly phase: 'forward' | 'backward';
  /** How many times it ran. */
  readonly calls: number;
  /** Total milliseconds, children included. */
  readonly totalMs: number;
  /** Milliseconds outside its children. */
  readonly selfMs: number;
  /** Bytes read (inclusive of children for spans). */
  readonly bytesRead: number;
  /** Bytes written. */
  readonly bytesWritten: number;
  /** Floating-point operations (matmul and convolutions). */
  readonly flops: number;
  /** GFLOP/s over the total time (when flops were counted), else null. */
  readonly gflops: number | null;
  /** GB/s (read + written over the total time), else null. */
  readonly gbps: number | null;
  /** The rate as a fraction of the backend's peak (GFLOP/s when counted, else GB/s), when a peak is known. */
  readonly peakFraction: number | null;
}

/** Options of {@link Profile.table}. */
export interface TableOptions {
  /** Sort by: `self` (default), `total` or `calls`. */
  readonly sortBy?: 'self' | 'total' | 'calls';
  /** Rows to show (default 20). */
  readonly top?: number;
  /** Only rows of these kinds. */
  readonly kinds?: readonly SpanKind[];
  /** Start with the notes (wall time, time outside ops, async backends, the peak); default true. */
  readonly notes?: boolean;
}

/** A Chrome trace (the JSON object Perfetto and chrome://tracing open). */
export interface ChromeTrace {
  /** Complete events (`ph: 'X'`) in microseconds, plus thread-name metadata. */
  readonly traceEvents: readonly ChromeTraceEvent[];
  /** How the viewer shows times. */
  readonly displayTimeUnit: 'ms';
}

/** One event of a {@link ChromeTrace}. */
export interface ChromeTraceEvent {
  /** The span's name (or the metadata record's: `process_name`, `thread_name`). */
  readonly name: string;
  /** The span's {@link SpanKind}. */
  readonly cat?: string;
  /** `X`: a complete event; `M`: metadata. */
  readonly ph: 'X' | 'M';
  /** Start in microseconds from the profile's start. */
  readonly ts?: number;
  /** Duration in microseconds. */
  readonly dur?: number;
  /** Process id (always 1). */
  readonly pid: number;
  /** Thread: 1 for the nested spans, 2 for async reads (they overlap other work). */
  readonly tid: number;
  /** Phase, self time, backend, bytes, flops and input shapes. */
  readonly args?: Record<string, unknown>;
}

/** What {@link profile} returns: the function's value and what it did. */
export class Profile<R = unknown> {
  constructor(
    /** What the profiled function returned. */
    readonly value: R,
    /** Every span in start order. */
    readonly events: readonly ProfileEvent[],
    /** Wall-clock milliseconds of the whole profiled call. */
    readonly wallMs: number,
    /** The backends that were timed, with whether their times are CPU-side submission only. */
    readonly backends: readonly { readonly name: string; readonly async: boolean }[],
    /** The peak rates were stated against. */
    readonly peak: BackendPeak,
  ) {}

  /** The events aggregated by name, kind and phase (like PyTorch's `key_averages()`), by self time. */
  get rows(): ProfileRow[] {
    const byKey = new Map<string, { name: string; kind: SpanKind; phase: 'forward' | 'backward'; calls: number; totalMs: number; selfMs: number; bytesRead: number; bytesWritten: number; flops: number }>();
    for (const e of this.events) {
      const key = `${e.kind}\u0000${e.name}\u0000${e.phase}`;
      let r = byKey.get(key);
      if (!r) byKey.set(key, (r = { name: e.name, kind: e.kind, phase: e.phase, calls: 0, totalMs: 0, selfMs: 0, bytesRead: 0, bytesWritten: 0, flops: 0 }));
      r.calls++;
      r.totalMs += e.duration;
      r.selfMs += e.self;
      r.bytesRead += e.bytesRead;
      r.bytesWritten += e.bytesWritten;
      r.flops += e.flops;
    }
    return [...byKey.values()]
      .map((r) => {
        const s = r.totalMs / 1000;
        const gflops = r.flops > 0 && s > 0 ? r.flops / s / 1e9 : null;
        const bytes = r.bytesRead + r.bytesWritten;
        const gbps = bytes > 0 && s > 0 ? bytes / s / 1e9 : null;
        const peakFraction = gflops !== null ? (this.peak.gflops ? gflops / this.peak.gflops : null) : gbps !== null && this.peak.gbps ? gbps / this.peak.gbps : null;
        return { ...r, gflops, gbps, peakFraction };
      })
      .sort((a, b) => b.selfMs - a.selfMs);
  }

  /** Milliseconds of the profiled call spent outside any span (JS between ops: the eager overhead and the caller's own work). */
  get untrackedMs(): number {
    let covered = 0;
    for (const e of this.events) if (e.depth === 0 && !e.async) covered += e.duration;
    return Math.max(0, this.wallMs - covered);
  }

  /** The table as text, like PyTorch's `key_averages().table()`. */
  table(opts: TableOptions = {}): string {
    const sortBy = opts.sortBy ?? 'self';
    if (!['self', 'total', 'calls'].includes(sortBy)) throw new Error(`Profile.table: sortBy must be 'self', 'total' or 'calls', got '${String(sortBy)}'`);
    const top = opts.top ?? 20;
    if (!Number.isInteger(top) || top < 1) throw new Error(`Profile.table: top must be a positive integer, got ${top}`);
    let rows = this.rows;
    if (opts.kinds) rows = rows.filter((r) => opts.kinds!.includes(r.kind));
    const key = sortBy === 'self' ? (r: ProfileRow) => r.selfMs : sortBy === 'total' ? (r: ProfileRow) => r.totalMs : (r: ProfileRow) => r.calls;
    rows.sort((a, b) => key(b) - key(a));
    const selfSum = this.events.reduce((a, e) => a + (e.async ? 0 : e.self), 0) || 1;
    const mb = (b: number) => (b / 1e6).toFixed(1);
    const head = ['Name', 'Kind', 'Phase', 'Calls', 'Self ms', 'Self %', 'Total ms', 'Avg us', 'Read MB', 'Write MB', 'Rate', '% peak'];
    const body = rows.slice(0, top).map((r) => [
      r.name,
      r.kind,
      r.phase === 'backward' ? 'bwd' : 'fwd',
      String(r.calls),
      r.selfMs.toFixed(2),
      ((100 * r.selfMs) / selfSum).toFixed(1),
      r.totalMs.toFixed(2),
      ((1000 * r.totalMs) / r.calls).toFixed(1),
      mb(r.bytesRead),
      mb(r.bytesWritten),
      r.gflops !== null ? `${r.gflops.toFixed(1)} GFLOP/s` : r.gbps !== null ? `${r.gbps.toFixed(2)} GB/s` : '',
      r.peakFraction !== null ? (100 * r.peakFraction).toFixed(0) : '',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    const rule = widths.map((w) => '-'.repeat(w)).join('  ');
    const notes = [
      `Profile: ${this.wallMs.toFixed(1)} ms wall, ${this.events.length} events; ${this.untrackedMs.toFixed(1)} ms outside any op (JS between ops).`,
    ];
    const used = new Set(this.events.map((e) => e.backend));
    for (const b of this.backends) {
      if (b.async && used.has(b.name)) notes.push(`Backend '${b.name}' runs asynchronously: its times are CPU-side submission time only, not GPU execution.`);
    }
    const peaks = [this.peak.gflops ? `${this.peak.gflops.toFixed(1)} GFLOP/s` : '', this.peak.gbps ? `${this.peak.gbps.toFixed(1)} GB/s` : ''].filter(Boolean);
    notes.push(peaks.length ? `% peak: against ${peaks.join(' and ')}.` : '% peak: no peak known (pass {peak} to profile).');
    const table = [line(head), rule, ...body.map(line)];
    return (opts.notes ?? true ? [...notes, '', ...table] : table).join('\n');
  }

  /** The events as a Chrome trace: load the JSON in https://ui.perfetto.dev or chrome://tracing. */
  chromeTrace(): ChromeTrace {
    const us = (ms: number) => Math.round(ms * 1000 * 1000) / 1000;
    const traceEvents: ChromeTraceEvent[] = [
      { name: 'process_name', ph: 'M', pid: 1, tid: 1, args: { name: 'tsgrad' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'ops' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 2, args: { name: 'async reads' } },
    ];
    for (const e of this.events) {
      const args: Record<string, unknown> = { phase: e.phase, selfMs: e.self };
      if (e.backend) args['backend'] = e.backend;
      if (e.bytesRead) args['bytesRead'] = e.bytesRead;
      if (e.bytesWritten) args['bytesWritten'] = e.bytesWritten;
      if (e.flops) args['flops'] = e.flops;
      if (e.shapes) args['shapes'] = e.shapes;
      traceEvents.push({ name: e.name, cat: e.kind, ph: 'X', ts: us(e.start), dur: us(e.duration), pid: 1, tid: e.async ? 2 : 1, args });
    }
    return { traceEvents, displayTimeUnit: 'ms' };
  }
}

/** Backend methods that are timed, besides the optional fused kernels a backend has. */
const TIMED = ['unary', 'binary', 'compare', 'where', 'reduce', 'argReduce', 'cast', 'copy', 'embed', 'cat', 'gather', 'scatterAdd', 'matmul', 'sort', 'upload', 'fill', 'readSync', 'read', 'free'] as const;
/** Methods whose first argument names the op (`binary('add', ...)` shows as `add`). */
const FAMILIES: ReadonlySet<string> = new Set(['unary', 'binary', 'compare', 'reduce', 'argReduce']);
const FUSED = ['conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'matmulEpilogue', 'gelu', 'geluBackward', 'normalize', 'normalizeBackward', 'logSoftmax', 'logSoftmaxBackward', 'adamStep', 'totalNorm', 'clipScale'] as const;

function isView(v: unknown): v is View {
  return typeof v === 'object' && v !== null && 'buffer' in v && 'strides' in v && 'shape' in v && 'dtype' in v;
}

function count(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a view touches: broadcast (stride-0) dims are read once. */
function viewBytes(v: View): number {
  let n = 1;
  for (let d = 0; d < v.shape.length; d++) {
    if (v.shape[d] === 0) return 0;
    if (v.strides[d] !== 0) n *= v.shape[d]!;
  }
  return n * itemSize(v.dtype);
}

/** Bytes written and flops of one primitive call, from its arguments (known primitives only). */
function outputOf(method: string, args: readonly unknown[]): { written: number; flops: number } {
  const v0 = args[0] as View;
  const size = (v: View, dt: DType = v.dtype) => count(v.shape) * itemSize(dt);
  switch (method) {
    case 'unary':
    case 'binary':
    case 'where':
      return { written: size(args[1] as View), flops: 0 };
    case 'compare':
      return { written: count((args[1] as View).shape), flops: 0 };
    case 'reduce': {
      const x = args[1] as View;
      const axes = args[2] as readonly number[];
      const kept = x.shape.reduce((a, d, i) => (axes.includes(i) ? a : a * d), 1);
      return { written: kept * itemSize(x.dtype), flops: 0 };
    }
    case 'argReduce': {
      const x = args[1] as View;
      const axis = args[2] as number;
      return { written: (count(x.shape) / (x.shape[axis] || 1)) * 4, flops: 0 };
    }
    case 'cast':
      return { written: size(v0, args[1] as DType), flops: 0 };
    case 'copy':
    case 'gelu':
    case 'geluBackward':
    case 'normalize':
    case 'normalizeBackward':
    case 'logSoftmax':
    case 'logSoftmaxBackward':
      return { written: size(v0), flops: 0 };
    case 'embed':
      return { written: (args[1] as number) * itemSize(v0.dtype), flops: 0 };
    case 'adamStep':
      // param, exp_avg, exp_avg_sq (and max_exp_avg_sq with AMSGrad)
      return { written: size(v0) * (args[4] ? 4 : 3), flops: 0 };
    case 'totalNorm':
      return { written: 4, flops: 0 };
    case 'clipScale':
      return { written: (args[0] as readonly View[]).reduce((a, v) => a + size(v), 0), flops: 0 };
    case 'cat':
      return { written: (args[0] as readonly View[]).reduce((a, v) => a + size(v), 0), flops: 0 };
    case 'gather': {
      const index = args[2] as View;
      return { written: count(index.shape) * itemSize(v0.dtype), flops: 0 };
    }
    case 'scatterAdd':
      return { written: count(args[3] as readonly number[]) * itemSize(v0.dtype), flops: 0 };
    case 'matmul': {
      const b = args[1] as View;
      const [m, k] = v0.shape.slice(-2) as [number, number];
      const n = b.shape[b.shape.length - 1]!;
      const batch = count(v0.shape.slice(0, -2));
      return { written: batch * m * n * itemSize(v0.dtype), flops: 2 * batch * m * n * k };
    }
    case 'matmulEpilogue': {
      const [m, k] = v0.shape as [number, number];
      const n = (args[1] as View).shape[1]!;
      const ep = args[2] as MatmulEpilogue;
      return { written: (ep.keepPre ? 2 : 1) * m * n * itemSize(v0.dtype), flops: 2 * m * n * k };
    }
    case 'sort':
      return { written: count(v0.shape) * (itemSize(v0.dtype) + 4), flops: 0 };
    case 'upload':
      return { written: (args[0] as ArrayBufferView).byteLength, flops: 0 };
    case 'fill':
      return { written: (args[2] as number) * itemSize(args[1] as DType), flops: 0 };
    case 'conv2d': {
      const w = args[1] as View;
      const p = args[2] as Conv2dParams;
      const out = convOut(v0.shape, w.shape, p);
      return { written: count(out) * itemSize(v0.dtype), flops: convFlops(out, w.shape) };
    }
    case 'conv2dBackwardInput': {
      const w = args[1] as View;
      return { written: count(args[2] as readonly number[]) * itemSize(v0.dtype), flops: convFlops(v0.shape, w.shape) };
    }
    case 'conv2dBackwardWeight': {
      const gy = args[1] as View;
      const wShape = args[2] as readonly number[];
      return { written: count(wShape) * itemSize(v0.dtype), flops: convFlops(gy.shape, wShape) };
    }
    default:
      return { written: 0, flops: 0 };
  }
}

function convOut(x: readonly number[], w: readonly number[], p: Conv2dParams): number[] {
  const o = (i: 0 | 1) => Math.floor((x[2 + i]! + 2 * p.padding[i] - p.dilation[i] * (w[2 + i]! - 1) - 1) / p.stride[i]) + 1;
  return [x[0]!, w[0]!, o(0), o(1)];
}

/** 2 * (output elements) * (input channels per group) * (kernel taps). */
function convFlops(out: readonly number[], w: readonly number[]): number {
  return 2 * count(out) * w[1]! * w[2]! * w[3]!;
}

function readBytes(method: string, args: readonly unknown[]): number {
  if (method === 'upload') return (args[0] as ArrayBufferView).byteLength;
  if (method === 'read' || method === 'readSync') return (args[2] as number) * itemSize(args[1] as DType);
  let n = 0;
  for (const a of args) {
    if (isView(a)) n += viewBytes(a);
    else if (Array.isArray(a)) for (const v of a) if (isView(v)) n += viewBytes(v);
  }
  if (method === 'matmulEpilogue') {
    // The epilogue's operands (bias, scale, residual) are read too.
    const ep = args[2] as MatmulEpilogue;
    for (const v of [ep.bias, ep.scale, ep.residual]) if (v) n += viewBytes(v);
  }
  if (method === 'gather') {
    // The gathered values (one per index), not the whole source.
    const index = args[2] as View;
    n = viewBytes(index) + count(index.shape) * itemSize((args[0] as View).dtype);
  }
  return n;
}

/** A {@link ProfileEvent} with one fixed layout (tens of thousands are made per profile). */
class SpanEvent implements ProfileEvent {
  duration = 0;
  self = 0;
  bytesRead = 0;
  bytesWritten = 0;
  flops = 0;
  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    readonly phase: 'forward' | 'backward',
    readonly backend: string,
    readonly start: number,
    readonly parent: number,
    readonly depth: number,
    readonly shapes: readonly (readonly number[])[] | undefined,
    readonly async: boolean,
  ) {}
}

function shapesOf(args: readonly unknown[]): (readonly number[])[] {
  const out: (readonly number[])[] = [];
  for (const a of args) if (isView(a)) out.push(a.shape);
  return out;
}

/** The running profile's recorder: a span stack and the event list. */
class Recorder implements SpanSink {
  readonly events: ProfileEvent[] = [];
  private readonly stack: number[] = [];
  private backwardDepth = 0;
  private readonly t0 = performance.now();

  span<T>(name: string, kind: SpanKind, fn: () => T, backward = false, backend = '', args?: readonly unknown[]): T {
    const depth = this.stack.length;
    const parent = depth ? this.stack[depth - 1]! : -1;
    const phase = backward || this.backwardDepth > 0 ? 'backward' : 'forward';
    const e = new SpanEvent(name, kind, phase, backend, performance.now() - this.t0, parent, depth, args ? shapesOf(args) : undefined, false);
    const id = this.events.push(e) - 1;
    this.stack.push(id);
    if (backward) this.backwardDepth++;
    try {
      return fn();
    } finally {
      if (backward) this.backwardDepth--;
      this.stack.pop();
      this.close(e, performance.now() - this.t0 - e.start);
    }
  }

  /** An async backend call: timed until it settles, outside the span nesting (other work interleaves). */
  async asyncCall<T>(name: string, backend: string, bytesRead: number, fn: () => Promise<T>): Promise<T> {
    const e = new SpanEvent(name, 'prim', this.backwardDepth > 0 ? 'backward' : 'forward', backend, performance.now() - this.t0, -1, 0, undefined, true);
    e.bytesRead = bytesRead;
    this.events.push(e);
    try {
      return await fn();
    } finally {
      e.duration = e.self = performance.now() - this.t0 - e.start;
    }
  }

  private close(e: ProfileEvent, duration: number): void {
    e.duration = duration;
    e.self += duration;
    if (e.parent >= 0) this.events[e.parent]!.self -= duration;
  }

  /**
   * Adds a primitive's traffic to it and to every enclosing span. A primitive that a
   * backend calls from inside another primitive keeps its traffic to itself: the outer
   * call's arguments already count it.
   */
  account(id: number, read: number, written: number, flops: number): void {
    let internal = false;
    for (let i = this.events[id]!.parent; i >= 0; i = this.events[i]!.parent) if (this.events[i]!.kind === 'prim') internal = true;
    for (let i = id; i >= 0; i = internal ? -1 : this.events[i]!.parent) {
      const e = this.events[i]!;
      e.bytesRead += read;
      e.bytesWritten += written;
      e.flops += flops;
    }
  }

  /** Index of the innermost open span. */
  top(): number {
    return this.stack.length ? this.stack[this.stack.length - 1]! : -1;
  }

  now(): number {
    return performance.now() - this.t0;
  }
}

type Restore = () => void;

/** Shadows the timed methods of `b` with recording wrappers on the instance; returns the undo. */
function instrument(b: Backend, rec: Recorder): Restore {
  const names = [...TIMED, ...FUSED.filter((k) => typeof b[k] === 'function')];
  const saved: [string, PropertyDescriptor | undefined][] = [];
  const target = b as unknown as Record<string, unknown>;
  for (const method of names) {
    const orig = target[method];
    if (typeof orig !== 'function') continue;
    saved.push([method, Object.getOwnPropertyDescriptor(b, method)]);
    const fn = orig as (...a: unknown[]) => unknown;
    const wrapper =
      method === 'read'
        ? (...args: unknown[]) => rec.asyncCall('read', b.name, readBytes(method, args), () => fn.apply(b, args) as Promise<unknown>)
        : (...args: unknown[]) => {
            const name = FAMILIES.has(method) ? String(args[0]) : method;
            let id = -1;
            const out = rec.span(name, 'prim', () => {
              id = rec.top();
              return fn.apply(b, args);
            }, false, b.name, args);
            const { written, flops } = method === 'readSync' ? { written: 0, flops: 0 } : outputOf(method, args);
            rec.account(id, readBytes(method, args), written, flops);
            return out;
          };
    Object.defineProperty(b, method, { value: wrapper, configurable: true, writable: true, enumerable: false });
  }
  return () => {
    for (const [method, desc] of saved) {
      if (desc) Object.defineProperty(b, method, desc);
      else delete target[method];
    }
  };
}

/** A profile started with {@link startProfile}; `stop()` ends it. */
export interface ProfileSession {
  /** Ends the profile (restoring every backend method) and returns what it recorded. */
  stop(): Profile<undefined>;
}

/**
 * Starts a profile that ends with `stop()`, for code that cannot be wrapped in one function
 * (a training loop's hooks); otherwise use {@link profile}. Same recording as `profile`.
 */
export function startProfile(opts: ProfileOptions = {}): ProfileSession {
  if (activeSink()) throw new Error('profile: a profile is already running; profiles do not nest (use recordFunction to label ranges inside one)');
  const peak = opts.peak ?? getBackend().peakRates?.() ?? {};
  for (const [k, v] of Object.entries(peak)) {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new Error(`profile: peak.${k} must be a positive number, got ${String(v)}`);
  }
  const rec = new Recorder();
  const backends = [...new Set([...initialisedBackends(), ...(opts.backends ?? [])])];
  const restores = backends.map((b) => instrument(b, rec));
  setSink(rec);
  let stopped = false;
  return {
    stop() {
      if (stopped) throw new Error('profile: this profile was already stopped');
      stopped = true;
      setSink(null);
      for (const r of restores) r();
      return new Profile(undefined, rec.events, rec.now(), backends.map((b) => ({ name: b.name, async: !b.canReadSync })), peak);
    },
  };
}

/**
 * Profiles `fn` (sync or async): every backend primitive it runs (time, bytes read and
 * written, flops of matmul and convolutions), every composed op (`gelu`, `logSoftmax`,
 * `standardize`...) and every op's backward (its VJP, inside `autograd.backward`), and
 * ranges labelled with {@link recordFunction}. Returns a {@link Profile}: `.table()` like
 * PyTorch's `key_averages().table()`, `.rows`, `.chromeTrace()` for Perfetto and `.value`
 * (what `fn` returned). Rates are stated against `opts.peak` or the backend's `peakRates()`.
 *
 * Times are wall-clock on the CPU: on an asynchronous backend (webgpu) a primitive's time
 * is its submission, not its execution (the table says so). Backends initialised inside
 * `fn` are not timed. Profiles do not nest; when none runs, nothing is recorded and no
 * backend method is wrapped.
 */
export function profile<R>(fn: () => Promise<R>, opts?: ProfileOptions): Promise<Profile<R>>;
export function profile<R>(fn: () => R, opts?: ProfileOptions): Profile<R>;
export function profile<R>(fn: () => R | Promise<R>, opts: ProfileOptions = {}): Profile<R> | Promise<Profile<R>> {
  if (typeof fn !== 'function') throw new TypeError('profile: expected a function to run');
  const session = startProfile(opts);
  const make = (value: R) => {
    const p = session.stop();
    return new Profile(value, p.events, p.wallMs, p.backends, p.peak);
  };
  let out: R | Promise<R>;
  try {
    out = fn();
  } catch (e) {
    session.stop();
    throw e;
  }
  if (out instanceof Promise) {
    return out.then(make, (e: unknown) => {
      session.stop();
      throw e;
    });
  }
  return make(out);
}
