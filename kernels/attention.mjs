// Kernel family attention: assembly/attention.ts, shaders/attention.wgsl, host/ops/attention.ts.
export default {
  doc: "Flash-style scaled dot-product attention: q [BH, Sq, D], k and v [BH / group, Sk, D], contiguous (BH = batch·heads; grouped-query attention reads kv head ⌊bh / group⌋, which is head ⌊h / group⌋ of the same batch when BH = B·Hq and Hq = group·Hkv; group 0 means 1). Causal masks key j for query i when j > i + (Sk − Sq) (aligned bottom-right, so one new query over a KV cache sees every key).",
  kernels: {
    attention_f32: {
      doc: "Online softmax over key blocks, never an Sq×Sk matrix; lse [BH, Sq] saved for backward. The wasm backend splits BH over threads, each with its own scratch.",
      // k, v: the first Sk rows of heads kvStride rows apart (a preallocated KV cache [B·Hkv, maxS, D]; 0 means Sk)
      args: { q: "ptr", k: "ptr", v: "ptr", o: "ptr", lse: "ptr", BH: "u32", Sq: "u32", Sk: "u32", D: "u32", scale: "f32", causal: "u32", scratch: "scratch", group: "u32", kvStride: "u32" },
      wasm: "custom",
      // WebGPU: 64-row query blocks with K/V tiles in workgroup memory (D ≤ 128, GPU_TILING.attention), else one invocation per row
      gpu: { entry: "attentionTiled(D) ? kernel : \"attention_f32_rows\"", grid: "attentionTiled(D) ? groups2d(BH * Math.ceil(Sq / 64)) : groups64(BH * Sq)" },
      entries: ["attention_f32_rows"],
    },
    attention_backward_f32: {
      doc: "Writes (not accumulates) dq [BH, Sq, D], dk and dv [BH / group, Sk, D] (each kv head's sum over its group of query heads, in a fixed order; the wasm backend splits kv heads over threads, so the bits do not depend on the thread count). No kvStride: training keeps no cache.",
      args: { q: "ptr", k: "ptr", v: "ptr", o: "ptr", lse: "ptr", dO: "ptr", dq: "ptr", dk: "ptr", dv: "ptr", BH: "u32", Sq: "u32", Sk: "u32", D: "u32", scale: "f32", causal: "u32", scratch: "scratch", group: "u32" },
      wasm: "custom",
      gpu: { entry: "attentionTiled(D) ? kernel : \"attention_backward_f32_rows\"", grid: "attentionTiled(D) ? groups2d(BH * Math.ceil(Sq / 64) + Math.floor(BH / Math.max(group, 1)) * Math.ceil(Sk / 64)) : groups64(BH * Sq + Math.floor(BH / Math.max(group, 1)) * Sk)" },
      entries: ["attention_backward_f32_rows"],
    },
    kv_append_f32: {
      doc: "KV cache append: x [BH, T, D] (contiguous) into rows [pos, pos + T) of each head of cache [BH, maxS, D] (the host checks pos + T ≤ maxS), so decoding writes one row per head instead of concatenating the whole cache every step.",
      args: { x: "ptr", cache: "ptr", BH: "u32", T: "u32", D: "u32", maxS: "u32", pos: "u32" },
      gpu: { grid: "BH * T * D" },
    },
    attention_scratch_bytes: { internal: true, doc: "Scratch bytes of one attention_f32 call.", args: { Sq: "u32", Sk: "u32", D: "u32" }, returns: "i32" },
    attention_backward_scratch_bytes: { internal: true, doc: "Scratch bytes of one attention_backward_f32 call.", args: { Sq: "u32", Sk: "u32", D: "u32" }, returns: "i32" },
  },
};
