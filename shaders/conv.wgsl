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

var<workgroup> wsum: array<f32, 256>;

// conv2d_wgrad_f32(xp, dy, dw, N, C, Hp, Wp, KH, KW, O, Otot): dw for output channels [0, O)
@compute @workgroup_size(256)
fn conv2d_wgrad_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
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
