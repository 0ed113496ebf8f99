/**
 * Every case the conformance suite runs: the original op set plus one file of cases per op
 * family added since (each `cases-*.ts` beside this one exports its list).
 */
import { CORE_CASES, type OpCase } from './cases.js';
import { NORMLOSS_CASES } from './cases-normloss.js';

/** Every case the conformance suite runs. */
export const OP_CASES: readonly OpCase[] = [
  ...CORE_CASES,
  ...NORMLOSS_CASES,
];
