/** What a benchmark suite provides. */

/**
 * One case: our implementation and the anchor it is compared with, on the same work. The
 * anchor is a function timed beside ours, or a time measured in this run by another
 * process (PyTorch through /usr/bin/python3).
 */
export interface Case {
  readonly name: string;
  readonly oursLabel: string;
  readonly anchorLabel: string;
  readonly ours: () => unknown;
  readonly anchor: (() => unknown) | { readonly measuredMs: number };
  /** Extra facts for the table (e.g. memory). */
  readonly note?: string;
  /** Minimum runs of each side (default 64; a few for cases that take seconds). */
  readonly iterations?: number;
  /**
   * Time this many ours/anchor pairs, alternating, instead of all of ours and then all of
   * the anchor: for cases of seconds on a loaded machine, where the load drifts between
   * the two halves. The times are medians and the speedup the median of the per-pair
   * ratios (after one warm-up call of each). Needs a function anchor.
   */
  readonly paired?: number;
}

/** What a suite that writes its own table returns: its markdown and JSON results. */
export interface SuiteReport {
  readonly markdown: string;
  readonly json: unknown;
}

/** A named set of cases and a note for the results table. */
export interface Suite {
  readonly cases: readonly Case[];
  readonly note: string;
  /** Called after the results are written (awaited: it may close a browser or a server). */
  readonly dispose?: () => void | Promise<void>;
  /**
   * A suite that times its own work and writes its own table (the targets table, whose rows
   * have several anchors and thread counts each) instead of ours-vs-anchor case rows.
   */
  readonly report?: () => Promise<SuiteReport>;
}
