// The engine: which backend is live, and init() that picks it.

import { WasmBackend, type WasmBackendOptions } from "./backends/wasm/backend.js";
import type { Backend } from "./backends/backend.js";
import type { MemoryStats } from "./memory/manager.js";
import type { WebGpuBackendOptions } from "./backends/webgpu/backend.js";

export type { Backend, MemoryStats };

export interface InitOptions extends WasmBackendOptions {
  /**
   * "wasm" (the default), "webgpu", or "auto": WebGPU when an adapter exists,
   * wasm otherwise (the summary says which, and why).
   */
  backend?: "auto" | "wasm" | "webgpu";
  /** For the webgpu backend: a GPUDevice, GPUAdapter or GPU object to use instead of navigator.gpu / Dawn. */
  gpu?: unknown;
  /** Dispatches the webgpu backend records before a submit (default 64). */
  batch?: number;
  /** For the webgpu backend: optional adapter features it may use (default all of "shader-f16", "subgroups" the adapter has). */
  gpuFeatures?: string[];
  /** For the webgpu backend: "f32" (default) or "f16" GEMM products with f32 sums (needs shader-f16). */
  matmulPrecision?: "f32" | "f16";
  /**
   * Same bits on every runtime (Node, Deno, Bun, browsers) and every thread
   * count: the plain-SIMD kernels, whose multiply and add round separately
   * as IEEE says, instead of relaxed SIMD's fused multiply–add, which some
   * runtimes fuse and others do not. Costs what fusing gains where
   * relaxed SIMD would have been picked (5–20% of GEMM speed). wasm only.
   */
  deterministic?: boolean;
}

export interface EngineInfo {
  backend: "wasm" | "webgpu";
  /** The kernel binary chosen: "simd", "relaxed", "simd-threads" or "relaxed-threads" ("webgpu" on the GPU). */
  kernels: string;
  threads: number;
  simd: boolean;
  relaxedSimd: boolean;
  runtime: string;
  summary: string;
  /** With backend "auto": why wasm was picked when it was. */
  fallback?: string;
  /** True when the kernels give the same bits on every runtime (init({ deterministic: true }), or the plain-SIMD binary anyway). */
  deterministic: boolean;
}

let current: Backend | null = null;
let starting: Promise<Backend> | null = null;
let fallback: string | undefined;
/** init()'s options of the running backend, so a second init with the same ones keeps it. */
let currentKey = "";
/** The one-thread wasm backend kept beside WebGPU (t.to("wasm") puts tensors there). */
let sibling: Backend | null = null;

/**
 * Starts the engine: detects SIMD, relaxed SIMD and threads, compiles the
 * best kernel binary and starts the worker pool, or (backend "webgpu" /
 * "auto") finds a GPU. Safe to call more than once (later calls return the
 * running engine unless `opts` differ, in which case it restarts; tensors
 * from before a restart are invalid).
 *
 * @example
 * import * as wg from "webgrad";
 * const info = await wg.init({ threads: 2 });
 * console.log(info.kernels, info.threads); // e.g. "relaxed-threads" 2
 * const gpu = await wg.init({ backend: "auto" });
 * console.log(gpu.backend, gpu.fallback ?? ""); // e.g. "webgpu", or "wasm" and why
 */
export async function init(opts: InitOptions = {}): Promise<EngineInfo> {
  if (opts.backend && opts.backend !== "auto" && opts.backend !== "wasm" && opts.backend !== "webgpu") {
    throw new Error(`webgrad: init: unknown backend "${opts.backend}" (have: "auto", "wasm", "webgpu")`);
  }
  checkInitOptions(opts);
  if (opts.deterministic) opts = { ...opts, isa: "simd" };
  const key = JSON.stringify({ ...opts, verbose: undefined, gpu: opts.gpu ? "injected" : undefined, wasm: opts.wasm ? "injected" : undefined });
  if (current && currentKey === key && !opts.gpu && !opts.wasm) return info(current);
  if (starting) await starting.catch(() => null);
  if (current) shutdown();
  starting = create(opts);
  try {
    current = await starting;
    currentKey = key;
  } finally {
    starting = null;
  }
  return info(current);
}

/** Every init option checked by name before anything starts (500 threads or a NaN memory cap once went through). */
function checkInitOptions(opts: InitOptions): void {
  const who = "webgrad: init";
  if (typeof opts !== "object" || opts === null) throw new Error(`${who}: options must be an object`);
  const known = ["backend", "gpu", "batch", "gpuFeatures", "matmulPrecision", "threads", "isa", "maxMemory", "verbose", "deterministic", "wasm"];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new Error(`${who}: unknown option ${JSON.stringify(k)} (known: ${known.join(", ")})`);
  const int = (name: string, v: unknown, min: number, max: number) => {
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)) throw new Error(`${who}: ${name} must be an integer in ${min}..${max}, got ${typeof v === "number" ? v : JSON.stringify(v) ?? String(v)}`);
  };
  int("threads", opts.threads, 1, MAX_THREADS);
  int("maxMemory", opts.maxMemory, MIN_MEMORY, 2 ** 32);
  int("batch", opts.batch, 1, 1 << 16);
  if (opts.isa !== undefined && opts.isa !== "simd" && opts.isa !== "relaxed") throw new Error(`${who}: isa must be "simd" or "relaxed", got ${JSON.stringify(opts.isa)}`);
  if (opts.matmulPrecision !== undefined && opts.matmulPrecision !== "f32" && opts.matmulPrecision !== "f16") throw new Error(`${who}: matmulPrecision must be "f32" or "f16", got ${JSON.stringify(opts.matmulPrecision)}`);
  if (opts.verbose !== undefined && typeof opts.verbose !== "boolean") throw new Error(`${who}: verbose must be true or false, got ${JSON.stringify(opts.verbose)}`);
  if (opts.deterministic !== undefined && typeof opts.deterministic !== "boolean") throw new Error(`${who}: deterministic must be true or false, got ${JSON.stringify(opts.deterministic)}`);
  if (opts.deterministic && opts.isa === "relaxed") throw new Error(`${who}: deterministic: true runs the plain-SIMD kernels; it cannot be combined with isa: "relaxed"`);
  if (opts.deterministic && (opts.backend === "webgpu" || opts.backend === "auto")) {
    throw new Error(`${who}: deterministic: true is for the wasm backend (GPUs round differently from one another); drop it or use backend "wasm"`);
  }
  if (opts.wasm !== undefined && (opts.wasm === null || (typeof opts.wasm !== "object" && typeof opts.wasm !== "string"))) throw new Error(`${who}: wasm must be a WebAssembly.Module, URL, bytes, Response or { simd, relaxed, "simd-threads", "relaxed-threads" }, got ${opts.wasm === null ? "null" : typeof opts.wasm}`);
  if (opts.gpuFeatures !== undefined && !(Array.isArray(opts.gpuFeatures) && opts.gpuFeatures.every((f) => typeof f === "string"))) throw new Error(`${who}: gpuFeatures must be an array of feature names`);
}

/** More workers than this is a mistake, not a machine: each one is a thread and an instance of the kernels. */
const MAX_THREADS = 256;
/** The engine's own tables and a first pool need this much linear memory; a cap below it cannot run anything. */
const MIN_MEMORY = 16 << 20;

async function create(opts: InitOptions): Promise<Backend> {
  fallback = undefined;
  if (opts.backend !== "webgpu" && opts.backend !== "auto") return WasmBackend.create(opts);
  // a one-thread wasm backend beside the GPU: where t.to("wasm") puts tensors for host-side work
  const cpu = await WasmBackend.create({ threads: 1, isa: opts.isa, wasm: opts.wasm, verbose: false });
  try {
    const { WebGpuBackend } = await import("./backends/webgpu/backend.js");
    const gpuOpts: WebGpuBackendOptions = {
      gpu: opts.gpu, batch: opts.batch, maxMemory: opts.maxMemory, verbose: opts.verbose,
      features: opts.gpuFeatures, matmulPrecision: opts.matmulPrecision,
    };
    const be = await WebGpuBackend.create(gpuOpts);
    sibling = cpu;
    return be;
  } catch (e) {
    cpu.shutdown();
    if (opts.backend === "webgpu") throw e;
    fallback = (e as Error).message;
    const be = await WasmBackend.create({ ...opts, verbose: false });
    if (opts.verbose !== false) console.log(`${be.summary} (auto: no WebGPU: ${fallback})`);
    return be;
  }
}

function info(b: Backend): EngineInfo {
  return {
    backend: b.name,
    kernels: b.variant,
    threads: b.threads,
    simd: b.features.simd,
    relaxedSimd: b.variant.startsWith("relaxed"),
    runtime: b.features.runtime,
    summary: b.summary,
    deterministic: b.name === "wasm" && !b.variant.startsWith("relaxed"),
    ...(fallback ? { fallback } : {}),
  };
}

/** The live backend; throws if init() has not finished. */
export function backend(): Backend {
  if (!current) throw new Error("webgrad: call `await wg.init()` before creating tensors");
  return current;
}

/**
 * The running backend named `name`, or null: the current one, or the wasm backend
 * kept beside WebGPU (one thread, for tensors moved with t.to("wasm")).
 *
 * @example
 * await wg.init({ backend: "webgpu" });
 * wg.backendNamed("wasm")?.name; // "wasm"
 */
export function backendNamed(name: "wasm" | "webgpu"): Backend | null {
  if (!current) return null;
  if (current.name === name) return current;
  return sibling && sibling.name === name ? sibling : null;
}

/**
 * Runs fn with `name` as the current backend (ops in it run there and make tensors
 * there), then switches back (fn is synchronous: an await inside it would run the rest
 * on whichever backend is current then). With WebGPU current, "wasm" is the wasm backend kept
 * beside it: host-side work on tensors moved with t.to("wasm").
 *
 * @example
 * await wg.init({ backend: "webgpu" });
 * const gpuTensor = wg.tensor([1, 2, 3]);
 * const cpu = await gpuTensor.to("wasm");
 * wg.withBackend("wasm", () => cpu.sum().item()); // 6
 */
export function withBackend<T>(name: "wasm" | "webgpu", fn: () => T): T {
  const be = backendNamed(name);
  if (!be) throw new Error(`withBackend("${name}"): no ${name} backend is running (the current one is ${current?.name ?? "none: call wg.init()"})`);
  const prev = current;
  current = be;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Stops the worker pool (or releases the GPU) and forgets the backend (tensors made before become invalid). */
export function shutdown(): void {
  sibling?.shutdown();
  sibling = null;
  current?.shutdown();
  current = null;
  currentKey = "";
}

/**
 * The engine's memory: bytes in use by tensors, pooled (free below the
 * high-water mark, reused before memory grows) and the limit, plus the loose
 * temporaries sweeps may spill (docs/MEMORY.md).
 *
 * @example
 * const { inUse, pooled, limit, text } = wg.memory();
 * console.log(text); // e.g. "1.20 MiB in use, 3.00 MiB pooled, limit 4.00 GiB"
 */
export function memory(): MemoryStats {
  return backend().mm.stats();
}
