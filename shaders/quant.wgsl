// Kernel family: quant, twin of assembly/quant.ts (int8 inference). The same
// byte layouts (kernels/quant.mjs), read as u32 words of the heap: a weight
// word is 4 k of one channel, an activation word 4 k of one row. The sums are
// exact i32 (the same integers as the wasm kernels), so outputs differ from
// wasm only by the rounding of the f32 epilogue. One invocation per output:
// a twin for agreement, not a tiled kernel.

fn ldu(i: u32) -> u32 { return bitcast<u32>(mem[i]); }
fn stu(i: u32, v: u32) { mem[i] = bitcast<f32>(v); }
/** Byte t (0..3) of a word, sign-extended. */
fn sbyte(w: u32, t: u32) -> i32 { return (bitcast<i32>(w << (24u - 8u * t))) >> 24u; }
/** Σ of the 4 products of two words' signed bytes (what dot4I8Packed computes). */
fn dot4_i8(w: u32, a: u32) -> i32 {
  return sbyte(w, 0u) * sbyte(a, 0u) + sbyte(w, 1u) * sbyte(a, 1u) + sbyte(w, 2u) * sbyte(a, 2u) + sbyte(w, 3u) * sbyte(a, 3u);
}
/** round half to even, as wasm's f32 nearest (WGSL's round is that too; spelled out for clarity). */
fn nearest(x: f32) -> f32 { return round(x); }
/** i32(x) with NaN → 0 and saturation, as wasm's trunc_sat. */
fn trunc_sat(x: f32) -> i32 {
  if (is_nan(x)) { return 0; }
  return i32(clamp(x, -2147483648.0, 2147483520.0));
}

// quantize_weights_i8(w, packed, scales, wsum, n, k): one invocation per channel (to n rounded up to 8; the padding channels write zeros)
@compute @workgroup_size(256)
fn quantize_weights_i8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = quantize_weights_i8_args();
  let o = flat_index(gid, nwg);
  let n = arg.n; let k = arg.k;
  if (o >= ((n + 7u) >> 3u) * 8u) { return; }
  let K4 = (k + 3u) >> 2u;
  let base = arg.packed + (o >> 3u) * K4 * 8u + (o & 7u);
  if (o >= n) {
    for (var g = 0u; g < K4; g++) { stu(base + g * 8u, 0u); }
    return;
  }
  let row = arg.w + o * k;
  var mx = 0.0;
  for (var i = 0u; i < k; i++) { mx = max(mx, abs(mem[row + i])); }
  var s = 1.0;
  if (mx > 0.0) { s = mx / 127.0; }
  mem[arg.scales + o] = s;
  var sum = 0;
  for (var g = 0u; g < K4; g++) {
    var word = 0u;
    for (var t = 0u; t < 4u; t++) {
      let i = 4u * g + t;
      if (i < k) {
        let q = clamp(trunc_sat(nearest(mem[row + i] / s)), -127, 127);
        sum += q;
        word |= (bitcast<u32>(q) & 0xffu) << (8u * t);
      }
    }
    stu(base + g * 8u, word);
  }
  sti(arg.wsum + o, sum);
}

// quantize_rows_u7(x, q, scale, zero, m, k, ldx, trans): one invocation per row (to m rounded up to 4; the padding rows write zeros)
@compute @workgroup_size(256)
fn quantize_rows_u7(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = quantize_rows_u7_args();
  let i = flat_index(gid, nwg);
  let m = arg.m; let k = arg.k;
  if (i >= ((m + 3u) >> 2u) * 4u) { return; }
  let K4 = (k + 3u) >> 2u;
  let base = arg.q + (i >> 2u) * K4 * 4u + (i & 3u);
  if (i >= m) {
    for (var g = 0u; g < K4; g++) { stu(base + g * 4u, 0u); }
    return;
  }
  var stepI = arg.ldx; var stepJ = 1u;
  if (arg.trans != 0u) { stepI = 1u; stepJ = arg.ldx; }
  let row = arg.x + i * stepI;
  var lo = 0.0; var hi = 0.0;
  for (var j = 0u; j < k; j++) { let v = mem[row + j * stepJ]; lo = min(lo, v); hi = max(hi, v); }
  let range = hi - lo;
  let inv = 127.0 / range;
  mem[arg.scale + i] = range / 127.0;
  var z = 0;
  if (range > 0.0) { z = clamp(trunc_sat(nearest(-lo * inv)), 0, 127); }
  sti(arg.zero + i, z);
  for (var g = 0u; g < K4; g++) {
    var word = 0u;
    for (var t = 0u; t < 4u; t++) {
      let j = 4u * g + t;
      if (j < k) {
        var q = z;
        if (range > 0.0) { q = clamp(trunc_sat(nearest(mem[row + j * stepJ] * inv)) + z, 0, 127); }
        word |= bitcast<u32>(q) << (8u * t);
      }
    }
    stu(base + g * 4u, word);
  }
}

// gemm_i8(a, sa, za, w, sw, wsum, bias, y, m, n, k, ldy, relu): one invocation per output y[i, o]
@compute @workgroup_size(256)
fn gemm_i8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gemm_i8_args();
  let e = flat_index(gid, nwg);
  let n = arg.n;
  if (e >= arg.m * n) { return; }
  let i = e / n; let o = e % n;
  let K4 = (arg.k + 3u) >> 2u;
  let pa = arg.a + (i >> 2u) * K4 * 4u + (i & 3u);
  let pw = arg.w + (o >> 3u) * K4 * 8u + (o & 7u);
  var acc = 0;
  for (var g = 0u; g < K4; g++) { acc += dot4_i8(ldu(pw + g * 8u), ldu(pa + g * 4u)); }
  let v = f32(acc - ldi(arg.za + i) * ldi(arg.wsum + o));
  var r = v * mem[arg.sa + i] * mem[arg.sw + o];
  if (arg.bias != 0u) { r = r + mem[arg.bias + o]; }
  if (arg.relu != 0u) { r = max(r, 0.0); }
  mem[arg.y + arg.ldy * i + o] = r;
}

// Weight-only int8 (twins of assembly/gemv.ts): W_q int8 [n, k] row-major, k bytes a
// row from the byte offset 4·w, read as sign-extended bytes of heap words.
fn wo_byte(wbase: u32, b: u32) -> i32 {
  let a = wbase * 4u + b;
  return sbyte(bitcast<u32>(mem[a >> 2u]), a & 3u);
}

// quantize_weights_i8_rows(w, q, scales, n, k, group): one invocation per row o. Rows are
// k bytes long and need not fill words, so the invocation of row o writes the words whose
// first byte is in its row (reading the next rows' bytes from w to fill them).
@compute @workgroup_size(256)
fn quantize_weights_i8_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = quantize_weights_i8_rows_args();
  let o = flat_index(gid, nwg);
  let n = arg.n; let k = arg.k;
  if (o >= n) { return; }
  var gs = arg.group;
  if (gs == 0u) { gs = max(k, 1u); }
  let G = (k + gs - 1u) / gs;
  for (var g = 0u; g < G; g++) {
    let kb = g * gs; let ke = min(k, kb + gs);
    var mx = 0.0;
    for (var d = kb; d < ke; d++) { mx = max(mx, abs(mem[arg.w + o * k + d])); }
    mem[arg.scales + o * G + g] = mx / 127.0;
  }
  // bytes [o·k, (o+1)·k): words from the first whose first byte is ≥ o·k up to the one holding byte (o+1)·k − 1
  let b0 = o * k; let b1 = b0 + k;
  let total = n * k;
  for (var wd = (b0 + 3u) >> 2u; wd * 4u < b1; wd++) {
    var word = 0u;
    var seen = 0xffffffffu; // the (row, group) whose max mx holds
    var mx = 0.0;
    for (var t = 0u; t < 4u; t++) {
      let b = wd * 4u + t;
      if (b >= total) { break; }
      let row = b / k; let d = b % k;
      let g = d / gs; let kb = g * gs; let ke = min(k, kb + gs);
      if (row * G + g != seen) {
        seen = row * G + g;
        mx = 0.0;
        for (var e = kb; e < ke; e++) { mx = max(mx, abs(mem[arg.w + row * k + e])); }
      }
      var qv = 0;
      if (mx > 0.0) { qv = i32(clamp(nearest(mem[arg.w + row * k + d] * (127.0 / mx)), -127.0, 127.0)); }
      word = word | ((bitcast<u32>(qv) & 0xffu) << (8u * t));
    }
    stu(arg.q + wd, word);
  }
}

// gemv_i8(x, w, scales, bias, y, m, n, k, group, ldy, scratch): one invocation per output y[i, o].
// x's row rounded to 15 bits as the wasm twin does (x ≈ x_q·sx), so the group sums are the same
// integers; each invocation redoes its row's max (a twin for agreement, not speed).
@compute @workgroup_size(256)
fn gemv_i8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gemv_i8_args();
  let e = flat_index(gid, nwg);
  let n = arg.n; let k = arg.k;
  if (e >= arg.m * n) { return; }
  let i = e / n; let o = e % n;
  let xr = arg.x + i * k;
  var amax = 0.0;
  for (var d = 0u; d < k; d++) { amax = max(amax, abs(mem[xr + d])); }
  let sx = amax / 16383.0;
  var inv = 0.0;
  if (amax > 0.0) { inv = 16383.0 / amax; }
  var gs = arg.group;
  if (gs == 0u) { gs = max(k, 1u); }
  let G = (k + gs - 1u) / gs;
  var tot = 0.0;
  for (var g = 0u; g < G; g++) {
    let ge = min(k, g * gs + gs);
    var part = 0.0;
    for (var cb = g * gs; cb < ge; cb += 4096u) {
      var t = 0;
      for (var d = cb; d < min(ge, cb + 4096u); d++) {
        let xq = i32(clamp(nearest(mem[xr + d] * inv), -16383.0, 16383.0));
        t += xq * wo_byte(arg.w, o * k + d);
      }
      part += f32(t);
    }
    tot += part * mem[arg.scales + o * G + g];
  }
  var r = tot * sx;
  if (arg.bias != 0u) { r += mem[arg.bias + o]; }
  mem[arg.y + i * arg.ldy + o] = r;
}
