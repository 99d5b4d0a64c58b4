// The worker pool: every worker instantiates the same kernel module over the
// one shared memory, then parks on an atomic generation counter. The calling
// thread writes each worker's kernel and arguments into a shared control
// block, bumps the generation, does its own share, and spins until the
// pending count reaches zero (no Atomics.wait: browser main threads may not block).
// A share goes to whoever claims it first (an atomic exchange of its slot's kernel
// word): the worker when it wakes, or the calling thread once its own share is done.
// So a worker that is slow to wake (parked, or its core taken by another process)
// costs at most the time the calling thread takes to run that share itself, not the
// wait for the worker: 2 threads on a busy machine are no slower than 1.
// Work is always split along independent output ranges, so results are
// bit-identical for every thread count.

import type { Features } from "./features.js";
import { nodeImport } from "./node-import.js";

// control block layout (bytes). A worker's slot holds one group of calls to
// one kernel: [kernel index, calls, args per call, ready] as int32, then the
// arguments of every call as float64 (pointers and sizes fit exactly). The
// ready word is the worker's own: set once it is parked and able to serve.
export const GEN = 0, PENDING = 1, ERROR = 2, STOP = 3; // int32 indices
export const SLOT_BASE = 64, SLOT_BYTES = 8192, SLOT_HEADER = 16;
/** float64 arguments one slot holds: a group of calls must fit (larger groups are sent in several dispatches). */
export const SLOT_ARGS = (SLOT_BYTES - SLOT_HEADER) / 8;
/** How long a worker spins on the generation counter before it parks: back-to-back kernel calls then cost no wake-up. */
export const SPIN_MS = 0.5;

type AnyWorker = {
  postMessage(m: unknown): void;
  terminate(): unknown;
  on?: (ev: string, fn: (m: any) => void) => void;
  addEventListener?: (ev: string, fn: (e: any) => void) => void;
  unref?: () => void;
};

export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private errors: string[] = [];
  /** Resolves once every worker is ready (or failed: see startError). */
  started: Promise<void> = Promise.resolve();
  /** Why a worker did not start, if one did not. */
  startError: string | null = null;
  /**
   * Groups of calls handed to workers so far, run here for a worker not started yet, and
   * run here because the worker had not claimed its share by the time ours was done
   * (stolen; those count in toWorkers too). For tests and reports.
   */
  readonly counts = { toWorkers: 0, orphaned: 0, stolen: 0 };

  private constructor(private readonly workers: AnyWorker[], private readonly ctrl: SharedArrayBuffer) {
    this.i32 = new Int32Array(ctrl);
    this.f64 = new Float64Array(ctrl);
  }

  /** Total threads, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  static async create(
    n: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: string[],
    runtime: Features["runtime"],
  ): Promise<ThreadPool> {
    const ctrl = new SharedArrayBuffer(SLOT_BASE + SLOT_BYTES * Math.max(1, n));
    // every slot starts with no share to claim (a zero would read as kernel 0)
    for (let w = 0; w < n; w++) new Int32Array(ctrl)[(SLOT_BASE + w * SLOT_BYTES) >> 2] = -1;
    const layout = { GEN, PENDING, ERROR, STOP, SLOT_BASE, SLOT_BYTES, SLOT_HEADER, SPIN_MS };
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let id = 0; id < n; id++) {
      let w: AnyWorker;
      // Deno too: its node:worker_threads workers can be unref()'d (its Web
      // Workers cannot, so parked workers would keep the process alive forever)
      if (runtime === "node" || runtime === "bun" || runtime === "deno") {
        const { Worker } = await nodeImport<typeof import("node:worker_threads")>("node:worker_threads");
        w = new Worker(new URL("./worker.js", import.meta.url)) as unknown as AnyWorker;
      } else {
        // written out in one expression: the pattern bundlers (Vite, Rollup,
        // webpack 5, Parcel) recognise and emit the worker for
        w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" }) as unknown as AnyWorker;
      }
      workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: any) => {
            const d = m?.data ?? m;
            if (d === "ready") resolve();
            else if (d?.error) reject(new Error(`webgrad worker ${id}: ${d.error}`));
          };
          const onErr = (e: any) => reject(new Error(`webgrad worker ${id} failed to start: ${e?.message ?? e}`));
          if (w.on) {
            w.on("message", onMsg);
            w.on("error", onErr);
          } else {
            w.addEventListener!("message", onMsg);
            w.addEventListener!("error", onErr);
          }
        }),
      );
      w.postMessage({ module, memory, ctrl, id, names, layout });
    }
    // init does not wait for the workers (starting a thread costs 80–300 ms on
    // these VMs, most of a cold start): until a worker says ready in its slot,
    // run() does its share on the calling thread. Work is split along
    // independent outputs, so the results are the same bits either way.
    const pool = new ThreadPool(workers, ctrl);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The "ready" messages arrive through the event loop, which a long synchronous
    // training loop holds up: when the timer fires, the ready flags in shared memory
    // say whether the workers really are late (a resnet epoch of 16 s warned falsely).
    const allFlagged = () => workers.every((_, w) => Atomics.load(pool.i32, ((SLOT_BASE + w * SLOT_BYTES) >> 2) + 3) === 1);
    const timeout = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => (allFlagged() ? resolve() : reject(new Error("webgrad: workers did not start within 10 s"))), 10000);
      (timer as { unref?: () => void }).unref?.();
    });
    pool.started = Promise.race([Promise.all(ready), timeout])
      .then(() => undefined)
      .catch((e: Error) => {
        pool.startError = e.message;
        console.warn(`${e.message}; webgrad goes on with the calling thread doing their work`);
      })
      .finally(() => {
        clearTimeout(timer);
        for (const w of workers) w.unref?.();
      });
    // let the process exit while workers start or park
    for (const w of workers) w.unref?.();
    return pool;
  }

  /**
   * Runs kernel `index` over groups of argument lists: group 0 on the calling
   * thread, group i on worker i-1, each a loop over its calls. Blocks until all are done.
   */
  run(fn: (...a: number[]) => unknown, index: number, groups: number[][][]): void {
    const { i32, f64 } = this;
    const nw = this.workers.length;
    let orphans: number[][][] | null = null;
    // which workers get a share: counted and stored in PENDING before any share is
    // published, since a worker still awake from the last dispatch may claim one at once
    const handed: number[] = [];
    for (let w = 0; w < nw; w++) {
      const slot = (SLOT_BASE + w * SLOT_BYTES) >> 2;
      const calls = groups[w + 1];
      if (!calls || !calls.length) continue;
      if (Atomics.load(i32, slot + 3) !== 1) {
        // not started yet: its share runs here
        (orphans ??= []).push(calls);
        this.counts.orphaned++;
        continue;
      }
      const argc = calls[0].length;
      if (calls.length * argc > SLOT_ARGS) throw new Error(`webgrad: ${calls.length} calls of ${argc} args overflow a worker slot`);
      for (const args of calls) if (args.length !== argc) throw new Error("webgrad: calls in one group must take the same number of args");
      handed.push(w);
    }
    Atomics.store(i32, PENDING, handed.length);
    for (const w of handed) {
      const slot = (SLOT_BASE + w * SLOT_BYTES) >> 2;
      const calls = groups[w + 1];
      const argc = calls[0].length;
      this.counts.toWorkers++;
      i32[slot + 1] = calls.length;
      i32[slot + 2] = argc;
      let at = (SLOT_BASE + w * SLOT_BYTES + SLOT_HEADER) >> 3;
      for (const args of calls) for (let j = 0; j < argc; j++) f64[at++] = args[j];
      Atomics.store(i32, slot, index); // published: claimable from here on
    }
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    let mainErr: unknown = null;
    try {
      for (const args of groups[0] ?? []) fn(...args);
      if (orphans) for (const calls of orphans) for (const args of calls) fn(...args);
    } catch (e) {
      mainErr = e;
    }
    // shares no worker has claimed yet run here (same calls, same ranges: the same bits)
    for (const w of handed) {
      const slot = (SLOT_BASE + w * SLOT_BYTES) >> 2;
      if (Atomics.exchange(i32, slot, -1) < 0) continue; // its worker has it
      this.counts.stolen++;
      try {
        if (!mainErr) for (const args of groups[w + 1]) fn(...args);
      } catch (e) {
        mainErr = e;
      }
      Atomics.sub(i32, PENDING, 1);
    }
    while (Atomics.load(i32, PENDING) > 0) {
      /* spin: the worker that claimed a share is running it */
    }
    if (mainErr) throw mainErr;
    if (Atomics.load(i32, ERROR)) {
      Atomics.store(i32, ERROR, 0);
      throw new Error("webgrad: a kernel trapped in a worker thread");
    }
  }

  terminate(): void {
    Atomics.store(this.i32, STOP, 1);
    Atomics.add(this.i32, GEN, 1);
    Atomics.notify(this.i32, GEN);
    for (const w of this.workers) w.terminate();
  }
}

/**
 * Splits [0, total) into at most `parts` ranges whose starts are multiples of
 * `align` (a kernel's tile), sized by equal shares.
 */
export function splitRange(total: number, parts: number, align = 1): [number, number][] {
  const out: [number, number][] = [];
  if (total <= 0) return out;
  const units = Math.ceil(total / align);
  const n = Math.max(1, Math.min(parts, units));
  let start = 0;
  for (let i = 0; i < n; i++) {
    const endUnit = Math.round(((i + 1) * units) / n);
    const end = Math.min(total, endUnit * align);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}
