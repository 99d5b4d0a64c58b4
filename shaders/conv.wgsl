// Kernel family: conv, twin of assembly/conv.ts (NCHW, the same arguments).
// Every kernel is a gather, so no two invocations write one float:
// - im2col: one invocation per column element (r, p);
// - col2im: one invocation per image element, adding its taps in the wasm
//   twin's order r = 0, 1, ... onto the value already there (so the bits match);
// - pad2d and bias_add_channels: one invocation per element;
// - conv2d_direct: one invocation per output element, the chain over
//   r = (c·KH + kh)·KW + kw in order, as the wasm tile runs it (the raw twin;
//   the backend's plan for conv2d_direct_f32 runs conv2d_igemm_f32 below);
// - conv2d_igemm (forward) and conv2d_wgrad (weight gradient): tiled implicit
//   GEMMs through workgroup memory, described where they are defined.

// im2col_f32(x, col, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol)
@compute @workgroup_size(256)
fn im2col_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = im2col_f32_args();
  let C = arg.C; let H = arg.H; let W = arg.W; let KH = arg.KH; let KW = arg.KW;
  let SH = arg.SH; let SW = arg.SW; let PH = arg.PH; let PW = arg.PW; let DH = arg.DH; let DW = arg.DW;
  let OH = arg.OH; let OW = arg.OW;
  let P = OH * OW;
  let e = flat_index(gid, nwg);
  if (e >= C * KH * KW * P) { return; }
  let r = e / P; let p = e % P;
  let kw = i32(r % KW); let kh = i32((r / KW) % KH); let c = r / (KW * KH);
  let ih = i32(p / OW) * SH - PH + kh * DH;
  let iw = i32(p % OW) * SW - PW + kw * DW;
  var v = 0.0;
  if (ih >= 0 && ih < H && iw >= 0 && iw < W) { v = mem[arg.x + c * u32(H * W) + u32(ih * W + iw)]; }
  mem[arg.col + r * arg.ldcol + p] = v;
}

// col2im_f32(col, x, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol): x += the adjoint of im2col
@compute @workgroup_size(256)
fn col2im_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = col2im_f32_args();
  let C = arg.C; let H = arg.H; let W = arg.W; let KH = arg.KH; let KW = arg.KW;
  let SH = arg.SH; let SW = arg.SW; let PH = arg.PH; let PW = arg.PW; let DH = arg.DH; let DW = arg.DW;
  let OH = arg.OH; let OW = arg.OW; let ld = arg.ldcol;
  let e = flat_index(gid, nwg);
  if (e >= C * u32(H * W) || OH <= 0 || OW <= 0) { return; }
  let c = e / u32(H * W);
  let h = i32(e % u32(H * W)) / W; let w = i32(e % u32(H * W)) % W;
  let q = arg.x + e;
  var acc = mem[q];
  for (var kh = 0; kh < KH; kh++) {
    let th = h + PH - kh * DH; // = oh·SH
    if (th < 0 || th % SH != 0 || th / SH >= OH) { continue; }
    let oh = th / SH;
    for (var kw = 0; kw < KW; kw++) {
      let tw = w + PW - kw * DW;
      if (tw < 0 || tw % SW != 0 || tw / SW >= OW) { continue; }
      let r = (c * u32(KH) + u32(kh)) * u32(KW) + u32(kw);
      acc = acc + mem[arg.col + r * ld + u32(oh * OW + tw / SW)];
    }
  }
  mem[q] = acc;
}

// bias_add_channels_f32(y, bias, n, c, inner)
@compute @workgroup_size(256)
fn bias_add_channels_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = bias_add_channels_f32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner;
  if (e >= arg.n * arg.c * inner) { return; }
  let q = arg.y + e;
  mem[q] = mem[q] + mem[arg.bias + (e / inner) % arg.c];
}

// pad2d_f32(x, xp, NC, H, W, PH, PW)
@compute @workgroup_size(256)
fn pad2d_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = pad2d_f32_args();
  let H = arg.H; let W = arg.W; let PH = arg.PH; let PW = arg.PW;
  let Hp = u32(H + 2 * PH); let Wp = u32(W + 2 * PW);
  let e = flat_index(gid, nwg);
  if (e >= arg.NC * Hp * Wp) { return; }
  let p = e / (Hp * Wp);
  let h = i32((e / Wp) % Hp) - PH; let w = i32(e % Wp) - PW;
  var v = 0.0;
  if (h >= 0 && h < H && w >= 0 && w < W) { v = mem[arg.x + p * u32(H * W) + u32(h * W + w)]; }
  mem[arg.xp + e] = v;
}

// conv_flip_weights_f32(w, wf, Cout, C, KK): wf[c, o, k] = w[o, c, KK - 1 - k]
@compute @workgroup_size(256)
fn conv_flip_weights_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = conv_flip_weights_f32_args();
  let KK = arg.KK; let Cout = arg.Cout;
  let e = flat_index(gid, nwg);
  if (e >= Cout * arg.C * KK) { return; }
  let k = e % KK; let o = (e / KK) % Cout; let c = e / (KK * Cout);
  mem[arg.wf + e] = mem[arg.w + (o * arg.C + c) * KK + (KK - 1u - k)];
}

// conv2d_direct_f32(xp, w, y, N, C, Hp, Wp, KH, KW, Cout): stride 1, input already padded
@compute @workgroup_size(256)
fn conv2d_direct_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = conv2d_direct_f32_args();
  let N = arg.N; let C = arg.C; let Hp = arg.Hp; let Wp = arg.Wp; let KH = arg.KH; let KW = arg.KW; let Cout = arg.Cout;
  let OH = Hp - KH + 1u; let OW = Wp - KW + 1u; let P = OH * OW;
  let e = flat_index(gid, nwg);
  if (e >= N * Cout * P) { return; }
  let p = e % P; let o = (e / P) % Cout; let n = e / (P * Cout);
  let xb = arg.xp + n * C * Hp * Wp + (p / OW) * Wp + p % OW;
  var wp = arg.w + o * C * KH * KW;
  var acc = 0.0;
  for (var c = 0u; c < C; c++) {
    var rp = xb + c * Hp * Wp;
    for (var kh = 0u; kh < KH; kh++) {
      for (var kw = 0u; kw < KW; kw++) {
        acc = fma(mem[wp], mem[rp + kw], acc);
        wp++;
      }
      rp += Wp;
    }
  }
  mem[arg.y + e] = acc;
}

// ---------------------------------------------------------------------------
// Tiled convolutions: implicit GEMMs with the im2col gather done while staging
// the tiles (no column matrix in memory). The tiling is gemm_f32's: a workgroup
// of 16×16 invocations owns a 64×64 block of the product, each invocation a 4×4
// register block (rows ty + 16i, columns tx + 16j, so neighbours read
// neighbouring workgroup-memory words); K advances in slices of CK = 16 staged
// in workgroup memory (2 × 4 KiB). Each staging invocation keeps one column (or
// row) of the tile for every slice, so its division of the column index into
// (image, oh, ow) happens once per kernel, not per slice. Every element is one
// fma chain over K in order from 0, then the epilogue (bias, ReLU).

const CT: u32 = 64u; // tile rows and columns
const CK: u32 = 16u; // K slice
var<workgroup> tileA: array<f32, 1024>; // [CK][CT]
var<workgroup> tileB: array<f32, 1024>; // [CK][CT]

/** acc[i·4 + j] += Σ over the staged slice of tileA[kk][ty + 16i] · tileB[kk][tx + 16j], kk in order. */
fn conv_tile_madd(acc: ptr<function, array<f32, 16>>, kn: u32, tx: u32, ty: u32) {
  for (var kk = 0u; kk < kn; kk++) {
    var av: array<f32, 4>; var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) { av[i] = tileA[kk * CT + ty + 16u * i]; }
    for (var j = 0u; j < 4u; j++) { bv[j] = tileB[kk * CT + tx + 16u * j]; }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { (*acc)[i * 4u + j] = fma(av[i], bv[j], (*acc)[i * 4u + j]); }
    }
  }
}

/** conv_tile_madd for 2 rows per invocation (32-row tiles: rows ty and ty + 16). */
fn conv_tile_madd2(acc: ptr<function, array<f32, 16>>, kn: u32, tx: u32, ty: u32) {
  for (var kk = 0u; kk < kn; kk++) {
    var av: array<f32, 2>; var bv: array<f32, 4>;
    for (var i = 0u; i < 2u; i++) { av[i] = tileA[kk * CT + ty + 16u * i]; }
    for (var j = 0u; j < 4u; j++) { bv[j] = tileB[kk * CT + tx + 16u * j]; }
    for (var i = 0u; i < 2u; i++) {
      for (var j = 0u; j < 4u; j++) { (*acc)[i * 4u + j] = fma(av[i], bv[j], (*acc)[i * 4u + j]); }
    }
  }
}

// conv2d_igemm_f32: y [N, Cout, OH, OW] = W [Cout, C·KH·KW] · im2col(x), bias and
// ReLU fused, any stride, padding and dilation. Rows: output channels; columns:
// j = n·OH·OW + oh·OW + ow over the whole batch; K: r = (c·KH + kh)·KW + kw, the
// chain order of the wasm direct kernel and of im2col + gemm_f32. Its arguments
// are not a manifest kernel's: the WebGPU plans of conv2d_direct_f32 (and any
// other conv that routes here) pack them, in this order, in
// host/backends/webgpu/schedules.ts (convIgemm). Grid: [column blocks (2-D past
// 65535 as x + y·groups in x), 1 or more, channel blocks of 16·CONV_RI in z].
struct ConvIgemmArgs { x: u32, w: u32, bias: u32, y: u32, N: u32, C: u32, H: i32, W: i32, KH: u32, KW: u32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, OH: u32, OW: u32, Cout: u32, flags: u32 }
fn conv_igemm_args() -> ConvIgemmArgs {
  return ConvIgemmArgs(pu(0u), pu(1u), pu(2u), pu(3u), pu(4u), pu(5u), pi(6u), pi(7u), pu(8u), pu(9u), pi(10u), pi(11u), pi(12u), pi(13u), pi(14u), pi(15u), pu(16u), pu(17u), pu(18u), pu(19u));
}
const CONV_BIAS: u32 = 1u;
const CONV_RELU: u32 = 2u;
// Rows of the tile per invocation (a pipeline constant): 4 gives 64-row tiles of
// output channels, 2 gives 32-row tiles for layers of 32 channels or fewer (a
// 64-row tile would be half padding). The columns stay 64 wide.
override CONV_RI: u32 = 4u;

@compute @workgroup_size(16, 16)
fn conv2d_igemm_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let a = conv_igemm_args();
  let P = a.OH * a.OW; let NP = a.N * P; let KK = a.KH * a.KW; let CKK = a.C * KK;
  let HW = u32(a.H * a.W);
  let col0 = (wid.y * nwg.x + wid.x) * CT;
  let TR = 16u * CONV_RI; // tile rows
  let o0 = wid.z * TR;
  if (col0 >= NP) { return; } // whole workgroup: uniform
  let tx = lid.x; let ty = lid.y; let t = ty * 16u + tx;
  // staging B (the gathered columns): column cc = t % 64 for every slice, K rows kb + 4l
  let cc = t % CT; let kb = t / CT;
  let j = col0 + cc; let jlive = j < NP;
  let jn = min(j, NP - 1u) / P; let jp = min(j, NP - 1u) % P;
  let ih0 = i32(jp / a.OW) * a.SH - a.PH; let iw0 = i32(jp % a.OW) * a.SW - a.PW;
  let xn = a.x + jn * a.C * HW;
  // staging A (weights, rows contiguous in K): K column ka = t % 16, rows ra + 16l (l < CONV_RI)
  let ka = t % CK; let ra = t / CK;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < CKK; k0 += CK) {
    for (var l = 0u; l < 4u; l++) {
      if (l < CONV_RI) {
        let o = o0 + ra + 16u * l; let ka_ = k0 + ka;
        var v = 0.0;
        if (o < a.Cout && ka_ < CKK) { v = mem[a.w + o * CKK + ka_]; }
        tileA[ka * CT + ra + 16u * l] = v;
      }
      let r = k0 + kb + 4u * l;
      var xv = 0.0;
      if (jlive && r < CKK) {
        let c = r / KK; let q = r % KK;
        let ih = ih0 + i32(q / a.KW) * a.DH; let iw = iw0 + i32(q % a.KW) * a.DW;
        if (ih >= 0 && ih < a.H && iw >= 0 && iw < a.W) { xv = mem[xn + c * HW + u32(ih * a.W + iw)]; }
      }
      tileB[(kb + 4u * l) * CT + cc] = xv;
    }
    workgroupBarrier();
    if (CONV_RI == 4u) { conv_tile_madd(&acc, min(CK, CKK - k0), tx, ty); } else { conv_tile_madd2(&acc, min(CK, CKK - k0), tx, ty); }
    workgroupBarrier();
  }
  for (var jj = 0u; jj < 4u; jj++) {
    let col = col0 + tx + 16u * jj;
    if (col >= NP) { continue; }
    let n = col / P; let p = col % P;
    for (var i = 0u; i < CONV_RI; i++) {
      let o = o0 + ty + 16u * i;
      if (o >= a.Cout) { continue; }
      var v = acc[i * 4u + jj];
      if ((a.flags & CONV_BIAS) != 0u) { v = v + mem[a.bias + o]; }
      if ((a.flags & CONV_RELU) != 0u) { v = select(v, 0.0, v < 0.0); } // relu's select: NaN stays NaN
      mem[a.y + (n * a.Cout + o) * P + p] = v;
    }
  }
}

// conv2d_wgrad_f32(xp, dy, dw, N, C, Hp, Wp, KH, KW, O, Otot): dw for output channels
// [0, O) as a tiled reduction, dw [O, C·KH·KW] = dY [O, N·P] · im2col(xp)ᵀ: rows o,
// columns r = (c·KH + kh)·KW + kw, K the N·P positions j = n·P + p in order (stride 1
// over the padded input). dY's slice is staged with consecutive invocations on
// consecutive positions, the columns' with each invocation on one r (its (c, kh, kw)
// decoded once). Grid: [column blocks, row blocks, 1]. Few blocks walk a long K
// (conv (c): 1×5 blocks over 32768 positions): enough for SwiftShader's cores; a
// large GPU would want K split over workgroups, which needs a second pass.
@compute @workgroup_size(16, 16)
fn conv2d_wgrad_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let arg = conv2d_wgrad_f32_args();
  let N = arg.N; let C = arg.C; let Hp = arg.Hp; let Wp = arg.Wp; let KH = arg.KH; let KW = arg.KW;
  let O = arg.O; let Otot = arg.Otot;
  let OH = Hp - KH + 1u; let OW = Wp - KW + 1u; let P = OH * OW; let NP = N * P;
  let KK = KH * KW; let CKK = C * KK;
  let r0 = wid.x * CT; let o0 = wid.y * CT;
  let tx = lid.x; let ty = lid.y; let t = ty * 16u + tx;
  // staging A (dY): K column ka = t % 16 (a position), rows ra + 16l (channels)
  let ka = t % CK; let ra = t / CK;
  // staging B (columns of xp): column cc = t % 64 (its r, decoded once), K rows kb + 4l
  let cc = t % CT; let kb = t / CT;
  let r = r0 + cc; let rlive = r < CKK;
  let rc = min(r, max(CKK, 1u) - 1u);
  let xc = arg.xp + (rc / KK) * Hp * Wp + ((rc % KK) / KW) * Wp + rc % KW;
  var acc: array<f32, 16>;
  for (var j0 = 0u; j0 < NP; j0 += CK) {
    let ja = j0 + ka;
    let an = ja / P; let ap = ja % P;
    for (var l = 0u; l < 4u; l++) {
      let o = o0 + ra + 16u * l;
      var v = 0.0;
      if (o < O && ja < NP) { v = mem[arg.dy + (an * Otot + o) * P + ap]; }
      tileA[ka * CT + ra + 16u * l] = v;
      let jb = j0 + kb + 4u * l;
      var xv = 0.0;
      if (rlive && jb < NP) {
        let n = jb / P; let p = jb % P;
        xv = mem[xc + n * C * Hp * Wp + (p / OW) * Wp + p % OW];
      }
      tileB[(kb + 4u * l) * CT + cc] = xv;
    }
    workgroupBarrier();
    conv_tile_madd(&acc, min(CK, NP - j0), tx, ty);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let o = o0 + ty + 16u * i;
    for (var jj = 0u; jj < 4u; jj++) {
      let rr = r0 + tx + 16u * jj;
      if (o < O && rr < CKK) { mem[arg.dw + o * CKK + rr] = acc[i * 4u + jj]; }
    }
  }
}

var<workgroup> wsum: array<f32, 256>;

// conv2d_wgrad_per_element_f32: conv2d_wgrad_f32's arguments, one workgroup per dw
// element, its 256 invocations striding over the N·OH·OW products, then a tree sum
// in workgroup memory. The plan when GPU_TILING.conv is off (the A/B baseline).
@compute @workgroup_size(256)
fn conv2d_wgrad_per_element_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let arg = conv2d_wgrad_f32_args();
  let N = arg.N; let C = arg.C; let Hp = arg.Hp; let Wp = arg.Wp; let KH = arg.KH; let KW = arg.KW;
  let O = arg.O; let Otot = arg.Otot;
  let OH = Hp - KH + 1u; let OW = Wp - KW + 1u; let P = OH * OW;
  let CKK = C * KH * KW;
  let e = wid.y * nwg.x + wid.x; // uniform across the workgroup, so the barriers below are too
  let live = e < O * CKK;
  let o = e / max(CKK, 1u); let r = e % max(CKK, 1u);
  let kw = r % KW; let kh = (r / KW) % KH; let c = r / (KW * KH);
  var acc = 0.0;
  if (live) {
    for (var j = t; j < N * P; j += 256u) {
      let n = j / P; let p = j % P;
      let g = mem[arg.dy + (n * Otot + o) * P + p];
      let x = mem[arg.xp + (n * C + c) * Hp * Wp + (p / OW + kh) * Wp + p % OW + kw];
      acc = fma(g, x, acc);
    }
  }
  wsum[t] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) { wsum[t] = wsum[t] + wsum[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u && live) { mem[arg.dw + e] = wsum[0]; }
}

// depthwise_conv2d_f32(x, w, y, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
// one invocation per output element, its taps in (kh, kw) order from 0.
@compute @workgroup_size(256)
fn depthwise_conv2d_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = depthwise_conv2d_f32_args();
  let o = flat_index(gid, nwg);
  let OH = i32(arg.OH); let OW = i32(arg.OW); let H = i32(arg.H); let W = i32(arg.W);
  let KH = i32(arg.KH); let KW = i32(arg.KW);
  if (o >= arg.N * arg.C * u32(OH * OW)) { return; }
  let plane = o / u32(OH * OW);
  let c = plane % arg.C;
  let oh = i32((o / u32(OW)) % u32(OH)); let ow = i32(o % u32(OW));
  var acc = 0.0;
  let xp = arg.x + plane * u32(H * W);
  let wp = arg.w + c * u32(KH * KW);
  for (var kh = 0; kh < KH; kh++) {
    let ih = oh * arg.SH - arg.PH + kh * arg.DH;
    if (ih < 0 || ih >= H) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let iw = ow * arg.SW - arg.PW + kw * arg.DW;
      if (iw < 0 || iw >= W) { continue; }
      acc = acc + mem[wp + u32(kh * KW + kw)] * mem[xp + u32(ih * W + iw)];
    }
  }
  mem[arg.y + o] = acc;
}

// depthwise_conv2d_backward_input_f32(dy, w, dx, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
// one invocation per input element, gathering dy·w over the taps that read it.
@compute @workgroup_size(256)
fn depthwise_conv2d_backward_input_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = depthwise_conv2d_backward_input_f32_args();
  let e = flat_index(gid, nwg);
  let OH = i32(arg.OH); let OW = i32(arg.OW); let H = i32(arg.H); let W = i32(arg.W);
  let KH = i32(arg.KH); let KW = i32(arg.KW);
  if (e >= arg.N * arg.C * u32(H * W)) { return; }
  let plane = e / u32(H * W);
  let c = plane % arg.C;
  let h = i32((e / u32(W)) % u32(H)); let xw = i32(e % u32(W));
  let dyp = arg.dy + plane * u32(OH * OW);
  let wp = arg.w + c * u32(KH * KW);
  var acc = 0.0;
  for (var kh = 0; kh < KH; kh++) {
    let th = h + arg.PH - kh * arg.DH;
    if (th < 0 || th % arg.SH != 0) { continue; }
    let oh = th / arg.SH;
    if (oh >= OH) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let tw = xw + arg.PW - kw * arg.DW;
      if (tw < 0 || tw % arg.SW != 0) { continue; }
      let ow = tw / arg.SW;
      if (ow >= OW) { continue; }
      acc = acc + mem[dyp + u32(oh * OW + ow)] * mem[wp + u32(kh * KW + kw)];
    }
  }
  mem[arg.dx + e] = acc;
}

// depthwise_conv2d_backward_weight_f32(x, dy, dw, N, C, Ctot, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
// one invocation per weight element, summing over n, oh, ow in the wasm twin's order.
@compute @workgroup_size(256)
fn depthwise_conv2d_backward_weight_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = depthwise_conv2d_backward_weight_f32_args();
  let e = flat_index(gid, nwg);
  let OH = i32(arg.OH); let OW = i32(arg.OW); let H = i32(arg.H); let W = i32(arg.W);
  let KH = i32(arg.KH); let KW = i32(arg.KW);
  if (e >= arg.C * u32(KH * KW)) { return; }
  let c = e / u32(KH * KW);
  let kh = i32((e / u32(KW)) % u32(KH)); let kw = i32(e % u32(KW));
  var acc = 0.0;
  for (var n = 0u; n < arg.N; n++) {
    let xp = arg.x + (n * arg.Ctot + c) * u32(H * W);
    let dyp = arg.dy + (n * arg.Ctot + c) * u32(OH * OW);
    for (var oh = 0; oh < OH; oh++) {
      let ih = oh * arg.SH - arg.PH + kh * arg.DH;
      if (ih < 0 || ih >= H) { continue; }
      for (var ow = 0; ow < OW; ow++) {
        let iw = ow * arg.SW - arg.PW + kw * arg.DW;
        if (iw < 0 || iw >= W) { continue; }
        acc = acc + mem[dyp + u32(oh * OW + ow)] * mem[xp + u32(ih * W + iw)];
      }
    }
  }
  mem[arg.dw + e] = acc;
}
