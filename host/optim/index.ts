export { Optimizer, SGD, Adam, AdamW, type SGDOptions, type AdamOptions } from "./optimizer.js";
