/**
 * Every case the conformance suite runs: the original op set plus one file of cases per op
 * family added since (each `cases-*.ts` beside this one exports its list).
 */
import { CORE_CASES, type OpCase } from './cases.js';
import { SCANS_CASES } from './cases-scans.js';

/** Every case the conformance suite runs. */
export const OP_CASES: readonly OpCase[] = [
  ...CORE_CASES,
  ...SCANS_CASES,
];
