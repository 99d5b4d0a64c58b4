// Kernel family: norm, twin of assembly/norm.ts (layer norm over the last
// `cols` values of each row; two-pass variance, as the wasm twin; RMS norm,
// Σx² in one pass, with the same kernel shapes). Forward and
// input gradient: one invocation per row (many short rows), or
// `<kernel>_workgroup`, one workgroup per row striding over it with a
// workgroup-memory tree for its sums (wide rows; norm.subgroups.wgsl has
// subgroup versions; twins.ts picks, see docs/WEBGPU.md). Parameter gradient:
// one invocation per column, adding the rows in order (the wasm twin's order).
// gamma, beta and rmsnorm's weight are optional: offset 0 means none (the heap
// never hands out offset 0).

// layernorm_f32(x, gamma, beta, y, mean, rstd, rows, cols, eps)
@compute @workgroup_size(256)
fn layernorm_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = layernorm_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let yr = arg.y + r * cols;
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s += mem[xr + i]; }
  let m = s * inv;
  var q = 0.0;
  for (var i = 0u; i < cols; i++) { let d = mem[xr + i] - m; q = fma(d, d, q); }
  let rs = 1.0 / sqrt(q * inv + arg.eps);
  mem[arg.mean + r] = m;
  mem[arg.rstd + r] = rs;
  let g = arg.gamma; let b = arg.beta;
  for (var i = 0u; i < cols; i++) {
    var v = (mem[xr + i] - m) * rs;
    if (g != 0u) { v *= mem[g + i]; }
    if (b != 0u) { v += mem[b + i]; }
    mem[yr + i] = v;
  }
}

// layernorm_backward_f32(x, dy, gamma, mean, rstd, dx, rows, cols): dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma
@compute @workgroup_size(256)
fn layernorm_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = layernorm_backward_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let gr = arg.dy + r * cols; let dr = arg.dx + r * cols;
  let gam = arg.gamma;
  let m = mem[arg.mean + r]; let rs = mem[arg.rstd + r];
  var a = 0.0; var b = 0.0;
  for (var i = 0u; i < cols; i++) {
    var g = mem[gr + i];
    if (gam != 0u) { g *= mem[gam + i]; }
    a += g;
    b = fma(g, (mem[xr + i] - m) * rs, b);
  }
  a *= inv; b *= inv;
  for (var i = 0u; i < cols; i++) {
    var g = mem[gr + i];
    if (gam != 0u) { g *= mem[gam + i]; }
    let xh = (mem[xr + i] - m) * rs;
    mem[dr + i] = rs * ((g - a) - xh * b);
  }
}

// layernorm_param_grad_f32(x, dy, mean, rstd, dgamma, dbeta, rows, cols): dgamma += Σ_r dy·x̂, dbeta += Σ_r dy
@compute @workgroup_size(256)
fn layernorm_param_grad_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = layernorm_param_grad_f32_args();
  let i = flat_index(gid, nwg);
  let rows = arg.rows; let cols = arg.cols;
  if (i >= cols) { return; }
  var dg = mem[arg.dgamma + i]; var db = mem[arg.dbeta + i];
  for (var r = 0u; r < rows; r++) {
    let g = mem[arg.dy + r * cols + i];
    let xh = (mem[arg.x + r * cols + i] - mem[arg.mean + r]) * mem[arg.rstd + r];
    dg = fma(g, xh, dg);
    db += g;
  }
  mem[arg.dgamma + i] = dg;
  mem[arg.dbeta + i] = db;
}

// rmsnorm_f32(x, weight, y, rstd, rows, cols, eps): y = x·rstd·weight, rstd = 1/√(mean(x²) + eps)
@compute @workgroup_size(256)
fn rmsnorm_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rmsnorm_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let yr = arg.y + r * cols;
  var q = 0.0;
  for (var i = 0u; i < cols; i++) { let v = mem[xr + i]; q = fma(v, v, q); }
  let rs = 1.0 / sqrt(q * inv + arg.eps);
  mem[arg.rstd + r] = rs;
  let w = arg.weight;
  for (var i = 0u; i < cols; i++) {
    var v = mem[xr + i] * rs;
    if (w != 0u) { v *= mem[w + i]; }
    mem[yr + i] = v;
  }
}

// rmsnorm_backward_f32(x, dy, weight, rstd, dx, rows, cols): dx = rstd·(g − x̂·mean(g·x̂)), g = dy·weight
@compute @workgroup_size(256)
fn rmsnorm_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rmsnorm_backward_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let gr = arg.dy + r * cols; let dr = arg.dx + r * cols;
  let w = arg.weight;
  let rs = mem[arg.rstd + r];
  var b = 0.0;
  for (var i = 0u; i < cols; i++) {
    var g = mem[gr + i];
    if (w != 0u) { g *= mem[w + i]; }
    b = fma(g, mem[xr + i] * rs, b);
  }
  b *= inv;
  for (var i = 0u; i < cols; i++) {
    var g = mem[gr + i];
    if (w != 0u) { g *= mem[w + i]; }
    mem[dr + i] = rs * (g - mem[xr + i] * rs * b);
  }
}

// rmsnorm_param_grad_f32(x, dy, rstd, dweight, rows, cols): dweight += Σ_r dy·x·rstd
@compute @workgroup_size(256)
fn rmsnorm_param_grad_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rmsnorm_param_grad_f32_args();
  let i = flat_index(gid, nwg);
  let rows = arg.rows; let cols = arg.cols;
  if (i >= cols) { return; }
  var dw = mem[arg.dweight + i];
  for (var r = 0u; r < rows; r++) {
    dw = fma(mem[arg.dy + r * cols + i], mem[arg.x + r * cols + i] * mem[arg.rstd + r], dw);
  }
  mem[arg.dweight + i] = dw;
}

// ---------------------------------------------------------------------------
// One workgroup per row (rows of 32+ columns; see twins.ts). The region below is
// also norm.subgroups.wgsl: scripts/build-shaders.mjs copies it there with
// `_workgroup` entry points renamed `_subgroup` and the reductions of
// _row_reduce.subgroups.wgsl in place of _row_reduce.wgsl's tree.
//#begin row-kernels
//#include rows

// layernorm_f32(x, gamma, beta, y, mean, rstd, rows, cols, eps), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn layernorm_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = layernorm_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let yr = arg.y + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += mem[xr + i]; }
  let m = workgroup_sum2(vec2(s, 0.0)).x * inv;
  var q = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { let d = mem[xr + i] - m; q = fma(d, d, q); }
  let rs = 1.0 / sqrt(workgroup_sum2(vec2(q, 0.0)).x * inv + arg.eps);
  if (lid == 0u) { mem[arg.mean + r] = m; mem[arg.rstd + r] = rs; }
  let g = arg.gamma; let b = arg.beta;
  for (var i = lid; i < cols; i += ROW_WG) {
    var v = (mem[xr + i] - m) * rs;
    if (g != 0u) { v *= mem[g + i]; }
    if (b != 0u) { v += mem[b + i]; }
    mem[yr + i] = v;
  }
}

// layernorm_backward_f32(x, dy, gamma, mean, rstd, dx, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn layernorm_backward_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = layernorm_backward_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let gr = arg.dy + r * cols; let dr = arg.dx + r * cols;
  let gam = arg.gamma;
  let m = mem[arg.mean + r]; let rs = mem[arg.rstd + r];
  var ab = vec2(0.0, 0.0);
  for (var i = lid; i < cols; i += ROW_WG) {
    var g = mem[gr + i];
    if (gam != 0u) { g *= mem[gam + i]; }
    ab = vec2(ab.x + g, fma(g, (mem[xr + i] - m) * rs, ab.y));
  }
  ab = workgroup_sum2(ab) * inv;
  for (var i = lid; i < cols; i += ROW_WG) {
    var g = mem[gr + i];
    if (gam != 0u) { g *= mem[gam + i]; }
    let xh = (mem[xr + i] - m) * rs;
    mem[dr + i] = rs * ((g - ab.x) - xh * ab.y);
  }
}

// rmsnorm_f32(x, weight, y, rstd, rows, cols, eps), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn rmsnorm_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = rmsnorm_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let yr = arg.y + r * cols;
  var q = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { let v = mem[xr + i]; q = fma(v, v, q); }
  let rs = 1.0 / sqrt(workgroup_sum(q) * inv + arg.eps);
  if (lid == 0u) { mem[arg.rstd + r] = rs; }
  let w = arg.weight;
  for (var i = lid; i < cols; i += ROW_WG) {
    var v = mem[xr + i] * rs;
    if (w != 0u) { v *= mem[w + i]; }
    mem[yr + i] = v;
  }
}

// rmsnorm_backward_f32(x, dy, weight, rstd, dx, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn rmsnorm_backward_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = rmsnorm_backward_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = arg.x + r * cols; let gr = arg.dy + r * cols; let dr = arg.dx + r * cols;
  let w = arg.weight;
  let rs = mem[arg.rstd + r];
  var b = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) {
    var g = mem[gr + i];
    if (w != 0u) { g *= mem[w + i]; }
    b = fma(g, mem[xr + i] * rs, b);
  }
  b = workgroup_sum(b) * inv;
  for (var i = lid; i < cols; i += ROW_WG) {
    var g = mem[gr + i];
    if (w != 0u) { g *= mem[w + i]; }
    mem[dr + i] = rs * (g - mem[xr + i] * rs * b);
  }
}
//#end row-kernels
