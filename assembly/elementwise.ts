// Kernel family: elementwise. See docs/KERNELS.md for the ABI.
//
// Every kernel here maps element i of its inputs to element i of its output, so
// the host can split any kernel into index ranges across threads. To make a
// sub-range call give the same bits as a whole call, an element's value never
// depends on where it sits: the 4-wide body and the scalar tail run the very
// same v128 function (the tail on a splat, keeping lane 0).
//
// The exported kernels dispatch once on the op code and then run a loop
// specialised for that op: each loop helper is @inline with the op as its first
// argument, so Binaryen folds the per-op `if` chain away (no branch per vector).
//
// Transcendentals are SIMD polynomials from simd-math.ts (log4, tanh4, sincos4, ...
// with their accuracies); exp4 is simd.ts's. pow is scalar Mathf.pow per element
// (rare; its tables are static, read-only). Data movement and BLAS-1 updates
// (fill, axpy, scale, transpose, cast) are in movement.ts.
import { madd, exp4, fillRow } from "./simd";
import { log4, sigmoid4, tanh4, sincos4, phiNegAbs4, phi4, geluTanhExp4 } from "./simd-math";
import { UNARY_NEG, UNARY_EXP, UNARY_LOG, UNARY_SQRT, UNARY_ABS, UNARY_RELU, UNARY_SIGMOID, UNARY_TANH, UNARY_GELU, UNARY_SQUARE, UNARY_RSQRT, UNARY_RECIPROCAL, UNARY_SIN, UNARY_COS, UNARY_GELU_TANH, UNARY_SILU, UNARY_SIGN, UNARY_HARDSWISH, UNARY_FLOOR, UNARY_CEIL, UNARY_ROUND, UNARY_TRUNC, BINARY_ADD, BINARY_SUB, BINARY_MUL, BINARY_DIV, BINARY_MAX, BINARY_MIN, BINARY_POW, BINARY_EQ, BINARY_NE, BINARY_LT, BINARY_LE, BINARY_GT, BINARY_GE } from "./opcodes.generated";

// ---------------------------------------------------------------------------
// Unary

// @ts-ignore: decorator
@inline function unary4(op: i32, x: v128): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  if (op == UNARY_NEG) return f32x4.neg(x);
  if (op == UNARY_EXP) return exp4(x);
  if (op == UNARY_LOG) return log4(x);
  if (op == UNARY_SQRT) return f32x4.sqrt(x);
  if (op == UNARY_ABS) return f32x4.abs(x);
  if (op == UNARY_RELU) return f32x4.pmax(x, zero); // x < 0 ? 0 : x, so NaN stays NaN
  if (op == UNARY_SIGMOID) return sigmoid4(x);
  if (op == UNARY_TANH) return tanh4(x);
  if (op == UNARY_GELU) return f32x4.mul(x, phi4(x));
  if (op == UNARY_SQUARE) return f32x4.mul(x, x);
  if (op == UNARY_RSQRT) return f32x4.div(one, f32x4.sqrt(x));
  if (op == UNARY_RECIPROCAL) return f32x4.div(one, x);
  if (op == UNARY_SIN || op == UNARY_COS) {
    const r = sincos4(x, op == UNARY_COS);
    // sincos4's π/4 reduction in three f32 parts holds to |x| ≈ 8192; beyond it (rare: one compare
    // per vector) the lanes are redone in f64 with a full (Payne–Hanek) reduction, as PyTorch's sinf
    const far = f32x4.gt(f32x4.abs(x), f32x4.splat(8192.0));
    return v128.any_true(far) ? sinCosFar(x, r, far, op == UNARY_COS) : r;
  }
  // x/(1 + e^{…}): far left e^{…} overflows to inf, so the quotient is −0, and −inf/inf
  // is NaN, as PyTorch's x·sigmoid(x) at −inf
  if (op == UNARY_GELU_TANH) return f32x4.div(x, f32x4.add(one, geluTanhExp4(x)));
  if (op == UNARY_SILU) return f32x4.div(x, f32x4.add(one, exp4(f32x4.neg(x))));
  if (op == UNARY_SIGN) {
    const s = v128.or(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), f32x4.splat(-1.0)));
    return s; // sign(NaN) = 0, as torch.sign (1.13)
  }
  if (op == UNARY_HARDSWISH) {
    // x·relu6(x + 3)/6, in PyTorch's order (product, then the division); a NaN stays NaN
    const r6 = f32x4.pmin(f32x4.splat(6.0), f32x4.pmax(zero, f32x4.add(x, f32x4.splat(3.0))));
    return f32x4.div(f32x4.mul(x, v128.bitselect(x, r6, f32x4.ne(x, x))), f32x4.splat(6.0));
  }
  if (op == UNARY_FLOOR) return f32x4.floor(x);
  if (op == UNARY_CEIL) return f32x4.ceil(x);
  if (op == UNARY_ROUND) return f32x4.nearest(x); // ties to even, as torch.round
  if (op == UNARY_TRUNC) return f32x4.trunc(x);
  return f32x4.splat(NaN);
}

/** r with its `far` lanes replaced by sin (cos) of x computed in f64 (no scratch memory: threads share it). */
// @ts-ignore: decorator
@inline function sinCosFar(x: v128, r: v128, far: v128, isCos: bool): v128 {
  if (i32x4.extract_lane(far, 0) != 0) r = f32x4.replace_lane(r, 0, sinCos64(f32x4.extract_lane(x, 0), isCos));
  if (i32x4.extract_lane(far, 1) != 0) r = f32x4.replace_lane(r, 1, sinCos64(f32x4.extract_lane(x, 1), isCos));
  if (i32x4.extract_lane(far, 2) != 0) r = f32x4.replace_lane(r, 2, sinCos64(f32x4.extract_lane(x, 2), isCos));
  if (i32x4.extract_lane(far, 3) != 0) r = f32x4.replace_lane(r, 3, sinCos64(f32x4.extract_lane(x, 3), isCos));
  return r;
}

function sinCos64(x: f32, isCos: bool): f32 {
  return <f32>(isCos ? Math.cos(<f64>x) : Math.sin(<f64>x));
}

/** Whether the backward of `op` reads y = f(x) (it never reads y otherwise). */
// @ts-ignore: decorator
@inline function backwardReadsY(op: i32): bool {
  return op == UNARY_EXP || op == UNARY_SQRT || op == UNARY_SIGMOID || op == UNARY_TANH ||
    op == UNARY_RSQRT || op == UNARY_RECIPROCAL;
}

// @ts-ignore: decorator
@inline function unaryBackward4(op: i32, x: v128, y: v128, dy: v128): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0.0);
  if (op == UNARY_NEG) return f32x4.neg(dy);
  if (op == UNARY_EXP) return f32x4.mul(dy, y);
  if (op == UNARY_LOG) return f32x4.div(dy, x);
  if (op == UNARY_SQRT) return f32x4.div(f32x4.mul(dy, f32x4.splat(0.5)), y);
  if (op == UNARY_ABS) {
    // dy·sign(x), sign(0) = 0 (as PyTorch)
    const s = v128.or(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), f32x4.splat(-1.0)));
    return f32x4.mul(dy, s);
  }
  if (op == UNARY_RELU) return v128.andnot(dy, f32x4.le(x, zero)); // a NaN passes dy on, as PyTorch's threshold_backward
  if (op == UNARY_SIGMOID) return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
  if (op == UNARY_TANH) return f32x4.mul(dy, nmadd1(y, y, one));
  if (op == UNARY_GELU) {
    // Φ(x) + x·φ(x), φ(x) = e^{-x²/2}/√(2π)
    const pdf = f32x4.mul(exp4(f32x4.mul(f32x4.mul(x, x), f32x4.splat(-0.5))), f32x4.splat(0.3989422804014327));
    return f32x4.mul(dy, madd(x, pdf, phi4(x)));
  }
  if (op == UNARY_SQUARE) return f32x4.mul(dy, f32x4.add(x, x));
  if (op == UNARY_RSQRT) return f32x4.mul(f32x4.mul(dy, f32x4.splat(-0.5)), f32x4.mul(f32x4.mul(y, y), y));
  if (op == UNARY_RECIPROCAL) return f32x4.neg(f32x4.mul(dy, f32x4.mul(y, y)));
  if (op == UNARY_SIN) return f32x4.mul(dy, unary4(UNARY_COS, x));
  if (op == UNARY_COS) return f32x4.neg(f32x4.mul(dy, unary4(UNARY_SIN, x)));
  if (op == UNARY_GELU_TANH) {
    // s = sigmoid(2u), 1 − s = e·s with e = e^{-2u}: d/dx = s + 2x·s(1−s)·u'
    const e = geluTanhExp4(x);
    const s = f32x4.div(one, f32x4.add(one, e));
    // 1 − s = e·s, 0 where e overflows (there s = 0, and PyTorch's s·(1 − s) is 0)
    const es = v128.andnot(f32x4.mul(e, s), f32x4.eq(e, f32x4.splat(Infinity)));
    const du = madd(f32x4.mul(x, x), f32x4.splat(0.2140644427938225), f32x4.splat(1.5957691216057308)); // 2u'
    return f32x4.mul(dy, madd(f32x4.mul(x, f32x4.mul(s, es)), du, s));
  }
  if (op == UNARY_SILU) {
    // s·(1 + x·(1 − s)), 1 − s = e·s with e = e^{-x}
    const e = exp4(f32x4.neg(x));
    const s = f32x4.div(one, f32x4.add(one, e));
    const es = v128.andnot(f32x4.mul(e, s), f32x4.eq(e, f32x4.splat(Infinity))); // 1 − s, as gelu_tanh's
    return f32x4.mul(dy, f32x4.mul(s, madd(x, es, one)));
  }
  if (op == UNARY_SIGN) return zero;
  if (op == UNARY_HARDSWISH) {
    // PyTorch's: 0 below −3, dy·(x/3 + ½) on [−3, 3], dy above 3
    const mid = f32x4.mul(dy, f32x4.add(f32x4.div(x, f32x4.splat(3.0)), f32x4.splat(0.5)));
    const upper = v128.bitselect(mid, dy, v128.or(f32x4.le(x, f32x4.splat(3.0)), f32x4.ne(x, x))); // NaN: NaN
    return v128.andnot(upper, f32x4.lt(x, f32x4.splat(-3.0)));
  }
  // step functions: gradient 0 everywhere, as PyTorch
  if (op == UNARY_FLOOR || op == UNARY_CEIL || op == UNARY_ROUND || op == UNARY_TRUNC) return zero;
  return f32x4.splat(NaN);
}

/** 1 − a·b, unfused (tanh' = 1 − y² near ±1 wants the same rounding in both binaries). */
// @ts-ignore: decorator
@inline function nmadd1(a: v128, b: v128, c: v128): v128 {
  return f32x4.sub(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, unary4(op, v128.load(x + i)));
  for (; i < nb; i += 4) store<f32>(y + i, f32x4.extract_lane(unary4(op, f32x4.splat(load<f32>(x + i))), 0));
}

// @ts-ignore: decorator
@inline function unaryBackwardLoop(op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) {
    const xv = v128.load(x + i);
    const yv = backwardReadsY(op) ? v128.load(y + i) : xv;
    v128.store(dx + i, unaryBackward4(op, xv, yv, v128.load(dy + i)));
  }
  for (; i < nb; i += 4) {
    const xv = f32x4.splat(load<f32>(x + i));
    const yv = backwardReadsY(op) ? f32x4.splat(load<f32>(y + i)) : xv;
    store<f32>(dx + i, f32x4.extract_lane(unaryBackward4(op, xv, yv, f32x4.splat(load<f32>(dy + i))), 0));
  }
}

/** y = f(x) elementwise, f chosen by the UNARY_* op code. y may equal x. */
export function unary_f32(op: i32, x: usize, y: usize, n: i32): void {
  switch (op) {
    case UNARY_NEG: unaryLoop(UNARY_NEG, x, y, n); break;
    case UNARY_EXP: unaryLoop(UNARY_EXP, x, y, n); break;
    case UNARY_LOG: unaryLoop(UNARY_LOG, x, y, n); break;
    case UNARY_SQRT: unaryLoop(UNARY_SQRT, x, y, n); break;
    case UNARY_ABS: unaryLoop(UNARY_ABS, x, y, n); break;
    case UNARY_RELU: unaryLoop(UNARY_RELU, x, y, n); break;
    case UNARY_SIGMOID: unaryLoop(UNARY_SIGMOID, x, y, n); break;
    case UNARY_TANH: unaryLoop(UNARY_TANH, x, y, n); break;
    case UNARY_GELU: unaryLoop(UNARY_GELU, x, y, n); break;
    case UNARY_SQUARE: unaryLoop(UNARY_SQUARE, x, y, n); break;
    case UNARY_RSQRT: unaryLoop(UNARY_RSQRT, x, y, n); break;
    case UNARY_RECIPROCAL: unaryLoop(UNARY_RECIPROCAL, x, y, n); break;
    case UNARY_SIN: unaryLoop(UNARY_SIN, x, y, n); break;
    case UNARY_COS: unaryLoop(UNARY_COS, x, y, n); break;
    case UNARY_GELU_TANH: unaryLoop(UNARY_GELU_TANH, x, y, n); break;
    case UNARY_SILU: unaryLoop(UNARY_SILU, x, y, n); break;
    case UNARY_SIGN: unaryLoop(UNARY_SIGN, x, y, n); break;
    case UNARY_HARDSWISH: unaryLoop(UNARY_HARDSWISH, x, y, n); break;
    case UNARY_FLOOR: unaryLoop(UNARY_FLOOR, x, y, n); break;
    case UNARY_CEIL: unaryLoop(UNARY_CEIL, x, y, n); break;
    case UNARY_ROUND: unaryLoop(UNARY_ROUND, x, y, n); break;
    case UNARY_TRUNC: unaryLoop(UNARY_TRUNC, x, y, n); break;
  }
}

/**
 * dx = dy·f'(x) for the UNARY_* op. y = f(x) is read only by exp, sqrt, sigmoid,
 * tanh, rsqrt and reciprocal (the others may pass any pointer). dx may equal dy.
 */
export function unary_backward_f32(op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32): void {
  switch (op) {
    case UNARY_NEG: unaryBackwardLoop(UNARY_NEG, x, y, dy, dx, n); break;
    case UNARY_EXP: unaryBackwardLoop(UNARY_EXP, x, y, dy, dx, n); break;
    case UNARY_LOG: unaryBackwardLoop(UNARY_LOG, x, y, dy, dx, n); break;
    case UNARY_SQRT: unaryBackwardLoop(UNARY_SQRT, x, y, dy, dx, n); break;
    case UNARY_ABS: unaryBackwardLoop(UNARY_ABS, x, y, dy, dx, n); break;
    case UNARY_RELU: unaryBackwardLoop(UNARY_RELU, x, y, dy, dx, n); break;
    case UNARY_SIGMOID: unaryBackwardLoop(UNARY_SIGMOID, x, y, dy, dx, n); break;
    case UNARY_TANH: unaryBackwardLoop(UNARY_TANH, x, y, dy, dx, n); break;
    case UNARY_GELU: unaryBackwardLoop(UNARY_GELU, x, y, dy, dx, n); break;
    case UNARY_SQUARE: unaryBackwardLoop(UNARY_SQUARE, x, y, dy, dx, n); break;
    case UNARY_RSQRT: unaryBackwardLoop(UNARY_RSQRT, x, y, dy, dx, n); break;
    case UNARY_RECIPROCAL: unaryBackwardLoop(UNARY_RECIPROCAL, x, y, dy, dx, n); break;
    case UNARY_SIN: unaryBackwardLoop(UNARY_SIN, x, y, dy, dx, n); break;
    case UNARY_COS: unaryBackwardLoop(UNARY_COS, x, y, dy, dx, n); break;
    case UNARY_GELU_TANH: unaryBackwardLoop(UNARY_GELU_TANH, x, y, dy, dx, n); break;
    case UNARY_SILU: unaryBackwardLoop(UNARY_SILU, x, y, dy, dx, n); break;
    case UNARY_SIGN: unaryBackwardLoop(UNARY_SIGN, x, y, dy, dx, n); break;
    case UNARY_HARDSWISH: unaryBackwardLoop(UNARY_HARDSWISH, x, y, dy, dx, n); break;
    case UNARY_FLOOR: unaryBackwardLoop(UNARY_FLOOR, x, y, dy, dx, n); break;
    case UNARY_CEIL: unaryBackwardLoop(UNARY_CEIL, x, y, dy, dx, n); break;
    case UNARY_ROUND: unaryBackwardLoop(UNARY_ROUND, x, y, dy, dx, n); break;
    case UNARY_TRUNC: unaryBackwardLoop(UNARY_TRUNC, x, y, dy, dx, n); break;
  }
}

// ---------------------------------------------------------------------------
// Binary

/** a^b with C's (and PyTorch's) special cases: Mathf.pow gives NaN for 1^NaN, C gives 1. */
function powf(a: f32, b: f32): f32 {
  return a == 1 ? 1 : Mathf.pow(a, b);
}

// @ts-ignore: decorator
@inline function pow4(a: v128, b: v128): v128 {
  let r = f32x4.splat(powf(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, powf(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, powf(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  r = f32x4.replace_lane(r, 3, powf(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
  return r;
}

// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1.0);
  if (op == BINARY_ADD) return f32x4.add(a, b);
  if (op == BINARY_SUB) return f32x4.sub(a, b);
  if (op == BINARY_MUL) return f32x4.mul(a, b);
  if (op == BINARY_DIV) return f32x4.div(a, b);
  if (op == BINARY_MAX) return f32x4.max(a, b); // NaN-propagating, as torch.maximum
  if (op == BINARY_MIN) return f32x4.min(a, b);
  if (op == BINARY_POW) return pow4(a, b);
  if (op == BINARY_EQ) return v128.and(f32x4.eq(a, b), one);
  if (op == BINARY_NE) return v128.and(f32x4.ne(a, b), one);
  if (op == BINARY_LT) return v128.and(f32x4.lt(a, b), one);
  if (op == BINARY_LE) return v128.and(f32x4.le(a, b), one);
  if (op == BINARY_GT) return v128.and(f32x4.gt(a, b), one);
  if (op == BINARY_GE) return v128.and(f32x4.ge(a, b), one);
  return f32x4.splat(NaN);
}

/** One element, the same bits as a lane of binary4. */
// @ts-ignore: decorator
@inline function binary1(op: i32, a: f32, b: f32): f32 {
  if (op == BINARY_POW) return powf(a, b);
  return f32x4.extract_lane(binary4(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

/** y[i] = a[i] op b[i]. */
// @ts-ignore: decorator
@inline function binaryLoopVV(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, binary4(op, v128.load(a + i), v128.load(b + i)));
  for (; i < nb; i += 4) store<f32>(y + i, binary1(op, load<f32>(a + i), load<f32>(b + i)));
}

/** y[i] = a[i] op s. */
// @ts-ignore: decorator
@inline function binaryLoopVS(op: i32, a: usize, s: f32, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const sv = f32x4.splat(s);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, binary4(op, v128.load(a + i), sv));
  for (; i < nb; i += 4) store<f32>(y + i, binary1(op, load<f32>(a + i), s));
}

/** y[i] = s op b[i]. */
// @ts-ignore: decorator
@inline function binaryLoopSV(op: i32, s: f32, b: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const sv = f32x4.splat(s);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, binary4(op, sv, v128.load(b + i)));
  for (; i < nb; i += 4) store<f32>(y + i, binary1(op, s, load<f32>(b + i)));
}

/** y[i] = a[i·sa] op b[i·sb] for any strides (in elements, may be 0 or negative). */
// @ts-ignore: decorator
@inline function binaryLoopStrided(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  const sab = <usize>(<isize>sa << 2);
  const sbb = <usize>(<isize>sb << 2);
  for (let i = 0; i < n; i++) {
    store<f32>(y + (<usize>i << 2), binary1(op, load<f32>(a), load<f32>(b)));
    a += sab;
    b += sbb;
  }
}

// @ts-ignore: decorator
@inline function binaryRowOp(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  if (sa == 1 && sb == 1) binaryLoopVV(op, a, b, y, n);
  else if (sa == 1 && sb == 0) binaryLoopVS(op, a, load<f32>(b), y, n);
  else if (sa == 0 && sb == 1) binaryLoopSV(op, load<f32>(a), b, y, n);
  else if (sa == 0 && sb == 0) fillRow(y, n, binary1(op, load<f32>(a), load<f32>(b)));
  else binaryLoopStrided(op, a, sa, b, sb, y, n);
}

/** One contiguous output row of a broadcast binary op; SIMD when the strides are (1,1), (1,0) or (0,1). */
function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  switch (op) {
    case BINARY_ADD: binaryRowOp(BINARY_ADD, a, sa, b, sb, y, n); break;
    case BINARY_SUB: binaryRowOp(BINARY_SUB, a, sa, b, sb, y, n); break;
    case BINARY_MUL: binaryRowOp(BINARY_MUL, a, sa, b, sb, y, n); break;
    case BINARY_DIV: binaryRowOp(BINARY_DIV, a, sa, b, sb, y, n); break;
    case BINARY_MAX: binaryRowOp(BINARY_MAX, a, sa, b, sb, y, n); break;
    case BINARY_MIN: binaryRowOp(BINARY_MIN, a, sa, b, sb, y, n); break;
    case BINARY_POW: binaryRowOp(BINARY_POW, a, sa, b, sb, y, n); break;
    case BINARY_EQ: binaryRowOp(BINARY_EQ, a, sa, b, sb, y, n); break;
    case BINARY_NE: binaryRowOp(BINARY_NE, a, sa, b, sb, y, n); break;
    case BINARY_LT: binaryRowOp(BINARY_LT, a, sa, b, sb, y, n); break;
    case BINARY_LE: binaryRowOp(BINARY_LE, a, sa, b, sb, y, n); break;
    case BINARY_GT: binaryRowOp(BINARY_GT, a, sa, b, sb, y, n); break;
    case BINARY_GE: binaryRowOp(BINARY_GE, a, sa, b, sb, y, n); break;
  }
}

// @ts-ignore: decorator
@inline function binaryScalarOp(op: i32, a: usize, s: f32, y: usize, n: i32, reversed: i32): void {
  if (reversed) binaryLoopSV(op, s, a, y, n);
  else binaryLoopVS(op, a, s, y, n);
}

/** y = a op b, all contiguous with n elements. y may equal a or b. */
export function binary_f32(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  binaryRow(op, a, 1, b, 1, y, n);
}

/** y = a op s (reversed ≠ 0: y = s op a). y may equal a. */
export function binary_scalar_f32(op: i32, a: usize, s: f32, y: usize, n: i32, reversed: i32): void {
  switch (op) {
    case BINARY_ADD: binaryScalarOp(BINARY_ADD, a, s, y, n, reversed); break;
    case BINARY_SUB: binaryScalarOp(BINARY_SUB, a, s, y, n, reversed); break;
    case BINARY_MUL: binaryScalarOp(BINARY_MUL, a, s, y, n, reversed); break;
    case BINARY_DIV: binaryScalarOp(BINARY_DIV, a, s, y, n, reversed); break;
    case BINARY_MAX: binaryScalarOp(BINARY_MAX, a, s, y, n, reversed); break;
    case BINARY_MIN: binaryScalarOp(BINARY_MIN, a, s, y, n, reversed); break;
    case BINARY_POW: binaryScalarOp(BINARY_POW, a, s, y, n, reversed); break;
    case BINARY_EQ: binaryScalarOp(BINARY_EQ, a, s, y, n, reversed); break;
    case BINARY_NE: binaryScalarOp(BINARY_NE, a, s, y, n, reversed); break;
    case BINARY_LT: binaryScalarOp(BINARY_LT, a, s, y, n, reversed); break;
    case BINARY_LE: binaryScalarOp(BINARY_LE, a, s, y, n, reversed); break;
    case BINARY_GT: binaryScalarOp(BINARY_GT, a, s, y, n, reversed); break;
    case BINARY_GE: binaryScalarOp(BINARY_GE, a, s, y, n, reversed); break;
  }
}

// @ts-ignore: decorator
@inline function descAt(desc: usize, i: i32): i32 {
  return load<i32>(desc + (<usize>i << 2));
}

/**
 * Broadcasting y = a op b. desc is i32[3·rank]: the output shape, a's strides,
 * b's strides (elements; 0 on broadcast axes; any sign). y is contiguous.
 *
 * Trailing axes are first coalesced into one inner row while both operands stay
 * "contiguous at their inner stride" (stride[d] = innerStride·rowLength, which
 * also merges axes broadcast in both, stride 0), and size-1 axes are skipped.
 * Each row then runs one SIMD loop (strides (1,1), (1,0), (0,1)) or a scalar
 * one. The axis just outside the row is walked incrementally; the others are
 * recomputed by division only when it wraps, so no index array is needed.
 * Rank 0 (a scalar) writes one element.
 */
export function binary_strided_f32(op: i32, a: usize, b: usize, y: usize, rank: i32, desc: usize): void {
  // The innermost axis with size > 1 (axes of size 1 contribute nothing).
  let total: usize = 1;
  for (let d = 0; d < rank; d++) {
    const s = descAt(desc, d);
    if (s <= 0) return; // empty output
    total *= <usize>s;
  }
  let last = rank - 1;
  while (last >= 0 && descAt(desc, last) == 1) last--;
  if (last < 0) {
    store<f32>(y, binary1Dispatch(op, load<f32>(a), load<f32>(b)));
    return;
  }
  const sa = descAt(desc, rank + last);
  const sb = descAt(desc, 2 * rank + last);
  let rowLen = descAt(desc, last);
  let d = last - 1;
  for (; d >= 0; d--) {
    const sz = descAt(desc, d);
    if (sz == 1) continue;
    if (descAt(desc, rank + d) != sa * rowLen || descAt(desc, 2 * rank + d) != sb * rowLen) break;
    rowLen *= sz;
  }
  // Axes 0..d are the outer ones; `d` (if ≥ 0) is walked incrementally.
  const rows = <i32>(total / <usize>rowLen);
  if (d < 0) {
    binaryRow(op, a, sa, b, sb, y, rowLen);
    return;
  }
  const nd = descAt(desc, d);
  const sad = <isize>descAt(desc, rank + d) << 2;
  const sbd = <isize>descAt(desc, 2 * rank + d) << 2;
  const rowBytes = <usize>rowLen << 2;
  let cnt = 0;
  let pa = a, pb = b, py = y;
  for (let r = 0; r < rows; r++) {
    binaryRow(op, pa, sa, pb, sb, py, rowLen);
    py += rowBytes;
    if (++cnt < nd) {
      pa += <usize>sad;
      pb += <usize>sbd;
    } else if (r + 1 < rows) {
      // Axis d wrapped: recompute the offsets of axes 0..d-1 from the row index.
      cnt = 0;
      let q = (r + 1) / nd;
      let offA: isize = 0, offB: isize = 0;
      for (let e = d - 1; e >= 0 && q > 0; e--) {
        const sz = descAt(desc, e);
        const c = q % sz;
        q /= sz;
        offA += <isize>c * <isize>descAt(desc, rank + e);
        offB += <isize>c * <isize>descAt(desc, 2 * rank + e);
      }
      pa = a + <usize>(offA << 2);
      pb = b + <usize>(offB << 2);
    }
  }
}

/** binary1 for a runtime op (the rank-0 case only). */
function binary1Dispatch(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case BINARY_ADD: return binary1(BINARY_ADD, a, b);
    case BINARY_SUB: return binary1(BINARY_SUB, a, b);
    case BINARY_MUL: return binary1(BINARY_MUL, a, b);
    case BINARY_DIV: return binary1(BINARY_DIV, a, b);
    case BINARY_MAX: return binary1(BINARY_MAX, a, b);
    case BINARY_MIN: return binary1(BINARY_MIN, a, b);
    case BINARY_POW: return binary1(BINARY_POW, a, b);
    case BINARY_EQ: return binary1(BINARY_EQ, a, b);
    case BINARY_NE: return binary1(BINARY_NE, a, b);
    case BINARY_LT: return binary1(BINARY_LT, a, b);
    case BINARY_LE: return binary1(BINARY_LE, a, b);
    case BINARY_GT: return binary1(BINARY_GT, a, b);
    case BINARY_GE: return binary1(BINARY_GE, a, b);
  }
  return NaN;
}

// ---------------------------------------------------------------------------
// Gated activations

/** silu(g)·u, silu exactly as unary_f32's (so the fused op equals silu(g) then mul, bit for bit). */
// @ts-ignore: decorator
@inline function swiglu4(g: v128, u: v128): v128 {
  return f32x4.mul(unary4(UNARY_SILU, g), u);
}

/** y = silu(g)·u elementwise (Llama's gated MLP). y may equal g or u. */
export function swiglu_f32(g: usize, u: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, swiglu4(v128.load(g + i), v128.load(u + i)));
  for (; i < nb; i += 4) {
    store<f32>(y + i, f32x4.extract_lane(swiglu4(f32x4.splat(load<f32>(g + i)), f32x4.splat(load<f32>(u + i))), 0));
  }
}

/** dy·s·(1 + x·(1 − s)) given e = e^{−x} and den = 1 + e: unaryBackward4's UNARY_SILU, term for term. */
// @ts-ignore: decorator
@inline function siluGrad4(x: v128, e: v128, den: v128, dy: v128): v128 {
  const one = f32x4.splat(1.0);
  const s = f32x4.div(one, den);
  const es = v128.andnot(f32x4.mul(e, s), f32x4.eq(e, f32x4.splat(Infinity)));
  return f32x4.mul(dy, f32x4.mul(s, madd(x, es, one)));
}

/**
 * dg = (dy·u)·silu'(g) (unary_backward_f32's silu derivative), du = dy·silu(g).
 * One e^{−g} serves both: silu(g) = g/(1 + e) and s = 1/(1 + e) round as
 * unary_f32's silu and unary_backward_f32's s do, so both gradients equal the
 * unfused kernels' bit for bit. dg may equal dy (each element's dy is read before
 * it is written).
 */
export function swiglu_backward_f32(g: usize, u: usize, dy: usize, dg: usize, du: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) {
    const gv = v128.load(g + i), dv = v128.load(dy + i);
    const e = exp4(f32x4.neg(gv));
    const den = f32x4.add(f32x4.splat(1.0), e);
    v128.store(du + i, f32x4.mul(dv, f32x4.div(gv, den)));
    v128.store(dg + i, siluGrad4(gv, e, den, f32x4.mul(dv, v128.load(u + i))));
  }
  for (; i < nb; i += 4) {
    const gv = f32x4.splat(load<f32>(g + i)), dv = f32x4.splat(load<f32>(dy + i));
    const e = exp4(f32x4.neg(gv));
    const den = f32x4.add(f32x4.splat(1.0), e);
    store<f32>(du + i, f32x4.extract_lane(f32x4.mul(dv, f32x4.div(gv, den)), 0));
    store<f32>(dg + i, f32x4.extract_lane(siluGrad4(gv, e, den, f32x4.mul(dv, f32x4.splat(load<f32>(u + i)))), 0));
  }
}

// ---------------------------------------------------------------------------
// Selection and clamping

/** y = cond ≠ 0 ? a : b (cond is f32; NaN counts as ≠ 0). */
export function where_f32(cond: usize, a: usize, b: usize, y: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const zero = f32x4.splat(0.0);
  let i: usize = 0;
  for (; i < n4; i += 16) {
    v128.store(y + i, v128.bitselect(v128.load(a + i), v128.load(b + i), f32x4.ne(v128.load(cond + i), zero)));
  }
  for (; i < nb; i += 4) store<f32>(y + i, load<f32>(cond + i) != 0 ? load<f32>(a + i) : load<f32>(b + i));
}

/** y = min(max(x, lo), hi); NaN stays NaN (as torch.clamp). */
export function clamp_f32(x: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const lv = f32x4.splat(lo), hv = f32x4.splat(hi);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, f32x4.min(f32x4.max(v128.load(x + i), lv), hv));
  for (; i < nb; i += 4) {
    store<f32>(y + i, f32x4.extract_lane(f32x4.min(f32x4.max(f32x4.splat(load<f32>(x + i)), lv), hv), 0));
  }
}

/** dx = dy where lo ≤ x ≤ hi, else 0 (PyTorch: the bounds pass the gradient). */
export function clamp_backward_f32(x: usize, dy: usize, dx: usize, n: i32, lo: f32, hi: f32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const lv = f32x4.splat(lo), hv = f32x4.splat(hi);
  let i: usize = 0;
  for (; i < n4; i += 16) {
    const xv = v128.load(x + i);
    v128.store(dx + i, v128.and(v128.load(dy + i), v128.and(f32x4.ge(xv, lv), f32x4.le(xv, hv))));
  }
  for (; i < nb; i += 4) {
    const xv = load<f32>(x + i);
    store<f32>(dx + i, xv >= lo && xv <= hi ? load<f32>(dy + i) : 0);
  }
}
