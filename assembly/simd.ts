// Shared SIMD building blocks for every kernel family.
//
// The same sources compile to several binaries (scripts/build-wasm.mjs);
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so each binary holds
// only one of the two paths below and the branch costs nothing.

/** c + a*b: one fused f32x4.relaxed_madd where the binary has relaxed SIMD, mul+add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** c - a*b (fused where the binary has relaxed SIMD). */
// @ts-ignore: decorator
@inline export function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

/**
 * e^r for r = x − n·ln2 (n = fx, ln2 in two parts for precision, |r| ≤ ln2/2): the
 * degree-6 polynomial both exp4 and exp4Clamped scale by 2^n.
 */
// @ts-ignore: decorator
@inline function expReduced4(x: v128, fx: v128): v128 {
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(fx, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  return madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1.0)));
}

/**
 * e^x on four lanes. Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2,
 * a degree-6 polynomial for e^r, and 2^n built in the exponent bits.
 * Relative error below 2 ulp over [-87, 88.72]; below -87.3 the result is a
 * denormal (gradual underflow), from about -103.98 it is 0, above 88.7228 it is
 * inf, and NaN gives NaN: PyTorch's (C's) expf at every special value.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax (one instruction each on x86; min/max need several for their NaN rules); NaN passes through.
  // The clamp is just outside exp's finite range (e^88.7228… is FLT_MAX's neighbour, e^-103.97… the
  // smallest denormal): e^89 overflows to inf and e^-104 rounds to 0 in the last multiply, so ±inf and
  // every argument beyond give PyTorch's inf and 0 with no select.
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(89.0)), f32x4.splat(-104.0));
  // n = round(x / ln2)
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  const p = expReduced4(x, fx);
  // 2^n as 2^h·2^(n−h), h = n >> 1: both factors normal for n in [−150, 129], so e^x reaches
  // FLT_MAX above and underflows gradually through the denormals below (one rounding, the last)
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const h = i32x4.shr_s(n, 1);
  const pow2h = i32x4.shl(i32x4.add(h, i32x4.splat(127)), 23);
  const pow2m = i32x4.shl(i32x4.add(i32x4.sub(n, h), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, pow2m), pow2h);
}

/**
 * e^x on four lanes, clamped: as exp4 on [-87.3, 88.37] (the range where 2^n fits one exponent
 * field), the ends outside it: -inf gives 2^-126, not 0, and +inf a large finite value. For the
 * callers whose arguments are ≤ 0 and whose results only add up (softmax, attention) or pass
 * through 1/(1 + e) (sigmoid, tanh, Φ): a few ops fewer per vector than exp4's full range.
 */
// @ts-ignore: decorator
@inline export function exp4Clamped(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365478515625));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  const p = expReduced4(x, fx);
  const n = i32x4.trunc_sat_f32x4_s(fx);
  return f32x4.mul(p, i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23));
}

/** Horizontal sum of four lanes. */
// @ts-ignore: decorator
@inline export function hsum4(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Horizontal max of four lanes. */
// @ts-ignore: decorator
@inline export function hmax4(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
             max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Scalar e^x with the same polynomial as exp4, for tails, so tails and bodies agree. */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** The first `cnt` floats at p (cnt ≤ 0: none, ≥ 4: all four), zeros after. */
// @ts-ignore: decorator
@inline export function loadN(p: usize, cnt: i32): v128 {
  if (cnt >= 4) return v128.load(p);
  if (cnt == 3) return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
  if (cnt == 2) return v128.load64_zero(p);
  if (cnt == 1) return v128.load32_zero(p);
  return f32x4.splat(0);
}

/** Stores the first `cnt` lanes of v at p (cnt ≤ 0: none, ≥ 4: all four): loadN's partner. */
// @ts-ignore: decorator
@inline export function storeN(p: usize, v: v128, cnt: i32): void {
  if (cnt >= 4) v128.store(p, v);
  else if (cnt == 3) { v128.store64_lane(p, v, 0); v128.store32_lane(p, v, 2, 8); }
  else if (cnt == 2) v128.store64_lane(p, v, 0);
  else if (cnt == 1) v128.store32_lane(p, v, 0);
}

/** y[0..n) = value (SIMD body, scalar tail): fill_f32, and the broadcast-scalar rows of binary_strided_f32. */
// @ts-ignore: decorator
@inline export function fillRow(y: usize, n: i32, value: f32): void {
  const n4 = <usize>(n & ~3) << 2;
  const nb = <usize>n << 2;
  const v = f32x4.splat(value);
  let i: usize = 0;
  for (; i < n4; i += 16) v128.store(y + i, v);
  for (; i < nb; i += 4) store<f32>(y + i, value);
}

/** Marker kernel: lets the host and tests check which variant is loaded. 1 = relaxed SIMD, 0 = plain SIMD. */
export function variant_has_relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
