/**
 * The pool's protocol, shared by both kinds of helper thread (Node worker_threads and
 * browser Web Workers): the layout of the shared control block and the helper's code.
 *
 * A helper sleeps in `Atomics.wait` on the job counter, then claims chunks of the current
 * job with a compare-and-swap on a shared counter, exactly as the caller does (pool.ts). Only
 * how a helper learns a new kernel (a compiled WebAssembly.Module, posted once per kernel)
 * differs: a Node helper drains its MessagePort synchronously (`receiveMessageOnPort`); a
 * Web Worker has no synchronous receive, so on meeting a kernel it does not know yet it
 * returns to its event loop for one turn (the module's message is delivered there) and then
 * rejoins the job if it is still running. Either way the caller never waits for a helper to
 * learn a kernel: unclaimed chunks are the caller's.
 */

// Control block layout (Int32Array indices).
/** Chunks finished in the current job. */
export const DONE = 0;
/** Set when a chunk threw on a helper. */
export const ERROR = 1;
/** Job generation; helpers wait on it. */
export const SEQ = 2;
/** `(seq & 0x7fff) << 16 | next chunk index`. */
export const NEXT = 3;
/** Chunks in the current job. */
export const TOTAL = 4;
/** Kernel id (-1: stop). */
export const KERNEL = 5;
/** Function index in the kernel's names. */
export const FN = 6;
/** Arguments per chunk. */
export const NARGS = 7;
/** Argument replaced by the executor's scratch pointer (-1: none). */
export const SCRATCH_ARG = 8;
/** A cell never written, for probing whether this thread may block (`Atomics.wait`). */
export const PROBE = 9;
/** `SCRATCH + t`: scratch pointer of executor t (0: the caller). */
export const SCRATCH = 16;
/** Arguments per chunk, at most. */
export const MAX_ARGS = 16;
/** Chunks per job, at most. */
export const MAX_CHUNKS = 1024;

/** Bytes of the control block for `helpers` helper threads. */
export const ctrlBytes = (helpers: number): number => (SCRATCH + helpers + 1) * 4;
/** Bytes of the argument block. */
export const ARGS_BYTES = MAX_CHUNKS * MAX_ARGS * 8;

/** What the helper's code needs from its host, as JavaScript source. */
export interface HelperHost {
  /**
   * Statements that define `memory` (the shared WebAssembly.Memory), `ctrl` and `args` (the
   * control and argument SharedArrayBuffers), `index` (this helper's number, from 0),
   * `drain()` (delivers pending kernel messages to `learn` synchronously, or does nothing),
   * and that call `start()` once those are set, then `pump()` (the job loop: it blocks in
   * `Atomics.wait`, and returns only to stop or, without `syncReceive`, to yield).
   */
  readonly prelude: string;
  /**
   * Whether the helper can receive kernels synchronously (`drain`); if not it yields to its
   * event loop (`setTimeout`) when it meets an unknown kernel.
   */
  readonly syncReceive: boolean;
}

/** The helper's code: plain JavaScript, no imports, so it runs as an eval'd or Blob worker. */
export function helperSource(host: HelperHost): string {
  return String.raw`'use strict';
let memory, ctrl, args, index, I, A;
const kernels = new Map();
function learn(d) {
  try {
    const inst = new WebAssembly.Instance(d.module, { env: { mem: memory } });
    kernels.set(d.id, d.names.map((n) => inst.exports[n]));
  } catch (e) {
    // Left unknown: this helper claims no chunk of that kernel; the caller runs them.
  }
}
function kernel(id, seq) {
  drain();
  let fns = kernels.get(id);
  ${host.syncReceive ? String.raw`for (let tries = 0; !fns && tries < 100000 && Atomics.load(I, ${SEQ}) === seq; tries++) { drain(); fns = kernels.get(id); }` : ''}
  return fns;
}
// 0: stop; 1: job over (or not ours); 2: the kernel is unknown yet, yield and come back.
function work(seq) {
  const id = I[${KERNEL}];
  if (id === -1) return 0;
  const fns = kernel(id, seq);
  if (!fns) return ${host.syncReceive ? '1' : `Atomics.load(I, ${SEQ}) === seq ? 2 : 1`};
  const f = fns[I[${FN}]];
  const n = I[${NARGS}];
  const sArg = I[${SCRATCH_ARG}];
  const total = I[${TOTAL}];
  const tag = (seq & 0x7fff) << 16;
  for (;;) {
    const cur = Atomics.load(I, ${NEXT});
    if ((cur & 0x7fff0000) !== tag) return 1;
    const i = cur & 0xffff;
    if (i >= total) return 1;
    if (Atomics.compareExchange(I, ${NEXT}, cur, cur + 1) !== cur) continue;
    const a = new Array(n);
    for (let k = 0; k < n; k++) a[k] = A[i * ${MAX_ARGS} + k];
    if (sArg >= 0) a[sArg] = I[${SCRATCH} + 1 + index];
    try {
      f(...a);
    } catch (e) {
      Atomics.store(I, ${ERROR}, 1);
    }
    Atomics.add(I, ${DONE}, 1);
    Atomics.notify(I, ${DONE});
  }
}
let seen = 0;
let resume = false;
function pump() {
  for (;;) {
    if (!resume) {
      Atomics.wait(I, ${SEQ}, seen);
      seen = Atomics.load(I, ${SEQ});
    }
    resume = false;
    const r = work(seen);
    if (r === 0) return;
    if (r === 2) {
      resume = true;
      setTimeout(pump, 0);
      return;
    }
  }
}
function start() {
  I = new Int32Array(ctrl);
  A = new Float64Array(args);
}
${host.prelude}
`;
}
