// What the generated twins (kernels.generated.ts) need of the WebGPU backend:
// a uniform slot to pack a kernel's arguments into, and a dispatch.
import type { GpuCaps, Grid } from "./plans.js";

export interface Launcher {
  /** What the device lets a twin use. */
  readonly caps: GpuCaps;
  /** The CPU copy of a small upload (a kernel's descriptor), for launches sized by it. */
  shadow(ptr: number, n: number): Int32Array;
  /** A byte offset as the element index the shaders take; refuses one that is not 4-aligned. */
  ptr(bytes: number, kernel: string, arg: string): number;
  /**
   * Records one dispatch of WGSL entry point `entry` over `grid` (nothing when it is
   * empty), its uniform slot filled by `pack` (u and f view the same words; o is the slot's first).
   * `constants`: values of the shader's `override` declarations (a pipeline per set).
   */
  run(entry: string, grid: Grid, pack: (u: Uint32Array, f: Float32Array, o: number) => void, constants?: Record<string, number>): void;
}
