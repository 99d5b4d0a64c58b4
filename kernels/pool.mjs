// Kernel family pool: assembly/pool.ts, shaders/pool.wgsl, host/ops/pool.ts. NC = N·C independent planes.
export default {
  doc: "2-D pooling over NC = N·C independent planes (NCHW). On the GPU the forward runs per output element and the backward per input element, each gathering the gradients of the windows that cover it (no atomics, wasm's order of additions).",
  kernels: {
    maxpool2d_f32: {
      doc: "idx (int32) receives the in-plane index h·W + w of each max (first max wins; padding never wins).",
      args: { x: "ptr", y: "ptr", idx: "ptr", NC: "u32", H: "i32", W: "i32", KH: "u32", KW: "u32", SH: "u32", SW: "u32", PH: "i32", PW: "i32", OH: "u32", OW: "u32" },
      wasm: { split: { along: "NC", step: { x: "H * W", y: "OH * OW", idx: "OH * OW" }, flops: "NC * OH * OW * KH * KW" } },
      gpu: { grid: "NC * OH * OW" },
    },
    maxpool2d_backward_f32: {
      doc: "Zeroes dx then scatter-adds dy at idx. KH … PW are maxpool2d_f32's windows: the wasm scatter ignores them, the WGSL twin gathers per input element over the windows covering it.",
      args: { dy: "ptr", idx: "ptr", dx: "ptr", NC: "u32", H: "u32", W: "u32", OH: "u32", OW: "u32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", idx: "OH * OW", dx: "H * W" }, flops: "NC * H * W" } },
      gpu: { grid: "NC * H * W" },
    },
    maxpool2d_relu_backward_f32: {
      doc: "The gradient of maxpool(relu(z)) w.r.t. z: as maxpool2d_backward_f32, but only outputs with y > 0 add (y, idx: maxpool2d_f32's outputs on relu(z)). tiled ≠ 0 promises a 2×2 stride-2 unpadded pool (disjoint windows): dx is then written in one pass with no zeroing first.",
      args: { dy: "ptr", idx: "ptr", y: "ptr", dx: "ptr", NC: "u32", H: "u32", W: "u32", OH: "u32", OW: "u32", tiled: "u32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", idx: "OH * OW", y: "OH * OW", dx: "H * W" }, flops: "NC * H * W" } },
      gpu: { entry: "tiled ? \"maxpool2d_relu_backward_tiled_f32\" : kernel", grid: "NC * H * W" },
      entries: ["maxpool2d_relu_backward_tiled_f32"],
    },
    avgpool2d_f32: {
      doc: "Average over each window; countIncludePad ≠ 0 divides by the whole window, padding included (PyTorch's default).",
      args: { x: "ptr", y: "ptr", NC: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", OH: "u32", OW: "u32", countIncludePad: "u32" },
      wasm: { split: { along: "NC", step: { x: "H * W", y: "OH * OW" }, flops: "NC * OH * OW * KH * KW" } },
      gpu: { grid: "NC * OH * OW" },
    },
    avgpool2d_backward_f32: {
      doc: "Zeroes dx, then spreads each dy over its window (the WGSL twin: each input element gathers its windows' shares, in the same order).",
      args: { dy: "ptr", dx: "ptr", NC: "u32", H: "i32", W: "i32", KH: "i32", KW: "i32", SH: "i32", SW: "i32", PH: "i32", PW: "i32", OH: "i32", OW: "i32", countIncludePad: "u32" },
      wasm: { split: { along: "NC", step: { dy: "OH * OW", dx: "H * W" }, flops: "NC * H * W" } },
      gpu: { grid: "NC * H * W" },
    },
  },
};
