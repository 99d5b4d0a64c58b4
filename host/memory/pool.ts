// The block allocator under every tensor: one linear memory (wasm) or one GPU
// heap buffer, handed out in 64-byte-aligned blocks.
//
// A training loop asks for the same few sizes every step, and a freed block
// of the exact size, still warm in cache, is the best answer: freed blocks
// first go on a last-in-first-out list per exact size ("quick lists", as in
// dlmalloc), which costs a push and a pop. But a program that frees many
// small blocks and then asks for one large block (a second model, a bigger
// batch, evaluation after training) must get it whenever a free range can
// hold it. So before the heap would grow or a request fail, the quick lists
// are merged: each block with its free neighbours, into bins of segregated
// fits (four per power of two), where a request takes the first block of the
// smallest bin whose blocks are all big enough and splits off the rest; a
// free range that reaches the top gives its bytes back to the untouched tail.
// Every block is 64-byte aligned (a cache line, and any v128 load).

/** Error thrown when the memory cannot hold a request. Nothing was written; the engine stays usable. */
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

/** Rounds a byte count up to its size class; returns [class index, class bytes]. Four classes per power of two. */
export function sizeClass(bytes: number): [number, number] {
  const b = Math.max(ALIGN, bytes);
  if (b <= 256) {
    const c = Math.ceil(b / ALIGN); // 64, 128, 192, 256
    return [c - 1, c * ALIGN];
  }
  const e = Math.floor(Math.log2(b - 1));
  const step = 2 ** (e - 2);
  const q = Math.ceil(b / step);
  return [4 + (e - 8) * 4 + (q - 4), q * step];
}

/** The bin a free block of `size` bytes lives in: the largest class not above it. */
function binOf(size: number): number {
  const [c, bytes] = sizeClass(size);
  return bytes > size ? c - 1 : c;
}

/** Bytes a request really takes: a multiple of 64, at least 64. */
export function blockBytes(bytes: number): number {
  return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
}

/** The grower: makes the memory at least `bytes` long, or returns false. */
export type Grow = (bytes: number) => boolean;

/**
 * BlockPool hands out 64-byte-aligned blocks of [base, limit) and takes them
 * back, merging neighbours, so a request fails only when no free range can hold it.
 *
 * @example
 * const pool = new BlockPool(65536, 1 << 30, () => true);
 * const p = pool.alloc(1000);   // a 1024-byte block
 * pool.free(p);                 // on the 1024-byte quick list
 * pool.compact();               // merged back into the untouched tail
 */
export class BlockPool {
  private top: number;
  /** Allocated blocks: start → bytes (also catches a double free). */
  private readonly used = new Map<number, number>();
  /** Free blocks below top: start → bytes, and end → start for merging. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnd = new Map<number, number>();
  private readonly bins: Set<number>[] = [];
  /** Freed blocks not merged yet: exact size → starts, last freed on top. */
  private readonly quick = new Map<number, number[]>();
  private quickCount = 0;
  /** Bytes handed out and not yet freed. */
  inUse = 0;
  /** Bytes in free blocks below the top. */
  freeBytes = 0;
  /** Highest `top` ever reached: the memory actually touched. */
  peak: number;

  constructor(readonly base: number, public limit: number, private readonly grow: Grow) {
    this.top = base;
    this.peak = base;
  }

  /** Allocates a block for `bytes`; throws OutOfMemoryError (naming `what`) when no free range or growth can hold it. */
  alloc(bytes: number, what = ""): number {
    const size = blockBytes(bytes);
    const q = this.quick.get(size);
    let p = q && q.length ? q.pop()! : -1;
    if (p >= 0) {
      this.quickCount--;
      this.freeBytes -= size;
    } else {
      p = this.takeFree(size);
      if (p < 0 && this.quickCount) {
        this.compact();
        p = this.takeFree(size);
      }
    }
    if (p >= 0) {
      this.used.set(p, size);
      this.inUse += size;
      return p;
    }
    const start = this.top;
    const end = start + size;
    if (end > this.limit || !this.grow(end)) {
      throw new OutOfMemoryError(size, this.inUse, this.freeBytes, this.limit, what);
    }
    this.top = end;
    if (end > this.peak) this.peak = end;
    this.used.set(start, size);
    this.inUse += size;
    return start;
  }

  /** Returns a block obtained from alloc(). */
  free(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`webgrad: internal: free of ${ptr}, which is not an allocated block`);
    this.used.delete(ptr);
    this.inUse -= size;
    this.freeBytes += size;
    let q = this.quick.get(size);
    if (!q) this.quick.set(size, (q = []));
    q.push(ptr);
    this.quickCount++;
  }

  /** Merges every freed block with its free neighbours (done before the heap grows or a request fails). */
  compact(): void {
    for (const [size, q] of this.quick) {
      for (const p of q) {
        this.freeBytes -= size;
        this.merge(p, size);
      }
    }
    this.quick.clear();
    this.quickCount = 0;
  }

  private merge(ptr: number, size: number): void {
    let start = ptr;
    const before = this.freeEnd.get(start);
    if (before !== undefined) {
      size += this.unlinkFree(before);
      start = before;
    }
    const after = this.freeAt.get(start + size);
    if (after !== undefined) size += this.unlinkFree(start + size);
    if (start + size !== this.top) {
      this.linkFree(start, size);
      return;
    }
    // back to the untouched tail, with any free range that now ends at the top
    this.top = start;
    for (let below = this.freeEnd.get(this.top); below !== undefined; below = this.freeEnd.get(this.top)) {
      this.unlinkFree(below);
      this.top = below;
    }
  }

  /** Byte size of an allocated block. */
  sizeOf(ptr: number): number {
    return this.used.get(ptr) ?? 0;
  }

  /** End of the highest block handed out (the tail above is untouched; freed blocks count until compact()). */
  get high(): number {
    return this.top;
  }

  private takeFree(size: number): number {
    if (this.freeAt.size === 0) return -1;
    const first = binOf(size);
    // the request's own bin holds blocks both smaller and larger than it: look at a few
    const own = this.bins[first];
    if (own && own.size) {
      let tries = 0;
      for (const p of own) {
        if (this.freeAt.get(p)! >= size) return this.split(p, size);
        if (++tries === 8) break;
      }
    }
    // every block in a higher bin is at least as large as that bin's class, which is above the request
    for (let b = first + 1; b < this.bins.length; b++) {
      const bin = this.bins[b];
      if (bin && bin.size) return this.split(bin.values().next().value as number, size);
    }
    return -1;
  }

  private split(p: number, size: number): number {
    const have = this.unlinkFree(p);
    if (have > size) this.linkFree(p + size, have - size);
    return p;
  }

  private linkFree(start: number, size: number): void {
    this.freeAt.set(start, size);
    this.freeEnd.set(start + size, start);
    (this.bins[binOf(size)] ??= new Set()).add(start);
    this.freeBytes += size;
  }

  private unlinkFree(start: number): number {
    const size = this.freeAt.get(start)!;
    this.freeAt.delete(start);
    this.freeEnd.delete(start + size);
    this.bins[binOf(size)].delete(start);
    this.freeBytes -= size;
    return size;
  }
}

export function pagesFor(bytes: number): number {
  return Math.ceil(bytes / PAGE);
}
