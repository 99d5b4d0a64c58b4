// Kernel family softmax: assembly/softmax.ts, shaders/softmax.wgsl (+ softmax.subgroups.wgsl), host/ops/softmax.ts.
const rows = (flops) => ({ split: { along: "rows", step: { x: "cols", y: "cols", dy: "cols", dx: "cols" }, flops } });
const perRow = { entry: "rowEntry(kernel, cols, caps)", grid: "rowGrid(rows, cols)" };
const rowEntries = (k) => [`${k}_workgroup`, `${k}_subgroup`];
export default {
  doc: "Softmax over the cols of rows × cols. On the GPU one invocation per row below 32 columns, else one workgroup per row.",
  kernels: {
    softmax_f32: { doc: "y = softmax(x) per row.", args: { x: "ptr", y: "ptr", rows: "u32", cols: "u32" }, wasm: rows("8 * rows * cols"), gpu: perRow, entries: rowEntries("softmax_f32") },
    log_softmax_f32: { doc: "y = log_softmax(x) per row.", args: { x: "ptr", y: "ptr", rows: "u32", cols: "u32" }, wasm: rows("8 * rows * cols"), gpu: perRow, entries: rowEntries("log_softmax_f32") },
    softmax_backward_f32: { doc: "dx = y·(dy − Σ dy·y).", args: { y: "ptr", dy: "ptr", dx: "ptr", rows: "u32", cols: "u32" }, wasm: rows("4 * rows * cols"), gpu: perRow, entries: rowEntries("softmax_backward_f32") },
    log_softmax_backward_f32: { doc: "dx = dy − exp(y)·Σ dy.", args: { y: "ptr", dy: "ptr", dx: "ptr", rows: "u32", cols: "u32" }, wasm: rows("4 * rows * cols"), gpu: perRow, entries: rowEntries("log_softmax_backward_f32") },
    softmax_xent_f32: {
      doc: "labels int32; loss[r] = logsumexp(row) − logit[label]; probs = softmax (saved for backward). An out-of-range label gives a NaN loss (the wasm backend refuses it first, naming it).",
      args: { logits: "ptr", labels: "ptr", loss: "ptr", probs: "ptr", rows: "u32", cols: "u32" },
      gpu: perRow, entries: rowEntries("softmax_xent_f32"),
    },
    softmax_xent_backward_f32: {
      doc: "dlogits[r] = (probs[r] − onehot(label)) · dloss[r·dlossStride] · scale.",
      args: { probs: "ptr", labels: "ptr", dloss: "ptr", dlossStride: "u32", dlogits: "ptr", rows: "u32", cols: "u32", scale: "f32" },
      gpu: { grid: "rows * cols" },
    },
  },
};
