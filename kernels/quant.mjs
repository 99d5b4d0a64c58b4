// Kernel family quant: assembly/quant.ts, shaders/quant.wgsl, host/ops/quant.ts.
// int8 inference: weights int8 with one scale per output channel, packed once;
// activations unsigned 7-bit with a dynamic scale and zero point per row; i32 sums.
export default {
  doc: "int8 inference (docs/speed-notes.md, \"int8 GEMM\"): y = dequant(Σ_k A_q·W_q) with i32 sums. Weights: int8 in [−127, 127], one symmetric scale per output channel, packed once into 8-channel panels of 4-k groups (`packed` holds 2 bytes per padded weight: the plain SIMD binary stores them sign-extended to int16, the relaxed binary and the GPU use the first half as int8). Activations: unsigned 7-bit [0, 127] with a scale and zero point per row, in groups of 4 rows (4 k of each row side by side), the one scheme under which relaxed SIMD's i8×i7 dot is deterministic, so every binary and the GPU sum the same integers.",
  kernels: {
    quantize_weights_i8: {
      doc: "Quantises each row (output channel) o of w [n×k] f32: scales[o] = max|w[o]|/127, W_q = round(w/scale) in [−127, 127]; writes the packed panels (2·⌈n/8⌉·8·⌈k/4⌉·4 bytes, zero past n and k), scales [n] f32 and wsum[o] = Σ_k W_q[o, k] [n] int32.",
      args: { w: "ptr", packed: "ptr", scales: "ptr", wsum: "ptr", n: "u32", k: "u32" },
      gpu: { grid: "((n + 7) >> 3) * 8" },
    },
    quantize_rows_u7: {
      doc: "Quantises m rows of k floats (element (i, j) at x[i·ldx + j], or x[j·ldx + i] with trans ≠ 0: an im2col matrix's output positions) to q [⌈m/4⌉·4·⌈k/4⌉·4 bytes, zero past m and k] with scale[i] = (hi − lo)/127 and zero[i] = round(−lo·127/(hi − lo)) over the row's range [lo, hi] ∋ 0: x ≈ (q − zero)·scale; a row of zeros gets scale 0 and q = zero = 0. NaN inputs give unspecified values (the range skips them). The wasm backend splits m over threads at multiples of 4.",
      args: { x: "ptr", q: "ptr", scale: "ptr", zero: "ptr", m: "u32", k: "u32", ldx: "u32", trans: "u32" },
      wasm: "custom",
      gpu: { grid: "((m + 3) >> 2) * 4" },
    },
    gemm_i8: {
      doc: "y[i, o] (row stride ldy) = (f32(Σ_k A_q[i,k]·W_q[o,k] − za[i]·wsum[o])·sa[i])·sw[o] + bias[o] (bias 0: none), then max(·, 0) with relu ≠ 0: quantize_rows_u7's a, sa, za times quantize_weights_i8's packed w, sw, wsum. The wasm backend runs 4×8 tiles (relaxed_dot_i8x16_i7x16 on the relaxed binary, dot_i16x8_s on plain SIMD) and splits rows (groups of 4) or 8-channel panels over threads; results do not depend on the thread count.",
      args: { a: "ptr", sa: "ptr", za: "ptr", w: "ptr", sw: "ptr", wsum: "ptr", bias: "ptr?", y: "ptr", m: "u32", n: "u32", k: "u32", ldy: "u32", relu: "u32" },
      wasm: "custom",
      gpu: { entry: "gemmI8Entry(caps)", grid: "m * n" },
      entries: ["gemm_i8_dot4"],
    },
    quantize_weights_i8_rows: {
      doc: "Weight-only int8 for gemv_i8: per row o of w [n×k] f32 and group of `group` k (0: the whole row; G = ⌈k/group⌉ groups), scales[o·G + g] = max|w|/127 and W_q = round(w/scale) in [−127, 127], written row-major to q (n·k bytes; a group of zeros gets scale 0).",
      args: { w: "ptr", q: "ptr", scales: "ptr", n: "u32", k: "u32", group: "u32" },
      gpu: { grid: "n" },
    },
    gemv_i8: {
      doc: "Weight-only int8 GEMV for batch-1 decoding: y[i, o] (row stride ldy) = sx_i·Σ_g scales[o·G + g]·Σ_{k ∈ g} x_q[i, k]·W_q[o, k] + bias[o] (bias 0: none) with W_q int8 [n, k] row-major from quantize_weights_i8_rows and x f32 [m, k] rounded per row to 15 bits (x ≈ x_q·sx, sx = max|x_i|/16383: exact i32 sums, an error far below the int8 weight's). Streams 1 byte per weight (the packed panels of gemm_i8 hold 2 on the plain SIMD binary). The wasm backend splits n over threads, each quantising x into its own scratch; results do not depend on the thread count.",
      args: { x: "ptr", w: "ptr", scales: "ptr", bias: "ptr?", y: "ptr", m: "u32", n: "u32", k: "u32", group: "u32", ldy: "u32", scratch: "scratch" },
      wasm: "custom",
      gpu: { grid: "m * n" },
    },
    gemv_i8_scratch_bytes: { internal: true, doc: "Scratch bytes of one gemv_i8 call (k int16 activations).", args: { k: "u32" }, returns: "i32" },
    quant_packed_w_bytes: { internal: true, doc: "Bytes of this binary's packed weights for n channels of k (int8 on relaxed, int16 on plain SIMD).", args: { n: "u32", k: "u32" }, returns: "i32" },
    quant_rows_bytes: { internal: true, doc: "Bytes of quantize_rows_u7's q for m rows of k.", args: { m: "u32", k: "u32" }, returns: "i32" },
  },
};
