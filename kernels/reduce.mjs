// Kernel family reduce: assembly/reduce.ts, shaders/reduce.wgsl (+ reduce.subgroups.wgsl), host/ops/reduce.ts.
export default {
  doc: "Reductions of a tensor viewed as [outer, len, inner] over len. On the GPU one invocation per output column, or one workgroup per row when the reduced axis is contiguous and long.",
  enums: {
    ReduceOp: { doc: "Op codes of reduce_f32.", values: { sum: 0, mean: 1, max: 2, min: 3 } },
  },
  kernels: {
    reduce_f32: {
      doc: "y [outer, inner] = op over len. The wasm backend splits outer over threads, and sums a whole tensor (outer = inner = 1) pairwise in float64.",
      args: { op: "ReduceOp", x: "ptr", y: "ptr", outer: "u32", len: "u32", inner: "u32" },
      wasm: "custom",
      gpu: { entry: "reductionEntry(kernel, outer, len, inner, caps)", grid: "reductionGrid(outer, len, inner)" },
      entries: ["reduce_f32_workgroup", "reduce_f32_subgroup"],
    },
    sum_all_f32: { internal: true, doc: "Σ x, pairwise / blocked in float64 so the error stays small for large n.", args: { x: "ptr", n: "u32" }, returns: "f32" },
    argmax_f32: {
      doc: "y (int32) [outer, inner] = index of the max over len; the first wins.",
      args: { x: "ptr", y: "ptr", outer: "u32", len: "u32", inner: "u32" },
      gpu: { entry: "reductionEntry(kernel, outer, len, inner, caps)", grid: "reductionGrid(outer, len, inner)" },
      entries: ["argmax_f32_workgroup", "argmax_f32_subgroup"],
    },
    argmin_f32: {
      doc: "As argmax_f32 for the min.",
      args: { x: "ptr", y: "ptr", outer: "u32", len: "u32", inner: "u32" },
      gpu: { entry: "reductionEntry(kernel, outer, len, inner, caps)", grid: "reductionGrid(outer, len, inner)" },
      entries: ["argmin_f32_workgroup", "argmin_f32_subgroup"],
    },
    reduce_max_backward_f32: {
      doc: "dx = dy at the first position where x == y (the max), 0 elsewhere (min uses the same kernel with y = min).",
      args: { x: "ptr", y: "ptr", dy: "ptr", dx: "ptr", outer: "u32", len: "u32", inner: "u32" },
      gpu: { grid: "outer * inner" },
    },
  },
};
