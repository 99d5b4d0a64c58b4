// Attention layers with PyTorch's names and layouts: MultiheadAttention
// (in_proj_weight, in_proj_bias, out_proj.*), TransformerEncoderLayer /
// TransformerDecoderLayer (self_attn, multihead_attn, linear1, linear2,
// norm1..3), their stacks (layers.N.*, norm.*), Transformer (encoder.*,
// decoder.*), and sinusoidal and learned positional encodings.
//
// Attention without masks (or with only a causal one) and without attention
// dropout runs through the fused flash-style kernel; explicit masks, key
// padding masks, attention dropout and needWeights take the composed path
// (scores, softmax, dropout, product), whose gradient comes from those ops.

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { shapeStr, checkOptions, checkInt, checkNumber, checkBool, checkProb } from "../ops/util.js";
import { Module, parameter } from "./module.js";
import { Linear, LayerNorm, Dropout } from "./layers.js";

/** A large negative score for masked positions (finite, so a fully masked row gives a uniform average instead of NaN). */
const MASKED = -1e9;

export interface AttentionCallOptions {
  /**
   * [Sq, Sk] or [batch·heads, Sq, Sk]: float32 masks are added to the scores
   * (−Infinity forbids), int32 masks forbid where nonzero (PyTorch's boolean True).
   */
  attnMask?: Tensor | null;
  /** [batch, Sk]: int32 nonzero (or float32 added) marks padding keys to ignore. */
  keyPaddingMask?: Tensor | null;
  /** Forbid each query from attending to later keys. */
  isCausal?: boolean;
  /**
   * Also return the attention weights, as applied to the values (after
   * attention dropout), with their gradient: averaged over heads ([batch, Sq, Sk]),
   * or per head ([batch, heads, Sq, Sk]) with averageAttnWeights: false.
   */
  needWeights?: boolean;
  /** PyTorch's average_attn_weights (default true): average the returned weights over heads. */
  averageAttnWeights?: boolean;
}

// Option names each call knows: an unknown one is an error, never ignored (issue 13)
const ATTENTION_CALL = ["attnMask", "keyPaddingMask", "isCausal", "needWeights", "averageAttnWeights"];
const ENCODER_LAYER_CALL = ["srcMask", "srcKeyPaddingMask", "isCausal"];
const ENCODER_CALL = ["mask", "srcKeyPaddingMask", "isCausal"];
const DECODER_CALL = ["tgtMask", "memoryMask", "tgtKeyPaddingMask", "memoryKeyPaddingMask", "tgtIsCausal", "memoryIsCausal"];
const LAYER_OPTIONS = ["dimFeedforward", "dropout", "activation", "layerNormEps", "batchFirst", "normFirst", "bias"];

/** Checks a forward call's options: known names, masks that are tensors, flags that are booleans. */
function checkCall(who: string, o: object, known: readonly string[]): void {
  checkOptions(who, o, known);
  for (const [k, v] of Object.entries(o)) {
    if (/Causal$|needWeights|averageAttnWeights/.test(k)) checkBool(who, k, v);
    else if (v !== undefined && v !== null && !(v instanceof Tensor)) throw new Error(`${who}: ${k} must be a tensor or null, got ${typeof v}`);
  }
}

/** xavier_uniform_ (bound √(6/(fan_in + fan_out))). */
function xavier(shape: [number, number]): Tensor {
  const bound = Math.sqrt(6 / (shape[0] + shape[1]));
  return parameter(ops.rand(shape, { lo: -bound, hi: bound }));
}

/** PyTorch's mask forms as additive scores: int32 (boolean) nonzero → MASKED, float32 added as is (−Infinity clamped to MASKED); tensor ops, never a read on the host. */
function additive(m: Tensor): Tensor {
  return m.dtype === "int32" ? ops.ne(m, 0).mul(MASKED) : ops.maximum(m, MASKED);
}

/**
 * The additive masks of a call, each broadcastable to the scores [B, heads, Sq, Sk]
 * (attnMask [Sq, Sk] or [B·heads, Sq, Sk], keyPaddingMask as [B, 1, 1, Sk], the
 * causal mask [Sq, Sk]). Built with tensor ops from the masks where they live
 * (on WebGPU, on the GPU); only the causal mask, which depends on shapes alone, is made on the host.
 */
function additiveMasks(B: number, heads: number, Sq: number, Sk: number, o: AttentionCallOptions): Tensor[] {
  const { attnMask, keyPaddingMask } = o;
  const masks: Tensor[] = [];
  if (attnMask) {
    const ok = (attnMask.rank === 2 && attnMask.shape[0] === Sq && attnMask.shape[1] === Sk) ||
      (attnMask.rank === 3 && attnMask.shape[0] === B * heads && attnMask.shape[1] === Sq && attnMask.shape[2] === Sk);
    if (!ok) throw new Error(`MultiheadAttention: attnMask ${shapeStr(attnMask.shape)} must be [${Sq}, ${Sk}] or [${B * heads}, ${Sq}, ${Sk}]`);
    masks.push(additive(attnMask.rank === 3 ? attnMask.reshape(B, heads, Sq, Sk) : attnMask));
  }
  if (keyPaddingMask) {
    if (keyPaddingMask.rank !== 2 || keyPaddingMask.shape[0] !== B || keyPaddingMask.shape[1] !== Sk) {
      throw new Error(`MultiheadAttention: keyPaddingMask ${shapeStr(keyPaddingMask.shape)} must be [${B}, ${Sk}]`);
    }
    masks.push(additive(keyPaddingMask.reshape(B, 1, 1, Sk)));
  }
  if (o.isCausal) {
    // aligned bottom-right, as the fused kernel does
    const m = new Float32Array(Sq * Sk);
    for (let q = 0; q < Sq; q++) for (let k = q + Sk - Sq + 1; k < Sk; k++) m[q * Sk + k] = MASKED;
    masks.push(ops.tensor(m, { shape: [Sq, Sk] }));
  }
  return masks;
}

/**
 * torch.nn.MultiheadAttention: in_proj_weight [3E, E], in_proj_bias [3E],
 * out_proj (Linear E→E). forward(query, key, value, opts) returns
 * [output, weights | null]; inputs are [seq, batch, E] ([batch, seq, E] with
 * batchFirst) or unbatched [seq, E]. Unlike PyTorch, weights are only
 * computed when asked for (needWeights: true).
 *
 * @example
 * const mha = new wg.nn.MultiheadAttention(16, 4, { batchFirst: true });
 * const x = wg.randn([2, 5, 16]);
 * const [y] = mha.forward(x, x, x, { isCausal: true });
 * y.shape; // [2, 5, 16]
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Tensor;
  in_proj_bias: Tensor | null;
  out_proj: Linear;
  readonly headDim: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: { dropout?: number; bias?: boolean; batchFirst?: boolean } = {}) {
    super();
    checkInt("MultiheadAttention", "embedDim", embedDim, 1);
    checkInt("MultiheadAttention", "numHeads", numHeads, 1);
    checkOptions("MultiheadAttention", opts, ["dropout", "bias", "batchFirst"]);
    checkProb("MultiheadAttention", "dropout", opts.dropout);
    checkBool("MultiheadAttention", "bias", opts.bias);
    checkBool("MultiheadAttention", "batchFirst", opts.batchFirst);
    if (embedDim % numHeads !== 0) throw new Error(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.in_proj_weight = xavier([3 * embedDim, embedDim]);
    this.in_proj_bias = opts.bias === false ? null : parameter(ops.zeros([3 * embedDim]));
    this.out_proj = new Linear(embedDim, embedDim, { bias: opts.bias !== false });
    if (this.out_proj.bias) this.out_proj.bias.fill_(0);
  }

  forward(query: Tensor, key: Tensor, value: Tensor, opts: AttentionCallOptions = {}): [Tensor, Tensor | null] {
    checkCall("MultiheadAttention.forward", opts, ATTENTION_CALL);
    const E = this.embedDim, nh = this.numHeads, hd = this.headDim;
    for (const [t, n] of [[query, "query"], [key, "key"], [value, "value"]] as const) {
      if ((t.rank !== 3 && t.rank !== 2) || t.shape[t.rank - 1] !== E || t.rank !== query.rank) {
        throw new Error(`MultiheadAttention: ${n} must be ${this.batchFirst ? "[batch, seq" : "[seq, batch"}, ${E}] (or unbatched [seq, ${E}]), got ${shapeStr(t.shape)}`);
      }
    }
    const batched = query.rank === 3;
    // to [B, S, E]
    const bsE = (t: Tensor) => (!batched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const q0 = bsE(query), k0 = bsE(key), v0 = bsE(value);
    const B = q0.shape[0], Sq = q0.shape[1], Sk = k0.shape[1];
    if (k0.shape[0] !== B || v0.shape[0] !== B || v0.shape[1] !== Sk) {
      throw new Error(`MultiheadAttention: query ${shapeStr(query.shape)}, key ${shapeStr(key.shape)}, value ${shapeStr(value.shape)} disagree on batch or key length`);
    }
    const W = this.in_proj_weight, b = this.in_proj_bias;
    let q: Tensor, k: Tensor, v: Tensor;
    if (query === key && key === value) {
      const qkv = ops.linear(q0, W, b); // one GEMM for self-attention
      [q, k, v] = [0, 1, 2].map((i) => qkv.slice(2, i * E, (i + 1) * E));
    } else {
      const part = (i: number) => [W.slice(0, i * E, (i + 1) * E), b ? b.slice(0, i * E, (i + 1) * E) : null] as const;
      const [wq, bq] = part(0), [wk, bk] = part(1), [wv, bv] = part(2);
      q = ops.linear(q0, wq, bq);
      if (key === value) {
        const kv = ops.linear(k0, W.slice(0, E, 3 * E), b ? b.slice(0, E, 3 * E) : null);
        k = kv.slice(2, 0, E);
        v = kv.slice(2, E, 2 * E);
      } else {
        k = ops.linear(k0, wk, bk);
        v = ops.linear(v0, wv, bv);
      }
    }
    const heads = (t: Tensor, S: number) => t.reshape(B, S, nh, hd).permute(0, 2, 1, 3); // [B, nh, S, hd]
    const qh = heads(q, Sq), kh = heads(k, Sk), vh = heads(v, Sk);
    const dropP = this.training ? this.dropout : 0;
    const composed = !!opts.attnMask || !!opts.keyPaddingMask || dropP > 0 || !!opts.needWeights;
    let ctx: Tensor, weights: Tensor | null = null;
    if (!composed) {
      ctx = ops.scaledDotProductAttention(qh, kh, vh, { causal: !!opts.isCausal });
    } else {
      let scores = qh.matmul(kh.transpose(-2, -1)).mul(1 / Math.sqrt(hd)); // [B, nh, Sq, Sk]
      for (const mask of additiveMasks(B, nh, Sq, Sk, opts)) scores = scores.add(mask);
      const p = ops.dropout(scores.softmax(-1), dropP, dropP > 0);
      // as PyTorch: the weights returned are those applied (after dropout), with their gradient
      if (opts.needWeights) weights = opts.averageAttnWeights === false ? p : p.mean(1);
      ctx = p.matmul(vh);
    }
    let y = this.out_proj.forward(ctx.permute(0, 2, 1, 3).reshape(B, Sq, E));
    if (!batched) {
      y = y.reshape(Sq, E);
      if (weights) weights = weights.reshape(...weights.shape.slice(1));
    } else if (!this.batchFirst) y = y.transpose(0, 1);
    return [y, weights];
  }
}

export type Activation = "relu" | "gelu" | ((x: Tensor) => Tensor);

function activate(a: Activation, x: Tensor): Tensor {
  return a === "relu" ? x.relu() : a === "gelu" ? x.gelu() : a(x);
}

export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before attention and feed-forward) instead of post-norm. */
  normFirst?: boolean;
  bias?: boolean;
}

function layerDefaults(who: string, o: TransformerLayerOptions): Required<TransformerLayerOptions> {
  checkOptions(who, o, LAYER_OPTIONS);
  if (o.dimFeedforward !== undefined) checkInt(who, "dimFeedforward", o.dimFeedforward, 1);
  checkProb(who, "dropout", o.dropout);
  if (o.activation !== undefined && o.activation !== "relu" && o.activation !== "gelu" && typeof o.activation !== "function") {
    throw new Error(`${who}: activation must be "relu", "gelu" or a function, got ${JSON.stringify(o.activation)}`);
  }
  if (o.layerNormEps !== undefined) checkNumber(who, "layerNormEps", o.layerNormEps, 0);
  for (const k of ["batchFirst", "normFirst", "bias"] as const) checkBool(who, k, o[k]);
  return {
    dimFeedforward: o.dimFeedforward ?? 2048, dropout: o.dropout ?? 0.1, activation: o.activation ?? "relu",
    layerNormEps: o.layerNormEps ?? 1e-5, batchFirst: o.batchFirst ?? false, normFirst: o.normFirst ?? false, bias: o.bias ?? true,
  };
}

/** One residual sub-block: x + f(norm(x)) (pre-norm, PyTorch's norm_first) or norm(x + f(x)). */
function residual(x: Tensor, norm: LayerNorm, normFirst: boolean, f: (h: Tensor) => Tensor): Tensor {
  return normFirst ? x.add(f(norm.forward(x))) : norm.forward(x.add(f(x)));
}

/** The feed-forward sub-block both layers share: out(linear2(dropout(act(linear1(x))))). */
function feedForward(l: { linear1: Linear; linear2: Linear; dropout: Dropout; config: Required<TransformerLayerOptions> }, out: Dropout, x: Tensor): Tensor {
  return out.forward(l.linear2.forward(l.dropout.forward(activate(l.config.activation, l.linear1.forward(x)))));
}

/**
 * torch.nn.TransformerEncoderLayer: self-attention and a feed-forward block,
 * each with dropout, a residual connection and LayerNorm (after, or before
 * with normFirst). forward(src, { srcMask, srcKeyPaddingMask, isCausal }).
 *
 * @example
 * const layer = new wg.nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
 * layer.forward(wg.randn([2, 5, 16])).shape; // [2, 5, 16]
 */
export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly config: Required<TransformerLayerOptions>;
  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    const c = (this.config = layerDefaults(new.target.name, opts));
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: c.dropout, bias: c.bias, batchFirst: c.batchFirst });
    this.linear1 = new Linear(dModel, c.dimFeedforward, { bias: c.bias });
    this.dropout = new Dropout(c.dropout);
    this.linear2 = new Linear(c.dimFeedforward, dModel, { bias: c.bias });
    this.norm1 = new LayerNorm(dModel, c.layerNormEps);
    this.norm2 = new LayerNorm(dModel, c.layerNormEps);
    this.dropout1 = new Dropout(c.dropout);
    this.dropout2 = new Dropout(c.dropout);
  }
  private sa(x: Tensor, o: { srcMask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean }): Tensor {
    const [y] = this.self_attn.forward(x, x, x, { attnMask: o.srcMask, keyPaddingMask: o.srcKeyPaddingMask, isCausal: o.isCausal });
    return this.dropout1.forward(y);
  }
  forward(src: Tensor, o: { srcMask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    checkCall("TransformerEncoderLayer.forward", o, ENCODER_LAYER_CALL);
    const pre = this.config.normFirst;
    const x = residual(src, this.norm1, pre, (h) => this.sa(h, o));
    return residual(x, this.norm2, pre, (h) => feedForward(this, this.dropout2, h));
  }
}

export interface DecoderCallOptions {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention over the target (instead of building a tgtMask). */
  tgtIsCausal?: boolean;
  memoryIsCausal?: boolean;
}

/**
 * torch.nn.TransformerDecoderLayer: causal-capable self-attention, attention
 * over the encoder's memory (multihead_attn), and a feed-forward block.
 *
 * @example
 * const layer = new wg.nn.TransformerDecoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
 * layer.forward(wg.randn([2, 3, 16]), wg.randn([2, 5, 16]), { tgtIsCausal: true }).shape; // [2, 3, 16]
 */
export class TransformerDecoderLayer extends Module {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;
  readonly config: Required<TransformerLayerOptions>;
  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    const c = (this.config = layerDefaults(new.target.name, opts));
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: c.dropout, bias: c.bias, batchFirst: c.batchFirst });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: c.dropout, bias: c.bias, batchFirst: c.batchFirst });
    this.linear1 = new Linear(dModel, c.dimFeedforward, { bias: c.bias });
    this.dropout = new Dropout(c.dropout);
    this.linear2 = new Linear(c.dimFeedforward, dModel, { bias: c.bias });
    this.norm1 = new LayerNorm(dModel, c.layerNormEps);
    this.norm2 = new LayerNorm(dModel, c.layerNormEps);
    this.norm3 = new LayerNorm(dModel, c.layerNormEps);
    this.dropout1 = new Dropout(c.dropout);
    this.dropout2 = new Dropout(c.dropout);
    this.dropout3 = new Dropout(c.dropout);
  }
  private sa(x: Tensor, o: DecoderCallOptions): Tensor {
    const [y] = this.self_attn.forward(x, x, x, { attnMask: o.tgtMask, keyPaddingMask: o.tgtKeyPaddingMask, isCausal: o.tgtIsCausal });
    return this.dropout1.forward(y);
  }
  private mha(x: Tensor, mem: Tensor, o: DecoderCallOptions): Tensor {
    const [y] = this.multihead_attn.forward(x, mem, mem, { attnMask: o.memoryMask, keyPaddingMask: o.memoryKeyPaddingMask, isCausal: o.memoryIsCausal });
    return this.dropout2.forward(y);
  }
  forward(tgt: Tensor, memory: Tensor, o: DecoderCallOptions = {}): Tensor {
    checkCall("TransformerDecoderLayer.forward", o, DECODER_CALL);
    const pre = this.config.normFirst;
    let x = residual(tgt, this.norm1, pre, (h) => this.sa(h, o));
    x = residual(x, this.norm2, pre, (h) => this.mha(h, memory, o));
    return residual(x, this.norm3, pre, (h) => feedForward(this, this.dropout3, h));
  }
}

/** A stack's arguments: a layer of the right kind (or a function making one), a layer count, a LayerNorm or null. */
function checkStack(who: string, layer: unknown, Ctor: Function, n: number, norm: unknown): void {
  if (typeof layer !== "function" && !(layer instanceof Ctor)) throw new Error(`${who}: the layer must be a ${Ctor.name} or a function (i) => ${Ctor.name}`);
  checkInt(who, "numLayers", n, 0);
  if (norm !== null && norm !== undefined && !(norm instanceof LayerNorm)) throw new Error(`${who}: norm must be a LayerNorm or null`);
}

/** N layers made by `make(i)`, or N copies of `layer` (same initial weights, as PyTorch's deepcopy gives). */
function clones<T extends Module & { dModel: number; nhead: number; config: Required<TransformerLayerOptions> }>(
  layer: T | ((i: number) => T), n: number, Ctor: new (d: number, h: number, o: TransformerLayerOptions) => T): T[] {
  if (typeof layer === "function") return Array.from({ length: n }, (_, i) => layer(i));
  return Array.from({ length: n }, (_, i) => {
    if (i === 0) return layer;
    const c = new Ctor(layer.dModel, layer.nhead, layer.config);
    c.loadStateDict(layer.stateDict());
    return c;
  });
}

/**
 * A stack of encoder layers (names layers.N.*) with an optional final norm.
 * @example
 * const enc = new wg.nn.TransformerEncoder(new wg.nn.TransformerEncoderLayer(16, 4, { batchFirst: true }), 2);
 * enc.forward(wg.randn([2, 5, 16])).shape; // [2, 5, 16]
 */
export class TransformerEncoder extends Module {
  layers: TransformerEncoderLayer[];
  norm: LayerNorm | null;
  constructor(encoderLayer: TransformerEncoderLayer | ((i: number) => TransformerEncoderLayer), readonly numLayers: number, norm: LayerNorm | null = null) {
    super();
    checkStack("TransformerEncoder", encoderLayer, TransformerEncoderLayer, numLayers, norm);
    this.layers = clones(encoderLayer, numLayers, TransformerEncoderLayer);
    this.norm = norm;
  }
  forward(src: Tensor, o: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    checkCall("TransformerEncoder.forward", o, ENCODER_CALL);
    let x = src;
    for (const l of this.layers) x = l.forward(x, { srcMask: o.mask, srcKeyPaddingMask: o.srcKeyPaddingMask, isCausal: o.isCausal });
    return this.norm ? this.norm.forward(x) : x;
  }
}

/**
 * A stack of decoder layers (names layers.N.*) with an optional final norm.
 * @example
 * const dec = new wg.nn.TransformerDecoder(new wg.nn.TransformerDecoderLayer(16, 4, { batchFirst: true }), 2);
 * dec.forward(wg.randn([2, 3, 16]), wg.randn([2, 5, 16]), { tgtIsCausal: true }).shape; // [2, 3, 16]
 */
export class TransformerDecoder extends Module {
  layers: TransformerDecoderLayer[];
  norm: LayerNorm | null;
  constructor(decoderLayer: TransformerDecoderLayer | ((i: number) => TransformerDecoderLayer), readonly numLayers: number, norm: LayerNorm | null = null) {
    super();
    checkStack("TransformerDecoder", decoderLayer, TransformerDecoderLayer, numLayers, norm);
    this.layers = clones(decoderLayer, numLayers, TransformerDecoderLayer);
    this.norm = norm;
  }
  forward(tgt: Tensor, memory: Tensor, o: DecoderCallOptions = {}): Tensor {
    checkCall("TransformerDecoder.forward", o, DECODER_CALL);
    let x = tgt;
    for (const l of this.layers) x = l.forward(x, memory, o);
    return this.norm ? this.norm.forward(x) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  numEncoderLayers?: number;
  numDecoderLayers?: number;
}

/**
 * torch.nn.Transformer: encoder and decoder stacks, each ending in a LayerNorm
 * (names encoder.layers.N.*, encoder.norm.*, decoder.layers.N.*, decoder.norm.*).
 * Defaults as PyTorch's (dModel 512, 8 heads, 6 + 6 layers, feed-forward 2048).
 *
 * @example
 * const t = new wg.nn.Transformer({ dModel: 16, nhead: 4, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 32, batchFirst: true });
 * t.forward(wg.randn([2, 5, 16]), wg.randn([2, 3, 16]), { tgtIsCausal: true }).shape; // [2, 3, 16]
 */
export class Transformer extends Module {
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;
  constructor(opts: TransformerOptions & { dModel?: number; nhead?: number } = {}) {
    super();
    checkOptions("Transformer", opts, ["dModel", "nhead", "numEncoderLayers", "numDecoderLayers", ...LAYER_OPTIONS]);
    const { dModel, nhead, numEncoderLayers, numDecoderLayers, ...layerOpts } = opts;
    const d = (this.dModel = checkInt("Transformer", "dModel", dModel ?? 512, 1)), h = (this.nhead = checkInt("Transformer", "nhead", nhead ?? 8, 1));
    layerDefaults("Transformer", layerOpts); // the layer options' values, checked under this name
    this.batchFirst = opts.batchFirst ?? false;
    const eps = opts.layerNormEps ?? 1e-5;
    this.encoder = new TransformerEncoder(() => new TransformerEncoderLayer(d, h, layerOpts), checkInt("Transformer", "numEncoderLayers", numEncoderLayers ?? 6, 0), new LayerNorm(d, eps));
    this.decoder = new TransformerDecoder(() => new TransformerDecoderLayer(d, h, layerOpts), checkInt("Transformer", "numDecoderLayers", numDecoderLayers ?? 6, 0), new LayerNorm(d, eps));
  }
  forward(src: Tensor, tgt: Tensor, o: DecoderCallOptions & { srcMask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; srcIsCausal?: boolean } = {}): Tensor {
    checkCall("Transformer.forward", o, ["srcMask", "srcKeyPaddingMask", "srcIsCausal", ...DECODER_CALL]);
    const { srcMask, srcKeyPaddingMask, srcIsCausal, ...decoderCall } = o;
    const memory = this.encoder.forward(src, { mask: srcMask, srcKeyPaddingMask, isCausal: srcIsCausal });
    return this.decoder.forward(tgt, memory, decoderCall);
  }
  /**
   * PyTorch's float causal mask: 0 on and below the diagonal, −Infinity above.
   * @example wg.nn.Transformer.generateSquareSubsequentMask(2).toArray(); // [[0, -Infinity], [0, 0]]
   */
  static generateSquareSubsequentMask(size: number): Tensor {
    const m = new Float32Array(size * size);
    for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) m[i * size + j] = -Infinity;
    return ops.tensor(m, { shape: [size, size] });
  }
}

/** The sinusoidal table [maxLen, dModel]: sin at even features, cos at odd, wavelengths 2π·10000^(2i/d). */
function sinusoids(maxLen: number, dModel: number): Float32Array {
  const pe = new Float32Array(maxLen * dModel);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < dModel; i += 2) {
      const angle = p * Math.exp((-i * Math.log(10000)) / dModel);
      pe[p * dModel + i] = Math.sin(angle);
      if (i + 1 < dModel) pe[p * dModel + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/**
 * Adds the sinusoidal position encoding of "Attention Is All You Need", then
 * dropout (the PyTorch tutorial's module; buffer "pe" [maxLen, 1, dModel]).
 * x is [seq, batch, dModel], or [batch, seq, dModel] with batchFirst.
 *
 * @example
 * const pe = new wg.nn.PositionalEncoding(16, { dropout: 0, batchFirst: true });
 * pe.forward(wg.zeros([2, 5, 16])).shape; // [2, 5, 16]
 */
export class PositionalEncoding extends Module {
  dropout: Dropout;
  pe!: Tensor;
  readonly batchFirst: boolean;
  constructor(readonly dModel: number, opts: { dropout?: number; maxLen?: number; batchFirst?: boolean } = {}) {
    super();
    checkInt("PositionalEncoding", "dModel", dModel, 1);
    checkOptions("PositionalEncoding", opts, ["dropout", "maxLen", "batchFirst"]);
    checkProb("PositionalEncoding", "dropout", opts.dropout);
    if (opts.maxLen !== undefined) checkInt("PositionalEncoding", "maxLen", opts.maxLen, 1);
    checkBool("PositionalEncoding", "batchFirst", opts.batchFirst);
    this.dropout = new Dropout(opts.dropout ?? 0.1);
    this.batchFirst = opts.batchFirst ?? false;
    const maxLen = opts.maxLen ?? 5000;
    this.registerBuffer("pe", ops.tensor(sinusoids(maxLen, dModel), { shape: [maxLen, 1, dModel] }));
  }
  forward(x: Tensor): Tensor {
    const S = x.shape[this.batchFirst ? 1 : 0];
    if (x.rank !== 3 || x.shape[2] !== this.dModel || S > this.pe.shape[0]) {
      throw new Error(`PositionalEncoding: input must be ${this.batchFirst ? "[batch, seq" : "[seq, batch"}, ${this.dModel}] with seq ≤ ${this.pe.shape[0]}, got ${shapeStr(x.shape)}`);
    }
    const pe = this.pe.slice(0, 0, S); // [S, 1, d]
    return this.dropout.forward(x.add(this.batchFirst ? pe.reshape(1, S, this.dModel) : pe));
  }
}

/**
 * Learned absolute positions: weight [maxLen, dModel] (N(0, 1) as nn.Embedding,
 * or a given std), added to [batch, seq, dModel] (or [seq, batch, dModel] without batchFirst).
 *
 * @example
 * const pos = new wg.nn.LearnedPositionalEmbedding(32, 16);
 * pos.forward(wg.zeros([2, 5, 16])).shape; // [2, 5, 16]
 */
export class LearnedPositionalEmbedding extends Module {
  weight: Tensor;
  readonly batchFirst: boolean;
  constructor(readonly maxLen: number, readonly dModel: number, opts: { std?: number; batchFirst?: boolean } = {}) {
    super();
    checkInt("LearnedPositionalEmbedding", "maxLen", maxLen, 1);
    checkInt("LearnedPositionalEmbedding", "dModel", dModel, 1);
    checkOptions("LearnedPositionalEmbedding", opts, ["std", "batchFirst"]);
    if (opts.std !== undefined) checkNumber("LearnedPositionalEmbedding", "std", opts.std, 0);
    checkBool("LearnedPositionalEmbedding", "batchFirst", opts.batchFirst);
    this.batchFirst = opts.batchFirst ?? true;
    this.weight = parameter(ops.normal([maxLen, dModel], 0, opts.std ?? 1));
  }
  forward(x: Tensor): Tensor {
    const S = x.shape[this.batchFirst ? 1 : 0];
    if (x.rank !== 3 || x.shape[2] !== this.dModel || S > this.maxLen) {
      throw new Error(`LearnedPositionalEmbedding: input must be ${this.batchFirst ? "[batch, seq" : "[seq, batch"}, ${this.dModel}] with seq ≤ ${this.maxLen}, got ${shapeStr(x.shape)}`);
    }
    const w = this.weight.slice(0, 0, S);
    return x.add(this.batchFirst ? w.reshape(1, S, this.dModel) : w.reshape(S, 1, this.dModel));
  }
}
