// Kernel family: gemm, the shader-f16 variant of gemm.wgsl (same arguments,
// same result up to the bound below). Compiled only where the device has
// shader-f16; the gemm_f32 twin picks these entries when init() was given
// matmulPrecision "f16" (host/backends/webgpu/twins.ts).
//
// What changes: the A and B tiles are converted to f16 when staged in
// workgroup memory (half the footprint and half the workgroup-memory traffic
// of the f32 kernels), the products are f16 (vec4<f16>: two packed-half
// operations per four products where the GPU has them), and each run of up
// to 4 consecutive k terms is summed in f16 before being added into f32
// accumulators, so the long sums over k stay f32.
//
// Tiling as in gemm.wgsl: 16×16 invocations, 64×64 blocks of C with BK = 16
// (gemm_f32_f16), 128×128 with BK = 8 (gemm_f32_128_f16); edges load zeros;
// ACCUMULATE (flags & 4) starts the f32 sums from C. One difference: an
// invocation owns 4 *adjacent* columns (and rows) per register quad, so each
// workgroup-memory read is one vec4<f16> (8 bytes; 16 neighbouring invocations
// read 128 consecutive bytes, no bank conflicts).
//
// Error bound, per element, u = 2^-11 (f16 unit roundoff), inputs and every
// product and partial sum inside f16's normal range [2^-14, 65504]:
//   |C' - C| <= 6.02u · Σ_k |a_ik b_kj| + γ(⌈k/4⌉) · (|C0_ij| + 1.01 Σ_k |a_ik b_kj|)
// with γ(n) = n·2^-24 / (1 - n·2^-24) (the f32 sums). Why 6u: each input is
// rounded once to f16 (u each), and each product then sees at most 4 f16
// roundings in its 4-term run (its product and the adds after it; fma fused or
// not), (1+u)^2 / (1-4u) - 1 <= 6.02u. Outside that range f16 is what it is:
// |x| >= 65520 (or a product or 4-term sum past 65504) becomes ±Inf, and
// values below 2^-14 lose relative precision or, on devices that flush f16
// subnormals, become 0. NaN and Inf inputs propagate as in the f32 kernels.
const BK: u32 = 16u;

// [BK][64 / 4] quads for the 64×64 kernel, [8][128 / 4] for the 128×128 one: both 256.
var<workgroup> As: array<vec4<f16>, 256>;
var<workgroup> Bs: array<vec4<f16>, 256>;

// Which quad of a [bk][4·quadsPerK] tile invocation t stages: (k, quad along
// the wide side). The 256 quads of a tile are one per invocation, ordered so
// that consecutive invocations read consecutive heap words: along the wide
// side where it is contiguous in the heap (xContig), else along k.
fn quad_slot(t: u32, xContig: bool, quadsPerK: u32, bk: u32) -> vec2<u32> {
  if (xContig) { return vec2<u32>(t / quadsPerK, t % quadsPerK); }
  return vec2<u32>(t % bk, t / bk);
}

// Four neighbours x..x+3 along the wide side (rows of A, columns of B) at
// depth kg, rounded to f16; zeros past the matrix. Element (x, kg) is at
// src + kg·ld + x when xContig, else src + x·ld + kg.
fn load_quad(src: u32, ld: u32, xContig: bool, x: u32, xEnd: u32, kg: u32, kEnd: u32) -> vec4<f16> {
  var v = vec4<f32>(0.0);
  if (kg < kEnd) {
    for (var q = 0u; q < 4u; q++) {
      if (x + q < xEnd) {
        if (xContig) { v[q] = mem[src + kg * ld + x + q]; } else { v[q] = mem[src + (x + q) * ld + kg]; }
      }
    }
  }
  return vec4<f16>(v);
}

// C[r][cc..cc+3] where inside m×n (the ACCUMULATE start), zeros elsewhere.
fn c_quad(c: u32, ldc: u32, r: u32, cc: u32, m: u32, n: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (r < m) {
    for (var q = 0u; q < 4u; q++) {
      if (cc + q < n) { v[q] = mem[c + r * ldc + cc + q]; }
    }
  }
  return v;
}

fn store_quad(c: u32, ldc: u32, r: u32, cc: u32, m: u32, n: u32, v: vec4<f32>) {
  if (r < m) {
    for (var q = 0u; q < 4u; q++) {
      if (cc + q < n) { mem[c + r * ldc + cc + q] = v[q]; }
    }
  }
}

// 64×64 blocks: invocation (tx, ty) owns rows 4ty..4ty+3 and columns 4tx..4tx+3.
@compute @workgroup_size(16, 16)
fn gemm_f32_f16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let arg = gemm_f32_args();
  let a = arg.a; let b = arg.b; let c = arg.c;
  let m = arg.m; let n = arg.n; let k = arg.k;
  let lda = arg.lda; let ldb = arg.ldb; let ldc = arg.ldc; let flags = arg.flags;
  let transA = (flags & 1u) != 0u;
  let transB = (flags & 2u) != 0u;
  let m0 = wid.y * 64u;
  let n0 = wid.x * 64u;
  let tx = lid.x; let ty = lid.y;
  let t = ty * 16u + tx;
  // A stored k×m (transA) has its rows, the tile's wide side, contiguous; B stored k×n (not transB) its columns
  let sa = quad_slot(t, transA, 16u, BK);
  let sb = quad_slot(t, !transB, 16u, BK);
  var acc: array<vec4<f32>, 4>; // acc[i] = C[4ty + i][4tx..4tx+3]
  if ((flags & 4u) != 0u) {
    for (var i = 0u; i < 4u; i++) { acc[i] = c_quad(c, ldc, m0 + 4u * ty + i, n0 + 4u * tx, m, n); }
  }
  for (var k0 = 0u; k0 < k; k0 += BK) {
    As[sa.x * 16u + sa.y] = load_quad(a, lda, transA, m0 + 4u * sa.y, m, k0 + sa.x, k);
    Bs[sb.x * 16u + sb.y] = load_quad(b, ldb, !transB, n0 + 4u * sb.y, n, k0 + sb.x, k);
    workgroupBarrier();
    let kn = min(BK, k - k0);
    for (var k4 = 0u; k4 < kn; k4 += 4u) {
      // this run's f16 sums; the explicit zero matters: naga (wgpu, Deno) hoists an
      // uninitialized loop-local var and would carry the sums over (gfx-rs/wgpu#9489)
      var part = array<vec4<f16>, 4>();
      for (var kk = k4; kk < min(k4 + 4u, kn); kk++) {
        let av = As[kk * 16u + ty];
        let bv = Bs[kk * 16u + tx];
        for (var i = 0u; i < 4u; i++) { part[i] = fma(vec4<f16>(av[i]), bv, part[i]); }
      }
      for (var i = 0u; i < 4u; i++) { acc[i] += vec4<f32>(part[i]); }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) { store_quad(c, ldc, m0 + 4u * ty + i, n0 + 4u * tx, m, n, acc[i]); }
}

// 128×128 blocks, BK = 8: invocation (tx, ty) owns rows 4ty..4ty+3 and
// 64+4ty..64+4ty+3, columns 4tx..4tx+3 and 64+4tx..64+4tx+3 (an 8×8 block as
// in gemm_f32_128, in quads that keep the vec4<f16> reads conflict-free).
@compute @workgroup_size(16, 16)
fn gemm_f32_128_f16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let arg = gemm_f32_args();
  let a = arg.a; let b = arg.b; let c = arg.c;
  let m = arg.m; let n = arg.n; let k = arg.k;
  let lda = arg.lda; let ldb = arg.ldb; let ldc = arg.ldc; let flags = arg.flags;
  let transA = (flags & 1u) != 0u;
  let transB = (flags & 2u) != 0u;
  let m0 = wid.y * 128u;
  let n0 = wid.x * 128u;
  let tx = lid.x; let ty = lid.y;
  let t = ty * 16u + tx;
  let sa = quad_slot(t, transA, 32u, 8u);
  let sb = quad_slot(t, !transB, 32u, 8u);
  // acc[(h * 4 + i) * 2 + g] = C[64h + 4ty + i][64g + 4tx .. +3]
  var acc: array<vec4<f32>, 16>;
  if ((flags & 4u) != 0u) {
    for (var r = 0u; r < 8u; r++) {
      let row = m0 + 64u * (r / 4u) + 4u * ty + r % 4u;
      for (var g = 0u; g < 2u; g++) { acc[r * 2u + g] = c_quad(c, ldc, row, n0 + 64u * g + 4u * tx, m, n); }
    }
  }
  for (var k0 = 0u; k0 < k; k0 += 8u) {
    As[sa.x * 32u + sa.y] = load_quad(a, lda, transA, m0 + 4u * sa.y, m, k0 + sa.x, k);
    Bs[sb.x * 32u + sb.y] = load_quad(b, ldb, !transB, n0 + 4u * sb.y, n, k0 + sb.x, k);
    workgroupBarrier();
    let kn = min(8u, k - k0);
    for (var k4 = 0u; k4 < kn; k4 += 4u) {
      var part = array<vec4<f16>, 16>(); // explicit zero: see gemm_f32_f16
      for (var kk = k4; kk < min(k4 + 4u, kn); kk++) {
        let a0 = As[kk * 32u + ty]; let a1 = As[kk * 32u + 16u + ty];
        let b0 = Bs[kk * 32u + tx]; let b1 = Bs[kk * 32u + 16u + tx];
        for (var i = 0u; i < 4u; i++) {
          part[i * 2u] = fma(vec4<f16>(a0[i]), b0, part[i * 2u]);
          part[i * 2u + 1u] = fma(vec4<f16>(a0[i]), b1, part[i * 2u + 1u]);
          part[(4u + i) * 2u] = fma(vec4<f16>(a1[i]), b0, part[(4u + i) * 2u]);
          part[(4u + i) * 2u + 1u] = fma(vec4<f16>(a1[i]), b1, part[(4u + i) * 2u + 1u]);
        }
      }
      for (var q = 0u; q < 16u; q++) { acc[q] += vec4<f32>(part[q]); }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 8u; r++) {
    let row = m0 + 64u * (r / 4u) + 4u * ty + r % 4u;
    for (var g = 0u; g < 2u; g++) { store_quad(c, ldc, row, n0 + 64u * g + 4u * tx, m, n, acc[r * 2u + g]); }
  }
}
