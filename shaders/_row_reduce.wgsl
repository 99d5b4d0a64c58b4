// Partial: the workgroup reductions of _rows.wgsl in core WGSL: each lane's
// value into workgroup memory, a tree of ROW_WG / 2, / 4, … additions (9
// barriers), the result read by every invocation. _row_reduce.subgroups.wgsl
// has the same functions through subgroup operations.

var<workgroup> wg_sum_part: array<f32, ROW_WG>;
var<workgroup> wg_sum2_part: array<vec2<f32>, ROW_WG>;
var<workgroup> wg_key_part: array<u32, ROW_WG>;
var<workgroup> wg_index_part: array<u32, ROW_WG>;

fn workgroup_sum(v: f32) -> f32 {
  wg_sum_part[row_lane] = v;
  workgroupBarrier();
  for (var s = ROW_WG / 2u; s > 0u; s >>= 1u) {
    if (row_lane < s) { wg_sum_part[row_lane] += wg_sum_part[row_lane + s]; }
    workgroupBarrier();
  }
  let t = wg_sum_part[0];
  workgroupBarrier(); // the next reduction reuses wg_sum_part
  return t;
}

// Two sums at once (layer norm's backward: Σ g and Σ g·x̂): one tree, one set of barriers.
fn workgroup_sum2(v: vec2<f32>) -> vec2<f32> {
  wg_sum2_part[row_lane] = v;
  workgroupBarrier();
  for (var s = ROW_WG / 2u; s > 0u; s >>= 1u) {
    if (row_lane < s) { wg_sum2_part[row_lane] += wg_sum2_part[row_lane + s]; }
    workgroupBarrier();
  }
  let t = wg_sum2_part[0];
  workgroupBarrier();
  return t;
}

fn workgroup_max_key(k: u32) -> u32 {
  wg_key_part[row_lane] = k;
  workgroupBarrier();
  for (var s = ROW_WG / 2u; s > 0u; s >>= 1u) {
    if (row_lane < s) { wg_key_part[row_lane] = max(wg_key_part[row_lane], wg_key_part[row_lane + s]); }
    workgroupBarrier();
  }
  let t = wg_key_part[0];
  workgroupBarrier();
  return t;
}

// The index of the best (largest key; on equal keys the lowest index, as the
// wasm twin's "first extreme wins") of the lanes' (key, index) candidates.
fn workgroup_best(k: u32, i: u32) -> u32 {
  wg_key_part[row_lane] = k;
  wg_index_part[row_lane] = i;
  workgroupBarrier();
  for (var s = ROW_WG / 2u; s > 0u; s >>= 1u) {
    if (row_lane < s) {
      let ko = wg_key_part[row_lane + s]; let io = wg_index_part[row_lane + s];
      let kb = wg_key_part[row_lane]; let ib = wg_index_part[row_lane];
      if (ko > kb || (ko == kb && io < ib)) { wg_key_part[row_lane] = ko; wg_index_part[row_lane] = io; }
    }
    workgroupBarrier();
  }
  let t = wg_index_part[0];
  workgroupBarrier();
  return t;
}
