// Partial: _row_reduce.wgsl's functions through subgroup operations (the
// subgroup variants; needs `enable subgroups`). A subgroup adds or maxes its
// lanes in registers (subgroupAdd / subgroupMax), one lane (subgroupElect)
// writes the subgroup's partial to workgroup memory, and every invocation
// combines those few partials in slot order, so the result is the same in
// every invocation and from run to run: 2 barriers per reduction, not 9.
//
// The subgroup size is the adapter's (4 on SwiftShader, 32 on NVIDIA, 64 on
// AMD, up to 128): any power of two up to ROW_WG works. It is counted as
// subgroupAdd(1u) (every lane is active: these run in uniform control flow),
// and a subgroup's slot is its lowest local_invocation_index / size, which
// assumes a 1-D workgroup's subgroups are consecutive runs of invocations:
// Vulkan, Metal and D3D12 drivers do this (WGSL does not promise it). Why not
// the subgroup_size / subgroup_invocation_id builtins: they would have to be
// entry-point parameters, and the kernel bodies are shared with the base
// modules (core WGSL).

var<workgroup> sg_sum_part: array<f32, ROW_WG>;
var<workgroup> sg_sum2_part: array<vec2<f32>, ROW_WG>;
var<workgroup> sg_key_part: array<u32, ROW_WG>;
var<workgroup> sg_index_part: array<u32, ROW_WG>;

/** This subgroup's slot (x) and the number of subgroups in the workgroup (y); call in uniform control flow. */
fn subgroup_slots() -> vec2<u32> {
  let size = subgroupAdd(1u);
  return vec2(subgroupMin(row_lane) / size, ROW_WG / size);
}

fn workgroup_sum(v: f32) -> f32 {
  let s = subgroupAdd(v);
  let slots = subgroup_slots();
  if (subgroupElect()) { sg_sum_part[slots.x] = s; }
  workgroupBarrier();
  var t = 0.0;
  for (var i = 0u; i < slots.y; i++) { t += sg_sum_part[i]; }
  workgroupBarrier(); // the next reduction reuses sg_sum_part
  return t;
}

fn workgroup_sum2(v: vec2<f32>) -> vec2<f32> {
  let s = subgroupAdd(v);
  let slots = subgroup_slots();
  if (subgroupElect()) { sg_sum2_part[slots.x] = s; }
  workgroupBarrier();
  var t = vec2(0.0, 0.0);
  for (var i = 0u; i < slots.y; i++) { t += sg_sum2_part[i]; }
  workgroupBarrier();
  return t;
}

fn workgroup_max_key(k: u32) -> u32 {
  let m = subgroupMax(k);
  let slots = subgroup_slots();
  if (subgroupElect()) { sg_key_part[slots.x] = m; }
  workgroupBarrier();
  var t = 0u;
  for (var i = 0u; i < slots.y; i++) { t = max(t, sg_key_part[i]); }
  workgroupBarrier();
  return t;
}

// argmax/argmin: subgroupMax of the keys, then subgroupMin of the indices
// holding that key (the first best, as the wasm twin), then the subgroups'
// candidates in slot order.
fn workgroup_best(k: u32, i: u32) -> u32 {
  let kb = subgroupMax(k);
  let ib = subgroupMin(select(NO_INDEX, i, k == kb));
  let slots = subgroup_slots();
  if (subgroupElect()) { sg_key_part[slots.x] = kb; sg_index_part[slots.x] = ib; }
  workgroupBarrier();
  var bk = 0u; var bi = NO_INDEX;
  for (var s = 0u; s < slots.y; s++) {
    let ko = sg_key_part[s]; let io = sg_index_part[s];
    if (ko > bk || (ko == bk && io < bi)) { bk = ko; bi = io; }
  }
  workgroupBarrier();
  return bi;
}
