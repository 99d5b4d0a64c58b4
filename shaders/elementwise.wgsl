// Kernel family: elementwise, twin of assembly/elementwise.ts (same op codes,
// same argument order). One invocation per output element, so every element's
// value is independent of the launch shape, as the wasm twin's contract asks.
// Transcendentals use WGSL's built-ins except where the wasm twin picks a
// formula for accuracy (gelu's Φ through erfc, silu/gelu_tanh as sigmoids),
// which is copied here so both backends agree to a few ulp.

/** C's expf at the ends: inf above 88.7228, 0 below -103.98 (a flushing GPU's exp is 0 from -87.3). */
fn exp1(x: f32) -> f32 { return select(select(exp(x), 0.0, x < -103.972077), inf_f32(), x > 88.7228394); }
/** log with C's special values: log(±0) = -inf, log(negative) = NaN, log(inf) = inf. */
fn log1(x: f32) -> f32 {
  if (x == 0.0) { return -inf_f32(); }
  if (x < 0.0) { return nan_f32(); }
  if (is_inf(x)) { return x; }
  return log(x);
}
fn sqrt1(x: f32) -> f32 { return select(sqrt(x), nan_f32(), x < 0.0); }

fn sigmoid1(x: f32) -> f32 { return 1.0 / (1.0 + exp1(-x)); }

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
    case UNARY_NEG: { return -x; }
    case UNARY_EXP: { return exp1(x); }
    case UNARY_LOG: { return log1(x); }
    case UNARY_SQRT: { return sqrt1(x); }
    case UNARY_ABS: { return abs(x); }
    case UNARY_RELU: { return select(x, 0.0, x < 0.0); }
    case UNARY_SIGMOID: { return sigmoid1(x); }
    case UNARY_TANH: { return select(tanh(x), sign1(x), abs(x) > 10.0); } // tanh(10) rounds to 1; SwiftShader's tanh(-1e4) is NaN
    case UNARY_GELU: { return x * phi(x); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_RSQRT: { return 1.0 / sqrt1(x); }
    case UNARY_RECIPROCAL: { return 1.0 / x; }
    case UNARY_SIN: { return sincos1(x, false); }
    case UNARY_COS: { return sincos1(x, true); }
    // −inf·sigmoid(−inf) is NaN in PyTorch
    case UNARY_GELU_TANH: { return select(select(x / (1.0 + gelu_tanh_exp(x)), 0.0, x < -10.0), nan_f32(), is_inf(x) && x < 0.0); }
    case UNARY_SILU: { return select(select(x / (1.0 + exp(-x)), 0.0, x < -88.0), nan_f32(), is_inf(x) && x < 0.0); }
    case UNARY_SIGN: { return sign1(x); }
    case UNARY_HARDSWISH: { return x * select(min(max(x + 3.0, 0.0), 6.0), x, is_nan(x)) / 6.0; }
    case UNARY_FLOOR: { return floor(x); }
    case UNARY_CEIL: { return ceil(x); }
    case UNARY_ROUND: { return round(x); } // ties to even (WGSL's round), as torch.round
    case UNARY_TRUNC: { return trunc(x); }
    default: { return nan_f32(); }
  }
}

fn unary_backward1(op: u32, x: f32, y: f32, dy: f32) -> f32 {
  switch op {
    case UNARY_NEG: { return -dy; }
    case UNARY_EXP: { return dy * y; }
    case UNARY_LOG: { return dy / x; }
    case UNARY_SQRT: { return dy * 0.5 / y; }
    case UNARY_ABS: { return dy * sign1(x); }
    case UNARY_RELU: { return select(0.0, dy, x > 0.0 || is_nan(x)); } // a NaN passes dy on, as PyTorch's threshold_backward
    case UNARY_SIGMOID: { return dy * (y * (1.0 - y)); }
    case UNARY_TANH: { return dy * (1.0 - y * y); }
    case UNARY_GELU: {
      let pdf = exp(x * x * -0.5) * 0.3989422804014327;
      return dy * fma(x, pdf, phi(x));
    }
    case UNARY_SQUARE: { return dy * (x + x); }
    case UNARY_RSQRT: { return dy * -0.5 * (y * y * y); }
    case UNARY_RECIPROCAL: { return -(dy * (y * y)); }
    case UNARY_SIN: { return dy * sincos1(x, true); }
    case UNARY_COS: { return -(dy * sincos1(x, false)); }
    // 1 − s = e·s, 0 where e overflows (s is 0 there, PyTorch's 1 − s is 1 and its product with s 0)
    case UNARY_GELU_TANH: {
      let e = gelu_tanh_exp(x);
      let s = 1.0 / (1.0 + e);
      let es = select(e * s, 0.0, is_inf(e));
      let du = fma(x * x, 0.2140644427938225, 1.5957691216057308);
      return dy * fma(x * (s * es), du, s);
    }
    case UNARY_SILU: {
      let e = exp(-x);
      let s = 1.0 / (1.0 + e);
      return dy * (s * fma(x, select(e * s, 0.0, is_inf(e)), 1.0));
    }
    case UNARY_SIGN: { return 0.0; }
    case UNARY_HARDSWISH: { return select(select(dy, dy * (x / 3.0 + 0.5), x <= 3.0 || is_nan(x)), 0.0, x < -3.0); }
    case UNARY_FLOOR, UNARY_CEIL, UNARY_ROUND, UNARY_TRUNC: { return 0.0; }
    default: { return nan_f32(); }
  }
}

/** a^b with C's special cases: 1^b = 1, a^0 = 1, negative a only for integer b; zero, inf and NaN explicit. */
fn pow1(a: f32, b: f32) -> f32 {
  if (a == 1.0 || b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  let aa = abs(a);
  var m: f32;
  if (aa == 0.0) { m = select(inf_f32(), 0.0, b > 0.0); }
  else if (is_inf(aa)) { m = select(0.0, inf_f32(), b > 0.0); }
  else if (is_inf(b)) {
    if (aa == 1.0) { return 1.0; }
    m = select(0.0, inf_f32(), (aa > 1.0) == (b > 0.0));
  }
  else { m = pow(aa, b); }
  if (a >= 0.0) { return m; }
  // a negative base needs an integer exponent, except −0 and −inf (C: (−inf)^⅓ = inf)
  if (floor(b) != b && aa != 0.0 && !is_inf(aa)) { return nan_f32(); }
  let odd = abs(b) < 16777216.0 && (i32(b) & 1) != 0;
  return select(m, -m, odd);
}

fn binary1(op: u32, a: f32, b: f32) -> f32 {
  switch op {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_MAX: { return select(max(a, b), nan_f32(), is_nan(a) || is_nan(b)); } // NaN-propagating, as torch.maximum
    case BINARY_MIN: { return select(min(a, b), nan_f32(), is_nan(a) || is_nan(b)); }
    case BINARY_POW: { return pow1(a, b); }
    case BINARY_EQ: { return select(0.0, 1.0, a == b); }
    case BINARY_NE: { return select(0.0, 1.0, a != b || is_nan(a) || is_nan(b)); }
    case BINARY_LT: { return select(0.0, 1.0, a < b); }
    case BINARY_LE: { return select(0.0, 1.0, a <= b); }
    case BINARY_GT: { return select(0.0, 1.0, a > b); }
    case BINARY_GE: { return select(0.0, 1.0, a >= b); }
    default: { return nan_f32(); }
  }
}

// unary_f32(op, x, y, n)
@compute @workgroup_size(256)
fn unary_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = unary_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let x = mem[arg.x + i];
  // NaN in, NaN out (sign(NaN) = 0, as torch.sign): WGSL's built-ins need not keep a NaN
  mem[arg.y + i] = select(unary1(arg.op, x), x, is_nan(x) && arg.op != UNARY_SIGN);
}

// unary_backward_f32(op, x, y, dy, dx, n)
@compute @workgroup_size(256)
fn unary_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = unary_backward_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let op = arg.op;
  let x = mem[arg.x + i];
  // y is read only by the ops whose derivative uses it (others may pass any pointer)
  var y = x;
  if (op == UNARY_EXP || op == UNARY_SQRT || op == UNARY_SIGMOID || op == UNARY_TANH || op == UNARY_RSQRT || op == UNARY_RECIPROCAL) { y = mem[arg.y + i]; }
  mem[arg.dx + i] = unary_backward1(op, x, y, mem[arg.dy + i]);
}

// binary_f32(op, a, b, y, n)
@compute @workgroup_size(256)
fn binary_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = binary_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = binary1(arg.op, mem[arg.a + i], mem[arg.b + i]);
}

// binary_scalar_f32(op, a, s, y, n, reversed)
@compute @workgroup_size(256)
fn binary_scalar_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = binary_scalar_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let a = mem[arg.a + i];
  let s = arg.s;
  mem[arg.y + i] = select(binary1(arg.op, a, s), binary1(arg.op, s, a), arg.reversed != 0u);
}

// binary_strided_f32(op, a, b, y, rank, desc): desc = i32[3·rank] (output
// shape, a's strides, b's strides, in elements, any sign); y contiguous.
@compute @workgroup_size(256)
fn binary_strided_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = binary_strided_f32_args();
  let rank = arg.rank;
  let desc = arg.desc;
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
  mem[arg.y + i] = binary1(arg.op, mem[u32(i32(arg.a) + oa)], mem[u32(i32(arg.b) + ob)]);
}

// where_f32(cond, a, b, y, n)
@compute @workgroup_size(256)
fn where_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = where_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = select(mem[arg.b + i], mem[arg.a + i], mem[arg.cond + i] != 0.0);
}

// clamp_f32(x, y, n, lo, hi)
@compute @workgroup_size(256)
fn clamp_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = clamp_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let x = mem[arg.x + i];
  mem[arg.y + i] = select(min(max(x, arg.lo), arg.hi), x, is_nan(x)); // NaN stays NaN, as torch.clamp
}

// clamp_backward_f32(x, dy, dx, n, lo, hi)
@compute @workgroup_size(256)
fn clamp_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = clamp_backward_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let x = mem[arg.x + i];
  mem[arg.dx + i] = select(0.0, mem[arg.dy + i], x >= arg.lo && x <= arg.hi);
}

// swiglu_f32(g, u, y, n): y = silu(g)·u, silu as unary_f32's
@compute @workgroup_size(256)
fn swiglu_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = swiglu_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = unary1(UNARY_SILU, mem[arg.g + i]) * mem[arg.u + i];
}

// swiglu_backward_f32(g, u, dy, dg, du, n): dg = (dy·u)·silu'(g), du = dy·silu(g)
@compute @workgroup_size(256)
fn swiglu_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = swiglu_backward_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let g = mem[arg.g + i]; let dy = mem[arg.dy + i];
  let dg = unary_backward1(UNARY_SILU, g, g, dy * mem[arg.u + i]);
  mem[arg.du + i] = dy * unary1(UNARY_SILU, g);
  mem[arg.dg + i] = dg;
}
