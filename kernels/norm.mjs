// Kernel family norm: assembly/norm.ts, shaders/norm.wgsl (+ norm.subgroups.wgsl), host/ops/norm.ts.
export default {
  doc: "Layer and RMS normalisation over the cols of rows × cols.",
  kernels: {
    layernorm_f32: {
      doc: "y = (x − mean)·rstd·gamma + beta per row; mean and rstd saved; gamma/beta may be 0 (no affine).",
      args: { x: "ptr", gamma: "ptr?", beta: "ptr?", y: "ptr", mean: "ptr", rstd: "ptr", rows: "u32", cols: "u32", eps: "f32" },
      wasm: { split: { along: "rows", step: { x: "cols", y: "cols", mean: "1", rstd: "1" }, flops: "8 * rows * cols" } },
      gpu: { entry: "rowEntry(kernel, cols, caps)", grid: "rowGrid(rows, cols)" },
      entries: ["layernorm_f32_workgroup", "layernorm_f32_subgroup"],
    },
    layernorm_backward_f32: {
      doc: "dx only (rows independent); gamma may be 0.",
      args: { x: "ptr", dy: "ptr", gamma: "ptr?", mean: "ptr", rstd: "ptr", dx: "ptr", rows: "u32", cols: "u32" },
      wasm: { split: { along: "rows", step: { x: "cols", dy: "cols", mean: "1", rstd: "1", dx: "cols" }, flops: "8 * rows * cols" } },
      gpu: { entry: "rowEntry(kernel, cols, caps)", grid: "rowGrid(rows, cols)" },
      entries: ["layernorm_backward_f32_workgroup", "layernorm_backward_f32_subgroup"],
    },
    layernorm_param_grad_f32: {
      doc: "Accumulates (+=) into dgamma, dbeta: a reduction over rows, so one thread (one invocation per column on the GPU).",
      args: { x: "ptr", dy: "ptr", mean: "ptr", rstd: "ptr", dgamma: "ptr", dbeta: "ptr", rows: "u32", cols: "u32" },
      gpu: { grid: "cols" },
    },
    rmsnorm_f32: {
      doc: "y = x·rstd·weight per row, rstd = 1/√(mean(x²) + eps) saved; weight may be 0 (none).",
      args: { x: "ptr", weight: "ptr?", y: "ptr", rstd: "ptr", rows: "u32", cols: "u32", eps: "f32" },
      wasm: { split: { along: "rows", step: { x: "cols", y: "cols", rstd: "1" }, flops: "4 * rows * cols" } },
      gpu: { entry: "rowEntry(kernel, cols, caps)", grid: "rowGrid(rows, cols)" },
      entries: ["rmsnorm_f32_workgroup", "rmsnorm_f32_subgroup"],
    },
    rmsnorm_backward_f32: {
      doc: "dx = rstd·(g − x̂·mean(g·x̂)), x̂ = x·rstd, g = dy·weight (rows independent); weight may be 0.",
      args: { x: "ptr", dy: "ptr", weight: "ptr?", rstd: "ptr", dx: "ptr", rows: "u32", cols: "u32" },
      wasm: { split: { along: "rows", step: { x: "cols", dy: "cols", rstd: "1", dx: "cols" }, flops: "6 * rows * cols" } },
      gpu: { entry: "rowEntry(kernel, cols, caps)", grid: "rowGrid(rows, cols)" },
      entries: ["rmsnorm_backward_f32_workgroup", "rmsnorm_backward_f32_subgroup"],
    },
    rmsnorm_param_grad_f32: {
      doc: "Accumulates (+=) into dweight: Σ_r dy·x·rstd, a reduction over rows, so one thread (one invocation per column on the GPU).",
      args: { x: "ptr", dy: "ptr", rstd: "ptr", dweight: "ptr", rows: "u32", cols: "u32" },
      gpu: { grid: "cols" },
    },
  },
};
