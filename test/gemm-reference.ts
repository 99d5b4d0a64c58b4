// What the GEMM kernel tests share: the flag bits, matrices placed at
// unaligned offsets with padded leading dimensions, and op(A)·op(B) (+ C0)
// in float64.
import { randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";

export const TRANS_A = 1, TRANS_B = 2, ACCUMULATE = 4;

export function flagName(flags: number): string {
  return `${flags & TRANS_A ? "T" : "N"}${flags & TRANS_B ? "T" : "N"}${flags & ACCUMULATE ? "+=" : "="}`;
}

/** A matrix placed in the box: `rows`×`cols` stored with leading dimension `ld`, at a non-16-aligned offset. */
export interface Placed { ptr: number; ld: number; data: Float32Array }

export function place(box: KernelBox, rows: number, cols: number, seed: number, pad: number, shift: number): Placed {
  const ld = cols + pad;
  const data = randomF32(rows * ld, seed);
  const ptr = box.alloc((rows * ld + shift) * 4 + 16) + shift * 4;
  box.f32(ptr, rows * ld).set(data);
  return { ptr, ld, data };
}

/** op(A)·op(B) (+ C0) in float64. */
export function reference(A: Placed, B: Placed, C0: Placed, m: number, n: number, k: number, flags: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = flags & ACCUMULATE ? C0.data[i * C0.ld + j] : 0;
      for (let kk = 0; kk < k; kk++) {
        const a = flags & TRANS_A ? A.data[kk * A.ld + i] : A.data[i * A.ld + kk];
        const b = flags & TRANS_B ? B.data[j * B.ld + kk] : B.data[kk * B.ld + j];
        s += a * b;
      }
      out[i * n + j] = s;
    }
  }
  return out;
}
