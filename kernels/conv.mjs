// Kernel family conv: assembly/conv.ts (+ assembly/winograd.ts, wasm-only helpers), shaders/conv.wgsl, host/ops/conv.ts. NCHW.
export default {
  doc: "Convolution building blocks (NCHW): im2col/col2im for the GEMM path, the direct stride-1 path and its gradients (the wasm backend runs large 3×3 layers of it as Winograd F(4×4, 3×3)).",
  kernels: {
    im2col_f32: {
      doc: "For each of N images [C,H,W] (at x + n·C·H·W) writes col rows r = (c·KH + kh)·KW + kw, columns p = oh·OW + ow (at col + n·OH·OW), row stride `ldcol` floats (≥ N·OH·OW: the images sit side by side in one [CKK, N·P] matrix). Padding reads as 0.",
      args: { x: "ptr", col: "ptr", C: "u32", H: "i32", W: "i32", KH: "u32", KW: "u32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", DH: "i32", DW: "i32", OH: "u32", OW: "u32", ldcol: "u32", N: "host u32" },
      batch: { count: "N", step: { x: "C * H * W", col: "OH * OW" }, flops: "ldcol * C * KH * KW" },
      gpu: { grid: "C * KH * KW * OH * OW" },
    },
    col2im_f32: {
      doc: "The adjoint of im2col: **accumulates** col into x (x += ...) for each of N images; the host zeroes x first.",
      args: { col: "ptr", x: "ptr", C: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", DH: "i32", DW: "i32", OH: "i32", OW: "i32", ldcol: "u32", N: "host u32" },
      batch: { count: "N", step: { col: "OH * OW", x: "C * H * W" }, flops: "ldcol * C * KH * KW" },
      gpu: { grid: "C * H * W" },
    },
    bias_add_channels_f32: {
      doc: "y[n, c, i] += bias[c].",
      args: { y: "ptr", bias: "ptr", n: "u32", c: "u32", inner: "u32" },
      gpu: { grid: "n * c * inner" },
    },
    pad2d_f32: {
      doc: "Copies NC planes H×W into the middle of (H+2PH)×(W+2PW) planes with a zero border.",
      args: { x: "ptr", xp: "ptr", NC: "u32", H: "i32", W: "i32", PH: "i32", PW: "i32" },
      wasm: { split: { along: "NC", step: { x: "H * W", xp: "(H + 2 * PH) * (W + 2 * PW)" }, flops: "NC * (H + 2 * PH) * (W + 2 * PW)" } },
      gpu: { grid: "NC * (H + 2 * PH) * (W + 2 * PW)" },
    },
    conv2d_direct_f32: {
      doc: "Stride 1, no dilation, over N padded images [N, C, Hp, Wp]; y [N, Cout, OH, OW] with OH = Hp − KH + 1, OW = Wp − KW + 1 ≥ 8, plus bias[Cout] when `bias` is not 0. A 4×8 register tile (4 channels × 8 columns) runs GEMM's chain over the image: same bits as im2col + gemm_f32. The wasm backend splits N over threads, and on the relaxed-SIMD binary runs 5-channel tiles over packed weights with the bias fused.",
      args: { xp: "ptr", w: "ptr", y: "ptr", N: "u32", C: "u32", Hp: "u32", Wp: "u32", KH: "u32", KW: "u32", Cout: "u32", bias: "host ptr? = 0" },
      wasm: "custom",
      gpu: "custom",
      twin: { grid: "N * Cout * (Hp - KH + 1) * (Wp - KW + 1)" },
      // the WebGPU plan (host/backends/webgpu/schedules.ts) runs the tiled implicit GEMM instead of the twin
      entries: ["conv2d_igemm_f32"],
    },
    conv_pack_w5_f32: { internal: true, doc: "Packs the weights of `groups` 5-channel groups, 5 floats per tap, for conv2d_direct_pw_f32.", args: { w: "ptr", groups: "u32", CKK: "u32", dst: "ptr" } },
    conv2d_direct_pw_f32: { internal: true, doc: "conv2d_direct_f32 with the first 5·groups channels in 5×8 tiles over conv_pack_w5_f32's weights and the bias (0: none) fused.", args: { xp: "ptr", w: "ptr", w5: "ptr", bias: "ptr", y: "ptr", N: "u32", C: "u32", Hp: "u32", Wp: "u32", KH: "u32", KW: "u32", Cout: "u32", groups: "u32" } },
    conv_flip_weights_f32: {
      doc: "wf [C, Cout, KK] = w [Cout, C, KK] with each filter's KK = KH·KW taps reversed (rotated 180°): the weights of the stride-1 input gradient as a convolution of the padded dy.",
      args: { w: "ptr", wf: "ptr", Cout: "u32", C: "u32", KK: "u32" },
      gpu: { grid: "Cout * C * KK" },
    },
    winograd_weights_f32: { internal: true, doc: "Winograd F(m×m, 3×3) weight transform (m = 4 or 2): U_q = (G g Gᵀ)_q per (o, c) into tmp (α² planes [C][Cout], winograd_weights_tmp_bytes), each plane packed by gemm_pack_b_f32 (k = C, n = Cout) into packed.", args: { w: "ptr", Cout: "u32", C: "u32", m: "u32", tmp: "ptr", packed: "ptr" } },
    winograd_weights_tmp_bytes: { internal: true, doc: "Bytes of winograd_weights_f32's tmp (α² planes of [C][Cout], each a line longer).", args: { C: "u32", Cout: "u32", m: "u32" }, returns: "i32" },
    winograd_scratch_bytes: { internal: true, doc: "Bytes of scratch one winograd_conv_f32 call needs for chunks of T tiles.", args: { C: "u32", Cout: "u32", m: "u32", T: "u32", packA: "u32" }, returns: "i32" },
    winograd_conv_f32: { internal: true, doc: "Winograd F(m×m, 3×3) convolution of tiles [t0, t1) of the padded input (stride 1) in chunks of T: input transform, α² GEMMs over winograd_weights_f32's planes, output transform with the bias (0: none) fused.", args: { xp: "ptr", u: "ptr", bias: "ptr", y: "ptr", C: "u32", Hp: "u32", Wp: "u32", Cout: "u32", m: "u32", t0: "u32", t1: "u32", T: "u32", packA: "u32", scratch: "ptr" } },
    winograd_input_f32: { internal: true, doc: "F(4×4) input transform of tiles [t0, t1) (t0 a multiple of 4) into V_q [C][ld] (the weight gradient's B).", args: { xp: "ptr", V: "ptr", C: "u32", Hp: "u32", Wp: "u32", t0: "u32", t1: "u32", ld: "u32", scratch: "ptr" } },
    winograd_grad_f32: { internal: true, doc: "F(4×4) output-gradient transform A·dy·Aᵀ of tiles [t0, t1) into Z_q [Cout][ld] (the weight gradient's A).", args: { dy: "ptr", Z: "ptr", Cout: "u32", OH: "u32", OW: "u32", t0: "u32", t1: "u32", ld: "u32", scratch: "ptr" } },
    winograd_transform_scratch_bytes: { internal: true, doc: "Scratch bytes of one winograd_input_f32 / winograd_grad_f32 call.", args: {}, returns: "i32" },
    winograd_wgrad_finish_f32: { internal: true, doc: "dw = Gᵀ S G per (o, c) from the 36 planes S_q [Cout][C] of the weight gradient's GEMMs.", args: { S: "ptr", dw: "ptr", Cout: "u32", C: "u32" } },
    conv2d_wgrad_f32: {
      doc: "Writes dw for O output channels of Otot (dy and dw offset to the first); a reduction over images, so threads split O, never N. The wasm backend runs large 3×3 layers as Winograd F(4×4, 3×3) (its GEMMs split over the 36 planes).",
      args: { xp: "ptr", dy: "ptr", dw: "ptr", N: "u32", C: "u32", Hp: "u32", Wp: "u32", KH: "u32", KW: "u32", O: "u32", Otot: "u32" },
      wasm: "custom",
      // WebGPU: 64×64 tiles of dw (a tiled reduction) where plans.ts convWgradTiled says, else one workgroup per dw element
      gpu: { entry: "convWgradTiled(O, C * KH * KW) ? kernel : \"conv2d_wgrad_per_element_f32\"", grid: "convWgradTiled(O, C * KH * KW) ? [Math.ceil(C * KH * KW / 64), Math.ceil(O / 64), 1] : groups2d(O * C * KH * KW)" },
      entries: ["conv2d_wgrad_per_element_f32"],
    },
    depthwise_conv2d_f32: {
      doc: "Depthwise (groups = C): y [N, C, OH, OW] from x [N, C, H, W] and w [C, 1, KH, KW]; any stride, padding, dilation (the host adds the bias). Each output sums its taps in (kh, kw) order from 0.",
      args: { x: "ptr", w: "ptr", y: "ptr", N: "u32", C: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", DH: "i32", DW: "i32", OH: "i32", OW: "i32" },
      wasm: { split: { along: "N", step: { x: "C * H * W", y: "C * OH * OW" }, flops: "2 * N * C * OH * OW * KH * KW" } },
      gpu: { grid: "N * C * OH * OW" },
    },
    depthwise_conv2d_backward_input_f32: {
      doc: "dx [N, C, H, W] (written) of the depthwise convolution: each input element gathers dy·w over the taps that read it, in (kh, kw) order.",
      args: { dy: "ptr", w: "ptr", dx: "ptr", N: "u32", C: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", DH: "i32", DW: "i32", OH: "i32", OW: "i32" },
      wasm: { split: { along: "N", step: { dy: "C * OH * OW", dx: "C * H * W" }, flops: "2 * N * C * H * W * KH * KW" } },
      gpu: { grid: "N * C * H * W" },
    },
    depthwise_conv2d_backward_weight_f32: {
      doc: "dw [C, 1, KH, KW] (written) of the depthwise convolution for C channels of Ctot (x, dy, dw offset to the first): a sum over n, oh, ow in that order, so threads split C, never N.",
      args: { x: "ptr", dy: "ptr", dw: "ptr", N: "u32", C: "u32", Ctot: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", DH: "i32", DW: "i32", OH: "i32", OW: "i32" },
      wasm: { split: { along: "C", step: { x: "H * W", dy: "OH * OW", dw: "KH * KW" }, flops: "2 * N * C * OH * OW * KH * KW" } },
      gpu: { grid: "C * KH * KW" },
    },
  },
};
