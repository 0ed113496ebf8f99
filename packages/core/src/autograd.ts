/**
 * Reverse-mode autodiff on a tape of {@link GradNode}s. Each differentiable op records its
 * inputs and a vector-Jacobian product written in tensor ops, so backward runs on whatever
 * backend forward ran on, and (with `createGraph`) gradients of gradients work.
 */
import { currentContext, runInContext } from './context.js';
import { keep, tidy } from './memory.js';
import { activeSink } from './profile-span.js';
import { fmtShape } from './shape.js';
import { Tensor } from './tensor.js';

/** Maps the gradient of an op's output to the gradients of its inputs (`null`: no gradient). */
export type VjpFn = (g: Tensor) => (Tensor | null)[];

/** One recorded op: how to send its output's gradient to its inputs. */
export interface GradNode {
  /** Name of the op that made the tensor (for errors and graph printing). */
  readonly op: string;
  /** The op's tensor inputs, in the order the vjp returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Dropped after backward (unless the graph is retained) so saved tensors can go. */
  vjp: VjpFn | null;
}

/** Whether ops record gradients in the current task. */
export function isGradEnabled(): boolean {
  return currentContext().gradEnabled;
}

/** Runs `fn` (sync or async) without recording gradients, like `torch.no_grad()`. */
export function noGrad<T>(fn: () => T): T {
  return runInContext({ ...currentContext(), gradEnabled: false }, fn);
}

/** Runs `fn` with gradient recording switched on or off. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  return runInContext({ ...currentContext(), gradEnabled: enabled }, fn);
}

/**
 * Records `out` as the result of `op` on `inputs` when any input requires a gradient and
 * recording is on. Returns `out`.
 */
export function withGrad(out: Tensor, op: string, inputs: readonly Tensor[], vjp: VjpFn): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradNode = { op, inputs, vjp };
  }
  return out;
}

/** Options of {@link backward} and {@link gradients}. */
export interface BackwardOptions {
  /** Record the backward pass itself so its results can be differentiated again. */
  readonly createGraph?: boolean;
  /** Keep the graph so backward can run through it again. Implied by `createGraph`. */
  readonly retainGraph?: boolean;
}

/** The nodes reachable from `root` through tensors that require gradients, inputs before outputs. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep models make recursion overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradNode?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order;
}

/**
 * The core of backward: propagates `seed` (the gradient of `root`) to every tensor that
 * requires a gradient, calling `onLeaf` for leaves and `onTarget` for the tensors in
 * `targets`. Intermediate gradients are disposed as soon as they are used, unless the
 * graph is being recorded.
 */
function propagate(
  root: Tensor,
  seed: Tensor,
  opts: BackwardOptions,
  targets: ReadonlySet<Tensor>,
  onGrad: (t: Tensor, g: Tensor) => void,
): void {
  const sink = activeSink();
  if (sink) sink.span('autograd.backward', 'region', () => propagateGrads(root, seed, opts, targets, onGrad), true);
  else propagateGrads(root, seed, opts, targets, onGrad);
}

function propagateGrads(
  root: Tensor,
  seed: Tensor,
  opts: BackwardOptions,
  targets: ReadonlySet<Tensor>,
  onGrad: (t: Tensor, g: Tensor) => void,
): void {
  const createGraph = opts.createGraph ?? false;
  const retain = createGraph || (opts.retainGraph ?? false);
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const owned = new Set<Tensor>(); // gradients this pass created and may dispose
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t.gradNode;
    if (!node || targets.has(t)) onGrad(t, g);
    if (node) {
      if (!node.vjp) {
        throw new Error(
          `backward: the graph through '${node.op}' was already freed by an earlier backward; pass {retainGraph: true} to the first backward to run it twice`,
        );
      }
      const vjp = node.vjp;
      // Recorded vjps keep their intermediates: the new graph needs them.
      const runVjp = () => (createGraph ? vjp(g) : withGradMode(false, () => tidy(() => vjp(g))));
      const sink = activeSink();
      const inputGrads = sink ? sink.span(node.op, 'grad', runVjp) : runVjp();
      if (!retain) node.vjp = null;
      const handed = new Set<Tensor>();
      node.inputs.forEach((inp, k) => {
        let gi = inputGrads[k];
        if (!gi || !inp.requiresGrad) {
          if (gi && gi !== g && !createGraph && !inputGrads.includes(gi, k + 1)) gi.dispose();
          return;
        }
        // Each slot must own its handle, since we dispose gradients as soon as they are used:
        // a vjp may pass `g` through or return one tensor for two inputs.
        if (!createGraph && (gi === g || handed.has(gi))) gi = Tensor.viewOf(gi, gi.shape, gi.strides, gi.offset);
        handed.add(gi);
        const prev = grads.get(inp);
        if (!prev) {
          grads.set(inp, gi);
          owned.add(gi);
          return;
        }
        const sum = withGradMode(createGraph, () => prev.add(gi));
        if (!createGraph) {
          if (owned.has(prev)) prev.dispose();
          gi.dispose();
        }
        grads.set(inp, sum);
        owned.add(sum);
      });
      if (!createGraph && owned.has(g) && !targets.has(t)) g.dispose();
    }
  }
}

/**
 * Backpropagates from a tensor into the `.grad` of every leaf that requires a gradient,
 * adding to what is there (as PyTorch does). `gradient` is required unless `root` is a
 * scalar.
 */
export function backward(root: Tensor, gradient?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward: the tensor does not require a gradient (no input had requiresGrad, or it was made under noGrad)');
  }
  let seed = gradient;
  if (!seed) {
    if (root.size !== 1) {
      throw new Error(
        `backward: gradient can be implicitly created only for scalar outputs; this tensor has shape ${fmtShape(root.shape)}; pass a gradient of that shape`,
      );
    }
    seed = root.onesLike();
  } else if (seed.shape.length !== root.shape.length || seed.shape.some((d, i) => d !== root.shape[i])) {
    throw new Error(`backward: gradient shape ${fmtShape(seed.shape)} does not match the tensor's shape ${fmtShape(root.shape)}`);
  }
  const seedTensor = seed;
  propagate(root, seedTensor, opts, new Set(), (leaf, g) => {
    const acc = leaf.grad ? withGradMode(opts.createGraph ?? false, () => leaf.grad!.add(g)) : g === seedTensor ? g.clone() : g;
    if (leaf.grad && !(opts.createGraph ?? false)) {
      leaf.grad.dispose();
      if (g !== seedTensor) g.dispose();
    }
    leaf.grad = keep(acc);
  });
  // A recorded backward may hold the seed (mul's gradient keeps g): then the scope owns it.
  if (!gradient && !opts.createGraph) seedTensor.dispose();
}

/**
 * Gradients of `root` with respect to `inputs`, returned rather than stored in `.grad`
 * (like `torch.autograd.grad`). An input `root` does not depend on gets zeros.
 */
export function gradients(root: Tensor, inputs: readonly Tensor[], gradient?: Tensor, opts: BackwardOptions = {}): Tensor[] {
  for (const x of inputs) {
    if (!x.requiresGrad) throw new Error('gradients: an input does not require a gradient; call requiresGrad_() on it first');
  }
  if (!gradient && root.size !== 1) {
    throw new Error(`gradients: the output has shape ${fmtShape(root.shape)}, not a scalar; pass a gradient of that shape`);
  }
  const seed = gradient ?? root.onesLike();
  const found = new Map<Tensor, Tensor>();
  const targets = new Set(inputs);
  if (root.requiresGrad) propagate(root, seed, opts, targets, (t, g) => {
    if (targets.has(t)) found.set(t, g === seed ? g.clone() : g);
  });
  if (!gradient && !opts.createGraph) seed.dispose();
  return inputs.map((x) => found.get(x) ?? x.zerosLike());
}

/** A function from tensors to a tensor. */
export type TensorFn = (...args: Tensor[]) => Tensor;

/**
 * Prepares the arguments of a transformed function: each becomes a tensor that requires a
 * gradient. An argument already in a recorded graph is used as is (so `grad(grad(f))`
 * differentiates through the inner gradient); others get a fresh leaf.
 */
function diffArgs(args: readonly Tensor[]): { xs: Tensor[]; outer: boolean } {
  const outer = isGradEnabled() && args.some((a) => a.requiresGrad);
  const xs = args.map((a) => (a.requiresGrad && isGradEnabled() ? a : a.detach().requiresGrad_()));
  return { xs, outer };
}

/**
 * Whether `y` also depends on leaves other than `xs` that require gradients (a closure
 * over an outer transformation's variable): then the inner gradient must be recorded.
 */
function dependsOnOtherLeaves(y: Tensor, xs: readonly Tensor[]): boolean {
  if (!isGradEnabled()) return false;
  const own = new Set(xs);
  return topoOrder(y).some((t) => !t.gradNode && t.requiresGrad && !own.has(t));
}

/**
 * `valueAndGrad(f)(...xs)` returns `[f(...xs), [df/dx0, df/dx1, ...]]` for a scalar-valued `f`.
 * Nested inside another transformation it records its work, so it can be differentiated again.
 */
export function valueAndGrad(f: TensorFn): (...args: Tensor[]) => [Tensor, Tensor[]] {
  return (...args) => {
    const { xs, outer } = diffArgs(args);
    const y = withGradMode(true, () => f(...xs));
    const nested = outer || dependsOnOtherLeaves(y, xs);
    if (y.size !== 1) throw new Error(`grad: the function must return a scalar; it returned shape ${fmtShape(y.shape)}`);
    const gs = gradients(y, xs, undefined, { createGraph: nested });
    return [nested ? y : y.detach(), gs];
  };
}

/** `grad(f)(...xs)` returns the gradients of scalar-valued `f` with respect to every argument. */
export function grad(f: TensorFn): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...args) => vg(...args)[1];
}

/**
 * `vjp(f, ...xs)` returns `[f(...xs), back]` where `back(g)` gives the vector-Jacobian
 * products `g^T df/dxi` for every argument.
 */
export function vjp(f: TensorFn, ...args: Tensor[]): [Tensor, (g: Tensor) => Tensor[]] {
  const { xs, outer } = diffArgs(args);
  const y = withGradMode(true, () => f(...xs));
  const nested = outer || dependsOnOtherLeaves(y, xs);
  const back = (g: Tensor): Tensor[] => gradients(y, xs, g, { createGraph: nested, retainGraph: true });
  return [y, back];
}

/**
 * An op whose forward is composed without recording (its intermediates are freed at once)
 * and whose gradient is the given `vjp`, written in tensor ops of the inputs and the
 * output `y` (so that it can be differentiated again).
 */
export function customOp(op: string, inputs: readonly Tensor[], forward: () => Tensor, vjp: (g: Tensor, y: Tensor) => (Tensor | null)[]): Tensor {
  const sink = activeSink();
  const y = sink ? sink.span(op, 'op', () => noGrad(() => tidy(forward))) : noGrad(() => tidy(forward));
  return withGrad(y, op, inputs, (g) => vjp(g, y));
}
