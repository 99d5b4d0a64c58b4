// Kernel family embed: assembly/embed.ts, shaders/embed.wgsl, host/ops/embed.ts.
export default {
  doc: "Embedding lookup and its scatter-add gradient.",
  kernels: {
    embedding_f32: {
      doc: "y[i] = table[idx[i]] (rows of dim floats); NaNs for an idx[i] outside [0, rows) (the wasm backend refuses it first, naming it).",
      args: { table: "ptr", idx: "ptr", y: "ptr", n: "u32", dim: "u32", rows: "u32" },
      wasm: "custom",
      gpu: { grid: "n * dim" },
    },
    embedding_backward_f32: {
      doc: "dtable[idx[i]] += dy[i] (in order of i); an idx[i] outside [0, rows) adds nothing.",
      args: { dy: "ptr", idx: "ptr", dtable: "ptr", n: "u32", dim: "u32", rows: "u32" },
      gpu: { grid: "dim" },
    },
  },
};
