// Feature detection by validating tiny probe modules: never assume, always ask
// the runtime (Node 20 validates relaxed SIMD only with
// --experimental-wasm-relaxed-simd; Node 22+, Deno, Bun and Chromium have it on).

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const TYPE_V128 = [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b]; // () -> v128
const FUNC = [0x03, 0x02, 0x01, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array(16).fill(0)];

function code(body: number[]): number[] {
  const fn = [0x00, ...body, 0x0b];
  return [0x0a, fn.length + 2, 0x01, fn.length, ...fn];
}

/** (func (result v128) v128.const 0) */
const SIMD_PROBE = new Uint8Array([...HEADER, ...TYPE_V128, ...FUNC, ...code(V128_ZERO)]);
/** (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))) */
const RELAXED_PROBE = new Uint8Array([
  ...HEADER, ...TYPE_V128, ...FUNC, ...code([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]),
]);
/** (memory 1 1 shared) */
const THREADS_PROBE = new Uint8Array([...HEADER, 0x05, 0x04, 0x01, 0x03, 0x01, 0x01]);

export interface Features {
  simd: boolean;
  relaxedSimd: boolean;
  /** Shared wasm memory validates and SharedArrayBuffer can be used here (cross-origin isolated in browsers). */
  threads: boolean;
  /** Shared wasm memory can be made here (a threads binary can be instantiated, if only on one thread). */
  sharedMemory: boolean;
  /** Why threads are off, when they are. */
  threadsWhy: string;
  cores: number;
  runtime: "node" | "deno" | "bun" | "browser" | "worker" | "workerd" | "edge" | "unknown";
}

function validate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

export function detectRuntime(): Features["runtime"] {
  const g = globalThis as any;
  // edge hosts first: Cloudflare's workerd may define a `process` global (nodejs_compat)
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof g.EdgeRuntime === "string") return "edge";
  if (g.Deno?.version) return "deno";
  if (g.Bun?.version) return "bun";
  if (g.process?.versions?.node) return "node";
  if (typeof g.window !== "undefined" && typeof g.document !== "undefined") return "browser";
  if (typeof g.importScripts === "function" || typeof g.WorkerGlobalScope !== "undefined") return "worker";
  return "unknown";
}

export function detectFeatures(): Features {
  const g = globalThis as any;
  const runtime = detectRuntime();
  const simd = validate(SIMD_PROBE);
  const relaxedSimd = simd && validate(RELAXED_PROBE);
  const sharedMemory = validate(THREADS_PROBE) && typeof SharedArrayBuffer !== "undefined";
  let threads = sharedMemory;
  let threadsWhy = threads ? "" : "this runtime has no SharedArrayBuffer or shared wasm memory";
  // asked first: a page that is not cross-origin isolated has no
  // SharedArrayBuffer at all, and the useful thing to say is how to get it
  if ((runtime === "browser" || runtime === "worker") && g.crossOriginIsolated === false) {
    threads = false;
    threadsWhy = "the page is not cross-origin isolated, so it has no SharedArrayBuffer: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp";
  } else if (threads && typeof g.Worker !== "function" && runtime !== "node" && runtime !== "deno" && runtime !== "bun") {
    threads = false;
    threadsWhy = "this runtime cannot start workers";
  }
  const cores = Math.max(1, Number(g.navigator?.hardwareConcurrency) || 1);
  return { simd, relaxedSimd, sharedMemory, threads, threadsWhy, cores, runtime };
}
