// Long-lived storage: a size-class allocator over one wasm linear memory.
//
// Why size classes and free lists (not a general-purpose malloc): a training
// loop asks for the same few sizes every step, so a freed block is almost
// always reused by the next request of its class, and memory stays flat
// without coalescing. Classes are four per power of two (at most 25% waste),
// every block is 64-byte aligned (a cache line, and any v128 load).

/** Error thrown when the linear memory cannot hold a request. Nothing was written; the engine stays usable. */
export class OutOfMemoryError extends Error {
  constructor(
    readonly requestedBytes: number,
    readonly inUseBytes: number,
    readonly freeBytes: number,
    readonly limitBytes: number,
    what = "",
  ) {
    super(
      `webgrad: out of memory${what ? ` in ${what}` : ""}: asked for ${fmtBytes(requestedBytes)}, ` +
        `${fmtBytes(inUseBytes)} in use, ${fmtBytes(freeBytes)} free in pools, ` +
        `limit ${fmtBytes(limitBytes)} (init({ maxMemory }) sets it; wasm32 allows 4 GiB)`,
    );
    this.name = "OutOfMemoryError";
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

const ALIGN = 64;
const PAGE = 65536;

/** Rounds a byte count up to its size class; returns [class index, class bytes]. */
export function sizeClass(bytes: number): [number, number] {
  const b = Math.max(ALIGN, bytes);
  if (b <= 256) {
    const c = Math.ceil(b / ALIGN); // 64, 128, 192, 256
    return [c - 1, c * ALIGN];
  }
  // four classes per power of two above 256
  const e = Math.floor(Math.log2(b - 1));
  const step = 2 ** (e - 2);
  const q = Math.ceil(b / step);
  const bytesOut = q * step;
  return [4 + (e - 8) * 4 + (q - 4), bytesOut];
}

/** The grower: makes the linear memory at least `bytes` long, or returns false. */
export type Grow = (bytes: number) => boolean;

/**
 * SizeClassPool hands out 64-byte-aligned blocks of [base, limit) and takes them back.
 *
 * @example
 * const pool = new SizeClassPool(65536, 1 << 30, (n) => true);
 * const p = pool.alloc(1000);   // a 1024-byte block
 * pool.free(p, 1000);           // back on its class's free list
 */
export class SizeClassPool {
  private top: number;
  private readonly lists: number[][] = [];
  /** Bytes handed out and not yet freed (class-rounded). */
  inUse = 0;
  /** Bytes sitting on free lists. */
  freeBytes = 0;
  /** Highest `top` ever reached: the memory actually touched. */
  peak: number;

  constructor(readonly base: number, public limit: number, private readonly grow: Grow) {
    this.top = base;
    this.peak = base;
  }

  /** Allocates a block for `bytes`; throws OutOfMemoryError (naming `what`) when none can be had. */
  alloc(bytes: number, what = ""): number {
    const [cls, size] = sizeClass(bytes);
    const list = this.lists[cls];
    if (list && list.length) {
      this.freeBytes -= size;
      this.inUse += size;
      return list.pop()!;
    }
    const p = this.top;
    const end = p + size;
    if (end > this.limit || !this.grow(end)) {
      throw new OutOfMemoryError(size, this.inUse, this.freeBytes, this.limit, what);
    }
    this.top = end;
    if (end > this.peak) this.peak = end;
    this.inUse += size;
    return p;
  }

  /** Returns a block obtained from alloc(bytes) with the same byte count. */
  free(ptr: number, bytes: number): void {
    const [cls, size] = sizeClass(bytes);
    (this.lists[cls] ??= []).push(ptr);
    this.inUse -= size;
    this.freeBytes += size;
  }

  /** End of the highest block ever handed out. */
  get high(): number {
    return this.top;
  }
}

export function pagesFor(bytes: number): number {
  return Math.ceil(bytes / PAGE);
}
