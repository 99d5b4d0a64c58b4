// Kernel family: indexing, twin of assembly/indexing.ts. Tensors are viewed as
// [outer, len, inner] around the indexed dim. Gathers run one invocation per
// output word; scatters and index-adds one invocation per (outer, inner) column
// that walks j in order, so no two invocations write one float and a repeated
// index keeps the last value / sums in the wasm twin's order. The host cannot
// read indices on the GPU without a sync, so the kernels check them: an index
// out of range gathers a NaN word and scatters nothing (wasm refuses it first).
// The sort ranks each element against its row (stable: ties by position), so it
// needs no scratch; len² compares per row.

const NAN_BITS: u32 = 0x7fc00000u;

// gather_dim_b32(x, idx, y, outer, lenX, lenI, inner)
@compute @workgroup_size(256)
fn gather_dim_b32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gather_dim_b32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner; let m = arg.lenI * inner;
  if (e >= arg.outer * m) { return; }
  let o = e / m; let i = e % inner;
  let t = u32(ldi(arg.idx + e)); // a negative index wraps past lenX
  if (t >= arg.lenX) { mem[arg.y + e] = bitcast<f32>(NAN_BITS | (pu(63u) & 0u)); return; }
  mem[arg.y + e] = mem[arg.x + (o * arg.lenX + t) * inner + i];
}

// scatter_dim_f32(src, idx, y, outer, lenY, lenI, inner, accumulate)
@compute @workgroup_size(256)
fn scatter_dim_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = scatter_dim_f32_args();
  let c = flat_index(gid, nwg);
  let inner = arg.inner;
  if (c >= arg.outer * inner) { return; }
  let o = c / inner; let i = c % inner;
  let lenY = arg.lenY; let lenI = arg.lenI;
  for (var j = 0u; j < lenI; j++) {
    let s = (o * lenI + j) * inner + i;
    let t = u32(ldi(arg.idx + s));
    if (t >= lenY) { continue; }
    let q = arg.y + (o * lenY + t) * inner + i;
    if (arg.accumulate != 0u) { mem[q] = mem[q] + mem[arg.src + s]; } else { mem[q] = mem[arg.src + s]; }
  }
}

// index_select_b32(x, idx, y, outer, lenX, n, inner)
@compute @workgroup_size(256)
fn index_select_b32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = index_select_b32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner; let n = arg.n;
  if (e >= arg.outer * n * inner) { return; }
  let i = e % inner; let j = (e / inner) % n; let o = e / (inner * n);
  let t = u32(ldi(arg.idx + j));
  if (t >= arg.lenX) { mem[arg.y + e] = bitcast<f32>(NAN_BITS | (pu(63u) & 0u)); return; }
  mem[arg.y + e] = mem[arg.x + (o * arg.lenX + t) * inner + i];
}

// index_add_f32(dy, idx, dx, outer, lenX, n, inner): dx[o, idx[j], :] += dy[o, j, :], j in order
@compute @workgroup_size(256)
fn index_add_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = index_add_f32_args();
  let c = flat_index(gid, nwg);
  let inner = arg.inner;
  if (c >= arg.outer * inner) { return; }
  let o = c / inner; let i = c % inner;
  let n = arg.n; let lenX = arg.lenX;
  for (var j = 0u; j < n; j++) {
    let t = u32(ldi(arg.idx + j));
    if (t >= lenX) { continue; }
    let q = arg.dx + (o * lenX + t) * inner + i;
    mem[q] = mem[q] + mem[arg.dy + (o * n + j) * inner + i];
  }
}

// The order key of assembly/indexing.ts: ascending floats → ascending u32, ±0 equal, NaN largest.
fn order_key(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; } // NaN (tested on bits: no float NaN compare)
  var v = b;
  if ((b & 0x7fffffffu) == 0u) { v = 0u; }
  if ((v & 0x80000000u) != 0u) { return ~v; }
  return v | 0x80000000u;
}

// sort_f32(x, values, indices, outer, len, inner, k, descending): element (o, j, i) goes to
// rank #{m : key_m < key_j or (key_m == key_j and m < j)} of its row, when that rank < k
@compute @workgroup_size(256)
fn sort_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = sort_f32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner; let len = arg.len;
  if (e >= arg.outer * len * inner) { return; }
  let i = e % inner; let j = (e / inner) % len; let o = e / (inner * len);
  var flip = 0u;
  if (arg.descending != 0u) { flip = 0xffffffffu; }
  let row = arg.x + o * len * inner + i;
  let kj = order_key(bitcast<u32>(mem[row + j * inner])) ^ flip;
  var rank = 0u;
  for (var m = 0u; m < len; m++) {
    let km = order_key(bitcast<u32>(mem[row + m * inner])) ^ flip;
    if (km < kj || (km == kj && m < j)) { rank++; }
  }
  if (rank >= arg.k) { return; }
  let at = (o * arg.k + rank) * inner + i;
  mem[arg.values + at] = mem[row + j * inner];
  sti(arg.indices + at, i32(j));
}
