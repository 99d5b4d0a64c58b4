// torch.nn's shape: layers, Module, and the functional forms.
export { Module, parameter, isParameter } from "./module.js";
export * from "./layers.js";
export * as functional from "./functional.js";
export { crossEntropy, binaryCrossEntropy, binaryCrossEntropyWithLogits, mseLoss, nllLoss } from "./functional.js";
