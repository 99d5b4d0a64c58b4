// Kernel family: quant (int8 inference). See docs/KERNELS.md for the ABI.
//
// y[m×n] = dequant(Σ_k A_q[m,k]·W_q[n,k]) + bias, with i32 sums:
//   - weights: int8 in [−127, 127], one symmetric scale per output channel,
//     packed once (quantize_weights_i8) into 8-channel panels of 4-k groups:
//       packed[(p·K4 + g)·32 + j·4 + t] = W_q[8p + j, 4g + t]   (0 past n or k)
//     with K4 = ⌈k/4⌉, plus wsum[o] = Σ_k W_q[o, k];
//   - activations: a dynamic per-row scale and zero point, as unsigned 7-bit
//     values in [0, 127] (quantize_rows_u7): x ≈ (q − zero)·scale, stored in
//     groups of 4 rows, 4 k of each row side by side:
//       q[(i >> 2)·4·lda + g·16 + (i & 3)·4 + t] = A_q[i, 4g + t]   (lda = 4·K4; 0 past k and m)
//     so the micro-kernel reads a group with one pointer and immediate offsets. Seven bits,
//     not eight, because relaxed SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s is
//     deterministic (the same on every platform) only when its second operand
//     is in [0, 127]; every binary and the WGSL twin use this one scheme, so
//     their i32 sums are identical;
//   - Σ_k W_q·(A_q − zero) = Σ_k W_q·A_q − zero·wsum (the correction in the epilogue);
//   - epilogue, f32, no fused multiply-add: y = (f32(acc − zero·wsum)·sa)·sw + bias,
//     then max(y, 0) with RELU.
// The micro-kernel: one v128 of packed weights holds 4 channels × 4 k; one
// load32_splat of A holds 4 k of one row. On the relaxed binary
// relaxed_dot_i8x16_i7x16_add_s multiplies and sums those 4 k into each
// channel's i32 lane (4×8 tiles: 8 accumulators, 2 weight vectors, 1 splat);
// on the plain SIMD binary both are sign-extended to i16 and i32x4.dot_i16x8_s
// sums pairs of k (2×8 tiles: 8 accumulators of pair sums, folded at the end).

import { loadN, storeN } from "./simd";

/** Rows of A per block: MC rows of quantised A (about 128 KB) stay in L2 across all weight panels. */
const A_BLOCK_BYTES: i32 = 128 * 1024;

/** Bytes per packed weight: int8 on the relaxed binary, int8 sign-extended to int16 on plain SIMD (its micro-kernel multiplies i16 pairs). */
const W_BYTES: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;

/** Bytes of quantize_weights_i8's packed panels for n channels of k: ⌈n/8⌉·8·⌈k/4⌉·4 weights. */
export function quant_packed_w_bytes(n: i32, k: i32): i32 {
  return ((n + 7) >> 3) * 8 * (((k + 3) >> 2) << 2) * W_BYTES;
}

/**
 * Quantises each output channel (row) of w [n×k] f32 to int8 with scale
 * max|w[o]|/127 and writes the packed panels (quant_packed_w_bytes(n, k)), the
 * scales [n] and wsum[o] = Σ_k W_q[o, k] [n].
 */
export function quantize_weights_i8(w: usize, packed: usize, scales: usize, wsum: usize, n: i32, k: i32): void {
  const K4 = (k + 3) >> 2;
  const np = (n + 7) >> 3;
  memory.fill(packed, 0, <usize>quant_packed_w_bytes(n, k));
  for (let o = 0; o < n; o++) {
    const row = w + ((<usize>o * k) << 2);
    let mx: f32 = 0;
    for (let i = 0; i < k; i++) mx = max(mx, abs(load<f32>(row + (<usize>i << 2))));
    const s: f32 = mx > 0 ? mx / 127 : 1;
    store<f32>(scales + (<usize>o << 2), s);
    const base = packed + (<usize>(o >> 3) * K4 * 32 + <usize>(o & 7) * 4) * W_BYTES;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const q = i32x4.extract_lane(i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.splat(load<f32>(row + (<usize>i << 2)) / s))),
        i32x4.splat(-127)), i32x4.splat(127)), 0);
      sum += q;
      const at = base + (<usize>(i >> 2) * 32 + <usize>(i & 3)) * W_BYTES;
      if (W_BYTES == 1) store<i8>(at, <i8>q);
      else store<i16>(at, <i16>q);
    }
    store<i32>(wsum + (<usize>o << 2), sum);
  }
}

/** 1.5·2^23: adding it rounds a float of magnitude below 2^22 to an integer (half to even, as f32.nearest) held in its low mantissa bits. */
const ROUNDER: f32 = 12582912.0;

/**
 * round(x·inv) + zero, clamped to [0, 127], on four lanes. |x·inv| ≤ 127 here
 * (x lies in the row's range), so the rounding is the ROUNDER addition and
 * a subtraction of its bits: three cheap instructions where nearest and
 * trunc_sat take a dozen on x64 (trunc_sat's NaN and overflow fix-ups).
 */
// @ts-ignore: decorator
@inline function quant4(x: v128, inv: v128, zero: v128): v128 {
  const r = f32x4.add(f32x4.mul(x, inv), f32x4.splat(ROUNDER));
  const q = i32x4.add(i32x4.sub(r, f32x4.splat(ROUNDER)), zero);
  return i32x4.min_s(i32x4.max_s(q, i32x4.splat(0)), i32x4.splat(127));
}

/**
 * A row's parameters from its range [lo, hi] (0 included): scale = (hi − lo)/127,
 * inv = 127/(hi − lo), zero = round(−lo·inv) in [0, 127]. A row of zeros gets
 * scale 0 and inv 0 (so every value quantises to the zero point, 0); a NaN in
 * the row makes its scale NaN, and so its outputs.
 */
// @ts-ignore: decorator
@inline function scaleOf(lo: v128, hi: v128): v128 { return f32x4.div(f32x4.sub(hi, lo), f32x4.splat(127)); }
// @ts-ignore: decorator
@inline function invOf(lo: v128, hi: v128): v128 {
  const range = f32x4.sub(hi, lo);
  return v128.and(f32x4.div(f32x4.splat(127), range), f32x4.gt(range, f32x4.splat(0)));
}
// @ts-ignore: decorator
@inline function zeroOf(lo: v128, inv: v128): v128 {
  return quant4(f32x4.neg(lo), inv, i32x4.splat(0));
}

/** All-ones in the first `cnt` lanes (1 ≤ cnt ≤ 3), zeros after. */
// @ts-ignore: decorator
@inline function tailMask(cnt: i32): v128 {
  return i32x4.gt_s(i32x4.splat(cnt), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
}

/** Bytes of quantize_rows_u7's output for m rows of k: groups of 4 rows of ⌈k/4⌉·4 bytes. */
export function quant_rows_bytes(m: i32, k: i32): i32 {
  return ((m + 3) >> 2) * 4 * (((k + 3) >> 2) << 2);
}

/**
 * Quantises m rows of k floats to unsigned 7-bit with a scale and zero point
 * per row: q (quant_rows_bytes(m, k), the 4-row group layout above, zero bytes
 * past k and m), scale [m] f32, zero [m] i32. Element (i, j) is x[i·ldx + j],
 * or x[j·ldx + i] with trans (the rows are columns: an im2col matrix's output
 * positions). Groups of 4 rows are independent: threads split m at multiples of 4.
 */
export function quantize_rows_u7(x: usize, q: usize, scale: usize, zero: usize, m: i32, k: i32, ldx: i32, trans: i32): void {
  const lda = <usize>((k + 3) >> 2) << 2;
  const ldx4 = <usize>ldx << 2;
  // zero bytes: the padding rows of a last, partial group, and each group's k tail (written below where k % 4 ≠ 0 for real rows)
  if (m & 3) memory.fill(q + <usize>(m >> 2) * 4 * lda, 0, 4 * lda);
  if (!trans) {
    const k16 = k & ~15;
    const k4 = k & ~3;
    for (let i = 0; i < m; i++) {
      const row = x + <usize>i * ldx4;
      let lo = f32x4.splat(0), hi = f32x4.splat(0);
      let j = 0;
      for (; j < k4; j += 4) { const v = v128.load(row + (<usize>j << 2)); lo = f32x4.pmin(lo, v); hi = f32x4.pmax(hi, v); }
      if (j < k) { const v = loadN(row + (<usize>j << 2), k - j); lo = f32x4.pmin(lo, v); hi = f32x4.pmax(hi, v); }
      const l = min(min(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
      const h = max(max(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
      const lov = f32x4.splat(l), hiv = f32x4.splat(h);
      const inv = invOf(lov, hiv), z = zeroOf(lov, inv);
      store<f32>(scale + (<usize>i << 2), f32x4.extract_lane(scaleOf(lov, hiv), 0));
      store<i32>(zero + (<usize>i << 2), i32x4.extract_lane(z, 0));
      let dst = q + <usize>(i >> 2) * 4 * lda + <usize>(i & 3) * 4;
      j = 0;
      for (; j < k16; j += 16) {
        // 16 values narrowed together, then 4 bytes into each of 4 groups' blocks
        const p = row + (<usize>j << 2);
        const v0 = quant4(v128.load(p), inv, z), v1 = quant4(v128.load(p, 16), inv, z);
        const v2 = quant4(v128.load(p, 32), inv, z), v3 = quant4(v128.load(p, 48), inv, z);
        const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(v0, v1), i16x8.narrow_i32x4_s(v2, v3));
        v128.store32_lane(dst, b, 0); v128.store32_lane(dst, b, 1, 16); v128.store32_lane(dst, b, 2, 32); v128.store32_lane(dst, b, 3, 48);
        dst += 64;
      }
      for (; j < k4; j += 4) {
        const v = quant4(v128.load(row + (<usize>j << 2)), inv, z);
        v128.store32_lane(dst, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(v, v), v), 0);
        dst += 16;
      }
      if (j < k) {
        // the tail's lanes past k are 0 (W is 0 there, so any value would do)
        const v = v128.and(quant4(loadN(row + (<usize>j << 2), k - j), inv, z), tailMask(k - j));
        v128.store32_lane(dst, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(v, v), v), 0);
      }
    }
    return;
  }
  if (k & 3) for (let g = 0, ng = (m + 3) >> 2; g < ng; g++) v128.store(q + <usize>g * 4 * lda + lda * 4 - 16, i32x4.splat(0));
  // trans: the four rows of a group are four adjacent floats of every column;
  // their ranges and values run in the four lanes
  for (let i0 = 0; i0 < m; i0 += 4) {
    const cnt = min(4, m - i0);
    let lo = f32x4.splat(0), hi = f32x4.splat(0);
    const col = x + (<usize>i0 << 2);
    for (let j = 0; j < k; j++) {
      const v = loadN(col + <usize>j * ldx4, cnt);
      lo = f32x4.pmin(lo, v); hi = f32x4.pmax(hi, v);
    }
    const inv = invOf(lo, hi), z = zeroOf(lo, inv);
    storeN(scale + (<usize>i0 << 2), scaleOf(lo, hi), cnt);
    storeN(zero + (<usize>i0 << 2), z, cnt);
    const dst = q + <usize>i0 * lda;
    let j = 0;
    if (cnt == 4) {
      // 4 k × 4 rows: narrowed to 16 bytes k-major, then one byte shuffle to the block's row-major order
      for (; j + 4 <= k; j += 4) {
        const p = col + <usize>j * ldx4;
        const v0 = quant4(v128.load(p), inv, z), v1 = quant4(v128.load(p + ldx4), inv, z);
        const v2 = quant4(v128.load(p + 2 * ldx4), inv, z), v3 = quant4(v128.load(p + 3 * ldx4), inv, z);
        const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(v0, v1), i16x8.narrow_i32x4_s(v2, v3));
        v128.store(dst + (<usize>j << 2), i8x16.shuffle(b, b, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
      }
    }
    for (; j < k; j++) {
      // 4 rows' bytes of one k: 4 apart in the group's 16-byte block of 4 k
      const v = quant4(loadN(col + <usize>j * ldx4, cnt), inv, z);
      const d = dst + (<usize>(j >> 2) << 4) + <usize>(j & 3);
      store<u8>(d, <u8>i32x4.extract_lane(v, 0));
      if (cnt > 1) store<u8>(d, <u8>i32x4.extract_lane(v, 1), 4);
      if (cnt > 2) store<u8>(d, <u8>i32x4.extract_lane(v, 2), 8);
      if (cnt > 3) store<u8>(d, <u8>i32x4.extract_lane(v, 3), 12);
    }
  }
}

/** One row's four outputs: (f32(acc − zero·wsum)·sa)·sw + bias, ReLU'd when asked, `cols` of them stored. */
// @ts-ignore: decorator
@inline function epilogue(acc: v128, zero: v128, sa: v128, wsum: v128, sw: v128, bias: v128, relu: bool, dst: usize, cols: i32): void {
  const v = f32x4.convert_i32x4_s(i32x4.sub(acc, i32x4.mul(zero, wsum)));
  let r = f32x4.add(f32x4.mul(f32x4.mul(v, sa), sw), bias);
  if (relu) r = f32x4.max(r, f32x4.splat(0));
  storeN(dst, r, cols);
}

/** The pair sums of dot_i16x8_s for channels (0, 1) in lo and (2, 3) in hi, folded to one sum per channel. */
// @ts-ignore: decorator
@inline function foldPairs(lo: v128, hi: v128): v128 {
  return i32x4.add(i32x4.shuffle(lo, hi, 0, 2, 4, 6), i32x4.shuffle(lo, hi, 1, 3, 5, 7));
}

/**
 * acc + Σ of 4 products per i32 lane (relaxed binary). Written as the i16 pair
 * dot (one vpmaddubsw on x64), then dot_i16x8_s with a ones vector the caller
 * keeps in a register: V8 11's own lowering of relaxed_dot_i8x16_i7x16_add_s
 * rebuilds that constant (2 more instructions) at every call.
 */
// @ts-ignore: decorator
@inline function dot4add(w: v128, a: v128, acc: v128, ones: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a), ones));
}

/**
 * One group of 4 rows × one 8-channel panel: the k loop, then the epilogue of
 * the first `rows` rows. a: the group's quantised block; wp: the panel; per-row
 * sa, za; per-channel sw, wsum, bias (0: none); cols ≤ 8 outputs per row
 * stored at y (row stride ldy4 bytes). Relaxed binary: one 4×8 tile
 * (8 accumulators, 2 weight vectors, 1 splat, the ones); plain SIMD: two 2×8
 * tiles of pair sums (8 accumulators each).
 */
// @ts-ignore: decorator
@inline function tile(a: usize, wp: usize, K4: i32, sa: usize, za: usize, sw: usize, wsum: usize, bias: usize,
                      y: usize, ldy4: usize, rows: i32, cols: i32, relu: bool): void {
  // per-channel parameters of the panel (partial loads on the last one: those arrays end at n)
  const sw0 = loadN(sw, cols), sw1 = loadN(sw + 16, cols - 4);
  const ws0 = loadN(wsum, cols), ws1 = loadN(wsum + 16, cols - 4);
  const b0 = bias ? loadN(bias, cols) : f32x4.splat(0), b1 = bias ? loadN(bias + 16, cols - 4) : f32x4.splat(0);
  const end = a + (<usize>K4 << 4);
  if (ASC_FEATURE_RELAXED_SIMD) {
    const ones = i16x8.splat(1);
    let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
    let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
    let pa = a, pw = wp;
    while (pa < end) {
      const w0 = v128.load(pw), w1 = v128.load(pw, 16);
      let av = v128.load32_splat(pa);
      c00 = dot4add(w0, av, c00, ones); c01 = dot4add(w1, av, c01, ones);
      av = v128.load32_splat(pa, 4);
      c10 = dot4add(w0, av, c10, ones); c11 = dot4add(w1, av, c11, ones);
      av = v128.load32_splat(pa, 8);
      c20 = dot4add(w0, av, c20, ones); c21 = dot4add(w1, av, c21, ones);
      av = v128.load32_splat(pa, 12);
      c30 = dot4add(w0, av, c30, ones); c31 = dot4add(w1, av, c31, ones);
      pa += 16; pw += 32;
    }
    rows2(c00, c01, c10, c11, sa, za, sw0, sw1, ws0, ws1, b0, b1, relu, y, ldy4, cols, rows);
    if (rows > 2) rows2(c20, c21, c30, c31, sa + 8, za + 8, sw0, sw1, ws0, ws1, b0, b1, relu, y + 2 * ldy4, ldy4, cols, rows - 2);
    return;
  }
  // plain SIMD: 4 k of a row sign-extended to i16 twice ([a0 a1 a2 a3 a0 a1 a2 a3]); the
  // panel's i16 weights come 2 channels × 4 k per vector (channels 0–1, 2–3, 4–5, 6–7)
  for (let half = 0; half < 2; half++) {
    if (half * 2 >= rows) break;
    let c0a = i32x4.splat(0), c0b = i32x4.splat(0), c0c = i32x4.splat(0), c0d = i32x4.splat(0);
    let c1a = i32x4.splat(0), c1b = i32x4.splat(0), c1c = i32x4.splat(0), c1d = i32x4.splat(0);
    let pa = a + <usize>half * 8, pw = wp;
    const e = end + <usize>half * 8;
    while (pa < e) {
      const a0 = i16x8.extend_low_i8x16_s(v128.load32_splat(pa));
      const a1 = i16x8.extend_low_i8x16_s(v128.load32_splat(pa, 4));
      let wv = v128.load(pw);
      c0a = i32x4.add(c0a, i32x4.dot_i16x8_s(wv, a0)); c1a = i32x4.add(c1a, i32x4.dot_i16x8_s(wv, a1));
      wv = v128.load(pw, 16);
      c0b = i32x4.add(c0b, i32x4.dot_i16x8_s(wv, a0)); c1b = i32x4.add(c1b, i32x4.dot_i16x8_s(wv, a1));
      wv = v128.load(pw, 32);
      c0c = i32x4.add(c0c, i32x4.dot_i16x8_s(wv, a0)); c1c = i32x4.add(c1c, i32x4.dot_i16x8_s(wv, a1));
      wv = v128.load(pw, 48);
      c0d = i32x4.add(c0d, i32x4.dot_i16x8_s(wv, a0)); c1d = i32x4.add(c1d, i32x4.dot_i16x8_s(wv, a1));
      pa += 16; pw += 64;
    }
    const h = <usize>half * 8;
    rows2(foldPairs(c0a, c0b), foldPairs(c0c, c0d), foldPairs(c1a, c1b), foldPairs(c1c, c1d),
      sa + h, za + h, sw0, sw1, ws0, ws1, b0, b1, relu, y + <usize>half * 2 * ldy4, ldy4, cols, rows - half * 2);
  }
}

/** The epilogue of two rows (channels 0–3 in x0, 4–7 in x1 of each); only the first when rows is 1. */
// @ts-ignore: decorator
@inline function rows2(r00: v128, r01: v128, r10: v128, r11: v128, sa: usize, za: usize,
                       sw0: v128, sw1: v128, ws0: v128, ws1: v128, b0: v128, b1: v128, relu: bool, y: usize, ldy4: usize, cols: i32, rows: i32): void {
  let z = i32x4.splat(load<i32>(za)), s = f32x4.splat(load<f32>(sa));
  epilogue(r00, z, s, ws0, sw0, b0, relu, y, cols);
  epilogue(r01, z, s, ws1, sw1, b1, relu, y + 16, cols - 4);
  if (rows < 2) return;
  z = i32x4.splat(load<i32>(za, 4)); s = f32x4.splat(load<f32>(sa, 4));
  epilogue(r10, z, s, ws0, sw0, b0, relu, y + ldy4, cols);
  epilogue(r11, z, s, ws1, sw1, b1, relu, y + ldy4 + 16, cols - 4);
}

/**
 * y[i, o] (row stride ldy floats) for i < m, o < n: the int8 product of
 * quantize_rows_u7's a (sa, za) and quantize_weights_i8's packed panels (sw,
 * wsum), bias [n] added (0: none), ReLU with relu ≠ 0. Groups of 4 rows are
 * independent, and so are panels: a call on rows [4r, r′) or on the panels
 * from o = 8p on (a, sa, za, y or w, sw, wsum, bias, y offset to them) writes the same bits.
 */
export function gemm_i8(a: usize, sa: usize, za: usize, w: usize, sw: usize, wsum: usize, bias: usize, y: usize,
                        m: i32, n: i32, k: i32, ldy: i32, relu: i32): void {
  if (m <= 0 || n <= 0) return;
  const K4 = (k + 3) >> 2;
  const group = <usize>K4 << 4; // bytes of one 4-row group
  const ldy4 = <usize>ldy << 2;
  const np = (n + 7) >> 3;
  const ng = (m + 3) >> 2;
  // groups per block: MC rows of A stay in L2 while every panel passes
  const gc = max(1, A_BLOCK_BYTES / max(1, <i32>group));
  const rl = relu != 0;
  for (let g0 = 0; g0 < ng; g0 += gc) {
    const g1 = min(ng, g0 + gc);
    for (let p = 0; p < np; p++) {
      const o = p << 3;
      const cols = min(8, n - o);
      const wp = w + <usize>p * K4 * 32 * W_BYTES;
      const swp = sw + (<usize>o << 2), wsp = wsum + (<usize>o << 2), bp = bias ? bias + (<usize>o << 2) : 0;
      for (let g = g0; g < g1; g++) {
        const i = g << 2;
        tile(a + <usize>g * group, wp, K4, sa + (<usize>i << 2), za + (<usize>i << 2), swp, wsp, bp,
          y + <usize>i * ldy4 + (<usize>o << 2), ldy4, min(4, m - i), cols, rl);
      }
    }
  }
}
