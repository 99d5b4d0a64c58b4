// Kernel family elementwise: assembly/elementwise.ts (SIMD math in simd-math.ts), shaders/elementwise.wgsl, host/ops/elementwise.ts.
export default {
  doc: "Element-wise maps: unary ops, binary ops with NumPy broadcasting, where and clamp. One element's value never depends on how the range is split.",
  enums: {
    UnaryOp: {
      doc: "Op codes of unary_f32 / unary_backward_f32 (round: half to even, as torch.round; floor, ceil, round and trunc have gradient 0).",
      values: { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5, sigmoid: 6, tanh: 7, gelu: 8, square: 9, rsqrt: 10, reciprocal: 11, sin: 12, cos: 13, gelu_tanh: 14, silu: 15, sign: 16, hardswish: 17, floor: 18, ceil: 19, round: 20, trunc: 21 },
    },
    BinaryOp: {
      doc: "Op codes of the binary kernels; comparisons give 1.0 / 0.0.",
      values: { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12 },
    },
  },
  kernels: {
    unary_f32: {
      doc: "y = op(x); y may equal x.",
      args: { op: "UnaryOp", x: "ptr", y: "ptr", n: "u32" },
      wasm: { split: { along: "n", step: { x: "1", y: "1" }, flops: "4 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    unary_backward_f32: {
      doc: "dx = dy·f'(x); y = f(x) is read by exp, sqrt, sigmoid, tanh, rsqrt and reciprocal (the others may pass any pointer).",
      args: { op: "UnaryOp", x: "ptr", y: "ptr", dy: "ptr", dx: "ptr", n: "u32" },
      wasm: { split: { along: "n", step: { x: "1", y: "1", dy: "1", dx: "1" }, flops: "4 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    binary_f32: {
      doc: "y = a op b, same shape, contiguous.",
      args: { op: "BinaryOp", a: "ptr", b: "ptr", y: "ptr", n: "u32" },
      wasm: { split: { along: "n", step: { a: "1", b: "1", y: "1" }, flops: "2 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    binary_scalar_f32: {
      doc: "y = a op s (reversed ≠ 0: s op a).",
      args: { op: "BinaryOp", a: "ptr", s: "f32", y: "ptr", n: "u32", reversed: "u32" },
      wasm: { split: { along: "n", step: { a: "1", y: "1" }, flops: "2 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    binary_strided_f32: {
      doc: "Broadcasting: desc points at i32[3·rank] = out shape, then a's strides, then b's strides (elements, any sign; 0 on broadcast axes). y is contiguous.",
      args: { op: "BinaryOp", a: "ptr", b: "ptr", y: "ptr", rank: "u32", desc: "ptr" },
      // the output size is in the descriptor the host just wrote: the GPU reads its CPU copy
      gpu: { grid: "shapeSize(shadow(desc, rank))" },
    },
    where_f32: {
      doc: "y = cond ≠ 0 ? a : b.",
      args: { cond: "ptr", a: "ptr", b: "ptr", y: "ptr", n: "u32" },
      gpu: { grid: "n" },
    },
    clamp_f32: {
      doc: "y = min(max(x, lo), hi).",
      args: { x: "ptr", y: "ptr", n: "u32", lo: "f32", hi: "f32" },
      gpu: { grid: "n" },
    },
    swiglu_f32: {
      doc: "y = silu(g)·u (Llama's gated MLP), same shape, contiguous; y may equal g or u.",
      args: { g: "ptr", u: "ptr", y: "ptr", n: "u32" },
      wasm: { split: { along: "n", step: { g: "1", u: "1", y: "1" }, flops: "8 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    swiglu_backward_f32: {
      doc: "dg = dy·u·silu'(g), du = dy·silu(g); dg may equal dy.",
      args: { g: "ptr", u: "ptr", dy: "ptr", dg: "ptr", du: "ptr", n: "u32" },
      wasm: { split: { along: "n", step: { g: "1", u: "1", dy: "1", dg: "1", du: "1" }, flops: "12 * n", align: 4 } },
      gpu: { grid: "n" },
    },
    clamp_backward_f32: {
      doc: "dx = dy where lo ≤ x ≤ hi, else 0.",
      args: { x: "ptr", dy: "ptr", dx: "ptr", n: "u32", lo: "f32", hi: "f32" },
      gpu: { grid: "n" },
    },
  },
};
