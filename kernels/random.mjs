// Kernel family random: assembly/random.ts, shaders/random.wgsl, host/ops/random.ts.
const split = (ptr) => ({ split: { along: "n", step: { [ptr]: "1" }, shift: ["offset"], flops: "16 * n", align: 4 } });
export default {
  doc: "Counter-based random numbers: element i of a call with (seed, offset) depends only on seed and offset + i, so any split and either backend give the same bits.",
  kernels: {
    rand_uniform_f32: { doc: "Uniform in [lo, hi).", args: { y: "ptr", n: "u32", seed: "u32", offset: "u32", lo: "f32", hi: "f32" }, wasm: split("y"), gpu: { grid: "n" } },
    rand_normal_f32: { doc: "Normal(mean, stddev).", args: { y: "ptr", n: "u32", seed: "u32", offset: "u32", mean: "f32", stddev: "f32" }, wasm: split("y"), gpu: { grid: "n" } },
    dropout_mask_f32: { doc: "mask[i] = 0 with probability p, else 1/(1−p).", args: { mask: "ptr", n: "u32", seed: "u32", offset: "u32", p: "f32" }, wasm: split("mask"), gpu: { grid: "n" } },
  },
};
