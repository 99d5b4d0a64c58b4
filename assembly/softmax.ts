// Kernel family: softmax. See docs/KERNELS.md for the ABI.
//
// rows × cols, softmax over cols. Rows are independent, so the host splits
// rows across threads and a sub-range gives the same bits.
//
// Each row takes three passes over its data: the max, then e^(x − max) with
// its sum, then the scaling. Subtracting the max keeps every exponent ≤ 0, so
// nothing overflows and the largest term is exactly 1. Bodies use exp4 on four
// lanes and tails use exp1, the same polynomial, so a value's result does not
// depend on whether it fell in the body or the tail. Sums are four-lane partial
// sums added once at the end (the order is fixed by cols, not by threads).
//
// A row whose max is −inf (every entry masked) gives NaN, as PyTorch does.
import { exp4Clamped as exp4, exp1, hsum4, hmax4, madd } from "./simd";

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** max of x[0..n); NaN propagates (f32x4.max does). */
// @ts-ignore: decorator
@inline function rowMax(x: usize, n: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(at(x, i)));
  let s = hmax4(m);
  for (; i < n; i++) s = max(s, load<f32>(at(x, i))); // wasm's f32.max propagates NaN
  return s;
}

/** y[i] = e^(x[i] − mx) for i < n; returns Σ y. y may be x. */
// @ts-ignore: decorator
@inline function expShiftSum(x: usize, y: usize, n: i32, mx: f32): f32 {
  const vm = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = exp4(f32x4.sub(v128.load(at(x, i)), vm));
    v128.store(at(y, i), e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum4(acc);
  for (; i < n; i++) {
    const e = exp1(load<f32>(at(x, i)) - mx);
    store<f32>(at(y, i), e);
    s += e;
  }
  return s;
}

/** Σ e^(x[i] − mx) without storing. */
// @ts-ignore: decorator
@inline function expShiftSumOnly(x: usize, n: i32, mx: f32): f32 {
  const vm = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, exp4(f32x4.sub(v128.load(at(x, i)), vm)));
  let s = hsum4(acc);
  for (; i < n; i++) s += exp1(load<f32>(at(x, i)) - mx);
  return s;
}

/** y[i] = x[i]·a + b. */
// @ts-ignore: decorator
@inline function affine(x: usize, y: usize, n: i32, a: f32, b: f32): void {
  const va = f32x4.splat(a), vb = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), madd(v128.load(at(x, i)), va, vb));
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(x, i)) * a + b);
}

/** y = (x − m) − l, two roundings as PyTorch's log_softmax (y may equal x). */
// @ts-ignore: decorator
@inline function shift2(x: usize, y: usize, n: i32, m: f32, l: f32): void {
  const vm = f32x4.splat(m), vl = f32x4.splat(l);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.sub(f32x4.sub(v128.load(at(x, i)), vm), vl));
  for (; i < n; i++) store<f32>(at(y, i), (load<f32>(at(x, i)) - m) - l);
}

/** Σ a[i]·b[i]. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = madd(v128.load(at(a, i)), v128.load(at(b, i)), acc);
  let s = hsum4(acc);
  for (; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** Σ a[i]. */
// @ts-ignore: decorator
@inline function sum(a: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, v128.load(at(a, i)));
  let s = hsum4(acc);
  for (; i < n; i++) s += load<f32>(at(a, i));
  return s;
}

/**
 * Row-wise softmax: y[r] = e^(x[r] − max) / Σ e^(x[r] − max).
 * Example (host): softmax_f32(x, y, 64, 10) for 64 rows of 10 logits.
 */
export function softmax_f32(x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    const mx = rowMax(xr, cols);
    const s = expShiftSum(xr, yr, cols, mx);
    affine(yr, yr, cols, 1 / s, 0);
  }
}

/**
 * Row-wise log-softmax: y[r] = x[r] − max − log Σ e^(x[r] − max).
 * Example (host): log_softmax_f32(x, y, rows, cols).
 */
export function log_softmax_f32(x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    const mx = rowMax(xr, cols);
    // (x − max) − log Σ, PyTorch's order: x − (max + log Σ) loses the low bits of x − max when |max| is large
    shift2(xr, yr, cols, mx, Mathf.log(expShiftSumOnly(xr, cols, mx)));
  }
}

/**
 * Softmax's vector–Jacobian product from its output: dx = y·(dy − Σ dy·y).
 * Example (host): softmax_backward_f32(y, dy, dx, rows, cols).
 */
export function softmax_backward_f32(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const yr = at(y, o), gr = at(dy, o), dr = at(dx, o);
    const s = dot(yr, gr, cols);
    const vs = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128.store(at(dr, i), f32x4.mul(v128.load(at(yr, i)), f32x4.sub(v128.load(at(gr, i)), vs)));
    }
    for (; i < cols; i++) store<f32>(at(dr, i), load<f32>(at(yr, i)) * (load<f32>(at(gr, i)) - s));
  }
}

/**
 * Log-softmax's vector–Jacobian product from its output: dx = dy − e^y·Σ dy.
 * Example (host): log_softmax_backward_f32(y, dy, dx, rows, cols).
 */
export function log_softmax_backward_f32(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const yr = at(y, o), gr = at(dy, o), dr = at(dx, o);
    const s = sum(gr, cols);
    const vs = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128.store(at(dr, i), f32x4.sub(v128.load(at(gr, i)), f32x4.mul(exp4(v128.load(at(yr, i))), vs)));
    }
    for (; i < cols; i++) store<f32>(at(dr, i), load<f32>(at(gr, i)) - exp1(load<f32>(at(yr, i))) * s);
  }
}

/**
 * Fused softmax + cross-entropy: loss[r] = logsumexp(logits[r]) − logits[r][labels[r]],
 * probs[r] = softmax(logits[r]) (saved for the backward). labels are int32 in [0, cols),
 * checked by the host.
 * Example (host): softmax_xent_f32(logits, labels, loss, probs, 64, 10).
 */
export function softmax_xent_f32(logits: usize, labels: usize, loss: usize, probs: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = at(logits, r * cols), pr = at(probs, r * cols);
    const mx = rowMax(xr, cols);
    const s = expShiftSum(xr, pr, cols, mx);
    affine(pr, pr, cols, 1 / s, 0);
    const label = load<i32>(at(labels, r));
    store<f32>(at(loss, r), mx + Mathf.log(s) - load<f32>(at(xr, label)));
  }
}

/**
 * Gradient of the fused loss: dlogits[r] = (probs[r] − onehot(labels[r]))·dloss[r·dlossStride]·scale.
 * dlossStride 0 broadcasts one upstream gradient (a mean's) over every row.
 * Example (host): softmax_xent_backward_f32(probs, labels, dloss, 1, dlogits, rows, cols, 1).
 */
export function softmax_xent_backward_f32(
  probs: usize, labels: usize, dloss: usize, dlossStride: i32, dlogits: usize, rows: i32, cols: i32, scale: f32,
): void {
  for (let r = 0; r < rows; r++) {
    const pr = at(probs, r * cols), dr = at(dlogits, r * cols);
    const g = load<f32>(at(dloss, r * dlossStride)) * scale;
    affine(pr, dr, cols, g, 0);
    const label = load<i32>(at(labels, r));
    const lp = at(dr, label);
    store<f32>(lp, (load<f32>(at(pr, label)) - 1) * g);
  }
}
