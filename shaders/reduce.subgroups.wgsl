// Kernel family: reduce, subgroup variants (needs the adapter feature
// `subgroups`) of reduce.wgsl's `<kernel>_workgroup` (inner 1), with the same
// bodies: only workgroup_sum / workgroup_max_key / workgroup_best differ. A
// subgroup reduces in registers; its first lane writes one partial to
// workgroup memory; every invocation combines those few partials in slot
// order (see softmax.subgroups.wgsl for the subgroup-size and uniformity
// notes). argmax/argmin: subgroupMax of the order keys, then subgroupMin of
// the indices holding that key: the first best, exactly as the wasm twin.

const ROW_WG: u32 = 128u;
const NO_INDEX: u32 = 0xffffffffu;
var<private> row_lane: u32;
var<private> sub_lane: u32;
var<private> sub_size: u32;
var<workgroup> sg_sum_part: array<f32, ROW_WG>;
var<workgroup> sg_key_part: array<u32, ROW_WG>;
var<workgroup> sg_index_part: array<u32, ROW_WG>;

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

fn workgroup_best(k: u32, i: u32) -> u32 {
  let kb = subgroupMax(k);
  let ib = subgroupMin(select(NO_INDEX, i, k == kb));
  if (sub_lane == 0u) { sg_key_part[row_lane / sub_size] = kb; sg_index_part[row_lane / sub_size] = ib; }
  workgroupBarrier();
  var bk = 0u; var bi = NO_INDEX;
  for (var s = 0u; s < ROW_WG / sub_size; s++) {
    let ko = sg_key_part[s]; let io = sg_index_part[s];
    if (ko > bk || (ko == bk && io < bi)) { bk = ko; bi = io; }
  }
  workgroupBarrier();
  return bi;
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

// reduce_f32(op, x, y, outer, len, inner) with inner 1, one workgroup per output, through subgroups
@compute @workgroup_size(ROW_WG)
fn reduce_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  row_lane = lid; sub_lane = sg_lane; sub_size = sg_size;
  let op = pu(0u); let outer = pu(3u); let len = pu(4u);
  let o = wid.x + wid.y * nwg.x;
  if (o >= outer) { return; }
  let base = pu(1u) + o * len;
  var r: f32;
  if (op <= 1u) {
    var part = 0.0;
    for (var l = lid; l < len; l += ROW_WG) { part += mem[base + l]; }
    let total = workgroup_sum(part);
    r = select(total, total / f32(len), op == 1u);
  } else {
    let largest = op == 2u;
    var k = NO_VALUE_KEY;
    for (var l = lid; l < len; l += ROW_WG) { k = max(k, order_key(mem[base + l], largest)); }
    r = key_value(workgroup_max_key(k), largest);
  }
  if (lid == 0u) { mem[pu(2u) + o] = r; }
}

// Each lane keeps the first best of its strided indices (they rise, so a
// strictly larger key is needed to replace it); the combine breaks key ties
// by index. A NaN has the largest key: the first NaN wins, as in wasm.
fn arg_reduce_row(largest: bool, wid: vec3<u32>, nwg: vec3<u32>, lid: u32) {
  row_lane = lid;
  let outer = pu(2u); let len = pu(3u);
  let o = wid.x + wid.y * nwg.x;
  if (o >= outer) { return; }
  let base = pu(0u) + o * len;
  var bk = 0u; var bi = NO_INDEX; // key 0 is below every value's key
  for (var l = lid; l < len; l += ROW_WG) {
    let k = order_key(mem[base + l], largest);
    if (k > bk) { bk = k; bi = l; }
  }
  let best = workgroup_best(bk, bi);
  if (lid == 0u) { sti(pu(1u) + o, i32(select(best, 0u, len == 0u))); }
}

// argmax_f32(x, y, outer, len, inner) with inner 1, one workgroup per output, through subgroups
@compute @workgroup_size(ROW_WG)
fn argmax_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  sub_lane = sg_lane; sub_size = sg_size;
  arg_reduce_row(true, wid, nwg, lid);
}

// argmin_f32(x, y, outer, len, inner) with inner 1, one workgroup per output, through subgroups
@compute @workgroup_size(ROW_WG)
fn argmin_f32_subgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
    @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32) {
  sub_lane = sg_lane; sub_size = sg_size;
  arg_reduce_row(false, wid, nwg, lid);
}
