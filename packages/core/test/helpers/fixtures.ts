/**
 * Loading the PyTorch golden fixtures (`test/fixtures/torch/*.json`, see its README),
 * turning their tensors into tsgrad tensors, reading a case's `params` strictly, and
 * comparing our results to PyTorch's with a message that names the worst element.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromTypedArray, type Backend, type Tensor } from '@tsgrad/core';

/** A tensor as the fixtures store it: flat row-major data. */
export interface FixtureTensor {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int64';
  readonly data: readonly number[];
}

/** One case: an op applied to `inputs`, its output, the cotangent fed back, and the input gradients. */
export interface FixtureCase {
  readonly name: string;
  readonly op: string;
  /** The op's keyword arguments under PyTorch's names. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, FixtureTensor>>;
  readonly output: FixtureTensor;
  readonly cotangent: FixtureTensor;
  /** `d(sum(output * cotangent)) / d(inputs[k])` for every input that requires grad. */
  readonly grads: Readonly<Record<string, FixtureTensor>>;
}

/** One fixture file (one op family). */
export interface FixtureFile {
  readonly file: string;
  readonly generator: string;
  readonly torchVersion: string;
  readonly cases: readonly FixtureCase[];
}

// ---- loading and validating ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, what: string): never {
  throw new Error(`fixture ${where}: ${what}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function record(v: unknown, where: string): Record<string, unknown> {
  if (!isRecord(v)) fail(where, 'expected an object');
  return v;
}

function parseTensor(v: unknown, where: string): FixtureTensor {
  const o = record(v, where);
  const { shape, dtype, data } = o;
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isInteger(d) && (d as number) >= 0)) {
    fail(where, `bad shape ${JSON.stringify(shape)}`);
  }
  if (dtype !== 'float32' && dtype !== 'int64') fail(where, `unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(data) || !data.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) {
    fail(where, 'data must be an array of finite numbers');
  }
  const n = shape.reduce((a: number, b: number) => a * b, 1);
  if (data.length !== n) fail(where, `data has ${data.length} values but shape [${shape.join(', ')}] needs ${n}`);
  if (dtype === 'float32') {
    const i = data.findIndex((x) => Math.fround(x) !== x);
    if (i >= 0) fail(where, `data[${i}] = ${data[i]} is not exactly a float32 value`);
  } else {
    const i = data.findIndex((x) => !Number.isInteger(x));
    if (i >= 0) fail(where, `data[${i}] = ${data[i]} is not an integer`);
  }
  return { shape, dtype, data };
}

function parseTensors(v: unknown, where: string): Record<string, FixtureTensor> {
  const o = record(v, where);
  return Object.fromEntries(Object.entries(o).map(([k, t]) => [k, parseTensor(t, `${where}.${k}`)]));
}

function parseCase(v: unknown, where: string): FixtureCase {
  const o = record(v, where);
  const name = str(o.name, `${where}.name`);
  const at = `${where} (${name})`;
  const c: FixtureCase = {
    name,
    op: str(o.op, `${at}.op`),
    params: record(o.params, `${at}.params`),
    inputs: parseTensors(o.inputs, `${at}.inputs`),
    output: parseTensor(o.output, `${at}.output`),
    cotangent: parseTensor(o.cotangent, `${at}.cotangent`),
    grads: parseTensors(o.grads, `${at}.grads`),
  };
  if (!shapesEqual(c.cotangent.shape, c.output.shape)) {
    fail(at, `cotangent shape [${c.cotangent.shape.join(', ')}] differs from the output's [${c.output.shape.join(', ')}]`);
  }
  for (const [k, g] of Object.entries(c.grads)) {
    const input = c.inputs[k];
    if (!input) fail(at, `grads.${k} names no input`);
    if (!shapesEqual(g.shape, input.shape)) fail(at, `grads.${k} has shape [${g.shape.join(', ')}], its input [${input.shape.join(', ')}]`);
  }
  return c;
}

/** The `*.json` fixture files in `dir` (e.g. `new URL('./fixtures/torch/', import.meta.url)`), sorted. */
export function listFixtureFiles(dir: URL): string[] {
  return readdirSync(fileURLToPath(dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** Reads and validates one fixture file from `dir`. */
export function loadFixtureFile(dir: URL, file: string): FixtureFile {
  const raw: unknown = JSON.parse(readFileSync(fileURLToPath(new URL(file, dir)), 'utf8'));
  const o = record(raw, file);
  if (!Array.isArray(o.cases)) fail(file, '`cases` must be an array');
  const cases = o.cases.map((c, i) => parseCase(c, `${file} case ${i}`));
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) fail(file, `duplicate case name ${c.name}`);
    names.add(c.name);
  }
  return { file, generator: str(o.generator, `${file}.generator`), torchVersion: str(o.torch_version, `${file}.torch_version`), cases };
}

// ---- tensors ----

/**
 * A fixture tensor as a tsgrad tensor on `backend`: float32 as float32, int64 (class
 * indices) as int32, which must then hold every value exactly.
 */
export function toTensor(t: FixtureTensor, backend: Backend, where = 'tensor'): Tensor {
  if (t.dtype === 'int64') {
    const bad = t.data.find((x) => x < -(2 ** 31) || x >= 2 ** 31);
    if (bad !== undefined) throw new RangeError(`${where}: int64 value ${bad} does not fit in int32`);
    return fromTypedArray(Int32Array.from(t.data), t.shape, 'int32', backend);
  }
  return fromTypedArray(Float32Array.from(t.data), t.shape, 'float32', backend);
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The multi-index of flat row-major position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = rest % d;
    rest = Math.floor(rest / d);
  }
  return idx;
}

/**
 * Compares `actual` to the fixture's `expected` with a scale-relative bound:
 * `max|actual - expected| <= tol * max(1, max|expected|)`. Returns null when it holds,
 * otherwise a message naming `label` (case and tensor), the worst element's index and
 * both values. A shape or dtype mismatch, or any NaN, fails too.
 */
export function mismatch(actual: Tensor, expected: FixtureTensor, tol: number, label: string): string | null {
  if (!shapesEqual(actual.shape, expected.shape)) {
    return `${label}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  if (actual.dtype !== 'float32') return `${label}: dtype ${actual.dtype}, expected float32`;
  const got = actual.dataSync();
  const want = expected.data;
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  const bound = tol * scale;
  let worst = 0;
  let worstRank = -1; // the error, with NaN ranked above everything
  let over = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= bound)) over++; // NaN counts as over
    const rank = Number.isNaN(err) ? Infinity : err;
    if (rank > worstRank) {
      worst = i;
      worstRank = rank;
    }
  }
  if (over === 0) return null;
  const idx = unravel(worst, expected.shape);
  return (
    `${label}: max|ours - torch| = ${Math.abs(got[worst]! - want[worst]!)} exceeds ${tol} * ${scale} = ${bound} ` +
    `(${over} of ${want.length} elements over); worst at [${idx.join(', ')}] (flat ${worst}): ours ${got[worst]}, torch ${want[worst]}`
  );
}

// ---- params ----

/**
 * Strict reader of a case's `params`: each getter checks the type, and {@link Params.done}
 * throws if a key was never read, so a parameter the test does not map cannot be ignored.
 */
export class Params {
  private readonly read = new Set<string>();
  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly where: string,
  ) {}

  private get(key: string): unknown {
    if (!(key in this.raw)) throw new Error(`${this.where}: params has no '${key}' (has ${Object.keys(this.raw).join(', ') || 'none'})`);
    this.read.add(key);
    return this.raw[key];
  }

  private bad(key: string, want: string): never {
    throw new Error(`${this.where}: params.${key} should be ${want}, got ${JSON.stringify(this.raw[key])}`);
  }

  /** A finite number. */
  number(key: string): number {
    const v = this.get(key);
    return typeof v === 'number' && Number.isFinite(v) ? v : this.bad(key, 'a finite number');
  }
  /** An integer. */
  int(key: string): number {
    const v = this.get(key);
    return typeof v === 'number' && Number.isInteger(v) ? v : this.bad(key, 'an integer');
  }
  /** A list of integers. */
  ints(key: string): number[] {
    const v = this.get(key);
    return Array.isArray(v) && v.every((x): x is number => Number.isInteger(x)) ? [...v] : this.bad(key, 'a list of integers');
  }
  /** A pair of integers (a single integer is used for both). */
  intPair(key: string): [number, number] {
    const v = this.get(key);
    if (typeof v === 'number' && Number.isInteger(v)) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((x): x is number => Number.isInteger(x))) return [v[0]!, v[1]!];
    return this.bad(key, 'an integer or a pair of integers');
  }
  /** A boolean. */
  bool(key: string): boolean {
    const v = this.get(key);
    return typeof v === 'boolean' ? v : this.bad(key, 'a boolean');
  }
  /** One of the strings in `allowed`. */
  oneOf<const T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.get(key);
    return allowed.find((a) => a === v) ?? this.bad(key, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  /** Reads `key` and requires it to equal `expected` (an option our API does not take). */
  require(key: string, expected: unknown): void {
    const v = this.get(key);
    if (JSON.stringify(v) !== JSON.stringify(expected)) this.bad(key, `${JSON.stringify(expected)} (the only value tsgrad supports)`);
  }
  /** Throws if any key was never read. */
  done(): void {
    const unread = Object.keys(this.raw).filter((k) => !this.read.has(k));
    if (unread.length) throw new Error(`${this.where}: params ${unread.join(', ')} are not mapped to tsgrad's API`);
  }
}
