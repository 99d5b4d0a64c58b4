// Kernel family: elementwise, twin of assembly/elementwise.ts (same op codes,
// same argument order). One invocation per output element, so every element's
// value is independent of the launch shape, as the wasm twin's contract asks.
// Transcendentals use WGSL's built-ins except where the wasm twin picks a
// formula for accuracy (gelu's Φ through erfc, silu/gelu_tanh as sigmoids),
// which is copied here so both backends agree to a few ulp.

// A quiet NaN made at run time (a constant NaN is a WGSL compile error).
fn nan_f32() -> f32 { return bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); }

fn sigmoid1(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

/** ½·erfc(|x|/√2) = Φ(−|x|) (Numerical Recipes' erfcc, as the wasm twin). */
fn phi_neg_abs(x: f32) -> f32 {
  let z = abs(x) * 0.70710678118654752;
  let t = 1.0 / fma(z, 0.5, 1.0);
  var p = 0.17087277;
  p = fma(p, t, -0.82215223); p = fma(p, t, 1.48851587); p = fma(p, t, -1.13520398);
  p = fma(p, t, 0.27886807); p = fma(p, t, -0.18628806); p = fma(p, t, 0.09678418);
  p = fma(p, t, 0.37409196); p = fma(p, t, 1.00002368); p = fma(p, t, -1.26551223);
  p = p - z * z;
  return t * 0.5 * exp(p);
}
fn phi(x: f32) -> f32 { let h = phi_neg_abs(x); return select(1.0 - h, h, x < 0.0); }
fn gelu_tanh_exp(x: f32) -> f32 { return exp(x * -1.5957691216057308 * fma(x * x, 0.044715, 1.0)); }
/**
 * sin (cos when is_cos): Cephes sinf/cosf, as the wasm twin's sincos4. WGSL's
 * built-in sin only promises 2^-11 absolute error (SwiftShader is that far off),
 * too coarse to agree with wasm.
 */
fn sincos1(x: f32, is_cos: bool) -> f32 {
  var sign = 0u;
  if (!is_cos) { sign = bitcast<u32>(x) & 0x80000000u; }
  var ax = abs(x);
  var j = i32(ax * 1.27323954473516);
  j = (j + 1) & ~1;
  let y = f32(j);
  if (is_cos) {
    j = j - 2;
    sign = u32(~j & 4) << 29u;
  } else {
    sign = sign ^ (u32(j & 4) << 29u);
  }
  let use_sin = (j & 2) == 0;
  ax = fma(y, -0.78515625, ax);
  ax = fma(y, -2.4187564849853515625e-4, ax);
  ax = fma(y, -3.77489497744594108e-8, ax);
  let z = ax * ax;
  var c = 2.443315711809948e-5;
  c = fma(c, z, -1.388731625493765e-3);
  c = fma(c, z, 4.166664568298827e-2);
  c = c * z * z;
  c = fma(z, -0.5, c);
  c = c + 1.0;
  var s = -1.9515295891e-4;
  s = fma(s, z, 8.3321608736e-3);
  s = fma(s, z, -1.6666654611e-1);
  s = fma(s * z, ax, ax);
  return bitcast<f32>(bitcast<u32>(select(c, s, use_sin)) ^ sign);
}

fn sign1(x: f32) -> f32 { return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }

fn unary1(op: u32, x: f32) -> f32 {
  switch op {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return abs(x); }
    case 5u: { return select(x, 0.0, x < 0.0); }
    case 6u: { return sigmoid1(x); }
    case 7u: { return tanh(x); }
    case 8u: { return x * phi(x); }
    case 9u: { return x * x; }
    case 10u: { return 1.0 / sqrt(x); }
    case 11u: { return 1.0 / x; }
    case 12u: { return sincos1(x, false); }
    case 13u: { return sincos1(x, true); }
    case 14u: { return select(x / (1.0 + gelu_tanh_exp(x)), 0.0, x < -10.0); }
    case 15u: { return select(x / (1.0 + exp(-x)), 0.0, x < -88.0); }
    case 16u: { return sign1(x); }
    default: { return nan_f32(); }
  }
}

fn unary_backward1(op: u32, x: f32, y: f32, dy: f32) -> f32 {
  switch op {
    case 0u: { return -dy; }
    case 1u: { return dy * y; }
    case 2u: { return dy / x; }
    case 3u: { return dy * 0.5 / y; }
    case 4u: { return dy * sign1(x); }
    case 5u: { return select(0.0, dy, x > 0.0); }
    case 6u: { return dy * (y * (1.0 - y)); }
    case 7u: { return dy * (1.0 - y * y); }
    case 8u: {
      let pdf = exp(x * x * -0.5) * 0.3989422804014327;
      return dy * fma(x, pdf, phi(x));
    }
    case 9u: { return dy * (x + x); }
    case 10u: { return dy * -0.5 * (y * y * y); }
    case 11u: { return -(dy * (y * y)); }
    case 12u: { return dy * sincos1(x, true); }
    case 13u: { return -(dy * sincos1(x, false)); }
    case 14u: {
      let e = gelu_tanh_exp(x);
      let s = 1.0 / (1.0 + e);
      let du = fma(x * x, 0.2140644427938225, 1.5957691216057308);
      return dy * fma(x * (s * e * s), du, s);
    }
    case 15u: {
      let e = exp(-x);
      let s = 1.0 / (1.0 + e);
      return dy * (s * fma(x, e * s, 1.0));
    }
    case 16u: { return 0.0; }
    default: { return nan_f32(); }
  }
}

/** a^b with C's special cases: 1^b = 1, a^0 = 1, negative a only for integer b. */
fn pow1(a: f32, b: f32) -> f32 {
  if (a == 1.0 || b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a >= 0.0) { return m; }
  if (floor(b) != b) { return nan_f32(); }
  let odd = abs(b) < 16777216.0 && (i32(b) & 1) != 0;
  return select(m, -m, odd);
}

fn binary1(op: u32, a: f32, b: f32) -> f32 {
  switch op {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return max(a, b); }
    case 5u: { return min(a, b); }
    case 6u: { return pow1(a, b); }
    case 7u: { return select(0.0, 1.0, a == b); }
    case 8u: { return select(0.0, 1.0, a != b); }
    case 9u: { return select(0.0, 1.0, a < b); }
    case 10u: { return select(0.0, 1.0, a <= b); }
    case 11u: { return select(0.0, 1.0, a > b); }
    case 12u: { return select(0.0, 1.0, a >= b); }
    default: { return nan_f32(); }
  }
}

// unary_f32(op, x, y, n)
@compute @workgroup_size(256)
fn unary_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(3u)) { return; }
  mem[pu(2u) + i] = unary1(pu(0u), mem[pu(1u) + i]);
}

// unary_backward_f32(op, x, y, dy, dx, n)
@compute @workgroup_size(256)
fn unary_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(5u)) { return; }
  let op = pu(0u);
  let x = mem[pu(1u) + i];
  // y is read only by the ops whose derivative uses it (others may pass any pointer)
  var y = x;
  if (op == 1u || op == 3u || op == 6u || op == 7u || op == 10u || op == 11u) { y = mem[pu(2u) + i]; }
  mem[pu(4u) + i] = unary_backward1(op, x, y, mem[pu(3u) + i]);
}

// binary_f32(op, a, b, y, n)
@compute @workgroup_size(256)
fn binary_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(4u)) { return; }
  mem[pu(3u) + i] = binary1(pu(0u), mem[pu(1u) + i], mem[pu(2u) + i]);
}

// binary_scalar_f32(op, a, s, y, n, reversed)
@compute @workgroup_size(256)
fn binary_scalar_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(4u)) { return; }
  let a = mem[pu(1u) + i];
  let s = pf(2u);
  mem[pu(3u) + i] = select(binary1(pu(0u), a, s), binary1(pu(0u), s, a), pu(5u) != 0u);
}

// binary_strided_f32(op, a, b, y, rank, desc): desc = i32[3·rank] (output
// shape, a's strides, b's strides, in elements, any sign); y contiguous.
@compute @workgroup_size(256)
fn binary_strided_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let rank = pu(4u);
  let desc = pu(5u);
  var total = 1u;
  for (var d = 0u; d < rank; d++) { total *= u32(max(ldi(desc + d), 0)); }
  let i = flat_index(gid, nwg);
  if (i >= total) { return; }
  var q = i;
  var oa = 0i; var ob = 0i;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let sz = u32(ldi(desc + u32(d)));
    let c = i32(q % sz);
    q /= sz;
    oa += c * ldi(desc + rank + u32(d));
    ob += c * ldi(desc + 2u * rank + u32(d));
  }
  mem[pu(3u) + i] = binary1(pu(0u), mem[u32(i32(pu(1u)) + oa)], mem[u32(i32(pu(2u)) + ob)]);
}

// axpy_f32(x, y, n, alpha): y += alpha·x
@compute @workgroup_size(256)
fn axpy_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  let y = pu(1u) + i;
  mem[y] = fma(mem[pu(0u) + i], pf(3u), mem[y]);
}

// scale_f32(x, y, n, alpha): y = alpha·x
@compute @workgroup_size(256)
fn scale_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  mem[pu(1u) + i] = mem[pu(0u) + i] * pf(3u);
}

// fill_f32(y, n, value)
@compute @workgroup_size(256)
fn fill_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(1u)) { return; }
  mem[pu(0u) + i] = pf(2u);
}

// transpose_f32(x, y, outer, a, b, inner): x [outer, a, b, inner] → y [outer, b, a, inner]
@compute @workgroup_size(256)
fn transpose_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let outer = pu(2u); let A = pu(3u); let B = pu(4u); let inner = pu(5u);
  let i = flat_index(gid, nwg);
  if (i >= outer * A * B * inner) { return; }
  // i indexes y: [o, j, ii, e]
  let e = i % inner;
  var q = i / inner;
  let ii = q % A; q /= A;
  let j = q % B;
  let o = q / B;
  mem[pu(1u) + i] = mem[pu(0u) + ((o * A + ii) * B + j) * inner + e];
}

// cast_i32_f32(x, y, n)
@compute @workgroup_size(256)
fn cast_i32_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  mem[pu(1u) + i] = f32(ldi(pu(0u) + i));
}

// cast_f32_i32(x, y, n): truncating toward zero, saturating, NaN → 0
@compute @workgroup_size(256)
fn cast_f32_i32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  let x = mem[pu(0u) + i];
  var v = 0i;
  if (x >= 2147483647.0) { v = 2147483647i; } else if (x <= -2147483648.0) { v = -2147483647i - 1i; } else if (x == x) { v = i32(x); }
  sti(pu(1u) + i, v);
}

// where_f32(cond, a, b, y, n)
@compute @workgroup_size(256)
fn where_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(4u)) { return; }
  mem[pu(3u) + i] = select(mem[pu(2u) + i], mem[pu(1u) + i], mem[pu(0u) + i] != 0.0);
}

// clamp_f32(x, y, n, lo, hi)
@compute @workgroup_size(256)
fn clamp_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  mem[pu(1u) + i] = min(max(mem[pu(0u) + i], pf(3u)), pf(4u));
}

// clamp_backward_f32(x, dy, dx, n, lo, hi)
@compute @workgroup_size(256)
fn clamp_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(3u)) { return; }
  let x = mem[pu(0u) + i];
  mem[pu(2u) + i] = select(0.0, mem[pu(1u) + i], x >= pf(4u) && x <= pf(5u));
}

// copy_words(x, y, n): the backend's copy within the heap (WebGPU forbids a
// buffer-to-buffer copy with one buffer as both ends). No wasm twin.
@compute @workgroup_size(256)
fn copy_words(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  mem[pu(1u) + i] = mem[pu(0u) + i];
}
