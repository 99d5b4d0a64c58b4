// Kernel family pool: assembly/pool.ts, shaders/pool.wgsl, host/ops/pool.ts. NC = N·C independent planes.
// Split weights: 4 per window element (forward) or input element (backward), as the
// elementwise family's 4·n. `flops` is what the dispatch threshold (2^19 per thread,
// ~10 µs of GEMM time) compares with, and a pooled element costs far more than a GEMM
// multiply-add: S1's maxpool (NC 1024, 26×26 → 13×13) took 203 µs and its fused
// relu backward 171 µs on one thread (0.29 and 0.25 ns an element, ~15 GEMM flops' time),
// yet at weight 1 (692K) both stayed under the 2-thread threshold (1M) and ran on the
// calling thread alone, ~20% of the S1 step's time that 2 threads did not share.
export default {
  doc: "2-D pooling over NC = N·C independent planes (NCHW). Forward runs per output element on the GPU, backward per plane.",
  kernels: {
    maxpool2d_f32: {
      doc: "idx (int32) receives the in-plane index h·W + w of each max (first max wins; padding never wins).",
      args: { x: "ptr", y: "ptr", idx: "ptr", NC: "u32", H: "i32", W: "i32", KH: "u32", KW: "u32", SH: "u32", SW: "u32", PH: "i32", PW: "i32", OH: "u32", OW: "u32" },
      wasm: { split: { along: "NC", step: { x: "H * W", y: "OH * OW", idx: "OH * OW" }, flops: "4 * NC * OH * OW * KH * KW" } },
      gpu: { grid: "NC * OH * OW" },
    },
    maxpool2d_backward_f32: {
      doc: "Zeroes dx then scatter-adds dy at idx.",
      args: { dy: "ptr", idx: "ptr", dx: "ptr", NC: "u32", H: "u32", W: "u32", OH: "u32", OW: "u32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", idx: "OH * OW", dx: "H * W" }, flops: "4 * NC * H * W" } },
      gpu: { grid: "NC" },
    },
    maxpool2d_relu_backward_f32: {
      doc: "The gradient of maxpool(relu(z)) w.r.t. z: as maxpool2d_backward_f32, but only outputs with y > 0 add (y, idx: maxpool2d_f32's outputs on relu(z)). tiled ≠ 0 promises a 2×2 stride-2 unpadded pool (disjoint windows): dx is then written in one pass with no zeroing first.",
      args: { dy: "ptr", idx: "ptr", y: "ptr", dx: "ptr", NC: "u32", H: "u32", W: "u32", OH: "u32", OW: "u32", tiled: "u32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", idx: "OH * OW", y: "OH * OW", dx: "H * W" }, flops: "4 * NC * H * W" } },
      gpu: { entry: "tiled ? \"maxpool2d_relu_backward_tiled_f32\" : kernel", grid: "tiled ? NC * H * W : NC" },
      entries: ["maxpool2d_relu_backward_tiled_f32"],
    },
    avgpool2d_f32: {
      doc: "Average over each window; countIncludePad ≠ 0 divides by the whole window, padding included (PyTorch's default).",
      args: { x: "ptr", y: "ptr", NC: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", OH: "u32", OW: "u32", countIncludePad: "u32" },
      wasm: { split: { along: "NC", step: { x: "H * W", y: "OH * OW" }, flops: "4 * NC * OH * OW * KH * KW" } },
      gpu: { grid: "NC * OH * OW" },
    },
    avgpool2d_backward_f32: {
      doc: "Zeroes dx, then spreads each dy over its window.",
      args: { dy: "ptr", dx: "ptr", NC: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", OH: "i32", OW: "i32", countIncludePad: "u32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", dx: "H * W" }, flops: "4 * NC * H * W" } },
      gpu: { grid: "NC" },
    },
  },
};
