// The engine: which backend is live, and init() that picks it.

import { WasmBackend, type WasmBackendOptions } from "./backends/wasm.js";

export interface InitOptions extends WasmBackendOptions {
  /** "auto" and "wasm" both give the wasm backend today (WebGPU arrives as an optional backend). */
  backend?: "auto" | "wasm";
}

export interface EngineInfo {
  backend: "wasm";
  /** The kernel binary chosen: "simd", "relaxed", "simd-threads" or "relaxed-threads". */
  kernels: string;
  threads: number;
  simd: boolean;
  relaxedSimd: boolean;
  runtime: string;
  summary: string;
}

let current: WasmBackend | null = null;
let starting: Promise<WasmBackend> | null = null;

/**
 * Starts the engine: detects SIMD, relaxed SIMD and threads, compiles the
 * best kernel binary and starts the worker pool. Safe to call more than once
 * (later calls return the running engine unless `opts` differ, in which case
 * it restarts; tensors from before a restart are invalid).
 *
 * @example
 * import * as wg from "webgrad";
 * const info = await wg.init({ threads: 2 });
 * console.log(info.kernels, info.threads); // e.g. "relaxed-threads" 2
 */
export async function init(opts: InitOptions = {}): Promise<EngineInfo> {
  if (opts.backend && opts.backend !== "auto" && opts.backend !== "wasm") {
    throw new Error(`webgrad: init: unknown backend "${opts.backend}" (have: "auto", "wasm")`);
  }
  const key = JSON.stringify({ ...opts, verbose: undefined });
  if (current && (current as any)._key === key) return info(current);
  if (starting) await starting.catch(() => null);
  if (current) shutdown();
  starting = WasmBackend.create(opts);
  try {
    current = await starting;
    (current as any)._key = key;
  } finally {
    starting = null;
  }
  return info(current);
}

function info(b: WasmBackend): EngineInfo {
  return {
    backend: "wasm",
    kernels: b.variant,
    threads: b.threads,
    simd: b.features.simd,
    relaxedSimd: b.variant.startsWith("relaxed"),
    runtime: b.features.runtime,
    summary: b.summary,
  };
}

/** The live backend; throws if init() has not finished. */
export function backend(): WasmBackend {
  if (!current) throw new Error("webgrad: call `await wg.init()` before creating tensors");
  return current;
}

/** Stops the worker pool and forgets the backend (tensors made before become invalid). */
export function shutdown(): void {
  current?.shutdown();
  current = null;
}

/** Memory in use, free in pools and touched, for reports and leak tests. */
export function memory(): { inUse: number; free: number; high: number; text: string } {
  return backend().mm.stats();
}
