// Kernel family: embed, twin of assembly/embed.ts. The forward is a gather,
// one invocation per output float. The backward is a scatter-add (two tokens
// may hit one row): one invocation per column of the table walks the tokens in
// order, so no two invocations write one float and the sums run in the wasm
// twin's order. The host cannot read indices on the GPU without a sync, so the
// kernels check them against `rows`: an index outside [0, rows) gives a row of
// NaNs forward (a NaN loss says so) and adds nothing backward, as in wasm.

// embedding_f32(table, idx, y, n, dim, rows)
@compute @workgroup_size(256)
fn embedding_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = embedding_f32_args();
  let e = flat_index(gid, nwg);
  let dim = arg.dim;
  if (e >= arg.n * dim) { return; }
  let i = e / dim; let k = e % dim;
  let t = u32(ldi(arg.idx + i)); // a negative index wraps past rows
  if (t >= arg.rows) { mem[arg.y + e] = bitcast<f32>(0x7fc00000u | (pu(63u) & 0u)); return; } // a quiet NaN (a constant NaN is a WGSL error)
  mem[arg.y + e] = mem[arg.table + t * dim + k];
}

// embedding_backward_f32(dy, idx, dtable, n, dim, rows): dtable[idx[i], :] += dy[i, :], i in order
@compute @workgroup_size(256)
fn embedding_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = embedding_backward_f32_args();
  let k = flat_index(gid, nwg);
  let n = arg.n; let dim = arg.dim;
  if (k >= dim) { return; }
  let rows = arg.rows;
  for (var i = 0u; i < n; i++) {
    let t = u32(ldi(arg.idx + i));
    if (t >= rows) { continue; }
    let q = arg.dtable + t * dim + k;
    mem[q] = mem[q] + mem[arg.dy + i * dim + k];
  }
}
