// Kernel family: conv, twin of assembly/conv.ts (NCHW, the same arguments).
// Every kernel is a gather, so no two invocations write one float:
// - im2col: one invocation per column element (r, p);
// - col2im: one invocation per image element, adding its taps in the wasm
//   twin's order r = 0, 1, ... onto the value already there (so the bits match);
// - pad2d and bias_add_channels: one invocation per element;
// - conv2d_direct: one invocation per output element, the chain over
//   r = (c·KH + kh)·KW + kw in order, as the wasm tile runs it;
// - conv2d_wgrad: one workgroup per weight-gradient element, its 256
//   invocations striding over the N·OH·OW products, then a tree sum in
//   workgroup memory (the order differs from wasm: agreement within rounding).

// im2col_f32(x, col, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol)
@compute @workgroup_size(256)
fn im2col_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = pu(2u); let H = pi(3u); let W = pi(4u); let KH = pu(5u); let KW = pu(6u);
  let SH = pi(7u); let SW = pi(8u); let PH = pi(9u); let PW = pi(10u); let DH = pi(11u); let DW = pi(12u);
  let OH = pu(13u); let OW = pu(14u);
  let P = OH * OW;
  let e = flat_index(gid, nwg);
  if (e >= C * KH * KW * P) { return; }
  let r = e / P; let p = e % P;
  let kw = i32(r % KW); let kh = i32((r / KW) % KH); let c = r / (KW * KH);
  let ih = i32(p / OW) * SH - PH + kh * DH;
  let iw = i32(p % OW) * SW - PW + kw * DW;
  var v = 0.0;
  if (ih >= 0 && ih < H && iw >= 0 && iw < W) { v = mem[pu(0u) + c * u32(H * W) + u32(ih * W + iw)]; }
  mem[pu(1u) + r * pu(15u) + p] = v;
}

// col2im_f32(col, x, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol): x += the adjoint of im2col
@compute @workgroup_size(256)
fn col2im_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let C = pu(2u); let H = pi(3u); let W = pi(4u); let KH = pi(5u); let KW = pi(6u);
  let SH = pi(7u); let SW = pi(8u); let PH = pi(9u); let PW = pi(10u); let DH = pi(11u); let DW = pi(12u);
  let OH = pi(13u); let OW = pi(14u); let ld = pu(15u);
  let e = flat_index(gid, nwg);
  if (e >= C * u32(H * W) || OH <= 0 || OW <= 0) { return; }
  let c = e / u32(H * W);
  let h = i32(e % u32(H * W)) / W; let w = i32(e % u32(H * W)) % W;
  let q = pu(1u) + e;
  var acc = mem[q];
  for (var kh = 0; kh < KH; kh++) {
    let th = h + PH - kh * DH; // = oh·SH
    if (th < 0 || th % SH != 0 || th / SH >= OH) { continue; }
    let oh = th / SH;
    for (var kw = 0; kw < KW; kw++) {
      let tw = w + PW - kw * DW;
      if (tw < 0 || tw % SW != 0 || tw / SW >= OW) { continue; }
      let r = (c * u32(KH) + u32(kh)) * u32(KW) + u32(kw);
      acc = acc + mem[pu(0u) + r * ld + u32(oh * OW + tw / SW)];
    }
  }
  mem[q] = acc;
}

// bias_add_channels_f32(y, bias, n, c, inner)
@compute @workgroup_size(256)
fn bias_add_channels_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = flat_index(gid, nwg);
  let inner = pu(4u);
  if (e >= pu(2u) * pu(3u) * inner) { return; }
  let q = pu(0u) + e;
  mem[q] = mem[q] + mem[pu(1u) + (e / inner) % pu(3u)];
}

// pad2d_f32(x, xp, NC, H, W, PH, PW)
@compute @workgroup_size(256)
fn pad2d_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let H = pi(3u); let W = pi(4u); let PH = pi(5u); let PW = pi(6u);
  let Hp = u32(H + 2 * PH); let Wp = u32(W + 2 * PW);
  let e = flat_index(gid, nwg);
  if (e >= pu(2u) * Hp * Wp) { return; }
  let p = e / (Hp * Wp);
  let h = i32((e / Wp) % Hp) - PH; let w = i32(e % Wp) - PW;
  var v = 0.0;
  if (h >= 0 && h < H && w >= 0 && w < W) { v = mem[pu(0u) + p * u32(H * W) + u32(h * W + w)]; }
  mem[pu(1u) + e] = v;
}

// conv2d_direct_f32(xp, w, y, N, C, Hp, Wp, KH, KW, Cout): stride 1, input already padded
@compute @workgroup_size(256)
fn conv2d_direct_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let N = pu(3u); let C = pu(4u); let Hp = pu(5u); let Wp = pu(6u); let KH = pu(7u); let KW = pu(8u); let Cout = pu(9u);
  let OH = Hp - KH + 1u; let OW = Wp - KW + 1u; let P = OH * OW;
  let e = flat_index(gid, nwg);
  if (e >= N * Cout * P) { return; }
  let p = e % P; let o = (e / P) % Cout; let n = e / (P * Cout);
  let xb = pu(0u) + n * C * Hp * Wp + (p / OW) * Wp + p % OW;
  var wp = pu(1u) + o * C * KH * KW;
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
  mem[pu(2u) + e] = acc;
}

var<workgroup> wsum: array<f32, 256>;

// conv2d_wgrad_f32(xp, dy, dw, N, C, Hp, Wp, KH, KW, O, Otot): dw for output channels [0, O)
@compute @workgroup_size(256)
fn conv2d_wgrad_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let N = pu(3u); let C = pu(4u); let Hp = pu(5u); let Wp = pu(6u); let KH = pu(7u); let KW = pu(8u);
  let O = pu(9u); let Otot = pu(10u);
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
      let g = mem[pu(1u) + (n * Otot + o) * P + p];
      let x = mem[pu(0u) + (n * C + c) * Hp * Wp + (p / OW + kh) * Wp + p % OW + kw];
      acc = fma(g, x, acc);
    }
  }
  wsum[t] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) { wsum[t] = wsum[t] + wsum[t + s]; }
    workgroupBarrier();
  }
  if (t == 0u && live) { mem[pu(2u) + e] = wsum[0]; }
}
