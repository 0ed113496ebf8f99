/**
 * The profiler's hook into the op layer: a single slot that is `null` unless `profile` is
 * running, so the op layer pays one null check per op when nothing is profiled. Kept apart
 * from profile.ts so autograd can import it without a cycle.
 */

/** What a span is: a user or autograd region, a composed op, one op's backward, a backend call. */
export type SpanKind = 'region' | 'op' | 'grad' | 'prim';

/** Receives the spans of the running profile. */
export interface SpanSink {
  /** Runs `fn` inside a span; `backward` marks the autograd pass (its descendants are backward work). */
  span<T>(name: string, kind: SpanKind, fn: () => T, backward?: boolean): T;
}

let sink: SpanSink | null = null;

/** The running profile's sink, or `null` when nothing is profiled (the fast path). */
export function activeSink(): SpanSink | null {
  return sink;
}

/** Installs (or, with `null`, removes) the sink; only profile.ts calls this. */
export function setSink(s: SpanSink | null): void {
  sink = s;
}

/**
 * Labels the work `fn` does (sync) as one range in a running profile, like PyTorch's
 * `torch.profiler.record_function`: it shows in the table as a row of its own and in the
 * trace as a parent of the ops inside. Without a running profile it just calls `fn`.
 */
export function recordFunction<T>(name: string, fn: () => T): T {
  if (typeof name !== 'string' || name === '') throw new Error('recordFunction: the name must be a non-empty string');
  const s = sink;
  return s ? s.span(name, 'region', fn) : fn();
}
