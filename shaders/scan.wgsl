// Kernel family: scan, twin of assembly/scan.ts. One invocation per column
// (o, i) of [outer, len, inner] walks len in order, so each running value is
// combined in the order the wasm twin uses, and the two agree to the bit.
// (A long contiguous row, inner = 1 with few rows, is serial here: a scan
// across a workgroup would trade that order for speed.)

fn scan_op(op: u32, a: f32, b: f32) -> f32 {
  if (op == SCAN_PROD) { return a * b; }
  return a + b;
}

// scan_f32(op, x, y, outer, len, inner, reverse)
@compute @workgroup_size(256)
fn scan_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = scan_f32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner; let len = arg.len;
  if (e >= arg.outer * inner || len == 0u) { return; }
  let o = e / inner; let i = e % inner;
  let base = o * len * inner + i;
  var l = 0u;
  if (arg.reverse != 0u) { l = len - 1u; }
  var acc = mem[arg.x + base + l * inner];
  mem[arg.y + base + l * inner] = acc;
  for (var k = 1u; k < len; k++) {
    if (arg.reverse != 0u) { l = l - 1u; } else { l = l + 1u; }
    acc = scan_op(arg.op, acc, mem[arg.x + base + l * inner]);
    mem[arg.y + base + l * inner] = acc;
  }
}

// cumprod_backward_f32(x, dy, dx, outer, len, inner): s[k] = dy[k] + x[k+1]·s[k+1]; dx[k] = (Π_{j<k} x[j])·s[k]
@compute @workgroup_size(256)
fn cumprod_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = cumprod_backward_f32_args();
  let e = flat_index(gid, nwg);
  let inner = arg.inner; let len = arg.len;
  if (e >= arg.outer * inner || len == 0u) { return; }
  let o = e / inner; let i = e % inner;
  let base = o * len * inner + i;
  var s = mem[arg.dy + base + (len - 1u) * inner];
  mem[arg.dx + base + (len - 1u) * inner] = s;
  for (var k = i32(len) - 2; k >= 0; k--) {
    let q = base + u32(k) * inner;
    s = mem[arg.dy + q] + mem[arg.x + q + inner] * s;
    mem[arg.dx + q] = s;
  }
  var pr = 1.0;
  for (var k = 0u; k < len; k++) {
    let q = base + k * inner;
    mem[arg.dx + q] = pr * mem[arg.dx + q];
    pr = pr * mem[arg.x + q];
  }
}
