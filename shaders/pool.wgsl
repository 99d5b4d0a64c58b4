// Kernel family: pool, twin of assembly/pool.ts (NCHW planes, PyTorch
// semantics, output sizes from the host). Forward: one invocation per output
// element, the window scanned in the wasm twin's order (first max wins, NaN
// propagates, padding never wins). Backward: one invocation per plane, adding
// in order of the outputs as the wasm twin does (the max backward's ABI has no
// window geometry, so a gather per input would scan the whole plane); planes
// are N·C, enough parallel work for the small images this serves.

// maxpool2d_f32(x, y, idx, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW)
@compute @workgroup_size(256)
fn maxpool2d_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_f32_args();
  let NC = arg.NC; let H = arg.H; let W = arg.W; let KH = i32(arg.KH); let KW = i32(arg.KW);
  let SH = i32(arg.SH); let SW = i32(arg.SW); let PH = arg.PH; let PW = arg.PW; let OH = arg.OH; let OW = arg.OW;
  let o = flat_index(gid, nwg);
  if (o >= NC * OH * OW) { return; }
  let p = o / (OH * OW);
  let oh = i32((o / OW) % OH); let ow = i32(o % OW);
  let xp = arg.x + p * u32(H * W);
  var hs = oh * SH - PH; var ws = ow * SW - PW;
  let he = min(hs + KH, H); let we = min(ws + KW, W);
  hs = max(hs, 0); ws = max(ws, 0);
  var best = -bitcast<f32>(0x7f800000u | (pu(63u) & 0u));
  var bi = -1;
  if (hs < he && ws < we) { bi = hs * W + ws; }
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) {
      let v = mem[xp + u32(h * W + w)];
      if (v > best || is_nan(v)) { best = v; bi = h * W + w; }
    }
  }
  mem[arg.y + o] = best;
  sti(arg.idx + o, bi);
}

// maxpool2d_backward_f32(dy, idx, dx, NC, H, W, OH, OW)
@compute @workgroup_size(256)
fn maxpool2d_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_backward_f32_args();
  let p = flat_index(gid, nwg);
  if (p >= arg.NC) { return; }
  let hw = arg.H * arg.W; let ohw = arg.OH * arg.OW;
  let dxp = arg.dx + p * hw; let dyp = arg.dy + p * ohw; let ip = arg.idx + p * ohw;
  for (var i = 0u; i < hw; i++) { mem[dxp + i] = 0.0; }
  for (var o = 0u; o < ohw; o++) {
    let i = ldi(ip + o);
    if (i < 0) { continue; }
    mem[dxp + u32(i)] = mem[dxp + u32(i)] + mem[dyp + o];
  }
}

// avgpool2d_f32(x, y, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, countIncludePad)
@compute @workgroup_size(256)
fn avgpool2d_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = avgpool2d_f32_args();
  let NC = arg.NC; let H = arg.H; let W = arg.W; let KH = arg.KH; let KW = arg.KW;
  let SH = arg.SH; let SW = arg.SW; let PH = arg.PH; let PW = arg.PW; let OH = arg.OH; let OW = arg.OW;
  let o = flat_index(gid, nwg);
  if (o >= NC * OH * OW) { return; }
  let p = o / (OH * OW);
  let oh = i32((o / OW) % OH); let ow = i32(o % OW);
  let xp = arg.x + p * u32(H * W);
  var hs = oh * SH - PH; var ws = ow * SW - PW;
  var he = min(hs + KH, H + PH); var we = min(ws + KW, W + PW);
  let pool = (he - hs) * (we - ws);
  hs = max(hs, 0); ws = max(ws, 0); he = min(he, H); we = min(we, W);
  var r = 0.0;
  if (hs < he && ws < we) {
    var sum = 0.0;
    for (var h = hs; h < he; h++) {
      for (var w = ws; w < we; w++) { sum += mem[xp + u32(h * W + w)]; }
    }
    r = sum / f32(select((he - hs) * (we - ws), pool, arg.countIncludePad != 0u));
  }
  mem[arg.y + o] = r;
}

// avgpool2d_backward_f32(dy, dx, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, countIncludePad)
@compute @workgroup_size(256)
fn avgpool2d_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = avgpool2d_backward_f32_args();
  let p = flat_index(gid, nwg);
  if (p >= arg.NC) { return; }
  let H = arg.H; let W = arg.W; let KH = arg.KH; let KW = arg.KW;
  let SH = arg.SH; let SW = arg.SW; let PH = arg.PH; let PW = arg.PW; let OH = arg.OH; let OW = arg.OW;
  let dxp = arg.dx + p * u32(H * W); let dyp = arg.dy + p * u32(OH * OW);
  for (var i = 0u; i < u32(H * W); i++) { mem[dxp + i] = 0.0; }
  for (var oh = 0; oh < OH; oh++) {
    for (var ow = 0; ow < OW; ow++) {
      var hs = oh * SH - PH; var ws = ow * SW - PW;
      var he = min(hs + KH, H + PH); var we = min(ws + KW, W + PW);
      let pool = (he - hs) * (we - ws);
      hs = max(hs, 0); ws = max(ws, 0); he = min(he, H); we = min(we, W);
      if (hs >= he || ws >= we) { continue; }
      let g = mem[dyp + u32(oh * OW + ow)] / f32(select((he - hs) * (we - ws), pool, arg.countIncludePad != 0u));
      for (var h = hs; h < he; h++) {
        for (var w = ws; w < we; w++) {
          let q = dxp + u32(h * W + w);
          mem[q] = mem[q] + g;
        }
      }
    }
  }
}

// maxpool2d_relu_backward_f32(dy, idx, y, dx, NC, H, W, OH, OW, tiled): the gradient of
// maxpool(relu(z)) with respect to z; like maxpool2d_backward_f32, but an output whose
// pooled value y is not > 0 passes no gradient. Per plane (any window), in order of o.
@compute @workgroup_size(256)
fn maxpool2d_relu_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_relu_backward_f32_args();
  let p = flat_index(gid, nwg);
  if (p >= arg.NC) { return; }
  let hw = arg.H * arg.W; let ohw = arg.OH * arg.OW;
  let dxp = arg.dx + p * hw; let dyp = arg.dy + p * ohw; let ip = arg.idx + p * ohw; let yp = arg.y + p * ohw;
  for (var i = 0u; i < hw; i++) { mem[dxp + i] = 0.0; }
  for (var o = 0u; o < ohw; o++) {
    let i = ldi(ip + o);
    if (i < 0 || !(mem[yp + o] > 0.0)) { continue; }
    mem[dxp + u32(i)] = mem[dxp + u32(i)] + mem[dyp + o];
  }
}

// The same for tiled ≠ 0 (2×2 windows, stride 2, no padding: disjoint windows):
// one invocation per input element, which is either its window's chosen tap or 0.
@compute @workgroup_size(256)
fn maxpool2d_relu_backward_tiled_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_relu_backward_f32_args();
  let H = arg.H; let W = arg.W; let OH = arg.OH; let OW = arg.OW;
  let e = flat_index(gid, nwg);
  if (e >= arg.NC * H * W) { return; }
  let p = e / (H * W); let h = (e / W) % H; let w = e % W;
  var g = 0.0;
  let oh = h / 2u; let ow = w / 2u;
  if (oh < OH && ow < OW) {
    let o = p * OH * OW + oh * OW + ow;
    if (ldi(arg.idx + o) == i32(h * W + w) && mem[arg.y + o] > 0.0) { g = 0.0 + mem[arg.dy + o]; }
  }
  mem[arg.dx + e] = g;
}
