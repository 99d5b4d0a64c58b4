// Kernel family: gemm, twin of assembly/gemm.ts.
//
// gemm_f32(a, b, c, m, n, k, lda, ldb, ldc, flags, scratch):
// C[m×n] (=, or += with flags & 4) op(A)·op(B); A stored k×m when flags & 1,
// B stored n×k when flags & 2. scratch is unused here (the wasm twin packs B
// into it; the GPU stages tiles in workgroup memory instead).
//
// Tiling: a workgroup of 16×16 invocations owns a BM×BN = 64×64 block of C;
// each invocation keeps a 4×4 register block (rows ty + 16i, columns tx + 16j,
// so neighbouring invocations read neighbouring workgroup-memory words: no bank
// conflicts). k advances in BK = 16 slices staged in workgroup memory; every
// element of C is one fma chain over k in order, started from 0 or from C, as
// in the wasm twin. Edges (m, n, k not multiples of the tile) load zeros.
const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

// Stages slice k0 of the A and B tiles of the block at (m0, n0) into As
// ([bk][bm]) and Bs ([bk][bn]): both tilings make each tile 1024 words, 4 per
// invocation t; the index order follows the stored layout, so consecutive
// invocations read consecutive addresses. Zeros past the matrix.
fn stage_tiles(t: u32, m0: u32, n0: u32, k0: u32, bm: u32, bn: u32, bk: u32) {
  let arg = gemm_f32_args();
  let a = arg.a; let b = arg.b;
  let m = arg.m; let n = arg.n; let k = arg.k;
  let lda = arg.lda; let ldb = arg.ldb;
  let transA = (arg.flags & 1u) != 0u;
  let transB = (arg.flags & 2u) != 0u;
  for (var l = 0u; l < 4u; l++) {
    let e = t + 256u * l;
    var r: u32; var kk: u32;
    if (transA) { r = e % bm; kk = e / bm; } else { kk = e % bk; r = e / bk; }
    let gr = m0 + r; let gk = k0 + kk;
    var v = 0.0;
    if (gr < m && gk < k) {
      if (transA) { v = mem[a + gk * lda + gr]; } else { v = mem[a + gr * lda + gk]; }
    }
    As[kk * bm + r] = v;
    var cc: u32; var kb: u32;
    if (transB) { kb = e % bk; cc = e / bk; } else { cc = e % bn; kb = e / bn; }
    let gc = n0 + cc; let gkb = k0 + kb;
    var w = 0.0;
    if (gc < n && gkb < k) {
      if (transB) { w = mem[b + gc * ldb + gkb]; } else { w = mem[b + gkb * ldb + gc]; }
    }
    Bs[kb * bn + cc] = w;
  }
}

@compute @workgroup_size(16, 16)
fn gemm_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let arg = gemm_f32_args();
  let c = arg.c; let m = arg.m; let n = arg.n; let k = arg.k;
  let ldc = arg.ldc; let flags = arg.flags;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let tx = lid.x; let ty = lid.y;
  let t = ty * 16u + tx;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = m0 + ty + 16u * i; let cc = n0 + tx + 16u * j;
      var v = 0.0;
      if ((flags & 4u) != 0u && r < m && cc < n) { v = mem[c + r * ldc + cc]; }
      acc[i * 4u + j] = v;
    }
  }
  for (var k0 = 0u; k0 < k; k0 += BK) {
    stage_tiles(t, m0, n0, k0, BM, BN, BK);
    workgroupBarrier();
    let kn = min(BK, k - k0);
    for (var kk = 0u; kk < kn; kk++) {
      var av: array<f32, 4>; var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = As[kk * BM + ty + 16u * i]; }
      for (var j = 0u; j < 4u; j++) { bv[j] = Bs[kk * BN + tx + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = m0 + ty + 16u * i; let cc = n0 + tx + 16u * j;
      if (r < m && cc < n) { mem[c + r * ldc + cc] = acc[i * 4u + j]; }
    }
  }
}

// gemm_f32_128: the same product for large matrices (chosen by the host when
// m and n are both ≥ 128): 128×128 blocks of C per workgroup, an 8×8 register
// block per invocation (rows ty + 16i, columns tx + 16j), BK = 8. Twice the
// arithmetic per workgroup-memory read of the 64×64 kernel: what a real GPU
// needs to approach its f32 peak; the edges load zeros as above.
@compute @workgroup_size(16, 16)
fn gemm_f32_128(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let arg = gemm_f32_args();
  let c = arg.c; let m = arg.m; let n = arg.n; let k = arg.k;
  let ldc = arg.ldc; let flags = arg.flags;
  let m0 = wid.y * 128u;
  let n0 = wid.x * 128u;
  let tx = lid.x; let ty = lid.y;
  let t = ty * 16u + tx;
  var acc: array<f32, 64>;
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < 8u; j++) {
      let r = m0 + ty + 16u * i; let cc = n0 + tx + 16u * j;
      var v = 0.0;
      if ((flags & 4u) != 0u && r < m && cc < n) { v = mem[c + r * ldc + cc]; }
      acc[i * 8u + j] = v;
    }
  }
  for (var k0 = 0u; k0 < k; k0 += 8u) {
    stage_tiles(t, m0, n0, k0, 128u, 128u, 8u);
    workgroupBarrier();
    let kn = min(8u, k - k0);
    for (var kk = 0u; kk < kn; kk++) {
      var av: array<f32, 8>; var bv: array<f32, 8>;
      for (var i = 0u; i < 8u; i++) { av[i] = As[kk * 128u + ty + 16u * i]; }
      for (var j = 0u; j < 8u; j++) { bv[j] = Bs[kk * 128u + tx + 16u * j]; }
      for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < 8u; j++) { acc[i * 8u + j] = fma(av[i], bv[j], acc[i * 8u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < 8u; j++) {
      let r = m0 + ty + 16u * i; let cc = n0 + tx + 16u * j;
      if (r < m && cc < n) { mem[c + r * ldc + cc] = acc[i * 8u + j]; }
    }
  }
}

// gemm_f32_small(same arguments): one invocation per element of C, its fma
// chain over k read straight from the heap: no tiles, no barriers. For thin
// products (m or n under 32: a linear layer at batch 64 with 10 outputs, its
// gradients) and short k, where a 64×64 tile is mostly padding and one or two
// workgroups would walk all of k alone. The chain is the same as the tiled
// kernels' (over k in order, from 0 or from C), so are the bits.
@compute @workgroup_size(256)
fn gemm_f32_small(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gemm_f32_args();
  let m = arg.m; let n = arg.n;
  let e = flat_index(gid, nwg);
  if (e >= m * n) { return; }
  let a = arg.a; let b = arg.b; let c = arg.c; let k = arg.k;
  let lda = arg.lda; let ldb = arg.ldb; let ldc = arg.ldc; let flags = arg.flags;
  let r = e / n; let col = e % n;
  // element strides of op(A) row r and op(B) column col along k
  let sa = select(1u, lda, (flags & 1u) != 0u);
  let sb = select(ldb, 1u, (flags & 2u) != 0u);
  var pa = a + select(r * lda, r, (flags & 1u) != 0u);
  var pb = b + select(col, col * ldb, (flags & 2u) != 0u);
  var acc = 0.0;
  if ((flags & 4u) != 0u) { acc = mem[c + r * ldc + col]; }
  for (var kk = 0u; kk < k; kk++) {
    acc = fma(mem[pa], mem[pb], acc);
    pa += sa; pb += sb;
  }
  mem[c + r * ldc + col] = acc;
}

// gemv_f32(x, w, bias, y, m, n, k, ldx, ldw, ldy, accumulate): one invocation per
// output y[i, o], W [n, k] row-major read in place (the twin of assembly/gemv.ts,
// for agreement: the GPU's decode products run fast enough through gemm_f32).
@compute @workgroup_size(256)
fn gemv_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gemv_f32_args();
  let e = flat_index(gid, nwg);
  if (e >= arg.m * arg.n) { return; }
  let i = e / arg.n; let o = e % arg.n;
  let xr = arg.x + i * arg.ldx; let wr = arg.w + o * arg.ldw;
  var s = 0.0;
  for (var d = 0u; d < arg.k; d++) { s = fma(mem[xr + d], mem[wr + d], s); }
  if (arg.bias != 0u) { s += mem[arg.bias + o]; }
  let yi = arg.y + i * arg.ldy + o;
  if (arg.accumulate != 0u) { s += mem[yi]; }
  mem[yi] = s;
}
