// Kernel family: random, twin of assembly/random.ts: the same counter-based
// generator, so the GPU draws the same bits as wasm for the same (seed, offset)
// (u32 multiply wraps in WGSL as i32x4.mul does). Uniform samples and dropout
// masks are bit-identical; normal samples go through the same Cephes log and
// cos polynomials and agree to a few ulp (the GPU's sqrt and any fused
// multiply-add may round differently).

fn mix1(x0: u32) -> u32 {
  var x = x0;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

/** Key of stream s (0 or 1), part (0 or 1), from the seed. */
fn rkey(seed: u32, s: u32, part: u32) -> u32 {
  return mix1(mix1(seed ^ 0x9e3779b9u) + (s * 2u + part + 1u) * 0x632be5abu);
}

fn rbits(c: u32, k0: u32, k1: u32) -> u32 { return mix1(mix1(c ^ k0) + k1); }

/** u = (h >> 8)·2^-24 ∈ [0, 1). */
fn unit(h: u32) -> f32 { return f32(h >> 8u) * 5.9604644775390625e-8; }

/** ln u for u ∈ [2^-24, 1] (Cephes logf, as the wasm twin). */
fn log_unit(x: f32) -> f32 {
  let xb = bitcast<u32>(x);
  var e = i32(xb >> 23u) - 127;
  var m = bitcast<f32>((xb & 0x007fffffu) | 0x3f800000u);
  if (m > 1.41421356237) { m = m * 0.5; e = e + 1; }
  let f = m - 1.0;
  let ef = f32(e);
  let z = f * f;
  var p = 7.0376836292e-2;
  p = p * f + -1.1514610310e-1;
  p = p * f + 1.1676998740e-1;
  p = p * f + -1.2420140846e-1;
  p = p * f + 1.4249322787e-1;
  p = p * f + -1.6668057665e-1;
  p = p * f + 2.0000714765e-1;
  p = p * f + -2.4999993993e-1;
  p = p * f + 3.3333331174e-1;
  p = p * f * z;
  p = p + ef * -2.12194440e-4;
  p = p - z * 0.5;
  return (f + p) + ef * 0.693359375;
}

/** cos(2π·k·2^-24) for integer k ∈ [0, 2^24). */
fn cos_turn(k: u32) -> f32 {
  let q = (k + (1u << 21u)) >> 22u;
  let r = i32(k) - i32(q << 22u);
  let t = f32(r) * 3.7450702829239286e-7;
  let z = t * t;
  var c = 2.443315711809948e-5;
  c = c * z + -1.388731625493765e-3;
  c = c * z + 4.166664568298827e-2;
  c = c * z * z;
  c = (c - z * 0.5) + 1.0;
  var s = -1.9515295891e-4;
  s = s * z + 8.3321608736e-3;
  s = s * z + -1.6666654611e-1;
  s = s * z * t + t;
  let v = select(s, c, (q & 1u) == 0u);
  let neg = ((q + 1u) & 2u) << 30u;
  return bitcast<f32>(bitcast<u32>(v) ^ neg);
}

// rand_uniform_f32(y, n, seed, offset, lo, hi)
@compute @workgroup_size(256)
fn rand_uniform_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rand_uniform_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let seed = arg.seed;
  let h = rbits(arg.offset + i, rkey(seed, 0u, 0u), rkey(seed, 0u, 1u));
  let lo = arg.lo;
  mem[arg.y + i] = lo + (arg.hi - lo) * unit(h);
}

// rand_normal_f32(y, n, seed, offset, mean, stddev)
@compute @workgroup_size(256)
fn rand_normal_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rand_normal_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let seed = arg.seed;
  let c = arg.offset + i;
  let h1 = rbits(c, rkey(seed, 0u, 0u), rkey(seed, 0u, 1u)) >> 8u;
  let h2 = rbits(c, rkey(seed, 1u, 0u), rkey(seed, 1u, 1u)) >> 8u;
  let u1 = f32(h1 + 1u) * 5.9604644775390625e-8;
  let r = sqrt(log_unit(u1) * -2.0);
  mem[arg.y + i] = arg.mean + arg.stddev * (r * cos_turn(h2));
}

// dropout_mask_f32(mask, n, seed, offset, p)
@compute @workgroup_size(256)
fn dropout_mask_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = dropout_mask_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let seed = arg.seed;
  let u = unit(rbits(arg.offset + i, rkey(seed, 0u, 0u), rkey(seed, 0u, 1u)));
  let p = arg.p;
  mem[arg.mask + i] = select(1.0 / (1.0 - p), 0.0, u < p);
}
