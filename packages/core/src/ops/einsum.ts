/**
 * `einsum`: Einstein summation composed from views (diagonal, permute, expand, reshape),
 * `sum` and batched `matmul`, so it runs on every backend and its gradient is that of the
 * composition.
 */
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { matmul } from './linalg.js';
import { sameBackend } from './prim.js';
import { sum } from './reduce.js';
import { diagonal } from './select.js';
import { expand, permute, reshape } from './views.js';

/**
 * A label: a letter's code, or a negative number for a dim under the ellipsis (`-1` is
 * its last dim, `-2` the one before, ...), so ellipsis dims line up from the right as in
 * broadcasting.
 */
type Label = number;

/** An operand on its way through the contraction: the tensor and the label of each dim. */
interface Term {
  t: Tensor;
  labels: Label[];
}

const isLetter = (c: string): boolean => /^[a-zA-Z]$/.test(c);
const labelName = (l: Label): string => (l >= 0 ? String.fromCharCode(l) : `... dim ${l}`);

/** Splits one operand's subscripts into letter labels and the position of its ellipsis (or -1). */
function parseSubscripts(text: string, what: string): { letters: string[]; ell: number } {
  const letters: string[] = [];
  let ell = -1;
  for (let i = 0; i < text.length; ) {
    if (text.startsWith('...', i)) {
      if (ell >= 0) throw new SyntaxError(`einsum: ${what} has more than one ellipsis ('...')`);
      ell = letters.length;
      i += 3;
    } else if (isLetter(text[i]!)) {
      letters.push(text[i]!);
      i++;
    } else {
      throw new SyntaxError(`einsum: invalid subscript '${text[i]}' in ${what}: subscripts are letters a-z, A-Z and '...'`);
    }
  }
  return { letters, ell };
}

/** Labels of one operand: the letters, with `ellDims` negative labels where the ellipsis was. */
function expandLabels(letters: readonly string[], ell: number, ellDims: number): Label[] {
  const codes = letters.map((c) => c.charCodeAt(0));
  if (ell < 0) return codes;
  const ellLabels = Array.from({ length: ellDims }, (_, i) => i - ellDims);
  return [...codes.slice(0, ell), ...ellLabels, ...codes.slice(ell)];
}

/** Takes diagonals until every label of the term appears once (`ii->i`). */
function dedupe(term: Term, k: number): Term {
  let { t, labels } = term;
  for (;;) {
    const i = labels.findIndex((l, j) => labels.indexOf(l) !== j);
    if (i < 0) return { t, labels };
    const first = labels.indexOf(labels[i]!);
    if (t.shape[first] !== t.shape[i]) {
      throw new RangeError(`einsum: subscript ${labelName(labels[i]!)} is repeated for operand ${k} but the sizes don't match, ${t.shape[first]} != ${t.shape[i]}`);
    }
    const l = labels[i]!;
    t = diagonal(t, 0, first, i);
    labels = [...labels.filter((_, j) => j !== first && j !== i), l];
  }
}

/** Sums out the labels of `term` that are not in `keep`. */
function sumOut(term: Term, keep: ReadonlySet<Label>): Term {
  const axes = term.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { t: sum(term.t, axes), labels: term.labels.filter((l) => keep.has(l)) };
}

/** Contracts two terms over their shared labels not in `keep`, with matmul; the result's labels follow. */
function contract(a: Term, b: Term, keep: ReadonlySet<Label>, size: ReadonlyMap<Label, number>): Term {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const aFree = a.labels.filter((l) => !inB.has(l));
  const bFree = b.labels.filter((l) => !inA.has(l));
  const n = (ls: readonly Label[]) => ls.reduce((acc, l) => acc * size.get(l)!, 1);
  const arrange = (x: Term, order: readonly Label[], shape: readonly number[]): Tensor => {
    const moved = permute(x.t, order.map((l) => x.labels.indexOf(l)));
    // Size-1 dims broadcast against the other operand's size.
    return reshape(expand(moved, order.map((l) => size.get(l)!)), shape);
  };
  const am = arrange(a, [...batch, ...aFree, ...summed], [n(batch), n(aFree), n(summed)]);
  const bm = arrange(b, [...batch, ...summed, ...bFree], [n(batch), n(summed), n(bFree)]);
  const y = matmul(am, bm);
  const labels = [...batch, ...aFree, ...bFree];
  return { t: reshape(y, labels.map((l) => size.get(l)!)), labels };
}

/**
 * Einstein summation, as `torch.einsum`: `einsum('ij,jk->ik', a, b)` is `a @ b`.
 *
 * - Subscripts are letters (a-z, A-Z); a label repeated within one operand takes that
 *   diagonal (`'ii->i'`, and `'ii'` is the trace); labels missing from the output are summed.
 * - Without `->` the output is every label that appears exactly once, in alphabetical
 *   order with A-Z before a-z (as PyTorch and NumPy), after the ellipsis dims.
 * - `'...'` stands for the dims not named; ellipsis dims of the operands broadcast
 *   together from the right (`'...ij,...jk->...ik'` is batched matmul).
 * - A dim of size 1 broadcasts against the same label's size in another operand.
 *
 * Operands are contracted left to right, each pair with one batched matmul (after summing
 * out labels that no later operand or the output needs), so the cost is that of the
 * pairwise products in the order given. The gradient is that of this composition.
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (operands.length === 0) throw new RangeError('einsum: expected at least one operand');
  sameBackend('einsum', ...operands);
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  if (arrow !== eq.lastIndexOf('->')) throw new SyntaxError(`einsum: '${equation}' has more than one '->'`);
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const inputs = lhs.split(',');
  if (inputs.length !== operands.length) {
    throw new RangeError(`einsum: the equation '${equation}' has ${inputs.length} operand${inputs.length === 1 ? '' : 's'} but ${operands.length} tensor${operands.length === 1 ? ' was' : 's were'} given`);
  }
  const dtype = operands[0]!.dtype;
  for (const t of operands) if (t.dtype !== dtype) throw new TypeError(`einsum: operands must have one dtype, got ${dtype} and ${t.dtype}`);

  // Each operand's labels, with ellipsis dims as negative labels.
  let ellDims = 0;
  const size = new Map<Label, number>();
  const terms: Term[] = inputs.map((text, k) => {
    const x = operands[k]!;
    const { letters, ell } = parseSubscripts(text, `operand ${k} ('${text}')`);
    if (ell < 0 ? letters.length !== x.ndim : letters.length > x.ndim) {
      throw new RangeError(
        `einsum: operand ${k} ('${text}') has ${letters.length} subscripts but the tensor has ${x.ndim} dimension${x.ndim === 1 ? '' : 's'} (shape ${fmtShape(x.shape)})${ell < 0 ? ' and no ellipsis was given' : ''}`,
      );
    }
    const nEll = ell < 0 ? 0 : x.ndim - letters.length;
    ellDims = Math.max(ellDims, nEll);
    const labels = expandLabels(letters, ell, nEll);
    return dedupe({ t: x, labels }, k);
  });
  terms.forEach((term, k) => {
    term.labels.forEach((l, i) => {
      const n = term.t.shape[i]!;
      const seen = size.get(l);
      if (seen === undefined || seen === 1) size.set(l, n);
      else if (n !== 1 && n !== seen) {
        throw new RangeError(
          l >= 0
            ? `einsum: subscript ${labelName(l)} has size ${n} for operand ${k} which does not broadcast with previously seen size ${seen}`
            : `einsum: ellipsis dimension ${l} of operand ${k} has size ${n}, which does not broadcast with the size ${seen} seen before`,
        );
      }
    });
  });

  // The output's labels.
  const count = new Map<Label, number>();
  for (const text of inputs) for (const c of parseSubscripts(text, '').letters) count.set(c.charCodeAt(0), (count.get(c.charCodeAt(0)) ?? 0) + 1);
  const ellOut = Array.from({ length: ellDims }, (_, i) => i - ellDims);
  let out: Label[];
  if (arrow >= 0) {
    const rhs = eq.slice(arrow + 2);
    const { letters, ell } = parseSubscripts(rhs, `the output ('${rhs}')`);
    const seen = new Set<string>();
    for (const c of letters) {
      if (seen.has(c)) throw new SyntaxError(`einsum: output subscript ${c} appears more than once in the output`);
      seen.add(c);
      if (!count.has(c.charCodeAt(0))) throw new SyntaxError(`einsum: output subscript ${c} does not appear in the equation for any input operand`);
    }
    // As PyTorch: without '...' in the output, the ellipsis dims are summed away.
    out = expandLabels(letters, ell, ell < 0 ? 0 : ellDims);
  } else {
    const once = [...count.entries()].filter(([, c]) => c === 1).map(([l]) => l);
    out = [...ellOut, ...once.sort((a, b) => a - b)];
  }
  const outSet = new Set(out);

  // Contract left to right, summing each label away as soon as nothing later needs it.
  const needed = (from: number): Set<Label> => {
    const s = new Set(outSet);
    for (let k = from; k < terms.length; k++) for (const l of terms[k]!.labels) s.add(l);
    return s;
  };
  let acc = sumOut(terms[0]!, needed(1));
  for (let k = 1; k < terms.length; k++) {
    const keepAfter = needed(k + 1);
    const keepHere = new Set([...keepAfter, ...acc.labels]);
    const next = sumOut(terms[k]!, keepHere);
    const accKeep = new Set([...keepAfter, ...next.labels]);
    acc = contract(sumOut(acc, accKeep), next, keepAfter, size);
  }
  acc = sumOut(acc, outSet);
  // Output dims of size 1 in every operand that holds them stay 1; `expand` brings broadcast sizes in.
  const y = acc.labels.length === 0 && out.length === 0 ? acc.t : permute(acc.t, out.map((l) => acc.labels.indexOf(l)));
  return expand(y, out.map((l) => size.get(l)!));
}
