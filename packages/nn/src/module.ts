/**
 * `Module`: the base of every layer and model, with PyTorch's semantics: registered
 * parameters, buffers and submodules, dotted names in registration order, state dicts,
 * train/eval mode and moving to another backend.
 */
import { dispose, keep, noGrad, tidy, type Backend, type Tensor } from '@tsgrad/core';

/** A state dict: tensors by dotted name, in registration order. */
export type StateDict = Record<string, Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Require the keys to match exactly (default true). Shape mismatches are errors either way,
   * as in PyTorch.
   */
  readonly strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match (always empty with `strict`). */
export interface LoadStateDictResult {
  /** Keys of the module that the state dict does not have. */
  readonly missingKeys: string[];
  /** Keys of the state dict that the module does not have. */
  readonly unexpectedKeys: string[];
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function checkName(kind: string, name: string): void {
  if (name === '' || name.includes('.')) throw new Error(`${kind} name must be non-empty and contain no '.', got '${name}'`);
}

/**
 * Base class of layers and models (like `torch.nn.Module`).
 *
 * Subclasses register their tensors and children in the constructor, and declare the
 * matching fields with `declare` so that the accessor the registration defines is used:
 *
 * ```ts
 * class Affine extends Module {
 *   declare readonly weight: Tensor;
 *   constructor(n: number) {
 *     super();
 *     this.registerParameter('weight', ones([n]));
 *   }
 *   override forward(x: Tensor): Tensor {
 *     return x.mul(this.weight);
 *   }
 * }
 * ```
 *
 * Registered tensors are taken out of every `tidy` scope ({@link keep}): they live until
 * {@link Module.dispose}. Assigning to a registered name replaces the tensor (the old one is
 * not disposed: it may be shared).
 */
export class Module {
  /** Whether the module is in training mode (see {@link Module.train} and {@link Module.eval}). */
  training = true;
  private readonly params_ = new Map<string, Tensor | null>();
  private readonly buffers_ = new Map<string, Tensor | null>();
  private readonly nonPersistent_ = new Set<string>();
  private readonly modules_ = new Map<string, Module | null>();

  /**
   * The computation. The base class throws: every layer overrides it. Modules with other
   * signatures (several inputs) define their own methods instead.
   */
  forward(input: Tensor): Tensor {
    void input;
    throw new Error(`${this.constructor.name}: forward() is not implemented`);
  }

  /** Same as {@link Module.forward}: the PyTorch `module(x)` spelling. */
  call(input: Tensor): Tensor {
    return this.forward(input);
  }

  private defineAccessor(name: string, map: Map<string, unknown>, kind: string): void {
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (own && !own.get) throw new Error(`${kind} '${name}': the module already has a plain property of that name`);
    if (this.params_.has(name) && map !== this.params_) throw new Error(`${kind} '${name}': already registered as a parameter`);
    if (this.buffers_.has(name) && map !== this.buffers_) throw new Error(`${kind} '${name}': already registered as a buffer`);
    if (this.modules_.has(name) && map !== this.modules_) throw new Error(`${kind} '${name}': already registered as a submodule`);
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => map.get(name),
      set: (v: unknown) => {
        if (map === this.modules_) this.registerModule(name, v as Module | null);
        else if (map === this.params_) this.registerParameter(name, v as Tensor | null);
        else this.registerBuffer(name, v as Tensor | null, !this.nonPersistent_.has(name));
      },
    });
  }

  /**
   * Adds a parameter (a float tensor that gets `requiresGrad`); `null` registers the name
   * without a tensor (like an absent bias). Returns the tensor.
   */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    checkName('parameter', name);
    if (t) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`parameter '${name}' must be a float tensor, got ${t.dtype}`);
      t.requiresGrad_();
      keep(t);
    }
    const fresh = !this.params_.has(name);
    this.params_.set(name, t);
    if (fresh) this.defineAccessor(name, this.params_, 'parameter');
    return t;
  }

  /**
   * Adds a buffer: state that is not trained (running statistics). Persistent buffers are in
   * the state dict. Returns the tensor.
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    checkName('buffer', name);
    if (t) keep(t);
    const fresh = !this.buffers_.has(name);
    this.buffers_.set(name, t);
    if (persistent) this.nonPersistent_.delete(name);
    else this.nonPersistent_.add(name);
    if (fresh) this.defineAccessor(name, this.buffers_, 'buffer');
    return t;
  }

  /** Adds a submodule under `name` (its parameters get the prefix `name.`). Returns it. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName('submodule', name);
    if (m !== null && !(m instanceof Module)) throw new TypeError(`submodule '${name}' must be a Module`);
    const fresh = !this.modules_.has(name);
    this.modules_.set(name, m);
    if (fresh) this.defineAccessor(name, this.modules_, 'submodule');
    return m;
  }

  /** The direct children with their names, in registration order. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this.modules_) if (m) yield [n, m];
  }

  /** The direct children. */
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every descendant, with dotted names (this one is `prefix`), pre-order. */
  *namedModules(prefix = '', seen: Set<Module> = new Set()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [n, m] of this.modules_) {
      if (m) yield* m.namedModules(prefix ? `${prefix}.${n}` : n, seen);
    }
  }

  /** This module and every descendant. */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /**
   * Every parameter with its dotted name (`stages.0.0.dwconv.weight`), in registration order:
   * a module's own parameters, then its children's. A tensor shared by two names is listed once.
   */
  *namedParameters(prefix = '', recurse = true): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, p] of m.params_) {
        if (!p || seen.has(p)) continue;
        seen.add(p);
        yield [mp ? `${mp}.${n}` : n, p];
      }
    }
  }

  /** Every parameter (see {@link Module.namedParameters}). */
  parameters(recurse = true): Tensor[] {
    return [...this.namedParameters('', recurse)].map(([, p]) => p);
  }

  /** Every buffer with its dotted name, in registration order. */
  *namedBuffers(prefix = '', recurse = true): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, b] of m.buffers_) {
        if (!b || seen.has(b)) continue;
        seen.add(b);
        yield [mp ? `${mp}.${n}` : n, b];
      }
    }
  }

  /** Every buffer. */
  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers('', recurse)].map(([, b]) => b);
  }

  /** Number of elements in all parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (for each module:
   * its parameters, its buffers, then its children). The values are the module's own
   * tensors, not copies: do not dispose them; `clone()` what must outlive an update.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, p: string): void => {
      for (const [n, t] of m.params_) if (t) out[p + n] = t;
      for (const [n, t] of m.buffers_) if (t && !m.nonPersistent_.has(n)) out[p + n] = t;
      for (const [n, c] of m.modules_) if (c) visit(c, `${p}${n}.`);
    };
    visit(this, prefix ? `${prefix}.` : '');
    return out;
  }

  /** Where each state-dict key lives: the owning module, the local name, and the kind. */
  private stateSlots(): Map<string, { module: Module; name: string; kind: 'parameter' | 'buffer' }> {
    const slots = new Map<string, { module: Module; name: string; kind: 'parameter' | 'buffer' }>();
    const visit = (m: Module, p: string): void => {
      for (const [n, t] of m.params_) if (t) slots.set(p + n, { module: m, name: n, kind: 'parameter' });
      for (const [n, t] of m.buffers_) if (t && !m.nonPersistent_.has(n)) slots.set(p + n, { module: m, name: n, kind: 'buffer' });
      for (const [n, c] of m.modules_) if (c) visit(c, `${p}${n}.`);
    };
    visit(this, '');
    return slots;
  }

  /**
   * Copies `sd`'s values into this module's parameters and buffers, keeping their identity
   * (optimizers holding them keep working). Values on another backend are moved, and float
   * values of another float dtype are cast. Throws, listing every missing, unexpected and
   * wrongly shaped key in one message, when shapes differ or (with `strict`, the default)
   * keys do not match; nothing is loaded then.
   */
  loadStateDict(sd: Readonly<Record<string, Tensor>>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const slots = this.stateSlots();
    const missingKeys = [...slots.keys()].filter((k) => !(k in sd));
    const unexpectedKeys = Object.keys(sd).filter((k) => !slots.has(k));
    const wrong: string[] = [];
    for (const [k, slot] of slots) {
      const v = sd[k];
      if (!v) continue;
      const own = (slot.kind === 'parameter' ? slot.module.params_ : slot.module.buffers_).get(slot.name)!;
      if (v.shape.length !== own.shape.length || v.shape.some((d, i) => d !== own.shape[i])) {
        wrong.push(`${k}: checkpoint ${fmt(v.shape)}, model ${fmt(own.shape)}`);
      }
    }
    const problems: string[] = [];
    if (wrong.length) problems.push(`size mismatch for ${wrong.length} key(s):\n    ${wrong.join('\n    ')}`);
    if (strict && missingKeys.length) problems.push(`missing key(s) (${missingKeys.length}): ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected key(s) (${unexpectedKeys.length}): ${unexpectedKeys.join(', ')}`);
    if (problems.length) {
      throw new Error(`Error(s) in loading state dict for ${this.constructor.name}:\n  ${problems.join('\n  ')}`);
    }
    noGrad(() =>
      tidy(() => {
        for (const [k, slot] of slots) {
          const v = sd[k];
          if (!v) continue;
          const own = (slot.kind === 'parameter' ? slot.module.params_ : slot.module.buffers_).get(slot.name)!;
          let value = v.backend === own.backend ? v : v.to(own.backend);
          if (value.dtype !== own.dtype) value = value.cast(own.dtype);
          own.assign(value);
        }
      }),
    );
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and every descendant (affects Dropout, DropPath, BatchNorm). Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Sets `requiresGrad` on every parameter (freezing with `false`). Returns this. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Drops the `.grad` of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Moves every parameter and buffer to another backend (initialised beforehand with
   * `initBackend`/`setBackend`). The tensors are replaced, so build optimizers after moving.
   * The old tensors are disposed. Returns this.
   */
  to(backend: string | Backend): this {
    for (const m of this.modules()) {
      for (const map of [m.params_, m.buffers_]) {
        for (const [n, t] of map) {
          if (!t) continue;
          const moved = t.to(backend);
          if (moved === t) continue;
          moved.requiresGrad = t.requiresGrad;
          keep(moved);
          map.set(n, moved);
          t.zeroGrad();
          t.dispose();
        }
      }
    }
    return this;
  }

  /** Disposes every parameter, buffer and gradient of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const map of [m.params_, m.buffers_]) {
        for (const t of map.values()) {
          if (!t) continue;
          t.zeroGrad();
          dispose(t);
        }
      }
    }
  }

  /** A one-line description of the module's settings, shown by {@link Module.toString}. */
  extraRepr(): string {
    return '';
  }

  /** A tree of the module and its children, like PyTorch's `print(model)`. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    const kids = [...this.namedChildren()];
    if (!kids.length) return `${head})`;
    const body = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }
}

/** A module that applies its children in order (`Sequential(a, b)(x) = b(a(x))`), named `0`, `1`, ... */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  /** Registers each module under its index. */
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end. Returns this. */
  append(m: Module): this {
    this.registerModule(String(this.layers.length), m);
    this.layers.push(m);
    return this;
  }

  /** The child at `i` (negative counts from the end). */
  at(i: number): Module {
    const m = this.layers[i < 0 ? this.layers.length + i : i];
    if (!m) throw new RangeError(`Sequential: index ${i} out of range for ${this.layers.length} modules`);
    return m;
  }

  /** Number of children. */
  get length(): number {
    return this.layers.length;
  }

  /** Iterates the children. */
  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  /** Applies every child in order. */
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}

/** A list of modules registered under `0`, `1`, ... (no forward of its own). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  /** Registers each module under its index. */
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end. Returns this. */
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  /** The module at `i` (negative counts from the end). */
  at(i: number): M {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range for ${this.items.length} modules`);
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** Iterates the modules. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
