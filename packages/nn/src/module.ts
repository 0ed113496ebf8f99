/**
 * `Module`: the base of every layer and model, with PyTorch's semantics: registered
 * parameters, buffers and submodules, dotted names in registration order, state dicts,
 * train/eval mode and moving to another backend.
 */
import { Tensor, dispose, keep, noGrad, tidy, type Backend } from '@tsgrad/core';

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

/** Tensors marked by {@link Parameter}. */
const PARAMETERS = new WeakSet<Tensor>();
/** Tensors marked by {@link Buffer}, with their `persistent` flag. */
const BUFFERS = new WeakMap<Tensor, boolean>();

/**
 * Marks `t` as a parameter (PyTorch's `nn.Parameter(t)`): sets `requiresGrad`, takes it out
 * of every `tidy` scope, and returns the same tensor. Assigned to a module property
 * (`this.weight = Parameter(randn([3]))`, or as a class field) it is registered under the
 * property's name. A float leaf tensor with `requiresGrad` is taken as a parameter too.
 */
export function Parameter(t: Tensor): Tensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`Parameter: must be a float tensor, got ${t.dtype}`);
  BUFFERS.delete(t);
  PARAMETERS.add(t);
  t.requiresGrad_();
  return keep(t);
}

/**
 * Marks `t` as a buffer (PyTorch's `nn.Buffer(t, persistent)`): state that is not trained,
 * such as running statistics, kept out of every `tidy` scope. Assigned to a module property
 * it is registered under the property's name; persistent buffers are in the state dict.
 * Returns the same tensor. (A plain tensor assigned to a property is neither parameter nor
 * buffer, as in PyTorch.)
 */
export function Buffer(t: Tensor, persistent = true): Tensor {
  PARAMETERS.delete(t);
  BUFFERS.set(t, persistent);
  return keep(t);
}

type Kind = 'parameter' | 'buffer' | 'submodule';

/** Modules whose `toString` is running (a cycle prints as `<cycle>` instead of recursing). */
const PRINTING = new WeakSet<Module>();

function isFloatLeafWithGrad(t: Tensor): boolean {
  return t.requiresGrad && t.gradNode === null && (t.dtype === 'float32' || t.dtype === 'float64');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return `a ${typeof v}`;
}

/**
 * Base class of layers and models (like `torch.nn.Module`).
 *
 * Modules register themselves, as in PyTorch: a layer, a {@link Parameter}, a
 * {@link Buffer}, a {@link ModuleList} or an array of modules assigned to a property (a class
 * field or `this.x = ...` in the constructor) is found and named by the property:
 *
 * ```ts
 * class Mlp extends Module {
 *   fc1 = new Linear(4, 8);
 *   blocks = [new Linear(8, 8), new Linear(8, 8)]; // blocks.0.weight, ...
 *   scale = Parameter(ones([8]));
 *   override forward(x: Tensor): Tensor {
 *     let y = this.fc1.forward(x);
 *     for (const b of this.blocks) y = b.forward(y).relu();
 *     return y.mul(this.scale);
 *   }
 * }
 * ```
 *
 * Properties are looked at whenever the module is walked (`parameters()`, `stateDict()`,
 * `children()`, `train()`, `to()`, ...), so what is assigned later is found too. The order
 * is the order the properties were created in (class fields in declaration order, then
 * properties created in the constructor), which JavaScript keeps; one deviation: names that
 * look like array indices (`'0'`, `'1'`) come first, in numeric order. A float tensor with
 * `requiresGrad` that is a leaf counts as a parameter even without `Parameter()`; other
 * plain tensors are not state (as in PyTorch). Properties that are not enumerable or
 * `#private` are never looked at: hold a module there to keep it out of the tree.
 *
 * `registerParameter`, `registerBuffer` and `registerModule` remain for names computed at
 * run time, and register at once: a property is only found at the next walk, so a
 * `Parameter` field replaced by a plain (non-`requiresGrad`) tensor before any walk ends up a
 * plain property, where a registered name would have kept it a parameter (the library's
 * layers register their tensors for that reason). A found or registered name becomes an accessor: assigning to it replaces the
 * tensor or child in place (same position), and assigning a module, a `Parameter` or a
 * `Buffer` to it changes its kind, as in PyTorch. Registered tensors are taken out of every
 * `tidy` scope ({@link keep}) and live until {@link Module.dispose}; a replaced tensor is not
 * disposed (it may be shared).
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

  /** The modules of a list container, which are its children `0`, `1`, ... (see {@link ModuleList}). */
  protected listItems_(): Module[] | undefined {
    return undefined;
  }

  private kindOf_(name: string): Kind | undefined {
    if (this.params_.has(name)) return 'parameter';
    if (this.buffers_.has(name)) return 'buffer';
    if (this.modules_.has(name)) return 'submodule';
    return undefined;
  }

  private forget_(name: string): void {
    this.params_.delete(name);
    this.buffers_.delete(name);
    this.nonPersistent_.delete(name);
    this.modules_.delete(name);
  }

  /** Makes `name` an accessor over the maps, keeping its place among the properties. */
  private defineAccessor_(name: string): void {
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (own?.get) return;
    if (own && !own.configurable) throw new Error(`${this.constructor.name}: property '${name}' cannot be registered (not configurable)`);
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => this.params_.get(name) ?? this.buffers_.get(name) ?? this.modules_.get(name) ?? null,
      set: (v: unknown) => this.assign_(name, v),
    });
  }

  /** Puts `value` in the slot `name` of `kind`, dropping the name from the other kinds. */
  private setSlot_(name: string, kind: Kind, value: Tensor | Module | null, persistent = true): void {
    if (this.kindOf_(name) !== kind) this.forget_(name);
    if (kind === 'submodule') this.modules_.set(name, value as Module | null);
    else if (kind === 'parameter') this.params_.set(name, value as Tensor | null);
    else {
      this.buffers_.set(name, value as Tensor | null);
      if (persistent) this.nonPersistent_.delete(name);
      else this.nonPersistent_.add(name);
    }
    const items = this.listItems_();
    if (items && kind === 'submodule' && value && /^(0|[1-9]\d*)$/.test(name)) items[Number(name)] = value as Module;
    this.defineAccessor_(name);
  }

  /** What assigning `v` to the property `name` does (PyTorch's `__setattr__`). */
  private assign_(name: string, v: unknown): void {
    const kind = this.kindOf_(name);
    if (v instanceof Module) return this.setSlot_(name, 'submodule', v);
    if (isModuleArray(v, name, this)) {
      // An array stays the property's value; a live ModuleList over it is the child.
      this.forget_(name);
      Object.defineProperty(this, name, { configurable: true, enumerable: true, writable: true, value: v });
      this.modules_.set(name, ModuleList.over(v));
      return;
    }
    if (v instanceof Tensor) {
      if (BUFFERS.has(v)) return this.addBuffer_(name, v, BUFFERS.get(v));
      if (PARAMETERS.has(v)) return this.addParameter_(name, v);
      if (kind === 'buffer') return this.addBuffer_(name, v, !this.nonPersistent_.has(name));
      if (kind === 'parameter' || isFloatLeafWithGrad(v)) return this.addParameter_(name, v);
      if (kind === 'submodule') throw new TypeError(`${this.constructor.name}: cannot assign a tensor to '${name}', a submodule (wrap it with Parameter() or Buffer())`);
      Object.defineProperty(this, name, { configurable: true, enumerable: true, writable: true, value: v });
      return;
    }
    if (v === null || v === undefined) {
      if (kind) this.setSlot_(name, kind, null, !this.nonPersistent_.has(name));
      else Object.defineProperty(this, name, { configurable: true, enumerable: true, writable: true, value: v });
      return;
    }
    throw new TypeError(`${this.constructor.name}: cannot assign ${describe(v)} to '${name}', registered as a ${kind} (delete the property first)`);
  }

  /**
   * Finds what was assigned to plain properties since the last walk and registers it; drops
   * names whose property was deleted. Cheap: one look at each own property.
   */
  private sync_(): void {
    const items = this.listItems_();
    if (items) {
      items.forEach((m, i) => {
        if (!(m instanceof Module)) throw new TypeError(`${this.constructor.name}: item ${i} is ${describe(m)}, not a Module`);
        if (this.modules_.get(String(i)) !== m) this.setSlot_(String(i), 'submodule', m);
      });
      for (const k of [...this.modules_.keys()]) {
        if (Number(k) >= items.length) {
          this.modules_.delete(k);
          delete (this as Record<string, unknown>)[k];
        }
      }
    }
    const keys = new Set(Object.keys(this));
    for (const k of keys) {
      const d = Object.getOwnPropertyDescriptor(this, k)!;
      if (!('value' in d)) continue; // an accessor: registered already (or the class's own getter)
      const v: unknown = d.value;
      const kind = this.kindOf_(k);
      if (v instanceof Tensor) {
        if (!kind && !BUFFERS.has(v) && !PARAMETERS.has(v) && !isFloatLeafWithGrad(v)) continue; // a plain tensor is not state
        if (v.isDisposed) {
          throw new Error(`${this.constructor.name}: the tensor assigned to '${k}' was disposed before the module found it (made inside tidy?); wrap it with Parameter() or Buffer(), which keep it`);
        }
        this.assign_(k, v);
      } else if (v instanceof Module) {
        this.assign_(k, v);
      } else if (Array.isArray(v) && kind === 'submodule' && (this.modules_.get(k) as Module | null | undefined)?.listItems_() === v) {
        continue; // the live list over this array
      } else if (isModuleArray(v, k, this)) {
        this.assign_(k, v);
      } else if (kind) {
        if (v === null || v === undefined) this.assign_(k, v);
        else this.forget_(k); // a registered name that now holds a plain value is no longer state
      }
    }
    for (const map of [this.params_, this.buffers_, this.modules_] as Map<string, unknown>[]) {
      for (const k of [...map.keys()]) if (!keys.has(k)) this.forget_(k);
    }
  }

  /** The entries of `map` in property order (see the class comment). */
  private ordered_<V>(map: Map<string, V>): [string, V][] {
    this.sync_();
    const out: [string, V][] = [];
    for (const k of Object.keys(this)) if (map.has(k)) out.push([k, map.get(k)!]);
    return out;
  }

  /**
   * Adds a parameter (a float tensor that gets `requiresGrad`); `null` registers the name
   * without a tensor (like an absent bias). For names computed at run time; a property
   * assignment does the same. Returns the tensor.
   */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    checkName('parameter', name);
    this.checkKind_(name, 'parameter');
    this.addParameter_(name, t);
    return t;
  }

  private addParameter_(name: string, t: Tensor | null): void {
    if (t) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`parameter '${name}' must be a float tensor, got ${t.dtype}`);
      t.requiresGrad_();
      PARAMETERS.add(t);
      keep(t);
    }
    this.setSlot_(name, 'parameter', t);
  }

  private addBuffer_(name: string, t: Tensor | null, persistent = true): void {
    if (t) keep(t);
    this.setSlot_(name, 'buffer', t, persistent);
  }

  /**
   * Adds a buffer: state that is not trained (running statistics). Persistent buffers are in
   * the state dict. Returns the tensor.
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    checkName('buffer', name);
    this.checkKind_(name, 'buffer');
    this.addBuffer_(name, t, persistent);
    return t;
  }

  /** Adds a submodule under `name` (its parameters get the prefix `name.`). Returns it. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName('submodule', name);
    if (m !== null && !(m instanceof Module)) throw new TypeError(`submodule '${name}' must be a Module`);
    this.checkKind_(name, 'submodule');
    this.setSlot_(name, 'submodule', m);
    return m;
  }

  /**
   * Explicit registration of another kind than the name has: an error, unless the name's
   * value is a plain property that a later walk would re-find (assignment changes kinds).
   */
  private checkKind_(name: string, kind: Kind): void {
    const had = this.kindOf_(name);
    if (had && had !== kind && Object.getOwnPropertyDescriptor(this, name)?.get) {
      throw new Error(`${kind} '${name}': already registered as a ${had}`);
    }
  }

  /** The direct children with their names, in property order. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this.ordered_(this.modules_)) if (m) yield [n, m];
  }

  /** The direct children. */
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every descendant, with dotted names (this one is `prefix`), pre-order. */
  *namedModules(prefix = '', seen: Set<Module> = new Set()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    this.sync_();
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n, seen);
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
      for (const [n, p] of m.ordered_(m.params_)) {
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
      for (const [n, b] of m.ordered_(m.buffers_)) {
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
    for (const { key, tensor } of this.stateEntries_(prefix ? `${prefix}.` : '')) out[key] = tensor;
    return out;
  }

  /** Where each state-dict key lives: the owning module, the local name, and the kind. */
  private stateSlots(): Map<string, { module: Module; name: string; kind: 'parameter' | 'buffer' }> {
    const slots = new Map<string, { module: Module; name: string; kind: 'parameter' | 'buffer' }>();
    for (const { key, module, name, kind } of this.stateEntries_('')) slots.set(key, { module, name, kind });
    return slots;
  }

  /**
   * Every parameter and persistent buffer with its state-dict key, in PyTorch's order. Shared
   * modules appear under each name (as PyTorch); a module that contains its own ancestor is
   * an error (the keys would never end).
   */
  private *stateEntries_(
    p: string,
    path: Set<Module> = new Set(),
  ): Generator<{ key: string; module: Module; name: string; kind: 'parameter' | 'buffer'; tensor: Tensor }> {
    if (path.has(this)) {
      throw new Error(`${this.constructor.name}: the module tree has a cycle at '${p.slice(0, -1)}' (a module holds one of its ancestors); keep back-references in a #private or non-enumerable field`);
    }
    path.add(this);
    for (const [n, t] of this.ordered_(this.params_)) if (t) yield { key: p + n, module: this, name: n, kind: 'parameter', tensor: t };
    for (const [n, t] of this.ordered_(this.buffers_)) if (t && !this.nonPersistent_.has(n)) yield { key: p + n, module: this, name: n, kind: 'buffer', tensor: t };
    for (const [n, c] of this.namedChildren()) yield* c.stateEntries_(`${p}${n}.`, path);
    path.delete(this);
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
          if (map === m.params_) PARAMETERS.add(moved);
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
    if (PRINTING.has(this)) return `${head}) <cycle>`;
    PRINTING.add(this);
    try {
      const kids = [...this.namedChildren()];
      if (!kids.length) return `${head})`;
      const body = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
      return `${head}\n${body}\n)`;
    } finally {
      PRINTING.delete(this);
    }
  }
}

/**
 * Whether `v` is an array of modules (registered as a {@link ModuleList} over it). An array
 * that mixes modules with other values is an error: half of it would silently not be state.
 */
function isModuleArray(v: unknown, name: string, owner: Module): v is Module[] {
  if (!Array.isArray(v) || v.length === 0) return false;
  // Walks run often: a long array of plain values is judged by its first 64 entries.
  const head = v[0] instanceof Module ? v : v.slice(0, 64);
  const mods = head.filter((x) => x instanceof Module).length;
  if (mods === 0) return false;
  if (mods !== head.length) {
    throw new TypeError(`${owner.constructor.name}: property '${name}' is an array mixing modules with other values; only arrays of modules are registered (make it #private to keep it out of the module tree)`);
  }
  return true;
}

/** A module that applies its children in order (`Sequential(a, b)(x) = b(a(x))`), named `0`, `1`, ... */
export class Sequential extends Module {
  readonly #layers: Module[] = [];

  /** Registers each module under its index. */
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  protected override listItems_(): Module[] {
    return this.#layers;
  }

  /** Adds a module at the end. Returns this. */
  append(m: Module): this {
    this.registerModule(String(this.#layers.length), m);
    return this;
  }

  /** The child at `i` (negative counts from the end). */
  at(i: number): Module {
    const m = this.#layers[i < 0 ? this.#layers.length + i : i];
    if (!m) throw new RangeError(`Sequential: index ${i} out of range for ${this.#layers.length} modules`);
    return m;
  }

  /** Number of children. */
  get length(): number {
    return this.#layers.length;
  }

  /** Iterates the children. */
  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }

  /** Applies every child in order. */
  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.#layers) y = m.forward(y);
    return y;
  }
}

/**
 * A list of modules registered under `0`, `1`, ... (no forward of its own). An array of
 * modules assigned to a module property becomes a `ModuleList` over that array
 * ({@link ModuleList.over}), so `this.blocks = [a, b]` names `blocks.0.*`, `blocks.1.*`.
 */
export class ModuleList<M extends Module = Module> extends Module {
  #items: M[] = [];

  /** Registers each module under its index. */
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /**
   * A list whose children are `items` itself, read afresh at every walk of the module tree
   * (so `items.push(m)` adds a child). What an array property of a module is registered as.
   */
  static over<M extends Module>(items: M[]): ModuleList<M> {
    const list = new ModuleList<M>();
    list.#items = items;
    return list;
  }

  protected override listItems_(): M[] {
    return this.#items;
  }

  /** Adds a module at the end. Returns this. */
  append(m: M): this {
    this.registerModule(String(this.#items.length), m);
    return this;
  }

  /** The module at `i` (negative counts from the end). */
  at(i: number): M {
    const m = this.#items[i < 0 ? this.#items.length + i : i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range for ${this.#items.length} modules`);
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** Iterates the modules. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}
