// Who owns a tensor's bytes, and when they go back. docs/MEMORY.md says why
// it works this way; in short, the one rule is that nothing a program can
// still reach is released behind its back, and a loop written with no
// scope() and no dispose() stays flat all the same.
//
// Four lifetimes:
//  1. Persistent (parameters, their .grad, optimizer state, buffers, keep()):
//     freed by dispose(), or by the FinalizationRegistry once the tensor's
//     JavaScript object is collected.
//  2. Scope (wg.scope(fn)): bump allocation in chunks, all released when fn
//     returns; what fn returns escapes.
//  3. Call internals: temporaries made inside a top-level module call that
//     the call did not return. The program cannot see them (only the tape
//     can), so they are released when the call returns with no tape behind it
//     (inference), or once backward() has used every tape node the call made.
//  4. Everything else ("loose" temporaries: what ops return at top level,
//     what a module call returns, data made with wg.tensor()): the program may
//     hold any of them, so none is ever freed by a rule. Instead, when the
//     loose temporaries in linear memory pass a budget, the ones not touched
//     for a while are *spilled*: their bytes are copied to a JavaScript
//     ArrayBuffer owned by the tensor and their block goes back to the pool.
//     The JavaScript garbage collector then does what only it can do here,
//     which is to learn which of them the program still holds: dropped ones
//     vanish with their ArrayBuffer, held ones come back into linear memory
//     the next time an op reads them. (They carry no FinalizationRegistry
//     entry: registering one per temporary cost more than all the spills.)
//
// Spilling happens only at safe points (an op has recorded its result, a
// module call or backward() has finished, a value is read) and never takes a
// block touched since the last sweep, so a kernel never sees an input move
// under it. The WebGPU heap cannot be read synchronously, so there loose
// temporaries rely on scopes, call release and dispose().

import { BlockPool, OutOfMemoryError, fmtBytes } from "./pool.js";

export type Lifetime = "temp" | "persistent";

/** How a pool block is counted: not at all (persistent, or backward's own), loose, or a call internal. */
export const enum Kind {
  None = 0,
  Loose = 1,
  Internal = 2,
}

/** What the FinalizationRegistry needs to free a persistent block whose tensors were collected. */
interface Held {
  offset: number;
  freed: boolean;
}

/** The bytes behind one or more tensors (views share a Storage). */
export class Storage {
  /** Set when the bytes went back; says why, for the error a later read gets. */
  releasedBy: string | null = null;
  /** The bytes, while spilled out of linear memory (offset is then -1). */
  host: Uint8Array | null = null;
  /** Sweep epoch of the last read or write through an op, and of its allocation. */
  lastUse: number;
  born: number;
  /** The top-level module call this temporary is an internal of. */
  call: CallRecord | null = null;
  /** How its pool block is counted (loose, a call internal, or neither). */
  kind: Kind = Kind.None;
  /** Whether it holds a pool block now. */
  inPool = false;
  /** Its FinalizationRegistry token (persistent storages only). */
  held: Held | null = null;
  constructor(
    public offset: number,
    readonly bytes: number,
    public arena: ScopeArena | null,
    public persistent: boolean,
    epoch: number,
  ) {
    this.lastUse = this.born = epoch;
  }
  get released(): boolean {
    return this.releasedBy !== null || (this.arena !== null && this.arena.closed);
  }
  whyReleased(): string {
    if (this.releasedBy) return this.releasedBy;
    return "its scope ended (return a tensor from wg.scope() to keep it)";
  }
}

/** One top-level module call: the temporaries it made and did not return, and how many of its tape nodes backward() has still to use. */
export class CallRecord {
  readonly storages: Storage[] = [];
  pending = 0;
  constructor(readonly name: string) {}
}

const CHUNK = 4 << 20;

/** Bump allocation for one scope's temporaries. */
export class ScopeArena {
  closed = false;
  private chunks: number[] = [];
  private cur = 0;
  private end = 0;
  /** Storages larger than a quarter chunk get their own pool block. */
  private big: Storage[] = [];

  constructor(private readonly mm: MemoryManager) {}

  alloc(bytes: number, what: string): Storage {
    const size = (bytes + 63) & ~63 || 64;
    if (size > CHUNK / 4) {
      const s = new Storage(this.mm.block(size, what), size, this, false, this.mm.epoch);
      this.big.push(s);
      return s;
    }
    if (this.cur + size > this.end) {
      const ptr = this.mm.block(CHUNK, what);
      this.chunks.push(ptr);
      this.cur = ptr;
      this.end = ptr + CHUNK;
    }
    const s = new Storage(this.cur, size, this, false, this.mm.epoch);
    this.cur += size;
    return s;
  }

  /** Releases every chunk at once; storages that escaped (arena set to null) are untouched. */
  close(): void {
    this.closed = true;
    for (const c of this.chunks) this.mm.pool.free(c);
    for (const s of this.big) if (s.arena === this) this.mm.pool.free(s.offset);
    this.chunks = [];
    this.big = [];
  }
}

/** Loose temporaries may take this much linear memory before a sweep, at the least. */
export const SWEEP_FLOOR = 2 << 20;

/**
 * MemoryManager: the one place that decides where bytes come from and when
 * they go back. Backends give it a pool and byte copies; tensors, the tape
 * and module calls tell it what happened.
 */
export class MemoryManager {
  private scopes: ScopeArena[] = [];
  /** The top-level module call running now, if any. */
  call: CallRecord | null = null;
  /** The last call that returned with its tape nodes still pending. */
  private lastPending: CallRecord | null = null;
  /** Temporaries made during backward(), released when it ends. */
  private collecting: Storage[] | null = null;
  /** Advances at each sweep; storages remember the epoch of their last use. */
  epoch = 2;
  /** Loose temporaries and call internals in linear memory: what sweeps look at. */
  private readonly resident = new Set<Storage>();
  private looseBytes = 0;
  private internalBytes = 0;
  private budget = SWEEP_FLOOR;
  /**
   * Off: only scopes, dispose() and the FinalizationRegistry release memory
   * (no call release, no sweeps). For the measurements in docs/MEMORY.md.
   */
  autoRelease = true;
  /** Counters for reports and tests. */
  readonly counters = { sweeps: 0, spilled: 0, spilledBytes: 0, restored: 0 };
  /** Null where the host has no FinalizationRegistry (workerd before its 2021 compatibility dates): dropped persistent tensors then wait for dispose(). */
  private readonly registry: FinalizationRegistry<Held> | null;
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(readonly pool: BlockPool) {
    this.registry = typeof FinalizationRegistry === "function"
      ? new FinalizationRegistry((held) => {
        if (held.freed) return;
        held.freed = true;
        pool.free(held.offset);
      })
      : null;
  }

  /** Set by the backend: copies bytes within its memory. */
  copy: (dst: number, src: number, bytes: number) => void = () => {
    throw new Error("webgrad: memory manager has no backend");
  };
  /** Set by backends whose memory the host reads synchronously (wasm): what spilling needs. */
  readBytes: ((ptr: number, bytes: number) => Uint8Array) | null = null;
  writeBytes: ((ptr: number, data: Uint8Array) => void) | null = null;

  /** A raw pool block, with one sweep and a retry before out of memory. */
  block(bytes: number, what: string): number {
    try {
      return this.pool.alloc(bytes, what);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError) || !this.readBytes || this.resident.size === 0) throw e;
      this.sweep(true);
      return this.pool.alloc(bytes, what);
    }
  }

  alloc(bytes: number, lifetime: Lifetime, what: string): Storage {
    if (lifetime === "temp") {
      const scope = this.scopes[this.scopes.length - 1];
      if (scope) return scope.alloc(bytes, what);
    }
    const s = this.adopt(this.block(bytes, what), lifetime === "persistent");
    if (!s.persistent) this.place(s);
    return s;
  }

  /** Files a fresh loose storage: backward's own, a call's internal, or loose. */
  private place(s: Storage): void {
    if (this.collecting) {
      this.collecting.push(s);
      return;
    }
    if (this.call) {
      s.call = this.call;
      this.call.storages.push(s);
    }
    // memory the host cannot read back synchronously (the GPU heap) cannot spill: the registry frees it instead
    if (!this.readBytes) this.register(s);
    else this.track(s, this.call ? Kind.Internal : Kind.Loose);
  }

  /** Wraps a fresh pool block in a Storage (a persistent one registered for finalization). */
  private adopt(ptr: number, persistent: boolean, s?: Storage): Storage {
    if (s) s.offset = ptr;
    else s = new Storage(ptr, this.pool.sizeOf(ptr), null, persistent, this.epoch);
    s.inPool = true;
    if (persistent) this.register(s);
    return s;
  }

  private register(s: Storage): void {
    if (s.held) return; // one entry per block: a second would free it twice
    s.held = { offset: s.offset, freed: false };
    this.registry?.register(s, s.held, s.held);
  }

  private count(kind: Kind, bytes: number): void {
    if (kind === Kind.Loose) this.looseBytes += bytes;
    else if (kind === Kind.Internal) this.internalBytes += bytes;
  }

  /** Puts a storage in the resident set, counted as `kind`. */
  private track(s: Storage, kind: Kind): void {
    s.kind = kind;
    this.resident.add(s);
    this.count(kind, s.bytes);
  }

  /** Takes a storage out of the resident set. */
  private untrack(s: Storage): void {
    if (s.kind === Kind.None) return;
    this.resident.delete(s);
    this.count(s.kind, -s.bytes);
    s.kind = Kind.None;
  }

  /** A call internal becomes loose: counted against the sweep budget, and spillable. */
  private demote(s: Storage): void {
    if (s.kind !== Kind.Internal) return;
    s.kind = Kind.Loose;
    this.internalBytes -= s.bytes;
    this.looseBytes += s.bytes;
  }

  /** Gives a pool storage's block back (it stays a Storage: released, or spilled). */
  private dropBlock(s: Storage): void {
    if (!s.inPool) return;
    this.untrack(s);
    s.inPool = false;
    if (s.held) {
      s.held.freed = true;
      this.registry?.unregister(s.held);
      s.held = null;
    }
    this.pool.free(s.offset);
  }

  /** Releases a storage now (dispose, or a rule above). Safe to call twice. */
  free(s: Storage, why = "it was disposed"): void {
    if (s.released) return;
    if (s.arena) {
      s.releasedBy = why; // scope memory goes back with its scope
      return;
    }
    if (s.host) s.host = null;
    else this.dropBlock(s);
    s.releasedBy = why;
  }

  /** Makes a storage persistent: it leaves its scope, its module call and the sweeps. */
  keep(s: Storage): void {
    if (s.released) throw new Error(`webgrad: cannot keep a released tensor: ${s.whyReleased()}`);
    if (s.persistent) return;
    if (s.arena) {
      this.escape(s, true);
      return;
    }
    this.touch(s);
    this.untrack(s);
    s.persistent = true;
    s.call = null;
    this.register(s);
  }

  /** Marks a use by an op; brings a spilled storage back into memory first. Returns its offset. */
  touch(s: Storage): number {
    if (s.host) this.restore(s);
    s.lastUse = this.epoch;
    return s.offset;
  }

  private restore(s: Storage): void {
    const data = s.host!;
    const ptr = this.block(s.bytes, "a tensor coming back from the JavaScript heap");
    this.writeBytes!(ptr, data);
    s.host = null;
    this.adopt(ptr, false, s);
    this.track(s, Kind.Loose);
    this.counters.restored++;
  }

  private spill(s: Storage): void {
    const data = this.readBytes!(s.offset, s.bytes);
    this.dropBlock(s);
    s.host = data;
    s.offset = -1;
    this.counters.spilled++;
    this.counters.spilledBytes += s.bytes;
  }

  /**
   * Moves the loose temporaries no op has used since the last sweep out of
   * linear memory (see the top of this file), then starts a new epoch. Call
   * internals whose call is the latest stay (backward() is about to need
   * them), unless memory has run out.
   *
   * The next budget is twice what was both used this epoch and made before
   * it: the temporaries a program really reuses (its data, a kept output).
   * What an epoch merely made and dropped does not count, or each budget
   * would hold the last one's garbage and grow without end.
   */
  sweep(emergency = false): void {
    this.counters.sweeps++;
    const epoch = this.epoch;
    const canSpill = this.readBytes !== null;
    let reused = 0;
    for (const s of this.resident) {
      if (s.lastUse < epoch) {
        if (canSpill && (emergency || s.kind === Kind.Loose)) this.spill(s);
      } else if (s.born < epoch) reused += s.bytes;
    }
    this.epoch++;
    this.budget = Math.max(SWEEP_FLOOR, 2 * reused);
  }

  /**
   * A safe point: sweeps when loose temporaries have outgrown their budget
   * (`slack` times it at the end of every op, so sweeps mostly fall between
   * module calls, backward() and reads rather than inside a step).
   */
  maybeSweep(slack = 1): void {
    // inside a scope too: a loop whose steps run in scopes makes its batches outside them, loose
    if (this.looseBytes > slack * this.budget && this.autoRelease) this.sweep();
  }

  /** Gives the scratch block back (after a failed step, so memory returns to what it was). */
  trimScratch(): void {
    if (this.scratchPtr) this.pool.free(this.scratchPtr);
    this.scratchPtr = 0;
    this.scratchBytes = 0;
  }

  /** Moves a scope storage's bytes to a pool block (the scope is ending, or it is kept). */
  private escape(s: Storage, persistent: boolean): void {
    const ptr = this.block(s.bytes, "escape from scope");
    this.copy(ptr, s.offset, s.bytes);
    s.arena = null;
    s.persistent = persistent;
    this.adopt(ptr, persistent, s);
    if (!persistent) this.place(s);
  }

  /** Runs fn inside a new scope; storages reachable from its result escape to the enclosing lifetime. */
  scope<T>(fn: () => T, findStorages: (v: unknown) => Storage[]): T {
    const arena = new ScopeArena(this);
    this.scopes.push(arena);
    let result: T;
    try {
      result = fn();
    } finally {
      this.scopes.pop();
    }
    try {
      if (result && typeof (result as { then?: unknown }).then === "function") {
        throw new Error("wg.scope: fn returned a promise: scopes are synchronous (the tensors made after its first await would outlive it); await outside, or use a synchronous fn");
      }
      const outer = this.scopes[this.scopes.length - 1];
      for (const s of findStorages(result)) {
        if (s.arena !== arena || s.released) continue;
        if (outer) {
          const t = outer.alloc(s.bytes, "escape from scope");
          this.copy(t.offset, s.offset, s.bytes);
          s.offset = t.offset;
          s.arena = outer;
        } else {
          this.escape(s, false);
        }
      }
    } finally {
      arena.close();
    }
    this.maybeSweep(); // the scope's end is a safe point too
    return result;
  }

  get inScope(): boolean {
    return this.scopes.length > 0;
  }

  /** Starts a top-level module call (none inside another call or a scope): returns its record, or null. */
  beginCall(name: string): CallRecord | null {
    if (this.call || this.scopes.length || this.collecting || !this.autoRelease) return null;
    // a call before the last one's backward(): the last one's internals may never be needed (inference
    // with the tape on), so from now on they count against the sweep budget like any loose temporary
    const last = this.lastPending;
    if (last) {
      this.lastPending = null;
      if (last.pending > 0) for (const s of last.storages) if (s.call === last) this.demote(s);
    }
    return (this.call = new CallRecord(name));
  }

  /** Ends the call: `escaped` storages become loose temporaries; with nothing pending, the rest go now. */
  endCall(rec: CallRecord, escaped: Storage[]): void {
    this.call = null;
    for (const s of escaped) {
      if (s.call === rec) {
        s.call = null;
        this.demote(s);
      }
    }
    if (rec.pending === 0) this.releaseCall(rec, `it was an intermediate of ${rec.name} and was not returned`);
    else {
      this.lastPending = rec;
      this.maybeSweep();
    }
  }

  /** Backward has used one more of the call's nodes; at the last one its internals go. */
  nodeUsed(rec: CallRecord): void {
    if (--rec.pending === 0) this.releaseCall(rec, `it was an intermediate of ${rec.name}, released once backward() had used it`);
  }

  private releaseCall(rec: CallRecord, why: string): void {
    if (this.lastPending === rec) this.lastPending = null;
    for (const s of rec.storages) {
      if (s.call === rec) {
        s.call = null;
        this.free(s, `${why} (return it from forward(), or keep() it, to hold it)`);
      }
    }
    rec.storages.length = 0;
    this.maybeSweep();
  }

  /** Starts collecting the pool temporaries backward() makes. */
  beginCollect(): Storage[] | null {
    if (this.collecting) return null;
    return (this.collecting = []);
  }

  /** Stops collecting and releases every collected storage not in `keep`. */
  endCollect(list: Storage[] | null, keep: Set<Storage>): void {
    if (!list) return;
    this.collecting = null;
    for (const s of list) {
      if (!keep.has(s)) this.free(s, "it was a gradient inside backward()");
      else if (!s.released) this.place(s); // a gradient wg.grad() returns: loose from now on
    }
  }

  /**
   * Scratch bytes for one kernel call (packed panels, descriptors): one block
   * per backend, grown when needed and reused (kernels run one at a time on the caller).
   */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      const size = Math.max(bytes, Math.min(this.scratchBytes * 1.5, bytes * 4), 1 << 16);
      const ptr = this.block(size, "scratch");
      if (this.scratchPtr) this.pool.free(this.scratchPtr);
      this.scratchPtr = ptr;
      this.scratchBytes = size;
    }
    return this.scratchPtr;
  }

  /** A snapshot for tests and memory reports. */
  stats(): MemoryStats {
    const p = this.pool;
    return {
      inUse: p.inUse,
      pooled: p.freeBytes,
      limit: p.limit,
      high: p.high,
      loose: this.looseBytes,
      scratch: this.scratchBytes,
      sweeps: this.counters.sweeps,
      spilled: this.counters.spilled,
      text: `${fmtBytes(p.inUse)} in use, ${fmtBytes(p.freeBytes)} pooled, limit ${fmtBytes(p.limit)}`,
    };
  }
}

/** What wg.memory() reports. */
export interface MemoryStats {
  /** Bytes of linear memory (or GPU heap) held by live tensors and scratch. */
  inUse: number;
  /** Free bytes in the pool below its high-water mark (reused before memory grows). */
  pooled: number;
  /** The most the memory may grow to (init({ maxMemory })). */
  limit: number;
  /** End of the highest block handed out. */
  high: number;
  /** Bytes of loose temporaries in memory (what sweeps may spill; call internals not counted). */
  loose: number;
  /** Bytes of the one scratch block kernels pack operands into (part of inUse; it grows to the largest need). */
  scratch: number;
  /** Sweeps so far, and tensors spilled to the JavaScript heap by them. */
  sweeps: number;
  spilled: number;
  text: string;
}
