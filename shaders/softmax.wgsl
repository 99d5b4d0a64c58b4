// Kernel family: softmax, twin of assembly/softmax.ts: rows × cols, softmax
// over cols (max, then e^(x − max) and its sum, then the scaling, as the wasm
// twin). Two shapes of each row kernel:
// - `<kernel>`: one invocation per row walking it in order. Best for many
//   short rows (classifier heads: a few to a few dozen columns), where a
//   workgroup per row would leave most of its invocations idle.
// - `<kernel>_workgroup`: one workgroup of ROW_WG invocations per row, each
//   striding over the columns (neighbours read neighbouring words), partial
//   results combined by a tree in workgroup memory. For wide rows (attention,
//   vocabularies), where one invocation per row serialises the whole row.
//   softmax.subgroups.wgsl has the same kernels combining through subgroups.
// twins.ts picks between them by cols and the device (see docs/WEBGPU.md,
// "Row reductions: workgroups and subgroups").

fn row_max(x: u32, n: u32) -> f32 {
  var m = mem[x];
  for (var i = 1u; i < n; i++) { let v = mem[x + i]; if (v > m || is_nan(v)) { m = v; } }
  return m;
}

// Softmax of one row of cols floats at x into p, walked by one invocation;
// returns (max, Σ e^(x − max)) for the callers that also want log-sum-exp.
fn softmax_row(x: u32, p: u32, cols: u32) -> vec2<f32> {
  let mx = row_max(x, cols);
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { let e = exp_nan(mem[x + i] - mx); mem[p + i] = e; s += e; }
  let inv = 1.0 / s;
  for (var i = 0u; i < cols; i++) { mem[p + i] = mem[p + i] * inv; }
  return vec2(mx, s);
}

// softmax_f32(x, y, rows, cols)
@compute @workgroup_size(256)
fn softmax_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = softmax_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  _ = softmax_row(arg.x + r * cols, arg.y + r * cols, cols);
}

// log_softmax_f32(x, y, rows, cols)
@compute @workgroup_size(256)
fn log_softmax_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = log_softmax_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  let x = arg.x + r * cols; let y = arg.y + r * cols;
  let mx = row_max(x, cols);
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s += exp_nan(mem[x + i] - mx); }
  // a +inf in the row makes every entry NaN (inf − inf in Σ), as PyTorch; SwiftShader loses that NaN
  let ls = select(log_nan(s), nan_f32(), is_inf(mx) && mx > 0.0);
  for (var i = 0u; i < cols; i++) { mem[y + i] = (mem[x + i] - mx) - ls; } // PyTorch's order: exact x − max
}

// softmax_backward_f32(y, dy, dx, rows, cols): dx = y·(dy − Σ dy·y)
@compute @workgroup_size(256)
fn softmax_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = softmax_backward_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let y = arg.y + r * cols; let g = arg.dy + r * cols; let d = arg.dx + r * cols;
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s = fma(mem[y + i], mem[g + i], s); }
  for (var i = 0u; i < cols; i++) { mem[d + i] = mem[y + i] * (mem[g + i] - s); }
}

// log_softmax_backward_f32(y, dy, dx, rows, cols): dx = dy − e^y·Σ dy
@compute @workgroup_size(256)
fn log_softmax_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = log_softmax_backward_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let y = arg.y + r * cols; let g = arg.dy + r * cols; let d = arg.dx + r * cols;
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s += mem[g + i]; }
  for (var i = 0u; i < cols; i++) { mem[d + i] = mem[g + i] - exp_nan(mem[y + i]) * s; }
}

// softmax_xent_f32(logits, labels, loss, probs, rows, cols)
@compute @workgroup_size(256)
fn softmax_xent_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = softmax_xent_f32_args();
  let r = flat_index(gid, nwg);
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  let x = arg.logits + r * cols;
  let ms = softmax_row(x, arg.probs + r * cols, cols);
  // the host cannot check labels that live on the GPU: an out-of-range one gives a NaN loss
  let lab = ldi(arg.labels + r);
  if (lab < 0 || u32(lab) >= cols) { mem[arg.loss + r] = bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); return; }
  mem[arg.loss + r] = ms.x + log_nan(ms.y) - mem[x + u32(lab)];
}

// softmax_xent_backward_f32(probs, labels, dloss, dlossStride, dlogits, rows, cols, scale):
// no sum over the row, so one invocation per element (a wide row is spread over the GPU, not walked by one invocation)
@compute @workgroup_size(256)
fn softmax_xent_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = softmax_xent_backward_f32_args();
  let t = flat_index(gid, nwg);
  let rows = arg.rows; let cols = arg.cols;
  if (t >= rows * cols) { return; }
  let r = t / cols; let i = t % cols;
  let g = mem[arg.dloss + r * arg.dlossStride] * arg.scale;
  let p = mem[arg.probs + t];
  let lab = ldi(arg.labels + r);
  // an out-of-range label (the host cannot check labels on the GPU) leaves the row at probs·g
  mem[arg.dlogits + t] = select(p * g, (p - 1.0) * g, lab >= 0 && u32(lab) == i);
}

// ---------------------------------------------------------------------------
// One workgroup per row (rows of 32+ columns; see twins.ts). The region below is
// also softmax.subgroups.wgsl: scripts/build-shaders.mjs copies it there with
// `_workgroup` entry points renamed `_subgroup` and the reductions of
// _row_reduce.subgroups.wgsl in place of _row_reduce.wgsl's tree.
//#begin row-kernels
//#include rows

// softmax_row for one workgroup per row: each lane writes and scales its own
// columns (no barrier between), the max and the sum go through the reductions.
fn workgroup_softmax_row(x: u32, p: u32, cols: u32) -> vec2<f32> {
  let mx = workgroup_row_max(x, cols);
  var s = 0.0;
  for (var i = row_lane; i < cols; i += ROW_WG) { let e = exp_nan(mem[x + i] - mx); mem[p + i] = e; s += e; }
  s = workgroup_sum(s);
  let inv = 1.0 / s;
  for (var i = row_lane; i < cols; i += ROW_WG) { mem[p + i] = mem[p + i] * inv; }
  return vec2(mx, s);
}

// softmax_f32(x, y, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn softmax_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = softmax_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  _ = workgroup_softmax_row(arg.x + r * cols, arg.y + r * cols, cols);
}

// log_softmax_f32(x, y, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn log_softmax_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = log_softmax_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  let x = arg.x + r * cols; let y = arg.y + r * cols;
  let mx = workgroup_row_max(x, cols);
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += exp_nan(mem[x + i] - mx); }
  let ls = select(log_nan(workgroup_sum(s)), nan_f32(), is_inf(mx) && mx > 0.0);
  for (var i = lid; i < cols; i += ROW_WG) { mem[y + i] = (mem[x + i] - mx) - ls; }
}

// softmax_backward_f32(y, dy, dx, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn softmax_backward_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = softmax_backward_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let y = arg.y + r * cols; let g = arg.dy + r * cols; let d = arg.dx + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s = fma(mem[y + i], mem[g + i], s); }
  s = workgroup_sum(s);
  for (var i = lid; i < cols; i += ROW_WG) { mem[d + i] = mem[y + i] * (mem[g + i] - s); }
}

// log_softmax_backward_f32(y, dy, dx, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn log_softmax_backward_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = log_softmax_backward_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows) { return; }
  let y = arg.y + r * cols; let g = arg.dy + r * cols; let d = arg.dx + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += mem[g + i]; }
  s = workgroup_sum(s);
  for (var i = lid; i < cols; i += ROW_WG) { mem[d + i] = mem[g + i] - exp_nan(mem[y + i]) * s; }
}

// softmax_xent_f32(logits, labels, loss, probs, rows, cols), one workgroup per row
@compute @workgroup_size(ROW_WG)
fn softmax_xent_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = softmax_xent_f32_args();
  row_lane = lid;
  let r = wid.x + wid.y * nwg.x;
  let cols = arg.cols;
  if (r >= arg.rows || cols == 0u) { return; }
  let x = arg.logits + r * cols;
  let ms = workgroup_softmax_row(x, arg.probs + r * cols, cols);
  if (lid != 0u) { return; }
  let lab = ldi(arg.labels + r);
  if (lab < 0 || u32(lab) >= cols) { mem[arg.loss + r] = bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); return; }
  mem[arg.loss + r] = ms.x + log_nan(ms.y) - mem[x + u32(lab)];
}
//#end row-kernels
