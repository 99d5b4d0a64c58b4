// Kernel family: rope, twin of assembly/rope.ts (rotary position embeddings,
// Hugging Face's rotate-half layout): one invocation per rotated pair
// (feature i and i + D/2 of one vector of x [rows, S, D]), which reads both
// halves before writing either, so y may equal x (in place).

// rope_f32(x, cos, sin, y, rows, S, D, sign): sign = 1 rotates by the angle, −1 back (the backward)
@compute @workgroup_size(256)
fn rope_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = rope_f32_args();
  let p = flat_index(gid, nwg);
  let h = arg.D >> 1u;
  if (h == 0u || p >= arg.rows * arg.S * h) { return; }
  let v = p / h; let i = p - v * h;
  let s = v % arg.S;
  let o = v * arg.D + i;
  let a = mem[arg.x + o]; let b = mem[arg.x + o + h];
  let c = mem[arg.cos + s * h + i]; let sn = mem[arg.sin + s * h + i] * arg.sign;
  mem[arg.y + o] = a * c - b * sn;
  mem[arg.y + o + h] = b * c + a * sn;
}
