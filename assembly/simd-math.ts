// SIMD transcendentals for the element-wise maps (elementwise.ts): four lanes per
// call, @inline, so each map's loop holds its polynomial with no call. exp is
// exp4 in simd.ts (softmax, attention and the optimizers use it too).
//
// Cephes-style ranges and coefficients, all within a few ulp on their documented ranges:
//   exp         exp4 from simd.ts (< 2 ulp on [-87, 88.7], C's inf, denormals and 0 outside);
//               sigmoid, tanh and Φ use exp4Clamped (their results do not need its ends).
//   log         mantissa in [√½, √2), degree-9 polynomial for log(1+f) (Cephes logf).
//   tanh        odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|}+1) above.
//   sigmoid     1/(1 + e^{-x});  silu = x·sigmoid(x).
//   sin, cos    reduction by π/4 in three parts (Cephes sinf/cosf, as in sse_mathfun);
//               accurate for |x| up to about 8192 (the reduction loses bits beyond).
//   gelu        x·Φ(x) with Φ from erfc (Numerical Recipes' erfcc Chebyshev fit,
//               relative error < 1.2e-7 for every argument): Φ(x) = ½·erfc(|x|/√2)
//               for x < 0 and 1 − that for x ≥ 0, so the negative tail keeps its
//               relative accuracy instead of cancelling in 1 + erf(x/√2).
//   gelu_tanh   0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)(x + 0.044715x³),
//               written as a sigmoid for the same reason.
import { madd, exp4, exp4Clamped } from "./simd";

const SIGN_MASK: i32 = 0x80000000;

/** Natural log on four lanes: log(-x) = NaN, log(±0) = -inf, log(inf) = inf, subnormals handled. */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  // Subnormals: scale by 2^23 so the exponent field is meaningful.
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, tiny);
  let e = i32x4.sub(i32x4.shr_u(xs, 23), i32x4.splat(127));
  e = i32x4.add(e, v128.and(tiny, i32x4.splat(-23)));
  // Mantissa m in [1, 2); fold into [√½, √2] so log(1 + f) has |f| ≤ 0.42.
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(1.41421356237));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are -1
  const f = f32x4.sub(m, f32x4.splat(1.0)); // exact (Sterbenz)
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let p = f32x4.splat(7.0376836292e-2);
  p = madd(p, f, f32x4.splat(-1.1514610310e-1));
  p = madd(p, f, f32x4.splat(1.1676998740e-1));
  p = madd(p, f, f32x4.splat(-1.2420140846e-1));
  p = madd(p, f, f32x4.splat(1.4249322787e-1));
  p = madd(p, f, f32x4.splat(-1.6668057665e-1));
  p = madd(p, f, f32x4.splat(2.0000714765e-1));
  p = madd(p, f, f32x4.splat(-2.4999993993e-1));
  p = madd(p, f, f32x4.splat(3.3333331174e-1));
  p = f32x4.mul(f32x4.mul(p, f), z);
  p = madd(ef, f32x4.splat(-2.12194440e-4), p);
  p = madd(z, f32x4.splat(-0.5), p);
  let r = f32x4.add(f, p);
  r = madd(ef, f32x4.splat(0.693359375), r);
  // Special values.
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0.0)));
  r = v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
  r = v128.bitselect(f32x4.splat(NaN), r, v128.or(f32x4.lt(x, f32x4.splat(0.0)), f32x4.ne(x, x)));
  return r;
}

/** 1 / (1 + e^{-x}). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp4Clamped(f32x4.neg(x))));
}

/** tanh on four lanes. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  const ax = f32x4.abs(x);
  // |x| < 0.625: x + x·z·P(z), z = x² (Cephes tanhf).
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = madd(p, z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  // Otherwise 1 − 2/(e^{2|x|} + 1) with the sign of x (exp4 clamps, so large |x| gives ±1).
  const e = exp4Clamped(f32x4.add(ax, ax));
  let large = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(e, one)));
  large = v128.or(large, v128.and(x, i32x4.splat(SIGN_MASK)));
  return v128.bitselect(small, large, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** sin (cos when IS_COS) on four lanes: Cephes sinf/cosf as in sse_mathfun. */
// @ts-ignore: decorator
@inline export function sincos4(x: v128, isCos: bool): v128 {
  let sign = isCos ? i32x4.splat(0) : v128.and(x, i32x4.splat(SIGN_MASK));
  let ax = f32x4.abs(x);
  // j = nearest even integer above ⌊|x|·4/π⌋: the octant pair.
  let j = i32x4.trunc_sat_f32x4_s(f32x4.mul(ax, f32x4.splat(1.27323954473516)));
  j = v128.and(i32x4.add(j, i32x4.splat(1)), i32x4.splat(~1));
  const y = f32x4.convert_i32x4_s(j);
  if (isCos) {
    j = i32x4.sub(j, i32x4.splat(2));
    sign = i32x4.shl(v128.andnot(i32x4.splat(4), j), 29);
  } else {
    sign = v128.xor(sign, i32x4.shl(v128.and(j, i32x4.splat(4)), 29));
  }
  const useSin = i32x4.eq(v128.and(j, i32x4.splat(2)), i32x4.splat(0));
  // ax − y·π/4 in three parts.
  ax = madd(y, f32x4.splat(-0.78515625), ax);
  ax = madd(y, f32x4.splat(-2.4187564849853515625e-4), ax);
  ax = madd(y, f32x4.splat(-3.77489497744594108e-8), ax);
  const z = f32x4.mul(ax, ax);
  let c = f32x4.splat(2.443315711809948e-5);
  c = madd(c, z, f32x4.splat(-1.388731625493765e-3));
  c = madd(c, z, f32x4.splat(4.166664568298827e-2));
  c = f32x4.mul(f32x4.mul(c, z), z);
  c = madd(z, f32x4.splat(-0.5), c);
  c = f32x4.add(c, f32x4.splat(1.0));
  let s = f32x4.splat(-1.9515295891e-4);
  s = madd(s, z, f32x4.splat(8.3321608736e-3));
  s = madd(s, z, f32x4.splat(-1.6666654611e-1));
  s = madd(f32x4.mul(s, z), ax, ax);
  return v128.xor(v128.bitselect(s, c, useSin), sign);
}

/** ½·erfc(|x|/√2) = Φ(−|x|), relative error ~2e-7 for every x (Numerical Recipes' erfcc). */
// @ts-ignore: decorator
@inline export function phiNegAbs4(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678118654752));
  const t = f32x4.div(f32x4.splat(1.0), madd(z, f32x4.splat(0.5), f32x4.splat(1.0)));
  let p = f32x4.splat(0.17087277);
  p = madd(p, t, f32x4.splat(-0.82215223));
  p = madd(p, t, f32x4.splat(1.48851587));
  p = madd(p, t, f32x4.splat(-1.13520398));
  p = madd(p, t, f32x4.splat(0.27886807));
  p = madd(p, t, f32x4.splat(-0.18628806));
  p = madd(p, t, f32x4.splat(0.09678418));
  p = madd(p, t, f32x4.splat(0.37409196));
  p = madd(p, t, f32x4.splat(1.00002368));
  p = madd(p, t, f32x4.splat(-1.26551223));
  p = f32x4.sub(p, f32x4.mul(z, z));
  return f32x4.mul(f32x4.mul(t, f32x4.splat(0.5)), exp4Clamped(p));
}

/** Φ(x), the standard normal CDF: ½·(1 + erf(x/√2)). */
// @ts-ignore: decorator
@inline export function phi4(x: v128): v128 {
  const h = phiNegAbs4(x);
  return v128.bitselect(h, f32x4.sub(f32x4.splat(1.0), h), f32x4.lt(x, f32x4.splat(0.0)));
}

/** e^{-2u} for gelu_tanh, u = √(2/π)(x + 0.044715x³). */
// @ts-ignore: decorator
@inline export function geluTanhExp4(x: v128): v128 {
  // -2u = x·(-2√(2/π))·(1 + 0.044715x²)
  const inner = madd(f32x4.mul(x, x), f32x4.splat(0.044715), f32x4.splat(1.0));
  return exp4(f32x4.mul(f32x4.mul(x, f32x4.splat(-1.5957691216057308)), inner));
}
