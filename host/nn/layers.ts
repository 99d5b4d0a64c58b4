// The layers of torch.nn that the seeds use, with PyTorch's parameter names,
// layouts and default initialisation (uniform ±1/√fan_in).

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { Module, parameter } from "./module.js";
import type { Conv2dOptions, Conv1dOptions, ConvTranspose2dOptions } from "../ops/conv.js";
import { paddingRow } from "../ops/embed.js";
import * as F from "./functional.js";
import type { InterpolateOptions } from "./functional.js";
import { checkOptions, checkInt, checkPair, checkNumber, checkBool, checkShape, checkOneOf, shapeStr } from "../ops/util.js";

function uniformParam(shape: number[], bound: number): Tensor {
  return parameter(ops.rand(shape, { lo: -bound, hi: bound }));
}

let deferredLinear: ((inFeatures: number, outFeatures: number, bias: boolean) => Module) | null = null;

/**
 * Builds a model whose every `new Linear(...)` gives `make(in, out, bias)`
 * instead, allocating nothing: how loadPretrained keeps a large model's
 * projections from ever existing in f32 when it loads them as int8 (each
 * placeholder is then replaced by a layer made from its stored weight).
 * @example
 * const seq = wg.nn.deferLinears(() => new wg.nn.Sequential(new wg.nn.Linear(4, 2)), () => new wg.nn.ReLU());
 * String(seq.layers[0]); // "ReLU()"
 */
export function deferLinears<T>(build: () => T, make: (inFeatures: number, outFeatures: number, bias: boolean) => Module): T {
  const prev = deferredLinear;
  deferredLinear = make;
  try {
    return build();
  } finally {
    deferredLinear = prev;
  }
}

/**
 * y = x·Wᵀ + b. weight [out, in], bias [out].
 * @example const fc = new wg.nn.Linear(784, 10); fc.forward(wg.zeros([64, 784])).shape; // [64, 10]
 */
export class Linear extends Module {
  weight!: Tensor;
  bias!: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    // issue 17: a model built under deferLinears gets placeholders, filled one by one by the weight loader
    if (deferredLinear) return deferredLinear(inFeatures, outFeatures, opts?.bias !== false) as unknown as Linear;
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

/**
 * Lookup table [num, dim], initialised N(0, 1) as in PyTorch. With `paddingIdx` that row starts
 * at zeros and gets no gradient (negative counts from the end).
 * @example
 * new wg.nn.Embedding(100, 16).forward(wg.tensor([1, 2], { dtype: "int32" })).shape; // [2, 16]
 * new wg.nn.Embedding(4, 2, { paddingIdx: 0 }).weight.toArray()[0]; // [0, 0]
 */
export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { paddingIdx?: number | null } = {}) {
    super();
    checkInt("Embedding", "numEmbeddings", numEmbeddings, 1);
    checkInt("Embedding", "embeddingDim", embeddingDim, 1);
    // maxNorm, scaleGradByFreq and sparse are not supported: checkOptions names them
    checkOptions("Embedding", opts, ["paddingIdx"]);
    this.paddingIdx = paddingRow("Embedding", opts.paddingIdx, numEmbeddings);
    let w = ops.randn([numEmbeddings, embeddingDim]);
    // + 0 turns the −0 of a negative value times 0 into 0
    if (this.paddingIdx !== null) w = w.mul(ops.ne(ops.arange(numEmbeddings).reshape(numEmbeddings, 1), this.paddingIdx)).add(0);
    this.weight = parameter(w);
  }
  forward(idx: Tensor): Tensor {
    return ops.embedding(idx, this.weight, { paddingIdx: this.paddingIdx });
  }
}

function convInit(shape: number[], fanIn: number, outChannels: number, bias: boolean | undefined): [Tensor, Tensor | null] {
  const bound = 1 / Math.sqrt(fanIn);
  return [uniformParam(shape, bound), bias === false ? null : uniformParam([outChannels], bound)];
}

/**
 * 1-D convolution layer: weight [out, in, k], bias [out] (PyTorch's layout); conv2d over a height of 1.
 * @example const c = new wg.nn.Conv1d(4, 8, 3, 1, 1); c.forward(wg.zeros([2, 4, 10])).shape; // [2, 8, 10]
 */
export class Conv1d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly opts: Conv1dOptions;
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number], stride: number | [number] = 1,
              padding: number | [number] = 0, opts: { dilation?: number | [number]; bias?: boolean } = {}) {
    super();
    checkInt("Conv1d", "inChannels", inChannels, 1);
    checkInt("Conv1d", "outChannels", outChannels, 1);
    // groups and padding modes are not supported: checkOptions names them
    checkOptions("Conv1d", opts, ["dilation", "bias"]);
    checkBool("Conv1d", "bias", opts.bias);
    const k = Array.isArray(kernelSize) && kernelSize.length === 1 ? kernelSize[0] : kernelSize;
    checkInt("Conv1d", "kernelSize", k, 1);
    [this.weight, this.bias] = convInit([outChannels, inChannels, k as number], inChannels * (k as number), outChannels, opts.bias);
    this.opts = { stride, padding, dilation: opts.dilation ?? 1 };
    const one = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);
    checkInt("Conv1d", "stride", one(stride), 1);
    checkInt("Conv1d", "padding", one(padding), 0);
    checkInt("Conv1d", "dilation", one(this.opts.dilation), 1);
  }
  forward(x: Tensor): Tensor {
    return ops.conv1d(x, this.weight, this.bias, this.opts);
  }
}

/**
 * Transposed 2-D convolution layer: weight [in, out, kh, kw], bias [out] (PyTorch's layout).
 * @example const up = new wg.nn.ConvTranspose2d(8, 4, 2, 2); up.forward(wg.zeros([1, 8, 5, 5])).shape; // [1, 4, 10, 10]
 */
export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly opts: ConvTranspose2dOptions;
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], stride: number | [number, number] = 1,
              padding: number | [number, number] = 0,
              opts: { outputPadding?: number | [number, number]; dilation?: number | [number, number]; bias?: boolean } = {}) {
    super();
    checkInt("ConvTranspose2d", "inChannels", inChannels, 1);
    checkInt("ConvTranspose2d", "outChannels", outChannels, 1);
    // groups and padding modes are not supported: checkOptions names them
    checkOptions("ConvTranspose2d", opts, ["outputPadding", "dilation", "bias"]);
    checkBool("ConvTranspose2d", "bias", opts.bias);
    const [kh, kw] = checkPair("ConvTranspose2d", "kernelSize", kernelSize, [0, 0], 1);
    checkPair("ConvTranspose2d", "stride", stride, [1, 1], 1);
    checkPair("ConvTranspose2d", "padding", padding, [0, 0], 0);
    checkPair("ConvTranspose2d", "outputPadding", opts.outputPadding, [0, 0], 0);
    checkPair("ConvTranspose2d", "dilation", opts.dilation, [1, 1], 1);
    // PyTorch's fan-in of this layout is weight.size(1)·kh·kw
    [this.weight, this.bias] = convInit([inChannels, outChannels, kh, kw], outChannels * kh * kw, outChannels, opts.bias);
    this.opts = { stride, padding, outputPadding: opts.outputPadding ?? 0, dilation: opts.dilation ?? 1 };
  }
  forward(x: Tensor, ...rest: unknown[]): Tensor {
    if (rest.length && rest[0] !== undefined) throw new Error("ConvTranspose2d: forward(x, outputSize) is not supported: set outputPadding instead");
    return ops.convTranspose2d(x, this.weight, this.bias, this.opts);
  }
}

/**
 * Group normalisation over numGroups groups of channels; weight and bias [numChannels].
 * @example new wg.nn.GroupNorm(2, 4).forward(wg.randn([3, 4, 5])).shape; // [3, 4, 5]
 */
export class GroupNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5, opts: { affine?: boolean } = {}) {
    super();
    checkInt("GroupNorm", "numGroups", numGroups, 1);
    checkInt("GroupNorm", "numChannels", numChannels, 1);
    checkNumber("GroupNorm", "eps", eps, 0);
    checkOptions("GroupNorm", opts, ["affine"]);
    checkBool("GroupNorm", "affine", opts.affine);
    if (numChannels % numGroups !== 0) throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    const affine = opts.affine !== false;
    this.weight = affine ? parameter(ops.ones([numChannels])) : null;
    this.bias = affine ? parameter(ops.zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numChannels) throw new Error(`GroupNorm: input must be [N, ${this.numChannels}, …], got ${shapeStr(x.shape)}`);
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}

/**
 * RMS normalisation over the trailing dims, as torch 2.x's nn.RMSNorm: eps defaults (null) to
 * float32's epsilon; weight (ones) unless elementwiseAffine is false.
 * @example new wg.nn.RMSNorm(8).forward(wg.randn([2, 8])).shape; // [2, 8]
 */
export class RMSNorm extends Module {
  weight: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly eps: number | null = null, opts: { elementwiseAffine?: boolean } = {}) {
    super();
    checkOptions("RMSNorm", opts, ["elementwiseAffine"]);
    if (eps !== null) checkNumber("RMSNorm", "eps", eps, 0); // an options object in eps's place lands here too
    checkBool("RMSNorm", "elementwiseAffine", opts.elementwiseAffine);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    checkShape("RMSNorm", this.normalizedShape, "normalizedShape");
    this.weight = opts.elementwiseAffine !== false ? parameter(ops.ones(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}

/** Leaky ReLU: x where x > 0, else negativeSlope·x. @example new wg.nn.LeakyReLU(0.1).forward(wg.tensor([-1, 1])).toArray(); // [-0.1, 1] */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkNumber("LeakyReLU", "negativeSlope", negativeSlope);
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}

/**
 * Resizes spatial dims (F.interpolate): give size or scaleFactor, mode "nearest" (default),
 * "nearest-exact", "linear" or "bilinear", alignCorners for the linear modes.
 * @example new wg.nn.Upsample({ scaleFactor: 2 }).forward(wg.zeros([1, 3, 4, 4])).shape; // [1, 3, 8, 8]
 */
export class Upsample extends Module {
  readonly opts: InterpolateOptions;
  constructor(opts: InterpolateOptions = {}) {
    super();
    checkOptions("Upsample", opts, ["size", "scaleFactor", "mode", "alignCorners"]);
    if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new Error("Upsample: give exactly one of size and scaleFactor");
    this.opts = { ...opts };
  }
  forward(x: Tensor): Tensor {
    return F.interpolate(x, this.opts);
  }
}

/** Names a container's entries cannot take: the module's own fields and methods. */
function checkChildName(who: string, m: Module, key: unknown): string {
  if (typeof key !== "string" || key === "" || key.includes(".")) throw new Error(`${who}: key must be a non-empty string without ".", got ${JSON.stringify(key) ?? String(key)}`);
  if (key in m && !((m as any)[key] instanceof Module)) throw new Error(`${who}: key ${JSON.stringify(key)} is already an attribute`);
  return key;
}
function checkModule(who: string, v: unknown): Module {
  if (!(v instanceof Module)) throw new Error(`${who}: expected a Module, got ${v === null ? "null" : typeof v}`);
  return v;
}

/**
 * A list of sub-modules, registered so that parameters and state-dict names are PyTorch's
 * ("layers.0.weight" for a field `layers`). It has no forward of its own.
 * @example
 * class Net extends wg.nn.Module {
 *   layers = new wg.nn.ModuleList([new wg.nn.Linear(4, 4), new wg.nn.Linear(4, 2)]);
 *   forward(x: wg.Tensor) { for (const l of this.layers) x = l.forward(x); return x; }
 * }
 * Object.keys(new Net().stateDict())[0]; // "layers.0.weight"
 */
export class ModuleList extends Module {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  get length(): number {
    return Object.keys(this).filter((k) => /^\d+$/.test(k)).length;
  }
  /** The i-th module (negative counts from the end). */
  at(i: number): Module {
    const n = this.length;
    checkInt("ModuleList", "index", i, -n, n - 1);
    return (this as any)[i < 0 ? i + n : i];
  }
  append(m: Module): this {
    (this as any)[this.length] = checkModule("ModuleList", m);
    return this;
  }
  extend(ms: Iterable<Module>): this {
    for (const m of ms) this.append(m);
    return this;
  }
  *[Symbol.iterator](): Iterator<Module> {
    for (let i = 0; i < this.length; i++) yield (this as any)[i];
  }
  forward(): never {
    throw new Error("ModuleList: has no forward(); call its modules");
  }
}

/**
 * Sub-modules by name, in insertion order, registered as PyTorch's ModuleDict ("blocks.enc.weight").
 * It has no forward of its own.
 * @example
 * const d = new wg.nn.ModuleDict({ enc: new wg.nn.Linear(4, 2), act: new wg.nn.ReLU() });
 * Object.keys(d.stateDict()); // ["enc.weight", "enc.bias"]
 */
export class ModuleDict extends Module {
  private readonly _order: string[] = [];
  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    const entries = Symbol.iterator in Object(modules) ? (modules as Iterable<[string, Module]>) : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }
  set(key: string, m: Module): this {
    checkChildName("ModuleDict", this, key);
    checkModule("ModuleDict", m);
    if (!this._order.includes(key)) this._order.push(key);
    (this as any)[key] = m;
    return this;
  }
  get(key: string): Module | undefined {
    return this._order.includes(key) ? (this as any)[key] : undefined;
  }
  has(key: string): boolean {
    return this._order.includes(key);
  }
  /** Removes and returns the module under key (PyTorch's pop). */
  pop(key: string): Module {
    const i = this._order.indexOf(key);
    if (i < 0) throw new Error(`ModuleDict: no key ${JSON.stringify(key)}`);
    const m = (this as any)[key];
    this._order.splice(i, 1);
    delete (this as any)[key];
    return m;
  }
  keys(): string[] {
    return [...this._order];
  }
  values(): Module[] {
    return this._order.map((k) => (this as any)[k]);
  }
  items(): [string, Module][] {
    return this._order.map((k) => [k, (this as any)[k]]);
  }
  get size(): number {
    return this._order.length;
  }
  override namedChildren(): [string, Module][] {
    return this.items();
  }
  forward(): never {
    throw new Error("ModuleDict: has no forward(); call its modules");
  }
}
