// The wasm backend: one linear memory owned by the host, the kernel binary
// that feature detection picked, and (optionally) a worker pool over it.
//
// Contract (what ops see): alloc / free through the MemoryManager, typed
// views made on demand (memory.grow detaches old views, so none is cached),
// and the kernels of kernels.generated.ts: thread splits from the manifests,
// and the schedules of schedules.ts.

import { loadKernels, instantiate, type WasmOption } from "../loader.js";
import { nodeImport } from "../node-import.js";
import { detectFeatures, type Features } from "../features.js";
import { BlockPool, pagesFor } from "../../memory/pool.js";
import { MemoryManager } from "../../memory/manager.js";
import { ThreadPool, splitRange, SLOT_ARGS } from "../threads.js";
import type { Backend, SyncMemory } from "../backend.js";
import type { Kernels, KernelName, WasmExports } from "../abi.generated.js";
import { wasmKernels } from "./kernels.generated.js";
import { wasmSchedules } from "./schedules.js";
import type { WasmRunner, ExportName } from "./runner.js";

export interface WasmBackendOptions {
  /** Worker threads including the calling one; default: the cores there are (1 when threads are unavailable). */
  threads?: number;
  /** Force a kernel binary: "simd" or "relaxed" (default: the best this runtime validates). */
  isa?: "simd" | "relaxed";
  /** Cap on the linear memory in bytes (default and maximum 4 GiB). */
  maxMemory?: number;
  /** Print what was chosen (default true). */
  verbose?: boolean;
  /**
   * The kernel binary, for hosts that forbid compiling WebAssembly at run time
   * (Cloudflare Workers, Vercel Edge) or that have neither fetch nor files: a
   * WebAssembly.Module (imported at deploy time), a URL, or bytes; its variant
   * is read from the binary's "webgrad" section. Or several keyed by variant,
   * `{ simd, relaxed, "simd-threads", "relaxed-threads" }` (values may be
   * functions, called only for the variant picked). Default: the shipped
   * dist/host/backends/webgrad-<variant>.wasm, fetched or read when init picks it.
   */
  wasm?: WasmOption;
}

const BASE = 65536; // page 0 holds the kernels' read-only static data
/**
 * Work below this per thread runs on the calling thread alone: a dispatch costs
 * 5–25 µs on a 2-vCPU VM (wake-up, cache lines moving between cores, a
 * descheduled vCPU), about 2^19 flops of kernel time.
 */
const MIN_FLOPS_PER_THREAD = 1 << 19;
const MAX_BYTES = 65536 * 65536;

type ExportFn = (...args: number[]) => number;

export class WasmBackend implements Backend, WasmRunner, SyncMemory {
  readonly name = "wasm";
  /** The binary's exports, positional (kernel tests and the schedules call these). */
  readonly exports: WasmExports;
  readonly kernels: Kernels;
  readonly mm: MemoryManager;
  readonly hostMemory: SyncMemory = this;
  private readonly index: Map<string, number>;
  /** Human-readable summary of what init chose. */
  readonly summary: string;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    readonly features: Features,
    readonly variant: string,
    readonly pool: ThreadPool | null,
    maxBytes: number,
    threadsWhy: string,
  ) {
    this.exports = instance.exports as unknown as WasmExports;
    const names = Object.keys(instance.exports).filter((n) => typeof (instance.exports as any)[n] === "function");
    this.index = new Map(names.map((n, i) => [n, i]));
    const grow = (end: number) => {
      const have = memory.buffer.byteLength;
      if (end <= have) return true;
      // grow geometrically: fewer grows, fewer detached views
      const want = Math.min(maxBytes, Math.max(end, have * 1.5));
      try {
        memory.grow(pagesFor(want) - have / 65536);
        return true;
      } catch {
        try {
          memory.grow(pagesFor(end) - have / 65536);
          return true;
        } catch {
          return false;
        }
      }
    };
    this.mm = new MemoryManager(new BlockPool(BASE, maxBytes, grow));
    this.mm.copy = (dst, src, bytes) => {
      new Uint8Array(this.memory.buffer).copyWithin(dst, src, src + bytes);
    };
    // linear memory is readable synchronously: loose temporaries can be spilled to the JS heap
    this.mm.readBytes = (ptr, bytes) => new Uint8Array(this.memory.buffer, ptr, bytes).slice();
    this.mm.writeBytes = (ptr, data) => new Uint8Array(this.memory.buffer, ptr, data.length).set(data);
    const fusedMadd = variant.startsWith("relaxed");
    const schedules = wasmSchedules(this.exports, this, { scratch: (bytes) => this.mm.scratch(bytes), f32: (p, n) => this.f32(p, n), i32: (p, n) => this.i32(p, n), fusedMadd });
    this.kernels = wasmKernels(this.exports, this, schedules);
    this.summary =
      `webgrad: wasm backend, ${variant} kernels, ` +
      (pool ? `${pool.size} threads` : `1 thread${threadsWhy ? ` (${threadsWhy})` : ""}`);
  }

  static async create(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
    const f = detectFeatures();
    if (!f.simd) throw new Error("webgrad: this runtime has no WebAssembly SIMD (needs Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+)");
    if (opts.isa === "relaxed" && !f.relaxedSimd) {
      throw new Error("webgrad: relaxed SIMD was asked for but this runtime does not validate it (Node 20: run with --experimental-wasm-relaxed-simd)");
    }
    const relaxed = opts.isa ? opts.isa === "relaxed" : f.relaxedSimd;
    // only a default thread count needs the core count (node:os costs ~1 ms of a cold start)
    const cores = opts.threads === undefined ? await coreCount(f) : f.cores;
    let threads = Math.max(1, Math.floor(opts.threads ?? cores));
    let why = "";
    if (threads > 1 && !f.threads) {
      why = f.threadsWhy;
      threads = 1;
    } else if (threads === 1 && opts.threads === undefined && cores === 1) {
      why = "one core";
    }
    const maxBytes = Math.min(MAX_BYTES, opts.maxMemory ?? MAX_BYTES);
    const { module, variant } = await loadKernels(relaxed, threads > 1, opts.wasm, f.relaxedSimd);
    // a binary handed to init decides: a threads build needs shared memory even
    // on one thread, a plain one runs on one thread whatever was asked
    const shared = variant.endsWith("-threads");
    if (shared && !f.sharedMemory) {
      throw new Error(`webgrad: init: the wasm given is the ${variant} binary, which needs shared memory, and ${f.threadsWhy}: pass a plain "simd" or "relaxed" binary`);
    }
    if (!shared && threads > 1) {
      why = `the wasm given to init is the ${variant} binary, which has no threads`;
      threads = 1;
    }
    const memory = new WebAssembly.Memory({
      initial: 32,
      maximum: shared ? 65536 : Math.max(32, pagesFor(maxBytes)),
      shared,
    } as WebAssembly.MemoryDescriptor);
    const instance = (await instantiate(module, memory)) as WebAssembly.Instance;
    let pool: ThreadPool | null = null;
    if (shared && threads > 1) {
      const names = Object.keys(instance.exports).filter((n) => typeof (instance.exports as any)[n] === "function");
      try {
        pool = await ThreadPool.create(threads - 1, module, memory, names, f.runtime);
      } catch (e) {
        why = `workers could not start: ${(e as Error).message}`;
      }
    }
    const be = new WasmBackend(memory, module, instance, f, variant, pool, maxBytes, why);
    if (opts.verbose !== false) console.log(be.summary);
    return be;
  }

  get threads(): number {
    return this.pool?.size ?? 1;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, n);
  }

  /** Copies `data` to byte offset `ptr` (kernels run synchronously here, so no ordering to keep). */
  write(ptr: number, data: Float32Array | Int32Array | Uint8Array): void {
    // offset 0 is never a tensor's (the first page holds the module's static data): an undefined
    // or NaN pointer coerced to 0 here once let a hostile checkpoint write there
    if (!Number.isSafeInteger(ptr) || ptr < 0 || (ptr === 0 && data.byteLength > 0) || ptr + data.byteLength > this.memory.buffer.byteLength) {
      throw new Error(`wasm backend: write of ${data.byteLength} bytes at ${String(ptr)} is outside the tensors' memory`);
    }
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** A copy of `bytes` bytes at `ptr` (async only for symmetry with the WebGPU backend). */
  async read(ptr: number, bytes: number): Promise<ArrayBuffer> {
    return this.memory.buffer.slice(ptr, ptr + bytes) as ArrayBuffer;
  }

  /**
   * Calls `kernel` over [0, total) split into one range per thread (starts
   * aligned to `align`) when the work is worth it (`flops` ≥ MIN_FLOPS_PER_THREAD per thread),
   * else once over the whole range. `args(start, end)` builds each call's arguments.
   */
  /** The wasm backend runs every kernel of the manifests. */
  supports(kernel: KernelName): boolean {
    return typeof this.kernels[kernel] === "function";
  }

  split(kernel: ExportName, total: number, flops: number, args: (start: number, end: number) => number[], align = 1): void {
    const fn = this.kernel(kernel);
    const t = this.threads;
    const ranges = t === 1 || total < 2 || flops < t * MIN_FLOPS_PER_THREAD ? [] : splitRange(total, t, align);
    if (ranges.length < 2) {
      fn(...args(0, total));
      return;
    }
    this.pool!.run(fn, this.index.get(kernel)!, ranges.map(([s, e]) => [args(s, e)]));
  }

  /**
   * Runs a list of independent calls of one kernel, contiguous groups spread
   * over the threads in one dispatch; on the calling thread alone when the
   * whole list is under MIN_FLOPS_PER_THREAD `flops` per thread (default: always spread).
   */
  parallel(kernel: ExportName, calls: number[][], flops = Infinity): void {
    const fn = this.kernel(kernel);
    const t = this.threads;
    if (t === 1 || calls.length < 2 || flops < t * MIN_FLOPS_PER_THREAD) {
      for (const c of calls) fn(...c);
      return;
    }
    const groups = splitRange(calls.length, t).map(([s, e]) => calls.slice(s, e));
    // a slot holds SLOT_ARGS numbers: send oversized groups in several dispatches
    const per = Math.max(1, Math.floor(SLOT_ARGS / Math.max(1, calls[0].length)));
    const rounds = Math.ceil(Math.max(...groups.map((g) => g.length)) / per);
    for (let r = 0; r < rounds; r++) {
      this.pool!.run(fn, this.index.get(kernel)!, groups.map((g) => g.slice(r * per, (r + 1) * per)));
    }
  }

  private kernel(name: ExportName): ExportFn {
    const fn = this.exports[name] as unknown as ExportFn | undefined;
    if (!fn) throw new Error(`webgrad: the kernel binary has no export named ${name}`);
    return fn;
  }

  shutdown(): void {
    this.pool?.terminate();
  }
}

async function coreCount(f: Features): Promise<number> {
  if (f.runtime === "node" || f.runtime === "bun") {
    try {
      const os = await nodeImport<typeof import("node:os")>("node:os");
      return (os as any).availableParallelism?.() ?? os.cpus().length;
    } catch {
      /* fall through */
    }
  }
  return f.cores;
}
