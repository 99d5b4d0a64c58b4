// The surface every backend gives the host ops: kernels called by name with
// byte offsets and numbers, one MemoryManager for storage, and explicit
// uploads/readbacks. Ops and autograd are written once against this.

import type { MemoryManager } from "../memory/manager.js";
import type { Features } from "./features.js";

export type KernelFn = (...args: number[]) => number;

export interface Backend {
  /** "wasm" or "webgpu". */
  readonly name: "wasm" | "webgpu";
  /** Kernels by their assembly/ export name, called with byte offsets and numbers. */
  readonly k: Record<string, KernelFn>;
  /** Where tensors' bytes come from (offsets into linear memory or the GPU heap). */
  readonly mm: MemoryManager;
  readonly summary: string;
  /** Kernel binary ("simd", "relaxed-threads", …) or "webgpu". */
  readonly variant: string;
  readonly threads: number;
  readonly features: Features;
  split(kernel: string, total: number, flops: number, args: (start: number, end: number) => number[], align?: number): void;
  parallel(kernel: string, calls: number[][], flops?: number): void;
  /** wasm linear memory, for the host code that still copies bytes itself (the WebGPU backend throws, naming `await t.data()`). */
  readonly memory: WebAssembly.Memory;
  /** Synchronous views: wasm only (the WebGPU backend throws, naming `await t.data()`). */
  f32(ptr: number, n: number): Float32Array;
  i32(ptr: number, n: number): Int32Array;
  /** Copies `data` to byte offset `ptr`, ordered after every kernel called before. */
  write(ptr: number, data: Float32Array | Int32Array | Uint8Array): void;
  /** Reads `bytes` bytes at `ptr` once every kernel called before has run. */
  read(ptr: number, bytes: number): Promise<ArrayBuffer>;
  shutdown(): void;
}
