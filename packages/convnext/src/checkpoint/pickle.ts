/**
 * A restricted unpickler: the subset of the pickle machine (protocols 2–5) that
 * `torch.save` uses for state dicts. It never imports or executes anything: a GLOBAL is
 * resolved only through the caller's table of known names, every other name is refused
 * (or, on request, becomes an inert {@link PyObject} placeholder), and unsupported opcodes
 * are refused with their byte value, name and position.
 *
 * Hostile input costs bounded time and memory: integers longer than
 * `MAX_PICKLE_LONG_BYTES` are refused (torch.save never writes them), and the result
 * may not nest deeper than `MAX_PICKLE_DEPTH` levels nor contain itself, so that
 * code walking it recursively (including our own error messages) cannot overflow the stack.
 * Protocols 0 and 1 (no PROTO opcode) are refused by name.
 *
 * Python values map to: `None` → `null`, `bool` → boolean, `int` → number (bigint beyond
 * 2^53), `float` → number, `str` → string, `bytes` → Uint8Array, `list`/`tuple` → array,
 * `dict`/`OrderedDict` → {@link PyDict}.
 *
 * @module
 */
import { CheckpointError } from './errors.js';

/** A Python dict (or OrderedDict) with insertion order kept. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** State given by a BUILD opcode (e.g. a state dict's `_metadata` attribute). */
  state: unknown = undefined;
  constructor(readonly className: string = 'dict') {}
  get(key: unknown): unknown {
    return this.map.get(key);
  }
}

/** A global name the unpickler was allowed to resolve. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** What calling it (REDUCE) produces; absent for non-callable markers such as storage types. */
    readonly call?: (args: unknown[]) => unknown,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An inert stand-in for an object of a class we do not know (only with `unknownGlobals: 'opaque'`). */
export class PyObject {
  state: unknown = undefined;
  constructor(
    readonly cls: string,
    readonly args: unknown[],
  ) {}
}

/** Options for {@link unpickle}. */
export interface UnpickleOptions {
  /** Resolves `module.name` to a known global, or returns undefined to refuse it. */
  findGlobal: (module: string, name: string) => PyGlobal | undefined;
  /** Resolves a persistent id (BINPERSID); without it persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * What to do with a global that `findGlobal` does not know: `'error'` (default) throws;
   * `'opaque'` makes an inert {@link PyObject} placeholder (nothing is executed either way).
   */
  unknownGlobals?: 'error' | 'opaque';
  /** Message suffix naming what is being read (e.g. the archive entry). */
  source?: string;
}

/**
 * The longest LONG1/LONG4 integer accepted, in bytes. A state dict holds no integer beyond
 * 64 bits; the limit keeps hostile multi-megabyte integers (and printing them) cheap.
 */
export const MAX_PICKLE_LONG_BYTES = 1024;

/**
 * How deeply the unpickled value may nest (containers inside containers). Python's own
 * pickler stops near its recursion limit of 1000, so torch.save cannot write deeper files.
 */
export const MAX_PICKLE_DEPTH = 1000;

/** Names of all pickle opcodes, for error messages. */
const OPCODE_NAMES = new Map<number, string>(Object.entries({
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
}).map(([k, v]) => [Number(k), v]));

/** Human-readable name of an opcode byte, e.g. `0x8f (EMPTY_SET)`. */
export function opcodeName(op: number): string {
  const hex = `0x${op.toString(16).padStart(2, '0')}`;
  const n = OPCODE_NAMES.get(op);
  return n ? `${hex} (${n})` : `${hex} (not a pickle opcode)`;
}

function typeName(x: unknown): string {
  if (x === null) return 'None';
  if (Array.isArray(x)) return 'list/tuple';
  if (x instanceof PyDict) return x.className;
  if (x instanceof PyGlobal) return `global ${x.qualifiedName}`;
  if (x instanceof PyObject) return `object ${x.cls}`;
  if (x instanceof Uint8Array) return 'bytes';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** Guesses the protocol (0 or 1) of a pickle that has no PROTO opcode: protocol 0 is text. */
function oldProtocol(data: Uint8Array): 0 | 1 {
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return 1;
  }
  return 0;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The values a container holds (none for leaves). */
function childrenOf(x: unknown): unknown[] | null {
  if (Array.isArray(x)) return x;
  if (x instanceof PyDict) return [...x.map.keys(), ...x.map.values(), x.state];
  if (x instanceof PyObject) return [...x.args, x.state];
  if (x !== null && typeof x === 'object' && hasOwn(x, 'buildState')) return [(x as { buildState: unknown }).buildState];
  return null;
}

/**
 * Checks, without recursion, that `root` nests at most `maxDepth` containers deep and never
 * contains itself. Shared values (memo references) are visited once, so this is linear.
 * Returns a description of the problem, or null.
 */
function checkShape(root: unknown, maxDepth: number): string | null {
  const rootKids = childrenOf(root);
  if (!rootKids) return null;
  const ON_PATH = -1;
  const depthOf = new Map<unknown, number>([[root, ON_PATH]]);
  const frames: { node: unknown; kids: unknown[]; i: number; depth: number }[] = [{ node: root, kids: rootKids, i: 0, depth: 1 }];
  while (frames.length) {
    const f = frames[frames.length - 1]!;
    if (f.i < f.kids.length) {
      const c = f.kids[f.i++];
      const known = depthOf.get(c);
      if (known === ON_PATH) return `the unpickled value contains itself (a ${typeName(c)} inside its own contents), which a state dict never does`;
      if (known !== undefined) {
        f.depth = Math.max(f.depth, known + 1);
        continue;
      }
      const kids = childrenOf(c);
      if (!kids) continue;
      if (frames.length >= maxDepth) return `the unpickled value is nested more than ${maxDepth} levels deep`;
      depthOf.set(c, ON_PATH);
      frames.push({ node: c, kids, i: 0, depth: 1 });
      continue;
    }
    frames.pop();
    if (f.depth > maxDepth) return `the unpickled value is nested more than ${maxDepth} levels deep`;
    depthOf.set(f.node, f.depth);
    const parent = frames[frames.length - 1];
    if (parent) parent.depth = Math.max(parent.depth, f.depth + 1);
  }
  return null;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Decodes a little-endian two's-complement integer in linear time (one hex parse, not a shift per byte). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  const digits: string[] = [];
  for (let i = b.length - 1; i >= 0; i--) digits.push(HEX[b[i]!]!);
  let v = BigInt(`0x${digits.join('')}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Runs the restricted pickle machine over `data` and returns the unpickled value.
 * Throws {@link CheckpointError} for truncated data, unsupported opcodes, refused globals,
 * malformed stacks and anything else it cannot interpret; it never loops forever (every
 * step consumes input) and never recurses.
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions): unknown {
  const src = options.source ? ` in ${options.source}` : '';
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let opPos = 0;
  let op = 0;

  const fail = (msg: string): never => {
    throw new CheckpointError(`pickle: ${msg} (opcode ${opcodeName(op)} at byte ${opPos}${src})`);
  };
  const need = (n: number): void => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > data.length) {
      throw new CheckpointError(`pickle: data is truncated: opcode ${opcodeName(op)} at byte ${opPos} needs ${n} more bytes but only ${data.length - pos} remain${src}`);
    }
  };
  const bytesN = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const lo = dv.getUint32(pos, true);
    const hi = dv.getUint32(pos + 4, true);
    pos += 8;
    if (hi > 0x1fffff) fail(`length ${hi} * 2^32 + ${lo} is too large`);
    return hi * 2 ** 32 + lo;
  };
  const line = (): string => {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0) {
      throw new CheckpointError(`pickle: data is truncated: opcode ${opcodeName(op)} at byte ${opPos} expects a newline-terminated name${src}`);
    }
    const s = new TextDecoder('utf-8').decode(data.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const str = (n: number): string => {
    const b = bytesN(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const latin1 = (n: number): string => {
    const b = bytesN(n);
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return s;
  };
  const pop = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (!marks.length) fail('no MARK on the stack');
    return stack.splice(marks.pop()!);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} was never stored`);
    return memo.get(i);
  };
  const memoPut = (i: number): void => {
    memo.set(i, top());
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    let g: PyGlobal | undefined;
    try {
      g = options.findGlobal(module, name);
    } catch (e) {
      if (e instanceof CheckpointError) fail(e.message);
      throw e;
    }
    if (g) return g;
    if (options.unknownGlobals === 'opaque') return new PyGlobal(module, name, (args) => new PyObject(`${module}.${name}`, args));
    return fail(
      `refusing to load global '${module}.${name}': only the names torch.save uses for tensors and state dicts are allowed, ` +
        `and nothing is ever imported or executed (pass unknownGlobals: 'opaque' to keep unknown objects as inert placeholders)`,
    );
  };
  const setItems = (dict: unknown, kv: unknown[]): void => {
    if (!(dict instanceof PyDict)) fail(`cannot set items on ${typeName(dict)}`);
    if (kv.length % 2) fail('odd number of items for a dict');
    for (let i = 0; i < kv.length; i += 2) (dict as PyDict).map.set(kv[i], kv[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail(`cannot append to ${typeName(list)}`);
    for (const it of items) (list as unknown[]).push(it);
  };
  const callGlobal = (fn: unknown, args: unknown, how: string): unknown => {
    if (!(fn instanceof PyGlobal)) fail(`${how} needs a callable global, got ${typeName(fn)}`);
    const g = fn as PyGlobal;
    if (!Array.isArray(args)) fail(`${how} of ${g.qualifiedName} needs an argument tuple, got ${typeName(args)}`);
    if (!g.call) fail(`${g.qualifiedName} cannot be called`);
    try {
      return g.call!(args as unknown[]);
    } catch (e) {
      if (e instanceof CheckpointError) fail(e.message);
      throw e;
    }
  };

  if (data.length > 0 && data[0] !== 0x80) {
    const p = oldProtocol(data);
    op = data[0]!;
    fail(
      `the pickle starts without a PROTO opcode, so it uses pickle protocol ${p} (${p === 0 ? 'text' : 'binary'}), which is not supported: ` +
        `this reader reads protocols 2–5, and torch.save writes protocol 2 unless pickle_protocol is given; re-save it with torch.save(torch.load(path), new_path)`,
    );
  }

  for (;;) {
    opPos = pos;
    if (pos >= data.length) {
      throw new CheckpointError(`pickle: data ended at byte ${pos} without a STOP opcode (truncated)${src}`);
    }
    op = data[pos++]!;
    switch (op) {
      case 0x80: {
        // PROTO
        const p = u8();
        if (p > 5) fail(`pickle protocol ${p} is not supported (0–5)`);
        break;
      }
      case 0x95: // FRAME: an 8-byte length; frames are only a buffering hint
        u64();
        break;
      case 0x2e: // STOP
        if (marks.length) fail('STOP with an unclosed MARK');
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack (expected 1)`);
        {
          const bad = checkShape(stack[0], MAX_PICKLE_DEPTH);
          if (bad) fail(bad);
        }
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const kv = popMark();
        const d = new PyDict();
        setItems(d, kv);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str; read as latin-1)
        stack.push(latin1(u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(bytesN(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytesN(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytesN(u64()).slice());
        break;
      case 0x4a: {
        // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      }
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1 (at most 255 bytes)
        stack.push(decodeLong(bytesN(u8())));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const n = dv.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail('negative LONG4 length');
        if (n > MAX_PICKLE_LONG_BYTES) fail(`LONG4 integer of ${n} bytes is larger than the ${MAX_PICKLE_LONG_BYTES} bytes this reader accepts (a state dict holds no such integers)`);
        stack.push(decodeLong(bytesN(n)));
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian double)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(callGlobal(fn, args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); allowed only for placeholders of unknown classes
        const args = pop();
        const cls = pop();
        stack.push(callGlobal(cls, args, 'NEWOBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict || obj instanceof PyObject) {
          obj.state = state;
        } else if (obj !== null && typeof obj === 'object' && hasOwn(obj, 'buildState')) {
          (obj as { buildState: unknown }).buildState = state;
        } else {
          fail(`BUILD on ${typeName(obj)} is not supported`);
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not supported here');
        try {
          stack.push(options.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof CheckpointError) fail(e.message);
          throw e;
        }
        break;
      }
      default:
        fail('unsupported opcode: this reader knows only the subset of pickle that torch.save uses for state dicts');
    }
  }
}
