// Partial (not a family): what the one-workgroup-per-row kernels of softmax,
// norm and reduce share. Pulled in with `//#include rows`; its own
// `//#include row_reduce` takes _row_reduce.wgsl (a tree in workgroup memory)
// in the base modules and _row_reduce.subgroups.wgsl in the subgroup variants
// (scripts/build-shaders.mjs), so the kernel bodies are written once.
//
// The row index comes from workgroup_id, so a kernel's early returns are
// uniform across the workgroup, as the barriers (and subgroup operations) in
// the reductions need. Each kernel sets row_lane = local_invocation_index first.

const ROW_WG: u32 = 128u;
const NO_INDEX: u32 = 0xffffffffu;
var<private> row_lane: u32;

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

//#include row_reduce

// The row's largest value (NaN if it holds one), in every invocation.
fn workgroup_row_max(x: u32, n: u32) -> f32 {
  var k = NO_VALUE_KEY;
  for (var i = row_lane; i < n; i += ROW_WG) { k = max(k, order_key(mem[x + i], true)); }
  return key_value(workgroup_max_key(k), true);
}
