// The layers of torch.nn that the seeds use, with PyTorch's parameter names,
// layouts and default initialisation (uniform ±1/√fan_in).

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { Module, parameter } from "./module.js";
import type { Conv2dOptions } from "../ops/conv.js";
import { checkOptions, checkInt, checkPair, checkNumber, checkBool, checkShape, checkOneOf } from "../ops/util.js";

function uniformParam(shape: number[], bound: number): Tensor {
  return parameter(ops.rand(shape, { lo: -bound, hi: bound }));
}

/**
 * y = x·Wᵀ + b. weight [out, in], bias [out].
 * @example const fc = new wg.nn.Linear(784, 10); fc.forward(wg.zeros([64, 784])).shape; // [64, 10]
 */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    checkInt("Linear", "inFeatures", inFeatures, 1);
    checkInt("Linear", "outFeatures", outFeatures, 1);
    checkOptions("Linear", opts, ["bias"]);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParam([outFeatures, inFeatures], bound);
    this.bias = opts.bias === false ? null : uniformParam([outFeatures], bound);
  }
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }
}

/**
 * 2-D convolution layer. weight [out, in/groups, kh, kw], bias [out].
 * @example
 * const c = new wg.nn.Conv2d(1, 16, 3, 1); c.forward(wg.zeros([2, 1, 28, 28])).shape; // [2, 16, 26, 26]
 * new wg.nn.Conv2d(8, 8, 3, 1, 1, { groups: 8 }).weight.shape; // [8, 1, 3, 3]
 */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly opts: Conv2dOptions;
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], stride: number | [number, number] = 1,
              padding: number | [number, number] = 0, opts: { dilation?: number | [number, number]; bias?: boolean; groups?: number } = {}) {
    super();
    checkInt("Conv2d", "inChannels", inChannels, 1);
    checkInt("Conv2d", "outChannels", outChannels, 1);
    checkOptions("Conv2d", opts, ["dilation", "bias", "groups"]);
    const groups = opts.groups ?? 1;
    checkInt("Conv2d", "groups", groups, 1);
    if (inChannels % groups || outChannels % groups) throw new Error(`Conv2d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    const [kh, kw] = checkPair("Conv2d", "kernelSize", kernelSize, [0, 0], 1);
    checkPair("Conv2d", "stride", stride, [1, 1], 1);
    checkPair("Conv2d", "padding", padding, [0, 0], 0);
    checkPair("Conv2d", "dilation", opts.dilation, [1, 1], 1);
    const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
    this.weight = uniformParam([outChannels, inChannels / groups, kh, kw], bound);
    this.bias = opts.bias === false ? null : uniformParam([outChannels], bound);
    this.opts = groups === 1 ? { stride, padding, dilation: opts.dilation ?? 1 } : { stride, padding, dilation: opts.dilation ?? 1, groups };
  }
  forward(x: Tensor): Tensor {
    return ops.conv2d(x, this.weight, this.bias, this.opts);
  }
}

/**
 * Max pooling layer; opts.ceilMode as maxPool2d's.
 * @example
 * new wg.nn.MaxPool2d(2).forward(wg.zeros([1, 1, 4, 4])).shape; // [1, 1, 2, 2]
 * new wg.nn.MaxPool2d(2, 2, 0, { ceilMode: true }).forward(wg.zeros([1, 1, 5, 5])).shape; // [1, 1, 3, 3]
 */
export class MaxPool2d extends Module {
  readonly ceilMode: boolean;
  constructor(readonly kernelSize: number | [number, number], readonly stride?: number | [number, number], readonly padding: number | [number, number] = 0,
              opts: { ceilMode?: boolean } = {}) {
    super();
    checkOptions("MaxPool2d", opts, ["ceilMode"]);
    this.ceilMode = opts.ceilMode ?? false;
  }
  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode });
  }
}

/**
 * Average pooling layer; opts.ceilMode and countIncludePad as avgPool2d's.
 * @example
 * new wg.nn.AvgPool2d(2).forward(wg.ones([1, 1, 4, 4])).shape; // [1, 1, 2, 2]
 * new wg.nn.AvgPool2d(2, 2, 0, { ceilMode: true }).forward(wg.ones([1, 1, 5, 5])).shape; // [1, 1, 3, 3]
 */
export class AvgPool2d extends Module {
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  constructor(readonly kernelSize: number | [number, number], readonly stride?: number | [number, number], readonly padding: number | [number, number] = 0,
              opts: { ceilMode?: boolean; countIncludePad?: boolean } = {}) {
    super();
    checkOptions("AvgPool2d", opts, ["ceilMode", "countIncludePad"]);
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
  }
  forward(x: Tensor): Tensor {
    return ops.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }
}

/** ReLU. @example new wg.nn.ReLU().forward(wg.tensor([-1, 1])).toArray(); // [0, 1] */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}
/** Sigmoid. @example new wg.nn.Sigmoid().forward(wg.tensor([0])).item(); // 0.5 */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}
/** Tanh. @example new wg.nn.Tanh().forward(wg.tensor([0])).item(); // 0 */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

/** GELU (erf form by default). @example new wg.nn.GELU().forward(wg.tensor([0])).item(); // 0 */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
    checkOneOf("GELU", "approximate", approximate, ["none", "tanh"]);
  }
  forward(x: Tensor): Tensor {
    return ops.gelu(x, this.approximate);
  }
}

/** Flattens dims startDim..endDim (default: all but the batch). @example new wg.nn.Flatten().forward(wg.zeros([2, 3, 4])).shape; // [2, 12] */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.flatten(x, this.startDim, this.endDim);
  }
}

/** Dropout, active in training mode only. @example new wg.nn.Dropout(0.1).eval().forward(x); // x unchanged */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkNumber("Dropout", "p", p, 0, 1, false, true);
  }
  forward(x: Tensor): Tensor {
    return ops.dropout(x, this.p, this.training);
  }
}

/**
 * Layers applied in order; state-dict names are the indices ("0.weight"), as in PyTorch.
 * @example const net = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 1));
 */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => ((this as any)[i] = l));
  }
  get layers(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }
  forward(x: Tensor): Tensor {
    for (const l of this.layers) x = l.forward(x);
    return x;
  }
}

/** Layer normalisation over the trailing dims. @example new wg.nn.LayerNorm(8).forward(wg.randn([2, 8])).shape; // [2, 8] */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly eps = 1e-5, opts: { elementwiseAffine?: boolean } = {}) {
    super();
    checkOptions("LayerNorm", opts, ["elementwiseAffine"]);
    checkNumber("LayerNorm", "eps", eps, 0); // an options object in eps's place lands here too
    checkBool("LayerNorm", "elementwiseAffine", opts.elementwiseAffine);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    checkShape("LayerNorm", this.normalizedShape, "normalizedShape");
    const affine = opts.elementwiseAffine !== false;
    this.weight = affine ? parameter(ops.ones(this.normalizedShape)) : null;
    this.bias = affine ? parameter(ops.zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return ops.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/** Lookup table [num, dim], initialised N(0, 1) as in PyTorch. @example new wg.nn.Embedding(100, 16).forward(wg.tensor([1, 2], { dtype: "int32" })).shape; // [2, 16] */
export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    this.weight = parameter(ops.randn([numEmbeddings, embeddingDim]));
  }
  forward(idx: Tensor): Tensor {
    return ops.embedding(idx, this.weight);
  }
}
