/**
 * Every case the conformance suite runs: the original op set plus one file of cases per op
 * family added since (each `cases-*.ts` beside this one exports its list).
 */
import { CORE_CASES, type OpCase } from './cases.js';
import { INDEXING_CASES } from './cases-indexing.js';
import { ELEMENTWISE_CASES } from './cases-elementwise.js';
import { CONVPOOL_CASES } from './cases-convpool.js';
import { NORMLOSS_CASES } from './cases-normloss.js';
import { SCANS_CASES } from './cases-scans.js';
import { LINEAR_CASES } from './cases-linear.js';
import { OPTIM_CASES } from './cases-optim.js';

/** Every case the conformance suite runs. */
export const OP_CASES: readonly OpCase[] = [
  ...CORE_CASES,
  ...INDEXING_CASES,
  ...ELEMENTWISE_CASES,
  ...CONVPOOL_CASES,
  ...NORMLOSS_CASES,
  ...SCANS_CASES,
  ...LINEAR_CASES,
  ...OPTIM_CASES,
];
