// Kernel family: optim, twin of assembly/optim.ts: fused SGD and Adam/AdamW
// updates, one invocation per parameter, same order of operations (so the
// same float32 results up to fma contraction) and the same host-formed
// constants (c1, c2, stepSize, bc2Sqrt computed in float64 by the host).

// sgd_f32(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov, firstStep)
@compute @workgroup_size(256)
fn sgd_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(3u)) { return; }
  let lr = pf(4u); let momentum = pf(5u); let dampening = pf(6u); let wd = pf(7u);
  let pi = pu(0u) + i;
  let pv = mem[pi];
  var d = mem[pu(1u) + i];
  if (wd != 0.0) { d = fma(wd, pv, d); }
  if (momentum != 0.0) {
    let bi = pu(2u) + i;
    var b = d;
    if (pu(9u) == 0u) { b = fma(momentum, mem[bi], (1.0 - dampening) * d); }
    mem[bi] = b;
    d = select(b, fma(momentum, b, d), pu(8u) != 0u);
  }
  mem[pi] = fma(-lr, d, pv);
}

// adam_f32(p, g, m, v, n, lr, beta1, beta2, c1, c2, eps, weightDecay, stepSize, bc2Sqrt, decoupled)
@compute @workgroup_size(256)
fn adam_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= pu(4u)) { return; }
  let lr = pf(5u); let beta1 = pf(6u); let beta2 = pf(7u); let c1 = pf(8u); let c2 = pf(9u);
  let eps = pf(10u); let wd = pf(11u); let step_size = pf(12u); let bc2 = pf(13u);
  let decoupled = pu(14u) != 0u;
  var decay = 1.0;
  var l2 = wd;
  if (decoupled) { decay = 1.0 - lr * wd; l2 = 0.0; }
  let pi = pu(0u) + i; let mi = pu(2u) + i; let vi = pu(3u) + i;
  var pv = mem[pi];
  var gv = mem[pu(1u) + i];
  if (l2 != 0.0) { gv = fma(l2, pv, gv); }
  if (decay != 1.0) { pv = pv * decay; }
  let mv = fma(c1, gv, beta1 * mem[mi]);
  let vv = fma(c2, gv * gv, beta2 * mem[vi]);
  mem[mi] = mv;
  mem[vi] = vv;
  mem[pi] = fma(-step_size, mv / (sqrt(vv) / bc2 + eps), pv);
}
