// Entry point of every kernel binary: one module re-exporting each op family.
// The ABI (byte offsets into imported memory, plain integers, no allocation)
// is described in docs/KERNELS.md.
export { variant_has_relaxed_simd } from "./simd";
export * from "./gemm";
export * from "./conv";
export * from "./winograd";
export * from "./pool";
export * from "./elementwise";
export * from "./movement";
export * from "./reduce";
export * from "./softmax";
export * from "./norm";
export * from "./embed";
export * from "./scan";
export * from "./attention";
export * from "./optim";
export * from "./random";
export * from "./indexing";
export * from "./quant";
export * from "./gemv"; // gemv_f32 (family gemm), gemv_i8 and quantize_weights_i8_rows (family quant): batch-1 decode
export * from "./rope";
