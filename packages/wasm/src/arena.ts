/**
 * The allocator over one WebAssembly.Memory: size classes (four per power of two, so at
 * most 25% waste), a free list per class, a bump pointer, and growth of the memory when
 * the bump pointer passes its end. Blocks are 64-byte aligned (a cache line; SIMD loads
 * never straddle one needlessly). Asking for more than the memory's limit (4 GiB for
 * wasm32, or a lower `maxBytes`) throws a RangeError that says so.
 */

const PAGE = 65536;
/** The largest a wasm32 memory can be. */
export const WASM32_MAX_BYTES = 65536 * PAGE;
const ALIGN = 64;
/** Bytes below this address are reserved (address 0 is never a block; scratch lives there). */
export const RESERVED_BYTES = 4096;

/** The size class of a request: its index and the rounded size every block of it has. */
export function sizeClass(bytes: number): { cls: number; size: number } {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  // Four classes per power of two: 2^p * {1, 1.25, 1.5, 1.75}.
  const p = Math.floor(Math.log2(b));
  const base = 2 ** p;
  const step = base / 4;
  const q = Math.ceil((b - base) / step);
  let size = base + q * step;
  size = Math.ceil(size / ALIGN) * ALIGN;
  return { cls: p * 4 + q, size };
}

/** Allocation statistics. */
export interface ArenaStats {
  /** Blocks handed out and not yet freed. */
  readonly liveBlocks: number;
  /** Bytes in those blocks (rounded to their size class). */
  readonly liveBytes: number;
  /** Blocks waiting on free lists for reuse. */
  readonly freeBlocks: number;
  /** Bytes on the free lists. */
  readonly freeBytes: number;
  /** The bump pointer: bytes of the memory ever carved into blocks. */
  readonly top: number;
  /** Current size of the WebAssembly.Memory in bytes. */
  readonly memoryBytes: number;
  /** Times the memory grew. */
  readonly grows: number;
}

/** A block handed out by the arena. */
export interface Block {
  /** Byte address in the memory. */
  readonly ptr: number;
  /** Rounded size in bytes. */
  readonly size: number;
  /** Size class index. */
  readonly cls: number;
}

/** The allocator; it owns the WebAssembly.Memory. */
export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly maxBytes: number;
  private top = RESERVED_BYTES;
  private readonly free = new Map<number, number[]>();
  private liveBlocks = 0;
  private liveBytes = 0;
  private freeBlocks = 0;
  private freeBytes = 0;
  private grows = 0;
  /** Called after the memory grows (views over it must be remade). */
  onGrow: () => void = () => {};

  constructor(opts: { shared: boolean; initialBytes?: number; maxBytes?: number }) {
    this.shared = opts.shared;
    this.maxBytes = Math.min(opts.maxBytes ?? WASM32_MAX_BYTES, WASM32_MAX_BYTES);
    const initial = Math.max(1, Math.ceil((opts.initialBytes ?? 16 * 1024 * 1024) / PAGE));
    const maximum = Math.ceil(this.maxBytes / PAGE);
    this.memory = new WebAssembly.Memory({ initial: Math.min(initial, maximum), maximum, shared: opts.shared } as WebAssembly.MemoryDescriptor);
  }

  /** Pages the memory was declared with at most (kernels import it with the same limits). */
  get maxPages(): number {
    return Math.ceil(this.maxBytes / PAGE);
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A block of at least `bytes` bytes (contents undefined). */
  alloc(bytes: number): Block {
    const { cls, size } = sizeClass(bytes);
    const list = this.free.get(cls);
    if (list && list.length > 0) {
      const ptr = list.pop()!;
      this.freeBlocks--;
      this.freeBytes -= size;
      this.liveBlocks++;
      this.liveBytes += size;
      return { ptr, size, cls };
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end + 64 > this.maxBytes) {
      throw new RangeError(
        `wasm backend: out of memory: allocating ${fmtBytes(size)} would take linear memory to ${fmtBytes(end)}, past its limit of ${fmtBytes(this.maxBytes)}` +
          (this.maxBytes === WASM32_MAX_BYTES ? ' (wasm32 addresses at most 4 GiB)' : '') +
          `; ${fmtBytes(this.liveBytes)} are in live tensors: dispose tensors you no longer need (tidy, dispose) or use smaller batches`,
      );
    }
    // 64 bytes of slack past the last block: SIMD kernels may read (never write) a vector past a row's end.
    if (end + 64 > this.byteLength) this.grow(end + 64);
    this.top = end;
    this.liveBlocks++;
    this.liveBytes += size;
    return { ptr, size, cls };
  }

  /** Returns a block to its free list. */
  release(b: Block): void {
    let list = this.free.get(b.cls);
    if (!list) this.free.set(b.cls, (list = []));
    list.push(b.ptr);
    this.liveBlocks--;
    this.liveBytes -= b.size;
    this.freeBlocks++;
    this.freeBytes += b.size;
  }

  private grow(end: number): void {
    // Grow by at least half again, so that a growing workload grows O(log n) times.
    const have = this.byteLength;
    const want = Math.min(this.maxBytes, Math.max(end, Math.ceil(have * 1.5)));
    const pages = Math.ceil((want - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new RangeError(`wasm backend: the engine refused to grow linear memory from ${fmtBytes(have)} to ${fmtBytes(have + pages * PAGE)}: ${String(e)}`);
    }
    this.grows++;
    this.onGrow();
  }

  stats(): ArenaStats {
    return { liveBlocks: this.liveBlocks, liveBytes: this.liveBytes, freeBlocks: this.freeBlocks, freeBytes: this.freeBytes, top: this.top, memoryBytes: this.byteLength, grows: this.grows };
  }
}

/** Bytes as a short string (B, KiB, MiB, GiB), for messages. */
export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
