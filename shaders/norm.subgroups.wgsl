// Kernel family: norm, subgroup variants (needs the adapter feature
// `subgroups`). The kernels of norm.wgsl's `<kernel>_workgroup` with the same
// bodies; only workgroup_sum2 differs: subgroupAdd in registers, one partial
// per subgroup in workgroup memory, added in slot order by every invocation
// (see softmax.subgroups.wgsl for the subgroup-size and uniformity notes).

const ROW_WG: u32 = 128u;
var<private> row_lane: u32;
var<private> sub_lane: u32;
var<private> sub_size: u32;
var<workgroup> sg_sum_part: array<vec2<f32>, ROW_WG>;

fn workgroup_sum2(v: vec2<f32>) -> vec2<f32> {
  let s = subgroupAdd(v);
  if (sub_lane == 0u) { sg_sum_part[row_lane / sub_size] = s; }
  workgroupBarrier();
  var t = vec2(0.0, 0.0);
  for (var i = 0u; i < ROW_WG / sub_size; i++) { t += sg_sum_part[i]; }
  workgroupBarrier(); // the next reduction reuses sg_sum_part
  return t;
}

// layernorm_f32(x, gamma, beta, y, mean, rstd, rows, cols, eps), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn layernorm_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(7u);
  if (r >= pu(6u)) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = pu(0u) + r * cols; let yr = pu(3u) + r * cols;
  var s = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { s += mem[xr + i]; }
  let m = workgroup_sum2(vec2(s, 0.0)).x * inv;
  var q = 0.0;
  for (var i = lid; i < cols; i += ROW_WG) { let d = mem[xr + i] - m; q = fma(d, d, q); }
  let rs = 1.0 / sqrt(workgroup_sum2(vec2(q, 0.0)).x * inv + pf(8u));
  if (lid == 0u) { mem[pu(4u) + r] = m; mem[pu(5u) + r] = rs; }
  let g = pu(1u); let b = pu(2u);
  for (var i = lid; i < cols; i += ROW_WG) {
    var v = (mem[xr + i] - m) * rs;
    if (g != 0u) { v *= mem[g + i]; }
    if (b != 0u) { v += mem[b + i]; }
    mem[yr + i] = v;
  }
}

// layernorm_backward_f32(x, dy, gamma, mean, rstd, dx, rows, cols), one workgroup per row, through subgroups
@compute @workgroup_size(ROW_WG)
fn layernorm_backward_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let r = wid.x + wid.y * nwg.x;
  let cols = pu(7u);
  if (r >= pu(6u)) { return; }
  let inv = select(0.0, 1.0 / f32(cols), cols > 0u);
  let xr = pu(0u) + r * cols; let gr = pu(1u) + r * cols; let dr = pu(5u) + r * cols;
  let gam = pu(2u);
  let m = mem[pu(3u) + r]; let rs = mem[pu(4u) + r];
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
