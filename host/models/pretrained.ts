// loadPretrained: a Hugging Face model folder (config.json, safetensors
// weights whole or sharded, generation_config.json, tokenizer.json,
// tokenizer_config.json, the chat template) into a webgrad model, its
// tokenizer and its generation defaults, from a folder, a URL base, a browser
// directory handle or picked files (host/models/source.ts).
//
// Weights are read one tensor at a time (SafetensorsFile): decoded to f32,
// written into the model, dropped. With { dtype: "int8" } the model is built
// with its Linear layers deferred (nn.deferLinears), and each projection is
// quantised from its stored tensor as it is read, so the f32 copy of all the
// projections never exists: peak memory stays near the int8 model's size,
// which is what lets a 1B-parameter model load into wasm32's 4 GiB.

import { Module } from "../nn/module.js";
import { Linear, deferLinears } from "../nn/layers.js";
import { QuantizedLinear } from "../nn/quantized.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { noGrad } from "../autograd.js";
import { scope } from "../scope.js";
import { checkOptions, shapeStr } from "../ops/util.js";
import { quantizeDynamic } from "../deploy.js";
import { SafetensorsFile, type StoredTensor, type SafetensorsLimits } from "../io/safetensors.js";
import { isJsonObject } from "../io/strict-json.js";
import { GPT, loadGPT2Weights, type GPTConfig } from "./gpt.js";
import { PretrainedTokenizer } from "./tokenizer.js";
import { modelSource, type ModelSource, type ModelSourceLike } from "./source.js";
import { createCausalLM, LlamaForCausalLM, SUPPORTED_ARCHITECTURES, type GenerationConfig, type LlamaConfig } from "./llama.js";

/** Options of loadPretrained. */
export interface PretrainedOptions {
  /** "float32" (default): every weight in f32. "int8": the Linear projections int8 per output channel (inference only), the rest f32. */
  dtype?: "float32" | "int8";
  /**
   * With dtype "int8": keep the weight-only int8 rows batch-1 decoding reads
   * (gemv_i8; default true, as createCausalLM's int8 load). false saves a byte
   * a weight (about 1 GB for a 1B model: what makes one fit wasm32's 4 GiB)
   * and decodes through the int8 GEMM instead.
   */
  int8Decode?: boolean;
  /** Limits on each safetensors header (raise them for files you trust). */
  limits?: SafetensorsLimits;
}

/** What loadPretrained returns. */
export interface Pretrained {
  /** A LlamaForCausalLM (Llama, Qwen2, Mistral: generate() and stream() read generationConfig) or, for gpt2 folders, a GPT. */
  model: LlamaForCausalLM | GPT;
  /** null when the folder has no tokenizer.json. */
  tokenizer: PretrainedTokenizer | null;
  /** config.json as it is. */
  config: Record<string, unknown>;
  /**
   * generation_config.json (transformers' names: eos_token_id, which may be a
   * list, do_sample, temperature, top_k, top_p, repetition_penalty, …), its
   * token ids filled from config.json and the tokenizer where it has none; a
   * Llama-family model's generate() reads it as its defaults (model.generationConfig).
   */
  generationConfig: GenerationConfig;
  /** The chat template source, where the folder has one. */
  chatTemplate?: string;
}

const WEIGHTS = "model.safetensors", INDEX = "model.safetensors.index.json";

/**
 * Loads a Hugging Face model folder: the model (Llama, Qwen2, Mistral or
 * GPT-2, by config.json's model_type) with its weights from model.safetensors
 * or a sharded model.safetensors.index.json, the tokenizer (tokenizer.json
 * through @huggingface/tokenizers), the chat template and
 * generation_config.json. `source` is a folder path (Node, Deno, Bun), a URL
 * base (`${base}/config.json` is fetched), a FileSystemDirectoryHandle
 * (showDirectoryPicker(), or OPFS's navigator.storage.getDirectory()), the
 * Files of an <input webkitdirectory>, or a ModelSource. F32, F16 and BF16
 * weights load into f32; `{ dtype: "int8" }` quantises the Linear
 * projections per output channel as they are read (inference only).
 * @example
 * const gpt2 = new wg.models.GPT({ vocabSize: 50, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 });
 * await wg.io.saveSafetensors("tiny/model.safetensors", gpt2.stateDict());
 * await wg.io.writeFileAtomic("tiny/config.json", new TextEncoder().encode(JSON.stringify(
 *   { model_type: "gpt2", vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 })));
 * const { model, generationConfig } = await wg.models.loadPretrained("tiny");
 * model.forward(wg.tensor([[1, 2, 3]], { dtype: "int32" })).shape; // [1, 3, 50]
 * generationConfig.eos_token_id; // null
 */
export async function loadPretrained(source: ModelSourceLike, opts: PretrainedOptions = {}): Promise<Pretrained> {
  checkOptions("loadPretrained", opts, ["dtype", "int8Decode", "limits"]);
  if (opts.int8Decode !== undefined && typeof opts.int8Decode !== "boolean") throw new Error(`loadPretrained: int8Decode must be true or false, got ${JSON.stringify(opts.int8Decode)}`);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "int8") throw new Error(`loadPretrained: dtype must be "float32" or "int8", got ${JSON.stringify(dtype)}`);
  const src = modelSource(source);
  if (!(await src.has("config.json"))) {
    throw new Error(`loadPretrained: ${src.description} has no config.json; pass the folder that holds a Hugging Face model's config.json, model.safetensors and tokenizer.json`);
  }
  const config = await src.readJson("config.json");
  if (!isJsonObject(config)) throw new Error(`loadPretrained: ${src.description}/config.json is not a JSON object`);
  const files = await openWeights(src, opts.limits ?? {});
  const model = isGPT2(config) ? await loadGPT2(config, files, dtype) : await loadCausal(config, files, dtype, { decode: opts.int8Decode ?? true });
  const { tokenizer, chatTemplate } = await loadTokenizer(src);
  const generationConfig = await loadGenerationConfig(src, config, tokenizer);
  if (model instanceof LlamaForCausalLM) model.generationConfig = generationConfig;
  return { model, tokenizer, config, generationConfig, ...(chatTemplate ? { chatTemplate } : {}) };
}

// ----------------------------------------------------------------- weights

/** The tensors of a folder: which open file holds each name. */
interface WeightFiles {
  where: Map<string, SafetensorsFile>;
  description: string;
}

async function openFile(src: ModelSource, name: string, limits: SafetensorsLimits): Promise<SafetensorsFile> {
  try {
    if (src.openRange) {
      const { size, read } = await src.openRange(name);
      return await SafetensorsFile.open(read, size, limits);
    }
    return SafetensorsFile.fromBytes(await src.readBytes(name), limits);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith("safetensors:") ? `${src.description}/${name}: ${msg}` : msg);
  }
}

/** model.safetensors, or the shards model.safetensors.index.json's weight_map names (each checked against its shard). */
async function openWeights(src: ModelSource, limits: SafetensorsLimits): Promise<WeightFiles> {
  const where = new Map<string, SafetensorsFile>();
  if (await src.has(INDEX)) {
    const index = await src.readJson(INDEX);
    if (!isJsonObject(index) || !isJsonObject(index.weight_map)) throw new Error(`loadPretrained: ${src.description}/${INDEX} has no weight_map object {tensor name: shard file}`);
    const map = index.weight_map as Record<string, unknown>;
    const shards = new Map<string, SafetensorsFile>();
    for (const shard of new Set(Object.values(map))) {
      if (typeof shard !== "string") throw new Error(`loadPretrained: ${INDEX}'s weight_map names a shard ${JSON.stringify(shard)}, not a file name`);
      if (!(await src.has(shard))) throw new Error(`loadPretrained: ${INDEX} maps tensors to ${shard}, which is not in ${src.description} (an incomplete download?)`);
      shards.set(shard, await openFile(src, shard, limits));
    }
    for (const [name, shard] of Object.entries(map)) {
      const file = shards.get(shard as string)!;
      if (!file.has(name)) throw new Error(`loadPretrained: ${INDEX} puts ${name} in ${shard}, which has no such tensor`);
      where.set(name, file);
    }
    return { where, description: `${src.description}/${INDEX}` };
  }
  if (!(await src.has(WEIGHTS))) {
    const bin = await src.has("pytorch_model.bin");
    throw new Error(`loadPretrained: ${src.description} has neither ${WEIGHTS} nor ${INDEX}` + (bin ? " (pytorch_model.bin is a pickle, not read here: convert it to safetensors)" : ""));
  }
  const file = await openFile(src, WEIGHTS, limits);
  for (const name of file.names) where.set(name, file);
  return { where, description: `${src.description}/${WEIGHTS}` };
}

async function read(files: WeightFiles, name: string): Promise<StoredTensor> {
  const t = await files.where.get(name)!.read(name);
  if (t.dtype !== "float32") throw new Error(`loadPretrained: ${name} holds integers (${files.where.get(name)!.entry(name).dtype}), a weight must be F32, F16 or BF16`);
  return t;
}

// ---------------------------------------------------------------- GPT-2

function isGPT2(config: Record<string, unknown>): boolean {
  return config.model_type === "gpt2";
}

function gpt2Config(c: Record<string, unknown>): GPTConfig {
  const int = (k: string, fallback?: number) => {
    const v = c[k] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`loadPretrained: config.json's ${k} must be a positive integer for gpt2, got ${JSON.stringify(c[k])}`);
    return v as number;
  };
  const eps = c.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== "number") throw new Error(`loadPretrained: config.json's layer_norm_epsilon must be a number, got ${JSON.stringify(eps)}`);
  return { vocabSize: int("vocab_size"), nPositions: int("n_positions", c.n_ctx as number), nEmbd: int("n_embd"), nLayer: int("n_layer"), nHead: int("n_head"), layerNormEps: eps };
}

/** GPT-2 keeps the existing model and its name checks; int8 swaps its Linears after the load (GPT-2 sizes fit in f32 first). */
async function loadGPT2(config: Record<string, unknown>, files: WeightFiles, dtype: string): Promise<GPT> {
  const model = new GPT(gpt2Config(config));
  const tensors: Record<string, StoredTensor> = {};
  for (const name of files.where.keys()) tensors[name] = await read(files, name);
  try {
    loadGPT2Weights(model, tensors);
  } catch (e) {
    model.dispose();
    throw new Error(`loadPretrained: ${files.description}: ${(e as Error).message}`);
  }
  model.eval();
  return dtype === "int8" ? quantizeDynamic(model) : model;
}

// ------------------------------------------------------- Llama and kin

/** A projection not built yet: loadPretrained replaces it by a QuantizedLinear made from its stored weight. */
class PendingLinear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, readonly hasBias: boolean) {
    super();
  }
  forward(): Tensor {
    throw new Error(`this Linear(${this.inFeatures}, ${this.outFeatures}) was never given its weights (an int8 load stopped half way)`);
  }
}

/** Every PendingLinear with its dotted name and the place it sits in its parent. */
function pendingLinears(m: Module, prefix = "", out: { name: string; layer: PendingLinear; put: (q: Module) => void }[] = []) {
  const own = m as unknown as Record<string, unknown>;
  for (const key of Object.keys(own)) {
    const v = own[key];
    if (v instanceof PendingLinear) out.push({ name: prefix + key, layer: v, put: (q) => (own[key] = q) });
    else if (v instanceof Module) pendingLinears(v, `${prefix}${key}.`, out);
    else if (Array.isArray(v)) {
      v.forEach((c, i) => {
        if (c instanceof PendingLinear) out.push({ name: `${prefix}${key}.${i}`, layer: c, put: (q) => (v[i] = q) });
        else if (c instanceof Module) pendingLinears(c, `${prefix}${key}.${i}.`, out);
      });
    }
  }
  return out;
}

/** A stored tensor as a wasm/GPU tensor of the expected shape (checked), freed when the scope ends. */
function asTensor(t: StoredTensor, name: string, shape: readonly number[]): Tensor {
  if (t.shape.join() !== shape.join()) throw new Error(`loadPretrained: ${name} is ${shapeStr(t.shape)} in the file, the model built from config.json expects ${shapeStr(shape)} (does config.json belong to these weights?)`);
  return tensor(t.data as Float32Array, { shape: [...t.shape] });
}

async function loadCausal(config: Record<string, unknown>, files: WeightFiles, dtype: string, int8Options: { decode: boolean }): Promise<LlamaForCausalLM> {
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  const known = Object.values(SUPPORTED_ARCHITECTURES);
  const type = typeof arch === "string" && Object.hasOwn(SUPPORTED_ARCHITECTURES, arch) ? SUPPORTED_ARCHITECTURES[arch] : config.model_type;
  if (typeof type !== "string" || !known.includes(type)) {
    const archs = Array.isArray(config.architectures) ? ` (architectures ${JSON.stringify(config.architectures)})` : "";
    throw new Error(`loadPretrained: model_type ${JSON.stringify(config.model_type ?? null)}${archs} is not supported; webgrad loads ${[...new Set(known), "gpt2"].join(", ")}`);
  }
  const int8 = dtype === "int8";
  // int8: the projections are never allocated in f32 (see the top of this file); f32: zeros, overwritten tensor by tensor
  const model = int8
    ? deferLinears(() => createCausalLM(config as LlamaConfig, { dtype: "int8" }), (i, o, b) => new PendingLinear(i, o, b))
    : createCausalLM(config as LlamaConfig, { init: false });
  const used = new Set<string>();
  try {
    // as the model resolved it (tie_word_embeddings has a default per model_type)
    const tied = model.config.tie_word_embeddings === true;
    // int8: each projection from its stored weight, one at a time
    for (const { name, layer, put } of int8 ? pendingLinears(model) : []) {
      let wname = `${name}.weight`;
      if (!files.where.has(wname) && tied && name === "lm_head") wname = embedName(files);
      if (!files.where.has(wname)) throw new Error(`loadPretrained: ${files.description} has no ${name}.weight, which the ${type} model needs`);
      const w = await read(files, wname);
      const b = layer.hasBias ? await read(files, `${name}.bias`).catch(() => { throw new Error(`loadPretrained: ${files.description} has no ${name}.bias, which the ${type} model needs`); }) : null;
      const q = scope(() => noGrad(() => new QuantizedLinear(asTensor(w, wname, [layer.outFeatures, layer.inFeatures]), b && asTensor(b, `${name}.bias`, [layer.outFeatures]), int8Options).eval()));
      put(q);
      used.add(wname);
      if (b) used.add(`${name}.bias`);
    }
    // everything else (and every weight in f32): into the model's own tensors
    const mine = model.namedParameters();
    const buffers = new Set(model.namedBuffers().map(([n]) => n));
    for (const [name, t] of [...mine, ...model.namedBuffers()]) {
      if (t instanceof Tensor && t.dtype !== "float32") continue;
      let from = name;
      if (!files.where.has(from) && tied && name === "lm_head.weight") from = embedName(files);
      if (!files.where.has(from)) {
        if (buffers.has(name)) continue; // computed from config.json (rotary frequencies), not stored
        throw new Error(`loadPretrained: ${files.description} has no ${name}, which the ${type} model needs`);
      }
      const stored = await read(files, from);
      scope(() => noGrad(() => t.copy_(asTensor(stored, from, t.shape))));
      used.add(from);
    }
    // a tied head in int8: an int8 copy of embed_tokens (the lookups keep the f32 table), as createCausalLM's own int8 load does
    if (int8 && model instanceof LlamaForCausalLM && !model.lm_head) model.lm_head = noGrad(() => new QuantizedLinear(model.model.embed_tokens.weight, null, int8Options).eval()) as unknown as Linear;
    // names nobody read: a checkpoint of another shape, or a file from another architecture
    const unexpected = [...files.where.keys()].filter((k) => !used.has(k) && !/\.rotary_emb\.inv_freq$/.test(k) && !(tied && k === "lm_head.weight"));
    if (unexpected.length) {
      throw new Error(`loadPretrained: ${files.description} has tensors the ${type} model built from config.json does not: ${unexpected.slice(0, 6).join(", ")}${unexpected.length > 6 ? ` and ${unexpected.length - 6} more` : ""}`);
    }
  } catch (e) {
    disposeLoaded(model);
    throw e;
  }
  return model.eval();
}

/** The input embedding's stored name (a tied head reads it). */
function embedName(files: WeightFiles): string {
  return [...files.where.keys()].find((k) => k.endsWith("embed_tokens.weight")) ?? "model.embed_tokens.weight";
}

function disposeLoaded(m: Module): void {
  try {
    m.dispose();
  } catch { /* a half-built model: what was allocated goes with the garbage collector */ }
}

// ---------------------------------------------------- tokenizer, generation

async function loadTokenizer(src: ModelSource): Promise<{ tokenizer: PretrainedTokenizer | null; chatTemplate: string | null }> {
  const config = (await src.has("tokenizer_config.json")) ? await src.readJson("tokenizer_config.json") : {};
  const jinja = (await src.has("chat_template.jinja")) ? new TextDecoder().decode(await src.readBytes("chat_template.jinja")) : null;
  if (!(await src.has("tokenizer.json"))) return { tokenizer: null, chatTemplate: jinja };
  const tokenizer = await PretrainedTokenizer.fromJSON(await src.readJson("tokenizer.json"), config, jinja);
  return { tokenizer, chatTemplate: tokenizer.chatTemplate };
}

async function loadGenerationConfig(src: ModelSource, config: Record<string, unknown>, tokenizer: PretrainedTokenizer | null): Promise<GenerationConfig> {
  const g = (await src.has("generation_config.json")) ? await src.readJson("generation_config.json") : {};
  if (!isJsonObject(g)) throw new Error(`loadPretrained: ${src.description}/generation_config.json is not a JSON object`);
  const out: GenerationConfig = { ...g };
  // transformers fills these from config.json; the tokenizer's special tokens are the last resort
  const fill = (k: "eos_token_id" | "bos_token_id" | "pad_token_id", fromTokenizer: number | null | undefined) => {
    const v = out[k] ?? config[k] ?? fromTokenizer ?? null;
    if (v !== null && !Number.isInteger(v) && !(k === "eos_token_id" && Array.isArray(v) && v.every(Number.isInteger))) {
      throw new Error(`loadPretrained: ${k} must be a token id${k === "eos_token_id" ? " or a list of them" : ""}, got ${JSON.stringify(v)}`);
    }
    out[k] = v as number;
  };
  fill("eos_token_id", tokenizer?.eosTokenId);
  fill("bos_token_id", tokenizer?.bosTokenId);
  fill("pad_token_id", tokenizer?.padTokenId);
  return out;
}
