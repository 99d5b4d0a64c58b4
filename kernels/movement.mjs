// Kernel family movement: assembly/movement.ts, shaders/movement.wgsl, host/ops/shape.ts and creation.ts.
export default {
  doc: "Data movement and BLAS-1 updates.",
  kernels: {
    axpy_f32: { doc: "y += alpha·x.", args: { x: "ptr", y: "ptr", n: "u32", alpha: "f32" }, wasm: { split: { along: "n", step: { x: "1", y: "1" }, flops: "2 * n", align: 4 } }, gpu: { grid: "n" } },
    scale_f32: { doc: "y = alpha·x.", args: { x: "ptr", y: "ptr", n: "u32", alpha: "f32" }, gpu: { grid: "n" } },
    fill_f32: { doc: "y[i] = value.", args: { y: "ptr", n: "u32", value: "f32" }, gpu: { grid: "n" } },
    transpose_f32: {
      doc: "x [outer, a, b, inner] → y [outer, b, a, inner].",
      args: { x: "ptr", y: "ptr", outer: "u32", a: "u32", b: "u32", inner: "u32" },
      gpu: { grid: "outer * a * b * inner" },
    },
    gather_b32: {
      doc: "Copies the 32-bit words of x viewed through strides into contiguous y: desc points at i32[2·rank] = shape, then x's strides (elements, any sign). Bit-exact, so int32 tensors move through it as float32 ones do.",
      args: { x: "ptr", y: "ptr", rank: "u32", desc: "ptr" },
      gpu: { grid: "shapeSize(shadow(desc, rank))" },
    },
    cast_i32_f32: { doc: "y = float(x).", args: { x: "ptr", y: "ptr", n: "u32" }, gpu: { grid: "n" } },
    cast_f32_i32: { doc: "y = int(x), truncation toward zero.", args: { x: "ptr", y: "ptr", n: "u32" }, gpu: { grid: "n" } },
  },
};
