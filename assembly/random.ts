// Kernel family: random. See docs/KERNELS.md for the ABI.
//
// Counter-based: element i of a call with (seed, offset) is a pure function of
// (seed, offset + i), so a thread can generate any sub-range and get the bits a
// whole-tensor call would, and there is no generator state anywhere.
//
// The bits: h = mix(mix(c ⊕ k0) + k1) on the 32-bit counter c, where mix is
// Wellons' "lowbias32" integer hash (xorshift-multiply, bias ≈ 0.17, better
// than MurmurHash3's finaliser) and k0, k1 are derived from the seed by the
// same hash. Two mixing rounds keyed at both ends make consecutive counters and
// neighbouring seeds look independent. All of it is 32-bit integer SIMD
// (i32x4.mul is the low 32 bits of the product, which is what the hash wants).
//
// Uniform: the top 24 bits, u = (h >>> 8)·2^-24 ∈ [0, 1), every value exactly
// representable; y = lo + (hi − lo)·u, unfused, so the plain and relaxed binaries
// give the same numbers.
//
// Normal: Box–Muller per element from its own counter (no pairing across
// elements, so sub-ranges stay exact): u1 ∈ (0, 1] from stream 0, u2 from a
// second key pair, z = √(−2 ln u1)·cos(2π u2). u2 is a multiple of 2^-24, so
// the reduction of 2π·u2 to [−π/4, π/4) plus a quadrant is exact integer work;
// ln and the short sin/cos polynomials are Cephes' (a few ulp). |z| ≤ 5.77
// (u1 ≥ 2^-24): the tail beyond that is cut, probability 8e-9.
//
// Dropout: mask[i] = 0 where u < p (u of stream 0: the same u as
// rand_uniform_f32(…, 0, 1) with that seed and offset), else 1/(1 − p).
//
// The helpers below are private to this file (kernel files export only ABI
// kernels); the narrow-range log and cos are simpler than elementwise.ts's.

// @ts-ignore: decorator
@inline function mix1(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

// @ts-ignore: decorator
@inline function mix4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}

/** Key of stream `s` (0 or 1), part `part` (0 or 1), from the seed. */
// @ts-ignore: decorator
@inline function key(seed: i32, s: u32, part: u32): v128 {
  return i32x4.splat(<i32>mix1(mix1(<u32>seed ^ 0x9e3779b9) + (s * 2 + part + 1) * 0x632be5ab));
}

/** 32 random bits for the four counters c. */
// @ts-ignore: decorator
@inline function bits4(c: v128, k0: v128, k1: v128): v128 {
  return mix4(i32x4.add(mix4(v128.xor(c, k0)), k1));
}

/** Counters offset + i .. offset + i + 3. */
// @ts-ignore: decorator
@inline function counters(offset: i32, i: i32): v128 {
  return i32x4.add(i32x4.splat(offset + i), i32x4(0, 1, 2, 3));
}

/** u = (h >>> 8)·2^-24 ∈ [0, 1). */
// @ts-ignore: decorator
@inline function unit4(h: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h, 8)), f32x4.splat(5.9604644775390625e-8));
}

/** Stores the first `k` (1..4) lanes of v at p. */
// @ts-ignore: decorator
@inline function storePartial(p: usize, v: v128, k: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** y[i] = lo + (hi − lo)·u(seed, offset + i), u uniform on [0, 1) with 24 random bits. */
export function rand_uniform_f32(y: usize, n: i32, seed: i32, offset: i32, lo: f32, hi: f32): void {
  const k0 = key(seed, 0, 0), k1 = key(seed, 0, 1);
  const lv = f32x4.splat(lo), rv = f32x4.splat(hi - lo);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(y + (<usize>i << 2), f32x4.add(lv, f32x4.mul(rv, unit4(bits4(counters(offset, i), k0, k1)))));
  }
  if (i < n) {
    storePartial(y + (<usize>i << 2), f32x4.add(lv, f32x4.mul(rv, unit4(bits4(counters(offset, i), k0, k1)))), n - i);
  }
}

/** ln u for u ∈ [2^-24, 1] (normal floats only: no special cases). Cephes logf. */
// @ts-ignore: decorator
@inline function logUnit4(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(127));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(1.41421356237));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big);
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.1514610310e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.1676998740e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(3.3333331174e-1));
  p = f32x4.mul(f32x4.mul(p, f), z);
  p = f32x4.add(p, f32x4.mul(ef, f32x4.splat(-2.12194440e-4)));
  p = f32x4.sub(p, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(f, p), f32x4.mul(ef, f32x4.splat(0.693359375)));
}

/** cos(2π·k·2^-24) for integer k ∈ [0, 2^24) (the top 24 bits of h). */
// @ts-ignore: decorator
@inline function cosTurn4(k: v128): v128 {
  // nearest quarter turn q, remainder r ∈ [−2^21, 2^21): angle = q·π/2 + r·(π/2)·2^-22, exactly split
  const q = i32x4.shr_u(i32x4.add(k, i32x4.splat(1 << 21)), 22); // 0..4
  const r = i32x4.sub(k, i32x4.shl(q, 22));
  const t = f32x4.mul(f32x4.convert_i32x4_s(r), f32x4.splat(3.7450702829239286e-7)); // (π/2)·2^-22
  const z = f32x4.mul(t, t);
  let c = f32x4.splat(2.443315711809948e-5);
  c = f32x4.add(f32x4.mul(c, z), f32x4.splat(-1.388731625493765e-3));
  c = f32x4.add(f32x4.mul(c, z), f32x4.splat(4.166664568298827e-2));
  c = f32x4.mul(f32x4.mul(c, z), z);
  c = f32x4.add(f32x4.sub(c, f32x4.mul(z, f32x4.splat(0.5))), f32x4.splat(1.0));
  let s = f32x4.splat(-1.9515295891e-4);
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(8.3321608736e-3));
  s = f32x4.add(f32x4.mul(s, z), f32x4.splat(-1.6666654611e-1));
  s = f32x4.add(f32x4.mul(f32x4.mul(s, z), t), t);
  // q mod 4: 0 → cos t, 1 → −sin t, 2 → −cos t, 3 → sin t
  const even = i32x4.eq(v128.and(q, i32x4.splat(1)), i32x4.splat(0));
  const v = v128.bitselect(c, s, even);
  const neg = i32x4.shl(v128.and(i32x4.add(q, i32x4.splat(1)), i32x4.splat(2)), 30); // q = 1, 2 → sign bit
  return v128.xor(v, neg);
}

// @ts-ignore: decorator
@inline function normal4(c: v128, k0: v128, k1: v128, k2: v128, k3: v128, mv: v128, sv: v128): v128 {
  const h1 = i32x4.shr_u(bits4(c, k0, k1), 8);
  const h2 = i32x4.shr_u(bits4(c, k2, k3), 8);
  // u1 = (h1 + 1)·2^-24 ∈ (0, 1]
  const u1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.add(h1, i32x4.splat(1))), f32x4.splat(5.9604644775390625e-8));
  const r = f32x4.sqrt(f32x4.mul(logUnit4(u1), f32x4.splat(-2.0)));
  return f32x4.add(mv, f32x4.mul(sv, f32x4.mul(r, cosTurn4(h2))));
}

/** y[i] = mean + stddev·z(seed, offset + i), z standard normal (Box–Muller, one counter per element). */
export function rand_normal_f32(y: usize, n: i32, seed: i32, offset: i32, mean: f32, stddev: f32): void {
  const k0 = key(seed, 0, 0), k1 = key(seed, 0, 1);
  const k2 = key(seed, 1, 0), k3 = key(seed, 1, 1);
  const mv = f32x4.splat(mean), sv = f32x4.splat(stddev);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(y + (<usize>i << 2), normal4(counters(offset, i), k0, k1, k2, k3, mv, sv));
  }
  if (i < n) storePartial(y + (<usize>i << 2), normal4(counters(offset, i), k0, k1, k2, k3, mv, sv), n - i);
}

/** mask[i] = 0 where u(seed, offset + i) < p, else 1/(1 − p). */
export function dropout_mask_f32(mask: usize, n: i32, seed: i32, offset: i32, p: f32): void {
  const k0 = key(seed, 0, 0), k1 = key(seed, 0, 1);
  const pv = f32x4.splat(p);
  const keep = f32x4.splat(<f32>1 / (<f32>1 - p));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const u = unit4(bits4(counters(offset, i), k0, k1));
    v128.store(mask + (<usize>i << 2), v128.andnot(keep, f32x4.lt(u, pv)));
  }
  if (i < n) {
    const u = unit4(bits4(counters(offset, i), k0, k1));
    storePartial(mask + (<usize>i << 2), v128.andnot(keep, f32x4.lt(u, pv)), n - i);
  }
}
