// Small helpers every op file uses: output allocation, axis handling,
// broadcasting rules, and reducing a broadcast gradient back to its shape.

import { backend, type Backend } from "../engine.js";
import { Tensor, sizeOf, type Shape, type DType } from "../tensor.js";

export { backend, Tensor, sizeOf };
export type { Shape, DType };

/** A fresh temporary output tensor. */
export function out(shape: Shape, dtype: DType = "float32", what = "op"): Tensor {
  return Tensor.empty(shape, dtype, what, "temp");
}

/** Normalises a possibly negative axis; errors name the op. */
export function axis(dim: number, rank: number, op: string): number {
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(rank, 1)) {
    throw new Error(`${op}: dim ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return d;
}

export function shapeStr(s: Shape): string {
  return `[${s.join(",")}]`;
}

export function requireFloat(t: Tensor, op: string): void {
  if (t.dtype !== "float32") throw new Error(`${op}: expected a float32 tensor, got ${t.dtype} of shape ${shapeStr(t.shape)}`);
}

/** The NumPy broadcast of two shapes, or a clear error. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const outShape: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
    }
    outShape.push(da === 1 ? db : da);
  }
  return outShape;
}

/** Row-major element strides of `shape` seen from `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const n = outShape.length;
  const st = new Array(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = n - shape.length + i;
    st[oi] = shape[i] === 1 && outShape[oi] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}

/** Views `shape` as [outer, len, inner] around `dim`. */
export function around(shape: Shape, dim: number): [number, number, number] {
  return [sizeOf(shape.slice(0, dim)), shape[dim], sizeOf(shape.slice(dim + 1))];
}

/**
 * Whether the running backend is the relaxed-SIMD wasm binary, whose fused
 * madd leaves registers for the 5-row tiles over packed operands
 * (gemm_packed_pa_f32, conv2d_direct_pw_f32); on the plain SIMD binary the
 * mul+add temporaries make those tiles spill and run slower than 4-row ones.
 * @example if (fusedMaddWasm(backend())) K.gemm_packed_pa_f32(...);
 */
export function fusedMaddWasm(be: Backend): boolean {
  return be.name === "wasm" && be.variant.startsWith("relaxed");
}

/** Scratch bytes for one kernel call (packed panels, descriptors), from the current backend's one reused block. */
export function scratch(bytes: number): number {
  return backend().mm.scratch(bytes);
}

/** Writes int32 values into a small scratch region at byte offset `at` within scratch; returns its pointer. */
export function writeI32(values: number[], at = 0): number {
  const p = scratch(at + values.length * 4 + 64) + at;
  backend().write(p, Int32Array.from(values)); // on WebGPU ordered with the work recorded before
  return p;
}
