// Kernel family: pool, twin of assembly/pool.ts (NCHW planes, PyTorch
// semantics, output sizes from the host). Forward: one invocation per output
// element, the window scanned in the wasm twin's order (first max wins, NaN
// propagates, padding never wins). Backward: one invocation per input element,
// gathering the gradients of the windows that cover it (the windows' geometry
// gives their range directly) in order of the outputs, which is the order the
// wasm twin's scatter adds them in: the same bits, no atomics, and no invocation
// walks a whole plane.

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

// The outputs whose (unclipped) window covers input row h: oh in [lo, hi], clipped
// to [0, OH). A window starts at oh·S − P and spans K rows.
fn pool_cover_lo(h: i32, K: i32, S: i32, P: i32) -> i32 {
  let t = h + P - K + 1; // oh·S ≥ t
  return max(select(-((-t) / S), (t + S - 1) / S, t > 0), 0);
}
fn pool_cover_hi(h: i32, S: i32, P: i32, O: i32) -> i32 { return min((h + P) / S, O - 1); }

// dx[e] of a max pool, for input element e: dy summed over the windows covering it
// whose chosen tap (idx) it is, in order of the outputs (the wasm scatter's additions,
// same bits); with `masked`, only windows whose pooled value y is > 0 (maxpool(relu(z))).
fn maxpool_gather(e: u32, dy: u32, idx: u32, y: u32, masked: bool, H: u32, W: u32, OH: u32, OW: u32,
                  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32) -> f32 {
  let p = e / (H * W);
  let i = i32(e % (H * W));
  let h = i / i32(W); let w = i % i32(W);
  let ob = p * OH * OW;
  var g = 0.0;
  let w0 = pool_cover_lo(w, KW, SW, PW); let w1 = pool_cover_hi(w, SW, PW, i32(OW));
  for (var oh = pool_cover_lo(h, KH, SH, PH); oh <= pool_cover_hi(h, SH, PH, i32(OH)); oh++) {
    for (var ow = w0; ow <= w1; ow++) {
      let o = ob + u32(oh * i32(OW) + ow);
      if (ldi(idx + o) == i && (!masked || mem[y + o] > 0.0)) { g = g + mem[dy + o]; }
    }
  }
  return g;
}

// maxpool2d_backward_f32(dy, idx, dx, NC, H, W, OH, OW, KH, KW, SH, SW, PH, PW):
// one invocation per input element, adding dy of every window covering it whose
// chosen tap (idx) it is, in order of the outputs: the wasm scatter's additions, same bits.
@compute @workgroup_size(256)
fn maxpool2d_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_backward_f32_args();
  let e = flat_index(gid, nwg);
  if (e >= arg.NC * arg.H * arg.W) { return; }
  mem[arg.dx + e] = maxpool_gather(e, arg.dy, arg.idx, 0u, false, arg.H, arg.W, arg.OH, arg.OW, arg.KH, arg.KW, arg.SH, arg.SW, arg.PH, arg.PW);
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

// avgpool2d_backward_f32(dy, dx, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, countIncludePad):
// one invocation per input element, adding the share of every window covering it
// (clipped to the input as the forward clips it) in order of the outputs: the
// wasm twin's additions onto 0, so the same bits.
@compute @workgroup_size(256)
fn avgpool2d_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = avgpool2d_backward_f32_args();
  let H = arg.H; let W = arg.W; let KH = arg.KH; let KW = arg.KW;
  let SH = arg.SH; let SW = arg.SW; let PH = arg.PH; let PW = arg.PW; let OH = arg.OH; let OW = arg.OW;
  let e = flat_index(gid, nwg);
  if (e >= arg.NC * u32(H * W)) { return; }
  let p = e / u32(H * W);
  let h = i32(e % u32(H * W)) / W; let w = i32(e % u32(H * W)) % W;
  let dyp = arg.dy + p * u32(OH * OW);
  var g = 0.0;
  let w0 = pool_cover_lo(w, KW, SW, PW); let w1 = pool_cover_hi(w, SW, PW, OW);
  for (var oh = pool_cover_lo(h, KH, SH, PH); oh <= pool_cover_hi(h, SH, PH, OH); oh++) {
    for (var ow = w0; ow <= w1; ow++) {
      var hs = oh * SH - PH; var ws = ow * SW - PW;
      var he = min(hs + KH, H + PH); var we = min(ws + KW, W + PW);
      let pool = (he - hs) * (we - ws);
      hs = max(hs, 0); ws = max(ws, 0); he = min(he, H); we = min(we, W);
      if (h < hs || h >= he || w < ws || w >= we) { continue; }
      g = g + mem[dyp + u32(oh * OW + ow)] / f32(select((he - hs) * (we - ws), pool, arg.countIncludePad != 0u));
    }
  }
  mem[arg.dx + e] = g;
}

// maxpool2d_relu_backward_f32(dy, idx, y, dx, NC, H, W, OH, OW, tiled, KH, KW, SH, SW, PH, PW):
// the gradient of maxpool(relu(z)) with respect to z; like maxpool2d_backward_f32
// (per input element, windows in order of the outputs), but an output whose pooled
// value y is not > 0 passes no gradient.
@compute @workgroup_size(256)
fn maxpool2d_relu_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = maxpool2d_relu_backward_f32_args();
  let e = flat_index(gid, nwg);
  if (e >= arg.NC * arg.H * arg.W) { return; }
  mem[arg.dx + e] = maxpool_gather(e, arg.dy, arg.idx, arg.y, true, arg.H, arg.W, arg.OH, arg.OW, arg.KH, arg.KW, arg.SH, arg.SW, arg.PH, arg.PW);
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
