// Kernel family: movement, twin of assembly/movement.ts (arguments from
// kernels/movement.mjs): data movement and BLAS-1 updates, one invocation per
// output element. copy_words is the backend's own copy within the heap.

// axpy_f32(x, y, n, alpha): y += alpha·x
@compute @workgroup_size(256)
fn axpy_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = axpy_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let y = arg.y + i;
  mem[y] = fma(mem[arg.x + i], arg.alpha, mem[y]);
}

// scale_f32(x, y, n, alpha): y = alpha·x
@compute @workgroup_size(256)
fn scale_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = scale_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = mem[arg.x + i] * arg.alpha;
}

// fill_f32(y, n, value)
@compute @workgroup_size(256)
fn fill_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = fill_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = arg.value;
}

// transpose_f32(x, y, outer, a, b, inner): x [outer, a, b, inner] → y [outer, b, a, inner]
@compute @workgroup_size(256)
fn transpose_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = transpose_f32_args();
  let outer = arg.outer; let A = arg.a; let B = arg.b; let inner = arg.inner;
  let i = flat_index(gid, nwg);
  if (i >= outer * A * B * inner) { return; }
  // i indexes y: [o, j, ii, e]
  let e = i % inner;
  var q = i / inner;
  let ii = q % A; q /= A;
  let j = q % B;
  let o = q / B;
  mem[arg.y + i] = mem[arg.x + ((o * A + ii) * B + j) * inner + e];
}

// cast_i32_f32(x, y, n)
@compute @workgroup_size(256)
fn cast_i32_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = cast_i32_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  mem[arg.y + i] = f32(ldi(arg.x + i));
}

// cast_f32_i32(x, y, n): truncating toward zero, saturating, NaN → 0
@compute @workgroup_size(256)
fn cast_f32_i32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = cast_f32_i32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let x = mem[arg.x + i];
  var v = 0i;
  if (x >= 2147483647.0) { v = 2147483647i; } else if (x <= -2147483648.0) { v = -2147483647i - 1i; } else if (x == x) { v = i32(x); }
  sti(arg.y + i, v);
}

// gather_b32(x, y, rank, desc): y = x's 32-bit words viewed through desc = i32[2·rank]
// (shape, then x's strides), contiguous. Words move through bitcasts, never as
// floats, so int32 data and NaN payloads come through bit for bit.
@compute @workgroup_size(256)
fn gather_b32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gather_b32_args();
  var total = 1u;
  for (var d = 0u; d < arg.rank; d++) { total *= u32(max(ldi(arg.desc + d), 0)); }
  let i = flat_index(gid, nwg);
  if (i >= total) { return; }
  var q = i;
  var off = 0i;
  for (var d = i32(arg.rank) - 1; d >= 0; d--) {
    let sz = u32(ldi(arg.desc + u32(d)));
    off += i32(q % sz) * ldi(arg.desc + arg.rank + u32(d));
    q /= sz;
  }
  sti(arg.y + i, ldi(u32(i32(arg.x) + off)));
}

// copy_words(x, y, n): the backend's copy within the heap (WebGPU forbids a
// buffer-to-buffer copy with one buffer as both ends). No wasm twin.
@compute @workgroup_size(256)
fn copy_words(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(2u)) { return; }
  mem[pu(1u) + i] = mem[pu(0u) + i];
}
