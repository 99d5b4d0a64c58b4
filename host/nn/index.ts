// torch.nn's shape: layers, Module, and the functional forms.
export { Module, parameter, isParameter } from "./module.js";
export * from "./layers.js";
export * as functional from "./functional.js";
export { crossEntropy, binaryCrossEntropy, binaryCrossEntropyWithLogits, mseLoss, nllLoss, type CrossEntropyOptions, type InterpolateOptions } from "./functional.js";
export { BatchNorm2d, BatchNorm1d, type BatchNormOptions } from "./batchnorm.js";
export { BasicBlock } from "./residual.js";
export { LSTM, GRU, type RecurrentOptions, type LSTMOptions } from "./recurrent.js";
export {
  MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer,
  PositionalEncoding, LearnedPositionalEmbedding, type AttentionCallOptions, type TransformerLayerOptions, type TransformerOptions, type DecoderCallOptions,
} from "./transformer.js";
// issue 16 item 2: int8 layers (dynamic quantisation)
export { QuantizedLinear, QuantizedConv2d } from "./quantized.js";
