// webgrad's public API: `import * as wg from "webgrad"`.

export { init, shutdown, memory, backend, type InitOptions, type EngineInfo } from "./engine.js";
export { Tensor, type DType, type Shape, type NestedArray } from "./tensor.js";
export { noGrad, grad, isGradEnabled } from "./autograd.js";
export { manualSeed, getRngState, setRngState, type RngState } from "./random.js";
export { OutOfMemoryError } from "./memory/pool.js";
export * from "./ops/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as metrics from "./metrics.js";
export * as data from "./data/index.js";
export * as io from "./io/index.js";
export { fit, evaluate, predict, clipGradNorm, clipGradNormTensor, EarlyStopping, LearningRateSchedule, ModelCheckpoint, type FitOptions, type EpochLog, type Callback } from "./train.js";

export { scope } from "./scope.js";
export { quantizeInt8, dequantizeInt8, quantizeModelInt8, quantizeModelInt8Async, ensemblePredict, freeze, trainable, type Int8Weight, type QuantizedModel } from "./deploy.js";
export * as models from "./models/gpt.js";
export { backendNamed, withBackend } from "./engine.js";
export type { WasmOption, WasmSource, KernelVariant } from "./backends/loader.js";
