// Llama-family decoder-only models (LlamaForCausalLM, Qwen2ForCausalLM,
// MistralForCausalLM) built from a Hugging Face config.json object, with
// transformers' parameter names and layouts, so a model.safetensors from the
// hub loads as it is and what we save loads in transformers:
//
//   model.embed_tokens.weight                          [vocab, hidden]
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight   nn.Linear [out, in]
//   model.layers.{i}.self_attn.{q,k,v}_proj.bias       attention_bias (Qwen2: always)
//   model.layers.{i}.mlp.{gate,up,down}_proj.weight    (+ .bias with mlp_bias)
//   model.layers.{i}.{input,post_attention}_layernorm.weight
//   model.norm.weight
//   lm_head.weight                                     absent when tie_word_embeddings
//
// Pre-norm blocks: x + o_proj(attn(rope(q), rope(k), v)) then
// x + down_proj(silu(gate_proj(x))·up_proj(x)), RMSNorm, grouped-query
// attention (num_key_value_heads ≤ num_attention_heads). Every projection is an
// nn.Linear, so wg.lora wraps them and wg.quantizeDynamic swaps them for int8.
// Only the seam ops are used (rmsNorm, rope, swiglu, scaledDotProductAttention):
// the fused kernels replace their bodies without touching this file.
//
// Generation keeps a KV cache per layer (hk2's StaticKVCache, preallocated for
// prompt + maxNewTokens positions and written in place); the prompt runs in
// one forward pass, then each new token runs alone against the cached keys
// and values.

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { Module, parameter } from "../nn/module.js";
import { Linear, Embedding } from "../nn/layers.js";
import { QuantizedLinear } from "../nn/quantized.js";
import { crossEntropy } from "../nn/functional.js";
import { checkOptions, checkInt, checkNumber } from "../ops/util.js";
import { noGrad } from "../autograd.js";
import { scope } from "../scope.js";
import { rng } from "../random.js";
import { KVCache, appendLayerCache, sampleToken, type SamplingOptions } from "./gpt.js";
import { StaticKVCache } from "./kv-cache.js";
import type { StoredTensor } from "../io/safetensors.js";

// ------------------------------------------------------------------ config

/**
 * rope_scaling as config.json spells it: `rope_type` (or the older `type`) is
 * "default", "linear", "dynamic" (NTK), "llama3" or "yarn".
 */
export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor?: number;
  /** llama3 */
  low_freq_factor?: number;
  high_freq_factor?: number;
  /** llama3 and yarn: the context the model was pretrained with. */
  original_max_position_embeddings?: number;
  /** yarn */
  attention_factor?: number;
  beta_fast?: number;
  beta_slow?: number;
  mscale?: number;
  mscale_all_dim?: number;
  truncate?: boolean;
  [key: string]: unknown;
}

/**
 * A Llama-family config.json object, fields as transformers spells them.
 * Fields not listed (transformers_version, initializer_range, use_cache,
 * torch_dtype, ...) are allowed and kept; torch_dtype is ignored (weights
 * are float32 here).
 */
export interface LlamaConfig {
  architectures?: string[];
  model_type?: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Default num_attention_heads (multi-head attention); fewer is grouped-query attention. */
  num_key_value_heads?: number;
  /** Default hidden_size / num_attention_heads. */
  head_dim?: number;
  /** Default 1e-6. */
  rms_norm_eps?: number;
  /** Default 10000. */
  rope_theta?: number;
  rope_scaling?: RopeScaling | null;
  /** transformers 5's spelling of both: { rope_type, rope_theta, factor, ... } (read in their place when present). */
  rope_parameters?: (RopeScaling & { rope_theta?: number }) | null;
  max_position_embeddings?: number;
  /** Default false: lm_head.weight is its own tensor. */
  tie_word_embeddings?: boolean;
  /** Biases on q/k/v/o (Llama); Qwen2 always has q/k/v biases and no o bias. */
  attention_bias?: boolean;
  mlp_bias?: boolean;
  /** Mistral (and Qwen2 with use_sliding_window): each token attends to at most this many positions, itself included. */
  sliding_window?: number | null;
  use_sliding_window?: boolean;
  max_window_layers?: number;
  layer_types?: string[];
  hidden_act?: string;
  initializer_range?: number;
  eos_token_id?: number | number[] | null;
  bos_token_id?: number | null;
  [key: string]: unknown;
}

/** generation_config.json's fields that generate() reads (the loader sets `model.generationConfig`). */
export interface GenerationConfig {
  eos_token_id?: number | number[] | null;
  bos_token_id?: number | null;
  pad_token_id?: number | null;
  do_sample?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  max_new_tokens?: number;
  [key: string]: unknown;
}

/** The architectures createCausalLM builds, by config.json's `architectures[0]` and `model_type`. */
export const SUPPORTED_ARCHITECTURES: Record<string, string> = {
  LlamaForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  MistralForCausalLM: "mistral",
};

/** How createCausalLM builds the model. */
export interface CausalLMOptions {
  /**
   * true (default): transformers' init, N(0, initializer_range) projections
   * and embeddings, unit norms: a model to train from scratch. false: every
   * parameter is zeros (no random draws), for weights about to be loaded with
   * loadCausalLMWeights.
   */
  init?: boolean;
  /**
   * "float32" (default) or "int8": the projections (and lm_head) become
   * nn.QuantizedLinear (with the weight-only decode rows: { decode: true })
   * when loadCausalLMWeights loads the weights (each layer quantised and its
   * float copy freed in turn); inference only.
   * Implies init: false.
   */
  dtype?: "float32" | "int8";
}

const MODEL_TYPE_DEFAULTS: Record<string, Partial<LlamaConfig>> = {
  llama: { rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 2048, tie_word_embeddings: false, attention_bias: false, mlp_bias: false },
  qwen2: { rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 32768, tie_word_embeddings: false, use_sliding_window: false, sliding_window: 4096, max_window_layers: 28 },
  mistral: { rms_norm_eps: 1e-6, rope_theta: 10000, max_position_embeddings: 4096 * 32, tie_word_embeddings: false, sliding_window: 4096 },
};

function modelTypeOf(who: string, config: LlamaConfig): string {
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  if (arch !== undefined && Object.hasOwn(SUPPORTED_ARCHITECTURES, arch)) return SUPPORTED_ARCHITECTURES[arch];
  if (typeof config.model_type === "string" && Object.values(SUPPORTED_ARCHITECTURES).includes(config.model_type)) return config.model_type;
  const supported = Object.entries(SUPPORTED_ARCHITECTURES).map(([a, t]) => `${a} (model_type "${t}")`).join(", ");
  throw new Error(`${who}: unsupported architecture ${JSON.stringify(arch ?? null)} / model_type ${JSON.stringify(config.model_type ?? null)}; supported: ${supported}`);
}

/** The config with transformers' defaults filled in for its model_type, checked. */
function resolveConfig(who: string, config: LlamaConfig, modelType: string): Required<Pick<LlamaConfig,
  "vocab_size" | "hidden_size" | "intermediate_size" | "num_hidden_layers" | "num_attention_heads" | "num_key_value_heads" | "head_dim" | "rms_norm_eps" | "rope_theta" | "max_position_embeddings" | "tie_word_embeddings" | "attention_bias" | "mlp_bias">> & LlamaConfig {
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new Error(`${who}: expected a config.json object, got ${config === null ? "null" : typeof config}`);
  const c: LlamaConfig = { ...MODEL_TYPE_DEFAULTS[modelType], ...config, model_type: modelType };
  // a config saved as config.json must name its class for transformers' AutoModelForCausalLM
  c.architectures ??= [Object.keys(SUPPORTED_ARCHITECTURES).find((a) => SUPPORTED_ARCHITECTURES[a] === modelType)!];
  for (const k of ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"] as const) {
    if (c[k] === undefined) throw new Error(`${who}: config.json has no ${k} (needed to build the model)`);
    checkInt(who, k, c[k], 1);
  }
  // transformers 5 writes rope_parameters { rope_type, rope_theta, factor, ... } in place of rope_theta and rope_scaling
  const rp = c.rope_parameters as (RopeScaling & { rope_theta?: number }) | undefined | null;
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== "object" || Array.isArray(rp) || !("rope_type" in rp || "rope_theta" in rp)) {
      throw new Error(`${who}: rope_parameters must be an object { rope_type, rope_theta, ... } (one set for every layer), got ${JSON.stringify(rp)}`);
    }
    if (rp.rope_theta !== undefined) c.rope_theta = rp.rope_theta;
    const { rope_theta: _theta, ...scaling } = rp;
    c.rope_scaling = (scaling.rope_type ?? "default") === "default" ? null : scaling;
  }
  c.num_key_value_heads ??= c.num_attention_heads;
  checkInt(who, "num_key_value_heads", c.num_key_value_heads, 1);
  if (c.num_attention_heads % c.num_key_value_heads) {
    throw new Error(`${who}: num_attention_heads ${c.num_attention_heads} must be a multiple of num_key_value_heads ${c.num_key_value_heads}`);
  }
  if (c.head_dim === undefined || c.head_dim === null) {
    if (c.hidden_size % c.num_attention_heads) throw new Error(`${who}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}; give head_dim`);
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  checkInt(who, "head_dim", c.head_dim, 2);
  if (c.head_dim % 2) throw new Error(`${who}: head_dim ${c.head_dim} must be even for rotary embeddings`);
  checkNumber(who, "rms_norm_eps", c.rms_norm_eps, 0);
  checkNumber(who, "rope_theta", c.rope_theta, 0, Infinity, true);
  checkInt(who, "max_position_embeddings", c.max_position_embeddings, 1);
  for (const k of ["tie_word_embeddings", "attention_bias", "mlp_bias", "use_sliding_window"] as const) {
    if (c[k] !== undefined && typeof c[k] !== "boolean") throw new Error(`${who}: ${k} must be true or false, got ${JSON.stringify(c[k])}`);
  }
  c.attention_bias ??= false;
  c.mlp_bias ??= false;
  if (c.sliding_window !== undefined && c.sliding_window !== null) checkInt(who, "sliding_window", c.sliding_window, 1);
  if (c.hidden_act !== undefined && c.hidden_act !== "silu") throw new Error(`${who}: hidden_act ${JSON.stringify(c.hidden_act)} is not supported (the Llama family uses "silu")`);
  const prf = c.partial_rotary_factor;
  if (prf !== undefined && prf !== 1) throw new Error(`${who}: partial_rotary_factor ${prf} is not supported (rotary embeddings over the whole head)`);
  ropeInvFreq(who, c as ResolvedConfig, c.max_position_embeddings!); // checks rope_scaling now, not at the first forward
  return c as ResolvedConfig;
}

type ResolvedConfig = ReturnType<typeof resolveConfig>;

/** The sliding window of layer i (null: full causal attention), as transformers decides it per model_type. */
function layerWindow(c: ResolvedConfig, i: number): number | null {
  const w = c.sliding_window ?? null;
  if (w === null) return null;
  if (Array.isArray(c.layer_types)) return c.layer_types[i] === "sliding_attention" ? w : null;
  if (c.model_type === "mistral") return w;
  if (c.model_type === "qwen2") return c.use_sliding_window && i >= (c.max_window_layers ?? 28) ? w : null;
  return null; // LlamaConfig has no sliding window
}

// ------------------------------------------------------------------ RoPE

/**
 * The rotary inverse frequencies [head_dim/2] and the attention scaling of
 * cos/sin, computed as transformers' modeling_rope_utils.py does for
 * rope_scaling's rope_type ("default", "linear", "dynamic", "llama3", "yarn").
 * `seqLen` (the longest position + 1) matters for "dynamic" only: as in
 * transformers, keys already cached keep the rotation they were computed with
 * when a longer sequence grows the base.
 * @example
 * const { invFreq } = ropeInvFreq("example", { head_dim: 4, rope_theta: 10000, max_position_embeddings: 16 }, 8);
 * Array.from(invFreq); // [1, 0.01]
 */
export function ropeInvFreq(who: string, c: { head_dim?: number; rope_theta?: number; rope_scaling?: RopeScaling | null; max_position_embeddings?: number }, seqLen: number): { invFreq: Float64Array; attentionScaling: number } {
  const dim = c.head_dim!, maxPos = c.max_position_embeddings ?? 2048;
  let base = c.rope_theta ?? 10000;
  const rs = c.rope_scaling ?? null;
  if (rs !== null && (typeof rs !== "object" || Array.isArray(rs))) throw new Error(`${who}: rope_scaling must be null or an object, got ${JSON.stringify(rs)}`);
  const type = rs ? (rs.rope_type ?? rs.type ?? "default") : "default";
  const factorOf = () => {
    if (rs === null) return 1;
    return checkNumber(who, `rope_scaling.factor (${type})`, rs.factor, 0, Infinity, true);
  };
  const freqs = (b: number) => Float64Array.from({ length: dim / 2 }, (_, i) => 1 / b ** ((2 * i) / dim));
  switch (type) {
    case "default":
      return { invFreq: freqs(base), attentionScaling: 1 };
    case "linear": {
      const f = factorOf();
      return { invFreq: freqs(base).map((x) => x / f), attentionScaling: 1 };
    }
    case "dynamic": {
      // NTK-aware: past the pretrained context, the base grows with the sequence
      const f = factorOf();
      if (seqLen > maxPos) base *= ((f * seqLen) / maxPos - (f - 1)) ** (dim / (dim - 2));
      return { invFreq: freqs(base), attentionScaling: 1 };
    }
    case "llama3": {
      const f = factorOf();
      const low = checkNumber(who, "rope_scaling.low_freq_factor", rs!.low_freq_factor, 0, Infinity, true);
      const high = checkNumber(who, "rope_scaling.high_freq_factor", rs!.high_freq_factor, 0, Infinity, true);
      const old = checkInt(who, "rope_scaling.original_max_position_embeddings", rs!.original_max_position_embeddings, 1);
      if (high === low) throw new Error(`${who}: rope_scaling.high_freq_factor must differ from low_freq_factor`);
      const lowWavelen = old / low, highWavelen = old / high;
      const invFreq = freqs(base).map((x) => {
        const wavelen = (2 * Math.PI) / x;
        if (wavelen > lowWavelen) return x / f;
        if (wavelen < highWavelen) return x;
        const smooth = (old / wavelen - low) / (high - low);
        return ((1 - smooth) * x) / f + smooth * x;
      });
      return { invFreq, attentionScaling: 1 };
    }
    case "yarn": {
      let f = factorOf();
      let orig = maxPos;
      if (rs!.original_max_position_embeddings !== undefined) {
        orig = checkInt(who, "rope_scaling.original_max_position_embeddings", rs!.original_max_position_embeddings, 1);
        f = maxPos / orig; // as transformers: the ratio of the two contexts, not `factor`
      }
      const mscaleOf = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
      let attentionScaling = rs!.attention_factor as number | undefined;
      if (attentionScaling === undefined || attentionScaling === null) {
        attentionScaling = rs!.mscale && rs!.mscale_all_dim ? mscaleOf(f, rs!.mscale) / mscaleOf(f, rs!.mscale_all_dim) : mscaleOf(f);
      }
      const betaFast = rs!.beta_fast || 32, betaSlow = rs!.beta_slow || 1;
      const correctionDim = (rot: number) => (dim * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(base));
      let lo = correctionDim(betaFast), hi = correctionDim(betaSlow);
      if (rs!.truncate ?? true) {
        lo = Math.floor(lo);
        hi = Math.ceil(hi);
      }
      lo = Math.max(lo, 0);
      hi = Math.min(hi, dim - 1);
      if (lo === hi) hi += 0.001;
      const invFreq = Float64Array.from({ length: dim / 2 }, (_, i) => {
        const pos = base ** ((2 * i) / dim);
        const extrapolation = 1 - Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
        return (1 / (f * pos)) * (1 - extrapolation) + (1 / pos) * extrapolation;
      });
      return { invFreq, attentionScaling };
    }
    default:
      throw new Error(`${who}: rope_scaling type ${JSON.stringify(type)} is not supported (supported: "default", "linear", "dynamic", "llama3", "yarn")`);
  }
}

// ------------------------------------------------------------------ layers

/** Parameter factories: transformers' init, or zeros when weights are about to be loaded. */
interface Init {
  random: boolean;
  std: number;
}

function weightParam(shape: number[], init: Init): Tensor {
  return parameter(init.random ? ops.randn(shape).mul_(init.std) : ops.zeros(shape));
}

/** An nn.Linear [out, in] with the given init (its own random init is skipped: a 1×1 layer is built and resized). */
function makeLinear(inF: number, outF: number, bias: boolean, init: Init): Linear {
  const l = new Linear(1, 1, { bias });
  // under nn.deferLinears (loadPretrained's int8 load) a placeholder comes back: nothing is allocated, the loader fills it
  if (!(l instanceof Linear)) return Object.assign(l, { inFeatures: inF, outFeatures: outF });
  l.weight.dispose();
  l.bias?.dispose();
  l.weight = weightParam([outF, inF], init);
  l.bias = bias ? parameter(ops.zeros([outF])) : null;
  Object.assign(l, { inFeatures: inF, outFeatures: outF });
  return l;
}

function makeEmbedding(num: number, dim: number, init: Init): Embedding {
  const e = new Embedding(1, 1);
  e.weight.dispose();
  e.weight = weightParam([num, dim], init);
  Object.assign(e, { numEmbeddings: num, embeddingDim: dim });
  return e;
}

/**
 * Llama's RMSNorm: x / √(mean(x²) + eps) · weight over the last dim (weight starts at ones).
 * @example new LlamaRMSNorm(8, 1e-6).forward(wg.ones([2, 8])).shape; // [2, 8]
 */
export class LlamaRMSNorm extends Module {
  weight: Tensor;
  constructor(readonly hiddenSize: number, readonly eps: number) {
    super();
    this.weight = parameter(ops.ones([hiddenSize]));
  }
  forward(x: Tensor): Tensor {
    return ops.rmsNorm(x, [this.hiddenSize], this.weight, this.eps);
  }
  override extraRepr(): string {
    return `(${this.hiddenSize},), eps=${this.eps}`;
  }
}

/**
 * One layer's view of a cache: a growing KVCache layer (keys and values
 * [B, Hkv, S, D] after RoPE, concatenated each step; differentiable), or a
 * layer of a preallocated StaticKVCache (written in place; decoding only).
 */
type LayerCache = { k: Tensor | null; v: Tensor | null } | { cache: StaticKVCache; layer: number };

/** Either kind of cache forward() takes. */
export type LlamaCache = KVCache | StaticKVCache;

/**
 * Grouped-query self-attention with rotary embeddings (q/k/v/o_proj as nn.Linear).
 * @example
 * const llm = createCausalLM({ architectures: ["LlamaForCausalLM"], vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 });
 * llm.model.layers[0].self_attn.k_proj.weight.shape; // [8, 16]
 */
export class LlamaAttention extends Module {
  // typed as nn.Linear, the layer they are built as: dtype "int8" (and wg.quantizeDynamic) put an
  // nn.QuantizedLinear in their place, wg.lora a LoRA wrapper; the forward only calls .forward()
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Each query attends to at most this many positions (itself included); null: all earlier ones. */
  readonly slidingWindow: number | null;
  constructor(c: ResolvedConfig, layerIdx: number, init: Init) {
    super();
    this.numHeads = c.num_attention_heads;
    this.numKvHeads = c.num_key_value_heads;
    this.headDim = c.head_dim;
    this.slidingWindow = layerWindow(c, layerIdx);
    const qkvBias = c.model_type === "qwen2" ? true : c.attention_bias;
    const oBias = c.model_type === "qwen2" ? false : c.attention_bias;
    const H = c.hidden_size, D = c.head_dim;
    this.q_proj = makeLinear(H, this.numHeads * D, qkvBias, init);
    this.k_proj = makeLinear(H, this.numKvHeads * D, qkvBias, init);
    this.v_proj = makeLinear(H, this.numKvHeads * D, qkvBias, init);
    this.o_proj = makeLinear(this.numHeads * D, H, oBias, init);
  }

  /** x [B, S, hidden]; cos/sin [S, D/2] for the S new positions; a layer cache grows by S. */
  forward(x: Tensor, cos: Tensor, sin: Tensor, cache?: LayerCache): Tensor {
    const [B, S] = x.shape;
    const D = this.headDim;
    const heads = (t: Tensor, n: number) => ops.permute(ops.reshape(t, [B, S, n, D]), [0, 2, 1, 3]);
    const q = ops.rope(heads(this.q_proj.forward(x), this.numHeads), cos, sin);
    let k = ops.rope(heads(this.k_proj.forward(x), this.numKvHeads), cos, sin);
    let v = heads(this.v_proj.forward(x), this.numKvHeads);
    if (cache && "cache" in cache) {
      const { cache: c, layer } = cache;
      c.append(layer, k, v);
      const n = c.layerLength(layer), W = this.slidingWindow;
      // the kernel reads the first n rows; past a sliding window, the rows the queries can see are sliced out
      const y = W === null || n <= W ? c.attend(layer, q, { causal: true })
        : attend(q, ops.slice(c.keys[layer], 2, 0, n), ops.slice(c.values[layer], 2, 0, n), W);
      return this.o_proj.forward(ops.reshape(ops.permute(y, [0, 2, 1, 3]), [B, S, this.numHeads * D]));
    }
    if (cache) [k, v] = appendLayerCache(cache, k, v);
    const y = attend(q, k, v, this.slidingWindow);
    return this.o_proj.forward(ops.reshape(ops.permute(y, [0, 2, 1, 3]), [B, S, this.numHeads * D]));
  }
}

/**
 * Causal attention of the Sq newest positions over all Sk (the queries are the
 * last Sq keys' positions), within a sliding window of W positions when given:
 * key j is seen by query i when j ≤ i and i − j < W (transformers' mask).
 */
function attend(q: Tensor, k: Tensor, v: Tensor, window: number | null): Tensor {
  const Sq = q.shape[2];
  let Sk = k.shape[2];
  if (window !== null && Sk > window) {
    // keys older than the first query's window are never seen: drop them
    const first = Sk - Sq - window + 1;
    if (first > 0) {
      k = ops.slice(k, 2, first);
      v = ops.slice(v, 2, first);
      Sk -= first;
    }
  }
  if (window === null || Sk <= window) return ops.scaledDotProductAttention(q, k, v, { causal: true, enableGqa: true });
  // several queries whose windows differ: an explicit additive mask (the fused kernel has no window)
  const Hq = q.shape[1], Hkv = k.shape[1], D = q.shape[3];
  const grow = (t: Tensor) => {
    if (Hkv === Hq) return t;
    const [B, , S] = t.shape;
    return ops.reshape(ops.expand(ops.unsqueeze(t, 2), [B, Hkv, Hq / Hkv, S, D]), [B, Hq, S, D]);
  };
  const mask = new Float32Array(Sq * Sk);
  for (let i = 0; i < Sq; i++) {
    const pos = Sk - Sq + i;
    for (let j = 0; j < Sk; j++) if (j > pos || pos - j >= window) mask[i * Sk + j] = -Infinity;
  }
  const scores = ops.add(ops.mul(ops.matmul(q, ops.transpose(grow(k), -2, -1)), 1 / Math.sqrt(D)), ops.tensor(mask, { shape: [Sq, Sk] }));
  return ops.matmul(ops.softmax(scores, -1), grow(v));
}

/**
 * The gated MLP: down_proj(silu(gate_proj(x)) · up_proj(x)).
 * @example new LlamaMLP(16, 64, false, { random: true, std: 0.02 }).forward(wg.ones([1, 2, 16])).shape; // [1, 2, 16]
 */
export class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;
  constructor(hidden: number, intermediate: number, bias: boolean, init: Init) {
    super();
    this.gate_proj = makeLinear(hidden, intermediate, bias, init);
    this.up_proj = makeLinear(hidden, intermediate, bias, init);
    this.down_proj = makeLinear(intermediate, hidden, bias, init);
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(ops.swiglu(this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}

/**
 * A pre-norm block: x + self_attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)).
 * @example llm.model.layers.length; // 1
 */
export class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: LlamaRMSNorm;
  post_attention_layernorm: LlamaRMSNorm;
  constructor(c: ResolvedConfig, layerIdx: number, init: Init) {
    super();
    this.self_attn = new LlamaAttention(c, layerIdx, init);
    this.mlp = new LlamaMLP(c.hidden_size, c.intermediate_size, c.mlp_bias, init);
    this.input_layernorm = new LlamaRMSNorm(c.hidden_size, c.rms_norm_eps);
    this.post_attention_layernorm = new LlamaRMSNorm(c.hidden_size, c.rms_norm_eps);
  }
  forward(x: Tensor, cos: Tensor, sin: Tensor, cache?: LayerCache): Tensor {
    const h = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), cos, sin, cache));
    return ops.add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

/**
 * The decoder stack without the head (transformers' LlamaModel): embed_tokens, layers, norm.
 * @example llm.model.norm.weight.shape; // [16]
 */
export class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[];
  norm: LlamaRMSNorm;
  constructor(c: ResolvedConfig, init: Init) {
    super();
    this.embed_tokens = makeEmbedding(c.vocab_size, c.hidden_size, init);
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(c, i, init));
    this.norm = new LlamaRMSNorm(c.hidden_size, c.rms_norm_eps);
  }
  /** Hidden states [B, S, hidden] after the final norm. */
  forward(ids: Tensor, cos: Tensor, sin: Tensor, cache?: LlamaCache): Tensor {
    let x = ops.embedding(ids, this.embed_tokens.weight);
    const layerCache = (i: number): LayerCache | undefined => cache instanceof StaticKVCache ? { cache, layer: i } : cache?.layers[i];
    this.layers.forEach((layer, i) => (x = layer.forward(x, cos, sin, layerCache(i))));
    return this.norm.forward(x);
  }
}

// ------------------------------------------------------------------ the model

/** generate() and stream() options. */
export interface LlamaGenerateOptions extends SamplingOptions {
  /** How many tokens to add at most (default: generationConfig.max_new_tokens). */
  maxNewTokens?: number;
  /**
   * transformers' repetition_penalty: the logits of tokens already in the
   * prompt or the output are divided by it when positive, multiplied when
   * negative (1: off; default generationConfig.repetition_penalty or 1).
   */
  repetitionPenalty?: number;
  /** Stop after emitting this token id (or any of these); default the eos_token_id of generationConfig, else of the config. [] never stops early. */
  stop?: number | number[];
  /** Seed of the draws: the same seed, prompt and weights give the same tokens. Default 0. */
  seed?: number;
  /** Reuse cached keys/values (default true); false recomputes the whole sequence every step. */
  useCache?: boolean;
}

/** generate()'s options resolved: generationConfig and transformers' defaults filled in, checked. */
interface SamplingPlan {
  maxNewTokens: number;
  seed: number;
  repetitionPenalty: number;
  useCache: boolean;
  stop: Set<number>;
  sampling: SamplingOptions;
}

const GENERATE_OPTIONS = ["maxNewTokens", "temperature", "topK", "topP", "repetitionPenalty", "stop", "seed", "useCache"];

/**
 * A Llama-family causal LM with transformers' names (LlamaForCausalLM): `model`
 * (embed_tokens, layers, norm) and `lm_head` (null when tie_word_embeddings:
 * the head is x·embed_tokensᵀ and no lm_head.weight is stored; an int8 model
 * loaded with tied embeddings holds an int8 copy of embed_tokens there).
 * Qwen2ForCausalLM and MistralForCausalLM are this class with their model_type's defaults.
 *
 * @example
 * const llm = new LlamaForCausalLM({ vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 });
 * llm.forward(wg.tensor([[1, 2, 3]], { dtype: "int32" })).shape; // [1, 3, 50]
 * Object.keys(llm.stateDict())[1]; // "model.layers.0.self_attn.q_proj.weight"
 */
export class LlamaForCausalLM extends Module {
  model: LlamaModel;
  lm_head: Linear | null;
  /** The config.json object with transformers' defaults for its model_type filled in. */
  readonly config: ResolvedConfig;
  /** generation_config.json (eos_token_id, do_sample, temperature, ...), set by the loader; generate() reads it. */
  generationConfig: GenerationConfig | null = null;
  /** How the model was built (createCausalLM's options). */
  readonly buildOptions: Required<CausalLMOptions>;

  constructor(config: LlamaConfig, opts: CausalLMOptions = {}, modelType?: string) {
    super();
    const who = new.target?.name ?? "LlamaForCausalLM";
    checkOptions(who, opts, ["init", "dtype"]);
    if (opts.dtype !== undefined && opts.dtype !== "float32" && opts.dtype !== "int8") throw new Error(`${who}: dtype must be "float32" or "int8", got ${JSON.stringify(opts.dtype)}`);
    if (opts.init !== undefined && typeof opts.init !== "boolean") throw new Error(`${who}: init must be true or false, got ${JSON.stringify(opts.init)}`);
    const dtype = opts.dtype ?? "float32";
    if (dtype === "int8" && opts.init === true) throw new Error(`${who}: dtype "int8" quantises loaded weights; it cannot be combined with init: true`);
    this.buildOptions = { dtype, init: opts.init ?? dtype === "float32" };
    const type = modelType ?? (config && (config.architectures || config.model_type) ? modelTypeOf(who, config) : "llama");
    this.config = resolveConfig(who, config, type);
    const init: Init = { random: this.buildOptions.init, std: typeof config.initializer_range === "number" ? config.initializer_range : 0.02 };
    this.model = new LlamaModel(this.config, init);
    this.lm_head = this.config.tie_word_embeddings ? null : makeLinear(this.config.hidden_size, this.config.vocab_size, false, init);
  }

  /** cos and sin [S, D/2] of positions past … past+S−1 (scaled as the rope type says). */
  private ropeTables(past: number, S: number): [Tensor, Tensor] {
    const { invFreq, attentionScaling } = ropeInvFreq(this.constructor.name, this.config, past + S);
    const half = invFreq.length;
    const cos = new Float32Array(S * half), sin = new Float32Array(S * half);
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < half; i++) {
        // the angle rounded to float32 first, as transformers computes it (inv_freq @ positions in float32)
        const a = Math.fround(Math.fround(invFreq[i]) * (past + s));
        cos[s * half + i] = Math.cos(a) * attentionScaling;
        sin[s * half + i] = Math.sin(a) * attentionScaling;
      }
    }
    return [ops.tensor(cos, { shape: [S, half] }), ops.tensor(sin, { shape: [S, half] })];
  }

  /**
   * Logits [B, S, vocab] for int32 token ids [B, S], as transformers'
   * forward(input_ids).logits. With a cache, the ids are the next tokens after
   * the `cache.length` already seen (their positions continue from there) and
   * the cache grows: a KVCache (concatenated, differentiable) or a
   * preallocated StaticKVCache (written in place; run under wg.noGrad()),
   * see newCache(). `logitsToKeep` n > 0 (transformers' logits_to_keep)
   * computes the head for the last n positions only ([B, n, vocab]): a prompt's
   * prefill needs one row of the vocab-wide product, not S.
   * @example
   * const cache = llm.newCache();
   * llm.forward(wg.tensor([[1, 2, 3]], { dtype: "int32" }), { cache });
   * llm.forward(wg.tensor([[4]], { dtype: "int32" }), { cache }).shape; // [1, 1, 50]
   * cache.dispose();
   */
  forward(ids: Tensor, opts: { cache?: LlamaCache; logitsToKeep?: number } = {}): Tensor {
    const who = `${this.constructor.name}.forward`;
    checkOptions(who, opts, ["cache", "logitsToKeep"]);
    const keep = opts.logitsToKeep === undefined ? 0 : checkInt(who, "logitsToKeep", opts.logitsToKeep, 0);
    if (!(ids instanceof Tensor) || ids.rank !== 2 || ids.dtype !== "int32") {
      throw new Error(`${who}: ids must be an int32 tensor [B, S], got ${ids instanceof Tensor ? `${ids.dtype} [${ids.shape}]` : typeof ids}`);
    }
    const cache = opts.cache;
    const c = this.config;
    if (cache instanceof StaticKVCache) {
      if (cache.nLayer !== c.num_hidden_layers || cache.kvHeads !== c.num_key_value_heads || cache.headDim !== c.head_dim || cache.batch !== ids.shape[0]) {
        throw new Error(`${who}: the StaticKVCache holds ${cache.nLayer} layers × batch ${cache.batch} × ${cache.kvHeads} kv heads × head size ${cache.headDim}; ` +
          `this model and batch need ${c.num_hidden_layers} × ${ids.shape[0]} × ${c.num_key_value_heads} × ${c.head_dim} (make it with model.newCache(maxLength, batch))`);
      }
    } else if (cache !== undefined && (!(cache instanceof KVCache) || cache.layers.length !== c.num_hidden_layers)) {
      throw new Error(`${who}: cache must be a wg.models.KVCache or StaticKVCache with ${c.num_hidden_layers} layers (model.newCache())`);
    }
    const S = ids.shape[1];
    const past = cache?.length ?? 0;
    const [cos, sin] = this.ropeTables(past, S);
    let h = this.model.forward(ids, cos, sin, cache);
    if (cache instanceof KVCache) cache.length += S;
    if (keep > 0 && keep < S) h = ops.slice(h, 1, S - keep);
    if (this.lm_head) return this.lm_head.forward(h);
    return ops.linear(h, this.model.embed_tokens.weight);
  }

  /**
   * Mean cross-entropy (nats per token) of predicting targets [B, S] from ids [B, S].
   * @example
   * const ids = wg.tensor([[1, 2, 3, 4]], { dtype: "int32" });
   * const loss = llm.loss(ids.slice(1, 0, 3), ids.slice(1, 1, 4)); loss.backward();
   * loss.item() > 0; // true
   */
  loss(ids: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(ids);
    const [B, S, V] = logits.shape;
    return crossEntropy(ops.reshape(logits, [B * S, V]), ops.reshape(targets, [B * S]));
  }

  /**
   * A fresh KV cache for this model (dispose() it when done): without
   * maxLength a KVCache that grows by concatenation (any length, gradients
   * flow); with it a StaticKVCache preallocated for maxLength positions of
   * `batch` sequences, written in place (decoding under wg.noGrad(); what
   * generate() uses).
   * @example
   * const c = llm.newCache(); c.length; // 0
   * const s = llm.newCache(64); s.maxSeq; // 64
   * c.dispose(); s.dispose();
   */
  newCache(): KVCache;
  newCache(maxLength: number, batch?: number): StaticKVCache;
  newCache(maxLength?: number, batch = 1): LlamaCache {
    const c = this.config;
    if (maxLength === undefined) return new KVCache(c.num_hidden_layers);
    checkInt("newCache", "maxLength", maxLength, 1);
    checkInt("newCache", "batch", batch, 1);
    return new StaticKVCache(c.num_hidden_layers, batch, c.num_key_value_heads, maxLength, c.head_dim);
  }

  /**
   * Continues `ids` (a number[] or an int32 tensor [1, S]) and resolves to
   * the new token ids (the stop token included when it was emitted). Greedy
   * unless a temperature > 0 is given or generationConfig says do_sample;
   * then softmax(logits / temperature) within topK (default top_k or 50) and
   * topP, as transformers samples. Works on every backend (logits are read with await).
   * @example
   * const out = await llm.generate([1, 2, 3], { maxNewTokens: 4, stop: [] });
   * out.length; // 4
   */
  async generate(ids: number[] | Int32Array | Uint32Array | Tensor, opts: LlamaGenerateOptions = {}): Promise<number[]> {
    const out: number[] = [];
    for await (const id of this.decode("generate", ids, this.samplingPlan(`${this.constructor.name}.generate`, opts))) out.push(id);
    return out;
  }

  /**
   * generate() one token at a time: yields each new id as it is chosen.
   * Options are checked at once (a bad one throws here, not at the first
   * token). The cache is freed when the loop ends or breaks; an iterator
   * dropped half-way keeps it until it is garbage-collected.
   * @example
   * const seen = [];
   * for await (const id of llm.stream([1, 2, 3], { maxNewTokens: 2, stop: [] })) seen.push(id);
   * seen.length; // 2
   */
  stream(ids: number[] | Int32Array | Uint32Array | Tensor, opts: LlamaGenerateOptions = {}): AsyncIterable<number> {
    return this.decode("stream", ids, this.samplingPlan(`${this.constructor.name}.stream`, opts));
  }

  private async *decode(verb: string, ids: number[] | Int32Array | Uint32Array | Tensor, s: SamplingPlan): AsyncGenerator<number> {
    const who = `${this.constructor.name}.${verb}`;
    let prompt: number[];
    if (ids instanceof Tensor) {
      if (ids.dtype !== "int32" || ids.rank !== 2 || ids.shape[0] !== 1) throw new Error(`${who}: a prompt tensor must be int32 [1, S] (batch 1), got ${ids.dtype} [${ids.shape}]`);
      prompt = Array.from(await ids.data());
    } else if (Array.isArray(ids)) prompt = ids;
    else if (ids instanceof Int32Array || ids instanceof Uint32Array) prompt = Array.from(ids); // a tokenizer's output
    else throw new Error(`${who}: ids must be a number[], an Int32Array or an int32 tensor [1, S], got ${typeof ids}`);
    if (prompt.length === 0) throw new Error(`${who}: the prompt needs at least one token`);
    const V = this.config.vocab_size;
    for (const id of prompt) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`${who}: token id ${id} is outside the vocabulary of ${V}`);
    const random = rng(s.seed);
    const seq = [...prompt];
    const seen = new Set(prompt);
    const wasTraining = this.training;
    this.eval();
    const cache = s.useCache ? this.newCache(prompt.length + Math.max(1, s.maxNewTokens)) : null;
    try {
      let feed = seq;
      for (let step = 0; step < s.maxNewTokens; step++) {
        const last = scope(() => noGrad(() => {
          const t = ops.tensor(Int32Array.from(feed), { dtype: "int32", shape: [1, feed.length] });
          return this.forward(t, cache ? { cache, logitsToKeep: 1 } : { logitsToKeep: 1 }).reshape(V);
        }));
        let logits: Float32Array;
        try {
          logits = Float32Array.from(await last.data());
        } finally {
          last.dispose();
        }
        if (s.repetitionPenalty !== 1) applyRepetitionPenalty(logits, seen, s.repetitionPenalty);
        const next = sampleToken(logits, s.sampling, random);
        seq.push(next);
        seen.add(next);
        yield next;
        if (s.stop.has(next)) break;
        feed = cache ? [next] : seq;
      }
    } finally {
      cache?.dispose();
      this.train(wasTraining);
    }
  }

  /** The options with generationConfig's values and transformers' defaults filled in, checked. */
  private samplingPlan(who: string, opts: LlamaGenerateOptions): SamplingPlan {
    if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new Error(`${who}: options must be an object, got ${opts === null ? "null" : typeof opts}`);
    checkOptions(who, opts, GENERATE_OPTIONS);
    const gc = this.generationConfig ?? {};
    const maxNewTokens = opts.maxNewTokens ?? gc.max_new_tokens ?? undefined; // generation_config.json may hold null
    if (maxNewTokens === undefined) throw new Error(`${who}: give maxNewTokens (how many tokens to add at most); the generation config has no max_new_tokens`);
    checkInt(who, "maxNewTokens", maxNewTokens, 0);
    const sampleByDefault = gc.do_sample === true;
    let temperature = opts.temperature ?? (sampleByDefault ? gc.temperature ?? 1 : 0);
    checkNumber(who, "temperature", temperature, 0);
    const topK = opts.topK ?? (gc.top_k ?? 50);
    checkInt(who, "topK", topK, 0);
    const topP = opts.topP ?? (gc.top_p ?? 1);
    checkNumber(who, "topP", topP, 0, 1, true);
    const repetitionPenalty = opts.repetitionPenalty ?? gc.repetition_penalty ?? 1;
    checkNumber(who, "repetitionPenalty", repetitionPenalty, 0, Infinity, true);
    const seed = opts.seed ?? 0;
    checkInt(who, "seed", seed);
    if (opts.useCache !== undefined && typeof opts.useCache !== "boolean") throw new Error(`${who}: useCache must be true or false, got ${JSON.stringify(opts.useCache)}`);
    const stopGiven = opts.stop ?? gc.eos_token_id ?? this.config.eos_token_id ?? [];
    const stopList = typeof stopGiven === "number" ? [stopGiven] : stopGiven;
    if (!Array.isArray(stopList)) throw new Error(`${who}: stop must be a token id or a list of them, got ${JSON.stringify(stopGiven)}`);
    for (const id of stopList) checkInt(who, "stop", id, 0);
    if (temperature === 0) temperature = 0;
    return {
      maxNewTokens, seed, repetitionPenalty, useCache: opts.useCache ?? true,
      stop: new Set(stopList),
      sampling: temperature === 0 ? { temperature: 0 } : { temperature, topK, topP },
    };
  }

}

/**
 * Qwen2: LlamaForCausalLM with biases on q/k/v (never on o), and Qwen2's defaults.
 * @example new Qwen2ForCausalLM({ vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4 }).model.layers[0].self_attn.q_proj.bias !== null; // true
 */
export class Qwen2ForCausalLM extends LlamaForCausalLM {
  constructor(config: LlamaConfig, opts: CausalLMOptions = {}) {
    super(config, opts, "qwen2");
  }
}

/**
 * Mistral: LlamaForCausalLM with a sliding attention window (sliding_window, default 4096).
 * @example new MistralForCausalLM({ vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4, sliding_window: 8 }).model.layers[0].self_attn.slidingWindow; // 8
 */
export class MistralForCausalLM extends LlamaForCausalLM {
  constructor(config: LlamaConfig, opts: CausalLMOptions = {}) {
    super(config, opts, "mistral");
  }
}

/**
 * transformers' RepetitionPenaltyLogitsProcessor, in place: the logit of each
 * token in `seen` is divided by `penalty` when positive, multiplied when negative.
 * @example
 * const l = new Float32Array([2, -2, 1]); applyRepetitionPenalty(l, new Set([0, 1]), 2); Array.from(l); // [1, -4, 1]
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  for (const id of seen) logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
}

/**
 * The model a config.json object describes: LlamaForCausalLM, Qwen2ForCausalLM
 * or MistralForCausalLM by `architectures[0]` (else `model_type`). Unknown ones
 * throw, listing the supported. `{ init: false }` allocates zeros instead of
 * drawing random weights (for loadCausalLMWeights next); `{ dtype: "int8" }`
 * quantises the projections as the weights are loaded.
 * @example
 * const cfg = { architectures: ["Qwen2ForCausalLM"], vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true };
 * const m = createCausalLM(cfg, { init: false });
 * m.constructor.name; // "Qwen2ForCausalLM"
 * "lm_head.weight" in m.stateDict(); // false
 */
export function createCausalLM(config: LlamaConfig, opts: CausalLMOptions = {}): LlamaForCausalLM {
  const type = modelTypeOf("createCausalLM", config);
  if (type === "qwen2") return new Qwen2ForCausalLM(config, opts);
  if (type === "mistral") return new MistralForCausalLM(config, opts);
  return new LlamaForCausalLM(config, opts, type);
}

/** Tensors some checkpoints store that are not weights (rotary tables are computed). */
const IGNORED = /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/;

/**
 * Copies HF-named tensors (wg.io.loadSafetensors' `tensors`, or Tensors; all
 * shards merged into one record) into `model`, checking that every name is
 * present with the right shape and nothing is left over, and naming what is
 * wrong otherwise. A stored lm_head.weight of a tied model is ignored (some
 * exports write it). With createCausalLM(config, { dtype: "int8" }) each
 * projection becomes an nn.QuantizedLinear as it is loaded (and the tied head
 * an int8 copy of embed_tokens), the model in eval mode.
 * @example
 * const src = createCausalLM({ architectures: ["LlamaForCausalLM"], vocab_size: 32, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 });
 * const dst = createCausalLM(src.config, { init: false });
 * loadCausalLMWeights(dst, src.stateDict());
 * dst.model.norm.weight.toArray()[0]; // 1
 */
export function loadCausalLMWeights(model: LlamaForCausalLM, tensors: Record<string, StoredTensor | Tensor>): void {
  if (!(model instanceof LlamaForCausalLM)) throw new Error("loadCausalLMWeights: model must be built by createCausalLM");
  if (typeof tensors !== "object" || tensors === null) throw new Error("loadCausalLMWeights: expected an object of tensors by name");
  const t: Record<string, StoredTensor | Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (IGNORED.test(k) || (k === "lm_head.weight" && !model.lm_head)) continue;
    t[k] = v;
  }
  const int8 = model.buildOptions.dtype === "int8";
  if (isQuantized(model)) throw new Error("loadCausalLMWeights: this int8 model's weights were already loaded and quantised; build a new one with createCausalLM");
  const want = model.stateDict();
  const missing = Object.keys(want).filter((k) => !Object.hasOwn(t, k));
  const unexpected = Object.keys(t).filter((k) => !Object.hasOwn(want, k));
  const wrong = Object.keys(want).filter((k) => Object.hasOwn(t, k) && t[k].shape.join() !== want[k].shape.join())
    .map((k) => `${k} is [${t[k].shape}], expected [${want[k].shape}]`);
  const notFloat = Object.keys(t).filter((k) => t[k].dtype !== "float32").map((k) => `${k} holds ${t[k].dtype} values`);
  if (missing.length || unexpected.length || wrong.length || notFloat.length) {
    const list = (xs: string[]) => xs.slice(0, 6).join(", ") + (xs.length > 6 ? ` and ${xs.length - 6} more` : "");
    const parts = [];
    if (missing.length) parts.push(`missing ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${list(unexpected)}`);
    if (wrong.length) parts.push(wrong.slice(0, 6).join("; "));
    if (notFloat.length) parts.push(`${list(notFloat)} (expected F32, F16 or BF16)`);
    const c = model.config;
    throw new Error(`loadCausalLMWeights: the tensors do not fit a ${model.constructor.name} with hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers, ` +
      `${c.num_attention_heads} heads / ${c.num_key_value_heads} kv heads, vocab ${c.vocab_size}, tie_word_embeddings ${c.tie_word_embeddings}: ${parts.join("; ")}`);
  }
  model.loadStateDict(t as Record<string, Tensor | StoredTensor>);
  if (int8) quantizeProjections(model);
}

function isQuantized(model: LlamaForCausalLM): boolean {
  return model.model.layers[0]?.self_attn.q_proj instanceof QuantizedLinear;
}

/**
 * The int8 layers keep hk2's weight-only rows too (one more byte a weight): a
 * batch-1 decoding step streams them through gemv_i8 instead of quantising its
 * one activation row for the GEMM.
 */
const INT8_DECODE = { decode: true };

/** Every projection and the head to int8, the float layers freed as each is swapped. */
function quantizeProjections(model: LlamaForCausalLM): void {
  const swap = <K extends string>(owner: Record<K, Module>, key: K) => {
    const l = owner[key];
    if (l instanceof Linear) {
      owner[key] = QuantizedLinear.from(l, INT8_DECODE);
      l.dispose();
    }
  };
  for (const layer of model.model.layers) {
    for (const k of ["q_proj", "k_proj", "v_proj", "o_proj"] as const) swap(layer.self_attn as unknown as Record<typeof k, Module>, k);
    for (const k of ["gate_proj", "up_proj", "down_proj"] as const) swap(layer.mlp as unknown as Record<typeof k, Module>, k);
  }
  // a tied head gets an int8 copy of embed_tokens (the lookups keep the float table), as quantizeDynamic gives GPT
  const owner = model as unknown as Record<"lm_head", Module | null>;
  if (owner.lm_head) swap(owner as Record<"lm_head", Module>, "lm_head");
  else owner.lm_head = new QuantizedLinear(model.model.embed_tokens.weight, null, INT8_DECODE).eval();
  model.eval();
}
