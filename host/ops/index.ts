// Every op, one module per family (mirroring assembly/ and shaders/).
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./scan.js";
export * from "./stats.js";
export * from "./einsum.js";
export * from "./shape.js";
// gemm.js also holds gemm(), the raw-pointer product other ops call: for ops only, never on wg.*
export { matmul, linear } from "./gemm.js";
export * from "./conv.js";
export * from "./pool.js";
export * from "./softmax.js";
export * from "./norm.js";
export * from "./embed.js";
export * from "./attention.js";
export * from "./rope.js";
export * from "./random.js";
export * from "./indexing.js";
export * from "./quant.js";
