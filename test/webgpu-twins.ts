// What the WebGPU twin tests share: the same data placed in wasm memory and in
// the GPU heap, and a GPU result read back and compared with its wasm twin's.
import { assertClose } from "./harness.js";
import type { KernelBox } from "./harness.js";
import type { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import type { KernelName } from "../host/backends/abi.generated.js";
import { EXPORT_ARGS } from "../host/backends/abi-tables.generated.js";

/** The same data in both memories (each `shift` floats past a fresh block): returns [wasm ptr, gpu ptr]. */
export function putBoth(box: KernelBox, gpu: WebGpuBackend, data: Float32Array | Int32Array, shift = 0): [number, number] {
  const bytes = (data.length + shift) * 4 + 16;
  const w = box.alloc(bytes) + shift * 4;
  (data instanceof Int32Array ? box.i32(w, data.length) : box.f32(w, data.length)).set(data as any);
  const g = gpu.mm.pool.alloc(bytes) + shift * 4;
  gpu.write(g, data);
  return [w, g];
}

/** Reads n floats at GPU offset g once its work ran, and compares them with the wasm twin's at w. */
export async function compareTwins(box: KernelBox, gpu: WebGpuBackend, g: number, w: number, n: number, what: string,
                                   tol = { rtol: 2e-5, atol: 2e-6 }): Promise<void> {
  assertClose(new Float32Array(await gpu.read(g, n * 4)), box.f32(w, n), { ...tol, what });
}

/**
 * Calls a kernel's WebGPU twin with the arguments its wasm export takes, in the
 * same order (a scratch pointer the GPU has no use for may be given or left out):
 * the twin tests pass both backends the very same list.
 */
export function gpuCall(gpu: WebGpuBackend, name: KernelName, ...args: number[]): void {
  const spec = EXPORT_ARGS[name];
  const named = args.length === spec.length ? spec : spec.filter(([, t]) => t !== "scratch");
  if (args.length !== named.length) throw new Error(`gpuCall ${name}: ${args.length} arguments for (${named.map(([n]) => n).join(", ")})`);
  const obj: Record<string, number> = {};
  named.forEach(([n, t], i) => { if (t !== "scratch") obj[n] = args[i]; });
  (gpu.kernels[name] as unknown as (a: Record<string, number>) => void)(obj);
}
