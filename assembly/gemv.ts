// Matrix-vector products for batch-1 decoding (kernel families gemm and quant;
// see docs/KERNELS.md for the ABI): y[m×n] = x[m×k]·Wᵀ (+ bias) with W [n, k]
// row-major (nn.Linear's layout) and m tiny (1..4 rows of x).
//
// Why not the GEMM: at m = 1 gemm_f32 packs all of W into 8-column panels
// (reads W, writes a copy, reads the copy) to feed a 4×8 tile that is 3/4
// padding: 7 GB/s at 1536×576 where a stream of W runs at memory speed. Here
// W is read once, in place, and every x row (in L1) is dotted with it.
//
// - One row of W at a time, front to back, several accumulators along k: W is a
//   single sequential stream (4 rows side by side, 4 interleaved streams of 2 KB
//   each, ran 10 GB/s from DRAM where one stream reads 27 GB/s). Each output is
//   its own chain in a fixed order: the bits do not depend on how the host
//   splits n over threads.
// - gemv_i8 (weight-only int8): W int8 [n, k] with one f32 scale per row and
//   group of `group` k (group 0: one per row). x is rounded per row to 15 bits
//   (error ~1e-4 of max|x|, far below the weights' int8 steps) so that the
//   products are exact integer sums, one i32x4.dot_i16x8_s per 8 weights.
//   Measured (one thread, 49152×576, interleaved with a sum() over the same bytes
//   as the read-bandwidth reference): ~19 GB/s of int8 where sum reads ~22–28.
//   Tried and slower: two rows a pass sharing the activation loads (7 GB/s), and
//   the chunk loop in @inline helpers (3–8 GB/s): V8's code for them spills.
import { madd, hsum4 } from "./simd";

/**
 * y[i, o] (row stride ldy) = Σ_k x[i, k]·w[o, k] (+ y with accumulate ≠ 0) + bias[o]
 * (bias 0: none), for i < m, o < n; x rows ldx floats apart, w rows ldw floats apart.
 */
export function gemv_f32(x: usize, w: usize, bias: usize, y: usize, m: i32, n: i32, k: i32, ldx: i32, ldw: i32, ldy: i32, accumulate: i32): void {
  if (n <= 0 || m <= 0) return;
  const ldw4 = <usize>ldw << 2;
  const end = <usize>k << 2;
  const end4 = <usize>(k & ~3) << 2;
  const end16 = <usize>(k & ~15) << 2;
  for (let o = 0; o < n; o++) {
    const wr = w + <usize>o * ldw4;
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
    for (let i = 0; i < m; i++) {
      const xr = x + (<usize>i * <usize>ldx << 2);
      // one row of W at a time, read front to back: a single stream the hardware prefetcher
      // follows (4 rows side by side ran 10 GB/s from DRAM where one stream reads 27)
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let d: usize = 0;
      for (; d < end16; d += 64) {
        a0 = madd(v128.load(wr + d), v128.load(xr + d), a0);
        a1 = madd(v128.load(wr + d, 16), v128.load(xr + d, 16), a1);
        a2 = madd(v128.load(wr + d, 32), v128.load(xr + d, 32), a2);
        a3 = madd(v128.load(wr + d, 48), v128.load(xr + d, 48), a3);
      }
      for (; d < end4; d += 16) a0 = madd(v128.load(wr + d), v128.load(xr + d), a0);
      let s = hsum4(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
      for (; d < end; d += 4) s += load<f32>(wr + d) * load<f32>(xr + d);
      const yp = y + ((<usize>i * <usize>ldy + <usize>o) << 2);
      s += b;
      if (accumulate != 0) s += load<f32>(yp);
      store<f32>(yp, s);
    }
  }
}

/** Largest |x_q| of gemv_i8's activations: 15 bits, so 8 of them times int8 weights add up in i32 for 4096 k. */
const XQ_MAX: f32 = 16383;
/** k per i32 partial sum of gemv_i8 (then it goes to f32): |Σ| ≤ 4096/8 lanes·2·127·16383 < 2^31. */
const I8_CHUNK: i32 = 4096;

/** Bytes of gemv_i8's scratch: one row of k int16 activations. */
export function gemv_i8_scratch_bytes(k: i32): i32 {
  return ((2 * k + 15) & ~15) + 16;
}

/**
 * Weight-only int8: y[i, o] (row stride ldy) = sx_i · Σ_g scales[o·G + g] · Σ_{k ∈ g} x_q[i, k]·W_q[o, k]
 * + bias[o] (bias 0: none), where W_q is int8 [n, k] row-major (k bytes a row),
 * the groups are runs of `group` k (G = ⌈k / group⌉; group 0: one group, a scale
 * per row), and x f32 [m, k] is rounded per row to 15 bits, x ≈ x_q·sx with
 * sx = max|x_i|/16383 (an error far below the int8 weight's), so the products are
 * exact i32 sums: one i32x4.dot_i16x8_s per 8 weights, where converting the int8
 * weights to f32 cost 4 instructions per 4 weights (7 GB/s, compute-bound).
 * scratch: gemv_i8_scratch_bytes(k).
 */
export function gemv_i8(x: usize, w: usize, scales: usize, bias: usize, y: usize, m: i32, n: i32, k: i32, group: i32, ldy: i32, scratch: usize): void {
  if (n <= 0 || m <= 0) return;
  const gs = group > 0 ? group : max(k, 1);
  const G = (k + gs - 1) / gs;
  const xq = scratch;
  for (let i = 0; i < m; i++) {
    const xr = x + (<usize>i * <usize>k << 2);
    let amax: f32 = 0;
    for (let d = 0; d < k; d++) amax = max(amax, Mathf.abs(load<f32>(xr + (<usize>d << 2))));
    const sx: f32 = amax / XQ_MAX;
    const inv: f32 = amax > 0 ? XQ_MAX / amax : 0;
    for (let d = 0; d < k; d++) store<i16>(xq + (<usize>d << 1), <i16><i32>min(XQ_MAX, max(-XQ_MAX, nearest<f32>(load<f32>(xr + (<usize>d << 2)) * inv))));
    for (let o = 0; o < n; o++) {
      const wr = w + <usize>o * <usize>k;
      const sr = scales + (<usize>o * <usize>G << 2);
      let tot: f32 = 0;
      for (let g = 0; g < G; g++) {
        const ge = min(k, g * gs + gs);
        let part: f32 = 0;
        for (let cb = g * gs; cb < ge; cb += I8_CHUNK) {
          const ce = min(ge, cb + I8_CHUNK);
          let a0 = i32x4.splat(0), a1 = a0;
          let d = cb;
          for (; d + 16 <= ce; d += 16) {
            const wv = v128.load(wr + <usize>d);
            const xp = xq + (<usize>d << 1);
            a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(wv), v128.load(xp)));
            a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(wv), v128.load(xp, 16)));
          }
          const a = i32x4.add(a0, a1);
          let t = i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
          for (; d < ce; d++) t += <i32>load<i8>(wr + <usize>d) * <i32>load<i16>(xq + (<usize>d << 1));
          part += <f32>t;
        }
        tot += part * load<f32>(sr + (<usize>g << 2));
      }
      let r = tot * sx;
      if (bias != 0) r += load<f32>(bias + (<usize>o << 2));
      store<f32>(y + ((<usize>i * <usize>ldy + <usize>o) << 2), r);
    }
  }
}

/**
 * Quantises w [n, k] f32 to weight-only int8 for gemv_i8: per row and group of
 * `group` k (0: the whole row), scale = max|w|/127 and W_q = round(w/scale) in
 * [−127, 127] (a group of zeros: scale 0, W_q 0). q: n·k bytes; scales [n, G].
 */
export function quantize_weights_i8_rows(w: usize, q: usize, scales: usize, n: i32, k: i32, group: i32): void {
  const gs = group > 0 ? group : max(k, 1);
  const G = (k + gs - 1) / gs;
  for (let o = 0; o < n; o++) {
    const wr = w + (<usize>o * <usize>k << 2);
    const qr = q + <usize>o * <usize>k;
    for (let g = 0; g < G; g++) {
      const kb = g * gs, ke = min(k, kb + gs);
      let amax: f32 = 0;
      for (let d = kb; d < ke; d++) amax = max(amax, Mathf.abs(load<f32>(wr + (<usize>d << 2))));
      const scale: f32 = amax / 127;
      const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
      for (let d = kb; d < ke; d++) {
        const v = min(<f32>127, max(<f32>-127, nearest<f32>(load<f32>(wr + (<usize>d << 2)) * inv)));
        store<i8>(qr + <usize>d, <i8><i32>v);
      }
      store<f32>(scales + ((<usize>o * <usize>G + <usize>g) << 2), scale);
    }
  }
}
