// webgrad's public API: `import * as wg from "webgrad"`.

export { init, shutdown, memory, backend, type InitOptions, type EngineInfo } from "./engine.js";
export { Tensor, type DType, type Shape, type NestedArray } from "./tensor.js";
import "./tensor-methods.js"; // x.add(y), loss.backward(), …: the op methods on Tensor
export { noGrad, grad, isGradEnabled } from "./autograd.js";
export { manualSeed, getRngState, setRngState, type RngState } from "./random.js";
export { OutOfMemoryError } from "./memory/pool.js";
// The ops, by name: only what a user calls (the ops' own helpers, in-place
// kernels for optimizers and raw pointers stay inside; host/ops/index.ts has all).
export {
  // creation
  tensor, full, zeros, ones, zerosLike, onesLike, arange, eye, randn, rand, normal,
  // element-wise
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, clamp,
  neg, exp, log, sqrt, rsqrt, abs, square, reciprocal, relu, sigmoid, tanh, gelu, silu, hardswish, sin, cos, sign,
  // reductions
  sum, mean, max, min, argmax, argmin,
  // shape
  reshape, flatten, unsqueeze, squeeze, permute, transpose, slice, cat, stack, expand, clone,
  // linear algebra and nn
  matmul, linear, conv2d, maxPool2d, avgPool2d, softmax, logSoftmax, layerNorm, embedding,
  scaledDotProductAttention, dropout,
  // issue 15 item 2: rounding, scans, statistics, padding, splitting, tiling, einsum
  floor, ceil, round, trunc, cumsum, cumprod, var, std, logsumexp, pad, split, chunk, repeat, tile, einsum, type VarOptions,
  // issue 17: the Llama family's pieces (RMSNorm, rotary embeddings, SwiGLU; GQA is scaledDotProductAttention's enableGqa)
  rmsNorm, rope, swiglu,
} from "./ops/index.js";
// indexing along a dim (host/ops/indexing.ts)
export {
  gather, scatter, scatterAdd, indexSelect, oneHot, maskedFill, tril, triu, sort, argsort, topk, type SortResult,
  // issue 15 (layers): 1-D and transposed convolutions
  conv1d, convTranspose2d,
} from "./ops/index.js";
// issue 17 (hk2): decoding over a preallocated KV cache (wg.models.StaticKVCache uses these)
export { kvCacheWrite, cachedAttention } from "./ops/attention.js";
export { quantizeWeightInt8Rows, type Int8Rows } from "./ops/quant.js"; // weight-only int8 rows (gemv_i8) for decoding
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as metrics from "./metrics.js";
export * as data from "./data/index.js";
export * as io from "./io/index.js";
export { fit, evaluate, evaluateAsync, predict, clipGradNorm, clipGradNormTensor, EarlyStopping, LearningRateSchedule, ModelCheckpoint, WeightAveraging, type FitOptions, type EpochLog, type Callback, type FitContext, type BatchSource, type Batch, type CosineOptions } from "./train.js";
// issue 15 (D2): PyTorch's OneCycleLR and ReduceLROnPlateau schedules
export { OneCycle, ReduceLROnPlateau, type OneCycleOptions, type ReduceLROnPlateauOptions } from "./train.js";

export { scope } from "./scope.js";
export { quantizeInt8, dequantizeInt8, quantizeModelInt8, quantizeModelInt8Async, ensemblePredict, freeze, trainable, type Int8Weight, type QuantizedModel } from "./deploy.js";
// issue 16 item 2: int8 compute (dynamic quantisation on the int8 kernels; host/ops/quant.ts, host/nn/quantized.ts)
export { quantizeDynamic, type QuantizableLayer } from "./deploy.js";
export { quantizeWeightInt8, int8Linear, int8Conv2d, disposeInt8, type Int8Packed, type Int8Conv2dOptions } from "./ops/quant.js";
export * as models from "./models/index.js";
export { backendNamed, withBackend } from "./engine.js";
export type { WasmOption, WasmSource, KernelVariant } from "./backends/loader.js";
// issue 17: LoRA adapters in PEFT's layout (attach, save, load, merge)
export * as lora from "./lora.js";
