// Matrix-vector products for batch-1 decoding (kernel families gemm and quant;
// see docs/KERNELS.md for the ABI): y[m×n] = x[m×k]·Wᵀ (+ bias) with W [n, k]
// row-major (nn.Linear's layout) and m tiny (1..4 rows of x).
//
// Why not the GEMM: at m = 1 gemm_f32 packs all of W into 8-column panels
// (reads W, writes a copy, reads the copy) to feed a 4×8 tile that is 3/4
// padding: 7 GB/s at 1536×576 where a stream of W runs at memory speed. Here
// W is read once, in place, and every x row (in L1) is dotted with it.
//
// - Four W rows at a time, one v128 accumulator each, D = k in the lanes; one
//   4×4 shuffle transpose (reduce4) turns the 4 accumulators into the 4 outputs.
//   A block past the last row repeats row n − 1 (finite, never stored), so
//   every output runs the very same chain wherever its block starts: the bits
//   do not depend on how the host splits n over threads.
// - gemv_i8 (weight-only int8): W int8 [n, k] with one f32 scale per row and
//   group of `group` k (group 0: one per row). 16 weights are sign-extended to
//   4 f32x4 and multiplied with f32 x, so activations are not quantised; each
//   group's dot is scaled once, and groups add in order.
import { madd } from "./simd";

/** [Σa, Σb, Σc, Σd] from four accumulators: a 4×4 transpose folded into adds. */
// @ts-ignore: decorator
@inline function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 4, 1, 5), f32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 4, 1, 5), f32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 1, 4, 5), f32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** Stores the first cnt lanes of v at y (+= the old values with acc ≠ 0, + bias[0..cnt) when bias ≠ 0). */
// @ts-ignore: decorator
@inline function storeOut(y: usize, v: v128, cnt: i32, acc: i32, bias: usize): void {
  let r = v;
  if (bias != 0) {
    if (cnt == 4) r = f32x4.add(r, v128.load(bias));
    else {
      let b = f32x4.splat(0);
      b = f32x4.replace_lane(b, 0, load<f32>(bias));
      if (cnt > 1) b = f32x4.replace_lane(b, 1, load<f32>(bias, 4));
      if (cnt > 2) b = f32x4.replace_lane(b, 2, load<f32>(bias, 8));
      r = f32x4.add(r, b);
    }
  }
  if (cnt == 4) {
    if (acc != 0) r = f32x4.add(r, v128.load(y));
    v128.store(y, r);
    return;
  }
  const l0 = f32x4.extract_lane(r, 0), l1 = f32x4.extract_lane(r, 1), l2 = f32x4.extract_lane(r, 2);
  if (acc != 0) {
    store<f32>(y, load<f32>(y) + l0);
    if (cnt > 1) store<f32>(y, load<f32>(y, 4) + l1, 4);
    if (cnt > 2) store<f32>(y, load<f32>(y, 8) + l2, 8);
  } else {
    store<f32>(y, l0);
    if (cnt > 1) store<f32>(y, l1, 4);
    if (cnt > 2) store<f32>(y, l2, 8);
  }
}

/**
 * y[i, o] (row stride ldy) = Σ_k x[i, k]·w[o, k] (+ y with accumulate ≠ 0) + bias[o]
 * (bias 0: none), for i < m, o < n; x rows ldx floats apart, w rows ldw floats apart.
 */
export function gemv_f32(x: usize, w: usize, bias: usize, y: usize, m: i32, n: i32, k: i32, ldx: i32, ldw: i32, ldy: i32, accumulate: i32): void {
  if (n <= 0 || m <= 0) return;
  const ldw4 = <usize>ldw << 2;
  const end = <usize>k << 2;
  const end4 = <usize>(k & ~3) << 2;
  const last = w + <usize>(n - 1) * ldw4;
  for (let o = 0; o < n; o += 4) {
    const cnt = min(4, n - o);
    const w0 = w + <usize>o * ldw4;
    const w1 = cnt > 1 ? w0 + ldw4 : last;
    const w2 = cnt > 2 ? w1 + ldw4 : last;
    const w3 = cnt > 3 ? w2 + ldw4 : last;
    for (let i = 0; i < m; i++) {
      const xr = x + (<usize>i * <usize>ldx << 2);
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let d: usize = 0; d < end4; d += 16) {
        const xv = v128.load(xr + d);
        a0 = madd(v128.load(w0 + d), xv, a0);
        a1 = madd(v128.load(w1 + d), xv, a1);
        a2 = madd(v128.load(w2 + d), xv, a2);
        a3 = madd(v128.load(w3 + d), xv, a3);
      }
      let r = reduce4(a0, a1, a2, a3);
      if (end4 < end) {
        let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
        for (let d = end4; d < end; d += 4) {
          const xs = load<f32>(xr + d);
          t0 += xs * load<f32>(w0 + d); t1 += xs * load<f32>(w1 + d);
          t2 += xs * load<f32>(w2 + d); t3 += xs * load<f32>(w3 + d);
        }
        let t = f32x4.splat(t0);
        t = f32x4.replace_lane(t, 1, t1);
        t = f32x4.replace_lane(t, 2, t2);
        t = f32x4.replace_lane(t, 3, t3);
        r = f32x4.add(r, t);
      }
      storeOut(y + ((<usize>i * <usize>ldy + <usize>o) << 2), r, cnt, accumulate, bias != 0 ? bias + (<usize>o << 2) : 0);
    }
  }
}

/** Σ_{d < 16} x[d]·w[d] of 16 int8 weights at w into acc (4 lanes of partial sums). */
// @ts-ignore: decorator
@inline function dot16i8(wv: v128, x0: v128, x1: v128, x2: v128, x3: v128, acc: v128): v128 {
  const lo = i16x8.extend_low_i8x16_s(wv), hi = i16x8.extend_high_i8x16_s(wv);
  acc = madd(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), x0, acc);
  acc = madd(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), x1, acc);
  acc = madd(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), x2, acc);
  return madd(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), x3, acc);
}

/**
 * Weight-only int8: y[i, o] (row stride ldy) = Σ_g scales[o·G + g] · Σ_{k ∈ g} x[i, k]·W_q[o, k]
 * + bias[o] (bias 0: none), where W_q is int8 [n, k] row-major (k bytes a row),
 * x f32 [m, k], and the groups are runs of `group` k (G = ⌈k / group⌉; group 0:
 * one group, a scale per row).
 */
export function gemv_i8(x: usize, w: usize, scales: usize, bias: usize, y: usize, m: i32, n: i32, k: i32, group: i32, ldy: i32): void {
  if (n <= 0 || m <= 0) return;
  const gs = group > 0 ? group : max(k, 1);
  const G = (k + gs - 1) / gs;
  const ldw = <usize>k;
  const last = <usize>(n - 1);
  for (let o = 0; o < n; o += 4) {
    const cnt = min(4, n - o);
    const o1 = cnt > 1 ? <usize>o + 1 : last, o2 = cnt > 2 ? <usize>o + 2 : last, o3 = cnt > 3 ? <usize>o + 3 : last;
    const w0 = w + <usize>o * ldw, w1 = w + o1 * ldw, w2 = w + o2 * ldw, w3 = w + o3 * ldw;
    const s0 = scales + (<usize>o * <usize>G << 2), s1 = scales + (o1 * <usize>G << 2);
    const s2 = scales + (o2 * <usize>G << 2), s3 = scales + (o3 * <usize>G << 2);
    for (let i = 0; i < m; i++) {
      const xr = x + (<usize>i * <usize>k << 2);
      let tot = f32x4.splat(0);
      for (let g = 0; g < G; g++) {
        const kb = g * gs, ke = min(k, kb + gs);
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let d = kb;
        for (; d + 16 <= ke; d += 16) {
          const xp = xr + (<usize>d << 2);
          const x0 = v128.load(xp), x1 = v128.load(xp, 16), x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
          a0 = dot16i8(v128.load(w0 + <usize>d), x0, x1, x2, x3, a0);
          a1 = dot16i8(v128.load(w1 + <usize>d), x0, x1, x2, x3, a1);
          a2 = dot16i8(v128.load(w2 + <usize>d), x0, x1, x2, x3, a2);
          a3 = dot16i8(v128.load(w3 + <usize>d), x0, x1, x2, x3, a3);
        }
        let r = reduce4(a0, a1, a2, a3);
        if (d < ke) {
          let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
          for (; d < ke; d++) {
            const xs = load<f32>(xr + (<usize>d << 2));
            t0 += xs * <f32>load<i8>(w0 + <usize>d); t1 += xs * <f32>load<i8>(w1 + <usize>d);
            t2 += xs * <f32>load<i8>(w2 + <usize>d); t3 += xs * <f32>load<i8>(w3 + <usize>d);
          }
          let t = f32x4.splat(t0);
          t = f32x4.replace_lane(t, 1, t1);
          t = f32x4.replace_lane(t, 2, t2);
          t = f32x4.replace_lane(t, 3, t3);
          r = f32x4.add(r, t);
        }
        const gb = <usize>g << 2;
        let sc = f32x4.splat(load<f32>(s0 + gb));
        sc = f32x4.replace_lane(sc, 1, load<f32>(s1 + gb));
        sc = f32x4.replace_lane(sc, 2, load<f32>(s2 + gb));
        sc = f32x4.replace_lane(sc, 3, load<f32>(s3 + gb));
        tot = madd(r, sc, tot);
      }
      storeOut(y + ((<usize>i * <usize>ldy + <usize>o) << 2), tot, cnt, 0, bias != 0 ? bias + (<usize>o << 2) : 0);
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
