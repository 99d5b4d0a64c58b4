// Kernel family: reduce, twin of assembly/reduce.ts: [outer, len, inner]
// reduced over len, one invocation per output (o, j) walking its column in
// order. When the reduced axis is contiguous (inner 1) and long, twins.ts runs
// `<kernel>_workgroup` instead (one workgroup per row, at the end of this
// file; reduce.subgroups.wgsl has subgroup versions; see docs/WEBGPU.md). Sums add CHUNK-row partial sums into a running total (the wasm
// twin's inner-vectorised order), so the error grows like CHUNK + len/CHUNK.
// NaN propagates through sum/mean/max/min; argmax/argmin: the first extreme
// wins and a NaN counts as the extreme (the first NaN wins).
const CHUNK: u32 = 128u;

// reduce_f32(op, x, y, outer, len, inner): op 0 sum, 1 mean, 2 max, 3 min
@compute @workgroup_size(256)
fn reduce_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = reduce_f32_args();
  let op = arg.op; let outer = arg.outer; let len = arg.len; let inner = arg.inner;
  let t = flat_index(gid, nwg);
  if (t >= outer * inner) { return; }
  let o = t / inner; let j = t % inner;
  let base = arg.x + o * len * inner + j;
  var r: f32;
  if (op <= 1u) {
    var total = 0.0;
    for (var l0 = 0u; l0 < len; l0 += CHUNK) {
      var part = 0.0;
      for (var l = l0; l < min(len, l0 + CHUNK); l++) { part += mem[base + l * inner]; }
      total += part;
    }
    r = select(total, total / f32(len), op == REDUCE_MEAN);
  } else {
    let inf = bitcast<f32>(0x7f800000u | (pu(63u) & 0u));
    r = select(inf, -inf, op == REDUCE_MAX);
    for (var l = 0u; l < len; l++) {
      let v = mem[base + l * inner];
      if (is_nan(v) || (op == REDUCE_MAX && v > r) || (op == REDUCE_MIN && v < r)) { r = v; }
      if (is_nan(r)) { break; }
    }
  }
  mem[arg.y + t] = r;
}

fn arg_reduce(is_max: bool, gid: vec3<u32>, nwg: vec3<u32>) {
  let arg = argmax_f32_args(); // argmin_f32's arguments are the same
  let outer = arg.outer; let len = arg.len; let inner = arg.inner;
  let t = flat_index(gid, nwg);
  if (t >= outer * inner) { return; }
  let o = t / inner; let j = t % inner;
  let base = arg.x + o * len * inner + j;
  var best = 0u;
  if (len > 0u) {
    var bv = mem[base];
    for (var l = 1u; l < len && !is_nan(bv); l++) {
      let v = mem[base + l * inner];
      if (is_nan(v) || (is_max && v > bv) || (!is_max && v < bv)) { bv = v; best = l; }
    }
  }
  sti(arg.y + t, i32(best));
}

// argmax_f32(x, y, outer, len, inner)
@compute @workgroup_size(256)
fn argmax_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) { arg_reduce(true, gid, nwg); }

// argmin_f32(x, y, outer, len, inner)
@compute @workgroup_size(256)
fn argmin_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) { arg_reduce(false, gid, nwg); }

// reduce_max_backward_f32(x, y, dy, dx, outer, len, inner): dy routed to the first l where x == y (NaN == NaN)
@compute @workgroup_size(256)
fn reduce_max_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = reduce_max_backward_f32_args();
  let outer = arg.outer; let len = arg.len; let inner = arg.inner;
  let t = flat_index(gid, nwg);
  if (t >= outer * inner) { return; }
  let o = t / inner; let j = t % inner;
  let base = o * len * inner + j;
  let yv = mem[arg.y + t];
  let g = mem[arg.dy + t];
  var found = false;
  for (var l = 0u; l < len; l++) {
    let v = mem[arg.x + base + l * inner];
    let m = !found && (v == yv || (is_nan(v) && is_nan(yv)));
    mem[arg.dx + base + l * inner] = select(0.0, g, m);
    if (m) { found = true; }
  }
}

// ---------------------------------------------------------------------------
// One workgroup per row (rows of 32+ columns; see twins.ts). The region below is
// also reduce.subgroups.wgsl: scripts/build-shaders.mjs copies it there with
// `_workgroup` entry points renamed `_subgroup` and the reductions of
// _row_reduce.subgroups.wgsl in place of _row_reduce.wgsl's tree.
//#begin row-kernels
//#include rows

// reduce_f32(op, x, y, outer, len, inner) with inner 1, one workgroup per output
@compute @workgroup_size(ROW_WG)
fn reduce_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let arg = reduce_f32_args();
  row_lane = lid;
  let op = arg.op; let outer = arg.outer; let len = arg.len;
  let o = wid.x + wid.y * nwg.x;
  if (o >= outer) { return; }
  let base = arg.x + o * len;
  var r: f32;
  if (op <= 1u) {
    var part = 0.0;
    for (var l = lid; l < len; l += ROW_WG) { part += mem[base + l]; }
    let total = workgroup_sum(part);
    r = select(total, total / f32(len), op == REDUCE_MEAN);
  } else {
    let largest = op == REDUCE_MAX;
    var k = NO_VALUE_KEY;
    for (var l = lid; l < len; l += ROW_WG) { k = max(k, order_key(mem[base + l], largest)); }
    r = key_value(workgroup_max_key(k), largest);
  }
  if (lid == 0u) { mem[arg.y + o] = r; }
}

// Each lane keeps the first best of its strided indices (they rise, so a
// strictly larger key is needed to replace it); the combine breaks key ties
// by index. A NaN has the largest key: the first NaN wins, as in wasm.
fn arg_reduce_row(largest: bool, wid: vec3<u32>, nwg: vec3<u32>, lid: u32) {
  let arg = argmax_f32_args(); // argmin_f32's arguments are the same
  row_lane = lid;
  let outer = arg.outer; let len = arg.len;
  let o = wid.x + wid.y * nwg.x;
  if (o >= outer) { return; }
  let base = arg.x + o * len;
  var bk = 0u; var bi = NO_INDEX; // key 0 is below every value's key
  for (var l = lid; l < len; l += ROW_WG) {
    let k = order_key(mem[base + l], largest);
    if (k > bk) { bk = k; bi = l; }
  }
  let best = workgroup_best(bk, bi);
  if (lid == 0u) { sti(arg.y + o, i32(select(best, 0u, len == 0u))); }
}

// argmax_f32(x, y, outer, len, inner) with inner 1, one workgroup per output
@compute @workgroup_size(ROW_WG)
fn argmax_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  arg_reduce_row(true, wid, nwg, lid);
}

// argmin_f32(x, y, outer, len, inner) with inner 1, one workgroup per output
@compute @workgroup_size(ROW_WG)
fn argmin_f32_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  arg_reduce_row(false, wid, nwg, lid);
}
//#end row-kernels
