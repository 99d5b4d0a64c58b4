// Kernel family: optim, twin of assembly/optim.ts: fused SGD and Adam/AdamW
// updates, one invocation per parameter, same order of operations (so the
// same float32 results up to fma contraction) and the same host-formed
// constants (c1, c2, stepSize, bc2Sqrt computed in float64 by the host).

// sgd_f32(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, firstStep)
@compute @workgroup_size(256)
fn sgd_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = sgd_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let lr = arg.lr; let momentum = arg.momentum; let dampening = arg.dampening; let wd = arg.weightDecay;
  let pi = arg.p + i;
  let pv = mem[pi];
  var d = mem[arg.g + i];
  if (wd != 0.0) { d = fma(wd, pv, d); }
  if (momentum != 0.0) {
    let bi = arg.buf + i;
    var b = d;
    if (arg.firstStep == 0u) { b = fma(momentum, mem[bi], (1.0 - dampening) * d); }
    mem[bi] = b;
    d = select(b, fma(momentum, b, d), arg.nesterov != 0u);
  }
  mem[pi] = fma(-lr, d, pv);
}

// adam_f32(p, g, m, v, n, lr, beta1, beta2, c1, c2, eps, weightDecay, stepSize, bc2Sqrt, decoupled)
@compute @workgroup_size(256)
fn adam_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = adam_f32_args();
  let i = flat_index(gid, nwg);
  if (i >= arg.n) { return; }
  let lr = arg.lr; let beta1 = arg.beta1; let beta2 = arg.beta2; let c1 = arg.c1; let c2 = arg.c2;
  let eps = arg.eps; let wd = arg.weightDecay; let step_size = arg.stepSize; let bc2 = arg.bc2Sqrt;
  let decoupled = arg.decoupled != 0u;
  var decay = 1.0;
  var l2 = wd;
  if (decoupled) { decay = 1.0 - lr * wd; l2 = 0.0; }
  let pi = arg.p + i; let mi = arg.m + i; let vi = arg.v + i;
  var pv = mem[pi];
  var gv = mem[arg.g + i];
  if (l2 != 0.0) { gv = fma(l2, pv, gv); }
  if (decay != 1.0) { pv = pv * decay; }
  let mv = fma(c1, gv, beta1 * mem[mi]);
  let vv = fma(c2, gv * gv, beta2 * mem[vi]);
  mem[mi] = mv;
  mem[vi] = vv;
  mem[pi] = fma(-step_size, mv / (sqrt(vv) / bc2 + eps), pv);
}
