// Kernel family attention: assembly/attention.ts, shaders/attention.wgsl, host/ops/attention.ts.
export default {
  doc: "Flash-style scaled dot-product attention: q [BH, Sq, D], k and v [BH, Sk, D], contiguous (BH = batch·heads). Causal masks key j for query i when j > i + (Sk − Sq) (aligned bottom-right, so one new query over a KV cache sees every key).",
  kernels: {
    attention_f32: {
      doc: "Online softmax over key blocks, never an Sq×Sk matrix; lse [BH, Sq] saved for backward. The wasm backend splits BH over threads, each with its own scratch.",
      args: { q: "ptr", k: "ptr", v: "ptr", o: "ptr", lse: "ptr", BH: "u32", Sq: "u32", Sk: "u32", D: "u32", scale: "f32", causal: "u32", scratch: "scratch" },
      wasm: "custom",
      // WebGPU: 64-row query blocks with K/V tiles in workgroup memory (D ≤ 128, GPU_TILING.attention), else one invocation per row
      gpu: { entry: "attentionTiled(D) ? kernel : \"attention_f32_rows\"", grid: "attentionTiled(D) ? groups2d(BH * Math.ceil(Sq / 64)) : groups64(BH * Sq)" },
      entries: ["attention_f32_rows"],
    },
    attention_backward_f32: {
      doc: "Writes (not accumulates) dq, dk, dv.",
      args: { q: "ptr", k: "ptr", v: "ptr", o: "ptr", lse: "ptr", dO: "ptr", dq: "ptr", dk: "ptr", dv: "ptr", BH: "u32", Sq: "u32", Sk: "u32", D: "u32", scale: "f32", causal: "u32", scratch: "scratch" },
      wasm: "custom",
      gpu: { entry: "attentionTiled(D) ? kernel : \"attention_backward_f32_rows\"", grid: "attentionTiled(D) ? groups2d(BH * (Math.ceil(Sq / 64) + Math.ceil(Sk / 64))) : groups64(BH * (Sq + Sk))" },
      entries: ["attention_backward_f32_rows"],
    },
    attention_scratch_bytes: { internal: true, doc: "Scratch bytes of one attention_f32 call.", args: { Sq: "u32", Sk: "u32", D: "u32" }, returns: "i32" },
    attention_backward_scratch_bytes: { internal: true, doc: "Scratch bytes of one attention_backward_f32 call.", args: { Sq: "u32", Sk: "u32", D: "u32" }, returns: "i32" },
  },
};
