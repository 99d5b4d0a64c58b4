// Kernel family: attention, twin of assembly/attention.ts: softmax(scale·q·kᵀ +
// causal mask)·v with a log-sum-exp per query row saved for the backward, and
// never a score matrix in memory. Correctness first, flash-style but plain:
// - forward: one invocation per query row, one pass of online softmax (the
//   accumulator rescaled when the row max grows) into registers when D ≤ 128
//   (ACC), else two passes accumulating p·v straight into the output row;
// - backward: one invocation per query row (dq) and one per key row (dk, dv)
//   in the same dispatch, each recomputing its probabilities from lse, so no
//   two invocations write one float (no atomics).
// Rows that see no key (causal with Sq > Sk) give o = 0, lse = −inf and zero
// gradients, as the wasm twin. The scratch argument is not used on the GPU.
// Row accumulators live in private arrays when D ≤ ACC (every head size in use),
// else in the output rows themselves (global read-modify-write: correct, slow).

const ACC = 128u;

// −∞, made at run time (a constant infinity is a WGSL compile error)
fn att_neg_inf() -> f32 { return -bitcast<f32>(0x7f800000u | (pu(63u) & 0u)); }

fn att_dot(a: u32, b: u32, D: u32) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s = fma(mem[a + d], mem[b + d], s); }
  return s;
}

/** Keys query row i sees: all Sk, or those up to the causal diagonal (bottom-right aligned). */
fn att_visible(i: u32, Sq: u32, Sk: u32, causal: u32) -> u32 {
  if (causal == 0u) { return Sk; }
  return u32(clamp(i32(i) + i32(Sk) - i32(Sq) + 1, 0, i32(Sk)));
}

// attention_f32(q, k, v, o, lse, BH, Sq, Sk, D, scale, causal, scratch)
@compute @workgroup_size(64)
fn attention_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = attention_f32_args();
  let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale;
  let t = gid.y * nwg.x * 64u + gid.x;
  if (t >= arg.BH * Sq) { return; }
  let bh = t / Sq; let i = t % Sq;
  let qr = arg.q + t * D; let kh = arg.k + bh * Sk * D; let vh = arg.v + bh * Sk * D; let orow = arg.o + t * D;
  let nv = att_visible(i, Sq, Sk, arg.causal);
  if (nv == 0u) {
    for (var d = 0u; d < D; d++) { mem[orow + d] = 0.0; }
    mem[arg.lse + t] = att_neg_inf();
    return;
  }
  if (D <= ACC) {
    var acc: array<f32, ACC>;
    var m = att_neg_inf();
    var l = 0.0;
    for (var j = 0u; j < nv; j++) {
      let s = att_dot(qr, kh + j * D, D) * scale;
      let vr = vh + j * D;
      if (s > m) {
        let a = exp(m - s); // 0 on the first key
        l = l * a + 1.0;
        m = s;
        for (var d = 0u; d < D; d++) { acc[d] = fma(acc[d], a, mem[vr + d]); }
      } else {
        let p = exp(s - m);
        l += p;
        for (var d = 0u; d < D; d++) { acc[d] = fma(p, mem[vr + d], acc[d]); }
      }
    }
    for (var d = 0u; d < D; d++) { mem[orow + d] = acc[d] / l; }
    mem[arg.lse + t] = m + log(l);
    return;
  }
  for (var d = 0u; d < D; d++) { mem[orow + d] = 0.0; }
  var m = att_neg_inf();
  var l = 0.0;
  for (var j = 0u; j < nv; j++) {
    let s = att_dot(qr, kh + j * D, D) * scale;
    if (s > m) { l = l * exp(m - s) + 1.0; m = s; } else { l += exp(s - m); }
  }
  for (var j = 0u; j < nv; j++) {
    let p = exp(att_dot(qr, kh + j * D, D) * scale - m);
    for (var d = 0u; d < D; d++) { mem[orow + d] = fma(p, mem[vh + j * D + d], mem[orow + d]); }
  }
  for (var d = 0u; d < D; d++) { mem[orow + d] = mem[orow + d] / l; }
  mem[arg.lse + t] = m + log(l);
}

// attention_backward_f32(q, k, v, o, lse, dO, dq, dk, dv, BH, Sq, Sk, D, scale, causal, scratch)
// invocations [0, BH·Sq): dq rows; [BH·Sq, BH·(Sq + Sk)): dk and dv rows.
@compute @workgroup_size(64)
fn attention_backward_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = attention_backward_f32_args();
  let BH = arg.BH; let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale; let causal = arg.causal;
  let t = gid.y * nwg.x * 64u + gid.x;
  let q = arg.q; let k = arg.k; let v = arg.v; let o = arg.o; let lse = arg.lse; let dO = arg.dO;
  if (t < BH * Sq) {
    let bh = t / Sq; let i = t % Sq;
    let dq = arg.dq + t * D;
    let nv = att_visible(i, Sq, Sk, causal);
    let Di = att_dot(dO + t * D, o + t * D, D);
    let L = mem[lse + t];
    if (D <= ACC) {
      var acc: array<f32, ACC>;
      for (var j = 0u; j < nv; j++) {
        let kr = k + (bh * Sk + j) * D;
        let p = exp(att_dot(q + t * D, kr, D) * scale - L);
        let ds = p * (att_dot(dO + t * D, v + (bh * Sk + j) * D, D) - Di) * scale;
        for (var d = 0u; d < D; d++) { acc[d] = fma(ds, mem[kr + d], acc[d]); }
      }
      for (var d = 0u; d < D; d++) { mem[dq + d] = acc[d]; }
      return;
    }
    for (var d = 0u; d < D; d++) { mem[dq + d] = 0.0; }
    for (var j = 0u; j < nv; j++) {
      let kr = k + (bh * Sk + j) * D;
      let p = exp(att_dot(q + t * D, kr, D) * scale - L);
      let ds = p * (att_dot(dO + t * D, v + (bh * Sk + j) * D, D) - Di) * scale;
      for (var d = 0u; d < D; d++) { mem[dq + d] = fma(ds, mem[kr + d], mem[dq + d]); }
    }
    return;
  }
  let u = t - BH * Sq;
  if (u >= BH * Sk) { return; }
  let bh = u / Sk; let j = u % Sk;
  let dk = arg.dk + u * D; let dv = arg.dv + u * D;
  let kr = k + u * D; let vr = v + u * D;
  // query row i sees key j when j < att_visible(i): from i = j − (Sk − Sq) on when causal
  var i0 = 0u;
  if (causal != 0u) { i0 = u32(max(i32(j) - (i32(Sk) - i32(Sq)), 0)); }
  if (D <= ACC) {
    var ak: array<f32, ACC>;
    var av: array<f32, ACC>;
    for (var i = i0; i < Sq; i++) {
      let r = bh * Sq + i;
      let p = exp(att_dot(q + r * D, kr, D) * scale - mem[lse + r]);
      let ds = p * (att_dot(dO + r * D, vr, D) - att_dot(dO + r * D, o + r * D, D)) * scale;
      for (var d = 0u; d < D; d++) {
        av[d] = fma(p, mem[dO + r * D + d], av[d]);
        ak[d] = fma(ds, mem[q + r * D + d], ak[d]);
      }
    }
    for (var d = 0u; d < D; d++) { mem[dk + d] = ak[d]; mem[dv + d] = av[d]; }
    return;
  }
  for (var d = 0u; d < D; d++) { mem[dk + d] = 0.0; mem[dv + d] = 0.0; }
  for (var i = i0; i < Sq; i++) {
    let r = bh * Sq + i;
    let p = exp(att_dot(q + r * D, kr, D) * scale - mem[lse + r]);
    let ds = p * (att_dot(dO + r * D, vr, D) - att_dot(dO + r * D, o + r * D, D)) * scale;
    for (var d = 0u; d < D; d++) {
      mem[dv + d] = fma(p, mem[dO + r * D + d], mem[dv + d]);
      mem[dk + d] = fma(ds, mem[q + r * D + d], mem[dk + d]);
    }
  }
}
