// The surface every backend gives the host ops: its typed kernels (named
// arguments, generated from the manifests in kernels/), one MemoryManager for
// storage, and explicit uploads and readbacks. Ops and autograd are written once
// against this; how a kernel is scheduled (thread splits, packing, scratch, GPU
// launch plans) is the backend's own business (host/backends/wasm/,
// host/backends/webgpu/).

import type { MemoryManager } from "../memory/manager.js";
import type { Features } from "./features.js";
import type { Kernels, KernelName } from "./abi.generated.js";

export type { Kernels, KernelName };

/** Synchronous access to a backend's memory: the wasm backend has it, the WebGPU one does not. */
export interface SyncMemory {
  f32(ptr: number, n: number): Float32Array;
  i32(ptr: number, n: number): Int32Array;
}

export interface Backend {
  /** "wasm" or "webgpu". */
  readonly name: "wasm" | "webgpu";
  /** The kernels, called with named arguments (docs/KERNELS.md). */
  readonly kernels: Kernels;
  /** Whether this backend runs `kernel` (ops may run a composite of other kernels where it does not). */
  supports(kernel: KernelName): boolean;
  /** Where tensors' bytes come from (offsets into linear memory or the GPU heap): alloc, free, copy. */
  readonly mm: MemoryManager;
  /** Views of memory read and written in place, or null where memory is not host-visible (WebGPU: use read()). */
  readonly hostMemory: SyncMemory | null;
  readonly summary: string;
  /** Kernel binary ("simd", "relaxed-threads", …) or "webgpu". */
  readonly variant: string;
  readonly threads: number;
  readonly features: Features;
  /** Copies `data` to byte offset `ptr`, ordered after every kernel called before. */
  write(ptr: number, data: Float32Array | Int32Array | Uint8Array): void;
  /** Reads `bytes` bytes at `ptr` once every kernel called before has run. */
  read(ptr: number, bytes: number): Promise<ArrayBuffer>;
  shutdown(): void;
}
