export { Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, type SGDOptions, type AdamOptions, type RMSpropOptions, type AdagradOptions } from "./optimizer.js";
// LR schedulers, as torch.optim.lr_scheduler has them (also wg.OneCycle and wg.ReduceLROnPlateau)
export { OneCycle, ReduceLROnPlateau } from "../callbacks.js";
