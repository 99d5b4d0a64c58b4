// Kernel family: attention, twin of assembly/attention.ts: softmax(scale·q·kᵀ +
// causal mask)·v with a log-sum-exp per query row saved for the backward, and
// never a score matrix in memory. Two forms, picked by the plan (kernels/attention.mjs):
// - D ≤ ACC (every head size in use): flash-style tiles. A workgroup of 64
//   owns a block of 64 query rows (one per invocation, its q row and output
//   accumulator in registers); the block's keys and values pass through
//   workgroup memory in tiles of bt = min(64, 1024 / D) rows, each loaded once
//   for the 64 rows (the per-row form reads every k and v row once per query
//   row). Online softmax per tile: the tile's scores, their max, one rescale of
//   the accumulator, then p·v. Causal blocks stop at the last key their last
//   row sees, so tiles past the diagonal are never loaded. The backward is
//   FlashAttention-2's: the probabilities recomputed from the saved lse, one
//   dispatch whose first BH·⌈Sq/64⌉ workgroups each own 64 query rows (dq,
//   over K/V tiles) and the rest 64 key rows (dk and dv, over tiles of q, dO,
//   lse and D_i = dO_i·o_i), so no two invocations write one float (no atomics);
//   causal key blocks start at the first query row that sees them.
// - D > ACC: the per-row kernels (`_rows`): one invocation per query row (dq)
//   or key row (dk, dv), the accumulators in the output rows themselves.
// Grouped-query attention: query head bh reads kv head ⌊bh / group⌋ (group 0
// means 1); the forward reads the first Sk rows of kv heads kvStride rows apart
// (a preallocated KV cache; 0 means Sk); the backward's dk/dv invocations own
// kv rows and sum over the group's query heads in order (no atomics).
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
fn att_group(g: u32) -> u32 { return max(g, 1u); }
fn att_kv_stride(ks: u32, Sk: u32) -> u32 { return select(ks, Sk, ks == 0u); }

fn att_visible(i: u32, Sq: u32, Sk: u32, causal: u32) -> u32 {
  if (causal == 0u) { return Sk; }
  return u32(clamp(i32(i) + i32(Sk) - i32(Sq) + 1, 0, i32(Sk)));
}

// attention_f32_rows: one invocation per query row (the plan for D > ACC; also the
// per-row baseline for A/B timing). Arguments as attention_f32.
@compute @workgroup_size(64)
fn attention_f32_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = attention_f32_args();
  let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale;
  let t = gid.y * nwg.x * 64u + gid.x;
  if (t >= arg.BH * Sq) { return; }
  let bh = t / Sq; let i = t % Sq;
  let kvh = (bh / att_group(arg.group)) * att_kv_stride(arg.kvStride, Sk) * D;
  let qr = arg.q + t * D; let kh = arg.k + kvh; let vh = arg.v + kvh; let orow = arg.o + t * D;
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
// attention_backward_f32_rows: invocations [0, BH·Sq): dq rows; [BH·Sq, BH·(Sq + Sk)):
// dk and dv rows (the plan for D > ACC). Arguments as attention_backward_f32.
@compute @workgroup_size(64)
fn attention_backward_f32_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = attention_backward_f32_args();
  let BH = arg.BH; let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale; let causal = arg.causal;
  let t = gid.y * nwg.x * 64u + gid.x;
  let q = arg.q; let k = arg.k; let v = arg.v; let o = arg.o; let lse = arg.lse; let dO = arg.dO;
  let G = att_group(arg.group);
  if (t < BH * Sq) {
    let bh = t / Sq; let i = t % Sq;
    let kvb = bh / G; // the kv head this query head reads
    let dq = arg.dq + t * D;
    let nv = att_visible(i, Sq, Sk, causal);
    let Di = att_dot(dO + t * D, o + t * D, D);
    let L = mem[lse + t];
    if (D <= ACC) {
      var acc: array<f32, ACC>;
      for (var j = 0u; j < nv; j++) {
        let kr = k + (kvb * Sk + j) * D;
        let p = exp(att_dot(q + t * D, kr, D) * scale - L);
        let ds = p * (att_dot(dO + t * D, v + (kvb * Sk + j) * D, D) - Di) * scale;
        for (var d = 0u; d < D; d++) { acc[d] = fma(ds, mem[kr + d], acc[d]); }
      }
      for (var d = 0u; d < D; d++) { mem[dq + d] = acc[d]; }
      return;
    }
    for (var d = 0u; d < D; d++) { mem[dq + d] = 0.0; }
    for (var j = 0u; j < nv; j++) {
      let kr = k + (kvb * Sk + j) * D;
      let p = exp(att_dot(q + t * D, kr, D) * scale - L);
      let ds = p * (att_dot(dO + t * D, v + (kvb * Sk + j) * D, D) - Di) * scale;
      for (var d = 0u; d < D; d++) { mem[dq + d] = fma(ds, mem[kr + d], mem[dq + d]); }
    }
    return;
  }
  let u = t - BH * Sq;
  if (u >= (BH / G) * Sk) { return; }
  let hk = u / Sk; let j = u % Sk;
  let dk = arg.dk + u * D; let dv = arg.dv + u * D;
  let kr = k + u * D; let vr = v + u * D;
  // query row i sees key j when j < att_visible(i): from i = j − (Sk − Sq) on when causal
  var i0 = 0u;
  if (causal != 0u) { i0 = u32(max(i32(j) - (i32(Sk) - i32(Sq)), 0)); }
  if (D <= ACC) {
    var ak: array<f32, ACC>;
    var av: array<f32, ACC>;
    for (var gi = 0u; gi < G * Sq; gi++) {
      let i = gi % Sq;
      if (i < i0) { continue; }
      let r = (hk * G + gi / Sq) * Sq + i;
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
  for (var gi = 0u; gi < G * Sq; gi++) {
    let i = gi % Sq;
    if (i < i0) { continue; }
    let r = (hk * G + gi / Sq) * Sq + i;
    let p = exp(att_dot(q + r * D, kr, D) * scale - mem[lse + r]);
    let ds = p * (att_dot(dO + r * D, vr, D) - att_dot(dO + r * D, o + r * D, D)) * scale;
    for (var d = 0u; d < D; d++) {
      mem[dv + d] = fma(p, mem[dO + r * D + d], mem[dv + d]);
      mem[dk + d] = fma(ds, mem[q + r * D + d], mem[dk + d]);
    }
  }
}

// ---------------------------------------------------------------------------
// The tiled kernels (D ≤ ACC).
const QB: u32 = 64u; // query (or key) rows per workgroup, one per invocation
var<workgroup> tileX: array<f32, 1024>; // k (forward, dq) or q (dk/dv) rows of the tile
var<workgroup> tileY: array<f32, 1024>; // v (forward, dq) or dO (dk/dv) rows of the tile
var<workgroup> tileL: array<f32, 64>;   // dk/dv: lse of the tile's query rows
var<workgroup> tileD: array<f32, 64>;   // dk/dv: D_i = dO_i·o_i of the tile's query rows

/** Rows per tile: 1024 floats of each of the two tiles, at most 64 rows. */
fn att_tile_rows(D: u32) -> u32 { return min(64u, 1024u / max(D, 1u)); }

/** Loads n rows of D floats at a and b (row r0 on) into tileX and tileY, the 64 invocations striding. */
fn att_stage(a: u32, b: u32, n: u32, D: u32, t: u32) {
  for (var e = t; e < n * D; e += QB) { tileX[e] = mem[a + e]; tileY[e] = mem[b + e]; }
}

fn att_dot_tile_x(r: ptr<function, array<f32, ACC>>, jj: u32, D: u32) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s = fma((*r)[d], tileX[jj * D + d], s); }
  return s;
}
fn att_dot_tile_y(r: ptr<function, array<f32, ACC>>, jj: u32, D: u32) -> f32 {
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s = fma((*r)[d], tileY[jj * D + d], s); }
  return s;
}

// attention_f32(q, k, v, o, lse, BH, Sq, Sk, D, scale, causal, scratch): D ≤ ACC,
// one workgroup per block of 64 query rows (grid: BH·⌈Sq/64⌉ workgroups, 2-D past 65535).
@compute @workgroup_size(64)
fn attention_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let arg = attention_f32_args();
  let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale; let causal = arg.causal;
  let nqb = (Sq + QB - 1u) / QB;
  let blk = wid.y * nwg.x + wid.x;
  if (blk >= arg.BH * nqb) { return; } // whole workgroup
  let bh = blk / nqb; let i0 = (blk % nqb) * QB;
  let i = i0 + t; let live = i < Sq;
  let row = bh * Sq + min(i, Sq - 1u);
  var nv = 0u;
  if (live) { nv = att_visible(i, Sq, Sk, causal); }
  let nvb = att_visible(min(i0 + QB, Sq) - 1u, Sq, Sk, causal); // the block's last row sees the most keys
  let bt = att_tile_rows(D);
  let kvh = (bh / att_group(arg.group)) * att_kv_stride(arg.kvStride, Sk) * D;
  let kh = arg.k + kvh; let vh = arg.v + kvh;
  var qv: array<f32, ACC>;
  for (var d = 0u; d < D; d++) { qv[d] = mem[arg.q + row * D + d]; }
  var acc: array<f32, ACC>;
  var sc: array<f32, 64>;
  var m = att_neg_inf();
  var l = 0.0;
  for (var j0 = 0u; j0 < nvb; j0 += bt) {
    let n = min(bt, nvb - j0);
    att_stage(kh + j0 * D, vh + j0 * D, n, D, t);
    workgroupBarrier();
    var jn = 0u;
    if (nv > j0) { jn = min(n, nv - j0); }
    if (jn > 0u) {
      var tm = m;
      for (var jj = 0u; jj < jn; jj++) {
        let s = att_dot_tile_x(&qv, jj, D) * scale;
        sc[jj] = s;
        if (s > tm) { tm = s; }
      }
      let a = select(exp(m - tm), 0.0, m == att_neg_inf()); // 0 on the first tile
      l = l * a;
      for (var d = 0u; d < D; d++) { acc[d] = acc[d] * a; }
      for (var jj = 0u; jj < jn; jj++) {
        let p = exp(sc[jj] - tm);
        l += p;
        for (var d = 0u; d < D; d++) { acc[d] = fma(p, tileY[jj * D + d], acc[d]); }
      }
      m = tm;
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  let orow = arg.o + row * D;
  if (nv == 0u) {
    for (var d = 0u; d < D; d++) { mem[orow + d] = 0.0; }
    mem[arg.lse + row] = att_neg_inf();
    return;
  }
  for (var d = 0u; d < D; d++) { mem[orow + d] = acc[d] / l; }
  mem[arg.lse + row] = m + log(l);
}

// attention_backward_f32(q, k, v, o, lse, dO, dq, dk, dv, BH, Sq, Sk, D, scale, causal, scratch):
// D ≤ ACC. Workgroups [0, BH·⌈Sq/64⌉): 64 query rows each (dq); the next BH·⌈Sk/64⌉: 64 key
// rows each (dk, dv). Which half a workgroup runs depends on its id only: uniform.
@compute @workgroup_size(64)
fn attention_backward_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let arg = attention_backward_f32_args();
  let BH = arg.BH; let Sq = arg.Sq; let Sk = arg.Sk; let D = arg.D; let scale = arg.scale; let causal = arg.causal;
  let nqb = (Sq + QB - 1u) / QB; let nkb = (Sk + QB - 1u) / QB;
  let blk = wid.y * nwg.x + wid.x;
  let bt = att_tile_rows(D);
  let G = att_group(arg.group);
  if (blk < BH * nqb) {
    // dq_i = scale · Σ_j p_ij (dO_i·v_j − D_i) k_j over the keys row i sees
    let bh = blk / nqb; let i0 = (blk % nqb) * QB;
    let i = i0 + t; let live = i < Sq;
    let row = bh * Sq + min(i, Sq - 1u);
    var nv = 0u;
    if (live) { nv = att_visible(i, Sq, Sk, causal); }
    let nvb = att_visible(min(i0 + QB, Sq) - 1u, Sq, Sk, causal);
    let kh = arg.k + (bh / G) * Sk * D; let vh = arg.v + (bh / G) * Sk * D;
    var qv: array<f32, ACC>; var gv: array<f32, ACC>; var acc: array<f32, ACC>;
    var Di = 0.0;
    for (var d = 0u; d < D; d++) {
      qv[d] = mem[arg.q + row * D + d];
      gv[d] = mem[arg.dO + row * D + d];
      Di = fma(gv[d], mem[arg.o + row * D + d], Di);
    }
    let L = mem[arg.lse + row];
    for (var j0 = 0u; j0 < nvb; j0 += bt) {
      let n = min(bt, nvb - j0);
      att_stage(kh + j0 * D, vh + j0 * D, n, D, t);
      workgroupBarrier();
      var jn = 0u;
      if (nv > j0) { jn = min(n, nv - j0); }
      for (var jj = 0u; jj < jn; jj++) {
        let p = exp(att_dot_tile_x(&qv, jj, D) * scale - L);
        let ds = p * (att_dot_tile_y(&gv, jj, D) - Di) * scale;
        for (var d = 0u; d < D; d++) { acc[d] = fma(ds, tileX[jj * D + d], acc[d]); }
      }
      workgroupBarrier();
    }
    if (live) { for (var d = 0u; d < D; d++) { mem[arg.dq + row * D + d] = acc[d]; } }
    return;
  }
  let u = blk - BH * nqb;
  if (u >= (BH / G) * nkb) { return; } // whole workgroup
  // dv_j = Σ_i p_ij dO_i and dk_j = scale · Σ_i p_ij (dO_i·v_j − D_i) q_i over the query rows
  // (of every query head of the kv head's group, in order) that see key j
  let hk = u / nkb; let j0b = (u % nkb) * QB;
  let j = j0b + t; let live = j < Sk;
  let krow = hk * Sk + min(j, Sk - 1u);
  // query row i sees key j from i = j − (Sk − Sq) on when causal
  var ifirst = 0u;
  if (causal != 0u) { ifirst = u32(max(i32(j) - (i32(Sk) - i32(Sq)), 0)); }
  var ib = 0u; // the block's first key is seen from here on
  if (causal != 0u) { ib = u32(max(i32(j0b) - (i32(Sk) - i32(Sq)), 0)); }
  var kv: array<f32, ACC>; var vv: array<f32, ACC>; var ak: array<f32, ACC>; var av: array<f32, ACC>;
  for (var d = 0u; d < D; d++) { kv[d] = mem[arg.k + krow * D + d]; vv[d] = mem[arg.v + krow * D + d]; }
  for (var g = 0u; g < G; g++) {
  let bh = hk * G + g;
  let qh = arg.q + bh * Sq * D; let gh = arg.dO + bh * Sq * D;
  for (var r0 = ib; r0 < Sq; r0 += bt) {
    let n = min(bt, Sq - r0);
    att_stage(qh + r0 * D, gh + r0 * D, n, D, t);
    if (t < n) {
      let r = bh * Sq + r0 + t;
      tileL[t] = mem[arg.lse + r];
      tileD[t] = att_dot(arg.dO + r * D, arg.o + r * D, D);
    }
    workgroupBarrier();
    if (live) {
      for (var ii = 0u; ii < n; ii++) {
        if (r0 + ii < ifirst) { continue; }
        let p = exp(att_dot_tile_x(&kv, ii, D) * scale - tileL[ii]);
        let ds = p * (att_dot_tile_y(&vv, ii, D) - tileD[ii]) * scale;
        for (var d = 0u; d < D; d++) {
          av[d] = fma(p, tileY[ii * D + d], av[d]);
          ak[d] = fma(ds, tileX[ii * D + d], ak[d]);
        }
      }
    }
    workgroupBarrier();
  }
  }
  if (live) {
    for (var d = 0u; d < D; d++) { mem[arg.dk + krow * D + d] = ak[d]; mem[arg.dv + krow * D + d] = av[d]; }
  }
}

// kv_append_f32(x, cache, BH, T, D, maxS, pos): one invocation per float of x [BH, T, D]
@compute @workgroup_size(256)
fn kv_append_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = kv_append_f32_args();
  let e = flat_index(gid, nwg);
  let rowF = arg.T * arg.D;
  if (e >= arg.BH * rowF) { return; }
  let bh = e / rowF; let r = e % rowF;
  mem[arg.cache + (bh * arg.maxS + arg.pos) * arg.D + r] = mem[arg.x + e];
}
