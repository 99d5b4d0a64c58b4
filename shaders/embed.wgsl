// Kernel family: embed, twin of assembly/embed.ts. The forward is a gather,
// one invocation per output float. The backward is a scatter-add (two tokens
// may hit one row): one invocation per column of the table walks the tokens in
// order, so no two invocations write one float and the sums run in the wasm
// twin's order. Indices are not range-checked on the GPU (the host cannot read
// them): an out-of-range index reads or writes another tensor's floats.

// embedding_f32(table, idx, y, n, dim)
@compute @workgroup_size(256)
fn embedding_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = flat_index(gid, nwg);
  let dim = pu(4u);
  if (e >= pu(3u) * dim) { return; }
  let i = e / dim; let k = e % dim;
  mem[pu(2u) + e] = mem[pu(0u) + u32(ldi(pu(1u) + i)) * dim + k];
}

// embedding_backward_f32(dy, idx, dtable, n, dim): dtable[idx[i], :] += dy[i, :], i in order
@compute @workgroup_size(256)
fn embedding_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = flat_index(gid, nwg);
  let n = pu(3u); let dim = pu(4u);
  if (k >= dim) { return; }
  for (var i = 0u; i < n; i++) {
    let q = pu(2u) + u32(ldi(pu(1u) + i)) * dim + k;
    mem[q] = mem[q] + mem[pu(0u) + i * dim + k];
  }
}
