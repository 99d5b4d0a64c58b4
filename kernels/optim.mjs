// Kernel family optim: assembly/optim.ts, shaders/optim.wgsl, host/optim/.
const split = (ptrs) => ({ split: { along: "n", step: Object.fromEntries(ptrs.map((p) => [p, "1"])), flops: "16 * n", align: 16 } });
export default {
  doc: "Fused optimizer updates, one pass each, with PyTorch's semantics.",
  kernels: {
    sgd_f32: {
      doc: "SGD with momentum, dampening, weight decay and Nesterov; buf may be 0 when momentum is 0.",
      args: { p: "ptr", g: "ptr", buf: "ptr?", n: "u32", lr: "f32", momentum: "f32", dampening: "f32", weightDecay: "f32", nesterov: "u32", firstStep: "u32" },
      wasm: split(["p", "g", "buf"]),
      gpu: { grid: "n" },
    },
    adam_f32: {
      doc: "Adam / AdamW. The host forms in float64, as torch does: c1 = 1 − β1, c2 = 1 − β2, stepSize = lr / (1 − β1^t), bc2Sqrt = √(1 − β2^t); decoupled = 1 for AdamW.",
      args: { p: "ptr", g: "ptr", m: "ptr", v: "ptr", n: "u32", lr: "f32", beta1: "f32", beta2: "f32", c1: "f32", c2: "f32", eps: "f32", weightDecay: "f32", stepSize: "f32", bc2Sqrt: "f32", decoupled: "u32" },
      wasm: split(["p", "g", "m", "v"]),
      gpu: { grid: "n" },
    },
  },
};
