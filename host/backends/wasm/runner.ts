// How the wasm backend runs one export over threads: the two shapes of work its
// kernel table (kernels.generated.ts) and schedules (schedules.ts) use.
import type { WasmExports } from "../abi.generated.js";

export type ExportName = keyof WasmExports;

export interface WasmRunner {
  /**
   * Calls `kernel` over [0, total) split into one range per thread (starts
   * aligned to `align`) when the work is worth it (`flops` per thread at least
   * the dispatch threshold), else once over the whole range. `args(start, end)`
   * builds each call's arguments.
   */
  split(kernel: ExportName, total: number, flops: number, args: (start: number, end: number) => number[], align?: number): void;
  /**
   * Runs a list of independent calls of one kernel, contiguous groups spread
   * over the threads in one dispatch (group i of splitRange(calls, threads)
   * goes to thread i); on the calling thread alone under the threshold.
   */
  parallel(kernel: ExportName, calls: number[][], flops?: number): void;
  /** Threads including the calling one. */
  readonly threads: number;
}
