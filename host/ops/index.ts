// Every op, one module per family (mirroring assembly/ and shaders/).
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./shape.js";
export * from "./gemm.js";
export * from "./conv.js";
export * from "./pool.js";
export * from "./softmax.js";
export * from "./norm.js";
export * from "./embed.js";
export * from "./attention.js";
export * from "./random.js";
