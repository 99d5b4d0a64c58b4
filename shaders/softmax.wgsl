// Kernel family: softmax, twin of assembly/softmax.ts: rows × cols, softmax
// over cols, one invocation per row (max, then e^(x − max) and its sum, then
// the scaling, as the wasm twin). A workgroup-per-row reduction is the next
// step for wide rows (attention, vocabularies); the classifier heads this
// serves have a few to a few hundred columns.

fn row_max(x: u32, n: u32) -> f32 {
  var m = mem[x];
  for (var i = 1u; i < n; i++) { let v = mem[x + i]; if (v > m || v != v) { m = v; } }
  return m;
}

// softmax_f32(x, y, rows, cols)
@compute @workgroup_size(256)
fn softmax_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(3u);
  if (r >= pu(2u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let y = pu(1u) + r * cols;
  let mx = row_max(x, cols);
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { let e = exp(mem[x + i] - mx); mem[y + i] = e; s += e; }
  let inv = 1.0 / s;
  for (var i = 0u; i < cols; i++) { mem[y + i] = mem[y + i] * inv; }
}

// log_softmax_f32(x, y, rows, cols)
@compute @workgroup_size(256)
fn log_softmax_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(3u);
  if (r >= pu(2u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let y = pu(1u) + r * cols;
  let mx = row_max(x, cols);
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s += exp(mem[x + i] - mx); }
  let lse = mx + log(s);
  for (var i = 0u; i < cols; i++) { mem[y + i] = mem[x + i] - lse; }
}

// softmax_backward_f32(y, dy, dx, rows, cols): dx = y·(dy − Σ dy·y)
@compute @workgroup_size(256)
fn softmax_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(4u);
  if (r >= pu(3u)) { return; }
  let y = pu(0u) + r * cols; let g = pu(1u) + r * cols; let d = pu(2u) + r * cols;
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s = fma(mem[y + i], mem[g + i], s); }
  for (var i = 0u; i < cols; i++) { mem[d + i] = mem[y + i] * (mem[g + i] - s); }
}

// log_softmax_backward_f32(y, dy, dx, rows, cols): dx = dy − e^y·Σ dy
@compute @workgroup_size(256)
fn log_softmax_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(4u);
  if (r >= pu(3u)) { return; }
  let y = pu(0u) + r * cols; let g = pu(1u) + r * cols; let d = pu(2u) + r * cols;
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { s += mem[g + i]; }
  for (var i = 0u; i < cols; i++) { mem[d + i] = mem[g + i] - exp(mem[y + i]) * s; }
}

// softmax_xent_f32(logits, labels, loss, probs, rows, cols)
@compute @workgroup_size(256)
fn softmax_xent_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(5u);
  if (r >= pu(4u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let p = pu(3u) + r * cols;
  let mx = row_max(x, cols);
  var s = 0.0;
  for (var i = 0u; i < cols; i++) { let e = exp(mem[x + i] - mx); mem[p + i] = e; s += e; }
  let inv = 1.0 / s;
  for (var i = 0u; i < cols; i++) { mem[p + i] = mem[p + i] * inv; }
  // the host cannot check labels that live on the GPU: an out-of-range one gives a NaN loss
  let lab = ldi(pu(1u) + r);
  if (lab < 0 || u32(lab) >= cols) { mem[pu(2u) + r] = bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); return; }
  mem[pu(2u) + r] = mx + log(s) - mem[x + u32(lab)];
}

// softmax_xent_backward_f32(probs, labels, dloss, dlossStride, dlogits, rows, cols, scale)
@compute @workgroup_size(256)
fn softmax_xent_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = flat_index(gid, nwg);
  let cols = pu(6u);
  if (r >= pu(5u)) { return; }
  let p = pu(0u) + r * cols; let d = pu(4u) + r * cols;
  let g = mem[pu(2u) + r * pu(3u)] * pf(7u);
  for (var i = 0u; i < cols; i++) { mem[d + i] = mem[p + i] * g; }
  let lab = ldi(pu(1u) + r);
  if (lab < 0 || u32(lab) >= cols) { return; }
  mem[d + u32(lab)] = (mem[p + u32(lab)] - 1.0) * g;
}
