// Kernel family rope: assembly/rope.ts, shaders/rope.wgsl, host/ops/rope.ts.
export default {
  doc: "Rotary position embeddings in Hugging Face's rotate-half layout.",
  kernels: {
    rope_f32: {
      doc: "x, y [rows, S, D], cos/sin [S, D/2], h = D/2: y[i] = x[i]·cos[i] − x[i+h]·sign·sin[i], y[i+h] = x[i+h]·cos[i] + x[i]·sign·sin[i] for i < h. sign = 1 rotates, −1 rotates back (the backward). y may equal x (in place).",
      args: { x: "ptr", cos: "ptr", sin: "ptr", y: "ptr", rows: "u32", S: "u32", D: "u32", sign: "f32" },
      wasm: { split: { along: "rows", step: { x: "S * D", y: "S * D" }, flops: "3 * rows * S * D" } },
      gpu: { grid: "rows * S * (D >> 1)" },
    },
  },
};
