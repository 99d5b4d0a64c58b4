// Kernel family: quant, built where WGSL has the packed_4x8_integer_dot_product
// language feature (build-shaders puts `requires packed_4x8_integer_dot_product;`
// first; plans.ts's gemmI8Entry picks it from GpuCaps.packedDot4). gemm_i8 with
// dot4I8Packed: one instruction for the 4 products and their sum that
// quant.wgsl's gemm_i8 unpacks by shifts. The same exact i32 sums (activations
// are 7-bit, so their bytes read the same signed or unsigned), the same epilogue.

// gemm_i8(a, sa, za, w, sw, wsum, bias, y, m, n, k, ldy, relu): one invocation per output y[i, o]
@compute @workgroup_size(256)
fn gemm_i8_dot4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let arg = gemm_i8_args();
  let e = flat_index(gid, nwg);
  let n = arg.n;
  if (e >= arg.m * n) { return; }
  let i = e / n; let o = e % n;
  let K4 = (arg.k + 3u) >> 2u;
  let pa = arg.a + (i >> 2u) * K4 * 4u + (i & 3u);
  let pw = arg.w + (o >> 3u) * K4 * 8u + (o & 7u);
  var acc = 0;
  for (var g = 0u; g < K4; g++) { acc += dot4I8Packed(bitcast<u32>(mem[pw + g * 8u]), bitcast<u32>(mem[pa + g * 4u])); }
  let v = f32(acc - ldi(arg.za + i) * ldi(arg.wsum + o));
  var r = v * mem[arg.sa + i] * mem[arg.sw + o];
  if (arg.bias != 0u) { r = r + mem[arg.bias + o]; }
  if (arg.relu != 0u) { r = max(r, 0.0); }
  mem[arg.y + arg.ldy * i + o] = r;
}
