// Who owns a tensor's bytes, and when they go back.
//
// Three lifetimes, cheapest first:
//  1. A ScopeArena (wg.scope(fn), and the training/eval helpers' per-step
//     scope): bump allocation in chunks taken from the pool, all released in
//     O(chunks) when the scope ends; tensors returned from the scope escape
//     (their bytes move to the pool).
//  2. Step generations: outside any scope, once training has started (the
//     first backward()), a temporary created during step N is released when
//     step N+2 finishes its backward(). A loop written with no dispose() and no
//     scope therefore keeps its memory flat, and the loss of the last step can
//     still be read after optimizer.step(). Parameters, gradients of
//     parameters, optimizer state and tensors marked with t.keep() are
//     persistent and never released this way.
//  3. Persistent blocks: freed by dispose(), or by a FinalizationRegistry when
//     the tensor is garbage-collected.
//
// Reading a released tensor throws an error that says which rule released it.

import { SizeClassPool, fmtBytes } from "./pool.js";

export type Lifetime = "temp" | "persistent";

/** The bytes behind one or more tensors (views share a Storage). */
export class Storage {
  /** Set when the bytes went back; says why, for the error a later read gets. */
  releasedBy: string | null = null;
  /** -1: persistent; 0: created before training started; N: created during step N. */
  gen: number;
  constructor(
    public offset: number,
    readonly bytes: number,
    public arena: ScopeArena | null,
    gen: number,
  ) {
    this.gen = gen;
  }
  get released(): boolean {
    return this.releasedBy !== null || (this.arena !== null && this.arena.closed);
  }
  whyReleased(): string {
    if (this.releasedBy) return this.releasedBy;
    return "its scope ended (return a tensor from wg.scope() to keep it)";
  }
}

const CHUNK = 4 << 20;

/** Bump allocation for one scope's temporaries. */
export class ScopeArena {
  closed = false;
  private chunks: { ptr: number; bytes: number }[] = [];
  private cur = 0;
  private end = 0;
  /** Storages larger than a chunk get their own pool block. */
  private big: Storage[] = [];
  readonly storages: Storage[] = [];

  constructor(private readonly pool: SizeClassPool) {}

  alloc(bytes: number, what: string): Storage {
    const size = (bytes + 63) & ~63 || 64;
    if (size > CHUNK / 4) {
      const s = new Storage(this.pool.alloc(size, what), size, this, 0);
      this.big.push(s);
      return s;
    }
    if (this.cur + size > this.end) {
      const ptr = this.pool.alloc(CHUNK, what);
      this.chunks.push({ ptr, bytes: CHUNK });
      this.cur = ptr;
      this.end = ptr + CHUNK;
    }
    const s = new Storage(this.cur, size, this, 0);
    this.cur += size;
    return s;
  }

  /** Releases every chunk at once; storages that escaped (arena set to null) are untouched. */
  close(): void {
    this.closed = true;
    for (const c of this.chunks) this.pool.free(c.ptr, c.bytes);
    for (const s of this.big) if (s.arena === this) this.pool.free(s.offset, s.bytes);
    this.chunks = [];
    this.big = [];
  }
}

/**
 * MemoryManager: the one place that decides where bytes come from and when
 * they go back. Backends call alloc/free; the tape calls stepDone().
 */
export class MemoryManager {
  private scopes: ScopeArena[] = [];
  /** Current training step; 0 until the first backward() finishes. */
  step = 0;
  private gens = new Map<number, Storage[]>();
  private readonly registry: FinalizationRegistry<{ offset: number; bytes: number; freed: boolean }>;
  private readonly tokens = new WeakMap<Storage, { offset: number; bytes: number; freed: boolean }>();

  constructor(readonly pool: SizeClassPool) {
    this.registry = new FinalizationRegistry((held) => {
      if (!held.freed) {
        held.freed = true;
        pool.free(held.offset, held.bytes);
      }
    });
  }

  alloc(bytes: number, lifetime: Lifetime, what: string): Storage {
    if (lifetime === "temp") {
      const scope = this.scopes[this.scopes.length - 1];
      if (scope) return scope.alloc(bytes, what);
    }
    return this.allocPool(bytes, lifetime === "persistent" ? -1 : this.step, what);
  }

  private allocPool(bytes: number, gen: number, what: string): Storage {
    const size = Math.max(64, bytes);
    const s = new Storage(this.pool.alloc(size, what), size, null, gen);
    const held = { offset: s.offset, bytes: size, freed: false };
    this.tokens.set(s, held);
    this.registry.register(s, held, s);
    if (gen > 0) {
      let list = this.gens.get(gen);
      if (!list) this.gens.set(gen, (list = []));
      list.push(s);
    }
    return s;
  }

  /** Releases a storage now (dispose). Safe to call twice. */
  free(s: Storage, why = "it was disposed"): void {
    if (s.released) return;
    if (s.arena) {
      // scope memory goes back with its scope; just mark it
      s.releasedBy = why;
      return;
    }
    const held = this.tokens.get(s);
    if (held && !held.freed) {
      held.freed = true;
      this.registry.unregister(s);
      this.pool.free(s.offset, s.bytes);
    }
    s.releasedBy = why;
  }

  /** Makes a storage persistent: it leaves its scope or step generation. */
  keep(s: Storage): void {
    if (s.released) throw new Error(`webgrad: cannot keep a released tensor: ${s.whyReleased()}`);
    if (s.arena) this.escape(s, -1);
    s.gen = -1;
  }

  /** Moves a scope storage's bytes to a pool block (the scope is ending or it is kept). */
  private escape(s: Storage, gen: number): void {
    const from = s.offset;
    const moved = this.allocPool(s.bytes, gen, "escape from scope");
    this.copy(moved.offset, from, s.bytes);
    // repoint the original Storage object (every view holds it) at the new block
    this.tokens.delete(moved);
    this.registry.unregister(moved);
    s.offset = moved.offset;
    s.arena = null;
    s.gen = gen;
    const held = { offset: s.offset, bytes: s.bytes, freed: false };
    this.tokens.set(s, held);
    this.registry.register(s, held, s);
    if (gen > 0) {
      const list = this.gens.get(gen)!;
      list[list.length - 1] = s;
    }
  }

  /** Set by the backend: copies bytes within linear memory. */
  copy: (dst: number, src: number, bytes: number) => void = () => {
    throw new Error("webgrad: memory manager has no backend");
  };

  /** Runs fn inside a new scope; storages reachable from its result escape to the enclosing lifetime. */
  scope<T>(fn: () => T, findStorages: (v: unknown) => Storage[]): T {
    const arena = new ScopeArena(this.pool);
    this.scopes.push(arena);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    try {
      const outer = this.scopes[this.scopes.length - 1];
      for (const s of findStorages(result)) {
        if (s.arena !== arena || s.released) continue;
        if (outer) {
          const t = outer.alloc(s.bytes, "escape from scope");
          this.copy(t.offset, s.offset, s.bytes);
          s.offset = t.offset;
          s.arena = outer;
        } else {
          this.escape(s, this.step > 0 ? this.step : 0);
        }
      }
    } finally {
      arena.close();
    }
    return result;
  }

  get inScope(): boolean {
    return this.scopes.length > 0;
  }

  /** Called when a backward() finishes: starts step N+1 and releases what step N-1 made. */
  stepDone(): void {
    this.step++;
    const old = this.step - 2;
    const list = this.gens.get(old);
    if (list) {
      this.gens.delete(old);
      for (const s of list) {
        if (s.gen === old) this.free(s, `training step ${old + 1} ended two steps ago (call t.keep() on tensors you reuse across steps)`);
      }
    }
  }

  /** A snapshot for tests and memory reports. */
  stats(): { inUse: number; free: number; high: number; text: string } {
    const p = this.pool;
    return {
      inUse: p.inUse,
      free: p.freeBytes,
      high: p.high,
      text: `${fmtBytes(p.inUse)} in use, ${fmtBytes(p.freeBytes)} free, ${fmtBytes(p.high)} touched`,
    };
  }
}
