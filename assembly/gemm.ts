// Kernel family: gemm. See docs/KERNELS.md for the ABI.
//
// C (=|+=) op(A)·op(B), row-major, f32. GotoBLAS-style:
//   - B is packed once (gemm_pack_b_f32) into 8-column panels, zero padded to a
//     multiple of 8 columns and blocked along k in KC-row blocks. A KC×8 panel is
//     KC·32 bytes (8 KB at KC = 256), so it stays in L1 while every row group of
//     an MC-row block of A streams past it.
//   - A is not packed: the micro-kernel reads it with v128.load32_splat (one
//     vbroadcastss on x64), straight from A or, with TRANS_A, from four adjacent
//     floats of one row of the stored k×m matrix.
//   - Loop order: pair of KC blocks of k → MC block of rows → 8-column panel → 4-row group
//     → 4×8 micro-kernel (8 v128 accumulators, 2 B loads + 4 splats + 8 madd per
//     k step). x64 has 16 xmm registers (V8 keeps xmm15 as scratch): 8
//     accumulators + 2 B + 4 splats (+1 product temp for unfused mul+add) fit.
//     The k loop is NOT unrolled, on purpose: TurboFan hoists every load of an
//     unrolled body to its top, so ×2 or ×4 unrolling (and 6×8 tiles) spill
//     accumulators to the stack and run 30–45% slower (measured on Node 20 / V8 11.3, x64 AMD EPYC).
//   - The micro-kernel runs a panel's rows of two consecutive KC blocks (2·KC of k)
//     before it stores C: half the passes of C through the caches at large k
//     (measured ~4% faster at 512³–1024³, CPU time, interleaved in one process),
//     with the packed layout unchanged.
//   - The first pair of KC blocks writes C (or starts from C with ACCUMULATE); later pairs
//     start their accumulators from C. So every element of C is one chain of
//     madd(a, b, acc) over k = 0..k-1 in order, started from 0 or from C.
//     The 3×8, 2×8 and 1×8 kernels for the m % 4 leftover rows run the very same
//     chain, so a row range computed alone (a thread's share) has the same bits as
//     in a whole-matrix call. Columns n % 8 use the zero-padded panel and partial
//     loads/stores of C.
//   Known slow case: TRANS_A with a power-of-two lda (e.g. 1024) runs ~40% slower;
//   each k step reads a new line of A lda·4 bytes on, and those lines share L1/L2
//   sets. Fixing it needs an A packing buffer, which this ABI does not give
//   gemm_packed_f32 (sub-blocking k did not help). gemm_packed_pa_f32 (below) has
//   one: TRANS_A 1024³ there runs 48 GFLOPS where gemm_f32 ran 25 (CPU time, one process).
//   The micro-kernels (gemm_f32_Rx8_a_{normal,transposed,packed}) are generated from one
//   template, scripts/kernels/gemm-tile.mjs, into gemm-tiles.generated.ts: AssemblyScript
//   has no macros and Binaryen does not unroll v128 code, so each tile height is written out.
import {
  gemm_f32_4x8_a_normal, gemm_f32_3x8_a_normal, gemm_f32_2x8_a_normal, gemm_f32_1x8_a_normal,
  gemm_f32_4x8_a_transposed, gemm_f32_3x8_a_transposed, gemm_f32_2x8_a_transposed, gemm_f32_1x8_a_transposed,
  gemm_f32_5x8_a_packed,
} from "./gemm-tiles.generated";

/** Rows of op(B) per packed block: a KC×8 panel (KC·32 bytes) stays in L1. */
const KC: i32 = 256;
/** Rows of C per block: MC rows × 2·KC of A (MC·KC·8 bytes) stay in L2 across all panels. */
const MC: i32 = 128;

/** Bytes of packed op(B) for these k, n: k rows × n rounded up to 8 columns, as f32. */
export function gemm_packed_b_bytes(k: i32, n: i32): i32 {
  if (k <= 0 || n <= 0) return 0;
  return k * (((n + 7) >> 3) << 3) * 4;
}

/**
 * Packs op(B) (k×n; B stored n×k when flags & 2) into `packed`
 * (gemm_packed_b_bytes(k, n) bytes). Layout: for each KC block starting at row k0
 * (kc = min(KC, k − k0) rows), for each panel p of 8 columns, kc rows of 8 floats:
 *   packed[k0·npad + p·kc·8 + (kk − k0)·8 + jj] = op(B)[kk, 8p + jj]   (0 past n)
 * where npad = n rounded up to 8.
 */
export function gemm_pack_b_f32(b: usize, ldb: i32, k: i32, n: i32, flags: i32, packed: usize): void {
  gemm_pack_b_panels_f32(b, ldb, k, n, flags, packed, 0, (n + 7) >> 3);
}

/**
 * Packs only the 8-column panels [p0, p1) of op(B) into their places in the
 * gemm_pack_b_f32 layout (the rest of `packed` is not touched): threads pack
 * disjoint panel ranges of one B in parallel, with the same bytes as one call.
 */
export function gemm_pack_b_panels_f32(b: usize, ldb: i32, k: i32, n: i32, flags: i32, packed: usize, p0: i32, p1: i32): void {
  if (k <= 0 || n <= 0) return;
  const transB = (flags & 2) != 0;
  const np = (n + 7) >> 3;
  const npad = np << 3;
  const ldb4 = <usize>ldb << 2;
  p1 = min(p1, np);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    for (let p = p0; p < p1; p++) {
      const j = p << 3;
      const nr = min(8, n - j);
      let dst = packed + ((<usize>k0 * npad + <usize>p * kc * 8) << 2);
      if (!transB) {
        // op(B) rows are B rows: copy 8 floats per k (scalar with zero fill at the edge).
        let src = b + ((<usize>k0 * ldb + j) << 2);
        if (nr == 8) {
          for (let kk = 0; kk < kc; kk++) {
            v128.store(dst, v128.load(src));
            v128.store(dst, v128.load(src, 16), 16);
            dst += 32; src += ldb4;
          }
        } else {
          for (let kk = 0; kk < kc; kk++) {
            for (let jj = 0; jj < 8; jj++) {
              store<f32>(dst + (<usize>jj << 2), jj < nr ? load<f32>(src + (<usize>jj << 2)) : 0);
            }
            dst += 32; src += ldb4;
          }
        }
      } else {
        // op(B)[kk, j] = B[j, kk]: the 8 columns are 8 rows of B. Take 4 k at a time
        // from each and transpose two 4×4 blocks in registers.
        let src = b + ((<usize>j * ldb + k0) << 2);
        let kk = 0;
        if (nr == 8) {
          for (; kk + 4 <= kc; kk += 4) {
            const s0 = src, s4 = src + 4 * ldb4;
            transpose4(v128.load(s0), v128.load(s0 + ldb4), v128.load(s0 + 2 * ldb4), v128.load(s0 + 3 * ldb4), dst);
            transpose4(v128.load(s4), v128.load(s4 + ldb4), v128.load(s4 + 2 * ldb4), v128.load(s4 + 3 * ldb4), dst + 16);
            dst += 128; src += 16;
          }
        }
        for (; kk < kc; kk++) {
          for (let jj = 0; jj < 8; jj++) {
            store<f32>(dst + (<usize>jj << 2), jj < nr ? load<f32>(src + <usize>jj * ldb4) : 0);
          }
          dst += 32; src += 4;
        }
      }
    }
  }
}

/** Transposes the 4×4 block (rows r0..r3) and stores its columns at dst, dst+32, dst+64, dst+96. */
// @ts-ignore: decorator
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5), 0);
  v128.store(dst, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
  v128.store(dst, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
  v128.store(dst, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
}

/**
 * C[m×n] (= or += when flags & 4) op(A)·op(B), with op(B) packed by gemm_pack_b_f32 for
 * exactly these k, n. op(A) is m×k (A stored k×m when flags & 1). Rows of C are
 * independent: a call on rows [r, r') with a and c offset gives the same bits.
 */
export function gemm_packed_f32(a: usize, lda: i32, packed: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32, flags: i32): void {
  if (m <= 0 || n <= 0) return;
  const transA = (flags & 1) != 0;
  const accumulate = (flags & 4) != 0;
  const ldc4 = <usize>ldc << 2;
  const lda4 = <usize>lda << 2;
  if (k <= 0) {
    if (!accumulate) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldc4, 0, <usize>n << 2);
    }
    return;
  }
  const np = (n + 7) >> 3;
  const npad = np << 3;
  for (let k0 = 0; k0 < k; k0 += 2 * KC) {
    const kc = min(KC, k - k0);
    const kc2 = max(0, min(KC, k - k0 - KC));
    const load = k0 > 0 || accumulate;
    const block = packed + (<usize>k0 * npad << 2);
    const block2 = packed + (<usize>(k0 + kc) * npad << 2);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = min(MC, m - i0);
      // First A element of row i0 at column k0, and the step between consecutive rows.
      const a0 = transA ? a + ((<usize>k0 * lda + i0) << 2) : a + ((<usize>i0 * lda + k0) << 2);
      const rowStep: usize = transA ? 4 : lda4;
      for (let p = 0; p < np; p++) {
        const j = p << 3;
        const nr = min(8, n - j);
        const bp = block + (<usize>p * kc << 5);
        const bp2 = block2 + (<usize>p * kc2 << 5);
        let cp = c + ((<usize>i0 * ldc + j) << 2);
        let ap = a0;
        let i = 0;
        if (transA) {
          for (; i + 4 <= mc; i += 4) {
            gemm_f32_4x8_a_transposed(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
            ap += 4 * rowStep; cp += 4 * ldc4;
          }
          // m % 4 leftover rows in one tile: 6 or 4 chains run at 3 or 2 times the 1×8 rate
          const left = mc - i;
          if (left == 3) gemm_f32_3x8_a_transposed(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 2) gemm_f32_2x8_a_transposed(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 1) gemm_f32_1x8_a_transposed(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
        } else {
          for (; i + 4 <= mc; i += 4) {
            gemm_f32_4x8_a_normal(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
            ap += 4 * rowStep; cp += 4 * ldc4;
          }
          // m % 4 leftover rows in one tile: 6 or 4 chains run at 3 or 2 times the 1×8 rate
          const left = mc - i;
          if (left == 3) gemm_f32_3x8_a_normal(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 2) gemm_f32_2x8_a_normal(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 1) gemm_f32_1x8_a_normal(ap, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
        }
      }
    }
  }
}

/**
 * C[m×n] (= or += when flags & 4) op(A)·op(B): packs op(B) into `scratch`
 * (gemm_packed_b_bytes(k, n) bytes) and runs gemm_packed_f32.
 */
export function gemm_f32(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, lda: i32, ldb: i32, ldc: i32, flags: i32, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k > 0) gemm_pack_b_f32(b, ldb, k, n, flags, scratch);
  gemm_packed_f32(a, lda, scratch, c, ldc, m, n, k, flags);
}

// ---- gemm_packed_pa_f32: 5×8 tiles over A packed per block ----
//
// Why a second driver: the 4×8 tile has 8 madd chains, exactly latency × throughput
// of this CPU's FMA units (4 cycles × 2 a cycle), so any hiccup stalls it (~88% of the
// relaxed ceiling in L1). Taller tiles spill: TurboFan hoists every load of the loop
// body to its top, and 6×8 with splat loads needs 12 accumulators + 8 loaded values
// (measured 2× slower). A 5×8 tile fits when the five A values of one k come from ONE
// v128 load (rows 0..3, lanes broadcast by i32x4.shuffle: pure, so not hoisted) plus
// one splat: 10 accumulators + 2 B + 2 A = 14 of the 15 usable xmm registers. That needs
// the five rows' values adjacent per k, so A is packed per (2·KC, MC5) block: 5-row
// groups, k-major, 5 floats per k. Measured +12% over the 4×8 tile on L2-resident
// blocks (54 vs 48 GFLOPS, one process, interleaved). Every element of C is still the
// one madd chain over k in order, so the bits equal gemm_packed_f32's.

/** Rows of C per block in gemm_packed_pa_f32: a multiple of 5 (its tile height). */
const MC5: i32 = 130;

/** Bytes of A scratch gemm_packed_pa_f32 needs (one block of packed A; per call, so per thread). */
export function gemm_packed_a_bytes(): i32 {
  return MC5 * 2 * KC * 4;
}

/**
 * As gemm_packed_f32 (same arguments, same bits), plus `ascratch`
 * (gemm_packed_a_bytes() bytes, one per concurrent call) where blocks of op(A)
 * are packed for 5×8 tiles. Worth it when C has several 8-column panels (the
 * packing is repaid once per panel).
 */
export function gemm_packed_pa_f32(a: usize, lda: i32, packed: usize, c: usize, ldc: i32, m: i32, n: i32, k: i32, flags: i32, ascratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    gemm_packed_f32(a, lda, packed, c, ldc, m, n, k, flags);
    return;
  }
  const transA = (flags & 1) != 0;
  const accumulate = (flags & 4) != 0;
  const ldc4 = <usize>ldc << 2;
  const lda4 = <usize>lda << 2;
  const np = (n + 7) >> 3;
  const npad = np << 3;
  for (let k0 = 0; k0 < k; k0 += 2 * KC) {
    const kc = min(KC, k - k0);
    const kc2 = max(0, min(KC, k - k0 - KC));
    const kt = kc + kc2;
    const load = k0 > 0 || accumulate;
    const block = packed + (<usize>k0 * npad << 2);
    const block2 = packed + (<usize>(k0 + kc) * npad << 2);
    for (let i0 = 0; i0 < m; i0 += MC5) {
      const mc = min(MC5, m - i0);
      const full = mc - mc % 5;
      packA5(a, lda4, transA, i0, full, k0, kt, ascratch);
      // the m % 5 leftover rows read A in place, as gemm_packed_f32 does
      const aLeft = transA ? a + ((<usize>k0 * lda + i0 + full) << 2) : a + ((<usize>(i0 + full) * lda + k0) << 2);
      const left = mc - full;
      for (let p = 0; p < np; p++) {
        const j = p << 3;
        const nr = min(8, n - j);
        const bp = block + (<usize>p * kc << 5);
        const bp2 = block2 + (<usize>p * kc2 << 5);
        let cp = c + ((<usize>i0 * ldc + j) << 2);
        let ap = ascratch;
        for (let i = 0; i < full; i += 5) {
          gemm_f32_5x8_a_packed(ap, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          ap += <usize>kt * 20; cp += 5 * ldc4;
        }
        if (transA) {
          if (left == 4) gemm_f32_4x8_a_transposed(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 3) gemm_f32_3x8_a_transposed(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 2) gemm_f32_2x8_a_transposed(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 1) gemm_f32_1x8_a_transposed(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
        } else {
          if (left == 4) gemm_f32_4x8_a_normal(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 3) gemm_f32_3x8_a_normal(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 2) gemm_f32_2x8_a_normal(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
          else if (left == 1) gemm_f32_1x8_a_normal(aLeft, lda4, bp, kc, bp2, kc2, cp, ldc4, nr, load);
        }
      }
    }
  }
}

/**
 * Packs rows [i0, i0 + rows) (rows a multiple of 5) × columns [k0, k0 + kt) of op(A)
 * into dst: 5-row groups, each kt × 5 floats (the group's five values of one k adjacent).
 */
function packA5(a: usize, lda4: usize, transA: bool, i0: i32, rows: i32, k0: i32, kt: i32, dst: usize): void {
  const group = <usize>kt * 20;
  for (let g = 0; g < rows; g += 5) {
    const base = dst + <usize>(g / 5) * group;
    if (transA) {
      // op(A)[i, kk] = A[kk, i]: the five values of one k are adjacent already
      let src = a + <usize>k0 * lda4 + (<usize>(i0 + g) << 2);
      let d = base;
      for (let kk = 0; kk < kt; kk++) {
        v128.store(d, v128.load(src));
        store<f32>(d, load<f32>(src, 16), 16);
        src += lda4; d += 20;
      }
    } else {
      // four k at a time: rows 0..3 as a 4×4 transpose (one v128 store per k), row 4 by lanes
      const s0 = a + <usize>(i0 + g) * lda4 + (<usize>k0 << 2);
      const s1 = s0 + lda4, s2 = s1 + lda4, s3 = s2 + lda4, s4 = s3 + lda4;
      let d = base;
      let kk = 0;
      for (; kk + 4 <= kt; kk += 4) {
        const q = <usize>kk << 2;
        const r0 = v128.load(s0 + q), r1 = v128.load(s1 + q), r2 = v128.load(s2 + q), r3 = v128.load(s3 + q);
        const r4 = v128.load(s4 + q);
        const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
        const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
        const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
        v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5), 0);
        v128.store32_lane(d, r4, 0, 16);
        v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 20);
        v128.store32_lane(d, r4, 1, 36);
        v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 40);
        v128.store32_lane(d, r4, 2, 56);
        v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 60);
        v128.store32_lane(d, r4, 3, 76);
        d += 80;
      }
      for (; kk < kt; kk++) {
        const q = <usize>kk << 2;
        store<f32>(d, load<f32>(s0 + q), 0);
        store<f32>(d, load<f32>(s1 + q), 4);
        store<f32>(d, load<f32>(s2 + q), 8);
        store<f32>(d, load<f32>(s3 + q), 12);
        store<f32>(d, load<f32>(s4 + q), 16);
        d += 20;
      }
    }
  }
}
