// Kernel family: attention. See docs/KERNELS.md for the ABI.
//
// Scaled dot-product attention, flash style: a block of query rows walks the
// key blocks with an online softmax (running max m and sum l per row, the
// output accumulator rescaled when m grows), so no Sq×Sk matrix ever exists;
// scratch is O(block·(D + block)).
//
// Layout choices (why the loops look the way they do):
// - Every product keeps D in the SIMD lanes, because q, k, v, o are [S, D]
//   row-major and nothing is transposed or packed:
//   · score tiles (QKᵀ, dO·Vᵀ) are dot products over D: a 2-query × 4-key tile
//     holds 8 accumulators, and one 4×4 shuffle transpose turns them into two
//     vectors of 4 scores (no per-score horizontal sum);
//   · P·V-like products (P·V, dS·K, Pᵀ·dO, dSᵀ·Q) broadcast one weight and
//     multiply a row of D floats: a 4-row × 8-float tile holds 8 accumulators.
// - Masking is a lane compare against the number of visible keys in the row,
//   so masked probabilities are exactly 0 (exp4 clamps, it never returns 0).
// - Rows that see no key at all (causal with Sq > Sk) get o = 0, lse = -inf
//   and zero gradients (as flash-attention does; the materialised softmax
//   would give NaN).
// - The backward is Flash-2: key blocks outer (dK, dV accumulate in scratch),
//   query blocks inner, dQ accumulated in the dq output itself (zeroed first).
//   Di = rowsum(dO∘O) is recomputed per (key block, query block): it costs
//   1/(8·BKB) of the block's work and keeps scratch independent of Sq.
// - Each bh is self-contained and every sum runs in a fixed order, so the bits
//   of a head do not depend on how the host splits BH.
// - Block sizes: measured on one x86 core (BH=8, S=512, D=64), forward query
//   blocks of 8–32 and key blocks of 32–128 (backward 16–64 × 32–64) are all
//   within 1%; 16×64 and 32×64 keep the working set in L1/L2. About a quarter
//   of the forward is the softmax (exp4 per score), the rest the two products.
import { madd, exp4Clamped as exp4, exp1, hsum4, hmax4 } from "./simd";

/** Forward: query rows per block, keys per block. */
const FQ: i32 = 16;
const FK: i32 = 64;
/** Backward: query rows per block, keys per block. */
const BQ: i32 = 32;
const BK: i32 = 64;

// @ts-ignore: decorator
@inline function ceil4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** [Σa, Σb, Σc, Σd] from four accumulators: a 4×4 transpose folded into adds. */
// @ts-ignore: decorator
@inline function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(f32x4.shuffle(a, b, 0, 4, 1, 5), f32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(f32x4.shuffle(c, d, 0, 4, 1, 5), f32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(ab, cd, 0, 1, 4, 5), f32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** The D % 4 tail of a's dot products with b0..b3, as a vector (elements [from, D)). */
// @ts-ignore: decorator
@inline function tail4(a: usize, b0: usize, b1: usize, b2: usize, b3: usize, from: usize, end: usize): v128 {
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  for (let d = from; d < end; d += 4) {
    const x = load<f32>(a + d);
    t0 += x * load<f32>(b0 + d);
    t1 += x * load<f32>(b1 + d);
    t2 += x * load<f32>(b2 + d);
    t3 += x * load<f32>(b3 + d);
  }
  let t = f32x4.splat(t0);
  t = f32x4.replace_lane(t, 1, t1);
  t = f32x4.replace_lane(t, 2, t2);
  return f32x4.replace_lane(t, 3, t3);
}

/**
 * s[r][c] = alpha · (a_r · b_c) for r < nr and c < ceil4(nc); a and b are rows
 * of D floats, s has rows of lds bytes. Padding columns reuse row nc−1 of b
 * (finite values, masked by the caller).
 */
function dots(s: usize, lds: usize, a: usize, nr: i32, b: usize, nc: i32, D: i32, alpha: f32): void {
  const ld = <usize>D << 2;
  const end = ld;
  const end4 = <usize>(D & ~3) << 2;
  const av = f32x4.splat(alpha);
  const last = b + <usize>(nc - 1) * ld;
  let r = 0;
  for (; r + 2 <= nr; r += 2) {
    const a0 = a + <usize>r * ld, a1 = a0 + ld;
    const s0 = s + <usize>r * lds, s1 = s0 + lds;
    for (let c = 0; c < nc; c += 4) {
      const b0 = b + <usize>c * ld;
      const b1 = c + 1 < nc ? b0 + ld : last;
      const b2 = c + 2 < nc ? b1 + ld : last;
      const b3 = c + 3 < nc ? b2 + ld : last;
      let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0;
      let y0 = x0, y1 = x0, y2 = x0, y3 = x0;
      for (let d: usize = 0; d < end4; d += 16) {
        const q0 = v128.load(a0 + d), q1 = v128.load(a1 + d);
        const k0 = v128.load(b0 + d), k1 = v128.load(b1 + d);
        x0 = madd(q0, k0, x0); y0 = madd(q1, k0, y0);
        x1 = madd(q0, k1, x1); y1 = madd(q1, k1, y1);
        const k2 = v128.load(b2 + d), k3 = v128.load(b3 + d);
        x2 = madd(q0, k2, x2); y2 = madd(q1, k2, y2);
        x3 = madd(q0, k3, x3); y3 = madd(q1, k3, y3);
      }
      let rx = reduce4(x0, x1, x2, x3), ry = reduce4(y0, y1, y2, y3);
      if (end4 < end) {
        rx = f32x4.add(rx, tail4(a0, b0, b1, b2, b3, end4, end));
        ry = f32x4.add(ry, tail4(a1, b0, b1, b2, b3, end4, end));
      }
      v128.store(s0 + (<usize>c << 2), f32x4.mul(rx, av));
      v128.store(s1 + (<usize>c << 2), f32x4.mul(ry, av));
    }
  }
  if (r < nr) {
    const a0 = a + <usize>r * ld;
    const s0 = s + <usize>r * lds;
    for (let c = 0; c < nc; c += 4) {
      const b0 = b + <usize>c * ld;
      const b1 = c + 1 < nc ? b0 + ld : last;
      const b2 = c + 2 < nc ? b1 + ld : last;
      const b3 = c + 3 < nc ? b2 + ld : last;
      let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0;
      for (let d: usize = 0; d < end4; d += 16) {
        const q0 = v128.load(a0 + d);
        x0 = madd(q0, v128.load(b0 + d), x0);
        x1 = madd(q0, v128.load(b1 + d), x1);
        x2 = madd(q0, v128.load(b2 + d), x2);
        x3 = madd(q0, v128.load(b3 + d), x3);
      }
      let rx = reduce4(x0, x1, x2, x3);
      if (end4 < end) rx = f32x4.add(rx, tail4(a0, b0, b1, b2, b3, end4, end));
      v128.store(s0 + (<usize>c << 2), f32x4.mul(rx, av));
    }
  }
}

/** No causal band limit for accRows (offsets far outside any block). */
const OPEN: i32 = 1 << 29;

/**
 * c_r += Σ_j w[r·wr + j·wj] · b_j for r < nr and max(0, r + lo) ≤ j < min(nj, r + hi),
 * where c and b are rows of D floats and wr, wj are byte strides into the
 * weights (so one routine does both P·V, with w = P, and Pᵀ·dO, with w read
 * down the columns of P). The band [r + lo, r + hi) is the causal mask's
 * nonzero part: weights outside it are exact zeros, so skipping them changes
 * nothing but the time (a 4-row group takes the union of its rows' bands).
 * Pass lo = -OPEN, hi = OPEN for no band.
 */
function accRows(c: usize, w: usize, wr: usize, wj: usize, b: usize, nr: i32, nj: i32, D: i32, lo: i32, hi: i32): void {
  if (nj <= 0) return;
  const ld = <usize>D << 2;
  const end = ld;
  const end8 = <usize>(D & ~7) << 2;
  const end4 = <usize>(D & ~3) << 2;
  const wr2 = wr + wr, wr3 = wr2 + wr;
  let r = 0;
  for (; r + 4 <= nr; r += 4) {
    const jb = max(0, r + lo), je = min(nj, r + 3 + hi);
    if (je <= jb) continue;
    const c0 = c + <usize>r * ld, c1 = c0 + ld, c2 = c1 + ld, c3 = c2 + ld;
    const w0 = w + <usize>r * wr + <usize>jb * wj;
    const b0 = b + <usize>jb * ld;
    let d: usize = 0;
    for (; d < end8; d += 32) {
      let a00 = v128.load(c0 + d), a01 = v128.load(c0 + d, 16);
      let a10 = v128.load(c1 + d), a11 = v128.load(c1 + d, 16);
      let a20 = v128.load(c2 + d), a21 = v128.load(c2 + d, 16);
      let a30 = v128.load(c3 + d), a31 = v128.load(c3 + d, 16);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        const v0 = v128.load(pb), v1 = v128.load(pb, 16);
        const s0 = v128.load32_splat(pw), s1 = v128.load32_splat(pw + wr);
        a00 = madd(s0, v0, a00); a01 = madd(s0, v1, a01);
        a10 = madd(s1, v0, a10); a11 = madd(s1, v1, a11);
        const s2 = v128.load32_splat(pw + wr2), s3 = v128.load32_splat(pw + wr3);
        a20 = madd(s2, v0, a20); a21 = madd(s2, v1, a21);
        a30 = madd(s3, v0, a30); a31 = madd(s3, v1, a31);
        pw += wj; pb += ld;
      }
      v128.store(c0 + d, a00); v128.store(c0 + d, a01, 16);
      v128.store(c1 + d, a10); v128.store(c1 + d, a11, 16);
      v128.store(c2 + d, a20); v128.store(c2 + d, a21, 16);
      v128.store(c3 + d, a30); v128.store(c3 + d, a31, 16);
    }
    if (d < end4) {
      let a0 = v128.load(c0 + d), a1 = v128.load(c1 + d);
      let a2 = v128.load(c2 + d), a3 = v128.load(c3 + d);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        const v0 = v128.load(pb);
        a0 = madd(v128.load32_splat(pw), v0, a0);
        a1 = madd(v128.load32_splat(pw + wr), v0, a1);
        a2 = madd(v128.load32_splat(pw + wr2), v0, a2);
        a3 = madd(v128.load32_splat(pw + wr3), v0, a3);
        pw += wj; pb += ld;
      }
      v128.store(c0 + d, a0); v128.store(c1 + d, a1);
      v128.store(c2 + d, a2); v128.store(c3 + d, a3);
      d += 16;
    }
    for (; d < end; d += 4) {
      let a0 = load<f32>(c0 + d), a1 = load<f32>(c1 + d);
      let a2 = load<f32>(c2 + d), a3 = load<f32>(c3 + d);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        const x = load<f32>(pb);
        a0 += load<f32>(pw) * x;
        a1 += load<f32>(pw + wr) * x;
        a2 += load<f32>(pw + wr2) * x;
        a3 += load<f32>(pw + wr3) * x;
        pw += wj; pb += ld;
      }
      store<f32>(c0 + d, a0); store<f32>(c1 + d, a1);
      store<f32>(c2 + d, a2); store<f32>(c3 + d, a3);
    }
  }
  // Leftover rows (and the one-query decode case): one row, 16 floats at a time.
  const end16 = <usize>(D & ~15) << 2;
  for (; r < nr; r++) {
    const jb = max(0, r + lo), je = min(nj, r + hi);
    if (je <= jb) continue;
    const c0 = c + <usize>r * ld;
    const w0 = w + <usize>r * wr + <usize>jb * wj;
    const b0 = b + <usize>jb * ld;
    let d: usize = 0;
    for (; d < end16; d += 64) {
      let a0 = v128.load(c0 + d), a1 = v128.load(c0 + d, 16);
      let a2 = v128.load(c0 + d, 32), a3 = v128.load(c0 + d, 48);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        const s = v128.load32_splat(pw);
        a0 = madd(s, v128.load(pb), a0);
        a1 = madd(s, v128.load(pb, 16), a1);
        a2 = madd(s, v128.load(pb, 32), a2);
        a3 = madd(s, v128.load(pb, 48), a3);
        pw += wj; pb += ld;
      }
      v128.store(c0 + d, a0); v128.store(c0 + d, a1, 16);
      v128.store(c0 + d, a2, 32); v128.store(c0 + d, a3, 48);
    }
    for (; d < end4; d += 16) {
      let a0 = v128.load(c0 + d);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        a0 = madd(v128.load32_splat(pw), v128.load(pb), a0);
        pw += wj; pb += ld;
      }
      v128.store(c0 + d, a0);
    }
    for (; d < end; d += 4) {
      let a0 = load<f32>(c0 + d);
      let pw = w0, pb = b0 + d;
      for (let j = jb; j < je; j++) {
        a0 += load<f32>(pw) * load<f32>(pb);
        pw += wj; pb += ld;
      }
      store<f32>(c0 + d, a0);
    }
  }
}

/** x[0..n) = 0 (n floats). */
function zeroF32(x: usize, n: i32): void {
  const end = <usize>n << 2;
  const end4 = <usize>(n & ~3) << 2;
  const z = f32x4.splat(0);
  let i: usize = 0;
  for (; i < end4; i += 16) v128.store(x + i, z);
  for (; i < end; i += 4) store<f32>(x + i, 0);
}

/** x[0..n) *= s (n floats). */
function scaleF32(x: usize, n: i32, s: f32): void {
  const end = <usize>n << 2;
  const end4 = <usize>(n & ~3) << 2;
  const sv = f32x4.splat(s);
  let i: usize = 0;
  for (; i < end4; i += 16) v128.store(x + i, f32x4.mul(v128.load(x + i), sv));
  for (; i < end; i += 4) store<f32>(x + i, load<f32>(x + i) * s);
}

/** a · b over n floats (SIMD body, scalar tail). */
function dot(a: usize, b: usize, n: i32): f32 {
  const end = <usize>n << 2;
  const end4 = <usize>(n & ~3) << 2;
  let acc = f32x4.splat(0);
  let i: usize = 0;
  for (; i < end4; i += 16) acc = madd(v128.load(a + i), v128.load(b + i), acc);
  let t = hsum4(acc);
  for (; i < end; i += 4) t += load<f32>(a + i) * load<f32>(b + i);
  return t;
}

/** Keys of a block [j0, j0 + nk) that query row i sees: all of them, or up to the causal diagonal. */
// @ts-ignore: decorator
@inline function visible(i: i32, j0: i32, nk: i32, off: i32, causal: i32): i32 {
  if (causal == 0) return nk;
  return min(max(i + off - j0 + 1, 0), nk);
}

/** Scratch bytes for one attention_f32 call (independent of Sq and Sk). */
export function attention_scratch_bytes(Sq: i32, Sk: i32, D: i32): i32 {
  return 4 * (FQ * FK + FQ * D + 2 * FQ);
}

/** Scratch bytes for one attention_backward_f32 call (independent of Sq and Sk). */
export function attention_backward_scratch_bytes(Sq: i32, Sk: i32, D: i32): i32 {
  return 4 * (2 * BQ * BK + 2 * BK * D);
}

/**
 * o = softmax(scale·q·kᵀ + mask)·v and lse = log Σ exp(scale·q·kᵀ + mask) per
 * query row. q, o: [BH, Sq, D]; lse: [BH, Sq]; k, v: [BH / group, kvStride, D]
 * of which the first Sk rows of each head are read (a preallocated KV cache),
 * query head bh reading kv head ⌊bh / group⌋ (grouped-query attention: with
 * BH = B·Hq and Hq = group·Hkv that is head ⌊h / group⌋ of the same batch).
 * group 0 means 1 and kvStride 0 means Sk (the call shape before GQA).
 * causal ≠ 0 hides key j from query i when j > i + (Sk − Sq).
 */
export function attention_f32(
  q: usize, k: usize, v: usize, o: usize, lse: usize,
  BH: i32, Sq: i32, Sk: i32, D: i32, scale: f32, causal: i32, scratch: usize,
  group: i32, kvStride: i32,
): void {
  const G = max(group, 1);
  const KS = kvStride > 0 ? kvStride : Sk;
  const ld = <usize>D << 2;
  const lds = <usize>FK << 2;
  const S = scratch;                          // FQ × FK scores, then probabilities
  const OA = S + <usize>(FQ * FK) * 4;        // FQ × D output accumulator
  const M = OA + <usize>(FQ * D) * 4;         // FQ running maxima
  const L = M + <usize>FQ * 4;                // FQ running sums
  const off = Sk - Sq;
  const ninf = f32x4.splat(-Infinity);
  const iota = i32x4(0, 1, 2, 3);
  for (let bh = 0; bh < BH; bh++) {
    const qh = q + <usize>bh * <usize>Sq * ld;
    const kh = k + <usize>(bh / G) * <usize>KS * ld;
    const vh = v + <usize>(bh / G) * <usize>KS * ld;
    const oh = o + <usize>bh * <usize>Sq * ld;
    const lh = lse + (<usize>bh * <usize>Sq << 2);
    for (let q0 = 0; q0 < Sq; q0 += FQ) {
      const nq = min(FQ, Sq - q0);
      // Keys past the last row's diagonal are hidden from the whole block.
      const kend = causal != 0 ? min(Sk, q0 + nq + off) : Sk;
      for (let r = 0; r < nq; r++) {
        store<f32>(M + (<usize>r << 2), -Infinity);
        store<f32>(L + (<usize>r << 2), 0);
      }
      zeroF32(OA, nq * D);
      for (let j0 = 0; j0 < kend; j0 += FK) {
        const nk = min(FK, kend - j0);
        const nk4 = ceil4(nk);
        dots(S, lds, qh + <usize>q0 * ld, nq, kh + <usize>j0 * ld, nk, D, scale);
        let jmax = 0;
        for (let r = 0; r < nq; r++) {
          const sr = S + <usize>r * lds;
          const c = visible(q0 + r, j0, nk, off, causal);
          const cf = c & ~3, c4 = ceil4(c);
          // The vector that straddles the last visible key keeps only its first c − cf lanes.
          const keep = i32x4.lt_s(iota, i32x4.splat(c - cf));
          const tail = sr + (<usize>cf << 2);
          // Row max over the visible keys.
          // (pmax is one maxps on x86; f32x4.max's NaN rules cost several instructions.)
          let mx = ninf;
          for (let j = 0; j < cf; j += 4) mx = f32x4.pmax(mx, v128.load(sr + (<usize>j << 2)));
          if (cf < c) mx = f32x4.pmax(mx, v128.bitselect(v128.load(tail), ninf, keep));
          const mOld = load<f32>(M + (<usize>r << 2));
          const mNew = max(mOld, hmax4(mx));
          // p = exp(s − m) on visible keys, exactly 0 elsewhere.
          const mv = f32x4.splat(mNew);
          let sum = f32x4.splat(0);
          for (let j = 0; j < cf; j += 4) {
            const p = exp4(f32x4.sub(v128.load(sr + (<usize>j << 2)), mv));
            v128.store(sr + (<usize>j << 2), p);
            sum = f32x4.add(sum, p);
          }
          if (cf < c) {
            const p = v128.and(exp4(f32x4.sub(v128.load(tail), mv)), keep);
            v128.store(tail, p);
            sum = f32x4.add(sum, p);
          }
          for (let j = c4; j < nk4; j += 4) v128.store(sr + (<usize>j << 2), f32x4.splat(0));
          if (c == 0) continue;
          jmax = max(jmax, c);
          const lr = L + (<usize>r << 2);
          if (mOld == -Infinity) {
            store<f32>(lr, hsum4(sum));
          } else {
            const alpha = exp1(mOld - mNew);
            store<f32>(lr, load<f32>(lr) * alpha + hsum4(sum));
            if (alpha != 1) scaleF32(OA + <usize>r * ld, D, alpha);
          }
          store<f32>(M + (<usize>r << 2), mNew);
        }
        // Query row r sees keys j < r + (q0 + off − j0 + 1) of this block.
        accRows(OA, S, lds, 4, vh + <usize>j0 * ld, nq, jmax, D, -OPEN, causal != 0 ? q0 + off - j0 + 1 : OPEN);
      }
      // o = acc / l, lse = m + log l; rows that saw no key give o = 0, lse = -inf (a NaN l stays NaN).
      for (let r = 0; r < nq; r++) {
        const l = load<f32>(L + (<usize>r << 2));
        const orow = oh + <usize>(q0 + r) * ld;
        const arow = OA + <usize>r * ld;
        const lrow = lh + (<usize>(q0 + r) << 2);
        if (l != 0) {
          const lv = f32x4.splat(l);
          const end4 = <usize>(D & ~3) << 2;
          let d: usize = 0;
          for (; d < end4; d += 16) v128.store(orow + d, f32x4.div(v128.load(arow + d), lv));
          for (; d < ld; d += 4) store<f32>(orow + d, load<f32>(arow + d) / l);
          store<f32>(lrow, load<f32>(M + (<usize>r << 2)) + Mathf.log(l));
        } else {
          zeroF32(orow, D);
          store<f32>(lrow, -Infinity);
        }
      }
    }
  }
}

/**
 * Gradients of attention_f32: writes dq [BH, Sq, D], dk and dv [BH / group, Sk, D]
 * from q, k, v (k, v [BH / group, Sk, D]: no kvStride, training keeps no cache),
 * the forward's o and lse, and dO. Same mask as the forward. Each kv head's dk
 * and dv sum over its group of query heads, in order g = 0..group−1 inside each
 * key block, all in this call: the host splits kv heads (not query heads) over
 * threads, so the bits do not depend on the split. group 0 means 1.
 */
export function attention_backward_f32(
  q: usize, k: usize, v: usize, o: usize, lse: usize, dO: usize,
  dq: usize, dk: usize, dv: usize,
  BH: i32, Sq: i32, Sk: i32, D: i32, scale: f32, causal: i32, scratch: usize,
  group: i32,
): void {
  const G = max(group, 1);
  const ld = <usize>D << 2;
  const lds = <usize>BK << 2;
  const P = scratch;                          // BQ × BK probabilities
  const DS = P + <usize>(BQ * BK) * 4;        // BQ × BK dP, then scale·dS
  const DK = DS + <usize>(BQ * BK) * 4;       // BK × D
  const DV = DK + <usize>(BK * D) * 4;        // BK × D
  const off = Sk - Sq;
  const iota = i32x4(0, 1, 2, 3);
  const sv = f32x4.splat(scale);
  const BHkv = BH / G;
  for (let hk = 0; hk < BHkv; hk++) {
    const kh = k + <usize>hk * <usize>Sk * ld;
    const vh = v + <usize>hk * <usize>Sk * ld;
    const dkh = dk + <usize>hk * <usize>Sk * ld;
    const dvh = dv + <usize>hk * <usize>Sk * ld;
    zeroF32(dq + <usize>(hk * G) * <usize>Sq * ld, G * Sq * D);
    for (let j0 = 0; j0 < Sk; j0 += BK) {
      const nk = min(BK, Sk - j0);
      zeroF32(DK, nk * D);
      zeroF32(DV, nk * D);
      for (let g = 0; g < G; g++) {
        const bh = hk * G + g;
        const qh = q + <usize>bh * <usize>Sq * ld;
        const oh = o + <usize>bh * <usize>Sq * ld;
        const gh = dO + <usize>bh * <usize>Sq * ld;
        const dqh = dq + <usize>bh * <usize>Sq * ld;
        const lh = lse + (<usize>bh * <usize>Sq << 2);
        // Queries above the diagonal of the block's first key see none of it.
        const qstart = causal != 0 ? max(0, j0 - off) : 0;
        for (let i0 = qstart; i0 < Sq; i0 += BQ) {
          const nq = min(BQ, Sq - i0);
          // The block's last query sees the most keys; columns past them are all masked.
          const jmax = visible(i0 + nq - 1, j0, nk, off, causal);
          const nj4 = ceil4(jmax);
          dots(P, lds, qh + <usize>i0 * ld, nq, kh + <usize>j0 * ld, jmax, D, scale);
          dots(DS, lds, gh + <usize>i0 * ld, nq, vh + <usize>j0 * ld, jmax, D, 1);
          for (let r = 0; r < nq; r++) {
            const i = i0 + r;
            const c = visible(i, j0, nk, off, causal);
            const cv = i32x4.splat(c);
            const di = f32x4.splat(dot(gh + <usize>i * ld, oh + <usize>i * ld, D));
            const mv = f32x4.splat(load<f32>(lh + (<usize>i << 2)));
            const pr = P + <usize>r * lds, dr = DS + <usize>r * lds;
            const cf = c & ~3;
            for (let j = 0; j < nj4; j += 4) {
              const at = <usize>j << 2;
              let p = exp4(f32x4.sub(v128.load(pr + at), mv));
              // Lanes at or past the last visible key are exactly 0 (exp4 never is).
              if (j >= cf) p = v128.and(p, i32x4.lt_s(i32x4.add(iota, i32x4.splat(j)), cv));
              v128.store(pr + at, p);
              // scale·dS = scale · P ∘ (dP − Di)
              v128.store(dr + at, f32x4.mul(f32x4.mul(p, f32x4.sub(v128.load(dr + at), di)), sv));
            }
          }
          // Causal band: key row r is seen by block queries j ≥ r + kLo; query row r sees keys j < r + qHi.
          const kLo = causal != 0 ? j0 - off - i0 : -OPEN;
          const qHi = causal != 0 ? i0 + off - j0 + 1 : OPEN;
          // dV += Pᵀ·dO and dK += (scale·dS)ᵀ·Q: rows are keys, weights read down P's columns.
          accRows(DV, P, 4, lds, gh + <usize>i0 * ld, jmax, nq, D, kLo, OPEN);
          accRows(DK, DS, 4, lds, qh + <usize>i0 * ld, jmax, nq, D, kLo, OPEN);
          // dQ += (scale·dS)·K
          accRows(dqh + <usize>i0 * ld, DS, lds, 4, kh + <usize>j0 * ld, nq, jmax, D, -OPEN, qHi);
        }
      }
      memory.copy(dkh + <usize>j0 * ld, DK, <usize>nk * ld);
      memory.copy(dvh + <usize>j0 * ld, DV, <usize>nk * ld);
    }
  }
}

/**
 * Appends T rows to a preallocated KV cache: x [BH, T, D] (contiguous) into
 * rows [pos, pos + T) of each head of cache [BH, maxS, D]. The host checks
 * pos + T ≤ maxS.
 */
export function kv_append_f32(x: usize, cache: usize, BH: i32, T: i32, D: i32, maxS: i32, pos: i32): void {
  const row = <usize>D << 2;
  for (let bh = 0; bh < BH; bh++) {
    memory.copy(cache + (<usize>bh * <usize>maxS + <usize>pos) * row, x + <usize>bh * <usize>T * row, <usize>T * row);
  }
}
