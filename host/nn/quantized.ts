// Dynamically quantised layers (PyTorch's torch.ao.nn.quantized.dynamic): int8
// weights with one scale per output channel, activations quantised per row at
// run time, the int8 GEMM with i32 sums (host/ops/quant.ts). Inference only.

import { Module } from "./module.js";
import { Linear, Conv2d } from "./layers.js";
import { Tensor } from "../tensor.js";
import { noGrad, isGradEnabled } from "../autograd.js";
/** Weight-only int8 rows for decoding, beside the int8 GEMM's panels (host/ops/quant.ts, Int8Rows). */
export interface Int8DecodeOptions {
  decode?: boolean;
  group?: number;
}

import { quantizeWeightInt8, int8Linear, int8Conv2d, type Int8Packed } from "../ops/quant.js";
import { checkPair } from "../ops/util.js";
import { scope } from "../scope.js";

/** Inference only: an error that names the layer when a gradient would be needed. */
function checkInference(m: Module, x: Tensor, name: string): void {
  if (isGradEnabled() && (m.training || x.requiresGrad)) {
    throw new Error(`${name}: a quantised layer is inference only (its int8 weights have no gradient): ` +
      `call model.eval() (or run it under wg.noGrad()), and train the float model before wg.quantizeDynamic`);
  }
}

/** The layer's bias as a buffer of its own (a copy: the float layer stays usable). */
function biasCopy(b: Tensor | null): Tensor | null {
  return b ? noGrad(() => b.clone()).keep() : null;
}

/**
 * Linear with int8 weights (per-output-channel scales) and activations
 * quantised per row at run time: y = x·Wᵀ + b through the int8 GEMM.
 * Built from a float Linear; inference only (call eval()).
 * @example
 * const fc = new wg.nn.Linear(32, 8);
 * const q = wg.nn.QuantizedLinear.from(fc).eval();
 * const x = wg.randn([4, 32]);
 * q.forward(x).shape; // [4, 8]
 * q.forward(x).sub(fc.forward(x)).abs().max().item() < 0.05; // true
 */
export class QuantizedLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The packed int8 weight (int32 words), scales and Σ of each channel's int8 weights. */
  readonly packed!: Tensor;
  readonly scales!: Tensor;
  readonly wsum!: Tensor;
  readonly bias: Tensor | null;
  /** A ReLU fused into the epilogue (set by quantizeDynamic when a ReLU follows in a Sequential). */
  relu = false;
  private readonly w: Int8Packed;

  /**
   * `decode` also keeps the weight-only int8 rows (1 byte a weight more, scales per
   * `group` inputs, 0: per channel) that 1–4-row inputs stream (batch-1 decoding).
   */
  constructor(weight: Tensor, bias: Tensor | null = null, opts: Int8DecodeOptions = {}) {
    super();
    if (weight.rank !== 2) throw new Error(`QuantizedLinear: weight must be [out, in], got [${weight.shape}]`);
    this.w = quantizeWeightInt8(weight, opts);
    this.inFeatures = this.w.inFeatures;
    this.outFeatures = this.w.outFeatures;
    this.registerBuffer("packed", this.w.packed);
    this.registerBuffer("scales", this.w.scales);
    this.registerBuffer("wsum", this.w.wsum);
    if (this.w.rows) {
      this.registerBuffer("rows", this.w.rows.q);
      this.registerBuffer("rowScales", this.w.rows.scales);
    }
    this.bias = biasCopy(bias);
    if (this.bias) this.registerBuffer("bias", this.bias);
  }

  /** Quantises a float Linear (its weights are read, not changed). @example wg.nn.QuantizedLinear.from(new wg.nn.Linear(4, 2)).outFeatures; // 2 */
  static from(l: Linear, opts: Int8DecodeOptions = {}): QuantizedLinear {
    if (!(l instanceof Linear)) throw new Error("QuantizedLinear.from: expects an nn.Linear");
    return new QuantizedLinear(l.weight, l.bias, opts).eval() as QuantizedLinear;
  }

  /**
   * Quantises a layer whose weight is stored [in, out] (y = x·W + b: GPT-2's
   * Conv1D) as the Linear it is, W transposed.
   * @example wg.nn.QuantizedLinear.fromInOut(wg.randn([6, 3]), null).outFeatures; // 3
   */
  static fromInOut(weight: Tensor, bias: Tensor | null, opts: Int8DecodeOptions = {}): QuantizedLinear {
    if (weight.rank !== 2) throw new Error(`QuantizedLinear.fromInOut: weight must be [in, out], got [${weight.shape}]`);
    return scope(() => new QuantizedLinear(noGrad(() => weight.transpose(0, 1)), bias, opts).eval() as QuantizedLinear);
  }

  forward(x: Tensor): Tensor {
    checkInference(this, x, "QuantizedLinear");
    return int8Linear(x, this.w, this.bias, { relu: this.relu });
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, dtype=qint8, qscheme=per_channel_symmetric${this.relu ? ", relu=True" : ""}`;
  }
}

/**
 * Conv2d (groups 1) with int8 weights (per-output-channel scales) through
 * im2col and the int8 GEMM, each output position's inputs quantised at run
 * time. Built from a float Conv2d; inference only (call eval()).
 * @example
 * const conv = new wg.nn.Conv2d(3, 8, 3, 1, 1);
 * const q = wg.nn.QuantizedConv2d.from(conv).eval();
 * const x = wg.randn([2, 3, 8, 8]);
 * q.forward(x).shape; // [2, 8, 8, 8]
 * q.forward(x).sub(conv.forward(x)).abs().max().item() < 0.1; // true
 */
export class QuantizedConv2d extends Module {
  readonly packed!: Tensor;
  readonly scales!: Tensor;
  readonly wsum!: Tensor;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  /** A ReLU fused into the epilogue (set by quantizeDynamic when a ReLU follows in a Sequential). */
  relu = false;
  private readonly w: Int8Packed;

  constructor(weight: Tensor, bias: Tensor | null = null, opts: { stride?: number | [number, number]; padding?: number | [number, number]; dilation?: number | [number, number] } = {}) {
    super();
    if (weight.rank !== 4) throw new Error(`QuantizedConv2d: weight must be [Cout, C, KH, KW], got [${weight.shape}]`);
    this.stride = checkPair("QuantizedConv2d", "stride", opts.stride, [1, 1], 1);
    this.padding = checkPair("QuantizedConv2d", "padding", opts.padding, [0, 0], 0);
    this.dilation = checkPair("QuantizedConv2d", "dilation", opts.dilation, [1, 1], 1);
    this.w = quantizeWeightInt8(weight);
    this.registerBuffer("packed", this.w.packed);
    this.registerBuffer("scales", this.w.scales);
    this.registerBuffer("wsum", this.w.wsum);
    this.bias = biasCopy(bias);
    if (this.bias) this.registerBuffer("bias", this.bias);
  }

  /** Quantises a float Conv2d (groups 1; its weights are read, not changed). @example wg.nn.QuantizedConv2d.from(new wg.nn.Conv2d(1, 4, 3)).outChannels; // 4 */
  static from(c: Conv2d): QuantizedConv2d {
    if (!(c instanceof Conv2d)) throw new Error("QuantizedConv2d.from: expects an nn.Conv2d");
    if ((c.opts.groups ?? 1) !== 1) throw new Error(`QuantizedConv2d.from: groups ${c.opts.groups} is not supported (groups 1 only); leave that layer in float`);
    return new QuantizedConv2d(c.weight, c.bias, c.opts as { stride?: number; padding?: number; dilation?: number }).eval() as QuantizedConv2d;
  }

  get outChannels(): number { return this.w.outFeatures; }
  get inChannels(): number { return this.w.shape[1]; }

  forward(x: Tensor): Tensor {
    checkInference(this, x, "QuantizedConv2d");
    return int8Conv2d(x, this.w, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, relu: this.relu });
  }

  override extraRepr(): string {
    const [, , kh, kw] = this.w.shape;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${kh}, ${kw}), stride=(${this.stride}), padding=(${this.padding}), dtype=qint8${this.relu ? ", relu=True" : ""}`;
  }
}
