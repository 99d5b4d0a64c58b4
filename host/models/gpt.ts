// A decoder-only GPT with GPT-2's architecture and Hugging Face's parameter
// names (GPT2Model: `wte.weight`, `h.{i}.attn.c_attn.weight`, ...), so a
// model.safetensors from the hub loads as it is, and what we save loads in
// transformers' GPT2LMHeadModel. Pre-norm blocks, GELU with the tanh
// approximation, causal attention, the LM head tied to `wte`.
//
// Layout note: GPT-2's linear layers are `Conv1D` modules whose weight is
// [in, out] (y = x·W + b), the transpose of nn.Linear's. We keep that layout so
// weights move without transposes; the forward is a plain matmul.
//
// Generation keeps a KV cache per layer: the prompt is run once, then each new
// token runs alone against the cached keys and values (the attention kernel
// aligns the causal mask bottom-right when Sk > Sq, which is what that needs).

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { Module, parameter } from "../nn/module.js";
import { LayerNorm } from "../nn/layers.js";
import { crossEntropy } from "../nn/functional.js";
import { checkOptions, checkInt, checkNumber, checkBool, checkProb } from "../ops/util.js";
import { noGrad } from "../autograd.js";
import { scope } from "../scope.js";
import { rng } from "../random.js";
import type { StoredTensor } from "../io/safetensors.js";

/** GPT-2's hyper-parameters, with transformers' GPT2Config names. */
export interface GPTConfig {
  vocabSize: number;
  /** Context length (n_positions). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Dropout on embeddings, attention output and MLP output while training (GPT-2: 0.1). */
  dropout?: number;
  layerNormEps?: number;
}

/** GPT-2 small (124M): vocab 50257, 1024 positions, 768 wide, 12 layers, 12 heads. */
export const GPT2_SMALL: GPTConfig = { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEps: 1e-5 };

function normalParam(shape: number[], std: number): Tensor {
  return parameter(ops.randn(shape).mul_(std));
}

/**
 * GPT-2's Conv1D: y = x·W + b with W [in, out] (the transpose of nn.Linear).
 * @example const c = new Conv1D(8, 24); c.forward(wg.zeros([2, 5, 8])).shape; // [2, 5, 24]
 */
export class Conv1D extends Module {
  weight: Tensor;
  bias: Tensor;
  constructor(readonly nIn: number, readonly nOut: number, std = 0.02) {
    super();
    this.weight = normalParam([nIn, nOut], std);
    this.bias = parameter(ops.zeros([nOut]));
  }
  forward(x: Tensor): Tensor {
    return ops.add(ops.matmul(x, this.weight), this.bias);
  }
}

/** One layer's cached keys and values, [B, H, S, D] each. */
export interface LayerCache {
  k: Tensor | null;
  v: Tensor | null;
}

/**
 * Appends this step's keys and values [B, H, T, D] to a layer's growing cache
 * (along the sequence) and returns all of them, to attend over: the cache
 * keeps detached, persistent copies (the gradient still flows through the
 * returned tensors), and frees what it held before.
 * @example const layer = { k: null, v: null }; appendLayerCache(layer, wg.zeros([1, 2, 3, 4]), wg.zeros([1, 2, 3, 4]))[0].shape; // [1, 2, 3, 4]
 */
export function appendLayerCache(cache: LayerCache, k: Tensor, v: Tensor): [Tensor, Tensor] {
  if (cache.k && cache.v) {
    k = ops.cat([cache.k, k], 2);
    v = ops.cat([cache.v, v], 2);
    cache.k.dispose();
    cache.v.dispose();
  }
  cache.k = k.detach().keep();
  cache.v = v.detach().keep();
  return [k, v];
}

/**
 * Keys and values of every layer for the tokens seen so far; `length` is how many.
 * Its tensors are persistent; dispose() gives them back.
 * @example const cache = new KVCache(gpt.config.nLayer); gpt.forward(ids, { cache }); cache.length; // 4
 * cache.dispose();
 */
export class KVCache {
  layers: LayerCache[];
  length = 0;
  constructor(nLayer: number) {
    this.layers = Array.from({ length: nLayer }, () => ({ k: null, v: null }));
  }
  dispose(): void {
    for (const l of this.layers) {
      l.k?.dispose();
      l.v?.dispose();
      l.k = l.v = null;
    }
    this.length = 0;
  }
}

/** Causal multi-head self-attention with GPT-2's fused q/k/v projection (`c_attn`, [C, 3C]). */
export class GPT2Attention extends Module {
  c_attn: Conv1D;
  c_proj: Conv1D;
  constructor(readonly nEmbd: number, readonly nHead: number, projStd: number, readonly dropout = 0) {
    super();
    if (nEmbd % nHead) throw new Error(`GPT2Attention: n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
    this.c_attn = new Conv1D(nEmbd, 3 * nEmbd);
    this.c_proj = new Conv1D(nEmbd, nEmbd, projStd);
  }
  /** x [B, T, C]; with a layer cache, appends this step's keys/values to it and attends over all of them. */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape;
    const H = this.nHead, D = C / H;
    const qkv = this.c_attn.forward(x);
    const heads = (i: number) => ops.permute(ops.reshape(ops.slice(qkv, 2, i * C, (i + 1) * C), [B, T, H, D]), [0, 2, 1, 3]);
    const q = heads(0);
    let k = heads(1), v = heads(2);
    if (cache) [k, v] = appendLayerCache(cache, k, v);
    const y = ops.scaledDotProductAttention(q, k, v, { causal: true });
    const merged = ops.reshape(ops.permute(y, [0, 2, 1, 3]), [B, T, C]);
    return ops.dropout(this.c_proj.forward(merged), this.dropout, this.training && this.dropout > 0);
  }
}

/** GPT-2's MLP: c_fc (C → 4C), GELU (tanh approximation), c_proj (4C → C). */
export class GPT2MLP extends Module {
  c_fc: Conv1D;
  c_proj: Conv1D;
  constructor(nEmbd: number, projStd: number, readonly dropout = 0) {
    super();
    this.c_fc = new Conv1D(nEmbd, 4 * nEmbd);
    this.c_proj = new Conv1D(4 * nEmbd, nEmbd, projStd);
  }
  forward(x: Tensor): Tensor {
    const h = ops.gelu(this.c_fc.forward(x), "tanh");
    return ops.dropout(this.c_proj.forward(h), this.dropout, this.training && this.dropout > 0);
  }
}

/** A pre-norm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class GPT2Block extends Module {
  ln_1: LayerNorm;
  attn: GPT2Attention;
  ln_2: LayerNorm;
  mlp: GPT2MLP;
  constructor(c: GPTConfig) {
    super();
    // GPT-2 scales the residual projections' init by 1/√(2·n_layer)
    const projStd = 0.02 / Math.sqrt(2 * c.nLayer);
    const eps = c.layerNormEps ?? 1e-5;
    this.ln_1 = new LayerNorm(c.nEmbd, eps);
    this.attn = new GPT2Attention(c.nEmbd, c.nHead, projStd, c.dropout ?? 0);
    this.ln_2 = new LayerNorm(c.nEmbd, eps);
    this.mlp = new GPT2MLP(c.nEmbd, projStd, c.dropout ?? 0);
  }
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const a = ops.add(x, this.attn.forward(this.ln_1.forward(x), cache));
    return ops.add(a, this.mlp.forward(this.ln_2.forward(a)));
  }
}

/**
 * GPT-2 (transformers' GPT2Model names) with the LM head tied to `wte`.
 *
 * @example
 * const gpt = new GPT({ vocabSize: 100, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 4 });
 * const logits = gpt.forward(wg.tensor([[1, 2, 3]], { dtype: "int32" }));
 * logits.shape; // [1, 3, 100]
 */
export class GPT extends Module {
  wte: { weight: Tensor } & Module;
  wpe: { weight: Tensor } & Module;
  h: GPT2Block[];
  ln_f: LayerNorm;
  /**
   * The output head when it is not the tied f32 one (x·wteᵀ): wg.quantizeDynamic
   * puts an int8 copy of wte here (issue 16), the embedding lookups keep wte in f32.
   */
  lmHead: Module | null = null;
  readonly config: GPTConfig;
  constructor(config: GPTConfig) {
    super();
    checkOptions("GPT", config, ["vocabSize", "nPositions", "nEmbd", "nLayer", "nHead", "dropout", "layerNormEps"]);
    if (config === undefined) throw new Error("GPT: a config { vocabSize, nPositions, nEmbd, nLayer, nHead } is required");
    for (const k of ["vocabSize", "nPositions", "nEmbd", "nLayer", "nHead"] as const) checkInt("GPT", k, config[k], 1);
    checkProb("GPT", "dropout", config.dropout);
    if (config.layerNormEps !== undefined) checkNumber("GPT", "layerNormEps", config.layerNormEps, 0);
    this.config = { dropout: 0, layerNormEps: 1e-5, ...config };
    this.wte = new Table(config.vocabSize, config.nEmbd, 0.02);
    this.wpe = new Table(config.nPositions, config.nEmbd, 0.01);
    this.h = Array.from({ length: config.nLayer }, () => new GPT2Block(this.config));
    this.ln_f = new LayerNorm(config.nEmbd, this.config.layerNormEps);
  }

  /**
   * Logits [B, T, vocab] for int32 token ids [B, T]. With a cache, the ids are
   * the next tokens after the `cache.length` already seen, and the cache grows.
   * @example
   * const prompt = wg.tensor([[1, 2, 3]], { dtype: "int32" }), nextToken = wg.tensor([[4]], { dtype: "int32" });
   * const cache = new KVCache(2); gpt.forward(prompt, { cache }); gpt.forward(nextToken, { cache }).shape; // [1, 1, 100]
   */
  forward(ids: Tensor, opts: { cache?: KVCache } = {}): Tensor {
    checkOptions("GPT.forward", opts, ["cache"]);
    if (opts.cache !== undefined && !(opts.cache instanceof KVCache)) throw new Error("GPT.forward: cache must be a KVCache");
    if (ids.rank !== 2 || ids.dtype !== "int32") throw new Error(`GPT: ids must be int32 [B, T], got ${ids.dtype} [${ids.shape}]`);
    const [, T] = ids.shape;
    const past = opts.cache?.length ?? 0;
    if (past + T > this.config.nPositions) {
      throw new Error(`GPT: ${past} cached + ${T} new tokens exceed the context of ${this.config.nPositions} positions`);
    }
    const pos = ops.tensor(Int32Array.from({ length: T }, (_, i) => past + i), { dtype: "int32" });
    let x = ops.add(ops.embedding(ids, this.wte.weight), ops.embedding(pos, this.wpe.weight));
    x = ops.dropout(x, this.config.dropout ?? 0, this.training && (this.config.dropout ?? 0) > 0);
    this.h.forEach((block, i) => (x = block.forward(x, opts.cache?.layers[i])));
    if (opts.cache) opts.cache.length += T;
    const h = this.ln_f.forward(x);
    return this.lmHead ? this.lmHead.forward(h) : ops.linear(h, this.wte.weight);
  }

  /**
   * Mean cross-entropy (nats per token) of predicting targets [B, T] from ids [B, T].
   * @example const loss = gpt.loss(ids.slice(1, 0, 3), ids.slice(1, 1, 4)); loss.backward(); // ids [1, 4]: predict each next token
   */
  loss(ids: Tensor, targets: Tensor): Tensor {
    const logits = this.forward(ids);
    const [B, T, V] = logits.shape;
    return crossEntropy(ops.reshape(logits, [B * T, V]), ops.reshape(targets, [B * T]));
  }
}

/** An embedding table named like nn.Embedding (`weight`), with GPT-2's N(0, std) init. */
class Table extends Module {
  weight: Tensor;
  constructor(num: number, dim: number, std: number) {
    super();
    this.weight = normalParam([num, dim], std);
  }
  forward(idx: Tensor): Tensor {
    return ops.embedding(idx, this.weight);
  }
}

// ---------------------------------------------------------------- sampling

/** How to pick each next token. */
export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or absent: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or absent: all). */
  topP?: number;
}

const SAMPLING = ["temperature", "topK", "topP"];

/** Sampling options under `who`'s name: temperature ≥ 0, topK an integer ≥ 0, topP in (0, 1]. */
function checkSampling(who: string, opts: SamplingOptions, known: readonly string[] = SAMPLING): void {
  checkOptions(who, opts, known);
  if (opts.temperature !== undefined) checkNumber(who, "temperature", opts.temperature, 0);
  if (opts.topK !== undefined) checkInt(who, "topK", opts.topK, 0);
  if (opts.topP !== undefined) checkNumber(who, "topP", opts.topP, 0, 1, true);
}

/**
 * The distribution sampling draws from: softmax(logits / temperature) restricted
 * to the top-k tokens, then to the nucleus of probability topP, renormalised
 * (the order transformers applies them). Zeros mark removed tokens.
 *
 * @example
 * samplingProbabilities(new Float32Array([2, 1, 0]), { topK: 2 }); // Float64Array [0.7310…, 0.2689…, 0]
 */
export function samplingProbabilities(logits: ArrayLike<number>, opts: SamplingOptions = {}): Float64Array {
  checkSampling("samplingProbabilities", opts);
  const n = logits.length;
  const t = opts.temperature ?? 1;
  if (!(t > 0)) throw new Error(`samplingProbabilities: temperature must be > 0 here (0 means greedy), got ${t}`);
  const k = opts.topK && opts.topK > 0 ? Math.min(opts.topK, n) : n;
  const order = bestFirst(logits, k);
  const p = new Float64Array(n);
  const max = logits[order[0]] / t;
  let sum = 0;
  for (let r = 0; r < k; r++) sum += p[order[r]] = Math.exp(logits[order[r]] / t - max);
  let keep = k;
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let cum = 0;
    keep = 0;
    while (keep < k) {
      cum += p[order[keep++]] / sum;
      if (cum >= topP) break;
    }
    for (let r = keep; r < k; r++) p[order[r]] = 0;
    sum = 0;
    for (let r = 0; r < keep; r++) sum += p[order[r]];
  }
  for (let r = 0; r < keep; r++) p[order[r]] /= sum;
  return p;
}

/**
 * The indices of the k largest logits, largest first (ties: lower index
 * first). A Float32Array (a model's logits) goes through numeric keys, so a
 * 150k-token vocabulary costs a selection and a typed sort, not a comparator
 * sort of every index (about 90 ms a token); other arrays take the comparator.
 */
function bestFirst(logits: ArrayLike<number>, k: number): ArrayLike<number> {
  const n = logits.length;
  const bits = Math.max(1, Math.ceil(Math.log2(n)));
  if (!(logits instanceof Float32Array) || 32 + bits > 53) {
    return Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k);
  }
  // key = (rank of the float32 value, largest first) · 2^bits + index: unique, and ascending keys are the order wanted
  const words = new Uint32Array(logits.buffer, logits.byteOffset, n), scale = 2 ** bits;
  const keyOf = (i: number) => {
    let b = words[i];
    if (b === 0x80000000) b = 0; // −0 ranks with +0, as the comparator's subtraction has it
    return (b & 0x80000000 ? b : 0x7fffffff - b) * scale + i;
  };
  let keys: Float64Array, m = 0;
  if (k === n) {
    keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = keyOf(i);
    m = n;
  } else {
    // one pass keeping candidates below the k-th smallest key seen so far: a few k of them, not n
    const cap = Math.max(4 * k, 64);
    keys = new Float64Array(cap);
    let threshold = Infinity;
    for (let i = 0; i < n; i++) {
      const key = keyOf(i);
      if (key >= threshold) continue;
      keys[m++] = key;
      if (m === cap) {
        selectSmallest(keys, k);
        m = k;
        threshold = -Infinity;
        for (let r = 0; r < k; r++) threshold = Math.max(threshold, keys[r]);
      }
    }
    if (m > k) selectSmallest(keys.subarray(0, m), k);
  }
  const top = keys.subarray(0, Math.min(k, m)).sort();
  const out = new Int32Array(top.length);
  for (let r = 0; r < top.length; r++) out[r] = top[r] % scale;
  return out;
}

/** Rearranges a so that its k smallest values are a[0..k) (in no order): quickselect. */
function selectSmallest(a: Float64Array, k: number): void {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

/**
 * One token id from logits: the argmax at temperature 0, else a draw from
 * samplingProbabilities with `random()` in [0, 1).
 * @example sampleToken(new Float32Array([0, 5, 1]), { temperature: 0 }, Math.random); // 1
 */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, random: () => number): number {
  checkSampling("sampleToken", opts);
  if ((opts.temperature ?? 1) === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const p = samplingProbabilities(logits, opts);
  let u = random(), last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    last = i;
    if ((u -= p[i]) < 0) return i;
  }
  return last; // rounding left u a hair above zero
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seed of the draws: the same seed, prompt and weights give the same tokens. Default 0. */
  seed?: number;
  /** Reuse cached keys/values (default true); false recomputes the whole context every step. */
  useCache?: boolean;
  /** Stop after emitting this token id. */
  stopToken?: number;
  /** Called with each new token id as it is chosen. */
  onToken?: (id: number) => void;
}

/**
 * Continues `prompt` (token ids) by up to maxNewTokens tokens; returns the new ids.
 * With the cache, the prompt runs once and each step feeds one token. When the
 * context is full the window slides: the cache restarts from the last
 * nPositions/2 tokens.
 *
 * @example
 * const ids = generate(gpt, [1, 2, 3], { maxNewTokens: 10, temperature: 0.8, topK: 40, seed: 1 });
 */
export function generate(model: GPT, prompt: number[], opts: GenerateOptions): number[] {
  const steps = generateSteps("generate", model, prompt, opts);
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    const last = r.value;
    const row = Float32Array.from(last.view() as Float32Array);
    last.dispose();
    r = steps.next(row);
  }
}

/**
 * generate() on every backend: each step's logits are read back with await
 * (at once on wasm, a readback on WebGPU), so the same seed, prompt and
 * weights give the same tokens as generate().
 *
 * @example
 * const ids = await generateAsync(gpt, [1, 2, 3], { maxNewTokens: 10, temperature: 0.8, topK: 40, seed: 1 });
 */
export async function generateAsync(model: GPT, prompt: number[], opts: GenerateOptions): Promise<number[]> {
  const steps = generateSteps("generateAsync", model, prompt, opts);
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    const last = r.value;
    let row: Float32Array;
    try {
      row = Float32Array.from(await last.data());
    } catch (e) {
      steps.return([]); // runs the loop's finally: the cache is freed, the mode restored
      throw e;
    } finally {
      last.dispose();
    }
    r = steps.next(row);
  }
}

/**
 * The decoding loop of generate and generateAsync: yields each step's
 * last-position logits [V] (a tensor the caller reads and disposes) and is
 * resumed with their values; returns the new ids.
 */
function* generateSteps(who: string, model: GPT, prompt: number[], opts: GenerateOptions): Generator<Tensor, number[], Float32Array> {
  if (typeof opts !== "object" || opts === null) throw new Error(`${who}: options { maxNewTokens } are required`);
  checkSampling(who, opts, [...SAMPLING, "maxNewTokens", "seed", "useCache", "stopToken", "onToken"]);
  checkInt(who, "maxNewTokens", opts.maxNewTokens, 0);
  if (opts.seed !== undefined) checkInt(who, "seed", opts.seed);
  checkBool(who, "useCache", opts.useCache);
  if (opts.stopToken !== undefined) checkInt(who, "stopToken", opts.stopToken, 0);
  if (opts.onToken !== undefined && typeof opts.onToken !== "function") throw new Error(`${who}: onToken must be a function, got ${typeof opts.onToken}`);
  const sampling: SamplingOptions = { temperature: opts.temperature, topK: opts.topK, topP: opts.topP };
  if (prompt.length === 0) throw new Error(`${who}: the prompt needs at least one token`);
  const V = model.config.vocabSize, N = model.config.nPositions;
  for (const id of prompt) if (!(id >= 0 && id < V)) throw new Error(`${who}: token id ${id} is outside the vocabulary of ${V}`);
  const random = rng(opts.seed ?? 0);
  const useCache = opts.useCache ?? true;
  const seq = [...prompt];
  const out: number[] = [];
  const wasTraining = model.training;
  model.eval();
  const cache = useCache ? new KVCache(model.config.nLayer) : null;
  try {
    let feed = seq.slice(-N);
    for (let step = 0; step < opts.maxNewTokens; step++) {
      if (cache && cache.length + feed.length > N) {
        cache.dispose();
        feed = seq.slice(-Math.max(1, N >> 1));
      }
      const last = scope(() => noGrad(() => {
        const ids = ops.tensor(Int32Array.from(feed), { dtype: "int32", shape: [1, feed.length] });
        const l = model.forward(ids, { cache: cache ?? undefined });
        return l.reshape(feed.length, V).slice(0, feed.length - 1, feed.length).reshape(V);
      }));
      const logits = yield last;
      const next = sampleToken(logits, sampling, random);
      seq.push(next);
      out.push(next);
      opts.onToken?.(next);
      if (next === opts.stopToken) break;
      feed = cache ? [next] : seq.slice(-N);
    }
  } finally {
    cache?.dispose();
    model.train(wasTraining);
  }
  return out;
}

// ---------------------------------------------------- Hugging Face weights

/** HF names of a GPT-2 with this config, with their shapes, in GPT2Model's order. */
export function gpt2ParameterShapes(c: GPTConfig): Record<string, number[]> {
  const C = c.nEmbd;
  const s: Record<string, number[]> = { "wte.weight": [c.vocabSize, C], "wpe.weight": [c.nPositions, C] };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `h.${i}.`;
    Object.assign(s, {
      [p + "ln_1.weight"]: [C], [p + "ln_1.bias"]: [C],
      [p + "attn.c_attn.weight"]: [C, 3 * C], [p + "attn.c_attn.bias"]: [3 * C],
      [p + "attn.c_proj.weight"]: [C, C], [p + "attn.c_proj.bias"]: [C],
      [p + "ln_2.weight"]: [C], [p + "ln_2.bias"]: [C],
      [p + "mlp.c_fc.weight"]: [C, 4 * C], [p + "mlp.c_fc.bias"]: [4 * C],
      [p + "mlp.c_proj.weight"]: [4 * C, C], [p + "mlp.c_proj.bias"]: [C],
    });
  }
  s["ln_f.weight"] = [C];
  s["ln_f.bias"] = [C];
  return s;
}

/**
 * Reads GPT2Config's shape from HF-named tensors: vocab and width from
 * `wte.weight`, context from `wpe.weight`, depth from the highest `h.{i}`.
 * The head count is not in the weights: pass it (GPT-2 uses 64-wide heads).
 */
export function inferGPTConfig(tensors: Record<string, { shape: readonly number[] }>, nHead?: number): GPTConfig {
  const t = stripPrefix(tensors);
  const wte = t["wte.weight"], wpe = t["wpe.weight"];
  if (!wte || !wpe) throw new Error(`GPT-2 weights: no "wte.weight"/"wpe.weight" among ${Object.keys(tensors).length} tensors (first: ${Object.keys(tensors).slice(0, 5).join(", ")}); is this a GPT-2 checkpoint?`);
  if (wte.shape.length !== 2 || wpe.shape.length !== 2 || wte.shape[1] !== wpe.shape[1]) {
    throw new Error(`GPT-2 weights: wte.weight [${wte.shape}] and wpe.weight [${wpe.shape}] must be [vocab, C] and [positions, C]`);
  }
  let nLayer = 0;
  for (const k of Object.keys(t)) {
    const m = /^h\.(\d+)\./.exec(k);
    if (m) nLayer = Math.max(nLayer, +m[1] + 1);
  }
  const C = wte.shape[1];
  const heads = nHead ?? Math.max(1, Math.round(C / 64));
  return { vocabSize: wte.shape[0], nPositions: wpe.shape[0], nEmbd: C, nLayer, nHead: heads };
}

// transformers saves GPT2LMHeadModel with a "transformer." prefix and a tied
// lm_head.weight; GPT2Model without. The causal-mask buffers (`attn.bias`,
// `attn.masked_bias`) of older checkpoints are constants, not weights.
function stripPrefix<T>(tensors: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(tensors)) {
    const name = k.startsWith("transformer.") ? k.slice("transformer.".length) : k;
    if (name === "lm_head.weight" || /^h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) continue;
    out[name] = v;
  }
  return out;
}

/**
 * Copies HF-named GPT-2 tensors (from loadSafetensors) into `model`, checking
 * that every name is present with the right shape and nothing is left over.
 *
 * @example
 * const small = new GPT({ vocabSize: 50, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2 });
 * await wg.io.saveSafetensors("model.safetensors", gpt2StateDict(small)); // as HF's gpt2/model.safetensors is
 * const { tensors } = await wg.io.loadSafetensors("model.safetensors");
 * const gpt = new GPT(inferGPTConfig(tensors, 2)); loadGPT2Weights(gpt, tensors);
 * gpt.config.nEmbd; // 16
 */
export function loadGPT2Weights(model: GPT, tensors: Record<string, StoredTensor | Tensor>): void {
  const t = stripPrefix(tensors);
  const want = gpt2ParameterShapes(model.config);
  const missing = Object.keys(want).filter((k) => !(k in t));
  const unexpected = Object.keys(t).filter((k) => !(k in want));
  const wrong = Object.keys(want).filter((k) => k in t && t[k].shape.join() !== want[k].join())
    .map((k) => `${k} is [${t[k].shape}], expected [${want[k]}]`);
  if (missing.length || unexpected.length || wrong.length) {
    const parts = [];
    if (missing.length) parts.push(`missing ${missing.slice(0, 6).join(", ")}${missing.length > 6 ? ` and ${missing.length - 6} more` : ""}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.slice(0, 6).join(", ")}${unexpected.length > 6 ? ` and ${unexpected.length - 6} more` : ""}`);
    if (wrong.length) parts.push(wrong.slice(0, 6).join("; "));
    throw new Error(`GPT-2 weights do not fit a model with n_embd ${model.config.nEmbd}, n_layer ${model.config.nLayer}, vocab ${model.config.vocabSize}, ${model.config.nPositions} positions: ${parts.join("; ")}`);
  }
  for (const [k, v] of Object.entries(t)) {
    if (v.dtype !== "float32") throw new Error(`GPT-2 weights: ${k} holds ${v.dtype} values, expected floats (F32, F16 or BF16)`);
  }
  model.loadStateDict(t as Record<string, Tensor | StoredTensor>);
}

/**
 * The model's tensors under HF's GPT2Model names (the tied head is not stored, as transformers does).
 * @example await wg.io.saveSafetensors("model.safetensors", gpt2StateDict(gpt), { format: "pt" });
 */
export function gpt2StateDict(model: GPT): Record<string, Tensor> {
  return model.stateDict();
}
