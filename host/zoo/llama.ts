// A small Llama (host/models/llama.ts: RMSNorm, rotary embeddings, SwiGLU,
// grouped-query attention, tied embeddings) trained from scratch on the
// Chinese text of Debian's fortunes-zh, with a byte-level BPE trained on the
// same training text by Hugging Face's `tokenizers` (host/zoo/bpe.ts). It is
// saved as a Hugging Face folder — config.json, model.safetensors,
// generation_config.json, tokenizer.json, tokenizer_config.json with a chat
// template — that transformers and webgrad's loader both read, reloaded from
// that folder, checked (the reloaded model's validation loss is the trained
// one's), and asked to continue the seed's prompt 「今天天气很好，阳光明媚。」.
//
// `webgrad finetune llama --lora` then adapts the saved model to the 300 Tang
// poems with LoRA adapters on the attention projections and saves them in
// PEFT's layout beside the model, reporting the validation loss on held-out
// poems before and after.
//
// The corpus split is the gpt entry's (host/zoo/fortunes.ts: every 20th
// record to validation), so the Tang poems held out for the fine-tune are the
// ones the base model never trained on either. Figures: docs/ZOO-LLAMA.md.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AdamW } from "../optim/index.js";
import { manualSeed } from "../random.js";
import { saveSafetensors } from "../io/checkpoint.js";
import { createCausalLM, LlamaForCausalLM, type LlamaConfig } from "../models/llama.js";
import { loadPretrained } from "../models/pretrained.js";
import { PretrainedTokenizer } from "../models/tokenizer.js";
import { trainable } from "../deploy.js";
import * as lora from "../lora.js";
import type { ZooCommand, ProgressEvent, CliContext } from "./command.js";
import { trainByteLevelBpe, type TokenizerJson } from "./bpe.js";
import { SEED_PROMPT, FORTUNES_ZH, TANG300, readFortuneRecords, splitRecords, unigramCrossEntropy, evaluateLoss, trainOnWindows } from "./fortunes.js";

/** Where `webgrad train llama` writes the model folder when --weights does not say. */
export const LLAMA_FOLDER = "llama-zh";
/** Where `webgrad finetune llama --lora` writes the adapter: beside the model folder, this suffix added. */
export const LORA_SUFFIX = "-lora-tang";
/** A Tang-style prompt for the fine-tuned model: a title and a poet, as the Tang 300's records begin (no such poem is in them). */
export const TANG_PROMPT = "《春夜》\n作者：李白\n";
const SPECIALS = { unk: "<unk>", bos: "<s>", eos: "</s>" };

/** The model and training settings of a run. */
export interface LlamaRecipe {
  /** BPE vocabulary: 3 special tokens + 256 byte symbols + merges. */
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  /** Training (and validation) window in tokens. */
  context: number;
  /** config.json's max_position_embeddings: how long a generation may grow. */
  maxPositions: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Use only this many records of each split (quick runs); undefined: all. */
  records?: number;
}

/**
 * The default recipe: hidden 128, 4 layers, 4 heads sharing 2 key/value heads,
 * SwiGLU 352 (2.75×), rope_theta 10000, tied embeddings, a 3,000-token BPE;
 * 300 steps of 32 windows of 64 tokens, AdamW (lr 3e-3, betas 0.9/0.95,
 * weight decay 0.1 on matrices), 30 warm-up steps then cosine to lr/10.
 */
export const LLAMA_RECIPE: LlamaRecipe = {
  vocabSize: 3000, hiddenSize: 128, intermediateSize: 352, layers: 4, heads: 4, kvHeads: 2,
  context: 64, maxPositions: 256, batchSize: 32, steps: 300, lr: 3e-3, warmup: 30, weightDecay: 0.1,
};

/** `--quick`: a tiny model on 600 records, for tests (seconds, not minutes). */
export const QUICK_RECIPE: LlamaRecipe = {
  vocabSize: 600, hiddenSize: 32, intermediateSize: 88, layers: 2, heads: 4, kvHeads: 2,
  context: 32, maxPositions: 128, batchSize: 8, steps: 40, lr: 1e-2, warmup: 4, weightDecay: 0.1, records: 600,
};

/** How the fine-tune runs. */
export interface LoraRecipe {
  r: number;
  alpha: number;
  dropout: number;
  steps: number;
  batchSize: number;
  context: number;
  lr: number;
  warmup: number;
}

/** The default LoRA fine-tune: r 8, alpha 16, dropout 0.05 on q/k/v/o, 150 steps of 16 windows of 64 tokens, AdamW lr 2e-3. */
export const LORA_RECIPE: LoraRecipe = { r: 8, alpha: 16, dropout: 0.05, steps: 150, batchSize: 16, context: 64, lr: 2e-3, warmup: 10 };
/** `--quick`'s fine-tune. */
export const QUICK_LORA_RECIPE: LoraRecipe = { r: 8, alpha: 16, dropout: 0, steps: 30, batchSize: 8, context: 32, lr: 1e-2, warmup: 3 };
/** The projections LoRA adapts. */
export const LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"];

/**
 * config.json of the recipe's model, as transformers writes a LlamaForCausalLM's.
 * @example llamaConfig(LLAMA_RECIPE, 3000).num_key_value_heads; // 2
 */
export function llamaConfig(recipe: LlamaRecipe, vocabSize: number): LlamaConfig {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: vocabSize,
    hidden_size: recipe.hiddenSize,
    intermediate_size: recipe.intermediateSize,
    num_hidden_layers: recipe.layers,
    num_attention_heads: recipe.heads,
    num_key_value_heads: recipe.kvHeads,
    head_dim: recipe.hiddenSize / recipe.heads,
    hidden_act: "silu",
    max_position_embeddings: recipe.maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: true,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    initializer_range: 0.02,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: null,
    torch_dtype: "float32",
    use_cache: true,
  };
}

/** What the zoo needs of a tokenizer: text to ids (with or without <s>) and back. The loader's PretrainedTokenizer has this shape. */
export interface LlamaTokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
}

/**
 * tokenizer_config.json for the trained tokenizer: Llama's special tokens, <s>
 * added in front, no clean-up of spaces (the corpus has ASCII art and code),
 * and a simple chat template (问：… / 答：…, each answer closed by </s>).
 * @example tokenizerConfig(64).bos_token; // "<s>"
 */
export function tokenizerConfig(maxLength: number): Record<string, unknown> {
  const added = Object.fromEntries([SPECIALS.unk, SPECIALS.bos, SPECIALS.eos].map((content, id) =>
    [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]));
  return {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: added,
    bos_token: SPECIALS.bos,
    eos_token: SPECIALS.eos,
    unk_token: SPECIALS.unk,
    pad_token: null,
    clean_up_tokenization_spaces: false,
    legacy: false,
    model_max_length: maxLength,
    tokenizer_class: "PreTrainedTokenizerFast",
    chat_template:
      "{{ bos_token }}{% for message in messages %}" +
      "{% if message['role'] == 'user' %}{{ '问：' + message['content'] + '\\n' }}" +
      "{% elif message['role'] == 'assistant' %}{{ '答：' + message['content'] + eos_token + '\\n' }}" +
      "{% else %}{{ message['content'] + '\\n' }}{% endif %}{% endfor %}" +
      "{% if add_generation_prompt %}{{ '答：' }}{% endif %}",
  };
}

/**
 * A tokenizer.json document (and its tokenizer_config.json) as the loader reads
 * one (wg.models' PretrainedTokenizer, @huggingface/tokenizers underneath), so
 * the corpus is encoded exactly as the saved folder will be.
 * @example
 * import { trainByteLevelBpe } from "./bpe.js";
 * const json = await trainByteLevelBpe(["今天天气很好"], { vocabSize: 270 });
 * const tok = await jsonTokenizer(json, tokenizerConfig(64));
 * tok.encode("天气")[0]; // 1
 * tok.decode(tok.encode("天气"), { skipSpecialTokens: true }); // "天气"
 */
export function jsonTokenizer(json: unknown, config: Record<string, unknown>): Promise<LlamaTokenizer> {
  return PretrainedTokenizer.fromJSON(json, config); // async: the tokenizer libraries load on first use
}

/**
 * Records as one token stream: <s> record </s> <s> record </s> …, so the model
 * learns where a record starts and ends (generation stops at </s>).
 * @example
 * import { trainByteLevelBpe } from "./bpe.js";
 * const json = await trainByteLevelBpe(["今天天气很好"], { vocabSize: 270 });
 * const ids = encodeRecords(await jsonTokenizer(json, tokenizerConfig(64)), ["天", "气"]);
 * [ids[0], ids[2], ids[3], ids[5]]; // [1, 2, 1, 2]
 */
export function encodeRecords(tokenizer: LlamaTokenizer, records: string[]): Int32Array {
  const out: number[] = [];
  for (const r of records) {
    out.push(1);
    for (const id of tokenizer.encode(r, { addSpecialTokens: false })) out.push(id);
    out.push(2);
  }
  return Int32Array.from(out);
}

/** The pre-training corpus: the trained tokenizer and both splits as token streams. */
export interface LlamaCorpus {
  tokenizerJson: TokenizerJson;
  tokenizer: LlamaTokenizer;
  vocabSize: number;
  train: Int32Array;
  validation: Int32Array;
  validationRecords: string[];
  /** Characters (code points) in the validation records, for nats per character. */
  validationChars: number;
  records: { train: number; validation: number };
}

/**
 * fortunes-zh's records split as the gpt entry splits them (every 20th to
 * validation), each split cut to its share of `recipe.records` when set.
 * @example (await llamaRecords({ records: 200 })).validation.length; // 11
 */
export async function llamaRecords(recipe: Pick<LlamaRecipe, "records">): Promise<{ train: string[]; validation: string[] }> {
  const split = splitRecords(await readFortuneRecords(FORTUNES_ZH)), all = split.train.length + split.validation.length;
  const cut = (rs: string[]) => (recipe.records ? rs.slice(0, Math.ceil((recipe.records * rs.length) / all)) : rs);
  return { train: cut(split.train), validation: cut(split.validation) };
}

/**
 * Reads fortunes-zh, splits it as the gpt entry does (every 20th record to
 * validation), trains the BPE on the training records only, and encodes both.
 * @example const corpus = await loadLlamaCorpus(QUICK_RECIPE); // a 600-token BPE over 570 training records
 */
export async function loadLlamaCorpus(recipe: Pick<LlamaRecipe, "vocabSize" | "records" | "context">): Promise<LlamaCorpus> {
  const { train, validation } = await llamaRecords(recipe);
  const tokenizerJson = await trainByteLevelBpe(train, { vocabSize: recipe.vocabSize, specialTokens: [SPECIALS.unk, SPECIALS.bos, SPECIALS.eos], bos: SPECIALS.bos });
  const tokenizer = await jsonTokenizer(tokenizerJson, tokenizerConfig(recipe.context));
  return {
    tokenizerJson, tokenizer, vocabSize: Object.keys(tokenizerJson.model.vocab).length,
    train: encodeRecords(tokenizer, train), validation: encodeRecords(tokenizer, validation),
    validationRecords: validation,
    validationChars: validation.reduce((n, r) => n + [...r].length, 0),
    records: { train: train.length, validation: validation.length },
  };
}

/** Validation figures of a model on a token stream. */
export interface LossFigures {
  /** Mean nats per token. */
  loss: number;
  perplexity: number;
  tokens: number;
}

/** evaluateLoss with the perplexity. */
async function lossFigures(model: LlamaForCausalLM, ids: Int32Array, context: number): Promise<LossFigures> {
  const { loss, tokens } = await evaluateLoss(model, ids, context);
  return { loss, perplexity: Math.exp(loss), tokens };
}

export interface LlamaTrainOptions {
  recipe?: LlamaRecipe;
  /** Overrides the recipe's steps. */
  steps?: number;
  batchSize?: number;
  seed?: number;
  onProgress?: (p: ProgressEvent) => void;
}

export interface LlamaTrainResult {
  model: LlamaForCausalLM;
  config: LlamaConfig;
  corpus: LlamaCorpus;
  recipe: LlamaRecipe;
  losses: number[];
  validation: LossFigures;
  /** The unigram baseline (training token frequencies) on the validation tokens, nats per token. */
  unigramLoss: number;
  seconds: number;
  tokensPerSecond: number;
  parameters: number;
}

/**
 * Trains the recipe's Llama on fortunes-zh from scratch.
 * @example
 * const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 3 });
 * r.losses.length; // 3
 * r.config.architectures; // ["LlamaForCausalLM"]
 */
export async function trainLlama(opts: LlamaTrainOptions = {}): Promise<LlamaTrainResult> {
  const recipe = { ...(opts.recipe ?? LLAMA_RECIPE) };
  if (opts.steps !== undefined) recipe.steps = opts.steps;
  if (opts.batchSize !== undefined) recipe.batchSize = opts.batchSize;
  const seed = opts.seed ?? 0;
  const corpus = await loadLlamaCorpus(recipe);
  const config = llamaConfig(recipe, corpus.vocabSize);
  manualSeed(seed);
  const model = createCausalLM(config);
  // weight decay on matrices only (embeddings and projections), not on the RMSNorm gains
  const named = model.namedParameters();
  const decay = named.filter(([, p]) => p.rank >= 2).map(([, p]) => p);
  const noDecay = named.filter(([, p]) => p.rank < 2).map(([, p]) => p);
  const optimizer = [
    new AdamW(decay, { lr: recipe.lr, betas: [0.9, 0.95], weightDecay: recipe.weightDecay }),
    new AdamW(noDecay, { lr: recipe.lr, betas: [0.9, 0.95], weightDecay: 0 }),
  ];
  const { losses, seconds } = await trainOnWindows(model, corpus.train, {
    steps: recipe.steps, batchSize: recipe.batchSize, context: recipe.context, seed, optimizer, warmup: recipe.warmup, clip: 1, onProgress: opts.onProgress,
  });
  const validation = await lossFigures(model, corpus.validation, recipe.context);
  const unigramLoss = unigramCrossEntropy(corpus.train, corpus.validation.subarray(1), corpus.vocabSize);
  return {
    model, config, corpus, recipe, losses, validation, unigramLoss, seconds,
    tokensPerSecond: (recipe.steps * recipe.batchSize * recipe.context) / seconds, parameters: model.numParameters(),
  };
}

// ------------------------------------------------------------ the HF folder

const writeJson = (path: string, v: unknown) => writeFileSync(path, JSON.stringify(v, null, 2) + "\n");

/**
 * Writes a Hugging Face folder: config.json, model.safetensors (transformers'
 * names, metadata format "pt"; a tied lm_head is not stored, as transformers
 * saves it), generation_config.json (sampling at temperature 0.8, top-k 40),
 * tokenizer.json, tokenizer_config.json and special_tokens_map.json.
 * Returns the files written.
 * @example
 * const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 1 });
 * (await saveLlamaFolder("tiny-llama", r.model, r.config, r.corpus.tokenizerJson)).length; // 6
 */
export async function saveLlamaFolder(folder: string, model: LlamaForCausalLM, config: LlamaConfig, tokenizerJson: TokenizerJson): Promise<string[]> {
  mkdirSync(folder, { recursive: true });
  const files = ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
  writeJson(join(folder, "config.json"), config);
  await saveSafetensors(join(folder, "model.safetensors"), model.stateDict(), { format: "pt" });
  writeJson(join(folder, "generation_config.json"), {
    bos_token_id: 1, eos_token_id: 2, do_sample: true, temperature: 0.8, top_k: 40, top_p: 1.0, max_new_tokens: 100,
  });
  writeJson(join(folder, "tokenizer.json"), tokenizerJson);
  writeJson(join(folder, "tokenizer_config.json"), tokenizerConfig(config.max_position_embeddings ?? 256));
  writeJson(join(folder, "special_tokens_map.json"), { bos_token: SPECIALS.bos, eos_token: SPECIALS.eos, unk_token: SPECIALS.unk });
  return files;
}

/** A model folder read back. */
export interface LoadedLlama {
  model: LlamaForCausalLM;
  tokenizer: LlamaTokenizer;
  config: LlamaConfig;
  /** Which loader read it. */
  loader: string;
}

/**
 * Loads a folder written by saveLlamaFolder (or any Llama-family Hugging Face
 * folder with a tokenizer.json) with wg.models.loadPretrained. A folder
 * without config.json is an error that says how to make one.
 * @example
 * const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 1 });
 * await saveLlamaFolder("tiny-llama", r.model, r.config, r.corpus.tokenizerJson);
 * (await loadLlamaFolder("tiny-llama")).config.vocab_size === r.config.vocab_size; // true
 */
export async function loadLlamaFolder(folder: string): Promise<LoadedLlama> {
  if (!existsSync(join(folder, "config.json"))) {
    throw new Error(`llama: no model at ${folder}/ (no config.json there): train it first with \`webgrad train llama${folder === LLAMA_FOLDER ? "" : ` --weights ${folder}`}\``);
  }
  const { model, tokenizer, config } = await loadPretrained(folder);
  if (!(model instanceof LlamaForCausalLM)) throw new Error(`llama: ${folder}/ holds a ${model.constructor.name}, not a Llama-family model`);
  if (!tokenizer) throw new Error(`llama: ${folder}/ has no tokenizer.json`);
  return { model, tokenizer, config: config as unknown as LlamaConfig, loader: "wg.models.loadPretrained" };
}

/**
 * Continues `prompt` (with <s> in front) until </s> or `maxNewTokens`; the new text.
 * @example
 * const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 1 });
 * typeof (await continueText(r.model, r.corpus.tokenizer, "天", { maxNewTokens: 3, seed: 1 })); // "string"
 */
export async function continueText(model: LlamaForCausalLM, tokenizer: LlamaTokenizer, prompt: string,
                                   opts: { maxNewTokens: number; temperature?: number; topK?: number; seed?: number }): Promise<string> {
  const ids = await model.generate(tokenizer.encode(prompt), { maxNewTokens: opts.maxNewTokens, temperature: opts.temperature ?? 0.8, topK: opts.topK ?? 40, topP: 1, seed: opts.seed ?? 0, stop: [2] });
  return tokenizer.decode(ids, { skipSpecialTokens: true });
}

// ------------------------------------------------------------ LoRA on the Tang poems

/**
 * The Tang poems split for the fine-tune: the poems the pre-training held out
 * (every 20th record of the whole corpus) are the validation poems, so neither
 * stage trained on them; the rest are the fine-tune's training poems.
 * @example const { train, validation } = await tangSplit(); validation.length; // 15
 */
export async function tangSplit(): Promise<{ train: string[]; validation: string[] }> {
  if (FORTUNES_ZH[1] !== TANG300) throw new Error("tangSplit: expected the Tang poems second in FORTUNES_ZH");
  const [before, tang] = await Promise.all([readFortuneRecords([FORTUNES_ZH[0]]), readFortuneRecords([TANG300])]);
  const train: string[] = [], validation: string[] = [];
  tang.forEach((r, i) => ((before.length + i) % 20 === 0 ? validation : train).push(r));
  return { train, validation };
}

export interface LlamaFinetuneOptions {
  recipe?: LoraRecipe;
  /** Overrides the recipe's steps, r, alpha. */
  steps?: number;
  r?: number;
  alpha?: number;
  seed?: number;
  onProgress?: (p: ProgressEvent) => void;
}

export interface LlamaFinetuneResult {
  /** Validation loss on the held-out Tang poems before and after the fine-tune. */
  before: LossFigures;
  after: LossFigures;
  /** The adapted projections' names. */
  adapted: string[];
  trainableParameters: number;
  parameters: number;
  losses: number[];
  seconds: number;
  tokensPerSecond: number;
  poems: { train: number; validation: number };
  trainTokens: number;
  /** The held-out poems as a token stream. */
  validation: Int32Array;
  recipe: LoraRecipe;
}

/**
 * LoRA on the Tang poems: the validation loss on the held-out poems, then
 * wg.lora.attach on q/k/v/o (the base frozen), AdamW on the adapters only
 * through trainOnWindows, and the validation loss again. The model keeps its adapters.
 * @example
 * const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 2 });
 * const f = await finetuneLora({ model: r.model, tokenizer: r.corpus.tokenizer }, { recipe: QUICK_LORA_RECIPE, steps: 2 });
 * f.adapted.length; // 8 (q, k, v, o of 2 layers)
 */
export async function finetuneLora(base: Pick<LoadedLlama, "model" | "tokenizer">, opts: LlamaFinetuneOptions = {}): Promise<LlamaFinetuneResult> {
  const recipe = { ...(opts.recipe ?? LORA_RECIPE) };
  for (const k of ["steps", "r", "alpha"] as const) if (opts[k] !== undefined) recipe[k] = opts[k]!;
  const { model, tokenizer } = base, seed = opts.seed ?? 0;
  const poems = await tangSplit();
  const train = encodeRecords(tokenizer, poems.train), validation = encodeRecords(tokenizer, poems.validation);
  const before = await lossFigures(model, validation, recipe.context);
  manualSeed(seed);
  const adapted = lora.attach(model, { r: recipe.r, alpha: recipe.alpha, dropout: recipe.dropout, targetModules: LORA_TARGETS });
  const params = trainable(model);
  const optimizer = new AdamW(params, { lr: recipe.lr, betas: [0.9, 0.999], weightDecay: 0 });
  const { losses, seconds } = await trainOnWindows(model, train, {
    steps: recipe.steps, batchSize: recipe.batchSize, context: recipe.context, seed, optimizer, warmup: recipe.warmup, clip: 1, onProgress: opts.onProgress,
  });
  const after = await lossFigures(model, validation, recipe.context);
  return {
    before, after, adapted, losses, seconds, recipe,
    trainableParameters: params.reduce((n, p) => n + p.size, 0), parameters: model.numParameters(),
    tokensPerSecond: (recipe.steps * recipe.batchSize * recipe.context) / seconds,
    poems: { train: poems.train.length, validation: poems.validation.length }, trainTokens: train.length, validation,
  };
}

// ------------------------------------------------------------ the command line

/** The model folder: --weights DIR, or LLAMA_FOLDER in the current folder. */
const folderOf = (ctx: Pick<CliContext, "values">): string => (ctx.values.weights as string | undefined) ?? LLAMA_FOLDER;
const figures = (f: LossFigures) => `${f.loss.toFixed(4)} nats/token (perplexity ${f.perplexity.toFixed(2)}) on ${f.tokens} tokens`;

/** `webgrad train|eval|generate llama` and `webgrad finetune llama --lora`. */
export const cli: ZooCommand = {
  summary: `a small Llama from scratch on fortunes-zh (BPE by \`tokenizers\`), saved as a Hugging Face folder (--weights DIR, default ${LLAMA_FOLDER}/); finetune --lora: Tang poems`,
  verbs: ["train", "eval", "generate", "finetune"],
  weights: LLAMA_FOLDER,
  options: {
    steps: { type: "string", help: `llama: training steps (train default ${LLAMA_RECIPE.steps}, finetune ${LORA_RECIPE.steps})` },
    quick: { type: "boolean", help: "llama: a tiny model on 600 records and a short fine-tune (tests; seconds)" },
    lora: { type: "boolean", help: "llama finetune: train LoRA adapters (the only fine-tune there is; required)" },
    r: { type: "string", help: `llama finetune: LoRA rank (default ${LORA_RECIPE.r})` },
    alpha: { type: "string", help: `llama finetune: LoRA alpha, the update scaled by alpha/r (default ${LORA_RECIPE.alpha})` },
    adapter: { type: "string", help: `llama finetune: where the adapter goes (default the model folder's name + ${LORA_SUFFIX}); generate: an adapter to apply` },
    prompt: { type: "string", help: `llama: text to continue (default ${SEED_PROMPT}; finetune ${TANG_PROMPT.replace(/\n/g, "\\n")})` },
    tokens: { type: "string", help: "llama: how many tokens to generate at most (default 100; stops at </s>)" },
    temperature: { type: "string", help: "llama: sampling temperature, 0 = greedy (default 0.8)" },
    "top-k": { type: "string", help: "llama: keep the k most likely tokens (default 40)" },
  },
  async run(ctx) {
    const v = ctx.values, folder = folderOf(ctx), quick = v.quick === true;
    const sampling = {
      temperature: ctx.num(v.temperature, "temperature") ?? 0.8,
      topK: ctx.num(v["top-k"], "top-k") ?? 40,
      seed: ctx.seed ?? 0,
      maxNewTokens: ctx.num(v.tokens, "tokens") ?? 100,
    };
    if (ctx.verb === "train") {
      const progress = await ctx.progress();
      const r = await trainLlama({ recipe: quick ? QUICK_RECIPE : LLAMA_RECIPE, steps: ctx.num(v.steps, "steps"), batchSize: ctx.batchSize, seed: ctx.seed, onProgress: progress });
      progress.stop();
      const c = r.config, rc = r.recipe;
      ctx.log(`Llama: ${r.parameters} parameters (hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads / ${c.num_key_value_heads} kv heads, SwiGLU ${c.intermediate_size}, tied embeddings); ` +
        `BPE of ${r.corpus.vocabSize} tokens trained on ${r.corpus.records.train} records (${r.corpus.train.length} tokens)`);
      ctx.log(`${r.losses.length} steps of ${rc.batchSize}×${rc.context} tokens in ${r.seconds.toFixed(1)} s (${Math.round(r.tokensPerSecond)} tokens/s)`);
      ctx.log(`validation loss ${figures(r.validation)}, ≈ ${((r.validation.loss * r.validation.tokens) / r.corpus.validationChars).toFixed(3)} nats/char over ${r.corpus.records.validation} records; unigram baseline ${r.unigramLoss.toFixed(4)} nats/token`);
      const files = await saveLlamaFolder(folder, r.model, r.config, r.corpus.tokenizerJson);
      ctx.log(`saved a Hugging Face folder to ${folder}/: ${files.join(", ")}`);
      const back = await loadLlamaFolder(folder);
      // the validation tokens as the reloaded tokenizer encodes them: the folder's tokenizer must give the same ids too
      const again = await lossFigures(back.model, encodeRecords(back.tokenizer, r.corpus.validationRecords), rc.context);
      const same = Math.abs(again.loss - r.validation.loss) <= 1e-6 * Math.max(1, r.validation.loss);
      ctx.log(`reloaded with ${back.loader}: validation loss ${again.loss.toFixed(6)} (trained ${r.validation.loss.toFixed(6)}: ${same ? "the same" : "DIFFERENT"})`);
      if (!same) throw new Error(`llama: the reloaded model's validation loss ${again.loss} is not the trained model's ${r.validation.loss}`);
      const prompt = (v.prompt as string | undefined) ?? SEED_PROMPT;
      ctx.log(`${prompt}${await continueText(back.model, back.tokenizer, prompt, sampling)}`);
      return 0;
    }
    if (ctx.verb === "eval") {
      // the validation records and window train scored, so eval prints train's figure
      const back = await loadLlamaFolder(folder), recipe = quick ? QUICK_RECIPE : LLAMA_RECIPE;
      const { validation } = await llamaRecords(recipe);
      const f = await lossFigures(back.model, encodeRecords(back.tokenizer, validation), recipe.context);
      ctx.log(`validation loss ${figures(f)} over ${validation.length} records`);
      return 0;
    }
    if (ctx.verb === "generate") {
      const back = await loadLlamaFolder(folder);
      if (v.adapter) ctx.log(`with the LoRA adapter of ${v.adapter as string}/ on ${(await lora.load(back.model, v.adapter as string)).length} projections`);
      const prompt = (v.prompt as string | undefined) ?? SEED_PROMPT;
      const t0 = performance.now();
      ctx.log(`${prompt}${await continueText(back.model, back.tokenizer, prompt, sampling)}`);
      ctx.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      return 0;
    }
    // finetune
    if (!v.lora) throw new Error("llama finetune: pass --lora (LoRA adapters on q/k/v/o are the fine-tune this entry has)");
    const adapterDir = (v.adapter as string | undefined) ?? `${folder.replace(/\/+$/, "")}${LORA_SUFFIX}`;
    if (existsSync(adapterDir) && !v.force) throw new Error(`llama: ${adapterDir}/ exists: pass --force to overwrite it, or --adapter DIR to write elsewhere`);
    const base = await loadLlamaFolder(folder);
    ctx.log(`loaded ${folder}/ with ${base.loader}`);
    const progress = await ctx.progress();
    const f = await finetuneLora(base, {
      recipe: quick ? QUICK_LORA_RECIPE : LORA_RECIPE, steps: ctx.num(v.steps, "steps"), r: ctx.num(v.r, "r"), alpha: ctx.num(v.alpha, "alpha"), seed: ctx.seed, onProgress: progress,
    });
    progress.stop();
    const rc = f.recipe;
    ctx.log(`Tang poems: ${f.poems.train} to train on (${f.trainTokens} tokens), ${f.poems.validation} held out (the ones the pre-training held out too)`);
    ctx.log(`LoRA r ${rc.r}, alpha ${rc.alpha}, dropout ${rc.dropout} on ${f.adapted.length} projections (${LORA_TARGETS.join(", ")}): ` +
      `${f.trainableParameters} trainable parameters of ${f.parameters} (${((100 * f.trainableParameters) / f.parameters).toFixed(2)}%)`);
    ctx.log(`validation loss before: ${figures(f.before)}`);
    ctx.log(`${f.losses.length} steps of ${rc.batchSize}×${rc.context} tokens in ${f.seconds.toFixed(1)} s (${Math.round(f.tokensPerSecond)} tokens/s)`);
    ctx.log(`validation loss after:  ${figures(f.after)} (${(f.after.loss - f.before.loss).toFixed(4)} nats/token)`);
    await lora.save(base.model, adapterDir, { baseModelNameOrPath: folder });
    ctx.log(`saved the adapter in PEFT's layout to ${adapterDir}/: adapter_model.safetensors, adapter_config.json`);
    // the adapter read back onto a fresh copy of the base scores what the trained one scored
    const fresh = await loadLlamaFolder(folder);
    await lora.load(fresh.model, adapterDir);
    const again = await lossFigures(fresh.model, f.validation, rc.context);
    const same = Math.abs(again.loss - f.after.loss) <= 1e-6 * Math.max(1, f.after.loss);
    ctx.log(`base + adapter reloaded (wg.lora.load): validation loss ${again.loss.toFixed(6)} (after fine-tune ${f.after.loss.toFixed(6)}: ${same ? "the same" : "DIFFERENT"})`);
    if (!same) throw new Error(`llama: the reloaded adapter's validation loss ${again.loss} is not the fine-tuned model's ${f.after.loss}`);
    const prompt = (v.prompt as string | undefined) ?? TANG_PROMPT;
    ctx.log(`${prompt}${await continueText(fresh.model, fresh.tokenizer, prompt, sampling)}`);
    return 0;
  },
};
