/** What a benchmark suite provides. */

/** One case: our implementation and the anchor it is compared with, on the same work. */
export interface Case {
  readonly name: string;
  readonly oursLabel: string;
  readonly anchorLabel: string;
  readonly ours: () => unknown;
  readonly anchor: () => unknown;
}

/** A named set of cases and a note for the results table. */
export interface Suite {
  readonly cases: readonly Case[];
  readonly note: string;
  readonly dispose?: () => void;
}
