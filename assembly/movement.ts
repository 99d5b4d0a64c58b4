// Kernel family: elementwise, data movement and BLAS-1 updates. See docs/KERNELS.md for the ABI.
//
// fill, axpy, scale and the casts map element i to element i, as the maps in
// elementwise.ts do, so the host splits them into index ranges across threads
// with the same bits (the scalar tails run the same madd as the 4-wide bodies);
// transpose moves floats and computes nothing.
import { madd, fillRow } from "./simd";

/** y += alpha·x (one madd per element: fused in the relaxed binary). */
export function axpy_f32(x: usize, y: usize, n: i32, alpha: f32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const av = f32x4.splat(alpha);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, madd(v128.load(x + i), av, v128.load(y + i)));
  for (; i < nb; i += 4) {
    store<f32>(y + i, f32x4.extract_lane(madd(f32x4.splat(load<f32>(x + i)), av, f32x4.splat(load<f32>(y + i))), 0));
  }
}

/** y = alpha·x. */
export function scale_f32(x: usize, y: usize, n: i32, alpha: f32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const av = f32x4.splat(alpha);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, f32x4.mul(v128.load(x + i), av));
  for (; i < nb; i += 4) store<f32>(y + i, load<f32>(x + i) * alpha);
}

/** y[0..n) = value. */
export function fill_f32(y: usize, n: i32, value: f32): void {
  fillRow(y, n, value);
}

/** Tile edge (elements) of the blocked 2-D transpose: 32×32 floats = 4 KB per side. */
const TB = 32;

/** y[j·lda + i] = x[i·ldx + j] for a 4×4 block, via shuffles. */
// @ts-ignore: decorator
@inline function transpose4x4(x: usize, ldx: usize, y: usize, ldy: usize): void {
  const r0 = v128.load(x);
  const r1 = v128.load(x + ldx);
  const r2 = v128.load(x + 2 * ldx);
  const r3 = v128.load(x + 3 * ldx);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(y, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(y + ldy, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(y + 2 * ldy, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(y + 3 * ldy, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/** One [A, B] → [B, A] matrix of floats, tiled TB×TB with 4×4 SIMD blocks inside. */
function transpose2d(x: usize, y: usize, A: i32, B: i32): void {
  const ldx = <usize>B << 2;
  const ldy = <usize>A << 2;
  for (let i0 = 0; i0 < A; i0 += TB) {
    const i1 = min(A, i0 + TB);
    const i4 = i0 + ((i1 - i0) & ~3);
    for (let j0 = 0; j0 < B; j0 += TB) {
      const j1 = min(B, j0 + TB);
      const j4 = j0 + ((j1 - j0) & ~3);
      for (let i = i0; i < i4; i += 4) {
        for (let j = j0; j < j4; j += 4) {
          transpose4x4(x + (<usize>i * B + j << 2), ldx, y + (<usize>j * A + i << 2), ldy);
        }
        for (let j = j4; j < j1; j++) {
          for (let ii = i; ii < i + 4; ii++) {
            store<f32>(y + (<usize>j * A + ii << 2), load<f32>(x + (<usize>ii * B + j << 2)));
          }
        }
      }
      for (let i = i4; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          store<f32>(y + (<usize>j * A + i << 2), load<f32>(x + (<usize>i * B + j << 2)));
        }
      }
    }
  }
}

/** Copies n floats (SIMD body, scalar tail). */
// @ts-ignore: decorator
@inline function copyRow(x: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, v128.load(x + i));
  for (; i < nb; i += 4) store<f32>(y + i, load<f32>(x + i));
}

/** x [outer, a, b, inner] → y [outer, b, a, inner]. x and y must not overlap. */
export function transpose_f32(x: usize, y: usize, outer: i32, a: i32, b: i32, inner: i32): void {
  if (outer <= 0 || a <= 0 || b <= 0 || inner <= 0) return;
  const plane = <usize>a * <usize>b * <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * plane;
    const yo = y + <usize>o * plane;
    if (inner == 1) {
      transpose2d(xo, yo, a, b);
    } else {
      const rowBytes = <usize>inner << 2;
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < b; j++) {
          copyRow(xo + (<usize>i * b + j) * rowBytes, yo + (<usize>j * a + i) * rowBytes, inner);
        }
      }
    }
  }
}

/**
 * y = the 32-bit words of x viewed through strides, contiguous: desc = i32[2·rank],
 * the shape then x's strides (elements, any sign). Words move as integers, so
 * int32 tensors and NaN payloads come through bit for bit.
 */
export function gather_b32(x: usize, y: usize, rank: i32, desc: usize): void {
  let total: i64 = 1;
  for (let d = 0; d < rank; d++) total *= <i64>max(load<i32>(desc + (<usize>d << 2)), 0);
  if (total == 0) return;
  if (rank == 0) {
    store<u32>(y, load<u32>(x));
    return;
  }
  // the innermost axis runs as a loop; the outer index advances like an odometer
  const last = rank - 1;
  const len = load<i32>(desc + (<usize>last << 2));
  const st = <isize>load<i32>(desc + (<usize>(rank + last) << 2)) << 2;
  const rows = <i32>(total / <i64>len);
  let dst = y;
  for (let r = 0; r < rows; r++) {
    let off: isize = 0;
    let q = r;
    for (let d = last - 1; d >= 0; d--) {
      const sz = load<i32>(desc + (<usize>d << 2));
      off += <isize>(q % sz) * <isize>load<i32>(desc + (<usize>(rank + d) << 2));
      q /= sz;
    }
    let src = <isize>x + (off << 2);
    if (st == 4) {
      memory.copy(dst, <usize>src, <usize>len << 2); // a contiguous run (a permute that keeps the last axis)
      dst += <usize>len << 2;
      continue;
    }
    for (let i = 0; i < len; i++) {
      store<u32>(dst, load<u32>(<usize>src));
      dst += 4;
      src += st;
    }
  }
}

/** int32 → f32 (round to nearest). */
export function cast_i32_f32(x: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, f32x4.convert_i32x4_s(v128.load(x + i)));
  for (; i < nb; i += 4) store<f32>(y + i, <f32>load<i32>(x + i));
}

/** f32 → int32, truncating toward zero (saturating; NaN → 0). */
export function cast_f32_i32(x: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, i32x4.trunc_sat_f32x4_s(v128.load(x + i)));
  for (; i < nb; i += 4) store<i32>(y + i, i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(f32x4.splat(load<f32>(x + i))), 0));
}
