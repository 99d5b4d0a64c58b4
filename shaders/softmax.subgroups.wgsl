// Kernel family: softmax, subgroup variants (needs the adapter feature
// `subgroups`; build-shaders puts `enable subgroups;` first). The kernels of
// softmax.wgsl's `<kernel>_workgroup`, with the same bodies: only
// workgroup_sum and workgroup_max_key differ. A subgroup adds or maxes its
// lanes in registers (subgroupAdd / subgroupMax), its first lane writes one
// partial to workgroup memory, and every invocation adds those few partials
// in slot order (so the result is the same in every invocation and from run
// to run): 2 barriers per reduction instead of the tree's 9.
//
// The subgroup size is the adapter's (4 on SwiftShader, 32 on NVIDIA, 64 on
// AMD, up to 128): any power of two from 1 to ROW_WG works. Slot
// `lid / subgroup_size` assumes a 1-D workgroup's subgroups are consecutive
// runs of local_invocation_index, which Vulkan, Metal and D3D12 drivers do
// (WGSL does not promise it; a `subgroup_id` builtin would). Subgroup builtins
// must run in uniform control flow: the only early returns before them depend
// on the row (workgroup_id) and the arguments, uniform across the workgroup;
// loads past the row's end are guarded inside the loops instead.

const ROW_WG: u32 = 128u;
var<private> row_lane: u32;
var<private> sub_lane: u32;
var<private> sub_size: u32;
var<workgroup> sg_sum_part: array<f32, ROW_WG>;
var<workgroup> sg_key_part: array<u32, ROW_WG>;

fn workgroup_sum(v: f32) -> f32 {
  let s = subgroupAdd(v);
  if (sub_lane == 0u) { sg_sum_part[row_lane / sub_size] = s; }
  workgroupBarrier();
  var t = 0.0;
  for (var i = 0u; i < ROW_WG / sub_size; i++) { t += sg_sum_part[i]; }
  workgroupBarrier(); // the next reduction reuses sg_sum_part
  return t;
}

fn workgroup_max_key(k: u32) -> u32 {
  let m = subgroupMax(k);
  if (sub_lane == 0u) { sg_key_part[row_lane / sub_size] = m; }
  workgroupBarrier();
  var t = 0u;
  for (var i = 0u; i < ROW_WG / sub_size; i++) { t = max(t, sg_key_part[i]); }
  workgroupBarrier();
  return t;
}

// Order-preserving u32 keys, so that max/min with NaN propagation become an
// exact integer max (WGSL's float max/min leave NaN unspecified): a larger key
// is a larger value (`largest`) or a smaller one (not `largest`), a NaN has the
// largest key either way, and −0 counts as +0.
const NO_VALUE_KEY: u32 = 0x007fffffu; // the key of −inf (largest) or +inf (not largest)
fn order_key(v: f32, largest: bool) -> u32 {
  var b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; }
  if (b == 0x80000000u) { b = 0u; }
  let k = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
  return select(~k, k, largest);
}
fn key_value(key: u32, largest: bool) -> f32 {
  if (key == 0xffffffffu) { return bitcast<f32>(key & 0x7fc00000u); } // a quiet NaN (a constant NaN is a WGSL error)
  let k = select(~key, key, largest);
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn workgroup_row_max(x: u32, n: u32) -> f32 {
  var k = NO_VALUE_KEY;
  for (var i = row_lane; i < n; i += ROW_WG) { k = max(k, order_key(mem[x + i], true)); }
  return key_value(workgroup_max_key(k), true);
}

// softmax_f32(x, y, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn softmax_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(3u);
  if (r >= pu(2u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let y = pu(1u) + r * cols;
  let mx = workgroup_row_max(x, cols);
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { let e = exp(mem[x + i] - mx); mem[y + i] = e; s += e; }
  let inv = 1.0 / workgroup_sum(s);
  for (var i = lid; i < cols; i += ROW_WG) { mem[y + i] = mem[y + i] * inv; }
}

// log_softmax_f32(x, y, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn log_softmax_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(3u);
  if (r >= pu(2u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let y = pu(1u) + r * cols;
  let mx = workgroup_row_max(x, cols);
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += exp(mem[x + i] - mx); }
  let lse = mx + log(workgroup_sum(s));
  for (var i = lid; i < cols; i += ROW_WG) { mem[y + i] = mem[x + i] - lse; }
}

// softmax_backward_f32(y, dy, dx, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn softmax_backward_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(4u);
  if (r >= pu(3u)) { return; }
  let y = pu(0u) + r * cols; let g = pu(1u) + r * cols; let d = pu(2u) + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s = fma(mem[y + i], mem[g + i], s); }
  s = workgroup_sum(s);
  for (var i = lid; i < cols; i += ROW_WG) { mem[d + i] = mem[y + i] * (mem[g + i] - s); }
}

// log_softmax_backward_f32(y, dy, dx, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn log_softmax_backward_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(4u);
  if (r >= pu(3u)) { return; }
  let y = pu(0u) + r * cols; let g = pu(1u) + r * cols; let d = pu(2u) + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += mem[g + i]; }
  s = workgroup_sum(s);
  for (var i = lid; i < cols; i += ROW_WG) { mem[d + i] = mem[g + i] - exp(mem[y + i]) * s; }
}

// softmax_xent_f32(logits, labels, loss, probs, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn softmax_xent_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(5u);
  if (r >= pu(4u) || cols == 0u) { return; }
  let x = pu(0u) + r * cols; let p = pu(3u) + r * cols;
  let mx = workgroup_row_max(x, cols);
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { let e = exp(mem[x + i] - mx); mem[p + i] = e; s += e; }
  s = workgroup_sum(s);
  let inv = 1.0 / s;
  for (var i = lid; i < cols; i += ROW_WG) { mem[p + i] = mem[p + i] * inv; }
  if (lid != 0u) { return; }
  let lab = ldi(pu(1u) + r);
  if (lab < 0 || u32(lab) >= cols) { mem[pu(2u) + r] = bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); return; }
  mem[pu(2u) + r] = mx + log(s) - mem[x + u32(lab)];
}
