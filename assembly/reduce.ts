// Kernel family: reduce. See docs/KERNELS.md for the ABI.
//
// A tensor is viewed as [outer, len, inner] and reduced over len. Outputs for
// different (o, j) never share work, so the host may split `outer`; and every
// output's value comes from one fixed sequence of operations on its own column,
// whatever block it was computed in (the last partial vector of columns is an
// overlapping recompute of lanes already written, which gives the same bits).
//
// Two SIMD layouts:
//   inner ≥ 4  vectorise along inner: 16 (then 4) adjacent columns, one row of
//              len at a time; the leftover inner % 4 columns are the last 4,
//              recomputed. Sums run in chunks of CHUNK rows (partial sums added
//              into a running total), so the error grows like CHUNK + len/CHUNK,
//              not len.
//   inner == 1 vectorise along len: a contiguous row. Sums use 16 lanes per
//              BLOCK elements and add the block sums in f64 (sum_all_f32 too),
//              so the error stays ~32 ulp of Σ|x| for any n.
//   inner 2, 3 scalar, the same chunked order as the vector lanes.
//
// NaN propagates through sum/mean/max/min (as PyTorch). argmax/argmin: the first
// index of the max/min wins, and a NaN counts as larger/smaller than everything
// (the first NaN wins, as torch.argmax). Empty reductions (len = 0): sum 0,
// mean NaN, max −inf, min +inf, arg 0 — the host rejects them anyway.
import { hsum4, hmax4 } from "./simd";
import { REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX, REDUCE_MIN } from "./opcodes.generated";


/** Elements per f32 block of a contiguous sum; block sums are added in f64. */
const BLOCK = 512;
/** Rows per partial sum in the inner-vectorised sum. */
const CHUNK = 128;

// @ts-ignore: decorator
@inline function hmin4(v: v128): f32 {
  return min(min(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
             min(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// @ts-ignore: decorator
@inline function ptr(base: usize, i: usize): usize {
  return base + (i << 2);
}

// ---------------------------------------------------------------------------
// Contiguous rows (inner == 1, sum_all)

/** Σ x[0..n), n ≤ BLOCK: 16 lanes, then one vector, then scalars. */
// @ts-ignore: decorator
@inline function sumBlock(x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const n16 = <usize>(n & ~15) << 2;
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n16; i += 64) {
    a0 = f32x4.add(a0, v128.load(x + i));
    a1 = f32x4.add(a1, v128.load(x + i, 16));
    a2 = f32x4.add(a2, v128.load(x + i, 32));
    a3 = f32x4.add(a3, v128.load(x + i, 48));
  }
  for (; i < n4; i += 16) a0 = f32x4.add(a0, v128.load(x + i));
  let s = hsum4(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < nb; i += 4) s += load<f32>(x + i);
  return s;
}

/** Σ x[0..n) as f64: f32 SIMD blocks, block sums accumulated in f64. */
function sumRow(x: usize, n: i32): f64 {
  let t: f64 = 0;
  for (let b = 0; b < n; b += BLOCK) t += <f64>sumBlock(ptr(x, <usize>b), min(BLOCK, n - b));
  return t;
}

/** max (isMax) or min of x[0..n); ∓inf when n = 0; NaN propagates. */
// @ts-ignore: decorator
@inline function extremeRow(isMax: bool, x: usize, n: i32): f32 {
  const init = f32x4.splat(isMax ? -Infinity : Infinity);
  let a0 = init, a1 = init;
  const n8 = <usize>(n & ~7) << 2;
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n8; i += 32) {
    if (isMax) {
      a0 = f32x4.max(a0, v128.load(x + i));
      a1 = f32x4.max(a1, v128.load(x + i, 16));
    } else {
      a0 = f32x4.min(a0, v128.load(x + i));
      a1 = f32x4.min(a1, v128.load(x + i, 16));
    }
  }
  if (i < n4) {
    a0 = isMax ? f32x4.max(a0, v128.load(x + i)) : f32x4.min(a0, v128.load(x + i));
    i += 16;
  }
  let s = isMax ? hmax4(f32x4.max(a0, a1)) : hmin4(f32x4.min(a0, a1));
  for (; i < nb; i += 4) s = isMax ? max(s, load<f32>(x + i)) : min(s, load<f32>(x + i));
  return s;
}

// ---------------------------------------------------------------------------
// Columns (inner ≥ 2): p points at column j of row 0, ld is the row stride in bytes

/** Sum (or mean) of 16 adjacent columns over len rows, in CHUNK-row partial sums. */
// @ts-ignore: decorator
@inline function sumCols16(p: usize, ld: usize, len: i32, y: usize, mean: bool): void {
  const z = f32x4.splat(0);
  let t0 = z, t1 = z, t2 = z, t3 = z;
  for (let l0 = 0; l0 < len; l0 += CHUNK) {
    const l1 = min(len, l0 + CHUNK);
    let s0 = z, s1 = z, s2 = z, s3 = z;
    let q = p + <usize>l0 * ld;
    for (let l = l0; l < l1; l++) {
      s0 = f32x4.add(s0, v128.load(q));
      s1 = f32x4.add(s1, v128.load(q, 16));
      s2 = f32x4.add(s2, v128.load(q, 32));
      s3 = f32x4.add(s3, v128.load(q, 48));
      q += ld;
    }
    t0 = f32x4.add(t0, s0); t1 = f32x4.add(t1, s1);
    t2 = f32x4.add(t2, s2); t3 = f32x4.add(t3, s3);
  }
  if (mean) {
    const d = f32x4.splat(<f32>len);
    t0 = f32x4.div(t0, d); t1 = f32x4.div(t1, d);
    t2 = f32x4.div(t2, d); t3 = f32x4.div(t3, d);
  }
  v128.store(y, t0); v128.store(y, t1, 16); v128.store(y, t2, 32); v128.store(y, t3, 48);
}

/** Sum (or mean) of 4 adjacent columns; lane for lane the same operations as sumCols16. */
// @ts-ignore: decorator
@inline function sumCols4(p: usize, ld: usize, len: i32, y: usize, mean: bool): void {
  let t = f32x4.splat(0);
  for (let l0 = 0; l0 < len; l0 += CHUNK) {
    const l1 = min(len, l0 + CHUNK);
    let s = f32x4.splat(0);
    let q = p + <usize>l0 * ld;
    for (let l = l0; l < l1; l++) {
      s = f32x4.add(s, v128.load(q));
      q += ld;
    }
    t = f32x4.add(t, s);
  }
  if (mean) t = f32x4.div(t, f32x4.splat(<f32>len));
  v128.store(y, t);
}

/** Sum (or mean) of one column; the same operations as one lane of sumCols4. */
// @ts-ignore: decorator
@inline function sumCol1(p: usize, ld: usize, len: i32, mean: bool): f32 {
  let t: f32 = 0;
  for (let l0 = 0; l0 < len; l0 += CHUNK) {
    const l1 = min(len, l0 + CHUNK);
    let s: f32 = 0;
    let q = p + <usize>l0 * ld;
    for (let l = l0; l < l1; l++) {
      s += load<f32>(q);
      q += ld;
    }
    t += s;
  }
  return mean ? t / <f32>len : t;
}

// @ts-ignore: decorator
@inline function ext4(isMax: bool, a: v128, b: v128): v128 {
  return isMax ? f32x4.max(a, b) : f32x4.min(a, b);
}

// @ts-ignore: decorator
@inline function extremeCols16(isMax: bool, p: usize, ld: usize, len: i32, y: usize): void {
  const init = f32x4.splat(isMax ? -Infinity : Infinity);
  let a0 = init, a1 = init, a2 = init, a3 = init;
  let q = p;
  for (let l = 0; l < len; l++) {
    a0 = ext4(isMax, a0, v128.load(q));
    a1 = ext4(isMax, a1, v128.load(q, 16));
    a2 = ext4(isMax, a2, v128.load(q, 32));
    a3 = ext4(isMax, a3, v128.load(q, 48));
    q += ld;
  }
  v128.store(y, a0); v128.store(y, a1, 16); v128.store(y, a2, 32); v128.store(y, a3, 48);
}

// @ts-ignore: decorator
@inline function extremeCols4(isMax: bool, p: usize, ld: usize, len: i32, y: usize): void {
  let a = f32x4.splat(isMax ? -Infinity : Infinity);
  let q = p;
  for (let l = 0; l < len; l++) {
    a = ext4(isMax, a, v128.load(q));
    q += ld;
  }
  v128.store(y, a);
}

// @ts-ignore: decorator
@inline function extremeCol1(isMax: bool, p: usize, ld: usize, len: i32): f32 {
  let a: f32 = isMax ? -Infinity : Infinity;
  let q = p;
  for (let l = 0; l < len; l++) {
    a = isMax ? max(a, load<f32>(q)) : min(a, load<f32>(q));
    q += ld;
  }
  return a;
}

/** reduce_f32 for one op (a constant after inlining). */
// @ts-ignore: decorator
@inline function reduceOp(op: i32, x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  const isSum = op == REDUCE_SUM || op == REDUCE_MEAN;
  const mean = op == REDUCE_MEAN;
  const isMax = op == REDUCE_MAX;
  const plane = <usize>len * <usize>inner;
  const ld = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = ptr(x, <usize>o * plane);
    const yo = ptr(y, <usize>o * <usize>inner);
    if (inner == 1) {
      let r: f32;
      if (isSum) {
        const s = sumRow(xo, len);
        r = <f32>(mean ? s / <f64>len : s);
      } else {
        r = extremeRow(isMax, xo, len);
      }
      store<f32>(yo, r);
    } else if (inner >= 4) {
      let j = 0;
      for (; j + 16 <= inner; j += 16) {
        if (isSum) sumCols16(ptr(xo, j), ld, len, ptr(yo, j), mean);
        else extremeCols16(isMax, ptr(xo, j), ld, len, ptr(yo, j));
      }
      for (; j + 4 <= inner; j += 4) {
        if (isSum) sumCols4(ptr(xo, j), ld, len, ptr(yo, j), mean);
        else extremeCols4(isMax, ptr(xo, j), ld, len, ptr(yo, j));
      }
      if (j < inner) {
        j = inner - 4; // overlapping: recomputes some columns with the same bits
        if (isSum) sumCols4(ptr(xo, j), ld, len, ptr(yo, j), mean);
        else extremeCols4(isMax, ptr(xo, j), ld, len, ptr(yo, j));
      }
    } else {
      for (let j = 0; j < inner; j++) {
        store<f32>(ptr(yo, j), isSum ? sumCol1(ptr(xo, j), ld, len, mean) : extremeCol1(isMax, ptr(xo, j), ld, len));
      }
    }
  }
}

/** y[o, j] = op over l of x[o, l, j]; op: 0 sum, 1 mean, 2 max, 3 min. y is [outer, inner]. */
export function reduce_f32(op: i32, x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  switch (op) {
    case REDUCE_SUM: reduceOp(REDUCE_SUM, x, y, outer, len, inner); break;
    case REDUCE_MEAN: reduceOp(REDUCE_MEAN, x, y, outer, len, inner); break;
    case REDUCE_MAX: reduceOp(REDUCE_MAX, x, y, outer, len, inner); break;
    case REDUCE_MIN: reduceOp(REDUCE_MIN, x, y, outer, len, inner); break;
  }
}

/** Σ x[0..n) (f32 blocks of BLOCK, block sums added in f64). */
export function sum_all_f32(x: usize, n: i32): f32 {
  return <f32>sumRow(x, n);
}

// ---------------------------------------------------------------------------
// argmax / argmin

/** Lanes where v should replace the current best b (strictly better, or the first NaN). */
// @ts-ignore: decorator
@inline function beats4(isMax: bool, v: v128, b: v128): v128 {
  const better = isMax ? f32x4.gt(v, b) : f32x4.lt(v, b);
  return v128.or(better, v128.and(f32x4.ne(v, v), f32x4.eq(b, b)));
}

/** Whether (v at index iv) beats (b at index ib) under "first max wins, NaN is the max". */
// @ts-ignore: decorator
@inline function beats1(isMax: bool, v: f32, iv: i32, b: f32, ib: i32): bool {
  if (b != b) return v != v && iv < ib;
  if (v != v) return true;
  if (v == b) return iv < ib;
  return isMax ? v > b : v < b;
}

/** Index of the first max/min of the contiguous row x[0..n). */
// @ts-ignore: decorator
@inline function argRow(isMax: bool, x: usize, n: i32): i32 {
  if (n <= 0) return 0;
  let bv = load<f32>(x);
  let bi = 0;
  let i = 1;
  if (n >= 8) {
    // Four lanes, each the first best of the indices ≡ k (mod 4); then merge with ties to the lower index.
    let best = v128.load(x);
    let idx = i32x4(0, 1, 2, 3);
    let cur = idx;
    const four = i32x4.splat(4);
    const n4 = n & ~3;
    for (i = 4; i < n4; i += 4) {
      cur = i32x4.add(cur, four);
      const v = v128.load(ptr(x, <usize>i));
      const m = beats4(isMax, v, best);
      best = v128.bitselect(v, best, m);
      idx = v128.bitselect(cur, idx, m);
    }
    bv = f32x4.extract_lane(best, 0);
    bi = i32x4.extract_lane(idx, 0);
    let v = f32x4.extract_lane(best, 1), iv = i32x4.extract_lane(idx, 1);
    if (beats1(isMax, v, iv, bv, bi)) { bv = v; bi = iv; }
    v = f32x4.extract_lane(best, 2); iv = i32x4.extract_lane(idx, 2);
    if (beats1(isMax, v, iv, bv, bi)) { bv = v; bi = iv; }
    v = f32x4.extract_lane(best, 3); iv = i32x4.extract_lane(idx, 3);
    if (beats1(isMax, v, iv, bv, bi)) { bv = v; bi = iv; }
  }
  for (; i < n; i++) {
    const v = load<f32>(ptr(x, <usize>i));
    if (beats1(isMax, v, i, bv, bi)) { bv = v; bi = i; }
  }
  return bi;
}

/** Index over len of the first max/min of 4 adjacent columns. */
// @ts-ignore: decorator
@inline function argCols4(isMax: bool, p: usize, ld: usize, len: i32, y: usize): void {
  if (len <= 0) { v128.store(y, i32x4.splat(0)); return; }
  let best = v128.load(p);
  let idx = i32x4.splat(0);
  let cur = idx;
  const one = i32x4.splat(1);
  let q = p;
  for (let l = 1; l < len; l++) {
    q += ld;
    cur = i32x4.add(cur, one);
    const v = v128.load(q);
    const m = beats4(isMax, v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(cur, idx, m);
  }
  v128.store(y, idx);
}

// @ts-ignore: decorator
@inline function argCol1(isMax: bool, p: usize, ld: usize, len: i32): i32 {
  if (len <= 0) return 0;
  let bv = load<f32>(p);
  let bi = 0;
  let q = p;
  for (let l = 1; l < len; l++) {
    q += ld;
    const v = load<f32>(q);
    if (beats1(isMax, v, l, bv, bi)) { bv = v; bi = l; }
  }
  return bi;
}

// @ts-ignore: decorator
@inline function argOp(isMax: bool, x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  const plane = <usize>len * <usize>inner;
  const ld = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = ptr(x, <usize>o * plane);
    const yo = ptr(y, <usize>o * <usize>inner);
    if (inner == 1) {
      store<i32>(yo, argRow(isMax, xo, len));
    } else if (inner >= 4) {
      let j = 0;
      for (; j + 4 <= inner; j += 4) argCols4(isMax, ptr(xo, j), ld, len, ptr(yo, j));
      if (j < inner) argCols4(isMax, ptr(xo, inner - 4), ld, len, ptr(yo, inner - 4));
    } else {
      for (let j = 0; j < inner; j++) store<i32>(ptr(yo, j), argCol1(isMax, ptr(xo, j), ld, len));
    }
  }
}

/** y_i32[o, j] = the first l where x[o, l, j] is largest (a NaN counts as largest). */
export function argmax_f32(x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  argOp(true, x, y, outer, len, inner);
}

/** y_i32[o, j] = the first l where x[o, l, j] is smallest (a NaN counts as smallest). */
export function argmin_f32(x: usize, y: usize, outer: i32, len: i32, inner: i32): void {
  argOp(false, x, y, outer, len, inner);
}

// ---------------------------------------------------------------------------
// max / min backward

/** x == y, with NaN == NaN (so a NaN max routes its gradient to the first NaN). */
// @ts-ignore: decorator
@inline function same4(x: v128, y: v128): v128 {
  return v128.or(f32x4.eq(x, y), v128.and(f32x4.ne(x, x), f32x4.ne(y, y)));
}

/**
 * dx[o, l, j] = dy[o, j] at the first l where x[o, l, j] == y[o, j], else 0.
 * y is the reduced max (or min: the same kernel serves both). dx is written in full.
 */
export function reduce_max_backward_f32(x: usize, y: usize, dy: usize, dx: usize, outer: i32, len: i32, inner: i32): void {
  const plane = <usize>len * <usize>inner;
  const ld = <usize>inner << 2;
  const zero = f32x4.splat(0);
  for (let o = 0; o < outer; o++) {
    const xo = ptr(x, <usize>o * plane);
    const dxo = ptr(dx, <usize>o * plane);
    const yo = ptr(y, <usize>o * <usize>inner);
    const dyo = ptr(dy, <usize>o * <usize>inner);
    if (inner == 1) {
      // Zero the row, then find the first match with a vector scan.
      const nb = <usize>len << 2;
      const n4 = <usize>(len & ~3) << 2;
      let i: usize = 0;
      for (; i < n4; i += 16) v128.store(dxo + i, zero);
      for (; i < nb; i += 4) store<f32>(dxo + i, 0);
      const yv = load<f32>(yo);
      const ys = f32x4.splat(yv);
      let hit = -1;
      for (i = 0; i < n4; i += 16) {
        const m = same4(v128.load(xo + i), ys);
        if (v128.any_true(m)) {
          hit = <i32>(i >> 2) + ctz(i32x4.bitmask(m));
          break;
        }
      }
      if (hit < 0) {
        for (; i < nb; i += 4) {
          const v = load<f32>(xo + i);
          if (v == yv || (v != v && yv != yv)) { hit = <i32>(i >> 2); break; }
        }
      }
      if (hit >= 0) store<f32>(ptr(dxo, <usize>hit), load<f32>(dyo));
    } else if (inner >= 4) {
      for (let j = 0; j < inner; j += 4) {
        const jj = min(j, inner - 4); // the last block overlaps: same values rewritten
        const yv = v128.load(ptr(yo, jj));
        const dyv = v128.load(ptr(dyo, jj));
        let found = i32x4.splat(0);
        let q = ptr(xo, jj), r = ptr(dxo, jj);
        for (let l = 0; l < len; l++) {
          const m = same4(v128.load(q), yv);
          v128.store(r, v128.and(dyv, v128.andnot(m, found)));
          found = v128.or(found, m);
          q += ld;
          r += ld;
        }
      }
    } else {
      for (let j = 0; j < inner; j++) {
        const yv = load<f32>(ptr(yo, j));
        const g = load<f32>(ptr(dyo, j));
        let found = false;
        let q = ptr(xo, j), r = ptr(dxo, j);
        for (let l = 0; l < len; l++) {
          const v = load<f32>(q);
          const m = !found && (v == yv || (v != v && yv != yv));
          store<f32>(r, m ? g : 0);
          if (m) found = true;
          q += ld;
          r += ld;
        }
      }
    }
  }
}
