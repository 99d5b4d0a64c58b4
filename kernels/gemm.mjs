// Kernel family gemm: assembly/gemm.ts, shaders/gemm.wgsl (+ gemm.f16.wgsl), host/ops/gemm.ts.
// Row-major. op(A) is m×k (A stored k×m with TRANS_A), op(B) is k×n (B stored n×k with TRANS_B).
export default {
  doc: "Matrix products. Row-major; `op(A)` is m×k (A stored k×m when TRANS_A), `op(B)` is k×n (B stored n×k when TRANS_B).",
  enums: {
    GemmFlags: { doc: "Bit flags of every GEMM kernel.", flags: true, values: { TRANS_A: 1, TRANS_B: 2, ACCUMULATE: 4 } },
  },
  kernels: {
    gemm_f32: {
      doc: "C[m×n] (=, or += with ACCUMULATE) op(A)·op(B), for `batch` products at element strides strideA/B/C (0 reuses an operand). The wasm backend packs B into 8-column panels (scratch of its own) and splits rows or columns of C over threads; results do not depend on the thread count.",
      args: { a: "ptr", b: "ptr", c: "ptr", m: "u32", n: "u32", k: "u32", lda: "u32", ldb: "u32", ldc: "u32", flags: "GemmFlags", scratch: "scratch",
              batch: "host u32 = 1", strideA: "host u32 = 0", strideB: "host u32 = 0", strideC: "host u32 = 0" },
      batch: { count: "batch", step: { a: "strideA ?? 0", b: "strideB ?? 0", c: "strideC ?? 0" } },
      wasm: "custom",
      gpu: { entry: "gemmEntry(m, n, k, caps)", grid: "gemmGrid(m, n, k, caps)" },
      entries: ["gemm_f32_small", "gemm_f32_128", "gemm_f32_f16", "gemm_f32_128_f16"],
    },
    gemv_f32: {
      doc: "y[i, o] (row stride ldy; += with accumulate ≠ 0) = Σ_k x[i, k]·w[o, k] + bias[o] for m (tiny) rows of x: W [n, k] row-major (nn.Linear's layout) streamed once in place, no packing (batch-1 decoding; the wasm gemm_f32 schedule takes it for op(B) stored n×k and m ≤ 4). The wasm backend splits n over threads; results do not depend on the thread count.",
      args: { x: "ptr", w: "ptr", bias: "ptr?", y: "ptr", m: "u32", n: "u32", k: "u32", ldx: "u32", ldw: "u32", ldy: "u32", accumulate: "u32" },
      wasm: { split: { along: "n", step: { w: "ldw", bias: "1", y: "1" }, flops: "2 * m * n * k", align: 4 } },
      gpu: { grid: "m * n" },
    },
    gemm_packed_b_bytes: { internal: true, doc: "Bytes gemm_pack_b_f32 writes for a k×n op(B).", args: { k: "u32", n: "u32" }, returns: "i32" },
    gemm_pack_b_f32: { internal: true, doc: "Packs op(B) into 8-column panels (zero-padded), blocked by KC rows; `packed` needs gemm_packed_b_bytes(k, n).", args: { b: "ptr", ldb: "u32", k: "u32", n: "u32", flags: "GemmFlags", packed: "ptr" } },
    gemm_pack_b_panels_f32: { internal: true, doc: "Packs only panels [p0, p1) into their places in that layout (threads pack disjoint ranges; same bytes as one call).", args: { b: "ptr", ldb: "u32", k: "u32", n: "u32", flags: "GemmFlags", packed: "ptr", p0: "u32", p1: "u32" } },
    gemm_packed_f32: { internal: true, doc: "C (=|+=) op(A)·op(B) with B already packed for exactly these k, n. Rows of C are independent (threads split m).", args: { a: "ptr", lda: "u32", packed: "ptr", c: "ptr", ldc: "u32", m: "u32", n: "u32", k: "u32", flags: "GemmFlags" } },
    gemm_packed_a_bytes: { internal: true, doc: "Bytes of one A-block buffer of gemm_packed_pa_f32.", args: {}, returns: "i32" },
    gemm_packed_pa_f32: { internal: true, doc: "As gemm_packed_f32 (same bits) with 5×8 tiles over blocks of op(A) packed into `ascratch` (gemm_packed_a_bytes(), one per concurrent call); faster from 32 columns of C on the relaxed-SIMD binary.", args: { a: "ptr", lda: "u32", packed: "ptr", c: "ptr", ldc: "u32", m: "u32", n: "u32", k: "u32", flags: "GemmFlags", ascratch: "ptr" } },
  },
};
